-- History one row per decision, and room for the executions' in-place updates.
--
-- A decision appends the events it caused as ONE row of history_chunks (first_event_id ..
-- last_event_id, consecutive ids of one execution) instead of one history_events row per event:
-- a 5-state execution was 12-13 heap tuples and as many index entries of history, now one of
-- each, which is most of the WAL a decision writes. history_events stays as it is and is still
-- read: executions written by an earlier version keep their rows there, and an execution that
-- continues after an upgrade has its first events there and the rest here (ids stay 1..n, dense,
-- across both tables). Readers take the events with ids in a range from both.
--
-- `events` holds the events in id order, each as
--   <previous_event_id> ' ' <timestamp, ns since the epoch> ' ' <type> ' ' <details_key> ' '
--   <length of details in bytes> ':' <details (compact JSON object text, or nothing)>
-- with nothing between one event and the next (details_key is empty when the event has none).
-- Only the store writes and reads it (orchestrator/src/store/execution_store.cpp). No foreign
-- key: purging deletes explicitly, as for history_events.
CREATE TABLE history_chunks (
  execution_id   bigint NOT NULL,
  first_event_id integer NOT NULL,
  last_event_id  integer NOT NULL CHECK (last_event_id >= first_event_id),
  events         text NOT NULL,
  PRIMARY KEY (execution_id, first_event_id)
);

-- A running execution's row is rewritten by every decision (its snapshot); free space in its page
-- lets PostgreSQL update it in place (a HOT update: no new entries in its five indexes). Applies
-- to pages written from now on.
ALTER TABLE executions SET (fillfactor = 70);
