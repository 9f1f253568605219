#pragma once
// Counters exposed at /metrics in the Prometheus text format (version 0.0.4).
// Thread model: thread-safe.
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace switchyard::orchestrator::api {

class Metrics {
 public:
  // One answered API request.
  void CountRequest(const std::string& protocol, const std::string& operation, int status);
  // One function invocation through the API; outcome: "success", "function_error", "throttled",
  // "error" (any other API error), "accepted" (Event), "dry_run".
  void CountInvocation(const std::string& function_name, const std::string& outcome,
                       double duration_seconds);
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, long long> requests_;  // Guarded by mu_.
  std::map<std::pair<std::string, std::string>, long long> invocations_;     // Guarded by mu_.
  std::map<std::string, double> invocation_seconds_;                         // Guarded by mu_.
};

}  // namespace switchyard::orchestrator::api
