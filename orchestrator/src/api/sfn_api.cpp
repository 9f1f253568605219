// Step Functions operations (JSON 1.0). SfnMembers, errors and status codes follow the Step
// Functions API reference.
#include "api/sfn_api.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdio>

#include "api/aws_error.hpp"
#include "api/sfn_activities.hpp"
#include "api/sfn_common.hpp"
#include "api/work_pool.hpp"
#include "switchyard/asl/definition.hpp"
#include "switchyard/orchestrator/engine.hpp"
#include "switchyard/orchestrator/request_limits.hpp"

namespace switchyard::orchestrator::api {
namespace {

HttpResponse EngineError(const asl::Error& error) {
  return Json10Error(400, std::string(kSfnErrorPrefix) + error.error, error.cause);
}

// StartExecution's name and input, checked as AWS checks them (shared with `switchyard run`).
bool CheckExecutionRequest(const std::string& name, const std::string& input, HttpResponse* error) {
  std::optional<RequestError> problem;
  if (!name.empty()) problem = CheckExecutionName(name);
  if (!problem) problem = CheckExecutionInput(input);
  if (!problem) return true;
  *error = Json10Error(400,
                       problem->type == "ValidationException"
                           ? problem->type
                           : std::string(kSfnErrorPrefix) + problem->type,
                       problem->message);
  return false;
}

// StartExecution's and StartSyncExecution's members.
struct StartRequest {
  std::string state_machine_arn;
  std::string name;
  std::string input = "{}";
};

bool ParseStartRequest(const ApiCall& call, StartRequest* request, HttpResponse* error) {
  rapidjson::Document body;
  if (!ParseSfnBody(call, &body, error)) return false;
  const SfnMembers m(body);
  return m.String("stateMachineArn", &request->state_machine_arn, true, error) &&
         m.String("name", &request->name, false, error) &&
         m.String("input", &request->input, false, error) &&
         CheckExecutionRequest(request->name, request->input, error);
}

bool CheckPayloadSize(const std::string& text, const char* member, HttpResponse* error) {
  if (text.size() <= kMaxSfnPayloadBytes) return true;
  *error = SfnValidation(std::string("1 validation error detected: Value at '") + member +
                         "' failed to satisfy constraint: Member must have length less than or "
                         "equal to 262144");
  return false;
}

// Opaque page tokens: base64 would do; the decimal offset is enough for an in-order listing.
bool ParseOffsetToken(const std::string& token, std::size_t* offset, HttpResponse* error) {
  *offset = 0;
  if (token.empty()) return true;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(token.c_str(), &end, 10);
  if (*end != '\0' || token.size() > 12) {
    *error = Json10Error(400, std::string(kSfnErrorPrefix) + "InvalidToken",
                         "Invalid Token: '" + token + "'");
    return false;
  }
  *offset = static_cast<std::size_t>(value);
  return true;
}

void WriteExecution(JsonWriter& w, const ExecutionInfo& execution, bool full) {
  w.StartObject();
  SfnString(w, "executionArn", execution.execution_arn);
  SfnString(w, "stateMachineArn", execution.state_machine_arn);
  SfnString(w, "name", execution.name);
  SfnString(w, "status", execution.status);
  SfnTimestamp(w, "startDate", execution.start_date);
  if (execution.stop_date) SfnTimestamp(w, "stopDate", *execution.stop_date);
  if (full) {
    SfnString(w, "input", execution.input);
    w.Key("inputDetails");
    w.StartObject();
    w.Key("included");
    w.Bool(true);
    w.EndObject();
    if (execution.output) {
      SfnString(w, "output", *execution.output);
      w.Key("outputDetails");
      w.StartObject();
      w.Key("included");
      w.Bool(true);
      w.EndObject();
    }
    if (execution.error) SfnString(w, "error", *execution.error);
    if (execution.cause) SfnString(w, "cause", *execution.cause);
    w.Key("redriveCount");
    w.Int64(execution.redrive_count);
    if (execution.redrive_date) SfnTimestamp(w, "redriveDate", *execution.redrive_date);
    SfnString(w, "redriveStatus",
              execution.redrive_status.empty() ? "NOT_REDRIVABLE" : execution.redrive_status);
    if (!execution.redrive_status_reason.empty()) {
      SfnString(w, "redriveStatusReason", execution.redrive_status_reason);
    }
  }
  if (execution.state_machine_version_arn) {
    SfnString(w, "stateMachineVersionArn", *execution.state_machine_version_arn);
  }
  if (execution.state_machine_alias_arn) {
    SfnString(w, "stateMachineAliasArn", *execution.state_machine_alias_arn);
  }
  w.EndObject();
}

bool IsVersionArn(const std::string& arn) {
  const std::size_t colon = arn.rfind(':');
  return arn.find(":stateMachine:") != std::string::npos && colon + 1 < arn.size() &&
         std::count(arn.begin(), arn.end(), ':') == 7 &&
         arn.find_first_not_of("0123456789", colon + 1) == std::string::npos;
}

// AWS: Express executions have no DescribeExecution or GetExecutionHistory.
bool IsExpressExecutionArn(const std::string& arn) {
  return arn.starts_with("arn:") && arn.find(":express:") != std::string::npos;
}

HttpResponse ExpressNotSupported() {
  return Json10Error(400, std::string(kSfnErrorPrefix) + "InvalidArn",
                     "Invalid Arn: 'Resource type not valid in this context: express'");
}

bool CheckStatusFilter(const std::string& status, HttpResponse* error) {
  if (status.empty() || status == "RUNNING" || status == "SUCCEEDED" || status == "FAILED" ||
      status == "TIMED_OUT" || status == "ABORTED" || status == "PENDING_REDRIVE") {
    return true;
  }
  *error =
      SfnValidation("1 validation error detected: Value '" + status +
                    "' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum "
                    "value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, FAILED, RUNNING, "
                    "ABORTED]");
  return false;
}

using TagList = std::vector<std::pair<std::string, std::string>>;

// CreateStateMachine's `tags`, read (and checked) before anything is created.
bool ReadCreateTags(const rapidjson::Value* tags_json, TagList* tags, HttpResponse* error) {
  if (tags_json == nullptr) return true;
  for (const auto& item : tags_json->GetArray()) {
    if (!item.IsObject()) {
      *error = Json10Error(400, "SerializationException",
                           "Unexpected value type in 'tags': expected a structure");
      return false;
    }
    std::string key, value;
    const SfnMembers tag(item);
    if (!tag.String("key", &key, true, error, 128) ||
        !tag.String("value", &value, false, error, 256)) {
      return false;
    }
    tags->emplace_back(std::move(key), std::move(value));
  }
  if (tags->size() > 50) {
    *error = Json10Error(400, std::string(kSfnErrorPrefix) + "TooManyTags",
                         "Too many tags: a resource can have at most 50 tags");
    return false;
  }
  return true;
}

// CreateStateMachine's `tags` and `publish`, after the machine exists.
bool CreateStateMachineExtras(Engine& engine, const StateMachineInfo& created, const TagList& tags,
                              bool publish, const std::string& version_description,
                              std::optional<StateMachineVersionInfo>* version,
                              HttpResponse* error) {
  if (!tags.empty()) {
    if (auto tagged = engine.TagResource(created.arn, tags); !tagged) {
      *error = EngineError(tagged.error());
      return false;
    }
  }
  if (publish) {
    auto published =
        engine.PublishStateMachineVersion(created.arn, created.revision_id, version_description);
    if (!published) {
      *error = EngineError(published.error());
      return false;
    }
    *version = *published;
  }
  return true;
}

}  // namespace

HttpResponse SfnTooLarge(std::size_t limit) {
  return Json10Error(413, "RequestEntityTooLargeException",
                     "Request must be smaller than " + std::to_string(limit) + " bytes");
}

HttpResponse SfnApi::ValidateStateMachineDefinition(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const auto definition = body.FindMember("definition");
  if (definition == body.MemberEnd() || definition->value.IsNull()) {
    return SfnValidation(
        "1 validation error detected: Value null at 'definition' failed to satisfy constraint: "
        "Member must not be null");
  }
  if (!definition->value.IsString()) {
    return Json10Error(400, "SerializationException",
                       "STRING_VALUE can not be converted to a String");
  }
  const std::string_view text(definition->value.GetString(), definition->value.GetStringLength());
  if (text.size() > 1024 * 1024) {
    return SfnValidation(
        "1 validation error detected: Value at 'definition' failed to satisfy constraint: Member "
        "must have length less than or equal to 1048576");
  }
  std::string severity = "ERROR";
  if (const auto it = body.FindMember("severity"); it != body.MemberEnd() && it->value.IsString()) {
    severity = it->value.GetString();
    if (severity != "ERROR" && severity != "WARNING") {
      return SfnValidation("1 validation error detected: Value '" + severity +
                           "' at 'severity' failed to satisfy constraint: Member must satisfy enum "
                           "value set: [ERROR, WARNING]");
    }
  }
  int64_t max_results = 100;
  if (const auto it = body.FindMember("maxResults"); it != body.MemberEnd()) {
    if (!it->value.IsInt64() || it->value.GetInt64() < 0 || it->value.GetInt64() > 100) {
      return SfnValidation(
          "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: "
          "Member must have value less than or equal to 100");
    }
    max_results = it->value.GetInt64() == 0 ? 100 : it->value.GetInt64();
  }
  const asl::ParseResult parsed = asl::ParseDefinition(text);
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("result");
  w.String(parsed.ok() ? "OK" : "FAIL");
  w.Key("diagnostics");
  w.StartArray();
  int64_t shown = 0;
  bool truncated = false;
  for (const asl::Diagnostic& d : parsed.diagnostics) {
    const bool is_error = d.severity == asl::Severity::kError;
    if (severity == "ERROR" && !is_error) continue;
    if (shown == max_results) {
      truncated = true;
      break;
    }
    ++shown;
    w.StartObject();
    w.Key("severity");
    w.String(is_error ? "ERROR" : "WARNING");
    w.Key("code");
    w.String(d.code.c_str());
    w.Key("message");
    w.String(d.message.c_str());
    w.Key("location");
    w.String(d.location.c_str());
    w.EndObject();
  }
  w.EndArray();
  w.Key("truncated");
  w.Bool(truncated);
  w.EndObject();
  return SfnOk(buffer.GetString());
}

HttpResponse SfnApi::CreateStateMachine(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const SfnMembers m(body);
  std::string name, definition, role, type = "STANDARD", version_description;
  bool publish = false;
  const rapidjson::Value* tags_json = nullptr;
  if (!m.String("name", &name, true, &error) ||
      !m.String("definition", &definition, true, &error) ||
      !m.String("roleArn", &role, false, &error) || !m.String("type", &type, false, &error) ||
      !m.Bool("publish", &publish, &error) ||
      !m.String("versionDescription", &version_description, false, &error) ||
      !SfnMembers(body).Array("tags", &tags_json, false, &error)) {
    return error;
  }
  if (!version_description.empty() && !publish) {
    return SfnValidation("Version description can only be set when publish is true");
  }
  TagList tags;
  if (!ReadCreateTags(tags_json, &tags, &error)) return error;
  if (definition.size() > 1024 * 1024) {
    return SfnValidation(
        "1 validation error detected: Value at 'definition' failed to satisfy constraint: Member "
        "must have length less than or equal to 1048576");
  }
  const auto created = engine_->CreateStateMachine(name, definition, type, role);
  if (!created) return EngineError(created.error());
  std::optional<StateMachineVersionInfo> version;
  if (HttpResponse extra_error; !CreateStateMachineExtras(
          *engine_, *created, tags, publish, version_description, &version, &extra_error)) {
    return extra_error;
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  SfnString(w, "stateMachineArn", created->arn);
  SfnTimestamp(w, "creationDate", created->creation_date);
  if (version) SfnString(w, "stateMachineVersionArn", version->arn);
  w.EndObject();
  return SfnOk(buffer.GetString());
}

HttpResponse SfnApi::DescribeStateMachine(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  std::string arn;
  if (!SfnMembers(body).String("stateMachineArn", &arn, true, &error)) return error;
  std::string version_description;
  const auto machine = IsVersionArn(arn)
                           ? engine_->DescribeStateMachineVersion(arn, &version_description)
                           : engine_->DescribeStateMachine(arn);
  if (!machine) return EngineError(machine.error());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  SfnString(w, "stateMachineArn", machine->arn);
  SfnString(w, "name", machine->name);
  SfnString(w, "status", machine->status);
  SfnString(w, "definition", machine->definition);
  SfnString(w, "roleArn", machine->role_arn);
  SfnString(w, "type", machine->type);
  SfnTimestamp(w, "creationDate", machine->creation_date);
  w.Key("loggingConfiguration");
  w.StartObject();
  SfnString(w, "level", "OFF");
  w.Key("includeExecutionData");
  w.Bool(false);
  w.EndObject();
  if (!machine->revision_id.empty()) SfnString(w, "revisionId", machine->revision_id);
  if (!version_description.empty()) SfnString(w, "description", version_description);
  w.EndObject();
  return SfnOk(buffer.GetString());
}

HttpResponse SfnApi::UpdateStateMachine(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const SfnMembers m(body);
  std::string arn, definition, version_description;
  bool publish = false;
  if (!m.String("stateMachineArn", &arn, true, &error) ||
      !m.String("definition", &definition, false, &error) || !m.Bool("publish", &publish, &error) ||
      !m.String("versionDescription", &version_description, false, &error)) {
    return error;
  }
  if (!version_description.empty() && !publish) {
    return SfnValidation("Version description can only be set when publish is true");
  }
  if (definition.empty()) {
    return Json10Error(400, std::string(kSfnErrorPrefix) + "MissingRequiredParameter",
                       "Either the definition, the role ARN, the LoggingConfiguration, or the "
                       "TracingConfiguration must be specified");
  }
  const auto updated = engine_->UpdateStateMachine(arn, definition);
  if (!updated) return EngineError(updated.error());
  std::optional<StateMachineVersionInfo> version;
  if (publish) {
    auto published = engine_->PublishStateMachineVersion(updated->arn, updated->revision_id,
                                                         version_description);
    if (!published) return EngineError(published.error());
    version = *published;
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  SfnTimestamp(w, "updateDate", now);
  if (!updated->revision_id.empty()) SfnString(w, "revisionId", updated->revision_id);
  if (version) SfnString(w, "stateMachineVersionArn", version->arn);
  w.EndObject();
  return SfnOk(buffer.GetString());
}

HttpResponse SfnApi::DeleteStateMachine(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  std::string arn;
  if (!SfnMembers(body).String("stateMachineArn", &arn, true, &error)) return error;
  const auto status = engine_->DeleteStateMachine(arn);
  if (!status) return EngineError(status.error());
  return SfnOk("{}");
}

HttpResponse SfnApi::ListStateMachines(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const SfnMembers m(body);
  int64_t max_results = 100;
  std::string token;
  if (!m.Int("maxResults", &max_results, 0, 1000, &error) ||
      !m.String("nextToken", &token, false, &error)) {
    return error;
  }
  if (max_results == 0) max_results = 100;
  std::size_t offset = 0;
  if (!ParseOffsetToken(token, &offset, &error)) return error;
  const std::vector<StateMachineInfo> machines = engine_->ListStateMachines();
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("stateMachines");
  w.StartArray();
  std::size_t i = offset;
  for (; i < machines.size() && static_cast<int64_t>(i - offset) < max_results; ++i) {
    w.StartObject();
    SfnString(w, "stateMachineArn", machines[i].arn);
    SfnString(w, "name", machines[i].name);
    SfnString(w, "type", machines[i].type);
    SfnTimestamp(w, "creationDate", machines[i].creation_date);
    w.EndObject();
  }
  w.EndArray();
  if (i < machines.size()) SfnString(w, "nextToken", std::to_string(i));
  w.EndObject();
  return SfnOk(buffer.GetString());
}

namespace {

// StartExecution requests up to this size are parsed on the I/O thread (SfnApi::Register).
constexpr std::size_t kInlineStartBytes = 16 * 1024;

HttpResponse StartReply(const asl::Result<StartExecutionResult>& started) {
  if (!started) return EngineError(started.error());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  SfnString(w, "executionArn", started->execution_arn);
  SfnTimestamp(w, "startDate", started->start_date);
  w.EndObject();
  return SfnOk(buffer.GetString());
}

}  // namespace

HttpResponse SfnApi::StartExecution(const ApiCall& call) {
  StartRequest request;
  HttpResponse error;
  if (!ParseStartRequest(call, &request, &error)) return error;
  return StartReply(
      engine_->StartExecution(request.state_machine_arn, request.name, request.input));
}

void SfnApi::StartExecutionAsync(ApiCall call, Respond respond, WorkPool& pool) {
  // A small request on a machine ARN is parsed here, on the I/O thread, and answered from the
  // engine's decision thread once its start committed: no pool thread blocks on the commit.
  // Larger ones, and version or alias ARNs (resolving them reads the database), take the pool.
  if (call.request.body.size() <= kInlineStartBytes) {
    StartRequest request;
    HttpResponse error;
    if (!ParseStartRequest(call, &request, &error)) return respond(std::move(error));
    if (engine_->StartExecutionAsync(request.state_machine_arn, request.name, request.input,
                                     [respond](const asl::Result<StartExecutionResult>& started) {
                                       HttpResponse response;
                                       try {
                                         response = StartReply(started);
                                       } catch (const std::exception& e) {
                                         response = Json10Error(500, "InternalFailure", e.what());
                                       }
                                       respond(std::move(response));
                                     })) {
      return;
    }
  }
  pool.Post([this, call = std::move(call), respond = std::move(respond)] {
    HttpResponse response;
    try {
      response = StartExecution(call);
    } catch (const std::exception& e) {
      response = Json10Error(500, "InternalFailure", e.what());
    }
    respond(std::move(response));
  });
}

HttpResponse SfnApi::StartSyncExecution(const ApiCall& call) {
  StartRequest request;
  HttpResponse error;
  if (!ParseStartRequest(call, &request, &error)) return error;
  const auto result =
      engine_->StartSyncExecution(request.state_machine_arn, request.name, request.input);
  if (!result) return EngineError(result.error());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  SfnString(w, "executionArn", result->execution_arn);
  SfnString(w, "stateMachineArn", result->state_machine_arn);
  SfnString(w, "name", result->name);
  SfnTimestamp(w, "startDate", result->start_date);
  SfnTimestamp(w, "stopDate", result->stop_date);
  SfnString(w, "status", result->status);
  SfnString(w, "input", request.input);
  if (result->output) SfnString(w, "output", *result->output);
  if (result->error) SfnString(w, "error", *result->error);
  if (result->cause) SfnString(w, "cause", *result->cause);
  w.EndObject();
  return SfnOk(buffer.GetString());
}

HttpResponse SfnApi::DescribeExecution(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  std::string arn;
  if (!SfnMembers(body).String("executionArn", &arn, true, &error)) return error;
  if (IsExpressExecutionArn(arn)) return ExpressNotSupported();
  const auto execution = engine_->DescribeExecution(arn);
  if (!execution) return EngineError(execution.error());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  WriteExecution(w, *execution, true);
  return SfnOk(buffer.GetString());
}

HttpResponse SfnApi::ListExecutions(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const SfnMembers m(body);
  std::string arn, status, token;
  int64_t max_results = 100;
  if (!m.String("stateMachineArn", &arn, true, &error) ||
      !m.String("statusFilter", &status, false, &error) ||
      !m.Int("maxResults", &max_results, 0, 1000, &error) ||
      !m.String("nextToken", &token, false, &error)) {
    return error;
  }
  if (!CheckStatusFilter(status, &error)) return error;
  const auto page = engine_->ListExecutionsPage(arn, status, max_results, token);
  if (!page) return EngineError(page.error());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("executions");
  w.StartArray();
  for (const ExecutionInfo& execution : page->items) WriteExecution(w, execution, false);
  w.EndArray();
  if (!page->next_token.empty()) SfnString(w, "nextToken", page->next_token);
  w.EndObject();
  return SfnOk(buffer.GetString());
}

HttpResponse SfnApi::GetExecutionHistory(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const SfnMembers m(body);
  std::string arn, token;
  int64_t max_results = 100;
  bool reverse = false;
  bool include_data = true;
  if (!m.String("executionArn", &arn, true, &error) ||
      !m.Int("maxResults", &max_results, 0, 1000, &error) ||
      !m.String("nextToken", &token, false, &error) || !m.Bool("reverseOrder", &reverse, &error) ||
      !m.Bool("includeExecutionData", &include_data, &error)) {
    return error;
  }
  if (max_results == 0) max_results = 100;
  if (IsExpressExecutionArn(arn)) return ExpressNotSupported();
  const auto page = engine_->GetExecutionHistory(arn, max_results, token, reverse);
  if (!page) return EngineError(page.error());
  std::string out = "{\"events\":[";
  for (std::size_t i = 0; i < page->events.size(); ++i) {
    if (i) out += ',';
    AppendSfnHistoryEvent(out, page->events[i], include_data);
  }
  out += "]";
  if (!page->next_token.empty()) out += ",\"nextToken\":" + JsonQuote(page->next_token);
  out += "}";
  return SfnOk(std::move(out));
}

HttpResponse SfnApi::StopExecution(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const SfnMembers m(body);
  std::string arn, stop_error, cause;
  if (!m.String("executionArn", &arn, true, &error) ||
      !m.String("error", &stop_error, false, &error) || !m.String("cause", &cause, false, &error)) {
    return error;
  }
  const auto stopped = engine_->StopExecution(arn, stop_error, cause);
  if (!stopped) return EngineError(stopped.error());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  SfnTimestamp(w, "stopDate", *stopped);
  w.EndObject();
  return SfnOk(buffer.GetString());
}

HttpResponse SfnApi::SendTaskSuccess(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const SfnMembers m(body);
  std::string token, output;
  if (!m.String("taskToken", &token, true, &error) || !m.String("output", &output, true, &error) ||
      !CheckPayloadSize(output, "output", &error)) {
    return error;
  }
  const auto status = engine_->SendTaskSuccess(token, output);
  if (!status) return EngineError(status.error());
  return SfnOk("{}");
}

HttpResponse SfnApi::SendTaskFailure(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const SfnMembers m(body);
  std::string token, task_error, cause;
  if (!m.String("taskToken", &token, true, &error) ||
      !m.String("error", &task_error, false, &error) || !m.String("cause", &cause, false, &error)) {
    return error;
  }
  const auto status = engine_->SendTaskFailure(token, task_error, cause);
  if (!status) return EngineError(status.error());
  return SfnOk("{}");
}

HttpResponse SfnApi::SendTaskHeartbeat(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  std::string token;
  if (!SfnMembers(body).String("taskToken", &token, true, &error)) return error;
  const auto status = engine_->SendTaskHeartbeat(token);
  if (!status) return EngineError(status.error());
  return SfnOk("{}");
}

void SfnApi::Register(Router& router, WorkPool& control, WorkPool& long_running) {
  using Method = HttpResponse (SfnApi::*)(const ApiCall&);
  auto add = [&](const char* operation, Method fn, WorkPool& pool) {
    AddSfnOperation(router, pool, operation,
                    [this, fn](const ApiCall& call) { return (this->*fn)(call); });
  };
  add("ValidateStateMachineDefinition", &SfnApi::ValidateStateMachineDefinition, control);
  if (!engine_) return;
  add("CreateStateMachine", &SfnApi::CreateStateMachine, control);
  add("DescribeStateMachine", &SfnApi::DescribeStateMachine, control);
  add("UpdateStateMachine", &SfnApi::UpdateStateMachine, control);
  add("DeleteStateMachine", &SfnApi::DeleteStateMachine, control);
  add("ListStateMachines", &SfnApi::ListStateMachines, control);
  router.AddJson10("AWSStepFunctions.StartExecution",
                   [this, &control](ApiCall call, Respond respond) {
                     StartExecutionAsync(std::move(call), std::move(respond), control);
                   });
  add("StartSyncExecution", &SfnApi::StartSyncExecution, long_running);
  add("DescribeExecution", &SfnApi::DescribeExecution, control);
  add("ListExecutions", &SfnApi::ListExecutions, control);
  add("GetExecutionHistory", &SfnApi::GetExecutionHistory, control);
  add("StopExecution", &SfnApi::StopExecution, control);
  add("SendTaskSuccess", &SfnApi::SendTaskSuccess, control);
  add("SendTaskFailure", &SfnApi::SendTaskFailure, control);
  add("SendTaskHeartbeat", &SfnApi::SendTaskHeartbeat, control);
  RegisterSfnVersionOperations(router, control, *engine_);
  RegisterSfnTestState(router, long_running, *engine_);
  RegisterSfnActivities(*engine_, router, control, long_running);
}

}  // namespace switchyard::orchestrator::api
