#include "serve_functions.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "store/queue_store.hpp"
#include "switchyard/orchestrator/engine.hpp"

namespace switchyard::orchestrator {

DurableFunctions::DurableFunctions(const std::string& database_url, const std::string& node_id,
                                   invoker::InvokerOptions* options)
    : registry_(std::make_unique<store::PgFunctionRegistry>(database_url)),
      queue_(std::make_shared<store::PgEventQueue>(database_url, node_id)),
      urls_(std::make_unique<store::PgUrlRegistry>(database_url)),
      layers_(std::make_unique<store::PgLayerRegistry>(database_url)) {
  options->event_queue = queue_;
  options->async_sink = [this](const invoker::AsyncDelivery& delivery) { Deliver(delivery); };
  if (const char* base = std::getenv("SWITCHYARD_ASYNC_RETRY_BASE_MS"); base && *base) {
    options->async_retry_base = std::chrono::milliseconds(std::atoll(base));
  }
}

void DurableFunctions::Attach(invoker::Invoker* invoker, Engine* engine) {
  invoker_ = invoker;
  engine_ = engine;
}

void DurableFunctions::Deliver(const invoker::AsyncDelivery& delivery) {
  const std::string& destination = delivery.destination;
  std::string failure;
  if (destination.rfind("arn:aws:lambda:", 0) == 0 && invoker_.load()) {
    invoker::InvokeRequest request;
    request.function_name = destination;
    request.payload = delivery.record;
    request.type = invoker::InvocationType::kEvent;
    const invoker::InvokeResult result = invoker_.load()->Invoke(request);
    if (result.status == invoker::InvokeStatus::kOk) return;
    failure = result.error_type + ": " + result.payload;
  } else if (destination.rfind("arn:aws:states:", 0) == 0 && engine_.load()) {
    // The execution's name is derived from the event, so a repeated delivery (a node that died
    // after delivering, before deleting the event) starts nothing new.
    const std::string name = delivery.request_id + (delivery.success ? "-success" : "-failure");
    auto started = engine_.load()->StartExecution(destination, name, delivery.record);
    if (started.ok() || started.error().error == "ExecutionAlreadyExists") return;
    failure = started.error().error + ": " + started.error().cause;
  } else if (destination.rfind("arn:aws:sqs:", 0) == 0 && queues_.load()) {
    try {
      const auto sent = queues_.load()->SendToQueue(destination.substr(destination.rfind(':') + 1),
                                                    delivery.record);
      if (sent.error.empty() && !sent.fifo) return;
      failure = sent.fifo ? "a FIFO queue cannot be a destination: " + destination
                          : sent.error + ": " + sent.message;
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  if (!failure.empty()) {
    spdlog::warn("function={} request_id={} destination={} delivery failed: {}",
                 delivery.function_name, delivery.request_id, destination, failure);
  }
  try {
    queue_->AddDeadLetter(
        {delivery.request_id, delivery.function_name, destination, delivery.record});
  } catch (const std::exception& e) {
    spdlog::error("function={} request_id={} cannot record dead letter: {}", delivery.function_name,
                  delivery.request_id, e.what());
  }
}

}  // namespace switchyard::orchestrator
