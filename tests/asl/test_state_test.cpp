// The pure half of TestState: wrapping one state, Retry matching, DEBUG data-flow inspection.
#include "switchyard/asl/test_state.hpp"

#include <gtest/gtest.h>

namespace switchyard::asl {
namespace {

Json Parse(const char* text) { return *ParseJson(text); }

class FixedRandom : public RandomSource {
 public:
  uint64_t NextU64() override { return 42; }
};

TEST(TestStateTest, WrapsTheStateWithItsTargetsAsSucceedStates) {
  auto machine = WrapStateForTest(
      Parse(R"({"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"Next":"A"}],)"
            R"("Default":"B"})"),
      JsonNull());
  ASSERT_TRUE(machine.ok());
  EXPECT_EQ(machine->state_name, "TestState");
  EXPECT_EQ(machine->targets, (std::vector<std::string>{"B", "A"}));
  EXPECT_EQ(machine->definition,
            R"({"StartAt":"TestState","States":{"TestState":{"Type":"Choice","Choices":[)"
            R"({"Variable":"$.a","IsPresent":true,"Next":"A"}],"Default":"B"},)"
            R"("B":{"Type":"Succeed"},"A":{"Type":"Succeed"}}})");
}

TEST(TestStateTest, RetryIsTakenOutAndVariablesComeFirst) {
  auto machine = WrapStateForTest(
      Parse(R"({"Type":"Pass","Next":"TestState","Retry":[{"ErrorEquals":["X"]}]})"),
      Parse(R"({"v":1})"));
  ASSERT_TRUE(machine.ok());
  // The tested state is renamed away from the state it goes to.
  EXPECT_EQ(machine->state_name, "TestState_");
  EXPECT_EQ(DumpJson(machine->retry), R"([{"ErrorEquals":["X"]}])");
  EXPECT_EQ(machine->definition,
            R"({"StartAt":"TestState__Variables","States":{"TestState__Variables":{"Type":)"
            R"("Pass","QueryLanguage":"JSONPath","Assign":{"v":1},"Next":"TestState_"},)"
            R"("TestState_":{"Type":"Pass","Next":"TestState"},"TestState":{"Type":"Succeed"}}})");
  EXPECT_EQ(WrapStateForTest(Parse("[1]"), JsonNull()).error().error, "InvalidDefinition");
  EXPECT_EQ(WrapStateForTest(Parse(R"({"Next":"A"})"), JsonNull()).error().error,
            "InvalidDefinition");
}

TEST(TestStateTest, RetryMatches) {
  Json retry = Parse(R"([{"ErrorEquals":["A"],"MaxAttempts":0},{"ErrorEquals":["B"]}])");
  EXPECT_FALSE(RetryMatches(retry, "A"));  // MaxAttempts 0 never retries
  EXPECT_TRUE(RetryMatches(retry, "B"));
  Json all = Parse(R"([{"ErrorEquals":["States.ALL"]}])");
  EXPECT_TRUE(RetryMatches(all, "States.TaskFailed"));
  EXPECT_FALSE(RetryMatches(all, "States.Runtime"));
  EXPECT_FALSE(RetryMatches(JsonNull(), "B"));
}

TEST(TestStateTest, DecideRetryAppliesTheFirstMatchingRetrierWithItsBackoff) {
  Json retry = Parse(R"([{"ErrorEquals":["A"],"MaxAttempts":2,"IntervalSeconds":3},)"
                     R"({"ErrorEquals":["States.ALL"],"BackoffRate":3,"MaxDelaySeconds":5}])");
  auto render = [&](const char* error, int64_t count) {
    auto decision = DecideRetry(retry, error, count);
    return decision ? std::to_string(decision->retrier_index) + "@" +
                          std::to_string(decision->backoff_seconds)
                    : std::string("none");
  };
  EXPECT_EQ(render("A", 0), "0@3");
  EXPECT_EQ(render("A", 1), "0@6");
  EXPECT_EQ(render("A", 2), "none");  // the first match applies, even when exhausted
  EXPECT_EQ(render("B", 0), "1@1");
  EXPECT_EQ(render("B", 1), "1@3");
  EXPECT_EQ(render("B", 2), "1@5");   // 9, capped by MaxDelaySeconds
  EXPECT_EQ(render("B", 3), "none");  // MaxAttempts defaults to 3
  EXPECT_EQ(render("States.Runtime", 0), "none");
}

TEST(TestStateTest, CatchIndexNamesTheFirstMatchingCatcher) {
  Json catchers = Parse(R"([{"ErrorEquals":["A"],"Next":"X"},{"ErrorEquals":["States.ALL"],)"
                        R"("Next":"Y"}])");
  EXPECT_EQ(CatchIndex(catchers, "A").value_or(-1), 0);
  EXPECT_EQ(CatchIndex(catchers, "B").value_or(-1), 1);
  EXPECT_FALSE(CatchIndex(catchers, "States.Runtime").has_value());
  EXPECT_FALSE(CatchIndex(JsonNull(), "A").has_value());
}

TEST(TestStateTest, FindsAStateOfAWholeMachineAlsoInBranchesAndProcessors) {
  Json machine =
      Parse(R"({"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"B",)"
            R"("States":{"B":{"Type":"Map","ItemProcessor":{"StartAt":"Inner","States":{"Inner":)"
            R"({"Type":"Pass","Result":7,"End":true}}},"End":true}}}],"End":true}}})");
  const Json* inner = FindStateForTest(machine, "Inner");
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(DumpJson(*inner), R"({"Type":"Pass","Result":7,"End":true})");
  EXPECT_NE(FindStateForTest(machine, "P"), nullptr);
  EXPECT_EQ(FindStateForTest(machine, "Nowhere"), nullptr);
  EXPECT_EQ(FindStateForTest(Parse(R"({"Type":"Pass"})"), "P"), nullptr);
}

TEST(TestStateTest, AMockedMapBecomesATaskOnTheMockResource) {
  auto machine = WrapStateForTest(
      Parse(R"({"Type":"Map","ItemsPath":"$.items","Parameters":{"x.$":"$$.Map.Item.Value"},)"
            R"("ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},)"
            R"("ResultPath":"$.out","Catch":[{"ErrorEquals":["States.ALL"],"Next":"F"}],)"
            R"("Retry":[{"ErrorEquals":["X"]}],"Next":"N"})"),
      JsonNull(), true);
  ASSERT_TRUE(machine.ok());
  EXPECT_EQ(machine->definition,
            R"({"StartAt":"TestState","States":{"TestState":{"Type":"Task","ResultPath":"$.out",)"
            R"("Catch":[{"ErrorEquals":["States.ALL"],"Next":"F"}],"Next":"N","Resource":)"
            R"("arn:aws:states:::switchyard:testState.mock"},"N":{"Type":"Succeed"},)"
            R"("F":{"Type":"Succeed"}}})");
  EXPECT_EQ(DumpJson(machine->retry), R"([{"ErrorEquals":["X"]}])");
}

TEST(TestStateTest, InspectsEachStepOfTheDataFlow) {
  ParseResult parsed = ParseDefinition(
      R"({"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:::function:f",)"
      R"("InputPath":"$.in","Parameters":{"p.$":"$.n"},"ResultSelector":{"s.$":"$.r"},)"
      R"("ResultPath":"$.out","End":true}}})");
  ASSERT_TRUE(parsed.ok());
  FixedRandom random;
  Json input = Parse(R"({"in":{"n":2}})");
  Json result = Parse(R"({"r":3})");
  Inspection inspection = InspectDataFlow(*parsed.definition->Find("T"), input, &result, random);
  EXPECT_EQ(inspection.input.value_or("-"), R"({"in":{"n":2}})");
  EXPECT_EQ(inspection.after_input_path.value_or("-"), R"({"n":2})");
  EXPECT_EQ(inspection.after_parameters.value_or("-"), R"({"p":2})");
  EXPECT_EQ(inspection.result.value_or("-"), R"({"r":3})");
  EXPECT_EQ(inspection.after_result_selector.value_or("-"), R"({"s":3})");
  EXPECT_EQ(inspection.after_result_path.value_or("-"), R"({"in":{"n":2},"out":{"s":3}})");
  // Without a result (the task failed), the steps stop after Parameters.
  Inspection failed = InspectDataFlow(*parsed.definition->Find("T"), input, nullptr, random);
  EXPECT_EQ(failed.after_parameters.value_or("-"), R"({"p":2})");
  EXPECT_FALSE(failed.result.has_value());
  // A path that selects nothing stops there.
  Inspection missing =
      InspectDataFlow(*parsed.definition->Find("T"), Parse(R"({"x":1})"), &result, random);
  EXPECT_TRUE(missing.input.has_value());
  EXPECT_FALSE(missing.after_input_path.has_value());
}

// AWS's recorded refusals of TestState's `context` (ValidationException messages).
TEST(TestStateTest, CheckTestContextRefusesWhatAwsRefuses) {
  const Json task = Parse(R"({"Type":"Task","Resource":"arn:aws:states:::lambda:invoke"})");
  const Json callback =
      Parse(R"({"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken"})");
  auto check = [&](const char* context, const Json& state) {
    return CheckTestContext(Parse(context), state).value_or("ok");
  };
  EXPECT_EQ(check(R"({"Execution":{"Id":"a","Input":{"x":1}},"State":{"RetryCount":0},)"
                  R"("StateMachine":{"Name":"m"}})",
                  task),
            "ok");
  EXPECT_EQ(check("{}", task), "ok");
  EXPECT_EQ(check(R"({"Execution":{"Id":1}})", task),
            "Invalid Context object provided: Execution.Id must be a string");
  EXPECT_EQ(check(R"({"Map":{}})", task),
            "Invalid Context object provided: 'Map' field is not supported when mocking a "
            "Context object");
  EXPECT_EQ(check(R"({"Execution":{"pokemon":"squirtle"}})", task),
            "Invalid Context object provided: Field 'pokemon' is not allowed");
  EXPECT_EQ(check(R"({"Pokedex":{}})", task),
            "Invalid Context object provided: Field 'Pokedex' is not allowed");
  EXPECT_EQ(check(R"({"Task":{"Token":"t"}})", task),
            "Invalid Context object provided: Context object contains 'Task' when state is not "
            "a Task state with a '.sync' or '.waitForTaskToken' service integration pattern");
  EXPECT_EQ(check(R"({"Task":{"Token":"t"}})", callback), "ok");
}

}  // namespace
}  // namespace switchyard::asl
