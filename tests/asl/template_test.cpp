#include "switchyard/asl/template.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "switchyard/asl/json.hpp"
#include "switchyard/asl/names.hpp"

namespace switchyard::asl {
namespace {

class FakeRandom : public RandomSource {
 public:
  uint64_t NextU64() override {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return state_;
  }

 private:
  uint64_t state_ = 1;
};

class MapVariables : public VariableLookup {
 public:
  void Set(const std::string& name, Json value) { values_[name] = std::move(value); }
  const Json* Find(std::string_view name) const override {
    auto it = values_.find(std::string(name));
    return it == values_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, Json> values_;
};

Json Parse(const std::string& text) {
  auto value = ParseJson(text);
  EXPECT_TRUE(value.has_value()) << text;
  return value ? std::move(*value) : JsonNull();
}

std::string RenderIssues(const std::vector<TemplateIssue>& issues) {
  std::string out;
  for (const TemplateIssue& issue : issues) {
    out += issue.location + " " + issue.code + ": " + issue.message + "\n";
  }
  return out;
}

std::string Render(const Result<Json>& result) {
  if (!result.ok()) return result.error().error + ": " + result.error().cause;
  return DumpJson(*result);
}

struct Fixture {
  Json input = Parse(R"({"a":{"b":[10,20,30]},"name":"Ann","items":[{"id":1},{"id":2}]})");
  Json context = Parse(R"({"Execution":{"Id":"arn:exec"},"State":{"Name":"S1"}})");
  MapVariables variables;
  FakeRandom random;

  Result<Json> Evaluate(const std::string& tmpl_text) {
    std::vector<TemplateIssue> issues;
    PayloadTemplate tmpl = PayloadTemplate::Compile(Parse(tmpl_text), &issues);
    EXPECT_EQ(RenderIssues(issues), "");
    Scope scope{&input, &context, &variables};
    return tmpl.Evaluate(scope, random);
  }
};

TEST(PayloadTemplate, StaticTemplateIsCopied) {
  Fixture f;
  EXPECT_EQ(Render(f.Evaluate(R"({"x":1,"y":{"z":[true,null,"s"]},"w.$x":"$.a"})")),
            R"({"x":1,"y":{"z":[true,null,"s"]},"w.$x":"$.a"})");
  EXPECT_EQ(Render(f.Evaluate(R"("just a string")")), R"("just a string")");
}

TEST(PayloadTemplate, PathsContextAndVariables) {
  Fixture f;
  f.variables.Set("order", Parse(R"({"total":42})"));
  EXPECT_EQ(Render(f.Evaluate(R"({"whole.$":"$","b.$":"$.a.b[1]","exec.$":"$$.Execution.Id",)"
                              R"("total.$":"$order.total","var.$":"$order","plain":"$.a"})")),
            R"({"whole":{"a":{"b":[10,20,30]},"name":"Ann","items":[{"id":1},{"id":2}]},)"
            R"("b":20,"exec":"arn:exec","total":42,"var":{"total":42},"plain":"$.a"})");
}

TEST(PayloadTemplate, NestedObjectsAndArraysAreTemplates) {
  Fixture f;
  EXPECT_EQ(Render(f.Evaluate(R"({"outer":{"inner.$":"$.name","k":[1,{"n.$":"$.a.b[0]"},"x"]},)"
                              R"("list":[{"id.$":"$.items[0].id"}],"same":{"s":1}})")),
            R"({"outer":{"inner":"Ann","k":[1,{"n":10},"x"]},"list":[{"id":1}],"same":{"s":1}})");
}

TEST(PayloadTemplate, IndefinitePathGivesArray) {
  Fixture f;
  EXPECT_EQ(Render(f.Evaluate(R"({"ids.$":"$.items[*].id"})")), R"({"ids":[1,2]})");
}

TEST(PayloadTemplate, IntrinsicFields) {
  Fixture f;
  EXPECT_EQ(Render(f.Evaluate(R"j({"greeting.$":"States.Format('Hello, {}!', $.name)",)j"
                              R"j("state.$":"States.Format('{}', $$.State.Name)",)j"
                              R"j("n.$":"States.ArrayLength($.a.b)"})j")),
            R"({"greeting":"Hello, Ann!","state":"S1","n":3})");
}

TEST(PayloadTemplate, MissingPathIsStatesRuntimeInAwsWords) {
  Fixture f;
  f.input = Parse(R"({"present":1,"s":"a\"b"})");
  auto result = f.Evaluate(R"({"ok.$":"$.present","value.$":"$.no_such_jsonpath"})");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().error, kStatesRuntime);
  EXPECT_EQ(result.error().cause,
            "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be "
            "found in the input '{\"present\":1,\"s\":\"a\\\"b\"}'");

  // Context paths print the state input too; nested fields name the key as written.
  EXPECT_EQ(Render(f.Evaluate(R"({"deep":{"ctx.$":"$$.Execution.Nope"}})")),
            "States.Runtime: The JSONPath '$$.Execution.Nope' specified for the field 'ctx.$' "
            "could not be found in the input '{\"present\":1,\"s\":\"a\\\"b\"}'");
  // A path inside an intrinsic call too.
  EXPECT_EQ(Render(f.Evaluate(R"j({"f.$":"States.Format('{}', $.gone)"})j")),
            "States.Runtime: The JSONPath '$.gone' specified for the field 'f.$' could not be "
            "found in the input '{\"present\":1,\"s\":\"a\\\"b\"}'");
}

TEST(PayloadTemplate, IntrinsicFailurePropagates) {
  Fixture f;
  EXPECT_EQ(Render(f.Evaluate(R"j({"x":[{"v.$":"States.ArrayGetItem($.a.b, 7)"}]})j")),
            "States.IntrinsicFailure: The index 7 given to States.ArrayGetItem is out of bounds "
            "for an array of 3 items");
}

TEST(PayloadTemplate, DefinitionIssuesCarryPointerAndCode) {
  std::vector<TemplateIssue> issues;
  PayloadTemplate::Compile(
      Parse(R"j({"num.$":5,"a/b":{"c~d.$":"$..["},"list":[{"bad.$":"States.Nope($.x)"}],)j"
            R"j("literal.$":"hello","arity.$":"States.MathAdd(1)","ok.$":"$.fine"})j"),
      &issues);
  ASSERT_EQ(issues.size(), 5u) << RenderIssues(issues);
  EXPECT_EQ(issues[0].location, "/num.$");
  EXPECT_EQ(issues[0].code, kDiagSchemaValidationFailed);
  EXPECT_EQ(issues[0].message,
            "The value for the field 'num.$' must be a STRING that contains a JSONPath or an "
            "intrinsic function call, but was number");
  EXPECT_EQ(issues[1].location, "/a~1b/c~0d.$");
  EXPECT_EQ(issues[1].code, kDiagInvalidJsonPath);
  EXPECT_EQ(issues[2].location, "/list/0/bad.$");
  EXPECT_EQ(issues[2].code, kDiagInvalidIntrinsicFunction);
  EXPECT_EQ(issues[2].message,
            "The value for the field 'bad.$' must be a valid intrinsic function call: unknown "
            "intrinsic function 'States.Nope'");
  EXPECT_EQ(issues[3].location, "/literal.$");
  EXPECT_EQ(issues[3].code, kDiagInvalidJsonPath);
  EXPECT_EQ(issues[4].location, "/arity.$");
  EXPECT_EQ(issues[4].code, kDiagInvalidIntrinsicFunction);
  EXPECT_EQ(issues[4].message,
            "The value for the field 'arity.$' must be a valid intrinsic function call: "
            "States.MathAdd takes 2 arguments, but got 1");
}

TEST(PayloadTemplate, CopiesAndMovesEvaluateTheSame) {
  std::vector<TemplateIssue> issues;
  PayloadTemplate original = PayloadTemplate::Compile(
      Parse(R"j({"n.$":"$.name","u.$":"States.Array($.name, 1)"})j"), &issues);
  ASSERT_TRUE(issues.empty());
  PayloadTemplate copy = original;
  PayloadTemplate moved = std::move(original);
  Json input = Parse(R"({"name":"Bo"})");
  Scope scope{&input, nullptr, nullptr};
  FakeRandom random;
  EXPECT_EQ(Render(copy.Evaluate(scope, random)), R"({"n":"Bo","u":["Bo",1]})");
  EXPECT_EQ(Render(moved.Evaluate(scope, random)), R"({"n":"Bo","u":["Bo",1]})");
}

TEST(PayloadTemplate, DuplicateOutputKeyKeepsOneMember) {
  Fixture f;
  EXPECT_EQ(Render(f.Evaluate(R"({"name":"literal","name.$":"$.name"})")), R"({"name":"Ann"})");
}

TEST(PayloadTemplate, UnknownVariableIsRuntimeError) {
  Fixture f;
  auto result = f.Evaluate(R"({"v.$":"$missing.x"})");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().error, kStatesRuntime);
  EXPECT_EQ(result.error().cause, "The variable 'missing' was not found");
}

// Templates nest as deep as a definition may (1,000 levels): literal and dynamic parts both
// compile and evaluate; a deeper template built in memory is an issue, not a deep recursion.
TEST(PayloadTemplate, DeepTemplates) {
  Fixture f;
  std::string literal;
  for (int i = 0; i < 998; ++i) literal += R"({"k":)";
  literal += "1" + std::string(998, '}');
  EXPECT_EQ(Render(f.Evaluate(literal)), literal);
  std::string dynamic;
  for (int i = 0; i < 997; ++i) dynamic += R"({"k":)";
  dynamic += R"({"n.$":"$.name"})" + std::string(997, '}');
  std::string expected;
  for (int i = 0; i < 997; ++i) expected += R"({"k":)";
  expected += R"({"n":"Ann"})" + std::string(997, '}');
  EXPECT_EQ(Render(f.Evaluate(dynamic)), expected);

  Json deep = Parse(R"({"n.$":"$.name"})");
  for (int i = 0; i < 100000; ++i) {
    Json outer = JsonObject();
    outer.AddMember(JsonString("k"), std::move(deep), Alloc());
    deep = std::move(outer);
  }
  std::vector<TemplateIssue> issues;
  PayloadTemplate tmpl = PayloadTemplate::Compile(deep, &issues);
  EXPECT_EQ(RenderIssues(issues),
            " SCHEMA_VALIDATION_FAILED: The template nests more than 1000 levels deep\n");
  DestroyJson(deep);
}

}  // namespace
}  // namespace switchyard::asl
