#include "store/execution_store.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "store/pool.hpp"

namespace switchyard::orchestrator::store {

namespace {

// Nanoseconds <-> timestamptz (microseconds) in SQL.
#define SY_TS(param) "(timestamptz 'epoch' + (" param "::bigint / 1000) * interval '1 microsecond')"
#define SY_NS(column) "((extract(epoch from " column ") * 1000000)::bigint * 1000)"
// running_executions (migrations/0011) as `rows` (execution_id, state_machine_name, status: rows
// of executions just inserted or written) says. SY_RUNNING_ADD: those that run join it (a start,
// a redrive); SY_RUNNING_SET also lets those that no longer run leave it.
#define SY_RUNNING_ADD(rows)                                                                    \
  "running_again AS (INSERT INTO running_executions (state_machine_name, execution_id) SELECT " \
  "state_machine_name, execution_id FROM " rows                                                 \
  " WHERE status = 'RUNNING' ON CONFLICT DO "                                                   \
  "NOTHING)"
#define SY_RUNNING_SET(rows)                                                             \
  "running_gone AS (DELETE FROM running_executions x USING " rows                        \
  " WHERE x.state_machine_name = " rows ".state_machine_name AND x.execution_id = " rows \
  ".execution_id AND " rows ".status <> 'RUNNING'), " SY_RUNNING_ADD(rows)
// A running execution's snapshot, decision_count and history_count live in execution_states while
// it has a row there (migrations/0010_execution_states.sql); executions' own are stale then.
#define SY_LIVE(column)                              \
  "COALESCE((SELECT s." column                       \
  " FROM execution_states s WHERE s.execution_id = " \
  "executions.execution_id), executions." column ")"

struct Statement {
  const char* name;
  const char* sql;
};

// Every statement of the engine. Names are prefixed "es_" so that they cannot collide with the
// statements of other parts of the store.
constexpr Statement kStatements[] = {
    // State machines.
    {"es_insert_revision",
     "INSERT INTO state_machine_revisions (revision_id, state_machine_name, definition) "
     "VALUES ($1, $2, $3)"},
    {"es_insert_state_machine",
     "INSERT INTO state_machines (name, arn, type, role_arn, revision_id) "
     "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING name"},
    {"es_update_state_machine",
     "UPDATE state_machines SET revision_id = $2, role_arn = CASE WHEN $3 = '' THEN role_arn "
     "ELSE $3 END, updated_at = now() WHERE name = $1 RETURNING name"},
    {"es_get_state_machine",
     "SELECT m.name, m.arn, m.type, m.role_arn, m.revision_id, r.definition, m.status, " SY_NS(
         "m.created_at") ", " SY_NS("m.updated_at") " FROM state_machines m JOIN "
                                                    "state_machine_revisions r USING "
                                                    "(revision_id) WHERE m.name = $1"},
    {"es_list_state_machines",
     "SELECT name, arn, type, role_arn, revision_id, status, " SY_NS("created_at") ", " SY_NS(
         "updated_at") " FROM state_machines ORDER BY name"},
    {"es_delete_state_machine", "DELETE FROM state_machines WHERE name = $1 RETURNING name"},
    {"es_get_revision", "SELECT definition FROM state_machine_revisions WHERE revision_id = $1"},

    // Executions.
    {"es_insert_executions",
     "WITH ins AS (INSERT INTO executions (execution_arn, state_machine_name, state_machine_arn, "
     "revision_id, "
     "name, input, start_date) SELECT n.arn, n.machine, n.machine_arn, n.revision, n.name, "
     "n.input, timestamptz 'epoch' + (n.ns / 1000) * interval '1 microsecond' FROM "
     "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
     "$7::bigint[]) WITH ORDINALITY AS n(arn, machine, machine_arn, revision, name, input, ns, "
     "position) ORDER BY n.position ON CONFLICT DO NOTHING RETURNING execution_id, "
     "execution_arn, state_machine_name, status), " SY_RUNNING_ADD("ins") " SELECT execution_id, "
                                                                          "execution_arn FROM ins"},
    // With their first decision (a Start decided before the row exists): one row version, and
    // the history of the rows inserted ($15: their ARNs), in one round trip.
    {"es_insert_decided_executions",
     "WITH ins AS (INSERT INTO executions (execution_arn, state_machine_name, state_machine_arn, "
     "revision_id, name, input, start_date, status, snapshot, history_count, output, error, "
     "cause, stop_date, decision_count) SELECT n.arn, n.machine, n.machine_arn, n.revision, "
     "n.name, n.input, timestamptz 'epoch' + (n.ns / 1000) * interval '1 microsecond', n.status, "
     "NULLIF(n.snapshot, ''), n.history_count, n.output, n.error, n.cause, CASE WHEN n.finished "
     "THEN timestamptz 'epoch' + (n.ns / 1000) * interval '1 microsecond' END, 1 FROM "
     "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
     "$7::bigint[], $8::text[], $9::text[], $10::integer[], $11::text[], $12::text[], "
     "$13::text[], $14::boolean[]) WITH ORDINALITY AS n(arn, machine, machine_arn, revision, "
     "name, input, ns, status, snapshot, history_count, output, error, cause, finished, "
     "position) ORDER BY n.position ON CONFLICT DO NOTHING RETURNING execution_id, "
     "execution_arn, state_machine_name, status), " SY_RUNNING_ADD(
         "ins") ", h AS (INSERT INTO "
                "history_chunks (execution_id, first_event_id, "
                "last_event_id, events) SELECT ins.execution_id, h.first_id, h.last_id, h.events "
                "FROM "
                "unnest($15::text[], $16::integer[], $17::integer[], $18::text[]) AS h(arn, "
                "first_id, "
                "last_id, events) JOIN ins ON ins.execution_arn = h.arn) SELECT execution_id, "
                "execution_arn FROM ins"},
    // A batch of starts as one statement (its own implicit transaction when sent outside one):
    // the executions with their first decisions ($1-$14, as es_insert_decided_executions), their
    // history ($15-$18) and work items ($19-$26, leased as es_write_decisions leases), the
    // history and work keyed by the position of their execution in $1 (a name given twice: the
    // first position, the row inserted). Binary parameters.
    {"es_start_executions",
     "WITH n AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
     "$6::text[], $7::bigint[], $8::text[], $9::text[], $10::integer[], $11::text[], $12::text[], "
     "$13::text[], $14::boolean[]) WITH ORDINALITY AS n(arn, machine, machine_arn, revision, "
     "name, input, ns, status, snapshot, history_count, output, error, cause, finished, "
     "position)), ins AS (INSERT INTO executions (execution_arn, state_machine_name, "
     "state_machine_arn, revision_id, name, input, start_date, status, snapshot, history_count, "
     "output, error, cause, stop_date, decision_count) SELECT n.arn, n.machine, n.machine_arn, "
     "n.revision, n.name, n.input, timestamptz 'epoch' + (n.ns / 1000) * interval '1 "
     "microsecond', n.status, n.snapshot, n.history_count, n.output, n.error, n.cause, CASE WHEN "
     "n.finished THEN timestamptz 'epoch' + (n.ns / 1000) * interval '1 microsecond' END, 1 FROM "
     "n ORDER BY n.position ON CONFLICT DO NOTHING RETURNING execution_id, execution_arn, "
     "state_machine_name, status), " SY_RUNNING_ADD(
         "ins") ", p AS "
                "(SELECT ins.execution_id, min(n.position) AS position FROM ins JOIN n ON n.arn = "
                "ins.execution_arn GROUP BY ins.execution_id), h AS "
                "(INSERT INTO history_chunks (execution_id, first_event_id, last_event_id, events) "
                "SELECT "
                "p.execution_id, h.first_id, h.last_id, h.events FROM unnest($15::bigint[], "
                "$16::integer[], $17::integer[], $18::text[]) AS h(position, first_id, last_id, "
                "events) "
                "JOIN p ON p.position = h.position), w AS (INSERT INTO work_items (execution_id, "
                "kind, key, "
                "payload, due_at, lease_owner, lease_until, generation, attempts) SELECT "
                "p.execution_id, "
                "w.kind, w.key, w.payload, timestamptz 'epoch' + (w.ns / 1000) * interval '1 "
                "microsecond', "
                "CASE WHEN w.leased THEN $25::text END, CASE WHEN w.leased THEN now() + "
                "$26::bigint * "
                "interval '1 millisecond' END, CASE WHEN w.leased THEN 1 ELSE 0 END, CASE WHEN "
                "w.leased "
                "THEN 1 ELSE 0 END FROM unnest($19::bigint[], $20::text[], $21::text[], "
                "$22::text[], "
                "$23::bigint[], $24::boolean[]) AS w(position, kind, key, payload, ns, leased) "
                "JOIN p ON "
                "p.position = w.position RETURNING work_id, execution_id, key, lease_owner IS NOT "
                "NULL AS "
                "leased) SELECT p.position, p.execution_id, NULL::bigint, NULL::text FROM p UNION "
                "ALL "
                "SELECT NULL, w.execution_id, w.work_id, w.key FROM w WHERE w.leased"},
    {"es_find_execution_by_name",
     "SELECT execution_id, execution_arn, state_machine_name, state_machine_arn, revision_id, "
     "name, status, input, output, error, cause, " SY_NS("start_date") ", " SY_NS(
         "stop_date") ", " SY_LIVE("history_count") ", redrive_count FROM executions WHERE "
                                                    "state_machine_name = "
                                                    "$1 AND name = $2"},
    {"es_find_execution",
     "SELECT execution_id, execution_arn, state_machine_name, state_machine_arn, revision_id, "
     "name, status, input, output, error, cause, " SY_NS("start_date") ", " SY_NS(
         "stop_date") ", " SY_LIVE("history_count") ", redrive_count FROM executions WHERE "
                                                    "execution_arn = $1"},
    // ListExecutions with the RUNNING filter: through running_executions (migrations/0011), so
    // that the machine's finished executions, however many, are not read.
    {"es_list_running_executions",
     "SELECT execution_id, execution_arn, state_machine_name, state_machine_arn, revision_id, "
     "name, status, '' AS input, NULL AS output, NULL AS error, NULL AS cause, " SY_NS(
         "start_date") ", " SY_NS("stop_date") ", " SY_LIVE("history_count") ", redrive_count FROM "
                                                                             "executions JOIN "
                                                                             "running_executions x "
                                                                             "USING (execution_id, "
                                                                             "state_machine_name) "
                                                                             "WHERE "
                                                                             "state_machine_name = "
                                                                             "$1 AND status = "
                                                                             "'RUNNING' AND ($2 = "
                                                                             "0 OR execution_id < "
                                                                             "$2) ORDER BY "
                                                                             "execution_id DESC "
                                                                             "LIMIT $3"},
    {"es_list_executions",
     "SELECT execution_id, execution_arn, state_machine_name, state_machine_arn, revision_id, "
     "name, status, '' AS input, NULL AS output, NULL AS error, NULL AS cause, " SY_NS(
         "start_date") ", " SY_NS("stop_date") ", " SY_LIVE("history_count") ", redrive_count FROM "
                                                                             "executions "
                                                                             "WHERE "
                                                                             "state_machine_name = "
                                                                             "$1 AND ($2 = '' OR "
                                                                             "status = $2) AND ($3 "
                                                                             "= 0 OR execution_id "
                                                                             "< $3) "
                                                                             "ORDER BY "
                                                                             "execution_id DESC "
                                                                             "LIMIT $4"},
    // Locks executions and reads them with their execution_states rows, after the locks are
    // held (the function in migrations/0010_execution_states.sql).
    {"es_lock_executions",
     "SELECT * FROM switchyard_lock_executions($1::bigint[], $2::bigint[], $3::bigint[])"},
    // Writes the executions' columns and deletes their execution_states rows (whose
    // decision_count it continues).
    {"es_update_executions",
     "WITH sd AS (DELETE FROM execution_states WHERE execution_id = ANY($1::bigint[])), "
     "upd AS (UPDATE executions e SET status = u.status, snapshot = NULLIF(u.snapshot, ''), "
     "history_count = u.history_count, decision_count = COALESCE((SELECT s.decision_count FROM "
     "execution_states s WHERE s.execution_id = e.execution_id), e.decision_count) + 1, output = "
     "COALESCE(u.output, "
     "e.output), error = COALESCE(u.error, e.error), cause = COALESCE(u.cause, e.cause), "
     "stop_date = CASE WHEN u.finished THEN " SY_TS(
         "$9") " ELSE e.stop_date END FROM unnest($1::bigint[], "
               "$2::text[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::text[], "
               "$8::boolean[]) "
               "AS u(execution_id, status, snapshot, history_count, output, error, cause, "
               "finished) WHERE e.execution_id = u.execution_id RETURNING e.execution_id, "
               "e.state_machine_name, e.status), " SY_RUNNING_SET("upd") " SELECT count(*) FROM "
                                                                         "upd"},

    // A batch's writes after its deletions, in one round trip: the executions' new states
    // ($1-$9, $23-$27), new work items ($10-$17, leased to $16 for $17 ms where marked) and
    // history ($18-$21); the work and tokens of executions that ended ($22) go. A state goes to
    // executions (and its execution_states row, if any, is deleted) where $23 says so (it ended
    // or changed status), otherwise to execution_states (updated where the row exists, else
    // inserted: the first decision after the start), with its inline task kept, ended or set
    // ($24: 0, 1, 2; $25 and $26 the task's key and request), leased to $16. $27: each
    // execution's decision count as its decision locked it (LockedExecution::decision_count);
    // the row gets one more. Returns the leased work items, the inline tasks set (work_id NULL,
    // with their generation and the ms left of their lease) and the transaction's id
    // (execution_id NULL).
    {"es_write_decisions",
     "WITH r AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[], "
     "$5::text[], $6::text[], $7::text[], $8::boolean[], $23::boolean[], $24::integer[], "
     "$25::text[], $26::text[], $27::bigint[]) AS u(execution_id, status, snapshot, "
     "history_count, output, error, cause, finished, to_executions, inline_op, inline_key, "
     "inline_payload, decision_count)), "
     "u AS (UPDATE executions e SET status = r.status, snapshot = NULLIF(r.snapshot, ''), "
     "history_count = r.history_count, decision_count = r.decision_count + 1, output = "
     "COALESCE(r.output, e.output), error = COALESCE(r.error, e.error), cause = COALESCE(r.cause, "
     "e.cause), stop_date = CASE WHEN r.finished THEN " SY_TS(
         "$9") " ELSE e.stop_date END FROM r "
               "WHERE e.execution_id = r.execution_id AND r.to_executions RETURNING "
               "e.execution_id, e.state_machine_name, e.status), " SY_RUNNING_SET(
                   "u") ", "
                        "sd AS (DELETE FROM execution_states s USING r WHERE s.execution_id = "
                        "r.execution_id AND "
                        "r.to_executions), "
                        "su AS (UPDATE execution_states s SET snapshot = r.snapshot, history_count "
                        "= "
                        "r.history_count, decision_count = r.decision_count + 1, task_owner = CASE "
                        "r.inline_op WHEN "
                        "0 THEN s.task_owner WHEN 1 THEN NULL ELSE $16::text END, task_until = "
                        "CASE "
                        "r.inline_op WHEN "
                        "0 THEN s.task_until WHEN 1 THEN NULL ELSE CASE WHEN s.task_owner = "
                        "$16::text AND "
                        "s.task_until > now() + $17::bigint * interval '0.5 millisecond' THEN "
                        "s.task_until "
                        "ELSE "
                        "now() + $17::bigint * interval '1 millisecond' END END, task_generation = "
                        "CASE "
                        "WHEN "
                        "r.inline_op = 2 THEN txid_current() ELSE s.task_generation END, task_key "
                        "= CASE "
                        "r.inline_op WHEN 0 THEN s.task_key WHEN 1 THEN NULL ELSE r.inline_key "
                        "END, "
                        "task_payload = "
                        "CASE r.inline_op WHEN 0 THEN s.task_payload WHEN 1 THEN NULL ELSE "
                        "r.inline_payload "
                        "END "
                        "FROM r WHERE s.execution_id = r.execution_id AND NOT r.to_executions "
                        "RETURNING "
                        "s.execution_id, s.task_key, s.task_generation, s.task_until, "
                        "r.inline_op), "
                        "si AS (INSERT INTO execution_states (execution_id, snapshot, "
                        "decision_count, "
                        "history_count, task_owner, task_until, task_generation, task_key, "
                        "task_payload) "
                        "SELECT "
                        "r.execution_id, r.snapshot, r.decision_count + 1, r.history_count, CASE "
                        "WHEN "
                        "r.inline_op = "
                        "2 THEN $16::text END, CASE WHEN r.inline_op = 2 THEN now() + $17::bigint "
                        "* "
                        "interval '1 "
                        "millisecond' END, CASE WHEN r.inline_op = 2 THEN txid_current() ELSE 0 "
                        "END, CASE "
                        "WHEN "
                        "r.inline_op = 2 THEN r.inline_key END, CASE WHEN r.inline_op = 2 THEN "
                        "r.inline_payload END "
                        "FROM r WHERE NOT r.to_executions AND NOT EXISTS (SELECT 1 FROM su WHERE "
                        "su.execution_id = "
                        "r.execution_id) RETURNING execution_id, task_key, task_generation, "
                        "task_until, "
                        "CASE WHEN "
                        "task_owner IS NULL THEN 0 ELSE 2 END AS inline_op), "
                        "w AS (INSERT INTO work_items (execution_id, kind, key, payload, due_at, "
                        "lease_owner, "
                        "lease_until, generation, attempts) SELECT w.execution_id, w.kind, w.key, "
                        "w.payload, "
                        "timestamptz 'epoch' + (w.ns / 1000) * interval '1 microsecond', CASE WHEN "
                        "w.leased "
                        "THEN "
                        "$16::text END, CASE WHEN w.leased THEN now() + $17::bigint * interval '1 "
                        "millisecond' END, "
                        "CASE WHEN w.leased THEN 1 ELSE 0 END, CASE WHEN w.leased THEN 1 ELSE 0 "
                        "END FROM "
                        "unnest($10::bigint[], $11::text[], $12::text[], $13::text[], "
                        "$14::bigint[], "
                        "$15::boolean[]) AS w(execution_id, kind, key, payload, ns, leased) ON "
                        "CONFLICT "
                        "(execution_id, kind, key) DO NOTHING RETURNING work_id, execution_id, "
                        "key, "
                        "lease_owner IS "
                        "NOT NULL AS leased), "
                        "h AS (INSERT INTO history_chunks (execution_id, first_event_id, "
                        "last_event_id, "
                        "events) "
                        "SELECT * FROM unnest($18::bigint[], $19::integer[], $20::integer[], "
                        "$21::text[])), "
                        "d AS (DELETE FROM work_items WHERE execution_id = ANY($22::bigint[])), "
                        "t AS (DELETE FROM task_tokens WHERE execution_id = ANY($22::bigint[])) "
                        "SELECT work_id, execution_id, key, NULL::bigint, NULL::bigint FROM w "
                        "WHERE leased "
                        "UNION ALL SELECT NULL, execution_id, task_key, task_generation, "
                        "(extract(epoch "
                        "from "
                        "task_until - now()) * 1000)::bigint FROM su WHERE inline_op = 2 "
                        "UNION ALL SELECT NULL, execution_id, task_key, task_generation, "
                        "(extract(epoch "
                        "from "
                        "task_until - now()) * 1000)::bigint FROM si WHERE inline_op = 2 "
                        "UNION ALL SELECT txid_current(), NULL, NULL, NULL, NULL"},

    {"es_decision_count",
     "SELECT " SY_LIVE("decision_count") " FROM executions WHERE execution_id = $1"},

    // History.
    {"es_append_history",
     "INSERT INTO history_chunks (execution_id, first_event_id, last_event_id, events) SELECT * "
     "FROM unnest($1::bigint[], $2::integer[], $3::integer[], $4::text[])"},
    // The events $2..$3 of execution $1: rows of history_events (written before 0009) and the
    // chunks holding any of them (the chunk holding $2 starts at or before it).
    {"es_read_history",
     "SELECT false, event_id, previous_event_id, " SY_NS(
         "event_time") ", type, details_key, details FROM history_events WHERE execution_id = $1 "
                       "AND event_id BETWEEN $2::integer AND $3::integer UNION ALL SELECT true, "
                       "first_event_id, last_event_id, 0, '', NULL, events FROM history_chunks "
                       "WHERE execution_id = $1 AND first_event_id <= $3::integer AND "
                       "first_event_id >= COALESCE((SELECT max(first_event_id) FROM "
                       "history_chunks WHERE execution_id = $1 AND first_event_id <= "
                       "$2::integer), 0)"},
    {"es_last_event_id",
     "SELECT GREATEST((SELECT max(last_event_id) FROM history_chunks WHERE execution_id = $1), "
     "(SELECT max(event_id) FROM history_events WHERE execution_id = $1))"},

    // Work.
    {"es_enqueue_work",
     "INSERT INTO work_items (execution_id, kind, key, payload, due_at) SELECT w.execution_id, "
     "w.kind, w.key, w.payload, timestamptz 'epoch' + (w.ns / 1000) * interval '1 microsecond' "
     "FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS "
     "w(execution_id, kind, key, payload, ns) ON CONFLICT (execution_id, kind, key) DO NOTHING"},
    {"es_delete_work",
     "DELETE FROM work_items w USING unnest($1::bigint[], $2::text[], $3::text[]) AS "
     "d(execution_id, kind, key) WHERE w.execution_id = d.execution_id AND w.kind = d.kind AND "
     "w.key = d.key"},
    {"es_delete_execution_work",
     "WITH t AS (DELETE FROM task_tokens WHERE execution_id = ANY($1::bigint[])) DELETE FROM "
     "work_items WHERE execution_id = ANY($1::bigint[])"},
    {"es_reschedule_work",
     "UPDATE work_items SET due_at = " SY_TS("$4") " WHERE execution_id = $1 AND kind = $2 AND "
                                                   "key = $3 RETURNING work_id"},
    {"es_claim_timers",
     "SELECT work_id, execution_id, kind, key, " SY_NS(
         "due_at") ", generation FROM work_items WHERE kind = ANY('{timer,task_timeout,"
                   "heartbeat_timeout}'::text[]) AND lease_owner IS NULL AND due_at <= now() "
                   "ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED"},
    {"es_claim_timer",
     "SELECT work_id, execution_id, kind, key, " SY_NS(
         "due_at") ", generation FROM work_items WHERE work_id = $1 AND kind = ANY('{timer,"
                   "task_timeout,heartbeat_timeout}'::text[]) AND lease_owner IS NULL AND due_at "
                   "<= now() FOR UPDATE SKIP LOCKED"},
    {"es_delete_work_ids", "DELETE FROM work_items WHERE work_id = ANY($1::bigint[])"},
    {"es_claim_tasks",
     "WITH due AS (SELECT work_id FROM work_items WHERE kind = 'task' AND lease_owner IS NULL "
     "AND due_at <= now() ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED), expired AS (SELECT "
     "work_id FROM work_items WHERE lease_owner IS NOT NULL AND kind = 'task' AND lease_until < "
     "now() ORDER BY lease_until LIMIT $3 FOR UPDATE SKIP LOCKED), c AS (SELECT work_id FROM due "
     "UNION ALL SELECT work_id FROM expired LIMIT $3) UPDATE work_items w SET "
     "lease_owner = $1, lease_until = now() + $2::bigint * interval '1 millisecond', generation "
     "= w.generation + 1, attempts = w.attempts + 1 FROM c WHERE w.work_id = c.work_id RETURNING "
     "w.work_id, w.execution_id, w.kind, w.key, w.payload, " SY_NS(
         "w.due_at") ", w.attempts, w.generation, txid_current_if_assigned()"},
    {"es_fence_work",
     "DELETE FROM work_items w USING unnest($2::bigint[], $3::bigint[]) AS f(work_id, "
     "generation) WHERE w.work_id = f.work_id AND w.generation = f.generation AND w.lease_owner "
     "= $1 RETURNING w.work_id"},
    {"es_renew_leases",
     "UPDATE work_items w SET lease_until = now() + $4::bigint * interval '1 millisecond' FROM "
     "unnest($2::bigint[], $3::bigint[]) AS f(work_id, generation) WHERE w.work_id = f.work_id "
     "AND w.generation = f.generation AND w.lease_owner = $1 RETURNING w.work_id"},
    {"es_release_leases",
     "UPDATE work_items SET lease_owner = NULL, lease_until = NULL, due_at = now() WHERE "
     "work_id = ANY($2::bigint[]) AND lease_owner = $1"},
    // Milliseconds until the earliest due item (negative: overdue), NULL when there is none.
    {"es_millis_until_tasks",
     "SELECT (extract(epoch from (LEAST((SELECT min(due_at) FROM work_items WHERE kind = 'task' "
     "AND lease_owner IS NULL), (SELECT min(lease_until) FROM work_items WHERE lease_owner IS "
     "NOT NULL AND kind = 'task'), (SELECT min(task_until) FROM execution_states WHERE "
     "task_owner IS NOT NULL)) - now())) * 1000)::bigint"},
    // Inline tasks (execution_states.task_*, migrations/0010) whose lease expired ($1 at most)
    // go to work_items, runnable now, under their executions' locks (those locked by a decision
    // are left for the next time): the owner's late outcome no longer matches the generation.
    {"es_rescue_inline_tasks",
     "WITH c AS (SELECT execution_id, task_generation FROM execution_states WHERE task_owner IS "
     "NOT NULL AND task_until < now() ORDER BY task_until LIMIT $1), l AS (SELECT "
     "e.execution_id FROM executions e WHERE e.execution_id IN (SELECT execution_id FROM c) ORDER "
     "BY e.execution_id FOR UPDATE SKIP LOCKED), u AS (UPDATE execution_states s SET task_owner "
     "= NULL, task_until = NULL, task_generation = s.task_generation + 1 FROM c WHERE "
     "s.execution_id = c.execution_id AND s.execution_id IN (SELECT execution_id FROM l) AND "
     "s.task_generation = c.task_generation AND s.task_owner IS NOT NULL AND s.task_until < "
     "now() RETURNING s.execution_id, s.task_key, s.task_payload) INSERT INTO work_items "
     "(execution_id, kind, key, payload, due_at) SELECT execution_id, 'task', task_key, "
     "task_payload, now() FROM u ON CONFLICT (execution_id, kind, key) DO NOTHING RETURNING "
     "work_id"},
    // The same for inline tasks of owner $1 named by (execution, generation) ($2, $3): a node
    // that shuts down gives them back.
    {"es_release_inline_tasks",
     "WITH l AS (SELECT e.execution_id FROM executions e WHERE e.execution_id = "
     "ANY($2::bigint[]) ORDER BY e.execution_id FOR UPDATE), u AS (UPDATE execution_states s "
     "SET task_owner = NULL, task_until = NULL, task_generation = s.task_generation + 1 FROM "
     "unnest($2::bigint[], $3::bigint[]) AS f(execution_id, generation) WHERE s.execution_id = "
     "f.execution_id AND s.task_generation = f.generation AND s.task_owner = $1 AND "
     "s.execution_id IN (SELECT execution_id FROM l) RETURNING s.execution_id, s.task_key, "
     "s.task_payload) INSERT INTO work_items (execution_id, kind, key, payload, due_at) SELECT "
     "execution_id, 'task', task_key, task_payload, now() FROM u ON CONFLICT (execution_id, "
     "kind, key) DO NOTHING"},
    {"es_renew_inline_leases",
     "UPDATE execution_states s SET task_until = now() + $4::bigint * interval '1 millisecond' "
     "FROM unnest($2::bigint[], $3::bigint[]) AS f(execution_id, generation) WHERE "
     "s.execution_id = f.execution_id AND s.task_generation = f.generation AND s.task_owner = $1 "
     "RETURNING s.execution_id"},
    {"es_millis_until_timers",
     "SELECT (extract(epoch from ((SELECT min(due_at) FROM work_items WHERE kind = "
     "ANY('{timer,task_timeout,heartbeat_timeout}'::text[]) AND lease_owner IS NULL) - now())) "
     "* 1000)::bigint"},

    // Task tokens.
    {"es_insert_tokens",
     "INSERT INTO task_tokens (token, execution_id, task_id, heartbeat_seconds) SELECT * FROM "
     "unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[]) ON CONFLICT (token) DO "
     "NOTHING"},
    {"es_find_token",
     "SELECT token, execution_id, task_id, heartbeat_seconds FROM task_tokens WHERE token = $1"},
    {"es_delete_tokens",
     "DELETE FROM task_tokens t USING unnest($1::bigint[], $2::text[]) AS d(execution_id, "
     "task_id) WHERE t.execution_id = d.execution_id AND t.task_id = d.task_id"},
};

#undef SY_LIVE
#undef SY_TS
#undef SY_NS

void AppendArrayElement(std::string& out, std::string_view text) {
  out += '"';
  // Runs without a quote or backslash are copied whole (payloads are mostly such runs).
  for (;;) {
    const std::size_t special = text.find_first_of("\"\\");
    if (special == std::string_view::npos) {
      out.append(text);
      break;
    }
    out.append(text.substr(0, special));
    out += '\\';
    out += text[special];
    text.remove_prefix(special + 1);
  }
  out += '"';
}

std::optional<std::string> OptionalText(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return std::string(field.c_str(), field.size());
}

// An execution's error and cause are the task's own strings, and PostgreSQL text holds no NUL:
// NUL is kept as \x01 '0' and \x01 itself as \x01 \x01 (reversible, valid UTF-8).
constexpr char kTextEscape = '\x01';

std::optional<std::string> EscapeNul(const std::optional<std::string>& text) {
  if (!text || text->find_first_of(std::string_view("\0\x01", 2)) == std::string::npos) {
    return text;
  }
  std::string out;
  out.reserve(text->size() + 8);
  for (char c : *text) {
    if (c == '\0') {
      out += kTextEscape;
      out += '0';
    } else if (c == kTextEscape) {
      out += kTextEscape;
      out += kTextEscape;
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> UnescapeNul(std::optional<std::string> text) {
  if (!text || text->find(kTextEscape) == std::string::npos) return text;
  std::string out;
  out.reserve(text->size());
  for (std::size_t i = 0; i < text->size(); ++i) {
    if ((*text)[i] == kTextEscape && i + 1 < text->size()) {
      ++i;
      out += (*text)[i] == '0' ? '\0' : (*text)[i];
    } else {
      out += (*text)[i];
    }
  }
  return out;
}

std::string Text(const pqxx::field& field) {
  if (field.is_null()) return {};
  return std::string(field.c_str(), field.size());
}

ExecutionRow ReadExecutionRow(const pqxx::row& row) {
  ExecutionRow e;
  e.execution_id = row[0].as<int64_t>();
  e.execution_arn = Text(row[1]);
  e.state_machine_name = Text(row[2]);
  e.state_machine_arn = Text(row[3]);
  e.revision_id = Text(row[4]);
  e.name = Text(row[5]);
  e.status = Text(row[6]);
  e.input = Text(row[7]);
  e.output = OptionalText(row[8]);
  e.error = UnescapeNul(OptionalText(row[9]));
  e.cause = UnescapeNul(OptionalText(row[10]));
  e.start_date = row[11].as<int64_t>();
  if (!row[12].is_null()) e.stop_date = row[12].as<int64_t>();
  e.history_count = row[13].as<int64_t>();
  e.redrive_count = row[14].as<int64_t>();
  return e;
}

WorkItem ReadClaimedTimer(const pqxx::row& row) {
  WorkItem w;
  w.work_id = row[0].as<int64_t>();
  w.execution_id = row[1].as<int64_t>();
  w.kind = Text(row[2]);
  w.key = Text(row[3]);
  w.due_at = row[4].as<int64_t>();
  w.generation = row[5].as<int64_t>();
  return w;
}

std::vector<int64_t> Ids(const pqxx::result& result) {
  std::vector<int64_t> ids;
  ids.reserve(result.size());
  for (const auto& row : result) ids.push_back(row[0].as<int64_t>());
  return ids;
}

}  // namespace

BinaryArray::BinaryArray(Type type, std::size_t reserve_bytes) : type_(type) {
  data_.reserve(kHeaderBytes + reserve_bytes);
  data_.assign(kHeaderBytes, '\0');
}

void BinaryArray::Put32(uint32_t value) {
  const char bytes[4] = {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
                         static_cast<char>(value >> 8), static_cast<char>(value)};
  data_.append(bytes, 4);
}

void BinaryArray::AddText(std::string_view text) {
  if (text.size() > static_cast<std::size_t>(std::numeric_limits<int32_t>::max())) {
    throw std::length_error("array element too large");
  }
  Put32(static_cast<uint32_t>(text.size()));
  data_.append(text);
  ++count_;
}

void BinaryArray::AddOptionalText(const std::optional<std::string>& text) {
  if (text) {
    AddText(std::string_view(*text));
    return;
  }
  Put32(0xFFFFFFFFu);  // length -1: NULL
  has_null_ = true;
  ++count_;
}

void BinaryArray::AddInt8(int64_t value) {
  Put32(8);
  const auto bits = static_cast<uint64_t>(value);
  Put32(static_cast<uint32_t>(bits >> 32));
  Put32(static_cast<uint32_t>(bits));
  ++count_;
}

void BinaryArray::AddInt4(int32_t value) {
  Put32(4);
  Put32(static_cast<uint32_t>(value));
  ++count_;
}

void BinaryArray::AddBool(bool value) {
  Put32(1);
  data_ += value ? '\x01' : '\x00';
  ++count_;
}

pqxx::binarystring BinaryArray::Finish() {
  // The header (dimensions, has-nulls flag, element type; the dimension's length and lower bound)
  // goes in the 20 bytes kept free at the front: 12 of them when the array is empty.
  auto put = [&](std::size_t at, uint32_t value) {
    data_[at] = static_cast<char>(value >> 24);
    data_[at + 1] = static_cast<char>(value >> 16);
    data_[at + 2] = static_cast<char>(value >> 8);
    data_[at + 3] = static_cast<char>(value);
  };
  std::size_t at = count_ == 0 ? 8 : 0;
  put(at, count_ == 0 ? 0 : 1);
  put(at + 4, has_null_ ? 1 : 0);
  put(at + 8, static_cast<uint32_t>(type_));
  if (count_ > 0) {
    if (count_ > static_cast<std::size_t>(std::numeric_limits<int32_t>::max())) {
      throw std::length_error("array too long");
    }
    put(12, static_cast<uint32_t>(count_));
    put(16, 1);
  }
  pqxx::binarystring result(data_.data() + at, data_.size() - at);
  data_.assign(kHeaderBytes, '\0');
  count_ = 0;
  has_null_ = false;
  return result;
}

std::string IntArray(const std::vector<int64_t>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);
  }
  out += '}';
  return out;
}

std::string TextArray(const std::vector<std::string>& values) {
  std::size_t size = 2;
  for (const auto& value : values) size += value.size() + 3;
  std::string out;
  out.reserve(size);
  out += '{';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    AppendArrayElement(out, values[i]);
  }
  out += '}';
  return out;
}

std::string OptionalTextArray(const std::vector<std::optional<std::string>>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    if (values[i]) {
      AppendArrayElement(out, *values[i]);
    } else {
      out += "NULL";
    }
  }
  out += '}';
  return out;
}

void PrepareExecutionStatements(pqxx::connection_base& connection) {
  // libpqxx's prepare() builds two std::strings and compares the SQL text of an already known
  // statement: for ~40 statements on every store call that was ~5% of a start's CPU. So each
  // connection registers them once. A connection is known by its address and its server
  // process: a new connection object at the address of a closed one talks to another backend
  // (pid), and libpqxx itself re-prepares what it knows after reconnecting.
  static std::mutex mu;
  static std::unordered_map<const pqxx::connection_base*, int> prepared;  // Guarded by mu.
  const int pid = connection.backendpid();
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = prepared.find(&connection);
    if (it != prepared.end() && it->second == pid && pid != 0) return;
  }
  for (const auto& statement : kStatements) connection.prepare(statement.name, statement.sql);
  std::lock_guard<std::mutex> lock(mu);
  // Bounded: forgetting only costs registering again.
  if (prepared.size() >= 4096) prepared.clear();
  prepared.insert_or_assign(&connection, pid);
}

// ---- state machines ---------------------------------------------------------------------------

bool InsertStateMachine(pqxx::transaction_base& tx, const StateMachineRow& row) {
  PrepareExecutionStatements(tx.conn());
  pqxx::result inserted = tx.exec_prepared("es_insert_state_machine", row.name, row.arn, row.type,
                                           row.role_arn, row.revision_id);
  if (inserted.empty()) return false;
  tx.exec_prepared("es_insert_revision", row.revision_id, row.name, row.definition);
  return true;
}

bool UpdateStateMachine(pqxx::transaction_base& tx, const std::string& name,
                        const std::string& revision_id, const std::string& definition,
                        const std::string& role_arn) {
  PrepareExecutionStatements(tx.conn());
  pqxx::result updated = tx.exec_prepared("es_update_state_machine", name, revision_id, role_arn);
  if (updated.empty()) return false;
  tx.exec_prepared("es_insert_revision", revision_id, name, definition);
  return true;
}

std::optional<StateMachineRow> GetStateMachine(pqxx::transaction_base& tx,
                                               const std::string& name) {
  PrepareExecutionStatements(tx.conn());
  pqxx::result result = tx.exec_prepared("es_get_state_machine", name);
  if (result.empty()) return std::nullopt;
  const auto& r = result[0];
  StateMachineRow row;
  row.name = Text(r[0]);
  row.arn = Text(r[1]);
  row.type = Text(r[2]);
  row.role_arn = Text(r[3]);
  row.revision_id = Text(r[4]);
  row.definition = Text(r[5]);
  row.status = Text(r[6]);
  row.created_at = r[7].as<int64_t>();
  row.updated_at = r[8].as<int64_t>();
  return row;
}

std::vector<StateMachineRow> ListStateMachines(pqxx::transaction_base& tx) {
  PrepareExecutionStatements(tx.conn());
  std::vector<StateMachineRow> rows;
  for (const auto& r : tx.exec_prepared("es_list_state_machines")) {
    StateMachineRow row;
    row.name = Text(r[0]);
    row.arn = Text(r[1]);
    row.type = Text(r[2]);
    row.role_arn = Text(r[3]);
    row.revision_id = Text(r[4]);
    row.status = Text(r[5]);
    row.created_at = r[6].as<int64_t>();
    row.updated_at = r[7].as<int64_t>();
    rows.push_back(std::move(row));
  }
  return rows;
}

bool DeleteStateMachine(pqxx::transaction_base& tx, const std::string& name) {
  PrepareExecutionStatements(tx.conn());
  return !tx.exec_prepared("es_delete_state_machine", name).empty();
}

std::optional<std::string> GetRevision(pqxx::transaction_base& tx, const std::string& revision_id) {
  PrepareExecutionStatements(tx.conn());
  pqxx::result result = tx.exec_prepared("es_get_revision", revision_id);
  if (result.empty()) return std::nullopt;
  return Text(result[0][0]);
}

// ---- executions -------------------------------------------------------------------------------

namespace {

// History chunks (migration 0009): the events of one execution with consecutive ids, one row.
// Each event is "<previous id> <timestamp> <type> <details key> <details length>:<details>",
// the events back to back.
void AppendChunkEvent(std::string& out, const HistoryRow& row) {
  out += std::to_string(row.previous_event_id);
  out += ' ';
  out += std::to_string(row.timestamp);
  out += ' ';
  out += row.type;
  out += ' ';
  out += row.details_key;
  out += ' ';
  out += std::to_string(row.details.size());
  out += ':';
  out += row.details;
}

// Columns of history_chunks rows: `rows` grouped by execution (kept in order within one) and cut
// where ids are not consecutive.
struct ChunkColumns {
  explicit ChunkColumns(const std::vector<HistoryRow>& rows) {
    std::vector<std::size_t> order(rows.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return rows[a].execution_id < rows[b].execution_id;
    });
    for (std::size_t i : order) {
      const HistoryRow& row = rows[i];
      if (events.empty() || executions.back() != row.execution_id ||
          lasts.back() + 1 != row.event_id) {
        executions.push_back(row.execution_id);
        firsts.push_back(row.event_id);
        lasts.push_back(row.event_id);
        events.emplace_back();
      } else {
        lasts.back() = row.event_id;
      }
      AppendChunkEvent(events.back(), row);
    }
  }
  std::vector<int64_t> executions, firsts, lasts;
  std::vector<std::string> events;
};

// Reads a number ending at `stop`; false when there is none.
bool ReadChunkNumber(std::string_view text, std::size_t& at, char stop, int64_t& value) {
  const std::size_t end = text.find(stop, at);
  if (end == std::string_view::npos || end == at) return false;
  bool negative = text[at] == '-';
  std::size_t i = negative ? at + 1 : at;
  if (i == end) return false;
  int64_t v = 0;
  for (; i < end; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + (text[i] - '0');
  }
  value = negative ? -v : v;
  at = end + 1;
  return true;
}

bool ReadChunkWord(std::string_view text, std::size_t& at, std::string& word) {
  const std::size_t end = text.find(' ', at);
  if (end == std::string_view::npos) return false;
  word.assign(text.substr(at, end - at));
  at = end + 1;
  return true;
}

// The events of a chunk whose ids lie in [low, high], appended to `out`. Throws on a chunk this
// code did not write (a corrupt row must not read as a shorter history).
void UnpackChunk(int64_t execution_id, int64_t first_event_id, int64_t last_event_id,
                 std::string_view text, int64_t low, int64_t high, std::vector<HistoryRow>& out) {
  std::size_t at = 0;
  for (int64_t id = first_event_id; id <= last_event_id; ++id) {
    HistoryRow row;
    row.execution_id = execution_id;
    row.event_id = id;
    int64_t length = 0;
    if (!ReadChunkNumber(text, at, ' ', row.previous_event_id) ||
        !ReadChunkNumber(text, at, ' ', row.timestamp) || !ReadChunkWord(text, at, row.type) ||
        !ReadChunkWord(text, at, row.details_key) || !ReadChunkNumber(text, at, ':', length) ||
        length < 0 || static_cast<std::size_t>(length) > text.size() - at) {
      throw std::runtime_error("execution " + std::to_string(execution_id) +
                               ": unreadable history chunk at event " + std::to_string(id));
    }
    if (id >= low && id <= high) {
      row.details.assign(text.substr(at, static_cast<std::size_t>(length)));
      out.push_back(std::move(row));
    }
    at += static_cast<std::size_t>(length);
  }
}

// What the statements take of ExecutionUpdates, as one array per column (`finished` a boolean
// array literal).
struct UpdateColumns {
  explicit UpdateColumns(const std::vector<ExecutionUpdate>& updates) {
    for (const auto& u : updates) {
      statuses.push_back(u.status);
      snapshots.push_back(u.snapshot);
      history_counts.push_back(u.history_count);
      outputs.push_back(u.output);
      errors.push_back(EscapeNul(u.error));
      causes.push_back(EscapeNul(u.cause));
      if (finished.size() > 1) finished += ',';
      finished += u.finished ? "t" : "f";
    }
    finished += '}';
  }
  std::vector<int64_t> history_counts;
  std::vector<std::string> statuses, snapshots;
  std::vector<std::optional<std::string>> outputs, errors, causes;
  std::string finished = "{";
};

// Work item columns as binary arrays, executions named by id + `id_offset`; the task items
// to lease to `lease_owner` as it inserts them, by (execution id, key) as given.
struct BinaryWorkColumns {
  BinaryWorkColumns(const std::vector<WorkItem>& work, const std::string& lease_owner,
                    int64_t id_offset) {
    using T = BinaryArray::Type;
    std::size_t payload_bytes = 0;
    for (const auto& item : work) payload_bytes += item.payload.size() + 4;
    executions = BinaryArray(T::kInt8, work.size() * 12);
    kinds = BinaryArray(T::kText, work.size() * 16);
    keys = BinaryArray(T::kText, work.size() * 24);
    payloads = BinaryArray(T::kText, payload_bytes);
    due = BinaryArray(T::kInt8, work.size() * 12);
    leased = BinaryArray(T::kBool, work.size() * 5);
    for (const auto& item : work) {
      executions.AddInt8(item.execution_id + id_offset);
      kinds.AddText(item.kind);
      keys.AddText(item.key);
      payloads.AddOptionalText(item.payload.empty() ? std::nullopt
                                                    : std::optional<std::string>(item.payload));
      due.AddInt8(item.due_at);
      const bool lease = item.lease && item.kind == kWorkTask && !lease_owner.empty();
      leased.AddBool(lease);
      if (lease) to_lease.emplace(std::make_pair(item.execution_id, item.key), &item);
    }
  }
  BinaryArray executions{BinaryArray::Type::kInt8}, kinds{BinaryArray::Type::kText},
      keys{BinaryArray::Type::kText}, payloads{BinaryArray::Type::kText},
      due{BinaryArray::Type::kInt8}, leased{BinaryArray::Type::kBool};
  std::map<std::pair<int64_t, std::string>, const WorkItem*> to_lease;
};

// History chunk columns (ChunkColumns) as binary arrays, executions named by id + `id_offset`.
struct BinaryChunkColumns {
  BinaryChunkColumns(const std::vector<HistoryRow>& history, int64_t id_offset) {
    using T = BinaryArray::Type;
    const ChunkColumns chunks(history);
    std::size_t event_bytes = 0;
    for (const auto& text : chunks.events) event_bytes += text.size() + 4;
    const std::size_t n = chunks.executions.size();
    executions = BinaryArray(T::kInt8, n * 12);
    firsts = BinaryArray(T::kInt4, n * 8);
    lasts = BinaryArray(T::kInt4, n * 8);
    events = BinaryArray(T::kText, event_bytes);
    for (std::size_t i = 0; i < n; ++i) {
      executions.AddInt8(chunks.executions[i] + id_offset);
      firsts.AddInt4(static_cast<int32_t>(chunks.firsts[i]));
      lasts.AddInt4(static_cast<int32_t>(chunks.lasts[i]));
      events.AddText(chunks.events[i]);
    }
  }
  BinaryArray executions{BinaryArray::Type::kInt8}, firsts{BinaryArray::Type::kInt4},
      lasts{BinaryArray::Type::kInt4}, events{BinaryArray::Type::kText};
};

std::vector<std::optional<int64_t>> InsertExecutionRows(
    pqxx::transaction_base& tx, const std::vector<ExecutionRow>& rows,
    const std::vector<ExecutionUpdate>* decisions, const std::vector<HistoryRow>* history) {
  std::vector<std::optional<int64_t>> ids(rows.size());
  if (rows.empty()) return ids;
  PrepareExecutionStatements(tx.conn());
  std::vector<std::string> arns, machines, machine_arns, revisions, names, inputs;
  std::vector<int64_t> starts;
  for (const auto& row : rows) {
    arns.push_back(row.execution_arn);
    machines.push_back(row.state_machine_name);
    machine_arns.push_back(row.state_machine_arn);
    revisions.push_back(row.revision_id);
    names.push_back(row.name);
    inputs.push_back(row.input);
    starts.push_back(row.start_date);
  }
  pqxx::result result;
  if (decisions == nullptr) {
    result = tx.exec_prepared("es_insert_executions", TextArray(arns), TextArray(machines),
                              TextArray(machine_arns), TextArray(revisions), TextArray(names),
                              TextArray(inputs), IntArray(starts));
  } else {
    const UpdateColumns c(*decisions);
    // Chunks are keyed by the position of their execution in `rows`, sent as its ARN.
    const ChunkColumns chunks(*history);
    std::vector<std::string> chunk_arns;
    for (int64_t position : chunks.executions) {
      chunk_arns.push_back(arns[static_cast<std::size_t>(position)]);
    }
    result = tx.exec_prepared(
        "es_insert_decided_executions", TextArray(arns), TextArray(machines),
        TextArray(machine_arns), TextArray(revisions), TextArray(names), TextArray(inputs),
        IntArray(starts), TextArray(c.statuses), TextArray(c.snapshots), IntArray(c.history_counts),
        OptionalTextArray(c.outputs), OptionalTextArray(c.errors), OptionalTextArray(c.causes),
        c.finished, TextArray(chunk_arns), IntArray(chunks.firsts), IntArray(chunks.lasts),
        TextArray(chunks.events));
  }
  std::map<std::string, int64_t> inserted;
  for (const auto& r : result) inserted.emplace(Text(r[1]), r[0].as<int64_t>());
  // The ARN names the execution (machine + name): the first row of a name got it.
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto it = inserted.find(rows[i].execution_arn);
    if (it != inserted.end()) {
      ids[i] = it->second;
      inserted.erase(it);
    }
  }
  return ids;
}

}  // namespace

std::vector<std::optional<int64_t>> InsertExecutions(pqxx::transaction_base& tx,
                                                     const std::vector<ExecutionRow>& rows) {
  return InsertExecutionRows(tx, rows, nullptr, nullptr);
}

std::vector<std::optional<int64_t>> InsertDecidedExecutions(
    pqxx::transaction_base& tx, const std::vector<ExecutionRow>& rows,
    const std::vector<ExecutionUpdate>& decisions, const std::vector<HistoryRow>& history) {
  return InsertExecutionRows(tx, rows, &decisions, &history);
}

StartedExecutions InsertStartedExecutions(pqxx::transaction_base& tx,
                                          const std::vector<ExecutionRow>& rows,
                                          const std::vector<ExecutionUpdate>& decisions,
                                          const std::vector<HistoryRow>& history,
                                          const std::vector<WorkItem>& work,
                                          const std::string& lease_owner, int64_t lease_ms) {
  StartedExecutions started;
  started.ids.resize(rows.size());
  if (rows.empty()) return started;
  PrepareExecutionStatements(tx.conn());
  using T = BinaryArray::Type;
  std::size_t input_bytes = 0, snapshot_bytes = 0, output_bytes = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    input_bytes += rows[i].input.size() + 4;
    snapshot_bytes += decisions[i].snapshot.size() + 4;
    output_bytes += (decisions[i].output ? decisions[i].output->size() : 0) + 4;
  }
  BinaryArray arns(T::kText, rows.size() * 96), machines(T::kText, rows.size() * 32),
      machine_arns(T::kText, rows.size() * 96), revisions(T::kText, rows.size() * 40),
      names(T::kText, rows.size() * 44), inputs(T::kText, input_bytes),
      starts(T::kInt8, rows.size() * 12), statuses(T::kText, rows.size() * 13),
      snapshots(T::kText, snapshot_bytes), history_counts(T::kInt4, rows.size() * 8),
      outputs(T::kText, output_bytes), errors(T::kText), causes(T::kText),
      finished(T::kBool, rows.size() * 5);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const ExecutionRow& row = rows[i];
    const ExecutionUpdate& d = decisions[i];
    arns.AddText(row.execution_arn);
    machines.AddText(row.state_machine_name);
    machine_arns.AddText(row.state_machine_arn);
    revisions.AddText(row.revision_id);
    names.AddText(row.name);
    inputs.AddText(row.input);
    starts.AddInt8(row.start_date);
    statuses.AddText(d.status);
    // A SUCCEEDED execution keeps no snapshot (empty: NULL).
    snapshots.AddOptionalText(d.snapshot.empty() ? std::nullopt
                                                 : std::optional<std::string>(d.snapshot));
    history_counts.AddInt4(static_cast<int32_t>(d.history_count));
    outputs.AddOptionalText(d.output);
    errors.AddOptionalText(EscapeNul(d.error));
    causes.AddOptionalText(EscapeNul(d.cause));
    finished.AddBool(d.finished);
  }
  // Executions by position in `rows`, counted from 1 (WITH ORDINALITY).
  BinaryChunkColumns chunks(history, 1);
  BinaryWorkColumns w(work, lease_owner, 1);
  pqxx::result result = tx.exec_prepared(
      "es_start_executions", arns.Finish(), machines.Finish(), machine_arns.Finish(),
      revisions.Finish(), names.Finish(), inputs.Finish(), starts.Finish(), statuses.Finish(),
      snapshots.Finish(), history_counts.Finish(), outputs.Finish(), errors.Finish(),
      causes.Finish(), finished.Finish(), chunks.executions.Finish(), chunks.firsts.Finish(),
      chunks.lasts.Finish(), chunks.events.Finish(), w.executions.Finish(), w.kinds.Finish(),
      w.keys.Finish(), w.payloads.Finish(), w.due.Finish(), w.leased.Finish(), lease_owner,
      lease_ms);
  std::map<int64_t, int64_t> positions;  // execution id -> position in rows
  for (const auto& r : result) {
    if (r[0].is_null()) continue;
    const auto position = static_cast<std::size_t>(r[0].as<int64_t>() - 1);
    const int64_t id = r[1].as<int64_t>();
    if (position < rows.size()) started.ids[position] = id;
    positions.emplace(id, static_cast<int64_t>(position));
  }
  for (const auto& r : result) {
    if (!r[0].is_null()) continue;
    auto position = positions.find(r[1].as<int64_t>());
    if (position == positions.end()) continue;
    auto it = w.to_lease.find({position->second, Text(r[3])});
    if (it == w.to_lease.end()) continue;
    WorkItem item = *it->second;
    item.execution_id = r[1].as<int64_t>();
    item.work_id = r[2].as<int64_t>();
    item.generation = 1;
    item.attempts = 1;
    started.leased.push_back(std::move(item));
  }
  return started;
}

std::optional<ExecutionRow> FindExecutionByName(pqxx::transaction_base& tx,
                                                const std::string& state_machine_name,
                                                const std::string& name) {
  PrepareExecutionStatements(tx.conn());
  pqxx::result result = tx.exec_prepared("es_find_execution_by_name", state_machine_name, name);
  if (result.empty()) return std::nullopt;
  return ReadExecutionRow(result[0]);
}

std::optional<ExecutionRow> FindExecution(pqxx::transaction_base& tx,
                                          const std::string& execution_arn) {
  PrepareExecutionStatements(tx.conn());
  pqxx::result result = tx.exec_prepared("es_find_execution", execution_arn);
  if (result.empty()) return std::nullopt;
  return ReadExecutionRow(result[0]);
}

std::vector<ExecutionRow> ListExecutions(pqxx::transaction_base& tx,
                                         const std::string& state_machine_name,
                                         const std::string& status, int64_t before_id,
                                         int64_t limit) {
  PrepareExecutionStatements(tx.conn());
  std::vector<ExecutionRow> rows;
  pqxx::result result =
      status == "RUNNING"
          ? tx.exec_prepared("es_list_running_executions", state_machine_name, before_id, limit)
          : tx.exec_prepared("es_list_executions", state_machine_name, status, before_id, limit);
  for (const auto& r : result) {
    rows.push_back(ReadExecutionRow(r));
  }
  return rows;
}

namespace {

std::vector<LockedExecution> ReadLockedExecutions(const pqxx::result& result) {
  std::vector<LockedExecution> rows;
  rows.reserve(result.size());
  for (const auto& r : result) {
    LockedExecution e;
    e.execution_id = r[0].as<int64_t>();
    e.execution_arn = Text(r[1]);
    e.name = Text(r[2]);
    e.state_machine_name = Text(r[3]);
    e.state_machine_arn = Text(r[4]);
    e.revision_id = Text(r[5]);
    e.status = Text(r[6]);
    e.snapshot = OptionalText(r[7]);
    e.decision_count = r[8].as<int64_t>();
    e.history_count = r[9].as<int64_t>();
    e.snapshot_cached = r[10].as<bool>();
    e.task_owner = Text(r[11]);
    e.task_generation = r[12].as<int64_t>();
    e.task_key = Text(r[13]);
    rows.push_back(std::move(e));
  }
  return rows;
}

}  // namespace

std::vector<LockedExecution> LockExecutions(pqxx::transaction_base& tx,
                                            const std::vector<int64_t>& execution_ids,
                                            const std::vector<int64_t>& snapshot_ids) {
  if (execution_ids.empty()) return {};
  PrepareExecutionStatements(tx.conn());
  // No cached counts: every snapshot is sent; those not wanted are dropped.
  std::vector<LockedExecution> rows = ReadLockedExecutions(
      tx.exec_prepared("es_lock_executions", IntArray(execution_ids), IntArray({}), IntArray({})));
  const std::set<int64_t> wanted(snapshot_ids.begin(), snapshot_ids.end());
  for (auto& row : rows) {
    if (wanted.count(row.execution_id) == 0) row.snapshot.reset();
  }
  return rows;
}

std::vector<LockedExecution> LockExecutionsCached(pqxx::transaction_base& tx,
                                                  const std::vector<int64_t>& execution_ids,
                                                  const std::vector<int64_t>& cached_ids,
                                                  const std::vector<int64_t>& cached_counts) {
  if (execution_ids.empty()) return {};
  PrepareExecutionStatements(tx.conn());
  return ReadLockedExecutions(tx.exec_prepared("es_lock_executions", IntArray(execution_ids),
                                               IntArray(cached_ids), IntArray(cached_counts)));
}

void UpdateExecutions(pqxx::transaction_base& tx, const std::vector<ExecutionUpdate>& updates,
                      int64_t now) {
  if (updates.empty()) return;
  PrepareExecutionStatements(tx.conn());
  std::vector<int64_t> ids;
  for (const auto& u : updates) ids.push_back(u.execution_id);
  const UpdateColumns c(updates);
  tx.exec_prepared("es_update_executions", IntArray(ids), TextArray(c.statuses),
                   TextArray(c.snapshots), IntArray(c.history_counts), OptionalTextArray(c.outputs),
                   OptionalTextArray(c.errors), OptionalTextArray(c.causes), c.finished, now);
}

std::vector<WorkItem> WriteDecisions(pqxx::transaction_base& tx,
                                     const std::vector<ExecutionUpdate>& updates, int64_t now,
                                     const std::vector<WorkItem>& work,
                                     const std::vector<HistoryRow>& history,
                                     const std::vector<int64_t>& ended_executions,
                                     const std::string& lease_owner, int64_t lease_ms) {
  if (updates.empty() && work.empty() && history.empty() && ended_executions.empty()) return {};
  PrepareExecutionStatements(tx.conn());
  // Binary array parameters: the snapshots and history chunks (most of the bytes, full of
  // quotes) are neither escaped here nor parsed by the server.
  using T = BinaryArray::Type;
  std::size_t snapshot_bytes = 0;
  for (const auto& u : updates) snapshot_bytes += u.snapshot.size() + 4;
  BinaryArray ids(T::kInt8, updates.size() * 12), statuses(T::kText, updates.size() * 13),
      snapshots(T::kText, snapshot_bytes), history_counts(T::kInt4, updates.size() * 8),
      outputs(T::kText), errors(T::kText), causes(T::kText), finished(T::kBool, updates.size() * 5),
      to_executions(T::kBool, updates.size() * 5), inline_ops(T::kInt4, updates.size() * 8),
      inline_keys(T::kText), inline_payloads(T::kText),
      decision_counts(T::kInt8, updates.size() * 12);
  std::map<int64_t, const ExecutionUpdate*> inline_set;
  for (const auto& u : updates) {
    const bool to_row = u.WritesExecutionsRow();
    to_executions.AddBool(to_row);
    const auto op = to_row ? ExecutionUpdate::InlineTask::kKeep : u.inline_task;
    inline_ops.AddInt4(static_cast<int32_t>(op));
    inline_keys.AddOptionalText(op == ExecutionUpdate::InlineTask::kSet
                                    ? std::optional<std::string>(u.inline_key)
                                    : std::nullopt);
    inline_payloads.AddOptionalText(op == ExecutionUpdate::InlineTask::kSet
                                        ? std::optional<std::string>(u.inline_payload)
                                        : std::nullopt);
    if (op == ExecutionUpdate::InlineTask::kSet) inline_set.emplace(u.execution_id, &u);
    ids.AddInt8(u.execution_id);
    decision_counts.AddInt8(u.decision_count);
    statuses.AddText(u.status);
    snapshots.AddText(u.snapshot);  // empty: NULL (NULLIF in the statement)
    history_counts.AddInt4(static_cast<int32_t>(u.history_count));
    outputs.AddOptionalText(u.output);
    errors.AddOptionalText(EscapeNul(u.error));
    causes.AddOptionalText(EscapeNul(u.cause));
    finished.AddBool(u.finished);
  }
  BinaryWorkColumns w(work, lease_owner, 0);
  BinaryChunkColumns chunks(history, 0);
  BinaryArray ended(T::kInt8, ended_executions.size() * 12);
  for (int64_t id : ended_executions) ended.AddInt8(id);
  pqxx::result result = tx.exec_prepared(
      "es_write_decisions", ids.Finish(), statuses.Finish(), snapshots.Finish(),
      history_counts.Finish(), outputs.Finish(), errors.Finish(), causes.Finish(),
      finished.Finish(), now, w.executions.Finish(), w.kinds.Finish(), w.keys.Finish(),
      w.payloads.Finish(), w.due.Finish(), w.leased.Finish(), lease_owner, lease_ms,
      chunks.executions.Finish(), chunks.firsts.Finish(), chunks.lasts.Finish(),
      chunks.events.Finish(), ended.Finish(), to_executions.Finish(), inline_ops.Finish(),
      inline_keys.Finish(), inline_payloads.Finish(), decision_counts.Finish());
  std::vector<WorkItem> claimed;
  claimed.reserve(result.size());
  for (const auto& r : result) {
    if (!r[1].is_null() && r[0].is_null()) {
      // An inline task (execution_states), leased to the writer.
      auto it = inline_set.find(r[1].as<int64_t>());
      if (it == inline_set.end()) continue;
      WorkItem item;
      item.execution_id = it->first;
      item.kind = std::string(kWorkTask);
      item.key = it->second->inline_key;
      item.payload = it->second->inline_payload;
      item.generation = r[3].as<int64_t>();
      item.attempts = 1;
      item.lease = true;
      item.inline_task = true;
      item.lease_left_ms = r[4].is_null() ? 0 : r[4].as<int64_t>();
      claimed.push_back(std::move(item));
      continue;
    }
    if (r[1].is_null()) {
      // The row of txid_current(): in a Transact, the pool needs no statement of its own to
      // learn the transaction's id before COMMIT (for an in-doubt commit).
      ConnectionPool::NoteTransactionId(tx, r[0].as<int64_t>());
      continue;
    }
    auto it = w.to_lease.find({r[1].as<int64_t>(), Text(r[2])});
    if (it == w.to_lease.end()) continue;
    WorkItem item = *it->second;
    item.work_id = r[0].as<int64_t>();
    item.generation = 1;
    item.attempts = 1;
    claimed.push_back(std::move(item));
  }
  return claimed;
}

void CheckSchema(pqxx::transaction_base& tx) { tx.exec("SELECT 1 FROM executions LIMIT 0"); }

void UseCustomPlans(pqxx::transaction_base& tx) {
  tx.exec("SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL enable_seqscan = off");
}

int64_t DecisionCount(pqxx::transaction_base& tx, int64_t execution_id) {
  PrepareExecutionStatements(tx.conn());
  pqxx::result result = tx.exec_prepared("es_decision_count", execution_id);
  if (result.empty()) return -1;
  return result[0][0].as<int64_t>();
}

// ---- history ----------------------------------------------------------------------------------

void AppendHistory(pqxx::transaction_base& tx, const std::vector<HistoryRow>& rows) {
  if (rows.empty()) return;
  PrepareExecutionStatements(tx.conn());
  const ChunkColumns chunks(rows);
  tx.exec_prepared("es_append_history", IntArray(chunks.executions), IntArray(chunks.firsts),
                   IntArray(chunks.lasts), TextArray(chunks.events));
}

std::vector<HistoryRow> ReadHistory(pqxx::transaction_base& tx, int64_t execution_id,
                                    int64_t after_event_id, int64_t limit, bool reverse) {
  PrepareExecutionStatements(tx.conn());
  // Event ids are 1..n without gaps (across history_events and history_chunks), so a page is a
  // range of ids: [low, high].
  constexpr int64_t kMaxEventId = std::numeric_limits<int32_t>::max();
  if (limit <= 0 || after_event_id < 0) return {};
  int64_t low = 0, high = 0;
  if (!reverse) {
    if (after_event_id >= kMaxEventId) return {};
    low = after_event_id + 1;
    high = std::min(kMaxEventId, after_event_id + limit);
  } else {
    if (after_event_id == 0) {
      pqxx::result last = tx.exec_prepared("es_last_event_id", execution_id);
      if (last.empty() || last[0][0].is_null()) return {};
      high = last[0][0].as<int64_t>();
    } else {
      high = std::min(kMaxEventId, after_event_id - 1);
    }
    if (high < 1) return {};
    low = std::max<int64_t>(1, high - limit + 1);
  }
  std::vector<HistoryRow> rows;
  for (const auto& r : tx.exec_prepared("es_read_history", execution_id, low, high)) {
    if (!r[0].as<bool>()) {
      HistoryRow h;
      h.execution_id = execution_id;
      h.event_id = r[1].as<int64_t>();
      h.previous_event_id = r[2].as<int64_t>();
      h.timestamp = r[3].as<int64_t>();
      h.type = Text(r[4]);
      h.details_key = Text(r[5]);
      h.details = Text(r[6]);
      rows.push_back(std::move(h));
    } else {
      UnpackChunk(execution_id, r[1].as<int64_t>(), r[2].as<int64_t>(),
                  std::string_view(r[6].c_str(), r[6].size()), low, high, rows);
    }
  }
  std::sort(rows.begin(), rows.end(), [reverse](const HistoryRow& a, const HistoryRow& b) {
    return reverse ? a.event_id > b.event_id : a.event_id < b.event_id;
  });
  return rows;
}

// ---- the work queue ---------------------------------------------------------------------------

void EnqueueWork(pqxx::transaction_base& tx, const std::vector<WorkItem>& items) {
  if (items.empty()) return;
  PrepareExecutionStatements(tx.conn());
  std::vector<int64_t> execution_ids, due;
  std::vector<std::string> kinds, keys;
  std::vector<std::optional<std::string>> payloads;
  for (const auto& item : items) {
    execution_ids.push_back(item.execution_id);
    kinds.push_back(item.kind);
    keys.push_back(item.key);
    payloads.push_back(item.payload.empty() ? std::nullopt
                                            : std::optional<std::string>(item.payload));
    due.push_back(item.due_at);
  }
  tx.exec_prepared("es_enqueue_work", IntArray(execution_ids), TextArray(kinds), TextArray(keys),
                   OptionalTextArray(payloads), IntArray(due));
}

void DeleteWork(pqxx::transaction_base& tx, const std::vector<WorkItem>& items) {
  if (items.empty()) return;
  PrepareExecutionStatements(tx.conn());
  std::vector<int64_t> execution_ids;
  std::vector<std::string> kinds, keys;
  for (const auto& item : items) {
    execution_ids.push_back(item.execution_id);
    kinds.push_back(item.kind);
    keys.push_back(item.key);
  }
  tx.exec_prepared("es_delete_work", IntArray(execution_ids), TextArray(kinds), TextArray(keys));
}

void DeleteExecutionWork(pqxx::transaction_base& tx, const std::vector<int64_t>& execution_ids) {
  if (execution_ids.empty()) return;
  PrepareExecutionStatements(tx.conn());
  tx.exec_prepared("es_delete_execution_work", IntArray(execution_ids));
}

bool RescheduleWork(pqxx::transaction_base& tx, int64_t execution_id, const std::string& kind,
                    const std::string& key, int64_t due_at) {
  PrepareExecutionStatements(tx.conn());
  return !tx.exec_prepared("es_reschedule_work", execution_id, kind, key, due_at).empty();
}

std::vector<WorkItem> ClaimTimers(pqxx::transaction_base& tx, int64_t limit) {
  PrepareExecutionStatements(tx.conn());
  std::vector<WorkItem> items;
  for (const auto& r : tx.exec_prepared("es_claim_timers", limit)) {
    items.push_back(ReadClaimedTimer(r));
  }
  return items;
}

std::optional<WorkItem> ClaimTimer(pqxx::transaction_base& tx, int64_t work_id) {
  PrepareExecutionStatements(tx.conn());
  pqxx::result result = tx.exec_prepared("es_claim_timer", work_id);
  if (result.empty()) return std::nullopt;
  return ReadClaimedTimer(result[0]);
}

void DeleteWorkIds(pqxx::transaction_base& tx, const std::vector<int64_t>& work_ids) {
  if (work_ids.empty()) return;
  PrepareExecutionStatements(tx.conn());
  tx.exec_prepared("es_delete_work_ids", IntArray(work_ids));
}

std::vector<WorkItem> ClaimTasks(pqxx::transaction_base& tx, const std::string& owner,
                                 int64_t lease_ms, int64_t limit) {
  PrepareExecutionStatements(tx.conn());
  std::vector<WorkItem> items;
  const pqxx::result claimed = tx.exec_prepared("es_claim_tasks", owner, lease_ms, limit);
  for (const auto& r : claimed) {
    WorkItem w;
    w.work_id = r[0].as<int64_t>();
    w.execution_id = r[1].as<int64_t>();
    w.kind = Text(r[2]);
    w.key = Text(r[3]);
    w.payload = Text(r[4]);
    w.due_at = r[5].as<int64_t>();
    w.attempts = r[6].as<int64_t>();
    w.generation = r[7].as<int64_t>();
    items.push_back(std::move(w));
  }
  // Rows claimed: the transaction has its id (the update assigned it); in a Transact, the pool
  // then needs no statement of its own for it before COMMIT.
  if (!claimed.empty()) ConnectionPool::NoteTransactionId(tx, claimed.back()[8].as<int64_t>());
  return items;
}

std::vector<int64_t> FenceWork(pqxx::transaction_base& tx, const std::string& owner,
                               const std::vector<int64_t>& work_ids,
                               const std::vector<int64_t>& generations) {
  if (work_ids.empty()) return {};
  PrepareExecutionStatements(tx.conn());
  return Ids(tx.exec_prepared("es_fence_work", owner, IntArray(work_ids), IntArray(generations)));
}

std::vector<int64_t> RenewLeases(pqxx::transaction_base& tx, const std::string& owner,
                                 const std::vector<int64_t>& work_ids,
                                 const std::vector<int64_t>& generations, int64_t lease_ms) {
  if (work_ids.empty()) return {};
  PrepareExecutionStatements(tx.conn());
  return Ids(tx.exec_prepared("es_renew_leases", owner, IntArray(work_ids), IntArray(generations),
                              lease_ms));
}

void ReleaseLeases(pqxx::transaction_base& tx, const std::string& owner,
                   const std::vector<int64_t>& work_ids) {
  if (work_ids.empty()) return;
  PrepareExecutionStatements(tx.conn());
  tx.exec_prepared("es_release_leases", owner, IntArray(work_ids));
}

std::optional<int64_t> MillisUntilDue(pqxx::transaction_base& tx, bool tasks) {
  PrepareExecutionStatements(tx.conn());
  pqxx::result result =
      tx.exec_prepared(tasks ? "es_millis_until_tasks" : "es_millis_until_timers");
  // NULL: nothing of the family waits. (Not GREATEST(0, ...) in SQL: GREATEST ignores a NULL
  // and answered 0, so idle engines polled without pause.)
  if (result.empty() || result[0][0].is_null()) return std::nullopt;
  return std::max<int64_t>(0, result[0][0].as<int64_t>());
}

int64_t RescueInlineTasks(pqxx::transaction_base& tx, int64_t limit) {
  PrepareExecutionStatements(tx.conn());
  return static_cast<int64_t>(tx.exec_prepared("es_rescue_inline_tasks", limit).size());
}

std::vector<int64_t> RenewInlineLeases(pqxx::transaction_base& tx, const std::string& owner,
                                       const std::vector<int64_t>& execution_ids,
                                       const std::vector<int64_t>& generations, int64_t lease_ms) {
  if (execution_ids.empty()) return {};
  PrepareExecutionStatements(tx.conn());
  return Ids(tx.exec_prepared("es_renew_inline_leases", owner, IntArray(execution_ids),
                              IntArray(generations), lease_ms));
}

void ReleaseInlineTasks(pqxx::transaction_base& tx, const std::string& owner,
                        const std::vector<int64_t>& execution_ids,
                        const std::vector<int64_t>& generations) {
  if (execution_ids.empty()) return;
  PrepareExecutionStatements(tx.conn());
  tx.exec_prepared("es_release_inline_tasks", owner, IntArray(execution_ids),
                   IntArray(generations));
}

// ---- task tokens ------------------------------------------------------------------------------

void InsertTaskTokens(pqxx::transaction_base& tx, const std::vector<TaskTokenRow>& rows) {
  if (rows.empty()) return;
  PrepareExecutionStatements(tx.conn());
  std::vector<std::string> tokens, task_ids;
  std::vector<int64_t> execution_ids, heartbeats;
  for (const auto& row : rows) {
    tokens.push_back(row.token);
    execution_ids.push_back(row.execution_id);
    task_ids.push_back(row.task_id);
    heartbeats.push_back(row.heartbeat_seconds);
  }
  tx.exec_prepared("es_insert_tokens", TextArray(tokens), IntArray(execution_ids),
                   TextArray(task_ids), IntArray(heartbeats));
}

std::optional<TaskTokenRow> FindTaskToken(pqxx::transaction_base& tx, const std::string& token) {
  PrepareExecutionStatements(tx.conn());
  pqxx::result result = tx.exec_prepared("es_find_token", token);
  if (result.empty()) return std::nullopt;
  TaskTokenRow row;
  row.token = Text(result[0][0]);
  row.execution_id = result[0][1].as<int64_t>();
  row.task_id = Text(result[0][2]);
  row.heartbeat_seconds = result[0][3].as<int64_t>();
  return row;
}

void DeleteTaskTokens(pqxx::transaction_base& tx, const std::vector<int64_t>& execution_ids,
                      const std::vector<std::string>& task_ids) {
  if (execution_ids.empty()) return;
  PrepareExecutionStatements(tx.conn());
  tx.exec_prepared("es_delete_tokens", IntArray(execution_ids), TextArray(task_ids));
}

}  // namespace switchyard::orchestrator::store
