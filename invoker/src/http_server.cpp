// The only Beast translation unit of the invoker (Beast is costly to compile). Follows the
// Beast examples' idioms: one session object per connection, early return on error codes.
#include "http_server.hpp"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <mutex>
#include <thread>

namespace switchyard::invoker {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string HttpRequest::Header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return {};
}

namespace {

// A listener's handler, cleared when the listener goes away so that a request still in flight
// from a dying runtime never reaches a destroyed environment.
struct HandlerSlot {
  std::mutex mu;
  HttpHandler handler;  // Guarded by mu.
};

constexpr std::size_t kDrainAllowance = std::size_t{64} * 1024 * 1024;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HandlerSlot> slot, std::size_t body_limit)
      : stream_(std::move(socket)), slot_(std::move(slot)), body_limit_(body_limit) {}

  void Start() { ReadRequest(); }

 private:
  void ReadRequest() {
    parser_.emplace();
    // Bodies somewhat over the limit are read in full (the handler answers 413), so the runtime's
    // connection stays usable (clients write the whole body before reading the answer); only
    // absurd sizes drop the connection.
    parser_->body_limit(body_limit_ + kDrainAllowance);
    parser_->header_limit(64 * 1024);
    // No read or write deadline: the runtime's connection idles while its handler runs (up to
    // the function timeout), and the peer is our own child process, whose death (the invoker
    // kills environments that overrun) closes it. Arming a timer per message would also cost a
    // timerfd syscall each time on the hot path.
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return;  // closed, malformed or absurdly large: drop the connection
    auto message = parser_->release();
    keep_alive_ = message.keep_alive();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    if (message.body().size() > body_limit_) {
      request.body_too_large = true;
      message.body().clear();
      message.body().shrink_to_fit();
    } else {
      request.body = std::move(message.body());
    }

    HttpHandler handler;
    {
      std::lock_guard lock(slot_->mu);
      handler = slot_->handler;
    }
    if (!handler) return;
    auto self = shared_from_this();
    auto executor = stream_.get_executor();
    handler(std::move(request), [self, executor](HttpResponse response) {
      asio::post(executor, [self, response = std::move(response)]() mutable {
        self->Write(std::move(response));
      });
    });
  }

  void Write(HttpResponse response) {
    auto message = std::make_shared<http::response<http::string_body>>();
    message->version(11);
    message->result(static_cast<unsigned>(response.status));
    if (!response.content_type.empty()) {
      message->set(http::field::content_type, response.content_type);
    }
    for (auto& [name, value] : response.headers) message->set(name, value);
    message->body() = std::move(response.body);
    message->keep_alive(keep_alive_);
    message->prepare_payload();
    http::async_write(stream_, *message,
                      [self = shared_from_this(), message](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (!self->keep_alive_) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          return;
                        }
                        self->ReadRequest();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HandlerSlot> slot_;
  std::size_t body_limit_;
  bool keep_alive_ = true;
};

// Accepts connections for one listener. Shared with the pending accept so that a completion
// queued just before the listener closed still finds live state.
struct AcceptState : std::enable_shared_from_this<AcceptState> {
  AcceptState(asio::io_context& io_context, std::size_t limit)
      : io(io_context), acceptor(io_context), body_limit(limit) {}

  void Accept() {
    acceptor.async_accept(asio::make_strand(io), [self = shared_from_this()](beast::error_code ec,
                                                                             tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) {
        std::make_shared<Session>(std::move(socket), self->slot, self->body_limit)->Start();
      }
      self->Accept();
    });
  }

  asio::io_context& io;
  tcp::acceptor acceptor;
  std::shared_ptr<HandlerSlot> slot = std::make_shared<HandlerSlot>();
  std::size_t body_limit;
};

class AsioListener : public Listener {
 public:
  AsioListener(asio::io_context& io, std::size_t body_limit, HttpHandler handler)
      : state_(std::make_shared<AcceptState>(io, body_limit)) {
    state_->slot->handler = std::move(handler);
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    state_->acceptor.open(endpoint.protocol());
    state_->acceptor.bind(endpoint);
    state_->acceptor.listen(asio::socket_base::max_listen_connections);
    port_ = state_->acceptor.local_endpoint().port();
    // The acceptor is used on the I/O thread only from here on.
    asio::post(io, [state = state_] { state->Accept(); });
  }

  ~AsioListener() override {
    {
      std::lock_guard lock(state_->slot->mu);
      state_->slot->handler = nullptr;
    }
    try {
      asio::post(state_->io, [state = state_] {
        beast::error_code ignored;
        state->acceptor.close(ignored);
      });
    } catch (const std::exception&) {
      // Out of memory while posting: the acceptor closes with the I/O context instead.
    }
  }

  uint16_t Port() const override { return port_; }

 private:
  std::shared_ptr<AcceptState> state_;
  uint16_t port_ = 0;
};

}  // namespace

struct HttpServer::Impl {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread thread;
  std::size_t body_limit = 0;
};

HttpServer::HttpServer(std::size_t body_limit) : impl_(std::make_unique<Impl>()) {
  impl_->body_limit = body_limit;
  impl_->thread = std::thread([this] {
    // One request's fault must not stop every environment's Runtime API.
    for (;;) {
      try {
        impl_->io.run();
        return;
      } catch (const std::exception&) {
      }
    }
  });
}

HttpServer::~HttpServer() {
  impl_->work.reset();
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::unique_ptr<Listener> HttpServer::Listen(HttpHandler handler) {
  return std::make_unique<AsioListener>(impl_->io, impl_->body_limit, std::move(handler));
}

}  // namespace switchyard::invoker
