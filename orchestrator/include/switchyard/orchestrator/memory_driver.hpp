#pragma once
// The in-memory driver: runs one execution of the asl execution core to its end, owning the clock,
// the timers and the tasks in flight. Used by `switchyard run` (and by tests, with a fake clock).
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "switchyard/asl/core.hpp"
#include "switchyard/asl/definition.hpp"
#include "switchyard/asl/json.hpp"

namespace switchyard::orchestrator {

// One Task state invocation, as the core asked for it.
struct TaskRequest {
  std::string task_id;
  std::string resource;
  asl::Json payload;
  int64_t timeout_seconds = 0;
  int64_t heartbeat_seconds = 0;  // 0: none
  std::string token;              // set for `.waitForTaskToken` resources
  // A stable id of this invocation (the same when the same attempt is delivered again), which
  // the function sees as its request id; empty = a fresh one per invocation.
  std::string invocation_id;
};

// How a task ended: success with `output`, or failure with `error`/`cause`.
struct TaskOutcome {
  bool succeeded = false;
  asl::Json output;
  std::string error;
  std::string cause;

  static TaskOutcome Success(asl::Json output);
  static TaskOutcome Failure(std::string error, std::string cause);
};

// Called at most once with the outcome of an asynchronous task; safe to call from any thread,
// also after the driver that made it is gone (the outcome is then dropped).
using TaskCompleter = std::function<void(TaskOutcome)>;

// Whatever runs Task resources (functions, activities, services). Thread model: Start and Cancel
// are called on the driver's thread only.
class TaskBackend {
 public:
  virtual ~TaskBackend() = default;
  // Starts a task. Returns its outcome when it completed synchronously; otherwise returns nullopt
  // and later calls `complete` exactly once (unless cancelled first).
  virtual std::optional<TaskOutcome> Start(const TaskRequest& request, TaskCompleter complete) = 0;
  // The task is no longer wanted (its state was aborted or the execution ended). Default: ignore.
  virtual void Cancel(const std::string& task_id);
};

// A backend with no functions: every task fails with States.TaskFailed,
// "no function backend configured for <resource>".
class NoFunctionBackend : public TaskBackend {
 public:
  std::optional<TaskOutcome> Start(const TaskRequest& request, TaskCompleter complete) override;
};

struct RunResult {
  asl::ExecutionStatus status = asl::ExecutionStatus::kRunning;
  asl::Json output;
  std::optional<std::string> error;
  std::optional<std::string> cause;
  // A deque: a history of a million events grows without ever being copied or doubled.
  std::deque<asl::HistoryEvent> history;
};

struct MemoryDriverOptions {
  std::string execution_name = "execution";
  std::string state_machine_name = "state-machine";
  uint64_t seed = 0;
  asl::ExecutionType execution_type = asl::ExecutionType::kStandard;
  // Whether RunResult::history is filled. Without it, memory stays flat however long an Express
  // execution (which has no history limit) runs.
  bool keep_history = true;
  // Timers (Wait, retry backoff, execution timeout) fire as soon as nothing else can happen,
  // instead of in real time.
  bool fast_timers = false;
  // A fake clock starting here (ns since the epoch): time moves only when the driver jumps to the
  // next timer or task deadline, which it does whenever no event is waiting, even with tasks in
  // flight; it never sleeps. Implies fast timers. For tests.
  std::optional<int64_t> fake_clock_start;
  // Test hook: called with the state after every event (e.g. to snapshot and resume from a copy).
  // May replace the state it is given.
  std::function<void(asl::ExecutionState&)> after_event;
  // TestState's `context` (an object): the Context object the execution's states see
  // (asl::Event::context). Shared, so that the options stay copyable.
  std::shared_ptr<const asl::Json> context;
};

// Runs one execution. Thread model: Run() on one thread; PostEvent and the Send* calls from any
// thread while it runs.
class MemoryDriver {
 public:
  MemoryDriver(const asl::StateMachineDef& definition, TaskBackend& backend,
               MemoryDriverOptions options);
  // Completers of tasks still running may be called later, from any thread: they are ignored.
  ~MemoryDriver();
  MemoryDriver(const MemoryDriver&) = delete;
  MemoryDriver& operator=(const MemoryDriver&) = delete;

  // Runs the execution with `input` to its end and returns how it ended and its history.
  RunResult Run(asl::Json input);

  // Callbacks for `.waitForTaskToken` tasks, and StopExecution.
  void SendTaskSuccess(const std::string& token, asl::Json output);
  void SendTaskFailure(const std::string& token, std::string error, std::string cause);
  void SendTaskHeartbeat(const std::string& token);
  void Stop(std::string error, std::string cause);

 private:
  // Something due at a point in time: a timer, or a task's deadline (heartbeat or timeout).
  // Things due at the same time come in the order they were scheduled in, `sequence` (never
  // the order of their ids: "timer-100000" < "timer-99999").
  struct Due {
    int64_t at = 0;
    uint64_t sequence = 0;
    bool timer = false;
    std::string id;  // timer id or task id
    bool operator<(const Due& other) const {
      return at != other.at ? at < other.at : sequence < other.sequence;
    }
    bool operator>(const Due& other) const { return other < *this; }
  };
  struct InFlight {
    int64_t timeout_at = 0;
    int64_t heartbeat_at = 0;  // 0: none
    int64_t heartbeat_seconds = 0;
    std::string token;
    uint64_t deadline = 0;  // the sequence of its entry in the due queue until it fires; 0: none
  };

  int64_t Now();
  void Post(asl::Event event);
  void ApplyEvent(const asl::Event& event, RunResult& result);
  void Execute(asl::Command& command, RunResult& result);
  // The due queue: what is due next, nullptr when nothing is.
  Due* NextDue();
  void PopDue();
  void PushDue(Due due);
  // Drops the entries of forgotten deadlines and cancelled timers once they outnumber the rest.
  void CompactDue();
  // (Re)schedules the earlier of a task's heartbeat and timeout deadlines.
  void ScheduleDeadline(const std::string& task_id, InFlight& flight);
  // Forgets a task: its deadlines and its token.
  void ForgetTask(const std::string& task_id);
  // Moves what is due at `now` to ready_, in (due, sequence) order; returns the next due time.
  std::optional<int64_t> FireDue(int64_t now);
  // Waits until `deadline` (or forever when nullopt) or until an event is posted.
  void WaitForEvents(std::optional<int64_t> deadline);

  const asl::StateMachineDef& definition_;
  TaskBackend& backend_;
  MemoryDriverOptions options_;
  asl::ExecutionState state_;
  int64_t fake_now_ = 0;
  int64_t skipped_ = 0;  // fast timers on a real clock: time skipped so far
  uint64_t next_sequence_ = 1;
  // Timers and task deadlines, ordered by (at, sequence): an entry scheduled no earlier than the
  // last one of `due_sorted_` (the common case: Waits of the same length, task timeouts, all
  // counted from a clock that only moves forward) is appended there in O(1); any other goes into
  // the min-heap `due_heap_`. The next due is the smaller of the two fronts. Entries are never
  // searched for: a cancelled timer or a finished task's deadline stays until it reaches the
  // front (or CompactDue drops it), and is skipped then.
  std::deque<Due> due_sorted_;
  std::vector<Due> due_heap_;
  std::size_t due_stale_ = 0;  // forgotten deadlines still queued
  // The tasks in flight (task id -> deadlines), callback tokens (token -> task id) and cancelled
  // timers still queued: open-addressing hash tables, defined in the source file.
  struct Tables;
  std::unique_ptr<Tables> tables_;
  std::deque<asl::Event> ready_;  // driver-thread events, in order
  bool finished_ = false;

  // What other threads post to. Shared with the completers handed to the backend, so that a
  // task ending after the driver is gone finds it closed instead of freed memory.
  struct Mailbox {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<asl::Event> posted;  // Guarded by mu.
    int64_t async_pending = 0;      // Guarded by mu.
    bool closed = false;            // Guarded by mu: the driver is gone.
  };
  std::shared_ptr<Mailbox> mailbox_ = std::make_shared<Mailbox>();
};

}  // namespace switchyard::orchestrator
