#pragma once
// AWS's checks on what a StartExecution request carries (the execution's name and input), made
// before anything runs, with the error type and message AWS answers. Shared by `switchyard run`
// and the API. Thread model: pure functions.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::orchestrator {

// An AWS API error: `type` as in {"__type": ...} ("ValidationException", "InvalidName", ...).
struct RequestError {
  std::string type;
  std::string message;
};

// Execution (and state machine, activity, alias) names: 1 to 80 characters (UTF-16 units, as
// AWS counts), none of them whitespace, `? *`, `< > { } [ ]`, `" # % \ ^ | ~ ` $ & , ; : /`, or a
// control character (U+0000-U+001F, U+007F-U+009F, U+FFFE-U+FFFF), a surrogate, U+10FFFF or
// ill-formed UTF-8; other non-ASCII characters are allowed.
// A wrong length is a ValidationException ("1 validation error detected: Value 'x' at 'name'
// failed to satisfy constraint: Member must have length less than or equal to 80"), a wrong
// character InvalidName ("Invalid Name: 'x'"). nullopt when the name is fine.
std::optional<RequestError> CheckExecutionName(std::string_view name);

// The execution input, as the request's text: at most 262,144 bytes of UTF-8 (ValidationException
// "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have
// length less than or equal to 262144"). Whether it is JSON is checked elsewhere.
std::optional<RequestError> CheckExecutionInput(std::string_view input_text);

// The length of UTF-8 text in UTF-16 code units (how AWS's Java services count characters).
// Invalid sequences count one unit per byte.
std::size_t Utf16Length(std::string_view utf8);

}  // namespace switchyard::orchestrator
