#include "store/migrate.hpp"

#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <stdexcept>
#include <thread>

#include "store/pool.hpp"

namespace switchyard::orchestrator::store {
namespace {

// pg_advisory_lock key of the migration runner: "swyd-mig" as a big-endian int64.
constexpr int64_t kMigrationLockKey = 0x73777964'2d6d6967;

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (const unsigned char byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 15];
  }
  return hex;
}

// Releases the session advisory lock even when a migration throws (a broken connection releases
// it by itself).
class AdvisoryLock {
 public:
  explicit AdvisoryLock(pqxx::connection& conn) : conn_(conn) {
    pqxx::nontransaction tx(conn_);
    tx.exec_params("SELECT pg_advisory_lock($1)", kMigrationLockKey);
  }
  ~AdvisoryLock() {
    try {
      if (!conn_.is_open()) return;
      pqxx::nontransaction tx(conn_);
      tx.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
    } catch (const std::exception&) {
      // The session ends right after; that releases the lock too.
    }
  }
  AdvisoryLock(const AdvisoryLock&) = delete;
  AdvisoryLock& operator=(const AdvisoryLock&) = delete;

 private:
  pqxx::connection& conn_;
};

// One run under the advisory lock; appends what it applied to `done` and returns it.
std::vector<int> MigrateOnce(const std::string& url, const std::vector<const Migration*>& ordered,
                             std::vector<int>& done);

}  // namespace

std::vector<int> Migrate(const std::string& url) { return Migrate(url, BuiltinMigrations()); }

std::vector<int> Migrate(const std::string& url, const std::vector<Migration>& migrations) {
  std::vector<const Migration*> ordered;
  std::set<int> versions;
  for (const auto& migration : migrations) {
    if (migration.version <= 0) {
      throw std::runtime_error("migration '" + migration.name + "': version must be positive");
    }
    if (!versions.insert(migration.version).second) {
      throw std::runtime_error("migration '" + migration.name + "': version " +
                               std::to_string(migration.version) + " appears twice");
    }
    ordered.push_back(&migration);
  }
  std::sort(ordered.begin(), ordered.end(),
            [](const Migration* a, const Migration* b) { return a->version < b->version; });

  // A server restarting (or failing over) while nodes start: retry the whole run. Each attempt
  // re-reads schema_migrations first, which also settles a commit that was in doubt.
  const auto started = std::chrono::steady_clock::now();
  std::vector<int> done;
  for (int attempt = 0;; ++attempt) {
    try {
      return MigrateOnce(url, ordered, done);
    } catch (const std::exception& e) {
      const bool in_doubt = dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr;
      if ((!in_doubt && !IsTransient(e)) ||
          std::chrono::steady_clock::now() - started > std::chrono::seconds(60)) {
        throw;
      }
      spdlog::warn("migrate: transient failure, retrying attempt={} error=\"{}\"", attempt + 1,
                   e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100 * (attempt + 1), 1000)));
    }
  }
}

namespace {

std::vector<int> MigrateOnce(const std::string& url, const std::vector<const Migration*>& ordered,
                             std::vector<int>& done) {
  pqxx::connection conn(url);
  AdvisoryLock lock(conn);
  {
    pqxx::work tx(conn);
    tx.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    tx.commit();
  }
  std::map<int, std::pair<std::string, std::string>> applied;  // version -> name, checksum
  {
    pqxx::work tx(conn);
    for (const auto& row : tx.exec("SELECT version, name, checksum FROM schema_migrations")) {
      applied[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
    }
    tx.commit();
  }

  for (const Migration* migration : ordered) {
    const std::string checksum = Sha256Hex(migration->sql);
    if (auto it = applied.find(migration->version); it != applied.end()) {
      if (it->second.second != checksum) {
        throw std::runtime_error("migration '" + migration->name +
                                 "' was edited after it was applied as '" + it->second.first +
                                 "' (checksum differs); a migration that has landed is never "
                                 "edited: add a new one");
      }
      continue;
    }
    try {
      pqxx::work tx(conn);
      tx.exec(migration->sql);
      tx.exec_params("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                     migration->version, migration->name, checksum);
      tx.commit();
    } catch (const pqxx::sql_error& e) {
      if (!conn.is_open() || IsTransient(e)) throw;  // the server went away: retried
      throw std::runtime_error("migration '" + migration->name + "' failed: " + e.what());
    }
    spdlog::info("migrate: applied version={} name={}", migration->version, migration->name);
    done.push_back(migration->version);
  }
  return done;
}

}  // namespace
}  // namespace switchyard::orchestrator::store
