#include "api/metrics.hpp"

#include <cstdio>

namespace switchyard::orchestrator::api {
namespace {

// Prometheus label values escape backslash, double quote and newline.
std::string Label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

void Metrics::CountRequest(const std::string& protocol, const std::string& operation, int status) {
  std::lock_guard lock(mu_);
  ++requests_[{protocol, operation, status}];
}

void Metrics::CountInvocation(const std::string& function_name, const std::string& outcome,
                              double duration_seconds) {
  std::lock_guard lock(mu_);
  ++invocations_[{function_name, outcome}];
  invocation_seconds_[function_name] += duration_seconds;
}

std::string Metrics::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP switchyard_api_requests_total API requests answered, by operation and status.\n";
  out += "# TYPE switchyard_api_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    const auto& [protocol, operation, status] = key;
    out += "switchyard_api_requests_total{protocol=\"" + Label(protocol) + "\",operation=\"" +
           Label(operation) + "\",code=\"" + std::to_string(status) + "\"} " +
           std::to_string(count) + "\n";
  }
  out += "# HELP switchyard_lambda_invocations_total Function invocations through the API.\n";
  out += "# TYPE switchyard_lambda_invocations_total counter\n";
  for (const auto& [key, count] : invocations_) {
    out += "switchyard_lambda_invocations_total{function=\"" + Label(key.first) + "\",outcome=\"" +
           Label(key.second) + "\"} " + std::to_string(count) + "\n";
  }
  out += "# HELP switchyard_lambda_invocation_seconds_total Time spent in invocations.\n";
  out += "# TYPE switchyard_lambda_invocation_seconds_total counter\n";
  for (const auto& [name, seconds] : invocation_seconds_) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.6f", seconds);
    out += "switchyard_lambda_invocation_seconds_total{function=\"" + Label(name) + "\"} " +
           buffer + "\n";
  }
  return out;
}

}  // namespace switchyard::orchestrator::api
