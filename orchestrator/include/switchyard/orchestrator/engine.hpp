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
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/asl/result.hpp"
#include "switchyard/invoker/invoker.hpp"

namespace switchyard::orchestrator {

class TaskBackend;  // memory_driver.hpp

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
inline constexpr std::string_view kConflictException = "ConflictException";
inline constexpr std::string_view kResourceNotFound = "ResourceNotFound";
inline constexpr std::string_view kServiceQuotaExceededException = "ServiceQuotaExceededException";
inline constexpr std::string_view kTooManyTags = "TooManyTags";
inline constexpr std::string_view kActivityDoesNotExist = "ActivityDoesNotExist";
inline constexpr std::string_view kActivityAlreadyExists = "ActivityAlreadyExists";
inline constexpr std::string_view kExecutionNotRedrivable = "ExecutionNotRedrivable";

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
  int64_t runnable_work = 0;   // work items due now and not leased (tasks and timers)
  int64_t leased_work = 0;     // work items leased by any node
  int64_t pending_timers = 0;  // timers, task and heartbeat deadlines not yet due
  int64_t leases_held = 0;     // tasks this node runs now under its leases
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
  // Claim no task until ReleaseTasks(): for a host that installs the functions Task states call
  // after the engine exists (a task claimed before would find no function).
  bool hold_tasks = false;
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
  // Runs the other optimized service integrations (arn:aws:states:::sqs:sendMessage[
  // .waitForTaskToken] in `serve`). Null: such Task states fail as unknown resources. Must
  // outlive the engine.
  TaskBackend* service_backend = nullptr;
  // Told of executions, decisions and tasks (metrics, logs). Null: nobody. Must outlive the
  // engine.
  EngineObserver* observer = nullptr;
  // Retention: executions that ended longer ago than this are deleted with their history (AWS
  // keeps them 90 days). One node at a time purges, in small batches, every
  // `retention_interval`; zero `retention` keeps them forever.
  std::chrono::seconds retention{std::chrono::hours(24 * 90)};
  std::chrono::milliseconds retention_interval{std::chrono::minutes(10)};
};

struct ActivityInfo {
  std::string name;
  std::string arn;
  std::string tags;           // JSON array text: [{"key": "...", "value": "..."}]
  int64_t creation_date = 0;  // ns since the epoch
};

struct ActivityPage {
  std::vector<ActivityInfo> activities;
  std::string next_token;  // empty: no more
};

// GetActivityTask's answer: both empty when no task came within the wait.
struct ActivityTask {
  std::string task_token;
  std::string input;
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
  // Set when started through a version (and an alias) ARN.
  std::optional<std::string> state_machine_version_arn;
  std::optional<std::string> state_machine_alias_arn;
  std::optional<int64_t> redrive_date;  // ns since the epoch; the last redrive
  // REDRIVABLE or NOT_REDRIVABLE (with the reason, AWS's wording) as RedriveExecution would find.
  std::string redrive_status;
  std::string redrive_status_reason;
};

struct StartExecutionResult {
  std::string execution_arn;
  int64_t start_date = 0;
};

// StartSyncExecution's answer (an Express execution run to its end).
struct SyncExecutionResult {
  std::string execution_arn;
  std::string state_machine_arn;  // unqualified, also when started on a version or alias
  std::string name;
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

// A published version (PublishStateMachineVersion).
struct StateMachineVersionInfo {
  std::string arn;  // arn:aws:states:<region>:<account>:stateMachine:<name>:<n>
  std::string description;
  std::string revision_id;
  int64_t creation_date = 0;  // ns since the epoch
};

struct RoutingEntry {
  std::string version_arn;
  int64_t weight = 0;  // percent
};

struct StateMachineAliasInfo {
  std::string arn;  // arn:aws:states:<region>:<account>:stateMachine:<name>:<alias>
  std::string name;
  std::string description;
  std::vector<RoutingEntry> routing;
  int64_t creation_date = 0;
  int64_t update_date = 0;
};

// The state machine (revision) an execution runs, as DescribeStateMachineForExecution shows it.
struct ExecutionStateMachineInfo {
  StateMachineInfo machine;  // definition and revision_id of the execution's revision
  int64_t update_date = 0;
  std::optional<std::string> state_machine_version_arn;
  std::optional<std::string> state_machine_alias_arn;
};

// One page of a listing; `next_token` empty: no more.
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_token;
};

// TestState's answer (see Engine::TestState).
struct TestStateResult {
  std::string status;  // SUCCEEDED | FAILED | RETRIABLE | CAUGHT_ERROR
  std::optional<std::string> output;
  std::optional<std::string> error;
  std::optional<std::string> cause;
  std::optional<std::string> next_state;
  // DEBUG / TRACE: each step of the state's data flow, as JSON text.
  bool inspected = false;
  std::optional<std::string> input, after_input_path, after_parameters, result,
      after_result_selector, after_result_path, variables;
  // DEBUG / TRACE, for a handled error: the Catch that caught it (CAUGHT_ERROR), or the Retry
  // that would retry it and its backoff (RETRIABLE).
  std::optional<int64_t> catch_index, retry_index, retry_backoff_seconds;
};

// TestState's request (the members of AWS's TestStateInput that Switchyard acts on).
struct TestStateRequest {
  std::string definition;  // a state, or with `state_name` a whole state machine
  std::string input = "{}";
  std::string inspection_level = "INFO";
  std::string variables;   // a JSON object, or empty
  std::string state_name;  // empty: `definition` is the state itself
  // mock: a result (JSON text) or an error (`mock_error` non-empty) replaces the invocation of
  // a Task, Map or Parallel state.
  std::optional<std::string> mock_result;
  std::string mock_error;
  std::string mock_cause;
  std::string field_validation_mode;  // STRICT (default) | PRESENT | NONE
  std::string context;                // a Context object (JSON object text); only with a mock
  std::optional<int64_t> retrier_retry_count;  // stateConfiguration.retrierRetryCount
  bool HasMock() const { return mock_result.has_value() || !mock_error.empty(); }
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
  // and the attempt, stable across redeliveries of the same attempt. By default a Task's call
  // runs on a thread of the invoker's (the function may block); a function registered
  // kNonBlocking promises to return at once and runs on the thread that starts the node's tasks,
  // one after another, with no thread handoff.
  std::string RegisterNative(const std::string& name, invoker::NativeFunction function,
                             int64_t timeout_seconds = 60,
                             invoker::NativeMode mode = invoker::NativeMode::kMayBlock);
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
  // StartExecution without blocking the caller's thread: `done` is called exactly once with what
  // StartExecution would return, after the first decision committed (on the engine's decision
  // thread, so it must not block), or at once on this thread for a request refused before that.
  // Returns false, without calling `done`, for a version or alias ARN (resolving it reads the
  // database; call StartExecution for those). Reads no database on the caller's thread.
  bool StartExecutionAsync(const std::string& state_machine, const std::string& name,
                           const std::string& input,
                           std::function<void(asl::Result<StartExecutionResult>)> done);
  // Runs an Express execution to its end on this thread. `state_machine` is a machine, version or
  // alias ARN (resolved as StartExecution does); StateMachineTypeNotSupported for a Standard
  // machine or a version or alias of one.
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

  // Versions and aliases (engine_versions.cpp). Version ARNs end in ":<n>", alias ARNs in
  // ":<alias>". Pages take `max_results` 1..1000 (0 = 100) and an opaque `next_token`
  // (InvalidToken when it is not one this engine gave).
  //
  // Publishes the machine's current revision (ConflictException when `revision_id` is given and
  // is not the current one; the existing version when that revision has one already;
  // ServiceQuotaExceededException past 1000 versions).
  asl::Result<StateMachineVersionInfo> PublishStateMachineVersion(const std::string& machine_arn,
                                                                  const std::string& revision_id,
                                                                  const std::string& description);
  // Newest first.
  asl::Result<Page<StateMachineVersionInfo>> ListStateMachineVersions(
      const std::string& machine_arn, int64_t max_results, const std::string& next_token);
  // ConflictException while an alias routes to it; deleting a missing version succeeds.
  asl::Status DeleteStateMachineVersion(const std::string& version_arn);
  // A version described as DescribeStateMachine describes one (arn = the version ARN).
  asl::Result<StateMachineInfo> DescribeStateMachineVersion(const std::string& version_arn,
                                                            std::string* description);
  // `routing`: 1 or 2 versions of one machine, weights 0..100 summing to 100.
  asl::Result<StateMachineAliasInfo> CreateStateMachineAlias(
      const std::string& name, const std::string& description,
      const std::vector<RoutingEntry>& routing);
  asl::Result<StateMachineAliasInfo> DescribeStateMachineAlias(const std::string& alias_arn);
  // `machine_or_version_arn`: a version ARN lists the aliases routing to it.
  asl::Result<Page<StateMachineAliasInfo>> ListStateMachineAliases(
      const std::string& machine_or_version_arn, int64_t max_results,
      const std::string& next_token);
  // Returns the update date. Nullopt members are left as they are.
  asl::Result<int64_t> UpdateStateMachineAlias(
      const std::string& alias_arn, const std::optional<std::string>& description,
      const std::optional<std::vector<RoutingEntry>>& routing);
  asl::Status DeleteStateMachineAlias(const std::string& alias_arn);
  asl::Result<ExecutionStateMachineInfo> DescribeStateMachineForExecution(
      const std::string& execution_arn);
  // ListExecutions by pages, on a machine, version or alias ARN (newest first).
  asl::Result<Page<ExecutionInfo>> ListExecutionsPage(const std::string& arn,
                                                      const std::string& status_filter,
                                                      int64_t max_results,
                                                      const std::string& next_token);

  // Tags of state machines and activities (by ARN); ResourceNotFound when the resource does not
  // exist, TooManyTags past 50.
  asl::Status TagResource(const std::string& resource_arn,
                          const std::vector<std::pair<std::string, std::string>>& tags);
  asl::Status UntagResource(const std::string& resource_arn, const std::vector<std::string>& keys);
  asl::Result<std::vector<std::pair<std::string, std::string>>> ListTagsForResource(
      const std::string& resource_arn);

  // TestState: runs one state (`state_definition`, a state's JSON object) on `input`, Task
  // states invoking their resources for real, Wait states without waiting, Retry not applied
  // (RETRIABLE instead). `variables` is a JSON object (or empty). `inspection_level` INFO, DEBUG
  // or TRACE (DEBUG and TRACE fill the inspection data). InvalidDefinition /
  // InvalidExecutionInput / ValidationException for bad requests.
  asl::Result<TestStateResult> TestState(const std::string& state_definition,
                                         const std::string& input,
                                         const std::string& inspection_level,
                                         const std::string& variables);
  // The same with `stateName` (the state of a whole machine; ValidationException when it has
  // none of that name), `mock` (the Task, Map or Parallel state's result or error without
  // running it; ValidationException for another state type), `context` (used for the DEBUG
  // inspection of a JSONPath state's data flow) and stateConfiguration.retrierRetryCount
  // (RETRIABLE only while that retrier has attempts left).
  asl::Result<TestStateResult> TestState(const TestStateRequest& request);
  // Activities (arn:aws:states:<region>:<account>:activity:<name>). CreateActivity is idempotent
  // by name (the same tags return the activity; other tags ActivityAlreadyExists); `tags` is a
  // JSON array of {"key", "value"} objects. Unknown ARNs are ActivityDoesNotExist (Describe,
  // GetActivityTask) or no-ops (Delete); malformed ones InvalidArn.
  asl::Result<ActivityInfo> CreateActivity(const std::string& name, const std::string& tags = "[]");
  asl::Status DeleteActivity(const std::string& activity_arn);
  asl::Result<ActivityInfo> DescribeActivity(const std::string& activity_arn);
  // By name; `max_results` 1..1000 (0 = 100).
  asl::Result<ActivityPage> ListActivities(int64_t max_results = 100,
                                           const std::string& next_token = "");
  // Takes the oldest task scheduled for the activity (its execution records ActivityStarted with
  // `worker_name`), waiting up to `wait` for one (AWS: 60 s). The waiting holds no database
  // connection. Answers an empty task when none came. The task then ends through
  // SendTaskSuccess / SendTaskFailure with its token; SendTaskHeartbeat restarts its
  // HeartbeatSeconds.
  asl::Result<ActivityTask> GetActivityTask(
      const std::string& activity_arn, const std::string& worker_name,
      std::chrono::milliseconds wait = std::chrono::seconds(60));

  // Runs a FAILED, TIMED_OUT or ABORTED Standard execution again from the state it ended in
  // (history: ExecutionRedriven, then that state entered again). ExecutionNotRedrivable when AWS's
  // rules refuse it (still running or succeeded, ended more than 14 days ago, history limit, 1,000
  // redrives, a Parallel or Map state was running: see redrive_status_reason). The same
  // non-empty `client_token` as the last redrive is the same call. Returns the redrive date.
  asl::Result<int64_t> RedriveExecution(const std::string& execution_arn,
                                        const std::string& client_token = "");

  // One retention pass now (what the engine does every retention_interval): deletes executions
  // that ended before now - retention, in batches, unless another node is purging. Returns how
  // many it deleted.
  int64_t PurgeExpiredExecutions();

  // Graceful shutdown (idempotent): stops claiming, waits for the decisions already asked for,
  // gives the leases of tasks still running back (another node, or the next start, runs them
  // again), stops Express executions of this node, and closes the database.
  void Shutdown();
  // The same, except that the tasks already running here may first finish (and their outcomes
  // be decided) until `drain_until`; the leases of those still running then go back.
  void Shutdown(std::chrono::steady_clock::time_point drain_until);

  // The work queue's depth and this node's leases. Throws std::runtime_error when the database
  // cannot be reached.
  EngineStats Stats();

  // Lets this node claim tasks (see EngineOptions::hold_tasks); idempotent.
  void ReleaseTasks();

  // This engine's lease owner id.
  const std::string& node_id() const;

  struct Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::orchestrator
