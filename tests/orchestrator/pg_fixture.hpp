#pragma once
// PostgreSQL for tests: one cluster per test process, a fresh database per test.
//
// The cluster: under ctest, the one the `pg` fixture started in $SWITCHYARD_PGTEST_DATA_DIR
// (shared by all pg test processes, stopped by the fixture's cleanup step); run by hand, a
// throwaway cluster in a temp directory, stopped and removed when the process exits. Tests that
// restart or stop the server use their own PrivateCluster instead, so they never disturb tests
// running in parallel.
//
//   class QueueTest : public switchyard::orchestrator::testing::PgTest {};
//   TEST_F(QueueTest, Claims) { pqxx::connection conn(url()); ... }
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <string_view>

#include "store/embedded_postgres.hpp"
#include "store/pool.hpp"

namespace switchyard::orchestrator::testing {

// A new empty directory under $TMPDIR (default /tmp), removed on destruction. World-searchable
// parents only, so the cluster's unprivileged user (when tests run as root) can enter it.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "switchyard-test") {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp == '/' ? tmp : "/tmp") + "/" + prefix + ".XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Settings for throwaway clusters: no fsync (a test survives a server crash, not an OS crash).
inline std::map<std::string, std::string> TestClusterSettings() {
  return {{"fsync", "off"}, {"full_page_writes", "off"}};
}

// A cluster of its own in a temp directory, stopped and removed on destruction.
class PrivateCluster {
 public:
  PrivateCluster() {
    store::EmbeddedPostgresOptions options;
    options.data_dir = dir_.path();
    options.settings = TestClusterSettings();
    options.sync_initdb = false;
    cluster_ = store::EmbeddedPostgres::Start(std::move(options));
  }
  ~PrivateCluster() { cluster_.reset(); }
  store::EmbeddedPostgres& operator*() { return *cluster_; }
  store::EmbeddedPostgres* operator->() { return cluster_.get(); }

 private:
  TempDir dir_{"switchyard-pg"};
  std::unique_ptr<store::EmbeddedPostgres> cluster_;
};

// The process's test cluster (see the top of this file).
inline store::EmbeddedPostgres& TestCluster() {
  struct Holder {
    std::unique_ptr<TempDir> dir;
    std::unique_ptr<store::EmbeddedPostgres> cluster;
    Holder() {
      store::EmbeddedPostgresOptions options;
      options.settings = TestClusterSettings();
      options.sync_initdb = false;
      if (const char* shared = std::getenv("SWITCHYARD_PGTEST_DATA_DIR");
          shared != nullptr && *shared != '\0') {
        options.data_dir = shared;
        options.stop_when_last = false;
      } else {
        dir = std::make_unique<TempDir>("switchyard-pg");
        options.data_dir = dir->path();
      }
      cluster = store::EmbeddedPostgres::Start(std::move(options));
    }
    ~Holder() {
      cluster.reset();  // stop before the directory goes
      dir.reset();
    }
  };
  static Holder holder;
  return *holder.cluster;
}

// Makes the pool's next commit end as if the connection broke during COMMIT (after the server
// committed, at "after_commit"; before it, at "before_commit"), once; `first` runs before (e.g.
// kills the backend, so that a commit before_commit never happens).
inline void LoseTheNextCommit(store::ConnectionPool& pool, std::string point = "after_commit",
                              std::function<void()> first = {}) {
  auto injected = std::make_shared<bool>(false);
  pool.SetFaultInjectionForTesting([injected, point, first](std::string_view at) {
    if (at == point && !*injected) {
      *injected = true;
      if (first) first();
      throw pqxx::in_doubt_error("injected: connection lost during commit");
    }
  });
}

// Drops `database` (disconnecting its sessions first).
inline void DropTestDatabase(store::EmbeddedPostgres& cluster, const std::string& database) {
  pqxx::connection conn(cluster.connection_url("postgres"));
  pqxx::nontransaction tx(conn);
  tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(database) + " WITH (FORCE)");
}

// A fresh database on TestCluster() for each test, dropped afterwards (kept when
// $SWITCHYARD_PGTEST_KEEP is set, for a look with psql).
class PgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "t" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
                       info->test_suite_name() + "_" + info->name();
    for (char& c : name) {
      c = std::isalnum(static_cast<unsigned char>(c)) != 0
              ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
              : '_';
    }
    database_ = name.substr(0, 63);
    TestCluster().CreateDatabase(database_);
    url_ = TestCluster().connection_url(database_);
  }
  void TearDown() override {
    if (std::getenv("SWITCHYARD_PGTEST_KEEP") == nullptr) {
      DropTestDatabase(TestCluster(), database_);
    }
  }
  const std::string& url() const { return url_; }
  const std::string& database() const { return database_; }
  store::EmbeddedPostgres& cluster() { return TestCluster(); }

 private:
  std::string database_;
  std::string url_;
};

}  // namespace switchyard::orchestrator::testing
