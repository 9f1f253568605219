// JSONata's function library: the plain functions of asl/src/jsonata_lib.hpp against the values
// jsonata-js 2.0.6 gives (and AWS's documented ones for $random/$hash).
#include "jsonata_lib.hpp"

#include <gtest/gtest.h>

#include <string>

#include "switchyard/asl/jsonata_eval.hpp"
#include "utf8_internal.hpp"

namespace switchyard::asl::jsonata_lib {
namespace {

// The one UTF-8 decoder asl/ shares (json.cpp), as the picture parsers use it.
TEST(Utf8Test, DecodesCodePointsAndReplacesEachIllFormedSubsequence) {
  EXPECT_EQ(DecodeUtf8("a\xC3\xA9\xF0\x9F\x98\x80"), U"a\u00E9\U0001F600");
  // A stray byte, an overlong form, a surrogate and a truncated sequence: one U+FFFD each
  // maximal subpart.
  EXPECT_EQ(DecodeUtf8("a\xFF"
                       "b\xC0\xAF\xED\xA0\x80"
                       "c\xE2\x82"),
            U"a\uFFFDb\uFFFD\uFFFD\uFFFD\uFFFD\uFFFDc\uFFFD");
  EXPECT_EQ(EncodeUtf8(U"a\u00E9\U0001F600"), "a\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(EncodeUtf8(DecodeUtf8("#,##0.00\xE2\x80\xB0")), "#,##0.00\xE2\x80\xB0");
}

template <typename T>
std::string Render(const Outcome<T>& outcome) {
  if (const auto* e = std::get_if<JsonataError>(&outcome)) return "!" + e->code;
  if constexpr (std::is_same_v<T, std::string>) {
    return std::get<0>(outcome);
  } else if constexpr (std::is_same_v<T, std::optional<double>>) {
    const auto& v = std::get<0>(outcome);
    return v ? JsNumberToString(*v) : "undefined";
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    std::string out;
    for (const auto& s : std::get<0>(outcome)) out += "[" + s + "]";
    return out;
  } else if constexpr (std::is_same_v<T, bool>) {
    return std::get<0>(outcome) ? "true" : "false";
  } else if constexpr (std::is_same_v<T, Json>) {
    return DumpJson(std::get<0>(outcome));
  } else {
    return "?";
  }
}

std::string Num(double v, const char* picture, const char* options = nullptr) {
  std::optional<Json> o;
  if (options != nullptr) o = ParseJson(options);
  return Render(FormatNumber(v, picture, o ? &*o : nullptr));
}

TEST(JsonataLibNumbers, FormatNumber) {
  EXPECT_EQ(Num(12345.6, "#,###.00"), "12,345.60");
  EXPECT_EQ(Num(12345678.9, "9,999.99"), "12,345,678.90");
  EXPECT_EQ(Num(123412345678.9, "9,9,99.99"), "123412345,6,78.90");
  EXPECT_EQ(Num(1234.56789, "00.000e0"), "12.346e2");
  EXPECT_EQ(Num(0.234, "0.0e0"), "2.3e-1");
  EXPECT_EQ(Num(0.234, "#.00e0"), "0.23e0");
  EXPECT_EQ(Num(0.14, "01%"), "14%");
  EXPECT_EQ(Num(0.14, "###\u2030"), "140\u2030");
  EXPECT_EQ(Num(-6, "000"), "-006");
  EXPECT_EQ(Num(1234.5678, "00.00"), "1234.57");
  EXPECT_EQ(Num(1234.5678, "#.##0,00", R"({"decimal-separator":",","grouping-separator":"."})"),
            "1.234,57");
  EXPECT_EQ(Num(34.555, "#0.00;(#0.00)"), "34.56");
  EXPECT_EQ(Num(-34.555, "#0.00;(#0.00)"), "(34.56)");
  EXPECT_EQ(Num(1234, "\u0660\u0660", R"({"zero-digit":"\u0660"})"), "\u0661\u0662\u0663\u0664");
  EXPECT_EQ(Num(1, "#;#;#"), "!D3080");
  EXPECT_EQ(Num(1, "0.0.0"), "!D3081");
  EXPECT_EQ(Num(1, "0%%"), "!D3082");
  EXPECT_EQ(Num(1, "0%\u2030"), "!D3084");
  EXPECT_EQ(Num(1, "abc"), "!D3085");
  EXPECT_EQ(Num(1, "0,.0"), "!D3087");
  EXPECT_EQ(Num(1, "0,,0"), "!D3089");
  EXPECT_EQ(Num(1, "0#"), "!D3090");
  EXPECT_EQ(Num(1, "0.#0"), "!D3091");
  EXPECT_EQ(Num(1, "0e0%"), "!D3092");
  EXPECT_EQ(Num(1, "0ex"), "!D3093");
  // An irregular grouping wider than the number: jsonata-js's slice() with a negative index.
  EXPECT_EQ(Num(1, "#,##,##0"), ",1,");
  EXPECT_EQ(Num(99.995, "#,##,##0"), "1,0,0");
}

TEST(JsonataLibNumbers, FormatBaseAndRound) {
  EXPECT_EQ(Render(FormatBase(100, std::nullopt)), "100");
  EXPECT_EQ(Render(FormatBase(100, 2)), "1100100");
  EXPECT_EQ(Render(FormatBase(-100, 2)), "-1100100");
  EXPECT_EQ(Render(FormatBase(255, 16)), "ff");
  EXPECT_EQ(Render(FormatBase(99.5, 2.5)), "1100100");  // both rounded half to even
  EXPECT_EQ(Render(FormatBase(100, 1)), "!D3100");
  EXPECT_EQ(Render(FormatBase(100, 37)), "!D3100");
  EXPECT_EQ(RoundHalfEven(2.5, 0), 2);
  EXPECT_EQ(RoundHalfEven(3.5, 0), 4);
  EXPECT_EQ(RoundHalfEven(-2.5, 0), -2);
  EXPECT_EQ(RoundHalfEven(1.005, 2), 1);  // 1.005 is below the tie in binary... as in jsonata-js
  EXPECT_EQ(RoundHalfEven(0.125, 2), 0.12);
  EXPECT_EQ(JsNumberToString(1e21), "1e+21");
  EXPECT_EQ(JsNumberToString(123.456), "123.456");
  EXPECT_EQ(JsNumberToString(0.000001), "0.000001");
  EXPECT_EQ(JsNumberToString(1e-7), "1e-7");
}

TEST(JsonataLibNumbers, FormatAndParseInteger) {
  EXPECT_EQ(Render(FormatInteger(123, "0000")), "0123");
  EXPECT_EQ(Render(FormatInteger(-3, "0000")), "-0003");
  EXPECT_EQ(Render(FormatInteger(1234567, "#,##0")), "1,234,567");
  EXPECT_EQ(Render(FormatInteger(123, "000;o")), "123rd");
  EXPECT_EQ(Render(FormatInteger(11, "0;o")), "11th");
  EXPECT_EQ(Render(FormatInteger(12.6, "###0")), "12");
  EXPECT_EQ(Render(FormatInteger(1984, "I")), "MCMLXXXIV");
  EXPECT_EQ(Render(FormatInteger(28, "a")), "ab");
  EXPECT_EQ(Render(FormatInteger(123, "w")), "one hundred and twenty-three");
  EXPECT_EQ(Render(FormatInteger(1234567, "Ww")),
            "One Million, Two Hundred and Thirty-Four Thousand, Five Hundred and Sixty-Seven");
  EXPECT_EQ(Render(FormatInteger(20, "w;o")), "twentieth");
  EXPECT_EQ(Render(FormatInteger(1, "\u0661")), "\u0661");
  EXPECT_EQ(Render(FormatInteger(1, "0\u0661")), "!D3131");
  EXPECT_EQ(Render(FormatInteger(1, "x")), "!D3130");
  EXPECT_EQ(Render(ParseInteger("12,345", "#,##0")), "12345");
  EXPECT_EQ(Render(ParseInteger("MCMLXXXIV", "I")), "1984");
  EXPECT_EQ(Render(ParseInteger("ab", "a")), "28");
  EXPECT_EQ(Render(ParseInteger("one thousand, nine hundred and eighty-four", "w")), "1984");
  EXPECT_EQ(Render(ParseInteger("123rd", "000;o")), "123");
}

TEST(JsonataLibDateTime, FromMillis) {
  EXPECT_EQ(Render(FromMillis(1510067274972, std::nullopt, std::nullopt)),
            "2017-11-07T15:07:54.972Z");
  EXPECT_EQ(Render(FromMillis(1, std::nullopt, std::nullopt)), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(Render(FromMillis(1510067274972, std::nullopt, std::string_view("+0100"))),
            "2017-11-07T16:07:54.972+01:00");
  EXPECT_EQ(Render(FromMillis(1521801216617, "[D1o] [MNn] [Y]", std::nullopt)), "23rd March 2018");
  EXPECT_EQ(Render(FromMillis(1521801216617, "[FNn], [D1] [MN,*-3] [Y]", std::nullopt)),
            "Friday, 23 MAR 2018");
  EXPECT_EQ(Render(FromMillis(1521801216617, "[h]:[m01][P] [z]", std::string_view("-0500"))),
            "5:33am GMT-05:00");
  EXPECT_EQ(Render(FromMillis(1521801216617, "[Y0001]-[d001]", std::nullopt)), "2018-082");
  // Sat 1 Jan 2005 is in week 53 of ISO year 2004.
  EXPECT_EQ(Render(FromMillis(1104537600000, "[X0001]-W[W01]-[F1]", std::nullopt)), "2004-W53-6");
  EXPECT_EQ(Render(FromMillis(0, "[Y]-[q]", std::nullopt)), "!D3132");
  EXPECT_EQ(Render(FromMillis(0, "[YN]", std::nullopt)), "!D3133");
  EXPECT_EQ(Render(FromMillis(0, "[Y", std::nullopt)), "!D3135");
  EXPECT_EQ(Render(FromMillis(0, "[Z00001]", std::nullopt)), "!D3134");
  EXPECT_EQ(Render(FromMillis(0, "[[[Y]]]", std::nullopt)), "[1970]");
  EXPECT_EQ(Render(FromMillis(-62135596800000, std::nullopt, std::nullopt)),
            "0001-01-01T00:00:00.000Z");
  EXPECT_EQ(Render(FromMillis(1e20, std::nullopt, std::nullopt)), "!D3137");
}

TEST(JsonataLibDateTime, ToMillis) {
  EXPECT_EQ(Render(ToMillis("1970-01-01T00:00:00.001Z", std::nullopt, 0)), "1");
  EXPECT_EQ(Render(ToMillis("2018-02-01T09:42:13.123+0000", std::nullopt, 0)), "1517478133123");
  EXPECT_EQ(Render(ToMillis("2017-10-30", std::nullopt, 0)), "1509321600000");
  EXPECT_EQ(Render(ToMillis("2018", std::nullopt, 0)), "1514764800000");
  EXPECT_EQ(Render(ToMillis("foo", std::nullopt, 0)), "!D3110");
  EXPECT_EQ(Render(ToMillis("2017-13-07", std::nullopt, 0)), "NaN");  // Date.parse's NaN
  EXPECT_EQ(Render(ToMillis("2018-02-03 11:15:33", std::nullopt, 0)), "!D3110");
  EXPECT_EQ(Render(ToMillis("201802", "[Y0001][M01]", 0)), "1517443200000");
  EXPECT_EQ(Render(ToMillis("201802", "[Y,*-4][M01]", 0)), "1517443200000");
  EXPECT_EQ(Render(ToMillis("27th 3 1976", "[D1o] [M#1] [Y0001]", 0)), "196732800000");
  EXPECT_EQ(Render(ToMillis("27 iii MMXVIII", "[D1] [Mi] [YI]", 0)), "1522108800000");
  EXPECT_EQ(Render(ToMillis("2 Feb 2012", "[D1] [MNn,3-3] [Y0001]", 0)), "1328140800000");
  EXPECT_EQ(
      Render(ToMillis("twenty-first August two thousand and seventeen", "[Dw] [MNn] [Yw]", 0)),
      "1503273600000");
  EXPECT_EQ(Render(ToMillis("4/4/2018 12:06 am", "[D1]/[M1]/[Y0001] [h]:[m] [P]", 0)),
            "1522800360000");
  EXPECT_EQ(Render(ToMillis("4/4/2018 11:30 pm", "[D1]/[M1]/[Y0001] [h]:[m] [P]", 0)),
            "1522884600000");
  EXPECT_EQ(Render(ToMillis("2018-094", "[Y0001]-[d001]", 0)), "1522800000000");
  EXPECT_EQ(Render(ToMillis("2020-09-09 12:00:00 +05:30",
                            "[Y0001]-[M01]-[D01] [H01]:[m01]:[s01] [Z]", 0)),
            "1599633000000");
  EXPECT_EQ(Render(ToMillis("2020-09-09 12:00:00 GMT-5",
                            "[Y0001]-[M01]-[D01] [H01]:[m01]:[s01] [z01]", 0)),
            "1599670800000");
  // A time-only picture takes the date from "now" (2018-11-14T10:00:00Z here).
  EXPECT_EQ(Render(ToMillis("13:45", "[H]:[m]", 1542189600000)), "1542203100000");
  EXPECT_EQ(Render(ToMillis("irrelevent string", "[Y]-[M]-[D]", 0)), "undefined");
  EXPECT_EQ(Render(ToMillis("2018-05-22", "[Y]-[M]-[q]", 0)), "!D3132");
  EXPECT_EQ(Render(ToMillis("2018-05-22", "[YN]-[M]-[D]", 0)), "!D3133");
  EXPECT_EQ(Render(ToMillis("2018-22", "[Y]-[D]", 0)), "!D3136");
  EXPECT_EQ(Render(ToMillis("2018-32-5", "[X]-[W]-[F1]", 0)), "!D3136");
}

JsRegex Re(const char* pattern, const char* flags = "") {
  auto compiled = JsRegex::Compile(pattern, flags);
  EXPECT_TRUE(std::holds_alternative<JsRegex>(compiled)) << pattern;
  return std::get<JsRegex>(std::move(compiled));
}

TEST(JsonataLibRegex, MatchReplaceSplitContains) {
  EXPECT_EQ(Render(SplitRegex("ababbxabbcc", Re("b+"), std::nullopt)), "[a][a][xa][cc]");
  EXPECT_EQ(Render(SplitRegex("ababbxabbcc", Re("b+"), 2)), "[a][a]");
  EXPECT_EQ(Render(SplitRegex("ababbxabbcc", Re("d+"), std::nullopt)), "[ababbxabbcc]");
  EXPECT_EQ(Render(ContainsRegex("ababbxabbcc", Re("ab+"))), "true");
  EXPECT_EQ(Render(ContainsRegex("Bowler Hat", Re("hat", "i"))), "true");
  EXPECT_EQ(Render(ReplaceRegex("ababbxabbcc", Re("b+"), "yy", 2)), "ayyayyxabbcc");
  EXPECT_EQ(Render(ReplaceRegex("John Smith", Re("(\\w+)\\s(\\w+)"), "$2, $1", std::nullopt)),
            "Smith, John");
  EXPECT_EQ(Render(ReplaceRegex("265USD", Re("([0-9]+)USD"), "$0 -> $$$1", std::nullopt)),
            "265USD -> $265");
  EXPECT_EQ(Render(ReplaceRegex("abcd", Re("(ab)|(a)"), "[1=$1][2=$2]", std::nullopt)),
            "[1=ab][2=]cd");
  EXPECT_EQ(Render(ReplaceRegex("abcdefghijklmno", Re("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)(m)"),
                                "$8$5$12$12$18$123", std::nullopt)),
            "hella8l3no");
  EXPECT_EQ(Render(ReplaceRegex("abcdefghijklmno", Re("ijk"), "$8$5$12$12$18$123", std::nullopt)),
            "abcdefgh22823lmno");
  EXPECT_EQ(Render(ReplaceRegex("abracadabra", Re(".*?"), "$1", std::nullopt)), "!D1004");
  EXPECT_EQ(Render(ReplaceRegex("AAAA", Re("A+?"), "b", std::nullopt)), "bbbb");
  EXPECT_EQ(Render(ReplaceRegex("abc", Re("b"), "x", -1)), "!D3011");
  EXPECT_EQ(Render(ReplaceString("hello", "", "x", std::nullopt)), "!D3010");
  EXPECT_EQ(Render(ReplaceString("the cat sat on the mat", "at", "it", 2)),
            "the cit sit on the mat");
  EXPECT_EQ(Render(SplitString("a, b, c, d", ", ", 2.5)), "[a][b]");
  EXPECT_EQ(Render(SplitString("Hello", "", std::nullopt)), "[H][e][l][l][o]");
  EXPECT_EQ(Render(SplitString("a", ",", -1)), "!D3020");
  // $match: indexes in UTF-16 units, as JavaScript reports them; unset groups are null.
  EXPECT_EQ(Render(Match("\xF0\x9F\x92\xA9"
                         "ab",
                         Re("(b)|(c)"), std::nullopt)),
            R"([{"match":"b","index":3,"groups":["b",null]}])");
  EXPECT_EQ(Render(Match("abab", Re("a"), 1)), R"([{"match":"a","index":0,"groups":[]}])");
  EXPECT_EQ(Render(Match("abab", Re("a"), -1)), "!D3040");
}

TEST(JsonataLibRegex, JavaScriptSemantics) {
  // $ does not match before a final newline without m; it does at each line end with m.
  EXPECT_EQ(Render(ContainsRegex("a\n", Re("a$"))), "false");
  EXPECT_EQ(Render(ContainsRegex("a\nb", Re("a$", "m"))), "true");
  // . stops at line terminators, including U+2028; [^] matches anything.
  EXPECT_EQ(Render(ContainsRegex("a\xE2\x80\xA8"
                                 "b",
                                 Re("a.b"))),
            "false");
  EXPECT_EQ(Render(ContainsRegex("a\nb", Re("a[^]b"))), "true");
  // \s includes the no-break space; \u escapes.
  EXPECT_EQ(Render(ContainsRegex("a\xC2\xA0"
                                 "b",
                                 Re("a\\sb"))),
            "true");
  EXPECT_EQ(Render(ContainsRegex("\xC3\xA9", Re("\\u00e9"))), "true");
  // A back-reference to a group that did not take part matches the empty string.
  EXPECT_EQ(Render(ContainsRegex("b", Re("(a)?\\1b"))), "true");
  // Bad patterns and flags.
  EXPECT_EQ(Render(Outcome<std::string>(std::get<JsonataError>(JsRegex::Compile("(", "")))),
            "!S0303");
  EXPECT_TRUE(std::holds_alternative<JsonataError>(JsRegex::Compile("a", "x")));
  // A catastrophic pattern ends with an error instead of hanging.
  EXPECT_EQ(Render(ContainsRegex(std::string(40, 'a') + "!", Re("^(a+)+$"))), "!U1001");
}

TEST(JsonataLibEncoding, Base64AndUrls) {
  EXPECT_EQ(Base64Encode("myuser:mypass"), "bXl1c2VyOm15cGFzcw==");
  EXPECT_EQ(Base64Decode("bXl1c2VyOm15cGFzcw=="), "myuser:mypass");
  EXPECT_EQ(Base64Encode("\xC3\xA9"), "6Q==");  // btoa('é'): one latin-1 byte
  EXPECT_EQ(Base64Decode("6Q=="), "\xC3\xA9");
  EXPECT_EQ(Render(EncodeUrlComponent("?x=test")), "%3Fx%3Dtest");
  EXPECT_EQ(Render(EncodeUrl("https://mozilla.org/?x=шеллы")),
            "https://mozilla.org/?x=%D1%88%D0%B5%D0%BB%D0%BB%D1%8B");
  EXPECT_EQ(Render(DecodeUrlComponent("%3Fx%3Dtest")), "?x=test");
  EXPECT_EQ(Render(DecodeUrl("https://mozilla.org/?x=%D1%88%D0%B5%D0%BB%D0%BB%D1%8B")),
            "https://mozilla.org/?x=шеллы");
  EXPECT_EQ(Render(DecodeUrl("%3F%41")), "%3FA");  // reserved characters stay escaped
  EXPECT_EQ(Render(DecodeUrlComponent("%E0%A4%A")), "!D3140");
  EXPECT_EQ(Render(DecodeUrlComponent("%C3")), "!D3140");
  EXPECT_EQ(Render(EncodeUrlComponent("\xED\xA0\x80")), "!D3140");  // a lone surrogate
}

class FixedRandom : public RandomSource {
 public:
  uint64_t NextU64() override { return value_ += 0x9E3779B97F4A7C15ULL; }

 private:
  uint64_t value_ = 0;
};

TEST(JsonataLibAws, HashRandomUuid) {
  EXPECT_EQ(Render(Hash("input data", "SHA-256")),
            "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3");
  EXPECT_EQ(Render(Hash("", "MD5")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Render(Hash("a", "SHA-3")), "!D3137");
  EXPECT_EQ(RandomSeeded(42), 0.7275636800328681);
  FixedRandom random;
  const double r = RandomFrom(random);
  EXPECT_GE(r, 0);
  EXPECT_LT(r, 1);
  const std::string uuid = UuidFrom(random);
  ASSERT_EQ(uuid.size(), 36u);
  EXPECT_EQ(uuid[14], '4');
  EXPECT_NE(std::string("89ab").find(uuid[19]), std::string::npos);
}

// ---- The same functions through the evaluator (registration, signatures, sequences).

class CountingRandom : public RandomSource {
 public:
  uint64_t NextU64() override { return value_ += 0x9E3779B97F4A7C15ULL; }

 private:
  uint64_t value_ = 0;
};

std::string Eval(std::string_view expr, const char* input = nullptr, int64_t now_ms = 0) {
  auto compiled = JsonataExpression::Compile(expr);
  if (auto* syntax = std::get_if<JsonataSyntaxError>(&compiled)) return "!" + syntax->code;
  std::optional<Json> data;
  if (input != nullptr) data = ParseJson(input);
  CountingRandom random;
  JsonataOptions options;
  options.now_ms = now_ms;
  options.random = &random;
  auto result =
      std::get<JsonataExpression>(compiled).Evaluate(data ? &*data : nullptr, {}, options);
  if (!result.ok()) return "!" + result.error().code;
  if (!result.value()) return "undefined";
  return DumpJson(*result.value());
}

TEST(JsonataLibExpressions, Numbers) {
  EXPECT_EQ(Eval("$formatNumber(12345.6, '#,###.00')"), R"("12,345.60")");
  EXPECT_EQ(Eval("$formatNumber(1234.5678, '#.##0,00', {'decimal-separator': ',', "
                 "'grouping-separator': '.'})"),
            R"("1.234,57")");
  EXPECT_EQ(Eval("$formatNumber(1, '#;#;#')"), "!D3080");
  EXPECT_EQ(Eval("$formatNumber(undefined, '#')"), "undefined");
  EXPECT_EQ(Eval("$formatBase(100, 2)"), R"("1100100")");
  EXPECT_EQ(Eval("$formatBase(100, 1)"), "!D3100");
  EXPECT_EQ(Eval("$formatInteger(1234, 'w')"), R"("one thousand, two hundred and thirty-four")");
  EXPECT_EQ(Eval("$parseInteger('MCMLXXXIV', 'I')"), "1984");
  EXPECT_EQ(Eval("x.$formatInteger($, '0;o')", R"({"x":[1,2,3]})"), R"(["1st","2nd","3rd"])");
}

TEST(JsonataLibExpressions, DateTime) {
  EXPECT_EQ(Eval("$fromMillis(1510067274972)"), R"("2017-11-07T15:07:54.972Z")");
  EXPECT_EQ(Eval("$fromMillis(1521801216617, '[FNn], [D1o] [MNn] [Y]')"),
            R"("Friday, 23rd March 2018")");
  EXPECT_EQ(Eval("$toMillis('2017-10-30T15:28:34Z')"), "1509377314000");
  EXPECT_EQ(Eval("$toMillis('foo')"), "!D3110");
  EXPECT_EQ(Eval("$now()", nullptr, 1510067274972), R"("2017-11-07T15:07:54.972Z")");
  EXPECT_EQ(Eval("$now('[H01]:[m01]', '+0100')", nullptr, 1510067274972), R"("16:07")");
  EXPECT_EQ(Eval("$millis()", nullptr, 1510067274972), "1510067274972");
  EXPECT_EQ(Eval("$toMillis('13:45', '[H]:[m]') ~> $fromMillis()", nullptr, 1542189600000),
            R"("2018-11-14T13:45:00.000Z")");
}

TEST(JsonataLibExpressions, Regex) {
  EXPECT_EQ(Eval("$match('ababbabbcc', /a(b+)/)"),
            R"([{"match":"ab","index":0,"groups":["b"]},{"match":"abb","index":2,"groups":["bb"]},)"
            R"({"match":"abb","index":5,"groups":["bb"]}])");
  EXPECT_EQ(Eval("$match('ab', /a(b+)/)"), R"({"match":"ab","index":0,"groups":["b"]})");
  EXPECT_EQ(Eval("$match('ab', /x/)"), "undefined");
  EXPECT_EQ(Eval("$replace('John Smith', /(\\w+)\\s(\\w+)/, '$2, $1')"), R"("Smith, John")");
  EXPECT_EQ(Eval("$replace('temperature = 68F today', /(-?\\d+(?:\\.\\d*)?)F\\b/, "
                 "function($m) { ($number($m.groups[0]) - 32) * 5/9 & 'C' })"),
            R"("temperature = 20C today")");
  EXPECT_EQ(Eval("$replace('hat', /hat/, function($m) { 42 })"), "!D3012");
  EXPECT_EQ(Eval("$replace('abracadabra', /.*?/, '$1')"), "!D1004");
  EXPECT_EQ(Eval("$split('ababbxabbcc', /b+/)"), R"(["a","a","xa","cc"])");
  EXPECT_EQ(Eval("$split('a, b, c', ', ', 2)"), R"(["a","b"])");
  EXPECT_EQ(Eval("$split('a', ',', -1)"), "!D3020");
  EXPECT_EQ(Eval("$contains('Bowler Hat', /hat/i)"), "true");
  EXPECT_EQ(Eval("$contains('Hello World', 'World')"), "true");
  EXPECT_EQ(Eval("$split('some text', $uppercase)"), "!T1010");
  // A regex called directly, and its next().
  EXPECT_EQ(Eval("/b+/('abbcb').match"), R"("bb")");
  EXPECT_EQ(Eval("( $next := /b+/('abbcb').next; $next().start )"), "4");
  EXPECT_EQ(Eval("( $next := /x*/('abc').next; $next() )"), "!D1004");
  // A custom matcher (jsonata-js's evaluateMatcher protocol). Passed inline: a lambda bound to a
  // variable of its own frame is a reference cycle the evaluator does not collect yet.
  EXPECT_EQ(Eval("$split('axb', function($s) { $contains($s, 'x') ? {'match': 'x', 'start': 1, "
                 "'end': 2, 'groups': []} })"),
            R"(["a","b"])");
}

TEST(JsonataLibExpressions, EncodingAndAws) {
  EXPECT_EQ(Eval("$base64encode('myuser:mypass')"), R"("bXl1c2VyOm15cGFzcw==")");
  EXPECT_EQ(Eval("$base64decode('bXl1c2VyOm15cGFzcw==')"), R"("myuser:mypass")");
  EXPECT_EQ(Eval("$encodeUrlComponent('?x=test')"), R"("%3Fx%3Dtest")");
  EXPECT_EQ(Eval("$decodeUrl('%E0%A4%A')"), "!D3140");
  EXPECT_EQ(Eval("$hash('input data', 'SHA-256')"),
            R"("b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3")");
  EXPECT_EQ(Eval("$hash('a', 'CRC32')"), "!D3137");
  EXPECT_EQ(Eval("$random(42)"), "0.7275636800328681");
  EXPECT_EQ(Eval("$random() < 1 and $random() >= 0"), "true");
  EXPECT_EQ(Eval("$length($uuid())"), "36");
}

}  // namespace
}  // namespace switchyard::asl::jsonata_lib
