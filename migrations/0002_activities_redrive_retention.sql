-- Activities (tags, and the tasks waiting for a worker), RedriveExecution's client token, and the
-- index retention purges by.

-- CreateActivity's tags, as a JSON array of {"key", "value"} (AWS's shape).
ALTER TABLE activities ADD COLUMN tags text NOT NULL DEFAULT '[]';

-- Activity tasks scheduled and not yet taken by GetActivityTask: taken oldest first per activity
-- (FOR UPDATE SKIP LOCKED) and deleted when taken; the task then waits on its token
-- (task_tokens) like a .waitForTaskToken task. Deleted too when the task or its execution ends.
CREATE TABLE activity_tasks (
  task_seq          bigserial PRIMARY KEY,
  activity_arn      text NOT NULL,
  execution_id      bigint NOT NULL,
  task_id           text NOT NULL,
  token             text NOT NULL,
  input             text NOT NULL,
  heartbeat_seconds bigint NOT NULL DEFAULT 0,
  scheduled_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (execution_id, task_id)
);
CREATE INDEX activity_tasks_by_activity ON activity_tasks (activity_arn, task_seq);

-- RedriveExecution's clientToken: the same token again is the same redrive (idempotent).
ALTER TABLE executions ADD COLUMN redrive_client_token text;
