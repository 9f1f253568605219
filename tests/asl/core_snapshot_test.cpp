// Execution snapshots: the compact form (version 2: fields at their default left out, a frame's
// work left out when identical to its input), full-form snapshots of earlier builds (version 1)
// still read, and malformed snapshots refused without a crash.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core_fake_driver.hpp"
#include "switchyard/asl/core.hpp"
#include "switchyard/asl/definition.hpp"

namespace switchyard::asl {
namespace {

using testing::ParseValid;
constexpr int64_t kT0 = testing::kFakeStart;

std::string Render(const Step& step) {
  std::string text;
  for (const auto& event : step.history) text += DumpJson(event.ToJson()) + "\n";
  for (const auto& command : step.commands) {
    text += "command " + std::to_string(static_cast<int>(command.kind)) + " " + command.task_id +
            " " + command.timer_id + " " + std::to_string(command.fire_at) + " " +
            DumpJson(command.payload) + " " + DumpJson(command.output) + "\n";
  }
  return text;
}

std::string Snapshot(const ExecutionState& state) { return DumpJson(state.ToJson()); }

ExecutionState Load(std::string_view text) {
  auto parsed = ParseJson(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  if (!parsed) return ExecutionState{};
  auto loaded = ExecutionState::FromJson(*parsed);
  EXPECT_TRUE(loaded.ok()) << text;
  return loaded.ok() ? std::move(loaded).value() : ExecutionState{};
}

// The benchmark's machine (bench/engine_throughput.cpp, "task").
constexpr std::string_view kThreeTasks = R"({"StartAt": "A", "States": {
    "A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:noop",
          "Next": "B"},
    "B": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:noop",
          "Next": "C"},
    "C": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:noop",
          "End": true}}})";

// A snapshot of that machine waiting for its first Task, as the builds before the compact form
// wrote it (version 1: every field, defaults included).
constexpr std::string_view kOldTaskWaiting =
    R"({"version":1,"status":"RUNNING","type":"STANDARD","started":true,"executionName":"e0",)"
    R"("executionArn":"arn:aws:states:us-east-1:000000000000:execution:t:e0",)"
    R"("stateMachineName":"t","stateMachineArn":"arn:aws:states:us-east-1:000000000000:)"
    R"(stateMachine:t","roleArn":"","executionInput":{},"startTime":1795832617965344877,)"
    R"("prng":14009437492128177750,"lastEventId":4,"nextSerial":3,"executionTimer":true,)"
    R"("frames":[{"id":1,"parent":-1,"kind":0,"index":0,"state":"A","phase":1,"input":{},)"
    R"("work":{},"variables":{},"enteredEventId":2,"enteredTime":1795832617965344877,)"
    R"("attempts":[],"retryCount":0,"taskId":"task-2~1","timerId":"","token":"","fanTotal":0,)"
    R"("fanNext":0,"fanFailed":0,"fanMax":0,"toleratedCount":-1,"toleratedPercentage":-1.0,)"
    R"("children":[],"items":null,"results":null,"fanError":"","fanCause":"","failed":false,)"
    R"("output":null,"error":"","cause":""}]})";

// The same execution, started afresh by this build.
ExecutionState FreshTaskWaiting(const StateMachineDef& definition) {
  ExecutionState state;
  Event started = Event::Started(*ParseJson("{}"), "e0", "t", 14009437492128177750ULL);
  started.execution_arn = "arn:aws:states:us-east-1:000000000000:execution:t:e0";
  started.state_machine_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:t";
  Apply(definition, state, started, 1795832617965344877);
  return state;
}

TEST(SnapshotTest, OldFullFormLoadsAsTheCompactOneAndBehavesTheSame) {
  StateMachineDef definition = ParseValid(kThreeTasks);
  ExecutionState fresh = FreshTaskWaiting(definition);
  ExecutionState old = Load(kOldTaskWaiting);
  const std::string compact = Snapshot(fresh);
  EXPECT_EQ(Snapshot(old), compact);  // read as the compact form of the same state
  ExecutionState reloaded = Load(compact);
  EXPECT_EQ(Snapshot(reloaded), compact);

  // The task's outcome, then the next one's, drive all three alike.
  for (const char* task : {"task-2~1"}) {
    Step a = Apply(definition, old, Event::TaskSucceeded(task, *ParseJson(R"({"r":1})")), kT0);
    Step b = Apply(definition, fresh, Event::TaskSucceeded(task, *ParseJson(R"({"r":1})")), kT0);
    Step c = Apply(definition, reloaded, Event::TaskSucceeded(task, *ParseJson(R"({"r":1})")), kT0);
    EXPECT_EQ(Render(a), Render(b));
    EXPECT_EQ(Render(a), Render(c));
    ASSERT_FALSE(a.commands.empty());
    EXPECT_EQ(a.commands.back().kind, Command::Kind::kInvokeTask);  // B's invocation
  }
  EXPECT_EQ(Snapshot(old), Snapshot(fresh));
  EXPECT_EQ(Snapshot(old), Snapshot(reloaded));
}

TEST(SnapshotTest, CompactFormLeavesDefaultsOut) {
  StateMachineDef definition = ParseValid(kThreeTasks);
  const std::string compact = Snapshot(FreshTaskWaiting(definition));
  // At most half the full form (about 850 bytes; the compact one is about 360).
  EXPECT_LE(compact.size() * 2, kOldTaskWaiting.size()) << compact;
  EXPECT_NE(compact.find(R"("version":2)"), std::string::npos) << compact;
  EXPECT_NE(compact.find(R"("taskId":"task-2~1")"), std::string::npos) << compact;
  EXPECT_NE(compact.find(R"("input":{})"), std::string::npos) << compact;
  for (const char* absent : {"\"status\"",     "\"type\"",           "\"roleArn\"",
                             "\"parent\"",     "\"kind\"",           "\"index\"",
                             "\"work\"",       "\"variables\"",      "\"attempts\"",
                             "\"retryCount\"", "\"timerId\"",        "\"token\"",
                             "\"fanTotal\"",   "\"fanNext\"",        "\"fanFailed\"",
                             "\"fanMax\"",     "\"toleratedCount\"", "\"toleratedPercentage\"",
                             "\"children\"",   "\"items\"",          "\"results\"",
                             "\"fanError\"",   "\"fanCause\"",       "\"failed\"",
                             "\"output\"",     "\"error\"",          "\"cause\"",
                             "\"redrive"}) {
    EXPECT_EQ(compact.find(absent), std::string::npos) << absent << " in " << compact;
  }
}

// Every phase a frame can be snapshotted in: the snapshot survives a round trip byte for byte and
// the reloaded state goes on exactly as the original.
TEST(SnapshotTest, EveryPhaseRoundTripsAndResumesAlike) {
  StateMachineDef definition = ParseValid(R"({"StartAt": "P", "States": {
      "P": {"Type": "Parallel", "Next": "M", "Branches": [
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:f",
          "InputPath": "$.x", "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 2}], "End": true}}},
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}}]},
      "M": {"Type": "Map", "ItemsPath": "$[0].items", "MaxConcurrency": 1,
        "ToleratedFailurePercentage": 50,
        "ItemProcessor": {"StartAt": "V", "States": {
          "V": {"Type": "Pass", "Assign": {"v.$": "$"}, "Next": "T2"},
          "T2": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"t.$": "$$.Task.Token"}, "End": true}}},
        "End": true}}})");
  ExecutionState state;
  Step step = Apply(definition, state,
                    Event::Started(*ParseJson(R"({"x": {"big": 123456789012345678901234567890,
                                                       "d": -0.0, "i": 1.0}, "items": [1, 2]})"),
                                   "e", "m", 7),
                    kT0);
  int64_t now = kT0;
  // Drive it: fail the first Task once (Retry), let the timers fire, answer the callbacks.
  auto check = [&](const char* when) {
    SCOPED_TRACE(when);
    const std::string text = Snapshot(state);
    ExecutionState copy = Load(text);
    EXPECT_EQ(Snapshot(copy), text);
    return copy;
  };
  auto first = [](const Step& s, Command::Kind kind) -> const Command* {
    for (const auto& command : s.commands) {
      if (command.kind == kind && command.timer_id != "execution-timeout") return &command;
    }
    return nullptr;
  };
  ExecutionState copy = check("task and wait in flight");
  const Command* invoke = first(step, Command::Kind::kInvokeTask);
  const Command* wait = first(step, Command::Kind::kStartTimer);
  ASSERT_NE(invoke, nullptr);
  ASSERT_NE(wait, nullptr);
  // InputPath: the Task's work differs from its input, and it round-trips.
  EXPECT_NE(Snapshot(state).find("\"work\":"), std::string::npos);
  EXPECT_NE(Snapshot(state).find("123456789012345678901234567890"), std::string::npos);
  const std::string task_id = invoke->task_id;
  const std::string wait_id = wait->timer_id;
  auto both = [&](const Event& event) {
    Step a = Apply(definition, state, event, now);
    Step b = Apply(definition, copy, event, now);
    EXPECT_EQ(Render(a), Render(b));
    EXPECT_EQ(Snapshot(state), Snapshot(copy));
    copy = check("after an event");
    return a;
  };
  Step failed = both(Event::TaskFailed(task_id, "E", "once"));
  const Command* retry = first(failed, Command::Kind::kStartTimer);
  ASSERT_NE(retry, nullptr);  // phase kRetry
  now += 2 * 1000000000LL;
  Step again = both(Event::TimerFired(retry->timer_id));
  const Command* invoke2 = first(again, Command::Kind::kInvokeTask);
  ASSERT_NE(invoke2, nullptr);
  both(Event::TaskSucceeded(invoke2->task_id, *ParseJson(R"({"items": [1, 2]})")));
  now += 5 * 1000000000LL;
  Step mapped = both(Event::TimerFired(wait_id));  // the Parallel ends, the Map starts
  for (int i = 0; i < 2; ++i) {
    const Command* callback = first(mapped, Command::Kind::kInvokeTask);
    ASSERT_NE(callback, nullptr);
    const std::string token = callback->token;
    ASSERT_FALSE(token.empty());
    Event answer = i == 0 ? Event::TaskFailed("", "X", "no") : Event::TaskSucceeded("", Json());
    answer.token = token;
    mapped = both(answer);
  }
  EXPECT_EQ(state.status(), ExecutionStatus::kSucceeded) << Snapshot(state);
  const std::string done = Snapshot(state);
  EXPECT_NE(done.find(R"("status":"SUCCEEDED")"), std::string::npos) << done;
}

TEST(SnapshotTest, WorkIsLeftOutOnlyWhenIdenticalToInput) {
  // Absent work reads as a copy of input; a null work next to an input is kept.
  const std::string head =
      R"({"version":2,"started":true,"nextSerial":2,"frames":[{"id":1,"state":"A","phase":1,)"
      R"("input":{"a":[1,2.5,"s"]})";
  const std::string tail = R"(,"taskId":"task-2~1"}]})";
  for (const std::string work :
       {"", R"(,"work":null)", R"(,"work":{"a":[1,2.5]})", R"(,"work":{"a":[1,2.50,"s"]})",
        R"(,"work":{"a":[1.0,2.5,"s"]})", R"(,"work":{"a":[1,2.5,"s"],"b":1})"}) {
    const std::string text = head + work + tail;
    ExecutionState state = Load(text);
    if (work == R"(,"work":{"a":[1,2.50,"s"]})") {
      EXPECT_EQ(Snapshot(state), head + tail);  // the same value: left out
    } else {
      EXPECT_EQ(Snapshot(state), text);
    }
  }
}

// The execution's ARN and the state machine's name are left out when the state machine's ARN
// implies them, and kept whenever it does not; either way the reloaded execution sees the same
// $$.Execution and $$.StateMachine.
TEST(SnapshotTest, ArnsLeftOutOnlyWhenImplied) {
  StateMachineDef definition = ParseValid(R"({"StartAt": "W", "States": {
      "W": {"Type": "Wait", "Seconds": 1, "Next": "P"},
      "P": {"Type": "Pass", "Parameters": {"id.$": "$$.Execution.Id", "n.$": "$$.Execution.Name",
        "sm.$": "$$.StateMachine.Id", "smn.$": "$$.StateMachine.Name"}, "End": true}}})");
  struct Case {
    std::string machine_arn, machine_name, execution_name, execution_arn;
    bool arn_written, name_written;
  };
  const std::string region = "arn:aws:states:eu-west-1:123456789012:";
  const std::vector<Case> cases = {
      {region + "stateMachine:t", "t", "e0", region + "execution:t:e0", false, false},
      {region + "stateMachine:t:3", "t", "e0", region + "execution:t:e0", false, false},
      {region + "stateMachine:t:prod", "t", "e0", region + "execution:t:e0", false, false},
      {region + "stateMachine:t", "t", "e0", "", true, false},
      {region + "stateMachine:t", "t", "e0", region + "execution:t:e1", true, false},
      {region + "stateMachine:t", "u", "e0", region + "execution:t:e0", false, true},
      {region + "stateMachine:t", "", "e0", region + "execution:t:e0", false, true},
      {region + "stateMachine:t", "t", "e0", region + "express:t:e0:0123", true, false},
      {"", "m", "e", "", false, true},
      {"", "", "", "", false, false},
      {"arn:x", "m", "e", "arn:y", true, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.machine_arn + " " + c.machine_name + " " + c.execution_arn);
    ExecutionState state;
    Event started = Event::Started(*ParseJson("{}"), c.execution_name, c.machine_name, 3);
    started.state_machine_arn = c.machine_arn;
    started.execution_arn = c.execution_arn;
    Step step = Apply(definition, state, started, kT0);
    const std::string text = Snapshot(state);
    EXPECT_EQ(text.find("\"executionArn\"") != std::string::npos, c.arn_written) << text;
    EXPECT_EQ(text.find("\"stateMachineName\"") != std::string::npos, c.name_written) << text;
    ExecutionState loaded = Load(text);
    EXPECT_EQ(Snapshot(loaded), text);
    std::string timer;
    for (const auto& command : step.commands) {
      if (command.kind == Command::Kind::kStartTimer && command.timer_id != "execution-timeout") {
        timer = command.timer_id;
      }
    }
    ASSERT_FALSE(timer.empty());
    Step a = Apply(definition, state, Event::TimerFired(timer), kT0 + 1000000000);
    Step b = Apply(definition, loaded, Event::TimerFired(timer), kT0 + 1000000000);
    EXPECT_EQ(Render(a), Render(b));
    EXPECT_EQ(state.status(), ExecutionStatus::kSucceeded);
  }
}

TEST(SnapshotTest, MalformedSnapshotsAreRefused) {
  const std::string frame = R"({"id":1,"state":"A","phase":1,"taskId":"task-2~1"})";
  auto with_frames = [](const std::string& frames) {
    return R"({"version":2,"started":true,"frames":[)" + frames + "]}";
  };
  const std::vector<std::string> bad = {
      "[]",
      "{}",
      R"({"version":3,"frames":[]})",
      R"({"version":"2","frames":[]})",
      R"({"version":2})",
      R"({"version":2,"frames":{}})",
      R"({"version":2,"status":"SLEEPING","frames":[]})",
      R"({"version":2,"type":"FAST","frames":[]})",
      R"({"version":2,"started":1,"frames":[]})",
      R"({"version":2,"prng":-1,"frames":[]})",
      R"({"version":2,"redriveEnteredEventId":3,"frames":[]})",
      with_frames("1"),
      with_frames(R"({"state":"A"})"),       // no id
      with_frames(R"({"id":1,"kind":3})"),   // no such kind
      with_frames(R"({"id":1,"phase":7})"),  // no such phase
      with_frames(R"({"id":1,"phase":-1})"),
      with_frames(R"({"id":1,"attempts":[1,"x"]})"),
      with_frames(R"({"id":1,"attempts":[-1]})"),
      with_frames(R"({"id":1,"index":-1})"),
      with_frames(R"({"id":1,"taskId":5})"),
      with_frames(R"({"id":1,"toleratedPercentage":"x"})"),
      with_frames(frame + "," + frame),                      // the same id twice
      with_frames(R"({"id":1},{"id":2})"),                   // two roots
      with_frames(R"({"id":2,"parent":1})"),                 // an orphan
      with_frames(R"({"id":1,"parent":1,"children":[1]})"),  // its own child
      with_frames(R"({"id":1,"parent":2,"children":[2]},{"id":2,"parent":1,"children":[1]})"),
      with_frames(R"({"id":1,"phase":4,"fanTotal":2,"fanNext":2,"results":[null,null],)"
                  R"("children":[2,2]},{"id":2,"parent":1,"kind":1})"),  // a child twice
      with_frames(R"({"id":1,"phase":1,"fanTotal":1,"fanNext":1,"results":[null],)"
                  R"("children":[2]},{"id":2,"parent":1,"kind":1})"),  // not fanning out
      with_frames(R"({"id":1,"phase":4,"fanTotal":2,"fanNext":1,"results":[null],)"
                  R"("children":[2]},{"id":2,"parent":1,"kind":1})"),  // results too short
      with_frames(R"({"id":1,"phase":4,"fanTotal":2,"fanNext":3,"results":[null,null],)"
                  R"("children":[2]},{"id":2,"parent":1,"kind":1})"),  // launched past the end
      with_frames(R"({"id":1,"phase":4,"fanTotal":2,"fanNext":2,"results":[null,null],)"
                  R"("items":[1],"children":[2]},{"id":2,"parent":1,"kind":2})"),  // few items
      with_frames(R"({"id":1,"phase":4,"fanTotal":2,"fanNext":1,"results":[null,null],)"
                  R"("children":[2]},{"id":2,"parent":1,"kind":1,"index":1})"),  // not launched
  };
  for (const std::string& text : bad) {
    auto parsed = ParseJson(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    auto loaded = ExecutionState::FromJson(*parsed);
    EXPECT_FALSE(loaded.ok()) << text;
    if (!loaded.ok()) {
      EXPECT_EQ(loaded.error().error, "States.Runtime") << text;
    }
  }
  // The well-formed ones next to them load.
  EXPECT_TRUE(ExecutionState::FromJson(*ParseJson(with_frames(frame))).ok());
  EXPECT_TRUE(ExecutionState::FromJson(*ParseJson(with_frames(""))).ok());
  EXPECT_TRUE(ExecutionState::FromJson(
                  *ParseJson(with_frames(R"({"id":1,"phase":4,"fanTotal":2,"fanNext":2,)"
                                         R"("results":[null,null],"items":[1,2],)"
                                         R"("children":[3,2]},{"id":2,"parent":1,"kind":2},)"
                                         R"({"id":3,"parent":1,"kind":2,"index":1})")))
                  .ok());
}

// Every member of every frame of a real Map/Parallel snapshot, removed or replaced by values of
// every kind: FromJson refuses or accepts, never crashes, and what it accepts round-trips.
TEST(SnapshotTest, MutatedSnapshotsNeverCrash) {
  StateMachineDef definition = ParseValid(R"({"StartAt": "M", "States": {"M": {"Type": "Map",
      "MaxConcurrency": 2, "ItemProcessor": {"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 3, "End": true}}}, "End": true}}})");
  ExecutionState state;
  Apply(definition, state, Event::Started(*ParseJson("[1, 2, 3]"), "e", "m", 5), kT0);
  const Json original = state.ToJson();
  const std::vector<std::string> replacements = {"null",
                                                 "true",
                                                 "0",
                                                 "-1",
                                                 "1",
                                                 "2",
                                                 "3",
                                                 "7",
                                                 "9223372036854775807",
                                                 "-9223372036854775808",
                                                 "18446744073709551615",
                                                 "1e300",
                                                 "0.5",
                                                 "\"\"",
                                                 "\"x\"",
                                                 "[]",
                                                 "[1]",
                                                 "[2,2]",
                                                 "[-5]",
                                                 "{}",
                                                 R"({"a":1})"};
  int accepted = 0;
  int refused = 0;
  auto attempt = [&](const Json& snapshot) {
    auto loaded = ExecutionState::FromJson(snapshot);
    if (!loaded.ok()) {
      ++refused;
      return;
    }
    ++accepted;
    const std::string text = Snapshot(*loaded);
    auto again = ExecutionState::FromJson(*ParseJson(text));
    ASSERT_TRUE(again.ok()) << text;
    EXPECT_EQ(Snapshot(*again), text);
  };
  std::vector<std::string> top_keys;
  for (const auto& member : original.GetObject()) top_keys.emplace_back(JsonView(member.name));
  for (const std::string& key : top_keys) {
    for (const std::string& value : replacements) {
      Json copy = CopyJson(original);
      JsonSet(copy, key, *ParseJson(value));
      attempt(copy);
    }
    Json copy = CopyJson(original);
    copy.RemoveMember(key.c_str());
    attempt(copy);
  }
  const Json& frames = *JsonFind(original, "frames");
  for (rapidjson::SizeType f = 0; f < frames.Size(); ++f) {
    std::vector<std::string> keys = {"id",
                                     "parent",
                                     "kind",
                                     "index",
                                     "state",
                                     "phase",
                                     "input",
                                     "work",
                                     "variables",
                                     "attempts",
                                     "fanTotal",
                                     "fanNext",
                                     "children",
                                     "items",
                                     "results",
                                     "timerId",
                                     "toleratedPercentage"};
    for (const std::string& key : keys) {
      for (const std::string& value : replacements) {
        Json copy = CopyJson(original);
        JsonSet((*JsonFind(copy, "frames"))[f], key, *ParseJson(value));
        attempt(copy);
      }
      Json copy = CopyJson(original);
      (*JsonFind(copy, "frames"))[f].RemoveMember(key.c_str());
      attempt(copy);
    }
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(refused, 0);
}

TEST(SnapshotTest, JsonIdenticalComparesToTheByte) {
  auto same = [](std::string_view a, std::string_view b) {
    return JsonIdentical(*ParseJson(a), *ParseJson(b));
  };
  EXPECT_TRUE(same(R"({"a":[1,2.5,"s",null,true,{}],"b":{}})",
                   R"({"a":[1,2.50,"s",null,true,{}],"b":{}})"));
  EXPECT_TRUE(same("123456789012345678901234567890", "123456789012345678901234567890"));
  EXPECT_TRUE(same("18446744073709551615", "18446744073709551615"));
  EXPECT_FALSE(same("123456789012345678901234567890", "123456789012345678901234567891"));
  EXPECT_FALSE(same("1", "1.0"));
  EXPECT_FALSE(same("0.0", "-0.0"));
  EXPECT_FALSE(same("-1", "18446744073709551615"));
  EXPECT_FALSE(same(R"({"a":1,"b":2})", R"({"b":2,"a":1})"));  // same value, other text
  EXPECT_FALSE(same("[1,2]", "[1,2,3]"));
  EXPECT_FALSE(same("[]", "{}"));
  EXPECT_FALSE(same("null", "{}"));
  EXPECT_FALSE(same(R"({"a":[[1]]})", R"({"a":[[2]]})"));
  // Deep values: no recursion.
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  auto a = ParseJsonNested(deep, 200000);
  auto b = ParseJsonNested(deep, 200000);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(JsonIdentical(*a, *b));
  DestroyJson(*a);
  DestroyJson(*b);
}

}  // namespace
}  // namespace switchyard::asl
