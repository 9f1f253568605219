#include "switchyard/asl/test_state.hpp"

#include <algorithm>

#include "switchyard/asl/names.hpp"

namespace switchyard::asl {

namespace {

void AddTarget(std::vector<std::string>& targets, const Json* next) {
  if (next == nullptr || !next->IsString()) return;
  std::string name(JsonView(*next));
  if (std::find(targets.begin(), targets.end(), name) == targets.end()) targets.push_back(name);
}

}  // namespace

Result<TestMachine> WrapStateForTest(const Json& state, const Json& variables) {
  if (!state.IsObject() || JsonFind(state, "Type") == nullptr) {
    return Error{"InvalidDefinition",
                 "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The state "
                 "definition must be an object with a Type'"};
  }
  TestMachine machine;
  machine.retry = JsonNull();
  Json copy = CopyJson(state);
  if (Json* retry = JsonFind(copy, "Retry")) {
    machine.retry = CopyJson(*retry);
    copy.EraseMember("Retry");
  }
  AddTarget(machine.targets, JsonFind(copy, "Next"));
  AddTarget(machine.targets, JsonFind(copy, "Default"));
  for (const char* list : {"Choices", "Catch"}) {
    const Json* items = JsonFind(copy, list);
    if (items == nullptr || !items->IsArray()) continue;
    for (const Json& item : items->GetArray()) {
      if (item.IsObject()) AddTarget(machine.targets, JsonFind(item, "Next"));
    }
  }
  // The tested state's name must not be one it goes to.
  machine.state_name = std::string(kTestStateName);
  while (std::find(machine.targets.begin(), machine.targets.end(), machine.state_name) !=
         machine.targets.end()) {
    machine.state_name += "_";
  }
  Json states = JsonObject();
  std::string start = machine.state_name;
  if (variables.IsObject() && variables.MemberCount() > 0) {
    start = machine.state_name + "_Variables";
    while (std::find(machine.targets.begin(), machine.targets.end(), start) !=
           machine.targets.end()) {
      start += "_";
    }
    Json assign = JsonObject();
    JsonSet(assign, "Type", JsonString("Pass"));
    JsonSet(assign, "QueryLanguage", JsonString("JSONPath"));
    JsonSet(assign, "Assign", CopyJson(variables));
    JsonSet(assign, "Next", JsonString(machine.state_name));
    JsonSet(states, start, std::move(assign));
  }
  JsonSet(states, machine.state_name, std::move(copy));
  for (const std::string& target : machine.targets) {
    Json succeed = JsonObject();
    JsonSet(succeed, "Type", JsonString("Succeed"));
    JsonSet(states, target, std::move(succeed));
  }
  Json definition = JsonObject();
  JsonSet(definition, "StartAt", JsonString(start));
  JsonSet(definition, "States", std::move(states));
  machine.definition = DumpJson(definition);
  return machine;
}

bool RetryMatches(const Json& retry, const std::string& error) {
  if (!retry.IsArray()) return false;
  for (const Json& retrier : retry.GetArray()) {
    if (!retrier.IsObject()) continue;
    const Json* attempts = JsonFind(retrier, "MaxAttempts");
    if (attempts != nullptr && attempts->IsInt64() && attempts->GetInt64() == 0) continue;
    const Json* errors = JsonFind(retrier, "ErrorEquals");
    if (errors == nullptr || !errors->IsArray()) continue;
    for (const Json& name : errors->GetArray()) {
      if (!name.IsString()) continue;
      const std::string_view text = JsonView(name);
      if (text == error || (text == kStatesAll && error != kStatesRuntime)) return true;
    }
  }
  return false;
}

Inspection InspectDataFlow(const State& state, const Json& input, const Json* result,
                           RandomSource& random) {
  Inspection inspection;
  inspection.input = DumpJson(input);
  Json effective;
  if (state.input_path.set && !state.input_path.path) {
    effective = JsonObject();
  } else if (state.input_path.path) {
    Result<Json> selected = state.input_path.path->Evaluate(input);
    if (!selected.ok()) return inspection;
    effective = std::move(*selected);
  } else {
    effective = CopyJson(input);
  }
  inspection.after_input_path = DumpJson(effective);
  const Json context = JsonObject();
  if (state.parameters) {
    Scope scope;
    scope.input = &effective;
    scope.context = &context;
    Result<Json> built = state.parameters->Evaluate(scope, random);
    if (!built.ok()) return inspection;
    effective = std::move(*built);
  }
  inspection.after_parameters = DumpJson(effective);
  Json value;
  if (state.type == StateType::kPass) {
    value = state.result ? CopyJson(*state.result) : CopyJson(effective);
  } else if (result != nullptr) {
    value = CopyJson(*result);
  } else {
    return inspection;
  }
  inspection.result = DumpJson(value);
  if (state.result_selector) {
    Scope scope;
    scope.input = &value;
    scope.context = &context;
    Result<Json> selected = state.result_selector->Evaluate(scope, random);
    if (!selected.ok()) return inspection;
    value = std::move(*selected);
  }
  inspection.after_result_selector = DumpJson(value);
  Json output;
  if (state.result_path.set && !state.result_path.path) {
    output = CopyJson(input);
  } else if (state.result_path.path) {
    output = CopyJson(input);
    if (!state.result_path.path->Assign(output, std::move(value))) return inspection;
  } else {
    output = std::move(value);
  }
  inspection.after_result_path = DumpJson(output);
  return inspection;
}

}  // namespace switchyard::asl
