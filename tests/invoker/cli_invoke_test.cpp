// `switchyard invoke` (orchestrator/src/cli_invoke.cpp) against the example functions. Built
// from that one source so it runs without the rest of the orchestrator.
#include <gtest/gtest.h>

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
