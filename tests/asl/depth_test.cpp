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

// A loop that wraps its value once more per pass (towards 100,000 levels) stops where Jackson's
// writer would (StreamWriteConstraints: 1,000 levels), with States.Runtime at the state that
// produced the value; nothing deeper is ever stored, dumped or destroyed recursively.
TEST(DepthTest, ValuesBuiltDeeperThanJacksonWritesAreRefused) {
  const std::string definition = R"json({"StartAt":"Wrap","States":{
      "Wrap":{"Type":"Pass","Parameters":{"v.$":"$","n.$":"States.MathAdd($.n, 1)"},
              "Next":"Loop"},
      "Loop":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericLessThan":100000,
              "Next":"Wrap"}],"Default":"Done"},
      "Done":{"Type":"Succeed"}}})json";
  const testing::FakeRun run = RunDefinition(definition, R"({"n":0})");
  EXPECT_EQ(run.status, ExecutionStatus::kFailed);
  EXPECT_EQ(run.error.value_or(""), "States.Runtime");
  // The input {"n":0} is 1 deep; each pass adds a level, so pass 1,000 makes 1,001.
  EXPECT_EQ(run.cause.value_or(""),
            "An error occurred while executing the state 'Wrap' (entered at the event id "
            "#3998). Document nesting depth (1001) exceeds the maximum allowed (1000, from "
            "`StreamWriteConstraints.getMaxNestingDepth()`)");
  // The deepest input a parse accepts, wrapped once: 1,000 levels still pass.
  const std::string deep_input =
      R"({"n":99999,"v":)" + std::string(998, '[') + "1" + std::string(998, ']') + "}";
  const testing::FakeRun ok = RunDefinition(definition, deep_input);
  EXPECT_EQ(ok.status, ExecutionStatus::kSucceeded) << ok.cause.value_or("");
}

// A snapshot holds payloads a few levels down: one of the deepest payloads still restores (read
// back with kMaxRecordNestingDepth, as the durable engine reads snapshots and work items).
TEST(DepthTest, SnapshotsHoldingTheDeepestPayloadsRestore) {
  ParseResult parsed = ParseDefinition(R"json({"StartAt":"W","States":{
      "W":{"Type":"Wait","Seconds":1,"Next":"P"},
      "P":{"Type":"Pass","Parameters":{"v.$":"$.v"},"End":true}}})json");
  ASSERT_TRUE(parsed.ok());
  const std::string input = R"({"v":)" + std::string(999, '[') + std::string(999, ']') + "}";
  const testing::FakeRun run =
      testing::RunWithFakeDriver(*parsed.definition, *ParseJson(input), nullptr, true);
  EXPECT_EQ(run.status, ExecutionStatus::kSucceeded) << run.cause.value_or("");
  EXPECT_TRUE(run.snapshots_stable);
  EXPECT_EQ(run.output, input);
}

// Every other producer of values is bounded the same way: a Map iteration's input built by an
// ItemSelector, a variable, an intrinsic's result, a Catch's output.
TEST(DepthTest, EveryProducerRefusesValuesDeeperThanJacksonWrites) {
  // 997 levels in an array in an object: the deepest input a parse accepts (999).
  const std::string item = std::string(997, '[') + "1" + std::string(997, ']');
  const std::string input = R"({"items":[)" + item + "]}";
  const auto cause_of = [&](const std::string& definition) {
    const testing::FakeRun run = RunDefinition(definition, input);
    EXPECT_EQ(run.status, ExecutionStatus::kFailed) << definition;
    EXPECT_EQ(run.error.value_or(""), "States.Runtime") << definition;
    return run.cause.value_or("");
  };
  const std::string kTail =
      "Document nesting depth (1001) exceeds the maximum allowed (1000, from "
      "`StreamWriteConstraints.getMaxNestingDepth()`)";
  // ItemSelector: the item under four more levels.
  std::string cause = cause_of(R"json({"StartAt":"M","States":{"M":{"Type":"Map",
      "ItemsPath":"$.items","ItemSelector":{"w":{"x":{"y":{"v.$":"$$.Map.Item.Value"}}}},
      "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}})json");
  EXPECT_NE(cause.find(kTail), std::string::npos) << cause;
  // A variable.
  cause = cause_of(R"json({"StartAt":"A","States":{"A":{"Type":"Pass",
      "Assign":{"x":{"a":{"b":{"y.$":"$.items"}}}},"End":true}}})json");
  EXPECT_NE(cause.find("executing the state 'A'"), std::string::npos) << cause;
  EXPECT_NE(cause.find(kTail), std::string::npos) << cause;
  // An intrinsic's result (States.Array wraps once more) in a Pass state's Parameters.
  cause = cause_of(R"json({"StartAt":"T","States":{"T":{"Type":"Pass",
      "Parameters":{"b":{"a.$":"States.Array($.items)"}},"End":true}}})json");
  EXPECT_NE(cause.find(kTail), std::string::npos) << cause;
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
