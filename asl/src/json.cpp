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
#include <memory>

namespace switchyard::asl {
namespace {

using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, JsonAllocator, JsonAllocator>;

bool NumberEquals(const Json& a, const Json& b) {
  if (a.IsInt64() && b.IsInt64()) return a.GetInt64() == b.GetInt64();
  if (a.IsUint64() && b.IsUint64()) return a.GetUint64() == b.GetUint64();
  return a.GetDouble() == b.GetDouble();
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
// rounded as Java does. Integers keep RapidJSON's kinds; beyond 64 bits they become doubles.
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

template <typename Handler>
struct NumberConverter {
  Handler& out;
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
  bool StartObject() { return out.StartObject(); }
  bool Key(const char* text, rapidjson::SizeType length, bool copy) {
    return out.Key(text, length, copy);
  }
  bool EndObject(rapidjson::SizeType count) { return out.EndObject(count); }
  bool StartArray() { return out.StartArray(); }
  bool EndArray(rapidjson::SizeType count) { return out.EndArray(count); }

  bool RawNumber(const char* text, rapidjson::SizeType length, bool /*copy*/) {
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
    }
    double d = 0;
    auto [ptr, ec] = std::from_chars(text, end, d);
    if (ec == std::errc::result_out_of_range) {
      // Too small for a double is zero, as in Java; too large is an error, as RapidJSON has it.
      if (DecimalOrder(std::string_view(text, length)) < 0) {
        return out.Double(text[0] == '-' ? -0.0 : 0.0);
      }
      return false;
    }
    if (ec != std::errc() || ptr != end) return false;
    return out.Double(d);
  }
};

}  // namespace

std::optional<Json> ParseJson(std::string_view text, std::string* error) {
  Document doc;
  rapidjson::ParseResult result;
  auto generate = [&](Document& handler) {
    rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>, JsonAllocator> reader;
    rapidjson::MemoryStream memory(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> stream(memory);
    NumberConverter<Document> converter{handler};
    result = reader.Parse<rapidjson::kParseNumbersAsStringsFlag>(stream, converter);
    return !result.IsError();
  };
  doc.Populate(generate);
  if (result.IsError()) {
    if (error != nullptr) {
      *error = std::string(rapidjson::GetParseError_En(result.Code())) + " at offset " +
               std::to_string(result.Offset());
    }
    return std::nullopt;
  }
  Json value;
  value.Swap(doc);
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

// The escape each byte needs in a JSON string: 0 none, 'u' \u00XX, else the letter after '\'.
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

template <typename Sink>
void WriteValue(Sink& sink, const Json& value) {
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
        // RapidJSON's Writer refuses NaN and infinities; JSON has no spelling for them.
        if (!std::isfinite(d)) return sink.Append("null", 4);
        end = rapidjson::internal::dtoa(d, buffer, 324);
      } else if (value.IsInt64()) {
        end = std::to_chars(buffer, buffer + sizeof buffer, value.GetInt64()).ptr;
      } else {
        end = std::to_chars(buffer, buffer + sizeof buffer, value.GetUint64()).ptr;
      }
      return sink.Append(buffer, static_cast<std::size_t>(end - buffer));
    }
    case rapidjson::kArrayType: {
      sink.Append('[');
      bool first = true;
      for (const auto& element : value.GetArray()) {
        if (!first) sink.Append(',');
        first = false;
        WriteValue(sink, element);
      }
      return sink.Append(']');
    }
    case rapidjson::kObjectType: {
      sink.Append('{');
      bool first = true;
      for (const auto& member : value.GetObject()) {
        if (!first) sink.Append(',');
        first = false;
        WriteString(sink, std::string_view(member.name.GetString(), member.name.GetStringLength()));
        sink.Append(':');
        WriteValue(sink, member.value);
      }
      return sink.Append('}');
    }
  }
}

}  // namespace

std::string DumpJson(const Json& value) {
  // Written into a per-thread scratch buffer, then copied out at its exact size (no allocation
  // at all up to 15 bytes): a history keeps hundreds of thousands of these strings, and a
  // generous reservation in each would outweigh the text itself.
  thread_local ScratchSink sink;
  sink.size = 0;
  WriteValue(sink, value);
  std::string text;
  // Capacities in steps of 64 bytes: few distinct sizes keep malloc's per-size caches warm.
  if (sink.size > 15) text.reserve(sink.size | 63);
  text.assign(sink.data.get(), sink.size);
  sink.Trim();
  return text;
}
// RapidJSON 1.1.0's copy constructor rebuilds the value through a whole GenericDocument (a SAX
// round trip with its own stack); this walks the tree directly. Numbers are rebuilt through the
// constructor Accept() would have called, so their kind flags are the same.
Json CopyJson(const Json& value) {
  switch (value.GetType()) {
    case rapidjson::kNullType:
      return Json();
    case rapidjson::kFalseType:
      return Json(false);
    case rapidjson::kTrueType:
      return Json(true);
    case rapidjson::kStringType:
      return Json(value.GetString(), value.GetStringLength(), Alloc());
    case rapidjson::kNumberType:
      if (value.IsDouble()) return Json(value.GetDouble());
      if (value.IsInt()) return Json(value.GetInt());
      if (value.IsUint()) return Json(value.GetUint());
      if (value.IsInt64()) return Json(static_cast<int64_t>(value.GetInt64()));
      return Json(static_cast<uint64_t>(value.GetUint64()));
    case rapidjson::kArrayType: {
      Json copy(rapidjson::kArrayType);
      copy.Reserve(value.Size(), Alloc());
      for (const auto& element : value.GetArray()) copy.PushBack(CopyJson(element), Alloc());
      return copy;
    }
    case rapidjson::kObjectType: {
      Json copy(rapidjson::kObjectType);
      for (const auto& member : value.GetObject()) {
        copy.AddMember(Json(member.name.GetString(), member.name.GetStringLength(), Alloc()),
                       CopyJson(member.value), Alloc());
      }
      return copy;
    }
  }
  return Json();
}

bool JsonEquals(const Json& a, const Json& b) {
  if (a.IsNumber() && b.IsNumber()) return NumberEquals(a, b);
  if (a.GetType() != b.GetType()) return false;
  switch (a.GetType()) {
    case rapidjson::kNullType:
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return true;
    case rapidjson::kStringType:
      return JsonView(a) == JsonView(b);
    case rapidjson::kArrayType: {
      if (a.Size() != b.Size()) return false;
      for (rapidjson::SizeType i = 0; i < a.Size(); ++i) {
        if (!JsonEquals(a[i], b[i])) return false;
      }
      return true;
    }
    case rapidjson::kObjectType: {
      if (a.MemberCount() != b.MemberCount()) return false;
      for (auto it = a.MemberBegin(); it != a.MemberEnd(); ++it) {
        const Json* other = JsonFind(b, JsonView(it->name));
        if (other == nullptr || !JsonEquals(it->value, *other)) return false;
      }
      return true;
    }
    case rapidjson::kNumberType:
      return NumberEquals(a, b);
  }
  return false;
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
  WriteValue(sink, value);
  return sink.size;
}

}  // namespace switchyard::asl
