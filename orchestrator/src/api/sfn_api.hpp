#pragma once
// The Step Functions JSON 1.0 API (X-Amz-Target: AWSStepFunctions.<Operation>). Today only the
// operations that need no engine: ValidateStateMachineDefinition. The engine's operations
// (CreateStateMachine, StartExecution, ...) mount here once the durable engine exists.
// Thread model: thread-safe (no state).
#include <cstddef>

#include "api/http.hpp"
#include "api/router.hpp"

namespace switchyard::orchestrator::api {

class WorkPool;

// The largest Step Functions request body: a definition may be 1 MiB and JSON-escaping it in
// the request can grow it; execution inputs are 256 KiB (checked per member).
inline constexpr std::size_t kMaxSfnRequestBytes = std::size_t{4} * 1024 * 1024;
inline constexpr std::size_t kMaxSfnPayloadBytes = std::size_t{256} * 1024;

HttpResponse SfnTooLarge(std::size_t limit);

class SfnApi {
 public:
  void Register(Router& router, WorkPool& pool);

  HttpResponse ValidateStateMachineDefinition(const ApiCall& call);
};

}  // namespace switchyard::orchestrator::api
