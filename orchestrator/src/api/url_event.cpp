// Lambda developer guide, "Invoking Lambda function URLs": request and response payloads.
#include "api/url_event.hpp"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "api/aws_error.hpp"

namespace switchyard::orchestrator::api {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, std::string_view text) {
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    if (c < 0x80) {
      extra = 0;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      extra = 1;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      extra = 3;
    } else {
      return false;
    }
    if (extra > 0 && i + extra >= text.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

bool TextualContentType(std::string_view type) {
  const std::string t = Lower(type);
  if (t.rfind("text/", 0) == 0) return true;
  for (const char* marker : {"json", "xml", "javascript", "x-www-form-urlencoded", "yaml"}) {
    if (t.find(marker) != std::string::npos) return true;
  }
  return false;
}

// "27/Nov/2026:12:00:00 +0000", as requestContext.time.
std::string ClfTime(int64_t epoch_ms) {
  const std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buffer;
}

std::vector<std::string> SplitCookies(std::string_view header) {
  std::vector<std::string> cookies;
  while (!header.empty()) {
    const std::size_t semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) cookies.emplace_back(part);
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return cookies;
}

HttpResponse Message(int status, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.body = "{\"Message\":" + JsonQuote(message) + "}";
  return response;
}

bool StringList(const rapidjson::Value& cors, const char* name, std::size_t max_length,
                std::vector<std::string>* out, HttpResponse* error) {
  const auto it = cors.FindMember(name);
  if (it == cors.MemberEnd() || it->value.IsNull()) return true;
  if (!it->value.IsArray()) {
    *error = RestJsonError(400, "InvalidRequestContentException",
                           std::string("Could not parse request body into json: member '") + name +
                               "' must be a list of strings");
    return false;
  }
  if (it->value.Size() > 100) {
    *error = RestJsonError(400, "ValidationException",
                           std::string("1 validation error detected: Value at 'cors.") +
                               static_cast<char>(std::tolower(name[0])) + (name + 1) +
                               "' failed to satisfy constraint: Member must have length less "
                               "than or equal to 100");
    return false;
  }
  for (const auto& item : it->value.GetArray()) {
    if (!item.IsString()) {
      *error = RestJsonError(400, "InvalidRequestContentException",
                             std::string("Could not parse request body into json: member '") +
                                 name + "' must be a list of strings");
      return false;
    }
    const std::string value(item.GetString(), item.GetStringLength());
    if (value.empty() || value.size() > max_length) {
      *error = RestJsonError(400, "ValidationException",
                             "1 validation error detected: Value '" + value + "' at 'cors." +
                                 static_cast<char>(std::tolower(name[0])) + (name + 1) +
                                 "' failed to satisfy constraint: Member must have length less "
                                 "than or equal to " +
                                 std::to_string(max_length) + " and greater than or equal to 1");
      return false;
    }
    out->push_back(value);
  }
  return true;
}

void WriteList(Writer& w, const char* name, const std::vector<std::string>& list) {
  if (list.empty()) return;
  w.Key(name);
  w.StartArray();
  for (const auto& item : list) Str(w, item);
  w.EndArray();
}

std::string Join(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& item : list) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view value, bool fold) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& item) {
    return item == "*" || item == value || (fold && Lower(item) == Lower(value));
  });
}

// The value for Access-Control-Allow-Origin, or "" when the origin is not allowed.
std::string AllowedOrigin(const HttpRequest& request, const CorsConfig& cors) {
  const std::string* origin = request.Header("origin");
  if (!origin || cors.allow_origins.empty()) return {};
  if (std::find(cors.allow_origins.begin(), cors.allow_origins.end(), *origin) !=
      cors.allow_origins.end()) {
    return *origin;
  }
  if (std::find(cors.allow_origins.begin(), cors.allow_origins.end(), "*") !=
      cors.allow_origins.end()) {
    // With credentials the browser refuses "*": echo the origin instead.
    return cors.allow_credentials ? *origin : "*";
  }
  return {};
}

}  // namespace

std::string EncodeBase64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') clean.push_back(c);
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

bool ParseCors(const rapidjson::Value& value, CorsConfig* cors, HttpResponse* error) {
  *cors = CorsConfig{};
  if (!value.IsObject()) {
    *error = RestJsonError(400, "InvalidRequestContentException",
                           "Could not parse request body into json: member 'Cors' must be an "
                           "object");
    return false;
  }
  if (const auto it = value.FindMember("AllowCredentials");
      it != value.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsBool()) {
      *error = RestJsonError(400, "InvalidRequestContentException",
                             "Could not parse request body into json: member 'AllowCredentials' "
                             "must be a boolean");
      return false;
    }
    cors->allow_credentials = it->value.GetBool();
  }
  if (const auto it = value.FindMember("MaxAge"); it != value.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsInt64()) {
      *error = RestJsonError(400, "InvalidRequestContentException",
                             "Could not parse request body into json: member 'MaxAge' must be "
                             "an integer");
      return false;
    }
    const int64_t max_age = it->value.GetInt64();
    if (max_age < 0 || max_age > 86400) {
      *error = RestJsonError(400, "ValidationException",
                             "1 validation error detected: Value '" + std::to_string(max_age) +
                                 "' at 'cors.maxAge' failed to satisfy constraint: Member must "
                                 "have value less than or equal to 86400");
      return false;
    }
    cors->max_age = max_age;
  }
  return StringList(value, "AllowHeaders", 1024, &cors->allow_headers, error) &&
         StringList(value, "AllowMethods", 6, &cors->allow_methods, error) &&
         StringList(value, "AllowOrigins", 253, &cors->allow_origins, error) &&
         StringList(value, "ExposeHeaders", 1024, &cors->expose_headers, error);
}

std::string CorsJson(const CorsConfig& cors) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("AllowCredentials");
  w.Bool(cors.allow_credentials);
  WriteList(w, "AllowHeaders", cors.allow_headers);
  WriteList(w, "AllowMethods", cors.allow_methods);
  WriteList(w, "AllowOrigins", cors.allow_origins);
  WriteList(w, "ExposeHeaders", cors.expose_headers);
  if (cors.max_age) {
    w.Key("MaxAge");
    w.Int64(*cors.max_age);
  }
  w.EndObject();
  return buffer.GetString();
}

std::string BuildUrlEvent(const HttpRequest& request, const UrlEventContext& context) {
  // Headers: lower-case (the server gives them so), repeated ones comma-joined, in first-seen
  // order; Cookie goes to "cookies" instead.
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> cookies;
  for (const auto& [name, value] : request.headers) {
    if (name == "cookie") {
      for (auto& cookie : SplitCookies(value)) cookies.push_back(std::move(cookie));
      continue;
    }
    auto it = std::find_if(headers.begin(), headers.end(),
                           [&](const auto& header) { return header.first == name; });
    if (it == headers.end()) {
      headers.emplace_back(name, value);
    } else {
      it->second += "," + value;
    }
  }
  std::vector<std::pair<std::string, std::string>> query;
  for (auto& [name, value] : ParseQuery(request.query)) {
    auto it = std::find_if(query.begin(), query.end(),
                           [&](const auto& param) { return param.first == name; });
    if (it == query.end()) {
      query.emplace_back(std::move(name), std::move(value));
    } else {
      it->second += "," + value;
    }
  }
  const std::string* content_type = request.Header("content-type");
  const bool text = content_type ? TextualContentType(*content_type) : ValidUtf8(request.body);
  const std::string* user_agent = request.Header("user-agent");

  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("version");
  Str(w, "2.0");
  w.Key("routeKey");
  Str(w, "$default");
  w.Key("rawPath");
  Str(w, context.raw_path);
  w.Key("rawQueryString");
  Str(w, request.query);
  if (!cookies.empty()) {
    w.Key("cookies");
    w.StartArray();
    for (const auto& cookie : cookies) Str(w, cookie);
    w.EndArray();
  }
  w.Key("headers");
  w.StartObject();
  for (const auto& [name, value] : headers) {
    w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    Str(w, value);
  }
  w.EndObject();
  if (!query.empty()) {
    w.Key("queryStringParameters");
    w.StartObject();
    for (const auto& [name, value] : query) {
      w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
      Str(w, value);
    }
    w.EndObject();
  }
  w.Key("requestContext");
  w.StartObject();
  w.Key("accountId");
  Str(w, context.iam_access_key ? context.account_id : "anonymous");
  w.Key("apiId");
  Str(w, context.url_id);
  if (context.iam_access_key) {
    w.Key("authorizer");
    w.StartObject();
    w.Key("iam");
    w.StartObject();
    w.Key("accessKey");
    Str(w, *context.iam_access_key);
    w.Key("accountId");
    Str(w, context.account_id);
    w.Key("callerId");
    Str(w, *context.iam_access_key);
    w.Key("cognitoIdentity");
    w.Null();
    w.Key("principalOrgId");
    w.Null();
    w.Key("userArn");
    Str(w, "arn:aws:iam::" + context.account_id + ":user/" + *context.iam_access_key);
    w.Key("userId");
    Str(w, *context.iam_access_key);
    w.EndObject();
    w.EndObject();
  }
  w.Key("domainName");
  Str(w, context.domain_name);
  w.Key("domainPrefix");
  Str(w, context.url_id);
  w.Key("http");
  w.StartObject();
  w.Key("method");
  Str(w, request.method);
  w.Key("path");
  Str(w, context.raw_path);
  w.Key("protocol");
  Str(w, "HTTP/1.1");
  w.Key("sourceIp");
  Str(w, request.remote_address);
  w.Key("userAgent");
  Str(w, user_agent ? *user_agent : "");
  w.EndObject();
  w.Key("requestId");
  Str(w, context.request_id);
  w.Key("routeKey");
  Str(w, "$default");
  w.Key("stage");
  Str(w, "$default");
  w.Key("time");
  Str(w, ClfTime(context.time_epoch_ms));
  w.Key("timeEpoch");
  w.Int64(context.time_epoch_ms);
  w.EndObject();
  if (!request.body.empty()) {
    w.Key("body");
    Str(w, text ? request.body : EncodeBase64(request.body));
  }
  w.Key("isBase64Encoded");
  w.Bool(!request.body.empty() && !text);
  w.EndObject();
  return buffer.GetString();
}

HttpResponse MapUrlResult(const std::string& payload) {
  rapidjson::Document doc;
  doc.Parse(payload.data(), payload.size());
  const bool structured = !doc.HasParseError() && doc.IsObject() && doc.HasMember("statusCode");
  if (!structured) {
    // Lambda: valid JSON without a statusCode is the body of a 200 application/json response.
    HttpResponse response;
    response.body = payload;
    return response;
  }
  HttpResponse response;
  const rapidjson::Value& status = doc["statusCode"];
  if (!status.IsInt() || status.GetInt() < 100 || status.GetInt() > 599) return UrlBadGateway();
  response.status = status.GetInt();
  response.content_type = "application/json";
  if (const auto it = doc.FindMember("headers"); it != doc.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsObject()) return UrlBadGateway();
    for (const auto& header : it->value.GetObject()) {
      std::string value;
      if (header.value.IsString()) {
        value.assign(header.value.GetString(), header.value.GetStringLength());
      } else if (header.value.IsNumber() || header.value.IsBool()) {
        rapidjson::StringBuffer text;
        Writer w(text);
        header.value.Accept(w);
        value = text.GetString();
      } else {
        return UrlBadGateway();
      }
      const std::string name(header.name.GetString(), header.name.GetStringLength());
      if (Lower(name) == "content-type") {
        response.content_type = value;
      } else {
        response.headers.emplace_back(name, value);
      }
    }
  }
  if (const auto it = doc.FindMember("cookies"); it != doc.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsArray()) return UrlBadGateway();
    for (const auto& cookie : it->value.GetArray()) {
      if (!cookie.IsString()) return UrlBadGateway();
      response.headers.emplace_back("Set-Cookie", cookie.GetString());
    }
  }
  bool base64 = false;
  if (const auto it = doc.FindMember("isBase64Encoded");
      it != doc.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsBool()) return UrlBadGateway();
    base64 = it->value.GetBool();
  }
  if (const auto it = doc.FindMember("body"); it != doc.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsString()) return UrlBadGateway();
    std::string body(it->value.GetString(), it->value.GetStringLength());
    if (base64) {
      auto decoded = DecodeBase64(body);
      if (!decoded) return UrlBadGateway();
      body = std::move(*decoded);
    }
    response.body = std::move(body);
  }
  return response;
}

HttpResponse UrlBadGateway() {
  HttpResponse response;
  response.status = 502;
  response.content_type = "text/plain; charset=utf-8";
  response.body = "Internal Server Error";
  return response;
}

HttpResponse UrlThrottled() {
  HttpResponse response = Message(429, "Rate Exceeded.");
  response.headers.emplace_back("x-amzn-ErrorType", "TooManyRequestsException");
  response.headers.emplace_back("Retry-After", "1");
  return response;
}

HttpResponse UrlForbidden() {
  HttpResponse response = Message(403, "Forbidden");
  response.headers.emplace_back("x-amzn-ErrorType", "AccessDeniedException");
  return response;
}

HttpResponse UrlNotFound() {
  HttpResponse response = Message(404, "Not Found");
  response.headers.emplace_back("x-amzn-ErrorType", "ResourceNotFoundException");
  return response;
}

bool IsPreflight(const HttpRequest& request) {
  return request.method == "OPTIONS" && request.Header("origin") &&
         request.Header("access-control-request-method");
}

HttpResponse PreflightResponse(const HttpRequest& request, const CorsConfig& cors) {
  HttpResponse response;
  response.content_type.clear();
  const std::string origin = AllowedOrigin(request, cors);
  const std::string* method = request.Header("access-control-request-method");
  if (origin.empty() || !method || !Contains(cors.allow_methods, *method, false)) return response;
  response.headers.emplace_back("Access-Control-Allow-Origin", origin);
  if (origin != "*") response.headers.emplace_back("Vary", "Origin");
  response.headers.emplace_back("Access-Control-Allow-Methods", Join(cors.allow_methods));
  if (!cors.allow_headers.empty()) {
    response.headers.emplace_back("Access-Control-Allow-Headers", Join(cors.allow_headers));
  }
  if (cors.allow_credentials) {
    response.headers.emplace_back("Access-Control-Allow-Credentials", "true");
  }
  if (cors.max_age) {
    response.headers.emplace_back("Access-Control-Max-Age", std::to_string(*cors.max_age));
  }
  return response;
}

void AddCorsHeaders(const HttpRequest& request, const CorsConfig& cors, HttpResponse* response) {
  const std::string origin = AllowedOrigin(request, cors);
  if (origin.empty()) return;
  // The function's own CORS headers give way to the URL's configuration, as in Lambda.
  auto& headers = response->headers;
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [](const auto& header) {
                                 return Lower(header.first).rfind("access-control-", 0) == 0;
                               }),
                headers.end());
  headers.emplace_back("Access-Control-Allow-Origin", origin);
  if (origin != "*") headers.emplace_back("Vary", "Origin");
  if (cors.allow_credentials) headers.emplace_back("Access-Control-Allow-Credentials", "true");
  if (!cors.expose_headers.empty()) {
    headers.emplace_back("Access-Control-Expose-Headers", Join(cors.expose_headers));
  }
}

}  // namespace switchyard::orchestrator::api
