// TestState: one state run on its own, through the memory driver and the engine's task backend
// (Task states invoke their functions for real). The pure half is asl/test_state.hpp.
#include <random>

#include "engine/engine_impl.hpp"
#include "switchyard/asl/test_state.hpp"

namespace switchyard::orchestrator {

namespace {

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

class DeviceRandom : public asl::RandomSource {
 public:
  uint64_t NextU64() override { return random_(); }

 private:
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace

asl::Result<TestStateResult> Engine::TestState(const std::string& state_definition,
                                               const std::string& input,
                                               const std::string& inspection_level,
                                               const std::string& variables) {
  if (inspection_level != "INFO" && inspection_level != "DEBUG" && inspection_level != "TRACE") {
    return asl::Error{std::string(kValidationException),
                      "1 validation error detected: Value '" + inspection_level +
                          "' at 'inspectionLevel' failed to satisfy constraint: Member must "
                          "satisfy enum value set: [INFO, DEBUG, TRACE]"};
  }
  std::string parse_error;
  std::optional<asl::Json> state = asl::ParseJson(state_definition, &parse_error);
  if (!state) {
    return asl::Error{
        std::string(kInvalidDefinition),
        "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: " + parse_error + "'"};
  }
  std::optional<asl::Json> parsed_input =
      asl::ParseJson(input.empty() ? "{}" : input, &parse_error);
  if (!parsed_input) {
    return asl::Error{std::string(kInvalidExecutionInput),
                      "Invalid State Machine Execution Input: '" + parse_error + "'"};
  }
  asl::Json parsed_variables = asl::JsonNull();
  if (!variables.empty()) {
    std::optional<asl::Json> v = asl::ParseJson(variables, &parse_error);
    if (!v || !v->IsObject()) {
      return asl::Error{std::string(kValidationException),
                        "variables must be a JSON object of variable names and values"};
    }
    parsed_variables = std::move(*v);
  }
  asl::Result<asl::TestMachine> machine = asl::WrapStateForTest(*state, parsed_variables);
  if (!machine.ok()) return machine.error();
  asl::ParseResult parsed = asl::ParseDefinition(machine->definition);
  if (!parsed.ok()) {
    std::string cause = "Invalid State Machine Definition: '";
    bool first = true;
    for (const auto& d : parsed.diagnostics) {
      if (d.severity != asl::Severity::kError) continue;
      if (!first) cause += ", ";
      first = false;
      cause += d.code + ": " + d.message + " at " + (d.location.empty() ? "/" : d.location);
    }
    return asl::Error{std::string(kInvalidDefinition), cause + "'"};
  }
  MemoryDriverOptions options;
  options.execution_name = "TestState";
  options.state_machine_name = "TestState";
  options.seed = std::random_device{}();
  options.keep_history = true;
  options.fast_timers = true;  // a Wait state does not wait
  MemoryDriver driver(*parsed.definition, *impl_->backend_, std::move(options));
  RunResult run = driver.Run(std::move(*parsed_input));

  // The outcome, read from the history.
  std::optional<std::string> state_input, task_result, failed_error, failed_cause;
  bool exited = false;
  std::optional<std::string> next_state;
  // The details' JSON-text member `key` (event.Details() puts payloads in).
  auto detail = [](const asl::HistoryEvent& event, std::string_view key) {
    asl::Json details = event.Details();
    const asl::Json* value = asl::JsonFind(details, key);
    return value != nullptr && value->IsString()
               ? std::optional<std::string>(std::string(asl::JsonView(*value)))
               : std::nullopt;
  };
  for (const asl::HistoryEvent& event : run.history) {
    if (event.state_name == machine->state_name && EndsWith(event.type, "StateEntered")) {
      state_input = detail(event, "input");
    } else if (event.state_name == machine->state_name && EndsWith(event.type, "StateExited")) {
      exited = true;
    } else if (!exited &&
               (event.type == "TaskSucceeded" || event.type == "LambdaFunctionSucceeded" ||
                event.type == "ActivitySucceeded")) {
      task_result = detail(event, "output");
    } else if (!exited && !event.type.starts_with("Execution") &&
               (EndsWith(event.type, "Failed") || EndsWith(event.type, "TimedOut"))) {
      failed_error = detail(event, "error");
      failed_cause = detail(event, "cause");
    } else if (exited && !next_state && EndsWith(event.type, "StateEntered")) {
      next_state = event.state_name;
    }
  }

  TestStateResult result;
  if (run.status == asl::ExecutionStatus::kSucceeded) {
    result.output = asl::DumpJson(run.output);
    result.next_state = next_state;
    if (failed_error && next_state) {
      result.status = "CAUGHT_ERROR";
      result.error = failed_error;
      result.cause = failed_cause;
    } else {
      result.status = "SUCCEEDED";
    }
  } else {
    result.error = run.error.value_or("States.Runtime");
    result.cause = run.cause;
    result.status = asl::RetryMatches(machine->retry, *result.error) ? "RETRIABLE" : "FAILED";
  }
  if (inspection_level != "INFO") {
    result.inspected = true;
    const asl::State* tested = parsed.definition->Find(machine->state_name);
    std::optional<asl::Json> entered =
        state_input ? asl::ParseJson(*state_input) : std::optional<asl::Json>();
    std::optional<asl::Json> task_output =
        task_result ? asl::ParseJson(*task_result) : std::optional<asl::Json>();
    if (tested != nullptr && entered && tested->query_language == asl::QueryLanguage::kJsonPath) {
      DeviceRandom random;
      asl::Inspection inspection =
          asl::InspectDataFlow(*tested, *entered, task_output ? &*task_output : nullptr, random);
      result.input = inspection.input;
      result.after_input_path = inspection.after_input_path;
      result.after_parameters = inspection.after_parameters;
      result.result = inspection.result;
      result.after_result_selector = inspection.after_result_selector;
      result.after_result_path = inspection.after_result_path;
    } else {
      result.input = state_input;
      result.result = task_result;
    }
    if (!variables.empty()) result.variables = asl::DumpJson(parsed_variables);
  }
  return result;
}

}  // namespace switchyard::orchestrator
