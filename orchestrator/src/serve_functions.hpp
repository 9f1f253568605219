#pragma once
// What `switchyard serve` adds to the invoker to make functions durable: the PostgreSQL function
// registry, the PostgreSQL async (Event) queue, and the destinations of async invocation
// records. Free of pqxx.
// Thread model: Deliver is called on the invoker's async thread; Attach once, before the queue
// is started.
#include <atomic>
#include <memory>
#include <string>

#include "store/function_store.hpp"
#include "store/url_layer_store.hpp"
#include "switchyard/invoker/invoker.hpp"

namespace switchyard::orchestrator::store {
class QueueStore;
}

namespace switchyard::orchestrator {

class Engine;

class DurableFunctions {
 public:
  // Opens the registry and the queue on `database_url` and points `options` (the invoker's) at
  // the queue and at Deliver. SWITCHYARD_ASYNC_RETRY_BASE_MS (milliseconds) shortens Lambda's
  // one-minute retry base (tests, demos).
  DurableFunctions(const std::string& database_url, const std::string& node_id,
                   invoker::InvokerOptions* options);

  // The invoker and engine that destinations reach (function / state machine ARNs).
  void Attach(invoker::Invoker* invoker, Engine* engine);
  // The queues that SQS destinations (arn:aws:sqs:...) reach; null: none (dead_letters).
  void AttachQueues(store::QueueStore* queues) { queues_ = queues; }
  // Where a record goes: a function ARN → an Event invocation of it; a state machine ARN → a
  // new execution with the record as input; a standard queue's ARN → a message with the record
  // as its body; "dead-letter" and destinations Switchyard cannot reach (SNS, EventBridge, S3,
  // a queue that does not exist) → the dead_letters table, kept for inspection. A
  // delivery that fails is logged and recorded in dead_letters too.
  void Deliver(const invoker::AsyncDelivery& delivery);

  store::PgFunctionRegistry& registry() { return *registry_; }
  store::PgEventQueue& queue() { return *queue_; }
  store::PgUrlRegistry& urls() { return *urls_; }
  store::PgLayerRegistry& layers() { return *layers_; }

 private:
  std::unique_ptr<store::PgFunctionRegistry> registry_;
  std::shared_ptr<store::PgEventQueue> queue_;
  std::unique_ptr<store::PgUrlRegistry> urls_;
  std::unique_ptr<store::PgLayerRegistry> layers_;
  std::atomic<invoker::Invoker*> invoker_{nullptr};
  std::atomic<Engine*> engine_{nullptr};
  std::atomic<store::QueueStore*> queues_{nullptr};
};

}  // namespace switchyard::orchestrator
