// Deep shapes end to end through the execution core (issue #8): the deepest nestings a
// definition may hold run (also under ASan, whose frames are larger), and values deeper than any
// parse allows move through states without a recursion over their depth.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "core_fake_driver.hpp"
#include "switchyard/asl/definition.hpp"
#include "switchyard/asl/json.hpp"

namespace switchyard::asl {
namespace {

// A state nested `depth` deep in `open(name)` ... `close` wrappers, built in linear time.
// `head` goes before StartAt (e.g. R"("TimeoutSeconds":5,)").
template <typename Open>
std::string Nest(int depth, Open open, std::string_view close, std::string_view innermost,
                 std::string_view head = "") {
  std::string out = "{" + std::string(head) + R"("StartAt":"Top","States":{"Top":)";
  for (int i = depth - 1; i >= 0; --i) out += open("S" + std::to_string(i));
  out += innermost;
  for (int i = 0; i < depth; ++i) out += close;
  return out + "}}";
}

testing::FakeRun RunDefinition(const std::string& definition, const std::string& input,
                               bool crash_after_every_event = false,
                               std::optional<double> stop_at_seconds = std::nullopt) {
  ParseResult parsed = ParseDefinition(definition);
  EXPECT_TRUE(parsed.ok()) << (parsed.diagnostics.empty() ? "" : parsed.diagnostics[0].message);
  if (!parsed.ok()) return {};
  std::optional<Json> input_json = ParseJson(input);
  EXPECT_TRUE(input_json.has_value());
  return testing::RunWithFakeDriver(*parsed.definition, *input_json, nullptr,
                                    crash_after_every_event, stop_at_seconds);
}

std::string ParallelLevel(const std::string& name) {
  return R"({"Type":"Parallel","Branches":[{"StartAt":")" + name + R"(","States":{")" + name +
         R"(":)";
}
constexpr std::string_view kParallelClose = R"(}}],"End":true})";

std::string MapLevel(const std::string& name) {
  return R"({"Type":"Map","ItemsPath":"$.i","ItemProcessor":{"StartAt":")" + name +
         R"(","States":{")" + name + R"(":)";
}
constexpr std::string_view kMapClose = R"(}},"End":true})";

// {"i":[{"i":[ ... 1 ... ]}]}, `depth` levels: one item for every level of MapLevel.
std::string MapInput(int depth) {
  std::string input;
  for (int i = 0; i < depth; ++i) input += R"({"i":[)";
  input += "1";
  for (int i = 0; i < depth; ++i) input += "]}";
  return input;
}

// How many events of `type` the history holds.
std::size_t Count(const testing::FakeRun& run, std::string_view type) {
  return static_cast<std::size_t>(
      std::count(run.history_types.begin(), run.history_types.end(), type));
}

// Parallel nested as deep as the JSON limit allows (249 levels of 4): each level wraps the output
// in an array.
TEST(DepthTest, DeepestParallelNestingRuns) {
  constexpr int kDepth = 249;
  const std::string definition = Nest(
      kDepth,
      [](const std::string& name) {
        return R"({"Type":"Parallel","Branches":[{"StartAt":")" + name + R"(","States":{")" + name +
               R"(":)";
      },
      R"(}}],"End":true})", R"({"Type":"Pass","Result":"x","End":true})");
  const testing::FakeRun run = RunDefinition(definition, "{}");
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded)
      << run.error.value_or("") << run.cause.value_or("");
  EXPECT_EQ(run.output, std::string(kDepth, '[') + "\"x\"" + std::string(kDepth, ']'));
}

// Map nested as deep as the JSON limit allows (332 levels of 3), one item per level.
TEST(DepthTest, DeepestMapNestingRuns) {
  constexpr int kDepth = 332;
  const std::string definition = Nest(
      kDepth,
      [](const std::string& name) {
        return R"({"Type":"Map","ItemsPath":"$.i","ItemProcessor":{"StartAt":")" + name +
               R"(","States":{")" + name + R"(":)";
      },
      R"(}},"End":true})", R"({"Type":"Pass","End":true})");
  // Every level's items come from the input {"i":[{"i":[...]}]}: the deepest input allowed.
  std::string input;
  for (int i = 0; i < kDepth; ++i) input += R"({"i":[)";
  input += "1";
  for (int i = 0; i < kDepth; ++i) input += "]}";
  std::string error;
  ASSERT_TRUE(ParseJson(input, &error).has_value()) << error;
  const testing::FakeRun run = RunDefinition(definition, input);
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded)
      << run.error.value_or("") << run.cause.value_or("");
  EXPECT_EQ(run.output, std::string(kDepth, '[') + "1" + std::string(kDepth, ']'));
}

// An input as deep as a parse allows, wrapped once more by every pass of a loop, grows past
// that depth (to 1,299 levels) and keeps moving: dumps, copies, size checks, JSONPath and
// intrinsics over it are iterative.
TEST(DepthTest, ValuesGrowDeeperThanAnyParseAndStillFlow) {
  const std::string definition = R"json({"StartAt":"Wrap","States":{
      "Wrap":{"Type":"Pass","Parameters":{"v.$":"$","n.$":"States.MathAdd($.n, 1)"},
              "Next":"Loop"},
      "Loop":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericLessThan":300,"Next":"Wrap"}],
              "Default":"Done"},
      "Done":{"Type":"Pass","Parameters":{"n.$":"$.n","text.$":"States.JsonToString($.v)",
              "ns.$":"$.v..n"},"End":true}}})json";
  const std::string input =
      R"({"n":0,"v":)" + std::string(998, '[') + "1" + std::string(998, ']') + "}";
  const testing::FakeRun run = RunDefinition(definition, input);
  ASSERT_EQ(run.status, ExecutionStatus::kSucceeded)
      << run.error.value_or("") << run.cause.value_or("");
  const std::string head = R"({"n":300,"text":"{\"v\":{\"v\":{\"v\":)";
  EXPECT_EQ(run.output.substr(0, head.size()), head);
  const std::string tail = ",2,1,0]}";
  EXPECT_EQ(run.output.substr(run.output.size() - tail.size()), tail);
  // The text is the whole 1,299-level value: more than a parse accepts back.
  std::optional<Json> output = ParseJson(run.output);
  ASSERT_TRUE(output.has_value());
  std::string error;
  EXPECT_FALSE(ParseJson(JsonView(*JsonFind(*output, "text")), &error).has_value());
  EXPECT_NE(error.find("nesting depth (1001)"), std::string::npos) << error;
}

// The deepest Parallel nesting, blocked in a Wait at the bottom, times out (TimeoutSeconds): every
// level is aborted, innermost first, without a recursion per level.
TEST(DepthTest, DeepestParallelNestingTimesOutWhileWaitingAtTheBottom) {
  constexpr int kDepth = 249;
  const std::string definition =
      Nest(kDepth, ParallelLevel, kParallelClose, R"({"Type":"Wait","Seconds":100,"End":true})",
           R"("TimeoutSeconds":5,)");
  const testing::FakeRun run = RunDefinition(definition, "{}");
  EXPECT_EQ(run.status, ExecutionStatus::kTimedOut);
  EXPECT_EQ(run.error.value_or(""), "States.Timeout");
  EXPECT_EQ(Count(run, "ParallelStateStarted"), std::size_t{kDepth});
  EXPECT_EQ(Count(run, "WaitStateEntered"), 1u);
  ASSERT_FALSE(run.history_types.empty());
  EXPECT_EQ(run.history_types.back(), "ExecutionTimedOut");
}

// The deepest Map nesting, stopped (StopExecution) while it waits at the bottom, also across a
// snapshot after every event (ToJson/FromJson of 333 live frames).
TEST(DepthTest, DeepestMapNestingIsStoppedWhileWaitingAtTheBottom) {
  constexpr int kDepth = 332;
  const std::string definition =
      Nest(kDepth, MapLevel, kMapClose, R"({"Type":"Wait","Seconds":100,"End":true})");
  for (bool crash : {false, true}) {
    const testing::FakeRun run = RunDefinition(definition, MapInput(kDepth), crash, 10.0);
    EXPECT_EQ(run.status, ExecutionStatus::kAborted) << crash;
    EXPECT_EQ(Count(run, "MapIterationStarted"), std::size_t{kDepth});
    ASSERT_FALSE(run.history_types.empty());
    EXPECT_EQ(run.history_types.back(), "ExecutionAborted");
    EXPECT_TRUE(run.snapshots_stable);
  }
}

// A branch that fails aborts its sibling, a Map nested as deep as the JSON limit still allows
// under the Parallel, which is waiting at the bottom: the abort walks 330 levels iteratively and
// records each level's events, innermost first.
TEST(DepthTest, AFailingBranchAbortsADeepestSibling) {
  constexpr int kDepth = 330;
  const std::string deep =
      Nest(kDepth, MapLevel, kMapClose, R"({"Type":"Wait","Seconds":100,"End":true})");
  // The deep machine becomes the first branch; the second fails at once.
  const std::string definition =
      R"({"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[)" + deep +
      R"(,{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom","Cause":"b"}}}]}}})";
  for (bool crash : {false, true}) {
    const testing::FakeRun run = RunDefinition(definition, MapInput(kDepth), crash);
    EXPECT_EQ(run.status, ExecutionStatus::kFailed) << crash;
    EXPECT_EQ(run.error.value_or(""), "Boom");
    EXPECT_EQ(Count(run, "WaitStateAborted"), 1u);
    EXPECT_EQ(Count(run, "MapIterationAborted"), std::size_t{kDepth});
    EXPECT_EQ(Count(run, "MapStateAborted"), std::size_t{kDepth});
    // Innermost first: the Wait, then its iteration, then the Map that held it, ...
    auto wait = std::find(run.history_types.begin(), run.history_types.end(), "WaitStateAborted");
    ASSERT_NE(wait, run.history_types.end());
    ASSERT_GE(run.history_types.end() - wait, 3);
    EXPECT_EQ(*(wait + 1), "MapIterationAborted");
    EXPECT_EQ(*(wait + 2), "MapStateAborted");
    EXPECT_TRUE(run.snapshots_stable);
  }
}

}  // namespace
}  // namespace switchyard::asl
