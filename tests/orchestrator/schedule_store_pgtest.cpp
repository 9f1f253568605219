// Schedules on PostgreSQL: each occurrence becomes exactly one firing when several nodes fire
// at once (FOR UPDATE SKIP LOCKED, the next occurrence written in the same transaction); the
// catch-up window; each firing claimed by one node at a time.
#include <gtest/gtest.h>

#include <atomic>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/scheduler.hpp"
#include "pg_fixture.hpp"
#include "store/migrate.hpp"
#include "store/schedule_store.hpp"

namespace switchyard::orchestrator {
namespace {

constexpr double kT0 = 1800000000;  // 2027-01-15T08:00:00Z

std::string Definition(int max_age = 86400) {
  return R"j({"ActionAfterCompletion":"NONE","FlexibleTimeWindow":{"Mode":"OFF"},)j"
         R"j("ScheduleExpression":"rate(1 minute)","ScheduleExpressionTimezone":"UTC",)j"
         R"j("State":"ENABLED","Target":{"Arn":"arn:aws:states:us-east-1:000000000000:)j"
         R"j(stateMachine:m","RoleArn":"arn:aws:iam::000000000000:role/r","RetryPolicy":)j"
         R"j({"MaximumEventAgeInSeconds":)j" +
         std::to_string(max_age) + R"j(,"MaximumRetryAttempts":185}}})j";
}

store::ScheduleRow Row(const std::string& name, int max_age = 86400) {
  store::ScheduleRow row;
  row.group_name = "default";
  row.name = name;
  row.definition = Definition(max_age);
  row.state = "ENABLED";
  row.target_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:m";
  row.created_at = row.modified_at = row.anchor_at = kT0;
  row.next_at = row.fire_at = kT0;
  return row;
}

class ScheduleStorePgTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    store::Migrate(url());
  }
  int64_t Count(const std::string& sql) {
    pqxx::connection connection(url());
    pqxx::work tx(connection);
    return tx.exec(sql)[0][0].as<int64_t>();
  }
};

TEST_F(ScheduleStorePgTest, FourNodesFireEachOccurrenceExactlyOnce) {
  store::ScheduleStore setup(url());
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(setup.CreateSchedule(Row("s" + std::to_string(i))), store::ScheduleOutcome::kOk);
  }
  // Five occurrences are due for each schedule: T0, +60, +120, +180, +240.
  const double now = kT0 + 299;
  std::atomic<int> fired{0};
  std::vector<std::thread> nodes;
  for (int n = 0; n < 4; ++n) {
    nodes.emplace_back([&] {
      store::ScheduleStore node(url());
      while (node.FireDue(now, 3, [&](const store::ScheduleRow& row) {
        store::FiringDecision decision = DecideFiring(row, now, "us-east-1", "000000000000");
        if (decision.fire) ++fired;
        return decision;
      }) > 0) {
      }
    });
  }
  for (auto& node : nodes) node.join();
  EXPECT_EQ(fired.load(), 100);
  EXPECT_EQ(Count("SELECT count(*) FROM schedule_firings"), 100);
  EXPECT_EQ(Count("SELECT count(DISTINCT (schedule_arn, occurrence)) FROM schedule_firings"), 100);
  // Every schedule now waits for T0 + 300.
  EXPECT_EQ(Count("SELECT count(*) FROM schedules WHERE next_at = to_timestamp(1800000300)"), 20);

  // Each firing is claimed by one node at a time.
  std::atomic<int> claimed{0};
  nodes.clear();
  for (int n = 0; n < 4; ++n) {
    nodes.emplace_back([&, n] {
      store::ScheduleStore node(url());
      while (auto firing = node.ClaimFiring("node" + std::to_string(n), now, 30)) {
        ++claimed;
        node.CompleteFiring(*firing);
      }
    });
  }
  for (auto& node : nodes) node.join();
  EXPECT_EQ(claimed.load(), 100);
  EXPECT_EQ(Count("SELECT count(*) FROM schedule_firings"), 0);
}

TEST_F(ScheduleStorePgTest, OccurrencesOlderThanTheWindowAreSkippedThenTheScheduleContinues) {
  store::ScheduleStore store(url());
  ASSERT_EQ(store.CreateSchedule(Row("late", 120)), store::ScheduleOutcome::kOk);
  // Down for 1000 s: with MaximumEventAgeInSeconds 120 only T0+900 (age 100) and T0+960 (age
  // 40) are inside the window; T0 .. T0+840 are skipped without a burst of firings.
  const double now = kT0 + 1000;
  std::vector<double> fired;
  while (store.FireDue(now, 10, [&](const store::ScheduleRow& row) {
    store::FiringDecision decision = DecideFiring(row, now, "us-east-1", "000000000000");
    if (decision.fire) fired.push_back(*row.next_at - kT0);
    return decision;
  }) > 0) {
  }
  EXPECT_EQ(fired, (std::vector<double>{900, 960}));
  const auto row = store.GetSchedule("default", "late");
  ASSERT_TRUE(row && row->next_at);
  EXPECT_EQ(*row->next_at - kT0, 1020);
}

TEST_F(ScheduleStorePgTest, ARepeatedFiringOfOneOccurrenceIsANoOp) {
  store::ScheduleStore store(url());
  ASSERT_EQ(store.CreateSchedule(Row("again")), store::ScheduleOutcome::kOk);
  const double now = kT0 + 1;
  store::FiringDecision first;
  ASSERT_EQ(store.FireDue(now, 1,
                          [&](const store::ScheduleRow& row) {
                            first = DecideFiring(row, now, "us-east-1", "000000000000");
                            return first;
                          }),
            1);
  // A node replaying the same occurrence (same firing id) adds nothing.
  ASSERT_TRUE(store.UpdateSchedule(Row("again")) == store::ScheduleOutcome::kOk);
  ASSERT_EQ(store.FireDue(now, 1,
                          [&](const store::ScheduleRow& row) {
                            return DecideFiring(row, now, "us-east-1", "000000000000");
                          }),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM schedule_firings"), 1);
  EXPECT_EQ(
      Count("SELECT count(*) FROM schedule_firings WHERE firing_id = '" + first.firing_id + "'"),
      1);
}

}  // namespace
}  // namespace switchyard::orchestrator

namespace switchyard::orchestrator {
namespace {

ScheduleSpec Spec(const std::string& extra, const std::string& expression = "rate(10 minutes)") {
  const std::string definition =
      R"j({"ScheduleExpression":")j" + expression + R"j(",)j" + extra +
      R"j("Target":{"Arn":"arn:aws:lambda:us-east-1:000000000000:function:f","RoleArn":"r"}})j";
  std::string error;
  auto spec = ParseScheduleSpec(definition, &error);
  EXPECT_TRUE(spec.has_value()) << error << " in " << definition;
  return spec.value_or(ScheduleSpec{});
}

TEST(ScheduleSpecTest, StartDateEndDateAndFlexibleWindow) {
  // StartDate: a rate anchored there; nothing before it.
  const ScheduleSpec start = Spec(R"("StartDate":1800000600,)");
  EXPECT_EQ(ComputeNextFiring(start, 1800000600, kT0).next_at, 1800000600);
  // EndDate: no occurrence after it.
  const ScheduleSpec end = Spec(R"("EndDate":1800001000,)");
  EXPECT_EQ(ComputeNextFiring(end, kT0, kT0 + 500).next_at, kT0 + 600);
  EXPECT_FALSE(ComputeNextFiring(end, kT0, kT0 + 1001).next_at.has_value());
  // at() ignores StartDate and EndDate, as AWS.
  const ScheduleSpec at = Spec(R"("EndDate":1,)", "at(2027-01-15T09:00:00)");
  EXPECT_EQ(ComputeNextFiring(at, 0, 0).next_at, kT0 + 3600);
  // FLEXIBLE: a moment inside [occurrence, occurrence + window).
  const ScheduleSpec flexible =
      Spec(R"("FlexibleTimeWindow":{"Mode":"FLEXIBLE","MaximumWindowInMinutes":15},)");
  for (int i = 0; i < 50; ++i) {
    const NextFiring next = ComputeNextFiring(flexible, kT0, kT0);
    ASSERT_TRUE(next.next_at && next.fire_at);
    EXPECT_EQ(*next.next_at, kT0);
    EXPECT_GE(*next.fire_at, kT0);
    EXPECT_LT(*next.fire_at, kT0 + 900);
  }
}

TEST(ScheduleSpecTest, CompletionWithDeleteRemovesTheSchedule) {
  store::ScheduleRow row = Row("once");
  row.definition =
      R"j({"ActionAfterCompletion":"DELETE","ScheduleExpression":"at(2027-01-15T08:00:00)",)j"
      R"j("Target":{"Arn":"arn:aws:states:us-east-1:000000000000:stateMachine:m"}})j";
  const store::FiringDecision decision = DecideFiring(row, kT0 + 5, "us-east-1", "000000000000");
  EXPECT_TRUE(decision.fire);
  EXPECT_TRUE(decision.delete_schedule);
  EXPECT_FALSE(decision.next_at.has_value());
  // NONE keeps it, with no further occurrence.
  row.definition.replace(row.definition.find("DELETE"), 6, "NONE");
  EXPECT_FALSE(DecideFiring(row, kT0 + 5, "us-east-1", "000000000000").delete_schedule);
  // An at() older than the window does not fire at all.
  EXPECT_FALSE(DecideFiring(row, kT0 + 86401, "us-east-1", "000000000000").fire);
}

}  // namespace
}  // namespace switchyard::orchestrator
