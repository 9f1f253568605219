#pragma once
// The HTTP/1.1 server under the AWS APIs (Boost.Beast on Asio, kept out of this header).
// Keep-alive; a deadline on every read and write; a header size limit and a per-request body
// limit chosen from the request head; graceful shutdown (stop accepting, let requests in flight
// finish, close idle connections).
//
// Thread model: Start/Stop/port are called from one controlling thread. The handler runs on an
// I/O thread and must not block: it hands slow work elsewhere and calls Respond later, from any
// thread, but before the HttpServer is destroyed (a Respond called after Stop is dropped).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/http.hpp"

namespace switchyard::orchestrator::api {

struct HttpServerOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 0;  // 0 = any free port (see HttpServer::port)
  int io_threads = 2;
  std::size_t header_limit = 16 * 1024;
  // Whole request (head and body) must arrive within this; also the keep-alive idle limit.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds write_timeout{std::chrono::seconds(60)};
  // The largest body accepted for a request with this head (body empty). Default 1 MiB.
  std::function<std::size_t(const HttpRequest& head)> body_limit;
  // The answer when the body exceeds body_limit (the connection is closed after it).
  std::function<HttpResponse(const HttpRequest& head, std::size_t limit)> too_large;
};

using HttpHandler = std::function<void(HttpRequest request, Respond respond)>;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  // Stop(0) if still running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O threads. Throws std::runtime_error naming the address
  // when it cannot bind.
  void Start();
  // The bound port (after Start).
  uint16_t port() const;
  // Stops accepting, closes idle connections, waits up to `grace` for requests in flight to be
  // answered (their connections then close), then stops the I/O threads. Idempotent.
  void Stop(std::chrono::milliseconds grace);
  // Requests received but not yet answered.
  int InFlight() const;

  struct Impl;  // opaque; public only so that the sessions in http_server.cpp can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::orchestrator::api
