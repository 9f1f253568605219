// The core's cost per event does not grow with the number of frames in flight: a task or timer
// event finds its frame through an index (counted by ExecutionState::frames_examined), which a
// snapshot round trip rebuilds; the fake driver fires timers in (due, sequence) order.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core_fake_driver.hpp"
#include "switchyard/asl/core.hpp"
#include "switchyard/asl/definition.hpp"

namespace switchyard::asl {
namespace {

constexpr int64_t kT0 = testing::kFakeStart;
constexpr int64_t kSecond = 1000000000;

StateMachineDef Parse(std::string_view text) { return testing::ParseValid(text); }

// An inline Map over $.items whose iterator is `iterator` (one state named "S").
StateMachineDef MapOf(std::string_view iterator) {
  return Parse(R"({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
      "ResultPath": null, "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"},
      "StartAt": "S", "States": {"S": )" +
               std::string(iterator) + R"(}}, "End": true}}})");
}

Json Items(int64_t count) {
  Json items = JsonArray();
  for (int64_t i = 0; i < count; ++i) JsonPush(items, JsonInt(i));
  Json input = JsonObject();
  JsonSet(input, "items", std::move(items));
  return input;
}

// The indices of the MapIteration<kind> events, in history order, as "0 1 2 ".
std::string IterationOrder(const std::string& text, std::string_view kind) {
  std::string order;
  std::string needle = "\"type\":\"MapIteration" + std::string(kind) + "\"";
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    std::size_t index = text.find("\"index\":", at);
    std::size_t end = text.find('}', index);
    order += text.substr(index + 8, end - index - 8) + " ";
  }
  return order;
}

TEST(CoreScaleTest, EachTimerEventExaminesOneFrameHoweverManyWait) {
  constexpr int64_t kItems = 3000;
  StateMachineDef definition = MapOf(R"({"Type": "Wait", "Seconds": 5, "End": true})");
  ExecutionState state;
  Step started = Apply(definition, state, Event::Started(Items(kItems), "e", "m", 1), kT0);
  std::vector<std::string> timers;
  for (const Command& command : started.commands) {
    // The Wait states' timers (not the execution's own time limit).
    if (command.kind == Command::Kind::kStartTimer && command.timer_id.rfind("timer-", 0) == 0) {
      timers.push_back(command.timer_id);
    }
  }
  ASSERT_EQ(timers.size(), static_cast<std::size_t>(kItems));
  // Fired newest first: the owner of the last timer is the last frame of all.
  for (auto it = timers.rbegin(); it != timers.rend(); ++it) {
    (void)Apply(definition, state, Event::TimerFired(*it), kT0 + 5 * kSecond);
  }
  EXPECT_EQ(state.status(), ExecutionStatus::kSucceeded);
  // One frame per routed event; a scan would have examined ~kItems^2 / 2.
  EXPECT_EQ(state.frames_examined(), kItems);
  // Unknown and repeated timers are ignored without examining anything.
  ExecutionState other;
  (void)Apply(definition, other, Event::Started(Items(2), "e", "m", 1), kT0);
  (void)Apply(definition, other, Event::TimerFired("timer-999"), kT0);
  EXPECT_EQ(other.frames_examined(), 0);
  EXPECT_EQ(other.status(), ExecutionStatus::kRunning);
}

TEST(CoreScaleTest, EachTaskEventExaminesOneFrameByTaskIdOrToken) {
  constexpr int64_t kItems = 2000;
  StateMachineDef by_id =
      MapOf(R"({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true})");
  ExecutionState state;
  Step started = Apply(by_id, state, Event::Started(Items(kItems), "e", "m", 1), kT0);
  std::vector<std::string> tasks;
  for (const Command& command : started.commands) {
    if (command.kind == Command::Kind::kInvokeTask) tasks.push_back(command.task_id);
  }
  ASSERT_EQ(tasks.size(), static_cast<std::size_t>(kItems));
  for (auto it = tasks.rbegin(); it != tasks.rend(); ++it) {
    (void)Apply(by_id, state, Event::TaskSucceeded(*it, JsonObject()), kT0);
  }
  EXPECT_EQ(state.status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(state.frames_examined(), kItems);

  StateMachineDef by_token = MapOf(R"({"Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {"token.$": "$$.Task.Token"}, "End": true})");
  ExecutionState callbacks;
  started = Apply(by_token, callbacks, Event::Started(Items(kItems), "e", "m", 1), kT0);
  std::vector<std::string> tokens;
  for (const Command& command : started.commands) {
    if (command.kind == Command::Kind::kInvokeTask) tokens.push_back(command.token);
  }
  ASSERT_EQ(tokens.size(), static_cast<std::size_t>(kItems));
  for (auto it = tokens.rbegin(); it != tokens.rend(); ++it) {
    Event reply = Event::TaskSucceeded("", JsonString("ok"));
    reply.token = *it;
    (void)Apply(by_token, callbacks, std::move(reply), kT0);
  }
  EXPECT_EQ(callbacks.status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(callbacks.frames_examined(), kItems);
}

TEST(CoreScaleTest, TheIndexSurvivesASnapshotAndTheSnapshotIsByteStable) {
  constexpr int64_t kItems = 1000;
  StateMachineDef definition = MapOf(R"({"Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {"token.$": "$$.Task.Token"}, "Next": "W"},
      "W": {"Type": "Wait", "Seconds": 1, "End": true})");
  ExecutionState state;
  Step started = Apply(definition, state, Event::Started(Items(kItems), "e", "m", 1), kT0);
  std::vector<std::string> tokens;
  for (const Command& command : started.commands) {
    if (command.kind == Command::Kind::kInvokeTask) tokens.push_back(command.token);
  }
  ASSERT_EQ(tokens.size(), static_cast<std::size_t>(kItems));

  std::string text = DumpJson(state.ToJson());
  Result<ExecutionState> restored = ExecutionState::FromJson(*ParseJson(text));
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(DumpJson(restored->ToJson()), text);
  // The restored state routes by token and by timer id through its rebuilt index.
  std::vector<std::string> timers;
  for (const std::string& token : tokens) {
    Event reply = Event::TaskSucceeded("", JsonString("ok"));
    reply.token = token;
    Step step = Apply(definition, *restored, std::move(reply), kT0);
    for (const Command& command : step.commands) {
      if (command.kind == Command::Kind::kStartTimer) timers.push_back(command.timer_id);
    }
  }
  ASSERT_EQ(timers.size(), static_cast<std::size_t>(kItems));
  // A second round trip halfway: timers now, tasks gone.
  std::string half = DumpJson(restored->ToJson());
  Result<ExecutionState> again = ExecutionState::FromJson(*ParseJson(half));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(DumpJson(again->ToJson()), half);
  for (const std::string& timer : timers) {
    (void)Apply(definition, *again, Event::TimerFired(timer), kT0 + kSecond);
  }
  EXPECT_EQ(again->status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(again->frames_examined(), kItems);
}

TEST(CoreScaleTest, FakeDriverFiresTimersInDueThenSequenceOrder) {
  // Item i waits items[i] seconds. Twelve timers: their ids cross from one digit to two
  // ("timer-9" < "timer-11" as numbers, not as strings).
  StateMachineDef definition = MapOf(R"({"Type": "Wait", "SecondsPath": "$", "End": true})");
  Json input = *ParseJson(R"({"items": [3, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1]})");
  testing::FakeRun run = testing::RunWithFakeDriver(definition, input, nullptr, false);
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(IterationOrder(run.history_text, "Succeeded"), "1 2 3 4 5 7 8 9 10 11 6 0 ");
  EXPECT_EQ(run.end_seconds, 3);
}

TEST(CoreScaleTest, AnExpressMapYieldsAsAWholeNotOneIterationAtATime) {
  // An Express execution hands control back to its driver every few thousand events. A Map of
  // 20,000 Pass iterations must then pause its fan-out (one yield timer pending), not park every
  // remaining iteration behind a timer of its own (~18,000 live frames and timer events).
  constexpr int64_t kItems = 20000;
  StateMachineDef definition = MapOf(R"({"Type": "Pass", "End": true})");
  ExecutionState state;
  Event start = Event::Started(Items(kItems), "e", "m", 1);
  start.execution_type = ExecutionType::kExpress;
  Step step = Apply(definition, state, std::move(start), kT0);
  std::size_t events = step.history.size();
  int steps = 1;
  while (state.status() == ExecutionStatus::kRunning) {
    std::vector<std::string> yields;
    for (const Command& command : step.commands) {
      if (command.kind == Command::Kind::kStartTimer && command.timer_id.rfind("yield-", 0) == 0) {
        yields.push_back(command.timer_id);
      }
    }
    ASSERT_EQ(yields.size(), 1u) << "after step " << steps;
    step = Apply(definition, state, Event::TimerFired(yields.front()), kT0);
    events += step.history.size();
    ASSERT_LT(++steps, 100);
  }
  EXPECT_EQ(state.status(), ExecutionStatus::kSucceeded);
  // ExecutionStarted, MapStateEntered, MapStateStarted, four per item, MapStateSucceeded,
  // MapStateExited, ExecutionSucceeded.
  EXPECT_EQ(events, static_cast<std::size_t>(6 + 4 * kItems));
  EXPECT_GT(steps, 10);
}

TEST(CoreScaleTest, TaskAndTimerIdsStayShortInLargeMaps) {
  // Ids are copied into the frame, the command and the driver's tables and events: within
  // std::string's inline buffer (15 characters) none of those copies allocates. Base 36 keeps
  // them there past 100,000 iterations, where decimal serials and frame ids would not.
  constexpr int64_t kItems = 120000;
  StateMachineDef definition = MapOf(R"({"Type": "Wait", "Seconds": 5, "End": true})");
  ExecutionState state;
  Json items = JsonArray();  // zeros: 120,000 of them fit in the 256 KiB input limit
  for (int64_t i = 0; i < kItems; ++i) JsonPush(items, JsonInt(0));
  Json input = JsonObject();
  JsonSet(input, "items", std::move(items));
  Event started = Event::Started(std::move(input), "e", "m", 1);
  started.execution_type = ExecutionType::kExpress;  // no 25,000-event limit; yields instead
  Step step = Apply(definition, state, started, kT0);
  std::size_t waits = 0;
  std::string last;
  for (bool yielded = true; yielded;) {
    yielded = false;
    std::string yield_id;
    for (const Command& command : step.commands) {
      if (command.kind != Command::Kind::kStartTimer) continue;
      if (command.timer_id == "execution-timeout") continue;  // Express: the 5-minute limit
      EXPECT_LE(command.timer_id.size(), 15u) << command.timer_id;
      if (command.timer_id.rfind("yield-", 0) == 0) {
        yield_id = command.timer_id;
      } else {
        ++waits;
        last = command.timer_id;
      }
    }
    if (!yield_id.empty()) {
      yielded = true;
      step = Apply(definition, state, Event::TimerFired(yield_id), kT0);
    }
  }
  EXPECT_EQ(waits, static_cast<std::size_t>(kItems));
  EXPECT_EQ(last.rfind("timer-", 0), 0u) << last;
  // The last iteration's timer fires and finds its frame.
  Step fired = Apply(definition, state, Event::TimerFired(last), kT0 + 5 * kSecond);
  ASSERT_FALSE(fired.history.empty());
  EXPECT_EQ(fired.history.front().type, "WaitStateExited");
}

TEST(CoreScaleTest, IdsInSnapshotsFromBeforeBase36StillFindTheirFrame) {
  // A snapshot written before ids were base 36 holds "task-<serial>.<frame id>" in decimal: a
  // state restored from it still routes the task's completion to its frame.
  StateMachineDef definition = MapOf(R"({"Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke", "End": true})");
  ExecutionState state;
  Step started = Apply(definition, state, Event::Started(Items(40), "e", "m", 1), kT0);
  std::string task_id;
  for (const Command& command : started.commands) {
    if (command.kind == Command::Kind::kInvokeTask) task_id = command.task_id;  // the 40th
  }
  const std::size_t tilde = task_id.rfind('~');
  ASSERT_NE(tilde, std::string::npos) << task_id;
  const std::size_t dash = task_id.find('-');
  const std::string old_id =
      "task-" +
      std::to_string(std::stoll(task_id.substr(dash + 1, tilde - dash - 1), nullptr, 36)) + "." +
      std::to_string(std::stoll(task_id.substr(tilde + 1), nullptr, 36));
  std::string text = DumpJson(state.ToJson());
  const std::string quoted = "\"" + task_id + "\"";
  const std::size_t at = text.find(quoted);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, quoted.size(), "\"" + old_id + "\"");
  auto restored = ExecutionState::FromJson(*ParseJson(text));
  ASSERT_TRUE(restored.ok());
  Step done = Apply(definition, *restored, Event::TaskSucceeded(old_id, JsonInt(7)), kT0);
  ASSERT_FALSE(done.history.empty());
  EXPECT_EQ(done.history.front().type, "TaskSucceeded");
  // The new-format id no longer names a task in flight there.
  EXPECT_TRUE(
      Apply(definition, *restored, Event::TaskSucceeded(task_id, JsonInt(7)), kT0).history.empty());
}

}  // namespace
}  // namespace switchyard::asl
