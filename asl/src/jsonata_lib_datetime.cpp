// $formatInteger, $parseInteger, $fromMillis, $toMillis (and so $now) as jsonata-js 2.0.6's
// datetime.js implements XPath F&O 3.1 format-integer (4.6.1) and format-dateTime (9.8): the same
// picture analysis, the same component values (ISO week numbering for W/w/X/x) and the same
// parsing rules for $toMillis with a picture (which components must be present, which default
// to "now" and which to zero). Times are UTC plus the optional "+hhmm" timezone offset; a
// timestamp without an offset is read as UTC (jsonata-js reads it in the process's local time
// zone, which for AWS is UTC).
#include <cmath>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <unordered_map>

#include "jsonata_lib.hpp"
#include "utf8_internal.hpp"

namespace switchyard::asl::jsonata_lib {

namespace {

// ---- small helpers

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// JavaScript's parseInt(text, 10): optional white space and sign, then leading digits; NaN when
// there are none.
double JsParseInt(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    negative = text[i] == '-';
    ++i;
  }
  double value = 0;
  bool any = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    value = value * 10 + (text[i] - '0');
    any = true;
    ++i;
  }
  if (!any) return std::nan("");
  return negative ? -value : value;
}

// ---- calendar arithmetic (proleptic Gregorian, UTC), as JavaScript's Date does it

constexpr double kMillisInADay = 86400000.0;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Days since 1970-01-01 of y-m-d (m 1..12).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  int64_t year;
  int month;  // 1..12
  int day;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {y + (m <= 2 ? 1 : 0), m, d};
}

// Date.UTC(year, month0, day, h, min, s, ms) with JavaScript's normalisation of out-of-range
// fields (month 12 is January of the next year, day 0 the last day of the previous month).
double DateUtc(double year, double month0, double day = 1, double h = 0, double min = 0,
               double s = 0, double ms = 0) {
  for (const double v : {year, month0, day, h, min, s, ms}) {
    if (!std::isfinite(v)) return std::nan("");
  }
  double y = std::trunc(year);
  if (y >= 0 && y <= 99) y += 1900;
  const double m = std::trunc(month0);
  const double ym = y + std::floor(m / 12);
  const double mn = m - std::floor(m / 12) * 12;
  if (std::fabs(ym) > 400000) return std::nan("");
  const double days = static_cast<double>(DaysFromCivil(static_cast<int64_t>(ym),
                                                        static_cast<int64_t>(mn) + 1, 1)) +
                      std::trunc(day) - 1;
  return days * kMillisInADay + std::trunc(h) * 3600000.0 + std::trunc(min) * 60000.0 +
         std::trunc(s) * 1000.0 + std::trunc(ms);
}

// The UTC fields of an instant.
struct DateFields {
  double time = 0;
  int64_t year = 1970;
  int month0 = 0;
  int day = 1;
  int weekday = 4;  // 0 = Sunday
  int hours = 0;
  int minutes = 0;
  int seconds = 0;
  int millis = 0;
};

DateFields FieldsOf(double time) {
  DateFields f;
  f.time = time;
  // Callers keep times within Date's range; clamp anything else so the conversion is defined.
  if (!(std::fabs(time) <= 8.64e15)) time = std::isnan(time) ? 0 : std::copysign(8.64e15, time);
  const auto t = static_cast<int64_t>(std::floor(time));
  const int64_t days = FloorDiv(t, 86400000);
  const int64_t ms_in_day = t - days * 86400000;
  const Civil c = CivilFromDays(days);
  f.year = c.year;
  f.month0 = c.month - 1;
  f.day = c.day;
  f.weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  f.hours = static_cast<int>(ms_in_day / 3600000);
  f.minutes = static_cast<int>(ms_in_day / 60000 % 60);
  f.seconds = static_cast<int>(ms_in_day / 1000 % 60);
  f.millis = static_cast<int>(ms_in_day % 1000);
  return f;
}

// ISO 8601: week 1 of a year (XPath: also of a month) is the one with its first Thursday.
double StartOfFirstWeek(int64_t year, int month0) {
  const double jan1 = DateUtc(static_cast<double>(year), month0);
  int day = FieldsOf(jan1).weekday;
  if (day == 0) day = 7;
  return day > 4 ? jan1 + (8 - day) * kMillisInADay : jan1 - (day - 1) * kMillisInADay;
}

double DeltaWeeks(double start, double end) { return (end - start) / (kMillisInADay * 7) + 1; }

// A component's value: a number, or a name ("am"/"pm", "ISO").
struct Fragment {
  double number = std::nan("");
  std::string text;
  bool is_text = false;
};

Fragment DateTimeFragment(const DateFields& date, char32_t component) {
  Fragment out;
  auto num = [&](double v) {
    out.number = v;
    return out;
  };
  auto txt = [&](std::string v) {
    out.text = std::move(v);
    out.is_text = true;
    return out;
  };
  switch (component) {
    case U'Y':
      return num(static_cast<double>(date.year));
    case U'M':
      return num(date.month0 + 1);
    case U'D':
      return num(date.day);
    case U'd': {
      const double today = DateUtc(static_cast<double>(date.year), date.month0, date.day);
      const double first_jan = DateUtc(static_cast<double>(date.year), 0);
      return num((today - first_jan) / kMillisInADay + 1);
    }
    case U'F':
      return num(date.weekday == 0 ? 7 : date.weekday);
    case U'W': {
      const double start = StartOfFirstWeek(date.year, 0);
      const double today = DateUtc(static_cast<double>(date.year), date.month0, date.day);
      double week = DeltaWeeks(start, today);
      if (week > 52) {
        if (today >= StartOfFirstWeek(date.year + 1, 0)) week = 1;
      } else if (week < 1) {
        week = DeltaWeeks(StartOfFirstWeek(date.year - 1, 0), today);
      }
      return num(std::floor(week));
    }
    case U'w': {
      const double start = StartOfFirstWeek(date.year, date.month0);
      const double today = DateUtc(static_cast<double>(date.year), date.month0, date.day);
      double week = DeltaWeeks(start, today);
      if (week > 4) {
        const int64_t ny = date.month0 == 11 ? date.year + 1 : date.year;
        const int nm = date.month0 == 11 ? 0 : date.month0 + 1;
        if (today >= StartOfFirstWeek(ny, nm)) week = 1;
      } else if (week < 1) {
        const int64_t py = date.month0 == 0 ? date.year - 1 : date.year;
        const int pm = date.month0 == 0 ? 11 : date.month0 - 1;
        week = DeltaWeeks(StartOfFirstWeek(py, pm), today);
      }
      return num(std::floor(week));
    }
    case U'X': {
      const double start = StartOfFirstWeek(date.year, 0);
      const double end = StartOfFirstWeek(date.year + 1, 0);
      if (date.time < start) return num(static_cast<double>(date.year - 1));
      if (date.time >= end) return num(static_cast<double>(date.year + 1));
      return num(static_cast<double>(date.year));
    }
    case U'x': {
      const double start = StartOfFirstWeek(date.year, date.month0);
      const int64_t ny = date.month0 == 11 ? date.year + 1 : date.year;
      const int nm = date.month0 == 11 ? 0 : date.month0 + 1;
      const double end = StartOfFirstWeek(ny, nm);
      if (date.time < start) return num(date.month0 == 0 ? 12 : date.month0);
      if (date.time >= end) return num(nm + 1);
      return num(date.month0 + 1);
    }
    case U'H':
      return num(date.hours);
    case U'h': {
      const int h = date.hours % 12;
      return num(h == 0 ? 12 : h);
    }
    case U'P':
      return txt(date.hours >= 12 ? "pm" : "am");
    case U'm':
      return num(date.minutes);
    case U's':
      return num(date.seconds);
    case U'f':
      return num(date.millis);
    case U'C':
    case U'E':
      return txt("ISO");
    default:
      return out;  // Z, z and unknown components: undefined
  }
}

// ---- integer pictures

enum class Primary { kDecimal, kLetters, kRoman, kWords, kSequence };
enum class Case { kUpper, kLower, kTitle };

struct Separator {
  int position = 0;
  std::u32string character;
};

struct IntegerFormat {
  Primary primary = Primary::kDecimal;
  Case letter_case = Case::kLower;
  bool ordinal = false;
  char32_t zero_code = U'0';
  int mandatory_digits = 0;
  int optional_digits = 0;
  bool regular = false;
  Separator regular_separator;        // when regular
  std::vector<Separator> separators;  // when not regular
  std::u32string token;               // kSequence
  int n = 0;                          // parsing: the year/month/day width (0 = any)
};

constexpr char32_t kDecimalGroups[] = {
    0x30,   0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6,
    0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0,
    0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620,
    0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10};

Outcome<IntegerFormat> AnalyseIntegerPicture(const std::u32string& picture) {
  IntegerFormat format;
  std::u32string primary = picture;
  const std::size_t semicolon = picture.rfind(U';');
  if (semicolon != std::u32string::npos) {
    primary = picture.substr(0, semicolon);
    const std::u32string modifier = picture.substr(semicolon + 1);
    if (!modifier.empty() && modifier[0] == U'o') format.ordinal = true;
  }
  if (primary == U"A" || primary == U"a") {
    format.letter_case = primary == U"A" ? Case::kUpper : Case::kLower;
    format.primary = Primary::kLetters;
    return format;
  }
  if (primary == U"I" || primary == U"i") {
    format.letter_case = primary == U"I" ? Case::kUpper : Case::kLower;
    format.primary = Primary::kRoman;
    return format;
  }
  if (primary == U"W" || primary == U"Ww" || primary == U"w") {
    format.letter_case = primary == U"W"    ? Case::kUpper
                         : primary == U"Ww" ? Case::kTitle
                                            : Case::kLower;
    format.primary = Primary::kWords;
    return format;
  }
  std::optional<char32_t> zero;
  int separator_position = 0;
  std::vector<Separator> separators;
  for (auto it = primary.rbegin(); it != primary.rend(); ++it) {
    const char32_t cp = *it;
    bool digit = false;
    for (const char32_t group : kDecimalGroups) {
      if (cp >= group && cp <= group + 9) {
        digit = true;
        ++format.mandatory_digits;
        ++separator_position;
        if (!zero) {
          zero = group;
        } else if (*zero != group) {
          return LibError("D3131",
                          "In a decimal digit pattern, all digits must be from the same decimal "
                          "group");
        }
        break;
      }
    }
    if (!digit) {
      if (cp == U'#') {
        ++separator_position;
        ++format.optional_digits;
      } else {
        separators.push_back({separator_position, std::u32string(1, cp)});
      }
    }
  }
  if (format.mandatory_digits == 0) {
    format.primary = Primary::kSequence;
    format.token = primary;
    return format;
  }
  format.primary = Primary::kDecimal;
  format.zero_code = *zero;
  int regular = 0;
  if (!separators.empty()) {
    bool same = true;
    for (const auto& s : separators) same = same && s.character == separators[0].character;
    if (same) {
      int factor = 0;
      for (const auto& s : separators) factor = std::gcd(factor, s.position);
      bool all = factor > 0;
      for (std::size_t index = 1; all && index <= separators.size(); ++index) {
        bool found = false;
        for (const auto& s : separators)
          found = found || s.position == static_cast<int>(index) * factor;
        all = found;
      }
      regular = all ? factor : 0;
    }
  }
  if (regular > 0) {
    format.regular = true;
    format.regular_separator = {regular, separators[0].character};
  } else {
    format.separators = std::move(separators);
  }
  return format;
}

constexpr const char* kFew[] = {"Zero",    "One",     "Two",       "Three",    "Four",
                                "Five",    "Six",     "Seven",     "Eight",    "Nine",
                                "Ten",     "Eleven",  "Twelve",    "Thirteen", "Fourteen",
                                "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"};
constexpr const char* kOrdinals[] = {
    "Zeroth",     "First",     "Second",    "Third",       "Fourth",     "Fifth",     "Sixth",
    "Seventh",    "Eighth",    "Ninth",     "Tenth",       "Eleventh",   "Twelfth",   "Thirteenth",
    "Fourteenth", "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"};
constexpr const char* kDecades[] = {"Twenty",  "Thirty", "Forty",  "Fifty",  "Sixty",
                                    "Seventy", "Eighty", "Ninety", "Hundred"};
constexpr const char* kMagnitudes[] = {"Thousand", "Million", "Billion", "Trillion"};
constexpr const char* kDays[] = {"",         "Monday", "Tuesday",  "Wednesday",
                                 "Thursday", "Friday", "Saturday", "Sunday"};
constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                   "May",       "June",     "July",     "August",
                                   "September", "October",  "November", "December"};

// numberToWords: British English with "and", iterative over the magnitudes (the recursion of
// jsonata-js is at most a few levels deep, as here).
std::string NumberToWords(double num, bool prev, bool ordinal) {
  std::string words;
  if (num <= 19) {
    const auto i = static_cast<std::size_t>(num);
    words = std::string(prev ? " and " : "") + (ordinal ? kOrdinals[i] : kFew[i]);
  } else if (num < 100) {
    const auto tens = static_cast<std::size_t>(std::floor(num / 10));
    const double remainder = std::fmod(num, 10);
    words = std::string(prev ? " and " : "") + kDecades[tens - 2];
    if (remainder > 0) {
      words += "-" + NumberToWords(remainder, false, ordinal);
    } else if (ordinal) {
      words = words.substr(0, words.size() - 1) + "ieth";
    }
  } else if (num < 1000) {
    const auto hundreds = static_cast<std::size_t>(std::floor(num / 100));
    const double remainder = std::fmod(num, 100);
    words = std::string(prev ? ", " : "") + kFew[hundreds] + " Hundred";
    if (remainder > 0) {
      words += NumberToWords(remainder, true, ordinal);
    } else if (ordinal) {
      words += "th";
    }
  } else {
    auto mag = static_cast<int>(std::floor(std::log10(num) / 3));
    if (mag > 4) mag = 4;
    const double factor = std::pow(10, mag * 3);
    const double mant = std::floor(num / factor);
    const double remainder = num - mant * factor;
    words = std::string(prev ? ", " : "") + NumberToWords(mant, false, false) + " " +
            kMagnitudes[mag - 1];
    if (remainder > 0) {
      words += NumberToWords(remainder, true, ordinal);
    } else if (ordinal) {
      words += "th";
    }
  }
  return words;
}

Outcome<std::string> FormatIntegerWith(double value, const IntegerFormat& format) {
  // JSONata numbers are finite (arithmetic that overflows is D1001); NaN can only come from a
  // date outside Date's range, written as JavaScript would write it.
  if (!std::isfinite(value)) return JsNumberToString(value);
  const bool negative = value < 0;
  value = std::fabs(value);
  std::string out;
  switch (format.primary) {
    case Primary::kLetters: {
      const char a = format.letter_case == Case::kUpper ? 'A' : 'a';
      std::string letters;
      while (value > 0) {
        letters += static_cast<char>(a + static_cast<int>(std::fmod(value - 1, 26)));
        value = std::floor((value - 1) / 26);
      }
      out.assign(letters.rbegin(), letters.rend());
      break;
    }
    case Primary::kRoman: {
      static const std::pair<int, const char*> kRoman[] = {
          {1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"}, {90, "xc"}, {50, "l"},
          {40, "xl"},  {10, "x"},   {9, "ix"},  {5, "v"},    {4, "iv"},  {1, "i"}};
      if (value >= 1e7) {
        return LibError("D3130",
                        "Formatting or parsing an integer as a roman numeral is "
                        "limited to values below 10000000");
      }
      for (const auto& [v, numeral] : kRoman) {
        while (value >= v) {
          out += numeral;
          value -= v;
        }
      }
      if (format.letter_case == Case::kUpper) out = Upper(out);
      break;
    }
    case Primary::kWords:
      out = NumberToWords(value, false, format.ordinal);
      if (format.letter_case == Case::kUpper) out = Upper(out);
      if (format.letter_case == Case::kLower) out = Lower(out);
      break;
    case Primary::kDecimal: {
      if (format.zero_code == U'0' && !format.regular && format.separators.empty() &&
          !format.ordinal) {
        std::string plain = JsNumberToString(value);
        if (static_cast<long>(plain.size()) < format.mandatory_digits) {
          plain.insert(0, static_cast<std::size_t>(format.mandatory_digits) - plain.size(), '0');
        }
        out = std::move(plain);
        break;
      }
      std::u32string digits = DecodeUtf8(JsNumberToString(value));
      const long pad = format.mandatory_digits - static_cast<long>(digits.size());
      if (pad > 0) digits = std::u32string(static_cast<std::size_t>(pad), U'0') + digits;
      if (format.zero_code != U'0') {
        for (char32_t& c : digits) c = c + format.zero_code - U'0';
      }
      if (format.regular) {
        const int step = format.regular_separator.position;
        const long n = (static_cast<long>(digits.size()) - 1) / step;
        for (long ii = n; ii > 0; --ii) {
          const long pos = static_cast<long>(digits.size()) - ii * step;
          digits.insert(static_cast<std::size_t>(std::max(0L, pos)),
                        format.regular_separator.character);
        }
      } else {
        // formatted.substr(0, pos) + separator + formatted.substr(pos), with JavaScript's substr:
        // a negative pos gives "" before and the last -pos characters after.
        for (auto it = format.separators.rbegin(); it != format.separators.rend(); ++it) {
          const long size = static_cast<long>(digits.size());
          const long pos = size - it->position;
          if (pos >= 0) {
            digits.insert(static_cast<std::size_t>(pos), it->character);
          } else {
            digits =
                it->character + digits.substr(static_cast<std::size_t>(std::max(size + pos, 0L)));
          }
        }
      }
      if (format.ordinal && !digits.empty()) {
        const char32_t last = digits.back();
        const char* suffix = last == U'1' ? "st" : last == U'2' ? "nd" : last == U'3' ? "rd" : "th";
        if (digits.size() > 1 && digits[digits.size() - 2] == U'1') suffix = "th";
        digits += DecodeUtf8(suffix);
      }
      out = EncodeUtf8(digits);
      break;
    }
    case Primary::kSequence:
      return LibError("D3130", "Formatting or parsing an integer as a sequence starting with " +
                                   EncodeUtf8(format.token) +
                                   " is not supported by this implementation");
  }
  if (negative) out = "-" + out;
  return out;
}

// ---- date/time pictures

struct Width {
  std::optional<int> min;
  std::optional<int> max;
};

struct PicturePart {
  bool literal = false;
  std::string value;  // literal text
  char32_t component = 0;
  std::u32string presentation1;
  std::optional<char32_t> presentation2;
  bool ordinal = false;
  std::optional<Case> names;
  std::optional<IntegerFormat> integer_format;
  std::optional<Width> width;
  int n = -1;
};

std::optional<std::u32string> DefaultPresentation(char32_t component) {
  switch (component) {
    case U'Y':
    case U'M':
    case U'D':
    case U'd':
    case U'W':
    case U'w':
    case U'X':
    case U'x':
    case U'H':
    case U'h':
    case U'f':
      return U"1";
    case U'F':
    case U'P':
    case U'C':
    case U'E':
      return U"n";
    case U'm':
    case U's':
      return U"01";
    case U'Z':
    case U'z':
      return U"01:01";
    default:
      return std::nullopt;
  }
}

bool IsOneOf(char32_t c, std::u32string_view set) {
  return set.find(c) != std::u32string_view::npos;
}

Outcome<std::vector<PicturePart>> AnalyseDateTimePicture(std::string_view picture_utf8) {
  const std::u32string picture = DecodeUtf8(picture_utf8);
  std::vector<PicturePart> spec;
  auto add_literal = [&](std::size_t start, std::size_t end) {
    if (end > start) {
      std::u32string literal = picture.substr(start, end - start);
      std::u32string collapsed;
      for (std::size_t i = 0; i < literal.size(); ++i) {
        collapsed += literal[i];
        if (literal[i] == U']' && i + 1 < literal.size() && literal[i + 1] == U']') ++i;
      }
      PicturePart part;
      part.literal = true;
      part.value = EncodeUtf8(collapsed);
      spec.push_back(std::move(part));
    }
  };
  std::size_t start = 0;
  std::size_t pos = 0;
  while (pos < picture.size()) {
    if (picture[pos] == U'[') {
      if (pos + 1 < picture.size() && picture[pos + 1] == U'[') {
        add_literal(start, pos);
        PicturePart part;
        part.literal = true;
        part.value = "[";
        spec.push_back(std::move(part));
        pos += 2;
        start = pos;
        continue;
      }
      add_literal(start, pos);
      start = pos;
      pos = picture.find(U']', start);
      if (pos == std::u32string::npos) {
        return LibError("D3135", "No matching closing bracket ']' in date/time picture string");
      }
      std::u32string marker;
      for (const char32_t c : picture.substr(start + 1, pos - start - 1)) {
        if (c != U' ' && c != U'\t' && c != U'\n' && c != U'\r') marker += c;
      }
      PicturePart def;
      def.component = marker.empty() ? 0 : marker[0];
      const std::size_t comma = marker.rfind(U',');
      std::u32string pres;
      if (comma != std::u32string::npos) {
        const std::u32string width_mod = marker.substr(comma + 1);
        const std::size_t dash = width_mod.find(U'-');
        auto parse_width = [](const std::optional<std::u32string>& wm) -> std::optional<int> {
          if (!wm || *wm == U"*") return std::nullopt;
          const double v = JsParseInt(EncodeUtf8(*wm));
          if (std::isnan(v)) return std::nullopt;
          return static_cast<int>(std::min(v, 1e6));
        };
        Width width;
        if (dash == std::u32string::npos) {
          width.min = parse_width(width_mod);
        } else {
          width.min = parse_width(width_mod.substr(0, dash));
          width.max = parse_width(width_mod.substr(dash + 1));
        }
        def.width = width;
        pres = marker.substr(1, comma - 1);
      } else {
        pres = marker.size() > 1 ? marker.substr(1) : U"";
      }
      if (pres.size() == 1) {
        def.presentation1 = pres;
      } else if (pres.size() > 1) {
        const char32_t last = pres.back();
        if (IsOneOf(last, U"atco")) {
          def.presentation2 = last;
          def.ordinal = last == U'o';
          def.presentation1 = pres.substr(0, pres.size() - 1);
        } else {
          def.presentation1 = pres;
        }
      } else {
        auto d = DefaultPresentation(def.component);
        if (!d) {
          return LibError("D3132", "Unknown component specifier " +
                                       EncodeUtf8(std::u32string(1, def.component)) +
                                       " in date/time picture string");
        }
        def.presentation1 = *d;
      }
      if (!def.presentation1.empty() && def.presentation1[0] == U'n') {
        def.names = Case::kLower;
      } else if (!def.presentation1.empty() && def.presentation1[0] == U'N') {
        def.names = def.presentation1.size() > 1 && def.presentation1[1] == U'n' ? Case::kTitle
                                                                                 : Case::kUpper;
      } else if (IsOneOf(def.component, U"YMDdFWwXxHhmsf")) {
        std::u32string integer_pattern = def.presentation1;
        if (def.presentation2) {
          integer_pattern += U';';
          integer_pattern += *def.presentation2;
        }
        auto format = AnalyseIntegerPicture(integer_pattern);
        if (auto* e = std::get_if<JsonataError>(&format)) return std::move(*e);
        def.integer_format = std::get<0>(std::move(format));
        if (def.width && def.width->min && def.integer_format->mandatory_digits < *def.width->min) {
          def.integer_format->mandatory_digits = *def.width->min;
        }
        if (IsOneOf(def.component, U"YMD")) {
          def.n = -1;
          if (def.width && def.width->max) {
            def.n = *def.width->max;
            def.integer_format->mandatory_digits = def.n;
          } else {
            const int w =
                def.integer_format->mandatory_digits + def.integer_format->optional_digits;
            if (w >= 2) def.n = w;
          }
        }
      }
      if (def.component == U'Z' || def.component == U'z') {
        auto format = AnalyseIntegerPicture(def.presentation1);
        if (auto* e = std::get_if<JsonataError>(&format)) return std::move(*e);
        def.integer_format = std::get<0>(std::move(format));
      }
      spec.push_back(std::move(def));
      start = pos + 1;
    }
    ++pos;
  }
  add_literal(start, pos);
  return spec;
}

JsonataError NameModifierError(char32_t component) {
  return LibError("D3133",
                  "The 'name' modifier can only be applied to months and days in the "
                  "date/time picture string, not " +
                      EncodeUtf8(std::u32string(1, component)));
}

Outcome<std::string> FormatDateTime(double millis, const std::vector<PicturePart>& spec,
                                    std::optional<std::string_view> timezone) {
  double offset_hours = 0;
  double offset_minutes = 0;
  if (timezone) {
    const double offset = JsParseInt(*timezone);
    if (!std::isnan(offset)) {
      offset_hours = std::floor(offset / 100);
      offset_minutes = std::fmod(offset, 100);
    }
  }
  const double offset_millis = (60 * offset_hours + offset_minutes) * 60 * 1000;
  const DateFields date = FieldsOf(millis + offset_millis);
  std::string result;
  for (const PicturePart& part : spec) {
    if (part.literal) {
      result += part.value;
      continue;
    }
    Fragment value = DateTimeFragment(date, part.component);
    const char32_t c = part.component;
    if (IsOneOf(c, U"YMDdFWwXxHhms")) {
      double v = value.number;
      if (c == U'Y' && part.n != -1) v = std::fmod(v, std::pow(10, part.n));
      if (part.names) {
        std::string name;
        if (c == U'M' || c == U'x') {
          name = kMonths[static_cast<std::size_t>(v) - 1];
        } else if (c == U'F') {
          name = kDays[static_cast<std::size_t>(v)];
        } else {
          return NameModifierError(c);
        }
        if (*part.names == Case::kUpper) name = Upper(name);
        if (*part.names == Case::kLower) name = Lower(name);
        if (part.width && part.width->max && static_cast<int>(name.size()) > *part.width->max) {
          name = name.substr(0, static_cast<std::size_t>(*part.width->max));
        }
        result += name;
      } else {
        auto text = FormatIntegerWith(v, *part.integer_format);
        if (auto* e = std::get_if<JsonataError>(&text)) return std::move(*e);
        result += std::get<0>(text);
      }
    } else if (c == U'f') {
      auto text = FormatIntegerWith(value.number, *part.integer_format);
      if (auto* e = std::get_if<JsonataError>(&text)) return std::move(*e);
      result += std::get<0>(text);
    } else if (c == U'Z' || c == U'z') {
      const double offset = offset_hours * 100 + offset_minutes;
      std::string text;
      const IntegerFormat& format = *part.integer_format;
      if (format.regular) {
        auto t = FormatIntegerWith(offset, format);
        if (auto* e = std::get_if<JsonataError>(&t)) return std::move(*e);
        text = std::get<0>(t);
      } else {
        const int digits = format.mandatory_digits;
        if (digits == 1 || digits == 2) {
          auto t = FormatIntegerWith(offset_hours, format);
          if (auto* e = std::get_if<JsonataError>(&t)) return std::move(*e);
          text = std::get<0>(t);
          if (offset_minutes != 0) {
            IntegerFormat two;
            two.mandatory_digits = 2;
            text += ":" + std::get<0>(FormatIntegerWith(offset_minutes, two));
          }
        } else if (digits == 3 || digits == 4) {
          auto t = FormatIntegerWith(offset, format);
          if (auto* e = std::get_if<JsonataError>(&t)) return std::move(*e);
          text = std::get<0>(t);
        } else {
          return LibError("D3134",
                          "The timezone integer format specifier cannot have more than four "
                          "digits");
        }
      }
      if (offset >= 0) text = "+" + text;
      if (c == U'z') text = "GMT" + text;
      if (offset == 0 && part.presentation2 == U't') text = "Z";
      result += text;
    } else if (c == U'P') {
      std::string text = value.text;
      if (part.names == Case::kUpper) text = Upper(text);
      result += text;
    } else if (value.is_text) {
      result += value.text;
    } else {
      result += "undefined";  // an unknown component with a presentation: as jsonata-js
    }
  }
  return result;
}

const std::vector<PicturePart>& IsoSpec() {
  static const std::vector<PicturePart> spec =
      std::get<0>(AnalyseDateTimePicture("[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]"));
  return spec;
}

// ---- parsing ($parseInteger, $toMillis with a picture)

struct Matcher {
  std::string regex;
  // Parses the matched text; nullopt when it names nothing (e.g. an unknown month name).
  std::function<std::optional<double>(const std::string&)> parse;
  char32_t component = 0;
};

std::string EscapeRegex(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (std::string_view(".*+?^${}()|[]\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// jsonata-js's wordValues: word -> value, in its insertion order (the regex alternation order).
const std::vector<std::pair<std::string, double>>& WordValues() {
  static const std::vector<std::pair<std::string, double>> values = [] {
    std::vector<std::pair<std::string, double>> v;
    auto add = [&](std::string word, double value) {
      for (auto& [w, x] : v) {
        if (w == word) {
          x = value;
          return;
        }
      }
      v.emplace_back(std::move(word), value);
    };
    for (std::size_t i = 0; i < 20; ++i) add(Lower(kFew[i]), static_cast<double>(i));
    for (std::size_t i = 0; i < 20; ++i) add(Lower(kOrdinals[i]), static_cast<double>(i));
    for (std::size_t i = 0; i < 9; ++i) {
      const std::string lword = Lower(kDecades[i]);
      add(lword, static_cast<double>((i + 2) * 10));
      add(lword.substr(0, lword.size() - 1) + "ieth", static_cast<double>((i + 2) * 10));
    }
    add("hundredth", 100);
    for (std::size_t i = 0; i < 4; ++i) {
      const std::string lword = Lower(kMagnitudes[i]);
      const double value = std::pow(10, (i + 1) * 3);
      add(lword, value);
      add(lword + "th", value);
    }
    return v;
  }();
  return values;
}

double WordsToNumber(const std::string& text) {
  // Split on ", ", " and ", a white-space character or a '-'.
  std::vector<std::string> parts;
  std::string current;
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 2, ", ") == 0) {
      parts.push_back(current);
      current.clear();
      i += 2;
    } else if (text.compare(i, 5, " and ") == 0) {
      parts.push_back(current);
      current.clear();
      i += 5;
    } else if (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '-' ||
               text[i] == '\\') {
      parts.push_back(current);
      current.clear();
      i += 1;
    } else {
      current += text[i++];
    }
  }
  parts.push_back(current);
  std::vector<double> segs = {0};
  for (const auto& part : parts) {
    double value = std::nan("");
    for (const auto& [w, x] : WordValues()) {
      if (w == part) value = x;
    }
    if (value < 100) {
      double top = segs.back();
      segs.pop_back();
      if (top >= 1000) {
        segs.push_back(top);
        top = 0;
      }
      segs.push_back(top + value);
    } else {
      const double top = segs.back();
      segs.pop_back();
      segs.push_back(top * value);
    }
  }
  double sum = 0;
  for (const double s : segs) sum += s;
  return sum;
}

Outcome<Matcher> IntegerMatcher(const IntegerFormat& format) {
  Matcher m;
  const bool upper = format.letter_case == Case::kUpper;
  std::string occurrences = "+";
  if (format.n > 0) {
    occurrences = format.optional_digits == 0
                      ? "{" + std::to_string(format.n) + "}"
                      : "{" + std::to_string(format.n - format.optional_digits) + "," +
                            std::to_string(format.n) + "}";
  }
  switch (format.primary) {
    case Primary::kLetters:
      m.regex = upper ? "[A-Z]+" : "[a-z]+";
      m.parse = [upper](const std::string& value) -> std::optional<double> {
        const char a = upper ? 'A' : 'a';
        double decimal = 0;
        for (std::size_t i = 0; i < value.size(); ++i) {
          decimal += (value[value.size() - i - 1] - a + 1) * std::pow(26, i);
        }
        return decimal;
      };
      break;
    case Primary::kRoman:
      m.regex = upper ? "[MDCLXVI]+" : "[mdclxvi]+";
      m.parse = [upper](const std::string& value) -> std::optional<double> {
        const std::string roman = upper ? value : Upper(value);
        double decimal = 0;
        double max = 1;
        for (auto it = roman.rbegin(); it != roman.rend(); ++it) {
          double v = std::nan("");
          switch (*it) {
            case 'M':
              v = 1000;
              break;
            case 'D':
              v = 500;
              break;
            case 'C':
              v = 100;
              break;
            case 'L':
              v = 50;
              break;
            case 'X':
              v = 10;
              break;
            case 'V':
              v = 5;
              break;
            case 'I':
              v = 1;
              break;
            default:
              break;
          }
          if (v < max) {
            decimal -= v;
          } else {
            max = std::isnan(v) ? max : v;
            decimal += v;
          }
        }
        return decimal;
      };
      break;
    case Primary::kWords: {
      std::string alternatives;
      for (const auto& [w, x] : WordValues()) {
        alternatives += w;
        alternatives += '|';
      }
      m.regex = "(?:" + alternatives + "and|[\\-, ])+";
      m.parse = [](const std::string& value) -> std::optional<double> {
        return WordsToNumber(Lower(value));
      };
      break;
    }
    case Primary::kDecimal:
      m.regex = "[0-9]" + occurrences;
      if (format.ordinal) m.regex += "(?:th|st|nd|rd)";
      m.parse = [format](const std::string& value) -> std::optional<double> {
        std::u32string digits = DecodeUtf8(value);
        if (format.ordinal && digits.size() >= 2) digits.resize(digits.size() - 2);
        auto remove_all = [&](const std::u32string& what) {
          if (what.empty()) return;
          std::u32string out;
          for (std::size_t i = 0; i < digits.size();) {
            if (digits.compare(i, what.size(), what) == 0) {
              i += what.size();
            } else {
              out += digits[i++];
            }
          }
          digits = out;
        };
        if (format.regular) {
          remove_all(U",");
        } else {
          for (const auto& s : format.separators) remove_all(s.character);
        }
        if (format.zero_code != U'0') {
          for (char32_t& c : digits) c = c - format.zero_code + U'0';
        }
        return JsParseInt(EncodeUtf8(digits));
      };
      break;
    case Primary::kSequence:
      return LibError("D3130", "Formatting or parsing an integer as a sequence starting with " +
                                   EncodeUtf8(format.token) +
                                   " is not supported by this implementation");
  }
  return m;
}

Outcome<std::vector<Matcher>> DateTimeMatchers(const std::vector<PicturePart>& spec) {
  std::vector<Matcher> out;
  for (const PicturePart& part : spec) {
    Matcher m;
    if (part.literal) {
      m.regex = EscapeRegex(part.value);
    } else if (part.component == U'Z' || part.component == U'z') {
      const IntegerFormat& format = *part.integer_format;
      std::optional<std::string> separator;
      if (format.regular) separator = EncodeUtf8(format.regular_separator.character);
      m.regex = part.component == U'z' ? "GMT" : "";
      m.regex += "[-+][0-9]+";
      if (separator) m.regex += EscapeRegex(*separator) + "[0-9]+";
      const bool gmt = part.component == U'z';
      m.parse = [separator, gmt](const std::string& matched) -> std::optional<double> {
        std::string value =
            gmt ? matched.substr(std::min<std::size_t>(3, matched.size())) : matched;
        double hours = 0;
        double minutes = 0;
        if (separator) {
          const std::size_t at = value.find(*separator);
          hours = JsParseInt(value.substr(0, at));
          minutes = at == std::string::npos ? std::nan("")
                                            : JsParseInt(value.substr(at + separator->size()));
        } else if (value.size() - 1 <= 2) {
          hours = JsParseInt(value);
        } else {
          hours = JsParseInt(value.substr(0, 3));
          minutes = JsParseInt(value.substr(3));
        }
        return hours * 60 + minutes;
      };
    } else if (part.integer_format) {
      IntegerFormat format = *part.integer_format;
      format.n = part.n;
      auto matcher = IntegerMatcher(format);
      if (auto* e = std::get_if<JsonataError>(&matcher)) return std::move(*e);
      m = std::get<0>(std::move(matcher));
    } else {
      m.regex = "[a-zA-Z]+";
      std::vector<std::pair<std::string, double>> lookup;
      int max_len = 0;
      if (part.width && part.width->max) max_len = *part.width->max;
      auto cut = [max_len](std::string name) {
        if (max_len > 0 && static_cast<int>(name.size()) > max_len) {
          name.resize(static_cast<std::size_t>(max_len));
        }
        return name;
      };
      if (part.component == U'M' || part.component == U'x') {
        for (std::size_t i = 0; i < 12; ++i) lookup.emplace_back(cut(kMonths[i]), i + 1);
      } else if (part.component == U'F') {
        for (std::size_t i = 1; i < 8; ++i) lookup.emplace_back(cut(kDays[i]), i);
      } else if (part.component == U'P') {
        lookup = {{"am", 0}, {"AM", 0}, {"pm", 1}, {"PM", 1}};
      } else {
        return NameModifierError(part.component);
      }
      m.parse = [lookup](const std::string& value) -> std::optional<double> {
        for (const auto& [name, v] : lookup) {
          if (name == value) return v;
        }
        return std::nullopt;
      };
    }
    m.component = part.component;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

Outcome<std::string> FormatInteger(double value, std::string_view picture) {
  auto format = AnalyseIntegerPicture(DecodeUtf8(picture));
  if (auto* e = std::get_if<JsonataError>(&format)) return std::move(*e);
  return FormatIntegerWith(std::floor(value), std::get<0>(format));
}

Outcome<std::optional<double>> ParseInteger(std::string_view text, std::string_view picture) {
  auto format = AnalyseIntegerPicture(DecodeUtf8(picture));
  if (auto* e = std::get_if<JsonataError>(&format)) return std::move(*e);
  auto matcher = IntegerMatcher(std::get<0>(format));
  if (auto* e = std::get_if<JsonataError>(&matcher)) return std::move(*e);
  // jsonata-js parses without checking the text against the picture's pattern.
  // NaN (written null) when the text is not a number in that picture, as parseInt gives.
  return std::get<0>(matcher).parse(std::string(text));
}

Outcome<std::string> FromMillis(double millis, std::optional<std::string_view> picture,
                                std::optional<std::string_view> timezone) {
  // JavaScript's Date holds +-8.64e15 ms (+-100,000,000 days); beyond, every field is NaN and
  // jsonata-js writes garbage ("NaN-NaN-NaN..."). Refused here with a clear message instead.
  if (!(std::fabs(millis) <= 8.64e15)) {
    return LibError("D3137",
                    "The argument of the fromMillis function is outside the range of a "
                    "date (+/-8.64e15 milliseconds): " +
                        JsNumberToString(millis));
  }
  if (!picture) return FormatDateTime(millis, IsoSpec(), timezone);
  // Analysed pictures by text, per thread (a picture is nearly always a literal repeated by every
  // evaluation); bounded: cleared when full.
  thread_local std::unordered_map<std::string, std::shared_ptr<const std::vector<PicturePart>>>
      cache;
  auto it = cache.find(std::string(*picture));
  if (it == cache.end()) {
    auto spec = AnalyseDateTimePicture(*picture);
    if (auto* e = std::get_if<JsonataError>(&spec)) return std::move(*e);
    if (cache.size() >= 256) cache.clear();
    it =
        cache
            .emplace(std::string(*picture),
                     std::make_shared<const std::vector<PicturePart>>(std::get<0>(std::move(spec))))
            .first;
  }
  return FormatDateTime(millis, *it->second, timezone);
}

namespace {

// Date.parse of the ISO 8601 forms jsonata-js lets through its own check.
std::optional<double> ParseIso8601(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&](std::size_t n) -> std::optional<int> {
    if (i + n > s.size()) return std::nullopt;
    int v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    i += n;
    return v;
  };
  const auto year = digits(4);
  if (!year) return std::nullopt;
  int month = 1;
  int day = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int ms = 0;
  int offset = 0;
  if (i < s.size() && s[i] == '-') {
    ++i;
    const auto m = digits(2);
    if (!m) return std::nullopt;
    month = *m;
    if (i < s.size() && s[i] == '-') {
      ++i;
      const auto d = digits(2);
      if (!d) return std::nullopt;
      day = *d;
    }
  }
  if (i < s.size() && s[i] == 'T') {
    ++i;
    const auto h = digits(2);
    if (!h || i >= s.size() || s[i] != ':') return std::nullopt;
    ++i;
    const auto mi = digits(2);
    if (!mi || i >= s.size() || s[i] != ':') return std::nullopt;
    ++i;
    const auto se = digits(2);
    if (!se) return std::nullopt;
    hour = *h;
    minute = *mi;
    second = *se;
    if (i < s.size() && s[i] == '.') {
      ++i;
      int scale = 100;
      std::size_t count = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (count < 3) ms += (s[i] - '0') * scale;
        scale /= 10;
        ++count;
        ++i;
      }
      if (count == 0) return std::nullopt;
    }
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const int sign = s[i] == '-' ? -1 : 1;
    ++i;
    const auto oh = digits(2);
    if (!oh) return std::nullopt;
    if (i < s.size() && s[i] == ':') ++i;
    const auto om = digits(2);
    if (!om) return std::nullopt;
    offset = sign * (*oh * 60 + *om);
  } else if (i < s.size() && s[i] == 'Z') {
    ++i;
  }
  if (i != s.size()) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 59 ||
      (hour == 24 && (minute != 0 || second != 0 || ms != 0))) {
    return std::nullopt;
  }
  const double t = DateUtc(*year, month - 1, day, hour, minute, second, ms);
  return t - offset * 60000.0;
}

bool LooksIso8601(std::string_view s) {
  // ^\d{4}(-[01]\d)*(-[0-3]\d)*(T[0-2]\d:[0-5]\d:[0-5]\d)*(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$
  static const JsRegex re = std::get<0>(JsRegex::Compile(
      "^\\d{4}(-[01]\\d)*(-[0-3]\\d)*(T[0-2]\\d:[0-5]\\d:[0-5]\\d)*(\\.\\d+)?([+-][0-2]\\d:?[0-5]"
      "\\d|Z)?$",
      ""));
  auto found = re.Exec(s, 0);
  return std::holds_alternative<std::optional<RegexMatch>>(found) && std::get<0>(found).has_value();
}

}  // namespace

Outcome<std::optional<double>> ToMillis(std::string_view timestamp,
                                        std::optional<std::string_view> picture, int64_t now_ms) {
  if (!picture) {
    if (!LooksIso8601(timestamp)) {
      return LibError("D3110",
                      "The argument of the toMillis function must be an ISO 8601 "
                      "formatted timestamp. Given " +
                          std::string(timestamp));
    }
    // Date.parse gives NaN for a well-shaped but impossible timestamp ("2017-13-07"): so do we
    // (written as null, as JSON.stringify writes NaN).
    return std::optional<double>(ParseIso8601(timestamp).value_or(std::nan("")));
  }
  auto spec_outcome = AnalyseDateTimePicture(*picture);
  if (auto* e = std::get_if<JsonataError>(&spec_outcome)) return std::move(*e);
  const auto& spec = std::get<0>(spec_outcome);
  auto matchers_outcome = DateTimeMatchers(spec);
  if (auto* e = std::get_if<JsonataError>(&matchers_outcome)) return std::move(*e);
  const auto& matchers = std::get<0>(matchers_outcome);
  std::string full = "^";
  for (const auto& m : matchers) full += "(" + m.regex + ")";
  full += "$";
  auto re = JsRegex::Compile(full, "i");
  if (auto* e = std::get_if<JsonataError>(&re)) return std::move(*e);
  auto found = std::get<0>(re).Exec(timestamp, 0);
  if (auto* e = std::get_if<JsonataError>(&found)) return std::move(*e);
  const auto& info = std::get<0>(found);
  if (!info) return std::optional<double>();

  // Component letter -> value; present with nullopt when its text named nothing.
  std::vector<std::pair<char32_t, std::optional<double>>> components;
  auto get = [&](char32_t c) -> std::optional<double> {
    for (const auto& [k, v] : components) {
      if (k == c) return v;
    }
    return std::nullopt;
  };
  auto set = [&](char32_t c, std::optional<double> v) {
    for (auto& [k, x] : components) {
      if (k == c) {
        x = v;
        return;
      }
    }
    components.emplace_back(c, v);
  };
  for (std::size_t i = 0; i < matchers.size() && i < info->groups.size(); ++i) {
    if (matchers[i].parse)
      set(matchers[i].component, matchers[i].parse(info->groups[i].value_or("")));
  }
  if (components.empty()) return std::optional<double>();

  int mask = 0;
  auto shift = [&](char32_t c) {
    const auto v = get(c);
    mask = (mask << 1) + ((v && *v != 0 && !std::isnan(*v)) ? 1 : 0);
  };
  auto is_type = [&](int type) { return (~type & mask) == 0 && (type & mask) != 0; };
  for (const char32_t c : std::u32string_view(U"YXMxWwdD")) shift(c);
  const bool date_a = is_type(161);
  const bool date_b = !date_a && is_type(130);
  const bool date_c = is_type(84);
  const bool date_d = !date_c && is_type(72);
  mask = 0;
  for (const char32_t c : std::u32string_view(U"PHhmsf")) shift(c);
  const bool time_a = is_type(23);
  const bool time_b = !time_a && is_type(47);

  const std::u32string date_comps = date_b ? U"YD" : date_c ? U"XxwF" : date_d ? U"XWF" : U"YMD";
  const std::u32string time_comps = time_b ? U"Phmsf" : U"Hmsf";
  const DateFields now = FieldsOf(static_cast<double>(now_ms));
  bool start_specified = false;
  bool end_specified = false;
  for (const char32_t part : date_comps + time_comps) {
    if (!get(part)) {
      if (start_specified) {
        set(part, IsOneOf(part, U"MDd") ? 1 : 0);
        end_specified = true;
      } else {
        const Fragment f = DateTimeFragment(now, part);
        set(part, f.is_text ? 0 : f.number);  // P from "now" is "am"/"pm", never 1
      }
    } else {
      start_specified = true;
      if (end_specified) {
        return LibError("D3136",
                        "The date/time picture string is missing specifiers required "
                        "to parse the timestamp");
      }
    }
  }
  double month = get(U'M').value_or(0);
  month = month > 0 ? month - 1 : 0;
  double day = get(U'D').value_or(1);
  if (date_b) {
    const double first_jan = DateUtc(get(U'Y').value_or(0), 0);
    const DateFields derived = FieldsOf(first_jan + (get(U'd').value_or(1) - 1) * kMillisInADay);
    month = derived.month0;
    day = derived.day;
  }
  if (date_c || date_d) {
    return LibError("D3136",
                    "The date/time picture string is missing specifiers required to "
                    "parse the timestamp");
  }
  double hour = get(U'H').value_or(0);
  if (time_b) {
    const double h = get(U'h').value_or(0);
    hour = h == 12 ? 0 : h;
    if (get(U'P') == 1.0) hour += 12;
  }
  double millis = DateUtc(get(U'Y').value_or(std::nan("")), month, day, hour, get(U'm').value_or(0),
                          get(U's').value_or(0), get(U'f').value_or(0));
  const double tz = get(U'Z').value_or(0) != 0 ? get(U'Z').value_or(0) : get(U'z').value_or(0);
  if (tz != 0 && !std::isnan(tz)) millis -= tz * 60 * 1000;
  return std::optional<double>(millis);  // NaN when a component named nothing, as Date.UTC
}

}  // namespace switchyard::asl::jsonata_lib
