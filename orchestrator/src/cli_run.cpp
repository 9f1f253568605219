#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <ostream>
#include <random>
#include <string_view>

#include "switchyard/asl/core.hpp"
#include "switchyard/asl/definition.hpp"
#include "switchyard/asl/json.hpp"
#include "switchyard/invoker/function_config.hpp"
#include "switchyard/invoker/invoker.hpp"
#include "switchyard/orchestrator/cli.hpp"
#include "switchyard/orchestrator/lambda_backend.hpp"
#include "switchyard/orchestrator/memory_driver.hpp"
#include "switchyard/orchestrator/request_limits.hpp"

namespace switchyard::orchestrator {
namespace {

namespace asl = switchyard::asl;

std::string RandomUuid(std::mt19937_64& random) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t high = random();
  uint64_t low = random();
  high = (high & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  low = (low & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  std::string text;
  int position = 0;
  for (uint64_t part : {high, low}) {
    for (int shift = 60; shift >= 0; shift -= 4, ++position) {
      if (position == 8 || position == 12 || position == 16 || position == 20) text += '-';
      text += kHex[(part >> shift) & 0xF];
    }
  }
  return text;
}

asl::Json OptionalString(const std::optional<std::string>& text) {
  return text ? asl::JsonString(*text) : asl::JsonNull();
}

}  // namespace

int RunRunCommand(const RunOptions& options, std::ostream& out, std::ostream& err) {
  std::string read_error;
  std::optional<std::string> definition_text = ReadTextFile(options.definition_file, &read_error);
  if (!definition_text) {
    err << "switchyard run: cannot read " << read_error << "\n";
    return 2;
  }
  asl::ParseResult parsed = asl::ParseDefinition(*definition_text);
  if (!parsed.ok()) {
    for (const auto& d : parsed.diagnostics) {
      err << options.definition_file << ":" << (d.location.empty() ? "/" : d.location) << ": "
          << (d.severity == asl::Severity::kError ? "error" : "warning") << " " << d.code << ": "
          << d.message << "\n";
    }
    return 2;
  }

  // What StartExecution would refuse is refused before anything runs, with AWS's error.
  std::optional<asl::ExecutionType> type = asl::ParseExecutionType(options.type);
  if (!type) {
    err << "switchyard run: --type must be STANDARD or EXPRESS, not '" << options.type << "'\n";
    return 2;
  }
  if (options.name) {
    if (auto refused = CheckExecutionName(*options.name)) {
      err << "switchyard run: " << refused->type << ": " << refused->message << "\n";
      return 2;
    }
  }

  std::string input_text = "{}";
  if (options.input) {
    input_text = *options.input;
  } else if (options.input_file) {
    std::optional<std::string> text = ReadTextFile(*options.input_file, &read_error);
    if (!text) {
      err << "switchyard run: cannot read " << read_error << "\n";
      return 2;
    }
    input_text = *text;
  }
  if (auto refused = CheckExecutionInput(input_text)) {
    err << "switchyard run: " << refused->type << ": " << refused->message << "\n";
    return 2;
  }
  std::string parse_error;
  std::optional<asl::Json> input = asl::ParseJson(input_text, &parse_error);
  if (!input) {
    err << "switchyard run: the input is not JSON: " << parse_error << "\n";
    return 2;
  }

  std::random_device device;
  std::mt19937_64 random((static_cast<uint64_t>(device()) << 32) ^ device());
  MemoryDriverOptions driver_options;
  driver_options.execution_name = options.name ? *options.name : RandomUuid(random);
  driver_options.execution_type = *type;
  // The conformance runner cannot pass --history, so SWITCHYARD_RUN_HISTORY=1 in the
  // environment asks for it too.
  const char* history_env = std::getenv("SWITCHYARD_RUN_HISTORY");
  const bool want_history =
      options.history || (history_env != nullptr && std::string_view(history_env) == "1");
  driver_options.keep_history = want_history;
  std::string stem = std::filesystem::path(options.definition_file).stem().string();
  driver_options.state_machine_name = stem.empty() || stem == "-" ? "state-machine" : stem;
  driver_options.seed = random();
  driver_options.fast_timers = options.fast_timers;

  // With --functions, Lambda tasks run those functions; without, they fail with "no function
  // backend configured". Function logs (START ... REPORT) go to stderr.
  std::optional<invoker::Invoker> functions;
  std::unique_ptr<TaskBackend> backend;
  if (!options.functions_dir.empty()) {
    std::vector<std::string> load_errors;
    auto configs = invoker::LoadFunctionsDirectory(options.functions_dir, &load_errors);
    for (const auto& message : load_errors) err << "switchyard run: " << message << "\n";
    if (!load_errors.empty() && configs.empty()) return 2;
    invoker::InvokerOptions invoker_options;
    // Invocations end on invoker threads: one log at a time.
    invoker_options.log_sink = [&err, log_mu = std::make_shared<std::mutex>()](
                                   const std::string&, const std::string&, const std::string& log) {
      std::lock_guard<std::mutex> lock(*log_mu);
      err << log << std::flush;
    };
    functions.emplace(std::move(invoker_options));
    for (const auto& config : configs) {
      if (std::string error = functions->RegisterFunction(config); !error.empty()) {
        err << "switchyard run: " << error << "\n";
        return 2;
      }
    }
    backend = std::make_unique<LambdaBackend>(*functions, "us-east-1", "000000000000");
  } else {
    backend = std::make_unique<NoFunctionBackend>();
  }
  MemoryDriver driver(*parsed.definition, *backend, std::move(driver_options));
  RunResult result = driver.Run(std::move(*input));

  bool succeeded = result.status == asl::ExecutionStatus::kSucceeded;
  if (options.json) {
    asl::Json doc = asl::JsonObject();
    asl::JsonSet(doc, "status", asl::JsonString(asl::ExecutionStatusName(result.status)));
    asl::JsonSet(doc, "output", succeeded ? std::move(result.output) : asl::JsonNull());
    asl::JsonSet(doc, "error", OptionalString(result.error));
    asl::JsonSet(doc, "cause", OptionalString(result.cause));
    if (want_history) {
      asl::Json history = asl::JsonArray();
      for (const auto& event : result.history) asl::JsonPush(history, event.ToJson());
      asl::JsonSet(doc, "history", std::move(history));
    }
    out << asl::DumpJson(doc) << "\n";
  } else {
    if (want_history) {
      // Text mode: stdout holds the output alone, so the history goes to stderr, one event
      // (as GetExecutionHistory returns it) per line.
      for (const auto& event : result.history) err << asl::DumpJson(event.ToJson()) << "\n";
    }
    if (succeeded) {
      out << asl::DumpJson(result.output) << "\n";
    } else {
      err << asl::ExecutionStatusName(result.status) << ": "
          << (result.error ? *result.error : std::string("(no error)"));
      if (result.cause) err << ": " << *result.cause;
      err << "\n";
    }
  }
  return succeeded ? 0 : 1;
}

}  // namespace switchyard::orchestrator
