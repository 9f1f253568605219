// Validator rules, as data: tests/cases/validator/*.json, one file per case:
//   {"definition": {...} | "text": "...", "valid": bool, "code"?: "...", "location"?: "...",
//    "only"?: true}
// An invalid case must report a diagnostic with exactly that code at exactly that location (and,
// with "only", no other diagnostic).
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
    if (const Json* only = JsonFind(*spec, "only"); only != nullptr && only->IsTrue()) {
      EXPECT_EQ(result.diagnostics.size(), 1u) << Render(result.diagnostics);
    }
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

// ---- Deep nesting: refused past Jackson's 1,000 levels, validated without recursion below it.

std::string Repeat(std::string_view piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

// A state nested `depth` deep in `open(name)` ... `close` wrappers, built in linear time.
template <typename Open>
std::string Nest(int depth, Open open, std::string_view close) {
  std::string out = R"({"StartAt":"Top","States":{"Top":)";
  for (int i = depth - 1; i >= 0; --i) out += open("S" + std::to_string(i));
  out += R"({"Type":"Pass","End":true})";
  for (int i = 0; i < depth; ++i) out += close;
  return out + "}}";
}

// Map states nested `depth` deep (3 JSON levels each).
std::string NestedMaps(int depth) {
  return Nest(
      depth,
      [](const std::string& name) {
        return R"({"Type":"Map","ItemProcessor":{"StartAt":")" + name + R"(","States":{")" + name +
               R"(":)";
      },
      R"(}},"End":true})");
}

// Parallel states nested `depth` deep (4 JSON levels each).
std::string NestedParallels(int depth) {
  return Nest(
      depth,
      [](const std::string& name) {
        return R"({"Type":"Parallel","Branches":[{"StartAt":")" + name + R"(","States":{")" + name +
               R"(":)";
      },
      R"(}}],"End":true})");
}

// A Choice whose one rule nests `depth` operators `op` ("And", "Or": 2 levels each; "Not": 1).
std::string NestedRule(std::string_view op, int depth) {
  std::string rule = R"({"Variable":"$.x","IsPresent":true)";
  const bool list = op != "Not";
  std::string opening;
  for (int i = 0; i < depth; ++i) opening += "{\"" + std::string(op) + "\":" + (list ? "[" : "");
  std::string closing;
  for (int i = 0; i < depth; ++i) closing += list ? "]}" : "}";
  // The outermost rule carries Next.
  return R"({"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[)" + opening + rule + "}" +
         closing.substr(0, closing.size() - 1) + (depth > 0 ? R"(,"Next":"D"})" : "") +
         R"(],"Default":"D"},"D":{"Type":"Succeed"}}})";
}

std::string PassWithResult(const std::string& result) {
  return R"({"StartAt":"P","States":{"P":{"Type":"Pass","Result":)" + result + R"(,"End":true}}})";
}

constexpr std::string_view kTooDeep =
    "The definition is not valid JSON: Document nesting depth (1001) exceeds the maximum allowed "
    "(1000, from `StreamReadConstraints.getMaxNestingDepth()`)";

void ExpectTooDeep(const ParseResult& result) {
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u) << Render(result.diagnostics);
  EXPECT_EQ(result.diagnostics[0].code, kDiagInvalidJsonDescription);
  EXPECT_EQ(result.diagnostics[0].location, "");
  EXPECT_TRUE(result.diagnostics[0].message.starts_with(kTooDeep)) << result.diagnostics[0].message;
}

// The shapes that crashed the validator (issue #8): each is refused as AWS's parser refuses it.
TEST(DefinitionDepthTest, RefusesDefinitionsNestedDeeperThanJacksonAllows) {
  ExpectTooDeep(ParseDefinition(std::string(100000, '[') + std::string(100000, ']')));
  ExpectTooDeep(
      ParseDefinition(PassWithResult(Repeat("{\"a\":", 50000) + "1" + std::string(50000, '}'))));
  ExpectTooDeep(ParseDefinition(NestedRule("And", 20000)));
  ExpectTooDeep(ParseDefinition(NestedRule("Not", 20000)));
  ExpectTooDeep(ParseDefinition(NestedParallels(5000)));
  ExpectTooDeep(ParseDefinition(NestedMaps(2000)));
  ExpectTooDeep(ParseDefinition(NestedMaps(5000)));
  // A document built in memory gets the same answer (no recursion reaches it).
  Json deep = JsonObject();
  for (int i = 0; i < 100000; ++i) {
    Json outer = JsonObject();
    outer.AddMember(JsonString("States"), std::move(deep), Alloc());
    deep = std::move(outer);
  }
  ExpectTooDeep(ParseDefinition(deep));
  DestroyJson(deep);
}

// Just inside the limit every shape validates, and the typed model holds every level.
TEST(DefinitionDepthTest, ValidatesTheDeepestDefinitionsJacksonAllows) {
  for (const std::string& text :
       {NestedMaps(332), NestedParallels(249), NestedRule("And", 497), NestedRule("Or", 497),
        NestedRule("Not", 994),
        PassWithResult(Repeat("{\"a\":[", 498) + "1" + Repeat("]}", 498))}) {
    std::string error;
    ASSERT_TRUE(ParseJson(text, &error).has_value()) << error;
    const ParseResult result = ParseDefinition(text);
    EXPECT_TRUE(result.ok()) << text.substr(0, 80) << "\n" << Render(result.diagnostics);
  }
  const ParseResult maps = ParseDefinition(NestedMaps(332));
  ASSERT_TRUE(maps.ok());
  int levels = 0;
  for (const StateMachineDef* def = &*maps.definition; def != nullptr;) {
    const State& state = def->states.front();
    EXPECT_EQ(state.raw->MemberCount(), 2u);  // Type, End: ItemProcessor is not copied
    def = state.item_processor.get();
    if (def != nullptr) ++levels;
  }
  EXPECT_EQ(levels, 332);
  EXPECT_FALSE(ParseDefinition(NestedMaps(333)).ok());
}

// AWS's parser refuses bytes that are not UTF-8, anywhere in the definition.
TEST(DefinitionTextTest, RefusesInvalidUtf8) {
  const ParseResult result = ParseDefinition(
      "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"Comment\":\"\xE9t\xE9\","
      "\"End\":true}}}");
  ASSERT_EQ(result.diagnostics.size(), 1u) << Render(result.diagnostics);
  EXPECT_EQ(result.diagnostics[0].code, kDiagInvalidJsonDescription);
  EXPECT_EQ(result.diagnostics[0].message,
            "The definition is not valid JSON: Invalid UTF-8 middle byte 0x74 at offset 56");
  EXPECT_TRUE(ParseDefinition("{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
                              "\"Comment\":\"\xC3\xA9t\xC3\xA9\",\"End\":true}}}")
                  .ok());
}

// Numbers as Jackson reads them: beyond double's range is infinity, not an error; an integer
// beyond 64 bits stays exact (a BigInteger).
TEST(DefinitionTextTest, NumbersBeyondDoubleRange) {
  const ParseResult result = ParseDefinition(
      R"({"StartAt":"P","States":{"P":{"Type":"Pass","Result":[1e999,-1e999,123456789012345678901234567890],"End":true}}})");
  ASSERT_TRUE(result.ok()) << Render(result.diagnostics);
  EXPECT_EQ(DumpJson(*result.definition->Find("P")->result),
            R"(["Infinity","-Infinity",123456789012345678901234567890])");
}

// Diagnostics deep inside a definition are still located (the walks build locations lazily).
TEST(DefinitionDepthTest, LocatesProblemsDeepInside) {
  const std::string text =
      PassWithResult(Repeat("{\"a\":", 990) + R"({"k":1,"k":2})" + std::string(990, '}'));
  const ParseResult result = ParseDefinition(text);
  ASSERT_EQ(result.diagnostics.size(), 1u) << Render(result.diagnostics);
  EXPECT_EQ(result.diagnostics[0].location, "/States/P/Result" + Repeat("/a", 990) + "/k");
  std::string maps = NestedMaps(300);
  maps.replace(maps.find(R"({"Type":"Pass","End":true})"), 26,
               R"({"Type":"Pass","Next":"Nowhere"})");
  const ParseResult missing = ParseDefinition(maps);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.diagnostics[0].code, kDiagMissingTransitionTarget);
  EXPECT_TRUE(missing.diagnostics[0].location.ends_with("/States/S0/Next"))
      << missing.diagnostics[0].location;
  EXPECT_EQ(std::count(missing.diagnostics[0].location.begin(),
                       missing.diagnostics[0].location.end(), '/'),
            3 + 3 * 300);
}

}  // namespace
}  // namespace switchyard::asl
