#pragma once
// Queues (an SQS-compatible subset) and Lambda event-source mappings on PostgreSQL
// (migrations/0006_queues.sql). Free of pqxx (pimpl), so the API and the poller include it.
//
// Visibility is the database's clock: a message is visible when visible_at <= now. Receiving
// claims messages with FOR UPDATE SKIP LOCKED and moves visible_at forward, so any number of
// receivers on any number of nodes never get one message twice within its visibility timeout.
// A receive count is also the receipt handle's generation: a handle from an earlier receive
// neither deletes nor changes the message.
//
// Thread model: thread-safe; each call runs in its own transaction on the store's connection
// pool. Database failures that outlast the pool's retries throw.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace switchyard::orchestrator::store {

class ConnectionPool;

struct QueueRow {
  int64_t queue_id = 0;
  std::string name;
  bool fifo = false;
  std::map<std::string, std::string> attributes;  // settable attributes, as SQS shows them
  std::map<std::string, std::string> tags;
  int64_t created_s = 0;  // epoch seconds
  int64_t modified_s = 0;
};

struct QueueCounts {
  int64_t visible = 0;    // ApproximateNumberOfMessages
  int64_t in_flight = 0;  // ApproximateNumberOfMessagesNotVisible
  int64_t delayed = 0;    // ApproximateNumberOfMessagesDelayed
};

struct NewMessage {
  std::string body;
  std::string message_attributes;  // JSON ({"name":{"DataType":..,...}}) or "" for none
  std::string md5_of_body;
  std::string md5_of_attributes;  // "" without attributes
  int delay_seconds = 0;
  std::string group_id;  // FIFO only
  std::string dedup_id;  // FIFO only (already derived from the body when content-based)
};

struct SentMessage {
  std::string message_id;
  int64_t sequence_number = 0;  // FIFO's SequenceNumber
};

struct ReceivedMessage {
  int64_t message_seq = 0;
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  std::string message_attributes;
  std::string md5_of_body;
  std::string md5_of_attributes;
  std::string group_id;
  std::string dedup_id;
  int64_t sent_ms = 0;
  int64_t receive_count = 0;
  int64_t first_received_ms = 0;
};

// Where messages received too often go (the queue's RedrivePolicy).
struct Redrive {
  std::string dead_letter_queue;  // name
  int64_t max_receive_count = 0;
};

// A receipt handle: "<queue_id>:<message_seq>:<receive_count>" (opaque to clients).
struct ReceiptHandle {
  int64_t queue_id = 0;
  int64_t message_seq = 0;
  int64_t receive_count = 0;
};
std::string EncodeReceiptHandle(const ReceiptHandle& handle);
std::optional<ReceiptHandle> DecodeReceiptHandle(const std::string& text);

enum class VisibilityChange { kChanged, kNotInFlight, kInvalidHandle };

struct MappingRow {
  std::string uuid;
  std::string event_source_arn;
  std::string function_arn;
  bool enabled = true;
  int64_t batch_size = 10;
  int64_t batching_window = 0;
  int64_t max_concurrency = 0;  // 0 = unset
  bool report_batch_item_failures = false;
  double last_modified = 0;  // epoch seconds
  std::string last_result;
};

// Slot `slot` of an event-source mapping's ScalingConfig.MaximumConcurrency, shared by all
// nodes on the database: a PostgreSQL session advisory lock on (mapping, slot), held on a
// connection of this object's own (opened on first use). Whoever holds slot k of a mapping runs
// one batch of it; with slots 0..N-1 at most N batches of the mapping run at once, whatever the
// number of nodes. If the connection breaks the lock is gone, and TryAcquire opens a new one.
// Thread model: one thread at a time (each polling thread owns its slot).
class MappingSlot {
 public:
  MappingSlot(std::string database_url, std::string mapping_uuid, int slot);
  ~MappingSlot();  // releases the slot (closes the connection)
  MappingSlot(const MappingSlot&) = delete;
  MappingSlot& operator=(const MappingSlot&) = delete;
  // True when this object holds the slot (now or already); false when another session does.
  // Throws on database failure (the connection is then dropped).
  bool TryAcquire();
  // Releases the slot if held; on failure drops the connection, which releases it too.
  void Release() noexcept;
  // Releases the slot if held, and names another slot of the same mapping for TryAcquire.
  void MoveTo(int slot) noexcept;
  int CurrentSlot() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class QueueStore {
 public:
  explicit QueueStore(const std::string& database_url, std::size_t pool_size = 8);
  ~QueueStore();
  QueueStore(const QueueStore&) = delete;
  QueueStore& operator=(const QueueStore&) = delete;

  // Creates the queue, or returns the existing one (created = false). Does not compare
  // attributes: the caller decides whether an existing queue's differ (QueueNameExists).
  QueueRow CreateQueue(const std::string& name, bool fifo,
                       const std::map<std::string, std::string>& attributes,
                       const std::map<std::string, std::string>& tags, bool* created);
  std::optional<QueueRow> GetQueue(const std::string& name) const;
  // Names > after, starting with prefix, in order, at most limit.
  std::vector<std::string> ListQueues(const std::string& prefix, const std::string& after,
                                      int64_t limit) const;
  // Deletes the queue and its messages. False when there was no such queue.
  bool DeleteQueue(const std::string& name);
  // Merges `attributes` into the queue's. False when there is no such queue.
  bool SetAttributes(const std::string& name, const std::map<std::string, std::string>& attributes);
  bool SetTags(const std::string& name, const std::map<std::string, std::string>& add,
               const std::vector<std::string>& remove);
  QueueCounts Counts(int64_t queue_id) const;

  // Inserts the messages in one transaction. FIFO messages with a deduplication id seen in the
  // last five minutes are not inserted; their entry answers with the first message's id.
  std::vector<SentMessage> Send(int64_t queue_id, bool fifo,
                                const std::vector<NewMessage>& messages);
  // Claims up to `max` visible messages for `visibility`. FIFO: in order of sending, skipping
  // every group that has a message in flight or delayed. With `redrive`, messages already
  // received max_receive_count times move to the dead-letter queue instead (when it exists).
  std::vector<ReceivedMessage> Receive(int64_t queue_id, bool fifo, int64_t max,
                                       std::chrono::milliseconds visibility,
                                       const std::optional<Redrive>& redrive);
  // Deletes the messages whose handles are current; returns, per handle, whether it parsed
  // for this queue (stale handles of this queue count as deleted, as in SQS).
  std::vector<bool> Delete(int64_t queue_id, const std::vector<std::string>& receipt_handles);
  VisibilityChange ChangeVisibility(int64_t queue_id, const std::string& receipt_handle,
                                    std::chrono::milliseconds visibility);
  // Sends `body` (no attributes) to `queue_name` (Lambda destinations, Step Functions' sqs:
  // sendMessage). FIFO queues need group_id, and dedup_id unless ContentBasedDeduplication.
  struct QuickSend {
    std::string error;    // "" | "QueueDoesNotExist" | "MissingParameter" | "InvalidParameterValue"
    std::string message;  // the error's text
    std::string message_id;
    std::string md5_of_body;
    int64_t sequence_number = 0;  // FIFO only
    bool fifo = false;
  };
  QuickSend SendToQueue(const std::string& queue_name, const std::string& body,
                        const std::string& group_id = {}, const std::string& dedup_id = {});
  // Deletes every message of the queue, unless the queue was purged (by any node) in the last
  // 60 seconds: then false and nothing is deleted (SQS's PurgeQueueInProgress).
  [[nodiscard]] bool Purge(int64_t queue_id);
  // Deletes messages past their queue's MessageRetentionPeriod and expired dedup ids.
  void Sweep();

  // Blocks until a message was sent through this store object (any queue) or `until`, which
  // ever comes first. Other nodes' sends are not seen: callers poll as well.
  void WaitForSend(std::chrono::steady_clock::time_point until);

  // Event-source mappings.
  void PutMapping(const MappingRow& row);  // insert or replace
  std::optional<MappingRow> GetMapping(const std::string& uuid) const;
  // Filtered by source and function ARN when non-empty; uuid > after; at most limit.
  std::vector<MappingRow> ListMappings(const std::string& event_source_arn,
                                       const std::string& function_arn, const std::string& after,
                                       int64_t limit) const;
  bool DeleteMapping(const std::string& uuid);
  void SetMappingResult(const std::string& uuid, const std::string& result);
  // One of a mapping's concurrency slots (see MappingSlot), on a connection of its own.
  std::unique_ptr<MappingSlot> NewMappingSlot(const std::string& mapping_uuid, int slot) const;

 private:
  std::string url_;
  std::unique_ptr<ConnectionPool> pool_;
  std::mutex mu_;
  std::condition_variable sent_cv_;
  uint64_t sends_ = 0;  // Guarded by mu_.
};

}  // namespace switchyard::orchestrator::store
