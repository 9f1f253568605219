#pragma once
// A pool of PostgreSQL connections (libpqxx 6.4) and the one place where transient database
// failures are retried. Internal to the orchestrator: only src/store and src/engine include it.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace switchyard::orchestrator::store {

// After pqxx::in_doubt_error (the connection broke during COMMIT), called on a fresh connection
// when the server cannot tell by the transaction's id (see Transact): returns true when the
// transaction did commit (e.g. the row it wrote is there).
using InDoubtCheck = std::function<bool(pqxx::connection&)>;
// Called on every new connection before first use (prepare statements, SET options).
using ConnectionSetup = std::function<void(pqxx::connection&)>;

struct RetryPolicy {
  // Retries stop when this much time has passed since the first attempt (a server restart or a
  // failover takes seconds); the last error is then thrown.
  std::chrono::milliseconds give_up_after{60000};
  std::chrono::milliseconds first_backoff{5};
  std::chrono::milliseconds max_backoff{1000};
};

struct PoolStats {
  uint64_t connections_opened = 0;
  uint64_t connections_discarded = 0;  // found broken
  uint64_t transactions = 0;           // committed by Transact
  uint64_t retries = 0;                // attempts redone after a transient failure
  uint64_t in_doubt = 0;               // commits that ended in pqxx::in_doubt_error
  uint64_t id_queries = 0;  // Transact commits whose transaction id the pool asked for itself
};

// Ends this connection's session when a transaction of it stays idle (between two statements)
// longer than `limit`: a node paused mid-transaction (SIGSTOP, a long GC) then holds no row lock
// past about one lease, so the other nodes can take its work over. Its transaction is rolled
// back; the pool sees a broken connection and redoes it.
void LimitIdleTransactions(pqxx::connection_base& connection, std::chrono::milliseconds limit);

// True for failures that a new attempt may not see: serialization_failure, deadlock_detected,
// broken connections, a server shutting down or starting up (57P01-57P03), too many connections.
bool IsTransient(const std::exception& error);

// Thread-safe. Must outlive every call running on it.
class ConnectionPool {
 public:
  ConnectionPool(std::string url, std::size_t size, ConnectionSetup setup = {},
                 RetryPolicy retry = {});
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Runs fn(pqxx::connection&) on a pooled connection, waiting while all `size` are busy, and
  // returns what fn returns. Opening a connection is retried while the server is unreachable
  // (within RetryPolicy::give_up_after); fn itself is not retried: its exception propagates, and
  // a connection it left broken is replaced.
  template <class Fn>
  auto WithConnection(Fn&& fn) {
    Lease lease(*this);
    try {
      return fn(*lease.connection());
    } catch (...) {
      lease.CheckHealth();
      throw;
    }
  }

  // Runs fn(pqxx::work&) in a transaction and commits; returns what fn returns (from the attempt
  // that committed). Transient failures (IsTransient) roll back and redo the whole of fn with
  // exponential backoff and jitter, so fn must only touch the database through the transaction
  // (or be safe to repeat). Other exceptions propagate after rollback.
  //
  // In-doubt commits (ARCHITECTURE "Durability": each transition recorded exactly once; STYLE 3:
  // after in_doubt_error, re-read before redoing):
  // right before COMMIT the pool reads the transaction's id, txid_current_if_assigned() (one
  // more round trip, saved when fn reported the id with NoteTransactionId). When the connection
  // breaks during COMMIT (pqxx::in_doubt_error), it asks txid_status(id) on a new connection
  // (retrying transient failures): 'committed' returns the result of that attempt; 'aborted'
  // (also what a transaction in progress at a crash reads after recovery) redoes fn; 'in
  // progress' (the old backend has not finished) is asked again with backoff, within
  // RetryPolicy::give_up_after. A transaction with no id wrote nothing: it counts as committed.
  // The server cannot tell when the id is too old (NULL), or when the server restarted since
  // the transaction's connection was opened (its start time, or the reset time of its shared
  // statistics, which a crash of one backend changes) and says 'committed' (an id none of whose WAL
  // survived a crash is handed out again after recovery, so 'committed' may be another
  // transaction's; 'in progress' then is another's too, and redoes fn). Then `in_doubt`, when
  // given, decides on that connection; without it pqxx::in_doubt_error propagates, as it does
  // when 'in progress' outlasts give_up_after. Writes made by deferred triggers at COMMIT
  // (after the id was read) are not covered: the pool's users have none.
  template <class Fn>
  auto Transact(Fn&& fn, const InDoubtCheck& in_doubt = {}) {
    using Result = std::invoke_result_t<Fn&, pqxx::work&>;
    if constexpr (std::is_void_v<Result>) {
      RunTransaction([&](pqxx::work& tx) { fn(tx); }, in_doubt);
    } else {
      std::optional<Result> result;
      RunTransaction(
          [&](pqxx::work& tx) {
            result.reset();
            result.emplace(fn(tx));
          },
          in_doubt);
      return std::move(*result);
    }
  }

  // Runs fn(pqxx::nontransaction&, int attempt) outside any explicit transaction: each statement
  // is its own implicit transaction, committed (synchronous_commit) before its result comes back,
  // so one statement costs one round trip (no BEGIN / COMMIT). Transient failures, and a
  // connection lost during a statement, redo fn with backoff (attempt = 1, 2, ...): fn must be
  // safe to redo, including after a statement that committed but whose answer was lost (it must
  // recognise what it wrote). Other exceptions propagate.
  template <class Fn>
  void Autocommit(Fn&& fn) {
    RunAutocommit([&](pqxx::nontransaction& tx, int attempt) { fn(tx, attempt); });
  }

  // Called by the fn of a Transact running on this thread with its transaction's id, read by one
  // of fn's own statements with txid_current() (which assigns one if needed, so any statement
  // of the transaction will do): the pool then does not ask for it before COMMIT. Does nothing
  // for any other transaction (e.g. a pqxx::nontransaction of Autocommit).
  static void NoteTransactionId(const pqxx::transaction_base& tx, int64_t txid);

  PoolStats stats() const;
  const std::string& url() const { return url_; }

  // Tests: called with "before_commit" / "after_commit" around each Transact commit (after the
  // transaction's id was read), and with "after_autocommit" after an Autocommit body returned,
  // on the committing thread; may throw (e.g. pqxx::in_doubt_error, as if the connection broke
  // during COMMIT, or pqxx::broken_connection) to inject a fault.
  void SetFaultInjectionForTesting(std::function<void(std::string_view point)> hook);

 private:
  struct Pooled;
  // One connection taken from the pool; given back (or dropped when broken) on destruction.
  class Lease {
   public:
    explicit Lease(ConnectionPool& pool);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    pqxx::connection* connection();
    const std::string& server_started() const;
    // Drops the connection instead of returning it when it is no longer usable.
    void CheckHealth();

   private:
    ConnectionPool& pool_;
    std::unique_ptr<Pooled> pooled_;
  };

  std::unique_ptr<Pooled> Acquire();
  void Release(std::unique_ptr<Pooled> pooled);
  void Discard();
  std::unique_ptr<Pooled> Open();
  struct TransactionIdentity;
  enum class Verdict { kCommitted, kNotCommitted, kInProgress, kUnknown };
  static std::optional<int64_t> TransactionId(pqxx::work& tx);
  static Verdict AskStatus(pqxx::connection& connection, const TransactionIdentity& identity);
  // After an in-doubt COMMIT: true when it committed, false when fn must be redone; throws
  // pqxx::in_doubt_error when that cannot be known, or a non-transient error of the check.
  bool ResolveInDoubt(const TransactionIdentity& identity, const InDoubtCheck& in_doubt);
  void RunTransaction(const std::function<void(pqxx::work&)>& body, const InDoubtCheck& in_doubt);
  void RunAutocommit(const std::function<void(pqxx::nontransaction&, int)>& body);
  // A transient failure of attempt `attempt`: counted, logged at debug level, then the backoff.
  void RetryAfter(const std::exception& e, int attempt);

  const std::string url_;
  const std::size_t size_;
  const ConnectionSetup setup_;
  const RetryPolicy retry_;
  mutable std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Pooled>> idle_;         // Guarded by mu_.
  std::size_t open_ = 0;                              // Guarded by mu_: idle + leased.
  PoolStats stats_;                                   // Guarded by mu_.
  std::function<void(std::string_view)> fault_hook_;  // Guarded by mu_.
};

}  // namespace switchyard::orchestrator::store
