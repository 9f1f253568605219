// Feeds arbitrary text to the definition parser + validator: it must never crash, and a
// definition it accepts must have no error. Any text that parses as JSON must also survive the
// value walks (copy, equality, dump, size) and dump as valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "switchyard/asl/definition.hpp"
#include "switchyard/asl/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const switchyard::asl::ParseResult result = switchyard::asl::ParseDefinition(text);
  if (result.ok() && !result.diagnostics.empty()) {
    for (const auto& d : result.diagnostics) {
      if (d.severity == switchyard::asl::Severity::kError) __builtin_trap();
    }
  }
  namespace asl = switchyard::asl;
  if (std::optional<asl::Json> doc = asl::ParseJson(text)) {
    const asl::Json copy = asl::CopyJson(*doc);
    // (Not JsonEquals as the check: a repeated key makes a value unequal to itself there.)
    (void)asl::JsonEquals(*doc, copy);
    const std::string dumped = asl::DumpJson(*doc);
    if (asl::DumpJson(copy) != dumped) __builtin_trap();
    if (dumped.size() != asl::JsonTextSize(*doc) || !asl::IsValidUtf8(dumped)) __builtin_trap();
    if (asl::JsonNestingDepth(*doc) > asl::kMaxJsonNestingDepth) __builtin_trap();
    // The text written parses back to the same text (numbers, big integers included, exact).
    std::optional<asl::Json> again = asl::ParseJson(dumped);
    if (!again || asl::DumpJson(*again) != dumped) __builtin_trap();
    if (asl::DumpJsonWithin(*doc) != dumped) __builtin_trap();
  }
  return 0;
}
