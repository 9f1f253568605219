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

struct ConnectionPool::Pooled {
  std::unique_ptr<pqxx::connection> connection;
  std::unique_ptr<NoticeLogger> notices;
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

void ConnectionPool::Lease::CheckHealth() {
  if (!pooled_ || pooled_->connection->is_open()) return;
  pooled_.reset();
  {
    std::lock_guard lock(pool_.mu_);
    ++pool_.stats_.connections_discarded;
  }
  pool_.Discard();
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
      {
        Lease lease(*this);
        try {
          pqxx::work tx(*lease.connection());
          body(tx);
          if (hook) hook("before_commit");
          try {
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
      if (!doubt) {
        committed = true;
      } else {
        {
          std::lock_guard lock(mu_);
          ++stats_.in_doubt;
        }
        if (!in_doubt)
          throw pqxx::in_doubt_error("commit in doubt (connection lost during COMMIT)");
        // The commit may have happened: ask before redoing. The check retries like a transaction.
        const auto check_started = std::chrono::steady_clock::now();
        for (int check_attempt = 0;; ++check_attempt) {
          try {
            Lease check(*this);
            try {
              committed = in_doubt(*check.connection());
            } catch (...) {
              check.CheckHealth();
              throw;
            }
            break;
          } catch (const std::exception& e) {
            if (!IsTransient(e) ||
                std::chrono::steady_clock::now() - check_started > retry_.give_up_after) {
              throw;
            }
            std::this_thread::sleep_for(Backoff(retry_, check_attempt));
          }
        }
        spdlog::warn("postgres: commit was in doubt committed={}", committed);
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
