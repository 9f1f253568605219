#pragma once
// The Step Functions activity operations (CreateActivity, DeleteActivity, DescribeActivity,
// ListActivities, GetActivityTask) and RedriveExecution, over the durable engine (JSON 1.0).
// GetActivityTask long-polls up to 60 s as AWS does, on the `long_running` pool (never an I/O
// thread; the engine holds no database connection while it waits).
// Thread model: thread-safe (no state of its own).
#include "api/router.hpp"

namespace switchyard::orchestrator {
class Engine;
}

namespace switchyard::orchestrator::api {

class WorkPool;

void RegisterSfnActivities(Engine& engine, Router& router, WorkPool& control,
                           WorkPool& long_running);

}  // namespace switchyard::orchestrator::api
