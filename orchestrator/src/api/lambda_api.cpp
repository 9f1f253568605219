// Lambda REST-JSON operations. Request and response members, errors and status codes follow
// the Lambda API reference (2015-03-31).
#include "api/lambda_api.hpp"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>

#include "api/aws_error.hpp"
#include "api/lambda_common.hpp"
#include "api/metrics.hpp"
#include "api/work_pool.hpp"
#include "switchyard/invoker/invoker.hpp"

namespace switchyard::orchestrator::api {
namespace {

namespace fs = std::filesystem;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// The bucket name that marks Code.S3Key as a local directory used in place (there is no S3
// here; the AWS CLI and SDKs can only send the members the API defines).
constexpr const char* kLocalCodeBucket = "__local__";
constexpr int64_t kDefaultMaxItems = 50;
constexpr int64_t kMaxMaxItems = 10000;

std::string NewUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t a = rng();
  const uint64_t b = rng();
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%08x-%04x-4%03x-%04x-%012llx",
                static_cast<unsigned>(a >> 32), static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(((b >> 48) & 0x3fff) | 0x8000),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buffer;
}

std::string NowTimestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[80];
  std::snprintf(out, sizeof out, "%s.%03d+0000", buffer, static_cast<int>(ms));
  return out;
}

std::string Base64Encode(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ') clean.push_back(c);
  }
  if (clean.size() % 4 != 0) return std::nullopt;
  std::string out(clean.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()),
                                static_cast<int>(clean.size()));
  if (n < 0) return std::nullopt;
  std::size_t size = static_cast<std::size_t>(n);
  if (!clean.empty() && clean.back() == '=') --size;
  if (clean.size() >= 2 && clean[clean.size() - 2] == '=') --size;
  out.resize(size);
  return out;
}

std::string Sha256Base64(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  return Base64Encode(std::string(reinterpret_cast<const char*>(digest), size));
}

// Parses the body as a JSON object. An empty body is an empty object.
bool ParseBody(const ApiCall& call, rapidjson::Document* doc, HttpResponse* error) {
  const std::string& body = call.request.body;
  if (body.empty()) {
    doc->SetObject();
    return true;
  }
  doc->Parse(body.data(), body.size());
  if (doc->HasParseError() || !doc->IsObject()) {
    *error = RestJsonError(400, "InvalidRequestContentException",
                           "Could not parse request body into json: Unexpected character or end "
                           "of input. Check that the request body is a JSON object.");
    return false;
  }
  return true;
}

bool GetString(const rapidjson::Value& object, const char* name, std::string* out,
               HttpResponse* error) {
  const rapidjson::Value* value = Member(object, name);
  if (!value) return true;
  if (!value->IsString()) {
    *error = RestJsonError(400, "InvalidRequestContentException",
                           std::string("Could not parse request body into json: member '") + name +
                               "' must be a string");
    return false;
  }
  out->assign(value->GetString(), value->GetStringLength());
  return true;
}

bool GetBool(const rapidjson::Value& object, const char* name, bool* out, HttpResponse* error) {
  const rapidjson::Value* value = Member(object, name);
  if (!value) return true;
  if (!value->IsBool()) {
    *error = RestJsonError(400, "InvalidRequestContentException",
                           std::string("Could not parse request body into json: member '") + name +
                               "' must be a boolean");
    return false;
  }
  *out = value->GetBool();
  return true;
}

// Environment: {"Variables": {"K": "V"}}.
bool GetEnvironment(const rapidjson::Value& object, std::map<std::string, std::string>* out,
                    bool* present, HttpResponse* error) {
  const rapidjson::Value* env = Member(object, "Environment");
  if (!env) return true;
  *present = true;
  out->clear();
  if (!env->IsObject()) {
    *error = RestJsonError(400, "InvalidRequestContentException",
                           "Could not parse request body into json: member 'Environment' must be "
                           "an object");
    return false;
  }
  const rapidjson::Value* variables = Member(*env, "Variables");
  if (!variables) return true;
  if (!variables->IsObject()) {
    *error = RestJsonError(400, "InvalidRequestContentException",
                           "Could not parse request body into json: member 'Variables' must be an "
                           "object");
    return false;
  }
  for (const auto& member : variables->GetObject()) {
    if (!member.value.IsString()) {
      *error = RestJsonError(400, "InvalidRequestContentException",
                             "Could not parse request body into json: environment variable "
                             "values must be strings");
      return false;
    }
    (*out)[member.name.GetString()] = member.value.GetString();
  }
  return true;
}

// Config members shared by CreateFunction and UpdateFunctionConfiguration.
bool ApplyConfigMembers(const rapidjson::Value& body, FunctionVersionRecord* version,
                        HttpResponse* error) {
  invoker::FunctionConfig& config = version->config;
  std::optional<int64_t> timeout;
  std::optional<int64_t> memory;
  bool env_present = false;
  std::map<std::string, std::string> env;
  if (!GetString(body, "Runtime", &config.runtime, error) ||
      !GetString(body, "Handler", &config.handler, error) ||
      !GetString(body, "Description", &config.description, error) ||
      !GetString(body, "Role", &version->role, error) ||
      !GetInt(body, "Timeout", &timeout, error) || !GetInt(body, "MemorySize", &memory, error) ||
      !GetEnvironment(body, &env, &env_present, error)) {
    return false;
  }
  if (timeout) config.timeout_seconds = *timeout;
  if (memory) config.memory_size_mb = *memory;
  if (env_present) config.environment = std::move(env);
  return true;
}

// Marker = the name (or version) to resume at, base64 so that it is opaque like AWS's.
bool Page(const ApiCall& call, int64_t* max_items, std::string* marker, HttpResponse* error) {
  *max_items = kDefaultMaxItems;
  if (const auto text = call.Query("MaxItems")) {
    char* end = nullptr;
    const long long value = std::strtoll(text->c_str(), &end, 10);
    if (text->empty() || *end != '\0' || value < 1 || value > kMaxMaxItems) {
      *error =
          RestJsonError(400, "InvalidParameterValueException",
                        "1 validation error detected: Value '" + *text +
                            "' at 'maxItems' failed to satisfy constraint: Member must have "
                            "value less than or equal to 10000 and greater than or equal to 1");
      return false;
    }
    *max_items = value;
  }
  marker->clear();
  if (const auto text = call.Query("Marker")) {
    const auto decoded = Base64Decode(*text);
    if (!decoded || decoded->empty()) {
      *error = InvalidParameter("Invalid marker: " + *text);
      return false;
    }
    *marker = *decoded;
  }
  return true;
}

void WriteString(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

}  // namespace

struct LambdaApi::Code {
  std::string code_dir;
  std::string unpacked_root;  // set when we unpacked a zip (the invoker then owns it)
  std::string sha256;
  int64_t size = 0;
  std::string zip;  // the package, when it goes to a durable registry (code_store set)
};

std::size_t LambdaBodyLimit(const HttpRequest& head) {
  const std::string& path = head.path;
  auto ends_with = [&](std::string_view suffix) {
    std::string_view p = path;
    while (!p.empty() && p.back() == '/') p.remove_suffix(1);
    return p.size() >= suffix.size() && p.substr(p.size() - suffix.size()) == suffix;
  };
  if (ends_with("/invocations")) return kMaxInvokeRequestBytes;
  if (ends_with("/code") || (head.method == "POST" && ends_with("/2015-03-31/functions"))) {
    return kMaxCodeRequestBytes;
  }
  return kMaxLambdaRequestBytes;
}

HttpResponse LambdaTooLarge(const HttpRequest& head, std::size_t limit) {
  std::string_view p = head.path;
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  if (p.size() >= 12 && p.substr(p.size() - 12) == "/invocations") {
    return RestJsonError(413, "RequestTooLargeException",
                         "Request must be smaller than " + std::to_string(limit) +
                             " bytes for the InvokeFunction operation");
  }
  const std::string operation = p.size() >= 5 && p.substr(p.size() - 5) == "/code"
                                    ? "UpdateFunctionCode"
                                    : (head.method == "POST" ? "CreateFunction" : "this");
  return RestJsonError(413, "RequestEntityTooLargeException",
                       "Request must be smaller than " + std::to_string(limit) + " bytes for the " +
                           operation + " operation");
}

LambdaApi::LambdaApi(LambdaApiOptions options, invoker::Invoker& invoker,
                     FunctionRegistry& registry, Metrics& metrics)
    : options_(std::move(options)), invoker_(invoker), registry_(registry), metrics_(metrics) {}

std::string LambdaApi::FunctionArn(const std::string& name, const std::string& qualifier) const {
  std::string arn =
      "arn:aws:lambda:" + options_.region + ":" + options_.account_id + ":function:" + name;
  if (!qualifier.empty()) arn += ":" + qualifier;
  return arn;
}

HttpResponse LambdaApi::NotFound(const std::string& name, const std::string& qualifier) const {
  return RestJsonError(404, "ResourceNotFoundException",
                       "Function not found: " + FunctionArn(name, qualifier));
}

bool LambdaApi::SplitFunctionName(const std::string& text, std::string* name,
                                  std::string* qualifier, HttpResponse* error) const {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto colon = text.find(':', start);
    parts.push_back(text.substr(start, colon == std::string::npos ? colon : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  std::size_t index = 0;
  if (parts.size() >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function") {
    index = 6;
  } else if (parts.size() >= 3 && parts[1] == "function") {
    index = 2;
  }
  bool ok = index < parts.size() && parts.size() <= index + 2;
  if (ok) {
    *name = parts[index];
    qualifier->clear();
    if (parts.size() == index + 2) *qualifier = parts[index + 1];
    ok =
        !name->empty() && name->size() <= 64 && std::all_of(name->begin(), name->end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        });
  }
  if (!ok) {
    *error =
        RestJsonError(400, "ValidationException",
                      "1 validation error detected: Value '" + text +
                          "' at 'functionName' failed to satisfy constraint: Member must "
                          "satisfy regular expression pattern: "
                          "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?"
                          "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))"
                          "?");
  }
  return ok;
}

std::string LambdaApi::ConfigurationJson(const FunctionVersionRecord& version,
                                         bool qualified_latest) const {
  const invoker::FunctionConfig& config = version.config;
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  WriteString(w, "FunctionName", config.function_name);
  const bool latest = version.version == kLatestVersion;
  WriteString(w, "FunctionArn",
              FunctionArn(config.function_name,
                          latest ? (qualified_latest ? kLatestVersion : "") : version.version));
  WriteString(w, "Runtime", config.runtime);
  WriteString(w, "Role", version.role);
  WriteString(w, "Handler", config.handler);
  w.Key("CodeSize");
  w.Int64(version.code_size);
  WriteString(w, "Description", config.description);
  w.Key("Timeout");
  w.Int64(config.timeout_seconds);
  w.Key("MemorySize");
  w.Int64(config.memory_size_mb);
  WriteString(w, "LastModified", version.last_modified);
  WriteString(w, "CodeSha256", version.code_sha256);
  WriteString(w, "Version", version.version);
  if (!version.layers.empty()) {
    w.Key("Layers");
    w.StartArray();
    for (const LayerRef& layer : version.layers) {
      w.StartObject();
      WriteString(w, "Arn", layer.arn);
      w.Key("CodeSize");
      w.Int64(layer.code_size);
      w.EndObject();
    }
    w.EndArray();
  }
  if (!config.environment.empty()) {
    w.Key("Environment");
    w.StartObject();
    w.Key("Variables");
    w.StartObject();
    for (const auto& [key, value] : config.environment) {
      w.Key(key.c_str());
      w.String(value.c_str());
    }
    w.EndObject();
    w.EndObject();
  }
  w.Key("TracingConfig");
  w.StartObject();
  WriteString(w, "Mode", "PassThrough");
  w.EndObject();
  WriteString(w, "RevisionId", version.revision_id);
  WriteString(w, "State", "Active");
  WriteString(w, "LastUpdateStatus", "Successful");
  WriteString(w, "PackageType", "Zip");
  w.Key("Architectures");
  w.StartArray();
  w.String("x86_64");
  w.EndArray();
  w.Key("EphemeralStorage");
  w.StartObject();
  w.Key("Size");
  w.Int(512);
  w.EndObject();
  w.Key("LoggingConfig");
  w.StartObject();
  WriteString(w, "LogFormat", "Text");
  WriteString(w, "LogGroup", "/aws/lambda/" + config.function_name);
  w.EndObject();
  w.EndObject();
  return buffer.GetString();
}

std::string LambdaApi::AliasJson(const std::string& function_name, const AliasRecord& alias) const {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  WriteString(w, "AliasArn", FunctionArn(function_name, alias.name));
  WriteString(w, "Name", alias.name);
  WriteString(w, "FunctionVersion", alias.function_version);
  WriteString(w, "Description", alias.description);
  if (!alias.additional_version_weights.empty()) {
    w.Key("RoutingConfig");
    w.StartObject();
    w.Key("AdditionalVersionWeights");
    w.StartObject();
    for (const auto& [version, weight] : alias.additional_version_weights) {
      w.Key(version.c_str());
      w.Double(weight);
    }
    w.EndObject();
    w.EndObject();
  }
  WriteString(w, "RevisionId", alias.revision_id);
  w.EndObject();
  return buffer.GetString();
}

bool LambdaApi::LoadCode(const std::string& name, const void* code_json, Code* code,
                         HttpResponse* error) {
  const auto& code_value = *static_cast<const rapidjson::Value*>(code_json);
  if (!code_value.IsObject()) {
    *error = RestJsonError(400, "InvalidRequestContentException",
                           "Could not parse request body into json: member 'Code' must be an "
                           "object");
    return false;
  }
  std::string zip_base64;
  std::string bucket;
  std::string key;
  std::string image;
  if (!GetString(code_value, "ZipFile", &zip_base64, error) ||
      !GetString(code_value, "S3Bucket", &bucket, error) ||
      !GetString(code_value, "S3Key", &key, error) ||
      !GetString(code_value, "ImageUri", &image, error)) {
    return false;
  }
  if (!image.empty()) {
    *error = InvalidParameter(
        "Container images (ImageUri) are not supported; use ZipFile, or "
        "S3Bucket '__local__' with S3Key naming a local directory");
    return false;
  }
  if (!bucket.empty()) {
    if (bucket != kLocalCodeBucket) {
      *error = InvalidParameter(
          "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 "
          "Error Message: The specified bucket does not exist (only the "
          "bucket '__local__', whose S3Key is a local directory, exists "
          "here)");
      return false;
    }
    std::error_code ec;
    if (key.empty() || key[0] != '/' || !fs::is_directory(key, ec)) {
      *error = InvalidParameter("S3Key must be the absolute path of a local directory, not '" +
                                key + "'");
      return false;
    }
    code->code_dir = key;
    code->sha256 = Sha256Base64(key);
    code->size = 0;
    return true;
  }
  if (zip_base64.empty()) {
    *error = InvalidParameter("Please provide a source for function code.");
    return false;
  }
  const auto zip = Base64Decode(zip_base64);
  if (!zip) {
    *error = InvalidParameter(
        "Could not unzip uploaded file. Please check your file, then try to "
        "upload again.");
    return false;
  }
  std::error_code ec;
  if (!options_.code_store.empty()) {
    // Content-addressed and kept: the same package is unpacked once per node.
    FunctionVersionRecord version;
    version.config.function_name = name;
    version.code_sha256 = Sha256Base64(*zip);
    version.code_size = static_cast<int64_t>(zip->size());
    code->zip = *zip;
    if (std::string reason = EnsureCode(&version, &code->zip); !reason.empty()) {
      *error = InvalidParameter(
          "Could not unzip uploaded file. Please check your file, then try to "
          "upload again.");
      return false;
    }
    code->code_dir = version.config.code_dir;
    code->sha256 = version.code_sha256;
    code->size = version.code_size;
    return true;
  }
  const fs::path root = fs::path(options_.data_dir) / "functions";
  fs::create_directories(root, ec);
  const std::string unique = name + "-" + NewUuid();
  const fs::path zip_path = root / (unique + ".zip");
  const fs::path dir = root / unique;
  {
    std::ofstream out(zip_path, std::ios::binary);
    out.write(zip->data(), static_cast<std::streamsize>(zip->size()));
    if (!out) {
      *error =
          RestJsonError(500, "ServiceException", "cannot store the deployment package", "Service");
      return false;
    }
  }
  const std::string unzip_error = invoker::UnpackZip(zip_path.string(), dir.string());
  fs::remove(zip_path, ec);
  if (!unzip_error.empty()) {
    fs::remove_all(dir, ec);
    *error = InvalidParameter(
        "Could not unzip uploaded file. Please check your file, then try to "
        "upload again.");
    return false;
  }
  code->code_dir = dir.string();
  code->unpacked_root = dir.string();
  code->sha256 = Sha256Base64(*zip);
  code->size = static_cast<int64_t>(zip->size());
  return true;
}

// Pushes a record's $LATEST (and nothing else) into the invoker.
std::string LambdaApi::Install(const FunctionRecord& record) {
  invoker::FunctionConfig config = record.latest.config;
  config.reserved_concurrency = record.reserved_concurrency;
  if (std::string reason = PrepareLayers(record.latest, &config); !reason.empty()) return reason;
  return invoker_.RegisterFunction(config);
}

std::string LambdaApi::AddLocalFunction(const invoker::FunctionConfig& config) {
  std::lock_guard lock(mu_);
  // A durable registry may know the function from an earlier start: its versions, aliases and
  // settings stay; $LATEST becomes what the directory holds now.
  FunctionRecord record = registry_.Get(config.function_name).value_or(FunctionRecord{});
  record.latest = FunctionVersionRecord{};
  record.latest.config = config;
  record.latest.code_location = config.code_dir;
  record.latest.code_sha256 = Sha256Base64(config.code_dir);
  record.latest.last_modified = NowTimestamp();
  record.latest.revision_id = NewUuid();
  record.latest.role = "arn:aws:iam::" + options_.account_id + ":role/switchyard";
  record.reserved_concurrency = config.reserved_concurrency;
  std::string error = Install(record);
  if (!error.empty()) return error;
  Save(record);
  return InstallAll(record);
}

HttpResponse LambdaApi::CreateFunction(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseBody(call, &body, &error)) return error;
  FunctionRecord record;
  FunctionVersionRecord& latest = record.latest;
  std::string name;
  bool publish = false;
  if (!GetString(body, "FunctionName", &name, &error) ||
      !GetBool(body, "Publish", &publish, &error) || !ApplyConfigMembers(body, &latest, &error) ||
      !ApplyLayers(&body, &latest, &error)) {
    return error;
  }
  std::string package_type;
  if (!GetString(body, "PackageType", &package_type, &error)) return error;
  if (!package_type.empty() && package_type != "Zip") {
    return InvalidParameter("PackageType '" + package_type + "' is not supported; use Zip");
  }
  if (name.empty()) {
    return RestJsonError(400, "ValidationException",
                         "1 validation error detected: Value null at 'functionName' failed to "
                         "satisfy constraint: Member must not be null");
  }
  std::string qualifier;
  std::string parsed_name;
  if (!SplitFunctionName(name, &parsed_name, &qualifier, &error)) return error;
  if (!qualifier.empty()) return InvalidParameter("Function name must not have a qualifier");
  latest.config.function_name = parsed_name;
  const rapidjson::Value* code_value = Member(body, "Code");
  if (!code_value) {
    return RestJsonError(400, "ValidationException",
                         "1 validation error detected: Value null at 'code' failed to satisfy "
                         "constraint: Member must not be null");
  }
  latest.config.code_dir = "/";  // checked with the real code below
  if (std::string reason = invoker::CheckFunctionConfig(latest.config); !reason.empty()) {
    return InvalidParameter(reason);
  }
  std::lock_guard lock(mu_);
  if (registry_.Get(parsed_name)) {
    return RestJsonError(409, "ResourceConflictException",
                         "Function already exist: " + parsed_name);
  }
  Code code;
  if (!LoadCode(parsed_name, code_value, &code, &error)) return error;
  latest.config.code_dir = code.code_dir;
  latest.config.unpacked_root = code.unpacked_root;
  latest.code_location = code.code_dir;
  latest.code_sha256 = code.sha256;
  latest.code_size = code.size;
  latest.last_modified = NowTimestamp();
  latest.revision_id = NewUuid();
  if (std::string reason = Install(record); !reason.empty()) {
    if (!code.unpacked_root.empty()) invoker::RemoveUnpackedCode(&latest.config);
    return InvalidParameter(reason);
  }
  FunctionVersionRecord shown = latest;
  if (publish) {
    FunctionVersionRecord version = latest;
    version.version = invoker_.PublishVersion(parsed_name);
    version.source_revision_id = latest.revision_id;
    version.revision_id = NewUuid();
    record.versions[record.next_version++] = version;
    shown = version;
  }
  Save(record);
  if (!code.zip.empty()) registry_.PutCode(parsed_name, code.sha256, code.zip);
  return Ok(201, ConfigurationJson(shown, false));
}

HttpResponse LambdaApi::GetFunctionConfiguration(const ApiCall& call) {
  std::string name;
  std::string qualifier;
  HttpResponse error;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  if (const auto q = call.Query("Qualifier")) qualifier = *q;
  const auto record = registry_.Get(name);
  if (!record) return NotFound(name, qualifier);
  if (qualifier.empty() || qualifier == kLatestVersion) {
    return Ok(200, ConfigurationJson(record->latest, false));
  }
  std::string version = qualifier;
  if (const auto alias = record->aliases.find(qualifier); alias != record->aliases.end()) {
    version = alias->second.function_version;
    if (version == kLatestVersion) return Ok(200, ConfigurationJson(record->latest, false));
  }
  for (const auto& [number, v] : record->versions) {
    if (std::to_string(number) == version) return Ok(200, ConfigurationJson(v, false));
  }
  return NotFound(name, qualifier);
}

HttpResponse LambdaApi::GetFunction(const ApiCall& call) {
  HttpResponse configuration = GetFunctionConfiguration(call);
  if (configuration.status != 200) return configuration;
  std::string name;
  std::string qualifier;
  HttpResponse error;
  SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error);
  const auto record = registry_.Get(name);
  if (!record) return NotFound(name);
  std::string body = "{\"Configuration\":" + configuration.body +
                     ",\"Code\":{\"RepositoryType\":\"S3\",\"Location\":" +
                     JsonQuote("file://" + record->latest.code_location) + "}";
  if (record->reserved_concurrency) {
    body += ",\"Concurrency\":{\"ReservedConcurrentExecutions\":" +
            std::to_string(*record->reserved_concurrency) + "}";
  }
  body += ",\"Tags\":{}}";
  return Ok(200, std::move(body));
}

HttpResponse LambdaApi::ListFunctions(const ApiCall& call) {
  int64_t max_items = 0;
  std::string marker;
  HttpResponse error;
  if (!Page(call, &max_items, &marker, &error)) return error;
  const std::vector<FunctionRecord> all = registry_.List();
  std::string body = "{\"Functions\":[";
  int64_t count = 0;
  std::string next;
  for (const FunctionRecord& record : all) {
    const std::string& name = record.latest.config.function_name;
    if (!marker.empty() && name < marker) continue;
    if (count == max_items) {
      next = name;
      break;
    }
    if (count) body += ',';
    body += ConfigurationJson(record.latest, false);
    ++count;
  }
  body += "]";
  if (!next.empty()) body += ",\"NextMarker\":" + JsonQuote(Base64Encode(next));
  body += "}";
  return Ok(200, std::move(body));
}

HttpResponse LambdaApi::UpdateFunctionCode(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseBody(call, &body, &error)) return error;
  std::string name;
  std::string qualifier;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  bool publish = false;
  bool dry_run = false;
  std::string revision;
  if (!GetBool(body, "Publish", &publish, &error) || !GetBool(body, "DryRun", &dry_run, &error) ||
      !GetString(body, "RevisionId", &revision, &error)) {
    return error;
  }
  std::lock_guard lock(mu_);
  auto record = registry_.Get(name);
  if (!record) return NotFound(name);
  if (!revision.empty() && revision != record->latest.revision_id) {
    return RestJsonError(412, "PreconditionFailedException",
                         "The Revision Id provided does not match the latest Revision Id. Call "
                         "the GetFunction/GetAlias API to retrieve the latest Revision Id");
  }
  Code code;
  if (!LoadCode(name, &body, &code, &error)) return error;
  FunctionVersionRecord latest = record->latest;
  latest.config.code_dir = code.code_dir;
  latest.config.unpacked_root = code.unpacked_root;
  latest.code_location = code.code_dir;
  latest.code_sha256 = code.sha256;
  latest.code_size = code.size;
  latest.last_modified = NowTimestamp();
  latest.revision_id = NewUuid();
  if (dry_run) {
    if (!code.unpacked_root.empty()) invoker::RemoveUnpackedCode(&latest.config);
    return Ok(200, ConfigurationJson(latest, false));
  }
  record->latest = latest;
  if (std::string reason = Install(*record); !reason.empty()) {
    if (!code.unpacked_root.empty()) invoker::RemoveUnpackedCode(&latest.config);
    return InvalidParameter(reason);
  }
  FunctionVersionRecord shown = latest;
  if (publish) {
    FunctionVersionRecord version = latest;
    version.version = invoker_.PublishVersion(name);
    version.source_revision_id = latest.revision_id;
    version.revision_id = NewUuid();
    record->versions[record->next_version++] = version;
    shown = version;
  }
  Save(*record);
  if (!code.zip.empty()) registry_.PutCode(name, code.sha256, code.zip);
  return Ok(200, ConfigurationJson(shown, false));
}

HttpResponse LambdaApi::UpdateFunctionConfiguration(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseBody(call, &body, &error)) return error;
  std::string name;
  std::string qualifier;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  std::string revision;
  if (!GetString(body, "RevisionId", &revision, &error)) return error;
  std::lock_guard lock(mu_);
  auto record = registry_.Get(name);
  if (!record) return NotFound(name);
  if (!revision.empty() && revision != record->latest.revision_id) {
    return RestJsonError(412, "PreconditionFailedException",
                         "The Revision Id provided does not match the latest Revision Id. Call "
                         "the GetFunction/GetAlias API to retrieve the latest Revision Id");
  }
  FunctionVersionRecord latest = record->latest;
  if (!ApplyConfigMembers(body, &latest, &error) || !ApplyLayers(&body, &latest, &error)) {
    return error;
  }
  if (std::string reason = invoker::CheckFunctionConfig(latest.config); !reason.empty()) {
    return InvalidParameter(reason);
  }
  latest.last_modified = NowTimestamp();
  latest.revision_id = NewUuid();
  // The invoker owns the unpacked code already; registering the same directory again must not
  // hand it over twice.
  record->latest = latest;
  if (std::string reason = Install(*record); !reason.empty()) return InvalidParameter(reason);
  Save(*record);
  return Ok(200, ConfigurationJson(latest, false));
}

HttpResponse LambdaApi::DeleteFunction(const ApiCall& call) {
  std::string name;
  std::string qualifier;
  HttpResponse error;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  if (const auto q = call.Query("Qualifier")) qualifier = *q;
  std::lock_guard lock(mu_);
  auto record = registry_.Get(name);
  if (!record) return NotFound(name, qualifier);
  if (qualifier == kLatestVersion) {
    return InvalidParameter("$LATEST version cannot be deleted without deleting the function.");
  }
  if (!qualifier.empty()) {
    // One published version. The invoker keeps its snapshot until the function goes; the API
    // no longer resolves it.
    for (auto it = record->versions.begin(); it != record->versions.end(); ++it) {
      if (std::to_string(it->first) != qualifier) continue;
      for (const auto& [alias_name, alias] : record->aliases) {
        if (alias.function_version == qualifier) {
          return RestJsonError(409, "ResourceConflictException",
                               "Unable to delete version because the following aliases are "
                               "pointing to it: [" +
                                   alias_name + "]");
        }
      }
      record->versions.erase(it);
      Save(*record);
      return NoContent();
    }
    return NotFound(name, qualifier);
  }
  registry_.Remove(name);
  invoker_.DeleteFunction(name);
  installed_.erase(name);
  Forget(name);
  if (!options_.code_store.empty()) {
    std::error_code ec;
    fs::remove_all(fs::path(options_.code_store) / name, ec);
  }
  return NoContent();
}

HttpResponse LambdaApi::Invoke(const ApiCall& call) {
  std::string name;
  std::string qualifier;
  HttpResponse error;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  if (const auto q = call.Query("Qualifier"); q && !q->empty()) {
    if (!qualifier.empty() && qualifier != *q) {
      return InvalidParameter(
          "The derived qualifier from the function name does not match the specified "
          "qualifier.");
    }
    qualifier = *q;
  }
  invoker::InvokeRequest request;
  const std::string* type_header = call.request.Header("x-amz-invocation-type");
  const std::string type_text = type_header ? *type_header : "RequestResponse";
  const auto type = invoker::ParseInvocationType(type_text);
  if (!type) {
    return RestJsonError(400, "ValidationException",
                         "1 validation error detected: Value '" + type_text +
                             "' at 'invocationType' failed to satisfy constraint: Member must "
                             "satisfy enum value set: [Event, RequestResponse, DryRun]");
  }
  const std::string* log_type = call.request.Header("x-amz-log-type");
  if (log_type && *log_type != "Tail" && *log_type != "None") {
    return RestJsonError(400, "ValidationException",
                         "1 validation error detected: Value '" + *log_type +
                             "' at 'logType' failed to satisfy constraint: Member must satisfy "
                             "enum value set: [Tail, None]");
  }
  // Resolve through the registry first: it is what the API shows (a deleted alias or version
  // is gone here even while the invoker still holds its snapshot). The installed copy answers
  // without a database round trip; other nodes' changes arrive with Sync.
  auto record = Installed(name);
  if (!record) record = registry_.Get(name);
  bool known = record.has_value();
  if (known && !qualifier.empty() && qualifier != kLatestVersion) {
    known = record->aliases.count(qualifier) > 0;
    for (const auto& [number, version] : record->versions) {
      if (std::to_string(number) == qualifier) known = true;
    }
  }
  if (!known) {
    metrics_.CountInvocation(name, "error", 0);
    return NotFound(name, qualifier.empty() ? kLatestVersion : qualifier);
  }
  if (!Installed(name)) {
    // Created by another node since the last Sync: install it now.
    std::lock_guard lock(mu_);
    const auto it = installed_.find(name);
    if (it == installed_.end() || it->second != record->serial) {
      FunctionRecord latest = *record;
      if (std::string reason = InstallAll(latest); reason.empty()) {
        Remember(latest);
      } else {
        spdlog::warn("function={} cannot install: {}", name, reason);
      }
    }
  }
  request.function_name = name;
  request.qualifier = qualifier;
  request.payload = call.request.body.empty() ? "{}" : call.request.body;
  request.type = *type;
  request.log_tail =
      log_type && *log_type == "Tail" && *type == invoker::InvocationType::kRequestResponse;
  if (const std::string* context = call.request.Header("x-amz-client-context")) {
    const auto decoded = Base64Decode(*context);
    if (!decoded) {
      return InvalidParameter("Client context must be a valid Base64-encoded JSON object.");
    }
    request.client_context = *decoded;
  }
  const auto started = std::chrono::steady_clock::now();
  const invoker::InvokeResult result = invoker_.Invoke(request);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  HttpResponse response;
  response.status = result.status_code;
  if (result.status != invoker::InvokeStatus::kOk) {
    metrics_.CountInvocation(
        name, result.status == invoker::InvokeStatus::kThrottled ? "throttled" : "error", seconds);
    response.headers.emplace_back("x-amzn-ErrorType", result.error_type);
    if (result.status == invoker::InvokeStatus::kThrottled) {
      response.headers.emplace_back("Retry-After", "1");
    }
    response.body = result.payload;
    return response;
  }
  if (*type == invoker::InvocationType::kEvent) {
    metrics_.CountInvocation(name, "accepted", seconds);
    response.status = 202;
    response.content_type.clear();
    return response;
  }
  if (*type == invoker::InvocationType::kDryRun) {
    metrics_.CountInvocation(name, "dry_run", seconds);
    response.status = 204;
    response.content_type.clear();
    return response;
  }
  metrics_.CountInvocation(name, result.function_error.empty() ? "success" : "function_error",
                           seconds);
  response.headers.emplace_back("X-Amz-Executed-Version", result.executed_version);
  if (!result.function_error.empty()) {
    response.headers.emplace_back("X-Amz-Function-Error", result.function_error);
  }
  if (request.log_tail) response.headers.emplace_back("X-Amz-Log-Result", result.log_result);
  response.body = result.payload;
  return response;
}

HttpResponse LambdaApi::PublishVersion(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseBody(call, &body, &error)) return error;
  std::string name;
  std::string qualifier;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  std::string description;
  std::string code_sha;
  std::string revision;
  if (!GetString(body, "Description", &description, &error) ||
      !GetString(body, "CodeSha256", &code_sha, &error) ||
      !GetString(body, "RevisionId", &revision, &error)) {
    return error;
  }
  std::lock_guard lock(mu_);
  auto record = registry_.Get(name);
  if (!record) return NotFound(name);
  if (!code_sha.empty() && code_sha != record->latest.code_sha256) {
    return RestJsonError(412, "PreconditionFailedException",
                         "CodeSHA256 (" + code_sha +
                             ") is different from current CodeSHA256 in $LATEST (" +
                             record->latest.code_sha256 +
                             "). Please try again with the "
                             "current value.");
  }
  if (!revision.empty() && revision != record->latest.revision_id) {
    return RestJsonError(412, "PreconditionFailedException",
                         "The Revision Id provided does not match the latest Revision Id. Call "
                         "the GetFunction/GetAlias API to retrieve the latest Revision Id");
  }
  // Lambda: publishing an unchanged $LATEST returns the version published from it.
  if (!record->versions.empty() &&
      record->versions.rbegin()->second.source_revision_id == record->latest.revision_id) {
    return Ok(201, ConfigurationJson(record->versions.rbegin()->second, false));
  }
  FunctionVersionRecord version = record->latest;
  version.version = invoker_.PublishVersion(name);
  if (version.version.empty()) return NotFound(name);
  version.source_revision_id = record->latest.revision_id;
  version.revision_id = NewUuid();
  version.last_modified = NowTimestamp();
  if (!description.empty()) version.config.description = description;
  record->versions[record->next_version++] = version;
  Save(*record);
  return Ok(201, ConfigurationJson(version, false));
}

HttpResponse LambdaApi::ListVersionsByFunction(const ApiCall& call) {
  std::string name;
  std::string qualifier;
  HttpResponse error;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  int64_t max_items = 0;
  std::string marker;
  if (!Page(call, &max_items, &marker, &error)) return error;
  const auto record = registry_.Get(name);
  if (!record) return NotFound(name);
  std::vector<const FunctionVersionRecord*> all = {&record->latest};
  for (const auto& [number, version] : record->versions) all.push_back(&version);
  std::size_t start = 0;
  if (!marker.empty()) {
    while (start < all.size() && all[start]->version != marker) ++start;
  }
  std::string body = "{\"Versions\":[";
  std::size_t i = start;
  for (; i < all.size() && static_cast<int64_t>(i - start) < max_items; ++i) {
    if (i != start) body += ',';
    body += ConfigurationJson(*all[i], true);
  }
  body += "]";
  if (i < all.size()) body += ",\"NextMarker\":" + JsonQuote(Base64Encode(all[i]->version));
  body += "}";
  return Ok(200, std::move(body));
}

HttpResponse LambdaApi::CreateAlias(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseBody(call, &body, &error)) return error;
  std::string name;
  std::string qualifier;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  AliasRecord alias;
  if (!GetString(body, "Name", &alias.name, &error) ||
      !GetString(body, "FunctionVersion", &alias.function_version, &error) ||
      !GetString(body, "Description", &alias.description, &error)) {
    return error;
  }
  bool has_routing = false;
  if (!ParseRoutingConfig(&body, &alias.additional_version_weights, &has_routing, &error)) {
    return error;
  }
  const bool valid_name =
      !alias.name.empty() && alias.name.size() <= 128 &&
      !std::all_of(alias.name.begin(), alias.name.end(),
                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
      std::all_of(alias.name.begin(), alias.name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      });
  if (!valid_name) {
    return RestJsonError(400, "ValidationException",
                         "1 validation error detected: Value '" + alias.name +
                             "' at 'name' failed to satisfy constraint: Member must satisfy "
                             "regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)");
  }
  std::lock_guard lock(mu_);
  auto record = registry_.Get(name);
  if (!record) return NotFound(name);
  if (record->aliases.count(alias.name)) {
    return RestJsonError(409, "ResourceConflictException",
                         "Alias already exists: " + FunctionArn(name, alias.name));
  }
  bool version_known = alias.function_version == kLatestVersion;
  for (const auto& [number, version] : record->versions) {
    if (std::to_string(number) == alias.function_version) version_known = true;
  }
  if (!version_known) return NotFound(name, alias.function_version);
  if (!CheckRouting(*record, alias.function_version, alias.additional_version_weights, &error)) {
    return error;
  }
  if (std::string reason = invoker_.CreateAlias(name, alias.name, alias.function_version,
                                                alias.additional_version_weights);
      !reason.empty()) {
    return InvalidParameter(reason);
  }
  alias.revision_id = NewUuid();
  record->aliases[alias.name] = alias;
  Save(*record);
  return Ok(201, AliasJson(name, alias));
}

HttpResponse LambdaApi::GetAlias(const ApiCall& call) {
  std::string name;
  std::string qualifier;
  HttpResponse error;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  const auto record = registry_.Get(name);
  if (!record) return NotFound(name);
  const auto it = record->aliases.find(call.Param("Name"));
  if (it == record->aliases.end()) {
    return RestJsonError(404, "ResourceNotFoundException",
                         "Cannot find alias arn: " + FunctionArn(name, call.Param("Name")));
  }
  return Ok(200, AliasJson(name, it->second));
}

HttpResponse LambdaApi::UpdateAlias(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseBody(call, &body, &error)) return error;
  std::string name;
  std::string qualifier;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  std::string version;
  std::string description;
  std::string revision;
  bool has_description = Member(body, "Description") != nullptr;
  if (!GetString(body, "FunctionVersion", &version, &error) ||
      !GetString(body, "Description", &description, &error) ||
      !GetString(body, "RevisionId", &revision, &error)) {
    return error;
  }
  bool has_routing = false;
  std::map<std::string, double> weights;
  if (!ParseRoutingConfig(&body, &weights, &has_routing, &error)) return error;
  std::lock_guard lock(mu_);
  auto record = registry_.Get(name);
  if (!record) return NotFound(name);
  const auto it = record->aliases.find(call.Param("Name"));
  if (it == record->aliases.end()) {
    return RestJsonError(404, "ResourceNotFoundException",
                         "Cannot find alias arn: " + FunctionArn(name, call.Param("Name")));
  }
  AliasRecord& alias = it->second;
  if (!revision.empty() && revision != alias.revision_id) {
    return RestJsonError(412, "PreconditionFailedException",
                         "The Revision Id provided does not match the latest Revision Id. Call "
                         "the GetFunction/GetAlias API to retrieve the latest Revision Id");
  }
  if (!version.empty()) {
    bool version_known = version == kLatestVersion;
    for (const auto& [number, v] : record->versions) {
      if (std::to_string(number) == version) version_known = true;
    }
    if (!version_known) return NotFound(name, version);
  }
  if (!version.empty() || has_routing) {
    const std::string target = version.empty() ? alias.function_version : version;
    const auto& target_weights = has_routing ? weights : alias.additional_version_weights;
    if (!CheckRouting(*record, target, target_weights, &error)) return error;
    if (std::string reason = invoker_.CreateAlias(name, alias.name, target, target_weights);
        !reason.empty()) {
      return InvalidParameter(reason);
    }
    alias.function_version = target;
    alias.additional_version_weights = target_weights;
  }
  if (has_description) alias.description = description;
  alias.revision_id = NewUuid();
  const AliasRecord shown = alias;
  Save(*record);
  return Ok(200, AliasJson(name, shown));
}

HttpResponse LambdaApi::DeleteAlias(const ApiCall& call) {
  std::string name;
  std::string qualifier;
  HttpResponse error;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  std::lock_guard lock(mu_);
  auto record = registry_.Get(name);
  if (!record) return NotFound(name);
  // Lambda answers 204 whether or not the alias existed. The invoker keeps its mapping (it has
  // no way to drop one); Invoke resolves through the registry first, so it is gone for callers.
  if (record->aliases.erase(call.Param("Name"))) Save(*record);
  return NoContent();
}

HttpResponse LambdaApi::ListAliases(const ApiCall& call) {
  std::string name;
  std::string qualifier;
  HttpResponse error;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  int64_t max_items = 0;
  std::string marker;
  if (!Page(call, &max_items, &marker, &error)) return error;
  const auto record = registry_.Get(name);
  if (!record) return NotFound(name);
  const auto version_filter = call.Query("FunctionVersion");
  std::string body = "{\"Aliases\":[";
  int64_t count = 0;
  std::string next;
  for (const auto& [alias_name, alias] : record->aliases) {
    if (version_filter && alias.function_version != *version_filter) continue;
    if (!marker.empty() && alias_name < marker) continue;
    if (count == max_items) {
      next = alias_name;
      break;
    }
    if (count) body += ',';
    body += AliasJson(name, alias);
    ++count;
  }
  body += "]";
  if (!next.empty()) body += ",\"NextMarker\":" + JsonQuote(Base64Encode(next));
  body += "}";
  return Ok(200, std::move(body));
}

HttpResponse LambdaApi::PutFunctionConcurrency(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseBody(call, &body, &error)) return error;
  std::string name;
  std::string qualifier;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  std::optional<int64_t> reserved;
  if (!GetInt(body, "ReservedConcurrentExecutions", &reserved, &error)) return error;
  if (!reserved || *reserved < 0) {
    return RestJsonError(400, "ValidationException",
                         "1 validation error detected: Value at 'reservedConcurrentExecutions' "
                         "failed to satisfy constraint: Member must have value greater than or "
                         "equal to 0");
  }
  std::lock_guard lock(mu_);
  auto record = registry_.Get(name);
  if (!record) return NotFound(name);
  // Lambda keeps at least 100 of the account's concurrency unreserved.
  int64_t reserved_elsewhere = 0;
  for (const FunctionRecord& other : registry_.List()) {
    if (other.latest.config.function_name != name && other.reserved_concurrency) {
      reserved_elsewhere += *other.reserved_concurrency;
    }
  }
  if (reserved_elsewhere + *reserved > options_.account_concurrency - 100) {
    return InvalidParameter(
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100].");
  }
  record->reserved_concurrency = *reserved;
  if (std::string reason = Install(*record); !reason.empty()) return InvalidParameter(reason);
  Save(*record);
  return Ok(200, "{\"ReservedConcurrentExecutions\":" + std::to_string(*reserved) + "}");
}

HttpResponse LambdaApi::GetFunctionConcurrency(const ApiCall& call) {
  std::string name;
  std::string qualifier;
  HttpResponse error;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  const auto record = registry_.Get(name);
  if (!record) return NotFound(name);
  if (!record->reserved_concurrency) return Ok(200, "{}");
  return Ok(200, "{\"ReservedConcurrentExecutions\":" +
                     std::to_string(*record->reserved_concurrency) + "}");
}

HttpResponse LambdaApi::DeleteFunctionConcurrency(const ApiCall& call) {
  std::string name;
  std::string qualifier;
  HttpResponse error;
  if (!SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) return error;
  std::lock_guard lock(mu_);
  auto record = registry_.Get(name);
  if (!record) return NotFound(name);
  record->reserved_concurrency.reset();
  if (std::string reason = Install(*record); !reason.empty()) return InvalidParameter(reason);
  Save(*record);
  return NoContent();
}

HttpResponse LambdaApi::GetAccountSettings(const ApiCall&) {
  const std::vector<FunctionRecord> all = registry_.List();
  int64_t reserved = 0;
  int64_t code_size = 0;
  for (const FunctionRecord& record : all) {
    if (record.reserved_concurrency) reserved += *record.reserved_concurrency;
    code_size += record.latest.code_size;
    for (const auto& [number, version] : record.versions) code_size += version.code_size;
  }
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("AccountLimit");
  w.StartObject();
  w.Key("TotalCodeSize");
  w.Int64(80530636800);
  w.Key("CodeSizeUnzipped");
  w.Int64(262144000);
  w.Key("CodeSizeZipped");
  w.Int64(52428800);
  w.Key("ConcurrentExecutions");
  w.Int64(options_.account_concurrency);
  w.Key("UnreservedConcurrentExecutions");
  w.Int64(options_.account_concurrency - reserved);
  w.EndObject();
  w.Key("AccountUsage");
  w.StartObject();
  w.Key("TotalCodeSize");
  w.Int64(code_size);
  w.Key("FunctionCount");
  w.Int64(static_cast<int64_t>(all.size()));
  w.EndObject();
  w.EndObject();
  return Ok(200, buffer.GetString());
}

void LambdaApi::AddRoute(Router& router, WorkPool& pool, const char* method, const char* pattern,
                         const char* operation, Method fn) {
  router.AddRest(method, pattern, operation, [this, fn, &pool](ApiCall call, Respond respond) {
    pool.Post([this, fn, call = std::move(call), respond = std::move(respond)] {
      HttpResponse response;
      try {
        response = (this->*fn)(call);
      } catch (const FunctionConflict&) {
        response = RestJsonError(409, "ResourceConflictException",
                                 "The operation cannot be performed at this time. An update "
                                 "is in progress for resource: " +
                                     FunctionArn(call.Param("FunctionName")));
      } catch (const std::exception& e) {
        response = RestJsonError(500, "ServiceException", e.what(), "Service");
      }
      respond(std::move(response));
    });
  });
}

void LambdaApi::Register(Router& router, WorkPool& control, WorkPool& invoke) {
  auto add = [&](const char* method, const char* pattern, const char* operation, Method fn,
                 WorkPool& pool) { AddRoute(router, pool, method, pattern, operation, fn); };
  const std::string fn = "/2015-03-31/functions";
  add("POST", "/2015-03-31/functions", "CreateFunction", &LambdaApi::CreateFunction, control);
  add("GET", "/2015-03-31/functions", "ListFunctions", &LambdaApi::ListFunctions, control);
  add("GET", "/2015-03-31/functions/{FunctionName}", "GetFunction", &LambdaApi::GetFunction,
      control);
  add("DELETE", "/2015-03-31/functions/{FunctionName}", "DeleteFunction",
      &LambdaApi::DeleteFunction, control);
  add("GET", "/2015-03-31/functions/{FunctionName}/configuration", "GetFunctionConfiguration",
      &LambdaApi::GetFunctionConfiguration, control);
  add("PUT", "/2015-03-31/functions/{FunctionName}/configuration", "UpdateFunctionConfiguration",
      &LambdaApi::UpdateFunctionConfiguration, control);
  add("PUT", "/2015-03-31/functions/{FunctionName}/code", "UpdateFunctionCode",
      &LambdaApi::UpdateFunctionCode, control);
  add("POST", "/2015-03-31/functions/{FunctionName}/invocations", "Invoke", &LambdaApi::Invoke,
      invoke);
  add("POST", "/2015-03-31/functions/{FunctionName}/versions", "PublishVersion",
      &LambdaApi::PublishVersion, control);
  add("GET", "/2015-03-31/functions/{FunctionName}/versions", "ListVersionsByFunction",
      &LambdaApi::ListVersionsByFunction, control);
  add("POST", "/2015-03-31/functions/{FunctionName}/aliases", "CreateAlias",
      &LambdaApi::CreateAlias, control);
  add("GET", "/2015-03-31/functions/{FunctionName}/aliases", "ListAliases", &LambdaApi::ListAliases,
      control);
  add("GET", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "GetAlias",
      &LambdaApi::GetAlias, control);
  add("PUT", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "UpdateAlias",
      &LambdaApi::UpdateAlias, control);
  add("DELETE", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "DeleteAlias",
      &LambdaApi::DeleteAlias, control);
  add("PUT", "/2017-10-31/functions/{FunctionName}/concurrency", "PutFunctionConcurrency",
      &LambdaApi::PutFunctionConcurrency, control);
  add("GET", "/2019-09-30/functions/{FunctionName}/concurrency", "GetFunctionConcurrency",
      &LambdaApi::GetFunctionConcurrency, control);
  add("DELETE", "/2017-10-31/functions/{FunctionName}/concurrency", "DeleteFunctionConcurrency",
      &LambdaApi::DeleteFunctionConcurrency, control);
  add("GET", "/2016-08-19/account-settings", "GetAccountSettings", &LambdaApi::GetAccountSettings,
      control);
  RegisterConfigRoutes(router, control);
}

}  // namespace switchyard::orchestrator::api
