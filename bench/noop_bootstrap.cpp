// The trivial `provided` function of bench/run_api_bench: a Lambda custom runtime bootstrap
// that answers every event with {} over one keep-alive connection to the Runtime API.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

int fd = -1;
std::vector<char> buffer(1 << 16);
std::size_t have = 0;

bool Fill() {
  if (have == buffer.size()) buffer.resize(buffer.size() * 2);
  const ssize_t n = recv(fd, buffer.data() + have, buffer.size() - have, 0);
  if (n <= 0) return false;
  have += static_cast<std::size_t>(n);
  return true;
}

// Sends, reads one response; returns the request id header (may be empty). Exits on failure.
std::string RoundTrip(const std::string& request) {
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    std::exit(1);
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
    if (!Fill()) std::exit(1);
  }
  std::size_t length = 0;
  std::string request_id;
  const std::string_view head(buffer.data(), head_end);
  for (std::size_t at = 0; at < head.size();) {
    const std::size_t eol = head.find("\r\n", at);
    std::string_view line = head.substr(at, eol - at);
    if (line.size() > 15 && strncasecmp(line.data(), "content-length:", 15) == 0) {
      length = static_cast<std::size_t>(std::atoll(std::string(line.substr(15)).c_str()));
    } else if (line.size() > 30 &&
               strncasecmp(line.data(), "lambda-runtime-aws-request-id:", 30) == 0) {
      line.remove_prefix(30);
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      request_id = std::string(line);
    }
    at = eol + 2;
  }
  while (have < head_end + length) {
    if (!Fill()) std::exit(1);
  }
  const std::size_t used = head_end + length;
  std::memmove(buffer.data(), buffer.data() + used, have - used);
  have -= used;
  return request_id;
}

}  // namespace

int main() {
  const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
  if (api == nullptr) return 1;
  const std::string host_port(api);
  const auto colon = host_port.rfind(':');
  const std::string host = host_port.substr(0, colon);
  const int port = std::atoi(host_port.c_str() + colon + 1);
  fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return 1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::string next =
      "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: " + host_port + "\r\n\r\n";
  for (;;) {
    const std::string id = RoundTrip(next);
    RoundTrip("POST /2018-06-01/runtime/invocation/" + id + "/response HTTP/1.1\r\nHost: " +
              host_port + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  }
}
