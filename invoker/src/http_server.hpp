#pragma once
// A minimal HTTP/1.1 server for the Lambda Runtime API, behind a plain interface so that only
// http_server.cpp compiles Beast. One I/O thread serves every listener.
//
// Thread model: HttpServer and Listener are thread-safe. Handlers run on the I/O thread and must
// not block; they answer through the Responder, which may be called later from any thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace switchyard::invoker {

struct HttpRequest {
  std::string method;
  std::string target;                                        // path and query
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names, trailers too
  std::string body;
  // The body was over the server's body limit: `body` is empty, and the handler answers (413).
  bool body_too_large = false;
  // The header value (names compared case-insensitively), or "" when absent.
  std::string Header(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type = "application/json";
};

// Sends the response for one request. Callable once, from any thread; dropping it uncalled
// closes the connection.
using Responder = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(HttpRequest, Responder)>;

class Listener {
 public:
  virtual ~Listener() = default;  // stops accepting; later requests get no handler call
  virtual uint16_t Port() const = 0;
};

class HttpServer {
 public:
  // `body_limit`: a body above it is read and dropped; the handler gets the request with
  // body_too_large set (bodies far above it drop the connection).
  explicit HttpServer(std::size_t body_limit);
  ~HttpServer();  // stops the I/O thread; every listener must be gone first
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on 127.0.0.1 on an ephemeral port. Throws std::system_error when it cannot bind.
  std::unique_ptr<Listener> Listen(HttpHandler handler);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::invoker
