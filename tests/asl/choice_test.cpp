// Choice rules: every comparison operator (literal and *Path forms), the type tests, And/Or/Not,
// type mismatches and missing paths. Each rule is parsed from a real Choice state definition,
// then evaluated against an input document.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "switchyard/asl/definition.hpp"
#include "switchyard/asl/names.hpp"

namespace switchyard::asl {
namespace {

// The input every case reads, unless it passes its own.
constexpr std::string_view kInput = R"({
  "s": "banana", "s_same": "banana", "s_low": "apple", "s_high": "cherry",
  "n": 10, "n_same": 10.0, "n_low": 2.5, "n_high": 100,
  "b": true, "b_same": true, "b_other": false,
  "t": "2024-05-01T12:00:00Z", "t_same": "2024-05-01T14:00:00+02:00",
  "t_low": "2024-05-01T11:59:59.5Z", "t_high": "2025-01-01T00:00:00Z",
  "nul": null, "arr": [1, 2], "obj": {"k": 1},
  "file": "report.log", "star": "a*b", "not_star": "axb", "backslash": "a\\b"
})";

// Evaluates `rule` (a Choice rule object without Next) against `input`: "true", "false", or
// "error:<error>:<cause>".
std::string Eval(std::string_view rule, std::string_view input = kInput) {
  std::string with_next(rule);
  with_next.insert(1, R"("Next": "Done", )");
  const std::string definition =
      R"({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [)" + with_next +
      R"(], "Default": "Done"}, "Done": {"Type": "Succeed"}}})";
  ParseResult parsed = ParseDefinition(definition);
  if (!parsed.ok()) {
    std::string out = "invalid:";
    for (const Diagnostic& d : parsed.diagnostics) out += d.code + "@" + d.location + " ";
    return out;
  }
  std::optional<Json> document = ParseJson(input);
  if (!document) return "bad input";
  Scope scope;
  scope.input = &*document;
  const State* state = parsed.definition->Find("C");
  Result<bool> result = EvaluateChoiceRule(state->choices.at(0), scope);
  if (!result.ok()) return "error:" + result.error().error + ":" + result.error().cause;
  return *result ? "true" : "false";
}

TEST(ChoiceTest, StringComparisons) {
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringEquals": "banana"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringEquals": "Banana"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringLessThan": "cherry"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringLessThan": "banana"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringGreaterThan": "apple"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringGreaterThan": "banana"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringLessThanEquals": "banana"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringLessThanEquals": "apple"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringGreaterThanEquals": "banana"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringGreaterThanEquals": "cherry"})"), "false");
}

TEST(ChoiceTest, StringPathComparisons) {
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringEqualsPath": "$.s_same"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringEqualsPath": "$.s_low"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringLessThanPath": "$.s_high"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringLessThanPath": "$.s_low"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringGreaterThanPath": "$.s_low"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringGreaterThanPath": "$.s_high"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringLessThanEqualsPath": "$.s_same"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringLessThanEqualsPath": "$.s_low"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringGreaterThanEqualsPath": "$.s_same"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringGreaterThanEqualsPath": "$.s_high"})"), "false");
}

TEST(ChoiceTest, NumericComparisons) {
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericEquals": 10})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericEquals": 10.0})"), "true");  // 10 == 10.0
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericEquals": 11})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericLessThan": 10.5})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericLessThan": 10})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericGreaterThan": -3})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericGreaterThan": 10})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericLessThanEquals": 10})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericLessThanEquals": 9.99})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericGreaterThanEquals": 10})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericGreaterThanEquals": 10.01})"), "false");
}

TEST(ChoiceTest, NumericPathComparisons) {
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericEqualsPath": "$.n_same"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericEqualsPath": "$.n_low"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericLessThanPath": "$.n_high"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericLessThanPath": "$.n_low"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericGreaterThanPath": "$.n_low"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericGreaterThanPath": "$.n_high"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericLessThanEqualsPath": "$.n_same"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericLessThanEqualsPath": "$.n_low"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericGreaterThanEqualsPath": "$.n_same"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "NumericGreaterThanEqualsPath": "$.n_high"})"), "false");
}

TEST(ChoiceTest, BooleanComparisons) {
  EXPECT_EQ(Eval(R"({"Variable": "$.b", "BooleanEquals": true})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.b", "BooleanEquals": false})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.b", "BooleanEqualsPath": "$.b_same"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.b", "BooleanEqualsPath": "$.b_other"})"), "false");
}

TEST(ChoiceTest, TimestampComparisons) {
  // Instants are compared, not text: 14:00+02:00 is 12:00Z.
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampEquals": "2024-05-01T14:00:00+02:00"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampEquals": "2024-05-01T12:00:01Z"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampLessThan": "2024-05-01T12:00:00.001Z"})"),
            "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampLessThan": "2024-05-01T12:00:00Z"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampGreaterThan": "2023-12-31T23:59:59Z"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampGreaterThan": "2024-05-01T12:00:00Z"})"),
            "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampLessThanEquals": "2024-05-01T12:00:00Z"})"),
            "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampLessThanEquals": "2024-05-01T11:00:00Z"})"),
            "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampGreaterThanEquals": "2024-05-01T12:00:00Z"})"),
            "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampGreaterThanEquals": "2024-05-01T13:00:00Z"})"),
            "false");
}

TEST(ChoiceTest, TimestampPathComparisons) {
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampEqualsPath": "$.t_same"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampEqualsPath": "$.t_low"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampLessThanPath": "$.t_high"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampLessThanPath": "$.t_low"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampGreaterThanPath": "$.t_low"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampGreaterThanPath": "$.t_high"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampLessThanEqualsPath": "$.t_same"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampLessThanEqualsPath": "$.t_low"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampGreaterThanEqualsPath": "$.t_same"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "TimestampGreaterThanEqualsPath": "$.t_high"})"), "false");
}

TEST(ChoiceTest, StringMatchesWildcardsAndEscapes) {
  EXPECT_EQ(Eval(R"({"Variable": "$.file", "StringMatches": "*.log"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.file", "StringMatches": "*.txt"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.file", "StringMatches": "re*t.*"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.file", "StringMatches": "report.log*"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.file", "StringMatches": "report"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.file", "StringMatches": "*"})"), "true");
  // \* is a literal star: "a\*b" matches "a*b" only.
  EXPECT_EQ(Eval(R"({"Variable": "$.star", "StringMatches": "a\\*b"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.not_star", "StringMatches": "a\\*b"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.not_star", "StringMatches": "a*b"})"), "true");
  // \\ is a literal backslash.
  EXPECT_EQ(Eval(R"({"Variable": "$.backslash", "StringMatches": "a\\\\b"})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.star", "StringMatches": "a\\\\b"})"), "false");
  // Not a string: false, not an error.
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "StringMatches": "*"})"), "false");
}

TEST(ChoiceTest, TypeTests) {
  EXPECT_EQ(Eval(R"({"Variable": "$.nul", "IsNull": true})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "IsNull": true})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "IsNull": false})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "IsPresent": true})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.missing", "IsPresent": true})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.missing", "IsPresent": false})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.nul", "IsPresent": true})"), "true");  // null is present
  EXPECT_EQ(Eval(R"({"Variable": "$.n_low", "IsNumeric": true})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "IsNumeric": true})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "IsString": true})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "IsString": true})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.b_other", "IsBoolean": true})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.nul", "IsBoolean": true})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.t", "IsTimestamp": true})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "IsTimestamp": true})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "IsTimestamp": false})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.obj", "IsString": false})"), "true");
  EXPECT_EQ(Eval(R"({"Variable": "$.arr", "IsNumeric": true})"), "false");
}

// A value of the wrong type makes the comparison false, not an error.
TEST(ChoiceTest, TypeMismatchesAreFalse) {
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "NumericEquals": 10})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "StringEquals": "10"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "BooleanEquals": true})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "TimestampEquals": "2024-05-01T12:00:00Z"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "TimestampLessThan": "2024-05-01T12:00:00Z"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.nul", "NumericLessThan": 1})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "StringEqualsPath": "$.s"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "NumericEqualsPath": "$.n"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.n", "BooleanEqualsPath": "$.b"})"), "false");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "TimestampEqualsPath": "$.t"})"), "false");
  // A NumericEquals against the string "10" is false even though the text matches.
  EXPECT_EQ(Eval(R"({"Variable": "$.v", "NumericEquals": 10})", R"({"v": "10"})"), "false");
}

TEST(ChoiceTest, MissingPathsAreRuntimeErrors) {
  EXPECT_EQ(Eval(R"({"Variable": "$.missing", "StringEquals": "x"})"),
            "error:States.Runtime:Invalid path '$.missing': The choice state's condition path "
            "references an invalid value.");
  EXPECT_EQ(Eval(R"({"Variable": "$.s", "StringEqualsPath": "$.nope"})"),
            "error:States.Runtime:Invalid path '$.nope': The choice state's condition path "
            "references an invalid value.");
}

TEST(ChoiceTest, AndOrNot) {
  const std::string yes = R"({"Variable": "$.n", "NumericEquals": 10})";
  const std::string no = R"({"Variable": "$.s", "StringEquals": "nope"})";
  EXPECT_EQ(Eval(R"({"And": [)" + yes + "," + yes + "]}"), "true");
  EXPECT_EQ(Eval(R"({"And": [)" + yes + "," + no + "]}"), "false");
  EXPECT_EQ(Eval(R"({"Or": [)" + no + "," + yes + "]}"), "true");
  EXPECT_EQ(Eval(R"({"Or": [)" + no + "," + no + "]}"), "false");
  EXPECT_EQ(Eval(R"({"Not": )" + no + "}"), "true");
  EXPECT_EQ(Eval(R"({"Not": )" + yes + "}"), "false");
  // Nesting: Not(And(yes, Or(no, Not(no)))) = Not(true) = false.
  EXPECT_EQ(
      Eval(R"({"Not": {"And": [)" + yes + R"(, {"Or": [)" + no + R"(, {"Not": )" + no + "}]}]}}"),
      "false");
  EXPECT_EQ(
      Eval(R"({"Or": [{"And": [)" + yes + "," + no + R"(]}, {"Not": {"Not": )" + yes + "}}]}"),
      "true");
  // And stops at the first false operand: the missing path after it is never read.
  EXPECT_EQ(Eval(R"({"And": [)" + no + R"(, {"Variable": "$.missing", "IsNull": true}]})"),
            "false");
  // Or stops at the first true operand.
  EXPECT_EQ(Eval(R"({"Or": [)" + yes + R"(, {"Variable": "$.missing", "IsNull": true}]})"), "true");
  // An error inside a nested rule propagates.
  EXPECT_EQ(Eval(R"({"And": [)" + yes + R"(, {"Variable": "$.missing", "IsNull": true}]})"),
            "error:States.Runtime:Invalid path '$.missing': The choice state's condition path "
            "references an invalid value.");
}

TEST(ChoiceTest, OperatorNamesRoundTrip) {
  for (std::string_view name : {"StringEquals", "StringMatches", "NumericGreaterThanEqualsPath",
                                "BooleanEqualsPath", "TimestampLessThanEquals", "IsNull",
                                "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"}) {
    std::optional<ChoiceOperator> op = ChoiceOperatorFromName(name);
    ASSERT_TRUE(op.has_value()) << name;
    EXPECT_EQ(ChoiceOperatorName(*op), name);
  }
  EXPECT_FALSE(ChoiceOperatorFromName("StringContains").has_value());
}

// And/Or/Not evaluate with an explicit stack: a rule nested deeper than any definition may be
// (built in memory) evaluates, with the short circuits of the flat forms.
TEST(ChoiceTest, DeeplyNestedRulesEvaluateWithoutRecursion) {
  const std::optional<Json> input = ParseJson(R"({"x": 1})");
  Scope scope;
  scope.input = &*input;
  auto leaf = [](bool present) {
    ChoiceRule rule;
    rule.kind = ChoiceRule::Kind::kComparison;
    rule.op = ChoiceOperator::kIsPresent;
    rule.variable = JsonPath::Parse(present ? "$.x" : "$.missing").value();
    rule.operand = JsonBool(true);
    return rule;
  };
  constexpr int kDepth = 100000;
  auto nest = [&](ChoiceRule::Kind kind, ChoiceRule inner, int depth) {
    for (int i = 0; i < depth; ++i) {
      ChoiceRule outer;
      outer.kind = kind;
      outer.children.push_back(std::move(inner));
      inner = std::move(outer);
    }
    return inner;
  };
  // Destroying a 100,000-deep rule recurses in ~ChoiceRule (a vector of rules): flatten it first.
  auto destroy = [](ChoiceRule rule) {
    std::vector<ChoiceRule> pending;
    pending.push_back(std::move(rule));
    while (!pending.empty()) {
      ChoiceRule current = std::move(pending.back());
      pending.pop_back();
      for (ChoiceRule& child : current.children) pending.push_back(std::move(child));
      current.children.clear();
    }
  };
  ChoiceRule nots = nest(ChoiceRule::Kind::kNot, leaf(true), kDepth);  // even: true
  EXPECT_TRUE(*EvaluateChoiceRule(nots, scope));
  destroy(std::move(nots));
  ChoiceRule ands = nest(ChoiceRule::Kind::kAnd, leaf(false), kDepth);
  ands.children.push_back(leaf(true));
  EXPECT_FALSE(*EvaluateChoiceRule(ands, scope));
  destroy(std::move(ands));
  ChoiceRule ors = nest(ChoiceRule::Kind::kOr, leaf(true), kDepth);
  EXPECT_TRUE(*EvaluateChoiceRule(ors, scope));
  destroy(std::move(ors));
  // Short circuits: And stops at its first false, Or at its first true, before an error.
  auto broken = [] {  // a comparison whose Variable is missing: States.Runtime
    ChoiceRule rule;
    rule.kind = ChoiceRule::Kind::kComparison;
    rule.op = ChoiceOperator::kStringEquals;
    rule.variable = JsonPath::Parse("$.missing").value();
    rule.operand = JsonString("a");
    return rule;
  };
  ChoiceRule and_rule;
  and_rule.kind = ChoiceRule::Kind::kAnd;
  and_rule.children.push_back(leaf(false));
  and_rule.children.push_back(broken());
  EXPECT_FALSE(*EvaluateChoiceRule(and_rule, scope));
  ChoiceRule or_rule;
  or_rule.kind = ChoiceRule::Kind::kOr;
  or_rule.children.push_back(leaf(false));
  or_rule.children.push_back(broken());
  const Result<bool> error =
      EvaluateChoiceRule(nest(ChoiceRule::Kind::kNot, std::move(or_rule), 3), scope);
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().error, kStatesRuntime);
}

// The deepest rules a definition may hold (Jackson's 1,000 levels) validate and evaluate.
TEST(ChoiceTest, DeepestRulesInADefinition) {
  std::string ands = R"({"Variable": "$.n", "NumericEquals": 10})";
  for (int i = 0; i < 496; ++i) ands = R"({"And": [)" + ands + "]}";
  EXPECT_EQ(Eval(ands), "true");
  std::string nots = R"({"Variable": "$.n", "NumericEquals": 10})";
  for (int i = 0; i < 993; ++i) nots = R"({"Not": )" + nots + "}";
  EXPECT_EQ(Eval(nots), "false");
  for (int i = 0; i < 10; ++i) nots = R"({"Not": )" + nots + "}";
  EXPECT_EQ(Eval(nots).substr(0, 33), "invalid:INVALID_JSON_DESCRIPTION@");
}

}  // namespace
}  // namespace switchyard::asl
