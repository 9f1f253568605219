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

}  // namespace
}  // namespace switchyard::asl
