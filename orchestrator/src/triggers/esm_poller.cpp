#include "triggers/esm_poller.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <vector>

#include "store/queue_store.hpp"
#include "switchyard/invoker/invoker.hpp"

namespace switchyard::orchestrator::triggers {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kRefresh{1000};
constexpr std::chrono::milliseconds kIdlePoll{200};
constexpr std::chrono::seconds kSweepEvery{60};
constexpr int64_t kDefaultConcurrency = 5;
constexpr int64_t kMaxThreadsPerMapping = 64;
constexpr int64_t kBatchesPerReceive = 4;

void W(Writer& w, const char* key, std::string_view value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string QueueNameOfArn(const std::string& arn) {
  const std::size_t colon = arn.rfind(':');
  return colon == std::string::npos ? std::string() : arn.substr(colon + 1);
}

std::optional<store::Redrive> RedriveOf(const store::QueueRow& queue) {
  const auto it = queue.attributes.find("RedrivePolicy");
  if (it == queue.attributes.end() || it->second.empty()) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse(it->second.c_str(), it->second.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  const auto arn = doc.FindMember("deadLetterTargetArn");
  const auto max = doc.FindMember("maxReceiveCount");
  if (arn == doc.MemberEnd() || !arn->value.IsString() || max == doc.MemberEnd()) {
    return std::nullopt;
  }
  int64_t count = 0;
  if (max->value.IsInt64()) {
    count = max->value.GetInt64();
  } else if (max->value.IsString()) {
    count = std::atoll(max->value.GetString());
  }
  return store::Redrive{QueueNameOfArn(arn->value.GetString()), count};
}

int64_t AttrInt(const store::QueueRow& queue, const char* name, int64_t fallback) {
  const auto it = queue.attributes.find(name);
  if (it == queue.attributes.end()) return fallback;
  return std::atoll(it->second.c_str());
}

// Lambda's SQS event. Message attributes in its shape: {"stringValue"|"binaryValue",
// "stringListValues":[], "binaryListValues":[], "dataType"}.
std::string Event(const std::vector<store::ReceivedMessage>& batch, const store::QueueRow& queue,
                  const std::string& source_arn, const std::string& region,
                  const std::string& account_id) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("Records");
  w.StartArray();
  for (const auto& message : batch) {
    w.StartObject();
    W(w, "messageId", message.message_id);
    W(w, "receiptHandle", message.receipt_handle);
    W(w, "body", message.body);
    w.Key("attributes");
    w.StartObject();
    W(w, "ApproximateReceiveCount", std::to_string(message.receive_count));
    W(w, "SentTimestamp", std::to_string(message.sent_ms));
    W(w, "SenderId", account_id);
    W(w, "ApproximateFirstReceiveTimestamp", std::to_string(message.first_received_ms));
    if (queue.fifo) {
      char digits[32];
      std::snprintf(digits, sizeof digits, "%020lld", static_cast<long long>(message.message_seq));
      W(w, "SequenceNumber", digits);
      W(w, "MessageGroupId", message.group_id);
      W(w, "MessageDeduplicationId", message.dedup_id);
    }
    w.EndObject();
    w.Key("messageAttributes");
    w.StartObject();
    if (!message.message_attributes.empty()) {
      rapidjson::Document stored;
      stored.Parse(message.message_attributes.c_str(), message.message_attributes.size());
      if (stored.IsObject()) {
        for (const auto& member : stored.GetObject()) {
          w.Key(member.name.GetString(), member.name.GetStringLength());
          w.StartObject();
          if (const auto s = member.value.FindMember("StringValue");
              s != member.value.MemberEnd() && s->value.IsString()) {
            W(w, "stringValue", {s->value.GetString(), s->value.GetStringLength()});
          }
          if (const auto b = member.value.FindMember("BinaryValue");
              b != member.value.MemberEnd() && b->value.IsString()) {
            W(w, "binaryValue", {b->value.GetString(), b->value.GetStringLength()});
          }
          w.Key("stringListValues");
          w.StartArray();
          w.EndArray();
          w.Key("binaryListValues");
          w.StartArray();
          w.EndArray();
          if (const auto t = member.value.FindMember("DataType");
              t != member.value.MemberEnd() && t->value.IsString()) {
            W(w, "dataType", {t->value.GetString(), t->value.GetStringLength()});
          }
          w.EndObject();
        }
      }
    }
    w.EndObject();
    W(w, "md5OfBody", message.md5_of_body);
    if (!message.md5_of_attributes.empty()) {
      W(w, "md5OfMessageAttributes", message.md5_of_attributes);
    }
    W(w, "eventSource", "aws:sqs");
    W(w, "eventSourceARN", source_arn);
    W(w, "awsRegion", region);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Lambda's partial batch response: the message ids the function reports as failed. nullopt:
// the whole batch failed (an unparseable answer, or an identifier that is empty or not in the
// batch, as Lambda treats them).
std::optional<std::set<std::string>> ReportedFailures(const std::string& payload,
                                                      const std::set<std::string>& batch_ids) {
  std::set<std::string> failed;
  rapidjson::Document doc;
  doc.Parse(payload.c_str(), payload.size());
  if (doc.HasParseError() || !doc.IsObject()) return failed;  // any other answer: success
  const auto list = doc.FindMember("batchItemFailures");
  if (list == doc.MemberEnd() || list->value.IsNull()) return failed;
  if (!list->value.IsArray()) return std::nullopt;
  for (const auto& item : list->value.GetArray()) {
    if (!item.IsObject()) return std::nullopt;
    const auto id = item.FindMember("itemIdentifier");
    if (id == item.MemberEnd() || !id->value.IsString() || id->value.GetStringLength() == 0) {
      return std::nullopt;
    }
    std::string text(id->value.GetString(), id->value.GetStringLength());
    if (!batch_ids.count(text)) return std::nullopt;
    failed.insert(std::move(text));
  }
  return failed;
}

}  // namespace

// One enabled mapping on this node: its polling threads and the settings they read.
struct EsmPoller::Mapping {
  store::MappingRow row;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::mutex mu;
  std::optional<store::QueueRow> queue;  // Guarded by mu; refreshed by the supervisor.
  std::string last_result;               // Guarded by mu.

  ~Mapping() {
    stop = true;
    for (auto& thread : threads) {
      if (thread.joinable()) thread.join();
    }
  }
};

EsmPoller::EsmPoller(store::QueueStore& queues, invoker::Invoker& invoker, std::string region,
                     std::string account_id)
    : queues_(queues),
      invoker_(invoker),
      region_(std::move(region)),
      account_id_(std::move(account_id)) {}

EsmPoller::~EsmPoller() { Stop(); }

void EsmPoller::Start() {
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  supervisor_ = std::thread([this] { Supervise(); });
}

void EsmPoller::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (supervisor_.joinable()) supervisor_.join();
}

namespace {

struct PollContext {
  store::QueueStore& queues;
  invoker::Invoker& invoker;
  const std::string& region;
  const std::string& account_id;
};

void SetResult(PollContext& context, EsmPoller::Mapping& mapping, const std::string& result) {
  {
    std::lock_guard lock(mapping.mu);
    if (mapping.last_result == result) return;
    mapping.last_result = result;
  }
  try {
    context.queues.SetMappingResult(mapping.row.uuid, result);
  } catch (const std::exception&) {
    // Informational only.
  }
}

// Releases a mapping slot when a polling round ends, whichever way it ends.
struct SlotRound {
  store::MappingSlot* slot;
  ~SlotRound() {
    if (slot) slot->Release();
  }
};

// One polling thread of `threads`: receive a batch, invoke, delete what succeeded; until
// stopped. With ScalingConfig.MaximumConcurrency, a thread runs a round only while it holds one
// of the mapping's slots 0..MaximumConcurrency-1 (shared by all nodes), so the mapping's batches
// in flight across all nodes never exceed it. Thread `index` starts on slot `index`; when more
// slots than threads exist, a thread that finds its slot taken moves on by `threads`.
void Poll(PollContext context, EsmPoller::Mapping& mapping, int index, int threads) {
  const store::MappingRow& row = mapping.row;
  std::unique_ptr<store::MappingSlot> slot;
  if (row.max_concurrency > 0) slot = context.queues.NewMappingSlot(row.uuid, index);
  const int slots = static_cast<int>(row.max_concurrency);
  std::string function_name = row.function_arn.substr(row.function_arn.find(":function:") + 10);
  std::string qualifier;
  if (const std::size_t colon = function_name.find(':'); colon != std::string::npos) {
    qualifier = function_name.substr(colon + 1);
    function_name.resize(colon);
  }
  const int64_t batch_size = row.batch_size;
  // Small batches are received several at a time: two transactions (receive, delete) then
  // serve several invocations.
  const int64_t receive_size = batch_size <= 10 ? batch_size * kBatchesPerReceive : batch_size;
  const auto window = std::chrono::seconds(row.batching_window);
  std::chrono::milliseconds idle = std::chrono::milliseconds(10);
  while (!mapping.stop) {
    std::optional<store::QueueRow> queue;
    {
      std::lock_guard lock(mapping.mu);
      queue = mapping.queue;
    }
    if (!queue || !context.invoker.HasFunction(function_name)) {
      std::this_thread::sleep_for(kIdlePoll);
      continue;
    }
    if (slot) {
      bool held = false;
      try {
        held = slot->TryAcquire();
      } catch (const std::exception& e) {
        spdlog::warn("esm={} concurrency slot {}: {}", row.uuid, slot->CurrentSlot(), e.what());
      }
      if (!held) {
        if (slots > threads) slot->MoveTo((slot->CurrentSlot() + threads) % slots);
        std::this_thread::sleep_for(kIdlePoll);
        continue;
      }
    }
    const SlotRound round{slot.get()};
    const auto visibility = std::chrono::seconds(AttrInt(*queue, "VisibilityTimeout", 30));
    const auto redrive = RedriveOf(*queue);
    std::vector<store::ReceivedMessage> batch;
    const auto started = Clock::now();
    try {
      for (;;) {
        auto more = context.queues.Receive(
            queue->queue_id, queue->fifo,
            std::min<int64_t>(receive_size - static_cast<int64_t>(batch.size()), 10000), visibility,
            redrive);
        for (auto& message : more) batch.push_back(std::move(message));
        if (static_cast<int64_t>(batch.size()) >= batch_size || window.count() == 0 ||
            Clock::now() - started >= window || mapping.stop) {
          break;
        }
        context.queues.WaitForSend(std::min(started + window, Clock::now() + kIdlePoll));
      }
    } catch (const std::exception& e) {
      spdlog::warn("esm={} receive failed: {}", row.uuid, e.what());
      if (slot) slot->Release();
      std::this_thread::sleep_for(kIdlePoll);
      continue;
    }
    if (batch.empty()) {
      if (slot) slot->Release();  // not held while idle
      context.queues.WaitForSend(Clock::now() + idle);
      idle = std::min<std::chrono::milliseconds>(idle * 2, kIdlePoll);
      continue;
    }
    idle = std::chrono::milliseconds(10);
    // One receive may hold several batches (see kBatchesPerReceive): they run one after the
    // other on this thread, and what succeeded is deleted in one transaction at the end.
    std::vector<std::string> done;
    std::set<std::string> blocked_groups;  // FIFO: groups with a failed message in this receive
    for (std::size_t first = 0; first < batch.size();
         first += static_cast<std::size_t>(batch_size)) {
      const std::size_t last = std::min(batch.size(), first + static_cast<std::size_t>(batch_size));
      std::vector<store::ReceivedMessage> part;
      for (std::size_t i = first; i < last; ++i) {
        // FIFO: a group's later messages wait for its failed one (order within the group).
        if (queue->fifo && blocked_groups.count(batch[i].group_id)) continue;
        part.push_back(batch[i]);
      }
      if (part.empty()) continue;
      invoker::InvokeRequest request;
      request.function_name = function_name;
      request.qualifier = qualifier;
      request.payload =
          Event(part, *queue, row.event_source_arn, context.region, context.account_id);
      const invoker::InvokeResult result = context.invoker.Invoke(request);
      std::optional<std::set<std::string>> failed;
      if (result.status == invoker::InvokeStatus::kOk && result.function_error.empty()) {
        failed.emplace();
        if (row.report_batch_item_failures) {
          std::set<std::string> ids;
          for (const auto& message : part) ids.insert(message.message_id);
          failed = ReportedFailures(result.payload, ids);
        }
      }
      if (!failed) {
        SetResult(context, mapping, "PROBLEM: Function call failed");
        spdlog::debug("esm={} function={} batch of {} failed: {}", row.uuid, function_name,
                      part.size(), result.error_type);
        for (const auto& message : part) blocked_groups.insert(message.group_id);
        continue;
      }
      SetResult(context, mapping, "OK");
      for (const auto& message : part) {
        const bool fails = failed->count(message.message_id) > 0 ||
                           (queue->fifo && blocked_groups.count(message.group_id) > 0);
        if (fails) {
          if (queue->fifo) blocked_groups.insert(message.group_id);
          continue;
        }
        done.push_back(message.receipt_handle);
      }
    }
    if (!done.empty()) {
      try {
        context.queues.Delete(queue->queue_id, done);
      } catch (const std::exception& e) {
        // The messages come back after their visibility timeout (at-least-once).
        spdlog::warn("esm={} delete failed: {}", row.uuid, e.what());
      }
    }
  }
}

}  // namespace

void EsmPoller::Supervise() {
  PollContext context{queues_, invoker_, region_, account_id_};
  auto last_sweep = Clock::now();
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    try {
      std::map<std::string, store::MappingRow> wanted;
      for (auto& row : queues_.ListMappings("", "", "", 100000)) {
        if (row.enabled) wanted[row.uuid] = std::move(row);
      }
      // Stop mappings deleted, disabled or changed; start the new ones.
      for (auto it = mappings_.begin(); it != mappings_.end();) {
        const auto found = wanted.find(it->first);
        const store::MappingRow& now = it->second->row;
        if (found == wanted.end() || found->second.batch_size != now.batch_size ||
            found->second.batching_window != now.batching_window ||
            found->second.max_concurrency != now.max_concurrency ||
            found->second.function_arn != now.function_arn ||
            found->second.event_source_arn != now.event_source_arn ||
            found->second.report_batch_item_failures != now.report_batch_item_failures) {
          it = mappings_.erase(it);  // joins its threads
        } else {
          ++it;
        }
      }
      for (auto& [uuid, row] : wanted) {
        auto& mapping = mappings_[uuid];
        if (!mapping) {
          mapping = std::make_unique<Mapping>();
          mapping->row = row;
          mapping->last_result = row.last_result;
        }
        auto queue = queues_.GetQueue(QueueNameOfArn(row.event_source_arn));
        {
          std::lock_guard mapping_lock(mapping->mu);
          mapping->queue = std::move(queue);
        }
        if (mapping->threads.empty()) {
          const int64_t threads =
              std::min(row.max_concurrency > 0 ? row.max_concurrency : kDefaultConcurrency,
                       kMaxThreadsPerMapping);
          for (int64_t i = 0; i < threads; ++i) {
            mapping->threads.emplace_back([context, m = mapping.get(), i, threads] {
              Poll(context, *m, static_cast<int>(i), static_cast<int>(threads));
            });
          }
        }
      }
      if (Clock::now() - last_sweep >= kSweepEvery) {
        last_sweep = Clock::now();
        queues_.Sweep();
      }
    } catch (const std::exception& e) {
      spdlog::warn("esm poller: {}", e.what());
    }
    lock.lock();
    cv_.wait_for(lock, kRefresh, [this] { return stop_; });
  }
  lock.unlock();
  mappings_.clear();
}

}  // namespace switchyard::orchestrator::triggers
