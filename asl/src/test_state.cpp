#include "switchyard/asl/test_state.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "switchyard/asl/names.hpp"

namespace switchyard::asl {

namespace {

void AddTarget(std::vector<std::string>& targets, const Json* next) {
  if (next == nullptr || !next->IsString()) return;
  std::string name(JsonView(*next));
  if (std::find(targets.begin(), targets.end(), name) == targets.end()) targets.push_back(name);
}

// ASL: an ErrorEquals list names `error` (States.ALL: any error but States.Runtime).
bool NamesError(const Json& item, const std::string& error) {
  if (!item.IsObject()) return false;
  const Json* errors = JsonFind(item, "ErrorEquals");
  if (errors == nullptr || !errors->IsArray()) return false;
  for (const Json& name : errors->GetArray()) {
    if (!name.IsString()) continue;
    const std::string_view text = JsonView(name);
    if (text == error || (text == kStatesAll && error != kStatesRuntime)) return true;
  }
  return false;
}

double NumberOr(const Json& object, std::string_view key, double fallback) {
  const Json* value = JsonFind(object, key);
  return value != nullptr && value->IsNumber() ? value->GetDouble() : fallback;
}

// A mocked state as a Task on the mock resource: what a Map or Parallel does with its input
// (items, branches, their selectors and limits) is replaced by the mock's result.
Json MockedState(const Json& state) {
  static constexpr std::string_view kDropped[] = {"Resource",
                                                  "Branches",
                                                  "ItemsPath",
                                                  "Items",
                                                  "ItemSelector",
                                                  "ItemProcessor",
                                                  "Iterator",
                                                  "ItemReader",
                                                  "ItemBatcher",
                                                  "ResultWriter",
                                                  "MaxConcurrency",
                                                  "MaxConcurrencyPath",
                                                  "Label",
                                                  "ToleratedFailureCount",
                                                  "ToleratedFailureCountPath",
                                                  "ToleratedFailurePercentage",
                                                  "ToleratedFailurePercentagePath"};
  const Json* type = JsonFind(state, "Type");
  const bool map = type != nullptr && type->IsString() && JsonView(*type) == "Map";
  Json task = JsonObject();
  for (const auto& member : state.GetObject()) {
    const std::string_view key = JsonView(member.name);
    if (std::find(std::begin(kDropped), std::end(kDropped), key) != std::end(kDropped)) continue;
    // A Map's Parameters select each item (JSONPath), not the state's input.
    if (map && key == "Parameters") continue;
    JsonSet(task, key, CopyJson(member.value));
  }
  JsonSet(task, "Type", JsonString("Task"));
  JsonSet(task, "Resource", JsonString(std::string(kTestMockResource)));
  return task;
}

}  // namespace

const Json* FindStateForTest(const Json& definition, std::string_view state_name) {
  // A worklist of States objects: the machine's, then those of nested branches and processors.
  std::vector<const Json*> pending;
  if (const Json* states = JsonFind(definition, "States");
      states != nullptr && states->IsObject()) {
    pending.push_back(states);
  }
  while (!pending.empty()) {
    const Json* states = pending.back();
    pending.pop_back();
    if (const Json* found = JsonFind(*states, state_name); found != nullptr) return found;
    for (const auto& member : states->GetObject()) {
      const Json& state = member.value;
      if (!state.IsObject()) continue;
      auto add = [&](const Json* machine) {
        if (machine == nullptr || !machine->IsObject()) return;
        const Json* nested = JsonFind(*machine, "States");
        if (nested != nullptr && nested->IsObject()) pending.push_back(nested);
      };
      if (const Json* branches = JsonFind(state, "Branches"); branches && branches->IsArray()) {
        for (const Json& branch : branches->GetArray()) add(&branch);
      }
      add(JsonFind(state, "ItemProcessor"));
      add(JsonFind(state, "Iterator"));
    }
  }
  return nullptr;
}

std::optional<RetryDecision> DecideRetry(const Json& retry, const std::string& error,
                                         int64_t retry_count) {
  if (!retry.IsArray()) return std::nullopt;
  int64_t index = 0;
  for (const Json& retrier : retry.GetArray()) {
    if (NamesError(retrier, error)) {
      const double max_attempts = NumberOr(retrier, "MaxAttempts", 3);
      if (static_cast<double>(retry_count) >= max_attempts) return std::nullopt;
      double backoff =
          NumberOr(retrier, "IntervalSeconds", 1) *
          std::pow(NumberOr(retrier, "BackoffRate", 2.0), static_cast<double>(retry_count));
      if (const Json* cap = JsonFind(retrier, "MaxDelaySeconds"); cap && cap->IsNumber()) {
        backoff = std::min(backoff, cap->GetDouble());
      }
      // A retry waits at most a year (ASL's largest interval) whatever the rate.
      backoff = std::min(backoff, 31622400.0);
      return RetryDecision{index, static_cast<int64_t>(backoff)};
    }
    ++index;
  }
  return std::nullopt;
}

bool RetryMatches(const Json& retry, const std::string& error) {
  return DecideRetry(retry, error, 0).has_value();
}

std::optional<int64_t> CatchIndex(const Json& catchers, const std::string& error) {
  if (!catchers.IsArray()) return std::nullopt;
  int64_t index = 0;
  for (const Json& catcher : catchers.GetArray()) {
    if (NamesError(catcher, error)) return index;
    ++index;
  }
  return std::nullopt;
}

Result<TestMachine> WrapStateForTest(const Json& state, const Json& variables, bool mocked) {
  if (!state.IsObject() || JsonFind(state, "Type") == nullptr) {
    return Error{"InvalidDefinition",
                 "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The state "
                 "definition must be an object with a Type'"};
  }
  TestMachine machine;
  machine.retry = JsonNull();
  Json copy = mocked ? MockedState(state) : CopyJson(state);
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

std::optional<std::string> CheckTestContext(const Json& context, const Json& state) {
  const std::string prefix = "Invalid Context object provided: ";
  if (!context.IsObject()) return prefix + "the Context object must be a JSON object";
  struct Allowed {
    std::string_view object;
    std::vector<std::string_view> strings;  // members that must be strings
    std::vector<std::string_view> others;
  };
  static const Allowed kAllowed[] = {
      {"Execution",
       {"Id", "Name", "RoleArn", "StartTime", "RedriveTime"},
       {"Input", "RedriveCount"}},
      {"State", {"EnteredTime", "Name"}, {"RetryCount"}},
      {"StateMachine", {"Id", "Name"}, {}},
      {"Task", {"Token"}, {}},
  };
  for (const auto& member : context.GetObject()) {
    const std::string_view name = JsonView(member.name);
    if (name == "Map") return prefix + "'Map' field is not supported when mocking a Context object";
    const Allowed* allowed = nullptr;
    for (const Allowed& candidate : kAllowed) {
      if (candidate.object == name) allowed = &candidate;
    }
    if (allowed == nullptr) return prefix + "Field '" + std::string(name) + "' is not allowed";
    if (!member.value.IsObject()) return prefix + std::string(name) + " must be an object";
    for (const auto& field : member.value.GetObject()) {
      const std::string_view key = JsonView(field.name);
      const auto& strings = allowed->strings;
      const bool text = std::find(strings.begin(), strings.end(), key) != strings.end();
      const auto& others = allowed->others;
      if (!text && std::find(others.begin(), others.end(), key) == others.end()) {
        return prefix + "Field '" + std::string(key) + "' is not allowed";
      }
      if (text && !field.value.IsString()) {
        return prefix + std::string(name) + "." + std::string(key) + " must be a string";
      }
    }
  }
  if (JsonFind(context, "Task") != nullptr) {
    const Json* type = state.IsObject() ? JsonFind(state, "Type") : nullptr;
    const Json* resource = state.IsObject() ? JsonFind(state, "Resource") : nullptr;
    const std::string_view text =
        resource != nullptr && resource->IsString() ? JsonView(*resource) : std::string_view();
    const bool task = type != nullptr && type->IsString() && JsonView(*type) == "Task";
    const bool sync = text.ends_with(".sync") || text.find(".sync:") != std::string_view::npos;
    if (!task || !(sync || text.ends_with(".waitForTaskToken"))) {
      return prefix +
             "Context object contains 'Task' when state is not a Task state with a '.sync' or "
             "'.waitForTaskToken' service integration pattern";
    }
  }
  return std::nullopt;
}

Inspection InspectDataFlow(const State& state, const Json& input, const Json* result,
                           RandomSource& random, const Json* given_context) {
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
  const Json empty_context = JsonObject();
  const Json& context = given_context != nullptr ? *given_context : empty_context;
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
