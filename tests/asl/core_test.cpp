#include "switchyard/asl/core.hpp"

#include <gtest/gtest.h>

#include "core_fake_driver.hpp"
#include "switchyard/asl/definition.hpp"

namespace switchyard::asl {
namespace {

constexpr int64_t kT0 = testing::kFakeStart;

StateMachineDef Parse(std::string_view text) {
  ParseResult parsed = ParseDefinition(text);
  EXPECT_TRUE(parsed.ok());
  return parsed.ok() ? std::move(*parsed.definition) : StateMachineDef{};
}

std::string Render(const Step& step) {
  std::string text;
  for (const auto& event : step.history) (text += event.type) += " ";
  for (const auto& command : step.commands) {
    switch (command.kind) {
      case Command::Kind::kInvokeTask:
        text += "!invoke:" + command.resource + ":" + DumpJson(command.payload) + " ";
        break;
      case Command::Kind::kStartTimer:
        text += "!timer:" + std::to_string((command.fire_at - kT0) / 1000000000) + " ";
        break;
      case Command::Kind::kCancelTask:
        text += "!cancel-task ";
        break;
      case Command::Kind::kCancelTimer:
        text += "!cancel-timer ";
        break;
      case Command::Kind::kFinish:
        text += "!finish:" + std::string(ExecutionStatusName(command.status)) + " ";
        break;
    }
  }
  return text;
}

std::string FirstTaskId(const Step& step) {
  for (const auto& command : step.commands) {
    if (command.kind == Command::Kind::kInvokeTask) return command.task_id;
  }
  return "";
}

constexpr std::string_view kTaskMachine = R"({"StartAt": "T", "States": {"T": {
    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"a.$": "$.a"},
    "HeartbeatSeconds": 5, "TimeoutSeconds": 60, "End": true}}})";

TEST(CoreTest, StartedInvokesTaskWithTimeoutAndHeartbeat) {
  StateMachineDef definition = Parse(kTaskMachine);
  ExecutionState state;
  Step step = Apply(definition, state, Event::Started(*ParseJson(R"({"a": 3})"), "e", "m", 1), kT0);
  EXPECT_EQ(Render(step),
            "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted "
            "!timer:31536000 !invoke:arn:aws:states:::lambda:invoke:{\"a\":3} ");
  ASSERT_EQ(step.commands.size(), 2u);  // a Standard execution's 1-year limit, the task
  EXPECT_EQ(step.commands[1].timeout_seconds, 60);
  EXPECT_EQ(step.commands[1].heartbeat_seconds, 5);
  EXPECT_TRUE(step.commands[1].token.empty());
  EXPECT_EQ(state.status(), ExecutionStatus::kRunning);
}

TEST(CoreTest, UnknownAndLateEventsAreIgnored) {
  StateMachineDef definition = Parse(kTaskMachine);
  ExecutionState state;
  Step started =
      Apply(definition, state, Event::Started(*ParseJson(R"({"a": 1})"), "e", "m", 1), kT0);
  std::string task_id = FirstTaskId(started);
  EXPECT_EQ(Render(Apply(definition, state, Event::TaskSucceeded("no-such-task", JsonInt(1)), kT0)),
            "");
  EXPECT_EQ(Render(Apply(definition, state, Event::TimerFired("no-such-timer"), kT0)), "");
  EXPECT_EQ(Render(Apply(definition, state, Event::Heartbeat(task_id), kT0)), "");
  EXPECT_EQ(Render(Apply(definition, state, Event::TaskSucceeded(task_id, JsonInt(1)), kT0)),
            "TaskSucceeded TaskStateExited ExecutionSucceeded !cancel-timer !finish:SUCCEEDED ");
  EXPECT_EQ(state.status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(Render(Apply(definition, state, Event::TaskSucceeded(task_id, JsonInt(1)), kT0)), "");
  EXPECT_EQ(Render(Apply(definition, state, Event::StopRequested("E", "c"), kT0)), "");
}

TEST(CoreTest, StopCancelsTaskInFlight) {
  StateMachineDef definition = Parse(kTaskMachine);
  ExecutionState state;
  (void)Apply(definition, state, Event::Started(*ParseJson(R"({"a": 1})"), "e", "m", 1), kT0);
  Step step = Apply(definition, state, Event::StopRequested("Stop", "by user"), kT0);
  EXPECT_EQ(Render(step), "ExecutionAborted !cancel-task !cancel-timer !finish:ABORTED ");
  EXPECT_EQ(*step.commands.back().error, "Stop");
  EXPECT_EQ(*step.commands.back().cause, "by user");
}

TEST(CoreTest, HeartbeatTimeoutIsCatchable) {
  StateMachineDef definition = Parse(R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "HeartbeatSeconds": 5,
            "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "H"}], "End": true},
      "H": {"Type": "Pass", "End": true}}})");
  ExecutionState state;
  Step started = Apply(definition, state, Event::Started(*ParseJson("{}"), "e", "m", 1), kT0);
  Step step = Apply(definition, state, Event::HeartbeatTimedOut(FirstTaskId(started)), kT0);
  EXPECT_EQ(Render(step),
            "TaskTimedOut TaskStateExited PassStateEntered PassStateExited ExecutionSucceeded "
            "!cancel-timer !finish:SUCCEEDED ");
  EXPECT_EQ(DumpJson(step.commands.back().output),
            R"({"Error":"States.HeartbeatTimeout","Cause":""})");
}

TEST(CoreTest, CallbackTaskWaitsForItsToken) {
  StateMachineDef definition = Parse(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
      "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
      "Parameters": {"t.$": "$$.Task.Token"}, "End": true}}})");
  ExecutionState state;
  Step started = Apply(definition, state, Event::Started(*ParseJson("{}"), "e", "m", 7), kT0);
  ASSERT_EQ(started.commands.size(), 2u);
  const Command& invoke = started.commands[1];
  ASSERT_FALSE(invoke.token.empty());
  EXPECT_EQ(DumpJson(invoke.payload), "{\"t\":\"" + invoke.token + "\"}");
  // The invocation returning does not complete a callback task.
  EXPECT_EQ(Render(Apply(definition, state, Event::TaskSucceeded(invoke.task_id, JsonInt(1)), kT0)),
            "");
  Event wrong = Event::TaskSucceeded("", JsonInt(2));
  wrong.token = "not-the-token";
  EXPECT_EQ(Render(Apply(definition, state, wrong, kT0)), "");
  Event reply = Event::TaskSucceeded("", JsonInt(3));
  reply.token = invoke.token;
  Step done = Apply(definition, state, reply, kT0);
  EXPECT_EQ(Render(done),
            "TaskSucceeded TaskStateExited ExecutionSucceeded !cancel-timer !finish:SUCCEEDED ");
  EXPECT_EQ(DumpJson(done.commands.back().output), "3");
}

TEST(CoreTest, SameSeedSameTokenAndUuid) {
  StateMachineDef definition = Parse(R"j({"StartAt": "P", "States": {"P": {"Type": "Pass",
      "Parameters": {"u.$": "States.UUID()", "r.$": "States.MathRandom(0, 1000000)"},
      "End": true}}})j");
  auto run = [&](uint64_t seed) {
    ExecutionState state;
    Step step = Apply(definition, state, Event::Started(*ParseJson("{}"), "e", "m", seed), kT0);
    return DumpJson(step.commands.back().output);
  };
  EXPECT_EQ(run(11), run(11));
  EXPECT_NE(run(11), run(12));
}

TEST(CoreTest, SnapshotRoundTripIsByteStableAndResumable) {
  StateMachineDef definition = Parse(R"({"StartAt": "M", "States": {"M": {"Type": "Map",
      "MaxConcurrency": 2, "ItemProcessor": {"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 3, "Next": "P"},
        "P": {"Type": "Pass", "Assign": {"v.$": "$"}, "End": true}}},
      "Retry": [{"ErrorEquals": ["States.ALL"]}], "End": true}}})");
  ExecutionState state;
  Step started =
      Apply(definition, state, Event::Started(*ParseJson("[1, 2, 3]"), "e", "m", 5), kT0);
  std::string text = DumpJson(state.ToJson());
  auto restored = ExecutionState::FromJson(*ParseJson(text));
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(DumpJson(restored->ToJson()), text);
  ExecutionState copy = state;  // copies are independent values
  EXPECT_EQ(DumpJson(copy.ToJson()), text);

  std::vector<std::string> timers;
  for (const auto& command : started.commands) {
    if (command.kind == Command::Kind::kStartTimer) timers.push_back(command.timer_id);
  }
  ASSERT_EQ(timers.size(), 3u);  // the execution's limit, two iterations' Waits
  timers.erase(timers.begin());
  Step a = Apply(definition, state, Event::TimerFired(timers[0]), kT0 + 3000000000);
  Step b = Apply(definition, *restored, Event::TimerFired(timers[0]), kT0 + 3000000000);
  EXPECT_EQ(Render(a), Render(b));
  EXPECT_EQ(DumpJson(state.ToJson()), DumpJson(restored->ToJson()));
  EXPECT_EQ(DumpJson(copy.ToJson()), text);
}

TEST(CoreTest, MalformedSnapshotIsRejected) {
  auto restored = ExecutionState::FromJson(*ParseJson(R"({"status": "RUNNING"})"));
  ASSERT_FALSE(restored.ok());
  EXPECT_EQ(restored.error().error, "States.Runtime");
}

TEST(CoreTest, HistoryEventRendersAwsShape) {
  StateMachineDef definition = Parse(R"({"StartAt": "P", "States": {"P": {"Type": "Pass",
      "End": true}}})");
  ExecutionState state;
  Step step = Apply(definition, state, Event::Started(*ParseJson(R"({"a":1})"), "e", "m", 1), kT0);
  ASSERT_EQ(step.history.size(), 4u);
  EXPECT_EQ(DumpJson(step.history[1].ToJson()),
            R"({"id":2,"previousEventId":1,"timestamp":"2023-11-14T22:13:20.000Z",)"
            R"("type":"PassStateEntered","stateEnteredEventDetails":{"name":"P",)"
            R"("input":"{\"a\":1}","inputDetails":{"truncated":false}}})");
  EXPECT_EQ(DumpJson(step.history[0].Details()),
            R"({"input":"{\"a\":1}","inputDetails":{"truncated":false},)"
            R"("roleArn":"arn:aws:iam::111111111111:role/switchyard-execution"})");
  EXPECT_EQ(DumpJson(step.history[2].Details()),
            R"({"name":"P","output":"{\"a\":1}","outputDetails":{"truncated":false}})");
  EXPECT_EQ(DumpJson(step.history[3].ToJson()),
            R"({"id":4,"previousEventId":3,"timestamp":"2023-11-14T22:13:20.000Z",)"
            R"("type":"ExecutionSucceeded","executionSucceededEventDetails":)"
            R"({"output":"{\"a\":1}","outputDetails":{"truncated":false}}})");
  EXPECT_EQ(state.history_size(), 4);
}

}  // namespace
}  // namespace switchyard::asl
