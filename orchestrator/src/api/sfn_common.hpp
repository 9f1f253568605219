#pragma once
// What the Step Functions operations outside sfn_api.cpp share: JSON 1.0 bodies, members with
// AWS's errors, AWS's timestamps (epoch seconds with a fraction), history events as AWS sends
// them, and mounting an operation on a work pool.
// Thread model: plain functions; thread-safe.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>

#include "api/http.hpp"
#include "api/router.hpp"
#include "switchyard/asl/result.hpp"

namespace switchyard::orchestrator {
class Engine;
struct HistoryEntry;
}  // namespace switchyard::orchestrator

namespace switchyard::orchestrator::api {

class WorkPool;

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

HttpResponse SfnOk(std::string body);
HttpResponse SfnValidation(const std::string& message);
// An engine error (asl::Error{AWS error name, message}) as a 400 in AWS's shape.
HttpResponse SfnEngineError(const asl::Error& error);
// The body as one JSON object; false + a SerializationException otherwise.
bool ParseSfnBody(const ApiCall& call, rapidjson::Document* doc, HttpResponse* error);

// Members of a JSON 1.0 request, with AWS's errors for a wrong type or a missing member.
class SfnMembers {
 public:
  explicit SfnMembers(const rapidjson::Value& object) : object_(object) {}
  bool Has(const char* name) const;
  bool String(const char* name, std::string* out, bool required, HttpResponse* error,
              std::size_t max_length = 0) const;
  bool Int(const char* name, int64_t* out, int64_t min, int64_t max, HttpResponse* error) const;
  bool Bool(const char* name, bool* out, HttpResponse* error) const;
  // An array member (nullptr when absent); false + an error when not an array.
  bool Array(const char* name, const rapidjson::Value** out, bool required,
             HttpResponse* error) const;
  // A structure member (nullptr when absent); false + an error when not an object.
  bool Object(const char* name, const rapidjson::Value** out, HttpResponse* error) const;

 private:
  const rapidjson::Value& object_;
};

// Epoch seconds with a millisecond fraction, as a JSON number.
void SfnTimestamp(JsonWriter& w, const char* key, int64_t ns);
void SfnString(JsonWriter& w, const char* key, const std::string& value);
// One history event: {"timestamp": <epoch seconds>, "type", "id", "previousEventId",
// <details_key>: {...}}; without `input`/`output` in the details when `include_data` is false.
void AppendSfnHistoryEvent(std::string& out, const HistoryEntry& entry, bool include_data);

// Mounts AWSStepFunctions.<operation> on `pool`; an exception becomes a 500 InternalFailure.
void AddSfnOperation(Router& router, WorkPool& pool, const char* operation,
                     std::function<HttpResponse(const ApiCall&)> handler);

// The operations of sfn_versions.cpp (versions, aliases, tags, DescribeStateMachineForExecution)
// and sfn_test_state.cpp (TestState).
void RegisterSfnVersionOperations(Router& router, WorkPool& pool, Engine& engine);
void RegisterSfnTestState(Router& router, WorkPool& pool, Engine& engine);

}  // namespace switchyard::orchestrator::api
