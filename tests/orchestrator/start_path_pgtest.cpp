// The start path on a real PostgreSQL: a batch of starts written as one statement outside an
// explicit transaction (store::InsertStartedExecutions on a nontransaction, the pool's
// Autocommit), binary array parameters, and statements registered once per connection.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pg_fixture.hpp"
#include "store/execution_store.hpp"
#include "store/migrate.hpp"
#include "store/pool.hpp"
#include "switchyard/orchestrator/engine.hpp"

namespace switchyard::orchestrator {
namespace {

using std::chrono::milliseconds;
using testing::LoseTheNextCommit;

class StartPathPgTest : public testing::PgTest {
 protected:
  void SetUp() override {
    testing::PgTest::SetUp();
    (void)store::Migrate(url());
  }
};

store::ExecutionRow Row(const std::string& name, const std::string& input) {
  store::ExecutionRow row;
  row.execution_arn = "arn:aws:states:us-east-1:000000000000:execution:m:" + name;
  row.state_machine_name = "m";
  row.state_machine_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:m";
  row.revision_id = "rev-1";
  row.name = name;
  row.input = input;
  row.start_date = 1'700'000'000'123'456'000;
  return row;
}

store::HistoryRow Event(int64_t position, int64_t id, const std::string& type,
                        const std::string& details) {
  store::HistoryRow row;
  row.execution_id = position;
  row.event_id = id;
  row.previous_event_id = id - 1;
  row.timestamp = 1'700'000'000'123'456'000;
  row.type = type;
  if (!details.empty()) {
    row.details_key = "executionStartedEventDetails";
    row.details = details;
  }
  return row;
}

// Every column a start writes, with text that array literals would have to escape (quotes,
// backslashes, braces, commas, NULL-looking words, non-ASCII), a NUL in an error, and a name
// taken twice in one call.
TEST_F(StartPathPgTest, OneStatementWritesExecutionsHistoryAndWorkInBinary) {
  const std::string tricky = R"({"a":"q\"uote \\ back {brace}, NULL","é":"日本"})";
  std::vector<store::ExecutionRow> rows = {Row("done", tricky), Row("waiting", "{}"),
                                           Row("done", "{}"), Row("NULL", "")};
  std::vector<store::ExecutionUpdate> decisions(rows.size());
  decisions[0].status = "SUCCEEDED";
  decisions[0].history_count = 2;
  decisions[0].output = tricky;
  decisions[0].finished = true;  // no snapshot
  decisions[1].status = "RUNNING";
  decisions[1].snapshot = R"({"state":"W","s":"a\"b"})";
  decisions[1].history_count = 1;
  decisions[2] = decisions[0];
  decisions[3].status = "FAILED";
  decisions[3].snapshot = "{}";
  decisions[3].history_count = 1;
  decisions[3].error = std::string("Err\0or", 6);
  decisions[3].cause = "NULL";
  decisions[3].finished = true;
  std::vector<store::HistoryRow> history = {
      Event(0, 1, "ExecutionStarted", tricky), Event(0, 2, "ExecutionSucceeded", ""),
      Event(1, 1, "ExecutionStarted", "{}"), Event(2, 1, "ExecutionStarted", "{}"),
      Event(3, 1, "ExecutionFailed", "")};
  std::vector<store::WorkItem> work;
  for (const char* key : {"task-1", "task-2"}) {
    store::WorkItem task;
    task.execution_id = 1;  // position of "waiting"
    task.kind = store::kWorkTask;
    task.key = key;
    task.payload = R"({"p":"\"x\""})";
    task.due_at = 1'700'000'000'000'000'000;
    task.lease = std::string(key) == "task-1";
    work.push_back(task);
  }
  store::WorkItem timer;
  timer.execution_id = 1;
  timer.kind = store::kWorkTimer;
  timer.key = "timer-1";
  timer.due_at = 1'800'000'000'000'000'000;
  work.push_back(timer);
  store::WorkItem lost = timer;  // of the row not inserted: not written
  lost.execution_id = 2;
  work.push_back(lost);

  pqxx::connection connection(url());
  store::StartedExecutions started;
  {
    pqxx::nontransaction tx(connection);
    started = store::InsertStartedExecutions(tx, rows, decisions, history, work, "node-a", 10000);
  }
  ASSERT_EQ(started.ids.size(), 4u);
  ASSERT_TRUE(started.ids[0] && started.ids[1] && started.ids[3]);
  EXPECT_FALSE(started.ids[2]);  // "done" again: the first row of the name has it
  ASSERT_EQ(started.leased.size(), 1u);
  EXPECT_EQ(started.leased[0].key, "task-1");
  EXPECT_EQ(started.leased[0].execution_id, *started.ids[1]);
  EXPECT_EQ(started.leased[0].generation, 1);
  EXPECT_GT(started.leased[0].work_id, 0);

  // Committed on its own (no transaction was open): another connection sees everything.
  pqxx::connection other(url());
  pqxx::work tx(other);
  auto done = store::FindExecutionByName(tx, "m", "done");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->execution_id, *started.ids[0]);
  EXPECT_EQ(done->input, tricky);
  EXPECT_EQ(done->output.value_or(""), tricky);
  EXPECT_EQ(done->status, "SUCCEEDED");
  EXPECT_EQ(done->start_date / 1000, rows[0].start_date / 1000);
  EXPECT_EQ(done->stop_date.value_or(0) / 1000, rows[0].start_date / 1000);
  EXPECT_EQ(done->history_count, 2);
  auto failed = store::FindExecutionByName(tx, "m", "NULL");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->input, "");
  EXPECT_EQ(failed->error.value_or(""), std::string("Err\0or", 6));
  EXPECT_EQ(failed->cause.value_or(""), "NULL");
  EXPECT_FALSE(failed->output);
  auto snapshots =
      tx.exec("SELECT name, snapshot, decision_count FROM executions ORDER BY execution_id");
  ASSERT_EQ(snapshots.size(), 3u);
  EXPECT_TRUE(snapshots[0][1].is_null());  // SUCCEEDED keeps none
  EXPECT_EQ(snapshots[1][1].as<std::string>(), decisions[1].snapshot);
  EXPECT_EQ(snapshots[2][1].as<std::string>(), "{}");
  for (const auto& r : snapshots) EXPECT_EQ(r[2].as<int64_t>(), 1);

  auto events = store::ReadHistory(tx, *started.ids[0], 0, 100, false);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "ExecutionStarted");
  EXPECT_EQ(events[0].details, tricky);
  EXPECT_EQ(events[1].type, "ExecutionSucceeded");
  EXPECT_EQ(store::ReadHistory(tx, *started.ids[1], 0, 100, false).size(), 1u);
  EXPECT_EQ(store::ReadHistory(tx, *started.ids[3], 0, 100, false).size(), 1u);

  auto items = tx.exec(
      "SELECT execution_id, kind, key, payload, lease_owner, generation, attempts FROM "
      "work_items ORDER BY key");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0][2].as<std::string>(), "task-1");
  EXPECT_EQ(items[0][0].as<int64_t>(), *started.ids[1]);
  EXPECT_EQ(items[0][3].as<std::string>(), work[0].payload);
  EXPECT_EQ(items[0][4].as<std::string>(), "node-a");
  EXPECT_EQ(items[0][5].as<int64_t>(), 1);
  EXPECT_EQ(items[1][2].as<std::string>(), "task-2");
  EXPECT_TRUE(items[1][4].is_null());
  EXPECT_EQ(items[1][5].as<int64_t>(), 0);
  EXPECT_EQ(items[2][1].as<std::string>(), store::kWorkTimer);
  EXPECT_TRUE(items[2][3].is_null());
}

// A statement that fails writes nothing of the batch (it is one implicit transaction).
TEST_F(StartPathPgTest, AFailingStatementWritesNothing) {
  std::vector<store::ExecutionRow> rows = {Row("a", "{}"), Row("b", "{}")};
  std::vector<store::ExecutionUpdate> decisions(2);
  decisions[0].status = "RUNNING";
  decisions[0].snapshot = "{}";
  decisions[1].status = "NOT-A-STATUS";  // the CHECK constraint refuses it
  pqxx::connection connection(url());
  {
    pqxx::nontransaction tx(connection);
    EXPECT_THROW(store::InsertStartedExecutions(tx, rows, decisions, {}, {}, "", 0),
                 pqxx::sql_error);
  }
  pqxx::nontransaction tx(connection);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM executions")[0][0].as<int>(), 0);
}

// Autocommit: each statement commits on its own; a lost answer (a broken connection after the
// statement) redoes the body with the next attempt number; other errors propagate at once.
TEST_F(StartPathPgTest, AutocommitRedoesTheBodyAfterALostAnswer) {
  store::ConnectionPool pool(url(), 2);
  pool.Autocommit([](pqxx::nontransaction& tx, int) {
    tx.exec("CREATE TABLE marks (attempt integer NOT NULL)");
  });
  int lost = 1;
  pool.SetFaultInjectionForTesting([&](std::string_view point) {
    if (point == "after_autocommit" && lost-- > 0) throw pqxx::broken_connection("lost");
  });
  std::vector<int> attempts;
  pool.Autocommit([&](pqxx::nontransaction& tx, int attempt) {
    attempts.push_back(attempt);
    tx.exec("INSERT INTO marks VALUES (" + std::to_string(attempt) + ")");
  });
  EXPECT_EQ(attempts, (std::vector<int>{0, 1}));
  pool.SetFaultInjectionForTesting({});
  // Both attempts' statements committed: the body, not the pool, must recognise its own rows.
  pool.Autocommit([&](pqxx::nontransaction& tx, int) {
    EXPECT_EQ(tx.exec("SELECT count(*) FROM marks")[0][0].as<int>(), 2);
  });
  int calls = 0;
  EXPECT_THROW(pool.Autocommit([&](pqxx::nontransaction& tx, int) {
    ++calls;
    tx.exec("SELECT * FROM no_such_table");
  }),
               pqxx::sql_error);
  EXPECT_EQ(calls, 1);
}

// In a Transact, WriteDecisions (the last statement of a decision batch) reports the
// transaction's id to the pool: no statement of the pool's own before COMMIT, and an in-doubt
// commit that went through is not redone.
TEST_F(StartPathPgTest, WriteDecisionsGivesThePoolItsTransactionId) {
  std::vector<store::ExecutionRow> rows = {Row("a", "{}")};
  std::vector<store::ExecutionUpdate> decisions(1);
  decisions[0].status = "RUNNING";
  decisions[0].snapshot = "{}";
  decisions[0].history_count = 1;
  int64_t execution_id = 0;
  {
    pqxx::connection connection(url());
    pqxx::nontransaction tx(connection);
    execution_id = *store::InsertStartedExecutions(tx, rows, decisions, {}, {}, "", 0).ids[0];
  }
  store::ConnectionPool pool(url(), 2);
  LoseTheNextCommit(pool);
  int attempts = 0;
  pool.Transact([&](pqxx::work& tx) {
    ++attempts;
    store::ExecutionUpdate update = decisions[0];
    update.execution_id = execution_id;
    update.history_count = 2;
    update.decision_count = 1;  // as the decision locked it: the start's
    store::WriteDecisions(tx, {update}, 1'700'000'001'000'000'000, {}, {});
  });
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(pool.stats().in_doubt, 1u);
  EXPECT_EQ(pool.stats().id_queries, 0u);
  pool.Transact([&](pqxx::work& tx) {
    EXPECT_EQ(store::DecisionCount(tx, execution_id), 2);  // one decision more, not two
  });
  EXPECT_EQ(pool.stats().id_queries, 1u);  // that body reported nothing: the pool asked
}

// Statements are registered once per connection, and a new connection object that takes the
// address of a closed one (another server process) gets them again.
TEST_F(StartPathPgTest, StatementsArePreparedOnEveryNewConnectionAtTheSameAddress) {
  std::optional<pqxx::connection> connection;
  for (int i = 0; i < 3; ++i) {
    connection.emplace(url());
    pqxx::nontransaction tx(*connection);
    EXPECT_FALSE(store::FindExecutionByName(tx, "m", "x" + std::to_string(i)));
    EXPECT_EQ(store::DecisionCount(tx, 42), -1);
    tx.commit();
    connection.reset();
  }
}

// Through the engine: starts that batch together, of machines that finish at once, wait, run a
// task first, or wait for a token first (that one needs a transaction), and names given twice.
TEST_F(StartPathPgTest, ConcurrentStartsOfEveryFirstDecisionAnswerAfterTheirCommit) {
  EngineOptions options;
  options.database_url = url();
  options.poll_interval = milliseconds(200);
  options.decision_threads = 1;  // the starts queue up behind one another: larger batches
  auto engine = Engine::Create(options);
  ASSERT_EQ(engine->RegisterNative("echo",
                                   [](const std::string& payload, const invoker::NativeContext&) {
                                     return invoker::NativeOutcome{payload, ""};
                                   }),
            "");
  const std::string fn = "arn:aws:lambda:us-east-1:000000000000:function:echo";
  struct Kind {
    std::string name;
    std::string definition;
  };
  const std::vector<Kind> kinds = {
      {"pass", R"({"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":true},"End":true}}})"},
      {"wait", R"({"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"End":true}}})"},
      {"task",
       R"({"StartAt":"T","States":{"T":{"Type":"Task","Resource":")" + fn + R"(","End":true}}})"},
      {"token", R"({"StartAt":"T","States":{"T":{"Type":"Task","Resource":")"
                "arn:aws:states:::lambda:invoke.waitForTaskToken"
                R"(","Parameters":{"FunctionName":")" +
                    fn + R"(","Payload":{"t.$":"$$.Task.Token"}},"End":true}}})"},
  };
  std::vector<std::string> arns;
  for (const auto& kind : kinds) {
    auto created = engine->CreateStateMachine(kind.name, kind.definition);
    ASSERT_TRUE(created.ok()) << created.error().cause;
    arns.push_back(created->arn);
  }
  constexpr int kEach = 40;
  std::vector<std::promise<asl::Result<StartExecutionResult>>> answers(kinds.size() * kEach + 3);
  std::size_t next = 0;
  auto start = [&](const std::string& arn, const std::string& name, const std::string& input) {
    auto* answer = &answers[next++];
    ASSERT_TRUE(engine->StartExecutionAsync(
        arn, name, input,
        [answer](asl::Result<StartExecutionResult> r) { answer->set_value(std::move(r)); }));
  };
  for (int i = 0; i < kEach; ++i) {
    for (std::size_t k = 0; k < kinds.size(); ++k) {
      start(arns[k], "e" + std::to_string(i), R"({"i":)" + std::to_string(i) + "}");
    }
  }
  start(arns[1], "twice", "{}");
  start(arns[1], "twice", "{}");
  start(arns[1], "twice", R"({"other":1})");
  std::set<std::string> started;
  for (std::size_t i = 0; i < kinds.size() * kEach; ++i) {
    auto result = answers[i].get_future().get();
    ASSERT_TRUE(result.ok()) << result.error().error << ": " << result.error().cause;
    started.insert(result->execution_arn);
    // Answered after its commit: it is there.
    EXPECT_TRUE(engine->DescribeExecution(result->execution_arn).ok());
  }
  EXPECT_EQ(started.size(), kinds.size() * kEach);
  auto first = answers[kinds.size() * kEach].get_future().get();
  auto second = answers[kinds.size() * kEach + 1].get_future().get();
  auto third = answers[kinds.size() * kEach + 2].get_future().get();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->execution_arn, first->execution_arn);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().error, "ExecutionAlreadyExists");

  for (const std::string& arn : started) {
    const bool waits = arn.find(":wait:") != std::string::npos;
    const bool token = arn.find(":token:") != std::string::npos;
    if (waits || token) {
      auto info = engine->DescribeExecution(arn);
      ASSERT_TRUE(info.ok());
      EXPECT_EQ(info->status, "RUNNING") << arn;
      continue;
    }
    auto done = engine->WaitForExecution(arn, milliseconds(30000));
    ASSERT_TRUE(done.ok());
    EXPECT_EQ(done->status, "SUCCEEDED") << arn;
    if (arn.find(":pass:") != std::string::npos) {
      EXPECT_EQ(done->output.value_or(""), R"({"ok":true})");
    } else {
      EXPECT_NE(done->output.value_or("").find("\"i\""), std::string::npos) << arn;
    }
  }
  // The token tasks were invoked (their tokens exist) and wait for their callbacks.
  pqxx::connection connection(url());
  pqxx::nontransaction tx(connection);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM task_tokens")[0][0].as<int>(), kEach);
  // The Wait states' timers (besides every running execution's execution-timeout timer).
  EXPECT_EQ(tx.exec("SELECT count(*) FROM work_items WHERE kind = 'timer' AND key <> "
                    "'execution-timeout'")[0][0]
                .as<int>(),
            kEach + 1);
  engine->Shutdown();
}

}  // namespace
}  // namespace switchyard::orchestrator
