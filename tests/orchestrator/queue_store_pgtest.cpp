// The PostgreSQL queue store: visibility and receipt-handle generations, redrive to the
// dead-letter queue, FIFO groups blocked while in flight, deduplication, concurrent receivers
// that never share a message, one purge per minute, event-source-mapping rows, mapping slots, and
// ScalingConfig.MaximumConcurrency held across two pollers (two nodes) on one database.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "pg_fixture.hpp"
#include "store/migrate.hpp"
#include "store/queue_store.hpp"
#include "switchyard/invoker/invoker.hpp"
#include "triggers/esm_poller.hpp"

namespace switchyard::orchestrator {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using store::NewMessage;
using store::QueueStore;

class QueueStoreTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    store::Migrate(url());
    queues = std::make_unique<QueueStore>(url());
  }
  store::QueueRow Create(const std::string& name, bool fifo = false) {
    bool created = false;
    return queues->CreateQueue(name, fifo, {{"VisibilityTimeout", "30"}}, {}, &created);
  }
  static NewMessage Message(const std::string& body, const std::string& group = {},
                            const std::string& dedup = {}) {
    NewMessage message;
    message.body = body;
    message.md5_of_body = "md5";
    message.group_id = group;
    message.dedup_id = dedup;
    return message;
  }
  static std::string Bodies(const std::vector<store::ReceivedMessage>& messages) {
    std::string out;
    for (const auto& m : messages) out += (out.empty() ? "" : ",") + m.body;
    return out;
  }
  std::unique_ptr<QueueStore> queues;
};

TEST_F(QueueStoreTest, CreateIsIdempotentAndDeleteRemovesMessages) {
  bool created = false;
  const auto first =
      queues->CreateQueue("q", false, {{"DelaySeconds", "0"}}, {{"t", "1"}}, &created);
  EXPECT_TRUE(created);
  const auto again = queues->CreateQueue("q", false, {}, {}, &created);
  EXPECT_FALSE(created);
  EXPECT_EQ(again.queue_id, first.queue_id);
  EXPECT_EQ(again.attributes.at("DelaySeconds"), "0");
  EXPECT_EQ(again.tags.at("t"), "1");
  queues->Send(first.queue_id, false, {Message("a")});
  EXPECT_TRUE(queues->DeleteQueue("q"));
  EXPECT_FALSE(queues->DeleteQueue("q"));
  EXPECT_FALSE(queues->GetQueue("q"));
  const auto recreated = Create("q");
  EXPECT_NE(recreated.queue_id, first.queue_id);
  EXPECT_EQ(queues->Counts(first.queue_id).visible, 0);
}

TEST_F(QueueStoreTest, ReceivedMessagesAreInvisibleAndOldHandlesAreStale) {
  const auto q = Create("q");
  queues->Send(q.queue_id, false, {Message("a")});
  auto got = queues->Receive(q.queue_id, false, 10, seconds(30), std::nullopt);
  ASSERT_EQ(Bodies(got), "a");
  EXPECT_EQ(got[0].receive_count, 1);
  EXPECT_TRUE(queues->Receive(q.queue_id, false, 10, seconds(30), std::nullopt).empty());
  const auto counts = queues->Counts(q.queue_id);
  EXPECT_EQ(counts.visible, 0);
  EXPECT_EQ(counts.in_flight, 1);
  // Visible again, received again: the first handle neither changes nor deletes it.
  EXPECT_EQ(queues->ChangeVisibility(q.queue_id, got[0].receipt_handle, seconds(0)),
            store::VisibilityChange::kChanged);
  auto again = queues->Receive(q.queue_id, false, 10, seconds(30), std::nullopt);
  ASSERT_EQ(Bodies(again), "a");
  EXPECT_EQ(again[0].receive_count, 2);
  EXPECT_EQ(queues->ChangeVisibility(q.queue_id, got[0].receipt_handle, seconds(0)),
            store::VisibilityChange::kInvalidHandle);
  queues->Delete(q.queue_id, {got[0].receipt_handle});
  EXPECT_EQ(queues->Counts(q.queue_id).in_flight, 1);
  EXPECT_EQ(queues->Delete(q.queue_id, {again[0].receipt_handle, "nonsense"}),
            (std::vector<bool>{true, false}));
  EXPECT_EQ(queues->Counts(q.queue_id).in_flight, 0);
  EXPECT_EQ(queues->ChangeVisibility(q.queue_id, "sy1:1:2", seconds(0)),
            store::VisibilityChange::kInvalidHandle);
}

TEST_F(QueueStoreTest, DelayedMessagesWait) {
  const auto q = Create("q");
  NewMessage later = Message("later");
  later.delay_seconds = 60;
  queues->Send(q.queue_id, false, {later, Message("now")});
  EXPECT_EQ(Bodies(queues->Receive(q.queue_id, false, 10, seconds(30), std::nullopt)), "now");
  EXPECT_EQ(queues->Counts(q.queue_id).delayed, 1);
}

TEST_F(QueueStoreTest, RedriveMovesMessagesReceivedTooOften) {
  const auto q = Create("q");
  const auto dlq = Create("dlq");
  queues->Send(q.queue_id, false, {Message("poison")});
  const store::Redrive redrive{"dlq", 2};
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Bodies(queues->Receive(q.queue_id, false, 10, seconds(0), redrive)), "poison");
  }
  EXPECT_TRUE(queues->Receive(q.queue_id, false, 10, seconds(0), redrive).empty());
  const auto moved = queues->Receive(dlq.queue_id, false, 10, seconds(30), std::nullopt);
  ASSERT_EQ(Bodies(moved), "poison");
  EXPECT_EQ(moved[0].receive_count, 1);
  // Without a dead-letter queue the policy does nothing.
  queues->Send(q.queue_id, false, {Message("kept")});
  const store::Redrive nowhere{"absent", 1};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Bodies(queues->Receive(q.queue_id, false, 10, seconds(0), nowhere)), "kept");
  }
}

TEST_F(QueueStoreTest, FifoGroupsAreBlockedWhileInFlight) {
  const auto q = Create("q.fifo", true);
  queues->Send(q.queue_id, true,
               {Message("a1", "a", "1"), Message("b1", "b", "2"), Message("a2", "a", "3"),
                Message("b2", "b", "4")});
  const auto first = queues->Receive(q.queue_id, true, 1, seconds(30), std::nullopt);
  EXPECT_EQ(Bodies(first), "a1");
  EXPECT_EQ(Bodies(queues->Receive(q.queue_id, true, 10, seconds(30), std::nullopt)), "b1,b2");
  EXPECT_TRUE(queues->Receive(q.queue_id, true, 10, seconds(30), std::nullopt).empty());
  queues->Delete(q.queue_id, {first[0].receipt_handle});
  EXPECT_EQ(Bodies(queues->Receive(q.queue_id, true, 10, seconds(30), std::nullopt)), "a2");
}

TEST_F(QueueStoreTest, FifoDeduplicatesWithinTheWindow) {
  const auto q = Create("q.fifo", true);
  const auto sent = queues->Send(q.queue_id, true, {Message("x", "g", "d1")});
  const auto again =
      queues->Send(q.queue_id, true, {Message("y", "g", "d1"), Message("z", "g", "d2")});
  EXPECT_EQ(again[0].message_id, sent[0].message_id);
  EXPECT_EQ(again[0].sequence_number, sent[0].sequence_number);
  EXPECT_NE(again[1].message_id, sent[0].message_id);
  EXPECT_EQ(Bodies(queues->Receive(q.queue_id, true, 10, seconds(30), std::nullopt)), "x,z");
}

TEST_F(QueueStoreTest, ConcurrentReceiversNeverShareAMessage) {
  const auto q = Create("q");
  std::vector<NewMessage> batch;
  for (int i = 0; i < 400; ++i) batch.push_back(Message(std::to_string(i)));
  queues->Send(q.queue_id, false, batch);
  std::mutex mu;
  std::multiset<std::string> seen;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (;;) {
        const auto got = queues->Receive(q.queue_id, false, 10, seconds(30), std::nullopt);
        if (got.empty()) return;
        std::lock_guard lock(mu);
        for (const auto& m : got) seen.insert(m.body);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(seen.size(), 400u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 400u);
}

TEST_F(QueueStoreTest, MappingsRoundTrip) {
  store::MappingRow row;
  row.uuid = "u1";
  row.event_source_arn = "arn:aws:sqs:us-east-1:000000000000:q";
  row.function_arn = "arn:aws:lambda:us-east-1:000000000000:function:f";
  row.batch_size = 7;
  row.max_concurrency = 3;
  row.report_batch_item_failures = true;
  queues->PutMapping(row);
  auto got = queues->GetMapping("u1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->batch_size, 7);
  EXPECT_EQ(got->max_concurrency, 3);
  EXPECT_TRUE(got->report_batch_item_failures);
  EXPECT_EQ(got->last_result, "No records processed");
  queues->SetMappingResult("u1", "OK");
  row.enabled = false;
  queues->PutMapping(row);
  got = queues->GetMapping("u1");
  EXPECT_FALSE(got->enabled);
  EXPECT_EQ(got->last_result, "OK");
  EXPECT_EQ(queues->ListMappings("", row.function_arn, "", 10).size(), 1u);
  EXPECT_EQ(queues->ListMappings("other", "", "", 10).size(), 0u);
  EXPECT_TRUE(queues->DeleteMapping("u1"));
  EXPECT_FALSE(queues->GetMapping("u1"));
}

TEST_F(QueueStoreTest, OnePurgePerQueueEverySixtySeconds) {
  const auto q = Create("q");
  const auto other = Create("other");
  queues->Send(q.queue_id, false, {Message("a"), Message("b")});
  EXPECT_TRUE(queues->Purge(q.queue_id));
  EXPECT_EQ(queues->Counts(q.queue_id).visible, 0);
  queues->Send(q.queue_id, false, {Message("c")});
  // Another store object (another node) sees the first purge too.
  QueueStore second(url());
  EXPECT_FALSE(second.Purge(q.queue_id));
  EXPECT_EQ(queues->Counts(q.queue_id).visible, 1);  // a refused purge deletes nothing
  EXPECT_TRUE(second.Purge(other.queue_id));         // per queue
  queues->Sweep();                                   // the purge row lives its 60 s
  EXPECT_FALSE(queues->Purge(q.queue_id));
}

TEST_F(QueueStoreTest, MappingSlotsAreExclusiveAcrossConnections) {
  QueueStore second(url());
  auto a = queues->NewMappingSlot("m1", 0);
  auto b = second.NewMappingSlot("m1", 0);
  auto next_slot = second.NewMappingSlot("m1", 1);
  auto other_mapping = second.NewMappingSlot("m2", 0);
  EXPECT_TRUE(a->TryAcquire());
  EXPECT_TRUE(a->TryAcquire());  // already held
  EXPECT_FALSE(b->TryAcquire());
  EXPECT_TRUE(next_slot->TryAcquire());
  EXPECT_TRUE(other_mapping->TryAcquire());
  a->Release();
  EXPECT_TRUE(b->TryAcquire());
  EXPECT_FALSE(a->TryAcquire());
  b.reset();  // destroying the holder releases the slot
  EXPECT_TRUE(a->TryAcquire());
  a->MoveTo(1);  // releases slot 0; slot 1 is next_slot's
  auto c = second.NewMappingSlot("m1", 0);
  EXPECT_TRUE(c->TryAcquire());
  EXPECT_FALSE(a->TryAcquire());
  next_slot->Release();
  EXPECT_TRUE(a->TryAcquire());
  EXPECT_EQ(a->CurrentSlot(), 1);
}

// Two pollers (as two nodes) on one database, MaximumConcurrency 2: each node runs 2 polling
// threads, yet no more than 2 batches of the mapping are ever invoked at once.
TEST_F(QueueStoreTest, MaximumConcurrencyHoldsAcrossTwoPollers) {
  const auto q = Create("work");
  std::atomic<int> in_flight{0};
  std::atomic<int> most{0};
  std::mutex mu;
  std::multiset<std::string> delivered;
  auto slow = [&](const std::string& payload, const invoker::NativeContext&) {
    const int now = ++in_flight;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(milliseconds(100));
    {
      std::lock_guard lock(mu);
      delivered.insert(payload);
    }
    --in_flight;
    return invoker::NativeOutcome{"{}", ""};
  };
  std::vector<std::unique_ptr<QueueStore>> stores;
  std::vector<std::unique_ptr<invoker::Invoker>> invokers;
  std::vector<std::unique_ptr<triggers::EsmPoller>> pollers;
  for (int node = 0; node < 2; ++node) {
    stores.push_back(std::make_unique<QueueStore>(url()));
    invokers.push_back(std::make_unique<invoker::Invoker>(invoker::InvokerOptions{}));
    invoker::FunctionConfig config;
    config.function_name = "slow";
    ASSERT_EQ(invokers.back()->RegisterNative(config, slow), "");
  }
  store::MappingRow row;
  row.uuid = "limited";
  row.event_source_arn = "arn:aws:sqs:us-east-1:000000000000:work";
  row.function_arn = "arn:aws:lambda:us-east-1:000000000000:function:slow";
  row.batch_size = 1;
  row.max_concurrency = 2;
  queues->PutMapping(row);
  std::vector<NewMessage> messages;
  for (int i = 0; i < 24; ++i) messages.push_back(Message("m" + std::to_string(i)));
  queues->Send(q.queue_id, false, messages);
  for (int node = 0; node < 2; ++node) {
    pollers.push_back(std::make_unique<triggers::EsmPoller>(*stores[node], *invokers[node],
                                                            "us-east-1", "000000000000"));
    pollers.back()->Start();
  }
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (delivered.size() >= 24) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "not all 24 messages delivered";
    std::this_thread::sleep_for(milliseconds(50));
  }
  for (auto& poller : pollers) poller->Stop();
  EXPECT_LE(most.load(), 2);
  EXPECT_GE(most.load(), 1);
  std::lock_guard lock(mu);
  EXPECT_EQ(delivered.size(), 24u);
}

}  // namespace
}  // namespace switchyard::orchestrator
