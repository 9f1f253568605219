#include "store/pool.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <stdexcept>
#include <thread>

namespace switchyard::orchestrator::store {
namespace {

// Routes libpq notices and libpqxx warnings to the log instead of standard error.
class NoticeLogger : public pqxx::errorhandler {
 public:
  explicit NoticeLogger(pqxx::connection_base& conn) : pqxx::errorhandler(conn) {}
  bool operator()(const char msg[]) noexcept override {
    std::string_view text(msg);
    while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    spdlog::debug("postgres notice: {}", text);
    return false;
  }
};

bool TransientSqlState(const std::string& state) {
  return state == "40001" || state == "40P01" || state == "57P01" || state == "57P02" ||
         state == "57P03" || state == "53300" || state.rfind("08", 0) == 0;
}

std::chrono::milliseconds Backoff(const RetryPolicy& retry, int attempt) {
  // Full jitter: uniform in [1, min(max, first * 2^attempt)].
  thread_local std::minstd_rand rng{std::random_device{}()};
  const auto cap = std::min<int64_t>(retry.max_backoff.count(), retry.first_backoff.count()
                                                                    << std::min(attempt, 20));
  std::uniform_int_distribution<int64_t> pick(1, std::max<int64_t>(cap, 1));
  return std::chrono::milliseconds(pick(rng));
}

}  // namespace

// The transaction that Transact is running on this thread, for NoteTransactionId.
struct CurrentTransaction {
  const pqxx::transaction_base* tx = nullptr;
  std::optional<int64_t> txid;
};
thread_local CurrentTransaction* current_transaction = nullptr;

// Which life of the server a connection talks to: its start time, and the time its shared
// statistics were last reset, which a crash of one backend changes too (the postmaster then
// reinitialises shared memory and replays the WAL without restarting). A reset by hand
// (pg_stat_reset_shared) only makes an in-doubt check more careful.
constexpr const char* kServerLifeSql =
    "pg_postmaster_start_time()::text || ' ' || "
    "coalesce(pg_stat_get_bgwriter_stat_reset_time()::text, '')";

struct ConnectionPool::Pooled {
  std::unique_ptr<pqxx::connection> connection;
  std::unique_ptr<NoticeLogger> notices;
  // kServerLifeSql on the server this connection reached (a connection does not survive a
  // restart): a transaction id means something only in that life of that server.
  std::string server_started;
  ~Pooled() {
    notices.reset();
    connection.reset();
  }
};

bool IsTransient(const std::exception& error) {
  if (dynamic_cast<const pqxx::in_doubt_error*>(&error) != nullptr) return false;
  if (dynamic_cast<const pqxx::broken_connection*>(&error) != nullptr) return true;
  if (dynamic_cast<const pqxx::serialization_failure*>(&error) != nullptr) return true;
  if (dynamic_cast<const pqxx::deadlock_detected*>(&error) != nullptr) return true;
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error)) {
    return TransientSqlState(sql->sqlstate());
  }
  return false;
}

ConnectionPool::ConnectionPool(std::string url, std::size_t size, ConnectionSetup setup,
                               RetryPolicy retry)
    : url_(std::move(url)),
      size_(std::max<std::size_t>(size, 1)),
      setup_(std::move(setup)),
      retry_(retry) {}

ConnectionPool::~ConnectionPool() = default;

PoolStats ConnectionPool::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void ConnectionPool::SetFaultInjectionForTesting(std::function<void(std::string_view)> hook) {
  std::lock_guard lock(mu_);
  fault_hook_ = std::move(hook);
}

std::unique_ptr<ConnectionPool::Pooled> ConnectionPool::Open() {
  const auto started = std::chrono::steady_clock::now();
  for (int attempt = 0;; ++attempt) {
    try {
      auto pooled = std::make_unique<Pooled>();
      pooled->connection = std::make_unique<pqxx::connection>(url_);
      pooled->notices = std::make_unique<NoticeLogger>(*pooled->connection);
      {
        pqxx::nontransaction tx(*pooled->connection);
        pooled->server_started =
            tx.exec1(std::string("SELECT ") + kServerLifeSql)[0].as<std::string>();
      }
      if (setup_) setup_(*pooled->connection);
      std::lock_guard lock(mu_);
      ++stats_.connections_opened;
      return pooled;
    } catch (const std::exception& e) {
      if (!IsTransient(e) || std::chrono::steady_clock::now() - started > retry_.give_up_after) {
        throw;
      }
      spdlog::warn("postgres: cannot connect, retrying attempt={} error=\"{}\"", attempt + 1,
                   e.what());
      std::this_thread::sleep_for(Backoff(retry_, attempt));
    }
  }
}

std::unique_ptr<ConnectionPool::Pooled> ConnectionPool::Acquire() {
  {
    std::unique_lock lock(mu_);
    available_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
    if (!idle_.empty()) {
      auto pooled = std::move(idle_.back());
      idle_.pop_back();
      return pooled;
    }
    ++open_;
  }
  try {
    return Open();
  } catch (...) {
    Discard();
    throw;
  }
}

void ConnectionPool::Release(std::unique_ptr<Pooled> pooled) {
  {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(pooled));
  }
  available_.notify_one();
}

void ConnectionPool::Discard() {
  {
    std::lock_guard lock(mu_);
    --open_;
  }
  available_.notify_one();
}

ConnectionPool::Lease::Lease(ConnectionPool& pool) : pool_(pool), pooled_(pool.Acquire()) {}

ConnectionPool::Lease::~Lease() {
  if (!pooled_) return;
  if (pooled_->connection->is_open()) {
    pool_.Release(std::move(pooled_));
  } else {
    pooled_.reset();
    pool_.Discard();
  }
}

pqxx::connection* ConnectionPool::Lease::connection() { return pooled_->connection.get(); }

const std::string& ConnectionPool::Lease::server_started() const { return pooled_->server_started; }

void ConnectionPool::Lease::CheckHealth() {
  if (!pooled_ || pooled_->connection->is_open()) return;
  pooled_.reset();
  {
    std::lock_guard lock(pool_.mu_);
    ++pool_.stats_.connections_discarded;
  }
  pool_.Discard();
}

// What the transaction of an attempt was, learned right before its COMMIT.
struct ConnectionPool::TransactionIdentity {
  // txid_current_if_assigned(): none when the transaction has written nothing (no xid yet).
  std::optional<int64_t> txid;
  // kServerLifeSql of the server it ran on: tells whether the server restarted since.
  std::string server_started;
};

void ConnectionPool::NoteTransactionId(const pqxx::transaction_base& tx, int64_t txid) {
  if (current_transaction != nullptr && current_transaction->tx == &tx) {
    current_transaction->txid = txid;
  }
}

std::optional<int64_t> ConnectionPool::TransactionId(pqxx::work& tx) {
  const pqxx::row row = tx.exec1("SELECT txid_current_if_assigned()");
  if (row[0].is_null()) return std::nullopt;
  return row[0].as<int64_t>();
}

ConnectionPool::Verdict ConnectionPool::AskStatus(pqxx::connection& connection,
                                                  const TransactionIdentity& identity) {
  pqxx::nontransaction tx(connection);
  pqxx::row row;
  try {
    row = tx.exec1("SELECT txid_status(" + std::to_string(*identity.txid) + "), " + kServerLifeSql);
  } catch (const pqxx::sql_error& e) {
    // 22023 "transaction ID ... is in the future": this server never saw the transaction (its
    // WAL was lost with a crash, or a failover went to a standby that had not received it).
    if (e.sqlstate() == "22023") return Verdict::kNotCommitted;
    throw;
  }
  if (row[0].is_null()) return Verdict::kUnknown;  // too old: its status was truncated away
  const std::string status = row[0].as<std::string>();
  const bool restarted = row[1].as<std::string>() != identity.server_started;
  // An id whose transaction was in progress when the server stopped reads 'aborted' after the
  // restart (no commit record: the recovery treats it as aborted). An id is never reused while
  // any of its WAL survives; but a transaction none of whose WAL reached the disk before a crash
  // (or a failover) leaves its id free, and the server hands it out again after recovery. So
  // once the server has restarted, 'in progress' is another transaction (ours died with the old
  // server): not committed; and 'committed' may be ours or that other one's: unknown.
  if (status == "aborted") return Verdict::kNotCommitted;
  if (status == "committed") return restarted ? Verdict::kUnknown : Verdict::kCommitted;
  if (status == "in progress") return restarted ? Verdict::kNotCommitted : Verdict::kInProgress;
  return Verdict::kUnknown;
}

bool ConnectionPool::ResolveInDoubt(const TransactionIdentity& identity,
                                    const InDoubtCheck& in_doubt) {
  // A transaction without an id wrote nothing: whether its COMMIT got through changes nothing
  // in the database, so it counts as committed and its result stands.
  if (!identity.txid) return true;
  const auto check_started = std::chrono::steady_clock::now();
  Verdict verdict = Verdict::kInProgress;
  for (int check_attempt = 0;; ++check_attempt) {
    try {
      Lease check(*this);
      try {
        verdict = AskStatus(*check.connection(), identity);
        if (verdict == Verdict::kUnknown && in_doubt) {
          verdict = in_doubt(*check.connection()) ? Verdict::kCommitted : Verdict::kNotCommitted;
        }
      } catch (...) {
        check.CheckHealth();
        throw;
      }
    } catch (const std::exception& e) {
      if (!IsTransient(e) ||
          std::chrono::steady_clock::now() - check_started > retry_.give_up_after) {
        throw;
      }
      std::this_thread::sleep_for(Backoff(retry_, check_attempt));
      continue;
    }
    if (verdict != Verdict::kInProgress) break;
    // The old backend is still finishing (or abandoning) the COMMIT: ask again shortly.
    if (std::chrono::steady_clock::now() - check_started > retry_.give_up_after) break;
    std::this_thread::sleep_for(Backoff(retry_, check_attempt));
  }
  spdlog::warn("postgres: commit was in doubt txid={} verdict={}", *identity.txid,
               verdict == Verdict::kCommitted      ? "committed"
               : verdict == Verdict::kNotCommitted ? "not committed, redone"
                                                   : "unknown");
  if (verdict == Verdict::kCommitted) return true;
  if (verdict == Verdict::kNotCommitted) return false;
  throw pqxx::in_doubt_error("commit of transaction " + std::to_string(*identity.txid) +
                             " in doubt (connection lost during COMMIT) and its outcome unknown");
}

void ConnectionPool::RunTransaction(const std::function<void(pqxx::work&)>& body,
                                    const InDoubtCheck& in_doubt) {
  const auto started = std::chrono::steady_clock::now();
  std::function<void(std::string_view)> hook;
  {
    std::lock_guard lock(mu_);
    hook = fault_hook_;
  }
  for (int attempt = 0;; ++attempt) {
    bool committed = false;
    // Whatever libpqxx throws when the connection went away (broken_connection, or a plain
    // failure such as "Could not obtain client encoding: not connected"), the attempt is redone.
    bool connection_lost = false;
    try {
      bool doubt = false;
      bool asked_id = false;
      TransactionIdentity identity;
      {
        Lease lease(*this);
        try {
          pqxx::work tx(*lease.connection());
          CurrentTransaction current{&tx, std::nullopt};
          CurrentTransaction* const outer = current_transaction;
          current_transaction = &current;
          try {
            body(tx);
          } catch (...) {
            current_transaction = outer;
            throw;
          }
          current_transaction = outer;
          // One round trip, unless the body reported the id from one of its own statements.
          asked_id = !current.txid;
          identity.txid = current.txid ? current.txid : TransactionId(tx);
          identity.server_started = lease.server_started();
          try {
            if (hook) hook("before_commit");
            tx.commit();
            if (hook) hook("after_commit");
          } catch (const pqxx::in_doubt_error&) {
            doubt = true;
          }
        } catch (...) {
          connection_lost = !lease.connection()->is_open();
          lease.CheckHealth();
          throw;
        }
        lease.CheckHealth();
      }
      if (asked_id) {
        std::lock_guard lock(mu_);
        ++stats_.id_queries;
      }
      if (!doubt) {
        committed = true;
      } else {
        {
          std::lock_guard lock(mu_);
          ++stats_.in_doubt;
        }
        // The commit may have happened: ask the server before redoing.
        committed = ResolveInDoubt(identity, in_doubt);
      }
    } catch (const std::exception& e) {
      const bool in_doubt_error = dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr;
      if ((!IsTransient(e) && !(connection_lost && !in_doubt_error)) ||
          std::chrono::steady_clock::now() - started > retry_.give_up_after) {
        throw;
      }
      RetryAfter(e, attempt);
      continue;
    }
    if (committed) {
      std::lock_guard lock(mu_);
      ++stats_.transactions;
      return;
    }
    {
      std::lock_guard lock(mu_);
      ++stats_.retries;
    }
  }
}

void ConnectionPool::RetryAfter(const std::exception& e, int attempt) {
  spdlog::debug("postgres: transient failure, retrying attempt={} error=\"{}\"", attempt + 1,
                e.what());
  {
    std::lock_guard lock(mu_);
    ++stats_.retries;
  }
  std::this_thread::sleep_for(Backoff(retry_, attempt));
}

void ConnectionPool::RunAutocommit(const std::function<void(pqxx::nontransaction&, int)>& body) {
  const auto started = std::chrono::steady_clock::now();
  std::function<void(std::string_view)> hook;
  {
    std::lock_guard lock(mu_);
    hook = fault_hook_;
  }
  for (int attempt = 0;; ++attempt) {
    bool connection_lost = false;
    try {
      Lease lease(*this);
      try {
        pqxx::nontransaction tx(*lease.connection());
        body(tx, attempt);
        tx.commit();  // nothing to send: each statement committed on its own
        if (hook) hook("after_autocommit");
      } catch (...) {
        connection_lost = !lease.connection()->is_open();
        lease.CheckHealth();
        throw;
      }
      lease.CheckHealth();
    } catch (const std::exception& e) {
      // An in-doubt error here (only a fault hook throws one) means the same as a lost
      // connection: the statement may have committed; the body recognises its rows.
      const bool in_doubt = dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr;
      if ((!IsTransient(e) && !connection_lost && !in_doubt) ||
          std::chrono::steady_clock::now() - started > retry_.give_up_after) {
        throw;
      }
      RetryAfter(e, attempt);
      continue;
    }
    std::lock_guard lock(mu_);
    ++stats_.transactions;
    return;
  }
}

void LimitIdleTransactions(pqxx::connection_base& connection, std::chrono::milliseconds limit) {
  connection.set_variable("idle_in_transaction_session_timeout",
                          std::to_string(std::max<int64_t>(limit.count(), 1)));
}

}  // namespace switchyard::orchestrator::store
