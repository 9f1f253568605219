// The one Beast translation unit of the API: accept loop and per-connection sessions. Each
// session lives on its own strand; the handler's Respond posts back onto that strand.
#include "api/http_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace switchyard::orchestrator::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kDefaultBodyLimit = 1024 * 1024;
// A session keeps its answer's body buffer for the next one up to this size.
constexpr std::size_t kKeptBufferBytes = 64 * 1024;

// RFC 9110 token characters: what a field name may hold.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsFramingField(std::string_view name) {
  return beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
         beast::iequals(name, "connection");
}

// "HTTP/1.1 <status> <reason>", Content-Type, the response's fields in order, "Connection: close"
// when the connection ends after it, Content-Length, and the blank line. Fields a handler passes
// on from elsewhere (a function URL's answer) cannot break the framing: names that are not
// tokens and the framing fields are left out, CR, LF and NUL in values become spaces.
void AppendResponseHead(std::string& out, const HttpResponse& response, std::size_t body_size,
                        bool keep_alive) {
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  const auto reason = http::obsolete_reason(static_cast<http::status>(response.status));
  out.append(reason.data(), reason.size());
  out += "\r\n";
  auto append_value = [&out](std::string_view value) {
    for (char c : value) out.push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
  };
  if (!response.content_type.empty()) {
    out += "Content-Type: ";
    append_value(response.content_type);
    out += "\r\n";
  }
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar) ||
        IsFramingField(name)) {
      continue;
    }
    out += name;
    out += ": ";
    append_value(value);
    out += "\r\n";
  }
  if (!keep_alive) out += "Connection: close\r\n";
  out += "Content-Length: ";
  out += std::to_string(body_size);
  out += "\r\n\r\n";
}

}  // namespace

const std::string* HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

std::string PercentDecode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = hex(text[i + 1]);
      const int lo = hex(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view part = query.substr(start, end - start);
    if (!part.empty()) {
      const std::size_t eq = part.find('=');
      if (eq == std::string_view::npos) {
        out.emplace_back(PercentDecode(part), "");
      } else {
        out.emplace_back(PercentDecode(part.substr(0, eq)), PercentDecode(part.substr(eq + 1)));
      }
    }
    if (end == query.size()) break;
    start = end + 1;
  }
  return out;
}

class Session;

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  // Keeps run() going while a request waits for its Respond with no socket operation pending.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  bool started = false;
  bool stopped = false;
  uint16_t bound_port = 0;

  std::mutex mu;
  std::condition_variable cv;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>>
      sessions;       // Guarded by mu.
  int in_flight = 0;  // Guarded by mu.

  void Accept();
  void RequestStarted() {
    std::lock_guard lock(mu);
    ++in_flight;
  }
  void RequestFinished() {
    {
      std::lock_guard lock(mu);
      --in_flight;
    }
    cv.notify_all();
  }
};

// One connection. All its members are used on its strand only.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {}

  void Run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHead(); });
  }

  // Called (on the strand) when the server stops: idle connections close now; a busy one closes
  // after its answer.
  void Shutdown() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) self->Close();
    });
  }

 private:
  void ReadHead() {
    if (server_->stopping) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->options.header_limit));
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    stream_.expires_after(server_->options.read_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHead(ec); });
  }

  void OnHead(beast::error_code ec) {
    if (ec) {
      if (ec == http::error::header_limit) {
        return SendError(431, "Request header fields too large");
      }
      if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
          ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
          ec == asio::error::eof || server_->stopping) {
        return Close();
      }
      return SendError(400, "Malformed HTTP request");
    }
    busy_ = true;
    server_->RequestStarted();
    counted_ = true;
    const auto& msg = parser_->get();
    head_ = HttpRequest{};
    head_.headers.reserve(static_cast<std::size_t>(std::distance(msg.begin(), msg.end())));
    head_.method = std::string(msg.method_string());
    head_.target = std::string(msg.target());
    const auto q = head_.target.find('?');
    head_.path = head_.target.substr(0, q);
    if (q != std::string::npos) head_.query = head_.target.substr(q + 1);
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      head_.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    if (!remote_known_) {  // once per connection, not a getpeername per request
      remote_known_ = true;
      beast::error_code endpoint_ec;
      const auto remote = stream_.socket().remote_endpoint(endpoint_ec);
      if (!endpoint_ec) remote_address_ = remote.address().to_string();
    }
    head_.remote_address = remote_address_;

    limit_ = server_->options.body_limit ? server_->options.body_limit(head_) : kDefaultBodyLimit;
    if (const auto length = parser_->content_length(); length && *length > limit_) {
      return SendTooLarge();
    }
    parser_->body_limit(limit_);
    if (parser_->is_done()) return Dispatch();
    if (BodyFromBuffer()) return;
    if (msg[http::field::expect] == "100-continue") {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(server_->options.write_timeout);
      asio::async_write(stream_, asio::buffer(kContinue),
                        [self = shared_from_this()](beast::error_code wec, std::size_t) {
                          if (wec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  // A client usually sends head and body together, so the whole body is often in the buffer
  // already: parsed here, without an asynchronous read that would complete through a post.
  // False: read it (the bytes there stay for ReadBody's parser).
  bool BodyFromBuffer() {
    const auto length = parser_->content_length();
    if (!length || parser_->chunked() || buffer_.size() < *length) return false;
    beast::error_code ec;
    const std::size_t used = parser_->put(buffer_.data(), ec);
    if (ec == http::error::body_limit) {
      SendTooLarge();
      return true;
    }
    if (ec == http::error::need_more) return false;
    if (ec) {
      SendError(400, "Malformed HTTP request");
      return true;
    }
    buffer_.consume(used);
    if (!parser_->is_done()) return false;
    Dispatch();
    return true;
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec == http::error::body_limit) return self->SendTooLarge();
                       if (ec) {
                         if (ec == beast::error::timeout || ec == http::error::end_of_stream ||
                             ec == asio::error::operation_aborted || ec == asio::error::eof ||
                             ec == asio::error::connection_reset || self->server_->stopping) {
                           return self->Close();
                         }
                         return self->SendError(400, "Malformed HTTP request");
                       }
                       self->Dispatch();
                     });
  }

  void Dispatch() {
    auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    HttpRequest request = std::move(head_);
    request.body = std::move(msg.body());
    parser_.reset();
    Respond respond = [self = shared_from_this()](HttpResponse response) {
      // Inline when answered on this session's strand (/ping, errors found at once); else posted.
      asio::dispatch(
          self->stream_.get_executor(),
          [self, response = std::move(response)]() mutable { self->Write(std::move(response)); });
    };
    try {
      server_->handler(std::move(request), std::move(respond));
    } catch (const std::exception&) {
      // A handler that throws before responding: answer here (the Respond it got is dropped).
      HttpResponse response;
      response.status = 500;
      response.body = std::string("{\"message\":\"internal error\"}");
      Write(std::move(response));
    }
  }

  void SendTooLarge() {
    keep_alive_ = false;
    drain_ = true;
    HttpResponse response;
    if (server_->options.too_large) {
      response = server_->options.too_large(head_, limit_);
    } else {
      response.status = 413;
      response.body = "{\"message\":\"Request entity too large\"}";
    }
    Write(std::move(response));
  }

  void SendError(int status, const std::string& message) {
    keep_alive_ = false;
    HttpResponse response;
    response.status = status;
    response.body = "{\"message\":\"" + message + "\"}";
    if (!counted_) {
      server_->RequestStarted();
      counted_ = true;
      busy_ = true;
    }
    Write(std::move(response));
  }

  // The status line and header fields are written here into one reused string and sent with
  // the body in one gather write (Beast's serializer cost a quarter of a /ping).
  void Write(HttpResponse response) {
    if (written_) return;  // Respond called twice: ignore the second answer.
    written_ = true;
    const bool keep = keep_alive_ && !server_->stopping;
    out_body_ = std::move(response.body);
    // RFC 9110: 1xx, 204 and 304 answers have no content.
    if (response.status < 200 || response.status == 204 || response.status == 304) {
      out_body_.clear();
    }
    out_head_.clear();
    AppendResponseHead(out_head_, response, out_body_.size(), keep);
    stream_.expires_after(server_->options.write_timeout);
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(out_head_),
                                                    asio::buffer(out_body_)};
    asio::async_write(stream_, buffers,
                      [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
                        self->OnWritten(ec, keep);
                      });
  }

  void OnWritten(beast::error_code ec, bool keep) {
    busy_ = false;
    written_ = false;
    // Keep the buffers for the next answer unless one was large.
    if (out_body_.capacity() > kKeptBufferBytes)
      std::string().swap(out_body_);
    else
      out_body_.clear();
    if (counted_) {
      counted_ = false;
      server_->RequestFinished();
    }
    if (!ec && drain_) return Drain();
    if (ec || !keep) return Close();
    ReadHead();
  }

  // After refusing an oversized body: stop sending and discard what the client still sends
  // until it closes (or the read deadline passes), so that a client that writes its whole body
  // before reading sees the error instead of a connection reset.
  void Drain() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(server_->options.read_timeout);
    DrainSome();
  }
  void DrainSome() {
    if (server_->stopping) return Close();
    if (!scratch_) scratch_ = std::make_unique<std::array<char, 65536>>();
    stream_.async_read_some(asio::buffer(*scratch_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->Close();
                              self->DrainSome();
                            });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    if (counted_) {
      counted_ = false;
      server_->RequestFinished();
    }
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  HttpServer::Impl* server_;  // outlives every session (sessions die with its io_context)
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest head_;
  std::string remote_address_;
  bool remote_known_ = false;
  std::string out_head_;  // the answer being written: status line and fields
  std::string out_body_;  // and its body
  std::size_t limit_ = kDefaultBodyLimit;
  bool keep_alive_ = true;
  bool busy_ = false;
  bool counted_ = false;
  bool written_ = false;
  bool closed_ = false;
  bool drain_ = false;
  std::unique_ptr<std::array<char, 65536>> scratch_;
};

void HttpServer::Impl::Accept() {
  acceptor->async_accept(asio::make_strand(ioc),
                         [self = this](beast::error_code ec, tcp::socket socket) {
                           if (self->stopping) return;
                           if (!ec) {
                             auto session = std::make_shared<Session>(std::move(socket), self);
                             {
                               std::lock_guard lock(self->mu);
                               // Forget sessions that are gone, so the set does not grow with every
                               // connection.
                               for (auto it = self->sessions.begin(); it != self->sessions.end();) {
                                 it = it->expired() ? self->sessions.erase(it) : std::next(it);
                               }
                               self->sessions.insert(session);
                             }
                             session->Run();
                           }
                           self->Accept();
                         });
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(0)); }

void HttpServer::Start() {
  Impl& impl = *impl_;
  beast::error_code ec;
  const auto address = asio::ip::make_address(impl.options.bind_address, ec);
  if (ec) throw std::runtime_error("cannot parse bind address '" + impl.options.bind_address + "'");
  const tcp::endpoint endpoint(address, impl.options.port);
  impl.acceptor.emplace(impl.ioc);
  impl.acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor->bind(endpoint, ec);
  if (!ec) impl.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + impl.options.bind_address + ":" +
                             std::to_string(impl.options.port) + ": " + ec.message());
  }
  impl.bound_port = impl.acceptor->local_endpoint().port();
  impl.Accept();
  impl.work.emplace(impl.ioc.get_executor());
  impl.started = true;
  const int count = std::max(1, impl.options.io_threads);
  for (int i = 0; i < count; ++i) {
    impl.threads.emplace_back([this] { impl_->ioc.run(); });
  }
}

uint16_t HttpServer::port() const { return impl_->bound_port; }

int HttpServer::InFlight() const {
  std::lock_guard lock(impl_->mu);
  return impl_->in_flight;
}

void HttpServer::Stop(std::chrono::milliseconds grace) {
  Impl& impl = *impl_;
  if (!impl.started || impl.stopped) return;
  impl.stopped = true;
  impl.stopping = true;
  asio::post(impl.ioc, [self = impl_.get()] {
    beast::error_code ec;
    if (self->acceptor) self->acceptor->close(ec);
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(impl.mu);
    for (const auto& weak : impl.sessions) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
  }
  for (const auto& session : live) session->Shutdown();
  live.clear();
  {
    std::unique_lock lock(impl.mu);
    impl.cv.wait_for(lock, grace, [&] { return impl.in_flight == 0; });
  }
  impl.work.reset();
  impl.ioc.stop();
  for (auto& thread : impl.threads) thread.join();
  impl.threads.clear();
}

}  // namespace switchyard::orchestrator::api
