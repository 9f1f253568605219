#include "switchyard/asl/json.hpp"

#include <algorithm>
#include <cmath>

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

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

// RapidJSON 1.1.0's full-precision number path (StrtodDiyFp) reads past its power table when a
// number has hundreds of digits (found by fuzz_definition: "0.000…0"). Such numbers are far
// beyond double precision anyway, so for a text holding one we parse with normal precision.
bool HasLongDigitRun(std::string_view text) {
  std::size_t run = 0;
  for (char c : text) {
    run = (c >= '0' && c <= '9') ? run + 1 : 0;
    if (run > 100) return true;
  }
  return false;
}

}  // namespace

std::optional<Json> ParseJson(std::string_view text, std::string* error) {
  Document doc;
  if (HasLongDigitRun(text)) {
    doc.Parse(text.data(), text.size());
  } else {
    doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
  }
  if (doc.HasParseError()) {
    if (error != nullptr) {
      *error = std::string(rapidjson::GetParseError_En(doc.GetParseError())) + " at offset " +
               std::to_string(doc.GetErrorOffset());
    }
    return std::nullopt;
  }
  Json value;
  value.Swap(doc);
  return value;
}

namespace {

// RapidJSON output streams: one writes into a std::string (no intermediate buffer to copy), one
// only counts (sizes without allocating). The writer announces how many characters it is about
// to put (PutReserve, found by argument-dependent lookup), so StringStream checks capacity once
// per token, not once per character.
struct StringStream {
  using Ch = char;
  std::string text;
  std::size_t size = 0;  // characters written; text.size() is the capacity in use
  void Reserve(std::size_t count) {
    if (size + count > text.size()) Grow(count);
  }
  [[gnu::noinline]] void Grow(std::size_t count) {
    text.resize(std::max(text.size() * 2, size + count + 128));
  }
  void Put(char c) {
    Reserve(1);
    text[size++] = c;
  }
  void Flush() {}
};
[[maybe_unused]] void PutReserve(StringStream& stream, std::size_t count) {
  stream.Reserve(count);
}
[[maybe_unused]] void PutUnsafe(StringStream& stream, char c) { stream.text[stream.size++] = c; }
struct CountingStream {
  using Ch = char;
  std::size_t size = 0;
  void Put(char) { ++size; }
  void Flush() {}
};

template <typename Stream>
void WriteJson(const Json& value, Stream& stream) {
  rapidjson::Writer<Stream, rapidjson::UTF8<>, rapidjson::UTF8<>, rapidjson::CrtAllocator> writer(
      stream);
  value.Accept(writer);
}

}  // namespace

std::string DumpJson(const Json& value) {
  StringStream stream;
  WriteJson(value, stream);
  stream.text.resize(stream.size);
  return std::move(stream.text);
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

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  // Two passes, sizing then filling, so the text is written without a check per character.
  std::size_t size = text.size() + 2;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
      size += 1;
    } else if (c < 0x20) {
      size += 5;
    }
  }
  if (size == text.size() + 2) {  // nothing to escape: the common case
    out += '"';
    out += text;
    out += '"';
    return;
  }
  const std::size_t start = out.size();
  out.resize(start + size);
  char* p = out.data() + start;
  *p++ = '"';
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != '"' && c != '\\') {
      *p++ = ch;
      continue;
    }
    *p++ = '\\';
    switch (c) {
      case '"':
        *p++ = '"';
        break;
      case '\\':
        *p++ = '\\';
        break;
      case '\b':
        *p++ = 'b';
        break;
      case '\f':
        *p++ = 'f';
        break;
      case '\n':
        *p++ = 'n';
        break;
      case '\r':
        *p++ = 'r';
        break;
      case '\t':
        *p++ = 't';
        break;
      default:
        *p++ = 'u';
        *p++ = '0';
        *p++ = '0';
        *p++ = kHex[c >> 4];
        *p++ = kHex[c & 0xF];
    }
  }
  *p = '"';
}

std::size_t JsonTextSize(const Json& value) {
  CountingStream stream;
  WriteJson(value, stream);
  return stream.size;
}

}  // namespace switchyard::asl
