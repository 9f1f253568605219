#pragma once
// A small blocking HTTP/1.1 client for the `http` function backend: one POST per call, plain
// http:// only, "Connection: close". Thread-safe (no shared state).
#include <chrono>
#include <string>

namespace switchyard::invoker {

struct HttpCallResult {
  bool ok = false;  // a response arrived
  bool timed_out = false;
  int status = 0;
  std::string body;
  std::string error;                  // why there is no response
  std::string function_error_header;  // X-Amz-Function-Error, if the endpoint sent one
};

// POSTs `body` (application/json) to `url` and waits until `deadline` at most.
HttpCallResult HttpPost(const std::string& url, const std::string& body,
                        std::chrono::steady_clock::time_point deadline);

}  // namespace switchyard::invoker
