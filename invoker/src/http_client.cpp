#include "http_client.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace switchyard::invoker {

namespace {

int MillisLeft(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30));
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Decodes a chunked body; returns false when it is malformed.
bool Dechunk(const std::string& raw, std::string* out) {
  std::size_t pos = 0;
  for (;;) {
    const auto eol = raw.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    std::size_t size = 0;
    try {
      size = std::stoul(raw.substr(pos, eol - pos), nullptr, 16);
    } catch (const std::exception&) {
      return false;
    }
    pos = eol + 2;
    if (size == 0) return true;
    if (pos + size > raw.size()) return false;
    out->append(raw, pos, size);
    pos += size + 2;
  }
}

}  // namespace

HttpCallResult HttpPost(const std::string& url, const std::string& body,
                        std::chrono::steady_clock::time_point deadline) {
  HttpCallResult result;
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    result.error = "only http:// URLs are supported: " + url;
    return result;
  }
  const auto host_end = url.find('/', scheme.size());
  std::string authority = url.substr(scheme.size(), host_end - scheme.size());
  const std::string path = host_end == std::string::npos ? "/" : url.substr(host_end);
  std::string host = authority;
  std::string port = "80";
  if (const auto colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &addresses); rc != 0) {
    result.error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return result;
  }
  int fd = -1;
  for (addrinfo* a = addresses; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      close(fd);
      fd = -1;
      continue;
    }
    pollfd pfd{fd, POLLOUT, 0};
    int error = 0;
    socklen_t len = sizeof error;
    if (poll(&pfd, 1, MillisLeft(deadline)) != 1 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
      result.timed_out = MillisLeft(deadline) == 0;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(addresses);
  if (fd < 0) {
    if (result.error.empty()) result.error = "cannot connect to " + authority;
    return result;
  }

  const std::string request =
      "POST " + path + " HTTP/1.1\r\nHost: " + authority +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  std::size_t sent = 0;
  std::string raw;
  bool failed = false;
  while (sent < request.size() && !failed) {
    pollfd pfd{fd, POLLOUT, 0};
    if (poll(&pfd, 1, MillisLeft(deadline)) != 1) {
      result.timed_out = true;
      failed = true;
      break;
    }
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) failed = true;
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  while (!failed) {
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, MillisLeft(deadline)) != 1) {
      result.timed_out = true;
      failed = true;
      break;
    }
    char buffer[65536];
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n == 0) break;
    if (n < 0 && errno != EAGAIN) failed = true;
    if (n > 0) raw.append(buffer, static_cast<std::size_t>(n));
  }
  close(fd);
  if (failed) {
    if (result.error.empty()) {
      result.error = result.timed_out ? "timed out"
                                      : std::string("connection to ") + authority +
                                            " failed: " + std::strerror(errno);
    }
    return result;
  }

  const auto header_end = raw.find("\r\n\r\n");
  const auto status_space = raw.find(' ');
  if (header_end == std::string::npos || status_space == std::string::npos) {
    result.error = "malformed HTTP response from " + authority;
    return result;
  }
  result.status = std::atoi(raw.c_str() + status_space + 1);
  bool chunked = false;
  std::size_t line_start = raw.find("\r\n") + 2;
  while (line_start < header_end) {
    const auto line_end = raw.find("\r\n", line_start);
    const std::string line = raw.substr(line_start, line_end - line_start);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      const std::string name = Lower(line.substr(0, colon));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      if (name == "transfer-encoding" && Lower(value).find("chunked") != std::string::npos) {
        chunked = true;
      }
      if (name == "x-amz-function-error") result.function_error_header = value;
    }
    line_start = line_end + 2;
  }
  const std::string payload = raw.substr(header_end + 4);
  if (chunked) {
    if (!Dechunk(payload, &result.body)) {
      result.error = "malformed chunked response from " + authority;
      return result;
    }
  } else {
    result.body = payload;
  }
  result.ok = true;
  return result;
}

}  // namespace switchyard::invoker
