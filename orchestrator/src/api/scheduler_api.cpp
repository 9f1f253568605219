#include "api/scheduler_api.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <memory>
#include <optional>

#include "api/lambda_common.hpp"
#include "api/work_pool.hpp"
#include "engine/scheduler.hpp"
#include "store/schedule_store.hpp"

namespace switchyard::orchestrator::api {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
constexpr int kDefaultMaxResults = 100;

struct Context {
  SchedulerApiOptions options;
};

HttpResponse Error(int status, std::string_view type, const std::string& message) {
  return RestJsonError(status, type, message, "");
}
HttpResponse Validation(const std::string& message) {
  return Error(400, "ValidationException", message);
}
HttpResponse Constraint(const std::string& value, const std::string& member,
                        const std::string& constraint) {
  return Validation("1 validation error detected: Value '" + value + "' at '" + member +
                    "' failed to satisfy constraint: " + constraint);
}
HttpResponse Ok(std::string body) {
  HttpResponse response;
  response.body = std::move(body);
  return response;
}
// A 200 answer: one JSON value, written by `write(w)`.
template <class Write>
HttpResponse OkJson(Write&& write) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  write(w);
  return Ok(buffer.GetString());
}
void WriteString(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}
std::optional<HttpResponse> CheckName(const std::string& value, const std::string& member) {
  if (value.empty() || value.size() > 64) {
    return Constraint(value, member,
                      "Member must have length less than or equal to 64 and greater than or "
                      "equal to 1");
  }
  if (!ValidName(value)) {
    return Constraint(value, member,
                      "Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+");
  }
  return std::nullopt;
}

std::string GroupArn(const Context& ctx, const std::string& name) {
  return "arn:aws:scheduler:" + ctx.options.region + ":" + ctx.options.account_id +
         ":schedule-group/" + name;
}

std::string GroupOf(const ApiCall& call, const char* query_name) {
  std::string group = call.Query(query_name).value_or("");
  return group.empty() ? "default" : group;
}

// MaxResults 1..100 (AWS's range), default 100.
std::optional<HttpResponse> ReadMaxResults(const ApiCall& call, int* max_results) {
  *max_results = kDefaultMaxResults;
  const std::optional<std::string> text = call.Query("MaxResults");
  if (!text) return std::nullopt;
  int value = 0;
  bool ok = !text->empty() && text->size() <= 4;
  for (char c : *text) ok = ok && c >= '0' && c <= '9';
  if (ok) value = std::stoi(*text);
  if (!ok || value < 1 || value > 100) {
    return Constraint(*text, "maxResults",
                      "Member must have value less than or equal to 100 and greater than or "
                      "equal to 1");
  }
  *max_results = value;
  return std::nullopt;
}

// The member `name` of `object` (lambda_common's Member), nullptr when `object` is no object.
const rapidjson::Value* Find(const rapidjson::Value& object, const char* name) {
  return object.IsObject() ? Member(object, name) : nullptr;
}

void WriteValue(Writer& w, const rapidjson::Value& value) { value.Accept(w); }

// The integer member `name` of `object` within [min, max], else AWS's constraint error naming
// `member`; absent (or null) leaves `out` as it is.
std::optional<HttpResponse> ReadIntIn(const rapidjson::Value& object, const char* name,
                                      const char* member, int min, int max, int* out) {
  const rapidjson::Value* v = Find(object, name);
  if (v == nullptr) return std::nullopt;
  if (!v->IsInt() || v->GetInt() < min || v->GetInt() > max) {
    return Constraint(v->IsInt() ? std::to_string(v->GetInt()) : "?", member,
                      "Member must have value less than or equal to " + std::to_string(max) +
                          " and greater than or equal to " + std::to_string(min));
  }
  *out = v->GetInt();
  return std::nullopt;
}

// Validates a CreateSchedule/UpdateSchedule body and writes the stored definition (with AWS's
// defaults filled in). Returns the error response, or nullopt with *definition set.
std::optional<HttpResponse> BuildDefinition(const rapidjson::Document& body,
                                            std::string* definition, std::string* client_token,
                                            std::string* group) {
  if (!body.IsObject()) return Validation("The request body must be a JSON object.");
  const rapidjson::Value* expression = Find(body, "ScheduleExpression");
  if (expression == nullptr || !expression->IsString()) {
    return Constraint("null", "scheduleExpression", "Member must not be null");
  }
  const std::string expression_text(expression->GetString(), expression->GetStringLength());
  if (expression_text.empty() || expression_text.size() > 256) {
    return Constraint(expression_text, "scheduleExpression",
                      "Member must have length less than or equal to 256 and greater than or "
                      "equal to 1");
  }
  std::string why;
  if (!schedule::ParseExpression(expression_text, &why)) {
    return Validation("Invalid Schedule Expression " + expression_text + ".");
  }
  std::string timezone = "UTC";
  if (const rapidjson::Value* tz = Find(body, "ScheduleExpressionTimezone")) {
    if (!tz->IsString()) return Validation("ScheduleExpressionTimezone must be a string.");
    timezone.assign(tz->GetString(), tz->GetStringLength());
    if (schedule::FindZone(timezone) == nullptr) {
      return Validation("Invalid Schedule Expression Timezone " + timezone + ".");
    }
  }
  std::optional<double> start_date;
  std::optional<double> end_date;
  for (const char* name : {"StartDate", "EndDate"}) {
    if (const rapidjson::Value* v = Find(body, name)) {
      if (!v->IsNumber() || !std::isfinite(v->GetDouble())) {
        return Validation(std::string(name) + " must be a timestamp.");
      }
      (name[0] == 'S' ? start_date : end_date) = std::floor(v->GetDouble());
    }
  }
  if (start_date && end_date && *end_date <= *start_date) {
    return Validation("The EndDate must be after the StartDate.");
  }
  std::string state = "ENABLED";
  if (const rapidjson::Value* v = Find(body, "State")) {
    state = v->IsString() ? v->GetString() : "";
    if (state != "ENABLED" && state != "DISABLED") {
      return Constraint(state, "state", "Member must satisfy enum value set: [ENABLED, DISABLED]");
    }
  }
  std::string action = "NONE";
  if (const rapidjson::Value* v = Find(body, "ActionAfterCompletion")) {
    action = v->IsString() ? v->GetString() : "";
    if (action != "NONE" && action != "DELETE") {
      return Constraint(action, "actionAfterCompletion",
                        "Member must satisfy enum value set: [NONE, DELETE]");
    }
  }
  std::string description;
  if (const rapidjson::Value* v = Find(body, "Description")) {
    description = v->IsString() ? v->GetString() : "";
    if (description.size() > 512) {
      return Constraint(description, "description",
                        "Member must have length less than or equal to 512");
    }
  }
  const rapidjson::Value* window = Find(body, "FlexibleTimeWindow");
  if (window == nullptr || !window->IsObject()) {
    return Constraint("null", "flexibleTimeWindow", "Member must not be null");
  }
  const rapidjson::Value* mode = Find(*window, "Mode");
  const std::string mode_text = mode && mode->IsString() ? mode->GetString() : "";
  if (mode_text != "OFF" && mode_text != "FLEXIBLE") {
    return Constraint(mode_text.empty() ? "null" : mode_text, "flexibleTimeWindow.mode",
                      "Member must satisfy enum value set: [OFF, FLEXIBLE]");
  }
  int window_minutes = 0;
  if (auto error =
          ReadIntIn(*window, "MaximumWindowInMinutes", "flexibleTimeWindow.maximumWindowInMinutes",
                    1, 1440, &window_minutes)) {
    return *error;
  }
  if (mode_text == "FLEXIBLE" && window_minutes == 0) {
    return Validation(
        "MaximumWindowInMinutes is required when the FlexibleTimeWindow Mode is "
        "FLEXIBLE.");
  }
  if (mode_text == "OFF" && window_minutes != 0) {
    return Validation(
        "MaximumWindowInMinutes must not be set when the FlexibleTimeWindow Mode "
        "is OFF.");
  }
  const rapidjson::Value* target = Find(body, "Target");
  if (target == nullptr || !target->IsObject()) {
    return Constraint("null", "target", "Member must not be null");
  }
  const rapidjson::Value* arn = Find(*target, "Arn");
  if (arn == nullptr || !arn->IsString() || arn->GetStringLength() == 0) {
    return Constraint("null", "target.arn", "Member must not be null");
  }
  const rapidjson::Value* role = Find(*target, "RoleArn");
  if (role == nullptr || !role->IsString() || role->GetStringLength() == 0) {
    return Constraint("null", "target.roleArn", "Member must not be null");
  }
  const std::string target_arn(arn->GetString(), arn->GetStringLength());
  const rapidjson::Value* input = Find(*target, "Input");
  if (input && !input->IsString()) return Validation("Target.Input must be a string.");
  const bool templated =
      target_arn.rfind("arn:aws:lambda:", 0) == 0 || target_arn.rfind("arn:aws:states:", 0) == 0;
  if (input && templated) {
    rapidjson::Document parsed;
    parsed.Parse(input->GetString(), input->GetStringLength());
    if (parsed.HasParseError()) {
      return Validation(
          "Target.Input must be well-formed JSON for a templated Lambda or Step "
          "Functions target.");
    }
  }
  int max_age = 86400;
  int max_attempts = 185;
  if (const rapidjson::Value* retry = Find(*target, "RetryPolicy")) {
    if (auto error =
            ReadIntIn(*retry, "MaximumEventAgeInSeconds",
                      "target.retryPolicy.maximumEventAgeInSeconds", 60, 86400, &max_age)) {
      return *error;
    }
    if (auto error = ReadIntIn(*retry, "MaximumRetryAttempts",
                               "target.retryPolicy.maximumRetryAttempts", 0, 185, &max_attempts)) {
      return *error;
    }
  }
  std::string dead_letter;
  if (const rapidjson::Value* dlq = Find(*target, "DeadLetterConfig")) {
    if (const rapidjson::Value* v = Find(*dlq, "Arn"); v && v->IsString()) {
      dead_letter = v->GetString();
      if (dead_letter.rfind("arn:aws:sqs:", 0) != 0) {
        return Validation("DeadLetterConfig.Arn must be an Amazon SQS queue ARN.");
      }
    }
  }
  if (const rapidjson::Value* v = Find(body, "ClientToken"); v && v->IsString()) {
    *client_token = v->GetString();
    if (client_token->empty() || client_token->size() > 64) {
      return Constraint(*client_token, "clientToken",
                        "Member must have length less than or equal to 64 and greater than or "
                        "equal to 1");
    }
  }
  if (const rapidjson::Value* v = Find(body, "GroupName"); v && v->IsString()) {
    *group = v->GetString();
    if (auto error = CheckName(*group, "groupName")) return error;
  }

  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("ActionAfterCompletion");
  w.String(action.c_str());
  if (!description.empty()) {
    w.Key("Description");
    w.String(description.c_str());
  }
  if (end_date) {
    w.Key("EndDate");
    w.Double(*end_date);
  }
  w.Key("FlexibleTimeWindow");
  w.StartObject();
  if (window_minutes > 0) {
    w.Key("MaximumWindowInMinutes");
    w.Int(window_minutes);
  }
  w.Key("Mode");
  w.String(mode_text.c_str());
  w.EndObject();
  if (const rapidjson::Value* v = Find(body, "KmsKeyArn"); v && v->IsString()) {
    w.Key("KmsKeyArn");
    w.String(v->GetString());
  }
  w.Key("ScheduleExpression");
  w.String(expression_text.c_str());
  w.Key("ScheduleExpressionTimezone");
  w.String(timezone.c_str());
  if (start_date) {
    w.Key("StartDate");
    w.Double(*start_date);
  }
  w.Key("State");
  w.String(state.c_str());
  w.Key("Target");
  w.StartObject();
  w.Key("Arn");
  w.String(target_arn.c_str());
  if (dead_letter.size()) {
    w.Key("DeadLetterConfig");
    w.StartObject();
    w.Key("Arn");
    w.String(dead_letter.c_str());
    w.EndObject();
  }
  // Other templated parameters (SqsParameters, ...) are kept as given.
  for (const auto& member : target->GetObject()) {
    const std::string name(member.name.GetString(), member.name.GetStringLength());
    if (name == "Arn" || name == "DeadLetterConfig" || name == "RetryPolicy" ||
        member.value.IsNull()) {
      continue;
    }
    w.Key(name.c_str());
    WriteValue(w, member.value);
  }
  w.Key("RetryPolicy");
  w.StartObject();
  w.Key("MaximumEventAgeInSeconds");
  w.Int(max_age);
  w.Key("MaximumRetryAttempts");
  w.Int(max_attempts);
  w.EndObject();
  w.EndObject();
  w.EndObject();
  *definition = buffer.GetString();
  return std::nullopt;
}

bool ParseBody(const ApiCall& call, rapidjson::Document* doc) {
  const std::string& body = call.request.body;
  if (body.empty()) {
    doc->SetObject();
    return true;
  }
  doc->Parse(body.c_str(), body.size());
  return !doc->HasParseError();
}

// The request's JSON object body; else the ValidationException to answer.
std::optional<HttpResponse> ReadObjectBody(const ApiCall& call, rapidjson::Document* doc) {
  if (!ParseBody(call, doc) || !doc->IsObject()) {
    return Validation("The request body is not valid JSON.");
  }
  return std::nullopt;
}

// The schedule's row from a validated definition at `now`: the anchor, next occurrence, state.
store::ScheduleRow MakeRow(const std::string& group, const std::string& name,
                           const std::string& definition, const std::string& client_token,
                           double now) {
  store::ScheduleRow row;
  row.group_name = group;
  row.name = name;
  row.definition = definition;
  row.client_token = client_token;
  row.created_at = now;
  row.modified_at = now;
  std::string error;
  const std::optional<ScheduleSpec> spec = ParseScheduleSpec(definition, &error);
  row.state = spec ? spec->state : "DISABLED";
  row.target_arn = spec ? spec->target_arn : "";
  // UpdateSchedule too: AWS's update replaces the whole schedule, members left out taking their
  // defaults (UpdateSchedule, API reference), and a rate schedule without StartDate "starts
  // invoking its target immediately" (User Guide, Schedule types): so an update without
  // StartDate re-anchors the rate at the update, one with StartDate keeps that anchor.
  row.anchor_at = std::floor(spec && spec->start_date ? *spec->start_date : now);
  if (spec && spec->state == "ENABLED") {
    // at(): its one occurrence even if already past (fired then if inside the catch-up window).
    const bool one_time = spec->expression.kind == schedule::Expression::Kind::kAt;
    // A rate without StartDate fires right away (AWS), then every period.
    const NextFiring next = ComputeNextFiring(*spec, row.anchor_at, one_time ? 0 : std::floor(now));
    row.next_at = next.next_at;
    row.fire_at = next.fire_at;
  }
  return row;
}

void WriteDefinitionMembers(Writer& w, const std::string& definition) {
  rapidjson::Document doc;
  doc.Parse(definition.c_str(), definition.size());
  if (!doc.IsObject()) return;
  for (const auto& member : doc.GetObject()) {
    w.Key(member.name.GetString(), member.name.GetStringLength());
    WriteValue(w, member.value);
  }
}

HttpResponse NotFoundSchedule(const std::string& name) {
  return Error(404, "ResourceNotFoundException", "Schedule " + name + " does not exist.");
}
HttpResponse NotFoundGroup(const std::string& name) {
  return Error(404, "ResourceNotFoundException", "Schedule group " + name + " does not exist.");
}

HttpResponse ScheduleArnBody(const Context& ctx, const std::string& group,
                             const std::string& name) {
  return OkJson([&](Writer& w) {
    w.StartObject();
    WriteString(w, "ScheduleArn",
                ScheduleArn(ctx.options.region, ctx.options.account_id, group, name));
    w.EndObject();
  });
}

HttpResponse CreateOrUpdate(const Context& ctx, const ApiCall& call, bool create) {
  const std::string& name = call.Param("Name");
  if (auto error = CheckName(name, "name")) return *error;
  rapidjson::Document body;
  if (!ParseBody(call, &body)) return Validation("The request body is not valid JSON.");
  std::string definition;
  std::string client_token;
  std::string group = "default";
  if (auto error = BuildDefinition(body, &definition, &client_token, &group)) return *error;
  const double now = SchedulerNow();
  store::ScheduleRow row = MakeRow(group, name, definition, client_token, now);
  const store::ScheduleOutcome outcome =
      create ? ctx.options.store->CreateSchedule(row) : ctx.options.store->UpdateSchedule(row);
  switch (outcome) {
    case store::ScheduleOutcome::kOk:
      return ScheduleArnBody(ctx, group, name);
    case store::ScheduleOutcome::kGroupNotFound:
      return NotFoundGroup(group);
    case store::ScheduleOutcome::kConflict:
      return Error(409, "ConflictException", "Schedule " + name + " already exists.");
    case store::ScheduleOutcome::kNotFound:
      return NotFoundSchedule(name);
  }
  return NotFoundSchedule(name);
}

// The members GetSchedule and ListSchedules share: Arn, CreationDate, GroupName,
// LastModificationDate, Name.
void WriteSummary(Writer& w, const Context& ctx, const store::ScheduleRow& row) {
  WriteString(w, "Arn",
              ScheduleArn(ctx.options.region, ctx.options.account_id, row.group_name, row.name));
  w.Key("CreationDate");
  w.Double(row.created_at);
  WriteString(w, "GroupName", row.group_name);
  w.Key("LastModificationDate");
  w.Double(row.modified_at);
  WriteString(w, "Name", row.name);
}

HttpResponse GetSchedule(const Context& ctx, const ApiCall& call) {
  const std::string& name = call.Param("Name");
  const std::string group = GroupOf(call, "groupName");
  if (auto error = CheckName(name, "name")) return *error;
  if (auto error = CheckName(group, "groupName")) return *error;
  const std::optional<store::ScheduleRow> row = ctx.options.store->GetSchedule(group, name);
  if (!row) {
    if (!ctx.options.store->GetGroup(group)) return NotFoundGroup(group);
    return NotFoundSchedule(name);
  }
  return OkJson([&](Writer& w) {
    w.StartObject();
    WriteSummary(w, ctx, *row);
    WriteDefinitionMembers(w, row->definition);
    w.EndObject();
  });
}

HttpResponse DeleteSchedule(const Context& ctx, const ApiCall& call) {
  const std::string& name = call.Param("Name");
  const std::string group = GroupOf(call, "groupName");
  if (auto error = CheckName(name, "name")) return *error;
  if (auto error = CheckName(group, "groupName")) return *error;
  switch (ctx.options.store->DeleteSchedule(group, name)) {
    case store::ScheduleOutcome::kOk:
      return Ok("{}");
    case store::ScheduleOutcome::kGroupNotFound:
      return NotFoundGroup(group);
    default:
      return NotFoundSchedule(name);
  }
}

HttpResponse ListSchedules(const Context& ctx, const ApiCall& call) {
  int max_results = 0;
  if (auto error = ReadMaxResults(call, &max_results)) return *error;
  const std::string group = call.Query("ScheduleGroup").value_or("");
  const std::string prefix = call.Query("NamePrefix").value_or("");
  const std::string state = call.Query("State").value_or("");
  if (!state.empty() && state != "ENABLED" && state != "DISABLED") {
    return Constraint(state, "state", "Member must satisfy enum value set: [ENABLED, DISABLED]");
  }
  if (!group.empty() && !ctx.options.store->GetGroup(group)) return NotFoundGroup(group);
  // NextToken: "<group>/<name>" of the last schedule of the previous page.
  const std::string token = call.Query("NextToken").value_or("");
  std::string after_group;
  std::string after_name;
  if (!token.empty()) {
    const std::size_t slash = token.find('/');
    if (slash == std::string::npos) return Validation("Invalid NextToken.");
    after_group = token.substr(0, slash);
    after_name = token.substr(slash + 1);
  }
  const std::vector<store::ScheduleRow> rows = ctx.options.store->ListSchedules(
      group, prefix, state, after_group, after_name, max_results + 1);
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  const std::size_t shown = std::min(rows.size(), static_cast<std::size_t>(max_results));
  if (rows.size() > shown) {
    w.Key("NextToken");
    const std::string next = rows[shown - 1].group_name + "/" + rows[shown - 1].name;
    w.String(next.c_str());
  }
  w.Key("Schedules");
  w.StartArray();
  for (std::size_t i = 0; i < shown; ++i) {
    const store::ScheduleRow& row = rows[i];
    w.StartObject();
    WriteSummary(w, ctx, row);
    w.Key("State");
    w.String(row.state.c_str());
    w.Key("Target");
    w.StartObject();
    w.Key("Arn");
    w.String(row.target_arn.c_str());
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Ok(buffer.GetString());
}

void WriteGroup(Writer& w, const Context& ctx, const store::ScheduleGroupRow& group) {
  w.StartObject();
  w.Key("Arn");
  const std::string arn = GroupArn(ctx, group.name);
  w.String(arn.c_str());
  w.Key("CreationDate");
  w.Double(group.created_at);
  w.Key("LastModificationDate");
  w.Double(group.modified_at);
  w.Key("Name");
  w.String(group.name.c_str());
  w.Key("State");
  w.String("ACTIVE");
  w.EndObject();
}

// Tags: [{"Key": k, "Value": v}, ...] → the JSON object {"k": "v"} the store keeps. AWS's
// limits: 1..200 tags, keys 1..128 characters, values 0..256.
std::optional<HttpResponse> ReadTags(const rapidjson::Value& body, bool required,
                                     std::string* tags_json) {
  const rapidjson::Value* tags = Find(body, "Tags");
  if (tags == nullptr) {
    if (required) return Constraint("null", "tags", "Member must not be null");
    return std::nullopt;
  }
  if (!tags->IsArray() || tags->Size() > 200 || (required && tags->Empty())) {
    return Constraint("[...]", "tags",
                      "Member must have length less than or equal to 200 and greater than or "
                      "equal to 1");
  }
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  for (const auto& tag : tags->GetArray()) {
    const rapidjson::Value* key = Find(tag, "Key");
    const rapidjson::Value* value = Find(tag, "Value");
    if (key == nullptr || !key->IsString() || key->GetStringLength() < 1 ||
        key->GetStringLength() > 128) {
      return Constraint(key && key->IsString() ? key->GetString() : "null", "tags.member.key",
                        "Member must have length less than or equal to 128 and greater than or "
                        "equal to 1");
    }
    if (value == nullptr || !value->IsString() || value->GetStringLength() > 256) {
      return Constraint(value && value->IsString() ? value->GetString() : "null",
                        "tags.member.value", "Member must have length less than or equal to 256");
    }
    w.Key(key->GetString(), key->GetStringLength());
    w.String(value->GetString(), value->GetStringLength());
  }
  w.EndObject();
  *tags_json = buffer.GetString();
  return std::nullopt;
}

// The group named by the request's ResourceArn (a schedule group ARN of this region and
// account); else the ValidationException to answer.
std::optional<HttpResponse> TaggedGroup(const Context& ctx, const ApiCall& call,
                                        std::string* group) {
  const std::string arn = call.Param("ResourceArn");
  const std::string prefix = GroupArn(ctx, "");
  if (arn.rfind(prefix, 0) != 0 || arn.size() == prefix.size()) {
    return Validation("Tags can only be assigned to schedule groups: " + arn);
  }
  *group = arn.substr(prefix.size());
  return std::nullopt;
}

HttpResponse TagResource(const Context& ctx, const ApiCall& call) {
  std::string group;
  if (auto error = TaggedGroup(ctx, call, &group)) return *error;
  rapidjson::Document body;
  if (auto error = ReadObjectBody(call, &body)) return *error;
  std::string tags;
  if (auto error = ReadTags(body, true, &tags)) return *error;
  if (ctx.options.store->TagGroup(group, tags) != store::ScheduleOutcome::kOk) {
    return NotFoundGroup(group);
  }
  return Ok("{}");
}

HttpResponse UntagResource(const Context& ctx, const ApiCall& call) {
  std::string group;
  if (auto error = TaggedGroup(ctx, call, &group)) return *error;
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartArray();
  for (const auto& [name, value] : call.query) {
    if (name == "TagKeys") w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  }
  w.EndArray();
  if (ctx.options.store->UntagGroup(group, buffer.GetString()) != store::ScheduleOutcome::kOk) {
    return NotFoundGroup(group);
  }
  return Ok("{}");
}

HttpResponse ListTags(const Context& ctx, const ApiCall& call) {
  std::string group;
  if (auto error = TaggedGroup(ctx, call, &group)) return *error;
  const std::optional<std::string> tags = ctx.options.store->GroupTags(group);
  if (!tags) return NotFoundGroup(group);
  rapidjson::Document doc;
  doc.Parse(tags->c_str(), tags->size());
  return OkJson([&](Writer& w) {
    w.StartObject();
    w.Key("Tags");
    w.StartArray();
    if (doc.IsObject()) {
      for (const auto& member : doc.GetObject()) {
        w.StartObject();
        w.Key("Key");
        w.String(member.name.GetString(), member.name.GetStringLength());
        w.Key("Value");
        WriteValue(w, member.value);
        w.EndObject();
      }
    }
    w.EndArray();
    w.EndObject();
  });
}

HttpResponse CreateGroup(const Context& ctx, const ApiCall& call) {
  const std::string& name = call.Param("Name");
  if (auto error = CheckName(name, "name")) return *error;
  rapidjson::Document body;
  if (auto error = ReadObjectBody(call, &body)) return *error;
  std::string client_token;
  if (const rapidjson::Value* v = Find(body, "ClientToken"); v && v->IsString()) {
    client_token = v->GetString();
  }
  std::string tags;
  if (auto error = ReadTags(body, false, &tags)) return *error;
  switch (ctx.options.store->CreateGroup(name, client_token, SchedulerNow())) {
    case store::ScheduleOutcome::kOk: {
      if (!tags.empty()) ctx.options.store->TagGroup(name, tags);
      return OkJson([&](Writer& w) {
        w.StartObject();
        WriteString(w, "ScheduleGroupArn", GroupArn(ctx, name));
        w.EndObject();
      });
    }
    default:
      return Error(409, "ConflictException", "Schedule group " + name + " already exists.");
  }
}

HttpResponse GetGroup(const Context& ctx, const ApiCall& call) {
  const std::string& name = call.Param("Name");
  if (auto error = CheckName(name, "name")) return *error;
  const std::optional<store::ScheduleGroupRow> group = ctx.options.store->GetGroup(name);
  if (!group) return NotFoundGroup(name);
  return OkJson([&](Writer& w) { WriteGroup(w, ctx, *group); });
}

HttpResponse ListGroups(const Context& ctx, const ApiCall& call) {
  int max_results = 0;
  if (auto error = ReadMaxResults(call, &max_results)) return *error;
  const std::string prefix = call.Query("NamePrefix").value_or("");
  const std::string after = call.Query("NextToken").value_or("");
  const std::vector<store::ScheduleGroupRow> rows =
      ctx.options.store->ListGroups(prefix, after, max_results + 1);
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  const std::size_t shown = std::min(rows.size(), static_cast<std::size_t>(max_results));
  if (rows.size() > shown) {
    w.Key("NextToken");
    w.String(rows[shown - 1].name.c_str());
  }
  w.Key("ScheduleGroups");
  w.StartArray();
  for (std::size_t i = 0; i < shown; ++i) WriteGroup(w, ctx, rows[i]);
  w.EndArray();
  w.EndObject();
  return Ok(buffer.GetString());
}

HttpResponse DeleteGroup(const Context& ctx, const ApiCall& call) {
  const std::string& name = call.Param("Name");
  if (auto error = CheckName(name, "name")) return *error;
  if (name == "default") return Validation("The default schedule group cannot be deleted.");
  if (ctx.options.store->DeleteGroup(name) != store::ScheduleOutcome::kOk) {
    return NotFoundGroup(name);
  }
  return Ok("{}");
}

}  // namespace

void RegisterSchedulerApi(const SchedulerApiOptions& options, Router& router, WorkPool& pool) {
  auto ctx = std::make_shared<Context>(Context{options});
  using Fn = HttpResponse (*)(const Context&, const ApiCall&);
  auto add = [&](const char* method, const char* pattern, const char* operation, Fn fn) {
    router.AddRest(method, pattern, operation, [ctx, fn, &pool](ApiCall call, Respond respond) {
      pool.Post([ctx, fn, call = std::move(call), respond = std::move(respond)] {
        HttpResponse response;
        try {
          response = fn(*ctx, call);
        } catch (const std::exception& e) {
          response = Error(500, "InternalServerException", e.what());
        }
        respond(std::move(response));
      });
    });
  };
  add("POST", "/schedules/{Name}", "CreateSchedule",
      [](const Context& c, const ApiCall& a) { return CreateOrUpdate(c, a, true); });
  add("PUT", "/schedules/{Name}", "UpdateSchedule",
      [](const Context& c, const ApiCall& a) { return CreateOrUpdate(c, a, false); });
  add("GET", "/schedules/{Name}", "GetSchedule", &GetSchedule);
  add("DELETE", "/schedules/{Name}", "DeleteSchedule", &DeleteSchedule);
  add("GET", "/schedules", "ListSchedules", &ListSchedules);
  add("POST", "/schedule-groups/{Name}", "CreateScheduleGroup", &CreateGroup);
  add("GET", "/schedule-groups/{Name}", "GetScheduleGroup", &GetGroup);
  add("DELETE", "/schedule-groups/{Name}", "DeleteScheduleGroup", &DeleteGroup);
  add("GET", "/schedule-groups", "ListScheduleGroups", &ListGroups);
  add("POST", "/tags/{ResourceArn}", "TagResource", &TagResource);
  add("DELETE", "/tags/{ResourceArn}", "UntagResource", &UntagResource);
  add("GET", "/tags/{ResourceArn}", "ListTagsForResource", &ListTags);
}

}  // namespace switchyard::orchestrator::api
