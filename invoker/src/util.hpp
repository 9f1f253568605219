#pragma once
// Small helpers shared by the invoker's sources. Thread-safe (no shared state besides the
// random generator, which is per thread).
#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard::invoker {

std::string Base64Encode(std::string_view bytes);
// A random (version 4) UUID in lower-case 8-4-4-4-12 form.
std::string NewUuid();
// Milliseconds since the Unix epoch, from the system clock.
int64_t UnixMillis();
// JSON string literal for `text` (quotes included), escaping as RFC 8259 requires.
std::string JsonQuote(std::string_view text);
// "2.00" style fixed-point with two decimals.
std::string FormatFixed2(double value);

}  // namespace switchyard::invoker
