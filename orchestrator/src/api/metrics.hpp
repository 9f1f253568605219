#pragma once
// What /metrics shows, in the Prometheus text format (version 0.0.4): API requests, executions,
// state transitions, decision and task latency (from the engine, as its EngineObserver),
// function invocations (from the invoker's REPORT lines and the Invoke API), and the queue
// gauges asked of the engine at scrape time. Executions and state transitions also go to the
// log (execution started/finished, task failed).
// Labels are bounded by what users create (state machines, functions, operations): never an
// execution, a request or a task id.
// Thread model: thread-safe.
#include <array>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

#include "switchyard/orchestrator/engine.hpp"

namespace switchyard::invoker {
struct InvokeResult;
}

namespace switchyard::orchestrator::api {

// Seconds buckets shared by every histogram here (1 ms .. 60 s).
inline constexpr std::array<double, 14> kLatencyBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30, 60};

struct Histogram {
  std::array<long long, kLatencyBuckets.size()> buckets{};  // not cumulative
  long long count = 0;
  double sum = 0;
  void Observe(double seconds);
};

class Metrics : public EngineObserver {
 public:
  // One answered API request.
  void CountRequest(std::string_view protocol, std::string_view operation, int status,
                    double seconds);
  // One function invocation through the Invoke API; outcome: "success", "function_error",
  // "throttled", "error" (any other API error), "accepted" (Event), "dry_run".
  void CountInvocation(const std::string& function_name, const std::string& outcome,
                       double duration_seconds);
  // An invocation's log as the invoker reports it (invoker::LogSink): its REPORT line gives
  // the duration, billed duration and memory size (every invocation, API and Task states).
  void CountInvocationLog(const std::string& function_name, const std::string& log);
  // An invocation's outcome as the invoker reports it (invoker::ResultSink; API, Task states and
  // Event attempts alike), counted as Lambda's Invocations, Errors (function errors, handled or
  // not, timeouts, crashes, environments that fail to start) and Throttles per function.
  void CountInvokeResult(const std::string& function_name, const invoker::InvokeResult& result);

  // EngineObserver.
  void ExecutionStarted(std::string_view state_machine, std::string_view execution_arn) override;
  void ExecutionFinished(std::string_view state_machine, std::string_view execution_arn,
                         std::string_view status, std::string_view error) override;
  void StateTransitions(std::string_view state_machine, int64_t count) override;
  void DecisionBatch(int64_t decisions, double seconds) override;
  void TaskFinished(std::string_view state_machine, std::string_view execution_arn,
                    std::string_view task_id, std::string_view error, double seconds) override;

  // The text of /metrics; `engine` (may be null) adds the queue gauges (a database query).
  std::string Render(Engine* engine) const;

 private:
  struct FunctionStats {
    long long invocations = 0;  // ran (Lambda's Invocations), whatever the outcome
    long long errors = 0;       // of those, failed (Lambda's Errors)
    long long throttles = 0;    // refused for concurrency (Lambda's Throttles)
    double duration_seconds = 0;
    double gb_seconds = 0;  // billed duration × memory size
  };
  struct MachineStats {
    std::map<std::string, long long, std::less<>> executions;  // by outcome
    long long transitions = 0;
    Histogram task_seconds;
    std::map<std::string, long long, std::less<>> task_errors;  // by error name
  };
  MachineStats& Machine(std::string_view name);      // mu_ held
  FunctionStats& Function(const std::string& name);  // mu_ held

  mutable std::mutex mu_;
  // "protocol\x1foperation\x1fstatus" → count.
  std::map<std::string, long long, std::less<>> requests_;         // Guarded by mu_.
  std::map<std::string, Histogram, std::less<>> request_seconds_;  // Guarded by mu_: by operation.
  std::map<std::pair<std::string, std::string>, long long> invocations_;  // Guarded by mu_.
  std::map<std::string, FunctionStats, std::less<>> functions_;           // Guarded by mu_.
  std::map<std::string, MachineStats, std::less<>> machines_;             // Guarded by mu_.
  Histogram decision_seconds_;                                            // Guarded by mu_.
  long long decisions_ = 0;                                               // Guarded by mu_.
};

}  // namespace switchyard::orchestrator::api
