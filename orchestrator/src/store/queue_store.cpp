#include "store/queue_store.hpp"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <random>

#include "store/execution_store.hpp"
#include "store/pool.hpp"

namespace switchyard::orchestrator::store {
namespace {

#define SY_MS(column) "((extract(epoch from " column ") * 1000)::bigint)"

struct Statement {
  const char* name;
  const char* sql;
};

constexpr const char* kQueueColumns =
    "queue_id, queue_name, fifo, attributes::text, tags::text, "
    "extract(epoch from created_at)::bigint, extract(epoch from modified_at)::bigint";

constexpr const char* kReturnedColumns =
    "m.message_seq, m.message_id, m.body, m.message_attributes, m.md5_of_body, "
    "m.md5_of_attributes, coalesce(m.group_id, ''), coalesce(m.dedup_id, ''), " SY_MS(
        "m.sent_at") ", m.receive_count, " SY_MS("m.first_received_at");

const std::vector<Statement>& Statements() {
  static const std::vector<Statement> statements = [] {
    static const std::string queue_columns = kQueueColumns;
    static const std::string returned = kReturnedColumns;
    static const std::string get_queue =
        "SELECT " + queue_columns + " FROM sqs_queues WHERE queue_name = $1";
    static const std::string insert_queue =
        "INSERT INTO sqs_queues (queue_name, fifo, attributes, tags) VALUES ($1, $2, $3::jsonb, "
        "$4::jsonb) ON CONFLICT (queue_name) DO NOTHING RETURNING " +
        queue_columns;
    // Standard queues: any visible messages (oldest visibility first). With a redrive policy
    // ($4 > 0 and a dead-letter queue $5), messages already received $4 times move there.
    static const std::string receive =
        "WITH c AS (SELECT message_seq, receive_count FROM sqs_messages WHERE queue_id = $1 AND "
        "visible_at <= clock_timestamp() ORDER BY visible_at LIMIT $2 FOR UPDATE SKIP LOCKED), "
        "moved AS (DELETE FROM sqs_messages m USING c WHERE $4 > 0 AND c.receive_count >= $4 AND "
        "m.queue_id = $1 AND m.message_seq = c.message_seq RETURNING m.*), "
        "ins AS (INSERT INTO sqs_messages (queue_id, message_id, body, message_attributes, "
        "md5_of_body, md5_of_attributes, group_id, dedup_id, sent_at, visible_at) SELECT $5, "
        "message_id, body, message_attributes, md5_of_body, md5_of_attributes, group_id, "
        "dedup_id, sent_at, clock_timestamp() FROM moved) "
        "UPDATE sqs_messages m SET visible_at = clock_timestamp() + $3 * interval '1 millisecond', "
        "receive_count = m.receive_count + 1, first_received_at = coalesce(m.first_received_at, "
        "clock_timestamp()) FROM c WHERE ($4 = 0 OR c.receive_count < $4) AND m.queue_id = $1 AND "
        "m.message_seq = c.message_seq RETURNING " +
        returned;
    // FIFO: the caller holds the queue row's lock; a group with any invisible message (in
    // flight, or delayed) is skipped whole, so its messages come out in order.
    static const std::string receive_fifo =
        "WITH c AS (SELECT message_seq, receive_count FROM sqs_messages o WHERE queue_id = $1 AND "
        "visible_at <= clock_timestamp() AND NOT EXISTS (SELECT 1 FROM sqs_messages i WHERE "
        "i.queue_id = $1 AND i.group_id = o.group_id AND i.visible_at > clock_timestamp()) "
        "ORDER BY message_seq LIMIT $2 FOR UPDATE), "
        "moved AS (DELETE FROM sqs_messages m USING c WHERE $4 > 0 AND c.receive_count >= $4 AND "
        "m.queue_id = $1 AND m.message_seq = c.message_seq RETURNING m.*), "
        "ins AS (INSERT INTO sqs_messages (queue_id, message_id, body, message_attributes, "
        "md5_of_body, md5_of_attributes, group_id, dedup_id, sent_at, visible_at) SELECT $5, "
        "message_id, body, message_attributes, md5_of_body, md5_of_attributes, group_id, "
        "dedup_id, sent_at, clock_timestamp() FROM moved ORDER BY message_seq) "
        "UPDATE sqs_messages m SET visible_at = clock_timestamp() + $3 * interval '1 millisecond', "
        "receive_count = m.receive_count + 1, first_received_at = coalesce(m.first_received_at, "
        "clock_timestamp()) FROM c WHERE ($4 = 0 OR c.receive_count < $4) AND m.queue_id = $1 AND "
        "m.message_seq = c.message_seq RETURNING " +
        returned;
    static const std::string mapping_columns =
        "uuid, event_source_arn, function_arn, enabled, batch_size, batching_window, "
        "max_concurrency, report_batch_item_failures, extract(epoch from last_modified)::float8, "
        "last_result";
    static const std::string get_mapping =
        "SELECT " + mapping_columns + " FROM event_source_mappings WHERE uuid = $1";
    static const std::string list_mappings =
        "SELECT " + mapping_columns +
        " FROM event_source_mappings WHERE ($1 = '' OR event_source_arn = $1) AND ($2 = '' OR "
        "function_arn = $2) AND uuid > $3 ORDER BY uuid LIMIT $4";
    return std::vector<Statement>{
        {"qs_get_queue", get_queue.c_str()},
        {"qs_insert_queue", insert_queue.c_str()},
        {"qs_list_queues",
         "SELECT queue_name FROM sqs_queues WHERE starts_with(queue_name, $1) AND queue_name > $2 "
         "ORDER BY queue_name LIMIT $3"},
        {"qs_delete_queue", "DELETE FROM sqs_queues WHERE queue_name = $1 RETURNING queue_id"},
        {"qs_delete_queue_messages", "DELETE FROM sqs_messages WHERE queue_id = $1"},
        {"qs_delete_queue_dedup", "DELETE FROM sqs_dedup WHERE queue_id = $1"},
        {"qs_set_attributes",
         "UPDATE sqs_queues SET attributes = attributes || $2::jsonb, modified_at = "
         "clock_timestamp() WHERE queue_name = $1 RETURNING queue_id"},
        {"qs_set_tags",
         "UPDATE sqs_queues SET tags = (tags || $2::jsonb) - $3::text[] WHERE queue_name = $1 "
         "RETURNING queue_id"},
        {"qs_counts",
         "SELECT count(*) FILTER (WHERE visible_at <= clock_timestamp()), count(*) FILTER (WHERE "
         "visible_at > clock_timestamp() AND receive_count > 0), count(*) FILTER (WHERE "
         "visible_at > clock_timestamp() AND receive_count = 0) FROM sqs_messages WHERE queue_id "
         "= $1"},
        {"qs_insert_messages",
         "INSERT INTO sqs_messages (queue_id, message_id, body, message_attributes, md5_of_body, "
         "md5_of_attributes, group_id, dedup_id, sent_at, visible_at) SELECT $1, u.id, u.body, "
         "u.attrs, u.mb, u.ma, NULLIF(u.g, ''), NULLIF(u.d, ''), clock_timestamp(), "
         "clock_timestamp() + u.delay * interval '1 second' FROM unnest($2::text[], $3::text[], "
         "$4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[]) WITH "
         "ORDINALITY AS u(id, body, attrs, mb, ma, g, d, delay, n) ORDER BY u.n RETURNING "
         "message_id, message_seq"},
        {"qs_claim_dedup",
         "INSERT INTO sqs_dedup (queue_id, dedup_id, message_id, sequence_number, expires_at) "
         "VALUES ($1, $2, $3, 0, clock_timestamp() + interval '5 minutes') ON CONFLICT (queue_id, "
         "dedup_id) DO UPDATE SET message_id = EXCLUDED.message_id, sequence_number = 0, "
         "expires_at = EXCLUDED.expires_at WHERE sqs_dedup.expires_at < clock_timestamp() "
         "RETURNING message_id"},
        {"qs_get_dedup",
         "SELECT message_id, sequence_number FROM sqs_dedup WHERE queue_id = $1 AND dedup_id = $2"},
        {"qs_set_dedup_seq",
         "UPDATE sqs_dedup SET sequence_number = $3 WHERE queue_id = $1 AND dedup_id = $2"},
        {"qs_lock_queue", "SELECT 1 FROM sqs_queues WHERE queue_id = $1 FOR UPDATE"},
        {"qs_queue_id", "SELECT queue_id FROM sqs_queues WHERE queue_name = $1"},
        {"qs_receive", receive.c_str()},
        {"qs_receive_fifo", receive_fifo.c_str()},
        {"qs_delete_messages",
         "DELETE FROM sqs_messages m USING unnest($2::bigint[], $3::bigint[]) AS d(seq, cnt) "
         "WHERE m.queue_id = $1 AND m.message_seq = d.seq AND m.receive_count = d.cnt"},
        {"qs_change_visibility",
         "UPDATE sqs_messages SET visible_at = clock_timestamp() + $4 * interval '1 millisecond' "
         "WHERE queue_id = $1 AND message_seq = $2 AND receive_count = $3"},
        {"qs_message_in_flight",
         "SELECT receive_count = $3, visible_at > clock_timestamp() FROM sqs_messages WHERE "
         "queue_id = $1 AND message_seq = $2"},
        {"qs_sweep_messages",
         "DELETE FROM sqs_messages m USING sqs_queues q WHERE m.queue_id = q.queue_id AND "
         "m.sent_at < clock_timestamp() - (q.attributes->>'MessageRetentionPeriod')::bigint * "
         "interval '1 second'"},
        {"qs_sweep_dedup", "DELETE FROM sqs_dedup WHERE expires_at < clock_timestamp()"},
        // The last purge of a queue is a deduplication row under the id '' (no message has
        // it: an empty id means none), live for 60 s: the row is the lock all nodes see.
        {"qs_claim_purge",
         "INSERT INTO sqs_dedup (queue_id, dedup_id, message_id, sequence_number, expires_at) "
         "VALUES ($1, '', 'PurgeQueue', 0, clock_timestamp() + interval '60 seconds') ON "
         "CONFLICT (queue_id, dedup_id) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE "
         "sqs_dedup.expires_at < clock_timestamp() RETURNING queue_id"},
        {"qs_put_mapping",
         "INSERT INTO event_source_mappings (uuid, event_source_arn, function_arn, enabled, "
         "batch_size, batching_window, max_concurrency, report_batch_item_failures, last_result) "
         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (uuid) DO UPDATE SET "
         "event_source_arn = EXCLUDED.event_source_arn, function_arn = EXCLUDED.function_arn, "
         "enabled = EXCLUDED.enabled, batch_size = EXCLUDED.batch_size, batching_window = "
         "EXCLUDED.batching_window, max_concurrency = EXCLUDED.max_concurrency, "
         "report_batch_item_failures = EXCLUDED.report_batch_item_failures, last_modified = "
         "clock_timestamp()"},
        {"qs_get_mapping", get_mapping.c_str()},
        {"qs_list_mappings", list_mappings.c_str()},
        {"qs_delete_mapping", "DELETE FROM event_source_mappings WHERE uuid = $1 RETURNING uuid"},
        {"qs_mapping_result",
         "UPDATE event_source_mappings SET last_result = $2 WHERE uuid = $1 AND last_result <> $2"},
    };
  }();
  return statements;
}

std::string Text(const pqxx::field& field) {
  return field.is_null() ? std::string() : std::string(field.c_str(), field.size());
}

std::string MapJson(const std::map<std::string, std::string>& values) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  for (const auto& [key, value] : values) {
    writer.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
    writer.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  }
  writer.EndObject();
  return buffer.GetString();
}

std::map<std::string, std::string> JsonMap(const std::string& text) {
  std::map<std::string, std::string> values;
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return values;
  for (const auto& member : doc.GetObject()) {
    if (member.value.IsString()) {
      values[member.name.GetString()] =
          std::string(member.value.GetString(), member.value.GetStringLength());
    }
  }
  return values;
}

QueueRow ToQueue(const pqxx::row& row) {
  QueueRow queue;
  queue.queue_id = row[0].as<int64_t>();
  queue.name = Text(row[1]);
  queue.fifo = row[2].as<bool>();
  queue.attributes = JsonMap(Text(row[3]));
  queue.tags = JsonMap(Text(row[4]));
  queue.created_s = row[5].as<int64_t>();
  queue.modified_s = row[6].as<int64_t>();
  return queue;
}

MappingRow ToMapping(const pqxx::row& row) {
  MappingRow mapping;
  mapping.uuid = Text(row[0]);
  mapping.event_source_arn = Text(row[1]);
  mapping.function_arn = Text(row[2]);
  mapping.enabled = row[3].as<bool>();
  mapping.batch_size = row[4].as<int64_t>();
  mapping.batching_window = row[5].as<int64_t>();
  mapping.max_concurrency = row[6].as<int64_t>();
  mapping.report_batch_item_failures = row[7].as<bool>();
  mapping.last_modified = row[8].as<double>();
  mapping.last_result = Text(row[9]);
  return mapping;
}

std::string NewMessageId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) id.push_back('-');
    uint64_t digit = rng() & 15;
    if (i == 12) digit = 4;
    if (i == 16) digit = 8 | (digit & 3);
    id.push_back(kHex[digit]);
  }
  return id;
}

bool ParseInt(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && *out >= 0;
}

}  // namespace

std::string EncodeReceiptHandle(const ReceiptHandle& handle) {
  return "sy1:" + std::to_string(handle.queue_id) + ":" + std::to_string(handle.message_seq) + ":" +
         std::to_string(handle.receive_count);
}

std::optional<ReceiptHandle> DecodeReceiptHandle(const std::string& text) {
  std::string_view rest(text);
  if (rest.substr(0, 4) != "sy1:") return std::nullopt;
  rest.remove_prefix(4);
  int64_t parts[3];
  for (int i = 0; i < 3; ++i) {
    const std::size_t colon = i < 2 ? rest.find(':') : rest.size();
    if (colon == std::string_view::npos) return std::nullopt;
    if (!ParseInt(rest.substr(0, colon), &parts[i])) return std::nullopt;
    rest.remove_prefix(std::min(rest.size(), colon + 1));
  }
  return ReceiptHandle{parts[0], parts[1], parts[2]};
}

QueueStore::QueueStore(const std::string& database_url, std::size_t pool_size)
    : url_(database_url),
      pool_(std::make_unique<ConnectionPool>(database_url, pool_size, [](pqxx::connection& c) {
        for (const auto& statement : Statements()) c.prepare(statement.name, statement.sql);
      })) {}

QueueStore::~QueueStore() = default;

QueueRow QueueStore::CreateQueue(const std::string& name, bool fifo,
                                 const std::map<std::string, std::string>& attributes,
                                 const std::map<std::string, std::string>& tags, bool* created) {
  return pool_->Transact([&](pqxx::work& tx) {
    pqxx::result inserted =
        tx.exec_prepared("qs_insert_queue", name, fifo, MapJson(attributes), MapJson(tags));
    *created = !inserted.empty();
    if (*created) return ToQueue(inserted[0]);
    return ToQueue(tx.exec_prepared("qs_get_queue", name).at(0));
  });
}

std::optional<QueueRow> QueueStore::GetQueue(const std::string& name) const {
  return pool_->Transact([&](pqxx::work& tx) -> std::optional<QueueRow> {
    pqxx::result result = tx.exec_prepared("qs_get_queue", name);
    if (result.empty()) return std::nullopt;
    return ToQueue(result[0]);
  });
}

std::vector<std::string> QueueStore::ListQueues(const std::string& prefix, const std::string& after,
                                                int64_t limit) const {
  return pool_->Transact([&](pqxx::work& tx) {
    std::vector<std::string> names;
    for (const auto& row : tx.exec_prepared("qs_list_queues", prefix, after, limit)) {
      names.push_back(Text(row[0]));
    }
    return names;
  });
}

bool QueueStore::DeleteQueue(const std::string& name) {
  return pool_->Transact([&](pqxx::work& tx) {
    pqxx::result deleted = tx.exec_prepared("qs_delete_queue", name);
    if (deleted.empty()) return false;
    const int64_t queue_id = deleted[0][0].as<int64_t>();
    tx.exec_prepared("qs_delete_queue_messages", queue_id);
    tx.exec_prepared("qs_delete_queue_dedup", queue_id);
    return true;
  });
}

bool QueueStore::SetAttributes(const std::string& name,
                               const std::map<std::string, std::string>& attributes) {
  return pool_->Transact([&](pqxx::work& tx) {
    return !tx.exec_prepared("qs_set_attributes", name, MapJson(attributes)).empty();
  });
}

bool QueueStore::SetTags(const std::string& name, const std::map<std::string, std::string>& add,
                         const std::vector<std::string>& remove) {
  return pool_->Transact([&](pqxx::work& tx) {
    return !tx.exec_prepared("qs_set_tags", name, MapJson(add), TextArray(remove)).empty();
  });
}

QueueCounts QueueStore::Counts(int64_t queue_id) const {
  return pool_->Transact([&](pqxx::work& tx) {
    pqxx::row row = tx.exec_prepared("qs_counts", queue_id).at(0);
    return QueueCounts{row[0].as<int64_t>(), row[1].as<int64_t>(), row[2].as<int64_t>()};
  });
}

std::vector<SentMessage> QueueStore::Send(int64_t queue_id, bool fifo,
                                          const std::vector<NewMessage>& messages) {
  std::vector<SentMessage> sent = pool_->Transact([&](pqxx::work& tx) {
    std::vector<SentMessage> out(messages.size());
    std::vector<std::size_t> inserted;  // indexes into messages
    std::vector<std::string> ids, bodies, attrs, md5s, md5as, groups, dedups;
    std::vector<int64_t> delays;
    for (std::size_t i = 0; i < messages.size(); ++i) {
      const NewMessage& message = messages[i];
      std::string message_id = NewMessageId();
      if (fifo && !message.dedup_id.empty()) {
        pqxx::result claimed =
            tx.exec_prepared("qs_claim_dedup", queue_id, message.dedup_id, message_id);
        if (claimed.empty()) {
          pqxx::row first = tx.exec_prepared("qs_get_dedup", queue_id, message.dedup_id).at(0);
          out[i].message_id = Text(first[0]);
          out[i].sequence_number = first[1].as<int64_t>();
          continue;
        }
      }
      out[i].message_id = message_id;
      inserted.push_back(i);
      ids.push_back(std::move(message_id));
      bodies.push_back(message.body);
      attrs.push_back(message.message_attributes);
      md5s.push_back(message.md5_of_body);
      md5as.push_back(message.md5_of_attributes);
      groups.push_back(message.group_id);
      dedups.push_back(message.dedup_id);
      delays.push_back(message.delay_seconds);
    }
    if (inserted.empty()) return out;
    pqxx::result rows = tx.exec_prepared(
        "qs_insert_messages", queue_id, TextArray(ids), TextArray(bodies), TextArray(attrs),
        TextArray(md5s), TextArray(md5as), TextArray(groups), TextArray(dedups), IntArray(delays));
    std::map<std::string, int64_t> seq_of;
    for (const auto& row : rows) seq_of[Text(row[0])] = row[1].as<int64_t>();
    for (std::size_t index : inserted) {
      out[index].sequence_number = seq_of[out[index].message_id];
      if (fifo && !messages[index].dedup_id.empty()) {
        tx.exec_prepared("qs_set_dedup_seq", queue_id, messages[index].dedup_id,
                         out[index].sequence_number);
      }
    }
    return out;
  });
  {
    std::lock_guard lock(mu_);
    ++sends_;
  }
  sent_cv_.notify_all();
  return sent;
}

std::vector<ReceivedMessage> QueueStore::Receive(int64_t queue_id, bool fifo, int64_t max,
                                                 std::chrono::milliseconds visibility,
                                                 const std::optional<Redrive>& redrive) {
  return pool_->Transact([&](pqxx::work& tx) {
    int64_t max_receive = 0;
    int64_t dead_letter_id = 0;
    if (redrive && redrive->max_receive_count > 0) {
      pqxx::result dlq = tx.exec_prepared("qs_queue_id", redrive->dead_letter_queue);
      if (!dlq.empty()) {
        dead_letter_id = dlq[0][0].as<int64_t>();
        max_receive = redrive->max_receive_count;
      }
    }
    if (fifo) tx.exec_prepared("qs_lock_queue", queue_id);
    pqxx::result rows =
        tx.exec_prepared(fifo ? "qs_receive_fifo" : "qs_receive", queue_id, max,
                         static_cast<int64_t>(visibility.count()), max_receive, dead_letter_id);
    std::vector<ReceivedMessage> messages;
    messages.reserve(rows.size());
    for (const auto& row : rows) {
      ReceivedMessage message;
      message.message_seq = row[0].as<int64_t>();
      message.message_id = Text(row[1]);
      message.body = Text(row[2]);
      message.message_attributes = Text(row[3]);
      message.md5_of_body = Text(row[4]);
      message.md5_of_attributes = Text(row[5]);
      message.group_id = Text(row[6]);
      message.dedup_id = Text(row[7]);
      message.sent_ms = row[8].as<int64_t>();
      message.receive_count = row[9].as<int64_t>();
      message.first_received_ms = row[10].is_null() ? 0 : row[10].as<int64_t>();
      message.receipt_handle =
          EncodeReceiptHandle({queue_id, message.message_seq, message.receive_count});
      messages.push_back(std::move(message));
    }
    std::sort(messages.begin(), messages.end(),
              [](const ReceivedMessage& a, const ReceivedMessage& b) {
                return a.message_seq < b.message_seq;
              });
    return messages;
  });
}

std::vector<bool> QueueStore::Delete(int64_t queue_id,
                                     const std::vector<std::string>& receipt_handles) {
  std::vector<bool> valid(receipt_handles.size(), false);
  std::vector<int64_t> seqs, counts;
  for (std::size_t i = 0; i < receipt_handles.size(); ++i) {
    const auto handle = DecodeReceiptHandle(receipt_handles[i]);
    if (!handle || handle->queue_id != queue_id) continue;
    valid[i] = true;
    seqs.push_back(handle->message_seq);
    counts.push_back(handle->receive_count);
  }
  if (seqs.empty()) return valid;
  pool_->Transact([&](pqxx::work& tx) {
    tx.exec_prepared("qs_delete_messages", queue_id, IntArray(seqs), IntArray(counts));
  });
  return valid;
}

VisibilityChange QueueStore::ChangeVisibility(int64_t queue_id, const std::string& receipt_handle,
                                              std::chrono::milliseconds visibility) {
  const auto handle = DecodeReceiptHandle(receipt_handle);
  if (!handle || handle->queue_id != queue_id) return VisibilityChange::kInvalidHandle;
  return pool_->Transact([&](pqxx::work& tx) {
    pqxx::result state = tx.exec_prepared("qs_message_in_flight", queue_id, handle->message_seq,
                                          handle->receive_count);
    if (state.empty() || !state[0][0].as<bool>()) return VisibilityChange::kInvalidHandle;
    if (!state[0][1].as<bool>()) return VisibilityChange::kNotInFlight;
    tx.exec_prepared("qs_change_visibility", queue_id, handle->message_seq, handle->receive_count,
                     static_cast<int64_t>(visibility.count()));
    return VisibilityChange::kChanged;
  });
}

namespace {

std::string DigestHex(const std::string& data, const EVP_MD* md) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, md, nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

}  // namespace

QueueStore::QuickSend QueueStore::SendToQueue(const std::string& queue_name,
                                              const std::string& body, const std::string& group_id,
                                              const std::string& dedup_id) {
  QuickSend out;
  const auto queue = GetQueue(queue_name);
  if (!queue) {
    out.error = "QueueDoesNotExist";
    out.message = "The specified queue does not exist.";
    return out;
  }
  if (body.empty()) {
    out.error = "MissingParameter";
    out.message = "The request must contain the parameter MessageBody.";
    return out;
  }
  NewMessage message;
  message.body = body;
  message.md5_of_body = DigestHex(body, EVP_md5());
  const auto attribute = [&](const char* name) {
    const auto it = queue->attributes.find(name);
    return it == queue->attributes.end() ? std::string() : it->second;
  };
  message.delay_seconds = std::atoi(attribute("DelaySeconds").c_str());
  out.fifo = queue->fifo;
  if (queue->fifo) {
    if (group_id.empty()) {
      out.error = "MissingParameter";
      out.message = "The request must contain the parameter MessageGroupId.";
      return out;
    }
    message.group_id = group_id;
    message.dedup_id = dedup_id;
    if (dedup_id.empty()) {
      if (attribute("ContentBasedDeduplication") != "true") {
        out.error = "InvalidParameterValue";
        out.message =
            "The queue should either have ContentBasedDeduplication enabled or "
            "MessageDeduplicationId provided explicitly";
        return out;
      }
      message.dedup_id = DigestHex(body, EVP_sha256());
    }
  }
  const SentMessage sent = Send(queue->queue_id, queue->fifo, {message}).at(0);
  out.message_id = sent.message_id;
  out.sequence_number = sent.sequence_number;
  out.md5_of_body = message.md5_of_body;
  return out;
}

bool QueueStore::Purge(int64_t queue_id) {
  return pool_->Transact([&](pqxx::work& tx) {
    if (tx.exec_prepared("qs_claim_purge", queue_id).empty()) return false;
    tx.exec_prepared("qs_delete_queue_messages", queue_id);
    return true;
  });
}

// A session advisory lock on a connection of its own: two int4 keys (hashtext of the mapping's
// UUID, the slot), a key space no other lock of Switchyard uses (theirs are single bigints).
struct MappingSlot::Impl {
  std::string url;
  std::string uuid;
  int slot = 0;
  std::unique_ptr<pqxx::connection> connection;
  bool held = false;
};

MappingSlot::MappingSlot(std::string database_url, std::string mapping_uuid, int slot)
    : impl_(std::make_unique<Impl>()) {
  impl_->url = std::move(database_url);
  impl_->uuid = std::move(mapping_uuid);
  impl_->slot = slot;
}

// Unlocks first: a closed connection releases the lock only once its backend has gone.
MappingSlot::~MappingSlot() { Release(); }

bool MappingSlot::TryAcquire() {
  Impl& impl = *impl_;
  if (impl.held) return true;
  try {
    if (!impl.connection || !impl.connection->is_open()) {
      impl.connection = std::make_unique<pqxx::connection>(impl.url);
    }
    pqxx::nontransaction tx(*impl.connection);
    impl.held =
        tx.exec_params("SELECT pg_try_advisory_lock(hashtext($1), $2)", impl.uuid, impl.slot)
            .at(0)
            .at(0)
            .as<bool>();
  } catch (...) {
    impl.connection.reset();  // a broken session holds nothing
    throw;
  }
  return impl.held;
}

void MappingSlot::Release() noexcept {
  Impl& impl = *impl_;
  if (!impl.held) return;
  impl.held = false;
  try {
    pqxx::nontransaction tx(*impl.connection);
    tx.exec_params("SELECT pg_advisory_unlock(hashtext($1), $2)", impl.uuid, impl.slot);
  } catch (...) {
    impl.connection.reset();  // ending the session releases the lock
  }
}

void MappingSlot::MoveTo(int slot) noexcept {
  Release();
  impl_->slot = slot;
}

int MappingSlot::CurrentSlot() const { return impl_->slot; }

std::unique_ptr<MappingSlot> QueueStore::NewMappingSlot(const std::string& mapping_uuid,
                                                        int slot) const {
  return std::make_unique<MappingSlot>(url_, mapping_uuid, slot);
}

void QueueStore::Sweep() {
  pool_->Transact([&](pqxx::work& tx) {
    tx.exec_prepared("qs_sweep_messages");
    tx.exec_prepared("qs_sweep_dedup");
  });
}

void QueueStore::WaitForSend(std::chrono::steady_clock::time_point until) {
  std::unique_lock lock(mu_);
  const uint64_t seen = sends_;
  sent_cv_.wait_until(lock, until, [&] { return sends_ != seen; });
}

void QueueStore::PutMapping(const MappingRow& row) {
  pool_->Transact([&](pqxx::work& tx) {
    tx.exec_prepared(
        "qs_put_mapping", row.uuid, row.event_source_arn, row.function_arn, row.enabled,
        row.batch_size, row.batching_window, row.max_concurrency, row.report_batch_item_failures,
        row.last_result.empty() ? std::string("No records processed") : row.last_result);
  });
}

std::optional<MappingRow> QueueStore::GetMapping(const std::string& uuid) const {
  return pool_->Transact([&](pqxx::work& tx) -> std::optional<MappingRow> {
    pqxx::result result = tx.exec_prepared("qs_get_mapping", uuid);
    if (result.empty()) return std::nullopt;
    return ToMapping(result[0]);
  });
}

std::vector<MappingRow> QueueStore::ListMappings(const std::string& event_source_arn,
                                                 const std::string& function_arn,
                                                 const std::string& after, int64_t limit) const {
  return pool_->Transact([&](pqxx::work& tx) {
    std::vector<MappingRow> rows;
    for (const auto& row :
         tx.exec_prepared("qs_list_mappings", event_source_arn, function_arn, after, limit)) {
      rows.push_back(ToMapping(row));
    }
    return rows;
  });
}

bool QueueStore::DeleteMapping(const std::string& uuid) {
  return pool_->Transact(
      [&](pqxx::work& tx) { return !tx.exec_prepared("qs_delete_mapping", uuid).empty(); });
}

void QueueStore::SetMappingResult(const std::string& uuid, const std::string& result) {
  pool_->Transact([&](pqxx::work& tx) { tx.exec_prepared("qs_mapping_result", uuid, result); });
}

}  // namespace switchyard::orchestrator::store
