#pragma once
// Lambda functions and asynchronous invocations on PostgreSQL (migrations/0003_functions.sql and
// the async_invocations / dead_letters tables of 0001): the durable implementations of the API's
// FunctionRegistry seam and of the invoker's EventQueue. Free of pqxx (pimpl), so the API and
// `serve` include it.
//
// Thread model: both classes are thread-safe; each call runs in its own transaction on a small
// connection pool of its own. Database failures that outlast the pool's retries throw.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/function_registry.hpp"
#include "switchyard/invoker/event_queue.hpp"

namespace switchyard::orchestrator::store {

class ConnectionPool;

// Functions, versions, aliases, concurrency settings, event invoke configurations, and
// deployment packages (zips, kept as bytea so that every node can unpack a version's code).
class PgFunctionRegistry final : public api::FunctionRegistry {
 public:
  explicit PgFunctionRegistry(const std::string& database_url, std::size_t pool_size = 4);
  ~PgFunctionRegistry() override;

  std::optional<api::FunctionRecord> Get(const std::string& function_name) const override;
  std::vector<api::FunctionRecord> List() const override;
  // Replaces the function's rows in one transaction. Throws api::FunctionConflict when the
  // stored serial is not record.serial (0: the function must not exist yet). Removes packages
  // that no version uses any more.
  void Put(const api::FunctionRecord& record) override;
  bool Remove(const std::string& function_name) override;
  std::map<std::string, int64_t> Serials() const override;
  void PutCode(const std::string& function_name, const std::string& code_sha256,
               const std::string& zip) override;
  std::optional<std::string> GetCode(const std::string& function_name,
                                     const std::string& code_sha256) const override;

 private:
  std::unique_ptr<ConnectionPool> pool_;
};

struct DeadLetterRow {
  std::string request_id;
  std::string function_name;
  std::string destination;
  std::string record;
};

// The async (Event) queue as rows of async_invocations. PopDue claims the earliest due row with
// FOR UPDATE SKIP LOCKED under a lease (`lease` long, renewed every lease/3 while this node holds
// it), so each event runs on one node at a time; a node that dies mid-invocation loses nothing:
// its lease expires and another node claims the event again (at-least-once, same request id).
// Push of a claimed event (a retry) updates its row and releases the lease; Done deletes it;
// both only if the claim's generation is still current (fencing).
class PgEventQueue final : public invoker::EventQueue {
 public:
  PgEventQueue(const std::string& database_url, std::string node_id,
               std::chrono::milliseconds lease = std::chrono::seconds(30));
  ~PgEventQueue() override;  // stops renewing; releases this node's leases

  // Until Start, PopDue hands out nothing (serve starts it once its functions are registered).
  void Start();
  void Push(invoker::QueuedEvent event) override;
  std::optional<invoker::QueuedEvent> PopDue(
      invoker::AsyncClock::time_point now,
      std::optional<invoker::AsyncClock::time_point>* next_due) override;
  std::size_t Size() const override;
  void Done(const invoker::QueuedEvent& event) override;

  // The dead-letter table: records of events that failed for good, kept for inspection.
  void AddDeadLetter(const DeadLetterRow& row);
  std::vector<DeadLetterRow> DeadLetters(const std::string& function_name) const;

  const std::string& node_id() const { return node_id_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string node_id_;
};

}  // namespace switchyard::orchestrator::store
