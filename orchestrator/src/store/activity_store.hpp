#pragma once
// The SQL of activities (CreateActivity, the tasks waiting for GetActivityTask), of
// RedriveExecution and of retention (purging finished executions). Like execution_store.hpp:
// prepared statements inside the caller's transaction; libpqxx's exceptions pass through.
// Times are nanoseconds since the Unix epoch.
//
// Thread model: stateless functions; a transaction belongs to one thread.
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace switchyard::orchestrator::store {

void PrepareActivityStatements(pqxx::connection_base& connection);

// ---- activities -------------------------------------------------------------------------------
struct ActivityRow {
  std::string name;
  std::string arn;
  std::string tags;  // JSON array text, [{"key": .., "value": ..}]
  int64_t created_at = 0;
};
// Inserts the activity; false (nothing written) when one of that name exists.
bool InsertActivity(pqxx::transaction_base& tx, const ActivityRow& row);
std::optional<ActivityRow> GetActivity(pqxx::transaction_base& tx, const std::string& arn);
// Removes the activity and its tasks not yet taken. False when absent.
bool DeleteActivity(pqxx::transaction_base& tx, const std::string& arn);
// By name, names after `after_name` (empty = from the start), at most `limit`.
std::vector<ActivityRow> ListActivities(pqxx::transaction_base& tx, const std::string& after_name,
                                        int64_t limit);

// ---- activity tasks ---------------------------------------------------------------------------
struct ActivityTaskRow {
  std::string activity_arn;
  int64_t execution_id = 0;
  std::string task_id;
  std::string token;
  std::string input;
  int64_t heartbeat_seconds = 0;
};
// Inserts tasks waiting for a worker (an existing (execution, task id) is left as it is).
void InsertActivityTasks(pqxx::transaction_base& tx, const std::vector<ActivityTaskRow>& rows);
// Takes (deletes and returns) the oldest waiting task of the activity, skipping tasks another
// transaction holds; nullopt when none waits.
std::optional<ActivityTaskRow> TakeActivityTask(pqxx::transaction_base& tx,
                                                const std::string& activity_arn);
// Deletes the waiting tasks of the given (execution_id, task_id) pairs.
void DeleteActivityTasks(pqxx::transaction_base& tx, const std::vector<int64_t>& execution_ids,
                         const std::vector<std::string>& task_ids);
// Deletes every waiting task of the executions.
void DeleteExecutionActivityTasks(pqxx::transaction_base& tx,
                                  const std::vector<int64_t>& execution_ids);

// ---- redrive ----------------------------------------------------------------------------------
struct RedriveRow {
  int64_t execution_id = 0;
  std::optional<int64_t> redrive_date;
  std::optional<std::string> client_token;
  std::optional<std::string> snapshot;
};
std::optional<RedriveRow> GetRedriveRow(pqxx::transaction_base& tx,
                                        const std::string& execution_arn);
// The details text of one history event (nullopt when absent or without details).
std::optional<std::string> HistoryEventDetails(pqxx::transaction_base& tx, int64_t execution_id,
                                               int64_t event_id);
// Before the redrive's decision is written: the execution is open again (no stop date, output,
// error or cause), redriven once more at `now` with `client_token` (may be empty).
void MarkRedriven(pqxx::transaction_base& tx, int64_t execution_id, int64_t now,
                  const std::string& client_token);

// ---- retention --------------------------------------------------------------------------------
// Deletes up to `limit` executions that ended before `cutoff` with their history, work, tokens
// and activity tasks, if this transaction gets the retention advisory lock (one node at a time);
// returns how many, or -1 when another node holds the lock.
int64_t PurgeExecutions(pqxx::transaction_base& tx, int64_t cutoff, int64_t limit);

}  // namespace switchyard::orchestrator::store
