#include "engine/schedule_expr.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <array>
#include <cctype>
#include <exception>
#include <vector>

namespace switchyard::orchestrator::schedule {
namespace {

constexpr int kMinYear = 1970;
constexpr int kMaxYear = 2199;

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? text.npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const std::size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

// A non-negative decimal number of at most 9 digits.
std::optional<int> Number(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames = {"SUN", "MON", "TUE", "WED",
                                                       "THU", "FRI", "SAT"};

struct FieldSpec {
  const char* name;
  int min;
  int max;
  bool months = false;  // JAN..DEC allowed
  bool days = false;    // SUN..SAT allowed
};

std::optional<int> Value(std::string_view text, const FieldSpec& spec) {
  std::string upper(text);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (spec.months) {
    for (std::size_t i = 0; i < kMonthNames.size(); ++i) {
      if (upper == kMonthNames[i]) return static_cast<int>(i) + 1;
    }
  }
  if (spec.days) {
    for (std::size_t i = 0; i < kDayNames.size(); ++i) {
      if (upper == kDayNames[i]) return static_cast<int>(i) + 1;
    }
  }
  const std::optional<int> value = Number(text);
  if (!value || *value < spec.min || *value > spec.max) return std::nullopt;
  return value;
}

// Fills `bits` (bit i = value spec.min + i ... or the value itself, see `offset`) from a list of
// `*`, `a`, `a-b`, `a/s`, `*/s`, `a-b/s` items. Returns false when malformed.
template <std::size_t N>
bool ParseList(std::string_view field, const FieldSpec& spec, int offset, std::bitset<N>* bits,
               std::string* error) {
  for (std::string_view item : Split(field, ',')) {
    int step = 1;
    std::string_view range = item;
    if (const std::size_t slash = item.find('/'); slash != std::string_view::npos) {
      const std::optional<int> parsed = Number(item.substr(slash + 1));
      if (!parsed || *parsed < 1) {
        *error = std::string("invalid step in the ") + spec.name + " field: " + std::string(item);
        return false;
      }
      step = *parsed;
      range = item.substr(0, slash);
    }
    int low = spec.min;
    int high = spec.max;
    if (range != "*") {
      const std::size_t dash = range.find('-');
      const std::optional<int> first = Value(range.substr(0, dash), spec);
      if (!first) {
        *error = std::string("invalid value in the ") + spec.name + " field: " + std::string(item);
        return false;
      }
      low = *first;
      high = item.find('/') != std::string_view::npos ? spec.max : low;
      if (dash != std::string_view::npos) {
        const std::optional<int> last = Value(range.substr(dash + 1), spec);
        if (!last || *last < low) {
          *error =
              std::string("invalid range in the ") + spec.name + " field: " + std::string(item);
          return false;
        }
        high = *last;
      }
    }
    for (int v = low; v <= high; v += step) bits->set(static_cast<std::size_t>(v - offset));
  }
  return true;
}

bool ParseDayOfMonth(std::string_view field, Cron* cron, std::string* error) {
  const FieldSpec spec{"day-of-month", 1, 31};
  std::string_view rest = field;
  std::vector<std::string_view> plain;
  for (std::string_view item : Split(rest, ',')) {
    if (item == "L") {
      cron->last_day = true;
    } else if (item == "LW") {
      cron->last_weekday = true;
    } else if (item.size() >= 2 && item.back() == 'W') {
      const std::optional<int> day = Value(item.substr(0, item.size() - 1), spec);
      if (!day) {
        *error = "invalid value in the day-of-month field: " + std::string(item);
        return false;
      }
      cron->nearest_weekday = *day;
    } else {
      if (!ParseList(item, spec, 0, &cron->days, error)) return false;
    }
  }
  return true;
}

bool ParseDayOfWeek(std::string_view field, Cron* cron, std::string* error) {
  const FieldSpec spec{"day-of-week", 1, 7, false, true};
  for (std::string_view item : Split(field, ',')) {
    if (item == "L") {
      cron->weekdays.set(7);  // AWS: the last day of the week, Saturday
    } else if (const std::size_t hash = item.find('#'); hash != std::string_view::npos) {
      const std::optional<int> day = Value(item.substr(0, hash), spec);
      const std::optional<int> nth = Number(item.substr(hash + 1));
      if (!day || !nth || *nth < 1 || *nth > 5) {
        *error = "invalid value in the day-of-week field: " + std::string(item);
        return false;
      }
      cron->nth_weekday = *day;
      cron->nth = *nth;
    } else if (item.size() >= 2 && item.back() == 'L') {
      const std::optional<int> day = Value(item.substr(0, item.size() - 1), spec);
      if (!day) {
        *error = "invalid value in the day-of-week field: " + std::string(item);
        return false;
      }
      cron->last_of_weekday = *day;
    } else {
      if (!ParseList(item, spec, 0, &cron->weekdays, error)) return false;
    }
  }
  return true;
}

std::optional<Expression> ParseCron(std::string_view body, std::string* error) {
  const std::vector<std::string_view> fields = Words(body);
  if (fields.size() != 6) {
    *error = "a cron expression has six fields (minutes hours day-of-month month day-of-week year)";
    return std::nullopt;
  }
  Expression expression;
  expression.kind = Expression::Kind::kCron;
  Cron& cron = expression.cron;
  if (!ParseList(fields[0], {"minutes", 0, 59}, 0, &cron.minutes, error) ||
      !ParseList(fields[1], {"hours", 0, 23}, 0, &cron.hours, error) ||
      !ParseList(fields[3], {"month", 1, 12, true}, 0, &cron.months, error) ||
      !ParseList(fields[5], {"year", kMinYear, kMaxYear}, kMinYear, &cron.years, error)) {
    return std::nullopt;
  }
  const bool dom_any = fields[2] == "?";
  const bool dow_any = fields[4] == "?";
  if (dom_any == dow_any) {
    // AWS: a value or * in one of the two day fields requires ? in the other.
    *error = "exactly one of the day-of-month and day-of-week fields must be '?'";
    return std::nullopt;
  }
  cron.by_day_of_week = dom_any;
  if (dom_any) {
    if (!ParseDayOfWeek(fields[4], &cron, error)) return std::nullopt;
  } else {
    if (!ParseDayOfMonth(fields[2], &cron, error)) return std::nullopt;
  }
  return expression;
}

std::optional<Expression> ParseRate(std::string_view body, std::string* error) {
  const std::vector<std::string_view> words = Words(body);
  if (words.size() != 2) {
    *error = "a rate expression is rate(value unit)";
    return std::nullopt;
  }
  const std::optional<int> value = Number(words[0]);
  if (!value || *value < 1) {
    *error = "the rate's value must be a positive integer";
    return std::nullopt;
  }
  int64_t unit = 0;
  if (words[1] == "minute" || words[1] == "minutes") {
    unit = 60;
  } else if (words[1] == "hour" || words[1] == "hours") {
    unit = 3600;
  } else if (words[1] == "day" || words[1] == "days") {
    unit = 86400;
  } else {
    *error = "the rate's unit must be minute, minutes, hour, hours, day or days";
    return std::nullopt;
  }
  Expression expression;
  expression.kind = Expression::Kind::kRate;
  expression.rate_seconds = *value * unit;
  return expression;
}

int DaysInMonth(int year, int month) {
  return static_cast<int>(static_cast<unsigned>(
      (date::year(year) / date::month(static_cast<unsigned>(month)) / date::last).day()));
}

// 1 = SUN .. 7 = SAT.
int Weekday(int year, int month, int day) {
  const date::sys_days days{date::year(year) / date::month(static_cast<unsigned>(month)) /
                            date::day(static_cast<unsigned>(day))};
  return static_cast<int>(date::weekday(days).c_encoding()) + 1;
}

// The weekday (Mon-Fri) nearest to `target` in the same month (Quartz's and AWS's W).
int NearestWeekday(int year, int month, int target) {
  const int last = DaysInMonth(year, month);
  if (target > last) target = last;
  const int weekday = Weekday(year, month, target);
  if (weekday == 7) return target == 1 ? 3 : target - 1;              // Saturday
  if (weekday == 1) return target == last ? target - 2 : target + 1;  // Sunday
  return target;
}

bool DayMatches(const Cron& cron, int year, int month, int day) {
  const int last = DaysInMonth(year, month);
  if (!cron.by_day_of_week) {
    if (cron.days.test(static_cast<std::size_t>(day))) return true;
    if (cron.last_day && day == last) return true;
    if (cron.last_weekday && day == NearestWeekday(year, month, last)) return true;
    if (cron.nearest_weekday != 0 && day == NearestWeekday(year, month, cron.nearest_weekday)) {
      return true;
    }
    return false;
  }
  const int weekday = Weekday(year, month, day);
  if (cron.weekdays.test(static_cast<std::size_t>(weekday))) return true;
  if (cron.last_of_weekday == weekday && day + 7 > last) return true;
  if (cron.nth_weekday == weekday && (day - 1) / 7 + 1 == cron.nth) return true;
  return false;
}

std::optional<SysSeconds> ToSys(const date::time_zone* zone, date::local_seconds local,
                                bool later_for_gap) {
  const date::local_info info = zone->get_info(local);
  switch (info.result) {
    case date::local_info::unique:
      return SysSeconds(local.time_since_epoch() - info.first.offset);
    case date::local_info::ambiguous:
      return SysSeconds(local.time_since_epoch() - info.first.offset);
    case date::local_info::nonexistent:
      if (!later_for_gap) return std::nullopt;
      return SysSeconds(info.second.begin.time_since_epoch());
  }
  return std::nullopt;
}

std::optional<SysSeconds> NextCron(const Cron& cron, const date::time_zone* zone, SysSeconds from) {
  // The local date of `from`, a day earlier to be safe around offsets; then forward day by day,
  // skipping whole years and months that cannot match (bounded: nothing after 2199).
  const date::local_seconds local_from = zone->to_local(from);
  date::year_month_day ymd{date::floor<date::days>(local_from) - date::days(1)};
  int year = static_cast<int>(ymd.year());
  int month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  int day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  if (year < kMinYear) {
    year = kMinYear;
    month = 1;
    day = 1;
  }
  while (year <= kMaxYear) {
    if (!cron.years.test(static_cast<std::size_t>(year - kMinYear))) {
      ++year;
      month = 1;
      day = 1;
      continue;
    }
    if (!cron.months.test(static_cast<std::size_t>(month))) {
      if (++month > 12) {
        month = 1;
        ++year;
      }
      day = 1;
      continue;
    }
    if (DayMatches(cron, year, month, day)) {
      const date::local_days midnight{date::year(year) / date::month(static_cast<unsigned>(month)) /
                                      date::day(static_cast<unsigned>(day))};
      for (int hour = 0; hour < 24; ++hour) {
        if (!cron.hours.test(static_cast<std::size_t>(hour))) continue;
        for (int minute = 0; minute < 60; ++minute) {
          if (!cron.minutes.test(static_cast<std::size_t>(minute))) continue;
          const date::local_seconds local =
              midnight + std::chrono::hours(hour) + std::chrono::minutes(minute);
          const std::optional<SysSeconds> at = ToSys(zone, local, false);
          if (at && *at >= from) return at;
        }
      }
    }
    if (++day > DaysInMonth(year, month)) {
      day = 1;
      if (++month > 12) {
        month = 1;
        ++year;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::seconds> ParseLocalDateTime(std::string_view text) {
  // yyyy-mm-ddThh:mm:ss, exactly.
  if (text.size() != 19 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  const auto year = Number(text.substr(0, 4));
  const auto month = Number(text.substr(5, 2));
  const auto day = Number(text.substr(8, 2));
  const auto hour = Number(text.substr(11, 2));
  const auto minute = Number(text.substr(14, 2));
  const auto second = Number(text.substr(17, 2));
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  const date::year_month_day ymd{date::year(*year) / date::month(static_cast<unsigned>(*month)) /
                                 date::day(static_cast<unsigned>(*day))};
  if (!ymd.ok() || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  return date::sys_days(ymd).time_since_epoch() + std::chrono::hours(*hour) +
         std::chrono::minutes(*minute) + std::chrono::seconds(*second);
}

std::optional<Expression> ParseExpression(std::string_view text, std::string* error) {
  const std::string_view trimmed = Trim(text);
  const std::size_t open = trimmed.find('(');
  if (open == std::string_view::npos || trimmed.empty() || trimmed.back() != ')') {
    *error = "the expression must be rate(...), cron(...) or at(...)";
    return std::nullopt;
  }
  const std::string_view kind = trimmed.substr(0, open);
  const std::string_view body = trimmed.substr(open + 1, trimmed.size() - open - 2);
  if (kind == "rate") return ParseRate(body, error);
  if (kind == "cron") return ParseCron(body, error);
  if (kind == "at") {
    const std::optional<std::chrono::seconds> local = ParseLocalDateTime(Trim(body));
    if (!local) {
      *error = "an at expression is at(yyyy-mm-ddThh:mm:ss)";
      return std::nullopt;
    }
    Expression expression;
    expression.kind = Expression::Kind::kAt;
    expression.at_local = *local;
    return expression;
  }
  *error = "the expression must be rate(...), cron(...) or at(...)";
  return std::nullopt;
}

const date::time_zone* FindZone(std::string_view name) {
  try {
    return date::locate_zone(name.empty() ? std::string_view("UTC") : name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

std::optional<SysSeconds> NextOccurrence(const Expression& expression, const date::time_zone* zone,
                                         SysSeconds anchor, SysSeconds from) {
  switch (expression.kind) {
    case Expression::Kind::kRate: {
      if (from <= anchor) return anchor;
      const int64_t elapsed = (from - anchor).count();
      const int64_t periods = (elapsed + expression.rate_seconds - 1) / expression.rate_seconds;
      return anchor + std::chrono::seconds(periods * expression.rate_seconds);
    }
    case Expression::Kind::kAt: {
      const std::optional<SysSeconds> at =
          ToSys(zone, date::local_seconds(expression.at_local), true);
      if (!at || *at < from) return std::nullopt;
      return at;
    }
    case Expression::Kind::kCron:
      return NextCron(expression.cron, zone, from);
  }
  return std::nullopt;
}

}  // namespace switchyard::orchestrator::schedule
