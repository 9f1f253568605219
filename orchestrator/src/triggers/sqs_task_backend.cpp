#include "triggers/sqs_task_backend.hpp"

#include <cstdio>
#include <random>

#include "store/queue_store.hpp"
#include "switchyard/asl/json.hpp"

namespace switchyard::orchestrator::triggers {
namespace {

namespace asl = switchyard::asl;

std::string Text(const asl::Json& payload, const char* name) {
  const asl::Json* value = asl::JsonFind(payload, name);
  if (!value || value->IsNull()) return {};
  if (value->IsString()) return std::string(asl::JsonView(*value));
  return asl::DumpJson(*value);
}

std::string RequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) id.push_back('-');
    id.push_back(kHex[rng() & 15]);
  }
  return id;
}

}  // namespace

std::optional<TaskOutcome> SqsTaskBackend::Start(const TaskRequest& request, TaskCompleter) {
  std::string_view action = request.resource;
  action.remove_prefix(std::string_view("arn:aws:states:::sqs:").size());
  if (const std::size_t dot = action.find('.'); dot != std::string_view::npos) {
    action = action.substr(0, dot);
  }
  if (action != "sendMessage") {
    return TaskOutcome::Failure("States.TaskFailed",
                                "the resource " + request.resource + " is not supported");
  }
  // QueueUrl: http://host/<account>/<name>; a queue ARN or a bare name work too.
  std::string queue = Text(request.payload, "QueueUrl");
  while (!queue.empty() && queue.back() == '/') queue.pop_back();
  if (const std::size_t cut = queue.find_last_of("/:"); cut != std::string::npos) {
    queue = queue.substr(cut + 1);
  }
  if (queue.empty()) {
    return TaskOutcome::Failure("SQS.MissingParameterException",
                                "The request must contain the parameter QueueUrl.");
  }
  const store::QueueStore::QuickSend sent = queues_.SendToQueue(
      queue, Text(request.payload, "MessageBody"), Text(request.payload, "MessageGroupId"),
      Text(request.payload, "MessageDeduplicationId"));
  if (!sent.error.empty()) {
    const std::string error = sent.error == "QueueDoesNotExist" ? "SQS.QueueDoesNotExistException"
                              : sent.error == "MissingParameter"
                                  ? "SQS.MissingParameterException"
                                  : "SQS.InvalidParameterValueException";
    return TaskOutcome::Failure(error, sent.message);
  }
  const std::string request_id = RequestId();
  asl::Json output = asl::JsonObject();
  asl::JsonSet(output, "MD5OfMessageBody", asl::JsonString(sent.md5_of_body));
  asl::JsonSet(output, "MessageId", asl::JsonString(sent.message_id));
  if (sent.fifo) {
    char digits[32];
    std::snprintf(digits, sizeof digits, "%020lld", static_cast<long long>(sent.sequence_number));
    asl::JsonSet(output, "SequenceNumber", asl::JsonString(digits));
  }
  asl::Json headers = asl::JsonObject();
  asl::JsonSet(headers, "Content-Type", asl::JsonString("text/xml"));
  asl::JsonSet(headers, "x-amzn-RequestId", asl::JsonString(request_id));
  asl::Json all_headers = asl::JsonObject();
  asl::JsonSet(all_headers, "Content-Type", asl::JsonArray());
  asl::JsonPush(*asl::JsonFind(all_headers, "Content-Type"), asl::JsonString("text/xml"));
  asl::JsonSet(all_headers, "x-amzn-RequestId", asl::JsonArray());
  asl::JsonPush(*asl::JsonFind(all_headers, "x-amzn-RequestId"), asl::JsonString(request_id));
  asl::Json http = asl::JsonObject();
  asl::JsonSet(http, "AllHttpHeaders", std::move(all_headers));
  asl::JsonSet(http, "HttpHeaders", std::move(headers));
  asl::JsonSet(http, "HttpStatusCode", asl::JsonInt(200));
  asl::JsonSet(output, "SdkHttpMetadata", std::move(http));
  asl::Json metadata = asl::JsonObject();
  asl::JsonSet(metadata, "RequestId", asl::JsonString(request_id));
  asl::JsonSet(output, "SdkResponseMetadata", std::move(metadata));
  return TaskOutcome::Success(std::move(output));
}

}  // namespace switchyard::orchestrator::triggers
