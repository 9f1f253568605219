#pragma once
// A test driver for the execution core: a fake clock, a scripted task backend, and an optional
// "crash" after every event (snapshot to text, parse, resume from the copy).
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "switchyard/asl/core.hpp"
#include "switchyard/asl/definition.hpp"
#include "switchyard/asl/json.hpp"

namespace switchyard::asl::testing {

inline constexpr int64_t kFakeStart = int64_t{1700000000} * 1000000000;

// A definition the test expects to be valid (a failed expectation, and an empty one, if not).
inline StateMachineDef ParseValid(std::string_view text) {
  ParseResult parsed = ParseDefinition(text);
  EXPECT_TRUE(parsed.ok());
  return parsed.ok() ? std::move(*parsed.definition) : StateMachineDef{};
}

struct Invocation {
  double at_seconds = 0;  // since the start
  std::string resource;
  std::string payload;  // compact JSON
  int64_t timeout_seconds = 0;
  int64_t heartbeat_seconds = 0;
  bool has_token = false;
};

struct FakeRun {
  ExecutionStatus status = ExecutionStatus::kRunning;
  std::string output;  // compact JSON ("" when none)
  std::optional<std::string> error;
  std::optional<std::string> cause;
  std::vector<std::string> history_types;
  std::string history_text;  // every event's JSON, one per line
  std::vector<Invocation> invocations;
  double end_seconds = 0;
  bool snapshots_stable = true;  // ToJson(FromJson(s)) == s after every event
};

// `backend`: {"<resource>": [outcome, ...]} where outcome is {"output": v} | {"error": e,
// "cause": c} | {"timeout": true} | {"heartbeat_timeout": true} | {"callback": {"output": v}} |
// {"callback": {"error": e, "cause": c}}. Each invocation takes the next outcome; the last repeats.
// `stop_at_seconds`: send StopRequested at that time (when the execution is still running).
// `type`: the execution's type (Standard by default).
inline FakeRun RunWithFakeDriver(const StateMachineDef& definition, const Json& input,
                                 const Json* backend, bool crash_after_every_event,
                                 std::optional<double> stop_at_seconds = std::nullopt,
                                 ExecutionType type = ExecutionType::kStandard) {
  FakeRun run;
  ExecutionState state;
  int64_t now = kFakeStart;
  // Timers fire in (due, sequence) order: the order they were started in when due together.
  using TimerKey = std::pair<int64_t, uint64_t>;
  uint64_t next_sequence = 0;
  std::map<TimerKey, std::string> timer_queue;
  std::unordered_map<std::string, TimerKey> timers;  // timer id -> its key in timer_queue
  struct Flight {
    int64_t deadline = 0;
    bool heartbeat = false;
    bool pending = false;  // waits for its deadline
  };
  std::map<std::string, Flight> flights;
  std::map<std::string, std::size_t> next_outcome;
  std::deque<Event> queue;
  bool finished = false;
  bool stop_sent = false;

  auto apply = [&](const Event& event) {
    Step step = Apply(definition, state, event, now);
    for (auto& history_event : step.history) {
      run.history_types.emplace_back(history_event.type);
      run.history_text += DumpJson(history_event.ToJson()) + "\n";
    }
    for (auto& command : step.commands) {
      switch (command.kind) {
        case Command::Kind::kInvokeTask: {
          Invocation invocation;
          invocation.at_seconds = static_cast<double>(now - kFakeStart) / 1e9;
          invocation.resource = command.resource;
          invocation.payload = DumpJson(command.payload);
          invocation.timeout_seconds = command.timeout_seconds;
          invocation.heartbeat_seconds = command.heartbeat_seconds;
          invocation.has_token = !command.token.empty();
          run.invocations.push_back(invocation);
          const Json* script = backend ? JsonFind(*backend, command.resource) : nullptr;
          if (script == nullptr || !script->IsArray() || script->Empty()) {
            queue.push_back(Event::TaskFailed(command.task_id, "States.TaskFailed",
                                              "no fake outcome for " + command.resource));
            break;
          }
          std::size_t& position = next_outcome[command.resource];
          const Json& outcome = (*script)[static_cast<rapidjson::SizeType>(
              std::min<std::size_t>(position, script->Size() - 1))];
          ++position;
          if (const Json* output = JsonFind(outcome, "output")) {
            queue.push_back(Event::TaskSucceeded(command.task_id, CopyJson(*output)));
          } else if (const Json* error = JsonFind(outcome, "error")) {
            const Json* cause = JsonFind(outcome, "cause");
            queue.push_back(Event::TaskFailed(
                command.task_id, std::string(JsonView(*error)),
                cause != nullptr ? std::string(JsonView(*cause)) : std::string()));
          } else if (JsonFind(outcome, "timeout") != nullptr) {
            flights[command.task_id] = {now + command.timeout_seconds * 1000000000, false, true};
          } else if (JsonFind(outcome, "heartbeat_timeout") != nullptr) {
            flights[command.task_id] = {now + command.heartbeat_seconds * 1000000000, true, true};
          } else if (const Json* callback = JsonFind(outcome, "callback")) {
            // The invocation returns at once; the callback arrives later, by token.
            queue.push_back(Event::TaskSucceeded(command.task_id, JsonString("ignored")));
            Event reply =
                JsonFind(*callback, "output") != nullptr
                    ? Event::TaskSucceeded("", CopyJson(*JsonFind(*callback, "output")))
                    : Event::TaskFailed("", std::string(JsonView(*JsonFind(*callback, "error"))),
                                        std::string(JsonView(*JsonFind(*callback, "cause"))));
            reply.token = command.token;
            queue.push_back(std::move(reply));
          }
          break;
        }
        case Command::Kind::kCancelTask:
          flights.erase(command.task_id);
          break;
        case Command::Kind::kStartTimer: {
          if (auto old = timers.find(command.timer_id); old != timers.end()) {
            timer_queue.erase(old->second);
            timers.erase(old);
          }
          TimerKey key{command.fire_at, next_sequence++};
          timer_queue.emplace(key, command.timer_id);
          timers.emplace(command.timer_id, key);
          break;
        }
        case Command::Kind::kCancelTimer:
          if (auto it = timers.find(command.timer_id); it != timers.end()) {
            timer_queue.erase(it->second);
            timers.erase(it);
          }
          break;
        case Command::Kind::kFinish:
          finished = true;
          run.status = command.status;
          if (command.status == ExecutionStatus::kSucceeded) run.output = DumpJson(command.output);
          run.error = command.error;
          run.cause = command.cause;
          run.end_seconds = static_cast<double>(now - kFakeStart) / 1e9;
          break;
      }
    }
    if (crash_after_every_event) {
      std::string text = DumpJson(state.ToJson());
      auto parsed = ParseJsonNested(text, kMaxRecordNestingDepth);
      auto restored = ExecutionState::FromJson(*parsed);
      if (!restored.ok()) {
        run.snapshots_stable = false;
        return;
      }
      if (DumpJson(restored->ToJson()) != text) run.snapshots_stable = false;
      state = std::move(restored).value();
    }
  };

  Event started = Event::Started(CopyJson(input), "test-execution", "test-machine", 42);
  started.execution_type = type;
  apply(started);
  for (int guard = 0; guard < 1000000 && !finished; ++guard) {
    if (!queue.empty()) {
      Event event = std::move(queue.front());
      queue.pop_front();
      apply(event);
      continue;
    }
    std::optional<int64_t> next;
    if (!timer_queue.empty()) next = timer_queue.begin()->first.first;
    for (const auto& [id, flight] : flights) {
      next = next ? std::min(*next, flight.deadline) : flight.deadline;
    }
    if (stop_at_seconds && !stop_sent) {
      int64_t stop_at = kFakeStart + static_cast<int64_t>(*stop_at_seconds * 1e9);
      if (!next || stop_at <= *next) {
        now = std::max(now, stop_at);
        stop_sent = true;
        apply(Event::StopRequested("UserStop", "stopped by the test"));
        continue;
      }
    }
    if (!next) break;
    now = std::max(now, *next);
    while (!timer_queue.empty() && timer_queue.begin()->first.first <= now) {
      timers.erase(timer_queue.begin()->second);
      queue.push_back(Event::TimerFired(std::move(timer_queue.begin()->second)));
      timer_queue.erase(timer_queue.begin());
    }
    for (auto it = flights.begin(); it != flights.end();) {
      if (it->second.deadline <= now) {
        queue.push_back(it->second.heartbeat ? Event::HeartbeatTimedOut(it->first)
                                             : Event::TaskTimedOut(it->first));
        it = flights.erase(it);
      } else {
        ++it;
      }
    }
  }
  return run;
}

}  // namespace switchyard::asl::testing
