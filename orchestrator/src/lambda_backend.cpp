#include "switchyard/orchestrator/lambda_backend.hpp"

#include <chrono>
#include <ctime>
#include <random>
#include <string_view>
#include <utility>

#include "switchyard/asl/json.hpp"
#include "switchyard/asl/names.hpp"

namespace switchyard::orchestrator {

namespace asl = switchyard::asl;
namespace inv = switchyard::invoker;

namespace {

constexpr std::string_view kLambdaArnPrefix = "arn:aws:lambda:";
constexpr std::string_view kInvokeResource = "arn:aws:states:::lambda:invoke";
// A task deadline this far away is no deadline (ASL's default TimeoutSeconds is 99,999,999).
constexpr int64_t kNoDeadlineSeconds = 365LL * 24 * 3600;

std::string RandomHex(std::size_t digits) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  while (text.size() < digits) {
    uint64_t bits = random();
    for (int i = 0; i < 16 && text.size() < digits; ++i, bits >>= 4) text += kHex[bits & 0xF];
  }
  return text;
}

std::string RandomUuid() {
  std::string hex = RandomHex(32);
  hex[12] = '4';
  hex[16] = "89ab"[hex[16] % 4];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

// An HTTP date (RFC 7231), as Lambda's Date header carries it.
std::string HttpDate() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[40];
  std::size_t n = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return std::string(text, n);
}

// The function name and qualifier a Task resource or a FunctionName parameter designates:
// "name", "name:qualifier", "account:function:name[:qualifier]" or a full function ARN.
struct FunctionRef {
  std::string name;
  std::string qualifier;
};

FunctionRef ParseFunctionRef(std::string_view text) {
  FunctionRef ref;
  if (auto at = text.find("function:"); at != std::string_view::npos) {
    text.remove_prefix(at + 9);
  }
  if (auto colon = text.find(':'); colon != std::string_view::npos) {
    ref.qualifier = std::string(text.substr(colon + 1));
    text = text.substr(0, colon);
  }
  ref.name = std::string(text);
  return ref;
}

// The response payload as the task sees it: its JSON value, or the text itself when it is not
// JSON (AWS passes such a payload on as a string).
asl::Json PayloadValue(const std::string& payload) {
  if (payload.empty()) return asl::JsonString("");
  if (auto value = asl::ParseJson(payload)) return std::move(*value);
  return asl::JsonString(payload);
}

std::string MemberString(const asl::Json& object, std::string_view key) {
  const asl::Json* member = asl::JsonFind(object, key);
  if (member == nullptr || !member->IsString()) return {};
  return std::string(asl::JsonView(*member));
}

// A member of a JSON text (e.g. "errorType" of an error document), or "".
std::string MemberOfText(const std::string& text, std::string_view key) {
  std::optional<asl::Json> doc = asl::ParseJson(text);
  return doc ? MemberString(*doc, key) : std::string();
}

}  // namespace

LambdaBackend::LambdaBackend(inv::Invoker& invoker, std::string region, std::string account_id)
    : invoker_(invoker), region_(std::move(region)), account_id_(std::move(account_id)) {}

std::optional<TaskOutcome> LambdaBackend::Start(const TaskRequest& request,
                                                TaskCompleter complete) {
  const std::string& resource = request.resource;
  const bool legacy = resource.starts_with(kLambdaArnPrefix);
  const bool service =
      resource == kInvokeResource ||
      (resource.starts_with(kInvokeResource) &&
       std::string_view(resource).substr(kInvokeResource.size()) == ".waitForTaskToken");
  if (!legacy && !service) {
    return TaskOutcome::Failure(std::string(asl::kStatesTaskFailed),
                                "no backend configured for " + resource);
  }

  inv::InvokeRequest invoke;
  FunctionRef ref;
  bool log_tail = false;
  if (legacy) {
    ref = ParseFunctionRef(std::string_view(resource).substr(kLambdaArnPrefix.size()));
    invoke.payload = asl::DumpJson(request.payload);
  } else {
    const asl::Json& parameters = request.payload;
    std::string function_name = MemberString(parameters, "FunctionName");
    if (function_name.empty()) {
      return TaskOutcome::Failure(
          std::string(asl::kStatesRuntime),
          "The field 'FunctionName' is required by the resource '" + resource + "'");
    }
    ref = ParseFunctionRef(function_name);
    if (std::string qualifier = MemberString(parameters, "Qualifier"); !qualifier.empty()) {
      ref.qualifier = qualifier;
    }
    // Payload: a string is the request body itself; any other JSON value is serialised; an
    // absent or null payload is an empty object, as the SDK sends it.
    const asl::Json* payload = asl::JsonFind(parameters, "Payload");
    if (payload == nullptr || payload->IsNull()) {
      invoke.payload = "{}";
    } else if (payload->IsString()) {
      invoke.payload = std::string(asl::JsonView(*payload));
    } else {
      invoke.payload = asl::DumpJson(*payload);
    }
    if (std::string type = MemberString(parameters, "InvocationType"); !type.empty()) {
      auto parsed = inv::ParseInvocationType(type);
      if (!parsed) {
        return TaskOutcome::Failure(
            "Lambda.InvalidParameterValueException",
            "1 validation error detected: Value '" + type +
                "' at 'invocationType' failed to satisfy constraint: Member must satisfy enum "
                "value set: [Event, RequestResponse, DryRun]");
      }
      invoke.type = *parsed;
    }
    log_tail = MemberString(parameters, "LogType") == "Tail";
    invoke.client_context = MemberString(parameters, "ClientContext");
  }
  invoke.function_name = ref.name;
  invoke.qualifier = ref.qualifier;
  invoke.log_tail = log_tail;
  invoke.request_id = request.invocation_id;
  if (request.timeout_seconds > 0 && request.timeout_seconds < kNoDeadlineSeconds) {
    // The driver times the task out itself; this deadline, a second later, only makes sure the
    // invoker reclaims the environment of a function that outlives its task.
    invoke.deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(request.timeout_seconds + 1);
  }

  std::string function_arn =
      "arn:aws:lambda:" + region_ + ":" + account_id_ + ":function:" + ref.name;
  // Lambda names the version or alias that was asked for ($LATEST when none was).
  const std::string qualifier = ref.qualifier.empty() ? "$LATEST" : ref.qualifier;
  auto on_result = [complete = std::move(complete), legacy, function_arn,
                    qualifier](inv::InvokeResult result) {
    // Killed at the end of a shutdown's grace: no outcome, as after a crash. The engine gives
    // the task's lease back and another node (or the next start) runs it again.
    if (result.abandoned) return;
    TaskOutcome outcome;
    if (result.status == inv::InvokeStatus::kDeadlineExceeded) {
      outcome = TaskOutcome::Failure(std::string(asl::kStatesTimeout), "");
    } else if (result.status != inv::InvokeStatus::kOk) {
      // An API error, as the AWS SDK for Java words it in Step Functions' causes.
      std::string message = MemberOfText(result.payload, "message");
      if (result.status == inv::InvokeStatus::kNotFound) {
        message = "Function not found: " + function_arn + ":" + qualifier;
      }
      std::string request_id = result.request_id.empty() ? RandomUuid() : result.request_id;
      outcome = TaskOutcome::Failure(
          "Lambda." + result.error_type,
          message + " (Service: AWSLambda; Status Code: " + std::to_string(result.status_code) +
              "; Error Code: " + result.error_type + "; Request ID: " + request_id +
              "; Proxy: null)");
    } else if (!result.function_error.empty()) {
      std::string error = result.error_type;
      if (error.empty()) error = MemberOfText(result.payload, "errorType");
      if (error.empty()) error = "Lambda.Unknown";
      // Step Functions re-serialises a lambda:invoke error document compactly; a legacy
      // Lambda resource passes the function's own text on.
      std::string cause = result.payload;
      if (!legacy) {
        if (std::optional<asl::Json> doc = asl::ParseJson(cause)) cause = asl::DumpJson(*doc);
      }
      outcome = TaskOutcome::Failure(std::move(error), std::move(cause));
    } else if (legacy) {
      outcome = TaskOutcome::Success(PayloadValue(result.payload));
    } else {
      // The lambda:invoke result: the Invoke API response as the SDK for Java models it.
      std::string date = HttpDate();
      std::string trace_id = "Root=1-" + RandomHex(8) + "-" + RandomHex(24) + ";Sampled=0";
      std::string request_id = result.request_id.empty() ? RandomUuid() : result.request_id;
      std::string length = std::to_string(result.payload.size());
      asl::Json all = asl::JsonObject();
      asl::Json flat = asl::JsonObject();
      auto header = [&](const char* name, const std::string& value) {
        asl::Json list = asl::JsonArray();
        asl::JsonPush(list, asl::JsonString(value));
        asl::JsonSet(all, name, std::move(list));
        asl::JsonSet(flat, name, asl::JsonString(value));
      };
      header("Connection", "keep-alive");
      header("Content-Length", length);
      header("Content-Type", "application/json");
      header("Date", date);
      if (!result.executed_version.empty()) {
        header("X-Amz-Executed-Version", result.executed_version);
      }
      if (!result.log_result.empty()) header("X-Amz-Log-Result", result.log_result);
      header("x-amzn-Remapped-Content-Length", "0");
      header("x-amzn-RequestId", request_id);
      header("X-Amzn-Trace-Id", trace_id);
      asl::Json http = asl::JsonObject();
      asl::JsonSet(http, "AllHttpHeaders", std::move(all));
      asl::JsonSet(http, "HttpHeaders", std::move(flat));
      asl::JsonSet(http, "HttpStatusCode", asl::JsonInt(result.status_code));
      asl::Json response_metadata = asl::JsonObject();
      asl::JsonSet(response_metadata, "RequestId", asl::JsonString(request_id));

      asl::Json output = asl::JsonObject();
      if (!result.executed_version.empty()) {
        asl::JsonSet(output, "ExecutedVersion", asl::JsonString(result.executed_version));
      }
      if (!result.log_result.empty()) {
        asl::JsonSet(output, "LogResult", asl::JsonString(result.log_result));
      }
      asl::JsonSet(output, "Payload", PayloadValue(result.payload));
      asl::JsonSet(output, "SdkHttpMetadata", std::move(http));
      asl::JsonSet(output, "SdkResponseMetadata", std::move(response_metadata));
      asl::JsonSet(output, "StatusCode", asl::JsonInt(result.status_code));
      outcome = TaskOutcome::Success(std::move(output));
    }
    complete(std::move(outcome));
  };
  invoker_.InvokeAsync(std::move(invoke), std::move(on_result));
  return std::nullopt;
}

}  // namespace switchyard::orchestrator
