// Input: a JSONata expression. Parsing must never crash, hang or overflow the stack, whatever
// the text; a syntax error must come back as an error with a code.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "switchyard/asl/jsonata.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto error = switchyard::asl::CheckJsonataSyntax(text);
  if (error && error->code.empty()) std::abort();
  return 0;
}
