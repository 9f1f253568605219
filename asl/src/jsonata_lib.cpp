// The JSONata function library's registration: thin glue from the evaluator's Values to the plain
// functions of jsonata_lib.hpp (numbers, date/time, regular expressions, encoding, AWS's
// additions), and the regex literal's compiled form. Signatures are jsonata-js 2.0.6's
// (jsonata.js staticFrame.bind), plus AWS Step Functions' $hash, $random([seed]) and $uuid.
#include "jsonata_lib.hpp"

#include <cmath>

#include "jsonata_value.hpp"

namespace switchyard::asl::jsonata {

namespace lib = jsonata_lib;

namespace {

// The object jsonata-js's regex closure returns for a match of `re` in `str` at or after byte
// `from`: {match, start, end, groups, next}; `next` is a function (a regex Value bound to the
// string and the match's end) giving the following match, D1004 when that one is empty.
JsonataResult MatchObjectFrom(const std::shared_ptr<const lib::JsRegex>& re,
                              const std::shared_ptr<const std::string>& str, std::size_t from,
                              bool is_next);

class RegexHolder : public JsonataRegex {
 public:
  explicit RegexHolder(lib::JsRegex re) : re_(std::make_shared<lib::JsRegex>(std::move(re))) {}
  const lib::JsRegex& re() const { return *re_; }

  // Invoking the regex itself, /re/(str): the first match object, undefined when none.
  JsonataResult Apply(JsonataCall& /*call*/, JsonataArgs& args) const override {
    if (args.empty() || !args[0].IsString()) return Value();
    return MatchObjectFrom(re_, std::make_shared<const std::string>(args[0].str()), 0, false);
  }

 private:
  std::shared_ptr<const lib::JsRegex> re_;
};

// The `next` of a match object.
class NextMatch : public JsonataRegex {
 public:
  NextMatch(std::shared_ptr<const lib::JsRegex> re, std::shared_ptr<const std::string> str,
            std::size_t from)
      : re_(std::move(re)), str_(std::move(str)), from_(from) {}
  JsonataResult Apply(JsonataCall& /*call*/, JsonataArgs& /*args*/) const override {
    if (from_ >= str_->size()) return Value();
    return MatchObjectFrom(re_, str_, from_, true);
  }

 private:
  std::shared_ptr<const lib::JsRegex> re_;
  std::shared_ptr<const std::string> str_;
  std::size_t from_;
};

JsonataResult MatchObjectFrom(const std::shared_ptr<const lib::JsRegex>& re,
                              const std::shared_ptr<const std::string>& str, std::size_t from,
                              bool is_next) {
  auto found = re->Exec(*str, from);
  if (auto* e = std::get_if<JsonataError>(&found)) return std::move(*e);
  const auto& m = std::get<0>(found);
  if (!m) return Value();
  if (is_next && m->start == m->end) {
    return MakeJsonataError("D1004", "Regular expression matches zero length string");
  }
  auto object = Object::Make();
  object->Set("match", Value::String(str->substr(m->start, m->end - m->start)));
  object->Set("start", Value::Number(static_cast<double>(lib::Utf16Index(*str, m->start))));
  object->Set("end", Value::Number(static_cast<double>(lib::Utf16Index(*str, m->end))));
  auto groups = Array::Make();
  for (const auto& g : m->groups) groups->items.push_back(g ? Value::String(*g) : Value());
  object->Set("groups", Value::Arr(groups));
  auto next = std::make_shared<Function>();
  next->kind = Function::Kind::kRegex;
  next->regex = std::make_shared<NextMatch>(re, str, m->end);
  object->Set("next", Value::Fn(std::move(next)));
  return Value::Obj(object);
}

// The regex inside a function value, or nullptr when it is another kind of function (a user's
// custom matcher).
const lib::JsRegex* RegexOf(const Value& v) {
  if (!v.IsFunction()) return nullptr;
  const Function& f = v.function();
  if (f.kind != Function::Kind::kRegex || !f.regex) return nullptr;
  const auto* holder = dynamic_cast<const RegexHolder*>(f.regex.get());
  return holder != nullptr ? &holder->re() : nullptr;
}

std::optional<double> OptNumber(const Value& v) {
  if (v.IsNumber()) return v.number();
  return std::nullopt;
}

std::optional<std::string_view> OptString(const Value& v) {
  if (v.IsString()) return std::string_view(v.str());
  return std::nullopt;
}

template <typename T>
JsonataResult StringOutcome(lib::Outcome<T> outcome) {
  if (auto* e = std::get_if<JsonataError>(&outcome)) return std::move(*e);
  return Value::String(std::get<0>(std::move(outcome)));
}

Value StringArray(std::vector<std::string> items) {
  auto array = Array::Make();
  array->items.reserve(items.size());
  for (auto& s : items) array->items.push_back(Value::String(std::move(s)));
  return Value::Arr(array);
}

// Byte offset of UTF-16 index `index` in `text` (clamped to the text).
std::size_t ByteOffsetOfUtf16(std::string_view text, double index) {
  if (!(index > 0)) return 0;
  std::size_t units = 0;
  std::size_t i = 0;
  while (i < text.size() && static_cast<double>(units) < index) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    units += len == 4 ? 2 : 1;
    i += len;
  }
  return std::min(i, text.size());
}

// A user-defined matcher (jsonata-js's evaluateMatcher protocol): a function of the string that
// returns {match, start, end, groups, next} or undefined; next() gives the following match.
struct CustomMatch {
  Value object;
  std::string match;
  double start = 0;
  double end = 0;
  Value groups;
  Value next;
};

JsonataError MatcherStructureError() {
  return MakeJsonataError("T1010",
                          "The matcher function argument passed to function does not return the "
                          "correct object structure");
}

std::variant<std::optional<CustomMatch>, JsonataError> CallMatcher(JsonataCall& call,
                                                                   const Value& fn,
                                                                   JsonataArgs args) {
  JsonataResult result = call.Apply(fn, std::move(args));
  if (!result) return result.TakeError();
  Value& v = result.value();
  if (v.IsUndefined()) return std::optional<CustomMatch>();
  if (!v.IsObject()) return MatcherStructureError();
  const Object& o = v.object();
  const Value* start = o.Find("start");
  const Value* groups = o.Find("groups");
  const Value* next = o.Find("next");
  if (!((start != nullptr && start->IsNumber()) || (groups != nullptr && groups->IsArray()) ||
        (next != nullptr && next->IsFunction()))) {
    return MatcherStructureError();
  }
  CustomMatch m;
  m.object = v;
  if (const Value* match = o.Find("match"); match != nullptr && match->IsString()) {
    m.match = match->str();
  }
  m.start = start != nullptr && start->IsNumber() ? start->number() : 0;
  if (const Value* end = o.Find("end"); end != nullptr && end->IsNumber()) m.end = end->number();
  m.groups = groups != nullptr ? *groups : Value::Arr(Array::Make());
  if (next != nullptr) m.next = *next;
  return std::optional<CustomMatch>(std::move(m));
}

// Walks a custom matcher's matches, calling visit(match) until it returns false or an error.
template <typename Visit>
std::optional<JsonataError> WalkCustom(JsonataCall& call, const Value& matcher,
                                       const std::string& str, std::optional<double> limit,
                                       Visit&& visit) {
  auto first = CallMatcher(call, matcher, {Value::String(str)});
  if (auto* e = std::get_if<JsonataError>(&first)) return std::move(*e);
  std::optional<CustomMatch> current = std::get<0>(std::move(first));
  double count = 0;
  while (current && (!limit || count < *limit)) {
    if (auto error = visit(*current)) return error;
    ++count;
    if (!current->next.IsFunction()) break;
    auto next = CallMatcher(call, current->next, {});
    if (auto* e = std::get_if<JsonataError>(&next)) return std::move(*e);
    current = std::get<0>(std::move(next));
  }
  return std::nullopt;
}

Value ToValue(const Json& json) { return FromJson(json); }

// ---- the functions

JsonataResult FormatNumberFn(JsonataCall& /*call*/, JsonataArgs& args) {
  if (args[0].IsUndefined()) return Value();
  std::optional<Json> options;
  if (args.size() > 2 && args[2].IsObject()) options = ToJson(args[2]);
  return StringOutcome(
      lib::FormatNumber(args[0].number(), args[1].str(), options ? &*options : nullptr));
}

JsonataResult FormatBaseFn(JsonataCall& /*call*/, JsonataArgs& args) {
  if (args[0].IsUndefined()) return Value();
  return StringOutcome(lib::FormatBase(args[0].number(), OptNumber(args[1])));
}

JsonataResult FormatIntegerFn(JsonataCall& /*call*/, JsonataArgs& args) {
  if (args[0].IsUndefined()) return Value();
  return StringOutcome(lib::FormatInteger(args[0].number(), args[1].str()));
}

JsonataResult NumberOutcome(lib::Outcome<std::optional<double>> outcome) {
  if (auto* e = std::get_if<JsonataError>(&outcome)) return std::move(*e);
  const auto& v = std::get<0>(outcome);
  if (!v) return Value();
  return Value::Number(*v);
}

JsonataResult ParseIntegerFn(JsonataCall& /*call*/, JsonataArgs& args) {
  if (args[0].IsUndefined()) return Value();
  return NumberOutcome(lib::ParseInteger(args[0].str(), args[1].str()));
}

JsonataResult FromMillisFn(JsonataCall& /*call*/, JsonataArgs& args) {
  if (args[0].IsUndefined()) return Value();
  return StringOutcome(lib::FromMillis(args[0].number(), OptString(args[1]), OptString(args[2])));
}

JsonataResult ToMillisFn(JsonataCall& call, JsonataArgs& args) {
  if (args[0].IsUndefined()) return Value();
  return NumberOutcome(lib::ToMillis(args[0].str(), OptString(args[1]), call.Options().now_ms));
}

JsonataResult NowFn(JsonataCall& call, JsonataArgs& args) {
  return StringOutcome(lib::FromMillis(static_cast<double>(call.Options().now_ms),
                                       OptString(args[0]), OptString(args[1])));
}

JsonataResult MillisFn(JsonataCall& call, JsonataArgs& /*args*/) {
  return Value::Number(static_cast<double>(call.Options().now_ms));
}

JsonataResult MatchFn(JsonataCall& call, JsonataArgs& args) {
  if (args[0].IsUndefined()) return Value();
  const std::string& str = args[0].str();
  const std::optional<double> limit = OptNumber(args[2]);
  if (const lib::JsRegex* re = RegexOf(args[1])) {
    auto outcome = lib::Match(str, *re, limit);
    if (auto* e = std::get_if<JsonataError>(&outcome)) return std::move(*e);
    Value v = ToValue(std::get<0>(outcome));
    v.array_ptr()->sequence = true;  // jsonata-js's createSequence: one match is the object
    return v;
  }
  if (limit && *limit < 0) {
    return MakeJsonataError("D3040",
                            "Third argument of match function must evaluate to a positive number");
  }
  auto out = Array::MakeSequence();
  auto error = WalkCustom(call, args[1], str, limit, [&](CustomMatch& m) {
    auto object = Object::Make();
    object->Set("match", Value::String(m.match));
    object->Set("index", Value::Number(m.start));
    object->Set("groups", m.groups);
    out->items.push_back(Value::Obj(object));
    return std::optional<JsonataError>();
  });
  if (error) return std::move(*error);
  return Value::Arr(out);
}

JsonataResult ContainsFn(JsonataCall& call, JsonataArgs& args) {
  if (args[0].IsUndefined()) return Value();
  const std::string& str = args[0].str();
  if (args[1].IsString()) return Value::Bool(str.find(args[1].str()) != std::string::npos);
  if (const lib::JsRegex* re = RegexOf(args[1])) {
    auto outcome = lib::ContainsRegex(str, *re);
    if (auto* e = std::get_if<JsonataError>(&outcome)) return std::move(*e);
    return Value::Bool(std::get<0>(outcome));
  }
  auto first = CallMatcher(call, args[1], {Value::String(str)});
  if (auto* e = std::get_if<JsonataError>(&first)) return std::move(*e);
  return Value::Bool(std::get<0>(first).has_value());
}

JsonataResult SplitFn(JsonataCall& call, JsonataArgs& args) {
  if (args[0].IsUndefined()) return Value();
  const std::string& str = args[0].str();
  const std::optional<double> limit = OptNumber(args[2]);
  if (args[1].IsString()) {
    auto outcome = lib::SplitString(str, args[1].str(), limit);
    if (auto* e = std::get_if<JsonataError>(&outcome)) return std::move(*e);
    return StringArray(std::get<0>(std::move(outcome)));
  }
  if (const lib::JsRegex* re = RegexOf(args[1])) {
    auto outcome = lib::SplitRegex(str, *re, limit);
    if (auto* e = std::get_if<JsonataError>(&outcome)) return std::move(*e);
    return StringArray(std::get<0>(std::move(outcome)));
  }
  if (limit && *limit < 0) {
    return MakeJsonataError("D3020",
                            "Third argument of split function must evaluate to a positive number");
  }
  std::vector<std::string> out;
  if (limit && *limit == 0) return StringArray({});
  std::size_t start = 0;
  double count = 0;
  bool any = false;
  auto error = WalkCustom(call, args[1], str, limit, [&](CustomMatch& m) {
    any = true;
    const std::size_t at = ByteOffsetOfUtf16(str, m.start);
    out.push_back(start <= at ? str.substr(start, at - start) : std::string());
    start = ByteOffsetOfUtf16(str, m.end);
    ++count;
    return std::optional<JsonataError>();
  });
  if (error) return std::move(*error);
  if (!any) {
    out.push_back(str);
  } else if (!limit || count < *limit) {
    out.push_back(str.substr(std::min(start, str.size())));
  }
  return StringArray(std::move(out));
}

JsonataResult ReplaceFn(JsonataCall& call, JsonataArgs& args) {
  if (args[0].IsUndefined()) return Value();
  const std::string& str = args[0].str();
  const std::optional<double> limit = OptNumber(args[3]);
  if (args[1].IsString()) {
    if (args[1].str().empty()) {
      return MakeJsonataError("D3010",
                              "Second argument of replace function cannot be an empty string");
    }
    if (!args[2].IsString()) {
      // A function replacement with a string pattern: jsonata-js inserts the function's text.
      return MakeJsonataError("D3012",
                              "Attempted to replace a matched string with a non-string value");
    }
    return StringOutcome(lib::ReplaceString(str, args[1].str(), args[2].str(), limit));
  }
  const Value replacement = args[2];
  lib::Replacer replacer =
      [&call, &replacement](const Json& match_object) -> lib::Outcome<std::optional<std::string>> {
    JsonataResult r = call.Apply(replacement, {FromJson(match_object)});
    if (!r) return r.TakeError();
    if (!r.value().IsString()) return std::optional<std::string>();
    return std::optional<std::string>(r.value().str());
  };
  if (const lib::JsRegex* re = RegexOf(args[1])) {
    if (replacement.IsString()) {
      return StringOutcome(lib::ReplaceRegex(str, *re, replacement.str(), limit));
    }
    return StringOutcome(lib::ReplaceRegexWith(str, *re, replacer, limit));
  }
  if (limit && *limit < 0) {
    return MakeJsonataError("D3011",
                            "Fourth argument of replace function must evaluate to a positive "
                            "number");
  }
  std::string out;
  std::size_t position = 0;
  auto error =
      WalkCustom(call, args[1], str, limit, [&](CustomMatch& m) -> std::optional<JsonataError> {
        const std::size_t at = ByteOffsetOfUtf16(str, m.start);
        if (at >= position) out.append(str, position, at - position);
        std::optional<std::string> with;
        if (replacement.IsString()) {
          with = replacement.str();  // $n substitution needs groups as strings: keep it literal
        } else {
          JsonataResult r = call.Apply(replacement, {m.object});
          if (!r) return r.TakeError();
          if (r.value().IsString()) with = r.value().str();
        }
        if (!with) {
          return MakeJsonataError("D3012",
                                  "Attempted to replace a matched string with a non-string value");
        }
        out += *with;
        position = at + m.match.size();
        return std::nullopt;
      });
  if (error) return std::move(*error);
  if (position < str.size()) out.append(str, position);
  return Value::String(std::move(out));
}

JsonataResult Base64EncodeFn(JsonataCall& /*call*/, JsonataArgs& args) {
  if (args[0].IsUndefined()) return Value();
  return Value::String(lib::Base64Encode(args[0].str()));
}

JsonataResult Base64DecodeFn(JsonataCall& /*call*/, JsonataArgs& args) {
  if (args[0].IsUndefined()) return Value();
  return Value::String(lib::Base64Decode(args[0].str()));
}

template <lib::Outcome<std::string> (*F)(std::string_view)>
JsonataResult UrlFn(JsonataCall& /*call*/, JsonataArgs& args) {
  if (args[0].IsUndefined()) return Value();
  return StringOutcome(F(args[0].str()));
}

JsonataResult HashFn(JsonataCall& /*call*/, JsonataArgs& args) {
  if (args[0].IsUndefined()) return Value();
  return StringOutcome(lib::Hash(args[0].str(), args[1].IsString() ? args[1].str() : ""));
}

class CallRandom : public RandomSource {
 public:
  explicit CallRandom(JsonataCall& call) : call_(call) {}
  uint64_t NextU64() override { return call_.RandomBits(); }

 private:
  JsonataCall& call_;
};

JsonataResult RandomFn(JsonataCall& call, JsonataArgs& args) {
  if (!args.empty() && args[0].IsNumber()) {
    const double seed = std::trunc(args[0].number());
    if (std::isfinite(seed) && std::fabs(seed) < 9.2e18) {
      return Value::Number(lib::RandomSeeded(static_cast<int64_t>(seed)));
    }
  }
  CallRandom random(call);
  return Value::Number(lib::RandomFrom(random));
}

JsonataResult UuidFn(JsonataCall& call, JsonataArgs& /*args*/) {
  CallRandom random(call);
  return Value::String(lib::UuidFrom(random));
}

}  // namespace

void RegisterJsonataLibrary(JsonataBuiltinTable& table) {
  table.Add("formatNumber", "<n-so?:s>", FormatNumberFn);
  table.Add("formatBase", "<n-n?:s>", FormatBaseFn);
  table.Add("formatInteger", "<n-s:s>", FormatIntegerFn);
  table.Add("parseInteger", "<s-s:n>", ParseIntegerFn);
  table.Add("fromMillis", "<n-s?s?:s>", FromMillisFn);
  table.Add("toMillis", "<s-s?:n>", ToMillisFn);
  table.Add("now", "<s?s?:s>", NowFn);
  table.Add("millis", "<:n>", MillisFn);
  table.Add("match", "<s-f<s:o>n?:a<o>>", MatchFn);
  table.Add("contains", "<s-(sf):b>", ContainsFn);
  table.Add("replace", "<s-(sf)(sf)n?:s>", ReplaceFn);
  table.Add("split", "<s-(sf)n?:a<s>>", SplitFn);
  table.Add("base64encode", "<s-:s>", Base64EncodeFn);
  table.Add("base64decode", "<s-:s>", Base64DecodeFn);
  table.Add("encodeUrlComponent", "<s-:s>", UrlFn<lib::EncodeUrlComponent>);
  table.Add("encodeUrl", "<s-:s>", UrlFn<lib::EncodeUrl>);
  table.Add("decodeUrlComponent", "<s-:s>", UrlFn<lib::DecodeUrlComponent>);
  table.Add("decodeUrl", "<s-:s>", UrlFn<lib::DecodeUrl>);
  // AWS Step Functions' additions.
  table.Add("hash", "<s-s:s>", HashFn);
  table.Add("random", "<n?:n>", RandomFn);
  table.Add("uuid", "<:s>", UuidFn);
}

std::variant<std::shared_ptr<const JsonataRegex>, JsonataError> CompileJsonataRegex(
    std::string_view pattern, std::string_view flags) {
  auto compiled = lib::JsRegex::Compile(pattern, flags);
  if (auto* e = std::get_if<JsonataError>(&compiled)) return std::move(*e);
  return std::shared_ptr<const JsonataRegex>(
      std::make_shared<RegexHolder>(std::get<0>(std::move(compiled))));
}

}  // namespace switchyard::asl::jsonata
