#include "switchyard/asl/json.hpp"

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <limits>
#include <string>

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
  // Regression: a long mantissa with a large negative exponent took the same broken path.
  const std::string tiny = "0." + std::string(46, '0') + "18446744073709551615e-00000300";
  auto small = ParseJson(tiny);
  ASSERT_TRUE(small.has_value());
  EXPECT_EQ(small->GetDouble(), 0.0);
  auto mixed = ParseJson("[" + tiny + ", 1e-300, 2.5e+300, 0.30000000000000004]");
  ASSERT_TRUE(mixed.has_value());
  EXPECT_EQ((*mixed)[1].GetDouble(), 1e-300);
  EXPECT_EQ((*mixed)[2].GetDouble(), 2.5e300);
  EXPECT_EQ((*mixed)[3].GetDouble(), 0.1 + 0.2);   // correctly rounded, whatever else is there
  EXPECT_FALSE(ParseJson("[1e400]").has_value());  // too large for a double, as before
  EXPECT_EQ(ParseJson("-1e-400")->GetDouble(), 0.0);
  EXPECT_TRUE(ParseJson("18446744073709551616")->IsDouble());  // beyond 64 bits
  EXPECT_TRUE(ParseJson("-9223372036854775808")->IsInt64());
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

// DumpJson writes text itself; it must give the bytes RapidJSON's own Writer gives.
std::string RapidJsonText(const Json& value) {
  rapidjson::GenericStringBuffer<rapidjson::UTF8<>, rapidjson::CrtAllocator> buffer;
  rapidjson::Writer<decltype(buffer), rapidjson::UTF8<>, rapidjson::UTF8<>, rapidjson::CrtAllocator>
      writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

TEST(JsonTest, DumpMatchesRapidJsonWriterByteForByte) {
  const char* texts[] = {
      R"({"a":[1,-2,3.25,1e300,-0.0,0.1,123456789012345678,18446744073709551615,-9223372036854775808]})",
      R"(["\u0000\u0001\u001f","tab\there","q\"uote","back\\slash","slash/","\u00e9\u4e2d","\ud83d\ude00","\u007f"])",
      R"({"":{},"x":[],"nested":[[[{"k":[null,true,false]}]]]})",
      R"([1.5e-7,2.2250738585072014e-308,4.9e-324,1.7976931348623157e308,100.0,3.0e2])",
      R"({"\n key\"":"v","dup":1,"dup":2})",
  };
  for (const char* text : texts) {
    std::optional<Json> value = ParseJson(text);
    ASSERT_TRUE(value.has_value()) << text;
    EXPECT_EQ(DumpJson(*value), RapidJsonText(*value)) << text;
    EXPECT_EQ(JsonTextSize(*value), RapidJsonText(*value).size()) << text;
    Json copy = CopyJson(*value);
    EXPECT_EQ(RapidJsonText(copy), RapidJsonText(*value)) << text;
  }
  for (int64_t n : {int64_t{0}, int64_t{-1}, std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(DumpJson(JsonInt(n)), RapidJsonText(JsonInt(n)));
  }
  std::string appended = "x=";
  AppendJsonString(appended, "a\"b\n\x01");
  EXPECT_EQ(appended, "x=\"a\\\"b\\n\\u0001\"");
}

}  // namespace
}  // namespace switchyard::asl
