// The migration runner: order, once, many migrators at once, failures, edits.
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <regex>
#include <thread>

#include "pg_fixture.hpp"
#include "store/migrate.hpp"

namespace switchyard::orchestrator::store {
namespace {

using testing::PgTest;

class MigrateTest : public PgTest {
 protected:
  std::string Query(const std::string& sql) {
    pqxx::connection conn(url());
    pqxx::nontransaction tx(conn);
    const pqxx::result rows = tx.exec(sql);
    std::string text;
    for (const auto& row : rows) {
      if (!text.empty()) text += ";";
      for (pqxx::row::size_type i = 0; i < row.size(); ++i) {
        if (i != 0) text += ",";
        text += row[i].is_null() ? "NULL" : row[i].as<std::string>();
      }
    }
    return text;
  }
  std::string Applied() {
    return Query("SELECT version, name FROM schema_migrations ORDER BY version");
  }
};

// Three migrations, each depending on the one before, given out of order.
std::vector<Migration> Chain() {
  return {
      {3, "0003_index", "CREATE INDEX widgets_name ON widgets (name);"},
      {1, "0001_widgets", "CREATE TABLE widgets (id int PRIMARY KEY);"},
      {2, "0002_name",
       "ALTER TABLE widgets ADD COLUMN name text; INSERT INTO widgets VALUES (1, 'first');"},
  };
}

TEST_F(MigrateTest, AppliesInOrderEachOnce) {
  EXPECT_EQ(Migrate(url(), Chain()), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(Applied(), "1,0001_widgets;2,0002_name;3,0003_index");
  EXPECT_EQ(Migrate(url(), Chain()), std::vector<int>{});
  EXPECT_EQ(Query("SELECT id, name FROM widgets"), "1,first");  // 0002 ran once

  auto more = Chain();
  more.push_back({4, "0004_color", "ALTER TABLE widgets ADD COLUMN color text;"});
  EXPECT_EQ(Migrate(url(), more), std::vector<int>{4});
}

TEST_F(MigrateTest, ManyMigratorsAtOnceApplyEachMigrationOnce) {
  constexpr int kMigrators = 8;
  std::mutex mu;
  std::vector<int> all_applied;
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  for (int i = 0; i < kMigrators; ++i) {
    threads.emplace_back([&] {
      try {
        const auto applied = Migrate(url(), Chain());
        std::lock_guard lock(mu);
        all_applied.insert(all_applied.end(), applied.begin(), applied.end());
      } catch (const std::exception& e) {
        std::lock_guard lock(mu);
        errors.push_back(e.what());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(errors, std::vector<std::string>{});
  std::sort(all_applied.begin(), all_applied.end());
  EXPECT_EQ(all_applied, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(Applied(), "1,0001_widgets;2,0002_name;3,0003_index");
  EXPECT_EQ(Query("SELECT count(*) FROM widgets"), "1");
}

TEST_F(MigrateTest, FailingMigrationIsNamedAndStopsTheRest) {
  std::vector<Migration> migrations = {
      {1, "0001_widgets", "CREATE TABLE widgets (id int PRIMARY KEY);"},
      {2, "0002_broken", "CREATE TABLE parts (id int PRIMARY KEY); SELEC 1;"},
      {3, "0003_later", "CREATE TABLE later (id int);"},
  };
  try {
    Migrate(url(), migrations);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("migration '0002_broken' failed: ERROR:  syntax error"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(Applied(), "1,0001_widgets");
  // The failed migration left nothing behind (its own transaction), the later one did not run.
  EXPECT_EQ(Query("SELECT count(*) FROM pg_tables WHERE tablename IN ('parts', 'later')"), "0");

  migrations[1].sql = "CREATE TABLE parts (id int PRIMARY KEY);";
  EXPECT_EQ(Migrate(url(), migrations), (std::vector<int>{2, 3}));
}

TEST_F(MigrateTest, EditedMigrationIsRefused) {
  auto migrations = Chain();
  Migrate(url(), migrations);
  migrations[1].sql = "CREATE TABLE widgets (id bigint PRIMARY KEY);";
  try {
    Migrate(url(), migrations);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "migration '0001_widgets' was edited after it was applied as '0001_widgets' "
              "(checksum differs); a migration that has landed is never edited: add a new one");
  }
}

TEST_F(MigrateTest, BadVersionsAreRefusedBeforeTouchingTheDatabase) {
  try {
    Migrate(url(), {{1, "0001_a", "SELECT 1"}, {1, "0001_b", "SELECT 2"}});
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "migration '0001_b': version 1 appears twice");
  }
  EXPECT_THROW(Migrate(url(), {{0, "0000_zero", "SELECT 1"}}), std::runtime_error);
  EXPECT_EQ(Query("SELECT count(*) FROM pg_tables WHERE tablename = 'schema_migrations'"), "0");
}

TEST_F(MigrateTest, VersionsOfANewerBinaryAreLeftAlone) {
  Migrate(url(), Chain());
  // An older binary knows only the first migration.
  EXPECT_EQ(Migrate(url(), {Chain()[1]}), std::vector<int>{});
  EXPECT_EQ(Applied(), "1,0001_widgets;2,0002_name;3,0003_index");
}

TEST_F(MigrateTest, BuiltinMigrationsApplyToAFreshDatabase) {
  const auto& builtin = BuiltinMigrations();
  const std::regex name_pattern("[0-9]{4}_[a-z0-9_]+");
  for (std::size_t i = 0; i < builtin.size(); ++i) {
    EXPECT_TRUE(std::regex_match(builtin[i].name, name_pattern)) << builtin[i].name;
    EXPECT_EQ(std::stoi(builtin[i].name.substr(0, 4)), builtin[i].version);
    if (i > 0) {
      EXPECT_LT(builtin[i - 1].version, builtin[i].version);
    }
  }
  EXPECT_EQ(Migrate(url()).size(), builtin.size());
  EXPECT_EQ(Migrate(url()), std::vector<int>{});
}

// The server crashes and recovers while a migration runs (nodes starting during a failover): the
// run is retried and every migration ends up applied once.
TEST(MigrateRestartTest, SurvivesServerRestartMidMigration) {
  testing::PrivateCluster cluster;
  const std::string url = cluster->connection_url();
  const std::vector<Migration> migrations = {
      {1, "0001_slow", "CREATE TABLE slow (id int); SELECT pg_sleep(2);"},
      {2, "0002_after", "CREATE TABLE after_slow (id int);"},
  };
  auto migrating = std::async(std::launch::async, [&] { return Migrate(url, migrations); });
  // Wait until the migration sleeps, then crash the server under it.
  for (int i = 0; i < 600; ++i) {
    pqxx::connection conn(url);
    pqxx::nontransaction tx(conn);
    if (!tx.exec("SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(2)%' AND pid <> "
                 "pg_backend_pid()")
             .empty()) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  cluster->Restart(/*immediate=*/true);
  EXPECT_EQ(migrating.get(), (std::vector<int>{1, 2}));
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT string_agg(name, ',' ORDER BY version) FROM schema_migrations")[0]
                .as<std::string>(),
            "0001_slow,0002_after");
}

}  // namespace
}  // namespace switchyard::orchestrator::store
