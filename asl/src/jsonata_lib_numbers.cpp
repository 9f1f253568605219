// $formatNumber and $formatBase as jsonata-js 2.0.6 implements them (functions.js), which
// follows XPath F&O 3.1 section 4.7 (format-number) with a few quirks of its own that we keep,
// because users see them: the exponent part is cut from the active part at its position in the
// whole sub-picture, a sub-picture without a decimal separator takes its suffix as the
// fractional part, and grouping positions in the fractional part are searched in the integer
// part. Pictures are handled as code points (jsonata-js uses UTF-16 units; the same for every
// character of the Basic Multilingual Plane).
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <unordered_map>

#include "jsonata_lib.hpp"
#include "utf8_internal.hpp"

namespace switchyard::asl::jsonata_lib {

namespace {

// The shortest round-trip digits of |value| (no leading/trailing zeros) and the decimal
// exponent n such that value = 0.d1d2... * 10^n (ECMAScript Number::toString's k, n).
void ShortestDigits(double value, std::string& digits, int& n) {
  std::array<char, 64> buffer{};
  auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), std::fabs(value),
                              std::chars_format::scientific);
  std::string_view text(buffer.data(), static_cast<std::size_t>(result.ptr - buffer.data()));
  const std::size_t e = text.find('e');
  digits.clear();
  for (const char c : text.substr(0, e)) {
    if (c != '.') digits += c;
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  n = std::atoi(std::string(text.substr(e + 1)).c_str()) + 1;
}

// Shifts the decimal point of a double by `places` the way jsonata-js does it, through the
// number's decimal text: +(digits + 'e' + (exponent + places)).
double ShiftDecimal(double value, int places) {
  if (value == 0 || !std::isfinite(value)) return value;
  std::string digits;
  int n = 0;
  ShortestDigits(value, digits, n);
  const int exponent = n - static_cast<int>(digits.size()) + places;
  const std::string text = (value < 0 ? "-" : "") + digits + "e" + std::to_string(exponent);
  double shifted = 0;
  std::from_chars(text.data(), text.data() + text.size(), shifted);
  return shifted;
}

// JavaScript's Math.round: the nearest integer, ties towards +infinity.
double JsMathRound(double x) {
  if (!std::isfinite(x)) return x;
  const double f = std::floor(x);
  return (x - f >= 0.5) ? f + 1 : f;
}

// Number.prototype.toFixed(digits) of a non-negative value below 1e21.
std::string ToFixed(double value, int digits) {
  if (value >= 1e21) return JsNumberToString(value);
  std::array<char, 512> buffer{};
  auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                              std::chars_format::fixed, digits);
  if (result.ec != std::errc()) return JsNumberToString(value);
  return std::string(buffer.data(), result.ptr);
}

struct Properties {
  std::u32string decimal_separator = U".";
  std::u32string grouping_separator = U",";
  std::u32string exponent_separator = U"e";
  std::u32string infinity = U"Infinity";
  std::u32string minus_sign = U"-";
  std::u32string nan = U"NaN";
  std::u32string percent = U"%";
  std::u32string per_mille = U"\u2030";
  std::u32string zero_digit = U"0";
  std::u32string digit = U"#";
  std::u32string pattern_separator = U";";
};

struct Parts {
  std::u32string prefix, suffix, active, mantissa, integer, fractional, subpicture;
  std::optional<std::u32string> exponent;
};

struct Analysis {
  std::vector<int> integer_grouping;
  int regular_grouping = 0;
  int min_integer = 0;
  int scaling_factor = 0;
  std::u32string prefix;
  std::vector<int> fractional_grouping;
  int min_fraction = 0;
  int max_fraction = 0;
  int min_exponent = 0;
  std::u32string suffix;
  std::u32string picture;
};

constexpr std::size_t npos = std::u32string::npos;

// JavaScript's str.indexOf(search) === -1 for a possibly empty search string.
bool Contains(const std::u32string& s, const std::u32string& search) {
  return s.find(search) != npos;
}

std::vector<std::u32string> SplitBy(const std::u32string& s, const std::u32string& sep) {
  std::vector<std::u32string> out;
  if (sep.empty()) {
    for (const char32_t c : s) out.emplace_back(1, c);
    return out;
  }
  std::size_t position = 0;
  while (true) {
    const std::size_t i = s.find(sep, position);
    if (i == npos) break;
    out.push_back(s.substr(position, i - position));
    position = i + sep.size();
  }
  out.push_back(s.substr(position));
  return out;
}

std::u32string SubstrJs(const std::u32string& s, long start, long end) {
  start = std::clamp<long>(start, 0, static_cast<long>(s.size()));
  end = std::clamp<long>(end, 0, static_cast<long>(s.size()));
  if (start > end) std::swap(start, end);
  return s.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(end - start));
}

}  // namespace

std::string JsNumberToString(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value == 0) return "0";
  std::string digits;
  int n = 0;
  ShortestDigits(value, digits, n);
  const int k = static_cast<int>(digits.size());
  std::string out = value < 0 ? "-" : "";
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<std::size_t>(n));
    out += '.';
    out += digits.substr(static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out += digits.substr(0, 1);
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += n - 1 >= 0 ? "+" : "-";
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

double RoundHalfEven(double value, int precision) {
  double arg = precision != 0 ? ShiftDecimal(value, precision) : value;
  double result = JsMathRound(arg);
  const double diff = result - arg;
  if (std::fabs(diff) == 0.5 && std::fabs(std::fmod(result, 2)) == 1) result -= 1;
  if (precision != 0) result = ShiftDecimal(result, -precision);
  if (result == 0) result = 0;  // no -0
  return result;
}

Outcome<std::string> FormatBase(double value, std::optional<double> radix) {
  value = RoundHalfEven(value, 0);
  const double r = radix ? RoundHalfEven(*radix, 0) : 10;
  if (!(r >= 2 && r <= 36)) {
    return LibError("D3100",
                    "The radix of the formatBase function must be between 2 and 36.  "
                    "It was given " +
                        JsNumberToString(r));
  }
  const int base = static_cast<int>(r);
  if (base == 10 || !std::isfinite(value)) return JsNumberToString(value);
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  double magnitude = std::fabs(value);
  std::string out;
  // Integers: exact repeated division (every step stays an integer-valued double).
  do {
    const double q = std::floor(magnitude / base);
    const int d = static_cast<int>(magnitude - q * base);
    out += kDigits[std::clamp(d, 0, base - 1)];
    magnitude = q;
  } while (magnitude > 0);
  if (value < 0) out += '-';
  return std::string(out.rbegin(), out.rend());
}

namespace {

// A validated, analysed picture with its properties (what formatting a number needs).
struct NumberPicture {
  Properties p;
  char32_t zero = U'0';
  std::vector<Analysis> variables;  // [0] for values >= 0, [1] for negative ones
};

Outcome<NumberPicture> AnalyseNumberPicture(std::string_view picture_utf8, const Json* options) {
  Properties p;
  if (options != nullptr && options->IsObject()) {
    for (auto it = options->MemberBegin(); it != options->MemberEnd(); ++it) {
      if (!it->value.IsString()) continue;
      const std::string_view key(it->name.GetString(), it->name.GetStringLength());
      std::u32string v = DecodeUtf8(JsonView(it->value));
      if (key == "decimal-separator") p.decimal_separator = v;
      if (key == "grouping-separator") p.grouping_separator = v;
      if (key == "exponent-separator") p.exponent_separator = v;
      if (key == "infinity") p.infinity = v;
      if (key == "minus-sign") p.minus_sign = v;
      if (key == "NaN") p.nan = v;
      if (key == "percent") p.percent = v;
      if (key == "per-mille") p.per_mille = v;
      if (key == "zero-digit") p.zero_digit = v;
      if (key == "digit") p.digit = v;
      if (key == "pattern-separator") p.pattern_separator = v;
    }
  }
  const char32_t zero = p.zero_digit.empty() ? U'0' : p.zero_digit[0];
  auto is_family = [&](char32_t c) { return c >= zero && c < zero + 10; };
  auto is_prop = [](char32_t c, const std::u32string& prop) {
    return prop.size() == 1 && prop[0] == c;
  };
  auto is_active = [&](char32_t c) {
    return is_family(c) || is_prop(c, p.decimal_separator) || is_prop(c, p.exponent_separator) ||
           is_prop(c, p.grouping_separator) || is_prop(c, p.digit) ||
           is_prop(c, p.pattern_separator);
  };
  auto is_digit_or_family = [&](char32_t c) { return is_family(c) || is_prop(c, p.digit); };

  const std::u32string picture = DecodeUtf8(picture_utf8);
  const std::vector<std::u32string> sub_pictures = SplitBy(picture, p.pattern_separator);
  if (sub_pictures.size() > 2) {
    return LibError("D3080", "The picture string must only contain a maximum of two sub-pictures");
  }

  auto split_parts = [&](const std::u32string& sub) {
    Parts parts;
    parts.subpicture = sub;
    const long len = static_cast<long>(sub.size());
    long prefix_len = len;  // No active character: jsonata-js fails; we take it all as prefix.
    for (long i = 0; i < len; ++i) {
      const char32_t c = sub[static_cast<std::size_t>(i)];
      if (is_active(c) && !is_prop(c, p.exponent_separator)) {
        prefix_len = i;
        break;
      }
    }
    long suffix_start = len;
    for (long i = len - 1; i >= 0; --i) {
      const char32_t c = sub[static_cast<std::size_t>(i)];
      if (is_active(c) && !is_prop(c, p.exponent_separator)) {
        suffix_start = i + 1;
        break;
      }
    }
    if (prefix_len == len) suffix_start = len;
    parts.prefix = sub.substr(0, static_cast<std::size_t>(prefix_len));
    parts.suffix = sub.substr(static_cast<std::size_t>(suffix_start));
    parts.active = SubstrJs(sub, prefix_len, len - static_cast<long>(parts.suffix.size()));
    const std::size_t exp_pos =
        p.exponent_separator.empty()
            ? npos
            : sub.find(p.exponent_separator, static_cast<std::size_t>(prefix_len));
    if (exp_pos == npos ||
        static_cast<long>(exp_pos) > len - static_cast<long>(parts.suffix.size())) {
      parts.mantissa = parts.active;
    } else {
      parts.mantissa = SubstrJs(parts.active, 0, static_cast<long>(exp_pos));
      parts.exponent = SubstrJs(parts.active, static_cast<long>(exp_pos) + 1,
                                static_cast<long>(parts.active.size()));
    }
    const std::size_t decimal_pos = parts.mantissa.find(p.decimal_separator);
    if (decimal_pos == npos) {
      parts.integer = parts.mantissa;
      parts.fractional = parts.suffix;
    } else {
      parts.integer = parts.mantissa.substr(0, decimal_pos);
      parts.fractional = parts.mantissa.substr(decimal_pos + p.decimal_separator.size());
    }
    return parts;
  };

  auto validate = [&](const Parts& parts) -> std::optional<JsonataError> {
    const std::u32string& sub = parts.subpicture;
    const char* error = nullptr;
    auto count_of = [&](const std::u32string& what) {
      if (what.empty()) return 0;
      int count = 0;
      for (std::size_t i = sub.find(what); i != npos; i = sub.find(what, i + 1)) ++count;
      return count;
    };
    const std::size_t decimal_pos = sub.find(p.decimal_separator);
    if (count_of(p.decimal_separator) > 1) error = "D3081";
    if (count_of(p.percent) > 1) error = "D3082";
    if (count_of(p.per_mille) > 1) error = "D3083";
    if (Contains(sub, p.percent) && Contains(sub, p.per_mille)) error = "D3084";
    bool valid = false;
    for (const char32_t c : parts.mantissa) {
      if (is_digit_or_family(c)) {
        valid = true;
        break;
      }
    }
    if (!valid) error = "D3085";
    for (const char32_t c : parts.active) {
      if (!is_active(c)) error = "D3086";
    }
    auto char_at = [&](const std::u32string& s, long i) -> std::u32string {
      if (i < 0 || i >= static_cast<long>(s.size())) return U"";
      return std::u32string(1, s[static_cast<std::size_t>(i)]);
    };
    if (decimal_pos != npos) {
      const long d = static_cast<long>(decimal_pos);
      if (char_at(sub, d - 1) == p.grouping_separator ||
          char_at(sub, d + 1) == p.grouping_separator) {
        error = "D3087";
      }
    } else if (char_at(parts.integer, static_cast<long>(parts.integer.size()) - 1) ==
               p.grouping_separator) {
      error = "D3088";
    }
    if (Contains(sub, p.grouping_separator + p.grouping_separator)) error = "D3089";
    std::size_t optional_pos = parts.integer.find(p.digit);
    if (optional_pos != npos) {
      for (std::size_t i = 0; i < optional_pos; ++i) {
        if (is_family(parts.integer[i])) error = "D3090";
      }
    }
    optional_pos = parts.fractional.rfind(p.digit);
    if (optional_pos != npos) {
      for (std::size_t i = optional_pos; i < parts.fractional.size(); ++i) {
        if (is_family(parts.fractional[i])) error = "D3091";
      }
    }
    if (parts.exponent && !parts.exponent->empty() &&
        (Contains(sub, p.percent) || Contains(sub, p.per_mille))) {
      error = "D3092";
    }
    if (parts.exponent) {
      bool bad = parts.exponent->empty();
      for (const char32_t c : *parts.exponent) {
        if (!is_family(c)) bad = true;
      }
      if (bad) error = "D3093";
    }
    if (error == nullptr) return std::nullopt;
    static const std::pair<std::string_view, std::string_view> kMessages[] = {
        {"D3081",
         "The sub-picture must not contain more than one instance of the 'decimal-separator' "
         "character"},
        {"D3082",
         "The sub-picture must not contain more than one instance of the 'percent' character"},
        {"D3083",
         "The sub-picture must not contain more than one instance of the 'per-mille' "
         "character"},
        {"D3084", "The sub-picture must not contain both a 'percent' and a 'per-mille' character"},
        {"D3085",
         "The mantissa part of a sub-picture must contain at least one character that is either "
         "an 'optional digit character' or a member of the 'decimal digit family'"},
        {"D3086",
         "The sub-picture must not contain a passive character that is preceded by an active "
         "character and that is followed by another active character"},
        {"D3087",
         "The sub-picture must not contain a 'grouping-separator' character that appears "
         "adjacent to a 'decimal-separator' character"},
        {"D3088",
         "The sub-picture must not contain a 'grouping-separator' at the end of the integer "
         "part"},
        {"D3089",
         "The sub-picture must not contain two adjacent instances of the 'grouping-separator' "
         "character"},
        {"D3090",
         "The integer part of the sub-picture must not contain a member of the 'decimal digit "
         "family' that is followed by an instance of the 'optional digit character'"},
        {"D3091",
         "The fractional part of the sub-picture must not contain an instance of the 'optional "
         "digit character' that is followed by a member of the 'decimal digit family'"},
        {"D3092",
         "A sub-picture that contains a 'percent' or 'per-mille' character must not contain a "
         "character treated as an 'exponent-separator'"},
        {"D3093",
         "The exponent part of the sub-picture must comprise only of one or more characters that "
         "are members of the 'decimal digit family'"},
    };
    for (const auto& [code, message] : kMessages) {
      if (code == error) return LibError(std::string(code), std::string(message));
    }
    return LibError(error, "Invalid picture string");
  };

  auto analyse = [&](const Parts& parts) {
    Analysis a;
    auto grouping_positions = [&](const std::u32string& part, bool to_left) {
      std::vector<int> positions;
      if (p.grouping_separator.empty()) return positions;
      std::size_t gp = part.find(p.grouping_separator);
      while (gp != npos) {
        const std::u32string side = to_left ? part.substr(0, gp) : part.substr(gp);
        int count = 0;
        for (const char32_t c : side) count += is_digit_or_family(c) ? 1 : 0;
        positions.push_back(count);
        // jsonata-js searches the integer part for the next one, whichever part it walks.
        gp = gp + 1 <= parts.integer.size() ? parts.integer.find(p.grouping_separator, gp + 1)
                                            : npos;
        if (positions.size() > part.size() + parts.integer.size()) break;
      }
      return positions;
    };
    a.integer_grouping = grouping_positions(parts.integer, false);
    if (!a.integer_grouping.empty()) {
      int factor =
          std::accumulate(a.integer_grouping.begin() + 1, a.integer_grouping.end(),
                          a.integer_grouping[0], [](int x, int y) { return std::gcd(x, y); });
      bool regular = true;
      for (std::size_t index = 1; index <= a.integer_grouping.size(); ++index) {
        if (std::find(a.integer_grouping.begin(), a.integer_grouping.end(),
                      static_cast<int>(index) * factor) == a.integer_grouping.end()) {
          regular = false;
        }
      }
      a.regular_grouping = regular ? factor : 0;
    }
    a.fractional_grouping = grouping_positions(parts.fractional, true);
    for (const char32_t c : parts.integer) a.min_integer += is_family(c) ? 1 : 0;
    a.scaling_factor = a.min_integer;
    for (const char32_t c : parts.fractional) {
      a.min_fraction += is_family(c) ? 1 : 0;
      a.max_fraction += is_digit_or_family(c) ? 1 : 0;
    }
    const bool exponent_present = parts.exponent.has_value();
    if (a.min_integer == 0 && a.max_fraction == 0) {
      if (exponent_present) {
        a.min_fraction = 1;
        a.max_fraction = 1;
      } else {
        a.min_integer = 1;
      }
    }
    if (exponent_present && a.min_integer == 0 && Contains(parts.integer, p.digit)) {
      a.min_integer = 1;
    }
    if (a.min_integer == 0 && a.min_fraction == 0) a.min_fraction = 1;
    if (exponent_present) {
      for (const char32_t c : *parts.exponent) a.min_exponent += is_family(c) ? 1 : 0;
    }
    a.prefix = parts.prefix;
    a.suffix = parts.suffix;
    a.picture = parts.subpicture;
    return a;
  };

  std::vector<Parts> parts;
  for (const auto& sub : sub_pictures) parts.push_back(split_parts(sub));
  for (const auto& part : parts) {
    if (auto error = validate(part)) return std::move(*error);
  }
  std::vector<Analysis> variables;
  for (const auto& part : parts) variables.push_back(analyse(part));
  if (variables.size() == 1) {
    variables.push_back(variables[0]);
    variables[1].prefix = p.minus_sign + variables[1].prefix;
  }
  NumberPicture result;
  result.p = std::move(p);
  result.zero = zero;
  result.variables = std::move(variables);
  return result;
}

// Analysed pictures by text (options-free calls only), per thread: a picture is nearly always a
// literal that every evaluation repeats. Bounded: cleared when full.
std::shared_ptr<const NumberPicture> CachedNumberPicture(std::string_view picture,
                                                         JsonataError* error) {
  thread_local std::unordered_map<std::string, std::shared_ptr<const NumberPicture>> cache;
  if (auto it = cache.find(std::string(picture)); it != cache.end()) return it->second;
  auto analysed = AnalyseNumberPicture(picture, nullptr);
  if (auto* e = std::get_if<JsonataError>(&analysed)) {
    *error = std::move(*e);
    return nullptr;
  }
  if (cache.size() >= 256) cache.clear();
  auto shared = std::make_shared<const NumberPicture>(std::get<0>(std::move(analysed)));
  cache.emplace(std::string(picture), shared);
  return shared;
}

Outcome<std::string> FormatWith(double value, const NumberPicture& np) {
  const Properties& p = np.p;
  const char32_t zero = np.zero;
  const Analysis& pic = value >= 0 ? np.variables[0] : np.variables[1];

  double adjusted = value;
  if (Contains(pic.picture, p.percent)) {
    adjusted = value * 100;
  } else if (Contains(pic.picture, p.per_mille)) {
    adjusted = value * 1000;
  }
  double mantissa = adjusted;
  std::optional<int> exponent;
  if (pic.min_exponent != 0) {
    // mantissa * 10^exponent = adjusted. jsonata-js loops for ever on 0 or a negative number;
    // we scale the magnitude and stop at 0.
    const double max_mantissa = std::pow(10, pic.scaling_factor);
    const double min_mantissa = std::pow(10, pic.scaling_factor - 1);
    double m = std::fabs(adjusted);
    int e = 0;
    if (m != 0 && std::isfinite(m)) {
      while (m < min_mantissa) {
        m *= 10;
        e -= 1;
      }
      while (m > max_mantissa) {
        m /= 10;
        e += 1;
      }
    }
    mantissa = adjusted < 0 ? -m : m;
    exponent = e;
  }
  const double rounded = RoundHalfEven(mantissa, pic.max_fraction);
  auto make_string = [&](double v, int dp) {
    std::u32string s = DecodeUtf8(ToFixed(std::fabs(v), dp));
    if (zero != U'0') {
      for (char32_t& c : s) {
        if (c >= U'0' && c <= U'9') c = zero + (c - U'0');
      }
    }
    return s;
  };
  const std::u32string zero_str(1, zero);
  std::u32string s = make_string(rounded, pic.max_fraction);
  // toFixed writes '.', mapped to the decimal separator.
  const std::size_t dot = s.find(U'.');
  if (dot == npos) {
    s += p.decimal_separator;
  } else {
    s = s.substr(0, dot) + p.decimal_separator + s.substr(dot + 1);
  }
  while (!s.empty() && s[0] == zero) s.erase(0, 1);
  while (!s.empty() && s.back() == zero) s.pop_back();
  long decimal_pos = static_cast<long>(s.find(p.decimal_separator));
  const long pad_left = pic.min_integer - decimal_pos;
  const long pad_right = pic.min_fraction - (static_cast<long>(s.size()) - decimal_pos - 1);
  if (pad_left > 0) s = std::u32string(static_cast<std::size_t>(pad_left), zero) + s;
  if (pad_right > 0) s += std::u32string(static_cast<std::size_t>(pad_right), zero);
  decimal_pos = static_cast<long>(s.find(p.decimal_separator));
  // [s.slice(0, at), separator, s.slice(at)].join(''): a negative `at` counts from the end, as
  // JavaScript's slice does (jsonata-js reaches it with irregular groupings longer than the
  // number; we write what it writes).
  auto insert_at = [&](long at) {
    if (at < 0) at += static_cast<long>(s.size());
    at = std::clamp<long>(at, 0, static_cast<long>(s.size()));
    s.insert(static_cast<std::size_t>(at), p.grouping_separator);
  };
  if (pic.regular_grouping > 0) {
    const long group_count = (decimal_pos - 1) / pic.regular_grouping;
    for (long group = 1; group <= group_count; ++group) {
      insert_at(decimal_pos - group * pic.regular_grouping);
    }
  } else {
    for (const int pos : pic.integer_grouping) {
      insert_at(decimal_pos - pos);
      ++decimal_pos;
    }
  }
  decimal_pos = static_cast<long>(s.find(p.decimal_separator));
  for (const int pos : pic.fractional_grouping) insert_at(pos + decimal_pos + 1);
  decimal_pos = static_cast<long>(s.find(p.decimal_separator));
  if (!Contains(pic.picture, p.decimal_separator) ||
      decimal_pos == static_cast<long>(s.size()) - 1) {
    if (!s.empty()) s.pop_back();
  }
  if (exponent) {
    std::u32string e = make_string(*exponent, 0);
    const long pad = pic.min_exponent - static_cast<long>(e.size());
    if (pad > 0) e = std::u32string(static_cast<std::size_t>(pad), zero) + e;
    s += p.exponent_separator + (*exponent < 0 ? p.minus_sign : U"") + e;
  }
  s = pic.prefix + s + pic.suffix;
  return EncodeUtf8(s);
}

}  // namespace

Outcome<std::string> FormatNumber(double value, std::string_view picture, const Json* options) {
  if (options == nullptr || !options->IsObject() || options->MemberCount() == 0) {
    JsonataError error;
    auto cached = CachedNumberPicture(picture, &error);
    if (!cached) return error;
    return FormatWith(value, *cached);
  }
  auto analysed = AnalyseNumberPicture(picture, options);
  if (auto* e = std::get_if<JsonataError>(&analysed)) return std::move(*e);
  return FormatWith(value, std::get<0>(analysed));
}

}  // namespace switchyard::asl::jsonata_lib
