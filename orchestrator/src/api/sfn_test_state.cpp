// TestState (JSON 1.0): one state run on its own, with AWS's request and response members.
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
  std::string definition, role, input = "{}", level = "INFO", variables;
  bool reveal_secrets = false;  // only TRACE of HTTP tasks shows secrets; none are kept here
  if (!m.String("definition", &definition, true, &error, 1024 * 1024) ||
      !m.String("roleArn", &role, false, &error, 256) ||
      !m.String("input", &input, false, &error, kMaxSfnPayloadBytes) ||
      !m.String("inspectionLevel", &level, false, &error) ||
      !m.Bool("revealSecrets", &reveal_secrets, &error) ||
      !m.String("variables", &variables, false, &error, kMaxSfnPayloadBytes)) {
    return error;
  }
  auto result = engine.TestState(definition, input, level, variables);
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
