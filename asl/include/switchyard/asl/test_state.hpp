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
// The resource a mocked state runs as (TestState's `mock`): a driver answers it with the mock.
inline constexpr std::string_view kTestMockResource = "arn:aws:states:::switchyard:testState.mock";

struct TestMachine {
  std::string definition;            // a whole state machine (JSON text)
  std::string state_name;            // the tested state's name in it
  std::vector<std::string> targets;  // the states it may go to (Succeed stand-ins)
  Json retry;                        // the state's Retry (an array, or null)
};

// `state` is the state's JSON object. `variables` (an object, or null) are assigned by a Pass
// state that runs first. `mocked`: the state (a Task, Map or Parallel) becomes a Task on
// kTestMockResource that keeps its data flow (InputPath, Parameters of a Task or Parallel,
// Arguments, ResultSelector, ResultPath, OutputPath, Output, Assign), Catch and transitions, so
// the mocked result flows on as the state's own would. Error{"InvalidDefinition", why} when
// `state` is not an object with a Type.
Result<TestMachine> WrapStateForTest(const Json& state, const Json& variables, bool mocked = false);

// TestState's stateName: the state called `state_name` in a whole machine definition (its top
// level, or inside a Parallel branch or a Map processor, searched without recursion); nullptr
// when there is none or `definition` has no States object.
const Json* FindStateForTest(const Json& definition, std::string_view state_name);

// What the state's `Retry` (an array, or null) does with `error` after `retry_count` retries.
// ASL: the first retrier whose ErrorEquals names the error (States.ALL: any error but
// States.Runtime) applies; it retries while retry_count < MaxAttempts (default 3), after
// IntervalSeconds (1) × BackoffRate (2.0)^retry_count seconds, at most MaxDelaySeconds.
struct RetryDecision {
  int64_t retrier_index = 0;
  int64_t backoff_seconds = 0;
};
std::optional<RetryDecision> DecideRetry(const Json& retry, const std::string& error,
                                         int64_t retry_count);
// True when DecideRetry(retry, error, 0) retries.
bool RetryMatches(const Json& retry, const std::string& error);
// The index of the first catcher in `catchers` (a state's Catch array, or null) whose
// ErrorEquals names `error`; nullopt when none does.
std::optional<int64_t> CatchIndex(const Json& catchers, const std::string& error);

// TestState's `context` (a Context object for the tested state, given with a mock) checked as AWS
// checks it: an object whose members are among Execution {Id, Input, Name, RoleArn, StartTime,
// RedriveCount, RedriveTime}, State {EnteredTime, Name, RetryCount}, StateMachine {Id, Name} and
// Task {Token}, the text ones strings, Task only for a Task state whose Resource ends in ".sync"
// or ".waitForTaskToken", and no Map. nullopt when it is acceptable, else AWS's
// ValidationException message ("Invalid Context object provided: ...").
std::optional<std::string> CheckTestContext(const Json& context, const Json& state);

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
// `context` is the Context object $$ refers to (an object; TestState's `context`, else empty).
Inspection InspectDataFlow(const State& state, const Json& input, const Json* result,
                           RandomSource& random, const Json* context = nullptr);

}  // namespace switchyard::asl
