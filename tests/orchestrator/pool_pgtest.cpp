// The connection pool: transactions, retry of transient failures (a server restart, a deadlock),
// in-doubt commits, broken connections replaced.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <string>
#include <thread>

#include "pg_fixture.hpp"
#include "store/pool.hpp"

namespace switchyard::orchestrator::store {
namespace {

using testing::LoseTheNextCommit;
using testing::PgTest;
using testing::PrivateCluster;

class PoolTest : public PgTest {
 protected:
  void Exec(const std::string& sql) {
    pqxx::connection conn(url());
    pqxx::work tx(conn);
    tx.exec(sql);
    tx.commit();
  }
  int64_t Count(const std::string& table) {
    pqxx::connection conn(url());
    pqxx::nontransaction tx(conn);
    return tx.exec1("SELECT count(*) FROM " + table)[0].as<int64_t>();
  }
};

TEST_F(PoolTest, TransactCommitsAndReturnsTheResult) {
  Exec("CREATE TABLE items (id serial PRIMARY KEY, name text)");
  ConnectionPool pool(url(), 2);
  const int id = pool.Transact([](pqxx::work& tx) {
    return tx.exec1("INSERT INTO items (name) VALUES ('a') RETURNING id")[0].as<int>();
  });
  EXPECT_EQ(id, 1);
  pool.Transact([](pqxx::work& tx) { tx.exec("INSERT INTO items (name) VALUES ('b')"); });
  EXPECT_EQ(Count("items"), 2);
  EXPECT_EQ(pool.stats().transactions, 2u);
  EXPECT_EQ(pool.stats().connections_opened, 1u);  // one connection, reused
  EXPECT_EQ(pool.WithConnection([](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    return tx.exec1("SELECT count(*) FROM items")[0].as<int>();
  }),
            2);
}

TEST_F(PoolTest, ErrorsThatAreNotTransientPropagateWithoutRetry) {
  ConnectionPool pool(url(), 1);
  int attempts = 0;
  EXPECT_THROW(pool.Transact([&](pqxx::work& tx) {
    ++attempts;
    tx.exec("SELECT * FROM no_such_table");
  }),
               pqxx::undefined_table);
  EXPECT_EQ(attempts, 1);
  EXPECT_THROW(pool.Transact([&](pqxx::work&) -> int { throw std::logic_error("mine"); }),
               std::logic_error);
  // The connection is still good after the rollbacks.
  EXPECT_EQ(pool.Transact([](pqxx::work& tx) { return tx.exec1("SELECT 7")[0].as<int>(); }), 7);
  EXPECT_EQ(pool.stats().connections_opened, 1u);
}

TEST_F(PoolTest, BrokenConnectionIsReplaced) {
  ConnectionPool pool(url(), 1);
  EXPECT_ANY_THROW(pool.WithConnection([](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    tx.exec("SELECT pg_terminate_backend(pg_backend_pid())");
  }));
  EXPECT_EQ(pool.stats().connections_discarded, 1u);
  EXPECT_EQ(pool.WithConnection([](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    return tx.exec1("SELECT 1")[0].as<int>();
  }),
            1);
  EXPECT_EQ(pool.stats().connections_opened, 2u);
}

TEST_F(PoolTest, DeadlockIsRetried) {
  Exec(
      "CREATE TABLE accounts (id int PRIMARY KEY, balance int); "
      "INSERT INTO accounts VALUES (1, 0), (2, 0)");
  ConnectionPool pool(url(), 2);
  std::barrier both_hold_one(2);
  std::atomic<int> attempts{0};
  auto transfer = [&](int first, int second) {
    bool waited = false;
    pool.Transact([&](pqxx::work& tx) {
      ++attempts;
      tx.exec("UPDATE accounts SET balance = balance + 1 WHERE id = " + std::to_string(first));
      if (!waited) {  // only the first attempt meets the other thread half-way
        waited = true;
        both_hold_one.arrive_and_wait();
      }
      tx.exec("UPDATE accounts SET balance = balance + 1 WHERE id = " + std::to_string(second));
    });
  };
  std::thread a(transfer, 1, 2);
  std::thread b(transfer, 2, 1);
  a.join();
  b.join();
  // At least one was chosen as the deadlock victim and redone (under parallel load a second
  // retry has been seen, its cause not pinned down); every failed attempt was retried and each
  // transfer committed once.
  EXPECT_GE(pool.stats().retries, 1u);
  EXPECT_EQ(static_cast<uint64_t>(attempts.load()), 2 + pool.stats().retries);
  EXPECT_EQ(pool.stats().transactions, 2u);
  pqxx::connection conn(url());
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT sum(balance) FROM accounts")[0].as<int>(), 4);
}

// The connection breaks during COMMIT and the transaction did not commit: txid_status says
// 'aborted' and the work is redone once; the caller's check is not needed. A deferred trigger
// kills its own backend on the first commit only.
TEST_F(PoolTest, InDoubtCommitThatFailedIsRedone) {
  Exec(R"(
    CREATE TABLE orders (id int PRIMARY KEY);
    CREATE SEQUENCE commits_seen;
    CREATE FUNCTION die_once() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF nextval('commits_seen') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
      RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER die_at_commit AFTER INSERT ON orders
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION die_once();
  )");
  ConnectionPool pool(url(), 2);
  int attempts = 0;
  int checks = 0;
  const int result = pool.Transact(
      [&](pqxx::work& tx) {
        ++attempts;
        tx.exec("INSERT INTO orders VALUES (42)");
        return attempts;
      },
      [&](pqxx::connection& conn) {
        ++checks;
        pqxx::nontransaction tx(conn);
        return !tx.exec("SELECT 1 FROM orders WHERE id = 42").empty();
      });
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(checks, 0);
  EXPECT_EQ(result, 2);
  EXPECT_EQ(Count("orders"), 1);
  EXPECT_EQ(pool.stats().in_doubt, 1u);
}

// The connection breaks after the server committed: txid_status says 'committed', the work is
// not done twice and the result of the attempt that committed comes back. No caller check.
TEST_F(PoolTest, InDoubtCommitThatSucceededIsNotRedone) {
  Exec("CREATE TABLE orders (id int PRIMARY KEY)");
  ConnectionPool pool(url(), 2);
  LoseTheNextCommit(pool);
  int attempts = 0;
  const std::string result = pool.Transact([&](pqxx::work& tx) {
    ++attempts;
    tx.exec("INSERT INTO orders VALUES (7)");
    return std::string("inserted");
  });
  EXPECT_EQ(result, "inserted");
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(Count("orders"), 1);
  EXPECT_EQ(pool.stats().in_doubt, 1u);
  EXPECT_EQ(pool.stats().retries, 0u);
}

// Ends the backend `pid` from another session and waits until it is gone (its transaction
// aborted): the COMMIT that follows never happens.
void TerminateBackend(const std::string& url, int pid) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  tx.exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
  while (!tx.exec("SELECT 1 FROM pg_stat_activity WHERE pid = " + std::to_string(pid)).empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// The connection is lost before COMMIT reached the server and the client sees an in-doubt
// commit: txid_status says 'aborted' and the work is redone; the row exists once.
TEST_F(PoolTest, InDoubtCommitThatNeverHappenedIsRedone) {
  Exec("CREATE TABLE orders (id int PRIMARY KEY)");
  ConnectionPool pool(url(), 2);
  int backend = 0;
  LoseTheNextCommit(pool, "before_commit", [&] { TerminateBackend(url(), backend); });
  int attempts = 0;
  pool.Transact([&](pqxx::work& tx) {
    ++attempts;
    backend = tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
    tx.exec("INSERT INTO orders VALUES (7)");
  });
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(Count("orders"), 1);
  EXPECT_EQ(pool.stats().in_doubt, 1u);
}

// What fooled the engine's old check (the first execution's decision count): batch A of
// execution 1 is lost during its COMMIT, and before anyone asks, batch B of the same execution
// commits the count A would have written. The count says "A committed"; txid_status says
// 'aborted', so A is redone and both decisions count. (Pool level: a table with a counter
// column stands for the executions table.)
TEST_F(PoolTest, InDoubtIsDecidedByTheTransactionNotByACountAnotherBatchReached) {
  Exec(
      "CREATE TABLE executions (id int PRIMARY KEY, decision_count int NOT NULL);"
      "INSERT INTO executions VALUES (1, 0)");
  ConnectionPool pool(url(), 2);
  int backend = 0;
  int expected_count = 0;
  LoseTheNextCommit(pool, "before_commit", [&] {
    TerminateBackend(url(), backend);  // batch A is lost
    Exec("UPDATE executions SET decision_count = decision_count + 1 WHERE id = 1");  // batch B
  });
  int attempts = 0;
  int checks = 0;
  pool.Transact(
      [&](pqxx::work& tx) {
        ++attempts;
        backend = tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
        expected_count = tx.exec1(
                               "UPDATE executions SET decision_count = decision_count + 1 "
                               "WHERE id = 1 RETURNING decision_count")[0]
                             .as<int>();
      },
      // The old check, kept as the fallback: it would answer "committed" here.
      [&](pqxx::connection& conn) {
        ++checks;
        pqxx::nontransaction tx(conn);
        return tx.exec1("SELECT decision_count FROM executions WHERE id = 1")[0].as<int>() ==
               expected_count;
      });
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(checks, 0);
  pqxx::connection conn(url());
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT decision_count FROM executions WHERE id = 1")[0].as<int>(), 2);
}

// A body that reports its transaction's id (NoteTransactionId) saves the pool its own statement:
// the reported id is the one asked after an in-doubt commit. Shown with a wrong report: the id
// of a transaction that rolled back makes the pool redo a body whose COMMIT went through.
TEST_F(PoolTest, TheIdTheBodyReportsIsTheOneAsked) {
  Exec("CREATE TABLE orders (id int)");
  int64_t aborted_txid = 0;
  {
    pqxx::connection conn(url());
    pqxx::work tx(conn);
    aborted_txid = tx.exec1("SELECT txid_current()")[0].as<int64_t>();
    tx.abort();
  }
  ConnectionPool pool(url(), 2);
  LoseTheNextCommit(pool);
  int attempts = 0;
  pool.Transact([&](pqxx::work& tx) {
    ++attempts;
    tx.exec("INSERT INTO orders VALUES (7)");
    ConnectionPool::NoteTransactionId(tx, aborted_txid);
  });
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(Count("orders"), 2);
}

// A transaction that wrote nothing has no id: whether its COMMIT got through changes nothing,
// so its result stands, without a check and without a redo.
TEST_F(PoolTest, InDoubtReadOnlyTransactionCountsAsCommitted) {
  ConnectionPool pool(url(), 1);
  pool.SetFaultInjectionForTesting([](std::string_view point) {
    if (point == "after_commit") throw pqxx::in_doubt_error("injected");
  });
  int attempts = 0;
  EXPECT_EQ(pool.Transact([&](pqxx::work& tx) {
    ++attempts;
    return tx.exec1("SELECT 41 + 1")[0].as<int>();
  }),
            42);
  EXPECT_EQ(attempts, 1);
}

// The server restarts (crash and recovery) in the middle of a transaction and while connections
// sit idle in the pool: the transaction is redone on a new connection and commits once.
TEST(PoolRestartTest, TransactSurvivesServerRestart) {
  PrivateCluster cluster;
  const std::string url = cluster->connection_url();
  ConnectionPool pool(url, 3);
  pool.Transact([](pqxx::work& tx) { tx.exec("CREATE TABLE events (id int PRIMARY KEY)"); });

  int attempts = 0;
  pool.Transact([&](pqxx::work& tx) {
    ++attempts;
    tx.exec("INSERT INTO events VALUES (1)");
    if (attempts == 1) cluster->Restart(/*immediate=*/true);
    tx.exec("INSERT INTO events VALUES (2)");
  });
  EXPECT_EQ(attempts, 2);
  EXPECT_GE(pool.stats().retries, 1u);

  // Idle pooled connections are dead after a second restart; the next transactions still commit.
  cluster->Restart(/*immediate=*/true);
  for (int id = 3; id <= 5; ++id) {
    pool.Transact(
        [&](pqxx::work& tx) { tx.exec("INSERT INTO events VALUES (" + std::to_string(id) + ")"); });
  }
  EXPECT_EQ(pool.Transact([](pqxx::work& tx) {
    return tx.exec1("SELECT string_agg(id::text, ',' ORDER BY id) FROM events")[0]
        .as<std::string>();
  }),
            "1,2,3,4,5");
}

// PostgreSQL's semantics after a crash: a transaction in progress when the server stopped
// (pg_ctl restart -m immediate) reads 'aborted' once it is back, so the pool redoes it.
// CHECKPOINT first makes the transaction's WAL durable, so its id is not handed out again.
TEST(PoolRestartTest, TransactionInProgressAtACrashReadsAbortedAndIsRedone) {
  PrivateCluster cluster;
  const std::string url = cluster->connection_url();
  ConnectionPool pool(url, 2);
  pool.Transact([](pqxx::work& tx) { tx.exec("CREATE TABLE events (id int PRIMARY KEY)"); });
  int64_t first_txid = 0;
  LoseTheNextCommit(pool, "before_commit", [&] {
    {
      pqxx::connection conn(url);
      pqxx::nontransaction tx(conn);
      tx.exec("CHECKPOINT");
    }
    cluster->Restart(/*immediate=*/true);
  });
  int attempts = 0;
  pool.Transact([&](pqxx::work& tx) {
    ++attempts;
    tx.exec("INSERT INTO events VALUES (1)");
    if (attempts == 1) first_txid = tx.exec1("SELECT txid_current()")[0].as<int64_t>();
  });
  EXPECT_EQ(attempts, 2);
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT txid_status(" + std::to_string(first_txid) + ")")[0].as<std::string>(),
            "aborted");
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM events")[0].as<int>(), 1);
}

// Inserts `id` into events in a Transact whose in-doubt check (counted in `checks`) looks for
// the row; the body's runs are counted in `attempts`.
void InsertCheckingForTheRow(ConnectionPool& pool, int id, int& attempts, int& checks) {
  const std::string value = std::to_string(id);
  pool.Transact(
      [&](pqxx::work& tx) {
        ++attempts;
        tx.exec("INSERT INTO events VALUES (" + value + ")");
      },
      [&](pqxx::connection& conn) {
        ++checks;
        pqxx::nontransaction tx(conn);
        return !tx.exec("SELECT 1 FROM events WHERE id = " + value).empty();
      });
}

// The server restarted after the COMMIT: 'committed' could belong to another transaction that
// got the same id after recovery, so the pool does not trust it: the caller's check decides,
// and without one the in_doubt_error propagates.
TEST(PoolRestartTest, CommittedAcrossARestartIsLeftToTheCallersCheck) {
  PrivateCluster cluster;
  const std::string url = cluster->connection_url();
  ConnectionPool pool(url, 2);
  pool.Transact([](pqxx::work& tx) { tx.exec("CREATE TABLE events (id int PRIMARY KEY)"); });
  LoseTheNextCommit(pool, "after_commit", [&] { cluster->Restart(/*immediate=*/true); });
  int attempts = 0;
  int checks = 0;
  InsertCheckingForTheRow(pool, 1, attempts, checks);
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(checks, 1);

  LoseTheNextCommit(pool, "after_commit", [&] { cluster->Restart(/*immediate=*/true); });
  EXPECT_THROW(pool.Transact([&](pqxx::work& tx) { tx.exec("INSERT INTO events VALUES (2)"); }),
               pqxx::in_doubt_error);
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(
      tx.exec1("SELECT string_agg(id::text, ',' ORDER BY id) FROM events")[0].as<std::string>(),
      "1,2");
}

// The same when one backend crashed after the COMMIT: the postmaster does not restart, but it
// reinitialises shared memory and replays the WAL (ids may be handed out again as after a
// restart); the pool sees it by the reset time of the shared statistics.
TEST(PoolRestartTest, CommittedAcrossACrashOfOneBackendIsLeftToTheCallersCheck) {
  PrivateCluster cluster;
  const std::string url = cluster->connection_url();
  ConnectionPool pool(url, 2);
  pool.Transact([](pqxx::work& tx) { tx.exec("CREATE TABLE events (id int PRIMARY KEY)"); });
  LoseTheNextCommit(pool, "after_commit", [&] {
    const std::string reset_time = "SELECT pg_stat_get_bgwriter_stat_reset_time()::text";
    std::string before;
    {
      pqxx::connection victim(url);
      pqxx::nontransaction tx(victim);
      before = tx.exec1(reset_time)[0].as<std::string>();
      ::kill(tx.exec1("SELECT pg_backend_pid()")[0].as<int>(), SIGKILL);
    }
    // Wait until the server is back from its crash recovery.
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      try {
        pqxx::connection conn(url);
        pqxx::nontransaction tx(conn);
        if (tx.exec1(reset_time)[0].as<std::string>() != before) break;
      } catch (const pqxx::failure&) {
      }
    }
  });
  int attempts = 0;
  int checks = 0;
  InsertCheckingForTheRow(pool, 1, attempts, checks);
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(checks, 1);
}

TEST(PoolRestartTest, IsTransientClassifiesFailures) {
  EXPECT_TRUE(IsTransient(pqxx::broken_connection("gone")));
  EXPECT_TRUE(IsTransient(pqxx::serialization_failure("40001")));
  EXPECT_TRUE(IsTransient(pqxx::deadlock_detected("40P01")));
  EXPECT_TRUE(IsTransient(pqxx::sql_error("shutting down", "SELECT 1", "57P01")));
  EXPECT_TRUE(IsTransient(pqxx::sql_error("starting up", "", "57P03")));
  EXPECT_TRUE(IsTransient(pqxx::sql_error("too many", "", "53300")));
  EXPECT_FALSE(IsTransient(pqxx::in_doubt_error("?")));
  EXPECT_FALSE(IsTransient(pqxx::sql_error("syntax", "SELEC", "42601")));
  EXPECT_FALSE(IsTransient(std::runtime_error("other")));
}

}  // namespace
}  // namespace switchyard::orchestrator::store

namespace switchyard::orchestrator::store {
namespace {

// A transaction left idle past the limit (its node paused) gives its row locks up: another
// session takes the row while the paused one still "holds" it, and the paused one's work is
// redone on a new connection.
TEST_F(PoolTest, AnIdleTransactionLetsItsLocksGo) {
  {
    pqxx::connection conn(url());
    pqxx::work tx(conn);
    tx.exec("CREATE TABLE IF NOT EXISTS idle_locks (id int PRIMARY KEY)");
    tx.exec("INSERT INTO idle_locks VALUES (1) ON CONFLICT DO NOTHING");
    tx.commit();
  }
  ConnectionPool pool(url(), 1, [](pqxx::connection& connection) {
    LimitIdleTransactions(connection, std::chrono::milliseconds(300));
  });
  std::atomic<int> attempts{0};
  std::atomic<bool> locked{false};
  std::thread paused([&] {
    pool.Transact([&](pqxx::work& tx) {
      tx.exec("SELECT id FROM idle_locks WHERE id = 1 FOR UPDATE");
      if (attempts.fetch_add(1) == 0) {
        locked = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // "paused"
      }
      tx.exec("SELECT 1");
    });
  });
  while (!locked) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Another node: the row is free well before the paused transaction would have woken.
  pqxx::connection other(url());
  const auto start = std::chrono::steady_clock::now();
  bool taken = false;
  while (!taken && std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1200)) {
    pqxx::work tx(other);
    try {
      tx.exec("SELECT id FROM idle_locks WHERE id = 1 FOR UPDATE NOWAIT");
      taken = true;
      tx.commit();
    } catch (const pqxx::sql_error&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  paused.join();
  EXPECT_TRUE(taken);
  EXPECT_EQ(attempts.load(), 2);  // the idle attempt was rolled back and redone
  EXPECT_GE(pool.stats().retries, 1u);
}

}  // namespace
}  // namespace switchyard::orchestrator::store
