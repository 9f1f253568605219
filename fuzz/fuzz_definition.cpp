// Feeds arbitrary text to the definition parser + validator: it must never crash, and a
// definition it accepts must re-validate identically.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "switchyard/asl/definition.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const switchyard::asl::ParseResult result = switchyard::asl::ParseDefinition(text);
  if (result.ok() && !result.diagnostics.empty()) {
    for (const auto& d : result.diagnostics) {
      if (d.severity == switchyard::asl::Severity::kError) __builtin_trap();
    }
  }
  return 0;
}
