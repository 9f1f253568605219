// `switchyard invoke`: runs one function from a functions directory, as `aws lambda invoke`
// would, and prints its response payload.
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <ostream>
#include <string>

#include "switchyard/invoker/function_config.hpp"
#include "switchyard/invoker/invoker.hpp"
#include "switchyard/orchestrator/cli.hpp"

namespace switchyard::orchestrator {

namespace {

namespace inv = switchyard::invoker;

std::string UtcTime(inv::AsyncClock::time_point when) {
  const std::time_t secs = inv::AsyncClock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// One stderr line per step of an Event invocation, so that a wait of minutes is not silent.
std::string DescribeProgress(const inv::AsyncProgress& progress, inv::AsyncClock::time_point now) {
  std::string line = "switchyard invoke: ";
  if (progress.outcome == "not run") {
    line += "attempt " + std::to_string(progress.attempt + 1) + " not run (" + progress.error_type +
            ")";
  } else if (!progress.outcome.empty()) {
    line += "attempt " + std::to_string(progress.attempt) + " of " +
            std::to_string(progress.max_attempts) + " " + progress.outcome;
    if (!progress.error_type.empty()) line += " (" + progress.error_type + ")";
  } else {
    line += "event not run";
  }
  if (progress.retry_at) {
    const auto wait = std::chrono::ceil<std::chrono::seconds>(*progress.retry_at - now);
    line += "; retrying at " + UtcTime(*progress.retry_at) + " (in " +
            std::to_string(std::max<int64_t>(0, wait.count())) + " s)";
  }
  if (!progress.final_condition.empty() && progress.final_condition != "Success") {
    line += "; event failed: " + progress.final_condition;
  }
  if (!progress.final_condition.empty()) {
    if (progress.delivered_to.empty()) {
      line += progress.final_condition == "Success" ? "" : "; no destination configured";
    } else {
      line += "; record sent to ";
      for (std::size_t i = 0; i < progress.delivered_to.size(); ++i) {
        line += (i ? ", " : "") + progress.delivered_to[i];
      }
    }
  }
  return line + "\n";
}

}  // namespace

int RunInvokeCommand(const InvokeOptions& options, std::ostream& out, std::ostream& err) {
  const auto type = inv::ParseInvocationType(options.type);
  if (!type) {
    err << "switchyard invoke: --type must be RequestResponse, Event or DryRun, not '"
        << options.type << "'\n";
    return 2;
  }
  std::vector<std::string> load_errors;
  const auto configs = inv::LoadFunctionsDirectory(options.functions_dir, &load_errors);
  for (const auto& message : load_errors) err << "switchyard invoke: " << message << "\n";

  std::mutex log_mu;
  std::string log;
  inv::InvokerOptions invoker_options;
  invoker_options.log_sink = [&](const std::string&, const std::string&, const std::string& text) {
    std::lock_guard lock(log_mu);
    log += text;
  };
  // Event invocations report each step on stderr as it happens (retries wait minutes).
  std::mutex progress_mu;
  bool event_failed = false;  // Guarded by progress_mu.
  invoker_options.async_progress = [&](const inv::AsyncProgress& progress) {
    std::lock_guard lock(progress_mu);
    err << DescribeProgress(progress, inv::AsyncClock::now()) << std::flush;
    if (!progress.final_condition.empty() && progress.final_condition != "Success") {
      event_failed = true;
    }
  };
  // Lambda's retry delays (1 and 2 minutes); SWITCHYARD_ASYNC_RETRY_BASE_MS shortens them
  // (tests, demos).
  if (const char* base = std::getenv("SWITCHYARD_ASYNC_RETRY_BASE_MS"); base && *base) {
    invoker_options.async_retry_base = std::chrono::milliseconds(std::atoll(base));
  }
  inv::Invoker invoker(std::move(invoker_options));
  for (const auto& config : configs) {
    const std::string error = invoker.RegisterFunction(config);
    if (!error.empty()) err << "switchyard invoke: " << error << "\n";
  }
  std::string name = options.function_name;
  std::string qualifier;
  if (const auto colon = name.find(':'); colon != std::string::npos && name.rfind("arn:", 0) != 0) {
    qualifier = name.substr(colon + 1);
    name = name.substr(0, colon);
  }
  if (!invoker.HasFunction(name) && name.rfind("arn:", 0) != 0) {
    err << "switchyard invoke: no function '" << name << "' in " << options.functions_dir << "\n";
    return 2;
  }

  inv::InvokeRequest request;
  request.function_name = name;
  request.qualifier = qualifier;
  request.payload = options.payload.value_or("{}");
  request.type = *type;
  request.log_tail = options.log_tail;
  const inv::InvokeResult result = invoker.Invoke(request);
  // An Event invocation runs on the invoker's queue: wait for it (and its retries) before the
  // process, and with it the queue, goes away.
  if (*type == inv::InvocationType::kEvent && result.status == inv::InvokeStatus::kOk) {
    {
      std::lock_guard lock(progress_mu);
      err << "switchyard invoke: event " << result.request_id << " queued (" << result.status_code
          << "); waiting for its outcome\n"
          << std::flush;
    }
    invoker.DrainAsync();
  }

  if (result.status != inv::InvokeStatus::kOk) {
    err << "switchyard invoke: " << result.error_type << " (" << result.status_code
        << "): " << result.payload << "\n";
    // Usage errors: an unknown function or qualifier, a bad or too large payload.
    return result.status == inv::InvokeStatus::kInvalidRequest ||
                   result.status == inv::InvokeStatus::kTooLarge ||
                   result.status == inv::InvokeStatus::kNotFound
               ? 2
               : 1;
  }
  if (!result.payload.empty()) out << result.payload << "\n";
  if (options.log_tail) {
    std::lock_guard lock(log_mu);
    err << (log.size() > inv::kLogTailBytes ? log.substr(log.size() - inv::kLogTailBytes) : log);
  }
  std::lock_guard lock(progress_mu);
  return result.function_error.empty() && !event_failed ? 0 : 1;
}

}  // namespace switchyard::orchestrator
