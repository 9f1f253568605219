#pragma once
// Small helpers shared by the Lambda operations (lambda_api.cpp, lambda_configs.cpp): REST-JSON
// answers and typed request members with AWS's errors. Plain functions; thread-safe.
#include <rapidjson/fwd.h>

#include <cstdint>
#include <optional>
#include <string>

#include "api/http.hpp"

namespace switchyard::invoker {
class Invoker;
}

namespace switchyard::orchestrator::api {

struct FunctionRecord;

// Drops from `invoker` the versions and aliases of `record`'s function that the record no longer
// has (deleted versions and aliases must not stay reachable, e.g. from Task states).
void RetainRecordQualifiers(invoker::Invoker& invoker, const FunctionRecord& record);

// A JSON answer with `status`.
HttpResponse Ok(int status, std::string body);
// 204 without a body.
HttpResponse NoContent();
// 400 InvalidParameterValueException with `message`.
HttpResponse InvalidParameter(const std::string& message);

// The member `name` of `object`; nullptr when absent or null.
const rapidjson::Value* Member(const rapidjson::Value& object, const char* name);
// An integer member; absent (or null) leaves `out` unset. False with `error` set
// (InvalidRequestContentException) when it is not an integer.
bool GetInt(const rapidjson::Value& object, const char* name, std::optional<int64_t>* out,
            HttpResponse* error);

}  // namespace switchyard::orchestrator::api
