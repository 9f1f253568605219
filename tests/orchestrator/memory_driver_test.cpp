#include "switchyard/orchestrator/memory_driver.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace switchyard::orchestrator {
namespace {

namespace asl = switchyard::asl;

constexpr int64_t kT0 = int64_t{1700000000} * 1000000000;

asl::StateMachineDef Parse(std::string_view text) {
  asl::ParseResult parsed = asl::ParseDefinition(text);
  EXPECT_TRUE(parsed.ok());
  return parsed.ok() ? std::move(*parsed.definition) : asl::StateMachineDef{};
}

std::string Types(const RunResult& result) {
  std::string text;
  for (const auto& event : result.history) (text += event.type) += " ";
  return text;
}

// Completes every task synchronously with its payload, or asynchronously from another thread.
class EchoBackend : public TaskBackend {
 public:
  explicit EchoBackend(bool async) : async_(async) {}
  ~EchoBackend() override {
    for (auto& thread : threads_) thread.join();
  }
  std::optional<TaskOutcome> Start(const TaskRequest& request, TaskCompleter complete) override {
    requests.push_back(asl::DumpJson(request.payload));
    if (!async_) return TaskOutcome::Success(asl::CopyJson(request.payload));
    std::string payload = asl::DumpJson(request.payload);
    threads_.emplace_back(
        [payload, complete] { complete(TaskOutcome::Success(*asl::ParseJson(payload))); });
    return std::nullopt;
  }
  std::vector<std::string> requests;

 private:
  bool async_;
  std::vector<std::thread> threads_;
};

// Never completes anything.
class SilentBackend : public TaskBackend {
 public:
  std::optional<TaskOutcome> Start(const TaskRequest& request, TaskCompleter) override {
    tokens.push_back(request.token);
    return std::nullopt;
  }
  void Cancel(const std::string& task_id) override { cancelled.push_back(task_id); }
  std::vector<std::string> tokens;
  std::vector<std::string> cancelled;
};

// Keeps every completer and calls it only when told to, possibly after the driver is gone.
class LateBackend : public TaskBackend {
 public:
  std::optional<TaskOutcome> Start(const TaskRequest&, TaskCompleter complete) override {
    completers.push_back(std::move(complete));
    return std::nullopt;
  }
  std::vector<TaskCompleter> completers;
};

constexpr std::string_view kTwoTasks = R"({"StartAt": "A", "States": {
    "A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "W"},
    "W": {"Type": "Wait", "Seconds": 3600, "Next": "B"},
    "B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
          "Parameters": {"wrapped.$": "$"}, "End": true}}})";

TEST(MemoryDriverTest, SyncBackendAndFakeClockRunToTheEnd) {
  asl::StateMachineDef definition = Parse(kTwoTasks);
  EchoBackend backend(false);
  MemoryDriverOptions options;
  options.fake_clock_start = kT0;
  MemoryDriver driver(definition, backend, options);
  RunResult result = driver.Run(*asl::ParseJson(R"({"x": 1})"));
  EXPECT_EQ(result.status, asl::ExecutionStatus::kSucceeded);
  EXPECT_EQ(asl::DumpJson(result.output), R"({"wrapped":{"x":1}})");
  EXPECT_EQ(Types(result),
            "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskSucceeded "
            "TaskStateExited WaitStateEntered WaitStateExited TaskStateEntered TaskScheduled "
            "TaskStarted TaskSucceeded TaskStateExited ExecutionSucceeded ");
  // The Wait moved the fake clock by an hour.
  EXPECT_EQ(result.history.back().timestamp - result.history.front().timestamp,
            int64_t{3600} * 1000000000);
}

TEST(MemoryDriverTest, AsyncCompletionFromAnotherThread) {
  asl::StateMachineDef definition = Parse(kTwoTasks);
  EchoBackend backend(true);
  MemoryDriverOptions options;
  options.fast_timers = true;
  MemoryDriver driver(definition, backend, options);
  RunResult result = driver.Run(*asl::ParseJson("[1]"));
  EXPECT_EQ(result.status, asl::ExecutionStatus::kSucceeded);
  EXPECT_EQ(asl::DumpJson(result.output), R"({"wrapped":[1]})");
  EXPECT_EQ(backend.requests.size(), 2u);
}

TEST(MemoryDriverTest, TaskTimeoutIsReportedByTheDriver) {
  asl::StateMachineDef definition = Parse(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 30, "End": true}}})");
  SilentBackend backend;
  MemoryDriverOptions options;
  options.fake_clock_start = kT0;
  MemoryDriver driver(definition, backend, options);
  RunResult result = driver.Run(*asl::ParseJson("{}"));
  EXPECT_EQ(result.status, asl::ExecutionStatus::kFailed);
  EXPECT_EQ(result.error.value_or(""), "States.Timeout");
  EXPECT_EQ(Types(result),
            "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskTimedOut "
            "ExecutionFailed ");
  EXPECT_EQ(result.history.back().timestamp - kT0, int64_t{30} * 1000000000);
}

TEST(MemoryDriverTest, CallbackTokenCompletesTask) {
  asl::StateMachineDef definition = Parse(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {"token.$": "$$.Task.Token"}, "End": true}}})");
  SilentBackend backend;
  MemoryDriverOptions options;
  options.fast_timers = true;
  MemoryDriver* driver_ptr = nullptr;
  options.after_event = [&](asl::ExecutionState&) {
    if (!backend.tokens.empty() && driver_ptr != nullptr) {
      driver_ptr->SendTaskSuccess(backend.tokens.front(), asl::JsonString("approved"));
      backend.tokens.clear();
    }
  };
  MemoryDriver driver(definition, backend, options);
  driver_ptr = &driver;
  RunResult result = driver.Run(*asl::ParseJson("{}"));
  EXPECT_EQ(result.status, asl::ExecutionStatus::kSucceeded);
  EXPECT_EQ(asl::DumpJson(result.output), "\"approved\"");
}

TEST(MemoryDriverTest, NoFunctionBackendFailsTasks) {
  asl::StateMachineDef definition = Parse(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:111111111111:function:fn", "End": true}}})");
  NoFunctionBackend backend;
  MemoryDriverOptions options;
  options.fake_clock_start = kT0;
  MemoryDriver driver(definition, backend, options);
  RunResult result = driver.Run(*asl::ParseJson("{}"));
  EXPECT_EQ(result.status, asl::ExecutionStatus::kFailed);
  EXPECT_EQ(result.error.value_or(""), "States.TaskFailed");
  EXPECT_EQ(result.cause.value_or(""),
            "no function backend configured for "
            "arn:aws:lambda:us-east-1:111111111111:function:fn");
  EXPECT_EQ(Types(result),
            "ExecutionStarted TaskStateEntered LambdaFunctionScheduled LambdaFunctionStarted "
            "LambdaFunctionFailed ExecutionFailed ");
}

TEST(MemoryDriverTest, ResumingFromSnapshotsAfterEveryEventChangesNothing) {
  asl::StateMachineDef definition = Parse(kTwoTasks);
  auto run = [&](bool crash) {
    EchoBackend backend(false);
    MemoryDriverOptions options;
    options.fake_clock_start = kT0;
    if (crash) {
      options.after_event = [](asl::ExecutionState& state) {
        auto copy = asl::ExecutionState::FromJson(state.ToJson());
        ASSERT_TRUE(copy.ok());
        state = std::move(copy).value();
      };
    }
    MemoryDriver driver(definition, backend, options);
    RunResult result = driver.Run(*asl::ParseJson(R"({"x": 1})"));
    std::string text;
    for (const auto& event : result.history) text += asl::DumpJson(event.ToJson()) + "\n";
    return text + asl::DumpJson(result.output);
  };
  EXPECT_EQ(run(false), run(true));
}

TEST(MemoryDriverTest, StopAbortsAndCancelsTheTask) {
  asl::StateMachineDef definition = Parse(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke", "End": true}}})");
  SilentBackend backend;
  MemoryDriverOptions options;
  options.fake_clock_start = kT0;
  MemoryDriver* driver_ptr = nullptr;
  options.after_event = [&](asl::ExecutionState&) {
    if (driver_ptr != nullptr) driver_ptr->Stop("Cancelled", "by test");
    driver_ptr = nullptr;
  };
  MemoryDriver driver(definition, backend, options);
  driver_ptr = &driver;
  RunResult result = driver.Run(*asl::ParseJson("{}"));
  EXPECT_EQ(result.status, asl::ExecutionStatus::kAborted);
  EXPECT_EQ(result.error.value_or(""), "Cancelled");
  EXPECT_EQ(backend.cancelled.size(), 1u);
}

TEST(MemoryDriverTest, ATaskEndingAfterTheDriverIsGoneIsDropped) {
  asl::StateMachineDef definition = Parse(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 1, "End": true}}})");
  LateBackend backend;
  {
    MemoryDriverOptions options;
    options.fake_clock_start = kT0;
    MemoryDriver driver(definition, backend, options);
    RunResult result = driver.Run(asl::JsonObject());
    EXPECT_EQ(result.status, asl::ExecutionStatus::kFailed);
    EXPECT_EQ(result.error.value_or(""), "States.Timeout");
  }
  ASSERT_EQ(backend.completers.size(), 1u);
  // The driver is destroyed: its completer must neither crash nor touch freed memory (ASan).
  std::thread late([&] { backend.completers[0](TaskOutcome::Success(asl::JsonObject())); });
  late.join();
}

// ---- AWS's limits, as this driver carries them out --------------------------------------------

constexpr std::string_view kEndlessChoice = R"({"StartAt": "Loop", "States": {
    "Loop": {"Type": "Choice", "Choices": [{"Variable": "$.spin", "BooleanEquals": true,
             "Next": "Loop"}], "Default": "Done"},
    "Done": {"Type": "Succeed"}}})";

// `passes` Pass states, then a Fail state when `fail`.
asl::StateMachineDef PassChain(int passes, bool fail = false) {
  std::string text = R"({"StartAt": "P0", "States": {)";
  for (int i = 0; i < passes; ++i) {
    text += "\"P" + std::to_string(i) + "\": {\"Type\": \"Pass\", ";
    text += i + 1 < passes ? "\"Next\": \"P" + std::to_string(i + 1) + "\"}, "
            : fail         ? R"("Next": "F"}, "F": {"Type": "Fail", "Error": "Boom"}}})"
                           : "\"End\": true}}}";
  }
  return Parse(text);
}

TEST(MemoryDriverTest, HistoryLimitBoundary) {
  struct Case {
    int passes;
    bool fail;
    std::size_t events;
    std::string error;
  };
  // 24,999 events (the Fail's own error), 25,000 (succeeds), 25,001 (cut at 25,000).
  for (const Case& c : {Case{12498, true, 24999, "Boom"}, Case{12499, false, 25000, ""},
                        Case{12499, true, 25000, "States.Runtime"}}) {
    asl::StateMachineDef definition = PassChain(c.passes, c.fail);
    EchoBackend backend(false);
    MemoryDriverOptions options;
    options.fake_clock_start = kT0;
    MemoryDriver driver(definition, backend, options);
    RunResult result = driver.Run(*asl::ParseJson("{}"));
    EXPECT_EQ(result.history.size(), c.events) << c.passes;
    EXPECT_EQ(result.error.value_or(""), c.error) << c.passes;
    EXPECT_EQ(result.status,
              c.error.empty() ? asl::ExecutionStatus::kSucceeded : asl::ExecutionStatus::kFailed);
  }
}

TEST(MemoryDriverTest, StandardEndlessLoopFailsAtTheHistoryLimit) {
  asl::StateMachineDef definition = Parse(kEndlessChoice);
  EchoBackend backend(false);
  MemoryDriverOptions options;
  options.fake_clock_start = kT0;
  MemoryDriver driver(definition, backend, options);
  RunResult result = driver.Run(*asl::ParseJson(R"({"spin": true})"));
  EXPECT_EQ(result.status, asl::ExecutionStatus::kFailed);
  EXPECT_EQ(result.error.value_or(""), "States.Runtime");
  EXPECT_EQ(result.cause.value_or(""),
            "The execution reached the maximum number of history events (25000).");
  ASSERT_EQ(result.history.size(), 25000u);
  EXPECT_EQ(result.history.back().type, "ExecutionFailed");
  EXPECT_EQ(result.history[24998].type, "ChoiceStateExited");
}

TEST(MemoryDriverTest, ExpressRunsPastTheHistoryLimitThroughItsYields) {
  asl::StateMachineDef definition = PassChain(13000);
  EchoBackend backend(false);
  MemoryDriverOptions options;
  options.fake_clock_start = kT0;
  options.execution_type = asl::ExecutionType::kExpress;
  MemoryDriver driver(definition, backend, options);
  RunResult result = driver.Run(*asl::ParseJson("[1]"));
  EXPECT_EQ(result.status, asl::ExecutionStatus::kSucceeded);
  EXPECT_EQ(asl::DumpJson(result.output), "[1]");
  EXPECT_EQ(result.history.size(), 26002u);

  MemoryDriverOptions standard;
  standard.fake_clock_start = kT0;
  MemoryDriver standard_driver(definition, backend, standard);
  EXPECT_EQ(standard_driver.Run(*asl::ParseJson("[1]")).status, asl::ExecutionStatus::kFailed);
}

TEST(MemoryDriverTest, ExpressTimesOutAfterFiveMinutes) {
  asl::StateMachineDef definition =
      Parse(R"({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 400, "End": true}}})");
  EchoBackend backend(false);
  MemoryDriverOptions options;
  options.fake_clock_start = kT0;
  options.execution_type = asl::ExecutionType::kExpress;
  options.keep_history = false;
  MemoryDriver driver(definition, backend, options);
  RunResult result = driver.Run(*asl::ParseJson("{}"));
  EXPECT_EQ(result.status, asl::ExecutionStatus::kTimedOut);
  EXPECT_EQ(result.error.value_or(""), "States.Timeout");
  EXPECT_TRUE(result.history.empty());  // not kept
}

TEST(MemoryDriverTest, WaitUntilYear9999EndsAtTheExecutionTimeout) {
  asl::StateMachineDef definition = Parse(R"({"StartAt": "W", "TimeoutSeconds": 2, "States": {
      "W": {"Type": "Wait", "Timestamp": "9999-12-31T23:59:59Z", "End": true}}})");
  EchoBackend backend(false);
  MemoryDriverOptions options;
  options.fake_clock_start = kT0;
  MemoryDriver driver(definition, backend, options);
  RunResult result = driver.Run(*asl::ParseJson("{}"));
  EXPECT_EQ(result.status, asl::ExecutionStatus::kTimedOut);
  EXPECT_EQ(Types(result), "ExecutionStarted WaitStateEntered ExecutionTimedOut ");
  EXPECT_EQ(result.history.back().timestamp - kT0, int64_t{2} * 1000000000);
}

TEST(MemoryDriverTest, HugeTaskTimeoutEndsAtTheStandardYear) {
  // TimeoutSecondsPath may give any positive integer: the deadline saturates, and the
  // execution's year ends it first.
  asl::StateMachineDef definition = Parse(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSecondsPath": "$.t",
      "HeartbeatSecondsPath": "$.t", "End": true}}})");
  SilentBackend backend;
  MemoryDriverOptions options;
  options.fake_clock_start = kT0;
  MemoryDriver driver(definition, backend, options);
  RunResult result = driver.Run(*asl::ParseJson(R"({"t": 9223372036854775807})"));
  EXPECT_EQ(result.status, asl::ExecutionStatus::kTimedOut);
  EXPECT_EQ(result.history.back().timestamp - kT0, int64_t{31536000} * 1000000000);
  EXPECT_EQ(backend.cancelled.size(), 1u);
}

}  // namespace
}  // namespace switchyard::orchestrator
