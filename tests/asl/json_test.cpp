#include "switchyard/asl/json.hpp"

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
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
  // Regression: fuzz_definition found RapidJSON's full-precision path crashing on this (now
  // within Jackson's 1,000-character number limit).
  const std::string zeros = "0." + std::string(990, '0') + "1";
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
  EXPECT_EQ((*mixed)[3].GetDouble(), 0.1 + 0.2);  // correctly rounded, whatever else is there
  EXPECT_EQ(ParseJson("-1e-400")->GetDouble(), 0.0);
  EXPECT_TRUE(ParseJson("18446744073709551616")->IsDouble());  // beyond 64 bits
  EXPECT_TRUE(ParseJson("-9223372036854775808")->IsInt64());
}

// Jackson (AWS's parser) reads a double with Double.parseDouble: beyond double's range it is
// infinity, which Jackson writes as the string "Infinity". Numbers longer than 1,000 characters
// are refused (StreamReadConstraints.getMaxNumberLength()).
TEST(JsonTest, NumbersBeyondDoubleRangeAreInfinityAsInJava) {
  std::string error;
  std::optional<Json> value = ParseJson("[1e999, -1e999, 1e400, 0e999, 1.5, 2.5e-999]", &error);
  ASSERT_TRUE(value.has_value()) << error;
  EXPECT_EQ(DumpJson(*value), R"(["Infinity","-Infinity","Infinity",0.0,1.5,0.0])");
  EXPECT_TRUE(std::isinf((*value)[0].GetDouble()));
  EXPECT_LT((*value)[1].GetDouble(), 0);
  // A mantissa longer than RapidJSON's double path takes (309+ digits).
  const std::string long_integer = "1" + std::string(400, '0');
  value = ParseJson("{\"big\":" + long_integer + ",\"after\":[\"1e999\",2]}", &error);
  ASSERT_TRUE(value.has_value()) << error;
  EXPECT_EQ(DumpJson(*value), R"({"big":"Infinity","after":["1e999",2]})");
  const std::string long_decimal = "0." + std::string(350, '0') + "7e300";
  value = ParseJson(long_decimal, &error);
  ASSERT_TRUE(value.has_value()) << error;
  EXPECT_DOUBLE_EQ(value->GetDouble(), 7e-51);
  // Beyond 2^101 an integer is a double (Jackson would keep a BigInteger: not matched).
  EXPECT_EQ(DumpJson(*ParseJson("12345678901234567890123456789012345")), "1.234567890123457e34");
  EXPECT_FALSE(ParseJson("[" + std::string(1001, '1') + "]", &error).has_value());
  EXPECT_EQ(error,
            "Number value length (1001) exceeds the maximum allowed (1000, from "
            "`StreamReadConstraints.getMaxNumberLength()`) at offset 1");
  EXPECT_TRUE(ParseJson(std::string(1000, '1')).has_value());
  EXPECT_EQ(DumpJson(JsonDouble(std::nan(""))), "\"NaN\"");
}

// AWS's parser (Jackson) refuses nesting deeper than 1,000; ours is iterative, so nothing deeper
// reaches a stack either way.
TEST(JsonTest, RefusesNestingDeeperThanJacksonAllows) {
  std::string error;
  const int depth = kMaxJsonNestingDepth;
  EXPECT_TRUE(ParseJson(std::string(depth, '[') + std::string(depth, ']'), &error).has_value())
      << error;
  std::string objects;
  for (int i = 0; i < depth; ++i) objects += "{\"a\":";
  EXPECT_TRUE(ParseJson(objects + "1" + std::string(depth, '}')).has_value());
  for (int too_deep : {depth + 1, 100000}) {
    EXPECT_FALSE(
        ParseJson(std::string(too_deep, '[') + std::string(too_deep, ']'), &error).has_value());
    EXPECT_EQ(error,
              "Document nesting depth (1001) exceeds the maximum allowed (1000, from "
              "`StreamReadConstraints.getMaxNestingDepth()`) at offset 1000");
  }
  // Switchyard's own records hold payloads a few levels down.
  const std::string record = std::string(depth + 5, '[') + std::string(depth + 5, ']');
  EXPECT_FALSE(ParseJson(record).has_value());
  EXPECT_TRUE(ParseJsonNested(record, kMaxRecordNestingDepth).has_value());
  EXPECT_FALSE(ParseJsonNested("[[[]]]", 2, &error).has_value());
  EXPECT_EQ(error,
            "Document nesting depth (3) exceeds the maximum allowed (2, from "
            "`StreamReadConstraints.getMaxNestingDepth()`) at offset 2");
  // Unclosed and interleaved: still refused, never recursed.
  EXPECT_FALSE(ParseJson(std::string(200000, '['), &error).has_value());
  std::string mixed;
  for (int i = 0; i < 50000; ++i) mixed += "{\"k\":[";
  EXPECT_FALSE(ParseJson(mixed, &error).has_value());
  EXPECT_NE(error.find("nesting depth (1001)"), std::string::npos) << error;
}

// Values built in memory may be deeper than any parse allows: every walk is iterative.
TEST(JsonTest, WalksAnyDepthWithoutRecursion) {
  constexpr int kDepth = 100000;
  Json deep = JsonObject();
  deep.AddMember(JsonString("k"), JsonInt(1), Alloc());
  for (int i = 0; i < kDepth; ++i) {
    Json outer = JsonArray();
    JsonPush(outer, std::move(deep));
    deep = std::move(outer);
  }
  const std::string text = DumpJson(deep);
  EXPECT_EQ(text, std::string(kDepth, '[') + "{\"k\":1}" + std::string(kDepth, ']'));
  EXPECT_EQ(JsonTextSize(deep), text.size());
  EXPECT_EQ(JsonNestingDepth(deep, 1 << 30), kDepth + 1);
  EXPECT_EQ(JsonNestingDepth(deep), kMaxJsonNestingDepth + 1);
  Json copy = CopyJson(deep);
  EXPECT_TRUE(JsonEquals(deep, copy));
  EXPECT_EQ(DumpJson(copy), text);
  DestroyJson(copy);
  EXPECT_TRUE(copy.IsNull());
  DestroyJson(deep);
}

// Jackson reads bytes as UTF-8 and refuses a malformed sequence (e.g. "Invalid UTF-8 start byte
// 0x97"); so does ParseJson, anywhere in the text.
TEST(JsonTest, RefusesTextThatIsNotUtf8) {
  std::string error;
  EXPECT_FALSE(ParseJson("{\"a\":\"x\x97\"}", &error).has_value());
  EXPECT_EQ(error, "Invalid UTF-8 start byte 0x97 at offset 7");
  EXPECT_FALSE(ParseJson("{\"\xC3\x28\":1}", &error).has_value());  // bad key
  EXPECT_EQ(error, "Invalid UTF-8 middle byte 0x28 at offset 3");
  EXPECT_FALSE(ParseJson("\"\xE2\x82", &error).has_value());
  EXPECT_EQ(error, "Unexpected end-of-input in a UTF-8 sequence at offset 3");
  for (const char* bad : {"\"\xC0\x80\"", "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"", "\"\xFF\""}) {
    EXPECT_FALSE(ParseJson(bad).has_value()) << bad;  // overlong, surrogate, > U+10FFFF, 0xFF
    EXPECT_FALSE(IsValidUtf8(bad));
  }
  EXPECT_TRUE(ParseJson("\"\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80\"").has_value());  // é 中 😀
  EXPECT_TRUE(IsValidUtf8("plain \xEF\xBF\xBD"));
}

// Java's new String(bytes, UTF_8): each maximal ill-formed subsequence becomes U+FFFD.
TEST(JsonTest, ReplacesIllFormedUtf8AsJavaDoes) {
  EXPECT_EQ(Utf8WithReplacements("a\xFF"
                                 "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(Utf8WithReplacements("\xE2\x82"), "\xEF\xBF\xBD");  // truncated: one
  EXPECT_EQ(Utf8WithReplacements("\xE2\x82x"), "\xEF\xBF\xBDx");
  EXPECT_EQ(Utf8WithReplacements("\xED\xA0\x80"),
            std::string(3, 'X').replace(0, 3, "") + "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(Utf8WithReplacements("\xC3\xA9"), "\xC3\xA9");
  EXPECT_TRUE(IsValidUtf8(Utf8WithReplacements("\x80\xBF\xC0\xF5\xF0\x9F\x98")));
}

// Whatever a string holds (a function's raw output is not checked), its JSON text is UTF-8.
TEST(JsonTest, DumpAlwaysWritesValidUtf8) {
  Json value = JsonObject();
  value.AddMember(JsonString("k\xFF"),
                  JsonString("a\xE2\x82"
                             "b\xC3\xA9\n"),
                  Alloc());
  const std::string text = DumpJson(value);
  EXPECT_EQ(text,
            "{\"k\xEF\xBF\xBD\":\"a\xEF\xBF\xBD"
            "b\xC3\xA9\\n\"}");
  EXPECT_TRUE(IsValidUtf8(text));
  EXPECT_EQ(JsonTextSize(value), text.size());
  std::string appended;
  AppendJsonString(appended, "\xC0\x80");
  EXPECT_EQ(appended, "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
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

// Jackson keeps an integer literal beyond 64 bits as a BigInteger and writes it back exactly; so
// do we, up to 2^101, with the nearest double as its numeric value.
TEST(JsonTest, BigIntegersRoundTripExactly) {
  const std::string text =
      R"({"a":123456789012345678901234567890,"b":-123456789012345678901234567890,)"
      R"("c":[18446744073709551616,18446744073709551615,-9223372036854775809,)"
      R"(-9223372036854775808,1267650600228229401496703205376,2535301200456458802993406410751],)"
      R"("d":1.0e30,"e":1208925819614629174706176})";
  std::string error;
  std::optional<Json> value = ParseJson(text, &error);
  ASSERT_TRUE(value.has_value()) << error;
  EXPECT_EQ(DumpJson(*value),
            R"({"a":123456789012345678901234567890,"b":-123456789012345678901234567890,)"
            R"("c":[18446744073709551616,18446744073709551615,-9223372036854775809,)"
            R"(-9223372036854775808,1267650600228229401496703205376,)"
            R"(2535301200456458802993406410751],"d":1e30,"e":1208925819614629174706176})");
  const Json& a = (*value)["a"];
  EXPECT_TRUE(IsBigInteger(a));
  EXPECT_TRUE(a.IsNumber());
  EXPECT_TRUE(a.IsDouble());  // numerically a double, as Jackson's asDouble()
  EXPECT_EQ(a.GetDouble(), 1.2345678901234568e29);
  EXPECT_FALSE(IsBigInteger((*value)["c"][1]));  // uint64
  EXPECT_FALSE(IsBigInteger((*value)["c"][3]));  // int64
  EXPECT_FALSE(IsBigInteger((*value)["d"]));     // a literal with a fraction or exponent
  EXPECT_EQ(JsonTextSize(*value), DumpJson(*value).size());

  // Copies, moves and RapidJSON's copy of a number keep the value (RapidJSON's deep copy of a
  // container, a recursive SAX round trip, is never used: CopyJson is); equality is exact.
  Json copy = CopyJson(*value);
  EXPECT_EQ(DumpJson(copy), DumpJson(*value));
  EXPECT_TRUE(JsonEquals(copy, *value));
  Json moved = std::move(copy);
  Json rapid(moved["a"], Alloc());
  EXPECT_EQ(DumpJson(rapid), "123456789012345678901234567890");
  EXPECT_FALSE(JsonEquals(*ParseJson("123456789012345678901234567890"),
                          *ParseJson("123456789012345678901234567891")));
  EXPECT_FALSE(
      JsonEquals(*ParseJson("123456789012345678901234567890"), JsonDouble(1.2345678901234568e29)));
  EXPECT_TRUE(JsonEquals(*ParseJson("1208925819614629174706176"), JsonDouble(0x1p80)));
  EXPECT_FALSE(
      JsonEquals(*ParseJson("18446744073709551616"), Json(uint64_t{18446744073709551615u})));
  // A snapshot round trip (dump, parse) is the identity.
  EXPECT_EQ(DumpJson(*ParseJson(DumpJson(*value))), DumpJson(*value));
  DestroyJson(*value);
  EXPECT_TRUE(value->IsNull());
}

}  // namespace
}  // namespace switchyard::asl
