// Schedule expressions: parsing and next occurrences (cron's L, W, #, DST gaps and overlaps, leap
// years, at() in the past).
#include "engine/schedule_expr.hpp"

#include <date/date.h>
#include <date/tz.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard::orchestrator::schedule {
namespace {

SysSeconds Utc(const std::string& text) {
  const auto seconds = ParseLocalDateTime(text);
  EXPECT_TRUE(seconds.has_value()) << text;
  return SysSeconds(seconds.value_or(std::chrono::seconds(0)));
}

std::string Render(SysSeconds t) { return date::format("%FT%TZ", t); }

// The next `count` occurrences of `text` in `zone` from `from`, rendered in UTC and joined.
std::string Next(const std::string& text, const std::string& from, int count = 1,
                 const std::string& zone_name = "UTC") {
  std::string error;
  const auto expression = ParseExpression(text, &error);
  if (!expression) return "invalid: " + error;
  const date::time_zone* zone = FindZone(zone_name);
  if (zone == nullptr) return "no zone";
  SysSeconds at = Utc(from);
  std::string out;
  for (int i = 0; i < count; ++i) {
    const auto next = NextOccurrence(*expression, zone, Utc(from), at);
    if (!next) {
      out += out.empty() ? "none" : " none";
      break;
    }
    if (!out.empty()) out += ' ';
    out += Render(*next);
    at = *next + std::chrono::seconds(1);
  }
  return out;
}

std::string Error(const std::string& text) {
  std::string error;
  return ParseExpression(text, &error) ? "valid" : error;
}

TEST(ScheduleExprTest, Rate) {
  EXPECT_EQ(Next("rate(5 minutes)", "2026-01-01T10:00:30", 3),
            "2026-01-01T10:00:30Z 2026-01-01T10:05:30Z 2026-01-01T10:10:30Z");
  EXPECT_EQ(Next("rate(1 minute)", "2026-01-01T10:00:00", 2),
            "2026-01-01T10:00:00Z 2026-01-01T10:01:00Z");
  EXPECT_EQ(Next("rate(2 hours)", "2026-01-01T10:00:00", 2),
            "2026-01-01T10:00:00Z 2026-01-01T12:00:00Z");
  // A day is 24 hours, also across a DST change (AWS: "days represents a 24-hour duration").
  EXPECT_EQ(Next("rate(1 day)", "2026-03-07T12:00:00", 3, "America/New_York"),
            "2026-03-07T12:00:00Z 2026-03-08T12:00:00Z 2026-03-09T12:00:00Z");
}

TEST(ScheduleExprTest, RateFromLaterThanAnchor) {
  std::string error;
  const auto rate = ParseExpression("rate(10 minutes)", &error);
  ASSERT_TRUE(rate);
  const auto next = NextOccurrence(*rate, FindZone("UTC"), Utc("2026-01-01T00:00:00"),
                                   Utc("2026-01-01T00:25:00"));
  ASSERT_TRUE(next);
  EXPECT_EQ(Render(*next), "2026-01-01T00:30:00Z");
}

TEST(ScheduleExprTest, InvalidExpressions) {
  EXPECT_EQ(Error("rate(0 minutes)"), "the rate's value must be a positive integer");
  EXPECT_EQ(Error("rate(5 weeks)"),
            "the rate's unit must be minute, minutes, hour, hours, day or days");
  EXPECT_EQ(Error("rate(5)"), "a rate expression is rate(value unit)");
  EXPECT_EQ(Error("every 5 minutes"), "the expression must be rate(...), cron(...) or at(...)");
  EXPECT_EQ(Error("cron(0 12 * * *)"),
            "a cron expression has six fields (minutes hours day-of-month month day-of-week "
            "year)");
  EXPECT_EQ(Error("cron(0 12 * * * *)"),
            "exactly one of the day-of-month and day-of-week fields must be '?'");
  EXPECT_EQ(Error("cron(0 12 ? * ? *)"),
            "exactly one of the day-of-month and day-of-week fields must be '?'");
  EXPECT_EQ(Error("cron(60 12 * * ? *)"), "invalid value in the minutes field: 60");
  EXPECT_EQ(Error("cron(0 24 * * ? *)"), "invalid value in the hours field: 24");
  EXPECT_EQ(Error("cron(0 12 * 13 ? *)"), "invalid value in the month field: 13");
  EXPECT_EQ(Error("cron(0 12 ? * 8 *)"), "invalid value in the day-of-week field: 8");
  EXPECT_EQ(Error("cron(0 12 ? * 2#6 *)"), "invalid value in the day-of-week field: 2#6");
  EXPECT_EQ(Error("cron(0/0 12 * * ? *)"), "invalid step in the minutes field: 0/0");
  EXPECT_EQ(Error("cron(0 12 * * ? 2300)"), "invalid value in the year field: 2300");
  EXPECT_EQ(Error("cron(0 12 10-5 * ? *)"), "invalid range in the day-of-month field: 10-5");
  EXPECT_EQ(Error("at(2026-02-30T09:00:00)"), "an at expression is at(yyyy-mm-ddThh:mm:ss)");
  EXPECT_EQ(Error("at(2026-12-01 09:00:00)"), "an at expression is at(yyyy-mm-ddThh:mm:ss)");
  EXPECT_EQ(Error("cron(0 12 * * ? *)"), "valid");
  EXPECT_EQ(Error("cron(0/15 8-17 ? JAN-MAR MON-FRI 2026-2030)"), "valid");
}

TEST(ScheduleExprTest, CronBasics) {
  EXPECT_EQ(Next("cron(0 12 * * ? *)", "2026-05-10T12:00:01", 2),
            "2026-05-11T12:00:00Z 2026-05-12T12:00:00Z");
  EXPECT_EQ(Next("cron(0/15 * * * ? *)", "2026-05-10T12:07:00", 3),
            "2026-05-10T12:15:00Z 2026-05-10T12:30:00Z 2026-05-10T12:45:00Z");
  EXPECT_EQ(Next("cron(5,35 1-2 * * ? *)", "2026-05-10T00:00:00", 5),
            "2026-05-10T01:05:00Z 2026-05-10T01:35:00Z 2026-05-10T02:05:00Z "
            "2026-05-10T02:35:00Z 2026-05-11T01:05:00Z");
  // Names; MON-FRI skips the weekend (2026-05-09 is a Saturday).
  EXPECT_EQ(Next("cron(0 8 ? * MON-FRI *)", "2026-05-08T09:00:00", 2),
            "2026-05-11T08:00:00Z 2026-05-12T08:00:00Z");
  EXPECT_EQ(Next("cron(0 0 1 JAN,jul ? *)", "2026-02-01T00:00:00", 2),
            "2026-07-01T00:00:00Z 2027-01-01T00:00:00Z");
  // Years: none after the last one.
  EXPECT_EQ(Next("cron(0 0 1 1 ? 2027)", "2026-02-01T00:00:00", 2), "2027-01-01T00:00:00Z none");
  EXPECT_EQ(Next("cron(0 0 1 1 ? 2020)", "2026-02-01T00:00:00"), "none");
}

TEST(ScheduleExprTest, CronLastDayAndLeapYears) {
  EXPECT_EQ(Next("cron(0 0 L * ? *)", "2026-01-15T00:00:00", 3),
            "2026-01-31T00:00:00Z 2026-02-28T00:00:00Z 2026-03-31T00:00:00Z");
  EXPECT_EQ(Next("cron(0 0 L 2 ? *)", "2027-03-01T00:00:00", 2),
            "2028-02-29T00:00:00Z 2029-02-28T00:00:00Z");
  // February 29th: only in leap years (2100 is not one).
  EXPECT_EQ(Next("cron(0 0 29 2 ? *)", "2026-01-01T00:00:00", 3),
            "2028-02-29T00:00:00Z 2032-02-29T00:00:00Z 2036-02-29T00:00:00Z");
  EXPECT_EQ(Next("cron(0 0 29 2 ? 2097-2199)", "2097-01-01T00:00:00", 2),
            "2104-02-29T00:00:00Z 2108-02-29T00:00:00Z");
}

TEST(ScheduleExprTest, CronNearestWeekday) {
  // 2026-08-01 is a Saturday: 1W is Monday the 3rd (never the previous month).
  EXPECT_EQ(Next("cron(0 9 1W * ? *)", "2026-07-15T00:00:00", 1), "2026-08-03T09:00:00Z");
  // 2026-05-31 is a Sunday: 31W is Friday the 29th (never the next month).
  EXPECT_EQ(Next("cron(0 9 31W 5 ? *)", "2026-05-01T00:00:00", 1), "2026-05-29T09:00:00Z");
  // 2026-11-15 is a Sunday: 15W is Monday the 16th; 2026-11-14 (Saturday): 14W is the 13th.
  EXPECT_EQ(Next("cron(0 9 15W 11 ? *)", "2026-11-01T00:00:00", 1), "2026-11-16T09:00:00Z");
  EXPECT_EQ(Next("cron(0 9 14W 11 ? *)", "2026-11-01T00:00:00", 1), "2026-11-13T09:00:00Z");
  // LW: the last weekday of the month (2026-05-31 Sunday → Friday 29th).
  EXPECT_EQ(Next("cron(0 9 LW * ? *)", "2026-05-01T00:00:00", 2),
            "2026-05-29T09:00:00Z 2026-06-30T09:00:00Z");
}

TEST(ScheduleExprTest, CronDayOfWeekLastAndNth) {
  // 6L: the last Friday; 2#1: the first Monday; 3#5: a fifth Tuesday (months without one skip).
  EXPECT_EQ(Next("cron(0 9 ? * 6L *)", "2026-05-01T00:00:00", 2),
            "2026-05-29T09:00:00Z 2026-06-26T09:00:00Z");
  EXPECT_EQ(Next("cron(0 9 ? * 2#1 *)", "2026-05-01T00:00:00", 2),
            "2026-05-04T09:00:00Z 2026-06-01T09:00:00Z");
  EXPECT_EQ(Next("cron(0 9 ? * TUE#5 *)", "2026-04-01T00:00:00", 2),
            "2026-06-30T09:00:00Z 2026-09-29T09:00:00Z");
  // L alone in day-of-week: Saturday.
  EXPECT_EQ(Next("cron(0 9 ? * L *)", "2026-05-01T00:00:00", 1), "2026-05-02T09:00:00Z");
}

TEST(ScheduleExprTest, CronInAZoneAcrossDaylightSaving) {
  // New York, 2026-03-08: 02:00 local does not exist (clocks jump to 03:00): skipped.
  EXPECT_EQ(Next("cron(30 2 * * ? *)", "2026-03-07T00:00:00", 3, "America/New_York"),
            "2026-03-07T07:30:00Z 2026-03-09T06:30:00Z 2026-03-10T06:30:00Z");
  // 2026-11-01: 01:30 local happens twice (EDT, then EST): it runs once, at the first.
  EXPECT_EQ(Next("cron(30 1 * * ? *)", "2026-10-31T00:00:00", 3, "America/New_York"),
            "2026-10-31T05:30:00Z 2026-11-01T05:30:00Z 2026-11-02T06:30:00Z");
  // Every 30 minutes through the overlap: the repeated local hour is not run twice.
  EXPECT_EQ(Next("cron(0/30 1 1 11 ? 2026)", "2026-11-01T00:00:00", 3, "America/New_York"),
            "2026-11-01T05:00:00Z 2026-11-01T05:30:00Z none");
  EXPECT_EQ(Next("cron(0 12 * * ? *)", "2026-07-01T00:00:00", 1, "Europe/Paris"),
            "2026-07-01T10:00:00Z");
}

TEST(ScheduleExprTest, At) {
  EXPECT_EQ(Next("at(2026-12-01T09:00:00)", "2026-11-01T00:00:00", 2), "2026-12-01T09:00:00Z none");
  EXPECT_EQ(Next("at(2026-12-01T09:00:00)", "2026-11-01T00:00:00", 1, "Asia/Tokyo"),
            "2026-12-01T00:00:00Z");
  // In the past: no occurrence at or after `from`.
  EXPECT_EQ(Next("at(2020-01-01T00:00:00)", "2026-11-01T00:00:00"), "none");
  // Inside the spring-forward gap: when the clocks jumped (03:00 EDT = 07:00Z).
  EXPECT_EQ(Next("at(2026-03-08T02:30:00)", "2026-03-01T00:00:00", 1, "America/New_York"),
            "2026-03-08T07:00:00Z");
}

TEST(ScheduleExprTest, Zones) {
  EXPECT_NE(FindZone("America/New_York"), nullptr);
  EXPECT_NE(FindZone(""), nullptr);
  EXPECT_EQ(FindZone("Mars/Olympus_Mons"), nullptr);
}

}  // namespace
}  // namespace switchyard::orchestrator::schedule
