#pragma once
// The embedded PostgreSQL launcher: a private cluster in a data directory of Switchyard's own,
// made from the installed server binaries (Debian's `postgresql` package), reachable only through
// a unix socket in that directory. `switchyard serve` uses it when no --database-url is given; the
// tests start throwaway clusters with it.
//
// Layout of data_dir: pgdata/ (the cluster; its settings in pgdata/switchyard.conf, rewritten at
// each start), the socket .s.PGSQL.5432, postgres.log, and two lock files: launch.lock (held while
// a launcher starts or stops the cluster) and users.lock (held shared by every launcher using the
// cluster, so the last one to leave stops it).
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "store/process.hpp"

namespace switchyard::orchestrator::store {

struct EmbeddedPostgresOptions {
  std::filesystem::path data_dir;  // cluster lives in data_dir/pgdata, socket in data_dir
  std::string database = "switchyard";
  // When a cluster is already running on data_dir (started by another launcher), use it. When
  // false, Start throws instead.
  bool reuse_running = true;
  // Stop the cluster when the last launcher using it stops (Stop or the destructor). When false,
  // leave it running (the tests' shared cluster, stopped by a cleanup step).
  bool stop_when_last = true;
  // Extra server settings (name -> value), written to pgdata/switchyard.conf, e.g. {"fsync",
  // "off"} for throwaway test clusters.
  std::map<std::string, std::string> settings;
  // Directory of initdb, pg_ctl and postgres; empty: `pg_config --bindir`, then the newest
  // /usr/lib/postgresql/*/bin (the one matching an existing cluster's version first).
  std::filesystem::path bin_dir;
};

// Thread-safe after Start.
class EmbeddedPostgres {
 public:
  // Creates the cluster when data_dir has none (initdb; as an unprivileged user when running as
  // root: $SWITCHYARD_PG_USER, else the owner of an existing cluster, else `postgres`, else
  // `nobody`), starts it on a unix socket in data_dir only (listen_addresses=''), creates the
  // database; or reuses a cluster another launcher already runs on that data dir.
  // Throws std::runtime_error naming the data directory when: the server binaries are missing; the
  // data dir is not usable (not a cluster, other owner, unreachable for the cluster's user, path
  // too long for a unix socket); the running cluster was not started by a launcher (its socket is
  // elsewhere) or reuse_running is false; initdb or pg_ctl fail (their output is in the message).
  static std::unique_ptr<EmbeddedPostgres> Start(EmbeddedPostgresOptions options);
  // Stop().
  ~EmbeddedPostgres();
  EmbeddedPostgres(const EmbeddedPostgres&) = delete;
  EmbeddedPostgres& operator=(const EmbeddedPostgres&) = delete;

  // A libpq URI: postgresql:///DATABASE?host=DATA_DIR&port=5432&user=switchyard
  std::string connection_url() const;
  // The same for another database of the cluster (tests make one per test).
  std::string connection_url(const std::string& database) const;
  const std::filesystem::path& data_dir() const { return options_.data_dir; }
  // Where initdb, pg_ctl and postgres were found.
  const std::filesystem::path& bin_dir() const { return bin_dir_; }
  // True when this launcher started the cluster, false when it reused a running one.
  bool started_cluster() const { return started_cluster_; }
  // Stops using the cluster: when no other launcher uses it (and stop_when_last), `pg_ctl stop -m
  // fast`. Idempotent. Throws std::runtime_error when pg_ctl stop fails.
  void Stop();
  // `pg_ctl restart` (-m immediate: a crash and recovery, as the chaos test wants; else -m fast).
  // Open connections break. Throws std::runtime_error when the restart fails.
  void Restart(bool immediate);
  // Creates `database` when missing (owner: the cluster's superuser). Idempotent, safe when
  // several processes do it at once.
  void CreateDatabase(const std::string& database) const;

 private:
  explicit EmbeddedPostgres(EmbeddedPostgresOptions options);
  void StartLocked();
  ProcessResult Run(const std::vector<std::string>& argv) const;

  EmbeddedPostgresOptions options_;
  std::filesystem::path pgdata_;
  std::filesystem::path bin_dir_;
  std::optional<UserIds> run_as_;  // set when running as root
  int port_ = 5432;
  bool started_cluster_ = false;
  std::mutex mu_;
  int users_fd_ = -1;  // Guarded by mu_: our shared lock on users.lock; -1 after Stop.
};

// The default data directory of `switchyard serve`: $XDG_DATA_HOME/switchyard, else
// ~/.local/share/switchyard; for root without XDG_DATA_HOME, /var/lib/switchyard (the cluster's
// unprivileged user cannot enter /root).
std::filesystem::path DefaultDataDir();

// Percent-encodes a value for a libpq URI query parameter.
std::string UriEncode(const std::string& value);

}  // namespace switchyard::orchestrator::store
