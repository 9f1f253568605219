// Step Functions operations (JSON 1.0). Members, errors and status codes follow the Step
// Functions API reference.
#include "api/sfn_api.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api/aws_error.hpp"
#include "api/work_pool.hpp"
#include "switchyard/asl/definition.hpp"

namespace switchyard::orchestrator::api {
namespace {

HttpResponse Json10Ok(std::string body) {
  HttpResponse response;
  response.content_type = std::string(kJson10ContentType);
  response.body = std::move(body);
  return response;
}

HttpResponse Validation(const std::string& message) {
  return Json10Error(400, "ValidationException", message);
}

// JSON 1.0 bodies must be one JSON object.
bool ParseJson10Body(const ApiCall& call, rapidjson::Document* doc, HttpResponse* error) {
  const std::string& body = call.request.body;
  doc->Parse(body.data(), body.size());
  if (doc->HasParseError() || !doc->IsObject()) {
    *error = Json10Error(400, "SerializationException",
                         "Start of structure or map found where not expected.");
    if (doc->HasParseError()) {
      *error =
          Json10Error(400, "SerializationException", "Unable to parse the request body as JSON");
    }
    return false;
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
  if (!ParseJson10Body(call, &body, &error)) return error;
  const auto definition = body.FindMember("definition");
  if (definition == body.MemberEnd() || definition->value.IsNull()) {
    return Validation(
        "1 validation error detected: Value null at 'definition' failed to satisfy constraint: "
        "Member must not be null");
  }
  if (!definition->value.IsString()) {
    return Json10Error(400, "SerializationException",
                       "STRING_VALUE can not be converted to a String");
  }
  const std::string_view text(definition->value.GetString(), definition->value.GetStringLength());
  if (text.size() > 1024 * 1024) {
    return Validation(
        "1 validation error detected: Value at 'definition' failed to satisfy constraint: Member "
        "must have length less than or equal to 1048576");
  }
  std::string severity = "ERROR";
  if (const auto it = body.FindMember("severity"); it != body.MemberEnd() && it->value.IsString()) {
    severity = it->value.GetString();
    if (severity != "ERROR" && severity != "WARNING") {
      return Validation("1 validation error detected: Value '" + severity +
                        "' at 'severity' failed to satisfy constraint: Member must satisfy enum "
                        "value set: [ERROR, WARNING]");
    }
  }
  int64_t max_results = 100;
  if (const auto it = body.FindMember("maxResults"); it != body.MemberEnd()) {
    if (!it->value.IsInt64() || it->value.GetInt64() < 0 || it->value.GetInt64() > 100) {
      return Validation(
          "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: "
          "Member must have value less than or equal to 100");
    }
    max_results = it->value.GetInt64() == 0 ? 100 : it->value.GetInt64();
  }
  const asl::ParseResult parsed = asl::ParseDefinition(text);
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
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
  return Json10Ok(buffer.GetString());
}

void SfnApi::Register(Router& router, WorkPool& pool) {
  router.AddJson10("AWSStepFunctions.ValidateStateMachineDefinition",
                   [this, &pool](ApiCall call, Respond respond) {
                     pool.Post([this, call = std::move(call), respond = std::move(respond)] {
                       respond(ValidateStateMachineDefinition(call));
                     });
                   });
}

}  // namespace switchyard::orchestrator::api
