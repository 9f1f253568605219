// The core's activity tasks (Activity* history, a token per task, ActivityStarted from the
// driver) and redrive (ExecutionRedriven, the failed state entered again, snapshots).
#include <gtest/gtest.h>

#include "core_fake_driver.hpp"
#include "switchyard/asl/core.hpp"
#include "switchyard/asl/definition.hpp"

namespace switchyard::asl {
namespace {

constexpr int64_t kT0 = 1700000000LL * 1000000000;
constexpr std::string_view kActivity = "arn:aws:states:us-east-1:000000000000:activity:work";

StateMachineDef Parse(std::string_view text) { return testing::ParseValid(text); }

std::string Types(const Step& step) {
  std::string text;
  for (const auto& event : step.history) {
    if (!text.empty()) text += ' ';
    text += event.type;
  }
  return text;
}

const Command* Invoke(const Step& step) {
  for (const auto& command : step.commands) {
    if (command.kind == Command::Kind::kInvokeTask) return &command;
  }
  return nullptr;
}

// A snapshot round trip, as a durable driver does between events.
void Reload(ExecutionState& state) {
  const std::string text = DumpJson(state.ToJson());
  auto loaded = ExecutionState::FromJson(*ParseJson(text));
  ASSERT_TRUE(loaded.ok());
  state = std::move(loaded).value();
  EXPECT_EQ(DumpJson(state.ToJson()), text);
}

TEST(CoreActivityTest, ScheduledStartedSucceeded) {
  EXPECT_TRUE(IsActivityResource(kActivity));
  EXPECT_FALSE(IsActivityResource("arn:aws:states:us-east-1:000000000000:stateMachine:x"));
  EXPECT_FALSE(IsActivityResource("arn:aws:states:us-east-1:000000000000:activity:"));
  StateMachineDef definition = Parse(R"({"StartAt": "A", "States": {"A": {"Type": "Task",
      "Resource": ")" + std::string(kActivity) +
                                     R"(", "HeartbeatSeconds": 5, "End": true}}})");
  ExecutionState state;
  Step step = Apply(definition, state, Event::Started(*ParseJson(R"({"x":1})"), "e", "m", 1), kT0);
  EXPECT_EQ(Types(step), "ExecutionStarted TaskStateEntered ActivityScheduled");
  const Command* invoke = Invoke(step);
  ASSERT_NE(invoke, nullptr);
  EXPECT_EQ(invoke->resource, kActivity);
  EXPECT_EQ(invoke->token.size(), 32u);
  EXPECT_EQ(invoke->heartbeat_seconds, 5);
  EXPECT_EQ(
      DumpJson(step.history.back().Details()),
      R"({"resource":")" + std::string(kActivity) +
          R"(","input":"{\"x\":1}","inputDetails":{"truncated":false},"heartbeatInSeconds":5})");
  const std::string task_id = invoke->task_id;
  const std::string token = invoke->token;
  Reload(state);
  step = Apply(definition, state, Event::ActivityStarted(task_id, "w1"), kT0 + 1);
  EXPECT_EQ(Types(step), "ActivityStarted");
  EXPECT_EQ(DumpJson(step.history.back().Details()), R"({"workerName":"w1"})");
  // Only the callback (by token) completes an activity task.
  EXPECT_EQ(Types(Apply(definition, state, Event::TaskSucceeded(task_id, JsonInt(1)), kT0 + 2)),
            "");
  Event success = Event::TaskSucceeded("", *ParseJson(R"({"y":2})"));
  success.token = token;
  step = Apply(definition, state, std::move(success), kT0 + 3);
  EXPECT_EQ(Types(step), "ActivitySucceeded TaskStateExited ExecutionSucceeded");
}

TEST(CoreActivityTest, TimeoutsAreActivityTimedOut) {
  StateMachineDef definition = Parse(R"({"StartAt": "A", "States": {"A": {"Type": "Task",
      "Resource": ")" + std::string(kActivity) +
                                     R"(", "End": true}}})");
  ExecutionState state;
  Step step = Apply(definition, state, Event::Started(JsonObject(), "e", "m", 1), kT0);
  const std::string task_id = Invoke(step)->task_id;
  step = Apply(definition, state, Event::HeartbeatTimedOut(task_id), kT0 + 1);
  EXPECT_EQ(Types(step), "ActivityTimedOut ExecutionFailed");
  EXPECT_EQ(DumpJson(step.history.front().Details()), R"({"error":"States.HeartbeatTimeout"})");
}

TEST(CoreRedriveTest, AFailedTaskIsEnteredAgainWithItsVariables) {
  StateMachineDef definition = Parse(R"({"StartAt": "P", "States": {
      "P": {"Type": "Pass", "Assign": {"v": 7}, "Next": "T"},
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Q"},
      "Q": {"Type": "Pass", "Parameters": {"v.$": "$v", "r.$": "$$.Execution.RedriveCount"},
            "End": true}}})");
  ExecutionState state;
  Step step = Apply(definition, state, Event::Started(*ParseJson(R"({"in":1})"), "e", "m", 1), kT0);
  // Not ended: a redrive is ignored.
  EXPECT_EQ(Types(Apply(definition, state, Event::Redriven(JsonObject()), kT0)), "");
  step = Apply(definition, state, Event::TaskFailed(Invoke(step)->task_id, "E", "c"), kT0 + 1);
  EXPECT_EQ(state.status(), ExecutionStatus::kFailed);
  EXPECT_EQ(state.redrive_entered_event_id(), 4);  // TaskStateEntered of T
  EXPECT_EQ(state.redrive_refusal(), "");
  Reload(state);
  step = Apply(definition, state, Event::Redriven(*ParseJson(R"({"in":1})")), kT0 + 2);
  EXPECT_EQ(Types(step), "ExecutionRedriven TaskStateEntered TaskScheduled TaskStarted");
  EXPECT_EQ(DumpJson(step.history.front().Details()), R"({"redriveCount":1})");
  EXPECT_EQ(state.status(), ExecutionStatus::kRunning);
  EXPECT_EQ(state.redrive_entered_event_id(), 0);
  EXPECT_EQ(DumpJson(Invoke(step)->payload), R"({"in":1})");
  Reload(state);
  step =
      Apply(definition, state, Event::TaskSucceeded(Invoke(step)->task_id, JsonObject()), kT0 + 3);
  EXPECT_EQ(state.status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(DumpJson(step.commands.back().output), R"({"v":7,"r":1})");
  EXPECT_EQ(state.redrive_count(), 1);
}

TEST(CoreRedriveTest, AFailedParallelIsRefused) {
  StateMachineDef definition = Parse(R"({"StartAt": "P", "States": {"P": {"Type": "Parallel",
      "End": true, "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail"}}}]}}})");
  ExecutionState state;
  (void)Apply(definition, state, Event::Started(JsonObject(), "e", "m", 1), kT0);
  EXPECT_EQ(state.status(), ExecutionStatus::kFailed);
  EXPECT_EQ(state.redrive_entered_event_id(), 0);
  EXPECT_EQ(state.redrive_refusal(),
            "Redriving the branches or iterations of the Parallel state 'P' is not supported.");
  Reload(state);
  EXPECT_EQ(Types(Apply(definition, state, Event::Redriven(JsonObject()), kT0 + 1)), "");
}

}  // namespace
}  // namespace switchyard::asl
