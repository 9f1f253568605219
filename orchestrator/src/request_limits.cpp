#include "switchyard/orchestrator/request_limits.hpp"

#include <cstdint>

#include "switchyard/asl/names.hpp"

namespace switchyard::orchestrator {
namespace {

// The code point starting at `text[*pos]`, advancing `*pos`; an invalid byte comes back alone as
// 0xFFFFFFFF.
uint32_t NextCodePoint(std::string_view text, std::size_t* pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(*pos);
  std::size_t length = lead < 0x80           ? 1
                       : (lead >> 5) == 0x6  ? 2
                       : (lead >> 4) == 0xE  ? 3
                       : (lead >> 3) == 0x1E ? 4
                                             : 0;
  if (length == 0 || *pos + length > text.size()) {
    ++*pos;
    return 0xFFFFFFFF;
  }
  uint32_t code = length == 1 ? lead : lead & (0x7F >> length);
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(*pos + i) & 0xC0) != 0x80) {
      ++*pos;
      return 0xFFFFFFFF;
    }
    code = (code << 6) | (byte(*pos + i) & 0x3F);
  }
  *pos += length;
  return code;
}

bool ForbiddenInName(uint32_t c) {
  if (c <= 0x20 || (c >= 0x7F && c <= 0x9F)) return true;  // controls and the space
  // The API reference (StartExecution `name`): also U+FFFE-FFFF, surrogates (U+D800-DFFF, which
  // only ill-formed UTF-8 carries) and what lies beyond Unicode; ill-formed bytes likewise.
  if (c == 0xFFFE || c == 0xFFFF || (c >= 0xD800 && c <= 0xDFFF) || c >= 0x10FFFF) return true;
  // The rest of Unicode's white space (Java's Character.isWhitespace).
  if (c == 0x1680 || (c >= 0x2000 && c <= 0x2006) || (c >= 0x2008 && c <= 0x200A) || c == 0x2028 ||
      c == 0x2029 || c == 0x205F || c == 0x3000) {
    return true;
  }
  switch (c) {
    case '?':
    case '*':
    case '<':
    case '>':
    case '{':
    case '}':
    case '[':
    case ']':
    case '"':
    case '#':
    case '%':
    case '\\':
    case '^':
    case '|':
    case '~':
    case '`':
    case '$':
    case '&':
    case ',':
    case ';':
    case ':':
    case '/':
      return true;
    default:
      return false;
  }
}

std::string LengthMessage(std::string_view shown_value, std::string_view field,
                          std::string_view constraint) {
  std::string message = "1 validation error detected: Value ";
  if (!shown_value.empty()) (message += '\'').append(shown_value) += "' ";
  message += "at '";
  message += field;
  message += "' failed to satisfy constraint: Member must have length ";
  message += constraint;
  return message;
}

}  // namespace

std::size_t Utf16Length(std::string_view utf8) {
  std::size_t units = 0;
  for (std::size_t pos = 0; pos < utf8.size();) {
    const uint32_t code = NextCodePoint(utf8, &pos);
    units += code != 0xFFFFFFFF && code > 0xFFFF ? 2 : 1;
  }
  return units;
}

// What AWS answers, as far as public records show (checked 2026-11 with the search tool):
// - a name over 80 characters: ValidationException "1 validation error detected: Value 'xxx' at
//   'name' failed to satisfy constraint: Member must have length less than or equal to 80"
//   (quoted from a StartExecution failure in wolfeidau/buildkite-serverless-agent#37): matched;
// - a name with a forbidden character: the error code InvalidName (API reference; LocalStack
//   answers it too). The message text "Invalid Name: '<name>'" is NOT verified: no public record
//   quotes AWS's;
// - an input over 262,144 bytes: the API reference gives `input` a length constraint of 262144,
//   which AWS's request validation reports as ValidationException in the wording above (with the
//   value left out, as for every sensitive member). NOT verified against a recorded answer; the
//   API's InvalidExecutionInput is documented for input that is not valid JSON only.
std::optional<RequestError> CheckExecutionName(std::string_view name) {
  // AWS shows the name in the message, except an empty one.
  if (name.empty()) {
    return RequestError{"ValidationException",
                        LengthMessage("", "name", "greater than or equal to 1")};
  }
  if (Utf16Length(name) > asl::kMaxExecutionNameLength) {
    return RequestError{"ValidationException",
                        LengthMessage(name, "name", "less than or equal to 80")};
  }
  for (std::size_t pos = 0; pos < name.size();) {
    if (ForbiddenInName(NextCodePoint(name, &pos))) {
      return RequestError{"InvalidName", "Invalid Name: '" + std::string(name) + "'"};
    }
  }
  return std::nullopt;
}

std::optional<RequestError> CheckExecutionInput(std::string_view input_text) {
  // The input is sensitive: AWS leaves its value out of the message.
  if (input_text.size() > asl::kMaxPayloadBytes) {
    return RequestError{"ValidationException",
                        LengthMessage("", "input", "less than or equal to 262144")};
  }
  return std::nullopt;
}

}  // namespace switchyard::orchestrator
