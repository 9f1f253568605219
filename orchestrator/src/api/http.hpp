#pragma once
// Plain HTTP request/response values shared by the server, the route table and the protocol
// handlers. Free of Beast on purpose: only http_server.cpp includes Beast.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchyard::orchestrator::api {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received: raw path plus "?query"
  std::string path;    // raw (still percent-encoded) path, without the query
  std::string query;   // raw query string without '?', may be empty
  // Header names lower-cased, values as received (in order; repeated names stay repeated).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;

  // The first header of that (lower-case) name, or nullptr.
  const std::string* Header(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";  // empty = no Content-Type header
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Completes one request. Call exactly once, from any thread.
using Respond = std::function<void(HttpResponse)>;

// Percent-decodes `text` ("%3A" → ':'; '+' stays '+'). Invalid escapes are kept as they are.
std::string PercentDecode(std::string_view text);

// Splits a raw query string into decoded (name, value) pairs, in order.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace switchyard::orchestrator::api
