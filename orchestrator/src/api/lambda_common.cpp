#include "api/lambda_common.hpp"

#include <rapidjson/document.h>

#include "api/aws_error.hpp"

namespace switchyard::orchestrator::api {

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
