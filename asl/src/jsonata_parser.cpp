// Placeholder until the parser lands: accepts everything.
#include "switchyard/asl/jsonata.hpp"

namespace switchyard::asl {

std::optional<JsonataSyntaxError> CheckJsonataSyntax(std::string_view /*expression*/) {
  return std::nullopt;
}

}  // namespace switchyard::asl
