// The route table: REST patterns with decoded parameters, JSON 1.0 targets, and AWS's errors
// for what matches nothing.
#include <gtest/gtest.h>

#include "api/router.hpp"

namespace api = switchyard::orchestrator::api;

namespace {

api::HttpRequest Request(std::string method, std::string target,
                         std::vector<std::pair<std::string, std::string>> headers = {}) {
  api::HttpRequest request;
  request.method = std::move(method);
  request.target = target;
  const auto q = target.find('?');
  request.path = target.substr(0, q);
  if (q != std::string::npos) request.query = target.substr(q + 1);
  request.headers = std::move(headers);
  return request;
}

api::Router MakeRouter() {
  api::Router router;
  const api::ApiHandler noop = [](api::ApiCall, api::Respond) {};
  router.AddRest("GET", "/2015-03-31/functions", "ListFunctions", noop);
  router.AddRest("GET", "/2015-03-31/functions/{FunctionName}", "GetFunction", noop);
  router.AddRest("POST", "/2015-03-31/functions/{FunctionName}/invocations", "Invoke", noop);
  router.AddRest("GET", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "GetAlias", noop);
  router.AddJson10("AWSStepFunctions.StartExecution", noop);
  return router;
}

}  // namespace

TEST(Router, RestPatternsCaptureDecodedParameters) {
  const api::Router router = MakeRouter();
  auto match = router.Resolve(Request(
      "POST",
      "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/invocations"));
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ(match.call.operation, "Invoke");
  EXPECT_EQ(match.call.Param("FunctionName"), "arn:aws:lambda:us-east-1:1:function:f");
  match = router.Resolve(Request("GET", "/2015-03-31/functions/f/aliases/live"));
  EXPECT_EQ(match.call.operation, "GetAlias");
  EXPECT_EQ(match.call.Param("Name"), "live");
  // A trailing slash (ListFunctions as botocore sends it) is the same path.
  match = router.Resolve(Request("GET", "/2015-03-31/functions/?MaxItems=2"));
  EXPECT_EQ(match.call.operation, "ListFunctions");
  EXPECT_EQ(match.call.Query("MaxItems"), "2");
  EXPECT_EQ(match.call.protocol, api::Protocol::kRestJson);
}

TEST(Router, Json10TargetsSelectTheOperation) {
  const api::Router router = MakeRouter();
  auto match =
      router.Resolve(Request("POST", "/", {{"x-amz-target", "AWSStepFunctions.StartExecution"}}));
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ(match.call.operation, "StartExecution");
  EXPECT_EQ(match.call.protocol, api::Protocol::kJson10);
}

TEST(Router, UnknownOperationsGetTheProtocolsError) {
  const api::Router router = MakeRouter();
  auto match =
      router.Resolve(Request("POST", "/", {{"x-amz-target", "AWSStepFunctions.NoSuchThing"}}));
  EXPECT_EQ(match.handler, nullptr);
  EXPECT_EQ(match.error.status, 400);
  EXPECT_EQ(match.error.content_type, "application/x-amz-json-1.0");
  EXPECT_EQ(match.error.body,
            "{\"__type\":\"UnknownOperationException\",\"message\":\"Unknown operation "
            "'AWSStepFunctions.NoSuchThing'\"}");

  match = router.Resolve(Request("GET", "/2015-03-31/nothing/here"));
  EXPECT_EQ(match.handler, nullptr);
  EXPECT_EQ(match.error.status, 404);
  ASSERT_EQ(match.error.headers.size(), 1u);
  EXPECT_EQ(match.error.headers[0].first, "x-amzn-ErrorType");
  EXPECT_EQ(match.error.headers[0].second, "UnknownOperationException");

  match = router.Resolve(Request("DELETE", "/2015-03-31/functions/f/invocations"));
  EXPECT_EQ(match.error.status, 405);
  EXPECT_EQ(match.error.headers[0].second, "MethodNotAllowedException");
}

TEST(AwsError, ShapesPerProtocol) {
  const auto json10 = api::ProtocolError(api::Protocol::kJson10, 403, "InvalidSignatureException",
                                         "bad \"sig\"", true);
  EXPECT_EQ(json10.body,
            "{\"__type\":\"InvalidSignatureException\",\"message\":\"bad \\\"sig\\\"\"}");
  const auto front = api::ProtocolError(api::Protocol::kRestJson, 403,
                                        "UnrecognizedClientException", "nope", true);
  EXPECT_EQ(front.body, "{\"message\":\"nope\"}");
  EXPECT_EQ(front.headers[0].second, "UnrecognizedClientException");
  const auto service = api::ProtocolError(api::Protocol::kRestJson, 404,
                                          "ResourceNotFoundException", "Function not found: x");
  EXPECT_EQ(service.body, "{\"Type\":\"User\",\"message\":\"Function not found: x\"}");
}
