// JSONata's regular expressions (/re/flags, $match, $replace, $split, $contains) with
// JavaScript's semantics, on PCRE2 (8-bit, UTF mode).
//
// jsonata-js hands the pattern to the JavaScript engine (new RegExp(source, flags + "g")). What we
// do to come close to ECMAScript (non-unicode mode, which is what jsonata-js uses):
// - PCRE2_ALT_BSUX: \uHHHH and \xHH as JavaScript reads them, \U and \u without hex digits as
//   the literal letters.
// - PCRE2_MATCH_UNSET_BACKREF: a back-reference to a group that did not take part matches the
//   empty string, as in JavaScript.
// - PCRE2_DOLLAR_ENDONLY: without the m flag, $ matches only at the very end (JavaScript's $
//   does not match before a final newline, Perl's does).
// - PCRE2_ALLOW_EMPTY_CLASS: [] matches nothing and [^] matches any character, as in JavaScript.
// - Newlines are CR and LF (PCRE2_NEWLINE_ANYCRLF) for ^ and $ under the m flag, and `.` outside
//   a class is rewritten to [^\n\r\u2028\u2029] (JavaScript's line terminators); \s and \S
//   outside a class, and \s inside one, are rewritten to JavaScript's white-space set (which has
//   U+00A0, U+FEFF and the Unicode space separators that PCRE2's ASCII \s lacks).
// - \d, \w, \b stay ASCII (no PCRE2_UCP), as JavaScript's are without the u flag.
// - A match limit and a depth limit: a catastrophic pattern ends with U1001 instead of hanging
//   (JavaScript would run for ever).
// Remaining differences from JavaScript, documented rather than emulated:
// - Indexes: matching runs on UTF-8; the `index` $match reports is converted to UTF-16 code
//   units, so it equals JavaScript's. `.` and a negated class consume a whole code point where
//   JavaScript (no u flag) consumes one UTF-16 unit: a pattern that splits a surrogate pair
//   (e.g. /^.$/ against an emoji, which JavaScript does not match and we do) differs.
// - Case-insensitive matching uses Unicode simple case folding (JavaScript without u uses
//   toUpperCase); they differ for a handful of characters (e.g. U+017F, U+212A).
// - Lookbehind must have a bounded length in PCRE2 (JavaScript allows any).
// - JavaScript's legacy octal escapes and \8 \9 and a \N back-reference to a group that does
//   not exist are compile errors here (JavaScript reads them as literal characters).
// - \p{...} and \P{...} are Unicode property classes here; JavaScript without the u flag reads
//   them as the letters p and P.
// - \s inside a negated class ([^\s]) and \S inside a class keep PCRE2's ASCII set.
// - CR LF is one newline for ^ and $ under the m flag (JavaScript sees two line ends).
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "jsonata_lib.hpp"

namespace switchyard::asl::jsonata_lib {

namespace {

constexpr uint32_t kMatchLimit = 10'000'000;
constexpr uint32_t kDepthLimit = 100'000;  // In KiB of backtracking memory (heap limit).

constexpr std::string_view kJsSpaceRanges =
    "\\t\\n\\x0B\\f\\r \\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F"
    "\\u3000\\uFEFF";

// Rewrites the JavaScript-only parts of a pattern for PCRE2 (see the comment at the top).
std::string TranslatePattern(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 16);
  bool in_class = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[i + 1];
      if (next == 's') {
        if (in_class) {
          out += kJsSpaceRanges;
        } else {
          out += '[';
          out += kJsSpaceRanges;
          out += ']';
        }
      } else if (next == 'S' && !in_class) {
        out += "[^";
        out += kJsSpaceRanges;
        out += ']';
      } else {
        out += c;
        out += next;
      }
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' closes the class in JavaScript (empty class), not in PCRE2
      // unless ALLOW_EMPTY_CLASS, which we set; nothing to rewrite.
      continue;
    }
    if (c == '.') {
      out += "[^\\n\\r\\u2028\\u2029]";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

struct JsRegex::Code {
  pcre2_code* code = nullptr;
  pcre2_match_context* context = nullptr;
  uint32_t capture_count = 0;
  ~Code() {
    pcre2_match_context_free(context);
    pcre2_code_free(code);
  }
};

JsonataError LibError(std::string code, std::string message) {
  return JsonataError{std::move(code), std::nullopt, "", std::move(message)};
}

Outcome<JsRegex> JsRegex::Compile(std::string_view pattern, std::string_view flags) {
  uint32_t options = PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_MATCH_UNSET_BACKREF | PCRE2_DOLLAR_ENDONLY |
                     PCRE2_ALLOW_EMPTY_CLASS;
  for (const char f : flags) {
    if (f == 'i') {
      options |= PCRE2_CASELESS;
    } else if (f == 'm') {
      options |= PCRE2_MULTILINE;
    } else if (f != 'g') {
      return LibError("S0303",
                      "Invalid flags supplied to RegExp constructor '" + std::string(flags) + "'");
    }
  }
  const std::string translated = TranslatePattern(pattern);
  pcre2_compile_context* cctx = pcre2_compile_context_create(nullptr);
  pcre2_set_newline(cctx, PCRE2_NEWLINE_ANYCRLF);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()),
                                   translated.size(), options, &error_code, &error_offset, cctx);
  pcre2_compile_context_free(cctx);
  if (code == nullptr) {
    std::array<PCRE2_UCHAR, 256> buffer{};
    pcre2_get_error_message(error_code, buffer.data(), buffer.size());
    return LibError("S0303", "Invalid regular expression: /" + std::string(pattern) +
                                 "/: " + reinterpret_cast<const char*>(buffer.data()));
  }
  // JIT when available; a JIT failure only costs speed.
  (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  auto shared = std::make_shared<Code>();
  shared->code = code;
  shared->context = pcre2_match_context_create(nullptr);
  pcre2_set_match_limit(shared->context, kMatchLimit);
  pcre2_set_heap_limit(shared->context, kDepthLimit);
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &shared->capture_count);
  JsRegex re;
  re.code_ = std::move(shared);
  re.source_ = std::string(pattern);
  re.flags_ = std::string(flags);
  return re;
}

namespace {

struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};
using MatchData = std::unique_ptr<pcre2_match_data, MatchDataDeleter>;

Outcome<std::optional<RegexMatch>> ExecWith(const JsRegex::Code& code, pcre2_match_data* data,
                                            std::string_view subject, std::size_t from,
                                            bool want_groups) {
  if (from > subject.size()) return std::optional<RegexMatch>();
  const auto* text = reinterpret_cast<PCRE2_SPTR>(subject.data());
  // The subject is valid UTF-8 (it came from JSON); skip PCRE2's check on every call.
  int rc =
      pcre2_match(code.code, text, subject.size(), from, PCRE2_NO_UTF_CHECK, data, code.context);
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
    rc = pcre2_match(code.code, text, subject.size(), from, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, data,
                     code.context);
  }
  if (rc == PCRE2_ERROR_NOMATCH) return std::optional<RegexMatch>();
  if (rc < 0) {
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
        rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      return LibError("U1001",
                      "Regular expression evaluation took too long: the pattern backtracks "
                      "too much on this input");
    }
    if (rc == PCRE2_ERROR_BADUTFOFFSET) return std::optional<RegexMatch>();
    std::array<PCRE2_UCHAR, 256> buffer{};
    pcre2_get_error_message(rc, buffer.data(), buffer.size());
    return LibError("D1005", std::string("Regular expression matching failed: ") +
                                 reinterpret_cast<const char*>(buffer.data()));
  }
  const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
  RegexMatch match;
  match.start = ovector[0];
  match.end = ovector[1];
  if (want_groups) {
    match.groups.reserve(code.capture_count);
    for (uint32_t g = 1; g <= code.capture_count; ++g) {
      if (static_cast<int>(g) < rc && ovector[2 * g] != PCRE2_UNSET) {
        match.groups.emplace_back(
            std::string(subject.substr(ovector[2 * g], ovector[2 * g + 1] - ovector[2 * g])));
      } else {
        match.groups.emplace_back(std::nullopt);
      }
    }
  }
  return std::optional<RegexMatch>(std::move(match));
}

// The calling thread's match block, grown to the largest pattern it has matched: a $replace over
// many strings allocates none per call. Valid until the next call on this thread (a replacement
// function may match another regex), so callers fetch it again for every match and copy what they
// need out of it at once.
pcre2_match_data* ThreadMatchData(const JsRegex::Code& code) {
  thread_local MatchData data;
  thread_local uint32_t pairs = 0;
  if (!data || pairs < code.capture_count + 1) {
    pairs = code.capture_count + 1;
    data = MatchData(pcre2_match_data_create(pairs, nullptr));
  }
  return data.get();
}

JsonataError ZeroLengthError() {
  return LibError("D1004", "Regular expression matches zero length string");
}

// jsonata-js's limits are numbers; a negative one is the caller's error, checked before.
std::optional<std::size_t> CountLimit(std::optional<double> limit) {
  if (!limit) return std::nullopt;
  if (*limit <= 0) return std::size_t{0};
  if (*limit >= 1e15) return std::nullopt;
  return static_cast<std::size_t>(std::ceil(*limit));
}

// Walks matches as jsonata-js's matcher closure does; calls `visit` for each (returning an error
// stops the walk).
template <typename Visit>
std::optional<JsonataError> WalkMatches(const JsRegex& re, const JsRegex::Code& code,
                                        std::string_view subject, std::optional<std::size_t> limit,
                                        bool want_groups, Visit&& visit) {
  (void)re;
  std::size_t count = 0;
  std::size_t from = 0;
  bool first = true;
  while (!limit || count < *limit) {
    if (!first && from >= subject.size()) break;
    auto outcome = ExecWith(code, ThreadMatchData(code), subject, from, want_groups);
    if (auto* error = std::get_if<JsonataError>(&outcome)) return std::move(*error);
    auto& found = std::get<0>(outcome);
    if (!found) break;
    if (!first && found->start == found->end) return ZeroLengthError();
    first = false;
    from = found->end;
    if (auto error = visit(*found)) return error;
    ++count;
  }
  return std::nullopt;
}

}  // namespace

Outcome<std::optional<RegexMatch>> JsRegex::Exec(std::string_view subject, std::size_t from) const {
  return ExecWith(*code_, ThreadMatchData(*code_), subject, from, true);
}

Outcome<std::vector<RegexMatch>> AllMatches(const JsRegex& re, std::string_view subject,
                                            std::optional<std::size_t> limit) {
  std::vector<RegexMatch> out;
  auto error = WalkMatches(re, re.code(), subject, limit, true, [&](RegexMatch& m) {
    out.push_back(std::move(m));
    return std::optional<JsonataError>();
  });
  if (error) return std::move(*error);
  return out;
}

namespace {

Json MatchObject(std::string_view str, const RegexMatch& m) {
  Json object = JsonObject();
  JsonSet(object, "match", JsonString(str.substr(m.start, m.end - m.start)));
  JsonSet(object, "index", JsonInt(static_cast<int64_t>(Utf16Index(str, m.start))));
  Json groups = JsonArray();
  for (const auto& g : m.groups) JsonPush(groups, g ? JsonString(*g) : JsonNull());
  JsonSet(object, "groups", std::move(groups));
  return object;
}

// $replace's replacement string: $$ is '$', $0 the match, $N (as many digits as the group count
// has, falling back to one fewer when that names no group) a group; any other '$' is literal.
void AppendSubstitute(std::string& out, std::string_view replacement, std::string_view matched,
                      const std::vector<std::optional<std::string>>& groups) {
  std::size_t position = 0;
  std::size_t index = replacement.find('$');
  while (index != std::string_view::npos && position < replacement.size()) {
    out.append(replacement.substr(position, index - position));
    position = index + 1;
    const char dollar_val = position < replacement.size() ? replacement[position] : '\0';
    if (dollar_val == '$') {
      out += '$';
      ++position;
    } else if (dollar_val == '0') {
      out.append(matched);
      ++position;
    } else {
      std::size_t max_digits = 1;
      if (!groups.empty()) {
        max_digits = static_cast<std::size_t>(std::floor(std::log10(groups.size()))) + 1;
      }
      // parseInt of up to max_digits characters: leading digits only.
      auto parse = [&](std::size_t digits) -> std::optional<std::size_t> {
        std::size_t value = 0;
        std::size_t used = 0;
        while (used < digits && position + used < replacement.size() &&
               replacement[position + used] >= '0' && replacement[position + used] <= '9') {
          value = value * 10 + static_cast<std::size_t>(replacement[position + used] - '0');
          ++used;
        }
        if (used == 0) return std::nullopt;
        return value;
      };
      std::optional<std::size_t> group = parse(max_digits);
      if (max_digits > 1 && group && *group > groups.size()) group = parse(max_digits - 1);
      if (group) {
        if (!groups.empty() && *group >= 1 && *group <= groups.size() && groups[*group - 1]) {
          out.append(*groups[*group - 1]);
        }
        position += std::to_string(*group).size();
      } else {
        out += '$';
      }
    }
    index = replacement.find('$', position);
  }
  if (position < replacement.size()) out.append(replacement.substr(position));
}

std::optional<JsonataError> CheckLimit(std::optional<double> limit, const char* code,
                                       const char* message) {
  if (limit && *limit < 0) return LibError(code, message);
  return std::nullopt;
}

}  // namespace

Outcome<Json> Match(std::string_view str, const JsRegex& re, std::optional<double> limit) {
  if (auto error = CheckLimit(limit, "D3040",
                              "Third argument of match function must evaluate to a positive "
                              "number")) {
    return std::move(*error);
  }
  Json out = JsonArray();
  auto error = WalkMatches(re, re.code(), str, CountLimit(limit), true, [&](RegexMatch& m) {
    JsonPush(out, MatchObject(str, m));
    return std::optional<JsonataError>();
  });
  if (error) return std::move(*error);
  return out;
}

Outcome<std::string> ReplaceString(std::string_view str, std::string_view pattern,
                                   std::string_view replacement, std::optional<double> limit) {
  if (pattern.empty()) {
    return LibError("D3010", "Second argument of replace function cannot be an empty string");
  }
  if (auto error = CheckLimit(limit, "D3011",
                              "Fourth argument of replace function must evaluate to a positive "
                              "number")) {
    return std::move(*error);
  }
  const auto max = CountLimit(limit);
  std::string out;
  std::size_t position = 0;
  std::size_t count = 0;
  std::size_t index = str.find(pattern);
  while (index != std::string_view::npos && (!max || count < *max)) {
    out.append(str.substr(position, index - position));
    out.append(replacement);
    position = index + pattern.size();
    ++count;
    index = str.find(pattern, position);
  }
  out.append(str.substr(position));
  return out;
}

Outcome<std::string> ReplaceRegexWith(std::string_view str, const JsRegex& re,
                                      const Replacer& replacer, std::optional<double> limit) {
  if (auto error = CheckLimit(limit, "D3011",
                              "Fourth argument of replace function must evaluate to a positive "
                              "number")) {
    return std::move(*error);
  }
  std::string out;
  std::size_t position = 0;
  auto error = WalkMatches(re, re.code(), str, CountLimit(limit), true,
                           [&](RegexMatch& m) -> std::optional<JsonataError> {
                             out.append(str.substr(position, m.start - position));
                             auto replaced = replacer(MatchObject(str, m));
                             if (auto* e = std::get_if<JsonataError>(&replaced)) return *e;
                             auto& text = std::get<0>(replaced);
                             if (!text) {
                               return LibError("D3012",
                                               "Attempted to replace a matched string with a "
                                               "non-string value");
                             }
                             out.append(*text);
                             position = m.end;
                             return std::nullopt;
                           });
  if (error) return std::move(*error);
  out.append(str.substr(position));
  return out;
}

Outcome<std::string> ReplaceRegex(std::string_view str, const JsRegex& re,
                                  std::string_view replacement, std::optional<double> limit) {
  if (auto error = CheckLimit(limit, "D3011",
                              "Fourth argument of replace function must evaluate to a positive "
                              "number")) {
    return std::move(*error);
  }
  std::string out;
  std::size_t position = 0;
  auto error = WalkMatches(re, re.code(), str, CountLimit(limit), true, [&](RegexMatch& m) {
    out.append(str.substr(position, m.start - position));
    AppendSubstitute(out, replacement, str.substr(m.start, m.end - m.start), m.groups);
    position = m.end;
    return std::optional<JsonataError>();
  });
  if (error) return std::move(*error);
  out.append(str.substr(position));
  return out;
}

Outcome<std::vector<std::string>> SplitString(std::string_view str, std::string_view separator,
                                              std::optional<double> limit) {
  if (auto error = CheckLimit(limit, "D3020",
                              "Third argument of split function must evaluate to a positive "
                              "number")) {
    return std::move(*error);
  }
  // JavaScript's String.prototype.split(separator, limit): the limit goes through ToUint32.
  std::optional<std::size_t> max;
  if (limit)
    max = *limit >= 4294967296.0
              ? std::nullopt
              : std::optional<std::size_t>(static_cast<std::size_t>(std::floor(*limit)));
  std::vector<std::string> out;
  if (max && *max == 0) return out;
  if (separator.empty()) {
    // One element per UTF-16 unit in JavaScript; per code point here (a surrogate pair stays
    // whole, where JavaScript would split it into two lone surrogates).
    for (std::size_t i = 0; i < str.size();) {
      const auto c = static_cast<unsigned char>(str[i]);
      const std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      out.emplace_back(str.substr(i, len));
      i += len;
      if (max && out.size() >= *max) break;
    }
    return out;
  }
  std::size_t position = 0;
  while (true) {
    const std::size_t index = str.find(separator, position);
    if (index == std::string_view::npos) break;
    out.emplace_back(str.substr(position, index - position));
    if (max && out.size() >= *max) return out;
    position = index + separator.size();
  }
  out.emplace_back(str.substr(position));
  return out;
}

Outcome<std::vector<std::string>> SplitRegex(std::string_view str, const JsRegex& re,
                                             std::optional<double> limit) {
  if (auto error = CheckLimit(limit, "D3020",
                              "Third argument of split function must evaluate to a positive "
                              "number")) {
    return std::move(*error);
  }
  const auto max = CountLimit(limit);
  std::vector<std::string> out;
  if (max && *max == 0) return out;
  std::size_t start = 0;
  std::size_t count = 0;
  auto error = WalkMatches(re, re.code(), str, max, false, [&](RegexMatch& m) {
    out.emplace_back(str.substr(start, m.start - start));
    start = m.end;
    ++count;
    return std::optional<JsonataError>();
  });
  if (error) return std::move(*error);
  if (!max || count < *max) out.emplace_back(str.substr(std::min(start, str.size())));
  return out;
}

Outcome<bool> ContainsRegex(std::string_view str, const JsRegex& re) {
  auto outcome = ExecWith(re.code(), ThreadMatchData(re.code()), str, 0, false);
  if (auto* error = std::get_if<JsonataError>(&outcome)) return std::move(*error);
  return std::get<0>(outcome).has_value();
}

std::size_t Utf16Index(std::string_view text, std::size_t byte_offset) {
  std::size_t units = 0;
  const std::size_t n = std::min(byte_offset, text.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;  // Continuation byte.
    units += c >= 0xF0 ? 2 : 1;        // A 4-byte sequence is a surrogate pair.
  }
  return units;
}

}  // namespace switchyard::asl::jsonata_lib
