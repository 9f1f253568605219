#include "switchyard/asl/timestamp.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace switchyard::asl {
namespace {

int64_t Nanos(std::string_view text) {
  auto parsed = ParseTimestamp(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed ? parsed->ToEpochNanos() : 0;
}

TEST(TimestampTest, ParsesUtcAndOffsets) {
  EXPECT_EQ(Nanos("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(Nanos("1970-01-01T00:00:01.5Z"), 1500000000);
  EXPECT_EQ(Nanos("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(Nanos("2016-03-14T01:59:00Z"), int64_t{1457920740} * 1000000000);
  EXPECT_EQ(Nanos("1969-12-31T23:59:59.25Z"), -750000000);
}

TEST(TimestampTest, RejectsWhatAwsRejects) {
  for (const char* bad : {"2016-13-05T21:29:29Z", "05-12-2016T21:29:29Z", "2016-12-05T25:29:29Z",
                          "2016-12-05 21:29:29Z", "2016-12-05T21:29:29", "2016-02-30T00:00:00Z",
                          "2016-12-05T21:29:29.Z", "", "2016-12-05T21:29:29Zjunk"}) {
    EXPECT_FALSE(ParseTimestamp(bad).has_value()) << bad;
  }
}

// Every year ASL accepts parses exactly, and times order correctly across the whole range,
// far past what int64 nanoseconds hold (1677-2262).
TEST(TimestampTest, ExtremesParseAndOrderExactly) {
  auto first = ParseTimestamp("0001-01-01T00:00:00Z");
  auto last = ParseTimestamp("9999-12-31T23:59:59.999999999Z");
  ASSERT_TRUE(first && last);
  EXPECT_EQ(first->seconds, int64_t{-62135596800});
  EXPECT_EQ(last->seconds, int64_t{253402300799});
  EXPECT_EQ(last->nanos, 999999999);
  EXPECT_LT(*first, *last);

  auto a = ParseTimestamp("9999-12-31T23:59:58Z");
  auto b = ParseTimestamp("9999-12-31T23:59:59Z");
  auto c = ParseTimestamp("9999-12-31T23:59:59+00:01");  // a minute earlier than b
  ASSERT_TRUE(a && b && c);
  EXPECT_LT(*a, *b);
  EXPECT_LT(*c, *a);
  EXPECT_EQ(*ParseTimestamp("9999-12-31T23:59:59Z"), *ParseTimestamp("9999-12-31T22:59:59-01:00"));
  EXPECT_LT(*ParseTimestamp("0001-01-01T00:00:00.000000001Z"),
            *ParseTimestamp("0001-01-01T00:00:00.000000002Z"));
  EXPECT_LT(*ParseTimestamp("0001-01-01T00:00:00+23:59"), *first);
}

// Clocks and timers are int64 nanoseconds: far times saturate instead of wrapping around.
TEST(TimestampTest, EpochNanosSaturate) {
  EXPECT_EQ(Nanos("9999-12-31T23:59:59Z"), INT64_MAX);
  EXPECT_EQ(Nanos("2262-04-11T23:47:16.854775807Z"), INT64_MAX);  // the last that fits
  EXPECT_EQ(Nanos("2262-04-11T23:47:16.854775806Z"), INT64_MAX - 1);
  EXPECT_EQ(Nanos("2262-04-11T23:47:16.854775808Z"), INT64_MAX);
  EXPECT_EQ(Nanos("0001-01-01T00:00:00Z"), INT64_MIN);
  EXPECT_EQ(Nanos("1677-09-21T00:12:44Z"), int64_t{-9223372036} * 1000000000);
  EXPECT_LT(Nanos("2262-01-01T00:00:00Z"), Nanos("2262-02-01T00:00:00Z"));
}

TEST(TimestampTest, FormatsAsAwsDoes) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(int64_t{1457920740123} * 1000000), "2016-03-14T01:59:00.123Z");
  EXPECT_EQ(FormatTimestamp(INT64_MAX), "2262-04-11T23:47:16.854Z");
  EXPECT_EQ(FormatTimestamp(INT64_MIN), "1677-09-21T00:12:43.145Z");
}

}  // namespace
}  // namespace switchyard::asl
