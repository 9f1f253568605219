// The Lambda operations called directly (no HTTP), over a real invoker running the example
// python function: create, read, list with pagination, update, invoke, versions, aliases,
// concurrency, delete, and the AWS errors of each.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "api/function_registry.hpp"
#include "api/lambda_api.hpp"
#include "api/metrics.hpp"
#include "switchyard/invoker/invoker.hpp"

namespace api = switchyard::orchestrator::api;
namespace inv = switchyard::invoker;

namespace {

const std::string kHelloDir = std::string(SWITCHYARD_SOURCE_DIR) + "/examples/functions/hello";

api::ApiCall Call(std::string body, std::map<std::string, std::string> params = {},
                  std::vector<std::pair<std::string, std::string>> query = {},
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
  api::ApiCall call;
  call.request.body = std::move(body);
  call.request.headers = std::move(headers);
  call.params = std::move(params);
  call.query = std::move(query);
  return call;
}

std::string CreateBody(const std::string& name, const std::string& extra = "") {
  return R"({"FunctionName":")" + name +
         R"(","Runtime":"python3.11","Handler":"handler.handler","Role":"arn:aws:iam::000000000000:role/r","Code":{"S3Bucket":"__local__","S3Key":")" +
         kHelloDir + "\"}" + extra + "}";
}

std::string Header(const api::HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

std::string Member(const std::string& json, const char* name) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(name)) return "<none>";
  const auto& value = doc[name];
  if (value.IsString()) return value.GetString();
  if (value.IsInt64()) return std::to_string(value.GetInt64());
  return "<other>";
}

class LambdaApiTest : public ::testing::Test {
 protected:
  LambdaApiTest()
      : data_dir_(std::filesystem::temp_directory_path() /
                  ("switchyard-lambda-test-" + std::to_string(getpid()))),
        invoker_(inv::InvokerOptions{}),
        lambda_(api::LambdaApiOptions{data_dir_.string()}, invoker_, registry_, metrics_) {}
  ~LambdaApiTest() override { std::filesystem::remove_all(data_dir_); }

  std::filesystem::path data_dir_;
  inv::Invoker invoker_;
  api::InMemoryFunctionRegistry registry_;
  api::Metrics metrics_;
  api::LambdaApi lambda_;
};

}  // namespace

TEST_F(LambdaApiTest, CreateGetAndConflict) {
  auto response = lambda_.CreateFunction(Call(CreateBody("greet")));
  ASSERT_EQ(response.status, 201) << response.body;
  EXPECT_EQ(Member(response.body, "FunctionArn"),
            "arn:aws:lambda:us-east-1:000000000000:function:greet");
  EXPECT_EQ(Member(response.body, "Version"), "$LATEST");
  EXPECT_EQ(Member(response.body, "Timeout"), "3");
  EXPECT_EQ(Member(response.body, "MemorySize"), "128");
  EXPECT_EQ(Member(response.body, "State"), "Active");

  response = lambda_.GetFunctionConfiguration(Call("", {{"FunctionName", "greet"}}));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(Member(response.body, "Handler"), "handler.handler");
  response = lambda_.GetFunction(Call("", {{"FunctionName", "greet"}}));
  EXPECT_NE(response.body.find("\"Code\":{\"RepositoryType\":\"S3\",\"Location\":\"file://"),
            std::string::npos);

  response = lambda_.CreateFunction(Call(CreateBody("greet")));
  EXPECT_EQ(response.status, 409);
  EXPECT_EQ(Header(response, "x-amzn-ErrorType"), "ResourceConflictException");
  EXPECT_EQ(Member(response.body, "message"), "Function already exist: greet");
}

TEST_F(LambdaApiTest, CreateValidationErrors) {
  auto response = lambda_.CreateFunction(Call("{not json"));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(Header(response, "x-amzn-ErrorType"), "InvalidRequestContentException");
  response = lambda_.CreateFunction(Call(CreateBody("bad", R"(,"Timeout":901)")));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(Header(response, "x-amzn-ErrorType"), "InvalidParameterValueException");
  response = lambda_.CreateFunction(Call(CreateBody("bad", R"(,"MemorySize":"big")")));
  EXPECT_EQ(Header(response, "x-amzn-ErrorType"), "InvalidRequestContentException");
  response = lambda_.CreateFunction(Call(CreateBody("bad name")));
  EXPECT_EQ(Header(response, "x-amzn-ErrorType"), "ValidationException");
  response = lambda_.CreateFunction(Call(
      R"({"FunctionName":"z","Runtime":"python3.11","Handler":"h.h","Code":{"ZipFile":"bm90IGEgemlw"}})"));
  EXPECT_EQ(Header(response, "x-amzn-ErrorType"), "InvalidParameterValueException");
  EXPECT_EQ(Member(response.body, "message"),
            "Could not unzip uploaded file. Please check your file, then try to upload again.");
  response = lambda_.CreateFunction(Call(
      R"({"FunctionName":"z","Runtime":"python3.11","Handler":"h.h","Code":{"S3Bucket":"b","S3Key":"k"}})"));
  EXPECT_EQ(Header(response, "x-amzn-ErrorType"), "InvalidParameterValueException");
}

TEST_F(LambdaApiTest, DeadLetterConfigIsCheckedStoredAndShown) {
  const std::string queue = "arn:aws:sqs:us-east-1:000000000000:dlq";
  auto response = lambda_.CreateFunction(
      Call(CreateBody("dl", R"(,"DeadLetterConfig":{"TargetArn":")" + queue + "\"}")));
  ASSERT_EQ(response.status, 201) << response.body;
  EXPECT_NE(response.body.find(R"("DeadLetterConfig":{"TargetArn":")" + queue + "\"}"),
            std::string::npos)
      << response.body;
  EXPECT_EQ(registry_.Get("dl")->latest.config.dead_letter_target_arn, queue);
  auto shown = lambda_.GetFunctionConfiguration(Call("", {{"FunctionName", "dl"}}));
  EXPECT_NE(shown.body.find(queue), std::string::npos);

  // Each refusal: the error type and message.
  auto refused = [&](const std::string& target) {
    auto r = lambda_.UpdateFunctionConfiguration(
        Call(R"({"DeadLetterConfig":{"TargetArn":")" + target + "\"}}", {{"FunctionName", "dl"}}));
    return Header(r, "x-amzn-ErrorType") + ": " + Member(r.body, "message");
  };
  EXPECT_EQ(refused("queue"),
            "ValidationException: 1 validation error detected: Value 'queue' at "
            "'deadLetterConfig.targetArn' failed to satisfy constraint: Member must satisfy "
            "regular expression pattern: (arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()");
  EXPECT_EQ(refused("arn:aws:lambda:us-east-1:000000000000:function:f"),
            "InvalidParameterValueException: Invalid dead letter queue ARN: The service "
            "specified by the TargetArn is not supported for dead letter configuration.");
  EXPECT_EQ(refused("arn:aws:sqs:eu-west-1:000000000000:dlq"),
            "InvalidParameterValueException: Invalid dead letter queue ARN: The resource "
            "specified by the TargetArn must be in the same region as the Lambda function it's "
            "associated with.");
  EXPECT_EQ(refused("arn:aws:sqs:us-east-1:000000000000:dlq.fifo"),
            "InvalidParameterValueException: Invalid dead letter queue ARN: FIFO SQS queue is "
            "not supported for dead letter configuration");
  EXPECT_EQ(refused("arn:aws:sns:us-east-1:1234:t"),
            "InvalidParameterValueException: Invalid dead letter queue ARN: The ARN "
            "arn:aws:sns:us-east-1:1234:t is not a valid ARN.");
  EXPECT_EQ(registry_.Get("dl")->latest.config.dead_letter_target_arn, queue);
  response =
      lambda_.CreateFunction(Call(CreateBody("dl2", R"(,"DeadLetterConfig":{"TargetArn":""})")));
  EXPECT_EQ(Header(response, "x-amzn-ErrorType") + ": " + Member(response.body, "message"),
            "InvalidParameterValueException: Invalid dead letter queue ARN: ARNs must start with "
            "'arn:'");
  response = lambda_.CreateFunction(Call(CreateBody("dl2", R"(,"DeadLetterConfig":"q")")));
  EXPECT_EQ(Header(response, "x-amzn-ErrorType"), "InvalidRequestContentException");

  // An SNS topic is accepted; an empty TargetArn on update removes the queue.
  const std::string topic = "arn:aws:sns:us-east-1:000000000000:alarms";
  response = lambda_.UpdateFunctionConfiguration(
      Call(R"({"DeadLetterConfig":{"TargetArn":")" + topic + "\"}}", {{"FunctionName", "dl"}}));
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(registry_.Get("dl")->latest.config.dead_letter_target_arn, topic);
  response = lambda_.UpdateFunctionConfiguration(
      Call(R"({"DeadLetterConfig":{"TargetArn":""}})", {{"FunctionName", "dl"}}));
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body.find("DeadLetterConfig"), std::string::npos);
}

TEST_F(LambdaApiTest, NotFoundNamesTheArn) {
  auto response = lambda_.GetFunction(Call("", {{"FunctionName", "missing"}}));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(Header(response, "x-amzn-ErrorType"), "ResourceNotFoundException");
  EXPECT_EQ(response.body,
            "{\"Type\":\"User\",\"message\":\"Function not found: "
            "arn:aws:lambda:us-east-1:000000000000:function:missing\"}");
  response = lambda_.Invoke(Call("{}", {{"FunctionName", "missing"}}));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(Member(response.body, "message"),
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing:$LATEST");
  response = lambda_.DeleteFunction(Call("", {{"FunctionName", "missing"}}));
  EXPECT_EQ(response.status, 404);
}

TEST_F(LambdaApiTest, ListFunctionsPaginates) {
  for (const char* name : {"c", "a", "b"}) {
    ASSERT_EQ(lambda_.CreateFunction(Call(CreateBody(name))).status, 201);
  }
  auto response = lambda_.ListFunctions(Call("", {}, {{"MaxItems", "2"}}));
  ASSERT_EQ(response.status, 200);
  rapidjson::Document doc;
  doc.Parse(response.body.c_str());
  ASSERT_EQ(doc["Functions"].Size(), 2u);
  EXPECT_STREQ(doc["Functions"][0]["FunctionName"].GetString(), "a");
  EXPECT_STREQ(doc["Functions"][1]["FunctionName"].GetString(), "b");
  const std::string marker = doc["NextMarker"].GetString();
  response = lambda_.ListFunctions(Call("", {}, {{"MaxItems", "2"}, {"Marker", marker}}));
  doc.Parse(response.body.c_str());
  ASSERT_EQ(doc["Functions"].Size(), 1u);
  EXPECT_STREQ(doc["Functions"][0]["FunctionName"].GetString(), "c");
  EXPECT_FALSE(doc.HasMember("NextMarker"));
  response = lambda_.ListFunctions(Call("", {}, {{"MaxItems", "0"}}));
  EXPECT_EQ(response.status, 400);
}

TEST_F(LambdaApiTest, InvokeSyncWithTailEventAndDryRun) {
  ASSERT_EQ(lambda_.CreateFunction(Call(CreateBody("greet"))).status, 201);
  auto response = lambda_.Invoke(
      Call(R"({"name":"Ada"})", {{"FunctionName", "greet"}}, {}, {{"x-amz-log-type", "Tail"}}));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body, R"({"greeting": "Hello, Ada!"})");
  EXPECT_EQ(Header(response, "X-Amz-Executed-Version"), "$LATEST");
  EXPECT_FALSE(Header(response, "X-Amz-Log-Result").empty());
  EXPECT_EQ(Header(response, "X-Amz-Function-Error"), "");

  response = lambda_.Invoke(
      Call("{}", {{"FunctionName", "greet"}}, {}, {{"x-amz-invocation-type", "DryRun"}}));
  EXPECT_EQ(response.status, 204);
  response = lambda_.Invoke(
      Call("{}", {{"FunctionName", "greet"}}, {}, {{"x-amz-invocation-type", "Event"}}));
  EXPECT_EQ(response.status, 202);
  response = lambda_.Invoke(
      Call("{}", {{"FunctionName", "greet"}}, {}, {{"x-amz-invocation-type", "Sometimes"}}));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(Header(response, "x-amzn-ErrorType"), "ValidationException");
  response = lambda_.Invoke(Call("{nope", {{"FunctionName", "greet"}}));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(Header(response, "x-amzn-ErrorType"), "InvalidRequestContentException");
  invoker_.DrainAsync();
}

TEST_F(LambdaApiTest, VersionsAndAliases) {
  ASSERT_EQ(lambda_.CreateFunction(Call(CreateBody("greet"))).status, 201);
  auto response = lambda_.PublishVersion(Call("{}", {{"FunctionName", "greet"}}));
  ASSERT_EQ(response.status, 201) << response.body;
  EXPECT_EQ(Member(response.body, "Version"), "1");
  EXPECT_EQ(Member(response.body, "FunctionArn"),
            "arn:aws:lambda:us-east-1:000000000000:function:greet:1");
  // Unchanged $LATEST: the same version again.
  response = lambda_.PublishVersion(Call("{}", {{"FunctionName", "greet"}}));
  EXPECT_EQ(Member(response.body, "Version"), "1");
  ASSERT_EQ(
      lambda_
          .UpdateFunctionConfiguration(Call(R"({"Environment":{"Variables":{"GREETING":"Hi"}}})",
                                            {{"FunctionName", "greet"}}))
          .status,
      200);
  response = lambda_.PublishVersion(Call("{}", {{"FunctionName", "greet"}}));
  EXPECT_EQ(Member(response.body, "Version"), "2");

  response = lambda_.ListVersionsByFunction(Call("", {{"FunctionName", "greet"}}));
  rapidjson::Document doc;
  doc.Parse(response.body.c_str());
  ASSERT_EQ(doc["Versions"].Size(), 3u);
  EXPECT_STREQ(doc["Versions"][0]["Version"].GetString(), "$LATEST");
  EXPECT_STREQ(doc["Versions"][2]["Version"].GetString(), "2");

  response = lambda_.CreateAlias(
      Call(R"({"Name":"live","FunctionVersion":"1"})", {{"FunctionName", "greet"}}));
  ASSERT_EQ(response.status, 201) << response.body;
  EXPECT_EQ(Member(response.body, "AliasArn"),
            "arn:aws:lambda:us-east-1:000000000000:function:greet:live");
  response = lambda_.CreateAlias(
      Call(R"({"Name":"live","FunctionVersion":"1"})", {{"FunctionName", "greet"}}));
  EXPECT_EQ(response.status, 409);
  response = lambda_.CreateAlias(
      Call(R"({"Name":"x","FunctionVersion":"9"})", {{"FunctionName", "greet"}}));
  EXPECT_EQ(response.status, 404);

  // The alias runs version 1 (GREETING=Hello); $LATEST says Hi.
  response = lambda_.Invoke(Call(R"({"name":"A"})", {{"FunctionName", "greet:live"}}));
  EXPECT_EQ(response.body, R"({"greeting": "Hello, A!"})");
  EXPECT_EQ(Header(response, "X-Amz-Executed-Version"), "1");
  response = lambda_.Invoke(Call(R"({"name":"A"})", {{"FunctionName", "greet"}}));
  EXPECT_EQ(response.body, R"({"greeting": "Hi, A!"})");
  response = lambda_.UpdateAlias(
      Call(R"({"FunctionVersion":"2"})", {{"FunctionName", "greet"}, {"Name", "live"}}));
  EXPECT_EQ(Member(response.body, "FunctionVersion"), "2");
  response =
      lambda_.Invoke(Call(R"({"name":"A"})", {{"FunctionName", "greet"}}, {{"Qualifier", "live"}}));
  EXPECT_EQ(response.body, R"({"greeting": "Hi, A!"})");
  response = lambda_.ListAliases(Call("", {{"FunctionName", "greet"}}));
  EXPECT_NE(response.body.find("\"Name\":\"live\""), std::string::npos);
  EXPECT_EQ(lambda_.DeleteAlias(Call("", {{"FunctionName", "greet"}, {"Name", "live"}})).status,
            204);
  response = lambda_.GetAlias(Call("", {{"FunctionName", "greet"}, {"Name", "live"}}));
  EXPECT_EQ(response.status, 404);
  response = lambda_.Invoke(Call("{}", {{"FunctionName", "greet:live"}}));
  EXPECT_EQ(response.status, 404);

  response = lambda_.DeleteFunction(Call("", {{"FunctionName", "greet"}}, {{"Qualifier", "1"}}));
  EXPECT_EQ(response.status, 204);
  response =
      lambda_.GetFunctionConfiguration(Call("", {{"FunctionName", "greet"}}, {{"Qualifier", "1"}}));
  EXPECT_EQ(response.status, 404);
}

// A deleted version or alias is gone from the invoker too: Task states, which call the invoker
// by ARN without the API, get ResourceNotFoundException.
TEST_F(LambdaApiTest, DeletedVersionsAndAliasesAreNotInvocable) {
  ASSERT_EQ(lambda_.CreateFunction(Call(CreateBody("gone"))).status, 201);
  ASSERT_EQ(lambda_.PublishVersion(Call("{}", {{"FunctionName", "gone"}})).status, 201);
  ASSERT_EQ(
      lambda_
          .CreateAlias(Call(R"({"Name":"live","FunctionVersion":"1"})", {{"FunctionName", "gone"}}))
          .status,
      201);
  auto invoke = [&](const std::string& qualified) {
    inv::InvokeRequest request;
    request.function_name = "arn:aws:lambda:us-east-1:000000000000:function:" + qualified;
    request.payload = "{}";
    const inv::InvokeResult result = invoker_.Invoke(request);
    return result.status == inv::InvokeStatus::kOk
               ? std::string("ok")
               : result.error_type + ": " + Member(result.payload, "message");
  };
  EXPECT_EQ(invoke("gone:1"), "ok");
  EXPECT_EQ(invoke("gone:live"), "ok");
  EXPECT_EQ(lambda_.DeleteAlias(Call("", {{"FunctionName", "gone"}, {"Name", "live"}})).status,
            204);
  EXPECT_EQ(invoke("gone:live"),
            "ResourceNotFoundException: Function not found: "
            "arn:aws:lambda:us-east-1:000000000000:function:gone:live");
  EXPECT_EQ(invoke("gone:1"), "ok");
  EXPECT_EQ(
      lambda_.DeleteFunction(Call("", {{"FunctionName", "gone"}}, {{"Qualifier", "1"}})).status,
      204);
  EXPECT_EQ(invoke("gone:1"),
            "ResourceNotFoundException: Function not found: "
            "arn:aws:lambda:us-east-1:000000000000:function:gone:1");
  EXPECT_EQ(invoke("gone"), "ok");
}

TEST_F(LambdaApiTest, ConcurrencyAndAccountSettings) {
  ASSERT_EQ(lambda_.CreateFunction(Call(CreateBody("greet"))).status, 201);
  auto response = lambda_.GetFunctionConcurrency(Call("", {{"FunctionName", "greet"}}));
  EXPECT_EQ(response.body, "{}");
  response = lambda_.PutFunctionConcurrency(
      Call(R"({"ReservedConcurrentExecutions":0})", {{"FunctionName", "greet"}}));
  EXPECT_EQ(response.body, "{\"ReservedConcurrentExecutions\":0}");
  // Reserved concurrency 0 disables the function: throttled.
  response = lambda_.Invoke(Call("{}", {{"FunctionName", "greet"}}));
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(Header(response, "x-amzn-ErrorType"), "TooManyRequestsException");
  response = lambda_.PutFunctionConcurrency(
      Call(R"({"ReservedConcurrentExecutions":950})", {{"FunctionName", "greet"}}));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(lambda_.DeleteFunctionConcurrency(Call("", {{"FunctionName", "greet"}})).status, 204);
  response = lambda_.Invoke(Call(R"({"name":"B"})", {{"FunctionName", "greet"}}));
  EXPECT_EQ(response.status, 200);
  response = lambda_.GetAccountSettings(Call(""));
  EXPECT_NE(response.body.find("\"FunctionCount\":1"), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("\"ConcurrentExecutions\":1000"), std::string::npos);
}

TEST_F(LambdaApiTest, DeleteRemovesTheFunction) {
  ASSERT_EQ(lambda_.CreateFunction(Call(CreateBody("greet"))).status, 201);
  EXPECT_EQ(
      lambda_.DeleteFunction(Call("", {{"FunctionName", "greet"}}, {{"Qualifier", "$LATEST"}}))
          .status,
      400);
  EXPECT_EQ(lambda_.DeleteFunction(Call("", {{"FunctionName", "greet"}})).status, 204);
  EXPECT_EQ(lambda_.GetFunction(Call("", {{"FunctionName", "greet"}})).status, 404);
  EXPECT_FALSE(invoker_.HasFunction("greet"));
}

TEST(LambdaLimits, BodyLimitsPerOperation) {
  api::HttpRequest head;
  head.method = "POST";
  head.path = "/2015-03-31/functions/f/invocations";
  EXPECT_EQ(api::LambdaBodyLimit(head), 6291456u);
  auto response = api::LambdaTooLarge(head, 6291456);
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.body,
            "{\"Type\":\"User\",\"message\":\"Request must be smaller than 6291456 bytes for the "
            "InvokeFunction operation\"}");
  head.path = "/2015-03-31/functions";
  EXPECT_EQ(api::LambdaBodyLimit(head), 69905067u);
  response = api::LambdaTooLarge(head, 69905067);
  EXPECT_EQ(response.headers[0].second, "RequestEntityTooLargeException");
  EXPECT_EQ(response.body,
            "{\"Type\":\"User\",\"message\":\"Request must be smaller than 69905067 bytes for the "
            "CreateFunction operation\"}");
}

namespace {

// An in-memory registry that runs `after_serials` once, right after Serials() took its
// snapshot: the moment a concurrent CreateFunction could slip in.
class HookedRegistry final : public api::FunctionRegistry {
 public:
  std::optional<api::FunctionRecord> Get(const std::string& name) const override {
    return inner_.Get(name);
  }
  std::vector<api::FunctionRecord> List() const override { return inner_.List(); }
  void Put(const api::FunctionRecord& record) override { inner_.Put(record); }
  bool Remove(const std::string& name) override { return inner_.Remove(name); }
  std::map<std::string, int64_t> Serials() const override {
    std::map<std::string, int64_t> serials = inner_.Serials();
    if (after_serials && !fired_.exchange(true)) after_serials();
    return serials;
  }

  std::function<void()> after_serials;

 private:
  api::InMemoryFunctionRegistry inner_;
  mutable std::atomic<bool> fired_{false};
};

}  // namespace

// A sync that read the serials before a function was created on this node used to take it for
// one deleted on another node and remove it: "Function not found" right after CreateFunction.
TEST(LambdaApiSync, AFunctionCreatedWhileSyncRunsIsKept) {
  const auto data_dir = std::filesystem::temp_directory_path() /
                        ("switchyard-lambda-sync-test-" + std::to_string(getpid()));
  inv::Invoker invoker{inv::InvokerOptions{}};
  HookedRegistry registry;
  api::Metrics metrics;
  api::LambdaApi lambda(api::LambdaApiOptions{data_dir.string()}, invoker, registry, metrics);

  std::thread creator;
  std::atomic<bool> created{false};
  int status = 0;
  registry.after_serials = [&] {
    creator = std::thread([&] {
      status = lambda.CreateFunction(Call(CreateBody("late"))).status;
      created = true;
    });
    // Give the creation every chance to finish inside the sync (it can only if the sync does
    // not hold the control-plane lock while it uses the serials).
    for (int i = 0; i < 100 && !created; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  EXPECT_TRUE(lambda.Sync().empty());
  creator.join();
  ASSERT_EQ(status, 201);
  EXPECT_TRUE(invoker.HasFunction("late"));
  EXPECT_EQ(
      lambda
          .Invoke(Call("{}", {{"FunctionName", "late"}}, {}, {{"x-amz-invocation-type", "DryRun"}}))
          .status,
      204);
  lambda.Sync();  // a later sync keeps it too
  EXPECT_TRUE(invoker.HasFunction("late"));
  std::filesystem::remove_all(data_dir);
}
