#pragma once
// The engine's SQL: state machines, executions, history, the work queue, task tokens. Every
// function runs prepared statements inside the transaction it is given and throws what libpqxx
// throws (the caller's transaction loop retries transient failures). Times are nanoseconds since
// the Unix epoch (PostgreSQL keeps microseconds). Batch operations send one statement per batch
// (arrays unnested on the server), so a group commit costs a fixed number of round trips.
//
// Thread model: stateless functions; a transaction belongs to one thread.
#include <chrono>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::orchestrator::store {

// Registers this file's prepared statements on a connection (idempotent, cheap; the server
// prepares each on first use).
void PrepareExecutionStatements(pqxx::connection_base& connection);
// Throws (pqxx::sql_error) when the database lacks the engine's schema: fail early and clearly.
void CheckSchema(pqxx::transaction_base& tx);
// A decision transaction's first statement. It plans the rest of the transaction's statements
// for their actual parameters instead of reusing a generic plan: PostgreSQL keeps a prepared
// statement's generic plan until an ANALYZE of its tables invalidates it, and one made while the
// tables were small (a fresh database: the first minute, before autovacuum analyzes them) kept
// choosing sequential scans and hash joins after they grew; a long-lived node's decision batches
// slowed round after round in the benchmark (a batch of 256 outcomes 44 ms, two scans of 20,000
// executions). It also rules out table scans (enable_seqscan off): every statement reads and
// writes rows by key, but the hot tables' statistics go stale within seconds (work_items churns;
// autovacuum comes a minute or more later), and the ended executions' work delete scanned all of
// work_items, 5 ms of a 256-decision batch. (The lock statement's generic plans would save ~7 %
// of task throughput, but a generic plan made over tiny tables may join by a whole-index read:
// bench/README.md, seventh pass.)
void UseCustomPlans(pqxx::transaction_base& tx);

// ---- state machines ---------------------------------------------------------------------------
struct StateMachineRow {
  std::string name;
  std::string arn;
  std::string type;  // STANDARD | EXPRESS
  std::string role_arn;
  std::string revision_id;
  std::string definition;
  std::string status;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// Inserts the machine with its first revision. Returns false (and writes nothing) when a machine
// of that name exists.
bool InsertStateMachine(pqxx::transaction_base& tx, const StateMachineRow& row);
// Points the machine at a new revision holding `definition` (and `role_arn` when not empty).
// Returns false when there is no such machine.
bool UpdateStateMachine(pqxx::transaction_base& tx, const std::string& name,
                        const std::string& revision_id, const std::string& definition,
                        const std::string& role_arn);
std::optional<StateMachineRow> GetStateMachine(pqxx::transaction_base& tx, const std::string& name);
// Without definitions, by name.
std::vector<StateMachineRow> ListStateMachines(pqxx::transaction_base& tx);
// Removes the machine (its executions keep their revisions). Returns false when absent.
bool DeleteStateMachine(pqxx::transaction_base& tx, const std::string& name);
// The definition text of a revision, or nullopt.
std::optional<std::string> GetRevision(pqxx::transaction_base& tx, const std::string& revision_id);

// ---- executions -------------------------------------------------------------------------------
struct ExecutionRow {
  int64_t execution_id = 0;
  std::string execution_arn;
  std::string state_machine_name;
  std::string state_machine_arn;
  std::string revision_id;
  std::string name;
  std::string status;
  std::string input;
  std::optional<std::string> output;
  std::optional<std::string> error;
  std::optional<std::string> cause;
  int64_t start_date = 0;
  std::optional<int64_t> stop_date;
  int64_t history_count = 0;
  int64_t redrive_count = 0;
};

// Inserts RUNNING executions (started at row.start_date) without snapshots yet, in one
// statement: ids in the order of `rows` (nullopt for a name taken, also by an earlier row of the
// same call; nothing is written for it).
std::vector<std::optional<int64_t>> InsertExecutions(pqxx::transaction_base& tx,
                                                     const std::vector<ExecutionRow>& rows);
std::optional<ExecutionRow> FindExecutionByName(pqxx::transaction_base& tx,
                                                const std::string& state_machine_name,
                                                const std::string& name);
std::optional<ExecutionRow> FindExecution(pqxx::transaction_base& tx,
                                          const std::string& execution_arn);
// Newest first; `status` empty = any. `before_id` (0 = none) continues a listing.
std::vector<ExecutionRow> ListExecutions(pqxx::transaction_base& tx,
                                         const std::string& state_machine_name,
                                         const std::string& status, int64_t before_id,
                                         int64_t limit);

// The new state of one execution after a decision.
struct ExecutionUpdate {
  int64_t execution_id = 0;
  std::string status;
  std::string snapshot;
  int64_t history_count = 0;
  std::optional<std::string> output;  // set when the execution ended
  std::optional<std::string> error;
  std::optional<std::string> cause;
  bool finished = false;  // sets stop_date
  // WriteDecisions: the execution's decision count as its decision locked it
  // (LockedExecution::decision_count, under the lock still held); the row gets one more.
  int64_t decision_count = 0;
  // WriteDecisions: the update goes to the executions row (and the execution_states row, if
  // any, is deleted) rather than to execution_states. Implied by finished, output, error and
  // cause; set it as well when the status changes.
  bool to_executions = false;
  // Whether WriteDecisions writes this update to the executions row (and no inline task).
  bool WritesExecutionsRow() const { return to_executions || finished || output || error || cause; }
  // WriteDecisions, for an update to execution_states: its inline task (LockedExecution::task_*)
  // stays, ends, or becomes the task `inline_key` with request `inline_payload`, leased to the
  // writer (a new generation).
  enum class InlineTask { kKeep = 0, kClear = 1, kSet = 2 };
  InlineTask inline_task = InlineTask::kKeep;
  std::string inline_key;
  std::string inline_payload;
};
// An empty ExecutionUpdate::snapshot is stored as NULL (a SUCCEEDED execution keeps none: nothing
// reads it, redrive refuses it).

// One execution as a decision sees it, locked FOR UPDATE until the transaction ends.
struct LockedExecution {
  int64_t execution_id = 0;
  std::string execution_arn;
  std::string name;
  std::string state_machine_name;
  std::string state_machine_arn;
  std::string revision_id;
  std::string status;
  // (Not the input: up to 256 KiB a decision never needs, the snapshot holds what it does.)
  std::optional<std::string> snapshot;  // nullopt before the first decision
  int64_t decision_count = 0;
  int64_t history_count = 0;
  // LockExecutionsCached: the caller's cached state is this row's (decision_count matched), so
  // `snapshot` was not transferred.
  bool snapshot_cached = false;
  // The execution's inline task (migrations/0010): leased to task_owner (empty: none) as
  // generation task_generation.
  std::string task_owner;
  int64_t task_generation = 0;
  std::string task_key;
};
// Locks the executions (in id order, so concurrent batches do not deadlock) and returns them in
// id order; ids that do not exist are missing from the result. Snapshots are transferred only for
// the ids in `snapshot_ids` (a caller that caches states asks only for those it lacks).
std::vector<LockedExecution> LockExecutions(pqxx::transaction_base& tx,
                                            const std::vector<int64_t>& execution_ids,
                                            const std::vector<int64_t>& snapshot_ids);
// As LockExecutions, for a caller that caches states by decision count: cached_ids[i] has a
// state as of decision cached_counts[i]. A row whose decision_count is that count comes back with
// snapshot_cached and no snapshot; every other row with its snapshot. Correct only because every
// write of `snapshot` increments `decision_count` (UpdateExecutions, InsertDecidedExecutions).
std::vector<LockedExecution> LockExecutionsCached(pqxx::transaction_base& tx,
                                                  const std::vector<int64_t>& execution_ids,
                                                  const std::vector<int64_t>& cached_ids,
                                                  const std::vector<int64_t>& cached_counts);

// `now` is the stop date of the executions that ended.
void UpdateExecutions(pqxx::transaction_base& tx, const std::vector<ExecutionUpdate>& updates,
                      int64_t now);
// The execution's decision count (-1 when it does not exist). Not a test of whether an in-doubt
// commit landed: another batch may have committed the same count since (the pool asks
// txid_status instead).
int64_t DecisionCount(pqxx::transaction_base& tx, int64_t execution_id);

// ---- history ----------------------------------------------------------------------------------
struct HistoryRow {
  int64_t execution_id = 0;
  int64_t event_id = 0;
  int64_t previous_event_id = 0;
  int64_t timestamp = 0;
  std::string type;
  std::string details_key;  // empty = none
  std::string details;      // JSON object text; empty = none
};
// Appends events, one history_chunks row per run of consecutive ids of one execution (the events
// of one decision).
void AppendHistory(pqxx::transaction_base& tx, const std::vector<HistoryRow>& rows);
// Events after `after_event_id` in id order (or before it, newest first, when `reverse`; 0 = from
// the end). At most `limit`. Reads history_events (rows written before migration 0009) and
// history_chunks alike; ids are 1..n without gaps, so a page is a range of ids.
std::vector<HistoryRow> ReadHistory(pqxx::transaction_base& tx, int64_t execution_id,
                                    int64_t after_event_id, int64_t limit, bool reverse);

// As InsertExecutions, each row together with its first decision (decisions[i], whose
// execution_id is ignored): status, snapshot, history count, output / error / cause, and a stop
// date (= row.start_date) when it finished; decision_count 1. One row version per execution. The
// history of those rows is appended in the same statement: `history[j].execution_id` is the
// position in `rows` of its execution (events of a row not inserted are dropped with it).
std::vector<std::optional<int64_t>> InsertDecidedExecutions(
    pqxx::transaction_base& tx, const std::vector<ExecutionRow>& rows,
    const std::vector<ExecutionUpdate>& decisions, const std::vector<HistoryRow>& history);

// ---- the work queue ---------------------------------------------------------------------------
inline constexpr const char* kWorkTask = "task";
inline constexpr const char* kWorkTimer = "timer";
inline constexpr const char* kWorkTaskTimeout = "task_timeout";
inline constexpr const char* kWorkHeartbeatTimeout = "heartbeat_timeout";

struct WorkItem {
  int64_t work_id = 0;
  int64_t execution_id = 0;
  std::string kind;
  std::string key;
  std::string payload;
  int64_t due_at = 0;
  int64_t attempts = 0;
  int64_t generation = 0;
  // WriteDecisions: a task item inserted already leased to the writer (generation 1), run by the
  // node that decided it without a claim.
  bool lease = false;
  // WriteDecisions' result: an inline task (ExecutionUpdate::inline_key) rather than a row of
  // work_items (work_id is 0), leased for lease_left_ms more.
  bool inline_task = false;
  int64_t lease_left_ms = 0;
};
// What InsertStartedExecutions wrote.
struct StartedExecutions {
  std::vector<std::optional<int64_t>> ids;  // by position in `rows`; nullopt: the name was taken
  std::vector<WorkItem> leased;  // task items inserted leased to lease_owner (with their ids)
};
// A batch of starts as ONE statement: as InsertDecidedExecutions, plus the work items their first
// decisions enqueue (`work[i].execution_id`, like `history[j].execution_id`, is the position of
// its execution in `rows`; nothing is written for a row not inserted). Task items marked `lease`
// are inserted leased to lease_owner for lease_ms, generation 1, as WriteDecisions does.
// Parameters in binary (no array text). Sent on a pqxx::nontransaction, the statement is its own
// implicit transaction: all or nothing, and committed (synchronous_commit) when this returns.
StartedExecutions InsertStartedExecutions(pqxx::transaction_base& tx,
                                          const std::vector<ExecutionRow>& rows,
                                          const std::vector<ExecutionUpdate>& decisions,
                                          const std::vector<HistoryRow>& history,
                                          const std::vector<WorkItem>& work,
                                          const std::string& lease_owner, int64_t lease_ms);
// Inserts work items; an item whose (execution, kind, key) exists is left as it is.
void EnqueueWork(pqxx::transaction_base& tx, const std::vector<WorkItem>& items);
// UpdateExecutions, EnqueueWork, AppendHistory and DeleteExecutionWork(ended_executions) in one
// statement (one round trip): the writes a decision batch makes after its deletions (`work` must
// hold nothing of ended_executions). Nothing is sent when all are empty. Task items
// marked `lease` (when `lease_owner` is not empty) are inserted leased to lease_owner for
// lease_ms, generation 1, attempts 1, as ClaimTasks would leave them; returned (with their
// work_id) are those inserted so (an item whose key existed is not). In a
// ConnectionPool::Transact, the statement also reports the transaction's id to the pool
// (NoteTransactionId), which then needs no round trip of its own for it before COMMIT.
std::vector<WorkItem> WriteDecisions(pqxx::transaction_base& tx,
                                     const std::vector<ExecutionUpdate>& updates, int64_t now,
                                     const std::vector<WorkItem>& work,
                                     const std::vector<HistoryRow>& history,
                                     const std::vector<int64_t>& ended_executions = {},
                                     const std::string& lease_owner = {}, int64_t lease_ms = 0);
// Deletes the items named by (execution_id, kind, key).
void DeleteWork(pqxx::transaction_base& tx, const std::vector<WorkItem>& items);
// Deletes every item, and every task token, of the executions.
void DeleteExecutionWork(pqxx::transaction_base& tx, const std::vector<int64_t>& execution_ids);
// Moves an item's due time (a heartbeat pushing its deadline). Returns false when it is gone.
bool RescheduleWork(pqxx::transaction_base& tx, int64_t execution_id, const std::string& kind,
                    const std::string& key, int64_t due_at);

// Claims due timer items (timer, task_timeout, heartbeat_timeout), locking them for the rest of
// the transaction (FOR UPDATE SKIP LOCKED): the caller applies them and deletes them with
// DeleteWorkIds before committing.
std::vector<WorkItem> ClaimTimers(pqxx::transaction_base& tx, int64_t limit);
void DeleteWorkIds(pqxx::transaction_base& tx, const std::vector<int64_t>& work_ids);
// Claims one due timer item by id, as ClaimTimers does; nullopt when it is gone, not due, or
// locked by another transaction.
std::optional<WorkItem> ClaimTimer(pqxx::transaction_base& tx, int64_t work_id);

// Claims up to `limit` runnable task items (due, unleased, or leased with an expired lease): sets
// lease_owner = owner, lease_until = now + lease, generation + 1, attempts + 1.
std::vector<WorkItem> ClaimTasks(pqxx::transaction_base& tx, const std::string& owner,
                                 int64_t lease_ms, int64_t limit);
// The fence: deletes the leased items still held by (owner, generation) and returns the ids
// deleted. An item missing from the result was claimed by someone else since (or is gone): its
// outcome must not be applied.
std::vector<int64_t> FenceWork(pqxx::transaction_base& tx, const std::string& owner,
                               const std::vector<int64_t>& work_ids,
                               const std::vector<int64_t>& generations);
// Extends the leases still held by (owner, generation); returns the ids extended.
std::vector<int64_t> RenewLeases(pqxx::transaction_base& tx, const std::string& owner,
                                 const std::vector<int64_t>& work_ids,
                                 const std::vector<int64_t>& generations, int64_t lease_ms);
// Gives leases back (shutdown): the items become runnable at once.
void ReleaseLeases(pqxx::transaction_base& tx, const std::string& owner,
                   const std::vector<int64_t>& work_ids);
// Milliseconds until the earliest timer or lease expiry of the given family (nullopt when none):
// `tasks` true for task items, false for timer items. Never negative.
std::optional<int64_t> MillisUntilDue(pqxx::transaction_base& tx, bool tasks);
// Inline tasks (ExecutionUpdate::inline_task) whose lease expired, at most `limit`, become
// runnable task items (for ClaimTasks), each under its execution's lock; those of executions
// locked by another transaction are left for the next call. Returns how many moved.
int64_t RescueInlineTasks(pqxx::transaction_base& tx, int64_t limit);
// Renews owner's inline tasks named by (execution, generation); returns the executions renewed.
std::vector<int64_t> RenewInlineLeases(pqxx::transaction_base& tx, const std::string& owner,
                                       const std::vector<int64_t>& execution_ids,
                                       const std::vector<int64_t>& generations, int64_t lease_ms);
// Gives owner's inline tasks named by (execution, generation) back: runnable task items now.
void ReleaseInlineTasks(pqxx::transaction_base& tx, const std::string& owner,
                        const std::vector<int64_t>& execution_ids,
                        const std::vector<int64_t>& generations);

// ---- task tokens ------------------------------------------------------------------------------
struct TaskTokenRow {
  std::string token;
  int64_t execution_id = 0;
  std::string task_id;
  int64_t heartbeat_seconds = 0;
};
void InsertTaskTokens(pqxx::transaction_base& tx, const std::vector<TaskTokenRow>& rows);
std::optional<TaskTokenRow> FindTaskToken(pqxx::transaction_base& tx, const std::string& token);
// Deletes the tokens of the given (execution_id, task_id) pairs.
void DeleteTaskTokens(pqxx::transaction_base& tx, const std::vector<int64_t>& execution_ids,
                      const std::vector<std::string>& task_ids);

// ---- notifications ----------------------------------------------------------------------------
inline constexpr const char* kWorkChannel = "switchyard_work";

// A one-dimensional array parameter in PostgreSQL's binary format (array_recv): no escaping on
// this side, no parsing on the server's (text elements are copied as they are). For a statement
// parameter cast to the same type ($1::text[], $2::bigint[], $3::integer[], $4::boolean[]).
class BinaryArray {
 public:
  enum class Type : uint32_t { kBool = 16, kInt8 = 20, kInt4 = 23, kText = 25 };
  explicit BinaryArray(Type type, std::size_t reserve_bytes = 0);
  void AddText(std::string_view text);
  void AddOptionalText(const std::optional<std::string>& text);  // nullopt is NULL
  void AddInt8(int64_t value);
  void AddInt4(int32_t value);
  void AddBool(bool value);
  std::size_t size() const { return count_; }
  // The parameter (the array is complete).
  pqxx::binarystring Finish();

 private:
  static constexpr std::size_t kHeaderBytes = 20;
  void Put32(uint32_t value);
  Type type_;
  std::string data_;  // the elements
  std::size_t count_ = 0;
  bool has_null_ = false;
};

// Encodes values as PostgreSQL array literals, e.g. {1,2} and {"a","b\"c",NULL}.
std::string IntArray(const std::vector<int64_t>& values);
std::string TextArray(const std::vector<std::string>& values);
std::string OptionalTextArray(const std::vector<std::optional<std::string>>& values);

// ---- queue statistics (store/queue_stats.cpp) -------------------------------------------------
struct QueueStats {
  int64_t runnable = 0;  // due now, not leased
  int64_t leased = 0;
  int64_t pending = 0;  // not due yet, not leased
};
QueueStats CountWork(pqxx::transaction_base& tx);

}  // namespace switchyard::orchestrator::store
