#pragma once
// Lambda event-source mappings (REST-JSON, /2015-03-31/event-source-mappings/): Create, Get,
// Update, Delete, List, for SQS queues of the QueueStore. The mappings are rows; the poller
// (triggers/esm_poller.hpp) does the delivering.
// Thread model: the handlers run on the control pool; they own no state.
#include <string>

namespace switchyard::orchestrator::store {
class QueueStore;
}

namespace switchyard::orchestrator::api {

class Router;
class WorkPool;
class FunctionRegistry;

void RegisterEventSourceMappings(Router& router, WorkPool& control, store::QueueStore& queues,
                                 FunctionRegistry& functions, const std::string& region,
                                 const std::string& account_id);

}  // namespace switchyard::orchestrator::api
