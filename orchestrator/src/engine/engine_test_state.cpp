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

// Answers the mock resource with TestState's mock; anything else goes to the engine's backend.
class MockBackend : public TaskBackend {
 public:
  MockBackend(TaskBackend& real, const TestStateRequest& request, const asl::Json* result)
      : real_(real), request_(request), result_(result) {}

  std::optional<TaskOutcome> Start(const TaskRequest& task, TaskCompleter complete) override {
    if (task.resource != asl::kTestMockResource) return real_.Start(task, std::move(complete));
    if (result_ != nullptr) return TaskOutcome::Success(asl::CopyJson(*result_));
    return TaskOutcome::Failure(request_.mock_error, request_.mock_cause);
  }
  void Cancel(const std::string& task_id) override { real_.Cancel(task_id); }

 private:
  TaskBackend& real_;
  const TestStateRequest& request_;
  const asl::Json* result_;
};

asl::Error Invalid(std::string message) {
  return asl::Error{std::string(kValidationException), std::move(message)};
}

std::string DiagnosticsCause(const asl::ParseResult& parsed) {
  std::string cause = "Invalid State Machine Definition: '";
  bool first = true;
  for (const auto& d : parsed.diagnostics) {
    if (d.severity != asl::Severity::kError) continue;
    if (!first) cause += ", ";
    first = false;
    cause += d.code + ": " + d.message + " at " + (d.location.empty() ? "/" : d.location);
  }
  return cause + "'";
}

}  // namespace

asl::Result<TestStateResult> Engine::TestState(const std::string& state_definition,
                                               const std::string& input,
                                               const std::string& inspection_level,
                                               const std::string& variables) {
  TestStateRequest request;
  request.definition = state_definition;
  request.input = input;
  request.inspection_level = inspection_level;
  request.variables = variables;
  return TestState(request);
}

asl::Result<TestStateResult> Engine::TestState(const TestStateRequest& request) {
  const std::string& input = request.input;
  const std::string& inspection_level = request.inspection_level;
  const std::string& variables = request.variables;
  if (inspection_level != "INFO" && inspection_level != "DEBUG" && inspection_level != "TRACE") {
    return asl::Error{std::string(kValidationException),
                      "1 validation error detected: Value '" + inspection_level +
                          "' at 'inspectionLevel' failed to satisfy constraint: Member must "
                          "satisfy enum value set: [INFO, DEBUG, TRACE]"};
  }
  std::string parse_error;
  std::optional<asl::Json> definition = asl::ParseJson(request.definition, &parse_error);
  if (!definition) {
    return asl::Error{
        std::string(kInvalidDefinition),
        "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: " + parse_error + "'"};
  }
  // stateName: the definition is a whole machine, valid as such; the state is taken from it.
  // (The texts of these refusals are ours: AWS documents the rules, not its messages.)
  asl::Json state_copy;
  const asl::Json* state = &*definition;
  if (!request.state_name.empty()) {
    if (request.state_name.size() > 80) {
      return Invalid(
          "1 validation error detected: Value at 'stateName' failed to satisfy "
          "constraint: Member must have length less than or equal to 80");
    }
    asl::ParseResult whole = asl::ParseDefinition(request.definition);
    if (!whole.ok()) return asl::Error{std::string(kInvalidDefinition), DiagnosticsCause(whole)};
    const asl::Json* found = asl::FindStateForTest(*definition, request.state_name);
    if (found == nullptr) {
      return Invalid("State '" + request.state_name + "' does not exist in the definition");
    }
    state_copy = asl::CopyJson(*found);
    state = &state_copy;
  }
  // mock: a result or an error, for a Task, Map or Parallel state.
  std::optional<asl::Json> mock_result;
  if (request.HasMock()) {
    if (request.mock_result && !request.mock_error.empty()) {
      return Invalid("mock may specify result or errorOutput, not both");
    }
    if (!request.field_validation_mode.empty() && request.field_validation_mode != "STRICT" &&
        request.field_validation_mode != "PRESENT" && request.field_validation_mode != "NONE") {
      return Invalid("1 validation error detected: Value '" + request.field_validation_mode +
                     "' at 'mock.fieldValidationMode' failed to satisfy constraint: Member must "
                     "satisfy enum value set: [STRICT, PRESENT, NONE]");
    }
    const asl::Json* type = state->IsObject() ? asl::JsonFind(*state, "Type") : nullptr;
    const std::string_view type_name =
        type != nullptr && type->IsString() ? asl::JsonView(*type) : std::string_view();
    if (type_name != "Task" && type_name != "Map" && type_name != "Parallel") {
      return Invalid("A mock can only be specified for Task, Map, or Parallel states");
    }
    if (request.mock_result) {
      mock_result = asl::ParseJson(*request.mock_result, &parse_error);
      if (!mock_result) return Invalid("mock.result is not valid JSON: " + parse_error);
    }
  } else if (!request.context.empty()) {
    return Invalid("context may only be specified if a mock is specified in the same request");
  }
  asl::Json context = asl::JsonObject();
  if (!request.context.empty()) {
    std::optional<asl::Json> parsed_context = asl::ParseJson(request.context, &parse_error);
    if (!parsed_context || !parsed_context->IsObject()) {
      return Invalid("context must be a JSON object (a Context object)");
    }
    if (std::optional<std::string> refused = asl::CheckTestContext(*parsed_context, *state)) {
      return Invalid(std::move(*refused));
    }
    context = std::move(*parsed_context);
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
  asl::Result<asl::TestMachine> machine =
      asl::WrapStateForTest(*state, parsed_variables, request.HasMock());
  if (!machine.ok()) return machine.error();
  asl::ParseResult parsed = asl::ParseDefinition(machine->definition);
  if (!parsed.ok()) return asl::Error{std::string(kInvalidDefinition), DiagnosticsCause(parsed)};
  MemoryDriverOptions options;
  options.execution_name = "TestState";
  options.state_machine_name = "TestState";
  options.seed = std::random_device{}();
  options.keep_history = true;
  options.fast_timers = true;  // a Wait state does not wait
  // AWS: the state sees the given Context object as it is (`$$`, $states.context).
  if (!request.context.empty()) {
    options.context = std::make_shared<const asl::Json>(asl::CopyJson(context));
  }
  MockBackend backend(*impl_->backend_, request, mock_result ? &*mock_result : nullptr);
  MemoryDriver driver(*parsed.definition, backend, std::move(options));
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
  const int64_t retry_count = request.retrier_retry_count.value_or(0);
  // ASL: a retrier that applies comes before any catcher (the wrapped state has no Retry, so a
  // retriable error may have been caught in the run).
  auto retriable = [&](const std::string& error, const std::optional<std::string>& cause) {
    std::optional<asl::RetryDecision> retry = asl::DecideRetry(machine->retry, error, retry_count);
    if (!retry) return false;
    result.status = "RETRIABLE";
    result.error = error;
    result.cause = cause;
    result.retry_index = retry->retrier_index;
    result.retry_backoff_seconds = retry->backoff_seconds;
    return true;
  };
  if (run.status == asl::ExecutionStatus::kSucceeded) {
    if (failed_error && next_state) {
      if (!retriable(*failed_error, failed_cause)) {
        result.output = asl::DumpJson(run.output);
        result.next_state = next_state;
        result.status = "CAUGHT_ERROR";
        result.error = failed_error;
        result.cause = failed_cause;
        const asl::Json* catchers = state->IsObject() ? asl::JsonFind(*state, "Catch") : nullptr;
        if (catchers != nullptr) result.catch_index = asl::CatchIndex(*catchers, *failed_error);
      }
    } else {
      result.output = asl::DumpJson(run.output);
      result.next_state = next_state;
      result.status = "SUCCEEDED";
    }
  } else if (!retriable(run.error.value_or("States.Runtime"), run.cause)) {
    result.error = run.error.value_or("States.Runtime");
    result.cause = run.cause;
    result.status = "FAILED";
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
      asl::Inspection inspection = asl::InspectDataFlow(
          *tested, *entered, task_output ? &*task_output : nullptr, random, &context);
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
