#include "switchyard/asl/core.hpp"

#include <gtest/gtest.h>

#include <map>

#include "core_fake_driver.hpp"
#include "switchyard/asl/definition.hpp"

namespace switchyard::asl {
namespace {

constexpr int64_t kT0 = testing::kFakeStart;

StateMachineDef Parse(std::string_view text) { return testing::ParseValid(text); }

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

// DetailsText writes what DumpJson(Details()) writes, with or without details_json, whatever
// the name and payload hold (quotes, control characters, ill-formed UTF-8).
TEST(CoreTest, HistoryEventDetailsTextIsDetailsDumped) {
  std::vector<HistoryEvent> events(6);
  events[0].state_name = "A \"quoted\" \x01 name";
  events[0].payload_field = "input";
  events[0].payload_text = R"({"k":"v\u00e9","bad":")"
                           "\xff\xfe"
                           R"("})";
  events[1].payload_field = "output";
  events[1].payload_text = "{}";
  events[2].state_name = "only a name";
  events[3].details_json = R"({"resource":"arn:x","name":"n"})";
  events[3].payload_field = "input";
  events[3].payload_text = "[1,2]";
  events[4].details_json = R"({"name":"first","outputDetails":{"truncated":true}})";
  events[4].payload_field = "output";
  events[4].payload_text = "\"s\"";
  // events[5]: nothing at all.
  for (const auto& event : events) {
    EXPECT_EQ(event.DetailsText(), DumpJson(event.Details())) << event.state_name;
  }
  EXPECT_EQ(events[1].DetailsText(), R"({"output":"{}","outputDetails":{"truncated":false}})");
  EXPECT_EQ(events[5].DetailsText(), "{}");
}

// ---- AWS's limits ------------------------------------------------------------------------------

// `passes` Pass states in a row, then a Fail state when `fail` (2 events per Pass, 1 for the Fail;
// plus ExecutionStarted and the execution's end).
StateMachineDef PassChain(int passes, bool fail) {
  std::string text = R"({"StartAt": "P0", "States": {)";
  for (int i = 0; i < passes; ++i) {
    text += "\"P" + std::to_string(i) + "\": {\"Type\": \"Pass\", ";
    if (i + 1 < passes) {
      text += "\"Next\": \"P" + std::to_string(i + 1) + "\"}, ";
    } else if (fail) {
      text += R"("Next": "F"}, "F": {"Type": "Fail", "Error": "Boom", "Cause": "on purpose"}, )";
    } else {
      text += "\"End\": true}, ";
    }
  }
  text.resize(text.size() - 2);
  text += "}}";
  return Parse(text);
}

constexpr std::string_view kLimitCause =
    "The execution reached the maximum number of history events (25000).";

testing::FakeRun RunFake(const StateMachineDef& definition, std::string_view input,
                         ExecutionType type = ExecutionType::kStandard, bool crash = false) {
  return testing::RunWithFakeDriver(definition, *ParseJson(input), nullptr, crash, std::nullopt,
                                    type);
}

std::string LastLine(const std::string& text, int from_end) {
  std::size_t end = text.size();
  for (int i = 0; i < from_end; ++i) end = text.rfind('\n', end - 1);
  std::size_t begin = text.rfind('\n', end - 1);
  begin = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(begin, end - begin);
}

TEST(CoreLimitsTest, StandardHistoryBelowTheLimitRunsNormally) {
  // 1 + 2 * 12,498 + 2 = 24,999 events: the Fail state's own error.
  testing::FakeRun run = RunFake(PassChain(12498, true), "{}");
  EXPECT_EQ(run.history_types.size(), 24999u);
  EXPECT_EQ(run.status, ExecutionStatus::kFailed);
  EXPECT_EQ(run.error, "Boom");
  EXPECT_EQ(run.history_types.back(), "ExecutionFailed");
}

TEST(CoreLimitsTest, StandardHistoryOfExactlyTheLimitSucceeds) {
  // 1 + 2 * 12,499 + 1 = 25,000 events, the last of them ExecutionSucceeded.
  testing::FakeRun run = RunFake(PassChain(12499, false), R"({"a":1})");
  EXPECT_EQ(run.history_types.size(), 25000u);
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(run.output, R"({"a":1})");
}

TEST(CoreLimitsTest, StandardHistoryPastTheLimitFailsAtEvent25000) {
  // It would take 25,001 events: the FailStateEntered that would be the 25,000th is not recorded.
  testing::FakeRun run = RunFake(PassChain(12499, true), "{}");
  ASSERT_EQ(run.history_types.size(), 25000u);
  EXPECT_EQ(run.status, ExecutionStatus::kFailed);
  EXPECT_EQ(run.error, "States.Runtime");
  EXPECT_EQ(run.cause, kLimitCause);
  EXPECT_EQ(run.history_types[24998], "PassStateExited");
  EXPECT_EQ(LastLine(run.history_text, 1),
            R"({"id":25000,"previousEventId":24999,"timestamp":"2023-11-14T22:13:20.000Z",)"
            R"("type":"ExecutionFailed","executionFailedEventDetails":{"error":"States.Runtime",)"
            R"("cause":"The execution reached the maximum number of history events (25000)."}})");
}

TEST(CoreLimitsTest, ExpressHasNoHistoryLimit) {
  testing::FakeRun run = RunFake(PassChain(12499, true), "{}", ExecutionType::kExpress);
  EXPECT_EQ(run.history_types.size(), 25001u);
  EXPECT_EQ(run.error, "Boom");
  // 20,000 states: 40,002 events (the chain yields to the driver every few thousand events).
  StateMachineDef chain = PassChain(20000, false);
  testing::FakeRun longer = RunFake(chain, "[]", ExecutionType::kExpress);
  EXPECT_EQ(longer.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(longer.history_types.size(), 40002u);
  testing::FakeRun standard = RunFake(chain, "[]");
  EXPECT_EQ(standard.status, ExecutionStatus::kFailed);
  EXPECT_EQ(standard.cause, kLimitCause);
  EXPECT_EQ(standard.history_types.size(), 25000u);
}

constexpr std::string_view kEndlessChoice = R"({"StartAt": "Loop", "States": {
    "Loop": {"Type": "Choice", "Choices": [{"Variable": "$.spin", "BooleanEquals": true,
             "Next": "Loop"}], "Default": "Done"},
    "Done": {"Type": "Succeed"}}})";

TEST(CoreLimitsTest, EndlessChoiceLoopFailsCleanlyAtTheLimit) {
  // AWS's recorded shape: event 24,999 is the last ChoiceStateExited, 25,000 ExecutionFailed.
  StateMachineDef definition = Parse(kEndlessChoice);
  for (bool crash : {false, true}) {
    testing::FakeRun run = RunFake(definition, R"({"spin":true})", ExecutionType::kStandard, crash);
    EXPECT_TRUE(run.snapshots_stable);
    ASSERT_EQ(run.history_types.size(), 25000u);
    EXPECT_EQ(run.status, ExecutionStatus::kFailed);
    EXPECT_EQ(run.error, "States.Runtime");
    EXPECT_EQ(run.cause, kLimitCause);
    EXPECT_EQ(LastLine(run.history_text, 2),
              R"({"id":24999,"previousEventId":24998,"timestamp":"2023-11-14T22:13:20.000Z",)"
              R"("type":"ChoiceStateExited","stateExitedEventDetails":{"name":"Loop",)"
              R"("output":"{\"spin\":true}","outputDetails":{"truncated":false}}})");
  }
}

TEST(CoreLimitsTest, LimitCancelsWorkInFlightAndStartsNoMore) {
  // A Map launching a Task per item: the limit is reached while it launches them. Every task
  // asked for before the limit is cancelled; none is asked for after it.
  StateMachineDef definition = Parse(R"({"StartAt": "M", "States": {"M": {"Type": "Map",
      "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}, "End": true}}})");
  std::string items = "[";
  for (int i = 0; i < 10000; ++i) items += i == 0 ? "0" : ",0";
  items += "]";
  ExecutionState state;
  Step step = Apply(definition, state, Event::Started(*ParseJson(items), "e", "m", 1), kT0);
  ASSERT_EQ(step.history.size(), 25000u);
  EXPECT_EQ(step.history.back().type, "ExecutionFailed");
  EXPECT_EQ(state.status(), ExecutionStatus::kFailed);
  std::map<std::string, int> tasks;  // task id -> invoked (+1), cancelled (+2)
  int timers = 0;
  for (const Command& command : step.commands) {
    if (command.kind == Command::Kind::kInvokeTask) tasks[command.task_id] += 1;
    if (command.kind == Command::Kind::kCancelTask) tasks[command.task_id] += 2;
    if (command.kind == Command::Kind::kStartTimer) ++timers;
    if (command.kind == Command::Kind::kCancelTimer) --timers;
  }
  EXPECT_GT(tasks.size(), 6000u);  // 4 events per item
  for (const auto& [task_id, seen] : tasks) EXPECT_EQ(seen, 3) << task_id;
  EXPECT_EQ(timers, 0);
  EXPECT_EQ(step.commands.back().kind, Command::Kind::kFinish);
  EXPECT_EQ(step.commands.back().cause, kLimitCause);
  // The execution is over: later events change nothing.
  EXPECT_EQ(Render(Apply(definition, state, Event::TaskSucceeded("task-3", JsonInt(1)), kT0)), "");
}

TEST(CoreLimitsTest, ExpressYieldsInEndlessSynchronousLoops) {
  // An Express execution has no history limit; its 5-minute limit can only fire if time passes,
  // so a loop of synchronous states hands control back to the driver (a timer due at once).
  StateMachineDef definition = Parse(kEndlessChoice);
  ExecutionState state;
  Event started = Event::Started(*ParseJson(R"({"spin":true})"), "e", "m", 1);
  started.execution_type = ExecutionType::kExpress;
  Step step = Apply(definition, state, started, kT0);
  EXPECT_LT(step.history.size(), 10000u);
  ASSERT_EQ(step.commands.size(), 2u);
  EXPECT_EQ(step.commands[0].fire_at, kT0 + int64_t{300} * 1000000000);
  EXPECT_EQ(step.commands[1].kind, Command::Kind::kStartTimer);
  EXPECT_EQ(step.commands[1].fire_at, kT0);
  // The driver fires it later: the loop goes on from there, and yields again.
  Step next = Apply(definition, state, Event::TimerFired(step.commands[1].timer_id), kT0 + 1000);
  EXPECT_EQ(next.history.front().type, "ChoiceStateEntered");
  EXPECT_EQ(next.history.front().id, static_cast<int64_t>(step.history.size()) + 1);
  ASSERT_EQ(next.commands.size(), 1u);
  // Five minutes on, the execution times out; the pending yield is cancelled.
  Step end = Apply(definition, state, Event::TimerFired(step.commands[0].timer_id),
                   kT0 + int64_t{300} * 1000000000);
  EXPECT_EQ(Render(end), "ExecutionTimedOut !cancel-timer !finish:TIMED_OUT ");
  EXPECT_EQ(state.status(), ExecutionStatus::kTimedOut);
}

TEST(CoreLimitsTest, ExecutionTypeSurvivesSnapshots) {
  StateMachineDef definition = Parse(kEndlessChoice);
  ExecutionState state;
  Event started = Event::Started(*ParseJson(R"({"spin":true})"), "e", "m", 1);
  started.execution_type = ExecutionType::kExpress;
  (void)Apply(definition, state, started, kT0);
  auto restored = ExecutionState::FromJson(state.ToJson());
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(JsonView(*JsonFind(restored->ToJson(), "type")), "EXPRESS");
  EXPECT_EQ(ParseExecutionType("STANDARD"), ExecutionType::kStandard);
  EXPECT_EQ(ParseExecutionType("express"), std::nullopt);
}

}  // namespace
}  // namespace switchyard::asl
