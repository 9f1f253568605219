// The evaluator core's builtin functions (jsonata-js 2.0.6 functions.js semantics, and Step
// Functions' $partition, $range and $parse). The library's functions are in jsonata_lib*.cpp.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unordered_set>

#include "jsonata_internal.hpp"

namespace switchyard::asl::jsonata {

namespace {

using R = JsonataResult;
using A = JsonataArgs;

std::shared_ptr<Array> Seq() { return Array::MakeSequence(); }

// UTF-8 text split into code points (byte offsets of each code point's start, plus the end).
std::vector<std::size_t> CodePointStarts(const std::string& s) {
  std::vector<std::size_t> starts;
  starts.reserve(s.size() + 1);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  starts.push_back(s.size());
  return starts;
}

// JavaScript's Array.prototype.slice(start, end) on code points.
std::string SliceCodePoints(const std::string& s, double start, std::optional<double> end) {
  std::vector<std::size_t> starts = CodePointStarts(s);
  const double len = static_cast<double>(starts.size() - 1);
  auto clamp = [len](double v) {
    v = std::trunc(v);
    if (v < 0) v = std::max(0.0, len + v);
    return std::min(v, len);
  };
  double b = clamp(start);
  double e = end ? clamp(*end) : len;
  if (e <= b) return "";
  return s.substr(starts[static_cast<std::size_t>(b)],
                  starts[static_cast<std::size_t>(e)] - starts[static_cast<std::size_t>(b)]);
}

uint32_t DecodeAt(const std::string& s, std::size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  uint32_t cp;
  int extra;
  if (c < 0x80) {
    cp = c;
    extra = 0;
  } else if ((c & 0xE0) == 0xC0) {
    cp = c & 0x1F;
    extra = 1;
  } else if ((c & 0xF0) == 0xE0) {
    cp = c & 0x0F;
    extra = 2;
  } else {
    cp = c & 0x07;
    extra = 3;
  }
  ++i;
  for (int k = 0; k < extra && i < s.size(); ++k, ++i) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
  }
  return cp;
}

uint32_t ToUpperCp(uint32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c < 0x80) return c;
  if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 32;
  if (c == 0xFF) return 0x178;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 &&
      c != 0x17F) {
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c % 2 == 0) ? c - 1 : c;
    return (c % 2 == 1) ? c - 1 : c;
  }
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
  if (c == 0x3C2) return 0x3A3;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}

uint32_t ToLowerCp(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0x80) return c;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;
  if (c == 0x178) return 0xFF;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 &&
      c != 0x17F) {
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c % 2 == 1) ? c + 1 : c;
    return (c % 2 == 0) ? c + 1 : c;
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

std::string MapCase(const std::string& s, bool upper) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(upper ? (c >= 'a' && c <= 'z' ? c - 32 : c)
                                     : (c >= 'A' && c <= 'Z' ? c + 32 : c));
      ++i;
      continue;
    }
    uint32_t cp = DecodeAt(s, i);
    if (upper && cp == 0xDF) {
      out += "SS";
      continue;
    }
    AppendUtf8(out, upper ? ToUpperCp(cp) : ToLowerCp(cp));
  }
  return out;
}

bool IsArrayOfNumbers(const Value& v) {
  if (!v.IsArray()) return false;
  for (const Value& i : v.array().items) {
    if (!i.IsNumber() || std::isnan(i.number())) return false;
  }
  return true;
}
bool IsArrayOfStrings(const Value& v) {
  if (!v.IsArray()) return false;
  for (const Value& i : v.array().items) {
    if (!i.IsString()) return false;
  }
  return true;
}

// hofFuncArgs: the value, then the index and the whole array when the function declares them.
A HofArgs(const Value& func, Value a1, Value a2, const Value& a3) {
  A args;
  args.push_back(std::move(a1));
  int arity = FunctionArity(func);
  if (arity >= 2) args.push_back(std::move(a2));
  if (arity >= 3) args.push_back(a3);
  return args;
}

bool Truthy(const Value& v) {
  Value b = BooleanOfArg(v);
  return b.IsBool() && b.boolean();
}

// jsonata's $round: half to even at `precision` decimal places, shifting through the decimal
// text as JavaScript does.
double Shift(double v, int by) {
  std::string s = NumberToString(v);
  std::size_t e = s.find('e');
  int exp = by;
  std::string mantissa = s;
  if (e != std::string::npos) {
    mantissa = s.substr(0, e);
    exp += std::atoi(s.c_str() + e + 1);
  }
  return std::strtod((mantissa + "e" + std::to_string(exp)).c_str(), nullptr);
}

double RoundHalfEven(double arg, int precision) {
  if (precision != 0) arg = Shift(arg, precision);
  double result = std::floor(arg + 0.5);  // Math.round
  double diff = result - arg;
  if (std::fabs(diff) == 0.5 && std::fabs(std::fmod(result, 2)) == 1) result -= 1;
  if (precision != 0) result = Shift(result, -precision);
  if (result == 0) result = 0;  // no -0
  return result;
}

R MergeSort(JsonataCall& call, std::vector<Value>& items, const Value* comparator) {
  // Bottom-up merge sort, stable; "swap" when the comparator returns true (jsonata's msort).
  std::vector<Value> buffer(items.size());
  for (std::size_t width = 1; width < items.size(); width *= 2) {
    for (std::size_t lo = 0; lo < items.size(); lo += 2 * width) {
      std::size_t mid = std::min(lo + width, items.size());
      std::size_t hi = std::min(lo + 2 * width, items.size());
      std::size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        bool swap;
        if (comparator) {
          R r = call.Apply(*comparator, A{items[i], items[j]});
          if (!r.ok()) return r;
          swap = Truthy(r.value());
        } else if (items[i].IsNumber()) {
          swap = items[i].number() > items[j].number();
        } else {
          swap = items[i].str() > items[j].str();
        }
        buffer[k++] = swap ? items[j++] : items[i++];
      }
      while (i < mid) buffer[k++] = items[i++];
      while (j < hi) buffer[k++] = items[j++];
    }
    std::swap(items, buffer);
  }
  return Value();
}

}  // namespace

void RegisterCoreBuiltins(JsonataBuiltinTable& t) {
  // ---- aggregation
  t.Add("sum", "<a<n>:n>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    double total = 0;
    for (const Value& v : a[0].array().items) total += v.number();
    return Value::Number(total);
  });
  t.Add("count", "<a:n>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value::Number(0);
    return Value::Number(static_cast<double>(a[0].array().items.size()));
  });
  t.Add("max", "<a<n>:n>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined() || a[0].array().items.empty()) return Value();
    double m = -INFINITY;
    for (const Value& v : a[0].array().items)
      m = std::isnan(v.number()) ? v.number() : std::max(m, v.number());
    return Value::Number(m);
  });
  t.Add("min", "<a<n>:n>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined() || a[0].array().items.empty()) return Value();
    double m = INFINITY;
    for (const Value& v : a[0].array().items)
      m = std::isnan(v.number()) ? v.number() : std::min(m, v.number());
    return Value::Number(m);
  });
  t.Add("average", "<a<n>:n>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined() || a[0].array().items.empty()) return Value();
    double total = 0;
    for (const Value& v : a[0].array().items) total += v.number();
    return Value::Number(total / static_cast<double>(a[0].array().items.size()));
  });

  // ---- strings
  t.Add("string", "<x-b?:s>",
        [](JsonataCall&, A& a) -> R { return StringOf(a[0], a[1].IsBool() && a[1].boolean()); });
  t.Add("substring", "<s-nn?:s>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    const std::string& s = a[0].str();
    double start = a[1].number();
    const double len = static_cast<double>(CodePointLength(s));
    if (len + start < 0) start = 0;
    if (!a[2].IsUndefined()) {
      double length = a[2].number();
      if (length <= 0) return Value::String("");
      double end = start >= 0 ? start + length : len + start + length;
      return Value::String(SliceCodePoints(s, start, end));
    }
    return Value::String(SliceCodePoints(s, start, std::nullopt));
  });
  t.Add("substringBefore", "<s-s:s>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    const std::string& s = a[0].str();
    if (a[1].IsUndefined()) return a[0];
    std::size_t p = s.find(a[1].str());
    return p == std::string::npos ? a[0] : Value::String(s.substr(0, p));
  });
  t.Add("substringAfter", "<s-s:s>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    const std::string& s = a[0].str();
    if (a[1].IsUndefined()) return a[0];
    std::size_t p = s.find(a[1].str());
    return p == std::string::npos ? a[0] : Value::String(s.substr(p + a[1].str().size()));
  });
  t.Add("lowercase", "<s-:s>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    return Value::String(MapCase(a[0].str(), false));
  });
  t.Add("uppercase", "<s-:s>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    return Value::String(MapCase(a[0].str(), true));
  });
  t.Add("length", "<s-:n>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    return Value::Number(static_cast<double>(CodePointLength(a[0].str())));
  });
  t.Add("trim", "<s-:s>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    std::string out;
    bool in_space = false;
    for (char c : a[0].str()) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        if (!in_space) out += ' ';
        in_space = true;
      } else {
        out += c;
        in_space = false;
      }
    }
    if (!out.empty() && out.front() == ' ') out.erase(0, 1);
    if (!out.empty() && out.back() == ' ') out.pop_back();
    return Value::String(std::move(out));
  });
  t.Add("pad", "<s-ns?:s>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    const std::string& s = a[0].str();
    std::string ch = a[2].IsString() && !a[2].str().empty() ? a[2].str() : " ";
    double width = a[1].number();
    double pad_length = std::fabs(width) - static_cast<double>(CodePointLength(s));
    if (!(pad_length > 0)) return a[0];
    pad_length = std::min(pad_length, 1e7);
    std::string padding;
    for (double i = 0; i < pad_length; ++i) padding += ch;
    if (CodePointLength(ch) > 1) padding = SliceCodePoints(padding, 0, pad_length);
    return Value::String(width > 0 ? s + padding : padding + s);
  });
  t.Add("join", "<a<s>s?:s>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    std::string sep = a[1].IsString() ? a[1].str() : "";
    std::string out;
    bool first = true;
    for (const Value& v : a[0].array().items) {
      if (!first) out += sep;
      first = false;
      out += v.str();
    }
    return Value::String(std::move(out));
  });

  // ---- numbers
  t.Add("number", "<(nsb)-:n>", [](JsonataCall&, A& a) -> R {
    const Value& v = a[0];
    if (v.IsUndefined()) return Value();
    if (v.IsNumber()) return v;
    if (v.IsBool()) return Value::Number(v.boolean() ? 1 : 0);
    if (v.IsString()) {
      const std::string& s = v.str();
      // ^-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?$
      std::size_t i = 0;
      if (i < s.size() && s[i] == '-') ++i;
      std::size_t digits = i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      bool ok = i > digits;
      if (ok && i < s.size() && s[i] == '.') {
        ++i;
        std::size_t f = i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
        ok = i > f;
      }
      if (ok && i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
        std::size_t f = i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
        ok = i > f;
      }
      if (ok && i == s.size()) {
        double d = std::strtod(s.c_str(), nullptr);
        if (std::isfinite(d)) return Value::Number(d);
      }
      if (s.size() > 2 && s[0] == '0') {
        int base = (s[1] == 'x' || s[1] == 'X')   ? 16
                   : (s[1] == 'o' || s[1] == 'O') ? 8
                   : (s[1] == 'b' || s[1] == 'B') ? 2
                                                  : 0;
        if (base != 0) {
          double value = 0;
          bool valid = true;
          for (std::size_t k = 2; k < s.size(); ++k) {
            int d = std::isdigit(static_cast<unsigned char>(s[k])) ? s[k] - '0'
                    : std::isalpha(static_cast<unsigned char>(s[k]))
                        ? std::tolower(static_cast<unsigned char>(s[k])) - 'a' + 10
                        : 99;
            if (d >= base) {
              valid = false;
              break;
            }
            value = value * base + d;
          }
          if (valid) return Value::Number(value);
        }
      }
    }
    return MakeJsonataError("D3030", "Unable to cast value to a number: " + Stringify(v));
  });
  t.Add("abs", "<n-:n>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    return Value::Number(std::fabs(a[0].number()));
  });
  t.Add("floor", "<n-:n>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    return Value::Number(std::floor(a[0].number()));
  });
  t.Add("ceil", "<n-:n>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    return Value::Number(std::ceil(a[0].number()));
  });
  t.Add("round", "<n-n?:n>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    int precision = a[1].IsNumber() ? static_cast<int>(a[1].number()) : 0;
    return Value::Number(RoundHalfEven(a[0].number(), precision));
  });
  t.Add("sqrt", "<n-:n>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    if (a[0].number() < 0) {
      return MakeJsonataError(
          "D3060", "The sqrt function cannot be applied to a negative number: " + Stringify(a[0]));
    }
    return Value::Number(std::sqrt(a[0].number()));
  });
  t.Add("power", "<n-n:n>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    double r = std::pow(a[0].number(), a[1].number());
    if (!std::isfinite(r)) {
      return MakeJsonataError("D3061",
                              "The power function has resulted in a value that cannot be "
                              "represented as a JSON number: base=" +
                                  Stringify(a[0]) + ", exponent=" + Stringify(a[1]));
    }
    return Value::Number(r);
  });

  // ---- booleans
  t.Add("boolean", "<x-:b>", [](JsonataCall&, A& a) -> R { return BooleanOfArg(a[0]); });
  t.Add("not", "<x-:b>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    return Value::Bool(!Truthy(a[0]));
  });
  t.Add("exists", "<x:b>",
        [](JsonataCall&, A& a) -> R { return Value::Bool(!a[0].IsUndefined()); });

  // ---- arrays
  t.Add("append", "<xx:a>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return a[1];
    if (a[1].IsUndefined()) return a[0];
    auto out = Array::Make();
    if (a[0].IsArray()) {
      out->items = a[0].array().items;
      out->sequence = FlagsOf(a[0]).sequence;
    } else {
      out->sequence = true;
      out->items.push_back(a[0]);
    }
    if (a[1].IsArray()) {
      const auto& items = a[1].array().items;
      out->items.insert(out->items.end(), items.begin(), items.end());
    } else {
      out->items.push_back(a[1]);
    }
    return Value::Arr(std::move(out));
  });
  t.Add("reverse", "<a:a>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    if (a[0].array().items.size() <= 1) return a[0];
    auto out = Array::Make();
    out->items.assign(a[0].array().items.rbegin(), a[0].array().items.rend());
    return Value::Arr(std::move(out));
  });
  t.Add("sort", "<af?:a>", [](JsonataCall& call, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    if (a[0].array().items.size() <= 1) return a[0];
    if (a[1].IsUndefined() && !IsArrayOfNumbers(a[0]) && !IsArrayOfStrings(a[0])) {
      return MakeJsonataError("D3070",
                              "The single argument form of the sort function can only be applied "
                              "to an array of strings or an array of numbers.  Use the second "
                              "argument to specify a comparison function");
    }
    std::vector<Value> items = a[0].array().items;
    R r = MergeSort(call, items, a[1].IsUndefined() ? nullptr : &a[1]);
    if (!r.ok()) return r;
    auto out = Array::Make();
    out->items = std::move(items);
    return Value::Arr(std::move(out));
  });
  t.Add("shuffle", "<a:a>", [](JsonataCall& call, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    if (a[0].array().items.size() <= 1) return a[0];
    std::vector<Value> items = a[0].array().items;
    for (std::size_t i = items.size(); i > 1; --i) {
      std::size_t j = static_cast<std::size_t>(call.RandomBits() % i);
      std::swap(items[i - 1], items[j]);
    }
    auto out = Array::Make();
    out->items = std::move(items);
    return Value::Arr(std::move(out));
  });
  t.Add("distinct", "<x:x>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    if (!a[0].IsArray() || a[0].array().items.size() <= 1) return a[0];
    auto out = FlagsOf(a[0]).sequence ? Seq() : Array::Make();
    for (const Value& v : a[0].array().items) {
      bool seen = false;
      for (const Value& w : out->items) {
        if (DeepEqual(v, w)) {
          seen = true;
          break;
        }
      }
      if (!seen) out->items.push_back(v);
    }
    return Value::Arr(std::move(out));
  });
  t.Add("zip", "<a+>", [](JsonataCall&, A& a) -> R {
    auto out = Array::Make();
    std::size_t length = SIZE_MAX;
    for (const Value& arg : a)
      length = std::min(length, arg.IsArray() ? arg.array().items.size() : 0);
    if (a.empty()) length = 0;
    for (std::size_t i = 0; i < length; ++i) {
      auto tuple = Array::Make();
      for (const Value& arg : a) tuple->items.push_back(arg.array().items[i]);
      out->items.push_back(Value::Arr(std::move(tuple)));
    }
    return Value::Arr(std::move(out));
  });
  t.Add("count", "<a:n>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value::Number(0);
    return Value::Number(static_cast<double>(a[0].array().items.size()));
  });

  // ---- objects
  t.Add("keys", "<x-:a<s>>", [](JsonataCall&, A& a) -> R {
    auto out = Seq();
    // Keys seen so far (pointing into the objects' members, alive for the call).
    std::unordered_set<std::string_view> seen;
    auto add_keys = [&out, &seen](const Value& v) {
      if (!v.IsObject()) return;
      for (const auto& [k, val] : v.object().members) {
        if (seen.insert(k).second) out->items.push_back(Value::String(k));
      }
    };
    if (a[0].IsArray()) {
      for (const Value& item : a[0].array().items) add_keys(item);
    } else {
      add_keys(a[0]);
    }
    return Value::Arr(std::move(out));
  });
  t.Add("lookup", "<x-s:x>", [](JsonataCall&, A& a) -> R {
    struct L {
      static Value Do(const Value& input, const std::string& key) {
        if (input.IsArray()) {
          auto out = Array::MakeSequence();
          for (const Value& item : input.array().items) {
            Value r = Do(item, key);
            if (r.IsUndefined()) continue;
            if (r.IsArray()) {
              out->items.insert(out->items.end(), r.array().items.begin(), r.array().items.end());
            } else {
              out->items.push_back(r);
            }
          }
          return Value::Arr(std::move(out));
        }
        if (input.IsObject()) {
          const Value* v = input.object().Find(key);
          return v ? *v : Value();
        }
        return Value();
      }
    };
    if (!a[1].IsString()) return Value();
    return L::Do(a[0], a[1].str());
  });
  t.Add("spread", "<x-:a<o>>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsObject()) {
      auto out = Seq();
      for (const auto& [k, v] : a[0].object().members) {
        auto o = Object::Make();
        o->Set(k, v);
        out->items.push_back(Value::Obj(std::move(o)));
      }
      return Value::Arr(std::move(out));
    }
    if (a[0].IsArray()) {
      auto out = Seq();
      for (const Value& item : a[0].array().items) {
        if (item.IsObject()) {
          for (const auto& [k, v] : item.object().members) {
            auto o = Object::Make();
            o->Set(k, v);
            out->items.push_back(Value::Obj(std::move(o)));
          }
        } else if (item.IsArray()) {
          // spread recursively one level at a time (rare)
          for (const Value& inner : item.array().items) out->items.push_back(inner);
        } else if (!item.IsUndefined()) {
          out->items.push_back(item);
        }
      }
      return Value::Arr(std::move(out));
    }
    return a[0];
  });
  t.Add("merge", "<a<o>:o>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    auto out = Object::Make();
    for (const Value& o : a[0].array().items) {
      if (!o.IsObject()) continue;
      for (const auto& [k, v] : o.object().members) out->Set(k, v);
    }
    return Value::Obj(std::move(out));
  });
  t.Add("each", "<o-f:a>", [](JsonataCall& call, A& a) -> R {
    auto out = Seq();
    if (!a[0].IsObject()) return Value::Arr(std::move(out));
    for (const auto& [k, v] : a[0].object().members) {
      R r = call.Apply(a[1], HofArgs(a[1], v, Value::String(k), a[0]));
      if (!r.ok()) return r;
      if (!r.value().IsUndefined()) out->items.push_back(std::move(r.value()));
    }
    return Value::Arr(std::move(out));
  });
  t.Add("sift", "<o-f?:o>", [](JsonataCall& call, A& a) -> R {
    auto out = Object::Make();
    if (a[0].IsObject()) {
      for (const auto& [k, v] : a[0].object().members) {
        R r = call.Apply(a[1], HofArgs(a[1], v, Value::String(k), a[0]));
        if (!r.ok()) return r;
        if (Truthy(r.value())) out->Set(k, v);
      }
    }
    if (out->size() == 0) return Value();
    return Value::Obj(std::move(out));
  });
  t.Add("type", "<x:s>", [](JsonataCall&, A& a) -> R {
    switch (a[0].kind()) {
      case ValueKind::kUndefined:
        return Value();
      case ValueKind::kNull:
        return Value::String("null");
      case ValueKind::kNumber:
        return Value::String("number");
      case ValueKind::kString:
        return Value::String("string");
      case ValueKind::kBool:
        return Value::String("boolean");
      case ValueKind::kArray:
        return Value::String("array");
      case ValueKind::kFunction:
        return Value::String("function");
      case ValueKind::kObject:
        return Value::String("object");
    }
    return Value();
  });
  t.Add("error", "<s?:x>", [](JsonataCall&, A& a) -> R {
    std::string message =
        a[0].IsString() && !a[0].str().empty() ? a[0].str() : "$error() function evaluated";
    return MakeJsonataError("D3137", message);
  });
  t.Add("assert", "<bs?:x>", [](JsonataCall&, A& a) -> R {
    if (!(a[0].IsBool() && a[0].boolean())) {
      std::string message =
          a[1].IsString() && !a[1].str().empty() ? a[1].str() : "$assert() statement failed";
      return MakeJsonataError("D3141", message);
    }
    return Value();
  });

  // ---- higher-order
  t.Add("map", "<af>", [](JsonataCall& call, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    auto out = Seq();
    const auto& items = a[0].array().items;
    for (std::size_t i = 0; i < items.size(); ++i) {
      R r = call.Apply(a[1], HofArgs(a[1], items[i], Value::Number(static_cast<double>(i)), a[0]));
      if (!r.ok()) return r;
      if (!r.value().IsUndefined()) out->items.push_back(std::move(r.value()));
    }
    return Value::Arr(std::move(out));
  });
  t.Add("filter", "<af>", [](JsonataCall& call, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    auto out = Seq();
    const auto& items = a[0].array().items;
    for (std::size_t i = 0; i < items.size(); ++i) {
      R r = call.Apply(a[1], HofArgs(a[1], items[i], Value::Number(static_cast<double>(i)), a[0]));
      if (!r.ok()) return r;
      if (Truthy(r.value())) out->items.push_back(items[i]);
    }
    return Value::Arr(std::move(out));
  });
  t.Add("single", "<af?>", [](JsonataCall& call, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    const auto& items = a[0].array().items;
    bool found = false;
    Value result;
    for (std::size_t i = 0; i < items.size(); ++i) {
      bool positive = true;
      if (!a[1].IsUndefined()) {
        R r =
            call.Apply(a[1], HofArgs(a[1], items[i], Value::Number(static_cast<double>(i)), a[0]));
        if (!r.ok()) return r;
        positive = Truthy(r.value());
      }
      if (positive) {
        if (found) {
          return MakeJsonataError("D3138",
                                  "The $single() function expected exactly 1 matching result.  "
                                  "Instead it matched more.");
        }
        found = true;
        result = items[i];
      }
    }
    if (!found) {
      return MakeJsonataError(
          "D3139",
          "The $single() function expected exactly 1 matching result.  Instead it matched 0.");
    }
    return result;
  });
  t.Add("reduce", "<afj?:j>", [](JsonataCall& call, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    int arity = FunctionArity(a[1]);
    if (arity < 2) {
      return MakeJsonataError("D3050",
                              "The second argument of reduce function must be a function with at "
                              "least two arguments");
    }
    const auto& items = a[0].array().items;
    std::size_t index = 0;
    Value result;
    if (a[2].IsUndefined() && !items.empty()) {
      result = items[0];
      index = 1;
    } else {
      result = a[2];
    }
    for (; index < items.size(); ++index) {
      A args{result, items[index]};
      if (arity >= 3) args.push_back(Value::Number(static_cast<double>(index)));
      if (arity >= 4) args.push_back(a[0]);
      R r = call.Apply(a[1], std::move(args));
      if (!r.ok()) return r;
      result = std::move(r.value());
    }
    return result;
  });

  // ---- Step Functions' additions
  t.Add("partition", "<an:a>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    double size = a[1].number();
    if (!(size >= 1) || size != std::floor(size)) {
      return MakeJsonataError("D3040",
                              "The second argument of partition must be a positive integer");
    }
    auto out = Array::Make();
    const auto& items = a[0].array().items;
    const auto n = static_cast<std::size_t>(std::min(size, 1e9));
    for (std::size_t i = 0; i < items.size(); i += n) {
      auto chunk = Array::Make();
      chunk->items.assign(
          items.begin() + static_cast<std::ptrdiff_t>(i),
          items.begin() + static_cast<std::ptrdiff_t>(std::min(i + n, items.size())));
      out->items.push_back(Value::Arr(std::move(chunk)));
    }
    return Value::Arr(std::move(out));
  });
  t.Add("range", "<nnn?:a>", [](JsonataCall&, A& a) -> R {
    double start = a[0].number(), end = a[1].number();
    double step = a[2].IsNumber() ? a[2].number() : 1;
    if (step == 0 || !std::isfinite(step)) {
      return MakeJsonataError("D3041", "The step of the range function must not be 0");
    }
    double count = std::floor((end - start) / step) + 1;
    if (count > 1e7) {
      return MakeJsonataError("D2014",
                              "The size of the sequence allocated by the range function must not "
                              "exceed 1e7.  Attempted to allocate " +
                                  NumberToString(count) + ".");
    }
    // A sequence, as AWS answers: a one-number range collapses to the number ($range(1, 9, 9)
    // is 1), an empty one is undefined.
    auto out = Array::MakeSequence();
    for (double i = 0; i < count; ++i) out->items.push_back(Value::Number(start + i * step));
    return Value::Arr(std::move(out));
  });
  t.Add("parse", "<s-:j>", [](JsonataCall&, A& a) -> R {
    if (a[0].IsUndefined()) return Value();
    std::string error;
    std::optional<Json> parsed = ParseJson(a[0].str(), &error);
    if (!parsed) {
      return MakeJsonataError("D3150", "Unable to parse the string as JSON: " + error);
    }
    return FromJson(*parsed);
  });
}

}  // namespace switchyard::asl::jsonata
