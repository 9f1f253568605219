// Activities and RedriveExecution (Step Functions JSON 1.0). Members, errors and status codes
// follow the Step Functions API reference.
#include "api/sfn_activities.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <optional>
#include <string>

#include "api/aws_error.hpp"
#include "api/sfn_api.hpp"
#include "api/work_pool.hpp"
#include "switchyard/orchestrator/engine.hpp"

namespace switchyard::orchestrator::api {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

HttpResponse Ok(std::string body) {
  HttpResponse response;
  response.content_type = std::string(kJson10ContentType);
  response.body = std::move(body);
  return response;
}

HttpResponse EngineError(const asl::Error& error) {
  return Json10Error(400, std::string(kSfnErrorPrefix) + error.error, error.cause);
}

HttpResponse Validation(const std::string& message) {
  return Json10Error(400, "ValidationException", message);
}

// The request body as one JSON object, or AWS's SerializationException.
std::optional<HttpResponse> Parse(const ApiCall& call, rapidjson::Document* doc) {
  doc->Parse(call.request.body.data(), call.request.body.size());
  if (doc->HasParseError()) {
    return Json10Error(400, "SerializationException", "Unable to parse the request body as JSON");
  }
  if (!doc->IsObject()) {
    return Json10Error(400, "SerializationException",
                       "Start of structure or map found where not expected.");
  }
  return std::nullopt;
}

// A string member: absent → nullopt result with no error unless required.
std::optional<HttpResponse> GetString(const rapidjson::Document& doc, const char* name,
                                      std::string* out, bool required, std::size_t max_length) {
  const auto it = doc.FindMember(name);
  if (it == doc.MemberEnd() || it->value.IsNull()) {
    if (!required) return std::nullopt;
    return Validation(std::string("1 validation error detected: Value null at '") + name +
                      "' failed to satisfy constraint: Member must not be null");
  }
  if (!it->value.IsString()) {
    return Json10Error(
        400, "SerializationException",
        std::string("Unexpected value type for member '") + name + "': expected a string");
  }
  out->assign(it->value.GetString(), it->value.GetStringLength());
  if (out->size() > max_length) {
    return Validation(std::string("1 validation error detected: Value at '") + name +
                      "' failed to satisfy constraint: Member must have length less than or "
                      "equal to " +
                      std::to_string(max_length));
  }
  return std::nullopt;
}

void Str(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

void Timestamp(Writer& w, const char* key, int64_t ns) {
  w.Key(key);
  w.Double(static_cast<double>(ns / 1000000) / 1000.0);
}

void WriteActivity(Writer& w, const ActivityInfo& activity) {
  w.StartObject();
  Str(w, "activityArn", activity.arn);
  Str(w, "name", activity.name);
  Timestamp(w, "creationDate", activity.creation_date);
  w.EndObject();
}

// CreateActivity's tags: [{"key": 1-128 chars, "value": 0-256 chars}], at most 50.
std::optional<HttpResponse> CheckTags(const rapidjson::Document& doc, std::string* tags_text) {
  const auto it = doc.FindMember("tags");
  if (it == doc.MemberEnd() || it->value.IsNull()) {
    *tags_text = "[]";
    return std::nullopt;
  }
  if (!it->value.IsArray()) {
    return Json10Error(400, "SerializationException",
                       "Unexpected value type for member 'tags': expected a list");
  }
  if (it->value.Size() > 50) {
    return Json10Error(400, std::string(kSfnErrorPrefix) + "TooManyTags",
                       "Too many tags: at most 50 are allowed");
  }
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartArray();
  for (const auto& tag : it->value.GetArray()) {
    const auto key =
        tag.IsObject() ? tag.FindMember("key") : rapidjson::Value::ConstMemberIterator();
    if (!tag.IsObject() || key == tag.MemberEnd() || !key->value.IsString() ||
        key->value.GetStringLength() < 1 || key->value.GetStringLength() > 128) {
      return Validation(
          "1 validation error detected: Value at 'tags' failed to satisfy constraint: each tag "
          "needs a 'key' of 1 to 128 characters");
    }
    std::string value;
    const auto v = tag.FindMember("value");
    if (v != tag.MemberEnd() && !v->value.IsNull()) {
      if (!v->value.IsString() || v->value.GetStringLength() > 256) {
        return Validation(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: a tag's "
            "'value' is a string of at most 256 characters");
      }
      value.assign(v->value.GetString(), v->value.GetStringLength());
    }
    w.StartObject();
    Str(w, "key", std::string(key->value.GetString(), key->value.GetStringLength()));
    Str(w, "value", value);
    w.EndObject();
  }
  w.EndArray();
  *tags_text = buffer.GetString();
  return std::nullopt;
}

HttpResponse CreateActivity(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  if (auto error = Parse(call, &body)) return *error;
  std::string name, tags;
  if (auto error = GetString(body, "name", &name, true, 80)) return *error;
  if (auto error = CheckTags(body, &tags)) return *error;
  const auto created = engine.CreateActivity(name, tags);
  if (!created) {
    if (created.error().error == "ValidationException") {
      return Validation(created.error().cause);
    }
    return EngineError(created.error());
  }
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Str(w, "activityArn", created->arn);
  Timestamp(w, "creationDate", created->creation_date);
  w.EndObject();
  return Ok(buffer.GetString());
}

HttpResponse DeleteActivity(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  if (auto error = Parse(call, &body)) return *error;
  std::string arn;
  if (auto error = GetString(body, "activityArn", &arn, true, 256)) return *error;
  const auto status = engine.DeleteActivity(arn);
  if (!status) return EngineError(status.error());
  return Ok("{}");
}

HttpResponse DescribeActivity(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  if (auto error = Parse(call, &body)) return *error;
  std::string arn;
  if (auto error = GetString(body, "activityArn", &arn, true, 256)) return *error;
  const auto activity = engine.DescribeActivity(arn);
  if (!activity) return EngineError(activity.error());
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  WriteActivity(w, *activity);
  return Ok(buffer.GetString());
}

HttpResponse ListActivities(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  if (auto error = Parse(call, &body)) return *error;
  std::string token;
  if (auto error = GetString(body, "nextToken", &token, false, 1024)) return *error;
  int64_t max_results = 0;
  const auto it = body.FindMember("maxResults");
  if (it != body.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsInt64()) {
      return Json10Error(400, "SerializationException",
                         "Unexpected value type for member 'maxResults': expected an integer");
    }
    max_results = it->value.GetInt64();
    if (max_results < 0 || max_results > 1000) {
      return Validation("1 validation error detected: Value '" + std::to_string(max_results) +
                        "' at 'maxResults' failed to satisfy constraint: Member must have value "
                        "less than or equal to 1000 and greater than or equal to 0");
    }
  }
  const auto page = engine.ListActivities(max_results, token);
  if (!page) return EngineError(page.error());
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("activities");
  w.StartArray();
  for (const auto& activity : page->activities) WriteActivity(w, activity);
  w.EndArray();
  if (!page->next_token.empty()) Str(w, "nextToken", page->next_token);
  w.EndObject();
  return Ok(buffer.GetString());
}

HttpResponse GetActivityTask(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  if (auto error = Parse(call, &body)) return *error;
  std::string arn, worker;
  if (auto error = GetString(body, "activityArn", &arn, true, 256)) return *error;
  if (auto error = GetString(body, "workerName", &worker, false, 80)) return *error;
  const auto task = engine.GetActivityTask(arn, worker, std::chrono::seconds(60));
  if (!task) return EngineError(task.error());
  // AWS: no task within 60 s → an answer without a token.
  if (task->task_token.empty()) return Ok("{}");
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Str(w, "taskToken", task->task_token);
  Str(w, "input", task->input);
  w.EndObject();
  return Ok(buffer.GetString());
}

HttpResponse RedriveExecution(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  if (auto error = Parse(call, &body)) return *error;
  std::string arn, client_token;
  if (auto error = GetString(body, "executionArn", &arn, true, 2048)) return *error;
  if (auto error = GetString(body, "clientToken", &client_token, false, 64)) return *error;
  const auto date = engine.RedriveExecution(arn, client_token);
  if (!date) return EngineError(date.error());
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Timestamp(w, "redriveDate", *date);
  w.EndObject();
  return Ok(buffer.GetString());
}

}  // namespace

void RegisterSfnActivities(Engine& engine, Router& router, WorkPool& control,
                           WorkPool& long_running) {
  using Handler = HttpResponse (*)(Engine&, const ApiCall&);
  auto add = [&](const char* operation, Handler fn, WorkPool& pool) {
    router.AddJson10(
        std::string("AWSStepFunctions.") + operation,
        [&engine, fn, &pool](ApiCall call, Respond respond) {
          pool.Post([&engine, fn, call = std::move(call), respond = std::move(respond)] {
            HttpResponse response;
            try {
              response = fn(engine, call);
            } catch (const std::exception& e) {
              response = Json10Error(500, "InternalFailure", e.what());
            }
            respond(std::move(response));
          });
        });
  };
  add("CreateActivity", &CreateActivity, control);
  add("DeleteActivity", &DeleteActivity, control);
  add("DescribeActivity", &DescribeActivity, control);
  add("ListActivities", &ListActivities, control);
  add("GetActivityTask", &GetActivityTask, long_running);
  add("RedriveExecution", &RedriveExecution, control);
}

}  // namespace switchyard::orchestrator::api
