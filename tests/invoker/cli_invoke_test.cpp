// `switchyard invoke` (orchestrator/src/cli_invoke.cpp) against the example functions. Built
// from that one source so it runs without the rest of the orchestrator.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>

#include "invoker_test_util.hpp"
#include "switchyard/orchestrator/cli.hpp"

namespace switchyard::orchestrator {
namespace {

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

CliRun Invoke(InvokeOptions options) {
  if (options.functions_dir.empty()) {
    options.functions_dir = SWITCHYARD_SOURCE_DIR "/examples/functions";
  }
  std::ostringstream out;
  std::ostringstream err;
  const int code = RunInvokeCommand(options, out, err);
  return {code, out.str(), err.str()};
}

TEST(CliInvokeTest, PrintsThePayloadAndExitsZero) {
  InvokeOptions options;
  options.function_name = "hello";
  options.payload = R"({"name":"CLI"})";
  CliRun run = Invoke(options);
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "{\"greeting\": \"Hello, CLI!\"}\n");
  EXPECT_EQ(run.err, "");
}

TEST(CliInvokeTest, LogTailGoesToStderr) {
  InvokeOptions options;
  options.function_name = "hello-node";
  options.log_tail = true;
  CliRun run = Invoke(options);
  EXPECT_EQ(run.code, 0);
  EXPECT_EQ(run.out, "{\"greeting\":\"Hello, world!\"}\n");
  EXPECT_EQ(run.err.rfind("START RequestId: ", 0), 0u) << run.err;
  EXPECT_NE(run.err.find("\tINFO\tgreeting world\n"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("REPORT RequestId: "), std::string::npos);
}

TEST(CliInvokeTest, FunctionErrorExitsOne) {
  const std::string root = invoker::testing::MakeTempDir();
  invoker::testing::WriteFile(root + "/boom/function.json",
                              R"({"Runtime":"python3.12","Handler":"h.handler"})");
  invoker::testing::WriteFile(root + "/boom/h.py", "def handler(e, c):\n    raise KeyError('k')\n");
  InvokeOptions options;
  options.functions_dir = root;
  options.function_name = "boom";
  CliRun run = Invoke(options);
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(run.out.rfind("{\"errorMessage\": \"'k'\", \"errorType\": \"KeyError\"", 0), 0u)
      << run.out;
}

TEST(CliInvokeTest, UsageErrorsExitTwo) {
  InvokeOptions options;
  options.function_name = "hello";
  options.type = "Sometimes";
  CliRun bad_type = Invoke(options);
  EXPECT_EQ(bad_type.code, 2);
  EXPECT_EQ(bad_type.err,
            "switchyard invoke: --type must be RequestResponse, Event or DryRun, not "
            "'Sometimes'\n");
  options.type = "RequestResponse";
  options.function_name = "absent";
  CliRun missing = Invoke(options);
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("no function 'absent'"), std::string::npos);
  options.function_name = "hello";
  options.payload = "{not json";
  EXPECT_EQ(Invoke(options).code, 2);
  // An unknown version is as much a usage error as an unknown function.
  options.payload.reset();
  options.function_name = "hello:1";
  CliRun no_version = Invoke(options);
  EXPECT_EQ(no_version.code, 2);
  EXPECT_EQ(no_version.out, "");
  EXPECT_EQ(no_version.err,
            "switchyard invoke: ResourceNotFoundException (404): {\"Type\":\"User\",\"message\":"
            "\"Function not found: arn:aws:lambda:us-east-1:000000000000:function:hello:1\"}\n");
}

// Replaces the request ids and times of the progress lines, so they compare whole.
std::string Normalise(const std::string& text) {
  static const std::regex id("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  static const std::regex when("retrying at [0-9T:-]+Z \\(in [0-9]+ s\\)");
  return std::regex_replace(std::regex_replace(text, id, "ID"), when, "retrying at T");
}

TEST(CliInvokeTest, EventInvocationReportsEachAttemptOnStderr) {
  const std::string root = invoker::testing::MakeTempDir();
  invoker::testing::WriteFile(root + "/boom/function.json",
                              R"({"Runtime":"python3.12","Handler":"h.handler"})");
  invoker::testing::WriteFile(root + "/boom/h.py", "def handler(e, c):\n    raise KeyError('k')\n");
  invoker::testing::WriteFile(root + "/fine/function.json",
                              R"({"Runtime":"python3.12","Handler":"h.handler"})");
  invoker::testing::WriteFile(root + "/fine/h.py", "def handler(e, c):\n    return 1\n");
  setenv("SWITCHYARD_ASYNC_RETRY_BASE_MS", "50", 1);
  InvokeOptions options;
  options.functions_dir = root;
  options.type = "Event";
  options.function_name = "boom";
  CliRun failing = Invoke(options);
  options.function_name = "fine";
  CliRun fine = Invoke(options);
  unsetenv("SWITCHYARD_ASYNC_RETRY_BASE_MS");
  std::filesystem::remove_all(root);

  EXPECT_EQ(failing.code, 1);
  EXPECT_EQ(failing.out, "");
  EXPECT_EQ(Normalise(failing.err),
            "switchyard invoke: event ID queued (202); waiting for its outcome\n"
            "switchyard invoke: attempt 1 of 3 failed (KeyError); retrying at T\n"
            "switchyard invoke: attempt 2 of 3 failed (KeyError); retrying at T\n"
            "switchyard invoke: attempt 3 of 3 failed (KeyError); event failed: RetriesExhausted; "
            "no destination configured\n");
  EXPECT_EQ(fine.code, 0);
  EXPECT_EQ(Normalise(fine.err),
            "switchyard invoke: event ID queued (202); waiting for its outcome\n"
            "switchyard invoke: attempt 1 of 3 succeeded\n");
}

TEST(CliInvokeTest, DryRunAndEventPrintNothing) {
  InvokeOptions options;
  options.function_name = "hello-shell";
  options.type = "DryRun";
  CliRun dry = Invoke(options);
  EXPECT_EQ(dry.code, 0);
  EXPECT_EQ(dry.out, "");
  options.type = "Event";
  CliRun event = Invoke(options);
  EXPECT_EQ(event.code, 0) << event.err;
  EXPECT_EQ(event.out, "");
}

}  // namespace
}  // namespace switchyard::orchestrator
