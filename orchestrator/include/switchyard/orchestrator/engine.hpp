#pragma once
// The durable engine: Standard executions driven on PostgreSQL, Express executions in memory.
//
// Every state transition of a Standard execution is one decision committed in one transaction
// (lock the execution, load its snapshot, apply the event through the execution core, write the
// snapshot, append the history, enqueue the resulting work); many decisions share a transaction
// (group commit). Tasks run outside transactions, at least once, under short renewed leases that
// every decision checks (fencing), so several engines (nodes) may share one database and a node
// that dies loses nothing: its leases expire and another node redoes the work. Timers (Wait,
// retry backoff, task and heartbeat timeouts, execution TimeoutSeconds) are rows with a due time
// and survive restarts. Express executions run in memory on the node that started them.
//
// Errors a caller can cause come back as values: asl::Error{error, cause} with AWS's error name
// in `error` (kExecutionAlreadyExists, ...) and its message in `cause`. Environmental faults
// (the database is unreachable past the retries) are thrown as std::runtime_error.
//
// Thread model: thread-safe. Every call blocks its thread on the database: do not call from a
// network (Asio) or invoker thread.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/asl/result.hpp"
#include "switchyard/invoker/invoker.hpp"

namespace switchyard::orchestrator {

// AWS Step Functions API error names.
inline constexpr std::string_view kExecutionAlreadyExists = "ExecutionAlreadyExists";
inline constexpr std::string_view kExecutionDoesNotExist = "ExecutionDoesNotExist";
inline constexpr std::string_view kStateMachineAlreadyExists = "StateMachineAlreadyExists";
inline constexpr std::string_view kStateMachineDoesNotExist = "StateMachineDoesNotExist";
inline constexpr std::string_view kStateMachineTypeNotSupported = "StateMachineTypeNotSupported";
inline constexpr std::string_view kInvalidDefinition = "InvalidDefinition";
inline constexpr std::string_view kInvalidName = "InvalidName";
inline constexpr std::string_view kInvalidArn = "InvalidArn";
inline constexpr std::string_view kInvalidExecutionInput = "InvalidExecutionInput";
inline constexpr std::string_view kInvalidOutput = "InvalidOutput";
inline constexpr std::string_view kInvalidToken = "InvalidToken";
inline constexpr std::string_view kTaskDoesNotExist = "TaskDoesNotExist";
inline constexpr std::string_view kValidationException = "ValidationException";

// What the engine reports as it works, for metrics and logs. Called on engine threads after the
// transaction that made it true has committed (tasks: when the invocation returns); must be
// quick, must not block and must not call back into the engine. Every method may be called from
// several threads at once.
class EngineObserver {
 public:
  virtual ~EngineObserver() = default;
  virtual void ExecutionStarted(std::string_view /*state_machine*/,
                                std::string_view /*execution_arn*/) {}
  // status: SUCCEEDED | FAILED | TIMED_OUT | ABORTED; error empty unless it failed.
  virtual void ExecutionFinished(std::string_view /*state_machine*/,
                                 std::string_view /*execution_arn*/, std::string_view /*status*/,
                                 std::string_view /*error*/) {}
  // States entered by executions of this machine in one decision.
  virtual void StateTransitions(std::string_view /*state_machine*/, int64_t /*count*/) {}
  // One committed transaction of `decisions` decisions, `seconds` from its start to its commit.
  virtual void DecisionBatch(int64_t /*decisions*/, double /*seconds*/) {}
  // One task invocation returned (error empty when it succeeded).
  virtual void TaskFinished(std::string_view /*state_machine*/, std::string_view /*execution_arn*/,
                            std::string_view /*task_id*/, std::string_view /*error*/,
                            double /*seconds*/) {}
};

// The queue as one node sees it (Engine::Stats).
struct EngineStats {
  int64_t runnable_work = 0;  // work items due now and not leased (tasks and timers)
  int64_t leased_work = 0;    // work items leased by any node
  int64_t pending_timers = 0;  // timers, task and heartbeat deadlines not yet due
  int64_t leases_held = 0;    // tasks this node runs now under its leases
};

struct EngineOptions {
  // A libpq connection string or URL. Empty: the embedded cluster in `data_dir` (created and
  // started when needed, stopped when the engine goes).
  std::string database_url;
  std::string data_dir;
  bool migrate = true;  // apply pending migrations on start
  // Claim and run work on this engine (a node). False: a client that only starts, stops and
  // describes executions (e.g. the CLI talking to a running server).
  bool run_workers = true;
  std::string node_id;  // names this engine's leases; empty = a random id
  int pool_size = 4;    // database connections for API calls
  std::chrono::milliseconds lease{10000};
  int max_tasks_in_flight = 64;                   // task invocations this node runs at once
  int decision_batch = 256;                       // decisions per transaction at most
  int decision_threads = 2;                       // transactions of decisions in flight at once
  std::chrono::milliseconds poll_interval{1000};  // the backstop when no NOTIFY comes
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  // Runs Lambda resources (arn:aws:lambda:...:function:NAME, arn:aws:states:::lambda:invoke).
  // Null: an engine-owned invoker, to which RegisterFunction / RegisterNative add functions.
  // Must outlive the engine.
  invoker::Invoker* invoker = nullptr;
  // Told of executions, decisions and tasks (metrics, logs). Null: nobody. Must outlive the
  // engine.
  EngineObserver* observer = nullptr;
};

struct StateMachineInfo {
  std::string name;
  std::string arn;
  std::string type;  // STANDARD | EXPRESS
  std::string definition;
  std::string role_arn;
  std::string revision_id;
  std::string status;         // ACTIVE
  int64_t creation_date = 0;  // ns since the epoch
};

struct ExecutionInfo {
  std::string execution_arn;
  std::string state_machine_arn;
  std::string name;
  std::string status;  // RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
  std::string input;   // JSON text
  std::optional<std::string> output;
  std::optional<std::string> error;
  std::optional<std::string> cause;
  int64_t start_date = 0;  // ns since the epoch
  std::optional<int64_t> stop_date;
  int64_t redrive_count = 0;
};

struct StartExecutionResult {
  std::string execution_arn;
  int64_t start_date = 0;
};

// StartSyncExecution's answer (an Express execution run to its end).
struct SyncExecutionResult {
  std::string execution_arn;
  std::string status;
  std::optional<std::string> output;
  std::optional<std::string> error;
  std::optional<std::string> cause;
  int64_t start_date = 0;
  int64_t stop_date = 0;
};

// One history event as GetExecutionHistory returns it; `details` is the JSON object text under
// `details_key` (both empty when the event has no details).
struct HistoryEntry {
  int64_t id = 0;
  int64_t previous_event_id = 0;
  int64_t timestamp = 0;  // ns since the epoch
  std::string type;
  std::string details_key;
  std::string details;
  // {"id":..,"previousEventId":..,"timestamp":"2024-...Z","type":..,<details_key>:{...}}.
  std::string ToJson() const;
};

struct HistoryPage {
  std::vector<HistoryEntry> events;
  std::string next_token;  // empty: no more
};

class Engine {
 public:
  // Connects (starting the embedded cluster when no URL is given), migrates when asked, and
  // starts this node's workers. Throws std::runtime_error when the database cannot be reached
  // or prepared.
  static std::unique_ptr<Engine> Create(EngineOptions options);
  // Shuts down (see Shutdown).
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Adds a function to the engine-owned invoker (not available with EngineOptions::invoker).
  // Returns "" or the reason. A native function runs in this process; Task states reach it as
  // arn:aws:lambda:<region>:<account>:function:<name> or through lambda:invoke. The
  // NativeContext's request_id is the invocation id: the execution ARN, the task state's name
  // and the attempt, stable across redeliveries of the same attempt.
  std::string RegisterNative(const std::string& name, invoker::NativeFunction function,
                             int64_t timeout_seconds = 60);
  std::string RegisterFunction(const invoker::FunctionConfig& config);

  // State machines. `type` "STANDARD" (default) or "EXPRESS". Creating a machine that exists
  // with the same definition, role and type returns it; otherwise StateMachineAlreadyExists.
  // A definition that does not validate is InvalidDefinition (the cause lists the diagnostics).
  asl::Result<StateMachineInfo> CreateStateMachine(const std::string& name,
                                                   const std::string& definition,
                                                   const std::string& type = "STANDARD",
                                                   const std::string& role_arn = "");
  // New executions run the new definition; running ones keep theirs.
  asl::Result<StateMachineInfo> UpdateStateMachine(const std::string& name_or_arn,
                                                   const std::string& definition);
  asl::Result<StateMachineInfo> DescribeStateMachine(const std::string& name_or_arn);
  std::vector<StateMachineInfo> ListStateMachines();
  asl::Status DeleteStateMachine(const std::string& name_or_arn);

  // Starts an execution (`name` empty: a generated UUID; `input` JSON text, default "{}").
  // Idempotent by name: the same name and input of a RUNNING execution return that execution;
  // otherwise ExecutionAlreadyExists. Returns once the first decision has committed. An Express
  // machine's execution starts in memory on this node.
  asl::Result<StartExecutionResult> StartExecution(const std::string& state_machine,
                                                   const std::string& name,
                                                   const std::string& input);
  // Runs an Express execution to its end on this thread (StateMachineTypeNotSupported for a
  // Standard machine).
  asl::Result<SyncExecutionResult> StartSyncExecution(const std::string& state_machine,
                                                      const std::string& name,
                                                      const std::string& input);
  asl::Result<ExecutionInfo> DescribeExecution(const std::string& execution_arn);
  // Newest first; `status_filter` empty = any; at most `max_results` (1..1000).
  asl::Result<std::vector<ExecutionInfo>> ListExecutions(const std::string& state_machine,
                                                         const std::string& status_filter = "",
                                                         int64_t max_results = 100);
  // `max_results` 1..1000 (default 100 as AWS); `next_token` from a previous page.
  asl::Result<HistoryPage> GetExecutionHistory(const std::string& execution_arn,
                                               int64_t max_results = 100,
                                               const std::string& next_token = "",
                                               bool reverse_order = false);
  // Aborts a RUNNING execution (a no-op for one that has ended). Returns the stop date.
  asl::Result<int64_t> StopExecution(const std::string& execution_arn,
                                     const std::string& error = "", const std::string& cause = "");
  // Blocks until the execution has ended or `timeout` passes; returns its description then.
  asl::Result<ExecutionInfo> WaitForExecution(const std::string& execution_arn,
                                              std::chrono::milliseconds timeout);

  // Callbacks of `.waitForTaskToken` tasks, from any node. InvalidToken for a malformed token,
  // TaskDoesNotExist when no task waits for it (ended, timed out or never existed);
  // InvalidOutput when `output` is not JSON.
  asl::Status SendTaskSuccess(const std::string& token, const std::string& output);
  asl::Status SendTaskFailure(const std::string& token, const std::string& error,
                              const std::string& cause);
  asl::Status SendTaskHeartbeat(const std::string& token);

  // Graceful shutdown (idempotent): stops claiming, waits for the decisions already asked for,
  // gives the leases of tasks still running back (another node, or the next start, runs them
  // again), stops Express executions of this node, and closes the database.
  void Shutdown();

  // The work queue's depth and this node's leases. Throws std::runtime_error when the database
  // cannot be reached.
  EngineStats Stats();

  // This engine's lease owner id.
  const std::string& node_id() const;

  struct Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::orchestrator
