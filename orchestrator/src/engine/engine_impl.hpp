#pragma once
// The engine's insides: the decision queue and its thread, the task claimer, lease renewal and
// the NOTIFY listener. See engine.hpp for the contract.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/database.hpp"
#include "store/execution_store.hpp"
#include "store/pool.hpp"  // the store's transactions (pqxx) are the engine's handles
#include "store/work_channel.hpp"
#include "switchyard/asl/core.hpp"
#include "switchyard/asl/definition.hpp"
#include "switchyard/invoker/invoker.hpp"
#include "switchyard/orchestrator/engine.hpp"
#include "switchyard/orchestrator/lambda_backend.hpp"
#include "switchyard/orchestrator/memory_driver.hpp"

namespace switchyard::orchestrator {

// What a decision answers its caller (empty error = done).
struct DecisionReply {
  asl::Error error;
  std::string execution_arn;
  int64_t date = 0;
  // kActivityTake: the task taken (empty: none waits).
  std::string token;
  std::string input;
};

// Where a decision's reply goes: a promise (a caller blocked in Decide) or a callback (run on
// the decision thread once the batch committed, e.g. StartExecutionAsync). A callback never
// answered (the request dropped) is answered with ServiceUnavailable when this is destroyed, so
// no caller waits forever. Movable, not copyable; `set_value` at most once.
class DecisionReplyTo {
 public:
  explicit DecisionReplyTo(std::promise<DecisionReply> promise) : promise_(std::move(promise)) {}
  explicit DecisionReplyTo(std::function<void(DecisionReply)> done) : done_(std::move(done)) {}
  DecisionReplyTo(DecisionReplyTo&& other) noexcept
      : promise_(std::move(other.promise_)), done_(std::exchange(other.done_, nullptr)) {}
  DecisionReplyTo& operator=(DecisionReplyTo&&) = delete;
  DecisionReplyTo(const DecisionReplyTo&) = delete;
  DecisionReplyTo& operator=(const DecisionReplyTo&) = delete;
  ~DecisionReplyTo();

  void set_value(DecisionReply reply);

 private:
  std::promise<DecisionReply> promise_;  // unused when done_ is set
  std::function<void(DecisionReply)> done_;
};

// One thing the decision thread must do in a transaction.
struct DecisionRequest {
  // kTimer: one due timer (work_id), decided alone after a batch with it failed.
  enum class Kind { kStart, kEvent, kCallback, kHeartbeat, kStop, kTimer, kActivityTake, kRedrive };
  Kind kind = Kind::kEvent;

  // kStart.
  std::string state_machine_name;
  std::string execution_name;
  std::string input_text;
  // kStart through a version or alias ARN: the version's revision (empty: the machine's current
  // one) and the ARNs DescribeExecution reports.
  std::string revision_id;
  std::string version_arn;
  std::string alias_arn;

  // kEvent: an event for an execution, from a leased task (work_id/generation fence it).
  // kTimer: execution_id and work_id.
  int64_t execution_id = 0;
  asl::Event event;
  int64_t work_id = 0;
  int64_t generation = 0;
  bool callback_invocation = false;  // the invocation of a .waitForTaskToken task returned
  // kEvent from a leased task: whether the task has a timeout / heartbeat work item (its work
  // item's payload says), so that only rows that exist are deleted.
  bool task_timeout_item = true;
  bool task_heartbeat_item = true;

  // kCallback / kHeartbeat: the token; kCallback carries `event` (task_id empty).
  std::string token;

  // kStop, kRedrive.
  std::string execution_arn;

  // kActivityTake: take a task of this activity for `worker_name`. kRedrive: the client token.
  std::string activity_arn;
  std::string worker_name;
  std::string client_token;

  std::optional<DecisionReplyTo> reply;
};

// AWS: state machine, execution, version alias names are 1-80 characters (bytes here) without
// whitespace, brackets, wildcards, punctuation among " # % \ ^ | ~ ` $ & , ; : / or control
// characters (engine.cpp).
bool ValidName(const std::string& name);

// Task deadlines beyond the longest a Standard execution lives are no deadlines (ASL's default
// TimeoutSeconds is 99,999,999): no work item is written for them.
inline constexpr int64_t kNoDeadlineSeconds = 366LL * 24 * 3600;

// What StartExecution on a version or alias ARN runs (engine_versions.cpp).
struct StartTarget {
  std::string machine_name;
  std::string revision_id;
  std::string definition;
  std::string version_arn;
  std::string alias_arn;  // empty: started on the version itself
};

// StartExecution's and StartSyncExecution's request, checked and resolved (engine.cpp).
struct PreparedStart {
  std::string machine_name;
  std::string execution_name;  // the caller's, or a generated UUID
  std::string input_text;
  asl::Json input;
  StartTarget target;  // a version or alias ARN: the version that runs; else empty
};

// A claimed task in flight on this node.
struct InFlightTask {
  int64_t work_id = 0;
  int64_t generation = 0;
  int64_t execution_id = 0;
  bool started = false;  // its invocation runs (RunTask); what a shutdown's grace waits for
  // No later than the database's start of its lease (taken or last renewed): the renewer
  // renews only leases old enough to need it (most tasks end long before).
  std::chrono::steady_clock::time_point leased_at{};
  // An inline task (its lease in the execution's execution_states row, not in work_items): its
  // id here is negative and names no work item.
  bool inline_task = false;
};

struct Engine::Impl {
  explicit Impl(EngineOptions options);
  ~Impl();

  void Start();
  // `drain_until`: how long the tasks already running may take to finish (their outcomes are
  // decided) before their leases are given back; none when it has passed.
  void Shutdown(std::chrono::steady_clock::time_point drain_until = {});

  // Queues a request for the decision thread; waits for its reply when it has one.
  DecisionReply Decide(DecisionRequest request);
  void Post(DecisionRequest request);
  // Queues a request whose reply goes to `done`, called once: on the decision thread after the
  // batch committed, or here at once when the engine is shut down.
  void DecideAsync(DecisionRequest request, std::function<void(DecisionReply)> done);

  // The state machine a StartExecution runs (nullopt: none of that name), from this node's
  // cache when it was read less than kMachineCacheTtl ago. This node's Create/Update/Delete
  // forget it at once (ForgetMachine); a change made through another node is seen within
  // kMachineCacheTtl (AWS: executions started right after UpdateStateMachine may still use the
  // previous definition). Absent machines are not cached.
  std::optional<store::StateMachineRow> MachineForStart(pqxx::transaction_base& tx,
                                                        const std::string& name);
  void ForgetMachine(const std::string& name);
  // The Express half of StartExecution (the decision answered "__express__" with the stored
  // definition): runs the execution in memory on this node, on its own thread.
  asl::Result<StartExecutionResult> StartExpress(const PreparedStart& prepared,
                                                 const std::string& stored_definition);

  // The parsed definition of a revision (cached).
  std::shared_ptr<const asl::StateMachineDef> Definition(pqxx::transaction_base& tx,
                                                         const std::string& revision_id);

  std::string StateMachineArn(const std::string& name) const;
  std::string ExecutionArn(const std::string& state_machine, const std::string& name,
                           bool express) const;
  // A state machine name from a name or an ARN (nullopt: an ARN of something else).
  std::optional<std::string> StateMachineName(const std::string& name_or_arn) const;

  // A version or alias ARN (`...:stateMachine:<name>:<qualifier>`) resolved to the version that
  // runs (an alias picks one of its versions by weight). StateMachineDoesNotExist /
  // ResourceNotFound / InvalidArn as AWS answers StartExecution.
  asl::Result<StartTarget> ResolveStartTarget(const std::string& qualified_arn);
  static bool IsQualifiedStateMachineArn(const std::string& arn);
  // The shared prologue of StartExecution and StartSyncExecution: the ARN (unqualified, version
  // or alias) resolved, the name and input checked (InvalidArn, InvalidName, ValidationException,
  // InvalidExecutionInput, or ResolveStartTarget's errors).
  asl::Result<PreparedStart> PrepareStart(const std::string& state_machine, const std::string& name,
                                          const std::string& input);

  // Threads.
  void DecisionLoop();
  void ClaimLoop();
  void RenewLoop();
  void ListenLoop();

  // One transaction for a batch (requests whose replies are set on success).
  void RunBatch(std::vector<DecisionRequest>& batch, bool claim_timers);
  void RunTask(const store::WorkItem& item);
  void RetentionLoop();
  int64_t PurgeExpired();
  // Wakes GetActivityTask pollers of this node (tasks scheduled here, or a NOTIFY).
  void WakeActivityPollers();
  // DescribeExecution's redrive members (redrive date, status and reason).
  void FillRedriveStatus(ExecutionInfo& info);
  // A decision for the execution failed alone, not transiently (e.g. PostgreSQL refuses what it
  // would write). After kMaxDecisionFailures such failures on this node the execution fails
  // (States.Runtime) instead of being retried every lease or poll forever.
  void DecisionFailed(int64_t execution_id, const std::exception& error);
  void FailExecution(int64_t execution_id, const std::string& reason, int attempts);
  // Decides each request of a failed batch alone (and, when the batch claimed timers, each due
  // timer alone), so that one execution whose decision throws holds up no other.
  void DecideOneByOne(std::vector<DecisionRequest>& batch, bool claimed_timers);

  int64_t Now() const;

  EngineOptions options_;
  std::string node_id_;
  store::Database database_;  // the URL, and the embedded cluster when this engine started it
  std::unique_ptr<store::ConnectionPool> db_;
  std::unique_ptr<invoker::Invoker> owned_invoker_;
  invoker::Invoker* invoker_ = nullptr;
  std::unique_ptr<TaskBackend> backend_;

  // Execution states this node committed last, with the decision count they were committed as:
  // a decision whose locked row still has that count (no other node or thread decided since)
  // takes the state from here instead of parsing the row's snapshot. Entries are moved out while
  // a transaction uses them and put back only after it committed. Bounded (kStateCacheSize).
  struct CachedState {
    int64_t decision_count = 0;
    asl::ExecutionState state;
  };
  static constexpr std::size_t kStateCacheSize = 20000;
  std::mutex states_mu_;
  std::unordered_map<int64_t, CachedState> states_;  // Guarded by states_mu_.

  struct CachedMachine {
    store::StateMachineRow row;
    std::chrono::steady_clock::time_point fetched;
  };
  static constexpr std::chrono::milliseconds kMachineCacheTtl{1000};
  static constexpr std::size_t kMachineCacheSize = 10000;
  std::mutex machines_mu_;
  std::unordered_map<std::string, CachedMachine> machines_;  // Guarded by machines_mu_.
  uint64_t machines_epoch_ = 0;  // Guarded by machines_mu_: ForgetMachine calls so far.

  std::mutex definitions_mu_;
  std::map<std::string, std::shared_ptr<const asl::StateMachineDef>> definitions_;  // Guarded.

  // The decision queue.
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<DecisionRequest> queue_;  // Guarded by mu_.
  bool stopping_ = false;              // Guarded by mu_: no more claims.
  bool renew_stop_ = false;            // Guarded by tasks_mu_: the renewer ends (after any drain).
  bool decider_stop_ = false;          // Guarded by mu_.
  int64_t next_timer_check_ = 0;       // Guarded by mu_: when to look for due timers.
  static constexpr int kMaxDecisionFailures = 3;
  std::map<int64_t, int> decision_failures_;  // Guarded by mu_: by execution id.

  // Tasks in flight on this node, by work id.
  std::mutex tasks_mu_;
  std::condition_variable tasks_cv_;
  std::map<int64_t, InFlightTask> in_flight_;  // Guarded by tasks_mu_.
  int64_t last_inline_id_ = 0;  // Guarded by tasks_mu_: inline tasks' ids, -1, -2, ...
  bool claim_wanted_ = true;    // Guarded by tasks_mu_: look for tasks now.
  // Guarded by tasks_mu_: room held by decision batches for the task items they lease to this
  // node (decisions.cpp), counted with in_flight_ against max_tasks_in_flight.
  int64_t reserved_tasks_ = 0;
  // Guarded by tasks_mu_: unleased task items may be waiting (set by what enqueues or announces
  // them, cleared by a claim that found fewer than it asked for).
  bool task_backlog_ = true;
  // Guarded by tasks_mu_: task items leased to this node by its decisions (already in
  // in_flight_), for the claimer thread to start.
  std::vector<store::WorkItem> ready_tasks_;
  bool tasks_held_ = false;  // Guarded by tasks_mu_: EngineOptions::hold_tasks.

  // Completers hold this, not the engine: an invocation ending after shutdown is dropped.
  struct Mailbox {
    std::mutex mu;
    Impl* impl = nullptr;  // Guarded by mu; null once closed.
  };
  std::shared_ptr<Mailbox> mailbox_ = std::make_shared<Mailbox>();

  std::atomic<bool> notify_pending_{false};

  // Express executions running on this node.
  std::mutex express_mu_;
  std::map<std::string, MemoryDriver*> express_;  // Guarded by express_mu_.
  struct ExpressThread {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<ExpressThread> express_threads_;  // Guarded by express_mu_; reaped when done.

  // GetActivityTask pollers wait here for activity_epoch_ to move.
  std::mutex activity_mu_;
  std::condition_variable activity_cv_;
  uint64_t activity_epoch_ = 0;  // Guarded by activity_mu_.
  bool activity_stop_ = false;   // Guarded by activity_mu_.

  std::vector<std::thread> deciders_;
  std::thread retention_;
  std::thread claimer_;
  std::thread renewer_;
  std::thread listener_;
  bool started_ = false;
  bool shut_down_ = false;
};

}  // namespace switchyard::orchestrator
