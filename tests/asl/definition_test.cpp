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

// AWS: a definition is at most 1,048,576 characters (UTF-16 units), refused before parsing.
std::string PaddedDefinition(std::size_t bytes, std::string_view pad_char) {
  std::string text = R"({"StartAt":"P","States":{"P":{"Type":"Pass","End":true}},"Comment":")";
  const std::string tail = "\"}";
  while (text.size() + tail.size() + pad_char.size() <= bytes) text += pad_char;
  text.append(bytes - text.size() - tail.size(), ' ');  // fill up the rest (none, or a space)
  return text + tail;
}

TEST(DefinitionTest, DefinitionOfTheMaximumLengthValidates) {
  std::string text = PaddedDefinition(1048576, "x");
  ASSERT_EQ(text.size(), 1048576u);
  const ParseResult result = ParseDefinition(text);
  EXPECT_TRUE(result.ok()) << Render(result.diagnostics);
}

TEST(DefinitionTest, LongerDefinitionIsAValidationException) {
  std::string text = PaddedDefinition(1048577, "x");
  ASSERT_EQ(text.size(), 1048577u);
  const ParseResult result = ParseDefinition(text);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(Render(result.diagnostics),
            "ValidationException@ (1 validation error detected: Value at 'definition' failed to "
            "satisfy constraint: Member must have length less than or equal to 1048576)\n");
  // Not even parsed: a 10 MB text that is not JSON gets the same one diagnostic.
  EXPECT_EQ(ParseDefinition(std::string(10 << 20, '[')).diagnostics.size(), 1u);
}

TEST(DefinitionTest, DefinitionLengthCountsCharactersNotBytes) {
  // 600,000 two-byte characters: 1.2 MB of UTF-8 but 600,000 characters.
  const ParseResult two_byte = ParseDefinition(PaddedDefinition(1200000, "\u00e9"));
  EXPECT_TRUE(two_byte.ok()) << Render(two_byte.diagnostics);
  // A 4-byte character is two UTF-16 units: 300,000 of them are 600,000 units, fine; 540,000
  // (2,160,000 bytes) are 1,080,000 units, too many.
  EXPECT_TRUE(ParseDefinition(PaddedDefinition(1200000, "\U0001F600")).ok());
  EXPECT_EQ(ParseDefinition(PaddedDefinition(2160000, "\U0001F600")).diagnostics.at(0).code,
            "ValidationException");
}

}  // namespace
}  // namespace switchyard::asl
