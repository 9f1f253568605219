#pragma once
// Function URLs as Lambda serves them, the pure part: the HTTP request turned into the event
// (payload format version 2.0, as API Gateway HTTP APIs and function URLs send it), the
// function's result turned back into the HTTP response (Lambda's inference rules), and CORS.
// Plain functions over plain values; thread-safe.
#include <rapidjson/fwd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.hpp"

namespace switchyard::orchestrator::api {

std::string EncodeBase64(std::string_view data);
// nullopt when `text` is not base64 (whitespace ignored).
std::optional<std::string> DecodeBase64(std::string_view text);

// The Cors member of a function URL config (Lambda API reference, type Cors).
struct CorsConfig {
  bool allow_credentials = false;
  std::vector<std::string> allow_headers;
  std::vector<std::string> allow_methods;
  std::vector<std::string> allow_origins;
  std::vector<std::string> expose_headers;
  std::optional<int64_t> max_age;  // 0..86400 seconds
};

// Reads a request's Cors object. False with `error` (Lambda's ValidationException or
// InvalidRequestContentException) when a member has the wrong type or breaks a limit.
bool ParseCors(const rapidjson::Value& value, CorsConfig* cors, HttpResponse* error);
// The Cors object as Lambda shows it (only the members that are set).
std::string CorsJson(const CorsConfig& cors);

// What the URL's owner contributes to the event beyond the HTTP request.
struct UrlEventContext {
  std::string url_id;
  std::string account_id;   // requestContext.accountId ("anonymous" for AuthType NONE)
  std::string domain_name;  // the Host the request named
  std::string raw_path;     // the path below the URL ("/" at least), still percent-encoded
  std::string request_id;
  int64_t time_epoch_ms = 0;  // when the request arrived
  // AWS_IAM: the signing caller (requestContext.authorizer.iam).
  std::optional<std::string> iam_access_key;
};

// The event (JSON text) for `request`: version "2.0", routeKey "$default", rawPath,
// rawQueryString, cookies (from Cookie, which then leaves headers), headers (lower-case names,
// repeated ones comma-joined), queryStringParameters (decoded, repeated ones comma-joined),
// requestContext (accountId, apiId, authorizer.iam, domainName, domainPrefix, http{method, path,
// protocol, sourceIp, userAgent}, requestId, routeKey, stage "$default", time, timeEpoch), body
// and isBase64Encoded (true unless the content type is textual: text/*, JSON, XML, JavaScript,
// form data, YAML; or no content type and the body is valid UTF-8).
std::string BuildUrlEvent(const HttpRequest& request, const UrlEventContext& context);

// The HTTP response for a function's successful result `payload`, as Lambda infers it: a JSON
// object with "statusCode" is the structured form {statusCode, headers, body, cookies,
// isBase64Encoded} (Content-Type defaults to application/json; each cookie is a Set-Cookie
// header); any other JSON is a 200 application/json response whose body is the payload as
// returned. A structured form Lambda cannot use (statusCode not an integer 100-599, a body that
// is not a string, bad base64) is a 502 like a function error.
HttpResponse MapUrlResult(const std::string& payload);

// Lambda's answers when the function cannot answer: 502 (function error, bad result), 429
// (throttled), 403 (AWS_IAM without a valid signature), 404 (no such URL).
HttpResponse UrlBadGateway();
HttpResponse UrlThrottled();
HttpResponse UrlForbidden();
HttpResponse UrlNotFound();

// True for a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method).
bool IsPreflight(const HttpRequest& request);
// The preflight's answer (200, no body) with the CORS headers `cors` allows for it.
HttpResponse PreflightResponse(const HttpRequest& request, const CorsConfig& cors);
// Adds Access-Control-Allow-Origin (and -Credentials, -Expose-Headers, Vary) to a response
// when the request's Origin is allowed. Headers the function set itself are kept.
void AddCorsHeaders(const HttpRequest& request, const CorsConfig& cors, HttpResponse* response);

}  // namespace switchyard::orchestrator::api
