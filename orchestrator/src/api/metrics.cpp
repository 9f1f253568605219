#include "api/metrics.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "logging.hpp"
#include "switchyard/invoker/invoker.hpp"

namespace switchyard::orchestrator::api {
namespace {

// Distinct task error names kept per state machine; the rest count as "other" (error names come
// from functions, so a function could otherwise grow the label set without bound).
constexpr std::size_t kMaxErrorLabels = 50;
constexpr char kSep = '\x1f';

// Prometheus label values escape backslash, double quote and newline.
std::string Label(std::string_view value) {
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

std::string Number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

void Header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// `labels` without braces ("" or `a="b"`).
void RenderHistogram(std::string& out, const char* name, const std::string& labels,
                     const Histogram& h) {
  const std::string prefix = labels.empty() ? "" : labels + ",";
  long long cumulative = 0;
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    cumulative += h.buckets[i];
    out += std::string(name) + "_bucket{" + prefix + "le=\"" + Number(kLatencyBuckets[i]) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  out += std::string(name) + "_bucket{" + prefix + "le=\"+Inf\"} " + std::to_string(h.count) + "\n";
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += std::string(name) + "_sum" + braces + " " + Number(h.sum) + "\n";
  out += std::string(name) + "_count" + braces + " " + std::to_string(h.count) + "\n";
}

// The value after `key` in a REPORT line ("Duration: 12.34 ms" → 12.34), or -1.
double ReportField(std::string_view line, std::string_view key) {
  const auto at = line.find(key);
  if (at == std::string_view::npos) return -1;
  const std::string number(line.substr(at + key.size(), 32));
  return std::strtod(number.c_str(), nullptr);
}

}  // namespace

void Histogram::Observe(double seconds) {
  std::size_t i = 0;
  while (i < kLatencyBuckets.size() && seconds > kLatencyBuckets[i]) ++i;
  if (i < kLatencyBuckets.size()) ++buckets[i];
  ++count;
  sum += seconds;
}

void Metrics::CountRequest(std::string_view protocol, std::string_view operation, int status,
                           double seconds) {
  // The key is built in a per-thread buffer: no allocation once the key exists.
  thread_local std::string key;
  key.assign(protocol);
  key.push_back(kSep);
  key.append(operation);
  key.push_back(kSep);
  key += std::to_string(status);
  std::lock_guard lock(mu_);
  auto it = requests_.find(std::string_view(key));
  if (it == requests_.end()) it = requests_.emplace(key, 0).first;
  ++it->second;
  auto h = request_seconds_.find(operation);
  if (h == request_seconds_.end())
    h = request_seconds_.emplace(std::string(operation), Histogram{}).first;
  h->second.Observe(seconds);
}

void Metrics::CountInvocation(const std::string& function_name, const std::string& outcome,
                              double /*duration_seconds*/) {
  std::lock_guard lock(mu_);
  ++invocations_[{function_name, outcome}];
}

void Metrics::CountInvocationLog(const std::string& function_name, const std::string& log) {
  const auto at = log.rfind("REPORT RequestId:");
  if (at == std::string::npos) return;
  const std::string_view line = std::string_view(log).substr(at);
  const double duration_ms = ReportField(line, "\tDuration: ");
  const double billed_ms = ReportField(line, "Billed Duration: ");
  const double memory_mb = ReportField(line, "Memory Size: ");
  std::lock_guard lock(mu_);
  FunctionStats& stats = Function(function_name);
  if (duration_ms > 0) stats.duration_seconds += duration_ms / 1000;
  if (billed_ms > 0 && memory_mb > 0) stats.gb_seconds += billed_ms / 1000 * memory_mb / 1024;
}

void Metrics::CountInvokeResult(const std::string& function_name,
                                const invoker::InvokeResult& result) {
  using invoker::InvokeStatus;
  long long invocations = 0, errors = 0, throttles = 0;
  switch (result.status) {
    case InvokeStatus::kOk:
      invocations = 1;
      errors = result.function_error.empty() ? 0 : 1;
      break;
    case InvokeStatus::kThrottled:
      throttles = 1;
      break;
    case InvokeStatus::kEnvironmentError:
    case InvokeStatus::kDeadlineExceeded:
      invocations = 1;
      errors = 1;
      break;
    case InvokeStatus::kNotFound:
    case InvokeStatus::kInvalidRequest:
    case InvokeStatus::kTooLarge:
      return;  // never ran, and the name may not be a function's: no label
  }
  std::lock_guard lock(mu_);
  FunctionStats& stats = Function(function_name);
  stats.invocations += invocations;
  stats.errors += errors;
  stats.throttles += throttles;
}

Metrics::FunctionStats& Metrics::Function(const std::string& name) {
  auto it = functions_.find(name);
  if (it == functions_.end()) it = functions_.emplace(name, FunctionStats{}).first;
  return it->second;
}

Metrics::MachineStats& Metrics::Machine(std::string_view name) {
  auto it = machines_.find(name);
  if (it == machines_.end()) it = machines_.emplace(std::string(name), MachineStats{}).first;
  return it->second;
}

void Metrics::ExecutionStarted(std::string_view state_machine, std::string_view execution_arn) {
  {
    std::lock_guard lock(mu_);
    auto& executions = Machine(state_machine).executions;
    auto it = executions.find(std::string_view("started"));
    if (it == executions.end()) it = executions.emplace("started", 0).first;
    ++it->second;
  }
  if (LogEnabled(LogLevel::kDebug)) {
    LogLine("execution_started")
        .Str("state_machine", state_machine)
        .Str("execution_arn", execution_arn)
        .Emit(LogLevel::kDebug);
  }
}

void Metrics::ExecutionFinished(std::string_view state_machine, std::string_view execution_arn,
                                std::string_view status, std::string_view error) {
  {
    std::lock_guard lock(mu_);
    auto& executions = Machine(state_machine).executions;
    auto it = executions.find(status);
    if (it == executions.end()) it = executions.emplace(std::string(status), 0).first;
    ++it->second;
  }
  // Failures are worth seeing at the default level; successes at debug (one per execution).
  const LogLevel level = status == "SUCCEEDED" ? LogLevel::kDebug : LogLevel::kInfo;
  if (LogEnabled(level)) {
    LogLine line("execution_finished");
    line.Str("state_machine", state_machine)
        .Str("execution_arn", execution_arn)
        .Str("status", status);
    if (!error.empty()) line.Str("error", error);
    line.Emit(level);
  }
}

void Metrics::StateTransitions(std::string_view state_machine, int64_t count) {
  std::lock_guard lock(mu_);
  Machine(state_machine).transitions += count;
}

void Metrics::DecisionBatch(int64_t decisions, double seconds) {
  std::lock_guard lock(mu_);
  decision_seconds_.Observe(seconds);
  decisions_ += decisions;
}

void Metrics::TaskFinished(std::string_view state_machine, std::string_view execution_arn,
                           std::string_view task_id, std::string_view error, double seconds) {
  {
    std::lock_guard lock(mu_);
    MachineStats& machine = Machine(state_machine);
    machine.task_seconds.Observe(seconds);
    if (!error.empty()) {
      auto it = machine.task_errors.find(error);
      if (it == machine.task_errors.end()) {
        it = machine.task_errors
                 .emplace(machine.task_errors.size() < kMaxErrorLabels ? std::string(error)
                                                                       : std::string("other"),
                          0)
                 .first;
      }
      ++it->second;
    }
  }
  if (!error.empty() && LogEnabled(LogLevel::kInfo)) {
    LogLine("task_failed")
        .Str("state_machine", state_machine)
        .Str("execution_arn", execution_arn)
        .Str("task_id", task_id)
        .Str("error", error)
        .Num("seconds", seconds)
        .Emit(LogLevel::kInfo);
  }
}

std::string Metrics::Render(Engine* engine) const {
  std::optional<EngineStats> stats;
  std::string engine_error;
  if (engine != nullptr) {
    try {
      stats = engine->Stats();
    } catch (const std::exception& e) {
      engine_error = e.what();
    }
  }
  std::lock_guard lock(mu_);
  std::string out;
  Header(out, "switchyard_api_requests_total", "counter",
         "API requests answered, by protocol, operation and HTTP status.");
  for (const auto& [key, count] : requests_) {
    const auto first = key.find(kSep);
    const auto second = key.find(kSep, first + 1);
    out += "switchyard_api_requests_total{protocol=\"" + Label(key.substr(0, first)) +
           "\",operation=\"" + Label(key.substr(first + 1, second - first - 1)) + "\",code=\"" +
           key.substr(second + 1) + "\"} " + std::to_string(count) + "\n";
  }
  Header(out, "switchyard_api_request_seconds", "histogram",
         "API request latency (received to answered), by operation.");
  for (const auto& [operation, h] : request_seconds_) {
    RenderHistogram(out, "switchyard_api_request_seconds", "operation=\"" + Label(operation) + "\"",
                    h);
  }

  Header(out, "switchyard_executions_total", "counter",
         "Standard executions started and ended (status: started, SUCCEEDED, FAILED, TIMED_OUT, "
         "ABORTED), by state machine.");
  for (const auto& [machine, m] : machines_) {
    for (const auto& [status, count] : m.executions) {
      out += "switchyard_executions_total{state_machine=\"" + Label(machine) + "\",status=\"" +
             Label(status) + "\"} " + std::to_string(count) + "\n";
    }
  }
  Header(out, "switchyard_state_transitions_total", "counter",
         "States entered by Standard executions, by state machine.");
  for (const auto& [machine, m] : machines_) {
    out += "switchyard_state_transitions_total{state_machine=\"" + Label(machine) + "\"} " +
           std::to_string(m.transitions) + "\n";
  }
  Header(out, "switchyard_decisions_total", "counter", "Decisions committed.");
  out += "switchyard_decisions_total " + std::to_string(decisions_) + "\n";
  Header(out, "switchyard_decision_batch_seconds", "histogram",
         "Decision transactions (a group commit of many decisions), start to commit.");
  RenderHistogram(out, "switchyard_decision_batch_seconds", "", decision_seconds_);
  Header(out, "switchyard_task_seconds", "histogram",
         "Task invocations of Standard executions, claimed to returned, by state machine.");
  for (const auto& [machine, m] : machines_) {
    if (m.task_seconds.count == 0) continue;
    RenderHistogram(out, "switchyard_task_seconds", "state_machine=\"" + Label(machine) + "\"",
                    m.task_seconds);
  }
  Header(out, "switchyard_task_failures_total", "counter",
         "Task invocations that failed, by state machine and error.");
  for (const auto& [machine, m] : machines_) {
    for (const auto& [error, count] : m.task_errors) {
      out += "switchyard_task_failures_total{state_machine=\"" + Label(machine) + "\",error=\"" +
             Label(error) + "\"} " + std::to_string(count) + "\n";
    }
  }

  Header(out, "switchyard_function_invocations_total", "counter",
         "Function invocations that ran, whatever their outcome (Invoke API, Task states, Event "
         "attempts), by function (Lambda's Invocations).");
  for (const auto& [name, f] : functions_) {
    out += "switchyard_function_invocations_total{function=\"" + Label(name) + "\"} " +
           std::to_string(f.invocations) + "\n";
  }
  Header(out, "switchyard_function_errors_total", "counter",
         "Function invocations that failed: function errors (handled or not), timeouts, crashes, "
         "environments that failed to start; Invoke API, Task states, Event attempts; by "
         "function (Lambda's Errors).");
  for (const auto& [name, f] : functions_) {
    out += "switchyard_function_errors_total{function=\"" + Label(name) + "\"} " +
           std::to_string(f.errors) + "\n";
  }
  Header(out, "switchyard_function_throttles_total", "counter",
         "Function invocations refused for concurrency (TooManyRequestsException), by function "
         "(Lambda's Throttles).");
  for (const auto& [name, f] : functions_) {
    out += "switchyard_function_throttles_total{function=\"" + Label(name) + "\"} " +
           std::to_string(f.throttles) + "\n";
  }
  Header(out, "switchyard_function_duration_seconds_total", "counter",
         "Time functions ran, by function.");
  for (const auto& [name, f] : functions_) {
    out += "switchyard_function_duration_seconds_total{function=\"" + Label(name) + "\"} " +
           Number(f.duration_seconds) + "\n";
  }
  Header(out, "switchyard_function_gb_seconds_total", "counter",
         "Billed duration times memory size (GB-seconds), by function.");
  for (const auto& [name, f] : functions_) {
    out += "switchyard_function_gb_seconds_total{function=\"" + Label(name) + "\"} " +
           Number(f.gb_seconds) + "\n";
  }
  Header(out, "switchyard_lambda_invocations_total", "counter",
         "Invoke API calls by function and outcome (success, function_error, throttled, error, "
         "accepted, dry_run).");
  for (const auto& [key, count] : invocations_) {
    out += "switchyard_lambda_invocations_total{function=\"" + Label(key.first) + "\",outcome=\"" +
           Label(key.second) + "\"} " + std::to_string(count) + "\n";
  }

  if (stats) {
    Header(out, "switchyard_work_queue_depth", "gauge",
           "Work items in the queue: runnable (due, unleased), leased, pending (not yet due).");
    out += "switchyard_work_queue_depth{state=\"runnable\"} " +
           std::to_string(stats->runnable_work) + "\n";
    out += "switchyard_work_queue_depth{state=\"leased\"} " + std::to_string(stats->leased_work) +
           "\n";
    out += "switchyard_work_queue_depth{state=\"pending\"} " +
           std::to_string(stats->pending_timers) + "\n";
    Header(out, "switchyard_leases_held", "gauge", "Task leases this node holds now.");
    out += "switchyard_leases_held " + std::to_string(stats->leases_held) + "\n";
  }
  if (engine != nullptr) {
    Header(out, "switchyard_database_up", "gauge", "1 when the last scrape reached the database.");
    out += std::string("switchyard_database_up ") + (stats ? "1" : "0") + "\n";
  }
  return out;
}

}  // namespace switchyard::orchestrator::api
