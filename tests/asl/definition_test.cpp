// Validator rules, as data: tests/cases/validator/*.json, one file per case:
//   {"definition": {...} | "text": "...", "valid": bool, "code"?: "...", "location"?: "..."}
// An invalid case must report a diagnostic with exactly that code at exactly that location.
#include "switchyard/asl/definition.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "switchyard/asl/names.hpp"

namespace switchyard::asl {
namespace {

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(SWITCHYARD_TESTS_DIR) +
                                                               "/cases/validator")) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Render(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += d.code + "@" + d.location + " (" + d.message + ")\n";
  return out;
}

class ValidatorCase : public testing::TestWithParam<std::string> {};

TEST_P(ValidatorCase, ReportsTheExpectedVerdict) {
  std::ifstream in(GetParam());
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::optional<Json> spec = ParseJson(buffer.str());
  ASSERT_TRUE(spec.has_value()) << GetParam();
  const Json* text = JsonFind(*spec, "text");
  const ParseResult result = text != nullptr ? ParseDefinition(JsonView(*text))
                                             : ParseDefinition(*JsonFind(*spec, "definition"));
  const bool valid = JsonFind(*spec, "valid")->GetBool();
  EXPECT_EQ(result.ok(), valid) << Render(result.diagnostics);
  if (const Json* code = JsonFind(*spec, "code")) {
    const std::string want =
        std::string(JsonView(*code)) + "@" + std::string(JsonView(*JsonFind(*spec, "location")));
    bool found = false;
    for (const auto& d : result.diagnostics) found |= (d.code + "@" + d.location) == want;
    EXPECT_TRUE(found) << "want " << want << "\ngot\n" << Render(result.diagnostics);
  }
  if (valid) {
    EXPECT_TRUE(result.diagnostics.empty()) << Render(result.diagnostics);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, ValidatorCase, testing::ValuesIn(CaseFiles()),
                         [](const testing::TestParamInfo<std::string>& param_info) {
                           return std::filesystem::path(param_info.param).stem().string();
                         });

TEST(DefinitionTest, ReportsEveryProblemAtOnce) {
  const ParseResult result = ParseDefinition(R"({"StartAt":"A","States":{
      "A":{"Type":"Pass","Next":"Missing","Bogus":1},
      "B":{"Type":"Wait","End":true}}})");
  EXPECT_FALSE(result.ok());
  EXPECT_GE(result.diagnostics.size(), 4u) << Render(result.diagnostics);
}

TEST(DefinitionTest, BuildsTheTypedModel) {
  const ParseResult result = ParseDefinition(R"({"StartAt":"T","TimeoutSeconds":60,"States":{
      "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","TimeoutSeconds":9,
           "Retry":[{"ErrorEquals":["States.Timeout"],"MaxAttempts":5}],
           "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":null,"Next":"C"}],"Next":"C"},
      "C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.a","NumericGreaterThan":1},
           {"Variable":"$.b","StringEqualsPath":"$.c"}],"Next":"S"}],"Default":"S"},
      "S":{"Type":"Succeed"}}})");
  ASSERT_TRUE(result.ok()) << Render(result.diagnostics);
  const StateMachineDef& def = *result.definition;
  EXPECT_EQ(def.timeout_seconds, 60);
  const State* task = def.Find("T");
  ASSERT_NE(task, nullptr);
  EXPECT_EQ(task->type, StateType::kTask);
  EXPECT_EQ(task->timeout_seconds, 9);
  ASSERT_EQ(task->retry.size(), 1u);
  EXPECT_EQ(task->retry[0].max_attempts, 5);
  EXPECT_EQ(task->retry[0].backoff_rate, 2.0);
  ASSERT_EQ(task->catchers.size(), 1u);
  EXPECT_TRUE(task->catchers[0].result_path_set);
  EXPECT_FALSE(task->catchers[0].result_path.has_value());
  const State* choice = def.Find("C");
  ASSERT_EQ(choice->choices.size(), 1u);
  EXPECT_EQ(choice->choices[0].kind, ChoiceRule::Kind::kAnd);
  EXPECT_EQ(choice->choices[0].children[1].op, ChoiceOperator::kStringEqualsPath);
}

}  // namespace
}  // namespace switchyard::asl
