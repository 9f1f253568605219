// The embedded PostgreSQL launcher on real clusters in temp directories.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <pqxx/pqxx>

#include "pg_fixture.hpp"
#include "store/embedded_postgres.hpp"
#include "store/process.hpp"

namespace switchyard::orchestrator::store {
namespace {

using testing::TempDir;
using testing::TestClusterSettings;

EmbeddedPostgresOptions Options(const std::filesystem::path& dir) {
  EmbeddedPostgresOptions options;
  options.data_dir = dir;
  options.settings = TestClusterSettings();
  return options;
}

std::string QueryOne(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  return tx.exec1(sql)[0].as<std::string>();
}

bool ServerRunning(const std::filesystem::path& dir) {
  return std::filesystem::exists(dir / ".s.PGSQL.5432");
}

template <class Fn>
std::string ErrorOf(Fn&& fn) {
  try {
    fn();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

// One cluster's life: two launchers starting at once on a new directory (one creates it, the
// other reuses it), a socket-only server, the last user stopping it, a restart keeping the data.
TEST(EmbeddedPostgresTest, LifecycleStartReuseStopRestart) {
  TempDir dir("switchyard-pg");
  auto first_future =
      std::async(std::launch::async, [&] { return EmbeddedPostgres::Start(Options(dir.path())); });
  auto second_future =
      std::async(std::launch::async, [&] { return EmbeddedPostgres::Start(Options(dir.path())); });
  auto first = first_future.get();
  auto second = second_future.get();
  EXPECT_NE(first->started_cluster(), second->started_cluster());
  EXPECT_EQ(first->connection_url(), second->connection_url());
  EXPECT_EQ(first->connection_url(),
            "postgresql:///switchyard?host=" + dir.path().string() + "&port=5432&user=switchyard");

  const std::string url = first->connection_url();
  EXPECT_EQ(QueryOne(url, "SELECT current_database()"), "switchyard");
  EXPECT_EQ(QueryOne(url, "SHOW listen_addresses"), "");
  EXPECT_EQ(QueryOne(url, "SHOW unix_socket_directories"), dir.path().string());
  EXPECT_EQ(QueryOne(url, "SHOW fsync"), "off");
  {
    pqxx::connection conn(url);
    pqxx::work tx(conn);
    tx.exec("CREATE TABLE kept (value text)");
    tx.exec("INSERT INTO kept VALUES ('still here')");
    tx.commit();
  }
  if (geteuid() == 0) {
    // PostgreSQL refuses root: the cluster belongs to an unprivileged user.
    struct stat pgdata {};
    ASSERT_EQ(stat((dir.path() / "pgdata").c_str(), &pgdata), 0);
    EXPECT_NE(pgdata.st_uid, 0u);
  }

  // A launcher that must not reuse says who owns the cluster.
  auto options = Options(dir.path());
  options.reuse_running = false;
  EXPECT_NE(ErrorOf([&] {
              EmbeddedPostgres::Start(options);
            }).find("the cluster is already running (pid "),
            std::string::npos);

  // The first to stop leaves the cluster to the other; the last one stops it.
  first->Stop();
  EXPECT_TRUE(ServerRunning(dir.path()));
  EXPECT_EQ(QueryOne(second->connection_url(), "SELECT 1"), "1");
  second->Stop();
  second->Stop();  // idempotent
  EXPECT_FALSE(ServerRunning(dir.path()));
  EXPECT_THROW(QueryOne(url, "SELECT 1"), pqxx::broken_connection);

  // Starting again reuses the existing cluster and its data, no initdb.
  auto third = EmbeddedPostgres::Start(Options(dir.path()));
  EXPECT_TRUE(third->started_cluster());
  EXPECT_EQ(QueryOne(third->connection_url(), "SELECT value FROM kept"), "still here");

  // Restart(immediate): a crash and recovery; open connections break, new ones work, data kept.
  pqxx::connection open_conn(third->connection_url());
  third->Restart(/*immediate=*/true);
  EXPECT_THROW(
      {
        pqxx::nontransaction tx(open_conn);
        tx.exec("SELECT 1");
      },
      pqxx::broken_connection);
  EXPECT_EQ(QueryOne(third->connection_url(), "SELECT value FROM kept"), "still here");

  // Another database on the same cluster.
  third->CreateDatabase("other db");
  third->CreateDatabase("other db");  // idempotent
  EXPECT_EQ(QueryOne(third->connection_url("other db"), "SELECT current_database()"), "other db");

  third.reset();  // the destructor stops the cluster
  EXPECT_FALSE(ServerRunning(dir.path()));
}

// A server on the cluster that a launcher did not start (its socket elsewhere) is not taken over.
TEST(EmbeddedPostgresTest, RefusesServerStartedByAnotherProcess) {
  TempDir dir("switchyard-pg");
  TempDir other_socket_dir("switchyard-sock");
  std::string pg_ctl;
  {
    auto launcher = EmbeddedPostgres::Start(Options(dir.path()));
    pg_ctl = (launcher->bin_dir() / "pg_ctl").string();
  }
  ASSERT_FALSE(ServerRunning(dir.path()));

  std::optional<UserIds> owner;
  if (geteuid() == 0) {
    struct stat pgdata {};
    ASSERT_EQ(stat((dir.path() / "pgdata").c_str(), &pgdata), 0);
    owner = UserIds{pgdata.st_uid, pgdata.st_gid, "cluster owner"};
    ASSERT_EQ(chown(other_socket_dir.path().c_str(), pgdata.st_uid, pgdata.st_gid), 0);
  }
  const std::string pgdata = (dir.path() / "pgdata").string();
  const std::string log = (dir.path() / "foreign.log").string();
  ProcessResult start = RunProcess({pg_ctl, "start", "-D", pgdata, "-w", "-s", "-l", log, "-o",
                                    "-k " + other_socket_dir.path().string()},
                                   owner);
  ASSERT_EQ(start.exit_code, 0) << start.output;
  const std::string error = ErrorOf([&] { EmbeddedPostgres::Start(Options(dir.path())); });
  RunProcess({pg_ctl, "stop", "-D", pgdata, "-m", "immediate", "-w", "-s"}, owner);
  EXPECT_NE(error.find("was not started by switchyard (its socket is in '" +
                       other_socket_dir.path().string() + "')"),
            std::string::npos)
      << error;
}

TEST(EmbeddedPostgresTest, MissingServerBinariesAreNamed) {
  TempDir dir("switchyard-pg");
  auto options = Options(dir.path());
  options.bin_dir = "/nonexistent/bin";
  EXPECT_EQ(
      ErrorOf([&] { EmbeddedPostgres::Start(options); }),
      "embedded PostgreSQL in '" + dir.path().string() +
          "': no PostgreSQL server binaries (initdb, pg_ctl, postgres) in '/nonexistent/bin'");
}

TEST(EmbeddedPostgresTest, SocketPathTooLong) {
  TempDir dir("switchyard-pg");
  const auto deep = dir.path() / std::string(100, 'd');
  const std::string error = ErrorOf([&] { EmbeddedPostgres::Start(Options(deep)); });
  EXPECT_NE(error.find("the path is too long for a unix socket"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(deep));
}

TEST(EmbeddedPostgresTest, PgdataThatIsNotAClusterIsRefused) {
  TempDir dir("switchyard-pg");
  if (geteuid() == 0) {
    // Give the directory to the cluster's user first, as a launcher would.
    auto user = LookUpUser("postgres");
    ASSERT_TRUE(user);
    ASSERT_EQ(chown(dir.path().c_str(), user->uid, user->gid), 0);
  }
  std::filesystem::create_directory(dir.path() / "pgdata");
  std::ofstream(dir.path() / "pgdata" / "something") << "not a cluster";
  const std::string error = ErrorOf([&] { EmbeddedPostgres::Start(Options(dir.path())); });
  EXPECT_NE(error.find("pgdata exists but is not a PostgreSQL cluster"), std::string::npos)
      << error;
}

TEST(EmbeddedPostgresTest, RootNeedsADirectoryTheClusterUserCanEnter) {
  if (geteuid() != 0) GTEST_SKIP() << "only as root";
  TempDir dir("switchyard-pg");
  ASSERT_EQ(chmod(dir.path().c_str(), 0700), 0);  // root's private directory
  const std::string error = ErrorOf([&] { EmbeddedPostgres::Start(Options(dir.path() / "data")); });
  EXPECT_NE(error.find("cannot enter this directory (a parent directory denies it)"),
            std::string::npos)
      << error;
}

TEST(EmbeddedPostgresTest, UriEncodeKeepsPathsReadable) {
  EXPECT_EQ(UriEncode("/tmp/a b&c=d"), "/tmp/a%20b%26c%3Dd");
  EXPECT_EQ(UriEncode("switchyard_1-x.y~"), "switchyard_1-x.y~");
}

TEST(EmbeddedPostgresTest, DefaultDataDirFollowsXdg) {
  const char* saved = std::getenv("XDG_DATA_HOME");
  setenv("XDG_DATA_HOME", "/srv/data", 1);
  EXPECT_EQ(DefaultDataDir(), "/srv/data/switchyard");
  unsetenv("XDG_DATA_HOME");
  if (geteuid() == 0) {
    EXPECT_EQ(DefaultDataDir(), "/var/lib/switchyard");
  } else if (const char* home = std::getenv("HOME")) {
    EXPECT_EQ(DefaultDataDir(), std::filesystem::path(home) / ".local/share/switchyard");
  }
  if (saved != nullptr) setenv("XDG_DATA_HOME", saved, 1);
}

}  // namespace
}  // namespace switchyard::orchestrator::store
