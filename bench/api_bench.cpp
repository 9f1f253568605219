// HTTP load client for bench/run_api_bench: N keep-alive connections over loopback, one thread
// each, blocking sockets (the client must not be the bottleneck: no allocation per request, no
// parsing beyond the status line and Content-Length).
//
//   api_bench PORT CLIENTS
// then one command per stdin line, "TARGET SECONDS" (TARGET: ping | start | invoke), answered
// with one JSON line {"target","requests","errors","seconds","rps","p50_ms","p99_ms"}.
// `start` needs STATE_MACHINE_ARN, `invoke` FUNCTION_NAME and `url` (GET of a function URL,
// bench/run_url_bench) URL_ID in the environment.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

std::string Request(const std::string& target) {
  if (target == "ping") return "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  if (target == "url") {
    const char* id = std::getenv("URL_ID");
    return std::string("GET /lambda-url/") + (id ? id : "") +
           "/bench?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: api_bench\r\n\r\n";
  }
  std::string body, head;
  if (target == "start") {
    const char* arn = std::getenv("STATE_MACHINE_ARN");
    body = std::string("{\"stateMachineArn\":\"") + (arn ? arn : "") + "\",\"input\":\"{}\"}";
    head =
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: AWSStepFunctions.StartExecution\r\n"
        "Content-Type: application/x-amz-json-1.0\r\n";
  } else {
    const char* name = std::getenv("FUNCTION_NAME");
    body = "{}";
    head = std::string("POST /2015-03-31/functions/") + (name ? name : "") +
           "/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
  }
  return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// One connection's state: reads one response at a time into a fixed buffer.
struct Connection {
  int fd = -1;
  std::vector<char> buffer = std::vector<char>(1 << 16);
  std::size_t have = 0;

  // Sends `request` and reads its response; returns the HTTP status (0 on a broken connection).
  int RoundTrip(const std::string& request) {
    std::size_t sent = 0;
    while (sent < request.size()) {
      const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return 0;
      sent += static_cast<std::size_t>(n);
    }
    std::size_t head_end = 0;
    for (;;) {
      if (have >= 4) {
        const char* found = static_cast<const char*>(memmem(buffer.data(), have, "\r\n\r\n", 4));
        if (found) {
          head_end = static_cast<std::size_t>(found - buffer.data()) + 4;
          break;
        }
      }
      if (!Fill()) return 0;
    }
    const int status = std::atoi(buffer.data() + 9);
    std::size_t length = 0;
    const std::string_view head(buffer.data(), head_end);
    for (std::size_t at = 0; at < head.size();) {
      const std::size_t eol = head.find("\r\n", at);
      const std::string_view line = head.substr(at, eol - at);
      if (line.size() > 15 && strncasecmp(line.data(), "content-length:", 15) == 0) {
        length = static_cast<std::size_t>(std::atoll(std::string(line.substr(15)).c_str()));
      }
      at = eol + 2;
    }
    while (have < head_end + length) {
      if (!Fill()) return 0;
    }
    const std::size_t used = head_end + length;
    std::memmove(buffer.data(), buffer.data() + used, have - used);
    have -= used;
    return status;
  }

  bool Fill() {
    if (have == buffer.size()) buffer.resize(buffer.size() * 2);
    const ssize_t n = recv(fd, buffer.data() + have, buffer.size() - have, 0);
    if (n <= 0) return false;
    have += static_cast<std::size_t>(n);
    return true;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: api_bench PORT CLIENTS (then TARGET SECONDS lines on stdin)\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int clients = std::atoi(argv[2]);
  std::vector<Connection> connections(static_cast<std::size_t>(clients));
  for (auto& c : connections) c.fd = Connect(port);
  std::cout << "ready" << std::endl;

  std::string target;
  double seconds = 0;
  while (std::cin >> target >> seconds) {
    const std::string request = Request(target);
    std::vector<std::vector<float>> latencies(static_cast<std::size_t>(clients));
    std::vector<long> errors(static_cast<std::size_t>(clients), 0);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    for (int i = 0; i < clients; ++i) {
      threads.emplace_back([&, i] {
        auto& mine = latencies[static_cast<std::size_t>(i)];
        mine.reserve(1 << 16);
        Connection& c = connections[static_cast<std::size_t>(i)];
        while (!stop.load(std::memory_order_relaxed)) {
          const auto t0 = Clock::now();
          const int status = c.RoundTrip(request);
          const auto t1 = Clock::now();
          if (status == 0) {
            close(c.fd);
            c.fd = Connect(port);
            c.have = 0;
          }
          if (status != 200) ++errors[static_cast<std::size_t>(i)];
          mine.push_back(std::chrono::duration<float, std::milli>(t1 - t0).count());
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& t : threads) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<float> all;
    long error_count = 0;
    for (int i = 0; i < clients; ++i) {
      all.insert(all.end(), latencies[static_cast<std::size_t>(i)].begin(),
                 latencies[static_cast<std::size_t>(i)].end());
      error_count += errors[static_cast<std::size_t>(i)];
    }
    std::sort(all.begin(), all.end());
    auto pct = [&](double p) {
      if (all.empty()) return 0.0;
      return static_cast<double>(all[std::min(
          all.size() - 1, static_cast<std::size_t>(p * static_cast<double>(all.size())))]);
    };
    std::printf(
        "{\"target\":\"%s\",\"requests\":%zu,\"errors\":%ld,\"seconds\":%.4f,\"rps\":%.1f,"
        "\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
        target.c_str(), all.size(), error_count, elapsed, static_cast<double>(all.size()) / elapsed,
        pct(0.5), pct(0.99));
    std::fflush(stdout);
  }
  for (auto& c : connections) close(c.fd);
  return 0;
}
