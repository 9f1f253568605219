#include "switchyard/asl/timestamp.hpp"

#include <gtest/gtest.h>

namespace switchyard::asl {
namespace {

TEST(TimestampTest, ParsesUtcAndOffsets) {
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:01.5Z"), 1500000000);
  EXPECT_EQ(ParseTimestamp("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(ParseTimestamp("2016-03-14T01:59:00Z"), int64_t{1457920740} * 1000000000);
}

TEST(TimestampTest, RejectsWhatAwsRejects) {
  for (const char* bad : {"2016-13-05T21:29:29Z", "05-12-2016T21:29:29Z", "2016-12-05T25:29:29Z",
                          "2016-12-05 21:29:29Z", "2016-12-05T21:29:29", "2016-02-30T00:00:00Z",
                          "2016-12-05T21:29:29.Z", "", "2016-12-05T21:29:29Zjunk"}) {
    EXPECT_FALSE(ParseTimestamp(bad).has_value()) << bad;
  }
}

TEST(TimestampTest, FormatsAsAwsDoes) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(int64_t{1457920740123} * 1000000), "2016-03-14T01:59:00.123Z");
}

}  // namespace
}  // namespace switchyard::asl
