// AWS's own Node.js runtime interface client (npm: aws-lambda-ric) runs a handler against our
// Runtime API unchanged: a `provided` function whose bootstrap starts the client. The package is
// installed once into a cache under the build directory (it builds native code: curl and
// aws-lambda-cpp, so the first run takes minutes); the tests are skipped only when npm or its
// registry cannot be reached.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "invoker_test_util.hpp"
#include "switchyard/invoker/invoker.hpp"

namespace switchyard::invoker {
namespace {

namespace fs = std::filesystem;
using testing::MakeFunction;
using testing::MakeTempDir;

// 3.x: the last major that runs on Node.js 20 (Debian 12's nodejs); 4.x needs Node.js 22.
constexpr const char* kPackage = "aws-lambda-ric@3.3.0";
constexpr const char* kCacheDir = SWITCHYARD_NPM_CACHE_DIR;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Returns the package folder, or "" with `skip` set (npm or the registry unreachable) or
// `failure` set (the install itself failed).
std::string EnsureRic(std::string* skip, std::string* failure) {
  const std::string final_dir = std::string(kCacheDir) + "/aws-lambda-ric-3.3.0";
  const std::string package = final_dir + "/node_modules/aws-lambda-ric";
  const std::string marker = package + "/dist/rapid-client.node";
  if (fs::exists(marker)) return package;
  std::error_code ec;
  fs::create_directories(kCacheDir, ec);
  // One installer at a time (ctest runs test cases as parallel processes); the others wait.
  const std::string lock_path = std::string(kCacheDir) + "/install.lock";
  const int lock = open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock < 0 || flock(lock, LOCK_EX) != 0) {
    *failure = "cannot lock " + lock_path;
    return {};
  }
  struct Unlock {
    int fd;
    ~Unlock() { close(fd); }
  } unlock{lock};
  if (fs::exists(marker)) return package;
  if (std::system("command -v npm >/dev/null 2>&1") != 0) {
    *skip = "npm is not installed";
    return {};
  }
  const std::string log = std::string(kCacheDir) + "/install.log";
  // CI=true and no stdin: npm must never prompt; every step has a deadline.
  const std::string probe = "cd '" + std::string(kCacheDir) + "' && CI=true timeout 60 npm view " +
                            kPackage + " version </dev/null >'" + log + "' 2>&1";
  if (std::system(probe.c_str()) != 0) {
    *skip = "the npm registry is unreachable (npm view " + std::string(kPackage) +
            " failed): " + ReadText(log);
    return {};
  }
  const std::string staging = std::string(kCacheDir) + "/staging-" + std::to_string(getpid());
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  const std::string install = "cd '" + staging + "' && CI=true timeout 480 npm install --prefix '" +
                              staging + "' --no-audit --no-fund --no-save " + kPackage +
                              " </dev/null >'" + log + "' 2>&1";
  const int rc = std::system(install.c_str());
  if (rc != 0 || !fs::exists(staging + "/node_modules/aws-lambda-ric/dist/rapid-client.node")) {
    *failure = "npm install " + std::string(kPackage) + " failed (exit " + std::to_string(rc) +
               "; it builds native code: needs g++, make, cmake, autoconf, automake, libtool, "
               "python3). Log " +
               log + ":\n" + ReadText(log);
    fs::remove_all(staging, ec);
    return {};
  }
  fs::remove_all(final_dir, ec);
  fs::rename(staging, final_dir, ec);
  if (ec) {
    *failure = "cannot move " + staging + " to " + final_dir + ": " + ec.message();
    return {};
  }
  return package;
}

rapidjson::Document Parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  return doc;
}

std::string Str(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject()) return "<not an object>";
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return "<missing>";
  return it->value.GetString();
}

class RicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip;
    std::string failure;
    package_ = EnsureRic(&skip, &failure);
    if (!skip.empty()) GTEST_SKIP() << "aws-lambda-ric not available: " << skip;
    ASSERT_TRUE(failure.empty()) << failure;
    root_ = MakeTempDir();
    InvokerOptions options;
    options.log_sink = [this](const std::string&, const std::string& request_id,
                              const std::string& log) { logs_[request_id] = log; };
    invoker_ = std::make_unique<Invoker>(std::move(options));
    const std::string handler = R"(
exports.handler = async (event, context) => {
  if (event.fail) {
    const error = new Error('boom: ' + event.fail);
    error.name = 'OrderRejected';
    throw error;
  }
  console.log('handling', context.awsRequestId);
  return {
    echo: event,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    requestId: context.awsRequestId,
    arn: context.invokedFunctionArn,
    memory: String(context.memoryLimitInMB),
    logGroup: context.logGroupName,
    timeLeft: context.getRemainingTimeInMillis() > 0,
  };
};
)";
    // The client is started exactly as a container image's ENTRYPOINT would start it.
    const std::string bootstrap =
        "#!/bin/sh\nexec /usr/bin/node " + package_ + "/bin/index.mjs handler.handler\n";
    FunctionConfig config = MakeFunction(root_, "ric-fn", "provided.al2023", "",
                                         {{"bootstrap", bootstrap}, {"handler.js", handler}}, 20);
    config.memory_size_mb = 256;
    ASSERT_EQ(invoker_->RegisterFunction(config), "");
  }
  void TearDown() override {
    invoker_.reset();
    std::error_code ignored;
    if (!root_.empty()) fs::remove_all(root_, ignored);
  }
  InvokeResult Invoke(const std::string& payload) {
    InvokeRequest request;
    request.function_name = "ric-fn";
    request.payload = payload;
    return invoker_->Invoke(request);
  }

  std::string package_;
  std::string root_;
  std::map<std::string, std::string> logs_;  // written on the invoking thread only
  std::unique_ptr<Invoker> invoker_;
};

TEST_F(RicTest, HandlerAnswersWithItsPayloadAndSeesTheContext) {
  const InvokeResult result = Invoke(R"({"order":42,"items":["a","b"]})");
  ASSERT_EQ(result.status, InvokeStatus::kOk) << result.payload;
  ASSERT_EQ(result.function_error, "") << result.payload << "\n" << logs_[result.request_id];
  const auto doc = Parse(result.payload);
  ASSERT_TRUE(doc.IsObject()) << result.payload;
  ASSERT_TRUE(doc.HasMember("echo"));
  EXPECT_EQ(doc["echo"]["order"].GetInt(), 42);
  EXPECT_EQ(std::string(doc["echo"]["items"][1].GetString()), "b");
  EXPECT_EQ(Str(doc, "functionName"), "ric-fn");
  EXPECT_EQ(Str(doc, "functionVersion"), "$LATEST");
  EXPECT_EQ(Str(doc, "requestId"), result.request_id);
  EXPECT_EQ(Str(doc, "arn"), "arn:aws:lambda:us-east-1:000000000000:function:ric-fn");
  EXPECT_EQ(Str(doc, "memory"), "256");
  EXPECT_EQ(Str(doc, "logGroup"), "/aws/lambda/ric-fn");
  EXPECT_TRUE(doc["timeLeft"].GetBool());
  // The client's console.log carries the request id, as in Lambda.
  const std::string log = logs_[result.request_id];
  EXPECT_NE(log.find("\t" + result.request_id + "\tINFO\thandling " + result.request_id),
            std::string::npos)
      << log;

  // The same environment serves the next event, with its own request id.
  const InvokeResult second = Invoke(R"({"order":43})");
  ASSERT_EQ(second.function_error, "") << second.payload;
  EXPECT_EQ(Str(Parse(second.payload), "requestId"), second.request_id);
  EXPECT_NE(second.request_id, result.request_id);
  EXPECT_EQ(invoker_->EnvironmentCount("ric-fn"), 1);
}

TEST_F(RicTest, HandlerErrorHasLambdasErrorShape) {
  const InvokeResult result = Invoke(R"({"fail":"out of stock"})");
  ASSERT_EQ(result.status, InvokeStatus::kOk) << result.payload;
  EXPECT_EQ(result.function_error, "Unhandled");
  EXPECT_EQ(result.error_type, "OrderRejected");
  const auto doc = Parse(result.payload);
  EXPECT_EQ(Str(doc, "errorType"), "OrderRejected") << result.payload;
  EXPECT_EQ(Str(doc, "errorMessage"), "boom: out of stock") << result.payload;
  ASSERT_TRUE(doc.HasMember("trace") && doc["trace"].IsArray()) << result.payload;
  // The environment survives a handled error and serves the next event.
  const InvokeResult next = Invoke(R"({"order":1})");
  EXPECT_EQ(next.function_error, "") << next.payload;
  EXPECT_EQ(Str(Parse(next.payload), "requestId"), next.request_id);
}

}  // namespace
}  // namespace switchyard::invoker
