#include "switchyard/asl/json.hpp"

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/internal/dtoa.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "utf8_internal.hpp"

namespace switchyard::asl {
namespace {

using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, JsonAllocator, JsonAllocator>;

// Big integers. Jackson's tree model keeps an integer literal beyond 64 bits as a BigInteger and
// writes it back digit for digit; RapidJSON has no such kind, and its destructor frees memory only
// for strings, arrays and objects, so a number cannot own a heap copy of its digits without
// leaking. A big integer is therefore a double that carries the rest of its value inline:
//   bytes 0-7   the double nearest the integer (what GetDouble() returns: RapidJSON sees an
//               ordinary double everywhere, as Jackson's asDouble() would for a BigInteger),
//   bytes 8-13  the integer minus that double, a 48-bit two's complement residual (bytes a
//               number leaves unused in RapidJSON's 16-byte value),
//   bytes 14-15 RapidJSON's flags, plus kBigIntegerFlag, a bit RapidJSON never sets or tests.
// RapidJSON moves and copies numbers as raw 16 bytes, and destroys them as nothing, so the mark
// survives and nothing leaks. The residual of an integer below 2^101 in magnitude fits in 48 bits
// (the double's spacing there is at most 2^48); such integers (every one of up to 30 digits)
// round-trip exactly. A longer one is a double, as before.
static_assert(RAPIDJSON_48BITPOINTER_OPTIMIZATION == 1 && sizeof(Json) == 16 &&
                  RAPIDJSON_ENDIAN == RAPIDJSON_LITTLEENDIAN,
              "the big-integer encoding relies on RapidJSON's 16-byte little-endian value");
__extension__ using Int128 = __int128;
constexpr uint16_t kBigIntegerFlag = 0x2000;
constexpr std::size_t kFlagsOffset = 14;
constexpr std::size_t kResidualOffset = 8;
constexpr int64_t kResidualLimit = int64_t{1} << 47;

uint16_t RawFlags(const Json& value) {
  uint16_t flags = 0;
  std::memcpy(&flags, reinterpret_cast<const unsigned char*>(&value) + kFlagsOffset, 2);
  return flags;
}

int64_t BigIntegerResidual(const Json& value) {
  uint64_t bits = 0;
  std::memcpy(&bits, reinterpret_cast<const unsigned char*>(&value) + kResidualOffset, 6);
  // Sign-extend the 48-bit field.
  return static_cast<int64_t>(bits << 16) >> 16;
}

// A big integer for `exact` when it lies outside int64/uint64 and its residual fits.
std::optional<Json> MakeBigInteger(Int128 exact) {
  if (exact >= std::numeric_limits<int64_t>::min() &&
      exact <= static_cast<Int128>(std::numeric_limits<uint64_t>::max())) {
    return std::nullopt;
  }
  const double nearest = static_cast<double>(exact);  // round to nearest
  const Int128 residual = exact - static_cast<Int128>(nearest);
  if (residual >= kResidualLimit || residual <= -kResidualLimit) return std::nullopt;
  Json value(nearest);
  const auto bits = static_cast<uint64_t>(static_cast<int64_t>(residual));
  unsigned char* raw = reinterpret_cast<unsigned char*>(&value);
  std::memcpy(raw + kResidualOffset, &bits, 6);
  const uint16_t flags = RawFlags(value) | kBigIntegerFlag;
  std::memcpy(raw + kFlagsOffset, &flags, 2);
  return value;
}

// The exact value of an integer literal (optional '-', digits), when it fits in 127 bits.
std::optional<Int128> ParseInt128(std::string_view text) {
  const bool negative = text.starts_with('-');
  if (negative) text.remove_prefix(1);
  if (text.empty() || text.size() > 38) return std::nullopt;  // 10^38 < 2^127
  Int128 value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return negative ? -value : value;
}

std::string BigIntegerText(const Json& value) {
  Int128 exact = static_cast<Int128>(value.GetDouble()) + BigIntegerResidual(value);
  const bool negative = exact < 0;
  if (negative) exact = -exact;
  char buffer[48];
  char* end = buffer + sizeof buffer;
  char* begin = end;
  do {
    *--begin = static_cast<char>('0' + static_cast<int>(exact % 10));
    exact /= 10;
  } while (exact != 0);
  if (negative) *--begin = '-';
  return std::string(begin, end);
}

bool NumberEquals(const Json& a, const Json& b) {
  if (a.IsInt64() && b.IsInt64()) return a.GetInt64() == b.GetInt64();
  if (a.IsUint64() && b.IsUint64()) return a.GetUint64() == b.GetUint64();
  if (a.GetDouble() != b.GetDouble()) return false;
  const bool big_a = IsBigInteger(a);
  const bool big_b = IsBigInteger(b);
  if (!big_a && !big_b) return true;
  // A big integer lies outside int64/uint64, so it equals only a number of the same value:
  // another big integer, or a double that is exactly it.
  if (big_a && big_b) return BigIntegerResidual(a) == BigIntegerResidual(b);
  const Json& other = big_a ? b : a;
  return other.IsDouble() && BigIntegerResidual(big_a ? a : b) == 0;
}

}  // namespace

JsonAllocator& Alloc() {
  static JsonAllocator allocator;
  return allocator;
}

namespace {

// Numbers are not converted by RapidJSON: its 1.1.0 full-precision path (StrtodDiyFp) reads
// past its table of cached powers of ten for numbers far outside double's range (found twice by
// fuzz_definition: "0.000…0" with hundreds of digits, and "0.000…018446744073709551615e-300"),
// and its normal path is not correctly rounded ("0.30000000000000004" comes back as
// ...07). The reader hands each number over as text and std::from_chars converts it, correctly
// rounded as Java does. Integers keep RapidJSON's kinds; beyond 64 bits they are big integers
// (see MakeBigInteger) or, past 2^101, doubles.
// The power of ten of a JSON number's leading digit, roughly: positive for large magnitudes,
// negative for small ones (saturating; only its sign is used).
int64_t DecimalOrder(std::string_view number) {
  std::size_t i = number.starts_with('-') ? 1 : 0;
  int64_t order = 0;
  bool seen_nonzero = false;
  for (; i < number.size() && number[i] >= '0' && number[i] <= '9'; ++i) {
    seen_nonzero = seen_nonzero || number[i] != '0';
    if (seen_nonzero) ++order;
  }
  if (!seen_nonzero && i < number.size() && number[i] == '.') {
    for (++i; i < number.size() && number[i] == '0'; ++i) --order;
  }
  std::size_t e = number.find_first_of("eE");
  if (e != std::string_view::npos) {
    int64_t exponent = 0;
    bool negative = e + 1 < number.size() && number[e + 1] == '-';
    for (std::size_t j = e + 1; j < number.size(); ++j) {
      if (number[j] >= '0' && number[j] <= '9') {
        exponent = std::min<int64_t>(exponent * 10 + (number[j] - '0'), 1000000);
      }
    }
    order += negative ? -exponent : exponent;
  }
  return order;
}

// Jackson's StreamReadConstraints.getMaxNumberLength().
constexpr std::size_t kMaxNumberLength = 1000;

std::string NumberTooLong(std::size_t length, std::size_t offset) {
  return "Number value length (" + std::to_string(length) +
         ") exceeds the maximum allowed (1000, from `StreamReadConstraints.getMaxNumberLength()`) "
         "at offset " +
         std::to_string(offset);
}

// A JSON number as Java's Double.parseDouble reads it (Jackson): correctly rounded; too small
// for a double is zero, too large is infinity. nullopt when the text is not a number.
std::optional<double> JavaDouble(std::string_view number) {
  if (number.empty()) return std::nullopt;
  const char* begin = number.data();
  const char* end = begin + number.size();
  double d = 0;
  auto [ptr, ec] = std::from_chars(begin, end, d);
  if (ptr != end) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    const bool negative = number.front() == '-';
    if (DecimalOrder(number) < 0) return negative ? -0.0 : 0.0;
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (ec != std::errc()) return std::nullopt;
  return d;
}

// Converts numbers (below) and counts nesting, stopping the parse one level past
// kMaxJsonNestingDepth as Jackson does.
template <typename Handler>
struct NumberConverter {
  Handler& out;
  int max_depth = kMaxJsonNestingDepth;
  int depth = 0;
  bool too_deep = false;
  bool Enter() {
    if (++depth > max_depth) {
      too_deep = true;
      return false;
    }
    return true;
  }
  bool Null() { return out.Null(); }
  bool Bool(bool b) { return out.Bool(b); }
  bool Int(int i) { return out.Int(i); }
  bool Uint(unsigned u) { return out.Uint(u); }
  bool Int64(int64_t i) { return out.Int64(i); }
  bool Uint64(uint64_t u) { return out.Uint64(u); }
  bool Double(double d) { return out.Double(d); }
  bool String(const char* text, rapidjson::SizeType length, bool copy) {
    return out.String(text, length, copy);
  }
  bool StartObject() { return Enter() && out.StartObject(); }
  bool Key(const char* text, rapidjson::SizeType length, bool copy) {
    return out.Key(text, length, copy);
  }
  bool EndObject(rapidjson::SizeType count) {
    --depth;
    return out.EndObject(count);
  }
  bool StartArray() { return Enter() && out.StartArray(); }
  bool EndArray(rapidjson::SizeType count) {
    --depth;
    return out.EndArray(count);
  }

  // Numbers ParseJson took out of the text before RapidJSON saw it (PatchHugeNumbers), as
  // (ordinal among the text's numbers, value); the text holds "0" in their place.
  const std::vector<std::pair<std::size_t, double>>* overrides = nullptr;
  std::size_t next_number = 0;
  std::size_t next_override = 0;

  std::size_t too_long = 0;  // the length of a number longer than Jackson allows

  // The big integers among the text's numbers, by ordinal (see MakeBigInteger).
  std::vector<std::pair<std::size_t, Json>> big_integers = {};

  bool RawNumber(const char* text, rapidjson::SizeType length, bool /*copy*/) {
    if (length > kMaxNumberLength) {
      too_long = length;
      return false;
    }
    const std::size_t ordinal = next_number++;
    if (overrides != nullptr && next_override < overrides->size() &&
        (*overrides)[next_override].first == ordinal) {
      return out.Double((*overrides)[next_override++].second);
    }
    const char* end = text + length;
    const bool integral =
        std::find_if(text, end, [](char c) { return c == '.' || c == 'e' || c == 'E'; }) == end;
    if (integral) {
      if (text[0] == '-') {
        int64_t i = 0;
        if (auto [ptr, ec] = std::from_chars(text, end, i); ec == std::errc() && ptr == end) {
          return out.Int64(i);
        }
      } else {
        uint64_t u = 0;
        if (auto [ptr, ec] = std::from_chars(text, end, u); ec == std::errc() && ptr == end) {
          return out.Uint64(u);
        }
      }
      if (std::optional<Int128> exact = ParseInt128(std::string_view(text, length))) {
        if (std::optional<Json> big = MakeBigInteger(*exact)) {
          // The handler builds a plain double; ParseJson marks it afterwards.
          big_integers.emplace_back(ordinal, std::move(*big));
        }
      }
    }
    std::optional<double> d = JavaDouble(std::string_view(text, length));
    return d.has_value() && out.Double(*d);
  }
};

// RapidJSON refuses ("Number too big to be stored in double") a number with more than ~308
// digits or a large positive exponent, which Java reads (as infinity, or as the double nearest a
// long mantissa). Such numbers are taken out of a copy of the text, each replaced by "0" and
// spaces (so offsets stay put), and their values recorded by ordinal for the handler. Returns an
// error message when a number is longer than Jackson allows.
std::string PatchHugeNumbers(std::string& text,
                             std::vector<std::pair<std::size_t, double>>* overrides) {
  std::size_t ordinal = 0;
  bool in_string = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        i += 2;
        continue;
      }
      in_string = c != '"';
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = true;
      ++i;
      continue;
    }
    if (c != '-' && (c < '0' || c > '9')) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    std::size_t mantissa_digits = 0;
    std::size_t exponent = 0;
    bool in_exponent = false;
    bool negative_exponent = false;
    for (++i; i < text.size(); ++i) {
      const char d = text[i];
      if (d >= '0' && d <= '9') {
        if (in_exponent) {
          exponent =
              std::min<std::size_t>(exponent * 10 + static_cast<std::size_t>(d - '0'), 100000);
        } else {
          ++mantissa_digits;
        }
      } else if (d == 'e' || d == 'E') {
        in_exponent = true;
      } else if ((d == '-' || d == '+') && in_exponent) {
        negative_exponent = d == '-';
      } else if (d != '.') {
        break;
      }
    }
    const std::size_t length = i - start;
    if (length > kMaxNumberLength) return NumberTooLong(length, start);
    if (mantissa_digits > 300 || (exponent > 300 && !negative_exponent)) {
      if (std::optional<double> value = JavaDouble(std::string_view(text).substr(start, length))) {
        overrides->emplace_back(ordinal, *value);
        text[start] = '0';
        std::fill(text.begin() + static_cast<std::ptrdiff_t>(start) + 1,
                  text.begin() + static_cast<std::ptrdiff_t>(i), ' ');
      }
    }
    ++ordinal;
  }
  return {};
}

// Replaces the numbers of `root` whose ordinals (document order, as the reader met them) are
// listed with the big integers made for them. Iterative; only texts holding a big integer pay.
void MarkBigIntegers(Json& root, std::vector<std::pair<std::size_t, Json>>& big_integers) {
  std::size_t ordinal = 0;
  std::size_t next = 0;
  std::vector<std::pair<Json*, rapidjson::SizeType>> stack;
  Json* value = &root;
  while (next < big_integers.size()) {
    if (value != nullptr) {
      if (value->IsNumber()) {
        if (big_integers[next].first == ordinal++) *value = std::move(big_integers[next++].second);
      } else if (value->IsArray() || value->IsObject()) {
        stack.emplace_back(value, 0);
      }
    }
    if (stack.empty()) return;
    auto& [container, index] = stack.back();
    const rapidjson::SizeType count =
        container->IsArray() ? container->Size() : container->MemberCount();
    if (index == count) {
      stack.pop_back();
      value = nullptr;
      continue;
    }
    value =
        container->IsArray() ? &(*container)[index] : &(container->MemberBegin() + index)->value;
    ++index;
  }
}

}  // namespace

std::optional<Json> ParseJson(std::string_view text, std::string* error) {
  return ParseJsonNested(text, kMaxJsonNestingDepth, error);
}

std::optional<Json> ParseJsonNested(std::string_view text, int max_depth, std::string* error) {
  // Jackson reads bytes as UTF-8 and refuses a malformed sequence anywhere in the text.
  if (!IsValidUtf8(text, error)) return std::nullopt;
  Document doc;
  rapidjson::ParseResult result;
  bool too_deep = false;
  std::size_t too_long = 0;
  std::string patched;  // the text with huge numbers taken out, when it has any
  std::vector<std::pair<std::size_t, double>> overrides;
  std::vector<std::pair<std::size_t, Json>> big_integers;
  auto generate = [&](Document& handler) {
    rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>, JsonAllocator> reader;
    const std::string_view source = patched.empty() ? text : std::string_view(patched);
    rapidjson::MemoryStream memory(source.data(), source.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> stream(memory);
    NumberConverter<Document> converter{handler, max_depth};
    converter.overrides = &overrides;
    // Iterative: RapidJSON's default reader recurses once per nesting level.
    result = reader.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag>(
        stream, converter);
    too_deep = converter.too_deep;
    too_long = converter.too_long;
    big_integers = std::move(converter.big_integers);
    return !result.IsError();
  };
  doc.Populate(generate);
  if (result.IsError() && result.Code() == rapidjson::kParseErrorNumberTooBig) {
    // Rare: the second pass costs a copy of the text.
    patched = std::string(text);
    if (std::string problem = PatchHugeNumbers(patched, &overrides); !problem.empty()) {
      if (error != nullptr) *error = std::move(problem);
      return std::nullopt;
    }
    doc.Populate(generate);
  }
  if (result.IsError()) {
    if (error != nullptr) {
      if (too_long > 0) {
        *error = NumberTooLong(too_long, result.Offset());
      } else if (too_deep) {
        *error = "Document nesting depth (" + std::to_string(max_depth + 1) +
                 ") exceeds the maximum allowed (" + std::to_string(max_depth) +
                 ", from `StreamReadConstraints.getMaxNestingDepth()`) at offset " +
                 std::to_string(result.Offset());
      } else {
        *error = std::string(rapidjson::GetParseError_En(result.Code())) + " at offset " +
                 std::to_string(result.Offset());
      }
    }
    return std::nullopt;
  }
  Json value;
  value.Swap(doc);
  if (!big_integers.empty()) MarkBigIntegers(value, big_integers);
  return value;
}

namespace {

// Compact JSON text, written directly (RapidJSON's Writer costs ~30 instructions a byte through
// its per-character stream calls). The output is byte for byte what Writer<UTF8> produces:
// the same escapes, integers in decimal, doubles through RapidJSON's own dtoa.
struct StringSink {
  std::string* out;
  std::size_t
      size;  // bytes written; out->size() is the room in use (grown ahead, trimmed at the end)
  explicit StringSink(std::string* text) : out(text), size(text->size()) {}
  ~StringSink() { out->resize(size); }
  StringSink(const StringSink&) = delete;
  StringSink& operator=(const StringSink&) = delete;
  void Append(const char* data, std::size_t count) {
    if (size + count > out->size()) Grow(count);
    std::memcpy(out->data() + size, data, count);
    size += count;
  }
  void Append(char c) {
    if (size + 1 > out->size()) Grow(1);
    (*out)[size++] = c;
  }
  [[gnu::noinline]] void Grow(std::size_t count) {
    out->resize(std::max({out->capacity(), out->size() * 2, size + count + 64}));
  }
};
// Appends to a growing buffer that is never initialised (std::string's resize would zero it).
struct ScratchSink {
  static constexpr std::size_t kKept = std::size_t{1} << 20;  // larger buffers are released
  std::unique_ptr<char[]> data;
  std::size_t capacity = 0;
  std::size_t size = 0;
  void Append(const char* bytes, std::size_t count) {
    if (size + count > capacity) Grow(count);
    std::memcpy(data.get() + size, bytes, count);
    size += count;
  }
  void Append(char c) {
    if (size + 1 > capacity) Grow(1);
    data[size++] = c;
  }
  [[gnu::noinline]] void Grow(std::size_t count) {
    std::size_t wanted = std::max({capacity * 2, size + count, std::size_t{256}});
    auto grown = std::make_unique_for_overwrite<char[]>(wanted);
    if (size > 0) std::memcpy(grown.get(), data.get(), size);
    data = std::move(grown);
    capacity = wanted;
  }
  void Trim() {
    if (capacity > kKept) {
      data.reset();
      capacity = 0;
    }
  }
};
struct CountingSink {
  std::size_t size = 0;
  void Append(const char*, std::size_t count) { size += count; }
  void Append(char) { ++size; }
};

// The escape each byte needs in a JSON string: 0 none, 'u' \u00XX, '8' the start of a UTF-8
// sequence to check, else the letter after '\'.
constexpr std::array<char, 256> kEscapes = [] {
  std::array<char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[static_cast<std::size_t>(c)] = 'u';
  table['"'] = '"';
  table['\\'] = '\\';
  table['\b'] = 'b';
  table['\f'] = 'f';
  table['\n'] = 'n';
  table['\r'] = 'r';
  table['\t'] = 't';
  for (int c = 0x80; c < 0x100; ++c) table[static_cast<std::size_t>(c)] = '8';  // check UTF-8
  return table;
}();

template <typename Sink>
void WriteString(Sink& sink, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  sink.Append('"');
  std::size_t run = 0;  // start of the pending run that needs no escape
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char escape = kEscapes[static_cast<unsigned char>(text[i])];
    if (escape == 0) continue;
    if (escape == '8') {
      // Text is written as valid UTF-8 whatever its origin (a function's raw output, say): an
      // ill-formed sequence becomes U+FFFD, as Java's decoding of the bytes would have made it.
      std::size_t valid_prefix = 0;
      std::size_t bad = 0;
      const std::size_t length = Utf8SequenceAt(text, i, &valid_prefix, &bad);
      if (length > 0) {
        i += length - 1;
        continue;
      }
      sink.Append(text.data() + run, i - run);
      sink.Append("\xEF\xBF\xBD", 3);
      i += valid_prefix - 1;
      run = i + 1;
      continue;
    }
    sink.Append(text.data() + run, i - run);
    run = i + 1;
    if (escape == 'u') {
      const auto c = static_cast<unsigned char>(text[i]);
      const char code[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      sink.Append(code, 6);
    } else {
      const char code[2] = {'\\', escape};
      sink.Append(code, 2);
    }
  }
  sink.Append(text.data() + run, text.size() - run);
  sink.Append('"');
}

// A stack for the iterative walks: the first levels live inline (no allocation for the
// payloads most states pass), deeper ones on the heap.
template <typename T, std::size_t kInline>
class WalkStack {
 public:
  bool empty() const { return size_ == 0; }
  T& back() { return size_ <= kInline ? inline_[size_ - 1] : heap_[size_ - 1 - kInline]; }
  void push(T item) {
    if (size_ < kInline) {
      inline_[size_] = item;
    } else {
      heap_.push_back(item);
    }
    ++size_;
  }
  void pop() {
    if (size_ > kInline) heap_.pop_back();
    --size_;
  }
  std::size_t size() const { return size_; }

 private:
  std::array<T, kInline> inline_{};
  std::vector<T> heap_;
  std::size_t size_ = 0;
};

template <typename Sink>
void WriteScalar(Sink& sink, const Json& value) {
  switch (value.GetType()) {
    case rapidjson::kNullType:
      return sink.Append("null", 4);
    case rapidjson::kFalseType:
      return sink.Append("false", 5);
    case rapidjson::kTrueType:
      return sink.Append("true", 4);
    case rapidjson::kStringType:
      return WriteString(sink, std::string_view(value.GetString(), value.GetStringLength()));
    case rapidjson::kNumberType: {
      char buffer[32];
      char* end;
      if (value.IsDouble()) {
        const double d = value.GetDouble();
        // JSON has no spelling for NaN and infinities; Jackson (WRITE_NAN_AS_STRINGS, on by
        // default) writes them as strings.
        if (std::isnan(d)) return sink.Append("\"NaN\"", 5);
        if (std::isinf(d)) {
          return d > 0 ? sink.Append("\"Infinity\"", 10) : sink.Append("\"-Infinity\"", 11);
        }
        if (RawFlags(value) & kBigIntegerFlag) [[unlikely]] {
          const std::string digits = BigIntegerText(value);
          return sink.Append(digits.data(), digits.size());
        }
        end = rapidjson::internal::dtoa(d, buffer, 324);
      } else if (value.IsInt64()) {
        end = std::to_chars(buffer, buffer + sizeof buffer, value.GetInt64()).ptr;
      } else {
        end = std::to_chars(buffer, buffer + sizeof buffer, value.GetUint64()).ptr;
      }
      return sink.Append(buffer, static_cast<std::size_t>(end - buffer));
    }
    case rapidjson::kArrayType:
    case rapidjson::kObjectType:
      return;
  }
}

struct WriteFrame {
  const Json* container = nullptr;
  rapidjson::SizeType next = 0;
};

// Iterative: a value may be nested deeper than any stack allows. Returns false, having written
// part of the text, when the value nests deeper than `max_depth`.
template <typename Sink>
bool WriteValue(Sink& sink, const Json& root, std::size_t max_depth) {
  WalkStack<WriteFrame, 32> stack;
  const Json* value = &root;
  while (value != nullptr) {
    if (value->IsArray()) {
      if (value->Empty()) {
        sink.Append("[]", 2);
      } else {
        if (stack.size() == max_depth) return false;
        sink.Append('[');
        stack.push({value, 0});
      }
    } else if (value->IsObject()) {
      if (value->ObjectEmpty()) {
        sink.Append("{}", 2);
      } else {
        if (stack.size() == max_depth) return false;
        sink.Append('{');
        stack.push({value, 0});
      }
    } else {
      WriteScalar(sink, *value);
    }
    value = nullptr;
    while (value == nullptr && !stack.empty()) {
      WriteFrame& top = stack.back();
      const Json& container = *top.container;
      if (container.IsArray()) {
        if (top.next == container.Size()) {
          sink.Append(']');
          stack.pop();
          continue;
        }
        if (top.next > 0) sink.Append(',');
        value = &container[top.next++];
      } else {
        if (top.next == container.MemberCount()) {
          sink.Append('}');
          stack.pop();
          continue;
        }
        if (top.next > 0) sink.Append(',');
        const auto& member = *(container.MemberBegin() + top.next++);
        WriteString(sink, std::string_view(member.name.GetString(), member.name.GetStringLength()));
        sink.Append(':');
        value = &member.value;
      }
    }
  }
  return true;
}

constexpr std::size_t kUnlimitedDepth = std::numeric_limits<std::size_t>::max();

// Written into a per-thread scratch buffer, then copied out at its exact size (no allocation
// at all up to 15 bytes): a history keeps hundreds of thousands of these strings, and a
// generous reservation in each would outweigh the text itself.
std::optional<std::string> Dump(const Json& value, std::size_t max_depth) {
  thread_local ScratchSink sink;
  sink.size = 0;
  const bool within = WriteValue(sink, value, max_depth);
  std::optional<std::string> text;
  if (within) {
    text.emplace();
    // Capacities in steps of 64 bytes: few distinct sizes keep malloc's per-size caches warm.
    if (sink.size > 15) text->reserve(sink.size | 63);
    text->assign(sink.data.get(), sink.size);
  }
  sink.Trim();
  return text;
}

}  // namespace

std::string DumpJson(const Json& value) { return *Dump(value, kUnlimitedDepth); }

std::optional<std::string> DumpJsonWithin(const Json& value, int max_depth) {
  return Dump(value, static_cast<std::size_t>(std::max(max_depth, 0)));
}

namespace {

// Numbers are rebuilt through the constructor Accept() would have called, so their kind flags
// are the same.
Json CopyScalar(const Json& value) {
  switch (value.GetType()) {
    case rapidjson::kNullType:
    case rapidjson::kArrayType:
    case rapidjson::kObjectType:
      return Json();
    case rapidjson::kFalseType:
      return Json(false);
    case rapidjson::kTrueType:
      return Json(true);
    case rapidjson::kStringType:
      return Json(value.GetString(), value.GetStringLength(), Alloc());
    case rapidjson::kNumberType:
      if (IsBigInteger(value)) {
        Json copy;
        std::memcpy(static_cast<void*>(&copy), &value, sizeof(Json));  // inline, owns nothing
        return copy;
      }
      if (value.IsDouble()) return Json(value.GetDouble());
      if (value.IsInt()) return Json(value.GetInt());
      if (value.IsUint()) return Json(value.GetUint());
      if (value.IsInt64()) return Json(static_cast<int64_t>(value.GetInt64()));
      return Json(static_cast<uint64_t>(value.GetUint64()));
  }
  return Json();
}

bool IsContainer(const Json& value) { return value.IsArray() || value.IsObject(); }

// An empty container of `source`'s kind, with room for its elements.
Json EmptyLike(const Json& source) {
  Json made(source.GetType());
  if (source.IsArray()) made.Reserve(source.Size(), Alloc());
  return made;
}

struct CopyFrame {
  const Json* source = nullptr;
  Json* copy = nullptr;
  rapidjson::SizeType next = 0;
};

}  // namespace

// RapidJSON 1.1.0's copy constructor rebuilds the value through a whole GenericDocument (a SAX
// round trip with its own stack); this walks the tree directly, and iteratively. A container is
// appended to its parent before its own elements are copied: the parent is not touched again
// until the child is complete, so the pointer to the child stays valid while it fills.
Json CopyJson(const Json& value) {
  if (!IsContainer(value)) return CopyScalar(value);
  Json root = EmptyLike(value);
  WalkStack<CopyFrame, 32> stack;
  stack.push({&value, &root, 0});
  while (!stack.empty()) {
    CopyFrame& top = stack.back();
    const Json& source = *top.source;
    Json& copy = *top.copy;
    const Json* child = nullptr;
    Json* made = nullptr;
    if (source.IsArray()) {
      if (top.next == source.Size()) {
        stack.pop();
        continue;
      }
      child = &source[top.next++];
      copy.PushBack(IsContainer(*child) ? EmptyLike(*child) : CopyScalar(*child), Alloc());
      made = &copy[copy.Size() - 1];
    } else {
      if (top.next == source.MemberCount()) {
        stack.pop();
        continue;
      }
      const auto& member = *(source.MemberBegin() + top.next++);
      child = &member.value;
      copy.AddMember(Json(member.name.GetString(), member.name.GetStringLength(), Alloc()),
                     IsContainer(*child) ? EmptyLike(*child) : CopyScalar(*child), Alloc());
      made = &(copy.MemberEnd() - 1)->value;
    }
    if (IsContainer(*child)) stack.push({child, made, 0});
  }
  return root;
}

void DestroyJson(Json& value) {
  // Detach every container child before its parent dies, so no destructor sees more than one
  // level.
  std::vector<Json> pending;
  pending.push_back(std::move(value));
  value.SetNull();
  while (!pending.empty()) {
    Json current = std::move(pending.back());
    pending.pop_back();
    if (current.IsArray()) {
      for (auto& element : current.GetArray()) {
        if (IsContainer(element)) pending.push_back(std::move(element));
      }
    } else if (current.IsObject()) {
      for (auto& member : current.GetObject()) {
        if (IsContainer(member.value)) pending.push_back(std::move(member.value));
      }
    }
  }
}

bool IsBigInteger(const Json& value) {
  return value.IsNumber() && (RawFlags(value) & kBigIntegerFlag) != 0;
}

int JsonNestingDepth(const Json& value, int limit) {
  struct Frame {
    const Json* container;
    rapidjson::SizeType next;
  };
  std::vector<Frame> stack;
  int deepest = 0;
  if (IsContainer(value)) stack.push_back({&value, 0});
  while (!stack.empty()) {
    deepest = std::max(deepest, static_cast<int>(stack.size()));
    if (deepest > limit) return limit + 1;
    Frame& top = stack.back();
    const Json& container = *top.container;
    const rapidjson::SizeType count =
        container.IsArray() ? container.Size() : container.MemberCount();
    if (top.next == count) {
      stack.pop_back();
      continue;
    }
    const Json& child =
        container.IsArray() ? container[top.next] : (container.MemberBegin() + top.next)->value;
    ++top.next;
    if (IsContainer(child)) stack.push_back({&child, 0});
  }
  return deepest;
}

bool JsonEquals(const Json& a, const Json& b) {
  std::vector<std::pair<const Json*, const Json*>> pending;
  pending.emplace_back(&a, &b);
  while (!pending.empty()) {
    const auto [x, y] = pending.back();
    pending.pop_back();
    if (x->IsNumber() && y->IsNumber()) {
      if (!NumberEquals(*x, *y)) return false;
      continue;
    }
    if (x->GetType() != y->GetType()) return false;
    switch (x->GetType()) {
      case rapidjson::kNullType:
      case rapidjson::kFalseType:
      case rapidjson::kTrueType:
      case rapidjson::kNumberType:
        break;
      case rapidjson::kStringType:
        if (JsonView(*x) != JsonView(*y)) return false;
        break;
      case rapidjson::kArrayType:
        if (x->Size() != y->Size()) return false;
        for (rapidjson::SizeType i = 0; i < x->Size(); ++i)
          pending.emplace_back(&(*x)[i], &(*y)[i]);
        break;
      case rapidjson::kObjectType:
        if (x->MemberCount() != y->MemberCount()) return false;
        for (auto it = x->MemberBegin(); it != x->MemberEnd(); ++it) {
          const Json* other = JsonFind(*y, JsonView(it->name));
          if (other == nullptr) return false;
          pending.emplace_back(&it->value, other);
        }
        break;
    }
  }
  return true;
}

namespace {

// Whether scalars `a` and `b` are the same to the byte (see JsonIdentical).
bool ScalarIdentical(const Json& a, const Json& b) {
  if (a.GetType() != b.GetType()) return false;
  switch (a.GetType()) {
    case rapidjson::kNumberType: {
      if (a.IsDouble() != b.IsDouble()) return false;
      if (!a.IsDouble()) {
        return a.IsInt64() ? b.IsInt64() && a.GetInt64() == b.GetInt64()
                           : !b.IsInt64() && a.GetUint64() == b.GetUint64();
      }
      const double x = a.GetDouble();
      const double y = b.GetDouble();
      if (std::memcmp(&x, &y, sizeof x) != 0) return false;  // 0.0 and -0.0 differ
      const bool big = IsBigInteger(a);
      return big == IsBigInteger(b) && (!big || BigIntegerResidual(a) == BigIntegerResidual(b));
    }
    case rapidjson::kStringType:
      return JsonView(a) == JsonView(b);
    default:  // null, false, true; containers are compared by the caller
      return true;
  }
}

}  // namespace

bool JsonIdentical(const Json& a, const Json& b) {
  if (!IsContainer(a) || !IsContainer(b)) return ScalarIdentical(a, b);
  std::vector<std::pair<const Json*, const Json*>> pending;
  pending.emplace_back(&a, &b);
  while (!pending.empty()) {
    const auto [x, y] = pending.back();
    pending.pop_back();
    if (!IsContainer(*x) || !IsContainer(*y)) {
      if (!ScalarIdentical(*x, *y)) return false;
      continue;
    }
    if (x->GetType() != y->GetType()) return false;
    if (x->IsArray()) {
      if (x->Size() != y->Size()) return false;
      for (rapidjson::SizeType i = x->Size(); i-- > 0;) pending.emplace_back(&(*x)[i], &(*y)[i]);
    } else {
      if (x->MemberCount() != y->MemberCount()) return false;
      // Members in order, names first: a difference is usually found before any value is read.
      for (auto i = x->MemberBegin(), j = y->MemberBegin(); i != x->MemberEnd(); ++i, ++j) {
        if (JsonView(i->name) != JsonView(j->name)) return false;
      }
      for (auto i = x->MemberEnd(), j = y->MemberEnd(); i != x->MemberBegin();) {
        --i;
        --j;
        pending.emplace_back(&i->value, &j->value);
      }
    }
  }
  return true;
}

Json JsonString(std::string_view text) {
  return Json(text.data(), static_cast<rapidjson::SizeType>(text.size()), Alloc());
}
Json JsonInt(int64_t value) { return Json(value); }
Json JsonDouble(double value) { return Json(value); }
Json JsonBool(bool value) { return Json(value); }
Json JsonNull() { return Json(rapidjson::kNullType); }
Json JsonObject() { return Json(rapidjson::kObjectType); }
Json JsonArray() { return Json(rapidjson::kArrayType); }

void JsonSet(Json& object, std::string_view key, Json value) {
  if (Json* existing = JsonFind(object, key)) {
    *existing = std::move(value);
    return;
  }
  object.AddMember(JsonString(key), std::move(value), Alloc());
}

const Json* JsonFind(const Json& object, std::string_view key) {
  if (!object.IsObject()) return nullptr;
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    if (JsonView(it->name) == key) return &it->value;
  }
  return nullptr;
}

Json* JsonFind(Json& object, std::string_view key) {
  return const_cast<Json*>(JsonFind(static_cast<const Json&>(object), key));
}

void JsonPush(Json& array, Json value) { array.PushBack(std::move(value), Alloc()); }

std::string_view JsonView(const Json& string_value) {
  return std::string_view(string_value.GetString(), string_value.GetStringLength());
}

std::string_view JsonTypeName(const Json& value) {
  switch (value.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "boolean";
    case rapidjson::kObjectType:
      return "object";
    case rapidjson::kArrayType:
      return "array";
    case rapidjson::kStringType:
      return "string";
    case rapidjson::kNumberType:
      return "number";
  }
  return "null";
}

std::string JsonPointerToken(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::size_t Utf8SequenceAt(std::string_view text, std::size_t i, std::size_t* valid_prefix,
                           std::size_t* bad) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80;  // the range of the second byte (RFC 3629 table)
  unsigned char high = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c == 0xE0) {
    length = 3;
    low = 0xA0;
  } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    length = 3;
  } else if (c == 0xED) {  // no surrogates
    length = 3;
    high = 0x9F;
  } else if (c == 0xF0) {
    length = 4;
    low = 0x90;
  } else if (c >= 0xF1 && c <= 0xF3) {
    length = 4;
  } else if (c == 0xF4) {  // nothing past U+10FFFF
    length = 4;
    high = 0x8F;
  } else {
    *valid_prefix = 1;
    *bad = i;
    return 0;
  }
  for (std::size_t k = 1; k < length; ++k) {
    if (i + k >= text.size()) {
      *valid_prefix = k;
      *bad = text.size();
      return 0;
    }
    const auto d = static_cast<unsigned char>(text[i + k]);
    if (d < (k == 1 ? low : 0x80) || d > (k == 1 ? high : 0xBF)) {
      *valid_prefix = k;
      *bad = i + k;
      return 0;
    }
  }
  return length;
}

std::u32string DecodeUtf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out += static_cast<char32_t>(c);
      ++i;
      continue;
    }
    std::size_t valid_prefix = 0;
    std::size_t bad = 0;
    const std::size_t length = Utf8SequenceAt(text, i, &valid_prefix, &bad);
    if (length == 0) {
      out += U'\uFFFD';
      i += valid_prefix;
      continue;
    }
    uint32_t cp = c & (length == 2 ? 0x1Fu : length == 3 ? 0x0Fu : 0x07u);
    for (std::size_t k = 1; k < length; ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
    }
    out += static_cast<char32_t>(cp);
    i += length;
  }
  return out;
}

std::string EncodeUtf8(std::u32string_view code_points) {
  std::string out;
  out.reserve(code_points.size());
  for (const char32_t c : code_points) AppendUtf8(out, static_cast<uint32_t>(c));
  return out;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

namespace {

std::string HexByte(unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[c >> 4] + kHex[c & 0xF];
}

}  // namespace

bool IsValidUtf8(std::string_view text, std::string* problem) {
  std::size_t i = 0;
  while (i < text.size()) {
    // ASCII runs: the common case.
    while (i < text.size() && static_cast<unsigned char>(text[i]) < 0x80) ++i;
    if (i == text.size()) break;
    std::size_t valid_prefix = 0;
    std::size_t bad = 0;
    const std::size_t length = Utf8SequenceAt(text, i, &valid_prefix, &bad);
    if (length == 0) {
      if (problem != nullptr) {
        if (bad == text.size()) {
          *problem = "Unexpected end-of-input in a UTF-8 sequence at offset " + std::to_string(bad);
        } else {
          *problem =
              std::string(bad == i ? "Invalid UTF-8 start byte " : "Invalid UTF-8 middle byte ") +
              HexByte(static_cast<unsigned char>(text[bad])) + " at offset " + std::to_string(bad);
        }
      }
      return false;
    }
    i += length;
  }
  return true;
}

std::string Utf8WithReplacements(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t valid_prefix = 0;
    std::size_t bad = 0;
    const std::size_t length = Utf8SequenceAt(bytes, i, &valid_prefix, &bad);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      i += valid_prefix;
    } else {
      out.append(bytes.substr(i, length));
      i += length;
    }
  }
  return out;
}

void AppendJsonString(std::string& out, std::string_view text) {
  bool plain = true;
  for (char c : text) plain = plain && kEscapes[static_cast<unsigned char>(c)] == 0;
  if (plain) {  // the common case: no sink, three appends
    out += '"';
    out.append(text);
    out += '"';
    return;
  }
  StringSink sink(&out);
  WriteString(sink, text);
}

std::size_t JsonTextSize(const Json& value) {
  CountingSink sink;
  WriteValue(sink, value, kUnlimitedDepth);
  return sink.size;
}

std::optional<std::size_t> JsonTextSizeWithin(const Json& value, int max_depth) {
  CountingSink sink;
  if (!WriteValue(sink, value, static_cast<std::size_t>(std::max(max_depth, 0)))) {
    return std::nullopt;
  }
  return sink.size;
}

}  // namespace switchyard::asl
