#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "intrinsics_internal.hpp"
#include "switchyard/asl/names.hpp"

namespace switchyard::asl {
namespace {

using Node = Intrinsic::Node;

struct FunctionInfo {
  std::string_view name;
  IntrinsicFunction function;
  int min_args;
  int max_args;  // -1: unbounded
};

constexpr std::array<FunctionInfo, 18> kFunctions = {{
    {"States.Format", IntrinsicFunction::kFormat, 1, -1},
    {"States.StringToJson", IntrinsicFunction::kStringToJson, 1, 1},
    {"States.JsonToString", IntrinsicFunction::kJsonToString, 1, 1},
    {"States.Array", IntrinsicFunction::kArray, 0, -1},
    {"States.ArrayPartition", IntrinsicFunction::kArrayPartition, 2, 2},
    {"States.ArrayContains", IntrinsicFunction::kArrayContains, 2, 2},
    {"States.ArrayRange", IntrinsicFunction::kArrayRange, 3, 3},
    {"States.ArrayGetItem", IntrinsicFunction::kArrayGetItem, 2, 2},
    {"States.ArrayLength", IntrinsicFunction::kArrayLength, 1, 1},
    {"States.ArrayUnique", IntrinsicFunction::kArrayUnique, 1, 1},
    {"States.Base64Encode", IntrinsicFunction::kBase64Encode, 1, 1},
    {"States.Base64Decode", IntrinsicFunction::kBase64Decode, 1, 1},
    {"States.Hash", IntrinsicFunction::kHash, 2, 2},
    {"States.JsonMerge", IntrinsicFunction::kJsonMerge, 3, 3},
    {"States.MathRandom", IntrinsicFunction::kMathRandom, 2, 3},
    {"States.MathAdd", IntrinsicFunction::kMathAdd, 2, 2},
    {"States.StringSplit", IntrinsicFunction::kStringSplit, 2, 2},
    {"States.UUID", IntrinsicFunction::kUuid, 0, 0},
}};

// AWS documents these limits: ArrayRange produces at most 1,000 items; Base64 and Hash inputs are
// at most 10,000 characters.
constexpr int64_t kMaxArrayRangeItems = 1000;
constexpr std::size_t kMaxEncodeInputChars = 10000;

// What a literal argument must be, when the function fixes it at definition time.
enum class LiteralRule { kAny, kString, kNumber, kBoolean, kNotLiteral };

LiteralRule RuleFor(IntrinsicFunction function, std::size_t index) {
  switch (function) {
    case IntrinsicFunction::kFormat:
      return index == 0 ? LiteralRule::kString : LiteralRule::kAny;
    case IntrinsicFunction::kStringToJson:
    case IntrinsicFunction::kBase64Encode:
    case IntrinsicFunction::kBase64Decode:
    case IntrinsicFunction::kHash:
    case IntrinsicFunction::kStringSplit:
      return LiteralRule::kString;
    case IntrinsicFunction::kArrayPartition:
    case IntrinsicFunction::kArrayGetItem:
      return index == 0 ? LiteralRule::kNotLiteral : LiteralRule::kNumber;
    case IntrinsicFunction::kArrayContains:
      return index == 0 ? LiteralRule::kNotLiteral : LiteralRule::kAny;
    case IntrinsicFunction::kArrayLength:
    case IntrinsicFunction::kArrayUnique:
      return LiteralRule::kNotLiteral;
    case IntrinsicFunction::kJsonMerge:
      return index < 2 ? LiteralRule::kNotLiteral : LiteralRule::kBoolean;
    case IntrinsicFunction::kArrayRange:
    case IntrinsicFunction::kMathRandom:
    case IntrinsicFunction::kMathAdd:
      return LiteralRule::kNumber;
    case IntrinsicFunction::kJsonToString:
    case IntrinsicFunction::kArray:
    case IntrinsicFunction::kUuid:
      return LiteralRule::kAny;
  }
  return LiteralRule::kAny;
}

std::string Ordinal(std::size_t index) {
  const std::size_t n = index + 1;
  std::string suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

bool IsIdentifierChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// ---------------------------------------------------------------------------------------------
// Parser: a recursive descent over the call text.

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<Node> ParseTop() {
    SkipSpaces();
    auto call = ParseCall(1);
    if (!call.ok()) return call;
    SkipSpaces();
    if (pos_ != text_.size()) {
      return Fail("unexpected text after the closing parenthesis at position " +
                  std::to_string(pos_));
    }
    return call;
  }

 private:
  static Error Fail(std::string message) { return Error{"", std::move(message)}; }

  void SkipSpaces() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
  }

  bool AtCall() const { return text_.substr(pos_).starts_with("States."); }

  Result<Node> ParseCall(int depth) {
    if (depth > kMaxIntrinsicNesting) {
      return Fail("intrinsic functions are nested more than " +
                  std::to_string(kMaxIntrinsicNesting) + " levels deep");
    }
    const std::size_t start = pos_;
    if (!AtCall())
      return Fail("expected an intrinsic function at position " + std::to_string(pos_));
    pos_ += 7;
    while (pos_ < text_.size() && IsIdentifierChar(text_[pos_])) ++pos_;
    const std::string name(text_.substr(start, pos_ - start));
    const FunctionInfo* info = nullptr;
    for (const FunctionInfo& candidate : kFunctions) {
      if (candidate.name == name) info = &candidate;
    }
    if (info == nullptr) return Fail("unknown intrinsic function '" + name + "'");
    SkipSpaces();
    if (pos_ >= text_.size() || text_[pos_] != '(') {
      return Fail("expected '(' after '" + name + "' at position " + std::to_string(pos_));
    }
    ++pos_;
    Node node;
    node.kind = Node::Kind::kCall;
    node.function = info->function;
    node.name = name;
    SkipSpaces();
    if (pos_ < text_.size() && text_[pos_] == ')') {
      ++pos_;
    } else {
      while (true) {
        SkipSpaces();
        auto arg = ParseArgument(depth);
        if (!arg.ok()) return arg;
        node.args.push_back(std::move(arg).value());
        SkipSpaces();
        if (pos_ >= text_.size()) return Fail("missing ')' to close '" + name + "('");
        if (text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (text_[pos_] == ')') {
          ++pos_;
          break;
        }
        return Fail("unexpected character '" + std::string(1, text_[pos_]) + "' at position " +
                    std::to_string(pos_));
      }
    }
    auto checked = CheckArguments(*info, node);
    if (!checked.ok()) return checked.error();
    return node;
  }

  static Status CheckArguments(const FunctionInfo& info, const Node& node) {
    const auto count = static_cast<int>(node.args.size());
    if (count < info.min_args || (info.max_args >= 0 && count > info.max_args)) {
      std::string expected;
      if (info.max_args < 0) {
        expected = "at least " + std::to_string(info.min_args);
      } else if (info.min_args == info.max_args) {
        expected = std::to_string(info.min_args);
      } else {
        expected = std::to_string(info.min_args) + " to " + std::to_string(info.max_args);
      }
      return Fail(std::string(info.name) + " takes " + expected + " argument" +
                  (expected.ends_with("1") && !expected.ends_with("11") ? "" : "s") + ", but got " +
                  std::to_string(count));
    }
    for (std::size_t i = 0; i < node.args.size(); ++i) {
      const Node& arg = node.args[i];
      if (arg.kind != Node::Kind::kLiteral) continue;
      const Json& value = *arg.literal;
      const std::string where = "The " + Ordinal(i) + " argument of " + std::string(info.name);
      switch (RuleFor(info.function, i)) {
        case LiteralRule::kAny:
          break;
        case LiteralRule::kString:
          if (!value.IsString()) return Fail(where + " must be a string");
          break;
        case LiteralRule::kNumber:
          if (!value.IsNumber()) return Fail(where + " must be a number");
          break;
        case LiteralRule::kBoolean:
          if (!value.IsBool()) return Fail(where + " must be a boolean");
          break;
        case LiteralRule::kNotLiteral:
          return Fail(where + " must be a path or an intrinsic function, not a literal");
      }
    }
    if (info.function == IntrinsicFunction::kJsonMerge &&
        node.args[2].kind == Node::Kind::kLiteral && node.args[2].literal->IsTrue()) {
      return Fail("States.JsonMerge supports only shallow merges: its 3rd argument must be false");
    }
    if (info.function == IntrinsicFunction::kFormat && node.args[0].kind == Node::Kind::kLiteral) {
      const std::size_t placeholders = node.args[0].format_pieces.size() - 1;
      if (placeholders != node.args.size() - 1) {
        return Fail("States.Format has " + std::to_string(placeholders) +
                    " placeholder(s) '{}' but " + std::to_string(node.args.size() - 1) +
                    " argument(s) to insert");
      }
    }
    if (info.function == IntrinsicFunction::kArrayPartition &&
        node.args[1].kind == Node::Kind::kLiteral && node.args[1].literal->GetDouble() <= 0) {
      return Fail("The 2nd argument of States.ArrayPartition must be a positive integer");
    }
    return {};
  }

  Result<Node> ParseArgument(int depth) {
    if (pos_ >= text_.size()) return Fail("missing argument at the end of the text");
    const char c = text_[pos_];
    if (c == '\'') return ParseString();
    if (c == '$') return ParsePath();
    if (AtCall()) return ParseCall(depth + 1);
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber();
    for (std::string_view word : {"true", "false", "null"}) {
      if (text_.substr(pos_).starts_with(word) &&
          (pos_ + word.size() == text_.size() || !IsIdentifierChar(text_[pos_ + word.size()]))) {
        pos_ += word.size();
        Node node;
        node.literal =
            std::make_shared<const Json>(word == "null" ? JsonNull() : JsonBool(word == "true"));
        return node;
      }
    }
    return Fail("unexpected character '" + std::string(1, c) + "' at position " +
                std::to_string(pos_));
  }

  // 'text' with the escapes \' \{ \} \\; an unescaped {} is a States.Format placeholder.
  Result<Node> ParseString() {
    const std::size_t start = pos_;
    ++pos_;
    std::string value;
    std::vector<std::string> pieces(1);
    while (true) {
      if (pos_ >= text_.size()) {
        return Fail("unterminated string starting at position " + std::to_string(start));
      }
      const char c = text_[pos_];
      if (c == '\'') {
        ++pos_;
        break;
      }
      if (c == '\\' && pos_ + 1 < text_.size()) {
        const char next = text_[pos_ + 1];
        if (next == '\'' || next == '{' || next == '}' || next == '\\') {
          value += next;
          pieces.back() += next;
          pos_ += 2;
          continue;
        }
      }
      if (c == '{' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '}') {
        value += "{}";
        pieces.emplace_back();
        pos_ += 2;
        continue;
      }
      value += c;
      pieces.back() += c;
      ++pos_;
    }
    Node node;
    node.literal = std::make_shared<const Json>(JsonString(value));
    node.format_pieces = std::move(pieces);
    return node;
  }

  Result<Node> ParseNumber() {
    const std::size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    bool is_float = false;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c >= '0' && c <= '9') {
        ++pos_;
      } else if (c == '.' || c == 'e' || c == 'E' ||
                 ((c == '+' || c == '-') && (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E'))) {
        is_float = true;
        ++pos_;
      } else {
        break;
      }
    }
    const std::string_view number = text_.substr(start, pos_ - start);
    const char* first = number.data();
    const char* last = number.data() + number.size();
    Node node;
    if (!is_float) {
      int64_t value = 0;
      auto [ptr, ec] = std::from_chars(first, last, value);
      if (ec == std::errc() && ptr == last) {
        node.literal = std::make_shared<const Json>(JsonInt(value));
        return node;
      }
    }
    double value = 0;
    auto [ptr, ec] = std::from_chars(first, last, value);
    if (ec != std::errc() || ptr != last) {
      return Fail("invalid number '" + std::string(number) + "' at position " +
                  std::to_string(start));
    }
    node.literal = std::make_shared<const Json>(JsonDouble(value));
    return node;
  }

  // A path runs to the next ',' or ')' outside brackets, parentheses and quotes.
  Result<Node> ParsePath() {
    const std::size_t start = pos_;
    int depth = 0;
    char quote = 0;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (quote != 0) {
        if (c == '\\') {
          pos_ += 2;
          continue;
        }
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '[' || c == '(') {
        ++depth;
      } else if (c == ']' || (c == ')' && depth > 0)) {
        --depth;
      } else if (depth == 0 && (c == ',' || c == ')')) {
        break;
      }
      ++pos_;
    }
    pos_ = std::min(pos_, text_.size());
    std::string_view path_text = text_.substr(start, pos_ - start);
    while (!path_text.empty() && IsSpace(path_text.back())) path_text.remove_suffix(1);
    auto path = JsonPath::Parse(path_text);
    if (!path.ok()) {
      return Fail("invalid path '" + std::string(path_text) + "': " + path.error().cause);
    }
    Node node;
    node.kind = Node::Kind::kPath;
    node.path = std::move(path).value();
    return node;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Rendering values the way the AWS service (a Java program) does.

// Java's Double.toString: plain notation for 1e-3 <= |d| < 1e7, otherwise "d.dddE±n".
std::string JavaDouble(double value) {
  if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";
  std::array<char, 64> buffer{};
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                                 std::chars_format::scientific);
  std::string_view text(buffer.data(), static_cast<std::size_t>(end - buffer.data()));
  std::string sign;
  if (text.front() == '-') {
    sign = "-";
    text.remove_prefix(1);
  }
  const std::size_t e = text.find('e');
  std::string digits;
  for (char c : text.substr(0, e)) {
    if (c != '.') digits += c;
  }
  int exponent = 0;
  std::string_view exponent_text = text.substr(e + 1);
  if (!exponent_text.empty() && exponent_text.front() == '+') exponent_text.remove_prefix(1);
  std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    if (exponent >= 0) {
      const auto int_len = static_cast<std::size_t>(exponent) + 1;
      if (digits.size() <= int_len) {
        return sign + digits + std::string(int_len - digits.size(), '0') + ".0";
      }
      return sign + digits.substr(0, int_len) + "." + digits.substr(int_len);
    }
    return sign + "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
  }
  std::string fraction = digits.size() > 1 ? digits.substr(1) : "0";
  return sign + digits.substr(0, 1) + "." + fraction + "E" + std::to_string(exponent);
}

std::string JavaNumber(const Json& value) {
  if (value.IsInt64()) return std::to_string(value.GetInt64());
  if (IsBigInteger(value)) return DumpJson(value);  // BigInteger.toString(): its digits
  if (value.IsUint64()) return std::to_string(value.GetUint64());
  return JavaDouble(value.GetDouble());
}

// Compact JSON as Jackson writes it (numbers in Java's notation; non-finite ones as strings,
// Jackson's WRITE_NAN_AS_STRINGS default), or, with `to_string`, as Java's toString renders a
// json value for States.Format: strings bare, objects as Map.toString ("{a=1, b=[]}"), arrays as
// List.toString ("[1, x]"), where Double.toString writes Infinity and NaN bare. Iterative: a
// value may nest deeper than any stack allows.
void AppendJava(std::string& out, const Json& root, bool to_string) {
  struct Frame {
    const Json* container;
    rapidjson::SizeType next;
  };
  std::vector<Frame> stack;
  const Json* value = &root;
  while (value != nullptr) {
    switch (value->GetType()) {
      case rapidjson::kNullType:
        out += "null";
        break;
      case rapidjson::kFalseType:
        out += "false";
        break;
      case rapidjson::kTrueType:
        out += "true";
        break;
      case rapidjson::kNumberType:
        if (value->IsDouble() && !std::isfinite(value->GetDouble())) {
          const double d = value->GetDouble();
          const std::string_view name = std::isnan(d) ? "NaN" : (d > 0 ? "Infinity" : "-Infinity");
          if (to_string) {
            out += name;
          } else {
            AppendJsonString(out, name);
          }
        } else {
          out += JavaNumber(*value);
        }
        break;
      case rapidjson::kStringType:
        if (to_string) {
          out += JsonView(*value);
        } else {
          AppendJsonString(out, JsonView(*value));
        }
        break;
      case rapidjson::kArrayType:
        out += '[';
        stack.push_back({value, 0});
        break;
      case rapidjson::kObjectType:
        out += '{';
        stack.push_back({value, 0});
        break;
    }
    value = nullptr;
    while (value == nullptr && !stack.empty()) {
      Frame& top = stack.back();
      const Json& container = *top.container;
      const bool array = container.IsArray();
      if (top.next == (array ? container.Size() : container.MemberCount())) {
        out += array ? ']' : '}';
        stack.pop_back();
        continue;
      }
      if (top.next > 0) out += to_string ? ", " : ",";
      if (array) {
        value = &container[top.next];
      } else {
        const auto& member = *(container.MemberBegin() + top.next);
        if (to_string) {
          out += JsonView(member.name);
          out += '=';
        } else {
          AppendJsonString(out, JsonView(member.name));
          out += ':';
        }
        value = &member.value;
      }
      ++top.next;
    }
  }
}

void AppendJavaJson(std::string& out, const Json& value) { AppendJava(out, value, false); }
void AppendJavaToString(std::string& out, const Json& value) { AppendJava(out, value, true); }

// ---------------------------------------------------------------------------------------------
// Helpers for the functions.

Error Failure(std::string cause) {
  return Error{std::string(kStatesIntrinsicFailure), std::move(cause)};
}

std::string ArgWhere(std::string_view name, std::size_t index) {
  return "The value of the " + Ordinal(index) + " argument of " + std::string(name);
}

// Java's Math.round: halves go up (towards positive infinity).
double JavaRound(double value) {
  const double floor = std::floor(value);
  return value - floor >= 0.5 ? floor + 1 : floor;
}

// An integer argument. `round`: non-integers are rounded (MathAdd, MathRandom); otherwise they
// are rejected.
Result<int64_t> IntegerArg(const Json& value, std::string_view name, std::size_t index,
                           bool round) {
  if (!value.IsNumber()) return Failure(ArgWhere(name, index) + " must be an integer");
  if (value.IsInt64()) return value.GetInt64();
  double number = value.GetDouble();
  if (round) number = JavaRound(number);
  if (number != std::floor(number) || number < -9.2e18 || number > 9.2e18) {
    return Failure(ArgWhere(name, index) + " must be an integer");
  }
  return static_cast<int64_t>(number);
}

std::size_t CountCodePoints(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

// Splits UTF-8 text into code points (each as its bytes).
std::vector<std::string_view> CodePoints(std::string_view text) {
  std::vector<std::string_view> points;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t len = 1;
    while (i + len < text.size() && (static_cast<unsigned char>(text[i + len]) & 0xC0) == 0x80) {
      ++len;
    }
    points.push_back(text.substr(i, len));
    i += len;
  }
  return points;
}

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                       (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                       static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += kBase64Alphabet[(n >> 6) & 63];
    out += kBase64Alphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) n |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Strict RFC 4648 decoding with padding (as java.util.Base64's basic decoder).
std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    uint32_t n = 0;
    int padding = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      uint32_t sextet = 0;
      if (c == '=') {
        // Padding only in the last group's last two places.
        if (i + 4 != text.size() || k < 2) return std::nullopt;
        ++padding;
      } else {
        if (padding > 0) return std::nullopt;
        const std::size_t index = kBase64Alphabet.find(c);
        if (index == std::string_view::npos) return std::nullopt;
        sextet = static_cast<uint32_t>(index);
      }
      n = (n << 6) | sextet;
    }
    out += static_cast<char>((n >> 16) & 0xFF);
    if (padding < 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (padding < 1) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

// java.util.Random, so that a seeded States.MathRandom gives the numbers a Java service gives.
class JavaRandom {
 public:
  explicit JavaRandom(int64_t seed) : seed_((static_cast<uint64_t>(seed) ^ kMultiplier) & kMask) {}

  int32_t Next(int bits) {
    seed_ = (seed_ * kMultiplier + 0xB) & kMask;
    return static_cast<int32_t>(static_cast<int64_t>(seed_ >> (48 - bits)));
  }

  // nextInt(bound) for 0 < bound <= 2^31 - 1.
  int32_t NextInt(int32_t bound) {
    int32_t r = Next(31);
    const int32_t m = bound - 1;
    if ((bound & m) == 0) {
      return static_cast<int32_t>((static_cast<int64_t>(bound) * r) >> 31);
    }
    // Java's loop relies on int overflow of u - r + m to reject the last partial interval.
    for (int32_t u = r;; u = Next(31)) {
      r = u % bound;
      if (static_cast<int64_t>(u) - r + m <= std::numeric_limits<int32_t>::max()) break;
    }
    return r;
  }

 private:
  static constexpr uint64_t kMultiplier = 0x5DEECE66DULL;
  static constexpr uint64_t kMask = (1ULL << 48) - 1;
  uint64_t seed_;
};

// A uniformly distributed value in [0, bound) from RandomSource (rejection sampling, no bias).
uint64_t UniformBelow(RandomSource& random, uint64_t bound) {
  const uint64_t limit =
      std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % bound;
  while (true) {
    const uint64_t value = random.NextU64();
    if (value < limit) return value % bound;
  }
}

std::string Uuid(RandomSource& random) {
  std::array<uint8_t, 16> bytes{};
  const uint64_t high = random.NextU64();
  const uint64_t low = random.NextU64();
  for (std::size_t i = 0; i < 8; ++i) {
    bytes[i] = static_cast<uint8_t>(high >> (56 - 8 * i));
    bytes[i + 8] = static_cast<uint8_t>(low >> (56 - 8 * i));
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xF];
  }
  return out;
}

Result<Json> Hash(std::string_view data, std::string_view algorithm) {
  const EVP_MD* md = nullptr;
  if (algorithm == "MD5") md = EVP_md5();
  if (algorithm == "SHA-1") md = EVP_sha1();
  if (algorithm == "SHA-256") md = EVP_sha256();
  if (algorithm == "SHA-384") md = EVP_sha384();
  if (algorithm == "SHA-512") md = EVP_sha512();
  if (md == nullptr) {
    return Failure(
        "The value of the 2nd argument of States.Hash must be one of MD5, SHA-1, "
        "SHA-256, SHA-384, SHA-512, but was '" +
        std::string(algorithm) + "'");
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, md, nullptr) != 1) {
    return Failure("States.Hash could not compute the " + std::string(algorithm) + " digest");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return JsonString(out);
}

Result<Json> Format(const Node& call, std::vector<Json>& args) {
  std::vector<std::string> runtime_pieces;
  const std::vector<std::string>* pieces = &call.args[0].format_pieces;
  if (call.args[0].kind != Node::Kind::kLiteral) {
    if (!args[0].IsString()) {
      return Failure("The value of the 1st argument of States.Format must be a string");
    }
    // A template read from the input has no escapes: every "{}" is a placeholder.
    const std::string_view text = JsonView(args[0]);
    runtime_pieces.emplace_back();
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '{' && i + 1 < text.size() && text[i + 1] == '}') {
        runtime_pieces.emplace_back();
        ++i;
      } else {
        runtime_pieces.back() += text[i];
      }
    }
    pieces = &runtime_pieces;
    if (pieces->size() != args.size()) {
      return Failure("States.Format has " + std::to_string(pieces->size() - 1) +
                     " placeholder(s) '{}' but " + std::to_string(args.size() - 1) +
                     " argument(s) to insert");
    }
  }
  std::string out = (*pieces)[0];
  for (std::size_t i = 1; i < pieces->size(); ++i) {
    AppendJavaToString(out, args[i]);
    out += (*pieces)[i];
  }
  return JsonString(out);
}

Result<Json> Apply(const Node& call, std::vector<Json>& args, RandomSource& random) {
  const std::string_view name = call.name;
  auto require_string = [&](std::size_t index) -> Status {
    if (!args[index].IsString()) return Failure(ArgWhere(name, index) + " must be a string");
    return {};
  };
  auto require_array = [&](std::size_t index) -> Status {
    if (!args[index].IsArray()) return Failure(ArgWhere(name, index) + " must be an array");
    return {};
  };
  switch (call.function) {
    case IntrinsicFunction::kFormat:
      return Format(call, args);

    case IntrinsicFunction::kStringToJson: {
      if (auto s = require_string(0); !s.ok()) return s.error();
      std::string_view text = JsonView(args[0]);
      while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
      while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
      // Jackson reads blank text as no value, which AWS returns as null.
      if (text.empty()) return JsonNull();
      std::string error;
      auto parsed = ParseJson(text, &error);
      if (!parsed) {
        return Failure("The value of the 1st argument of States.StringToJson is not valid JSON: " +
                       error);
      }
      return std::move(*parsed);
    }

    case IntrinsicFunction::kJsonToString: {
      std::string out;
      AppendJavaJson(out, args[0]);
      return JsonString(out);
    }

    case IntrinsicFunction::kArray: {
      Json array = JsonArray();
      for (Json& arg : args) JsonPush(array, std::move(arg));
      return array;
    }

    case IntrinsicFunction::kArrayPartition: {
      if (auto s = require_array(0); !s.ok()) return s.error();
      auto size = IntegerArg(args[1], name, 1, false);
      if (!size.ok()) return size.error();
      if (*size <= 0) return Failure(ArgWhere(name, 1) + " must be a positive integer");
      Json result = JsonArray();
      Json chunk = JsonArray();
      for (auto& item : args[0].GetArray()) {
        JsonPush(chunk, std::move(item));
        if (static_cast<int64_t>(chunk.Size()) == *size) {
          JsonPush(result, std::move(chunk));
          chunk = JsonArray();
        }
      }
      if (chunk.Size() > 0) JsonPush(result, std::move(chunk));
      return result;
    }

    case IntrinsicFunction::kArrayContains: {
      if (auto s = require_array(0); !s.ok()) return s.error();
      for (const auto& item : args[0].GetArray()) {
        if (JsonEquals(item, args[1])) return JsonBool(true);
      }
      return JsonBool(false);
    }

    case IntrinsicFunction::kArrayRange: {
      std::array<int64_t, 3> values{};
      for (std::size_t i = 0; i < 3; ++i) {
        auto value = IntegerArg(args[i], name, i, false);
        if (!value.ok()) return value.error();
        values[i] = *value;
      }
      const auto [first, last, step] = values;
      if (step == 0) return Failure(ArgWhere(name, 2) + " must not be 0");
      Json result = JsonArray();
      // Both ends are inclusive: ArrayRange(0, 9, 3) is [0, 3, 6, 9].
      const double span = static_cast<double>(last) - static_cast<double>(first);
      const double count = span / static_cast<double>(step) < 0
                               ? 0
                               : std::floor(span / static_cast<double>(step)) + 1;
      if (count > static_cast<double>(kMaxArrayRangeItems)) {
        return Failure("States.ArrayRange would produce more than the maximum of " +
                       std::to_string(kMaxArrayRangeItems) + " items");
      }
      const auto items = static_cast<int64_t>(count);
      for (int64_t i = 0; i < items; ++i) JsonPush(result, JsonInt(first + i * step));
      return result;
    }

    case IntrinsicFunction::kArrayGetItem: {
      if (auto s = require_array(0); !s.ok()) return s.error();
      auto index = IntegerArg(args[1], name, 1, false);
      if (!index.ok()) return index.error();
      if (*index < 0 || *index >= static_cast<int64_t>(args[0].Size())) {
        return Failure("The index " + std::to_string(*index) +
                       " given to States.ArrayGetItem is out of bounds for an array of " +
                       std::to_string(args[0].Size()) + " items");
      }
      return std::move(args[0][static_cast<rapidjson::SizeType>(*index)]);
    }

    case IntrinsicFunction::kArrayLength: {
      if (auto s = require_array(0); !s.ok()) return s.error();
      return JsonInt(static_cast<int64_t>(args[0].Size()));
    }

    case IntrinsicFunction::kArrayUnique: {
      if (auto s = require_array(0); !s.ok()) return s.error();
      // Keeps the first occurrence of each value, in input order.
      Json result = JsonArray();
      for (auto& item : args[0].GetArray()) {
        bool seen = false;
        for (const auto& kept : result.GetArray()) {
          if (JsonEquals(kept, item)) {
            seen = true;
            break;
          }
        }
        if (!seen) JsonPush(result, std::move(item));
      }
      return result;
    }

    case IntrinsicFunction::kBase64Encode:
    case IntrinsicFunction::kBase64Decode: {
      if (auto s = require_string(0); !s.ok()) return s.error();
      const std::string_view text = JsonView(args[0]);
      if (CountCodePoints(text) > kMaxEncodeInputChars) {
        return Failure(ArgWhere(name, 0) + " must be at most " +
                       std::to_string(kMaxEncodeInputChars) + " characters long");
      }
      if (call.function == IntrinsicFunction::kBase64Encode) return JsonString(Base64Encode(text));
      auto decoded = Base64Decode(text);
      if (!decoded) return Failure(ArgWhere(name, 0) + " is not valid base64");
      // AWS (Java) decodes the bytes as UTF-8 with new String(bytes, UTF_8): each
      // ill-formed sequence becomes U+FFFD, so the result is always valid text.
      return JsonString(Utf8WithReplacements(*decoded));
    }

    case IntrinsicFunction::kHash: {
      if (auto s = require_string(0); !s.ok()) return s.error();
      if (auto s = require_string(1); !s.ok()) return s.error();
      if (CountCodePoints(JsonView(args[0])) > kMaxEncodeInputChars) {
        return Failure(ArgWhere(name, 0) + " must be at most " +
                       std::to_string(kMaxEncodeInputChars) + " characters long");
      }
      return Hash(JsonView(args[0]), JsonView(args[1]));
    }

    case IntrinsicFunction::kJsonMerge: {
      for (std::size_t i = 0; i < 2; ++i) {
        if (!args[i].IsObject()) return Failure(ArgWhere(name, i) + " must be an object");
      }
      if (!args[2].IsBool()) return Failure(ArgWhere(name, 2) + " must be a boolean");
      if (args[2].IsTrue()) {
        return Failure(
            "States.JsonMerge supports only shallow merges: its 3rd argument must be "
            "false");
      }
      // Shallow: a member of the second object replaces the first's member of the same name.
      Json result = std::move(args[0]);
      // Indexing, not iterator comparison: RapidJSON's member iterators trip C++20's
      // reversed-operator ambiguity.
      for (rapidjson::SizeType i = 0; i < args[1].MemberCount(); ++i) {
        auto& member = args[1].MemberBegin()[i];
        JsonSet(result, JsonView(member.name), std::move(member.value));
      }
      return result;
    }

    case IntrinsicFunction::kMathRandom: {
      // AWS rounds non-integer bounds to the nearest integer.
      auto start = IntegerArg(args[0], name, 0, true);
      if (!start.ok()) return start.error();
      auto end = IntegerArg(args[1], name, 1, true);
      if (!end.ok()) return end.error();
      if (*start > *end) {
        return Failure(
            "The 1st argument of States.MathRandom (start) must not be greater than "
            "the 2nd (end)");
      }
      const uint64_t bound = static_cast<uint64_t>(*end) - static_cast<uint64_t>(*start) + 1;
      if (args.size() == 3) {
        auto seed = IntegerArg(args[2], name, 2, true);
        if (!seed.ok()) return seed.error();
        JavaRandom java(*seed);
        if (bound <= static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
          return JsonInt(*start + java.NextInt(static_cast<int32_t>(bound)));
        }
        const uint64_t wide = (static_cast<uint64_t>(static_cast<uint32_t>(java.Next(32))) << 32) |
                              static_cast<uint32_t>(java.Next(32));
        return JsonInt(static_cast<int64_t>(static_cast<uint64_t>(*start) +
                                            (bound == 0 ? wide : wide % bound)));
      }
      const uint64_t offset = bound == 0 ? random.NextU64() : UniformBelow(random, bound);
      return JsonInt(static_cast<int64_t>(static_cast<uint64_t>(*start) + offset));
    }

    case IntrinsicFunction::kMathAdd: {
      // AWS rounds each argument the way Java's Math.round does (0.5 -> 1, -0.5 -> 0), then adds.
      auto a = IntegerArg(args[0], name, 0, true);
      if (!a.ok()) return a.error();
      auto b = IntegerArg(args[1], name, 1, true);
      if (!b.ok()) return b.error();
      int64_t sum = 0;
      if (__builtin_add_overflow(*a, *b, &sum)) {
        return Failure("The result of States.MathAdd is out of range");
      }
      return JsonInt(sum);
    }

    case IntrinsicFunction::kStringSplit: {
      if (auto s = require_string(0); !s.ok()) return s.error();
      if (auto s = require_string(1); !s.ok()) return s.error();
      // Java's StringTokenizer: every character of the 2nd argument is a delimiter and empty
      // tokens are dropped (",,a" -> ["a"]).
      const std::vector<std::string_view> delimiters = CodePoints(JsonView(args[1]));
      Json result = JsonArray();
      std::string token;
      for (std::string_view point : CodePoints(JsonView(args[0]))) {
        if (std::find(delimiters.begin(), delimiters.end(), point) != delimiters.end()) {
          if (!token.empty()) JsonPush(result, JsonString(token));
          token.clear();
        } else {
          token += point;
        }
      }
      if (!token.empty()) JsonPush(result, JsonString(token));
      return result;
    }

    case IntrinsicFunction::kUuid:
      return JsonString(Uuid(random));
  }
  return Failure("unknown intrinsic function " + std::string(name));
}

}  // namespace

std::string PathNotFoundCause(const JsonPath& path, std::string_view field, const Scope& scope) {
  std::string input = scope.input != nullptr ? DumpJson(*scope.input) : "null";
  std::string cause = "The JSONPath '" + path.text() + "'";
  if (!field.empty()) cause += " specified for the field '" + std::string(field) + "'";
  return cause + " could not be found in the input '" + input + "'";
}

Result<Json> EvaluateFieldPath(const JsonPath& path, std::string_view field, const Scope& scope) {
  auto value = path.Evaluate(scope);
  if (value.ok()) return value;
  // An unknown variable keeps JsonPath's own cause; anything else that selects nothing is
  // reported in AWS's words.
  if (path.root() == JsonPath::Root::kVariable &&
      (scope.variables == nullptr || scope.variables->Find(path.variable_name()) == nullptr)) {
    return Error{std::string(kStatesRuntime), value.error().cause};
  }
  return Error{std::string(kStatesRuntime), PathNotFoundCause(path, field, scope)};
}

Result<Json> EvaluateIntrinsicNode(const Intrinsic::Node& node, const Scope& scope,
                                   RandomSource& random, std::string_view field) {
  switch (node.kind) {
    case Node::Kind::kLiteral:
      return CopyJson(*node.literal);
    case Node::Kind::kPath:
      return EvaluateFieldPath(*node.path, field, scope);
    case Node::Kind::kCall:
      break;
  }
  std::vector<Json> args;
  args.reserve(node.args.size());
  for (const Node& arg : node.args) {
    auto value = EvaluateIntrinsicNode(arg, scope, random, field);
    if (!value.ok()) return value;
    args.push_back(std::move(value).value());
  }
  return Apply(node, args, random);
}

Result<Intrinsic::Node> ParseIntrinsicNode(std::string_view text) {
  Parser parser(text);
  return parser.ParseTop();
}

Result<Intrinsic> Intrinsic::Parse(std::string_view text) {
  auto node = ParseIntrinsicNode(text);
  if (!node.ok()) return std::move(node).error();
  Intrinsic intrinsic;
  intrinsic.root_ = std::make_unique<Node>(std::move(node).value());
  return intrinsic;
}

bool Intrinsic::LooksLikeIntrinsic(std::string_view text) {
  if (!text.starts_with("States.")) return false;
  std::size_t i = 7;
  while (i < text.size() && IsIdentifierChar(text[i])) ++i;
  if (i == 7) return false;
  while (i < text.size() && IsSpace(text[i])) ++i;
  return i < text.size() && text[i] == '(';
}

Intrinsic::Intrinsic() = default;
Intrinsic::Intrinsic(Intrinsic&&) noexcept = default;
Intrinsic& Intrinsic::operator=(Intrinsic&&) noexcept = default;
Intrinsic::Intrinsic(const Intrinsic& other)
    : root_(other.root_ ? std::make_unique<Node>(*other.root_) : nullptr) {}
Intrinsic& Intrinsic::operator=(const Intrinsic& other) {
  if (this != &other) root_ = other.root_ ? std::make_unique<Node>(*other.root_) : nullptr;
  return *this;
}
Intrinsic::~Intrinsic() = default;

Result<Json> Intrinsic::Evaluate(const Scope& scope, RandomSource& random) const {
  return EvaluateIntrinsicNode(*root_, scope, random, "");
}

}  // namespace switchyard::asl
