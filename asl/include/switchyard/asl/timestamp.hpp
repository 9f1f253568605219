#pragma once
// RFC 3339 / ISO-8601 timestamps as ASL accepts them (Wait.Timestamp, Timestamp* operators).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::asl {

// Parses "2016-03-14T01:59:00Z", "...T01:59:00.123Z", "...T01:59:00+01:00". Returns nanoseconds
// since the Unix epoch (UTC), or nullopt when the text is not a valid extended offset date-time
// (missing 'T', missing offset, month 13, hour 25, ...).
std::optional<int64_t> ParseTimestamp(std::string_view text);

// Formats nanoseconds since the epoch as AWS renders times in history and the context object:
// "2024-01-02T03:04:05.678Z" (milliseconds, UTC).
std::string FormatTimestamp(int64_t epoch_nanos);

}  // namespace switchyard::asl
