#pragma once
// The engine's access to the database: transactions retried on transient failures. A thin seam
// over the store's connection pool, so that engine code names one place for it.
//
// Thread model: thread-safe.
#include <pqxx/pqxx>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace switchyard::orchestrator::engine {

class Db {
 public:
  explicit Db(std::string url) : url_(std::move(url)) {}

  const std::string& url() const { return url_; }

  // Runs `fn(tx)` in a transaction and commits, retrying (with `fn` run again from the start)
  // after serialization failures, deadlocks and broken connections. After an in-doubt commit,
  // `in_doubt_check()` (run in a new transaction) says whether the commit happened; without one
  // the transaction is redone. Throws the last error after the retries.
  template <typename Fn>
  auto Transact(Fn&& fn, std::function<bool(pqxx::transaction_base&)> in_doubt_check = {})
      -> std::invoke_result_t<Fn&, pqxx::transaction_base&> {
    using R = std::invoke_result_t<Fn&, pqxx::transaction_base&>;
    constexpr int kAttempts = 30;
    using Stored = std::conditional_t<std::is_void_v<R>, bool, R>;
    for (int attempt = 1;; ++attempt) {
      std::unique_ptr<pqxx::connection> connection;
      std::optional<Stored> result;
      try {
        connection = Acquire();
        {
          pqxx::work tx(*connection);
          if constexpr (std::is_void_v<R>) {
            fn(static_cast<pqxx::transaction_base&>(tx));
            result.emplace(true);
          } else {
            result.emplace(fn(static_cast<pqxx::transaction_base&>(tx)));
          }
          tx.commit();
        }
        Release(std::move(connection));
        if constexpr (std::is_void_v<R>) {
          return;
        } else {
          return std::move(*result);
        }
      } catch (const pqxx::in_doubt_error&) {
        // The commit may have happened: ask before redoing anything.
        if (attempt >= kAttempts) throw;
        if (in_doubt_check && result) {
          bool committed =
              Transact([&](pqxx::transaction_base& tx) { return in_doubt_check(tx); });
          if (committed) {
            if constexpr (std::is_void_v<R>) {
              return;
            } else {
              return std::move(*result);
            }
          }
        }
      } catch (const pqxx::broken_connection&) {
        if (attempt >= kAttempts) throw;
      } catch (const pqxx::transaction_rollback&) {
        // serialization_failure, deadlock_detected: the transaction was rolled back.
        if (attempt >= kAttempts) throw;
        if (connection && connection->is_open()) Release(std::move(connection));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 10 * attempt)));
    }
  }

 private:
  std::unique_ptr<pqxx::connection> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        if (connection->is_open()) return connection;
      }
    }
    return std::make_unique<pqxx::connection>(url_);
  }
  void Release(std::unique_ptr<pqxx::connection> connection) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < 16) idle_.push_back(std::move(connection));
  }

  std::string url_;
  std::mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;  // Guarded by mu_.
};

}  // namespace switchyard::orchestrator::engine
