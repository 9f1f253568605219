// Step Functions versions and aliases, tags and DescribeStateMachineForExecution (JSON 1.0).
// Members, errors and status codes follow the Step Functions API reference.
#include <utility>
#include <vector>

#include "api/aws_error.hpp"
#include "api/sfn_common.hpp"
#include "switchyard/orchestrator/engine.hpp"

namespace switchyard::orchestrator::api {

namespace {

std::string Done(rapidjson::StringBuffer& buffer) { return buffer.GetString(); }

// routingConfiguration: [{"stateMachineVersionArn": .., "weight": ..}].
bool ReadRouting(const rapidjson::Value& array, std::vector<RoutingEntry>* routing,
                 HttpResponse* error) {
  for (const auto& item : array.GetArray()) {
    if (!item.IsObject()) {
      *error = Json10Error(400, "SerializationException",
                           "Unexpected value type in 'routingConfiguration': expected a structure");
      return false;
    }
    const SfnMembers m(item);
    RoutingEntry entry;
    if (!m.String("stateMachineVersionArn", &entry.version_arn, true, error, 2048)) return false;
    if (!m.Has("weight")) {
      *error = SfnValidation(
          "1 validation error detected: Value null at 'routingConfiguration.member.weight' "
          "failed to satisfy constraint: Member must not be null");
      return false;
    }
    if (!m.Int("weight", &entry.weight, 0, 100, error)) return false;
    routing->push_back(std::move(entry));
  }
  return true;
}

void WriteRouting(JsonWriter& w, const std::vector<RoutingEntry>& routing) {
  w.Key("routingConfiguration");
  w.StartArray();
  for (const RoutingEntry& entry : routing) {
    w.StartObject();
    SfnString(w, "stateMachineVersionArn", entry.version_arn);
    w.Key("weight");
    w.Int64(entry.weight);
    w.EndObject();
  }
  w.EndArray();
}

HttpResponse PublishStateMachineVersion(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const SfnMembers m(body);
  std::string arn, revision_id, description;
  if (!m.String("stateMachineArn", &arn, true, &error, 256) ||
      !m.String("revisionId", &revision_id, false, &error) ||
      !m.String("description", &description, false, &error, 256)) {
    return error;
  }
  auto version = engine.PublishStateMachineVersion(arn, revision_id, description);
  if (!version) return SfnEngineError(version.error());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  SfnTimestamp(w, "creationDate", version->creation_date);
  SfnString(w, "stateMachineVersionArn", version->arn);
  w.EndObject();
  return SfnOk(Done(buffer));
}

// ListStateMachineVersions and ListStateMachineAliases: `list(arn, max_results, token)` gives a
// page of items with an ARN and a creation date, written as `items_key` with `arn_key`.
template <typename List>
HttpResponse ListOfMachine(const ApiCall& call, List list, const char* items_key,
                           const char* arn_key) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const SfnMembers m(body);
  std::string arn, token;
  int64_t max_results = 0;
  if (!m.String("stateMachineArn", &arn, true, &error, 256) ||
      !m.String("nextToken", &token, false, &error, 1024) ||
      !m.Int("maxResults", &max_results, 0, 1000, &error)) {
    return error;
  }
  auto page = list(arn, max_results, token);
  if (!page) return SfnEngineError(page.error());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key(items_key);
  w.StartArray();
  for (const auto& item : page->items) {
    w.StartObject();
    SfnString(w, arn_key, item.arn);
    SfnTimestamp(w, "creationDate", item.creation_date);
    w.EndObject();
  }
  w.EndArray();
  if (!page->next_token.empty()) SfnString(w, "nextToken", page->next_token);
  w.EndObject();
  return SfnOk(Done(buffer));
}

HttpResponse ListStateMachineVersions(Engine& engine, const ApiCall& call) {
  return ListOfMachine(
      call,
      [&](const std::string& arn, int64_t max_results, const std::string& token) {
        return engine.ListStateMachineVersions(arn, max_results, token);
      },
      "stateMachineVersions", "stateMachineVersionArn");
}

HttpResponse DeleteStateMachineVersion(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  std::string arn;
  if (!SfnMembers(body).String("stateMachineVersionArn", &arn, true, &error, 2048)) return error;
  auto status = engine.DeleteStateMachineVersion(arn);
  if (!status) return SfnEngineError(status.error());
  return SfnOk("{}");
}

HttpResponse CreateStateMachineAlias(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const SfnMembers m(body);
  std::string name, description;
  const rapidjson::Value* routing_json = nullptr;
  if (!m.String("name", &name, true, &error) ||
      !m.String("description", &description, false, &error, 256) ||
      !m.Array("routingConfiguration", &routing_json, true, &error)) {
    return error;
  }
  std::vector<RoutingEntry> routing;
  if (!ReadRouting(*routing_json, &routing, &error)) return error;
  auto alias = engine.CreateStateMachineAlias(name, description, routing);
  if (!alias) return SfnEngineError(alias.error());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  SfnString(w, "stateMachineAliasArn", alias->arn);
  SfnTimestamp(w, "creationDate", alias->creation_date);
  w.EndObject();
  return SfnOk(Done(buffer));
}

HttpResponse DescribeStateMachineAlias(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  std::string arn;
  if (!SfnMembers(body).String("stateMachineAliasArn", &arn, true, &error, 256)) return error;
  auto alias = engine.DescribeStateMachineAlias(arn);
  if (!alias) return SfnEngineError(alias.error());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  SfnString(w, "stateMachineAliasArn", alias->arn);
  SfnString(w, "name", alias->name);
  if (!alias->description.empty()) SfnString(w, "description", alias->description);
  WriteRouting(w, alias->routing);
  SfnTimestamp(w, "creationDate", alias->creation_date);
  SfnTimestamp(w, "updateDate", alias->update_date);
  w.EndObject();
  return SfnOk(Done(buffer));
}

HttpResponse ListStateMachineAliases(Engine& engine, const ApiCall& call) {
  return ListOfMachine(
      call,
      [&](const std::string& arn, int64_t max_results, const std::string& token) {
        return engine.ListStateMachineAliases(arn, max_results, token);
      },
      "stateMachineAliases", "stateMachineAliasArn");
}

HttpResponse UpdateStateMachineAlias(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const SfnMembers m(body);
  std::string arn, description;
  const rapidjson::Value* routing_json = nullptr;
  if (!m.String("stateMachineAliasArn", &arn, true, &error, 256) ||
      !m.String("description", &description, false, &error, 256) ||
      !m.Array("routingConfiguration", &routing_json, false, &error)) {
    return error;
  }
  std::optional<std::vector<RoutingEntry>> routing;
  if (routing_json != nullptr) {
    routing.emplace();
    if (!ReadRouting(*routing_json, &*routing, &error)) return error;
  }
  std::optional<std::string> new_description;
  if (m.Has("description")) new_description = description;
  auto updated = engine.UpdateStateMachineAlias(arn, new_description, routing);
  if (!updated) return SfnEngineError(updated.error());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  SfnTimestamp(w, "updateDate", *updated);
  w.EndObject();
  return SfnOk(Done(buffer));
}

HttpResponse DeleteStateMachineAlias(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  std::string arn;
  if (!SfnMembers(body).String("stateMachineAliasArn", &arn, true, &error, 256)) return error;
  auto status = engine.DeleteStateMachineAlias(arn);
  if (!status) return SfnEngineError(status.error());
  return SfnOk("{}");
}

HttpResponse DescribeStateMachineForExecution(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const SfnMembers m(body);
  std::string arn, included_data;  // includedData ALL_DATA | METADATA_ONLY: no secrets here
  if (!m.String("executionArn", &arn, true, &error, 2048) ||
      !m.String("includedData", &included_data, false, &error)) {
    return error;
  }
  auto info = engine.DescribeStateMachineForExecution(arn);
  if (!info) return SfnEngineError(info.error());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  SfnString(w, "stateMachineArn", info->machine.arn);
  SfnString(w, "name", info->machine.name);
  SfnString(w, "definition", info->machine.definition);
  SfnString(w, "roleArn", info->machine.role_arn);
  SfnTimestamp(w, "updateDate", info->update_date);
  w.Key("loggingConfiguration");
  w.StartObject();
  SfnString(w, "level", "OFF");
  w.Key("includeExecutionData");
  w.Bool(false);
  w.EndObject();
  w.Key("tracingConfiguration");
  w.StartObject();
  w.Key("enabled");
  w.Bool(false);
  w.EndObject();
  // AWS's answer names no version or alias (DescribeExecution does).
  if (!info->machine.revision_id.empty()) SfnString(w, "revisionId", info->machine.revision_id);
  w.EndObject();
  return SfnOk(Done(buffer));
}

// AWS: tag keys 1-128 characters, values 0-256.
bool ReadTags(const rapidjson::Value& array, std::vector<std::pair<std::string, std::string>>* tags,
              HttpResponse* error) {
  for (const auto& item : array.GetArray()) {
    if (!item.IsObject()) {
      *error = Json10Error(400, "SerializationException",
                           "Unexpected value type in 'tags': expected a structure");
      return false;
    }
    const SfnMembers m(item);
    std::string key, value;
    if (!m.String("key", &key, true, error, 128) || !m.String("value", &value, false, error, 256)) {
      return false;
    }
    if (key.empty()) {
      *error = SfnValidation(
          "1 validation error detected: Value at 'tags.member.key' failed to satisfy "
          "constraint: Member must have length greater than or equal to 1");
      return false;
    }
    tags->emplace_back(std::move(key), std::move(value));
  }
  return true;
}

HttpResponse TagResource(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const SfnMembers m(body);
  std::string arn;
  const rapidjson::Value* tags_json = nullptr;
  if (!m.String("resourceArn", &arn, true, &error, 256) ||
      !m.Array("tags", &tags_json, true, &error)) {
    return error;
  }
  std::vector<std::pair<std::string, std::string>> tags;
  if (!ReadTags(*tags_json, &tags, &error)) return error;
  auto status = engine.TagResource(arn, tags);
  if (!status) return SfnEngineError(status.error());
  return SfnOk("{}");
}

HttpResponse UntagResource(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  const SfnMembers m(body);
  std::string arn;
  const rapidjson::Value* keys_json = nullptr;
  if (!m.String("resourceArn", &arn, true, &error, 256) ||
      !m.Array("tagKeys", &keys_json, true, &error)) {
    return error;
  }
  std::vector<std::string> keys;
  for (const auto& key : keys_json->GetArray()) {
    if (!key.IsString()) {
      return Json10Error(400, "SerializationException",
                         "Unexpected value type in 'tagKeys': expected a string");
    }
    keys.emplace_back(key.GetString(), key.GetStringLength());
  }
  auto status = engine.UntagResource(arn, keys);
  if (!status) return SfnEngineError(status.error());
  return SfnOk("{}");
}

HttpResponse ListTagsForResource(Engine& engine, const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseSfnBody(call, &body, &error)) return error;
  std::string arn;
  if (!SfnMembers(body).String("resourceArn", &arn, true, &error, 256)) return error;
  auto tags = engine.ListTagsForResource(arn);
  if (!tags) return SfnEngineError(tags.error());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("tags");
  w.StartArray();
  for (const auto& [key, value] : *tags) {
    w.StartObject();
    SfnString(w, "key", key);
    SfnString(w, "value", value);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return SfnOk(Done(buffer));
}

}  // namespace

void RegisterSfnVersionOperations(Router& router, WorkPool& pool, Engine& engine) {
  using Handler = HttpResponse (*)(Engine&, const ApiCall&);
  auto add = [&](const char* operation, Handler handler) {
    AddSfnOperation(router, pool, operation,
                    [&engine, handler](const ApiCall& call) { return handler(engine, call); });
  };
  add("PublishStateMachineVersion", &PublishStateMachineVersion);
  add("ListStateMachineVersions", &ListStateMachineVersions);
  add("DeleteStateMachineVersion", &DeleteStateMachineVersion);
  add("CreateStateMachineAlias", &CreateStateMachineAlias);
  add("DescribeStateMachineAlias", &DescribeStateMachineAlias);
  add("ListStateMachineAliases", &ListStateMachineAliases);
  add("UpdateStateMachineAlias", &UpdateStateMachineAlias);
  add("DeleteStateMachineAlias", &DeleteStateMachineAlias);
  add("DescribeStateMachineForExecution", &DescribeStateMachineForExecution);
  add("TagResource", &TagResource);
  add("UntagResource", &UntagResource);
  add("ListTagsForResource", &ListTagsForResource);
}

}  // namespace switchyard::orchestrator::api
