// Lambda layers. Operations, members and errors follow the Lambda API reference (2018-10-31
// PublishLayerVersion ... DeleteLayerVersion); how a function sees its layers follows the
// developer guide, "Managing Lambda dependencies with layers" (/opt, its paths, 250 MB).
#include "api/lambda_layers.hpp"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>

#include "api/aws_error.hpp"
#include "api/lambda_api.hpp"
#include "api/lambda_common.hpp"
#include "api/url_event.hpp"
#include "api/work_pool.hpp"
#include "switchyard/invoker/function_config.hpp"

namespace switchyard::orchestrator::api {
namespace {

namespace fs = std::filesystem;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr const char* kCouldNotUnzip =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";

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

std::string Sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), size);
}

std::string Hex(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kHex[(static_cast<unsigned char>(c) >> 4) & 15]);
    out.push_back(kHex[static_cast<unsigned char>(c) & 15]);
  }
  return out;
}

// A base64 hash made safe for a file name.
std::string SafeSha(std::string sha) {
  for (char& c : sha) {
    if (c == '/') c = '_';
    if (c == '+') c = '-';
    if (c == '=') c = '.';
  }
  return sha;
}

int64_t TreeSize(const fs::path& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const auto size = it->file_size(size_ec);
      if (!size_ec) total += static_cast<int64_t>(size);
    }
  }
  return total;
}

// Files become read-only: unpacked layers are shared by every function that uses them.
void MakeReadOnly(const fs::path& dir) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code file_ec;
    if (it->is_regular_file(file_ec) && !it->is_symlink(file_ec)) {
      fs::permissions(it->path(),
                      fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                      fs::perm_options::remove, file_ec);
    }
  }
}

// Adds the tree `from` into `to`: directories made, files hard-linked (copied where a link
// cannot be made), replacing what an earlier layer put there.
std::string MergeInto(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(from, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path target = to / fs::relative(it->path(), from, ec);
    if (ec) return ec.message();
    std::error_code entry_ec;
    if (it->is_symlink(entry_ec)) {
      fs::remove_all(target, entry_ec);
      fs::copy_symlink(it->path(), target, entry_ec);
    } else if (it->is_directory(entry_ec)) {
      if (fs::is_symlink(target, entry_ec) || fs::is_regular_file(target, entry_ec)) {
        fs::remove(target, entry_ec);
      }
      fs::create_directories(target, entry_ec);
    } else {
      fs::remove_all(target, entry_ec);
      fs::create_hard_link(it->path(), target, entry_ec);
      if (entry_ec) fs::copy_file(it->path(), target, entry_ec);
    }
    if (entry_ec) return target.string() + ": " + entry_ec.message();
  }
  return ec ? ec.message() : std::string();
}

std::string UniqueSuffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(rng());
}

bool ValidLayerName(const std::string& name) {
  return !name.empty() && name.size() <= 140 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// LayerName path parameter: a name or a layer ARN.
std::string LayerNameOf(const std::string& text) {
  const std::size_t at = text.find(":layer:");
  return at == std::string::npos ? text : text.substr(at + 7);
}

bool ParseVersion(const std::string& text, int64_t* version) {
  if (text.empty() || text.size() > 18 || !std::all_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      })) {
    return false;
  }
  *version = std::stoll(text);
  return *version >= 1;
}

// arn:aws:lambda:<region>:<account>:layer:<name>:<version> → name, version.
bool ParseLayerVersionArn(const std::string& arn, std::string* name, int64_t* version) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto colon = arn.find(':', start);
    parts.push_back(arn.substr(start, colon == std::string::npos ? colon : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() != 8 || parts[0] != "arn" || parts[2] != "lambda" || parts[5] != "layer") {
    return false;
  }
  *name = parts[6];
  return ValidLayerName(*name) && ParseVersion(parts[7], version);
}

HttpResponse NoSuchLayer() {
  return RestJsonError(404, "ResourceNotFoundException",
                       "The resource you requested does not exist.");
}

HttpResponse Validation(const std::string& message) {
  return RestJsonError(400, "ValidationException", "1 validation error detected: " + message);
}

bool StringArray(const rapidjson::Value& body, const char* name, std::size_t max_items,
                 std::vector<std::string>* out, HttpResponse* error) {
  const rapidjson::Value* value = Member(body, name);
  if (!value) return true;
  if (!value->IsArray() || value->Size() > max_items) {
    *error = InvalidParameter(std::string(name) + " must be a list of at most " +
                              std::to_string(max_items) + " strings");
    return false;
  }
  for (const auto& item : value->GetArray()) {
    if (!item.IsString()) {
      *error = InvalidParameter(std::string(name) + " must be a list of strings");
      return false;
    }
    out->emplace_back(item.GetString(), item.GetStringLength());
  }
  return true;
}

bool Matches(const LayerVersionRecord& record, const std::optional<std::string>& runtime,
             const std::optional<std::string>& architecture) {
  auto has = [](const std::vector<std::string>& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
  };
  return (!runtime || has(record.compatible_runtimes, *runtime)) &&
         (!architecture || has(record.compatible_architectures, *architecture));
}

bool ReadMaxItems(const ApiCall& call, int64_t* max_items, HttpResponse* error) {
  *max_items = 50;
  const auto text = call.Query("MaxItems");
  if (!text) return true;
  if (!ParseVersion(*text, max_items) || *max_items > 50) {
    *error = Validation("Value '" + *text +
                        "' at 'maxItems' failed to satisfy constraint: Member must have value "
                        "less than or equal to 50");
    return false;
  }
  return true;
}

}  // namespace

// ---- the in-memory registry -------------------------------------------------------------------

LayerVersionRecord InMemoryLayerRegistry::Publish(LayerVersionRecord record,
                                                  const std::string& zip) {
  std::lock_guard lock(mu_);
  int64_t& next = next_version_[record.layer_name];
  if (next == 0) next = 1;
  record.version = next++;
  versions_[{record.layer_name, record.version}] = {record, zip};
  return record;
}

std::optional<LayerVersionRecord> InMemoryLayerRegistry::Get(const std::string& layer_name,
                                                             int64_t version) const {
  std::lock_guard lock(mu_);
  const auto it = versions_.find({layer_name, version});
  if (it == versions_.end()) return std::nullopt;
  return it->second.first;
}

std::vector<LayerVersionRecord> InMemoryLayerRegistry::Versions(
    const std::string& layer_name) const {
  std::lock_guard lock(mu_);
  std::vector<LayerVersionRecord> out;
  for (const auto& [key, value] : versions_) {
    if (key.first == layer_name) out.push_back(value.first);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> InMemoryLayerRegistry::Names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [key, value] : versions_) {
    if (names.empty() || names.back() != key.first) names.push_back(key.first);
  }
  return names;
}

bool InMemoryLayerRegistry::Delete(const std::string& layer_name, int64_t version) {
  std::lock_guard lock(mu_);
  const auto it = versions_.find({layer_name, version});
  if (it == versions_.end()) return false;
  deleted_zips_[it->first] = std::move(it->second.second);
  versions_.erase(it);
  return true;
}

std::optional<std::string> InMemoryLayerRegistry::GetZip(const std::string& layer_name,
                                                         int64_t version) const {
  std::lock_guard lock(mu_);
  const auto it = versions_.find({layer_name, version});
  if (it != versions_.end()) return it->second.second;
  const auto deleted = deleted_zips_.find({layer_name, version});
  if (deleted != deleted_zips_.end()) return deleted->second;
  return std::nullopt;
}

// ---- the operations -----------------------------------------------------------------------------

LambdaLayers::LambdaLayers(LambdaLayersOptions options, LayerRegistry& registry)
    : options_(std::move(options)), registry_(registry) {}

std::string LambdaLayers::LayerArn(const std::string& name) const {
  return "arn:aws:lambda:" + options_.region + ":" + options_.account_id + ":layer:" + name;
}

std::string LambdaLayers::Unpacked(const std::string& name, int64_t version,
                                   const std::string& sha) const {
  return (fs::path(options_.root) / name / (std::to_string(version) + "-" + SafeSha(sha))).string();
}

std::string LambdaLayers::VersionJson(const LayerVersionRecord& record, bool with_content) const {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  auto str = [&](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  };
  auto list = [&](const char* key, const std::vector<std::string>& values) {
    w.Key(key);
    w.StartArray();
    for (const auto& value : values) w.String(value.c_str());
    w.EndArray();
  };
  w.StartObject();
  if (with_content) {
    w.Key("Content");
    w.StartObject();
    str("Location", "file://" + Unpacked(record.layer_name, record.version, record.code_sha256));
    str("CodeSha256", record.code_sha256);
    w.Key("CodeSize");
    w.Int64(record.code_size);
    w.EndObject();
    str("LayerArn", LayerArn(record.layer_name));
  }
  str("LayerVersionArn", LayerArn(record.layer_name) + ":" + std::to_string(record.version));
  str("Description", record.description);
  str("CreatedDate", record.created_date);
  w.Key("Version");
  w.Int64(record.version);
  list("CompatibleRuntimes", record.compatible_runtimes);
  if (!record.license_info.empty()) str("LicenseInfo", record.license_info);
  list("CompatibleArchitectures", record.compatible_architectures);
  w.EndObject();
  return buffer.GetString();
}

HttpResponse LambdaLayers::Publish(const ApiCall& call) {
  const std::string name = LayerNameOf(call.Param("LayerName"));
  if (!ValidLayerName(name)) {
    return Validation("Value '" + call.Param("LayerName") +
                      "' at 'layerName' failed to satisfy constraint: Member must satisfy "
                      "regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:"
                      "\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+");
  }
  rapidjson::Document body;
  body.Parse(call.request.body.data(), call.request.body.size());
  if (body.HasParseError() || !body.IsObject()) {
    return RestJsonError(400, "InvalidRequestContentException",
                         "Could not parse request body into json: Unexpected character or end "
                         "of input. Check that the request body is a JSON object.");
  }
  LayerVersionRecord record;
  record.layer_name = name;
  HttpResponse error;
  if (const rapidjson::Value* v = Member(body, "Description")) {
    if (!v->IsString() || v->GetStringLength() > 256) {
      return InvalidParameter("Description must be a string of at most 256 characters");
    }
    record.description = v->GetString();
  }
  if (const rapidjson::Value* v = Member(body, "LicenseInfo")) {
    if (!v->IsString() || v->GetStringLength() > 512) {
      return InvalidParameter("LicenseInfo must be a string of at most 512 characters");
    }
    record.license_info = v->GetString();
  }
  if (!StringArray(body, "CompatibleRuntimes", 15, &record.compatible_runtimes, &error) ||
      !StringArray(body, "CompatibleArchitectures", 2, &record.compatible_architectures, &error)) {
    return error;
  }
  const rapidjson::Value* content = Member(body, "Content");
  if (!content || !content->IsObject()) {
    return Validation(
        "Value null at 'content' failed to satisfy constraint: Member must not be null");
  }
  for (const char* s3 : {"S3Bucket", "S3Key", "S3ObjectVersion"}) {
    if (Member(*content, s3)) {
      return InvalidParameter(
          std::string("Content.") + s3 +
          " is not supported: there is no S3 here; send the layer's zip in Content.ZipFile");
    }
  }
  const rapidjson::Value* zip_base64 = Member(*content, "ZipFile");
  if (!zip_base64 || !zip_base64->IsString() || zip_base64->GetStringLength() == 0) {
    return InvalidParameter("Please provide a source for layer content: Content.ZipFile");
  }
  const auto zip =
      DecodeBase64(std::string_view(zip_base64->GetString(), zip_base64->GetStringLength()));
  if (!zip) return InvalidParameter(kCouldNotUnzip);
  record.code_sha256 = EncodeBase64(Sha256(*zip));
  record.code_size = static_cast<int64_t>(zip->size());
  record.created_date = NowTimestamp();

  // Unpacked before it is stored: the package must be a zip within the unzipped limit.
  std::error_code ec;
  const fs::path staging = fs::path(options_.root) / name / (".publish-" + UniqueSuffix());
  fs::create_directories(staging.parent_path(), ec);
  const fs::path zip_path = staging.string() + ".zip";
  {
    std::ofstream out(zip_path, std::ios::binary);
    out.write(zip->data(), static_cast<std::streamsize>(zip->size()));
    if (!out) {
      return RestJsonError(500, "ServiceException", "cannot store the layer's package", "Service");
    }
  }
  const std::string unzip_error = invoker::UnpackZip(zip_path.string(), staging.string());
  fs::remove(zip_path, ec);
  if (!unzip_error.empty()) {
    fs::remove_all(staging, ec);
    return InvalidParameter(kCouldNotUnzip);
  }
  record.unzipped_size = TreeSize(staging);
  if (record.unzipped_size > kMaxUnzippedBytes) {
    fs::remove_all(staging, ec);
    return InvalidParameter("Unzipped size must be smaller than " +
                            std::to_string(kMaxUnzippedBytes) + " bytes");
  }
  MakeReadOnly(staging);
  record = registry_.Publish(record, *zip);
  const fs::path final_dir = Unpacked(name, record.version, record.code_sha256);
  fs::rename(staging, final_dir, ec);
  if (ec) fs::remove_all(staging, ec);
  return Ok(201, VersionJson(record, true));
}

HttpResponse LambdaLayers::GetVersion(const ApiCall& call) {
  int64_t version = 0;
  if (!ParseVersion(call.Param("VersionNumber"), &version)) return NoSuchLayer();
  const auto record = registry_.Get(LayerNameOf(call.Param("LayerName")), version);
  if (!record) return NoSuchLayer();
  return Ok(200, VersionJson(*record, true));
}

HttpResponse LambdaLayers::ListOrFind(const ApiCall& call) {
  if (const auto find = call.Query("find")) {
    // GetLayerVersionByArn: GET /2018-10-31/layers?find=LayerVersion&Arn=...
    const std::string arn = call.Query("Arn").value_or("");
    std::string name;
    int64_t version = 0;
    if (*find != "LayerVersion" || !ParseLayerVersionArn(arn, &name, &version)) {
      return Validation("Value '" + arn +
                        "' at 'arn' failed to satisfy constraint: Member must satisfy regular "
                        "expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|"
                        "(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)");
    }
    const auto record = registry_.Get(name, version);
    if (!record) return NoSuchLayer();
    return Ok(200, VersionJson(*record, true));
  }
  int64_t max_items = 0;
  HttpResponse error;
  if (!ReadMaxItems(call, &max_items, &error)) return error;
  const auto runtime = call.Query("CompatibleRuntime");
  const auto architecture = call.Query("CompatibleArchitecture");
  std::string marker;
  if (const auto text = call.Query("Marker")) {
    const auto decoded = DecodeBase64(*text);
    if (!decoded) return InvalidParameter("Invalid marker: " + *text);
    marker = *decoded;
  }
  std::string body = "{\"Layers\":[";
  int64_t count = 0;
  std::string next;
  for (const std::string& name : registry_.Names()) {
    if (!marker.empty() && name < marker) continue;
    std::optional<LayerVersionRecord> latest;
    for (const LayerVersionRecord& record : registry_.Versions(name)) {
      if (Matches(record, runtime, architecture)) {
        latest = record;
        break;
      }
    }
    if (!latest) continue;
    if (count == max_items) {
      next = name;
      break;
    }
    if (count++) body += ',';
    body += "{\"LayerName\":" + JsonQuote(name) + ",\"LayerArn\":" + JsonQuote(LayerArn(name)) +
            ",\"LatestMatchingVersion\":" + VersionJson(*latest, false) + "}";
  }
  body += "]";
  if (!next.empty()) body += ",\"NextMarker\":" + JsonQuote(EncodeBase64(next));
  body += "}";
  return Ok(200, std::move(body));
}

HttpResponse LambdaLayers::ListVersions(const ApiCall& call) {
  int64_t max_items = 0;
  HttpResponse error;
  if (!ReadMaxItems(call, &max_items, &error)) return error;
  const auto runtime = call.Query("CompatibleRuntime");
  const auto architecture = call.Query("CompatibleArchitecture");
  int64_t marker = 0;
  if (const auto text = call.Query("Marker")) {
    if (!ParseVersion(*text, &marker)) return InvalidParameter("Invalid marker: " + *text);
  }
  std::string body = "{\"LayerVersions\":[";
  int64_t count = 0;
  int64_t next = 0;
  for (const LayerVersionRecord& record :
       registry_.Versions(LayerNameOf(call.Param("LayerName")))) {
    if (marker && record.version > marker) continue;
    if (!Matches(record, runtime, architecture)) continue;
    if (count == max_items) {
      next = record.version;
      break;
    }
    if (count++) body += ',';
    body += VersionJson(record, false);
  }
  body += "]";
  if (next) body += ",\"NextMarker\":" + JsonQuote(std::to_string(next));
  body += "}";
  return Ok(200, std::move(body));
}

HttpResponse LambdaLayers::DeleteVersion(const ApiCall& call) {
  int64_t version = 0;
  // Lambda answers 204 whether or not the version existed. Functions that use it keep working:
  // the registry keeps the package for them (LayerRegistry::Delete), so that a node that never
  // unpacked it can still start them.
  if (ParseVersion(call.Param("VersionNumber"), &version)) {
    registry_.Delete(LayerNameOf(call.Param("LayerName")), version);
  }
  return NoContent();
}

void LambdaLayers::Register(Router& router, WorkPool& control) {
  using Method = HttpResponse (LambdaLayers::*)(const ApiCall&);
  auto add = [&](const char* method, const char* pattern, const char* operation, Method fn) {
    router.AddRest(method, pattern, operation, [this, fn, &control](ApiCall call, Respond respond) {
      control.Post([this, fn, call = std::move(call), respond = std::move(respond)] {
        HttpResponse response;
        try {
          response = (this->*fn)(call);
        } catch (const std::exception& e) {
          response = RestJsonError(500, "ServiceException", e.what(), "Service");
        }
        respond(std::move(response));
      });
    });
  };
  add("POST", "/2018-10-31/layers/{LayerName}/versions", "PublishLayerVersion",
      &LambdaLayers::Publish);
  add("GET", "/2018-10-31/layers/{LayerName}/versions", "ListLayerVersions",
      &LambdaLayers::ListVersions);
  add("GET", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}", "GetLayerVersion",
      &LambdaLayers::GetVersion);
  add("DELETE", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}", "DeleteLayerVersion",
      &LambdaLayers::DeleteVersion);
  add("GET", "/2018-10-31/layers", "ListLayers", &LambdaLayers::ListOrFind);
}

// ---- what functions need ----------------------------------------------------------------------

bool LambdaLayers::Resolve(const rapidjson::Value& layers, std::vector<LayerRef>* out,
                           HttpResponse* error) const {
  out->clear();
  if (!layers.IsArray()) {
    *error = RestJsonError(400, "InvalidRequestContentException",
                           "Could not parse request body into json: member 'Layers' must be a "
                           "list of strings");
    return false;
  }
  if (layers.Size() > kMaxLayersPerFunction) {
    *error = InvalidParameter("Cannot reference more than 5 layers.");
    return false;
  }
  std::map<std::string, std::string> seen;  // layer name → ARN
  for (const auto& item : layers.GetArray()) {
    const std::string arn = item.IsString() ? item.GetString() : "";
    std::string name;
    int64_t version = 0;
    if (!ParseLayerVersionArn(arn, &name, &version)) {
      *error = Validation("Value '[" + arn +
                          "]' at 'layers' failed to satisfy constraint: Member must satisfy "
                          "constraint: [Member must have length less than or equal to 140, "
                          "Member must have length greater than or equal to 1, Member must "
                          "satisfy regular expression pattern: arn:[a-zA-Z0-9-]+:lambda:"
                          "[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+, Member must not "
                          "be null]");
      return false;
    }
    if (const auto it = seen.find(name); it != seen.end()) {
      *error = InvalidParameter(
          "Two different versions of the same layer are not allowed to be referenced in the "
          "same function. " +
          it->second + " and " + arn + " are versions of the same layer.");
      return false;
    }
    seen[name] = arn;
    const auto record = registry_.Get(name, version);
    if (!record) {
      *error = InvalidParameter("Layer version " + arn + " does not exist.");
      return false;
    }
    out->push_back({LayerArn(name) + ":" + std::to_string(version), record->code_size,
                    record->code_sha256, record->unzipped_size});
  }
  return true;
}

std::string LambdaLayers::EnsureUnpacked(const std::string& name, int64_t version,
                                         const std::string& sha) {
  const fs::path dir = Unpacked(name, version, sha);
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return {};
  const auto zip = registry_.GetZip(name, version);
  if (!zip) return "layer version " + LayerArn(name) + ":" + std::to_string(version) + " is gone";
  fs::create_directories(dir.parent_path(), ec);
  const fs::path staging = dir.string() + ".staging-" + UniqueSuffix();
  const fs::path zip_path = staging.string() + ".zip";
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
  MakeReadOnly(staging);
  fs::rename(staging, dir, ec);
  if (ec) fs::remove_all(staging, ec);  // another process won: its copy is the same
  return {};
}

std::string LambdaLayers::Prepare(const std::vector<LayerRef>& layers, const std::string& code_dir,
                                  std::string* dir) {
  dir->clear();
  if (layers.empty()) return {};
  int64_t total = code_dir.empty() ? 0 : TreeSize(code_dir);
  for (const LayerRef& layer : layers) total += layer.unzipped_size;
  if (total > kMaxUnzippedBytes) {
    return "Function code combined with layers exceeds the maximum allowed size of " +
           std::to_string(kMaxUnzippedBytes) + " bytes. The actual size is " +
           std::to_string(total) + " bytes.";
  }
  std::string key;
  for (const LayerRef& layer : layers) key += layer.arn + "|" + layer.code_sha256 + "\n";
  const fs::path merged = fs::path(options_.root) / "sets" / Hex(Sha256(key)).substr(0, 32);
  std::error_code ec;
  std::lock_guard lock(build_mu_);
  if (!fs::is_directory(merged, ec)) {
    fs::create_directories(merged.parent_path(), ec);
    const fs::path staging = merged.string() + ".staging-" + UniqueSuffix();
    fs::create_directories(staging, ec);
    for (const LayerRef& layer : layers) {
      std::string name;
      int64_t version = 0;
      if (!ParseLayerVersionArn(layer.arn, &name, &version)) return "bad layer ARN " + layer.arn;
      if (std::string reason = EnsureUnpacked(name, version, layer.code_sha256); !reason.empty()) {
        fs::remove_all(staging, ec);
        return reason;
      }
      if (std::string reason = MergeInto(Unpacked(name, version, layer.code_sha256), staging);
          !reason.empty()) {
        fs::remove_all(staging, ec);
        return "cannot merge layer " + layer.arn + ": " + reason;
      }
    }
    fs::rename(staging, merged, ec);
    if (ec) fs::remove_all(staging, ec);
  }
  *dir = merged.string();
  return {};
}

// ---- LambdaApi's side ------------------------------------------------------------------------

bool LambdaApi::ApplyLayers(const void* body_json, FunctionVersionRecord* version,
                            HttpResponse* error) const {
  const auto& body = *static_cast<const rapidjson::Value*>(body_json);
  const rapidjson::Value* layers = Member(body, "Layers");
  if (!layers) return true;
  if (!layers_) {
    *error = InvalidParameter("Layers are not available on this server");
    return false;
  }
  return layers_->Resolve(*layers, &version->layers, error);
}

std::string LambdaApi::PrepareLayers(const FunctionVersionRecord& version,
                                     invoker::FunctionConfig* config) {
  config->layers_dir.clear();
  if (version.layers.empty()) return {};
  if (!layers_) return "layers are not available on this server";
  return layers_->Prepare(version.layers, version.config.code_dir, &config->layers_dir);
}

}  // namespace switchyard::orchestrator::api
