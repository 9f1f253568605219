// Data-driven tests of the execution core: one JSON file per case under tests/cases/exec/.
//   {"definition", "input", "expect": {"status", "output"} | {"status", "error", "cause"},
//    "history_types"?, "backend"?, "invocations_at"?, "end_seconds"?, "stop_at_seconds"?,
//    "type"? ("STANDARD" by default, or "EXPRESS")}
// Every case also runs a second time with a snapshot-and-resume after every event, which must give
// the identical result and history (crash safety).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core_fake_driver.hpp"
#include "switchyard/asl/definition.hpp"

namespace switchyard::asl {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  fs::path dir = fs::path(SWITCHYARD_TESTS_DIR) / "cases" / "exec";
  if (!fs::exists(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string OptionalText(const std::optional<std::string>& text) {
  return text ? "\"" + *text + "\"" : "null";
}

class CoreCaseTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CoreCaseTest, RunsAsExpectedAndSurvivesCrashes) {
  std::ifstream in(GetParam());
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string read_error;
  auto test_case = ParseJson(buffer.str(), &read_error);
  ASSERT_TRUE(test_case.has_value()) << read_error;

  ParseResult parsed = ParseDefinition(*JsonFind(*test_case, "definition"));
  std::string diagnostics;
  for (const auto& d : parsed.diagnostics) diagnostics += d.location + " " + d.message + "\n";
  ASSERT_TRUE(parsed.ok()) << diagnostics;

  const Json* input = JsonFind(*test_case, "input");
  Json empty = JsonObject();
  if (input == nullptr) input = &empty;
  const Json* backend = JsonFind(*test_case, "backend");
  std::optional<double> stop_at;
  if (const Json* stop = JsonFind(*test_case, "stop_at_seconds")) stop_at = stop->GetDouble();
  ExecutionType execution_type = ExecutionType::kStandard;
  if (const Json* type_name = JsonFind(*test_case, "type")) {
    auto parsed_type = ParseExecutionType(JsonView(*type_name));
    ASSERT_TRUE(parsed_type.has_value()) << JsonView(*type_name);
    execution_type = *parsed_type;
  }

  testing::FakeRun run = testing::RunWithFakeDriver(*parsed.definition, *input, backend, false,
                                                    stop_at, execution_type);
  const Json& expect = *JsonFind(*test_case, "expect");
  EXPECT_EQ(ExecutionStatusName(run.status), JsonView(*JsonFind(expect, "status")))
      << "error " << OptionalText(run.error) << " cause " << OptionalText(run.cause);
  if (const Json* output = JsonFind(expect, "output")) {
    auto got = ParseJson(run.output);
    ASSERT_TRUE(got.has_value()) << "no output";
    EXPECT_TRUE(JsonEquals(*got, *output))
        << "got " << run.output << "\nwant " << DumpJson(*output);
  }
  if (const Json* error = JsonFind(expect, "error")) {
    EXPECT_EQ(OptionalText(run.error),
              error->IsNull() ? "null" : "\"" + std::string(JsonView(*error)) + "\"");
  }
  if (const Json* cause = JsonFind(expect, "cause")) {
    EXPECT_EQ(OptionalText(run.cause),
              cause->IsNull() ? "null" : "\"" + std::string(JsonView(*cause)) + "\"");
  }
  if (const Json* types = JsonFind(*test_case, "history_types")) {
    std::string want;
    for (const auto& type : types->GetArray()) want += std::string(JsonView(type)) + " ";
    std::string got;
    for (const auto& type : run.history_types) got += type + " ";
    EXPECT_EQ(got, want);
  }
  if (const Json* times = JsonFind(*test_case, "invocations_at")) {
    std::string want;
    for (const auto& t : times->GetArray()) want += std::to_string(t.GetDouble()) + " ";
    std::string got;
    for (const auto& invocation : run.invocations) {
      got += std::to_string(invocation.at_seconds) + " ";
    }
    EXPECT_EQ(got, want);
  }
  if (const Json* payloads = JsonFind(*test_case, "invocation_payloads")) {
    std::string want;
    for (const auto& p : payloads->GetArray()) want += DumpJson(p) + "\n";
    std::string got;
    for (const auto& invocation : run.invocations) got += invocation.payload + "\n";
    EXPECT_EQ(got, want);
  }
  if (const Json* end = JsonFind(*test_case, "end_seconds")) {
    EXPECT_DOUBLE_EQ(run.end_seconds, end->GetDouble());
  }

  // Crash safety: resuming from a serialised copy after every event changes nothing.
  testing::FakeRun resumed = testing::RunWithFakeDriver(*parsed.definition, *input, backend, true,
                                                        stop_at, execution_type);
  EXPECT_TRUE(resumed.snapshots_stable);
  EXPECT_EQ(resumed.status, run.status);
  EXPECT_EQ(resumed.output, run.output);
  EXPECT_EQ(resumed.error, run.error);
  EXPECT_EQ(resumed.cause, run.cause);
  EXPECT_EQ(resumed.history_text, run.history_text);
}

std::string CaseName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = fs::path(info.param).stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Exec, CoreCaseTest, ::testing::ValuesIn(CaseFiles()), CaseName);

TEST(CoreCasesTest, CorpusIsPresent) { EXPECT_GE(CaseFiles().size(), 30u); }

}  // namespace
}  // namespace switchyard::asl
