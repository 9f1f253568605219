// TestState (JSON 1.0): one state run on its own.
#include "api/aws_error.hpp"
#include "api/sfn_common.hpp"
#include "switchyard/orchestrator/engine.hpp"

namespace switchyard::orchestrator::api {

void RegisterSfnTestState(Router& router, WorkPool& pool, Engine& engine) {
  (void)router;
  (void)pool;
  (void)engine;
}

}  // namespace switchyard::orchestrator::api
