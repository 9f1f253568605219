#pragma once
// The Step Functions JSON 1.0 API (X-Amz-Target: AWSStepFunctions.<Operation>) over the
// durable engine: state machines, executions, history, task callbacks; and
// ValidateStateMachineDefinition, which needs no engine. Every engine call blocks on the
// database, so each operation runs on a work pool (StartSyncExecution, which runs a whole
// Express execution, on the invocation pool).
// Thread model: thread-safe (no state of its own).
#include <cstddef>
#include <string_view>

#include "api/http.hpp"
#include "api/router.hpp"

namespace switchyard::orchestrator {
class Engine;
}

namespace switchyard::orchestrator::api {

class WorkPool;

// AWS's namespace in Step Functions error types ("...#StateMachineDoesNotExist").
inline constexpr std::string_view kSfnErrorPrefix = "com.amazonaws.swf.service.v2.model#";

// The largest Step Functions request body: a definition may be 1 MiB and JSON-escaping it in
// the request can grow it; execution inputs are 256 KiB (checked per member).
inline constexpr std::size_t kMaxSfnRequestBytes = std::size_t{4} * 1024 * 1024;
inline constexpr std::size_t kMaxSfnPayloadBytes = std::size_t{256} * 1024;

HttpResponse SfnTooLarge(std::size_t limit);

class SfnApi {
 public:
  // `engine` may be null: then only ValidateStateMachineDefinition is mounted.
  explicit SfnApi(Engine* engine) : engine_(engine) {}
  void Register(Router& router, WorkPool& control, WorkPool& long_running);

  HttpResponse ValidateStateMachineDefinition(const ApiCall& call);
  HttpResponse CreateStateMachine(const ApiCall& call);
  HttpResponse DescribeStateMachine(const ApiCall& call);
  HttpResponse UpdateStateMachine(const ApiCall& call);
  HttpResponse DeleteStateMachine(const ApiCall& call);
  HttpResponse ListStateMachines(const ApiCall& call);
  HttpResponse StartExecution(const ApiCall& call);
  // The route of StartExecution: decided without a pool thread when it can be (sfn_api.cpp).
  void StartExecutionAsync(ApiCall call, Respond respond, WorkPool& pool);
  HttpResponse StartSyncExecution(const ApiCall& call);
  HttpResponse DescribeExecution(const ApiCall& call);
  HttpResponse ListExecutions(const ApiCall& call);
  HttpResponse GetExecutionHistory(const ApiCall& call);
  HttpResponse StopExecution(const ApiCall& call);
  HttpResponse SendTaskSuccess(const ApiCall& call);
  HttpResponse SendTaskFailure(const ApiCall& call);
  HttpResponse SendTaskHeartbeat(const ApiCall& call);

 private:
  Engine* engine_;
};

}  // namespace switchyard::orchestrator::api
