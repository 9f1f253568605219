-- The state of a running execution, written by every decision, in a narrow table of its own.
--
-- Before, every decision rewrote the execution's whole executions row (ARNs, names, input: ~700
-- bytes), and half of those updates found no room in the row's page, so each added entries to
-- the table's five indexes. Now a decision that does not end the execution writes only this row:
-- one index, and a row small enough that its page usually has room (an in-place HOT update).
--
-- While an execution has a row here, the row's snapshot, decision_count and history_count are
-- the execution's, and the executions columns of the same names are stale (as of its start or
-- an earlier write). A decision that ends the execution, or changes its status, writes them back
-- to executions and deletes the row here, in the same transaction; so do all other writers of
-- those columns (stop, redrive, a failed decision). Readers take COALESCE(row here, executions).
-- Writers hold the executions row's lock (FOR UPDATE), which also guards the row here. Rows of
-- finished executions do not stay: the table holds running executions only.
--
-- The row also holds at most one task of the execution leased to the node that decided it (the
-- "inline" task: task_owner, task_until, task_generation, task_key, task_payload), instead of a
-- task row in work_items that would be inserted, fenced and deleted for every task. It is leased
-- and fenced as a work item is: the node renews task_until while the task runs; a decision
-- applies the task's outcome only if (task_owner, task_generation, task_key) still match; when
-- task_until passes, another node moves the task to work_items (runnable) under the execution's
-- lock, bumping task_generation, and claims it there.
CREATE TABLE execution_states (
  execution_id    bigint PRIMARY KEY,
  snapshot        text,
  decision_count  bigint NOT NULL,
  history_count   integer NOT NULL,
  task_owner      text,
  task_until      timestamptz,
  task_generation bigint NOT NULL DEFAULT 0,
  task_key        text,
  task_payload    text
) WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02);
CREATE INDEX execution_states_task_leases ON execution_states (task_until)
  WHERE task_owner IS NOT NULL;
