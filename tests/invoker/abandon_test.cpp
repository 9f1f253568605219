// Invoker::Drain and AbandonRunning, what `serve` does with its shutdown grace: invocations in
// flight finish within the grace; past it their runtimes are killed and the results say so
// (abandoned), and nothing new starts.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include "invoker_test_util.hpp"
#include "switchyard/invoker/invoker.hpp"

namespace switchyard::invoker {
namespace {

using testing::MakeFunction;
using testing::MakeTempDir;

// Touches $STARTED, then sleeps event["sleep"] seconds and answers "done".
constexpr const char* kSleeper =
    "import os, time\n"
    "def handler(event, context):\n"
    "    open(os.environ['STARTED'], 'w').close()\n"
    "    time.sleep(event['sleep'])\n"
    "    return 'done'\n";

class AbandonTest : public ::testing::Test {
 protected:
  AbandonTest() : root_(MakeTempDir()) {
    FunctionConfig config =
        MakeFunction(root_, "sleeper", "python3.11", "app.handler", {{"app.py", kSleeper}}, 300);
    config.environment["STARTED"] = root_ + "/started";
    EXPECT_EQ(invoker_.RegisterFunction(config), "");
  }
  ~AbandonTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  std::future<InvokeResult> Start(int sleep_seconds) {
    auto future = std::async(std::launch::async, [this, sleep_seconds] {
      InvokeRequest request;
      request.function_name = "sleeper";
      request.payload = "{\"sleep\":" + std::to_string(sleep_seconds) + "}";
      return invoker_.Invoke(request);
    });
    while (!std::filesystem::exists(root_ + "/started")) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return future;
  }

  std::string root_;
  Invoker invoker_{InvokerOptions{}};
};

TEST_F(AbandonTest, AnInvocationThatEndsWithinTheGraceKeepsItsResult) {
  auto running = Start(1);
  invoker_.Drain(std::chrono::steady_clock::now() + std::chrono::minutes(5));
  const InvokeResult result = running.get();
  EXPECT_FALSE(result.abandoned);
  EXPECT_EQ(result.payload, "\"done\"");
}

TEST_F(AbandonTest, PastTheGraceTheRuntimeIsKilledAndTheResultIsAbandoned) {
  auto running = Start(300);
  invoker_.Drain(std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
  ASSERT_EQ(running.wait_for(std::chrono::minutes(1)), std::future_status::ready);
  const InvokeResult result = running.get();
  EXPECT_TRUE(result.abandoned);
  EXPECT_EQ(result.status_code, 503);
  EXPECT_EQ(result.error_type, "ServiceException");
  // Nothing new runs afterwards.
  InvokeRequest request;
  request.function_name = "sleeper";
  request.payload = "{\"sleep\":0}";
  const InvokeResult refused = invoker_.Invoke(request);
  EXPECT_TRUE(refused.abandoned);
  EXPECT_EQ(refused.error_type, "ServiceException");
}

}  // namespace
}  // namespace switchyard::invoker
