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

-- A decision's first statement: locks the executions (FOR UPDATE, in id order), then reads them
-- with their execution_states rows in a second statement, whose snapshot is taken after the
-- locks are held (a VOLATILE function's statements each take their own). One statement could
-- not do both: a row it joins but does not lock (execution_states) is read as of the statement's
-- start, before another decision of the same execution committed and released the lock. The
-- snapshot is sent only where the caller's cached decision count (cached_ids, cached_counts) is
-- not the execution's; `cached` says whether it was.
CREATE FUNCTION switchyard_lock_executions(ids bigint[], cached_ids bigint[],
                                           cached_counts bigint[])
RETURNS TABLE (o_execution_id bigint, o_execution_arn text, o_name text,
               o_state_machine_name text, o_state_machine_arn text, o_revision_id text,
               o_status text, o_snapshot text, o_decision_count bigint, o_history_count integer,
               o_cached boolean, o_task_owner text, o_task_generation bigint, o_task_key text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM 1 FROM executions e WHERE e.execution_id = ANY(ids) ORDER BY e.execution_id
    FOR UPDATE;
  RETURN QUERY
    SELECT e.execution_id, e.execution_arn, e.name, e.state_machine_name, e.state_machine_arn,
           e.revision_id, e.status,
           CASE WHEN c.count IS DISTINCT FROM COALESCE(s.decision_count, e.decision_count)
                THEN CASE WHEN s.execution_id IS NULL THEN e.snapshot ELSE s.snapshot END END,
           COALESCE(s.decision_count, e.decision_count),
           COALESCE(s.history_count, e.history_count),
           COALESCE(c.count = COALESCE(s.decision_count, e.decision_count), false),
           s.task_owner, COALESCE(s.task_generation, 0), s.task_key
    FROM executions e
    LEFT JOIN execution_states s ON s.execution_id = e.execution_id
    LEFT JOIN unnest(cached_ids, cached_counts) AS c(id, count) ON c.id = e.execution_id
    WHERE e.execution_id = ANY(ids)
    ORDER BY e.execution_id;
END
$$;
