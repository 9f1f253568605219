// Function URLs' pure part: the request → payload format 2.0 event, the result → HTTP response
// (Lambda's inference rules), CORS, and routing by path prefix or Host.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "api/lambda_urls.hpp"
#include "api/url_event.hpp"

namespace switchyard::orchestrator::api {
namespace {

HttpRequest Request(std::string method, std::string path, std::string query = {}) {
  HttpRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.query = std::move(query);
  request.target = request.path + (request.query.empty() ? "" : "?" + request.query);
  request.remote_address = "10.1.2.3";
  return request;
}

rapidjson::Document Parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

std::string Headers(const HttpResponse& response) {
  std::string out;
  for (const auto& [name, value] : response.headers) out += name + "=" + value + ";";
  return out;
}

UrlEventContext Context() {
  UrlEventContext context;
  context.url_id = "abc123";
  context.account_id = "000000000000";
  context.domain_name = "abc123.lambda-url.us-east-1.localhost";
  context.raw_path = "/a/b%20c";
  context.request_id = "req-1";
  context.time_epoch_ms = 1764244800123;  // 2025-11-27T12:00:00.123Z
  return context;
}

TEST(UrlEvent, TextRequestBecomesTheV2Event) {
  HttpRequest request = Request("POST", "/lambda-url/abc123/a/b%20c", "x=1&x=2&y=%20z");
  request.headers = {{"content-type", "application/json"},
                     {"x-multi", "a"},
                     {"cookie", "c1=v1; c2=v2"},
                     {"x-multi", "b"},
                     {"user-agent", "curl/8"}};
  request.body = "{\"k\":1}";
  const auto event = Parse(BuildUrlEvent(request, Context()));
  EXPECT_STREQ(event["version"].GetString(), "2.0");
  EXPECT_STREQ(event["routeKey"].GetString(), "$default");
  EXPECT_STREQ(event["rawPath"].GetString(), "/a/b%20c");
  EXPECT_STREQ(event["rawQueryString"].GetString(), "x=1&x=2&y=%20z");
  EXPECT_STREQ(event["queryStringParameters"]["x"].GetString(), "1,2");
  EXPECT_STREQ(event["queryStringParameters"]["y"].GetString(), " z");
  EXPECT_STREQ(event["headers"]["x-multi"].GetString(), "a,b");
  EXPECT_FALSE(event["headers"].HasMember("cookie"));
  ASSERT_EQ(event["cookies"].Size(), 2u);
  EXPECT_STREQ(event["cookies"][1].GetString(), "c2=v2");
  EXPECT_STREQ(event["body"].GetString(), "{\"k\":1}");
  EXPECT_FALSE(event["isBase64Encoded"].GetBool());
  const auto& context = event["requestContext"];
  EXPECT_STREQ(context["accountId"].GetString(), "anonymous");
  EXPECT_STREQ(context["apiId"].GetString(), "abc123");
  EXPECT_STREQ(context["domainPrefix"].GetString(), "abc123");
  EXPECT_STREQ(context["http"]["method"].GetString(), "POST");
  EXPECT_STREQ(context["http"]["sourceIp"].GetString(), "10.1.2.3");
  EXPECT_STREQ(context["http"]["userAgent"].GetString(), "curl/8");
  EXPECT_STREQ(context["http"]["protocol"].GetString(), "HTTP/1.1");
  EXPECT_STREQ(context["stage"].GetString(), "$default");
  EXPECT_STREQ(context["time"].GetString(), "27/Nov/2025:12:00:00 +0000");
  EXPECT_EQ(context["timeEpoch"].GetInt64(), 1764244800123);
  EXPECT_FALSE(context.HasMember("authorizer"));
}

TEST(UrlEvent, BinaryBodyIsBase64AndAbsentPartsAreLeftOut) {
  HttpRequest request = Request("PUT", "/x");
  request.headers = {{"content-type", "application/octet-stream"}};
  request.body = std::string("\0\1\xff", 3);
  const auto event = Parse(BuildUrlEvent(request, Context()));
  EXPECT_STREQ(event["body"].GetString(), "AAH/");
  EXPECT_TRUE(event["isBase64Encoded"].GetBool());
  EXPECT_FALSE(event.HasMember("cookies"));
  EXPECT_FALSE(event.HasMember("queryStringParameters"));

  HttpRequest invalid_utf8 = Request("POST", "/x");
  invalid_utf8.body = "\xc3";
  EXPECT_TRUE(Parse(BuildUrlEvent(invalid_utf8, Context()))["isBase64Encoded"].GetBool());
  HttpRequest utf8 = Request("POST", "/x");
  utf8.body = "h\xc3\xa9llo";
  EXPECT_FALSE(Parse(BuildUrlEvent(utf8, Context()))["isBase64Encoded"].GetBool());
  HttpRequest empty = Request("GET", "/x");
  const auto no_body = Parse(BuildUrlEvent(empty, Context()));
  EXPECT_FALSE(no_body.HasMember("body"));
  EXPECT_FALSE(no_body["isBase64Encoded"].GetBool());
}

TEST(UrlEvent, IamCallerIsInTheAuthorizer) {
  UrlEventContext context = Context();
  context.iam_access_key = "AKID";
  const auto event = Parse(BuildUrlEvent(Request("GET", "/"), context));
  EXPECT_STREQ(event["requestContext"]["accountId"].GetString(), "000000000000");
  EXPECT_STREQ(event["requestContext"]["authorizer"]["iam"]["accessKey"].GetString(), "AKID");
  EXPECT_TRUE(event["requestContext"]["authorizer"]["iam"]["cognitoIdentity"].IsNull());
}

TEST(UrlResult, StructuredResponse) {
  const HttpResponse response =
      MapUrlResult(R"({"statusCode":418,"headers":{"X-A":"1","content-type":"text/html","X-N":5},)"
                   R"("cookies":["a=1","b=2"],"body":"<p>hi</p>"})");
  EXPECT_EQ(response.status, 418);
  EXPECT_EQ(response.content_type, "text/html");
  EXPECT_EQ(response.body, "<p>hi</p>");
  EXPECT_EQ(Headers(response), "X-A=1;X-N=5;Set-Cookie=a=1;Set-Cookie=b=2;");
}

TEST(UrlResult, Base64BodyIsDecodedAndContentTypeDefaultsToJson) {
  const HttpResponse response =
      MapUrlResult(R"({"statusCode":200,"body":"AAH/","isBase64Encoded":true})");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, std::string("\0\1\xff", 3));
  EXPECT_EQ(response.content_type, "application/json");
}

TEST(UrlResult, OtherJsonIsA200JsonBody) {
  for (const std::string payload :
       {R"({"message":"hi"})", R"("just a string")", "[1,2]", "42", "null", R"({"body":"x"})"}) {
    const HttpResponse response = MapUrlResult(payload);
    EXPECT_EQ(response.status, 200) << payload;
    EXPECT_EQ(response.content_type, "application/json") << payload;
    EXPECT_EQ(response.body, payload);
  }
}

TEST(UrlResult, UnusableStructuredResponsesAre502) {
  for (const std::string payload :
       {R"({"statusCode":"200"})", R"({"statusCode":99})", R"({"statusCode":600})",
        R"({"statusCode":200,"body":5})", R"({"statusCode":200,"headers":[]})",
        R"({"statusCode":200,"body":"!!","isBase64Encoded":true})",
        R"({"statusCode":200,"cookies":"a=1"})"}) {
    const HttpResponse response = MapUrlResult(payload);
    EXPECT_EQ(response.status, 502) << payload;
    EXPECT_EQ(response.body, "Internal Server Error");
  }
}

TEST(UrlCors, PreflightAndResponseHeaders) {
  CorsConfig cors;
  cors.allow_origins = {"https://a.example"};
  cors.allow_methods = {"GET", "POST"};
  cors.allow_headers = {"x-h"};
  cors.expose_headers = {"x-e"};
  cors.max_age = 60;
  cors.allow_credentials = true;
  HttpRequest preflight = Request("OPTIONS", "/");
  preflight.headers = {{"origin", "https://a.example"}, {"access-control-request-method", "POST"}};
  ASSERT_TRUE(IsPreflight(preflight));
  EXPECT_EQ(Headers(PreflightResponse(preflight, cors)),
            "Access-Control-Allow-Origin=https://a.example;Vary=Origin;"
            "Access-Control-Allow-Methods=GET,POST;Access-Control-Allow-Headers=x-h;"
            "Access-Control-Allow-Credentials=true;Access-Control-Max-Age=60;");
  preflight.headers[1].second = "DELETE";
  EXPECT_EQ(Headers(PreflightResponse(preflight, cors)), "");

  HttpRequest request = Request("GET", "/");
  request.headers = {{"origin", "https://a.example"}};
  HttpResponse response;
  response.headers = {{"Access-Control-Allow-Origin", "*"}, {"X-Own", "1"}};
  AddCorsHeaders(request, cors, &response);
  EXPECT_EQ(Headers(response),
            "X-Own=1;Access-Control-Allow-Origin=https://a.example;Vary=Origin;"
            "Access-Control-Allow-Credentials=true;Access-Control-Expose-Headers=x-e;");
  request.headers = {{"origin", "https://other.example"}};
  HttpResponse untouched;
  AddCorsHeaders(request, cors, &untouched);
  EXPECT_EQ(Headers(untouched), "");
  CorsConfig any;
  any.allow_origins = {"*"};
  HttpResponse star;
  AddCorsHeaders(request, any, &star);
  EXPECT_EQ(Headers(star), "Access-Control-Allow-Origin=*;");
}

TEST(UrlCors, ParseChecksTypesAndLimits) {
  CorsConfig cors;
  HttpResponse error;
  auto parse = [&](const char* json) {
    rapidjson::Document doc;
    doc.Parse(json);
    return ParseCors(doc, &cors, &error);
  };
  ASSERT_TRUE(parse(R"({"AllowOrigins":["*"],"MaxAge":10,"AllowCredentials":false})"));
  EXPECT_EQ(CorsJson(cors), R"({"AllowCredentials":false,"AllowOrigins":["*"],"MaxAge":10})");
  EXPECT_FALSE(parse(R"({"MaxAge":86401})"));
  EXPECT_EQ(error.status, 400);
  EXPECT_NE(error.body.find("cors.maxAge"), std::string::npos);
  EXPECT_FALSE(parse(R"({"AllowMethods":["TOOLONGX"]})"));
  EXPECT_NE(error.body.find("cors.allowMethods"), std::string::npos);
  EXPECT_FALSE(parse(R"({"AllowOrigins":"*"})"));
  EXPECT_EQ(Headers(error), "x-amzn-ErrorType=InvalidRequestContentException;");
}

TEST(UrlRouting, PathPrefixAndHost) {
  auto routed = RouteFunctionUrl(Request("GET", "/lambda-url/abc/x/y"));
  ASSERT_TRUE(routed);
  EXPECT_EQ(routed->url_id, "abc");
  EXPECT_EQ(routed->raw_path, "/x/y");
  routed = RouteFunctionUrl(Request("GET", "/lambda-url/abc"));
  ASSERT_TRUE(routed);
  EXPECT_EQ(routed->raw_path, "/");
  HttpRequest by_host = Request("POST", "/p");
  by_host.headers = {{"host", "abc.lambda-url.us-east-1.localhost:8083"}};
  routed = RouteFunctionUrl(by_host);
  ASSERT_TRUE(routed);
  EXPECT_EQ(routed->url_id, "abc");
  EXPECT_EQ(routed->raw_path, "/p");
  HttpRequest api = Request("GET", "/2015-03-31/functions");
  api.headers = {{"host", "127.0.0.1:8083"}};
  EXPECT_FALSE(RouteFunctionUrl(api));
}

TEST(Base64, RoundTrip) {
  const std::string data("any\0bytes\xff", 10);
  EXPECT_EQ(DecodeBase64(EncodeBase64(data)), data);
  EXPECT_FALSE(DecodeBase64("abc"));
}

}  // namespace
}  // namespace switchyard::orchestrator::api
