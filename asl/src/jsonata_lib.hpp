#pragma once
// Private to switchyard_asl_jsonata: JSONata's "library" builtins as plain C++ functions (strings,
// doubles and Json in, a value or a JsonataError out), so the evaluator's registration is thin
// glue and each function is unit-tested on its own. Semantics are jsonata-js 2.0.6's (functions.js,
// datetime.js) with AWS Step Functions' additions ($hash, $random, $uuid). Pure: "now" and
// randomness come in as arguments. Thread model: every function is reentrant; a JsRegex is
// immutable once compiled and may be used from many threads at once.
//
// Strings are UTF-8. Where jsonata-js reports a position inside a string (a $match index), it is
// counted in UTF-16 code units, as JavaScript does.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "switchyard/asl/json.hpp"
#include "switchyard/asl/jsonata_eval.hpp"
#include "switchyard/asl/template.hpp"

namespace switchyard::asl::jsonata_lib {

// A value or the jsonata-js error that ended the call.
template <typename T>
using Outcome = std::variant<T, JsonataError>;

// An error with jsonata-js's code and its message (the {{value}} placeholders filled in).
JsonataError LibError(std::string code, std::string message);

// ---- Numbers (functions.js formatNumber / formatBase; datetime.js formatInteger / parseInteger)

// $formatNumber(value, picture [, options]): XPath F&O 3.1 format-number. `options` (may be null)
// is an object overriding the decimal format properties ("decimal-separator", "grouping-separator",
// "exponent-separator", "infinity", "minus-sign", "NaN", "percent", "per-mille", "zero-digit",
// "digit", "pattern-separator"). Errors D3080-D3093.
Outcome<std::string> FormatNumber(double value, std::string_view picture, const Json* options);

// $formatBase(value [, radix]): the rounded value in base `radix` (default 10), lower-case digits
// as JavaScript's Number.prototype.toString(radix). D3100 when the rounded radix is outside 2..36.
Outcome<std::string> FormatBase(double value, std::optional<double> radix);

// $formatInteger(value, picture): XPath format-integer (decimal digit families, grouping, ";o"
// ordinals, words w/W/Ww, roman i/I, letters a/A). Errors D3130, D3131, D3133 (as jsonata-js).
Outcome<std::string> FormatInteger(double value, std::string_view picture);

// $parseInteger(text, picture): the inverse of FormatInteger. nullopt (undefined) when `text`
// does not match the picture.
Outcome<std::optional<double>> ParseInteger(std::string_view text, std::string_view picture);

// jsonata-js's round(value, precision): half to even at `precision` decimal places.
double RoundHalfEven(double value, int precision);

// JavaScript's Number.prototype.toString() of a double ("1e+21", "0.1", "-5", "NaN").
std::string JsNumberToString(double value);

// ---- Date/time (datetime.js)

// $fromMillis(millis [, picture [, timezone]]): without a picture, ISO 8601 as JavaScript's
// Date.prototype.toISOString ("2017-11-07T15:07:54.972Z", adjusted to `timezone` "+hhmm" when
// given). Errors D3132, D3133, D3134, D3135.
Outcome<std::string> FromMillis(double millis, std::optional<std::string_view> picture,
                                std::optional<std::string_view> timezone);

// $toMillis(timestamp [, picture]): milliseconds since the epoch; nullopt (undefined) when a
// picture is given and the timestamp does not match it. D3110 for a timestamp that is not ISO
// 8601 (without picture), D3136 for a picture lacking what is needed, D3132/D3133 for a bad
// picture. Components the picture leaves out above the ones it has come from `now_ms` (a
// time-only picture means today); those below are zero.
Outcome<std::optional<double>> ToMillis(std::string_view timestamp,
                                        std::optional<std::string_view> picture, int64_t now_ms);

// ---- Regular expressions with JavaScript's semantics (PCRE2), for /re/flags and the functions.

struct RegexMatch {
  // Byte offsets into the subject (UTF-8).
  std::size_t start = 0;
  std::size_t end = 0;
  // Capture groups 1..n; nullopt for a group that did not participate (JavaScript's undefined).
  std::vector<std::optional<std::string>> groups;
};

class JsRegex {
 public:
  // Compiles `pattern` with `flags` (any of "i", "m", "g"; g is implied by every JSONata use).
  // A pattern PCRE2 refuses is an error with code "S0303" and JavaScript's wording
  // ("Invalid regular expression: /(/: missing closing parenthesis").
  static Outcome<JsRegex> Compile(std::string_view pattern, std::string_view flags);

  // The first match starting at byte `from` or later, nullopt when none. An error when the match
  // gives up (catastrophic backtracking past the match or depth limit).
  Outcome<std::optional<RegexMatch>> Exec(std::string_view subject, std::size_t from) const;

  const std::string& source() const { return source_; }
  const std::string& flags() const { return flags_; }

  struct Code;
  const Code& code() const { return *code_; }

 private:
  std::shared_ptr<const Code> code_;
  std::string source_;
  std::string flags_;
};

// Every match of `re` in `subject`, as jsonata-js's matcher closure walks them: after a match,
// the next search starts at its end; a later match of the empty string is D1004 (the first one
// is returned). Stops after `limit` matches when given.
Outcome<std::vector<RegexMatch>> AllMatches(const JsRegex& re, std::string_view subject,
                                            std::optional<std::size_t> limit);

// The UTF-16 offset of byte offset `byte_offset` in `text` (JavaScript's string index).
std::size_t Utf16Index(std::string_view text, std::size_t byte_offset);

// $match(str, regex [, limit]) as Json: an array of {"match", "index", "groups"} objects
// (a group that did not take part is null: JavaScript's undefined, as JSON writes it). D3040 for a
// negative limit.
Outcome<Json> Match(std::string_view str, const JsRegex& re, std::optional<double> limit);

// A replacement function: given a match object ({"match","index","groups"}), the replacement
// string, or nullopt when the function returned a non-string (D3012).
using Replacer = std::function<Outcome<std::optional<std::string>>(const Json& match_object)>;

// $replace(str, pattern, replacement [, limit]) with a string pattern (D3010 when empty) or a
// regex; replacement is a string ($0, $1.., $$) or a function. D3011 for a negative limit.
Outcome<std::string> ReplaceString(std::string_view str, std::string_view pattern,
                                   std::string_view replacement, std::optional<double> limit);
Outcome<std::string> ReplaceRegex(std::string_view str, const JsRegex& re,
                                  std::string_view replacement, std::optional<double> limit);
Outcome<std::string> ReplaceRegexWith(std::string_view str, const JsRegex& re,
                                      const Replacer& replacer, std::optional<double> limit);

// $split(str, separator [, limit]): a string or regex separator. D3020 for a negative limit.
Outcome<std::vector<std::string>> SplitString(std::string_view str, std::string_view separator,
                                              std::optional<double> limit);
Outcome<std::vector<std::string>> SplitRegex(std::string_view str, const JsRegex& re,
                                             std::optional<double> limit);

// $contains(str, regex).
Outcome<bool> ContainsRegex(std::string_view str, const JsRegex& re);

// ---- Encoding

// $base64encode: like btoa, each UTF-16 code unit's low byte is one input byte.
std::string Base64Encode(std::string_view str);
// $base64decode: each decoded byte becomes the code point U+0000..U+00FF (atob / Buffer
// 'binary'). Characters outside the alphabet are skipped, as Node's decoder does.
std::string Base64Decode(std::string_view str);

// JavaScript's encodeURI / encodeURIComponent / decodeURI / decodeURIComponent; D3140 (message
// "Malformed URL passed to $<function_name>(): <value>") on a lone surrogate or a bad escape.
Outcome<std::string> EncodeUrl(std::string_view str);
Outcome<std::string> EncodeUrlComponent(std::string_view str);
Outcome<std::string> DecodeUrl(std::string_view str);
Outcome<std::string> DecodeUrlComponent(std::string_view str);

// ---- AWS Step Functions additions

// $hash(value, algorithm): hex digest of the UTF-8 bytes; algorithm one of MD5, SHA-1, SHA-256,
// SHA-384, SHA-512 (D3137 with the list otherwise).
Outcome<std::string> Hash(std::string_view value, std::string_view algorithm);

// $random(seed): java.util.Random(seed).nextDouble() (seed 42 gives 0.7275636800328681).
double RandomSeeded(int64_t seed);
// $random(): a double in [0, 1) from `random` (53 bits).
double RandomFrom(RandomSource& random);
// $uuid(): a version 4 UUID from `random`.
std::string UuidFrom(RandomSource& random);

}  // namespace switchyard::asl::jsonata_lib
