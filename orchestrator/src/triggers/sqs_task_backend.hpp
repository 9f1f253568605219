#pragma once
// Step Functions' optimized SQS integration: Task states on "arn:aws:states:::sqs:sendMessage"
// (and ".waitForTaskToken", whose callback the engine awaits) send to a queue of the QueueStore.
// Parameters as SendMessage's: QueueUrl (or a queue ARN or name), MessageBody (a string, or any
// JSON, sent as its text), MessageGroupId / MessageDeduplicationId for FIFO queues. The result
// is {MD5OfMessageBody, MessageId[, SequenceNumber], SdkHttpMetadata, SdkResponseMetadata}.
// Failures: SQS.QueueDoesNotExistException, SQS.MissingParameterException,
// SQS.InvalidParameterValueException (cause: SQS's message); an unknown sqs action fails with
// States.TaskFailed.
// Thread model: thread-safe (the store is); Start completes synchronously.
#include "switchyard/orchestrator/memory_driver.hpp"

namespace switchyard::orchestrator::store {
class QueueStore;
}

namespace switchyard::orchestrator::triggers {

class SqsTaskBackend : public TaskBackend {
 public:
  explicit SqsTaskBackend(store::QueueStore& queues) : queues_(queues) {}
  std::optional<TaskOutcome> Start(const TaskRequest& request, TaskCompleter complete) override;

 private:
  store::QueueStore& queues_;
};

}  // namespace switchyard::orchestrator::triggers
