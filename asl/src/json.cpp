#include "switchyard/asl/json.hpp"

#include <algorithm>
#include <cmath>

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace switchyard::asl {
namespace {

using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, JsonAllocator, JsonAllocator>;
using StringBuffer = rapidjson::GenericStringBuffer<rapidjson::UTF8<>, rapidjson::CrtAllocator>;

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

std::string DumpJson(const Json& value) {
  StringBuffer buffer;
  rapidjson::Writer<StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>, rapidjson::CrtAllocator>
      writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

Json CopyJson(const Json& value) { return Json(value, Alloc()); }

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

std::size_t JsonTextSize(const Json& value) { return DumpJson(value).size(); }

}  // namespace switchyard::asl
