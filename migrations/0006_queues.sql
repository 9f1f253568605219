-- Queues (an SQS-compatible subset) and Lambda event-source mappings that feed functions from
-- them. Every timestamp is the database's clock, so that all nodes agree on visibility.

-- One row per queue. queue_id changes when a queue is deleted and created again, so the receipt
-- handles of the old queue never match a message of the new one. `attributes` holds the settable
-- attributes (names and values as SQS shows them, all strings).
CREATE TABLE sqs_queues (
  queue_id    bigserial PRIMARY KEY,
  queue_name  text NOT NULL UNIQUE,
  fifo        boolean NOT NULL,
  attributes  jsonb NOT NULL,
  tags        jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  modified_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Messages: deleted when deleted, never flagged (the hot queue stays small). A message is
-- visible when visible_at <= now; receiving it sets visible_at to now + the visibility timeout
-- and bumps receive_count, which is also the receipt handle's generation: a handle from an
-- earlier receive no longer deletes or changes the message.
CREATE TABLE sqs_messages (
  queue_id          bigint NOT NULL,
  message_seq       bigserial,
  message_id        text NOT NULL,
  body              text NOT NULL,
  message_attributes text NOT NULL DEFAULT '',   -- JSON as the JSON protocol shows it, '' none
  md5_of_body       text NOT NULL,
  md5_of_attributes text NOT NULL DEFAULT '',
  group_id          text,                        -- FIFO MessageGroupId
  dedup_id          text,                        -- FIFO MessageDeduplicationId
  sent_at           timestamptz NOT NULL,
  visible_at        timestamptz NOT NULL,
  receive_count     integer NOT NULL DEFAULT 0,
  first_received_at timestamptz,
  PRIMARY KEY (queue_id, message_seq)
);
CREATE INDEX sqs_messages_visible ON sqs_messages (queue_id, visible_at);
CREATE INDEX sqs_messages_group ON sqs_messages (queue_id, group_id, message_seq)
  WHERE group_id IS NOT NULL;

-- FIFO deduplication: a MessageDeduplicationId seen in the last five minutes is accepted and
-- dropped (SendMessage answers with the first message's id).
CREATE TABLE sqs_dedup (
  queue_id   bigint NOT NULL,
  dedup_id   text NOT NULL,
  message_id text NOT NULL,
  sequence_number bigint NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (queue_id, dedup_id)
);

-- Lambda event-source mappings (CreateEventSourceMapping): a queue feeds a function.
CREATE TABLE event_source_mappings (
  uuid              text PRIMARY KEY,
  event_source_arn  text NOT NULL,
  function_arn      text NOT NULL,
  enabled           boolean NOT NULL,
  batch_size        integer NOT NULL,
  batching_window   integer NOT NULL,     -- MaximumBatchingWindowInSeconds
  max_concurrency   integer NOT NULL DEFAULT 0,  -- ScalingConfig.MaximumConcurrency, 0 = unset
  report_batch_item_failures boolean NOT NULL DEFAULT false,
  last_modified     timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_result       text NOT NULL DEFAULT 'No records processed'
);
CREATE INDEX event_source_mappings_by_function ON event_source_mappings (function_arn);
