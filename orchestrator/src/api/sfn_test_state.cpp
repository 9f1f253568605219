// TestState (JSON 1.0): one state run on its own, with AWS's request and response members
// (stateName, mock, context, stateConfiguration.retrierRetryCount included; the other members of
// stateConfiguration concern Map and Parallel mocks of errors and Distributed Map readers, and
// are accepted but not used).
#include <cstdint>

#include "api/aws_error.hpp"
#include "api/sfn_api.hpp"
#include "api/sfn_common.hpp"
#include "switchyard/orchestrator/engine.hpp"

namespace switchyard::orchestrator::api {

namespace {

HttpResponse TestState(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const SfnMembers m(body);
  TestStateRequest request;
  std::string role;
  bool reveal_secrets = false;  // only TRACE of HTTP tasks shows secrets; none are kept here
  const rapidjson::Value* mock = nullptr;
  const rapidjson::Value* configuration = nullptr;
  if (!m.String("definition", &request.definition, true, &error, 1024 * 1024) ||
      !m.String("roleArn", &role, false, &error, 256) ||
      !m.String("input", &request.input, false, &error, kMaxSfnPayloadBytes) ||
      !m.String("inspectionLevel", &request.inspection_level, false, &error) ||
      !m.Bool("revealSecrets", &reveal_secrets, &error) ||
      !m.String("variables", &request.variables, false, &error, kMaxSfnPayloadBytes) ||
      !m.String("stateName", &request.state_name, false, &error, 80) ||
      !m.String("context", &request.context, false, &error, kMaxSfnPayloadBytes) ||
      !m.Object("mock", &mock, &error) || !m.Object("stateConfiguration", &configuration, &error)) {
    return error;
  }
  if (m.Has("stateName") && request.state_name.empty()) {
    return SfnValidation(
        "1 validation error detected: Value at 'stateName' failed to satisfy constraint: Member "
        "must have length greater than or equal to 1");
  }
  if (mock != nullptr) {
    const SfnMembers mock_members(*mock);
    const rapidjson::Value* error_output = nullptr;
    std::string result;
    if (!mock_members.String("result", &result, false, &error, kMaxSfnPayloadBytes) ||
        !mock_members.Object("errorOutput", &error_output, &error) ||
        !mock_members.String("fieldValidationMode", &request.field_validation_mode, false,
                             &error)) {
      return error;
    }
    if (mock_members.Has("result")) request.mock_result = result;
    if (error_output != nullptr) {
      const SfnMembers output(*error_output);
      if (!output.String("error", &request.mock_error, true, &error, 256) ||
          !output.String("cause", &request.mock_cause, false, &error, 32768)) {
        return error;
      }
    }
    if (!request.mock_result && error_output == nullptr) {
      return SfnValidation("mock must specify either result or errorOutput");
    }
    if (request.mock_result && error_output != nullptr) {
      return SfnValidation("mock may specify result or errorOutput, not both");
    }
    if (error_output != nullptr && request.mock_error.empty()) {
      return SfnValidation("mock.errorOutput.error must not be empty");
    }
  }
  if (configuration != nullptr) {
    const SfnMembers config(*configuration);
    if (config.Has("retrierRetryCount")) {
      int64_t count = 0;
      if (!config.Int("retrierRetryCount", &count, 0, INT32_MAX, &error)) return error;
      request.retrier_retry_count = count;
    }
  }
  auto result = engine.TestState(request);
  if (!result) return SfnEngineError(result.error());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  if (result->output) SfnString(w, "output", *result->output);
  if (result->error) SfnString(w, "error", *result->error);
  if (result->cause) SfnString(w, "cause", *result->cause);
  if (result->inspected) {
    w.Key("inspectionData");
    w.StartObject();
    auto field = [&](const char* key, const std::optional<std::string>& value) {
      if (value) SfnString(w, key, *value);
    };
    field("input", result->input);
    field("afterInputPath", result->after_input_path);
    field("afterParameters", result->after_parameters);
    field("result", result->result);
    field("afterResultSelector", result->after_result_selector);
    field("afterResultPath", result->after_result_path);
    field("variables", result->variables);
    if (result->catch_index || result->retry_index) {
      w.Key("errorDetails");
      w.StartObject();
      if (result->catch_index) {
        w.Key("catchIndex");
        w.Int64(*result->catch_index);
      }
      if (result->retry_index) {
        w.Key("retryIndex");
        w.Int64(*result->retry_index);
        w.Key("retryBackoffIntervalSeconds");
        w.Int64(result->retry_backoff_seconds.value_or(0));
      }
      w.EndObject();
    }
    w.EndObject();
  }
  if (result->next_state) SfnString(w, "nextState", *result->next_state);
  SfnString(w, "status", result->status);
  w.EndObject();
  return SfnOk(buffer.GetString());
}

}  // namespace

void RegisterSfnTestState(Router& router, WorkPool& pool, Engine& engine) {
  AddSfnOperation(router, pool, "TestState",
                  [&engine](const ApiCall& call) { return TestState(engine, call); });
}

}  // namespace switchyard::orchestrator::api
