// Function URLs. Operations, members and errors follow the Lambda API reference (2021-10-31
// CreateFunctionUrlConfig ... ListFunctionUrlConfigs); serving follows the developer guide,
// "Invoking Lambda function URLs".
#include "api/lambda_urls.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <random>

#include "api/aws_error.hpp"
#include "api/function_registry.hpp"
#include "api/lambda_api.hpp"
#include "api/lambda_common.hpp"
#include "api/work_pool.hpp"

namespace switchyard::orchestrator::api {
namespace {

constexpr std::string_view kPathPrefix = "/lambda-url/";
constexpr std::size_t kMaxCachedUrls = 10000;

std::string NewUrlId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kChars = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id;
  for (int i = 0; i < 32; ++i) id.push_back(kChars[rng() % 36]);
  return id;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) id.push_back('-');
    id.push_back(kHex[rng() & 15]);
  }
  return id;
}

// "2026-11-27T12:00:00.123456Z", as Lambda shows CreationTime.
std::string IsoNow() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[96];
  std::snprintf(out, sizeof out, "%s.%06dZ", buffer, static_cast<int>(us));
  return out;
}

bool ValidUrlId(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c));
  });
}

HttpResponse Validation(const std::string& message) {
  return RestJsonError(400, "ValidationException", "1 validation error detected: " + message);
}

HttpResponse NoSuchUrl() {
  return RestJsonError(404, "ResourceNotFoundException",
                       "The resource you requested does not exist.");
}

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

// AuthType, InvokeMode and Cors of a Create/Update body; absent members leave `record` as is.
bool ApplyMembers(const rapidjson::Value& body, bool require_auth, FunctionUrlRecord* record,
                  HttpResponse* error) {
  const rapidjson::Value* auth = Member(body, "AuthType");
  if (!auth && require_auth) {
    *error = Validation(
        "Value null at 'authType' failed to satisfy constraint: Member must not be null");
    return false;
  }
  if (auth) {
    const std::string value = auth->IsString() ? auth->GetString() : "";
    if (value != "NONE" && value != "AWS_IAM") {
      *error = Validation("Value '" + value +
                          "' at 'authType' failed to satisfy constraint: Member must satisfy "
                          "enum value set: [NONE, AWS_IAM]");
      return false;
    }
    record->auth_type = value;
  }
  if (const rapidjson::Value* mode = Member(body, "InvokeMode")) {
    const std::string value = mode->IsString() ? mode->GetString() : "";
    if (value != "BUFFERED" && value != "RESPONSE_STREAM") {
      *error = Validation("Value '" + value +
                          "' at 'invokeMode' failed to satisfy constraint: Member must satisfy "
                          "enum value set: [BUFFERED, RESPONSE_STREAM]");
      return false;
    }
    record->invoke_mode = value;
  }
  if (const rapidjson::Value* cors = Member(body, "Cors")) {
    CorsConfig parsed;
    if (!ParseCors(*cors, &parsed, error)) return false;
    record->cors = parsed;
  }
  return true;
}

}  // namespace

// ---- the in-memory registry -------------------------------------------------------------------

std::optional<FunctionUrlRecord> InMemoryUrlRegistry::Get(const std::string& function_name,
                                                          const std::string& qualifier) const {
  std::lock_guard lock(mu_);
  for (const auto& [id, record] : by_id_) {
    if (record.function_name == function_name && record.qualifier == qualifier) return record;
  }
  return std::nullopt;
}

std::optional<FunctionUrlRecord> InMemoryUrlRegistry::GetById(const std::string& url_id) const {
  std::lock_guard lock(mu_);
  const auto it = by_id_.find(url_id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::vector<FunctionUrlRecord> InMemoryUrlRegistry::List(const std::string& function_name) const {
  std::lock_guard lock(mu_);
  std::vector<FunctionUrlRecord> out;
  for (const auto& [id, record] : by_id_) {
    if (record.function_name == function_name) out.push_back(record);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.qualifier < b.qualifier; });
  return out;
}

bool InMemoryUrlRegistry::Insert(const FunctionUrlRecord& record) {
  std::lock_guard lock(mu_);
  for (const auto& [id, stored] : by_id_) {
    if (stored.function_name == record.function_name && stored.qualifier == record.qualifier) {
      return false;
    }
  }
  return by_id_.emplace(record.url_id, record).second;
}

bool InMemoryUrlRegistry::Update(const FunctionUrlRecord& record) {
  std::lock_guard lock(mu_);
  const auto it = by_id_.find(record.url_id);
  if (it == by_id_.end()) return false;
  it->second = record;
  return true;
}

bool InMemoryUrlRegistry::Remove(const std::string& function_name, const std::string& qualifier) {
  std::lock_guard lock(mu_);
  for (auto it = by_id_.begin(); it != by_id_.end(); ++it) {
    if (it->second.function_name == function_name && it->second.qualifier == qualifier) {
      by_id_.erase(it);
      return true;
    }
  }
  return false;
}

// ---- routing ------------------------------------------------------------------------------------

std::optional<UrlTarget> RouteFunctionUrl(const HttpRequest& request) {
  std::string_view path = request.path;
  if (path.substr(0, kPathPrefix.size()) == kPathPrefix) {
    path.remove_prefix(kPathPrefix.size());
    const std::size_t slash = path.find('/');
    UrlTarget target;
    target.url_id = std::string(path.substr(0, slash));
    target.raw_path = slash == std::string_view::npos ? "/" : std::string(path.substr(slash));
    return target;
  }
  const std::string* host = request.Header("host");
  if (!host) return std::nullopt;
  const std::size_t dot = host->find('.');
  if (dot == std::string::npos || host->compare(dot, 12, ".lambda-url.") != 0) return std::nullopt;
  UrlTarget target;
  target.url_id = host->substr(0, dot);
  target.raw_path = request.path.empty() ? "/" : request.path;
  return target;
}

// ---- the operations -------------------------------------------------------------------------

FunctionUrls::FunctionUrls(FunctionUrlsOptions options, LambdaApi& lambda,
                           FunctionRegistry& functions, UrlRegistry& urls)
    : options_(std::move(options)), lambda_(lambda), functions_(functions), urls_(urls) {}

std::string FunctionUrls::FunctionArn(const std::string& name, const std::string& qualifier) const {
  std::string arn =
      "arn:aws:lambda:" + options_.region + ":" + options_.account_id + ":function:" + name;
  if (!qualifier.empty()) arn += ":" + qualifier;
  return arn;
}

std::string FunctionUrls::ConfigJson(const FunctionUrlRecord& record, const HttpRequest& request,
                                     bool with_last_modified) const {
  // The URL this server answers it on, as the caller reached the server: plain http on the API
  // listener with a path prefix, so that curl needs no DNS entry and no Host header.
  const std::string* host = request.Header("host");
  const std::string url =
      "http://" + (host ? *host : std::string("127.0.0.1")) + "/lambda-url/" + record.url_id + "/";
  std::string body = "{\"FunctionUrl\":" + JsonQuote(url) + ",\"FunctionArn\":" +
                     JsonQuote(FunctionArn(record.function_name, record.qualifier)) +
                     ",\"AuthType\":" + JsonQuote(record.auth_type);
  if (record.cors) body += ",\"Cors\":" + CorsJson(*record.cors);
  body += ",\"CreationTime\":" + JsonQuote(record.creation_time);
  if (with_last_modified) body += ",\"LastModifiedTime\":" + JsonQuote(record.last_modified_time);
  body += ",\"InvokeMode\":" + JsonQuote(record.invoke_mode) + "}";
  return body;
}

std::optional<std::pair<std::string, std::string>> FunctionUrls::Resolve(
    const ApiCall& call, HttpResponse* error) const {
  std::string name;
  std::string qualifier;
  if (!lambda_.SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, error)) {
    return std::nullopt;
  }
  if (const auto q = call.Query("Qualifier")) {
    const bool valid =
        !q->empty() && q->size() <= 128 &&
        !std::all_of(q->begin(), q->end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
        std::all_of(q->begin(), q->end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        });
    if (!valid) {
      *error = Validation("Value '" + *q +
                          "' at 'qualifier' failed to satisfy constraint: Member must satisfy "
                          "regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)");
      return std::nullopt;
    }
    if (!qualifier.empty() && qualifier != *q) {
      *error = InvalidParameter(
          "The derived qualifier from the function name does not match the specified "
          "qualifier.");
      return std::nullopt;
    }
    qualifier = *q;
  }
  const auto record = functions_.Get(name);
  if (!record || (!qualifier.empty() && !record->aliases.count(qualifier))) {
    *error = RestJsonError(404, "ResourceNotFoundException",
                           "Function not found: " + FunctionArn(name, qualifier));
    return std::nullopt;
  }
  return std::make_pair(name, qualifier);
}

HttpResponse FunctionUrls::Create(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseBody(call, &body, &error)) return error;
  FunctionUrlRecord record;
  if (!ApplyMembers(body, true, &record, &error)) return error;
  const auto target = Resolve(call, &error);
  if (!target) return error;
  record.function_name = target->first;
  record.qualifier = target->second;
  record.url_id = NewUrlId();
  record.creation_time = IsoNow();
  record.last_modified_time = record.creation_time;
  if (!urls_.Insert(record)) {
    return RestJsonError(409, "ResourceConflictException",
                         "Failed to create function url config for [functionArn = " +
                             FunctionArn(record.function_name, record.qualifier) +
                             "]. Error message:  FunctionUrlConfig exists for this Lambda "
                             "function");
  }
  return Ok(201, ConfigJson(record, call.request, false));
}

HttpResponse FunctionUrls::Get(const ApiCall& call) {
  HttpResponse error;
  const auto target = Resolve(call, &error);
  if (!target) return error;
  const auto record = urls_.Get(target->first, target->second);
  if (!record) return NoSuchUrl();
  return Ok(200, ConfigJson(*record, call.request, true));
}

HttpResponse FunctionUrls::Update(const ApiCall& call) {
  rapidjson::Document body;
  HttpResponse error;
  if (!ParseBody(call, &body, &error)) return error;
  const auto target = Resolve(call, &error);
  if (!target) return error;
  auto record = urls_.Get(target->first, target->second);
  if (!record) return NoSuchUrl();
  if (!ApplyMembers(body, false, &*record, &error)) return error;
  record->last_modified_time = IsoNow();
  if (!urls_.Update(*record)) return NoSuchUrl();
  Invalidate(record->url_id);
  return Ok(200, ConfigJson(*record, call.request, true));
}

HttpResponse FunctionUrls::Delete(const ApiCall& call) {
  HttpResponse error;
  const auto target = Resolve(call, &error);
  if (!target) return error;
  const auto record = urls_.Get(target->first, target->second);
  if (!record || !urls_.Remove(target->first, target->second)) return NoSuchUrl();
  Invalidate(record->url_id);
  return NoContent();
}

HttpResponse FunctionUrls::List(const ApiCall& call) {
  std::string name;
  std::string qualifier;
  HttpResponse error;
  if (!lambda_.SplitFunctionName(call.Param("FunctionName"), &name, &qualifier, &error)) {
    return error;
  }
  int64_t max_items = 50;
  if (const auto text = call.Query("MaxItems")) {
    const bool digits =
        !text->empty() && text->size() < 6 && std::all_of(text->begin(), text->end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        });
    max_items = digits ? std::stoll(*text) : 0;
    if (max_items < 1 || max_items > 50) {
      return Validation("Value '" + *text +
                        "' at 'maxItems' failed to satisfy constraint: Member must have value "
                        "less than or equal to 50");
    }
  }
  if (!functions_.Get(name)) {
    return RestJsonError(404, "ResourceNotFoundException",
                         "Function not found: " + FunctionArn(name, ""));
  }
  std::string marker;
  if (const auto text = call.Query("Marker")) {
    const auto decoded = DecodeBase64(*text);
    if (!decoded) return InvalidParameter("Invalid marker: " + *text);
    marker = *decoded;
  }
  std::string body = "{\"FunctionUrlConfigs\":[";
  int64_t count = 0;
  bool started = marker.empty();
  std::string next;
  for (const FunctionUrlRecord& record : urls_.List(name)) {
    // Markers carry "=" + qualifier so that the unqualified URL ("") can be one.
    if (!started) {
      if ("=" + record.qualifier < marker) continue;
      started = true;
    }
    if (count == max_items) {
      next = "=" + record.qualifier;
      break;
    }
    if (count++) body += ',';
    body += ConfigJson(record, call.request, true);
  }
  body += "]";
  if (!next.empty()) body += ",\"NextMarker\":" + JsonQuote(EncodeBase64(next));
  body += "}";
  return Ok(200, std::move(body));
}

void FunctionUrls::Register(Router& router, WorkPool& control) {
  using Method = HttpResponse (FunctionUrls::*)(const ApiCall&);
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
  const char* url = "/2021-10-31/functions/{FunctionName}/url";
  add("POST", url, "CreateFunctionUrlConfig", &FunctionUrls::Create);
  add("GET", url, "GetFunctionUrlConfig", &FunctionUrls::Get);
  add("PUT", url, "UpdateFunctionUrlConfig", &FunctionUrls::Update);
  add("DELETE", url, "DeleteFunctionUrlConfig", &FunctionUrls::Delete);
  add("GET", "/2021-10-31/functions/{FunctionName}/urls", "ListFunctionUrlConfigs",
      &FunctionUrls::List);
}

// ---- serving ----------------------------------------------------------------------------------

std::optional<FunctionUrlRecord> FunctionUrls::Lookup(const std::string& url_id) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(cache_mu_);
    const auto it = cache_.find(url_id);
    if (it != cache_.end() && now - it->second.fetched < options_.cache_ttl) {
      return it->second.record;
    }
  }
  std::optional<FunctionUrlRecord> record = urls_.GetById(url_id);
  std::lock_guard lock(cache_mu_);
  if (!record) {
    cache_.erase(url_id);  // unknown ids are not kept: a caller could make up any number
    return record;
  }
  if (cache_.size() >= kMaxCachedUrls) cache_.clear();
  cache_[url_id] = Cached{record, now};
  return record;
}

void FunctionUrls::Invalidate(const std::string& url_id) {
  std::lock_guard lock(cache_mu_);
  cache_.erase(url_id);
}

HttpResponse FunctionUrls::Handle(const HttpRequest& request, const UrlTarget& target) {
  const auto received = std::chrono::system_clock::now();
  if (!ValidUrlId(target.url_id)) return UrlNotFound();
  const std::optional<FunctionUrlRecord> record = Lookup(target.url_id);
  if (!record) return UrlNotFound();
  // Lambda answers a CORS preflight itself, without invoking the function.
  if (record->cors && IsPreflight(request)) return PreflightResponse(request, *record->cors);
  UrlEventContext context;
  if (record->auth_type == "AWS_IAM") {
    if (options_.credentials) {
      const SigV4Verdict verdict = VerifySigV4(request, *options_.credentials, received);
      if (!verdict.ok) return UrlForbidden();
      context.iam_access_key = verdict.access_key_id;
    } else {
      constexpr std::string_view kScheme = "AWS4-HMAC-SHA256 Credential=";
      const std::string* authorization = request.Header("authorization");
      if (!authorization || authorization->compare(0, kScheme.size(), kScheme) != 0) {
        return UrlForbidden();
      }
      const std::size_t slash = authorization->find('/', kScheme.size());
      if (slash == std::string::npos || slash == kScheme.size()) return UrlForbidden();
      context.iam_access_key = authorization->substr(kScheme.size(), slash - kScheme.size());
    }
  }
  context.url_id = record->url_id;
  context.account_id = options_.account_id;
  const std::string* host = request.Header("host");
  context.domain_name = host ? host->substr(0, host->rfind(':')) : "127.0.0.1";
  context.raw_path = target.raw_path;
  context.request_id = NewRequestId();
  context.time_epoch_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(received.time_since_epoch()).count();

  ApiCall call;
  call.protocol = Protocol::kRestJson;
  call.operation = "Invoke";
  call.params["FunctionName"] = record->function_name;
  if (!record->qualifier.empty()) call.query.emplace_back("Qualifier", record->qualifier);
  call.request.method = "POST";
  call.request.body = BuildUrlEvent(request, context);
  const HttpResponse invoked = lambda_.Invoke(call);
  HttpResponse response;
  const bool function_error =
      std::any_of(invoked.headers.begin(), invoked.headers.end(),
                  [](const auto& header) { return header.first == "X-Amz-Function-Error"; });
  if (invoked.status == 200 && !function_error) {
    response = MapUrlResult(invoked.body);
  } else if (invoked.status == 429) {
    response = UrlThrottled();
  } else if (invoked.status == 404) {
    response = UrlNotFound();
  } else {
    response = UrlBadGateway();
  }
  response.headers.emplace_back("x-amzn-RequestId", context.request_id);
  if (record->cors) AddCorsHeaders(request, *record->cors, &response);
  return response;
}

void FunctionUrls::Serve(HttpRequest request, UrlTarget target, WorkPool& invoke, Respond respond) {
  invoke.Post([this, request = std::move(request), target = std::move(target),
               respond = std::move(respond)] {
    HttpResponse response;
    try {
      response = Handle(request, target);
    } catch (const std::exception&) {
      response = UrlBadGateway();
    }
    respond(std::move(response));
  });
}

}  // namespace switchyard::orchestrator::api
