#pragma once
// JSON values for the whole of Switchyard's language layer.
//
// A Json is a RapidJSON value whose memory comes from malloc (CrtAllocator), so every value owns
// its tree and frees it on destruction: values can be moved freely between documents, containers
// and threads. Json is move-only; copy with CopyJson(). The allocator is stateless: pass Alloc().
//
// Two RapidJSON traps: `a = b` with an lvalue `b` MOVES b (b becomes null) — write
// `a = CopyJson(b)` or `a = std::move(b)` to say which you mean; and `Json("text", n)` without an
// allocator keeps a pointer to "text" instead of copying it — build strings with JsonString().
#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::asl {

using JsonAllocator = rapidjson::CrtAllocator;
using Json = rapidjson::GenericValue<rapidjson::UTF8<>, JsonAllocator>;

// The process-wide stateless allocator every Json uses.
JsonAllocator& Alloc();

// The deepest nesting of arrays and objects ParseJson accepts: Jackson's default
// (StreamReadConstraints.getMaxNestingDepth()), which AWS's parsers apply to definitions,
// execution inputs and States.StringToJson alike.
inline constexpr int kMaxJsonNestingDepth = 1000;

// Parses JSON text. Returns nullopt on a syntax error and, when `error` is given, writes a message
// such as "Invalid value at offset 3". Refused as well, with Jackson's messages: text that is not
// well-formed UTF-8 ("Invalid UTF-8 start byte 0xff at offset 7") and nesting deeper than
// kMaxJsonNestingDepth ("Document nesting depth (1001) exceeds the maximum allowed (1000, from
// `StreamReadConstraints.getMaxNestingDepth()`) at offset 1000"). The parse is iterative: no input
// can exhaust the stack. Numbers keep their kind: integers as int64/uint64, others as double
// (correctly rounded); a magnitude too large for a double is +/-infinity, as in Java (DumpJson
// writes it "Infinity"), one too small is 0. An integer literal beyond 64 bits is kept exact, as
// Jackson's BigInteger nodes are, when its magnitude is below 2^101 (every integer of up to 30
// digits): see IsBigInteger. Longer ones are doubles.
std::optional<Json> ParseJson(std::string_view text, std::string* error = nullptr);

// Switchyard's own records (execution snapshots, work items) hold payloads (each at most
// kMaxJsonNestingDepth deep) a few levels down: read them back with this limit.
inline constexpr int kMaxRecordNestingDepth = kMaxJsonNestingDepth + 64;

// ParseJson with another nesting limit (for kMaxRecordNestingDepth; never for user input).
std::optional<Json> ParseJsonNested(std::string_view text, int max_depth,
                                    std::string* error = nullptr);

// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF). When it is not and `problem` is given, writes Jackson's wording for the first bad
// byte, e.g. "Invalid UTF-8 middle byte 0x41 at offset 3".
bool IsValidUtf8(std::string_view text, std::string* problem = nullptr);

// `bytes` decoded as UTF-8 the way Java's new String(bytes, UTF_8) does: each maximal ill-formed
// subsequence becomes U+FFFD. The result is always valid UTF-8.
std::string Utf8WithReplacements(std::string_view bytes);

// The deepest nesting of arrays and objects in `value` (a scalar is 0, [] is 1), counted without
// recursion; stops counting past `limit` and returns limit + 1.
int JsonNestingDepth(const Json& value, int limit = kMaxJsonNestingDepth);

// Whether `value` is a big integer: an integer outside int64/uint64 that ParseJson kept exact.
// To RapidJSON it is an ordinary double (IsDouble(), GetDouble() the nearest double, as Jackson's
// asDouble() is for a BigInteger), so numeric comparisons and arithmetic treat it as one; DumpJson
// writes its exact digits, CopyJson and moves keep it, and JsonEquals compares it exactly.
bool IsBigInteger(const Json& value);

// Compact JSON text (no spaces), as AWS renders payloads in history and causes. Non-finite
// doubles are written as Jackson writes them by default: "Infinity", "-Infinity", "NaN" (strings).
// The text is always valid UTF-8: an ill-formed sequence inside a string (which only text that
// did not come through ParseJson can hold) is written as U+FFFD, as Java would have decoded it.
// Every walk over a value in this header (dump, size, copy, equality) is iterative, so any depth
// is safe.
std::string DumpJson(const Json& value);

// DumpJson, or nullopt when `value` nests deeper than `max_depth` (a scalar is 0, [] is 1): what
// Jackson's writer refuses past StreamWriteConstraints.getMaxNestingDepth() (1000). Costs no more
// than DumpJson.
std::optional<std::string> DumpJsonWithin(const Json& value, int max_depth = kMaxJsonNestingDepth);

// A deep copy.
Json CopyJson(const Json& value);

// Destroys `value` (leaving null) without recursion. RapidJSON's destructor recurses once per
// level; values that may be deeper than kMaxJsonNestingDepth go through this instead.
void DestroyJson(Json& value);

// Structural equality where numbers compare by value (1 == 1.0) and member order does not matter.
bool JsonEquals(const Json& a, const Json& b);

// Whether `a` and `b` are the same value to the byte: the same kinds of numbers with the same
// bits (1 and 1.0 differ, so do 0.0 and -0.0), the same string bytes, members in the same order.
// Then DumpJson(a) == DumpJson(b). Iterative; stops at the first difference.
bool JsonIdentical(const Json& a, const Json& b);

// Small constructors.
Json JsonString(std::string_view text);
Json JsonInt(int64_t value);
Json JsonDouble(double value);
Json JsonBool(bool value);
Json JsonNull();
Json JsonObject();
Json JsonArray();

// Adds or replaces member `key` of object `object` (keeps the position of an existing member).
void JsonSet(Json& object, std::string_view key, Json value);
// The member `key` of `object`, or nullptr when `object` is not an object or has no such member.
const Json* JsonFind(const Json& object, std::string_view key);
Json* JsonFind(Json& object, std::string_view key);
// Appends to an array.
void JsonPush(Json& array, Json value);
// A view of a string value (the value must be a string).
std::string_view JsonView(const Json& string_value);

// AWS's name for a JSON value's type, as used in error messages: "object", "array", "string",
// "number", "boolean", "null".
std::string_view JsonTypeName(const Json& value);

// One JSON Pointer reference token (RFC 6901): "~" is written "~0" and "/" is written "~1".
std::string JsonPointerToken(std::string_view key);

// Appends the UTF-8 encoding of code point `cp` (at most 0x10FFFF).
void AppendUtf8(std::string& out, uint32_t cp);

// Appends `text` as a JSON string literal (quotes included), escaped exactly as DumpJson escapes.
void AppendJsonString(std::string& out, std::string_view text);

// Size in bytes of the compact UTF-8 text of a value (what AWS's 256 KiB limits count).
std::size_t JsonTextSize(const Json& value);
// JsonTextSize, or nullopt when `value` nests deeper than `max_depth`.
std::optional<std::size_t> JsonTextSizeWithin(const Json& value,
                                              int max_depth = kMaxJsonNestingDepth);

}  // namespace switchyard::asl
