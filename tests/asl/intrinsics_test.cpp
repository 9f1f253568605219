#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "switchyard/asl/json.hpp"
#include "switchyard/asl/names.hpp"
#include "switchyard/asl/template.hpp"

namespace switchyard::asl {
namespace {

// A deterministic RandomSource: a fixed 64-bit LCG sequence.
class FakeRandom : public RandomSource {
 public:
  explicit FakeRandom(uint64_t state = 42) : state_(state) {}
  uint64_t NextU64() override {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return state_;
  }

 private:
  uint64_t state_;
};

Json Parse(const std::string& text) {
  auto value = ParseJson(text);
  EXPECT_TRUE(value.has_value()) << text;
  return value ? std::move(*value) : JsonNull();
}

const char* kContext =
    R"({"Execution":{"Name":"exec-7","Input":{"FunctionInput":"Value1,Value2\nValue3,,x"}},)"
    R"("StateMachine":{"Id":"arn:aws:states:us-east-1:111111111111:stateMachine:sm-a-b",)"
    R"("Name":"sm-a-b"}})";

// Evaluates `expression` against `input` (as `$`) and kContext (as `$$`).
Result<Json> Eval(const std::string& expression, const std::string& input = "{}") {
  auto intrinsic = Intrinsic::Parse(expression);
  if (!intrinsic.ok()) return Error{"parse", intrinsic.error().cause};
  Json input_json = Parse(input);
  Json context = Parse(kContext);
  Scope scope{&input_json, &context, nullptr};
  FakeRandom random;
  return intrinsic->Evaluate(scope, random);
}

std::string Render(const Result<Json>& result) {
  if (!result.ok()) return result.error().error + ": " + result.error().cause;
  return DumpJson(*result);
}

struct Case {
  const char* expression;
  const char* input;
  const char* expected;  // compact JSON
};

// (expression, input, output) triples recorded against AWS (LocalStack's intrinsic-function
// snapshots, Apache-2.0), plus literal-argument forms of the same calls.
const Case kAwsCases[] = {
    {"States.Array()", R"({"FunctionInput":"HelloWorld"})", "[]"},
    {"States.Array($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":1.1,"snd":null}})", "[1.1,null]"},
    {"States.Array($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":{"Arg1":1,"Arg2":[]},"snd":"x"}})",
     R"([{"Arg1":1,"Arg2":[]},"x"])"},
    {"States.ArrayContains($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":[],"snd":null}})", "false"},
    {"States.ArrayContains($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":[[1,2,3],2],"snd":null}})", "false"},
    {"States.ArrayContains($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":[[1,2,3],2],"snd":[1,2,3]}})", "true"},
    {"States.ArrayContains($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":[{"1":2,"2":[]}],"snd":{"1":2,"2":[]}}})", "true"},
    {"States.ArrayContains($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":[true,false],"snd":false}})", "true"},
    {"States.ArrayGetItem($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":[1,2,3,4,5,6,7,8,9],"snd":5}})", "6"},
    {"States.ArrayLength($.FunctionInput)", R"({"FunctionInput":[1,2,3,4,5,6,7,8,9]})", "9"},
    {"States.ArrayPartition($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":[],"snd":1}})", "[]"},
    {"States.ArrayPartition($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":[0,1],"snd":1}})", "[[0],[1]]"},
    {"States.ArrayPartition($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":[0,1,2],"snd":2}})", "[[0,1],[2]]"},
    {"States.ArrayPartition($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":[0,1,2,3],"snd":2}})", "[[0,1],[2,3]]"},
    {"States.ArrayPartition($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":[0,1,2,3],"snd":5}})", "[[0,1,2,3]]"},
    {"States.ArrayRange($.FunctionInput.fst, $.FunctionInput.snd, $.FunctionInput.trd)",
     R"({"FunctionInput":{"fst":0,"snd":9,"trd":3}})", "[0,3,6,9]"},
    {"States.ArrayRange($.FunctionInput.fst, $.FunctionInput.snd, $.FunctionInput.trd)",
     R"({"FunctionInput":{"fst":1,"snd":9,"trd":9}})", "[1]"},
    {"States.ArrayRange($.FunctionInput.fst, $.FunctionInput.snd, $.FunctionInput.trd)",
     R"({"FunctionInput":{"fst":1,"snd":9,"trd":2}})", "[1,3,5,7,9]"},
    {"States.ArrayRange(0, 10, 3)", "{}", "[0,3,6,9]"},
    {"States.Base64Decode($.FunctionInput)", R"({"FunctionInput":""})", R"("")"},
    {"States.Base64Decode($.FunctionInput)", R"({"FunctionInput":"RGF0YSB0byBlbmNvZGU="})",
     R"("Data to encode")"},
    {"States.Base64Encode($.FunctionInput)", R"({"FunctionInput":""})", R"("")"},
    {"States.Base64Encode($.FunctionInput)", R"({"FunctionInput":"Data to encode"})",
     R"("RGF0YSB0byBlbmNvZGU=")"},
    {"States.Format('Formatting arguments fst={} and snd={}.', $$.Execution.Name, "
     "$$.StateMachine)",
     R"({"FunctionInput":null})",
     R"("Formatting arguments fst=exec-7 and snd={Id=arn:aws:states:us-east-1:111111111111:)"
     R"(stateMachine:sm-a-b, Name=sm-a-b}.")"},
    {"States.StringSplit('Hello\nWorld', '\n')", "{}", R"(["Hello","World"])"},
    {"States.Format('Formatting argument {}.', $.FunctionInput)", R"({"FunctionInput":" "})",
     R"("Formatting argument  .")"},
    {"States.Format('Formatting argument {}.', $.FunctionInput)", R"({"FunctionInput":null})",
     R"("Formatting argument null.")"},
    {"States.Format('Formatting argument {}.', $.FunctionInput)", R"({"FunctionInput":1})",
     R"("Formatting argument 1.")"},
    {"States.Format('Formatting argument {}.', $.FunctionInput)", R"({"FunctionInput":1.1})",
     R"("Formatting argument 1.1.")"},
    {"States.Format('Formatting argument {}.', $.FunctionInput)",
     R"({"FunctionInput":"{\"Arg1\": 1, \"Arg2\": []}"})",
     R"("Formatting argument {\"Arg1\": 1, \"Arg2\": []}.")"},
    {"States.Format('Formatting arguments fst={} and snd={}.', $.FunctionInput.fst, "
     "$.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":{"Arg1":1,"Arg2":[]},"snd":{"Arg1":1,"Arg2":[]}}})",
     R"("Formatting arguments fst={Arg1=1, Arg2=[]} and snd={Arg1=1, Arg2=[]}.")"},
    {"States.Format('Formatting arguments fst={} and snd={}.', $.FunctionInput.fst, "
     "$.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":"","snd":""}})", R"("Formatting arguments fst= and snd=.")"},
    {"States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), 0)", "{}", R"("sm")"},
    {"States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), "
     "States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))",
     "{}", R"("b")"},
    {"States.Hash($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":"input data","snd":"MD5"}})",
     R"("812f45842bc6d66ee14572ce20db8e86")"},
    {"States.Hash($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":"input data","snd":"SHA-1"}})",
     R"("aaff4a450a104cd177d28d18d74485e8cae074b7")"},
    {"States.Hash($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":"input data","snd":"SHA-256"}})",
     R"("b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3")"},
    {"States.Hash('input data', 'SHA-384')", "{}",
     R"("d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562")"},
    {"States.Hash('input data', 'SHA-512')", "{}",
     R"("6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4")"},
    {"States.JsonMerge($.FunctionInput.fst, $.FunctionInput.snd, false)",
     R"({"FunctionInput":{"fst":{"a":{"a1":1,"a2":2},"b":2,"d":3},"snd":{"a":{"a3":1,"a4":2},"c":3,"d":4}}})",
     R"({"a":{"a3":1,"a4":2},"b":2,"d":4,"c":3})"},
    {"States.JsonMerge(States.StringToJson('{\"constant_in_literal\": \"false\"}'), "
     "$$.Execution.Input, false)",
     "{}", R"({"constant_in_literal":"false","FunctionInput":"Value1,Value2\nValue3,,x"})"},
    {"States.JsonToString($.FunctionInput)", R"({"FunctionInput":null})", R"("null")"},
    {"States.JsonToString($.FunctionInput)", R"({"FunctionInput":0})", R"("0")"},
    {"States.JsonToString($.FunctionInput)", R"({"FunctionInput":1.1})", R"("1.1")"},
    {"States.JsonToString($.FunctionInput)", R"({"FunctionInput":true})", R"("true")"},
    {"States.JsonToString($.FunctionInput)", R"({"FunctionInput":"HelloWorld"})",
     R"("\"HelloWorld\"")"},
    {"States.JsonToString($.FunctionInput)", R"({"FunctionInput":[1,2,"HelloWorld"]})",
     R"("[1,2,\"HelloWorld\"]")"},
    {"States.JsonToString($.FunctionInput)", R"({"FunctionInput":{"Arg1":1,"Arg2":[]}})",
     R"("{\"Arg1\":1,\"Arg2\":[]}")"},
    {"States.StringToJson($.FunctionInput)", R"({"FunctionInput":""})", "null"},
    {"States.StringToJson($.FunctionInput)", R"({"FunctionInput":" "})", "null"},
    {"States.StringToJson($.FunctionInput)", R"({"FunctionInput":"null"})", "null"},
    {"States.StringToJson($.FunctionInput)", R"({"FunctionInput":"-0"})", "0"},
    {"States.StringToJson($.FunctionInput)", R"({"FunctionInput":"1.1"})", "1.1"},
    {"States.StringToJson($.FunctionInput)", R"({"FunctionInput":"true"})", "true"},
    {"States.StringToJson($.FunctionInput)", R"({"FunctionInput":"\"HelloWorld\""})",
     R"("HelloWorld")"},
    {"States.StringToJson($.FunctionInput)", R"({"FunctionInput":"{\"Arg1\": 1, \"Arg2\": []}"})",
     R"({"Arg1":1,"Arg2":[]})"},
    {"States.MathAdd($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":-9,"snd":3}})", "-6"},
    {"States.MathAdd($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":1.49,"snd":1.5}})", "3"},
    {"States.MathAdd($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":1.5,"snd":1.51}})", "4"},
    {"States.MathAdd($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":-1.49,"snd":-1.5}})", "-2"},
    {"States.MathAdd($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":-1.5,"snd":-1.51}})", "-3"},
    {"States.MathAdd(1.49, -1.49)", "{}", "0"},
    {"States.MathAdd(0.5, 0)", "{}", "1"},
    {"States.MathAdd(2.5, 0)", "{}", "3"},
    {"States.MathAdd(-0.5, 0.5)", "{}", "1"},
    {"States.MathAdd(-0.5, 0)", "{}", "0"},
    {"States.MathAdd(-2.5, 0)", "{}", "-2"},
    {"States.MathAdd(-3.5, 0)", "{}", "-3"},
    {"States.MathAdd(-1.51, 0)", "{}", "-2"},
    {"States.StringSplit($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":" ","snd":","}})", R"([" "])"},
    {"States.StringSplit($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":", , ,","snd":","}})", R"([" "," "])"},
    {"States.StringSplit($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":",,,,","snd":","}})", "[]"},
    {"States.StringSplit($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":"This.is+a,test=string","snd":".+,="}})",
     R"(["This","is","a","test","string"])"},
    {"States.StringSplit($.FunctionInput.fst, $.FunctionInput.snd)",
     R"({"FunctionInput":{"fst":"split on T and \nnew line","snd":"T\n"}})",
     R"(["split on "," and ","new line"])"},
    {"States.StringSplit($$.Execution.Input.FunctionInput, ',')", "{}",
     R"(["Value1","Value2\nValue3","x"])"},
};

TEST(IntrinsicAwsCases, MatchRecordedOutputs) {
  for (const Case& c : kAwsCases) {
    SCOPED_TRACE(c.expression);
    auto result = Eval(c.expression, c.input);
    ASSERT_TRUE(result.ok()) << Render(result);
    Json expected = Parse(c.expected);
    EXPECT_TRUE(JsonEquals(*result, expected)) << Render(result) << " != " << c.expected;
  }
}

TEST(IntrinsicAwsCases, ArrayUniqueKeepsFirstOccurrences) {
  EXPECT_EQ(Render(Eval("States.ArrayUnique($.a)",
                        R"({"a":[null,null,true,true,false,1,1,1.1,0,0,"x","x",[],[],[null],)"
                        R"([null],{"a":1,"b":2},{"b":2,"a":1},{"a":1,"b":1}]})")),
            R"([null,true,false,1,1.1,0,"x",[],[null],{"a":1,"b":2},{"a":1,"b":1}])");
}

TEST(IntrinsicFormat, JavaNumberNotation) {
  EXPECT_EQ(Render(Eval("States.Format('{}', $.v)", R"({"v":1.0})")), R"("1.0")");
  EXPECT_EQ(Render(Eval("States.Format('{}', $.v)", R"({"v":1e10})")), R"("1.0E10")");
  EXPECT_EQ(Render(Eval("States.Format('{}', $.v)", R"({"v":1234567.5})")), R"("1234567.5")");
  EXPECT_EQ(Render(Eval("States.Format('{}', $.v)", R"({"v":12345678.5})")), R"("1.23456785E7")");
  EXPECT_EQ(Render(Eval("States.Format('{}', $.v)", R"({"v":0.001})")), R"("0.001")");
  EXPECT_EQ(Render(Eval("States.Format('{}', $.v)", R"({"v":0.0001})")), R"("1.0E-4")");
  EXPECT_EQ(Render(Eval("States.Format('{}', $.v)", R"({"v":-2.5e-7})")), R"("-2.5E-7")");
  EXPECT_EQ(Render(Eval("States.Format('{}', $.v)", R"({"v":9007199254740993})")),
            R"("9007199254740993")");
  EXPECT_EQ(Render(Eval("States.Format('{}', $.v)", R"({"v":-0.0})")), R"("-0.0")");
  EXPECT_EQ(Render(Eval("States.Format('{}', $.v)", R"({"v":1e7})")), R"("1.0E7")");
  EXPECT_EQ(Render(Eval("States.Format('{}', $.v)", R"({"v":9999999.0})")), R"("9999999.0")");
  EXPECT_EQ(Render(Eval("States.Format('{}', $.v)", R"({"v":123456789012.0})")),
            R"("1.23456789012E11")");
  EXPECT_EQ(Render(Eval("States.Format('{}', $.v)", R"({"v":0.30000000000000004})")),
            R"("0.30000000000000004")");
  EXPECT_EQ(Render(Eval("States.JsonToString($.v)", R"({"v":[1.0,1e10,100]})")),
            R"("[1.0,1.0E10,100]")");
}

TEST(IntrinsicFormat, RendersNestedValuesLikeJavaToString) {
  EXPECT_EQ(Render(Eval("States.Format('{} {} {}', $.a, $.b, $.c)",
                        R"({"a":[1,"x",null,true],"b":{"k":{"n":[]}},"c":false})")),
            R"("[1, x, null, true] {k={n=[]}} false")");
}

TEST(IntrinsicFormat, EscapedBracesAreNotPlaceholders) {
  EXPECT_EQ(Render(Eval(R"(States.Format('\{\} {} it\'s \\', 'x'))")), R"("{} x it's \\")");
  EXPECT_EQ(Render(Eval("States.Format('no placeholders')")), R"("no placeholders")");
  EXPECT_EQ(Render(Eval("States.Format($.t, $.a, 2)", R"({"t":"{}+{}","a":"1"})")), R"("1+2")");
}

TEST(IntrinsicFormat, PlaceholderCountMustMatch) {
  EXPECT_EQ(Render(Eval("States.Format('{} {}', 1)")),
            "parse: States.Format has 2 placeholder(s) '{}' but 1 argument(s) to insert");
  EXPECT_EQ(Render(Eval("States.Format($.t, 1)", R"({"t":"{}{}"})")),
            "States.IntrinsicFailure: States.Format has 2 placeholder(s) '{}' but 1 argument(s) "
            "to insert");
  EXPECT_EQ(Render(Eval("States.Format($.t)", R"({"t":5})")),
            "States.IntrinsicFailure: The value of the 1st argument of States.Format must be a "
            "string");
}

TEST(IntrinsicLiterals, ArgumentsOfEveryKind) {
  EXPECT_EQ(Render(Eval("States.Array('a', 1, -2, 3.5, -1.5e3, true, false, null)")),
            R"(["a",1,-2,3.5,-1500.0,true,false,null])");
  EXPECT_EQ(Render(Eval("  States.Array( 'x' ,1 )  ")), R"(["x",1])");
  EXPECT_EQ(Render(Eval("States.Array('a,b)', 'c')")), R"x(["a,b)","c"])x");
  EXPECT_EQ(Render(Eval("States.Base64Encode('Data to encode')")), R"("RGF0YSB0byBlbmNvZGU=")");
  EXPECT_EQ(Render(Eval("States.Base64Encode('ab')")), R"("YWI=")");
  EXPECT_EQ(Render(Eval("States.Base64Decode('YWI=')")), R"("ab")");
  EXPECT_EQ(Render(Eval("States.StringToJson('[1, 2, \"HelloWorld\"]')")), R"([1,2,"HelloWorld"])");
  EXPECT_EQ(Render(Eval("States.ArrayRange(10, 0, -4)")), "[10,6,2]");
  EXPECT_EQ(Render(Eval("States.ArrayRange(0, -1, 1)")), "[]");
}

TEST(IntrinsicPaths, IndefinitePathGivesArrayAndMissingPathIsRuntime) {
  EXPECT_EQ(
      Render(Eval("States.ArrayLength($.items[*].id)", R"({"items":[{"id":1},{"id":2},{"x":3}]})")),
      "2");
  EXPECT_EQ(Render(Eval("States.Array($.missing)", R"({"a":1})")),
            "States.Runtime: The JSONPath '$.missing' could not be found in the input "
            "'{\"a\":1}'");
}

struct FailureCase {
  const char* expression;
  const char* input;
  const char* cause;
};

const FailureCase kFailures[] = {
    {"States.ArrayPartition($.a, 2)", R"({"a":"x"})",
     "The value of the 1st argument of States.ArrayPartition must be an array"},
    {"States.ArrayPartition($.a, $.n)", R"({"a":[1],"n":0})",
     "The value of the 2nd argument of States.ArrayPartition must be a positive integer"},
    {"States.ArrayPartition($.a, $.n)", R"({"a":[1],"n":1.5})",
     "The value of the 2nd argument of States.ArrayPartition must be an integer"},
    {"States.ArrayGetItem($.a, 3)", R"({"a":[1,2,3]})",
     "The index 3 given to States.ArrayGetItem is out of bounds for an array of 3 items"},
    {"States.ArrayGetItem($.a, -1)", R"({"a":[1,2,3]})",
     "The index -1 given to States.ArrayGetItem is out of bounds for an array of 3 items"},
    {"States.ArrayGetItem($.a, 0)", R"({"a":{}})",
     "The value of the 1st argument of States.ArrayGetItem must be an array"},
    {"States.ArrayLength($.a)", R"({"a":"abc"})",
     "The value of the 1st argument of States.ArrayLength must be an array"},
    {"States.ArrayUnique($.a)", R"({"a":1})",
     "The value of the 1st argument of States.ArrayUnique must be an array"},
    {"States.ArrayContains($.a, 1)", R"({"a":null})",
     "The value of the 1st argument of States.ArrayContains must be an array"},
    {"States.ArrayRange(0, 1000, 1)", "{}",
     "States.ArrayRange would produce more than the maximum of 1000 items"},
    {"States.ArrayRange(0, 10, $.s)", R"({"s":0})",
     "The value of the 3rd argument of States.ArrayRange must not be 0"},
    {"States.ArrayRange($.a, 10, 1)", R"({"a":"0"})",
     "The value of the 1st argument of States.ArrayRange must be an integer"},
    {"States.Base64Decode('not base64!')", "{}",
     "The value of the 1st argument of States.Base64Decode is not valid base64"},
    {"States.Base64Decode('YWI')", "{}",
     "The value of the 1st argument of States.Base64Decode is not valid base64"},
    {"States.Base64Encode($.a)", R"({"a":1})",
     "The value of the 1st argument of States.Base64Encode must be a string"},
    {"States.Hash('x', 'SHA-3')", "{}",
     "The value of the 2nd argument of States.Hash must be one of MD5, SHA-1, SHA-256, SHA-384, "
     "SHA-512, but was 'SHA-3'"},
    {"States.Hash($.a, 'MD5')", R"({"a":{}})",
     "The value of the 1st argument of States.Hash must be a string"},
    {"States.StringToJson($.a)", R"({"a":"{\"x\":"})",
     "The value of the 1st argument of States.StringToJson is not valid JSON: Invalid value. at "
     "offset 5"},
    {"States.StringToJson($.a)", R"({"a":[]})",
     "The value of the 1st argument of States.StringToJson must be a string"},
    {"States.JsonMerge($.a, $.b, false)", R"({"a":{},"b":[]})",
     "The value of the 2nd argument of States.JsonMerge must be an object"},
    {"States.JsonMerge($.a, $.a, $.deep)", R"({"a":{},"deep":true})",
     "States.JsonMerge supports only shallow merges: its 3rd argument must be false"},
    {"States.MathAdd($.a, 1)", R"({"a":"1"})",
     "The value of the 1st argument of States.MathAdd must be an integer"},
    {"States.MathAdd($.a, 1)", R"({"a":9223372036854775807})",
     "The result of States.MathAdd is out of range"},
    {"States.MathRandom(10, 1)", "{}",
     "The 1st argument of States.MathRandom (start) must not be greater than the 2nd (end)"},
    {"States.StringSplit($.a, ',')", R"({"a":1})",
     "The value of the 1st argument of States.StringSplit must be a string"},
};

TEST(IntrinsicFailures, CauseNamesTheFunctionAndArgument) {
  for (const FailureCase& c : kFailures) {
    SCOPED_TRACE(c.expression);
    auto result = Eval(c.expression, c.input);
    ASSERT_FALSE(result.ok()) << Render(result);
    EXPECT_EQ(result.error().error, kStatesIntrinsicFailure);
    EXPECT_EQ(result.error().cause, c.cause);
  }
}

TEST(IntrinsicFailures, ArrayRangeAllowsExactlyOneThousandItems) {
  auto range = Eval("States.ArrayRange(1, 1000, 1)");
  ASSERT_TRUE(range.ok()) << Render(range);
  EXPECT_EQ(range->Size(), 1000u);
  EXPECT_EQ((*range)[999].GetInt64(), 1000);
  EXPECT_EQ(Render(Eval("States.ArrayRange(1, 1001, 1)")),
            "States.IntrinsicFailure: States.ArrayRange would produce more than the maximum of "
            "1000 items");
}

TEST(IntrinsicFailures, Base64InputLimitIsTenThousandCharacters) {
  const std::string ok(10000, 'a');
  const std::string too_long(10001, 'a');
  EXPECT_TRUE(Eval("States.Base64Encode($.s)", R"({"s":")" + ok + R"("})").ok());
  EXPECT_EQ(Render(Eval("States.Base64Encode($.s)", R"({"s":")" + too_long + R"("})")),
            "States.IntrinsicFailure: The value of the 1st argument of States.Base64Encode must "
            "be at most 10000 characters long");
  EXPECT_EQ(Render(Eval("States.Hash($.s, 'MD5')", R"({"s":")" + too_long + R"("})")),
            "States.IntrinsicFailure: The value of the 1st argument of States.Hash must be at "
            "most 10000 characters long");
}

TEST(IntrinsicParse, RejectsBadCalls) {
  const std::pair<const char*, const char*> cases[] = {
      {"States.Nope(1)", "unknown intrinsic function 'States.Nope'"},
      {"States.MathAdd(1)", "States.MathAdd takes 2 arguments, but got 1"},
      {"States.UUID(1)", "States.UUID takes 0 arguments, but got 1"},
      {"States.MathRandom(1, 2, 3, 4)", "States.MathRandom takes 2 to 3 arguments, but got 4"},
      {"States.Format()", "States.Format takes at least 1 argument, but got 0"},
      {"States.MathAdd('1', 2)", "The 1st argument of States.MathAdd must be a number"},
      {"States.StringSplit(1, ',')", "The 1st argument of States.StringSplit must be a string"},
      {"States.ArrayLength('abc')",
       "The 1st argument of States.ArrayLength must be a path or an intrinsic function, not a "
       "literal"},
      {"States.JsonMerge($.a, $.b, true)",
       "States.JsonMerge supports only shallow merges: its 3rd argument must be false"},
      {"States.JsonMerge($.a, $.b, 'no')",
       "The 3rd argument of States.JsonMerge must be a boolean"},
      {"States.ArrayPartition($.a, 0)",
       "The 2nd argument of States.ArrayPartition must be a positive integer"},
      {"States.Array('unterminated)", "unterminated string starting at position 13"},
      {"States.Array(1) extra", "unexpected text after the closing parenthesis at position 16"},
      {"States.Array(1 2)", "unexpected character '2' at position 15"},
      {"States.Array(1,)", "unexpected character ')' at position 15"},
      {"States.Array(1", "missing ')' to close 'States.Array('"},
      {"States.Array(bogus)", "unexpected character 'b' at position 13"},
      {"States.Array(1.2.3)", "invalid number '1.2.3' at position 13"},
  };
  for (const auto& [text, cause] : cases) {
    SCOPED_TRACE(text);
    auto parsed = Intrinsic::Parse(text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().error, "");
    EXPECT_EQ(parsed.error().cause, cause);
  }
}

std::string Nest(int depth) {
  std::string text = "1";
  for (int i = 0; i < depth; ++i) text = "States.MathAdd(" + text + ", 1)";
  return text;
}

TEST(IntrinsicParse, NestingIsLimitedToTenLevels) {
  EXPECT_EQ(Render(Eval(Nest(kMaxIntrinsicNesting))), "11");
  auto too_deep = Intrinsic::Parse(Nest(kMaxIntrinsicNesting + 1));
  ASSERT_FALSE(too_deep.ok());
  EXPECT_EQ(too_deep.error().cause, "intrinsic functions are nested more than 10 levels deep");
}

TEST(IntrinsicParse, LooksLikeIntrinsic) {
  EXPECT_TRUE(Intrinsic::LooksLikeIntrinsic("States.Format('x')"));
  EXPECT_TRUE(Intrinsic::LooksLikeIntrinsic("States.Nope ("));
  EXPECT_FALSE(Intrinsic::LooksLikeIntrinsic("States.Format"));
  EXPECT_FALSE(Intrinsic::LooksLikeIntrinsic("$.States.Format('x')"));
  EXPECT_FALSE(Intrinsic::LooksLikeIntrinsic("States.(1)"));
}

TEST(IntrinsicRandom, UuidIsVersion4) {
  FakeRandom random(7);
  Json input = JsonObject();
  Scope scope{&input, nullptr, nullptr};
  auto intrinsic = Intrinsic::Parse("States.UUID()");
  ASSERT_TRUE(intrinsic.ok());
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto uuid = intrinsic->Evaluate(scope, random);
    ASSERT_TRUE(uuid.ok());
    const std::string text(JsonView(*uuid));
    ASSERT_EQ(text.size(), 36u) << text;
    for (std::size_t k = 0; k < text.size(); ++k) {
      if (k == 8 || k == 13 || k == 18 || k == 23) {
        EXPECT_EQ(text[k], '-') << text;
      } else {
        EXPECT_TRUE((text[k] >= '0' && text[k] <= '9') || (text[k] >= 'a' && text[k] <= 'f'))
            << text;
      }
    }
    EXPECT_EQ(text[14], '4') << text;
    EXPECT_TRUE(text[19] == '8' || text[19] == '9' || text[19] == 'a' || text[19] == 'b') << text;
    seen.insert(text);
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST(IntrinsicRandom, MathRandomStaysInRangeAndRoundsBounds) {
  FakeRandom random(3);
  Json input = JsonObject();
  Scope scope{&input, nullptr, nullptr};
  auto intrinsic = Intrinsic::Parse("States.MathRandom(12.5, 15.4)");
  ASSERT_TRUE(intrinsic.ok());
  std::set<int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    auto value = intrinsic->Evaluate(scope, random);
    ASSERT_TRUE(value.ok());
    ASSERT_TRUE(value->IsInt64());
    seen.insert(value->GetInt64());
  }
  // 12.5 rounds to 13 and 15.4 to 15; both ends are reachable.
  EXPECT_EQ(seen, (std::set<int64_t>{13, 14, 15}));
}

TEST(IntrinsicRandom, SeededMathRandomFollowsJavaUtilRandom) {
  // new java.util.Random(42).nextInt(10) == 0, new Random(0).nextInt(1000) == 360,
  // new Random(3).nextInt(1000) == 734; the same seed always gives the same number.
  EXPECT_EQ(Render(Eval("States.MathRandom(0, 9, 42)")), "0");
  EXPECT_EQ(Render(Eval("States.MathRandom(0, 999, 0)")), "360");
  EXPECT_EQ(Render(Eval("States.MathRandom(0, 999, 3)")), "734");
  EXPECT_EQ(Render(Eval("States.MathRandom(100, 1099, 3)")), "834");
  // A power-of-two bound takes nextInt's shortcut: new Random(42).nextInt(16) == 11.
  EXPECT_EQ(Render(Eval("States.MathRandom(0, 15, 42)")), "11");
  // The widest int bound: new Random(-5).nextInt(2147483647) == 578319411.
  EXPECT_EQ(Render(Eval("States.MathRandom(0, 2147483646, -5)")), "578319411");
}

// States.StringToJson parses with AWS's parser limits: 100,000 levels of nesting at run time
// is a States.IntrinsicFailure, not a crash.
TEST(IntrinsicDepth, StringToJsonRefusesTooDeepText) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  Json input = JsonObject();
  input.AddMember(JsonString("s"), JsonString(deep), Alloc());
  auto intrinsic = Intrinsic::Parse("States.StringToJson($.s)");
  ASSERT_TRUE(intrinsic.ok());
  Scope scope{&input, nullptr, nullptr};
  FakeRandom random;
  Result<Json> result = intrinsic->Evaluate(scope, random);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().error, kStatesIntrinsicFailure);
  EXPECT_EQ(result.error().cause,
            "The value of the 1st argument of States.StringToJson is not valid JSON: Document "
            "nesting depth (1001) exceeds the maximum allowed (1000, from "
            "`StreamReadConstraints.getMaxNestingDepth()`) at offset 1000");
  const std::string ok = std::string(1000, '[') + std::string(1000, ']');
  EXPECT_EQ(Render(Eval("States.StringToJson($.s)", "{\"s\":\"" + ok + "\"}")), ok);
}

// JsonToString and Format render values iteratively: a value built deeper than any parse allows
// renders whole. (20,000 levels: the evaluation copies its arguments, and RapidJSON's destructor
// still recurses once per level when a copy goes; ASan's frames set the ceiling here.)
TEST(IntrinsicDepth, RenderingADeepValueDoesNotRecurse) {
  constexpr int kDepth = 20000;
  Json deep = JsonObject();
  for (int i = 0; i < kDepth; ++i) {
    Json outer = JsonObject();
    outer.AddMember(JsonString("a"), std::move(deep), Alloc());
    deep = std::move(outer);
  }
  Json input = JsonObject();
  input.AddMember(JsonString("v"), std::move(deep), Alloc());
  Scope scope{&input, nullptr, nullptr};
  FakeRandom random;
  auto to_string = Intrinsic::Parse("States.JsonToString($.v)");
  ASSERT_TRUE(to_string.ok());
  Result<Json> text = to_string->Evaluate(scope, random);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(JsonView(*text).size(), static_cast<std::size_t>(kDepth) * 6 + 2);
  auto format = Intrinsic::Parse("States.Format('{}', $.v)");
  ASSERT_TRUE(format.ok());
  Result<Json> formatted = format->Evaluate(scope, random);
  ASSERT_TRUE(formatted.ok());
  EXPECT_EQ(JsonView(*formatted).substr(0, 9), "{a={a={a=");
  DestroyJson(input);
}

// AWS decodes the bytes as UTF-8 in Java (new String(bytes, UTF_8)): each ill-formed sequence
// becomes U+FFFD, so the output, and every --json rendering of it, is valid UTF-8.
TEST(IntrinsicDepth, Base64DecodeOfBytesThatAreNotUtf8) {
  // 0xFF, "A", 0xE2 0x82 (truncated), "B", 0xC3 0xA9 ("é").
  EXPECT_EQ(Render(Eval("States.Base64Decode('/0HigkLDqQ==')")),
            "\"\xEF\xBF\xBD"
            "A\xEF\xBF\xBD"
            "B\xC3\xA9\"");
  Result<Json> decoded = Eval("States.Base64Decode('gICA')");  // three lone continuation bytes
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(JsonView(*decoded), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_TRUE(IsValidUtf8(DumpJson(*decoded)));
}

}  // namespace
}  // namespace switchyard::asl
