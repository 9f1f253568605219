// Lambda operations around a function's durable settings: event invoke configurations
// (Put/Get/Update/Delete/ListFunctionEventInvokeConfig(s)), provisioned concurrency
// (Put/Get/Delete/ListProvisionedConcurrencyConfig(s)), and keeping this node's invoker in step
// with the registry (Sync, InstallAll, the code store). Shapes, limits and errors follow the
// Lambda API reference (2019-09-25, 2019-09-30).
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>

#include "api/aws_error.hpp"
#include "api/lambda_api.hpp"
#include "api/lambda_common.hpp"
#include "api/work_pool.hpp"
#include "switchyard/invoker/invoker.hpp"

namespace switchyard::orchestrator::api {
namespace {

namespace fs = std::filesystem;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

HttpResponse Validation(const std::string& message) {
  return RestJsonError(400, "ValidationException", "1 validation error detected: " + message);
}

bool ParseJson(const ApiCall& call, rapidjson::Document* doc, HttpResponse* error) {
  const std::string& body = call.request.body.empty() ? std::string("{}") : call.request.body;
  doc->Parse(body.c_str(), body.size());
  if (doc->HasParseError() || !doc->IsObject()) {
    *error = RestJsonError(400, "InvalidRequestContentException",
                           "Could not parse request body into json: Could not parse payload into "
                           "json");
    return false;
  }
  return true;
}

std::string EpochTimestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S+0000", &tm);
  return buffer;
}

double EpochSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Destinations Lambda accepts (SQS, SNS, Lambda, EventBridge, S3), and Step Functions state
// machines (a Switchyard extension: the record is the execution's input).
bool ValidDestination(const std::string& arn) {
  for (const char* prefix : {"arn:aws:sqs:", "arn:aws:sns:", "arn:aws:lambda:", "arn:aws:events:",
                             "arn:aws:s3:", "arn:aws:states:"}) {
    if (arn.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

std::string SafeSha(std::string sha) {
  for (char& c : sha) {
    if (c == '/') c = '_';
    if (c == '+') c = '-';
  }
  while (!sha.empty() && sha.back() == '=') sha.pop_back();
  return sha;
}

bool IsNumber(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// ?MaxItems= of the List...Configs operations: 1 to 50 (`max_items` unchanged when absent).
bool ReadMaxItems(const ApiCall& call, int64_t* max_items, HttpResponse* error) {
  const auto text = call.Query("MaxItems");
  if (!text) return true;
  *max_items = IsNumber(*text) && text->size() < 6 ? std::stoll(*text) : 0;
  if (*max_items < 1 || *max_items > 50) {
    *error = Validation("Value '" + *text +
                        "' at 'maxItems' failed to satisfy constraint: Member must have value "
                        "between 1 and 50");
    return false;
  }
  return true;
}

// {"<key>": [up to max_items of `configs` from `marker` on], "NextMarker": <the next one>}.
template <typename Map, typename ItemJson>
std::string ConfigPage(const char* key, const Map& configs, int64_t max_items,
                       const std::string& marker, ItemJson item_json) {
  std::string body = std::string("{\"") + key + "\":[";
  int64_t count = 0;
  std::string next;
  for (const auto& [q, config] : configs) {
    if (!marker.empty() && q < marker) continue;
    if (count == max_items) {
      next = q;
      break;
    }
    if (count++) body += ',';
    body += item_json(q, config);
  }
  body += "]";
  if (!next.empty()) body += ",\"NextMarker\":" + JsonQuote(next);
  body += "}";
  return body;
}

bool HasVersion(const FunctionRecord& record, const std::string& version) {
  if (version == kLatestVersion) return true;
  if (!IsNumber(version) || version.size() > 18) return false;
  return record.versions.count(std::stoll(version)) > 0;
}

}  // namespace

// ---- keeping the invoker in step with the registry --------------------------------------------

std::string LambdaApi::EnsureCode(FunctionVersionRecord* version, const std::string* zip_at_hand) {
  if (options_.code_store.empty() || version->code_size == 0) return {};
  const fs::path dir =
      fs::path(options_.code_store) / version->config.function_name / SafeSha(version->code_sha256);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    std::optional<std::string> zip;
    if (zip_at_hand) {
      zip = *zip_at_hand;
    } else {
      zip = registry_.GetCode(version->config.function_name, version->code_sha256);
    }
    if (!zip) return "its deployment package " + version->code_sha256 + " is not stored";
    fs::create_directories(dir.parent_path(), ec);
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const std::string unique = std::to_string(rng());
    const fs::path zip_path = dir.string() + "." + unique + ".zip";
    const fs::path staging = dir.string() + "." + unique;
    {
      std::ofstream out(zip_path, std::ios::binary);
      out.write(zip->data(), static_cast<std::streamsize>(zip->size()));
      if (!out) return "cannot write " + zip_path.string();
    }
    const std::string unzip_error = invoker::UnpackZip(zip_path.string(), staging.string());
    fs::remove(zip_path, ec);
    if (!unzip_error.empty()) {
      fs::remove_all(staging, ec);
      return unzip_error;
    }
    // Another thread or process may have won the race: its copy is the same code.
    fs::rename(staging, dir, ec);
    if (ec) fs::remove_all(staging, ec);
  }
  version->config.code_dir = dir.string();
  version->config.unpacked_root.clear();
  version->code_location = dir.string();
  return {};
}

void LambdaApi::Save(FunctionRecord& record) {
  registry_.Put(record);
  ++record.serial;
  Remember(record);
}

void LambdaApi::Remember(const FunctionRecord& record) {
  installed_[record.latest.config.function_name] = record.serial;
  std::lock_guard lock(cache_mu_);
  cache_[record.latest.config.function_name] = record;
}

void LambdaApi::Forget(const std::string& function_name) {
  std::lock_guard lock(cache_mu_);
  cache_.erase(function_name);
}

std::optional<FunctionRecord> LambdaApi::Installed(const std::string& function_name) const {
  std::lock_guard lock(cache_mu_);
  const auto it = cache_.find(function_name);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

void LambdaApi::ApplyEventInvokeConfig(const FunctionRecord& record, const std::string& qualifier) {
  invoker::EventInvokeConfig config;
  config.dead_letter = options_.dead_letters;
  if (const auto it = record.event_invoke_configs.find(qualifier);
      it != record.event_invoke_configs.end()) {
    config.maximum_retry_attempts = static_cast<int>(it->second.maximum_retry_attempts.value_or(2));
    config.maximum_event_age_seconds = it->second.maximum_event_age_seconds.value_or(21600);
    config.on_success = it->second.on_success;
    config.on_failure = it->second.on_failure;
  }
  invoker_.PutEventInvokeConfig(record.latest.config.function_name, config, qualifier);
}

void LambdaApi::ApplyProvisioned(const FunctionRecord& record, const std::string& qualifier) {
  std::string version = qualifier;
  if (const auto alias = record.aliases.find(qualifier); alias != record.aliases.end()) {
    version = alias->second.function_version;
  }
  const auto it = record.provisioned.find(qualifier);
  const int count = it == record.provisioned.end() ? 0 : static_cast<int>(it->second.requested);
  invoker_.SetProvisionedConcurrency(record.latest.config.function_name, count, version);
}

std::string LambdaApi::InstallAll(FunctionRecord& record) {
  const std::string& name = record.latest.config.function_name;
  if (std::string reason = EnsureCode(&record.latest); !reason.empty()) return reason;
  if (std::string reason = Install(record); !reason.empty()) return reason;
  for (auto& [number, version] : record.versions) {
    if (std::string reason = EnsureCode(&version); !reason.empty()) return reason;
    invoker::FunctionConfig config = version.config;
    config.function_name = name;
    config.reserved_concurrency = record.reserved_concurrency;
    if (std::string reason = PrepareLayers(version, &config); !reason.empty()) return reason;
    if (std::string reason = invoker_.RegisterVersion(config, std::to_string(number));
        !reason.empty()) {
      return reason;
    }
  }
  for (const auto& [alias_name, alias] : record.aliases) {
    if (std::string reason = invoker_.CreateAlias(name, alias_name, alias.function_version,
                                                  alias.additional_version_weights);
        !reason.empty()) {
      return reason;
    }
  }
  // Versions and aliases deleted (here or on another node) stop being reachable.
  RetainRecordQualifiers(invoker_, record);
  ApplyEventInvokeConfig(record, kLatestVersion);
  for (const auto& [qualifier, config] : record.event_invoke_configs) {
    ApplyEventInvokeConfig(record, qualifier);
  }
  for (const auto& [qualifier, config] : record.provisioned) ApplyProvisioned(record, qualifier);
  return {};
}

std::vector<std::string> LambdaApi::Sync() {
  std::vector<std::string> failures;
  // The serials are read under mu_: a function created on this node between reading them and
  // taking the lock would otherwise look deleted on another node, and be removed.
  std::lock_guard lock(mu_);
  const std::map<std::string, int64_t> serials = registry_.Serials();
  for (const auto& [name, serial] : serials) {
    const auto it = installed_.find(name);
    if (it != installed_.end() && it->second == serial) continue;
    std::optional<FunctionRecord> record = registry_.Get(name);
    if (!record) continue;
    if (std::string reason = InstallAll(*record); !reason.empty()) {
      failures.push_back(name + ": " + reason);
      continue;  // tried again at the next Sync
    }
    Remember(*record);
  }
  for (auto it = installed_.begin(); it != installed_.end();) {
    if (serials.count(it->first)) {
      ++it;
      continue;
    }
    invoker_.DeleteFunction(it->first);  // deleted on another node
    Forget(it->first);
    it = installed_.erase(it);
  }
  return failures;
}

// ---- event invoke configs ---------------------------------------------------------------------

namespace {

std::string EventConfigJson(const std::string& function_arn, const EventInvokeConfigRecord& c) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("LastModified");
  w.Double(c.last_modified);
  w.Key("FunctionArn");
  w.String(function_arn.c_str());
  if (c.maximum_retry_attempts) {
    w.Key("MaximumRetryAttempts");
    w.Int64(*c.maximum_retry_attempts);
  }
  if (c.maximum_event_age_seconds) {
    w.Key("MaximumEventAgeInSeconds");
    w.Int64(*c.maximum_event_age_seconds);
  }
  w.Key("DestinationConfig");
  w.StartObject();
  w.Key("OnSuccess");
  w.StartObject();
  if (!c.on_success.empty()) {
    w.Key("Destination");
    w.String(c.on_success.c_str());
  }
  w.EndObject();
  w.Key("OnFailure");
  w.StartObject();
  if (!c.on_failure.empty()) {
    w.Key("Destination");
    w.String(c.on_failure.c_str());
  }
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return buffer.GetString();
}

// Reads the members of Put/UpdateFunctionEventInvokeConfig into `config` (only those present).
bool ReadEventConfig(const rapidjson::Value& body, EventInvokeConfigRecord* config,
                     HttpResponse* error) {
  std::optional<int64_t> retries;
  std::optional<int64_t> age;
  if (!GetInt(body, "MaximumRetryAttempts", &retries, error) ||
      !GetInt(body, "MaximumEventAgeInSeconds", &age, error)) {
    return false;
  }
  if (retries && (*retries < 0 || *retries > 2)) {
    *error = Validation("Value '" + std::to_string(*retries) +
                        "' at 'maximumRetryAttempts' failed to satisfy constraint: Member must "
                        "have value " +
                        (*retries < 0 ? "greater than or equal to 0" : "less than or equal to 2"));
    return false;
  }
  if (age && (*age < 60 || *age > 21600)) {
    *error =
        Validation("Value '" + std::to_string(*age) +
                   "' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member "
                   "must have value " +
                   (*age < 60 ? "greater than or equal to 60" : "less than or equal to 21600"));
    return false;
  }
  if (retries) config->maximum_retry_attempts = retries;
  if (age) config->maximum_event_age_seconds = age;
  const auto destinations = body.FindMember("DestinationConfig");
  if (destinations == body.MemberEnd() || destinations->value.IsNull()) return true;
  if (!destinations->value.IsObject()) {
    *error = RestJsonError(400, "InvalidRequestContentException",
                           "Could not parse request body into json: member 'DestinationConfig' "
                           "must be an object");
    return false;
  }
  for (const auto& [key, target] :
       {std::pair<const char*, std::string*>{"OnSuccess", &config->on_success},
        {"OnFailure", &config->on_failure}}) {
    const auto member = destinations->value.FindMember(key);
    if (member == destinations->value.MemberEnd() || !member->value.IsObject()) continue;
    const auto destination = member->value.FindMember("Destination");
    std::string arn;
    if (destination != member->value.MemberEnd() && destination->value.IsString()) {
      arn = destination->value.GetString();
    }
    if (!arn.empty() && !ValidDestination(arn)) {
      *error = InvalidParameter(
          "The provided destination config DestinationConfig(onSuccess=" +
          (std::string(key) == "OnSuccess" ? arn : config->on_success) + ", onFailure=" +
          (std::string(key) == "OnFailure" ? arn : config->on_failure) + ") is invalid.");
      return false;
    }
    *target = arn;
  }
  return true;
}

}  // namespace

std::optional<LambdaApi::QualifiedFunction> LambdaApi::ResolveQualified(const ApiCall& call,
                                                                        HttpResponse* error) const {
  QualifiedFunction target;
  std::string& name = target.name;
  std::string& qualifier = target.qualifier;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, error)) return std::nullopt;
  if (const auto q = call.Query("Qualifier"); q && !q->empty()) {
    if (!qualifier.empty() && qualifier != *q) {
      *error = InvalidParameter(
          "The derived qualifier from the function name does not match the specified "
          "qualifier.");
      return std::nullopt;
    }
    qualifier = *q;
  }
  target.record = registry_.Get(name);
  if (!target.record) {
    *error = NotFound(name, qualifier);
    return std::nullopt;
  }
  if (qualifier.empty()) qualifier = kLatestVersion;
  if (!HasVersion(*target.record, qualifier) && !target.record->aliases.count(qualifier)) {
    *error = NotFound(name, qualifier);
    return std::nullopt;
  }
  return target;
}

HttpResponse LambdaApi::PutFunctionEventInvokeConfig(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse parse_error;
  if (!ParseJson(call, &body, &parse_error)) return parse_error;
  std::lock_guard lock(mu_);
  HttpResponse error;
  auto resolved = ResolveQualified(call, &error);
  if (!resolved) return error;
  auto& [record, name, qualifier] = *resolved;
  EventInvokeConfigRecord config;  // Put replaces the whole configuration
  if (!ReadEventConfig(body, &config, &error)) return error;
  config.last_modified = EpochSeconds();
  record->event_invoke_configs[qualifier] = config;
  Save(*record);
  ApplyEventInvokeConfig(*record, qualifier);
  return Ok(200, EventConfigJson(FunctionArn(name, qualifier), config));
}

HttpResponse LambdaApi::UpdateFunctionEventInvokeConfig(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse parse_error;
  if (!ParseJson(call, &body, &parse_error)) return parse_error;
  std::lock_guard lock(mu_);
  HttpResponse error;
  auto resolved = ResolveQualified(call, &error);
  if (!resolved) return error;
  auto& [record, name, qualifier] = *resolved;
  // Lambda: an update of a function without a configuration creates one.
  EventInvokeConfigRecord config;
  if (const auto it = record->event_invoke_configs.find(qualifier);
      it != record->event_invoke_configs.end()) {
    config = it->second;
  }
  if (!ReadEventConfig(body, &config, &error)) return error;
  config.last_modified = EpochSeconds();
  record->event_invoke_configs[qualifier] = config;
  Save(*record);
  ApplyEventInvokeConfig(*record, qualifier);
  return Ok(200, EventConfigJson(FunctionArn(name, qualifier), config));
}

HttpResponse LambdaApi::GetFunctionEventInvokeConfig(const ApiCall& call) {
  HttpResponse error;
  auto resolved = ResolveQualified(call, &error);
  if (!resolved) return error;
  auto& [record, name, qualifier] = *resolved;
  const auto it = record->event_invoke_configs.find(qualifier);
  if (it == record->event_invoke_configs.end()) {
    return RestJsonError(
        404, "ResourceNotFoundException",
        "The function " + FunctionArn(name, qualifier) + " doesn't have an EventInvokeConfig");
  }
  return Ok(200, EventConfigJson(FunctionArn(name, qualifier), it->second));
}

HttpResponse LambdaApi::DeleteFunctionEventInvokeConfig(const ApiCall& call) {
  std::lock_guard lock(mu_);
  HttpResponse error;
  auto resolved = ResolveQualified(call, &error);
  if (!resolved) return error;
  auto& [record, name, qualifier] = *resolved;
  if (!record->event_invoke_configs.erase(qualifier)) {
    return RestJsonError(
        404, "ResourceNotFoundException",
        "The function " + FunctionArn(name, qualifier) + " doesn't have an EventInvokeConfig");
  }
  Save(*record);
  ApplyEventInvokeConfig(*record, qualifier);
  return NoContent();
}

HttpResponse LambdaApi::ListFunctionEventInvokeConfigs(const ApiCall& call) {
  std::string name;
  std::string qualifier;
  HttpResponse error;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  int64_t max_items = 50;
  if (!ReadMaxItems(call, &max_items, &error)) return error;
  const std::string marker = call.Query("Marker").value_or("");
  const auto record = registry_.Get(name);
  if (!record) return NotFound(name);
  return Ok(
      200, ConfigPage("FunctionEventInvokeConfigs", record->event_invoke_configs, max_items, marker,
                      [&](const std::string& q, const EventInvokeConfigRecord& config) {
                        return EventConfigJson(FunctionArn(name, q), config);
                      }));
}

// ---- provisioned concurrency ------------------------------------------------------------------

namespace {

HttpResponse ProvisionedNotFound() {
  return RestJsonError(404, "ProvisionedConcurrencyConfigNotFoundException",
                       "No Provisioned Concurrency Config found for this function");
}

}  // namespace

HttpResponse LambdaApi::PutProvisionedConcurrencyConfig(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse parse_error;
  if (!ParseJson(call, &body, &parse_error)) return parse_error;
  std::optional<int64_t> requested;
  if (!GetInt(body, "ProvisionedConcurrentExecutions", &requested, &parse_error)) {
    return parse_error;
  }
  if (!requested) {
    return Validation(
        "Value null at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member "
        "must not be null");
  }
  if (*requested < 1) {
    return Validation("Value '" + std::to_string(*requested) +
                      "' at 'provisionedConcurrentExecutions' failed to satisfy constraint: "
                      "Member must have value greater than or equal to 1");
  }
  if (!call.Query("Qualifier")) {
    std::string n;
    std::string q;
    HttpResponse e;
    if (SplitFunctionName(call.Param("FunctionName"), &n, &q, &e) && q.empty()) {
      return Validation(
          "Value null at 'qualifier' failed to satisfy constraint: Member must not be null");
    }
  }
  std::lock_guard lock(mu_);
  HttpResponse error;
  auto resolved = ResolveQualified(call, &error);
  if (!resolved) return error;
  auto& [record, name, qualifier] = *resolved;
  if (qualifier == kLatestVersion) {
    return InvalidParameter(
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions.");
  }
  // An alias and the version it points to cannot both be provisioned.
  std::string version = qualifier;
  if (const auto alias = record->aliases.find(qualifier); alias != record->aliases.end()) {
    version = alias->second.function_version;
    if (record->provisioned.count(version)) {
      return RestJsonError(409, "ResourceConflictException",
                           "Alias can't be used for Provisioned Concurrency configuration on an "
                           "already Provisioned version");
    }
  } else {
    for (const auto& [alias_name, other] : record->aliases) {
      if (other.function_version == qualifier && record->provisioned.count(alias_name)) {
        return RestJsonError(409, "ResourceConflictException",
                             "Version is pointed by a Provisioned Concurrency alias");
      }
    }
  }
  if (record->reserved_concurrency) {
    int64_t total = *requested;
    for (const auto& [q, config] : record->provisioned) {
      if (q != qualifier) total += config.requested;
    }
    if (total > *record->reserved_concurrency) {
      return InvalidParameter(
          "Requested Provisioned Concurrency should not be greater than the "
          "reservedConcurrentExecution for function");
    }
  }
  ProvisionedConfigRecord config;
  config.requested = *requested;
  config.last_modified = EpochTimestamp();
  record->provisioned[qualifier] = config;
  Save(*record);
  ApplyProvisioned(*record, qualifier);
  return Ok(202,
            "{\"RequestedProvisionedConcurrentExecutions\":" + std::to_string(config.requested) +
                ",\"AllocatedProvisionedConcurrentExecutions\":0,\"Status\":\"IN_"
                "PROGRESS\",\"LastModified\":" +
                JsonQuote(config.last_modified) + "}");
}

namespace {

// How many of `requested` environments are warm: native and http functions need none.
int64_t Allocated(const invoker::Invoker& invoker, const FunctionRecord& record,
                  const std::string& qualifier, int64_t requested) {
  const std::string& runtime = record.latest.config.runtime;
  if (runtime == "native" || runtime == "http") return requested;
  std::string version = qualifier;
  if (const auto alias = record.aliases.find(qualifier); alias != record.aliases.end()) {
    version = alias->second.function_version;
  }
  return std::min<int64_t>(requested,
                           invoker.ProvisionedReady(record.latest.config.function_name, version));
}

std::string ProvisionedJson(const std::string* function_arn, int64_t requested, int64_t allocated,
                            const std::string& last_modified) {
  std::string body = "{";
  if (function_arn) body += "\"FunctionArn\":" + JsonQuote(*function_arn) + ",";
  body += "\"RequestedProvisionedConcurrentExecutions\":" + std::to_string(requested) +
          ",\"AvailableProvisionedConcurrentExecutions\":" + std::to_string(allocated) +
          ",\"AllocatedProvisionedConcurrentExecutions\":" + std::to_string(allocated) +
          ",\"Status\":\"" + (allocated >= requested ? "READY" : "IN_PROGRESS") +
          "\",\"LastModified\":" + JsonQuote(last_modified) + "}";
  return body;
}

}  // namespace

HttpResponse LambdaApi::GetProvisionedConcurrencyConfig(const ApiCall& call) {
  HttpResponse error;
  auto resolved = ResolveQualified(call, &error);
  if (!resolved) return error;
  auto& [record, name, qualifier] = *resolved;
  const auto it = record->provisioned.find(qualifier);
  if (it == record->provisioned.end()) return ProvisionedNotFound();
  const int64_t allocated = Allocated(invoker_, *record, qualifier, it->second.requested);
  return Ok(200,
            ProvisionedJson(nullptr, it->second.requested, allocated, it->second.last_modified));
}

HttpResponse LambdaApi::DeleteProvisionedConcurrencyConfig(const ApiCall& call) {
  std::lock_guard lock(mu_);
  HttpResponse error;
  auto resolved = ResolveQualified(call, &error);
  if (!resolved) return error;
  auto& [record, name, qualifier] = *resolved;
  if (!record->provisioned.count(qualifier)) {
    return RestJsonError(404, "ResourceNotFoundException",
                         "No Provisioned Concurrency Config found for this function");
  }
  std::string version = qualifier;
  if (const auto alias = record->aliases.find(qualifier); alias != record->aliases.end()) {
    version = alias->second.function_version;
  }
  record->provisioned.erase(qualifier);
  Save(*record);
  invoker_.SetProvisionedConcurrency(name, 0, version);
  return NoContent();
}

HttpResponse LambdaApi::ListProvisionedConcurrencyConfigs(const ApiCall& call) {
  std::string name;
  std::string qualifier;
  HttpResponse error;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  int64_t max_items = 50;
  if (!ReadMaxItems(call, &max_items, &error)) return error;
  const std::string marker = call.Query("Marker").value_or("");
  const auto record = registry_.Get(name);
  if (!record) return NotFound(name);
  return Ok(200, ConfigPage("ProvisionedConcurrencyConfigs", record->provisioned, max_items, marker,
                            [&](const std::string& q, const auto& config) {
                              const std::string arn = FunctionArn(name, q);
                              return ProvisionedJson(
                                  &arn, config.requested,
                                  Allocated(invoker_, *record, q, config.requested),
                                  config.last_modified);
                            }));
}

HttpResponse LambdaApi::GetOrListProvisionedConcurrencyConfigs(const ApiCall& call) {
  return call.Query("List") ? ListProvisionedConcurrencyConfigs(call)
                            : GetProvisionedConcurrencyConfig(call);
}

void LambdaApi::RegisterConfigRoutes(Router& router, WorkPool& control) {
  auto add = [&](const char* method, const char* pattern, const char* operation, Method fn) {
    AddRoute(router, control, method, pattern, operation, fn);
  };
  const char* eic = "/2019-09-25/functions/{FunctionName}/event-invoke-config";
  add("PUT", eic, "PutFunctionEventInvokeConfig", &LambdaApi::PutFunctionEventInvokeConfig);
  add("POST", eic, "UpdateFunctionEventInvokeConfig", &LambdaApi::UpdateFunctionEventInvokeConfig);
  add("GET", eic, "GetFunctionEventInvokeConfig", &LambdaApi::GetFunctionEventInvokeConfig);
  add("DELETE", eic, "DeleteFunctionEventInvokeConfig",
      &LambdaApi::DeleteFunctionEventInvokeConfig);
  add("GET", "/2019-09-25/functions/{FunctionName}/event-invoke-config/list",
      "ListFunctionEventInvokeConfigs", &LambdaApi::ListFunctionEventInvokeConfigs);
  const char* pc = "/2019-09-30/functions/{FunctionName}/provisioned-concurrency";
  add("PUT", pc, "PutProvisionedConcurrencyConfig", &LambdaApi::PutProvisionedConcurrencyConfig);
  add("DELETE", pc, "DeleteProvisionedConcurrencyConfig",
      &LambdaApi::DeleteProvisionedConcurrencyConfig);
  // GET serves both Get (?Qualifier=) and List (?List=ALL).
  add("GET", pc, "GetProvisionedConcurrencyConfig",
      &LambdaApi::GetOrListProvisionedConcurrencyConfigs);
}

}  // namespace switchyard::orchestrator::api

namespace switchyard::orchestrator::api {

bool LambdaApi::ParseRoutingConfig(const void* body_json, std::map<std::string, double>* weights,
                                   bool* present, HttpResponse* error) const {
  const auto& body = *static_cast<const rapidjson::Value*>(body_json);
  weights->clear();
  *present = false;
  const auto routing = body.FindMember("RoutingConfig");
  if (routing == body.MemberEnd() || routing->value.IsNull()) return true;
  *present = true;
  if (!routing->value.IsObject()) {
    *error = RestJsonError(400, "InvalidRequestContentException",
                           "Could not parse request body into json: member 'RoutingConfig' must "
                           "be an object");
    return false;
  }
  const auto additional = routing->value.FindMember("AdditionalVersionWeights");
  if (additional == routing->value.MemberEnd() || additional->value.IsNull()) return true;
  if (!additional->value.IsObject()) {
    *error = RestJsonError(400, "InvalidRequestContentException",
                           "Could not parse request body into json: member "
                           "'AdditionalVersionWeights' must be an object");
    return false;
  }
  for (const auto& member : additional->value.GetObject()) {
    const std::string version = member.name.GetString();
    if (!member.value.IsNumber()) {
      *error = RestJsonError(400, "InvalidRequestContentException",
                             "Could not parse request body into json: the weight of version '" +
                                 version + "' must be a number");
      return false;
    }
    const double weight = member.value.GetDouble();
    if (!(weight >= 0.0 && weight <= 1.0)) {
      *error = Validation(
          "Value at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map "
          "value must satisfy constraint: [Member must have value less than or equal to 1.0, "
          "Member must have value greater than or equal to 0.0]");
      return false;
    }
    (*weights)[version] = weight;
  }
  if (weights->size() > 1) {
    *error =
        InvalidParameter("Number of items in AdditionalVersionWeights cannot be greater than 1");
    return false;
  }
  return true;
}

bool LambdaApi::CheckRouting(const FunctionRecord& record, const std::string& version,
                             const std::map<std::string, double>& weights,
                             HttpResponse* error) const {
  for (const auto& [weighted, weight] : weights) {
    if (version == kLatestVersion) {
      *error =
          InvalidParameter("$LATEST is not supported for an alias pointing to more than 1 version");
      return false;
    }
    if (weighted == version) {
      *error = InvalidParameter("Invalid function version " + weighted + ". Function version " +
                                weighted + " is already included in routing configuration.");
      return false;
    }
    if (weighted == kLatestVersion || !HasVersion(record, weighted)) {
      *error = InvalidParameter("Invalid function version " + weighted +
                                ". Only published versions can be used in routing configuration.");
      return false;
    }
  }
  return true;
}

}  // namespace switchyard::orchestrator::api
