#pragma once
// Runs Task states whose resource is a Lambda function, through the function invoker, with the
// result shapes and errors AWS Step Functions gives:
//   - "arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]": the state's effective
//     input is the event; the function's response (JSON) is the task result.
//   - "arn:aws:states:::lambda:invoke" (and ".waitForTaskToken"): the parameters are the Invoke
//     API request {FunctionName, Payload, Qualifier, InvocationType, LogType, ClientContext};
//     the result is {ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata,
//     StatusCode[, LogResult]}.
// Function errors fail the task with the function's errorType as the error and its error
// document as the cause; Lambda API errors become "Lambda.<Exception>" with the SDK's cause text.
// Any other resource fails with States.TaskFailed ("no backend configured for ...").
#include <optional>
#include <string>

#include "switchyard/invoker/invoker.hpp"
#include "switchyard/orchestrator/memory_driver.hpp"

namespace switchyard::orchestrator {

class LambdaBackend : public TaskBackend {
 public:
  // `invoker` must outlive this backend. `region` and `account_id` name functions in ARNs
  // and error texts. Every Start returns nullopt: the outcome comes on an invoker thread.
  LambdaBackend(invoker::Invoker& invoker, std::string region, std::string account_id);

  std::optional<TaskOutcome> Start(const TaskRequest& request, TaskCompleter complete) override;

 private:
  invoker::Invoker& invoker_;
  std::string region_;
  std::string account_id_;
};

}  // namespace switchyard::orchestrator
