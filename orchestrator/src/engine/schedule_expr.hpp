#pragma once
// EventBridge Scheduler's schedule expressions, parsed and evaluated: `rate(value unit)`,
// AWS's six-field `cron(minutes hours day-of-month month day-of-week year)` and
// `at(yyyy-mm-ddThh:mm:ss)`, in an IANA time zone (the OS tz database through Howard Hinnant's
// date/tz.h; GCC 12 has no std::chrono::tzdb). Pure functions of their arguments (no clock);
// thread-safe.
//
// Time zones, as AWS documents for Scheduler: a cron occurrence whose local time does not exist
// (the hour skipped when clocks go forward) is skipped; one whose local time happens twice (clocks
// go back) runs once, at the first. A rate is a fixed duration ("1 day" = 24 h), independent of the
// zone. An at() time that does not exist runs at the moment the clocks jumped to.
#include <bitset>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace switchyard::orchestrator::schedule {

using SysSeconds = std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds>;

struct Cron {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<13> months;       // 1..12
  std::bitset<230> years;       // 1970..2199, bit = year - 1970
  bool by_day_of_week = false;  // day-of-month is '?' (else day-of-week is)
  // Day of month.
  std::bitset<32> days;       // 1..31
  bool last_day = false;      // L
  bool last_weekday = false;  // LW
  int nearest_weekday = 0;    // nW (1..31), 0 = none
  // Day of week (1 = SUN .. 7 = SAT).
  std::bitset<8> weekdays;
  int last_of_weekday = 0;  // nL: the last such weekday of the month; 0 = none
  int nth_weekday = 0;      // d#n: weekday d ...
  int nth = 0;              // ... the n-th (1..5) of the month
};

struct Expression {
  enum class Kind { kRate, kCron, kAt };
  Kind kind = Kind::kRate;
  int64_t rate_seconds = 0;          // kRate
  Cron cron;                         // kCron
  std::chrono::seconds at_local{0};  // kAt: local time since 1970-01-01T00:00:00 (zone-less)
};

// Parses `text`. Returns nullopt with `*error` set to the reason when it is not a valid
// expression (the caller words AWS's ValidationException around it).
std::optional<Expression> ParseExpression(std::string_view text, std::string* error);

// The zone of that IANA name ("UTC" when `name` is empty); nullptr when unknown.
const date::time_zone* FindZone(std::string_view name);

// The first occurrence at or after `from`, or nullopt when there is none (an at() before `from`, a
// cron whose years have passed; nothing after 2199). `anchor` is a rate's first occurrence
// (StartDate, or the creation time); rate occurrences are anchor + k * rate, k >= 0.
std::optional<SysSeconds> NextOccurrence(const Expression& expression, const date::time_zone* zone,
                                         SysSeconds anchor, SysSeconds from);

// "2026-12-01T09:00:00" → seconds since the epoch, read as UTC; nullopt when malformed.
std::optional<std::chrono::seconds> ParseLocalDateTime(std::string_view text);

}  // namespace switchyard::orchestrator::schedule
