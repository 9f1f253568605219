// The execution core's JSONata data flow, as AWS documents it ("Transforming data with JSONata in
// Step Functions", "Passing data between states with variables") and records it (the causes of
// States.QueryEvaluationError). Needs the real evaluator (asl/src/jsonata_eval.cpp).
#include <gtest/gtest.h>

#include <string>

#include "core_fake_driver.hpp"
#include "switchyard/asl/core.hpp"
#include "switchyard/asl/definition.hpp"
#include "switchyard/asl/jsonata_eval.hpp"

namespace switchyard::asl {
namespace {

StateMachineDef Parse(std::string_view text) {
  ParseResult parsed = ParseDefinition(text);
  EXPECT_TRUE(parsed.ok()) << (parsed.diagnostics.empty() ? std::string()
                                                          : parsed.diagnostics[0].message);
  return parsed.ok() ? std::move(*parsed.definition) : StateMachineDef{};
}

testing::FakeRun RunMachine(std::string_view definition, std::string_view input,
                            std::string_view backend = "{}") {
  StateMachineDef def = Parse(definition);
  Json backend_json = *ParseJson(backend);
  return testing::RunWithFakeDriver(def, *ParseJson(input), &backend_json, true);
}

// Until the evaluator is merged (asl/src/jsonata_eval.cpp is a stub that fails every evaluation
// with U1000), the tests that evaluate expressions are skipped rather than failed.
bool EvaluatorAvailable() {
  auto compiled = JsonataExpression::Compile("1");
  if (!std::holds_alternative<JsonataExpression>(compiled)) return false;
  auto result = std::get<JsonataExpression>(compiled).Evaluate(nullptr, {}, {});
  return result.ok() || result.error().code != "U1000";
}

#define REQUIRE_EVALUATOR() \
  if (!EvaluatorAvailable()) GTEST_SKIP() << "the JSONata evaluator is not merged yet"

std::string Types(const testing::FakeRun& run) {
  std::string text;
  for (const auto& type : run.history_types) {
    if (!text.empty()) text += ",";
    text += type;
  }
  return text;
}

// ---- without expressions: literal fields (pass with any evaluator) -------------------------
TEST(CoreJsonataTest, LiteralOutputReplacesTheInput) {
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
      "P": {"Type": "Pass", "Output": {"a": [1, "x", null]}, "End": true}}})",
                        R"({"in": 1})");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(run.output, R"({"a":[1,"x",null]})");
}

TEST(CoreJsonataTest, WithoutOutputPassAndSucceedPassTheirInput) {
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
      "P": {"Type": "Pass", "Next": "S"}, "S": {"Type": "Succeed"}}})",
                        R"({"in": 1})");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(run.output, R"({"in":1})");
}

TEST(CoreJsonataTest, TaskOutputIsItsResultByDefault) {
  auto run =
      RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": "f", "Payload": {"k": 1}}, "End": true}}})",
                 R"({"in": 1})", R"({"arn:aws:states:::lambda:invoke": [{"output": {"r": 2}}]})");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(run.output, R"({"r":2})");
  ASSERT_EQ(run.invocations.size(), 1u);
  EXPECT_EQ(run.invocations[0].payload, R"({"FunctionName":"f","Payload":{"k":1}})");
}

TEST(CoreJsonataTest, MixedMachineLiteralStates) {
  auto run = RunMachine(R"({"StartAt": "A", "States": {
      "A": {"Type": "Pass", "Result": {"x": 1}, "Next": "B"},
      "B": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"y": 2}, "End": true}}})",
                        "{}");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(run.output, R"({"y":2})");
}

TEST(CoreJsonataTest, ChoiceLiteralConditionAndRuleOutput) {
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
      "C": {"Type": "Choice", "Choices": [
              {"Condition": false, "Next": "X"},
              {"Condition": true, "Next": "Y", "Output": {"rule": 1}}],
            "Default": "X"},
      "X": {"Type": "Fail", "Error": "Wrong"},
      "Y": {"Type": "Succeed"}}})",
                        "{}");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(run.output, R"({"rule":1})");
}

TEST(CoreJsonataTest, MapWithoutItemsNeedsAnArrayInput) {
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
      "M": {"Type": "Map", "ItemProcessor": {"StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}})",
                        R"({"foo": "bar"})");
  EXPECT_EQ(run.status, ExecutionStatus::kFailed);
  EXPECT_EQ(run.error, "States.QueryEvaluationError");
  EXPECT_EQ(run.cause,
            "An error occurred while executing the state 'M' (entered at the event id #2). Map "
            "state input must be an array but was: {\"foo\":\"bar\"}");
  EXPECT_EQ(Types(run),
            "ExecutionStarted,MapStateEntered,EvaluationFailed,MapStateFailed,ExecutionFailed");
}

TEST(CoreJsonataTest, MapOverItsInputArrayCollectsResults) {
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
      "M": {"Type": "Map", "ItemProcessor": {"StartAt": "P",
            "States": {"P": {"Type": "Pass", "Output": {"v": 1}, "End": true}}}, "End": true}}})",
                        "[1, 2]");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(run.output, R"([{"v":1},{"v":1}])");
}

TEST(CoreJsonataTest, CatchWithoutOutputGivesTheErrorOutput) {
  auto run =
      RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S"}], "End": true},
      "S": {"Type": "Succeed"}}})",
                 "{}", R"({"arn:aws:states:::lambda:invoke": [{"error": "E", "cause": "c"}]})");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(run.output, R"({"Error":"E","Cause":"c"})");
}

TEST(CoreJsonataTest, FailLiteralErrorAndCause) {
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "F", "States": {
      "F": {"Type": "Fail", "Error": "Exception", "Cause": "because"}}})",
                        "{}");
  EXPECT_EQ(run.status, ExecutionStatus::kFailed);
  EXPECT_EQ(run.error, "Exception");
  EXPECT_EQ(run.cause, "because");
}

// ---- with expressions: need the evaluator --------------------------------------------------
TEST(CoreJsonataTest, OutputReadsStatesInput) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
      "P": {"Type": "Pass", "Output": {"sum": "{% $states.input.a + 1 %}",
                                       "list": ["{% $states.input.a %}", "lit"]}, "End": true}}})",
                        R"({"a": 41})");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded) << run.cause.value_or("");
  EXPECT_EQ(run.output, R"({"sum":42,"list":[41,"lit"]})");
}

TEST(CoreJsonataTest, TaskArgumentsOutputAndAssignSeeInputAndResult) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": "f", "Payload": "{% $states.input.p %}"},
            "Assign": {"kept": "{% $states.result.r %}"},
            "Output": {"in": "{% $states.input.p %}", "out": "{% $states.result.r %}"},
            "Next": "P"},
      "P": {"Type": "Pass", "Output": "{% $kept %}", "End": true}}})",
                        R"({"p": {"x": 1}})",
                        R"({"arn:aws:states:::lambda:invoke": [{"output": {"r": 7}}]})");
  ASSERT_EQ(run.invocations.size(), 1u);
  EXPECT_EQ(run.invocations[0].payload, R"({"FunctionName":"f","Payload":{"x":1}})");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded) << run.cause.value_or("");
  EXPECT_EQ(run.output, "7");
}

TEST(CoreJsonataTest, TimeoutSecondsExpression) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "TimeoutSeconds": "{% $states.input.t %}", "End": true}}})",
                        R"({"t": 30})", R"({"arn:aws:states:::lambda:invoke": [{"output": 1}]})");
  ASSERT_EQ(run.invocations.size(), 1u);
  EXPECT_EQ(run.invocations[0].timeout_seconds, 30);
}

TEST(CoreJsonataTest, TimeoutSecondsNotAnIntegerIsAQueryEvaluationError) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "TimeoutSeconds": "{% $states.input.t %}", "End": true}}})",
                        R"({"t": "soon"})");
  EXPECT_EQ(run.status, ExecutionStatus::kFailed);
  EXPECT_EQ(run.error, "States.QueryEvaluationError");
  EXPECT_TRUE(run.invocations.empty());
}

TEST(CoreJsonataTest, VariablesAreSharedAcrossLanguages) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"StartAt": "A", "States": {
      "A": {"Type": "Pass", "QueryLanguage": "JSONata", "Assign": {"x": "{% 40 + 2 %}"},
            "Next": "B"},
      "B": {"Type": "Pass", "Assign": {"y.$": "$x"}, "Parameters": {"x.$": "$x"}, "Next": "C"},
      "C": {"Type": "Pass", "QueryLanguage": "JSONata",
            "Output": {"x": "{% $x %}", "y": "{% $y %}", "in": "{% $states.input.x %}"},
            "End": true}}})",
                        "{}");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded) << run.cause.value_or("");
  EXPECT_EQ(run.output, R"({"x":42,"y":42,"in":42})");
}

TEST(CoreJsonataTest, AssignAndOutputSeeTheVariablesAsOnEntry) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
      "A": {"Type": "Pass", "Assign": {"a": 1, "b": 2}, "Next": "B"},
      "B": {"Type": "Pass", "Assign": {"a": "{% $b %}", "b": "{% $a %}"},
            "Output": {"a": "{% $a %}"}, "Next": "C"},
      "C": {"Type": "Pass", "Output": ["{% $a %}", "{% $b %}", "{% $states.input.a %}"],
            "End": true}}})",
                        "{}");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded) << run.cause.value_or("");
  EXPECT_EQ(run.output, "[2,1,1]");
}

TEST(CoreJsonataTest, UndefinedOutputIsAQueryEvaluationError) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "State0", "States": {
      "State0": {"Type": "Pass", "Output": {"result": "{% $doesNotExist %}"}, "End": true}}})",
                        "{}");
  EXPECT_EQ(run.status, ExecutionStatus::kFailed);
  EXPECT_EQ(run.error, "States.QueryEvaluationError");
  EXPECT_EQ(run.cause,
            "An error occurred while executing the state 'State0' (entered at the event id #2). "
            "The JSONata expression '$doesNotExist' specified for the field 'Output/result' "
            "returned nothing (undefined).");
  EXPECT_EQ(Types(run), "ExecutionStarted,PassStateEntered,EvaluationFailed,ExecutionFailed");
}

TEST(CoreJsonataTest, AFunctionIsAnUnsupportedResultType) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
      "M": {"Type": "Map", "Items": "{% $fn := function($x){$x} %}", "ItemProcessor": {
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}})",
                        "{}");
  EXPECT_EQ(run.error, "States.QueryEvaluationError");
  EXPECT_EQ(run.cause,
            "An error occurred while executing the state 'M' (entered at the event id #2). The "
            "JSONata expression '$fn := function($x){$x}' specified for the field 'Items' "
            "returned an unsupported result type.");
}

TEST(CoreJsonataTest, RuntimeErrorQuotesJsonataCodeAndMessage) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "S", "States": {
      "S": {"Type": "Pass", "Output": {"r": "{% $nope(1) %}"}, "End": true}}})",
                        "{}");
  EXPECT_EQ(run.status, ExecutionStatus::kFailed);
  EXPECT_EQ(run.error, "States.QueryEvaluationError");
  EXPECT_EQ(run.cause,
            "An error occurred while executing the state 'S' (entered at the event id #2). The "
            "JSONata expression '$nope(1)' specified for the field 'Output/r' threw an error "
            "during evaluation. T1006: Attempted to invoke a non-function");
}

// AWS has no $eval, and refuses it only when it runs: CreateStateMachine accepts the definition
// and TestState answers this cause (3rd-party measurement against AWS us-east-1: floci #2737).
TEST(CoreJsonataTest, EvalIsNotAFunctionAtRunTime) {
  REQUIRE_EVALUATOR();
  const char* definition = R"({"QueryLanguage": "JSONata", "StartAt": "S", "States": {
      "S": {"Type": "Pass", "Output": {"r": "{% $eval(\"1+1\") %}"}, "End": true}}})";
  ParseResult parsed = ParseDefinition(definition);
  EXPECT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed.diagnostics.empty());
  auto run = RunMachine(definition, "{}");
  EXPECT_EQ(run.status, ExecutionStatus::kFailed);
  EXPECT_EQ(run.error, "States.QueryEvaluationError");
  EXPECT_EQ(run.cause,
            "An error occurred while executing the state 'S' (entered at the event id #2). The "
            "JSONata expression '$eval(\"1+1\")' specified for the field 'Output/r' threw an "
            "error during evaluation. T1006: Attempted to invoke a non-function");
}

TEST(CoreJsonataTest, ItemsOfTheWrongType) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
      "M": {"Type": "Map", "Items": "{% 1 %}", "ItemProcessor": {"StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}})",
                        "{}");
  EXPECT_EQ(run.status, ExecutionStatus::kFailed);
  EXPECT_EQ(run.error, "States.QueryEvaluationError");
  EXPECT_EQ(run.cause,
            "An error occurred while executing the state 'M' (entered at the event id #2). The "
            "JSONata expression '1' specified for the field 'Items' returned an unexpected result "
            "type. Expected 'array', but was 'number' for value: 1");
  EXPECT_EQ(Types(run),
            "ExecutionStarted,MapStateEntered,EvaluationFailed,MapStateFailed,ExecutionFailed");
}

TEST(CoreJsonataTest, MapItemSelectorSeesTheItemInTheContext) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
      "M": {"Type": "Map", "Items": "{% $states.input.xs %}",
            "ItemSelector": {"v": "{% $states.context.Map.Item.Value %}",
                             "i": "{% $states.context.Map.Item.Index %}"},
            "MaxConcurrency": "{% 1 %}",
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
            "Output": {"all": "{% $states.result %}"}, "End": true}}})",
                        R"({"xs": ["a", "b"]})");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded) << run.cause.value_or("");
  EXPECT_EQ(run.output, R"({"all":[{"v":"a","i":0},{"v":"b","i":1}]})");
}

TEST(CoreJsonataTest, ParallelArgumentsAreEveryBranchsInput) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
      "P": {"Type": "Parallel", "Arguments": {"n": "{% $states.input.n * 2 %}"},
            "Branches": [
              {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
              {"StartAt": "B", "States": {"B": {"Type": "Pass", "Output": "{% $states.input.n %}", "End": true}}}],
            "End": true}}})",
                        R"({"n": 2})");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded) << run.cause.value_or("");
  EXPECT_EQ(run.output, R"([{"n":4},4])");
}

TEST(CoreJsonataTest, ChoiceConditionExpressionAndNonBoolean) {
  REQUIRE_EVALUATOR();
  constexpr std::string_view kMachine = R"({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
      "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.c %}", "Next": "Y",
                                           "Assign": {"took": "rule"}}],
            "Default": "N", "Assign": {"took": "default"}},
      "Y": {"Type": "Pass", "Output": "{% $took %}", "End": true},
      "N": {"Type": "Pass", "Output": "{% $took %}", "End": true}}})";
  auto yes = RunMachine(kMachine, R"({"c": true})");
  EXPECT_EQ(yes.output, R"("rule")");
  auto no = RunMachine(kMachine, R"({"c": false})");
  EXPECT_EQ(no.output, R"("default")");
  auto bad = RunMachine(kMachine, R"({"c": "yes"})");
  EXPECT_EQ(bad.status, ExecutionStatus::kFailed);
  EXPECT_EQ(bad.error, "States.QueryEvaluationError");
}

TEST(CoreJsonataTest, CatchOutputAndAssignSeeErrorOutput) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S",
                       "Assign": {"err": "{% $states.errorOutput.Error %}"},
                       "Output": {"in": "{% $states.input.k %}",
                                  "cause": "{% $states.errorOutput.Cause %}"}}],
            "End": true},
      "S": {"Type": "Pass", "Output": {"err": "{% $err %}", "was": "{% $states.input %}"},
            "End": true}}})",
                        R"({"k": 1})",
                        R"({"arn:aws:states:::lambda:invoke": [{"error": "E", "cause": "c"}]})");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded) << run.cause.value_or("");
  EXPECT_EQ(run.output, R"({"err":"E","was":{"in":1,"cause":"c"}})");
}

TEST(CoreJsonataTest, QueryEvaluationErrorInArgumentsIsCatchable) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"Payload": "{% $missing %}"},
            "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "S"}],
            "End": true},
      "S": {"Type": "Pass", "Output": "{% $states.input.Error %}", "End": true}}})",
                        "{}");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded) << run.cause.value_or("");
  EXPECT_EQ(run.output, R"("States.QueryEvaluationError")");
  EXPECT_TRUE(run.invocations.empty());
}

TEST(CoreJsonataTest, WaitSecondsExpression) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "W", "States": {
      "W": {"Type": "Wait", "Seconds": "{% $states.input.s %}", "End": true}}})",
                        R"({"s": 5})");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded) << run.cause.value_or("");
  EXPECT_EQ(run.end_seconds, 5);
}

TEST(CoreJsonataTest, WaitTimestampThatIsNotIso8601) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "WaitState", "States": {
      "WaitState": {"Type": "Wait", "Timestamp": "{% $states.input.t %}", "End": true}}})",
                        R"({"t": "2016-12-05T21:29:29"})");
  EXPECT_EQ(run.status, ExecutionStatus::kFailed);
  EXPECT_EQ(run.error, "States.QueryEvaluationError");
  EXPECT_EQ(run.cause,
            "An error occurred while executing the state 'WaitState' (entered at the event id "
            "#2). The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
            "format string: 2016-12-05T21:29:29");
}

TEST(CoreJsonataTest, FailErrorAndCauseExpressions) {
  REQUIRE_EVALUATOR();
  auto run = RunMachine(R"({"QueryLanguage": "JSONata", "StartAt": "F", "States": {
      "F": {"Type": "Fail", "Error": "{% $states.input.e %}", "Cause": "{% 'c' & 1 %}"}}})",
                        R"({"e": "Exception"})");
  EXPECT_EQ(run.status, ExecutionStatus::kFailed);
  EXPECT_EQ(run.error, "Exception");
  EXPECT_EQ(run.cause, "c1");
}

// TestState's `context` (Event::context): every state sees the given Context object as it is,
// `$$` in JSONPath and $states.context in JSONata (AWS records `$$` as exactly the object given,
// {} included), and it survives a snapshot.
TEST(CoreJsonataTest, AGivenContextIsWhatEveryStateSees) {
  REQUIRE_EVALUATOR();
  StateMachineDef def = Parse(R"({"StartAt": "P", "States": {
      "P": {"Type": "Pass", "Parameters": {"c.$": "$$", "n.$": "$$.State.Name"}, "Next": "J"},
      "J": {"Type": "Pass", "QueryLanguage": "JSONata",
            "Output": {"path": "{% $states.input %}", "jsonata": "{% $states.context %}"},
            "End": true}}})");
  Event started = Event::Started(*ParseJson(R"({"x":1})"), "e", "m", 7);
  started.context = *ParseJson(R"({"State":{"Name":"Given"},"Execution":{}})");
  ExecutionState state;
  Step step = Apply(def, state, started, 1000);
  ASSERT_EQ(step.commands.back().kind, Command::Kind::kFinish);
  EXPECT_EQ(DumpJson(step.commands.back().output),
            R"({"path":{"c":{"State":{"Name":"Given"},"Execution":{}},"n":"Given"},)"
            R"("jsonata":{"State":{"Name":"Given"},"Execution":{}}})");
  // Without one, the core builds the context object itself.
  ExecutionState plain;
  Step built = Apply(def, plain, Event::Started(*ParseJson("{}"), "e", "m", 7), 1000);
  EXPECT_EQ(DumpJson(*JsonFind(*JsonFind(built.commands.back().output, "path"), "n")), R"("P")");
}

TEST(CoreJsonataTest, AGivenContextSurvivesASnapshot) {
  StateMachineDef def = Parse(R"({"StartAt": "W", "States": {
      "W": {"Type": "Wait", "Seconds": 5, "Next": "P"},
      "P": {"Type": "Pass", "Parameters": {"c.$": "$$"}, "End": true}}})");
  Event started = Event::Started(*ParseJson("{}"), "e", "m", 7);
  started.context = *ParseJson(R"({"StateMachine":{"Name":"Given"}})");
  ExecutionState state;
  Step step = Apply(def, state, started, 1000);
  std::string timer;
  for (const Command& command : step.commands) {
    if (command.kind == Command::Kind::kStartTimer && command.timer_id != "execution-timeout") {
      timer = command.timer_id;
    }
  }
  ASSERT_FALSE(timer.empty());
  auto restored = ExecutionState::FromJson(state.ToJson());
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(DumpJson(restored->ToJson()), DumpJson(state.ToJson()));
  Step fired = Apply(def, *restored, Event::TimerFired(timer), 6000000000);
  ASSERT_EQ(fired.commands.back().kind, Command::Kind::kFinish);
  EXPECT_EQ(DumpJson(fired.commands.back().output), R"({"c":{"StateMachine":{"Name":"Given"}}})");
}

}  // namespace
}  // namespace switchyard::asl
