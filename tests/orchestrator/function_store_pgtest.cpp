// The PostgreSQL function registry and async (Event) queue: records round-trip whole, stale
// writes are refused, packages are kept and collected, events are claimed by one node at a
// time, and an event queued before a restart is still retried to its end afterwards.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>

#include "pg_fixture.hpp"
#include "store/function_store.hpp"
#include "store/migrate.hpp"
#include "switchyard/invoker/invoker.hpp"

namespace switchyard::orchestrator {
namespace {

using api::FunctionRecord;
using invoker::AsyncClock;
using invoker::QueuedEvent;

class FunctionStoreTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    store::Migrate(url());
  }
};

FunctionRecord Sample() {
  FunctionRecord record;
  record.latest.config.function_name = "fn";
  record.latest.config.runtime = "python3.11";
  record.latest.config.handler = "app.handler";
  record.latest.config.memory_size_mb = 256;
  record.latest.config.timeout_seconds = 9;
  record.latest.config.environment = {{"A", "1"}, {"B", "two"}};
  record.latest.config.code_dir = "/code/latest";
  record.latest.config.dead_letter_target_arn = "arn:aws:sqs:us-east-1:000000000000:dlq";
  record.latest.code_sha256 = "shaL";
  record.latest.code_size = 10;
  record.latest.revision_id = "rev-latest";
  api::FunctionVersionRecord v1 = record.latest;
  v1.version = "1";
  v1.code_sha256 = "sha1";
  v1.revision_id = "rev-1";
  v1.source_revision_id = "rev-old";
  record.versions[1] = v1;
  record.next_version = 2;
  record.aliases["live"] = {"live", "1", "the live one", "rev-alias", {{"$LATEST", 0.25}}};
  record.reserved_concurrency = 5;
  record.event_invoke_configs["$LATEST"] = {1, 120, "", "arn:aws:lambda:r:1:function:dlq", 12.5};
  record.event_invoke_configs["live"] = {std::nullopt, std::nullopt, "arn:aws:states:x", "", 3};
  record.provisioned["live"] = {2, "2026-11-27T12:00:00+0000"};
  return record;
}

std::string Render(const FunctionRecord& r) {
  std::string out = r.latest.config.function_name + " serial=" + std::to_string(r.serial) +
                    " next=" + std::to_string(r.next_version) +
                    " reserved=" + std::to_string(r.reserved_concurrency.value_or(-1));
  auto version = [&](const api::FunctionVersionRecord& v) {
    out += " [" + v.version + " " + v.config.runtime + " " + v.config.handler + " " +
           std::to_string(v.config.memory_size_mb) + "MB " +
           std::to_string(v.config.timeout_seconds) + "s " + v.config.code_dir + " " +
           v.code_sha256 + " " + std::to_string(v.code_size) + " " + v.revision_id +
           " src=" + v.source_revision_id + " dlq=" + v.config.dead_letter_target_arn + " env=";
    for (const auto& [k, val] : v.config.environment) out += k + ":" + val + ",";
    out += "]";
  };
  version(r.latest);
  for (const auto& [n, v] : r.versions) version(v);
  for (const auto& [name, a] : r.aliases) {
    out +=
        " alias " + name + "->" + a.function_version + " '" + a.description + "' " + a.revision_id;
    for (const auto& [v, w] : a.additional_version_weights) {
      out += " +" + v + "@" + std::to_string(w);
    }
  }
  for (const auto& [q, c] : r.event_invoke_configs) {
    out += " eic " + q + " retries=" + std::to_string(c.maximum_retry_attempts.value_or(-1)) +
           " age=" + std::to_string(c.maximum_event_age_seconds.value_or(-1)) +
           " ok=" + c.on_success + " fail=" + c.on_failure +
           " at=" + std::to_string(c.last_modified);
  }
  for (const auto& [q, c] : r.provisioned) {
    out += " pc " + q + "=" + std::to_string(c.requested) + "@" + c.last_modified;
  }
  return out;
}

TEST_F(FunctionStoreTest, RecordsRoundTripWholeAndStaleWritesAreRefused) {
  store::PgFunctionRegistry registry(url());
  FunctionRecord record = Sample();
  registry.Put(record);
  auto loaded = registry.Get("fn");
  ASSERT_TRUE(loaded);
  FunctionRecord expected = record;
  expected.serial = 1;
  EXPECT_EQ(Render(*loaded), Render(expected));
  EXPECT_EQ(registry.List().size(), 1u);
  EXPECT_EQ(registry.Serials(), (std::map<std::string, int64_t>{{"fn", 1}}));

  // Creating it again, or writing from a stale read, is a conflict.
  EXPECT_THROW(registry.Put(record), api::FunctionConflict);
  loaded->aliases.erase("live");
  registry.Put(*loaded);  // serial 1 -> 2
  EXPECT_THROW(registry.Put(*loaded), api::FunctionConflict);
  EXPECT_EQ(registry.Get("fn")->aliases.size(), 0u);
  EXPECT_EQ(registry.Get("fn")->serial, 2);

  EXPECT_TRUE(registry.Remove("fn"));
  EXPECT_FALSE(registry.Remove("fn"));
  EXPECT_FALSE(registry.Get("fn"));
}

TEST_F(FunctionStoreTest, PackagesAreKeptWhileAVersionUsesThem) {
  store::PgFunctionRegistry registry(url());
  FunctionRecord record = Sample();
  registry.Put(record);
  const std::string zip("PK\x03\x04\0\xff binary\0", 16);
  registry.PutCode("fn", "sha1", zip);
  registry.PutCode("fn", "unused", "x");
  EXPECT_EQ(registry.GetCode("fn", "sha1"), zip);
  record.serial = 1;
  registry.Put(record);  // any write collects packages no version uses
  EXPECT_EQ(registry.GetCode("fn", "sha1"), zip);
  EXPECT_FALSE(registry.GetCode("fn", "unused"));
  registry.Remove("fn");
  EXPECT_FALSE(registry.GetCode("fn", "sha1"));
}

QueuedEvent Event(const std::string& id, AsyncClock::time_point due) {
  QueuedEvent event;
  event.request_id = id;
  event.function_name = "fn";
  event.payload = "{\"id\":\"" + id + "\"}";
  event.enqueued_at = due;
  event.due = due;
  return event;
}

TEST_F(FunctionStoreTest, AnEventIsClaimedByOneNodeAtATimeAndFenced) {
  store::PgEventQueue a(url(), "node-a");
  store::PgEventQueue b(url(), "node-b");
  std::optional<AsyncClock::time_point> next;
  const auto now = AsyncClock::now();
  a.Push(Event("e1", now - std::chrono::seconds(1)));
  a.Push(Event("e1", now - std::chrono::seconds(1)));  // a repeated push is harmless
  EXPECT_EQ(a.Size(), 1u);
  EXPECT_FALSE(a.PopDue(now, &next)) << "not started";
  a.Start();
  b.Start();
  auto claimed = a.PopDue(now, &next);
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->payload, "{\"id\":\"e1\"}");
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // past b's idle pause
  EXPECT_FALSE(b.PopDue(now, &next)) << "leased by a";

  // a retries it later; b takes it when due; a's old claim can no longer delete it.
  QueuedEvent retry = *claimed;
  retry.attempts = 1;
  retry.due = now + std::chrono::seconds(5);
  a.Push(retry);
  EXPECT_FALSE(b.PopDue(now, &next));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // past b's idle pause
  auto again = b.PopDue(now + std::chrono::seconds(6), &next);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->attempts, 1);
  EXPECT_GT(again->claim, claimed->claim);
  a.Done(*claimed);
  EXPECT_EQ(a.Size(), 1u);
  b.Done(*again);
  EXPECT_EQ(a.Size(), 0u);
}

TEST_F(FunctionStoreTest, AnExpiredLeaseIsClaimedByAnotherNode) {
  store::PgEventQueue a(url(), "node-a");
  store::PgEventQueue b(url(), "node-b");
  a.Start();
  b.Start();
  std::optional<AsyncClock::time_point> next;
  const auto now = AsyncClock::now();
  a.Push(Event("e2", now));
  ASSERT_TRUE(a.PopDue(now, &next));
  // node-a dies: its lease runs out (made so here rather than waited for).
  pqxx::connection conn(url());
  pqxx::work tx(conn);
  tx.exec("UPDATE async_invocations SET lease_until = now() - interval '1 second'");
  tx.commit();
  auto taken = b.PopDue(now, &next);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->request_id, "e2");
}

TEST_F(FunctionStoreTest, AQueuedEventIsRetriedToItsEndAcrossARestart) {
  std::atomic<int> attempts{0};
  std::mutex mu;
  std::vector<std::string> deliveries;  // Guarded by mu.
  auto make = [&](const std::string& node) {
    auto queue = std::make_shared<store::PgEventQueue>(url(), node);
    invoker::InvokerOptions options;
    options.event_queue = queue;
    options.async_retry_base = std::chrono::milliseconds(1500);
    options.async_sink = [&](const invoker::AsyncDelivery& delivery) {
      std::lock_guard lock(mu);
      deliveries.push_back(delivery.destination + " " + delivery.record);
    };
    auto inv = std::make_unique<invoker::Invoker>(std::move(options));
    invoker::FunctionConfig config;
    config.function_name = "flaky";
    EXPECT_EQ(
        inv->RegisterNative(
            config,
            [&](const std::string&, const invoker::NativeContext&) {
              ++attempts;
              return invoker::NativeOutcome{R"({"errorType":"Boom","errorMessage":"no"})", "Boom"};
            }),
        "");
    invoker::EventInvokeConfig eic;
    eic.on_failure = "arn:aws:lambda:us-east-1:000000000000:function:sink";
    eic.dead_letter = true;
    inv->PutEventInvokeConfig("flaky", eic);
    queue->Start();
    return std::make_pair(std::move(inv), queue);
  };
  {
    auto [inv, queue] = make("node-1");
    invoker::InvokeRequest request;
    request.function_name = "flaky";
    request.payload = R"({"n":1})";
    request.type = invoker::InvocationType::kEvent;
    ASSERT_EQ(inv->Invoke(request).status_code, 202);
    for (int i = 0; i < 200 && attempts == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(attempts, 1);
    inv.reset();  // the server stops between attempts
  }
  pqxx::connection conn(url());
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec("SELECT attempts, lease_owner IS NULL FROM async_invocations")[0][0].as<int>(),
            1);
  auto [inv, queue] = make("node-2");
  inv->DrainAsync();
  EXPECT_EQ(attempts, 3);
  std::lock_guard lock(mu);
  ASSERT_EQ(deliveries.size(), 2u);
  EXPECT_EQ(deliveries[0].rfind("arn:aws:lambda:us-east-1:000000000000:function:sink {", 0), 0u);
  EXPECT_NE(deliveries[0].find("\"condition\":\"RetriesExhausted\",\"approximateInvokeCount\":3}"),
            std::string::npos)
      << deliveries[0];
  EXPECT_EQ(deliveries[1], "dead-letter {\"n\":1}");
  EXPECT_EQ(queue->Size(), 0u);
}

}  // namespace
}  // namespace switchyard::orchestrator
