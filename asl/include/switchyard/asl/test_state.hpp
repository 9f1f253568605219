#pragma once
// TestState's pure half: one state taken on its own (AWS Step Functions TestState).
//
// A driver runs the state as a small machine built by WrapStateForTest (the state, with its Retry
// removed, followed by a Succeed state for every state it may go to next), then reads the outcome
// from the history; RetryMatches tells a failure TestState reports RETRIABLE; InspectDataFlow
// computes the DEBUG inspection data of a JSONPath-mode state from its input and its result.
// Pure: no clock, no I/O. Thread model: plain functions.
#include <optional>
#include <string>
#include <vector>

#include "switchyard/asl/definition.hpp"
#include "switchyard/asl/json.hpp"
#include "switchyard/asl/result.hpp"

namespace switchyard::asl {

inline constexpr std::string_view kTestStateName = "TestState";

struct TestMachine {
  std::string definition;            // a whole state machine (JSON text)
  std::string state_name;            // the tested state's name in it
  std::vector<std::string> targets;  // the states it may go to (Succeed stand-ins)
  Json retry;                        // the state's Retry (an array, or null)
};

// `state` is the state's JSON object. `variables` (an object, or null) are assigned by a Pass
// state that runs first. Error{"InvalidDefinition", why} when `state` is not an object with a
// Type.
Result<TestMachine> WrapStateForTest(const Json& state, const Json& variables);

// True when the `Retry` array (of the state's JSON) has a retrier for `error` with attempts left.
// ASL: States.ALL matches every error but States.Runtime; MaxAttempts 0 never retries.
bool RetryMatches(const Json& retry, const std::string& error);

// DEBUG inspection of a JSONPath-mode state: each step of its data flow, as JSON text, up to the
// first that fails (later ones nullopt). `result` is the task's result (Task) or nullptr.
struct Inspection {
  std::optional<std::string> input;
  std::optional<std::string> after_input_path;
  std::optional<std::string> after_parameters;
  std::optional<std::string> result;
  std::optional<std::string> after_result_selector;
  std::optional<std::string> after_result_path;
};
Inspection InspectDataFlow(const State& state, const Json& input, const Json* result,
                           RandomSource& random);

}  // namespace switchyard::asl
