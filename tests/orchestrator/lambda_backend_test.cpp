// Lambda Task states end to end in memory: the in-memory driver, the LambdaBackend and the
// function invoker running real python3 processes.
#include "switchyard/orchestrator/lambda_backend.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "../invoker/invoker_test_util.hpp"
#include "switchyard/asl/definition.hpp"
#include "switchyard/asl/json.hpp"
#include "switchyard/invoker/invoker.hpp"
#include "switchyard/orchestrator/memory_driver.hpp"

namespace switchyard::orchestrator {
namespace {

namespace asl = switchyard::asl;
namespace inv = switchyard::invoker;
using inv::testing::MakeFunction;
using inv::testing::MakeTempDir;

constexpr char kEcho[] = "def handler(event, context):\n    return event\n";
constexpr char kRaise[] =
    "def handler(event, context):\n    raise ValueError('bad input: %s' % event)\n";
constexpr char kSleep[] = "import time\ndef handler(event, context):\n    time.sleep(20)\n";

class LambdaBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir();
    Register(MakeFunction(root_, "echo", "python3.12", "handler.handler", {{"handler.py", kEcho}}));
    Register(
        MakeFunction(root_, "raise", "python3.12", "handler.handler", {{"handler.py", kRaise}}));
    Register(MakeFunction(root_, "sleep", "python3.12", "handler.handler", {{"handler.py", kSleep}},
                          30));
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void Register(const inv::FunctionConfig& config) {
    ASSERT_EQ(invoker_.RegisterFunction(config), "");
  }

  RunResult Run(std::string_view definition_text, std::string_view input = "{}") {
    asl::ParseResult parsed = asl::ParseDefinition(definition_text);
    EXPECT_TRUE(parsed.ok()) << definition_text;
    if (!parsed.ok()) return {};
    LambdaBackend backend(invoker_, "us-east-1", "000000000000");
    MemoryDriverOptions options;
    options.fast_timers = true;
    MemoryDriver driver(*parsed.definition, backend, options);
    return driver.Run(*asl::ParseJson(input));
  }

  static std::string Types(const RunResult& result) {
    std::string text;
    for (const auto& event : result.history) (text += event.type) += " ";
    return text;
  }

  static std::string Member(const asl::Json& object, std::string_view key) {
    const asl::Json* value = asl::JsonFind(object, key);
    return value == nullptr    ? "<missing>"
           : value->IsString() ? std::string(asl::JsonView(*value))
                               : asl::DumpJson(*value);
  }

  std::string root_;
  inv::Invoker invoker_{inv::InvokerOptions{}};
};

std::string OneTask(std::string_view task_fields) {
  return R"({"StartAt":"T","States":{"T":{"Type":"Task",)" + std::string(task_fields) +
         R"(,"End":true}}})";
}

TEST_F(LambdaBackendTest, FunctionArnResourceGetsTheInputAndReturnsTheResponse) {
  RunResult result =
      Run(OneTask(R"("Resource":"arn:aws:lambda:us-east-1:000000000000:function:echo")"),
          R"({"order":7,"items":["a"]})");
  ASSERT_EQ(result.status, asl::ExecutionStatus::kSucceeded) << result.cause.value_or("");
  EXPECT_EQ(asl::DumpJson(result.output), R"({"order":7,"items":["a"]})");
  EXPECT_EQ(Types(result),
            "ExecutionStarted TaskStateEntered LambdaFunctionScheduled LambdaFunctionStarted "
            "LambdaFunctionSucceeded TaskStateExited ExecutionSucceeded ");
}

TEST_F(LambdaBackendTest, InvokeIntegrationReturnsTheInvokeResponseShape) {
  RunResult result = Run(OneTask(R"("Resource":"arn:aws:states:::lambda:invoke",
      "Parameters":{"FunctionName":"echo","Payload":{"x.$":"$.x"}})"),
                         R"({"x":[1,2]})");
  ASSERT_EQ(result.status, asl::ExecutionStatus::kSucceeded) << result.cause.value_or("");
  const asl::Json& out = result.output;
  EXPECT_EQ(Member(out, "Payload"), R"({"x":[1,2]})");
  EXPECT_EQ(Member(out, "StatusCode"), "200");
  EXPECT_EQ(Member(out, "ExecutedVersion"), "$LATEST");
  const asl::Json* http = asl::JsonFind(out, "SdkHttpMetadata");
  ASSERT_NE(http, nullptr);
  EXPECT_EQ(Member(*http, "HttpStatusCode"), "200");
  const asl::Json* headers = asl::JsonFind(*http, "HttpHeaders");
  ASSERT_NE(headers, nullptr);
  // Python's json.dumps spacing, as the real runtime answers.
  EXPECT_EQ(Member(*headers, "Content-Length"),
            std::to_string(std::string(R"({"x": [1, 2]})").size()));
  EXPECT_EQ(Member(*headers, "X-Amz-Executed-Version"), "$LATEST");
  const asl::Json* all = asl::JsonFind(*http, "AllHttpHeaders");
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(Member(*all, "Content-Type"), R"(["application/json"])");
  const asl::Json* metadata = asl::JsonFind(out, "SdkResponseMetadata");
  ASSERT_NE(metadata, nullptr);
  EXPECT_EQ(Member(*metadata, "RequestId"), Member(*headers, "x-amzn-RequestId"));
  EXPECT_EQ(Member(*metadata, "RequestId").size(), 36u);
  EXPECT_NE(Types(result).find("TaskScheduled TaskStarted TaskSucceeded"), std::string::npos)
      << Types(result);
}

TEST_F(LambdaBackendTest, AStringPayloadIsTheRequestBodyItself) {
  RunResult result = Run(OneTask(R"("Resource":"arn:aws:states:::lambda:invoke",
      "Parameters":{"FunctionName":"echo","Payload":"[1, \"two\"]"},"OutputPath":"$.Payload")"));
  ASSERT_EQ(result.status, asl::ExecutionStatus::kSucceeded) << result.cause.value_or("");
  EXPECT_EQ(asl::DumpJson(result.output), R"([1,"two"])");
}

TEST_F(LambdaBackendTest, AQualifiedFunctionNameRunsThatVersion) {
  ASSERT_EQ(invoker_.PublishVersion("echo"), "1");
  RunResult result = Run(OneTask(R"("Resource":"arn:aws:states:::lambda:invoke",
      "Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:000000000000:function:echo:1"})"));
  ASSERT_EQ(result.status, asl::ExecutionStatus::kSucceeded) << result.cause.value_or("");
  EXPECT_EQ(Member(result.output, "ExecutedVersion"), "1");
  EXPECT_EQ(Member(result.output, "Payload"), "{}");  // no Payload: an empty object
}

TEST_F(LambdaBackendTest, AFunctionErrorIsTheTaskErrorAndCatchSeesItsDocument) {
  RunResult result = Run(R"({"StartAt":"T","States":{
      "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
           "Parameters":{"FunctionName":"raise","Payload":"7"},
           "Catch":[{"ErrorEquals":["ValueError"],"Next":"Caught"}],"End":true},
      "Caught":{"Type":"Pass","End":true}}})");
  ASSERT_EQ(result.status, asl::ExecutionStatus::kSucceeded) << result.cause.value_or("");
  EXPECT_EQ(Member(result.output, "Error"), "ValueError");
  // lambda:invoke re-serialises the error document compactly.
  std::string cause = Member(result.output, "Cause");
  std::optional<asl::Json> document = asl::ParseJson(cause);
  ASSERT_TRUE(document.has_value()) << cause;
  EXPECT_EQ(Member(*document, "errorMessage"), "bad input: 7");
  EXPECT_EQ(Member(*document, "errorType"), "ValueError");
  EXPECT_EQ(cause, asl::DumpJson(*document));
  EXPECT_NE(cause.find("/var/task/handler.py"), std::string::npos) << cause;
}

TEST_F(LambdaBackendTest, AFunctionArnPassesTheFunctionsOwnErrorText) {
  RunResult result =
      Run(OneTask(R"("Resource":"arn:aws:lambda:us-east-1:000000000000:function:raise")"), "3");
  ASSERT_EQ(result.status, asl::ExecutionStatus::kFailed);
  EXPECT_EQ(result.error.value_or(""), "ValueError");
  // Python's json.dumps spacing, as AWS records it for Lambda resources.
  EXPECT_EQ(result.cause.value_or("").rfind(
                R"({"errorMessage": "bad input: 3", "errorType": "ValueError")", 0),
            0u)
      << result.cause.value_or("");
  EXPECT_NE(Types(result).find("LambdaFunctionFailed ExecutionFailed"), std::string::npos);
}

TEST_F(LambdaBackendTest, AnUnknownFunctionIsResourceNotFound) {
  RunResult result = Run(OneTask(R"("Resource":"arn:aws:states:::lambda:invoke",
      "Parameters":{"FunctionName":"nope"})"));
  ASSERT_EQ(result.status, asl::ExecutionStatus::kFailed);
  EXPECT_EQ(result.error.value_or(""), "Lambda.ResourceNotFoundException");
  const std::string prefix =
      "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope:$LATEST "
      "(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; "
      "Request ID: ";
  EXPECT_EQ(result.cause.value_or("").rfind(prefix, 0), 0u) << result.cause.value_or("");
  EXPECT_TRUE(result.cause.value_or("").ends_with("; Proxy: null)"));
}

TEST_F(LambdaBackendTest, TheTaskTimeoutEndsALongFunction) {
  RunResult result = Run(OneTask(
      R"("Resource":"arn:aws:lambda:us-east-1:000000000000:function:sleep","TimeoutSeconds":1)"));
  ASSERT_EQ(result.status, asl::ExecutionStatus::kFailed);
  EXPECT_EQ(result.error.value_or(""), "States.Timeout");
  EXPECT_NE(Types(result).find("LambdaFunctionTimedOut ExecutionFailed"), std::string::npos)
      << Types(result);
}

TEST_F(LambdaBackendTest, OtherResourcesHaveNoBackend) {
  RunResult result = Run(OneTask(R"("Resource":"arn:aws:states:::sqs:sendMessage",
      "Parameters":{"QueueUrl":"q","MessageBody":"m"})"));
  ASSERT_EQ(result.status, asl::ExecutionStatus::kFailed);
  EXPECT_EQ(result.error.value_or(""), "States.TaskFailed");
  EXPECT_EQ(result.cause.value_or(""),
            "no backend configured for arn:aws:states:::sqs:sendMessage");
}

TEST_F(LambdaBackendTest, EachMapIterationInvokesTheFunction) {
  RunResult result = Run(R"({"StartAt":"P","States":{"P":{"Type":"Map","ItemsPath":"$.items",
      "ItemProcessor":{"StartAt":"E","States":{"E":{"Type":"Task",
        "Resource":"arn:aws:lambda:us-east-1:000000000000:function:echo","End":true}}},
      "End":true}}})",
                         R"({"items":[{"i":0},{"i":1},{"i":2},{"i":3}]})");
  ASSERT_EQ(result.status, asl::ExecutionStatus::kSucceeded) << result.cause.value_or("");
  EXPECT_EQ(asl::DumpJson(result.output), R"([{"i":0},{"i":1},{"i":2},{"i":3}])");
}

}  // namespace
}  // namespace switchyard::orchestrator
