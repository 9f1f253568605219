-- Step Functions versions, aliases and tags (the tables of versions and aliases are in 0001).
--
-- Version numbers only grow: a deleted version's number is never given again, so the machine
-- keeps the last number it gave.
ALTER TABLE state_machines ADD COLUMN last_version integer NOT NULL DEFAULT 0;

-- The version and alias an execution was started through (StartExecution on a version or an
-- alias ARN), as DescribeExecution reports them. No row: started on the state machine itself.
CREATE TABLE execution_targets (
  execution_id bigint PRIMARY KEY,
  version_arn  text NOT NULL,
  alias_arn    text
);
CREATE INDEX execution_targets_by_version ON execution_targets (version_arn, execution_id);
CREATE INDEX execution_targets_by_alias ON execution_targets (alias_arn, execution_id)
  WHERE alias_arn IS NOT NULL;

-- TagResource: tags of any Step Functions resource (state machines, activities), by ARN.
CREATE TABLE resource_tags (
  resource_arn text NOT NULL,
  key          text NOT NULL,
  value        text NOT NULL DEFAULT '',
  PRIMARY KEY (resource_arn, key)
);
