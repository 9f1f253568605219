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
CREATE TABLE execution_states (
  execution_id   bigint PRIMARY KEY,
  snapshot       text,
  decision_count bigint NOT NULL,
  history_count  integer NOT NULL
) WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02);
