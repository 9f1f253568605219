#include "api/sfn_common.hpp"

#include <utility>

#include "api/aws_error.hpp"
#include "api/sfn_api.hpp"
#include "api/work_pool.hpp"
#include "switchyard/asl/json.hpp"
#include "switchyard/orchestrator/engine.hpp"

namespace switchyard::orchestrator::api {

HttpResponse SfnOk(std::string body) {
  HttpResponse response;
  response.content_type = std::string(kJson10ContentType);
  response.body = std::move(body);
  return response;
}

HttpResponse SfnValidation(const std::string& message) {
  return Json10Error(400, "ValidationException", message);
}

HttpResponse SfnEngineError(const asl::Error& error) {
  HttpResponse response = Json10Error(400, std::string(kSfnErrorPrefix) + error.error, error.cause);
  // AWS: ResourceNotFound and TooManyTags also name the resource ("...: '<arn>'").
  const std::size_t open = error.cause.find('\'');
  const std::size_t close = error.cause.rfind('\'');
  if ((error.error == "ResourceNotFound" || error.error == "TooManyTags") &&
      open != std::string::npos && close > open && response.body.ends_with("}")) {
    response.body.pop_back();
    response.body +=
        ",\"resourceName\":" + JsonQuote(error.cause.substr(open + 1, close - open - 1)) + "}";
  }
  return response;
}

bool ParseSfnBody(const ApiCall& call, rapidjson::Document* doc, HttpResponse* error) {
  const std::string& body = call.request.body;
  doc->Parse(body.data(), body.size());
  if (doc->HasParseError()) {
    *error = Json10Error(400, "SerializationException", "Unable to parse the request body as JSON");
    return false;
  }
  if (!doc->IsObject()) {
    *error = Json10Error(400, "SerializationException",
                         "Start of structure or map found where not expected.");
    return false;
  }
  return true;
}

namespace {
HttpResponse WrongType(const char* name, const char* what) {
  return Json10Error(
      400, "SerializationException",
      std::string("Unexpected value type for member '") + name + "': expected " + what);
}
HttpResponse Missing(const char* name) {
  return SfnValidation(std::string("1 validation error detected: Value null at '") + name +
                       "' failed to satisfy constraint: Member must not be null");
}
}  // namespace

bool SfnMembers::Has(const char* name) const {
  const auto it = object_.FindMember(name);
  return it != object_.MemberEnd() && !it->value.IsNull();
}

bool SfnMembers::String(const char* name, std::string* out, bool required, HttpResponse* error,
                        std::size_t max_length) const {
  const auto it = object_.FindMember(name);
  if (it == object_.MemberEnd() || it->value.IsNull()) {
    if (required) *error = Missing(name);
    return !required;
  }
  if (!it->value.IsString()) {
    *error = WrongType(name, "a string");
    return false;
  }
  if (max_length > 0 && it->value.GetStringLength() > max_length) {
    *error = SfnValidation(std::string("1 validation error detected: Value at '") + name +
                           "' failed to satisfy constraint: Member must have length less than "
                           "or equal to " +
                           std::to_string(max_length));
    return false;
  }
  out->assign(it->value.GetString(), it->value.GetStringLength());
  return true;
}

bool SfnMembers::Int(const char* name, int64_t* out, int64_t min, int64_t max,
                     HttpResponse* error) const {
  const auto it = object_.FindMember(name);
  if (it == object_.MemberEnd() || it->value.IsNull()) return true;
  if (!it->value.IsInt64()) {
    *error = WrongType(name, "an integer");
    return false;
  }
  const int64_t value = it->value.GetInt64();
  if (value < min || value > max) {
    *error = SfnValidation(
        "1 validation error detected: Value '" + std::to_string(value) + "' at '" + name +
        "' failed to satisfy constraint: Member must have value less than or "
        "equal to " +
        std::to_string(max) + " and greater than or equal to " + std::to_string(min));
    return false;
  }
  *out = value;
  return true;
}

bool SfnMembers::Bool(const char* name, bool* out, HttpResponse* error) const {
  const auto it = object_.FindMember(name);
  if (it == object_.MemberEnd() || it->value.IsNull()) return true;
  if (!it->value.IsBool()) {
    *error = WrongType(name, "a boolean");
    return false;
  }
  *out = it->value.GetBool();
  return true;
}

bool SfnMembers::Array(const char* name, const rapidjson::Value** out, bool required,
                       HttpResponse* error) const {
  *out = nullptr;
  const auto it = object_.FindMember(name);
  if (it == object_.MemberEnd() || it->value.IsNull()) {
    if (required) *error = Missing(name);
    return !required;
  }
  if (!it->value.IsArray()) {
    *error = WrongType(name, "a list");
    return false;
  }
  *out = &it->value;
  return true;
}

bool SfnMembers::Object(const char* name, const rapidjson::Value** out, HttpResponse* error) const {
  *out = nullptr;
  const auto it = object_.FindMember(name);
  if (it == object_.MemberEnd() || it->value.IsNull()) return true;
  if (!it->value.IsObject()) {
    *error = WrongType(name, "a structure");
    return false;
  }
  *out = &it->value;
  return true;
}

void SfnTimestamp(JsonWriter& w, const char* key, int64_t ns) {
  w.Key(key);
  w.Double(static_cast<double>(ns / 1000000) / 1000.0);
}

void SfnString(JsonWriter& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

void AppendSfnHistoryEvent(std::string& out, const HistoryEntry& entry, bool include_data) {
  rapidjson::StringBuffer stamp;
  JsonWriter w(stamp);
  w.Double(static_cast<double>(entry.timestamp / 1000000) / 1000.0);
  out += "{\"timestamp\":";
  out += stamp.GetString();
  out += ",\"type\":";
  asl::AppendJsonString(out, entry.type);
  out += ",\"id\":" + std::to_string(entry.id) +
         ",\"previousEventId\":" + std::to_string(entry.previous_event_id);
  if (!entry.details_key.empty()) {
    out += ',';
    asl::AppendJsonString(out, entry.details_key);
    out += ':';
    std::optional<asl::Json> details;
    if (!include_data && !entry.details.empty()) details = asl::ParseJson(entry.details);
    if (details && details->IsObject()) {
      // AWS: without execution data, events keep their shape but lose input and output.
      details->EraseMember("input");
      details->EraseMember("output");
      out += asl::DumpJson(*details);
    } else {
      out += entry.details.empty() ? "{}" : entry.details;
    }
  }
  out += '}';
}

void AddSfnOperation(Router& router, WorkPool& pool, const char* operation,
                     std::function<HttpResponse(const ApiCall&)> handler) {
  router.AddJson10(std::string("AWSStepFunctions.") + operation,
                   [&pool, handler = std::move(handler)](ApiCall call, Respond respond) {
                     pool.Post([handler, call = std::move(call), respond = std::move(respond)] {
                       HttpResponse response;
                       try {
                         response = handler(call);
                       } catch (const std::exception& e) {
                         response = Json10Error(500, "InternalFailure", e.what());
                       }
                       respond(std::move(response));
                     });
                   });
}

}  // namespace switchyard::orchestrator::api
