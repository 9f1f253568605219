#include "switchyard/asl/json.hpp"

#include <gtest/gtest.h>

namespace switchyard::asl {
namespace {

TEST(JsonTest, ParsesAndDumpsCompactly) {
  auto value = ParseJson(R"( {"a": [1, 2.5, "x", null, true], "b": {}} )");
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(DumpJson(*value), R"({"a":[1,2.5,"x",null,true],"b":{}})");
}

TEST(JsonTest, ReportsSyntaxErrorsWithOffset) {
  std::string error;
  EXPECT_FALSE(ParseJson("{\"a\": }", &error).has_value());
  EXPECT_NE(error.find("offset 6"), std::string::npos) << error;
  EXPECT_FALSE(ParseJson("{} {}", &error).has_value());
  EXPECT_FALSE(ParseJson("", &error).has_value());
}

TEST(JsonTest, HugeDigitRunsParseWithoutReadingOutOfBounds) {
  // Regression: fuzz_definition found RapidJSON's full-precision path crashing on this.
  const std::string zeros = "0." + std::string(5000, '0') + "1";
  auto value = ParseJson(zeros);
  ASSERT_TRUE(value.has_value());
  EXPECT_TRUE(value->IsNumber());
  EXPECT_EQ(DumpJson(*ParseJson("[0.1,1.1,123.456]")), "[0.1,1.1,123.456]");
}

TEST(JsonTest, EqualityComparesNumbersByValueAndIgnoresMemberOrder) {
  EXPECT_TRUE(JsonEquals(*ParseJson("{\"a\":1,\"b\":[2]}"), *ParseJson("{\"b\":[2.0],\"a\":1.0}")));
  EXPECT_FALSE(JsonEquals(*ParseJson("[1]"), *ParseJson("[true]")));
  EXPECT_FALSE(JsonEquals(*ParseJson("{\"a\":1}"), *ParseJson("{\"a\":1,\"b\":2}")));
}

TEST(JsonTest, CopyIsDeepAndSetReplacesInPlace) {
  Json original = *ParseJson(R"({"k":"v","n":{"x":1}})");
  Json copy = CopyJson(original);
  JsonSet(copy, "k", JsonString("changed"));
  JsonSet(copy, "z", JsonInt(3));
  EXPECT_EQ(DumpJson(original), R"({"k":"v","n":{"x":1}})");
  EXPECT_EQ(DumpJson(copy), R"({"k":"changed","n":{"x":1},"z":3})");
}

TEST(JsonTest, TypeNamesAndTextSize) {
  EXPECT_EQ(JsonTypeName(*ParseJson("1.5")), "number");
  EXPECT_EQ(JsonTypeName(*ParseJson("false")), "boolean");
  EXPECT_EQ(JsonTypeName(*ParseJson("null")), "null");
  EXPECT_EQ(JsonTextSize(*ParseJson(R"({"é": 1})")), std::string(R"({"é":1})").size());
}

}  // namespace
}  // namespace switchyard::asl
