#pragma once
// RFC 3339 / ISO-8601 timestamps as ASL accepts them (Wait.Timestamp, Timestamp* operators).
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::asl {

// A point in time: whole seconds since the Unix epoch (UTC, proleptic Gregorian calendar) and
// the nanoseconds past them, in [0, 1e9). Holds every time ASL accepts (years 0000-9999 with any
// offset) exactly, so such times order and compare correctly; int64 nanoseconds, the unit of
// clocks and timers, end in 2262.
struct Timestamp {
  int64_t seconds = 0;
  int64_t nanos = 0;

  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
  // Nanoseconds since the epoch, saturated to [INT64_MIN, INT64_MAX] (years 1677 to 2262): a
  // timer that far away is later (or earlier) than any execution can reach anyway.
  int64_t ToEpochNanos() const;
};

// Parses "2016-03-14T01:59:00Z", "...T01:59:00.123Z", "...T01:59:00+01:00". Returns nullopt when
// the text is not a valid extended offset date-time (missing 'T', missing offset, month 13,
// hour 25, ...).
std::optional<Timestamp> ParseTimestamp(std::string_view text);

// Formats nanoseconds since the epoch as AWS renders times in history and the context object:
// "2024-01-02T03:04:05.678Z" (milliseconds, UTC).
std::string FormatTimestamp(int64_t epoch_nanos);

}  // namespace switchyard::asl
