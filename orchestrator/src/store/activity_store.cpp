#include "store/activity_store.hpp"

#include "store/execution_store.hpp"

namespace switchyard::orchestrator::store {

namespace {

#define SY_TS(param) "(timestamptz 'epoch' + (" param "::bigint / 1000) * interval '1 microsecond')"
#define SY_NS(column) "((extract(epoch from " column ") * 1000000)::bigint * 1000)"

// The retention lock's key (pg_try_advisory_xact_lock): "sy_retn".
constexpr int64_t kRetentionLockKey = 0x73795f7265746eLL;

struct Statement {
  const char* name;
  const char* sql;
};

constexpr Statement kStatements[] = {
    {"as_insert_activity",
     "INSERT INTO activities (name, activity_arn, tags) VALUES ($1, $2, $3) "
     "ON CONFLICT DO NOTHING RETURNING name"},
    {"as_get_activity",
     "SELECT name, activity_arn, tags, " SY_NS("created_at") " FROM activities "
                                                             "WHERE activity_arn = $1"},
    {"as_delete_activity", "DELETE FROM activities WHERE activity_arn = $1 RETURNING name"},
    {"as_delete_activity_tasks_of", "DELETE FROM activity_tasks WHERE activity_arn = $1"},
    {"as_list_activities",
     "SELECT name, activity_arn, tags, " SY_NS("created_at") " FROM activities WHERE name > $1 "
                                                             "ORDER BY name LIMIT $2"},
    {"as_insert_activity_tasks",
     "INSERT INTO activity_tasks (activity_arn, execution_id, task_id, token, input, "
     "heartbeat_seconds) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], "
     "$5::text[], $6::bigint[]) ON CONFLICT DO NOTHING"},
    {"as_take_activity_task",
     "DELETE FROM activity_tasks WHERE task_seq = (SELECT task_seq FROM activity_tasks WHERE "
     "activity_arn = $1 ORDER BY task_seq LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING "
     "activity_arn, execution_id, task_id, token, input, heartbeat_seconds"},
    {"as_delete_activity_tasks",
     "DELETE FROM activity_tasks a USING unnest($1::bigint[], $2::text[]) AS d(execution_id, "
     "task_id) WHERE a.execution_id = d.execution_id AND a.task_id = d.task_id"},
    {"as_delete_execution_activity_tasks",
     "DELETE FROM activity_tasks WHERE execution_id = ANY($1::bigint[])"},
    {"as_get_redrive",
     "SELECT execution_id, " SY_NS(
         "redrive_date") ", redrive_client_token, COALESCE((SELECT s.snapshot FROM "
                         "execution_states s WHERE s.execution_id = executions.execution_id), "
                         "snapshot) FROM executions WHERE execution_arn = $1"},
    {"as_mark_redriven",
     "UPDATE executions SET stop_date = NULL, output = NULL, error = NULL, cause = NULL, "
     "redrive_count = redrive_count + 1, redrive_date = " SY_TS(
         "$2") ", redrive_client_token = NULLIF($3, '') WHERE execution_id = $1"},
    {"as_purge",
     // Through executions_by_start (migrations/0011): an execution that stopped before the
     // cutoff started before it.
     "WITH doomed AS (SELECT execution_id, state_machine_name FROM executions WHERE start_date "
     "< " SY_TS("$1") " AND stop_date < " SY_TS(
         "$1") " AND status <> 'RUNNING' ORDER BY start_date "
               "LIMIT $2 FOR UPDATE SKIP LOCKED), "
               "r AS (DELETE FROM running_executions x USING doomed d WHERE x.state_machine_name = "
               "d.state_machine_name AND x.execution_id = d.execution_id), "
               "h AS (DELETE FROM history_events WHERE execution_id IN (SELECT "
               "execution_id FROM doomed)), "
               "c AS (DELETE FROM history_chunks WHERE execution_id IN (SELECT "
               "execution_id FROM doomed)), "
               "w AS (DELETE FROM work_items WHERE execution_id IN (SELECT "
               "execution_id FROM doomed)), "
               "t AS (DELETE FROM task_tokens WHERE execution_id IN (SELECT "
               "execution_id FROM doomed)), "
               "a AS (DELETE FROM activity_tasks WHERE execution_id IN (SELECT "
               "execution_id FROM doomed)), "
               "s AS (DELETE FROM execution_states WHERE execution_id IN "
               "(SELECT execution_id FROM doomed)) "
               "DELETE FROM executions WHERE execution_id IN (SELECT "
               "execution_id FROM doomed) RETURNING execution_id"},
};

std::string Text(const pqxx::field& field) {
  return field.is_null() ? std::string() : field.c_str();
}

ActivityRow ToActivity(const pqxx::row& row) {
  ActivityRow activity;
  activity.name = Text(row[0]);
  activity.arn = Text(row[1]);
  activity.tags = Text(row[2]);
  activity.created_at = row[3].as<int64_t>();
  return activity;
}

}  // namespace

void PrepareActivityStatements(pqxx::connection_base& connection) {
  for (const auto& statement : kStatements) connection.prepare(statement.name, statement.sql);
}

bool InsertActivity(pqxx::transaction_base& tx, const ActivityRow& row) {
  PrepareActivityStatements(tx.conn());
  return !tx.exec_prepared("as_insert_activity", row.name, row.arn, row.tags).empty();
}

std::optional<ActivityRow> GetActivity(pqxx::transaction_base& tx, const std::string& arn) {
  PrepareActivityStatements(tx.conn());
  pqxx::result result = tx.exec_prepared("as_get_activity", arn);
  if (result.empty()) return std::nullopt;
  return ToActivity(result[0]);
}

bool DeleteActivity(pqxx::transaction_base& tx, const std::string& arn) {
  PrepareActivityStatements(tx.conn());
  tx.exec_prepared("as_delete_activity_tasks_of", arn);
  return !tx.exec_prepared("as_delete_activity", arn).empty();
}

std::vector<ActivityRow> ListActivities(pqxx::transaction_base& tx, const std::string& after_name,
                                        int64_t limit) {
  PrepareActivityStatements(tx.conn());
  std::vector<ActivityRow> rows;
  for (const auto& row : tx.exec_prepared("as_list_activities", after_name, limit)) {
    rows.push_back(ToActivity(row));
  }
  return rows;
}

void InsertActivityTasks(pqxx::transaction_base& tx, const std::vector<ActivityTaskRow>& rows) {
  if (rows.empty()) return;
  PrepareActivityStatements(tx.conn());
  std::vector<std::string> arns, task_ids, tokens, inputs;
  std::vector<int64_t> execution_ids, heartbeats;
  for (const auto& row : rows) {
    arns.push_back(row.activity_arn);
    execution_ids.push_back(row.execution_id);
    task_ids.push_back(row.task_id);
    tokens.push_back(row.token);
    inputs.push_back(row.input);
    heartbeats.push_back(row.heartbeat_seconds);
  }
  tx.exec_prepared("as_insert_activity_tasks", TextArray(arns), IntArray(execution_ids),
                   TextArray(task_ids), TextArray(tokens), TextArray(inputs), IntArray(heartbeats));
}

std::optional<ActivityTaskRow> TakeActivityTask(pqxx::transaction_base& tx,
                                                const std::string& activity_arn) {
  PrepareActivityStatements(tx.conn());
  pqxx::result result = tx.exec_prepared("as_take_activity_task", activity_arn);
  if (result.empty()) return std::nullopt;
  ActivityTaskRow task;
  task.activity_arn = Text(result[0][0]);
  task.execution_id = result[0][1].as<int64_t>();
  task.task_id = Text(result[0][2]);
  task.token = Text(result[0][3]);
  task.input = Text(result[0][4]);
  task.heartbeat_seconds = result[0][5].as<int64_t>();
  return task;
}

void DeleteActivityTasks(pqxx::transaction_base& tx, const std::vector<int64_t>& execution_ids,
                         const std::vector<std::string>& task_ids) {
  if (execution_ids.empty()) return;
  PrepareActivityStatements(tx.conn());
  tx.exec_prepared("as_delete_activity_tasks", IntArray(execution_ids), TextArray(task_ids));
}

void DeleteExecutionActivityTasks(pqxx::transaction_base& tx,
                                  const std::vector<int64_t>& execution_ids) {
  if (execution_ids.empty()) return;
  PrepareActivityStatements(tx.conn());
  tx.exec_prepared("as_delete_execution_activity_tasks", IntArray(execution_ids));
}

std::optional<RedriveRow> GetRedriveRow(pqxx::transaction_base& tx,
                                        const std::string& execution_arn) {
  PrepareActivityStatements(tx.conn());
  pqxx::result result = tx.exec_prepared("as_get_redrive", execution_arn);
  if (result.empty()) return std::nullopt;
  RedriveRow row;
  row.execution_id = result[0][0].as<int64_t>();
  if (!result[0][1].is_null()) row.redrive_date = result[0][1].as<int64_t>();
  if (!result[0][2].is_null()) row.client_token = Text(result[0][2]);
  if (!result[0][3].is_null()) row.snapshot = Text(result[0][3]);
  return row;
}

std::optional<std::string> HistoryEventDetails(pqxx::transaction_base& tx, int64_t execution_id,
                                               int64_t event_id) {
  if (event_id < 1) return std::nullopt;
  std::vector<HistoryRow> rows = ReadHistory(tx, execution_id, event_id - 1, 1, false);
  if (rows.empty() || rows[0].event_id != event_id || rows[0].details.empty()) return std::nullopt;
  return std::move(rows[0].details);
}

void MarkRedriven(pqxx::transaction_base& tx, int64_t execution_id, int64_t now,
                  const std::string& client_token) {
  PrepareActivityStatements(tx.conn());
  tx.exec_prepared("as_mark_redriven", execution_id, now, client_token);
}

int64_t PurgeExecutions(pqxx::transaction_base& tx, int64_t cutoff, int64_t limit) {
  PrepareActivityStatements(tx.conn());
  pqxx::result locked = tx.exec_params("SELECT pg_try_advisory_xact_lock($1)", kRetentionLockKey);
  if (locked.empty() || !locked[0][0].as<bool>()) return -1;
  return static_cast<int64_t>(tx.exec_prepared("as_purge", cutoff, limit).size());
}

}  // namespace switchyard::orchestrator::store
