// The HTTP server with raw sockets: keep-alive, body limits, Expect: 100-continue, malformed
// requests, a slow client that never finishes, and graceful shutdown with a request in flight.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "api/http_server.hpp"

namespace api = switchyard::orchestrator::api;
using namespace std::chrono_literals;

namespace {

class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& data) {
    ASSERT_EQ(send(fd_, data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
  }
  // Reads one response (headers + Content-Length body). "" when the connection closed first.
  std::string ReadResponse(std::chrono::milliseconds timeout = 10s) {
    std::string data;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto end = data.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        const auto cl = data.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) length = std::stoul(data.substr(cl + 16));
        if (data.size() >= end + 4 + length) {
          std::string response = data.substr(0, end + 4 + length);
          buffer_ = data.substr(end + 4 + length);
          return response;
        }
      }
      if (!ReadSome(&data, deadline)) return "";
    }
  }
  // True when the server closed the connection (EOF) before the timeout.
  bool Closed(std::chrono::milliseconds timeout = 10s) {
    std::string data;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (ReadSome(&data, deadline)) {
    }
    return eof_;
  }

 private:
  bool ReadSome(std::string* data, std::chrono::steady_clock::time_point deadline) {
    if (!buffer_.empty()) {
      *data += buffer_;
      buffer_.clear();
      return true;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) return false;
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[65536];
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    data->append(chunk, static_cast<std::size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string buffer_;
};

std::string Get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n";
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(api::HttpServerOptions options = {}) {
    options.port = 0;
    options.body_limit = [](const api::HttpRequest& head) -> std::size_t {
      return head.path == "/big" ? 1000000 : 100;
    };
    options.too_large = [](const api::HttpRequest&, std::size_t limit) {
      api::HttpResponse response;
      response.status = 413;
      response.body = "limit " + std::to_string(limit);
      return response;
    };
    server_ = std::make_unique<api::HttpServer>(
        std::move(options), [this](api::HttpRequest request, api::Respond respond) {
          if (request.path == "/slow") {
            // Answer from another thread, later, as the API does with blocking work.
            started_ = true;
            std::thread([respond, this] {
              while (!release_) std::this_thread::sleep_for(5ms);
              api::HttpResponse response;
              response.body = "slow done";
              respond(response);
            }).detach();
            return;
          }
          if (request.path == "/headers") {
            // Fields passed on from elsewhere (a function URL's answer), some of them hostile.
            api::HttpResponse response;
            response.status = 201;
            response.content_type = "text/plain";
            response.headers = {{"X-Ok", "a\r\nInjected: yes"},
                                {"Content-Length", "999"},
                                {"transfer-encoding", "chunked"},
                                {"Bad Name", "v"},
                                {"", "v"},
                                {"X-Last", "z"}};
            response.body = "hi";
            respond(std::move(response));
            return;
          }
          if (request.path == "/empty") {
            api::HttpResponse response;
            response.status = 204;
            response.content_type.clear();
            response.body = "dropped";
            respond(std::move(response));
            return;
          }
          api::HttpResponse response;
          response.body =
              request.method + " " + request.path + " q=" + request.query + " body=" + request.body;
          respond(std::move(response));
        });
    server_->Start();
    port_ = server_->port();
  }
  void TearDown() override {
    release_ = true;
    if (server_) server_->Stop(5s);
  }

  std::unique_ptr<api::HttpServer> server_;
  uint16_t port_ = 0;
  std::atomic<bool> started_{false};
  std::atomic<bool> release_{false};
};

}  // namespace

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  Client client(port_);
  ASSERT_TRUE(client.connected());
  client.Send(Get("/a?x=1"));
  std::string response = client.ReadResponse();
  EXPECT_NE(response.find("HTTP/1.1 200 OK"), std::string::npos) << response;
  EXPECT_NE(response.find("GET /a q=x=1 body="), std::string::npos) << response;
  client.Send("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  response = client.ReadResponse();
  EXPECT_NE(response.find("POST /b q= body=hello"), std::string::npos) << response;
}

// The answer as written on the wire, whole: fields in order, CR/LF in a value neutralised,
// framing fields and names that are not tokens left out, our Content-Length.
TEST_F(HttpServerTest, AnswerHeadIsExactAndPassedOnFieldsCannotBreakTheFraming) {
  StartServer();
  Client client(port_);
  client.Send(Get("/headers"));
  EXPECT_EQ(client.ReadResponse(),
            "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nX-Ok: a  Injected: yes\r\n"
            "X-Last: z\r\nContent-Length: 2\r\n\r\nhi");
  client.Send(Get("/empty", "Connection: close\r\n"));
  EXPECT_EQ(client.ReadResponse(),
            "HTTP/1.1 204 No Content\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(client.Closed());
}

// Two requests with bodies in one segment: each body is taken from the buffer, the second
// request's bytes stay for it.
TEST_F(HttpServerTest, PipelinedRequestsWithBodiesInOneSegment) {
  StartServer();
  Client client(port_);
  client.Send(
      "POST /one HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
      "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\ndefg");
  std::string response = client.ReadResponse();
  EXPECT_NE(response.find("POST /one q= body=abc"), std::string::npos) << response;
  response = client.ReadResponse();
  EXPECT_NE(response.find("POST /two q= body=defg"), std::string::npos) << response;
}

TEST_F(HttpServerTest, BodyOverTheLimitGetsTheTooLargeAnswerAndTheConnectionCloses) {
  StartServer();
  Client client(port_);
  client.Send("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n");
  const std::string response = client.ReadResponse();
  EXPECT_NE(response.find("HTTP/1.1 413"), std::string::npos) << response;
  EXPECT_NE(response.find("limit 100"), std::string::npos) << response;
  EXPECT_TRUE(client.Closed());
  // Chunked bodies have no Content-Length: the limit applies while reading.
  Client chunked(port_);
  chunked.Send(
      "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "65\r\n" +
      std::string(101, 'a') + "\r\n0\r\n\r\n");
  EXPECT_NE(chunked.ReadResponse().find("HTTP/1.1 413"), std::string::npos);
  // Within the route's own limit it is fine.
  Client big(port_);
  big.Send("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" +
           std::string(1000, 'b'));
  EXPECT_NE(big.ReadResponse().find("HTTP/1.1 200"), std::string::npos);
}

TEST_F(HttpServerTest, ExpectContinueIsAnswered) {
  StartServer();
  Client client(port_);
  client.Send("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(client.ReadResponse(), "HTTP/1.1 100 Continue\r\n\r\n");
  client.Send("abc");
  EXPECT_NE(client.ReadResponse().find("body=abc"), std::string::npos);
}

TEST_F(HttpServerTest, MalformedRequestGets400) {
  StartServer();
  Client client(port_);
  client.Send("THIS IS NOT HTTP\r\n\r\n");
  EXPECT_NE(client.ReadResponse().find("HTTP/1.1 400"), std::string::npos);
  Client huge(port_);
  huge.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'h') + "\r\n\r\n");
  EXPECT_NE(huge.ReadResponse().find("HTTP/1.1 431"), std::string::npos);
}

TEST_F(HttpServerTest, SlowClientIsCutOffAndOthersAreServed) {
  api::HttpServerOptions options;
  options.read_timeout = 300ms;
  StartServer(options);
  Client slow(port_);
  slow.Send("POST /small HTTP/1.1\r\nHost: x\r\nContent-Le");  // never finishes
  Client other(port_);
  other.Send(Get("/ok"));
  EXPECT_NE(other.ReadResponse().find("GET /ok"), std::string::npos);
  EXPECT_TRUE(slow.Closed());
  Client slow_body(port_);
  slow_body.Send("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nonly part");
  EXPECT_TRUE(slow_body.Closed());
  // The stream's timer closes the socket before the session's handler has run: wait for it.
  for (int i = 0; i < 1000 && server_->InFlight() != 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_->InFlight(), 0);
}

TEST_F(HttpServerTest, StopFinishesTheRequestInFlightAndRefusesNewOnes) {
  StartServer();
  Client busy(port_);
  busy.Send(Get("/slow"));
  Client idle(port_);
  idle.Send(Get("/a"));
  ASSERT_NE(idle.ReadResponse().find("GET /a"), std::string::npos);
  while (!started_) std::this_thread::sleep_for(5ms);
  std::thread stopper([this] { server_->Stop(10s); });
  // The idle keep-alive connection is closed at once; the busy one gets its answer.
  EXPECT_TRUE(idle.Closed());
  release_ = true;
  const std::string response = busy.ReadResponse();
  EXPECT_NE(response.find("slow done"), std::string::npos) << response;
  EXPECT_NE(response.find("Connection: close"), std::string::npos) << response;
  stopper.join();
  Client late(port_);
  EXPECT_FALSE(late.connected());
}

TEST(HttpServer, BindFailureNamesTheAddress) {
  api::HttpServerOptions options;
  options.bind_address = "not an address";
  api::HttpServer server(options, [](api::HttpRequest, api::Respond) {});
  try {
    server.Start();
    FAIL() << "Start succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot parse bind address 'not an address'");
  }
}

TEST(HttpHelpers, PercentDecodeAndQuery) {
  EXPECT_EQ(api::PercentDecode("arn%3Aaws%3alambda%2"), "arn:aws:lambda%2");
  const auto query = api::ParseQuery("Qualifier=%24LATEST&flag&MaxItems=5&");
  ASSERT_EQ(query.size(), 3u);
  EXPECT_EQ(query[0], (std::pair<std::string, std::string>{"Qualifier", "$LATEST"}));
  EXPECT_EQ(query[1], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(query[2], (std::pair<std::string, std::string>{"MaxItems", "5"}));
}
