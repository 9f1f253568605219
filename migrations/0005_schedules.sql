-- EventBridge Scheduler: schedule groups, schedules, and their firings (issue #12).
-- Times here are the scheduler's clock (the wall clock, or the test-only offset clock of
-- docs/operations.md), written by the nodes, never now().

CREATE TABLE schedule_groups (
  name         text PRIMARY KEY,
  client_token text NOT NULL DEFAULT '',
  tags         jsonb NOT NULL DEFAULT '{}',  -- {"key": "value", ...} (TagResource)
  created_at   timestamptz NOT NULL,
  modified_at  timestamptz NOT NULL
);
-- AWS: the default group always exists.
INSERT INTO schedule_groups (name, created_at, modified_at)
  VALUES ('default', now(), now());

-- A schedule, and its next occurrence: a schedule whose fire_at has come is claimed with
-- FOR UPDATE SKIP LOCKED, its occurrence becomes a row of schedule_firings and the occurrence
-- after it is written, in one transaction (each occurrence fires once across all nodes).
CREATE TABLE schedules (
  group_name   text NOT NULL REFERENCES schedule_groups (name) ON DELETE CASCADE,
  name         text NOT NULL,
  definition   text NOT NULL,  -- JSON: the members of CreateSchedule/UpdateSchedule
  state        text NOT NULL,  -- ENABLED | DISABLED
  target_arn   text NOT NULL,
  client_token text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL,
  modified_at  timestamptz NOT NULL,
  anchor_at    timestamptz NOT NULL,  -- a rate's first occurrence (StartDate or creation)
  next_at      timestamptz,           -- the next occurrence; NULL = none (disabled, finished)
  fire_at      timestamptz,           -- when it fires: next_at + a flexible window's offset
  PRIMARY KEY (group_name, name)
);
CREATE INDEX schedules_due ON schedules (fire_at) WHERE fire_at IS NOT NULL;

-- Occurrences to deliver to their target (the outbox of the firing transaction), leased like
-- work_items while a node delivers one; deleted once delivered or dead-lettered.
CREATE TABLE schedule_firings (
  firing_id    text PRIMARY KEY,  -- a UUID derived from the schedule ARN and the occurrence
  schedule_arn text NOT NULL,
  target       text NOT NULL,     -- JSON: the schedule's Target
  occurrence   timestamptz NOT NULL,
  attempts     integer NOT NULL DEFAULT 0,
  due_at       timestamptz NOT NULL,
  lease_owner  text,
  lease_until  timestamptz,
  generation   bigint NOT NULL DEFAULT 0
);
CREATE INDEX schedule_firings_due ON schedule_firings (due_at) WHERE lease_owner IS NULL;
CREATE INDEX schedule_firings_leased ON schedule_firings (lease_until)
  WHERE lease_owner IS NOT NULL;

-- Firings that could not be delivered within the RetryPolicy: kept for inspection, with the
-- schedule's DeadLetterConfig ARN (an SQS queue) when it has one.
CREATE TABLE schedule_dead_letters (
  dead_letter_id   bigserial PRIMARY KEY,
  firing_id        text NOT NULL,
  schedule_arn     text NOT NULL,
  target_arn       text NOT NULL,
  dead_letter_arn  text NOT NULL DEFAULT '',
  occurrence       timestamptz NOT NULL,
  input            text NOT NULL,
  error            text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);
