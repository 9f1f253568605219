// `switchyard invoke`: runs one function from a functions directory, as `aws lambda invoke`
// would, and prints its response payload.
#include <chrono>
#include <mutex>
#include <ostream>

#include "switchyard/invoker/function_config.hpp"
#include "switchyard/invoker/invoker.hpp"
#include "switchyard/orchestrator/cli.hpp"

namespace switchyard::orchestrator {

int RunInvokeCommand(const InvokeOptions& options, std::ostream& out, std::ostream& err) {
  namespace inv = switchyard::invoker;
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
    invoker.DrainAsync();
  }

  if (result.status != inv::InvokeStatus::kOk) {
    err << "switchyard invoke: " << result.error_type << " (" << result.status_code
        << "): " << result.payload << "\n";
    return result.status == inv::InvokeStatus::kInvalidRequest ||
                   result.status == inv::InvokeStatus::kTooLarge
               ? 2
               : 1;
  }
  if (!result.payload.empty()) out << result.payload << "\n";
  if (options.log_tail) {
    std::lock_guard lock(log_mu);
    err << (log.size() > inv::kLogTailBytes ? log.substr(log.size() - inv::kLogTailBytes) : log);
  }
  return result.function_error.empty() ? 0 : 1;
}

}  // namespace switchyard::orchestrator
