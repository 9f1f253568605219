#include "api/lambda_common.hpp"

#include <rapidjson/document.h>

#include <set>

#include "api/aws_error.hpp"
#include "api/function_registry.hpp"
#include "switchyard/invoker/invoker.hpp"

namespace switchyard::orchestrator::api {

void RetainRecordQualifiers(invoker::Invoker& invoker, const FunctionRecord& record) {
  std::set<std::string> versions;
  for (const auto& [number, version] : record.versions) versions.insert(std::to_string(number));
  std::set<std::string> aliases;
  for (const auto& [alias_name, alias] : record.aliases) aliases.insert(alias_name);
  invoker.RetainQualifiers(record.latest.config.function_name, versions, aliases);
}

HttpResponse Ok(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

HttpResponse NoContent() {
  HttpResponse response;
  response.status = 204;
  response.content_type.clear();
  return response;
}

HttpResponse InvalidParameter(const std::string& message) {
  return RestJsonError(400, "InvalidParameterValueException", message);
}

const rapidjson::Value* Member(const rapidjson::Value& object, const char* name) {
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

bool GetInt(const rapidjson::Value& object, const char* name, std::optional<int64_t>* out,
            HttpResponse* error) {
  const rapidjson::Value* value = Member(object, name);
  if (!value) return true;
  if (!value->IsInt64()) {
    *error = RestJsonError(400, "InvalidRequestContentException",
                           std::string("Could not parse request body into json: member '") + name +
                               "' must be an integer");
    return false;
  }
  *out = value->GetInt64();
  return true;
}

}  // namespace switchyard::orchestrator::api
