// /metrics rendering (api/metrics.cpp) and the structured log lines (logging.cpp).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api/metrics.hpp"
#include "logging.hpp"
#include "switchyard/invoker/invoker.hpp"

namespace switchyard::orchestrator::api {
namespace {

TEST(Metrics, CountsByStateMachineAndFunctionWithEscapedLabels) {
  Metrics metrics;
  metrics.CountRequest("states", "StartExecution", 200, 0.002);
  metrics.CountRequest("states", "StartExecution", 200, 0.004);
  metrics.CountRequest("states", "StartExecution", 400, 0.001);
  metrics.ExecutionStarted("orders", "arn:aws:states:us-east-1:0:execution:orders:a");
  metrics.StateTransitions("orders", 3);
  metrics.ExecutionFinished("orders", "arn:aws:states:us-east-1:0:execution:orders:a", "FAILED",
                            "States.TaskFailed");
  metrics.DecisionBatch(7, 0.003);
  metrics.TaskFinished("orders", "arn", "task-1", "Boom", 0.2);
  metrics.CountInvocationLog(
      "fn\"x",
      "START RequestId: r Version: $LATEST\nEND RequestId: r\nREPORT RequestId: r\t"
      "Duration: 1500.00 ms\tBilled Duration: 1500 ms\tMemory Size: 512 MB\tMax Memory "
      "Used: 20 MB\tStatus: timeout\n");
  const std::string text = metrics.Render(nullptr);
  EXPECT_NE(
      text.find("switchyard_api_requests_total{protocol=\"states\",operation=\"StartExecution\","
                "code=\"200\"} 2\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("switchyard_api_request_seconds_count{operation=\"StartExecution\"} 3\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("switchyard_executions_total{state_machine=\"orders\",status=\"started\"} 1\n"),
      std::string::npos);
  EXPECT_NE(
      text.find("switchyard_executions_total{state_machine=\"orders\",status=\"FAILED\"} 1\n"),
      std::string::npos);
  EXPECT_NE(text.find("switchyard_state_transitions_total{state_machine=\"orders\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("switchyard_decisions_total 7\n"), std::string::npos);
  EXPECT_NE(text.find("switchyard_decision_batch_seconds_bucket{le=\"0.005\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("switchyard_task_seconds_bucket{state_machine=\"orders\",le=\"0.25\"} 1\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("switchyard_task_failures_total{state_machine=\"orders\",error=\"Boom\"} 1\n"),
      std::string::npos);
  // The label escapes the quote; 1.5 s x 0.5 GB = 0.75 GB-s.
  EXPECT_NE(text.find("switchyard_function_gb_seconds_total{function=\"fn\\\"x\"} 0.75\n"),
            std::string::npos);
  EXPECT_EQ(text.find("arn:aws"), std::string::npos);  // never an execution label
}

// Lambda's Invocations / Errors / Throttles per function, from the invoker's results (the Invoke
// API, Task states and Event attempts all report there).
TEST(Metrics, FunctionInvocationsErrorsAndThrottles) {
  Metrics metrics;
  auto result = [](invoker::InvokeStatus status, const std::string& function_error) {
    invoker::InvokeResult r;
    r.status = status;
    r.function_error = function_error;
    return r;
  };
  using invoker::InvokeStatus;
  metrics.CountInvokeResult("f", result(InvokeStatus::kOk, ""));
  metrics.CountInvokeResult("f", result(InvokeStatus::kOk, "Unhandled"));
  metrics.CountInvokeResult("f", result(InvokeStatus::kOk, "Handled"));
  metrics.CountInvokeResult("f", result(InvokeStatus::kThrottled, ""));
  metrics.CountInvokeResult("f", result(InvokeStatus::kEnvironmentError, ""));
  metrics.CountInvokeResult("nobody", result(InvokeStatus::kNotFound, ""));
  const std::string text = metrics.Render(nullptr);
  auto line = [&](const std::string& prefix) {
    const auto at = text.find(prefix);
    return at == std::string::npos ? "<none>" : text.substr(at, text.find('\n', at) - at);
  };
  EXPECT_EQ(line("switchyard_function_invocations_total{function=\"f\"}") + ";" +
                line("switchyard_function_errors_total{function=\"f\"}") + ";" +
                line("switchyard_function_throttles_total{function=\"f\"}"),
            "switchyard_function_invocations_total{function=\"f\"} 4;"
            "switchyard_function_errors_total{function=\"f\"} 3;"
            "switchyard_function_throttles_total{function=\"f\"} 1");
  EXPECT_EQ(text.find("nobody"), std::string::npos);  // a name that is no function: no label
}

TEST(Metrics, TaskErrorLabelsAreBounded) {
  Metrics metrics;
  for (int i = 0; i < 500; ++i) metrics.TaskFinished("m", "arn", "t", "E" + std::to_string(i), 0);
  const std::string text = metrics.Render(nullptr);
  std::size_t lines = 0;
  for (std::size_t at = 0;
       (at = text.find("switchyard_task_failures_total{", at)) != std::string::npos; ++at) {
    ++lines;
  }
  EXPECT_EQ(lines, 51u);  // 50 names and "other"
  EXPECT_NE(text.find("error=\"other\"} 450\n"), std::string::npos);
}

TEST(Logging, RejectsUnknownLevelsAndFormats) {
  EXPECT_EQ(ConfigureLogging("verbose", "text"),
            "unknown log level 'verbose' (trace, debug, info, warn, error, critical, off)");
  EXPECT_EQ(ConfigureLogging("info", "xml"), "unknown log format 'xml' (text, json)");
  EXPECT_EQ(ConfigureLogging("warn", "json"), "");
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  EXPECT_TRUE(LogEnabled(LogLevel::kError));
  EXPECT_EQ(ConfigureLogging("off", "text"), "");
  EXPECT_FALSE(LogEnabled(LogLevel::kCritical));
  StopLogging();
}

// Every JSON line parses, user strings included (quotes, newlines, control characters, ill-formed
// UTF-8); free-text lines become "msg".
TEST(Logging, JsonLinesAreValidJson) {
  testing::internal::CaptureStderr();
  ASSERT_EQ(ConfigureLogging("info", "json"), "");
  LogLine("request")
      .Str("operation", "Start\"Execution\n\x01\\")
      .Str("name", std::string("bad \xff\xfe utf-8"))
      .Int("status", 400)
      .Num("ms", 1.5)
      .Emit(LogLevel::kInfo);
  spdlog::info("free text with \"quotes\" and {}", "a\nnewline");
  StopLogging();
  const std::string out = testing::internal::GetCapturedStderr();
  std::istringstream lines(out);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size());
    ASSERT_FALSE(doc.HasParseError()) << line;
    ASSERT_TRUE(doc.IsObject()) << line;
    EXPECT_TRUE(doc.HasMember("time"));
    EXPECT_STREQ(doc["level"].GetString(), "info");
    if (count == 0) {
      EXPECT_STREQ(doc["event"].GetString(), "request");
      EXPECT_EQ(std::string(doc["operation"].GetString()), "Start\"Execution\n\x01\\");
      EXPECT_EQ(doc["status"].GetInt(), 400);
    } else {
      EXPECT_EQ(std::string(doc["msg"].GetString()), "free text with \"quotes\" and a\nnewline");
    }
    ++count;
  }
  EXPECT_EQ(count, 2) << out;
}

TEST(Logging, TextValuesWithSpacesAreQuoted) {
  testing::internal::CaptureStderr();
  ASSERT_EQ(ConfigureLogging("info", "text"), "");
  LogLine("task_failed")
      .Str("error", "States.Timeout")
      .Str("cause", "took \"too\" long")
      .Emit(LogLevel::kInfo);
  StopLogging();
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find(" info task_failed error=States.Timeout cause=\"took \\\"too\\\" long\"\n"),
            std::string::npos)
      << out;
}

// The line's start and numbers as the formats promise: "<UTC time with milliseconds>Z <level> "
// (text; spdlog's level names), "%.3f" for Num, and lines of spdlog and LogLine in one stream.
TEST(Logging, TextLinesHaveTimeLevelAndFixedDecimals) {
  testing::internal::CaptureStderr();
  ASSERT_EQ(ConfigureLogging("info", "text"), "");
  LogLine("request")
      .Num("ms", 1.5)
      .Num("neg", -0.0004)
      .Num("big", 12345.6789)
      .Emit(LogLevel::kInfo);
  LogLine("slow").Num("ms", 0.0005).Int("status", 503).Emit(LogLevel::kWarn);
  LogLine("hidden").Emit(LogLevel::kDebug);
  spdlog::info("free {}", "text");
  StopLogging();
  const std::string out = testing::internal::GetCapturedStderr();
  const std::regex expected(
      "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z info request ms=1\\.500 neg=-0\\.000 "
      "big=12345\\.679\\n"
      "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z warning slow ms=0\\.001 status=503\\n"
      "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z info free text\\n");
  EXPECT_TRUE(std::regex_match(out, expected)) << out;
}

// Lines from many threads at once: every one written whole, none lost (the writer gathers them).
TEST(Logging, LinesFromManyThreadsAllArriveWhole) {
  testing::internal::CaptureStderr();
  ASSERT_EQ(ConfigureLogging("info", "json"), "");
  constexpr int kThreads = 4;
  constexpr int kLines = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i) {
        LogLine("request")
            .Int("thread", t)
            .Int("line", i)
            .Str("pad", std::string(100, 'x'))
            .Emit(LogLevel::kInfo);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  StopLogging();
  const std::string out = testing::internal::GetCapturedStderr();
  std::istringstream lines(out);
  std::string line;
  std::vector<int> next(kThreads, 0);
  int count = 0;
  while (std::getline(lines, line)) {
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size());
    ASSERT_FALSE(doc.HasParseError()) << line;
    const int t = doc["thread"].GetInt();
    ASSERT_EQ(doc["line"].GetInt(), next[static_cast<std::size_t>(t)]) << line;  // in order
    ++next[static_cast<std::size_t>(t)];
    ++count;
  }
  EXPECT_EQ(count, kThreads * kLines);
}

}  // namespace
}  // namespace switchyard::orchestrator::api
