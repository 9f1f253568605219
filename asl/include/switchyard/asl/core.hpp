#pragma once
// The execution core: a state machine execution as a deterministic value.
//
//   Apply(definition, state, event, now) -> state' + [Command] + [HistoryEvent]
//
// Everything that varies between runs comes in as arguments: the event, `now` (nanoseconds since
// the Unix epoch) and the random seed (in the Started event; the PRNG state then lives inside the
// ExecutionState). A driver (in memory, PostgreSQL, a test with a fake clock) carries out the
// commands and feeds back what happened as events. Thread model: values; ExecutionState is not
// shared between threads without external locking.
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/asl/definition.hpp"
#include "switchyard/asl/json.hpp"
#include "switchyard/asl/result.hpp"

namespace switchyard::asl {

enum class ExecutionStatus { kRunning, kSucceeded, kFailed, kTimedOut, kAborted };
// "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED".
std::string_view ExecutionStatusName(ExecutionStatus status);

// The state machine's type, as CreateStateMachine's `type`. It decides the limits the core
// enforces (AWS quotas):
// - kStandard: the history holds at most 25,000 events. A non-final event that would be the
//   25,000th is not recorded; the execution fails instead with ExecutionFailed (event 25,000),
//   States.Runtime, "The execution reached the maximum number of history events (25000)."
// - kExpress: no history limit, but the execution lasts at most 5 minutes (then TIMED_OUT with
//   States.Timeout, as a TimeoutSeconds of 300 would; a smaller TimeoutSeconds still wins). So
//   that time can pass, an Express execution whose synchronous states (Pass, Choice, ...) run on
//   and on yields to the driver every few thousand events: a kStartTimer due at `now`.
enum class ExecutionType { kStandard, kExpress };
// "STANDARD", "EXPRESS".
std::string_view ExecutionTypeName(ExecutionType type);
// Parses "STANDARD" / "EXPRESS" (exactly, as the AWS API spells them).
std::optional<ExecutionType> ParseExecutionType(std::string_view text);

// What happened outside the core. Move-only (it holds Json).
struct Event {
  enum class Kind {
    kStarted,
    kTaskSucceeded,
    kTaskFailed,
    kTaskTimedOut,
    kHeartbeatTimedOut,
    kHeartbeat,
    kTimerFired,
    kStopRequested,
    kActivityStarted,
    kRedriven,
  };
  Kind kind = Kind::kStarted;

  // kStarted.
  Json input;
  std::string execution_name;
  std::string execution_arn;
  std::string state_machine_name;
  std::string state_machine_arn;
  std::string role_arn;
  uint64_t seed = 0;
  ExecutionType execution_type = ExecutionType::kStandard;
  // TestState's `context`: when set (an object), the Context object every state of the
  // execution sees (`$$` in JSONPath, $states.context in JSONata) in place of the one the core
  // builds (AWS: `$$` is then exactly the given object).
  std::optional<Json> context;

  // Task events: the task is found by `task_id`, or by `token` when task_id is empty (a callback
  // for a `.waitForTaskToken` task). kTaskSucceeded carries `output`; kTaskFailed `error`/`cause`.
  // For a `.waitForTaskToken` task, a kTaskSucceeded without a token (the invocation merely
  // returned) is ignored: only the callback completes it.
  std::string task_id;
  std::string token;
  Json output;
  std::string error;
  std::string cause;

  // kTimerFired.
  std::string timer_id;

  // kActivityStarted: a worker (GetActivityTask's workerName) took the activity task `task_id`.
  std::string worker_name;

  // kRedriven (RedriveExecution): a FAILED, TIMED_OUT or ABORTED execution whose
  // ExecutionState::redrive_entered_event_id() is not 0 runs again from the state that event
  // entered; `input` is that state's input (the "input" of that StateEntered history event).
  // Anything else ignores it.

  static Event Started(Json input, std::string execution_name, std::string state_machine_name,
                       uint64_t seed);
  static Event TaskSucceeded(std::string task_id, Json output);
  static Event TaskFailed(std::string task_id, std::string error, std::string cause);
  static Event TaskTimedOut(std::string task_id);
  static Event HeartbeatTimedOut(std::string task_id);
  static Event Heartbeat(std::string task_id);
  static Event TimerFired(std::string timer_id);
  static Event StopRequested(std::string error, std::string cause);
  static Event ActivityStarted(std::string task_id, std::string worker_name);
  static Event Redriven(Json input);
};

// An activity resource: arn:aws:states:<region>:<account>:activity:<name>. A Task state on one
// emits kInvokeTask with a token (the activity task's token); a worker takes it (the driver
// reports kActivityStarted) and answers through the token (kTaskSucceeded / kTaskFailed with an
// empty task_id), as `.waitForTaskToken` callbacks do. Its history is Activity* events.
bool IsActivityResource(std::string_view resource);

// What the driver must do. Move-only.
struct Command {
  enum class Kind { kInvokeTask, kStartTimer, kCancelTask, kCancelTimer, kFinish };
  Kind kind = Kind::kFinish;

  // kInvokeTask / kCancelTask. `timeout_seconds` is the task's TimeoutSeconds (default
  // 99,999,999); `heartbeat_seconds` 0 means none. The driver reports kTaskTimedOut /
  // kHeartbeatTimedOut when they pass. `token` is set for `.waitForTaskToken` resources.
  std::string task_id;
  std::string resource;
  Json payload;
  int64_t timeout_seconds = 0;
  int64_t heartbeat_seconds = 0;
  std::string token;

  // kStartTimer / kCancelTimer: fire kTimerFired{timer_id} at `fire_at` (ns since the epoch).
  std::string timer_id;
  int64_t fire_at = 0;

  // kFinish: the execution's end. `output` for SUCCEEDED; error/cause otherwise (nullopt when
  // there is none, e.g. a Fail state without Error).
  ExecutionStatus status = ExecutionStatus::kRunning;
  Json output;
  std::optional<std::string> error;
  std::optional<std::string> cause;
};

// One entry of the execution history, as GetExecutionHistory returns it. The details are kept
// as compact JSON text (what a store writes, and cheaper to produce than a tree): `details_key`
// names the member, e.g. "stateEnteredEventDetails", and `details_json` is its object, e.g.
// {"roleArn":"..."}; `details_json` may be empty when the parts below say it all. The input or
// output a state, task or execution event carries is kept apart, unescaped: `payload_text` is
// that JSON text and `payload_field` ("input" or "output") the details member it belongs in;
// both empty when there is none.
struct HistoryEvent {
  int64_t id = 0;
  int64_t previous_event_id = 0;
  int64_t timestamp = 0;         // ns since the epoch
  std::string_view type;         // a literal: "PassStateEntered", "ExecutionSucceeded", ...
  std::string_view details_key;  // a literal
  std::string details_json;
  std::string_view payload_field;  // a literal: "input", "output" or empty
  std::string payload_text;
  // State entered/exited events: the state's name, kept apart like the payload. Details()
  // puts both in, with "inputDetails"/"outputDetails" when `details_json` has none.
  std::string state_name;

  // The details object with the payload in it, e.g. {"name":"A","input":"{}",...}; an empty
  // object when there are no details.
  Json Details() const;
  // DumpJson(Details()), written without building the tree when `details_json` is empty (state
  // entered / exited events, function outcomes: most of a task's events), and `details_json`
  // itself when there is neither a state name nor a payload to add (e.g. a function scheduled).
  std::string DetailsText() const;
  // {"id", "previousEventId", "timestamp" (ISO-8601), "type", <details member>}.
  Json ToJson() const;
};

struct Step {
  std::vector<Command> commands;
  // A deque: one event may record hundreds of thousands of events (a Map's iterations), which
  // then grow without being reallocated, and a driver can take them over one by one, freeing
  // as it goes, so that the history is never held twice.
  std::deque<HistoryEvent> history;
};

// The whole state of one execution: frames (the root, Parallel branches, Map iterations),
// variables, retry counters, tasks and timers in flight, the PRNG state and the history counter.
// A value: copying it copies everything.
class ExecutionState {
 public:
  ExecutionState();
  ExecutionState(const ExecutionState& other);
  ExecutionState& operator=(const ExecutionState& other);
  ExecutionState(ExecutionState&&) noexcept;
  ExecutionState& operator=(ExecutionState&&) noexcept;
  ~ExecutionState();

  ExecutionStatus status() const;
  // Number of history events recorded so far.
  int64_t history_size() const;
  // How many times the execution has been redriven ($$.Execution.RedriveCount).
  int64_t redrive_count() const;
  // For an execution that ended FAILED, TIMED_OUT or ABORTED: the id of the StateEntered event
  // of the top-level state it ended in, from which a kRedriven event runs it again; 0 when it
  // cannot be redriven (then redrive_refusal() says why, e.g. a Parallel or Map state was
  // running: redriving only its failed branches or iterations is not supported).
  int64_t redrive_entered_event_id() const;
  std::string redrive_refusal() const;
  // Test hook: frames the core has examined to find the owner of a task or timer event since this
  // value was created or loaded (not in snapshots): at most one per event, however many frames
  // (Map iterations, Parallel branches) are in flight.
  int64_t frames_examined() const;

  // A snapshot. FromJson(ToJson()) gives a state that behaves identically, and its ToJson() is
  // byte-for-byte the same text.
  Json ToJson() const;
  // Fails with States.Runtime when the snapshot is malformed.
  static Result<ExecutionState> FromJson(const Json& snapshot);

  struct Impl;
  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Applies one event at time `now`. The first event must be kStarted. Events for tasks or timers
// the state does not know (late, cancelled) and any event after the end are ignored (an empty
// Step). JSONata-mode states evaluate their "{% %}" fields with `now` and the execution's PRNG; a
// failed expression is States.QueryEvaluationError, recorded as an EvaluationFailed event.
Step Apply(const StateMachineDef& definition, ExecutionState& state, const Event& event,
           int64_t now);
// The same, but the payloads of `event` (input, output) may be moved out instead of copied.
Step Apply(const StateMachineDef& definition, ExecutionState& state, Event&& event, int64_t now);

}  // namespace switchyard::asl
