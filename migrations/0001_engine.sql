-- The durable engine's schema: state machines, executions with their snapshots and history, the
-- work queue (tasks, timers, leases), task tokens, activities, and the durable queue of
-- asynchronous (Event) function invocations. Applied once by the migration runner; never edited
-- after it has landed (later changes go to 0002_...).
--
-- Keep the hot table small: work_items holds only what is runnable or leased; finished items are
-- deleted, never flagged. Executions, snapshots and history live elsewhere.

-- A state machine: its name, type and the revision its new executions run.
CREATE TABLE state_machines (
  name              text PRIMARY KEY,
  arn               text NOT NULL UNIQUE,
  type              text NOT NULL DEFAULT 'STANDARD' CHECK (type IN ('STANDARD', 'EXPRESS')),
  role_arn          text NOT NULL DEFAULT '',
  revision_id       text NOT NULL,           -- the current definition (state_machine_revisions)
  status            text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DELETING')),
  description       text NOT NULL DEFAULT '',
  config            jsonb NOT NULL DEFAULT '{}',  -- loggingConfiguration, tracingConfiguration, ...
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Every definition a state machine has had (UpdateStateMachine adds one). An execution keeps the
-- revision it started with, so updating a machine never changes executions already running.
CREATE TABLE state_machine_revisions (
  revision_id        text PRIMARY KEY,
  state_machine_name text NOT NULL,
  definition         text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX state_machine_revisions_by_machine
  ON state_machine_revisions (state_machine_name, created_at);

-- PublishStateMachineVersion: immutable numbered versions ("name:1", "name:2", ...).
CREATE TABLE state_machine_versions (
  state_machine_name text NOT NULL,
  version            integer NOT NULL CHECK (version > 0),
  revision_id        text NOT NULL,
  description        text NOT NULL DEFAULT '',
  created_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (state_machine_name, version)
);

-- CreateStateMachineAlias: a name routing to one or two versions with weights,
-- e.g. [{"stateMachineVersionArn": "...:1", "weight": 100}].
CREATE TABLE state_machine_aliases (
  state_machine_name text NOT NULL,
  alias              text NOT NULL,
  routing            jsonb NOT NULL,
  description        text NOT NULL DEFAULT '',
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (state_machine_name, alias)
);

-- One Standard execution. `snapshot` is the execution core's ExecutionState::ToJson text, written
-- by every decision; `decision_count` counts them (a cheap version for caches and checks);
-- `history_count` is the id of the last history event.
CREATE TABLE executions (
  execution_id       bigserial PRIMARY KEY,
  execution_arn      text NOT NULL UNIQUE,
  state_machine_name text NOT NULL,
  state_machine_arn  text NOT NULL,      -- as started: the machine, a version or an alias ARN
  revision_id        text NOT NULL,      -- the definition it runs
  name               text NOT NULL,
  status             text NOT NULL DEFAULT 'RUNNING'
                       CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED',
                                         'PENDING_REDRIVE')),
  input              text NOT NULL,
  output             text,
  error              text,
  cause              text,
  snapshot           text,
  decision_count     bigint NOT NULL DEFAULT 0,
  history_count      integer NOT NULL DEFAULT 0,
  trace_header       text NOT NULL DEFAULT '',
  start_date         timestamptz NOT NULL DEFAULT now(),
  stop_date          timestamptz,
  redrive_count      integer NOT NULL DEFAULT 0,
  redrive_date       timestamptz,
  -- Execution names are unique per state machine (StartExecution is idempotent by name).
  UNIQUE (state_machine_name, name)
);
CREATE INDEX executions_by_machine ON executions (state_machine_name, start_date DESC);
CREATE INDEX executions_running ON executions (state_machine_name) WHERE status = 'RUNNING';
-- Retention purges closed executions by stop date.
CREATE INDEX executions_closed ON executions (stop_date) WHERE stop_date IS NOT NULL;

-- The history, append-only, numbered 1..n per execution. `details` is the event's details object
-- as compact JSON text (what GetExecutionHistory returns under `details_key`), or NULL when the
-- event has none. No foreign key: only the store writes here, and purging deletes explicitly.
CREATE TABLE history_events (
  execution_id      bigint NOT NULL,
  event_id          integer NOT NULL,
  previous_event_id integer NOT NULL,
  event_time        timestamptz NOT NULL,
  type              text NOT NULL,
  details_key       text,
  details           text,
  PRIMARY KEY (execution_id, event_id)
);

-- The work queue: what must happen next and when.
--   kind 'task'               invoke a Task resource (key = the core's task id); runs outside any
--                             transaction under a lease
--   kind 'timer'              fire a core timer (key = timer id: Wait, retry backoff, execution
--                             timeout) at due_at
--   kind 'task_timeout'       a task's TimeoutSeconds passes at due_at (key = task id)
--   kind 'heartbeat_timeout'  a task's HeartbeatSeconds pass at due_at (key = task id); moved by
--                             SendTaskHeartbeat
--   kind 'activity_task'      a task waiting for GetActivityTask (key = task id)
-- A row is runnable when lease_owner IS NULL and due_at has passed; leased while a node works on
-- it (lease_until, renewed while the work runs). Every claim increments `generation`; a decision
-- made from leased work commits only if (lease_owner, generation) still match (fencing), so a
-- node paused past its lease commits nothing stale. Timers are claimed inside the decision
-- transaction itself (FOR UPDATE SKIP LOCKED), so they need no lease.
CREATE TABLE work_items (
  work_id      bigserial PRIMARY KEY,
  execution_id bigint NOT NULL,
  kind         text NOT NULL
                 CHECK (kind IN ('task', 'timer', 'task_timeout', 'heartbeat_timeout',
                                 'activity_task')),
  key          text NOT NULL,
  payload      text,                     -- kind 'task' / 'activity_task': the request (JSON)
  due_at       timestamptz NOT NULL DEFAULT now(),
  attempts     integer NOT NULL DEFAULT 0,   -- claims so far
  lease_owner  text,
  lease_until  timestamptz,
  generation   bigint NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (execution_id, kind, key)
);
CREATE INDEX work_items_runnable ON work_items (kind, due_at) WHERE lease_owner IS NULL;
CREATE INDEX work_items_leased ON work_items (lease_until) WHERE lease_owner IS NOT NULL;
ALTER TABLE work_items SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.01,
                            autovacuum_vacuum_cost_delay = 0);

-- `.waitForTaskToken` and activity tasks: the token a callback (SendTaskSuccess / Failure /
-- Heartbeat) names, on any node. Deleted when the task ends.
CREATE TABLE task_tokens (
  token             text PRIMARY KEY,
  execution_id      bigint NOT NULL,
  task_id           text NOT NULL,
  heartbeat_seconds bigint NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_tokens_by_execution ON task_tokens (execution_id);

-- CreateActivity.
CREATE TABLE activities (
  name         text PRIMARY KEY,
  activity_arn text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- The durable queue of asynchronous (Event) function invocations, shaped like the invoker's
-- QueuedEvent; leased like work_items while an invocation runs.
CREATE TABLE async_invocations (
  request_id     text PRIMARY KEY,
  function_name  text NOT NULL,
  qualifier      text NOT NULL DEFAULT '',
  payload        text NOT NULL,
  attempts       integer NOT NULL DEFAULT 0,
  throttle_count integer NOT NULL DEFAULT 0,
  enqueued_at    timestamptz NOT NULL DEFAULT now(),
  due_at         timestamptz NOT NULL DEFAULT now(),
  lease_owner    text,
  lease_until    timestamptz,
  generation     bigint NOT NULL DEFAULT 0
);
CREATE INDEX async_invocations_runnable ON async_invocations (due_at) WHERE lease_owner IS NULL;

-- Asynchronous invocations that exhausted their retries or their maximum age: the destination
-- record (or the original event, for a dead-letter queue), kept for inspection.
CREATE TABLE dead_letters (
  dead_letter_id bigserial PRIMARY KEY,
  request_id     text NOT NULL,
  function_name  text NOT NULL,
  destination    text NOT NULL,
  record         text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_by_function ON dead_letters (function_name, created_at);
