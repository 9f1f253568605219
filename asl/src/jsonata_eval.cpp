// The JSONata evaluator: jsonata-js 2.0.6's evaluate() over the parser's AST (jsonata.hpp), with
// its sequences, tuple streams, signatures, tail calls and errors. Native recursion follows the
// expression's nesting and is bounded by JsonataOptions::max_depth (U1001 past it), as jsonata-js's
// own depth guard bounds evaluate().
#include "switchyard/asl/jsonata_eval.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "jsonata_internal.hpp"

namespace switchyard::asl {

namespace jsonata {

// ---- Value --------------------------------------------------------------------------------

Value Value::String(std::string s) {
  Value v(ValueKind::kString);
  v.ptr_ = std::make_shared<std::string>(std::move(s));
  return v;
}
Value Value::String(std::shared_ptr<const std::string> s) {
  Value v(ValueKind::kString);
  v.ptr_ = std::const_pointer_cast<std::string>(std::move(s));
  return v;
}
Value Value::Arr(std::shared_ptr<Array> a) {
  Value v(ValueKind::kArray);
  v.ptr_ = std::move(a);
  return v;
}
Value Value::Obj(std::shared_ptr<Object> o) {
  Value v(ValueKind::kObject);
  v.ptr_ = std::move(o);
  return v;
}
Value Value::Fn(std::shared_ptr<Function> f) {
  Value v(ValueKind::kFunction);
  v.ptr_ = std::move(f);
  return v;
}

constexpr std::size_t kIndexFrom = 12;

void Object::BuildIndex() const {
  index_.clear();
  index_.reserve(members.size());
  for (std::size_t i = 0; i < members.size(); ++i) index_.emplace(members[i].first, i);
}

const Value* Object::Find(std::string_view key) const {
  if (members.size() < kIndexFrom) {
    for (const auto& [k, v] : members) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  if (index_.size() != members.size()) BuildIndex();
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &members[it->second].second;
}

void Object::Set(std::string_view key, Value value) {
  if (Value* existing = const_cast<Value*>(Find(key))) {
    *existing = std::move(value);
    return;
  }
  // A push that reallocates moves the strings the index points into: then drop the index (it is
  // rebuilt on the next Find, once per growth of the vector); else keep it up to date, so building
  // a large object member by member stays linear.
  const bool keep_index = !index_.empty() && members.size() < members.capacity();
  if (!keep_index) index_.clear();
  members.emplace_back(std::string(key), std::move(value));
  if (keep_index) index_.emplace(members.back().first, members.size() - 1);
}

bool Object::Erase(std::string_view key) {
  for (auto it = members.begin(); it != members.end(); ++it) {
    if (it->first == key) {
      members.erase(it);
      index_.clear();
      return true;
    }
  }
  return false;
}

void JsonataBuiltinTable::Add(std::string name, std::string signature, JsonataNativeFn fn) {
  entries_.push_back(Entry{std::move(name), std::move(signature), std::move(fn)});
}

// ---- Numbers and strings ------------------------------------------------------------------

std::string NumberToString(double number) {
  if (std::isnan(number)) return "NaN";
  if (std::isinf(number)) return number > 0 ? "Infinity" : "-Infinity";
  if (number == 0) return "0";
  // Shortest round-trip digits, then ECMAScript's Number::toString layout.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, number, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool negative = false;
  std::size_t p = 0;
  if (sci[0] == '-') {
    negative = true;
    p = 1;
  }
  std::string digits;
  std::size_t e_pos = sci.find('e');
  for (std::size_t i = p; i < e_pos; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  int exponent = std::atoi(sci.c_str() + e_pos + 1);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;
  std::string out = negative ? "-" : "";
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
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += (n - 1 >= 0) ? "+" : "-";
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

std::size_t CodePointLength(std::string_view utf8) {
  std::size_t n = 0;
  for (char c : utf8) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

namespace {

// Number(n.toPrecision(15)), as $string writes numbers.
double Precision15(double d) {
  if (!std::isfinite(d)) return d;
  char buf[64];
  const std::to_chars_result r =
      std::to_chars(buf, buf + sizeof buf - 1, d, std::chars_format::scientific, 14);
  *r.ptr = '\0';
  return std::strtod(buf, nullptr);
}

void AppendStringified(std::string& out, const Value& value, bool precision15, int indent,
                       int level, bool in_array);
thread_local bool t_non_finite = false;  // $string met Infinity/NaN inside a structure

void Newline(std::string& out, int indent, int level) {
  out += '\n';
  out.append(static_cast<std::size_t>(indent * level), ' ');
}

bool Omitted(const Value& v) { return v.IsUndefined() || v.IsFunction(); }

void AppendStringified(std::string& out, const Value& value, bool precision15, int indent,
                       int level, bool in_array) {
  if (level > 2000) {
    out += "null";
    return;
  }
  switch (value.kind()) {
    case ValueKind::kUndefined:
      out += in_array ? "null" : "";
      return;
    case ValueKind::kFunction:
      // $string's replacer turns functions into "" (JSON.stringify alone drops them).
      if (precision15) {
        out += "\"\"";
      } else {
        out += in_array ? "null" : "";
      }
      return;
    case ValueKind::kNull:
      out += "null";
      return;
    case ValueKind::kBool:
      out += value.boolean() ? "true" : "false";
      return;
    case ValueKind::kNumber: {
      double d = value.number();
      if (!std::isfinite(d)) {
        if (precision15 && std::isinf(d)) t_non_finite = true;
        out += "null";
        return;
      }
      out += NumberToString(precision15 ? Precision15(d) : d);
      return;
    }
    case ValueKind::kString:
      AppendJsonString(out, value.sv());
      return;
    case ValueKind::kArray: {
      const auto& items = value.array().items;
      out += '[';
      bool first = true;
      for (const Value& item : items) {
        if (!first) out += ',';
        first = false;
        if (indent) Newline(out, indent, level + 1);
        AppendStringified(out, item, precision15, indent, level + 1, true);
      }
      if (indent && !items.empty()) Newline(out, indent, level);
      out += ']';
      return;
    }
    case ValueKind::kObject: {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : value.object().members) {
        if (v.IsUndefined() || (v.IsFunction() && !precision15)) continue;
        if (!first) out += ',';
        first = false;
        if (indent) Newline(out, indent, level + 1);
        AppendJsonString(out, k);
        out += indent ? ": " : ":";
        AppendStringified(out, v, precision15, indent, level + 1, false);
      }
      if (indent && !first) Newline(out, indent, level);
      out += '}';
      return;
    }
  }
}

}  // namespace

std::string Stringify(const Value& value) {
  if (Omitted(value)) return "undefined";
  std::string out;
  AppendStringified(out, value, false, 0, 0, false);
  return out;
}

JsonataResult StringOf(const Value& value, bool prettify) {
  if (value.IsUndefined()) return Value();
  if (value.IsString()) return value;
  if (value.IsFunction()) return Value::String("");
  if (value.IsNumber() && !std::isfinite(value.number())) {
    return MakeJsonataError("D3001", "Attempting to invoke string function on Infinity or NaN");
  }
  const Value* v = &value;
  if (value.IsArray() && FlagsOf(value).outer_wrapper && !value.array().items.empty()) {
    v = &value.array().items[0];
  }
  std::string out;
  t_non_finite = false;
  AppendStringified(out, *v, true, prettify ? 2 : 0, 0, false);
  if (t_non_finite) {
    t_non_finite = false;
    return MakeJsonataError("D1001", "Number out of range: null");
  }
  return Value::String(std::move(out));
}

Value BooleanOf(const Value& value) {
  switch (value.kind()) {
    case ValueKind::kUndefined:
      return Value();
    case ValueKind::kNull:
      return Value::Bool(false);
    case ValueKind::kBool:
      return value;
    case ValueKind::kNumber:
      return Value::Bool(value.number() != 0 && !std::isnan(value.number()));
    case ValueKind::kString:
      return Value::Bool(!value.sv().empty());
    case ValueKind::kObject:
      return Value::Bool(value.object().size() > 0);
    case ValueKind::kFunction:
      // jsonata-js: a lambda or builtin is an object with keys (true); a regex is a JS function.
      return Value::Bool(value.function().kind != Function::Kind::kRegex);
    case ValueKind::kArray: {
      const auto& items = value.array().items;
      if (items.size() == 1) return BooleanOf(items[0]);
      for (const Value& item : items) {
        Value b = BooleanOf(item);
        if (b.IsBool() && b.boolean()) return Value::Bool(true);
      }
      return Value::Bool(false);
    }
  }
  return Value();
}

Value BooleanOfArg(const Value& value) {
  // Builtins receive functions wrapped in a JS closure, which fn.boolean counts as false.
  if (value.IsFunction()) return Value::Bool(false);
  if (value.IsArray()) {
    const auto& items = value.array().items;
    if (items.size() == 1) return BooleanOfArg(items[0]);
    for (const Value& item : items) {
      Value b = BooleanOfArg(item);
      if (b.IsBool() && b.boolean()) return Value::Bool(true);
    }
    return Value::Bool(items.empty() ? false : false);
  }
  return BooleanOf(value);
}

namespace {
bool DeepEqualAt(const Value& a, const Value& b, int depth) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case ValueKind::kUndefined:
    case ValueKind::kNull:
      return true;
    case ValueKind::kBool:
      return a.boolean() == b.boolean();
    case ValueKind::kNumber:
      return a.number() == b.number();
    case ValueKind::kString:
      return a.sv() == b.sv();
    case ValueKind::kFunction:
      return a.identity() == b.identity();
    case ValueKind::kArray: {
      if (a.identity() == b.identity()) return true;
      if (depth > 2000) return false;
      const auto& x = a.array().items;
      const auto& y = b.array().items;
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!DeepEqualAt(x[i], y[i], depth + 1)) return false;
      }
      return true;
    }
    case ValueKind::kObject: {
      if (a.identity() == b.identity()) return true;
      if (depth > 2000) return false;
      const Object& x = a.object();
      const Object& y = b.object();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.members) {
        const Value* w = y.Find(k);
        if (w == nullptr || !DeepEqualAt(v, *w, depth + 1)) return false;
      }
      return true;
    }
  }
  return false;
}
}  // namespace

bool DeepEqual(const Value& a, const Value& b) { return DeepEqualAt(a, b, 0); }

// ---- JSON conversion ----------------------------------------------------------------------

Value ScalarFromJson(const Json& json) {
  if (json.IsNull()) return Value::Null();
  if (json.IsBool()) return Value::Bool(json.GetBool());
  if (json.IsNumber()) return Value::Number(json.GetDouble());
  if (json.IsString()) return Value::String(std::string(json.GetString(), json.GetStringLength()));
  return Value();
}

Value FromJson(const Json& json) {
  if (!json.IsArray() && !json.IsObject()) return ScalarFromJson(json);
  // Iterative: a work stack of (json container, value container) pairs.
  struct Work {
    const Json* json;
    Array* array;
    Object* object;
  };
  std::vector<Work> stack;
  auto make = [&stack](const Json& j) -> Value {
    if (j.IsArray()) {
      auto a = Array::Make();
      a->items.reserve(j.Size());
      stack.push_back({&j, a.get(), nullptr});
      return Value::Arr(std::move(a));
    }
    if (j.IsObject()) {
      auto o = Object::Make();
      o->members.reserve(j.MemberCount());
      stack.push_back({&j, nullptr, o.get()});
      return Value::Obj(std::move(o));
    }
    return ScalarFromJson(j);
  };
  Value root = make(json);
  while (!stack.empty()) {
    Work w = stack.back();
    stack.pop_back();
    if (w.array != nullptr) {
      for (const Json& item : w.json->GetArray()) w.array->items.push_back(make(item));
    } else {
      for (const auto& m : w.json->GetObject()) {
        std::string_view key(m.name.GetString(), m.name.GetStringLength());
        // JSON with duplicate keys: the last wins, as JSON.parse does.
        w.object->Set(key, make(m.value));
      }
    }
  }
  return root;
}

namespace {
// Containers whose last reference is being dropped, freed one at a time (no recursion).
thread_local std::vector<Value>* t_graveyard = nullptr;

void Bury(Value& v) {
  if ((v.IsArray() || v.IsObject() || v.IsFunction()) && v.use_count() == 1) {
    t_graveyard->push_back(std::move(v));
  }
}

template <class F>
void DrainGraveyard(F bury_children) {
  if (t_graveyard != nullptr) {
    bury_children();
    return;
  }
  std::vector<Value> graveyard;
  t_graveyard = &graveyard;
  bury_children();
  while (!graveyard.empty()) {
    Value v = std::move(graveyard.back());
    graveyard.pop_back();
  }  // each destruction buries its own children here
  t_graveyard = nullptr;
}
}  // namespace

Array::~Array() {
  if (items.empty()) return;
  DrainGraveyard([this] {
    for (Value& v : items) Bury(v);
  });
}

Object::~Object() {
  if (members.empty()) return;
  DrainGraveyard([this] {
    for (auto& m : members) Bury(m.second);
  });
}

Value Value::Borrow(const Json& json) {
  if (json.IsArray() || json.IsObject() || json.IsString()) {
    Value v(json.IsArray()    ? ValueKind::kArray
            : json.IsObject() ? ValueKind::kObject
                              : ValueKind::kString);
    v.json_ = &json;
    return v;
  }
  return ScalarFromJson(json);
}

void Value::Build() const {
  if (kind_ == ValueKind::kString) {
    ptr_ = std::make_shared<std::string>(json_->GetString(), json_->GetStringLength());
  } else if (kind_ == ValueKind::kArray) {
    auto a = Array::Make();
    a->items.reserve(json_->Size());
    for (const Json& item : json_->GetArray()) a->items.push_back(Borrow(item));
    ptr_ = std::move(a);
  } else {
    auto o = Object::Make();
    o->members.reserve(json_->MemberCount());
    for (const auto& m : json_->GetObject()) {
      // JSON with duplicate keys: the last wins, as JSON.parse does.
      o->Set(std::string_view(m.name.GetString(), m.name.GetStringLength()), Borrow(m.value));
    }
    ptr_ = std::move(o);
  }
}

Value FromJsonBorrowed(const Json& json) { return Value::Borrow(json); }

namespace {
// Results deeper than this are refused (AWS's own JSON limit is 1000 levels); the walk stays
// well inside any thread's stack.
constexpr int kMaxResultDepth = 1100;
thread_local bool t_too_deep = false;

std::optional<Json> ToJsonAt(const Value& value, int depth, bool in_array);

// A borrowed container not built into values: converted from the Json itself, as ToJsonAt would
// convert the values built from it (numbers as jsonata numbers, duplicate keys: the last wins).
Json ToJsonBorrowed(const Json& json, int depth) {
  if (!json.IsArray() && !json.IsObject()) {
    std::optional<Json> j = ToJsonAt(ScalarFromJson(json), depth, true);
    return j ? std::move(*j) : JsonNull();
  }
  if (depth > kMaxResultDepth) {
    t_too_deep = true;
    return json.IsArray() ? JsonArray() : JsonObject();
  }
  if (json.IsArray()) {
    Json out = JsonArray();
    out.Reserve(json.Size(), Alloc());
    for (const Json& item : json.GetArray()) JsonPush(out, ToJsonBorrowed(item, depth + 1));
    return out;
  }
  Json out = JsonObject();
  std::unordered_map<std::string_view, rapidjson::SizeType> seen;  // large objects only
  const bool large = json.MemberCount() > 16;
  for (const auto& m : json.GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    Json member = ToJsonBorrowed(m.value, depth + 1);
    Json* existing = nullptr;
    if (large) {
      auto [it, added] = seen.emplace(key, out.MemberCount());
      if (!added) existing = &(out.MemberBegin() + it->second)->value;
    } else if (auto found = out.FindMember(m.name); found != out.MemberEnd()) {
      existing = &found->value;
    }
    if (existing != nullptr) {
      *existing = std::move(member);
    } else {
      out.AddMember(JsonString(key), std::move(member), Alloc());
    }
  }
  return out;
}

std::optional<Json> ToJsonAt(const Value& value, int depth, bool in_array) {
  if (const Json* json = value.borrowed(); json != nullptr && value.use_count() == 0) {
    return ToJsonBorrowed(*json, depth);
  }
  switch (value.kind()) {
    case ValueKind::kUndefined:
    case ValueKind::kFunction:
      if (in_array) return JsonNull();
      return std::nullopt;
    case ValueKind::kNull:
      return JsonNull();
    case ValueKind::kBool:
      return JsonBool(value.boolean());
    case ValueKind::kNumber: {
      double d = value.number();
      if (!std::isfinite(d)) return JsonNull();
      if (d == std::floor(d) && std::fabs(d) < 9.007199254740992e15) {
        return JsonInt(static_cast<int64_t>(d));
      }
      return JsonDouble(d);
    }
    case ValueKind::kString:
      return JsonString(value.sv());
    case ValueKind::kArray: {
      Json out = JsonArray();
      if (depth > kMaxResultDepth) {
        t_too_deep = true;
        return out;
      }
      for (const Value& item : value.array().items) {
        std::optional<Json> j = ToJsonAt(item, depth + 1, true);
        JsonPush(out, j ? std::move(*j) : JsonNull());
      }
      return out;
    }
    case ValueKind::kObject: {
      Json out = JsonObject();
      if (depth > kMaxResultDepth) {
        t_too_deep = true;
        return out;
      }
      for (const auto& [k, v] : value.object().members) {
        std::optional<Json> j = ToJsonAt(v, depth + 1, false);
        if (j) out.AddMember(JsonString(k), std::move(*j), Alloc());
      }
      return out;
    }
  }
  return std::nullopt;
}
}  // namespace

std::optional<Json> ToJson(const Value& value) {
  t_too_deep = false;
  std::optional<Json> out = ToJsonAt(value, 0, false);
  if (t_too_deep) {
    t_too_deep = false;
    if (out) DestroyJson(*out);
    return JsonNull();
  }
  return out;
}

bool ResultTooDeep(const Value& value) {
  // The nesting of a result, counted without recursion, up to kMaxResultDepth + 1.
  if (!value.IsArray() && !value.IsObject()) return false;
  std::vector<std::pair<const Value*, int>> stack{{&value, 0}};
  while (!stack.empty()) {
    auto [v, d] = stack.back();
    stack.pop_back();
    if (d > kMaxResultDepth) return true;
    if (const Json* json = v->borrowed(); json != nullptr && v->use_count() == 0) {
      // Input not built into values: measure the Json itself.
      if (d + JsonNestingDepth(*json, kMaxResultDepth + 1) - 1 > kMaxResultDepth) return true;
    } else if (v->IsArray()) {
      for (const Value& item : v->array().items) {
        if (item.IsArray() || item.IsObject()) stack.push_back({&item, d + 1});
      }
    } else if (v->IsObject()) {
      for (const auto& m : v->object().members) {
        if (m.second.IsArray() || m.second.IsObject()) stack.push_back({&m.second, d + 1});
      }
    }
  }
  return false;
}

namespace {
Value CloneAt(const Value& value, int depth) {
  if (depth > 2000) return Value::Null();
  switch (value.kind()) {
    case ValueKind::kNumber:
      return std::isfinite(value.number()) ? Value::Number(Precision15(value.number()))
                                           : Value::Null();
    case ValueKind::kFunction:
      return Value::String("");
    case ValueKind::kArray: {
      auto a = Array::Make();
      for (const Value& item : value.array().items) {
        a->items.push_back(item.IsUndefined() ? Value::Null() : CloneAt(item, depth + 1));
      }
      return Value::Arr(std::move(a));
    }
    case ValueKind::kObject: {
      auto o = Object::Make();
      o->members.reserve(value.object().size());
      for (const auto& [k, v] : value.object().members) {
        if (!v.IsUndefined()) o->members.emplace_back(k, CloneAt(v, depth + 1));
      }
      return Value::Obj(std::move(o));
    }
    default:
      return value;
  }
}
}  // namespace

// JSON.parse($string(value)): numbers to 15 digits, functions to "", undefined members dropped.
Value CloneValue(const Value& value) { return CloneAt(value, 0); }

// ---- Signatures ---------------------------------------------------------------------------

namespace {
char SymbolOf(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kFunction:
      return 'f';
    case ValueKind::kString:
      return 's';
    case ValueKind::kNumber:
      return 'n';
    case ValueKind::kBool:
      return 'b';
    case ValueKind::kNull:
      return 'l';
    case ValueKind::kArray:
      return 'a';
    case ValueKind::kObject:
      return 'o';
    case ValueKind::kUndefined:
      return 'm';
  }
  return 'm';
}

std::size_t ClosingBracket(std::string_view s, std::size_t start, char open, char close) {
  int depth = 1;
  std::size_t p = start;
  while (p < s.size()) {
    ++p;
    if (p >= s.size()) break;
    if (s[p] == close) {
      if (--depth == 0) break;
    } else if (s[p] == open) {
      ++depth;
    }
  }
  return p;
}

// Greedy backtracking match of params[from..to) against symbols[pos..], like the JS regex
// jsonata-js builds. Returns the end of the first match or npos; `caps` gets each param's span.
constexpr std::size_t kNoMatch = static_cast<std::size_t>(-1);

std::size_t MatchParams(const std::vector<Signature::Param>& params, std::size_t i, std::size_t to,
                        std::string_view sym, std::size_t pos, bool anchored,
                        std::vector<std::pair<std::size_t, std::size_t>>* caps) {
  if (i == to) return (!anchored || pos == sym.size()) ? pos : kNoMatch;
  const Signature::Param& p = params[i];
  std::size_t max_n = 0;
  while (pos + max_n < sym.size() && p.set.find(sym[pos + max_n]) != std::string::npos &&
         (p.repeat || max_n < 1)) {
    ++max_n;
  }
  const std::size_t min_n = p.optional ? 0 : 1;
  for (std::size_t n = max_n + 1; n-- > min_n;) {
    std::size_t end = MatchParams(params, i + 1, to, sym, pos + n, anchored, caps);
    if (end != kNoMatch) {
      if (caps != nullptr) (*caps)[i] = {pos, n};
      return end;
    }
    if (n == 0) break;
  }
  return kNoMatch;
}
}  // namespace

bool Signature::Parse(std::string_view sig, Signature& out, JsonataError* error) {
  out.params_.clear();
  Param param;
  Param* prev = nullptr;
  auto next = [&] {
    out.params_.push_back(param);
    prev = &out.params_.back();
    param = Param{};
  };
  for (std::size_t pos = 1; pos < sig.size(); ++pos) {
    char symbol = sig[pos];
    if (symbol == ':') break;
    switch (symbol) {
      case 's':
      case 'n':
      case 'b':
      case 'l':
      case 'o':
        param.set = std::string(1, symbol) + "m";
        param.type = symbol;
        next();
        break;
      case 'a':
        param.set = "asnblfom";
        param.type = 'a';
        next();
        break;
      case 'f':
        param.set = "f";
        param.type = 'f';
        next();
        break;
      case 'j':
        param.set = "asnblom";
        param.type = 'j';
        next();
        break;
      case 'x':
        param.set = "asnblfom";
        param.type = 'x';
        next();
        break;
      case '-':
        if (prev) {
          prev->context = true;
          prev->optional = true;
        }
        break;
      case '?':
        if (prev) prev->optional = true;
        break;
      case '+':
        if (prev) prev->repeat = true;
        break;
      case '(': {
        std::size_t end = ClosingBracket(sig, pos, '(', ')');
        std::string choice(sig.substr(pos + 1, end - pos - 1));
        if (choice.find('<') != std::string::npos) {
          if (error) {
            *error = JsonataError{"S0402", pos, "",
                                  "Choice groups containing parameterized types are not supported"};
          }
          return false;
        }
        param.set = choice + "m";
        param.type = '(';
        pos = end;
        next();
        break;
      }
      case '<': {
        if (prev && (prev->type == 'a' || prev->type == 'f')) {
          std::size_t end = ClosingBracket(sig, pos, '<', '>');
          prev->subtype = std::string(sig.substr(pos + 1, end - pos - 1));
          pos = end;
        } else {
          if (error) {
            *error = JsonataError{"S0401", pos, "",
                                  "Type parameters can only be applied to functions and arrays"};
          }
          return false;
        }
        break;
      }
      default:
        break;
    }
  }
  return true;
}

namespace {
const char* PluralOf(char type) {
  switch (type) {
    case 'a':
      return "arrays";
    case 'b':
      return "booleans";
    case 'f':
      return "functions";
    case 'n':
      return "numbers";
    case 'o':
      return "objects";
    case 's':
      return "strings";
  }
  return "undefined";
}
}  // namespace

JsonataResult Signature::Validate(JsonataArgs& args, const Value& context, JsonataArgs& out) const {
  std::string sym;
  sym.reserve(args.size());
  for (const Value& a : args) sym += SymbolOf(a);
  std::vector<std::pair<std::size_t, std::size_t>> caps(params_.size());
  const bool matched = params_.size() <= 256 &&
                       MatchParams(params_, 0, params_.size(), sym, 0, true, &caps) != kNoMatch;
  if (!matched) {
    std::size_t good_to = 0;
    for (std::size_t k = 0; k < params_.size() && k <= 256; ++k) {
      std::size_t end = MatchParams(params_, 0, k + 1, sym, 0, false, nullptr);
      if (end == kNoMatch) break;
      good_to = end;
    }
    JsonataError e{"T0410", std::nullopt, "",
                   "Argument " + std::to_string(good_to + 1) +
                       " of function {{token}} does not match function signature"};
    return e;
  }
  out.clear();
  out.reserve(params_.size());
  std::size_t arg_index = 0;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Param& p = params_[i];
    auto [start, len] = caps[i];
    if (len == 0) {
      if (p.context) {
        char ct = SymbolOf(context);
        if (p.set.find(ct) != std::string::npos) {
          out.push_back(context);
        } else {
          return JsonataError{"T0411", std::nullopt, "",
                              "Context value is not a compatible type with argument " +
                                  std::to_string(arg_index + 1) + " of function {{token}}"};
        }
      } else {
        out.push_back(arg_index < args.size() ? args[arg_index] : Value());
        ++arg_index;
      }
      continue;
    }
    for (std::size_t s = 0; s < len; ++s) {
      char single = sym[start + s];
      if (p.type == 'a') {
        if (single == 'm') {
          out.push_back(Value());
        } else {
          Value arg = args[arg_index];
          bool ok = true;
          if (!p.subtype.empty()) {
            if (single != 'a' && std::string_view(sym).substr(start, len) != p.subtype) {
              ok = false;
            } else if (single == 'a') {
              const auto& items = arg.array().items;
              if (!items.empty()) {
                char item_type = SymbolOf(items[0]);
                if (item_type != p.subtype[0]) {
                  ok = false;
                } else {
                  for (const Value& item : items) {
                    if (SymbolOf(item) != item_type) {
                      ok = false;
                      break;
                    }
                  }
                }
              }
            }
          }
          if (!ok) {
            return JsonataError{"T0412", std::nullopt, "",
                                "Argument " + std::to_string(arg_index + 1) +
                                    " of function {{token}} must be an array of " +
                                    PluralOf(p.subtype[0])};
          }
          if (single != 'a') {
            auto wrapped = Array::Make();
            wrapped->items.push_back(std::move(arg));
            arg = Value::Arr(std::move(wrapped));
          }
          out.push_back(std::move(arg));
        }
        ++arg_index;
      } else {
        out.push_back(args[arg_index]);
        ++arg_index;
      }
    }
  }
  return Value();
}

}  // namespace jsonata

// ---- The evaluator --------------------------------------------------------------------------

using jsonata::Array;
using jsonata::Env;
using jsonata::EnvPtr;
using jsonata::Function;
using jsonata::JsonataArgs;
using jsonata::JsonataResult;
using jsonata::Object;
using jsonata::Signature;
using jsonata::Value;
using jsonata::ValueKind;
using Kind = JsonataNodeKind;

struct JsonataExpression::Impl {
  std::string text;
  JsonataNode root;
  // Lambda signatures and regex literals, compiled once.
  std::unordered_map<const JsonataNode*, Signature> signatures;
  std::unordered_map<const JsonataNode*, JsonataError> signature_errors;
  std::unordered_map<const JsonataNode*, std::shared_ptr<const jsonata::JsonataRegex>> regexes;
  std::unordered_map<const JsonataNode*, JsonataError> regex_errors;
};

namespace {

struct LambdaImpl {
  const JsonataNode* body = nullptr;
  std::vector<std::string_view> params;
  const Signature* signature = nullptr;
  Value input;
  EnvPtr env;
  bool thunk = false;  // body is a function call to make in env (a tail call)
};

struct PartialImpl {
  Value target;
  std::vector<Value> args;
  std::vector<std::size_t> holes;
};

struct ChainImpl {
  Value first, second;
};

struct TransformImpl {
  const JsonataNode* node = nullptr;
  EnvPtr env;
};

template <class T>
const T& ImplOf(const Function& f) {
  return *static_cast<const T*>(f.impl.get());
}

Value MakeFunction(Function::Kind kind, std::shared_ptr<const void> impl, std::string name = "") {
  auto f = std::make_shared<Function>();
  f->kind = kind;
  f->impl = std::move(impl);
  f->name = std::move(name);
  return Value::Fn(std::move(f));
}

JsonataError Error(std::string code, std::string message, std::optional<std::size_t> position = {},
                   std::string token = "") {
  return JsonataError{std::move(code), position, std::move(token), std::move(message)};
}

#define JTRY(var, expr)                                    \
  JsonataResult var##_result = (expr);                     \
  if (!var##_result.ok()) return var##_result.TakeError(); \
  Value var = std::move(var##_result.value())

const char kStackOverflow[] =
    "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as "
    "tail-recursive.";
const char kTimeout[] = "Expression evaluation timeout: Check for infinite loop";

std::shared_ptr<Array> MutArray(const Value& v) { return v.array_ptr(); }

Value SingletonSequence(Value v) {
  auto s = Array::MakeSequence();
  s->items.push_back(std::move(v));
  return Value::Arr(std::move(s));
}

// fn.append
Value Append(const Value& a, const Value& b) {
  if (a.IsUndefined()) return b;
  if (b.IsUndefined()) return a;
  auto out = Array::Make();
  if (a.IsArray()) {
    out->items = a.array().items;
    out->sequence = FlagsOf(a).sequence;
  } else {
    out->sequence = true;
    out->items.push_back(a);
  }
  if (b.IsArray()) {
    out->items.insert(out->items.end(), b.array().items.begin(), b.array().items.end());
  } else {
    out->items.push_back(b);
  }
  return Value::Arr(std::move(out));
}

// fn.lookup
Value Lookup(const Value& input, std::string_view key) {
  if (input.IsArray()) {
    auto out = Array::MakeSequence();
    const std::size_t n = input.ArraySize();
    for (std::size_t i = 0; i < n; ++i) {
      Value r = Lookup(input.ItemAt(i), key);
      if (r.IsUndefined()) continue;
      if (r.IsArray()) {
        const std::size_t size = r.ArraySize();
        for (std::size_t j = 0; j < size; ++j) out->items.push_back(r.ItemAt(j));
      } else {
        out->items.push_back(std::move(r));
      }
    }
    return Value::Arr(std::move(out));
  }
  if (input.IsObject()) return input.Member(key);
  return Value();
}

bool IsNumeric(const Value& v, JsonataError* error) {
  if (!v.IsNumber()) return false;
  double d = v.number();
  if (std::isnan(d)) return false;
  if (std::isinf(d)) {
    if (error) *error = Error("D1001", "Number out of range: " + jsonata::Stringify(v));
    return false;
  }
  return true;
}

bool IsInteger(double d) { return std::isfinite(d) && d == std::floor(d); }

// The name a call reports in errors: the variable or step name of the procedure.
std::string ProcName(const JsonataNode& procedure) {
  if (procedure.kind == Kind::kPath && !procedure.children.empty()) {
    return procedure.children[0].value;
  }
  return procedure.value;
}

[[gnu::cold, gnu::noinline]] JsonataError NotAFunction(const JsonataNode& call) {
  return Error("T1005", "Attempted to invoke a non-function. Did you mean ${{{token}}}?",
               call.position, ProcName(call.children[0]));
}

[[gnu::cold, gnu::noinline]] void AddCallSite(JsonataError& e, const JsonataNode& call) {
  if (!e.position) e.position = call.position;
  if (e.token.empty()) e.token = ProcName(call.children[0]);
}

[[gnu::cold, gnu::noinline]] JsonataError DepthError(const JsonataNode& node) {
  return Error("U1001", kStackOverflow, node.position, node.value);
}

[[gnu::cold, gnu::noinline]] JsonataError NonFunctionError() {
  return Error("T1006", "Attempted to invoke a non-function");
}

// The "@" of a tuple (nullptr when there is none).
const Value* TupleFocus(const Value& tuple) {
  return tuple.IsObject() ? tuple.object().Find("@") : nullptr;
}

class Evaluator;

class CallContext : public jsonata::JsonataCall {
 public:
  CallContext(Evaluator& ev, const Value& input, const EnvPtr& env)
      : ev_(ev), input_(input), env_(env) {}
  const Value& Input() const override { return input_; }
  const JsonataOptions& Options() const override;
  uint64_t RandomBits() override;
  JsonataResult Apply(const Value& function, JsonataArgs args) override;

 private:
  Evaluator& ev_;
  const Value& input_;
  const EnvPtr& env_;
};

class Evaluator {
 public:
  Evaluator(const JsonataExpression::Impl& impl, const JsonataOptions& options)
      : impl_(impl), options_(options) {}

  const JsonataOptions& options() const { return options_; }
  uint64_t RandomBits() {
    if (options_.random != nullptr) return options_.random->NextU64();
    // splitmix64 with a fixed seed
    uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  JsonataResult Eval(const JsonataNode& node, const Value& input, const EnvPtr& env,
                     bool tail = false);

  // A new frame. Frames and closures can form cycles (a block binds a lambda that captures the
  // block's frame), which reference counting alone never frees: the evaluator remembers its frames
  // and clears the live ones when it ends (no function value outlives an evaluation).
  std::shared_ptr<Env> NewEnv() {
    auto env = std::make_shared<Env>();
    if (envs_.size() >= envs_compact_at_) {
      std::erase_if(envs_, [](const std::weak_ptr<Env>& w) { return w.expired(); });
      envs_compact_at_ = std::max<std::size_t>(64, envs_.size() * 2);
    }
    envs_.push_back(env);
    return env;
  }

  ~Evaluator() {
    std::vector<std::shared_ptr<Env>> live;
    for (const auto& w : envs_) {
      if (auto e = w.lock()) live.push_back(std::move(e));
    }
    envs_.clear();
    for (auto& e : live) {
      e->vars.clear();
      e->keep_alive = Value();
    }
    for (auto& e : live) e->parent.reset();
  }
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;
  JsonataResult Apply(const Value& proc, JsonataArgs args, const Value& input, const EnvPtr& env);

 private:
  friend class CallContext;
  [[gnu::noinline]] JsonataResult EvalInner(const JsonataNode& node, const Value& input,
                                            const EnvPtr& env, bool tail);
  [[gnu::noinline]] JsonataResult EvalNode(const JsonataNode& node, const Value& input,
                                           const EnvPtr& env, bool tail);
  [[gnu::noinline]] JsonataResult BinaryOp(const JsonataNode& node, const Value& lhs,
                                           const Value& rhs);
  [[gnu::noinline]] JsonataResult Trampoline(Value result);
  [[gnu::noinline]] JsonataResult ApplyLambda(const Value& proc, JsonataArgs& args,
                                              const Value& input);
  [[gnu::noinline]] JsonataResult ApplyOther(const Value& proc, JsonataArgs& args,
                                             const Value& input, const EnvPtr& env);
  [[gnu::noinline]] JsonataResult EvalLeaf(const JsonataNode& node, const Value& input,
                                           const EnvPtr& env, bool tail);
  [[gnu::noinline]] JsonataResult EvalCondition(const JsonataNode& node, const Value& input,
                                                const EnvPtr& env, bool tail);
  [[gnu::noinline]] JsonataResult EvalBlock(const JsonataNode& node, const Value& input,
                                            const EnvPtr& env, bool tail);
  [[gnu::noinline]] JsonataResult EvalBind(const JsonataNode& node, const Value& input,
                                           const EnvPtr& env);
  [[gnu::noinline]] JsonataResult PostFilter(const JsonataNode& node, Value result,
                                             const EnvPtr& env);
  static void Collapse(const JsonataNode& node, Value& result);
  [[gnu::noinline]] JsonataResult EvalPath(const JsonataNode& node, const Value& input,
                                           const EnvPtr& env);
  // `single`: the input sequence is this one value (input_seq is not used).
  [[gnu::noinline]] JsonataResult EvalStep(const JsonataNode& step, const Value& input_seq,
                                           const Value* single, const EnvPtr& env, bool last);
  [[gnu::noinline]] JsonataResult EvalTupleStep(const JsonataNode& step, const Value& input_seq,
                                                Value tuples, const EnvPtr& env);
  JsonataResult EvalStages(const std::vector<JsonataNode>& stages, Value input, const EnvPtr& env);
  [[gnu::noinline]] JsonataResult EvalFilter(const JsonataNode& predicate, const Value& input,
                                             const EnvPtr& env);
  [[gnu::noinline]] JsonataResult EvalBinary(const JsonataNode& node, const Value& input,
                                             const EnvPtr& env);
  [[gnu::noinline]] JsonataResult EvalArray(const JsonataNode& node, const Value& input,
                                            const EnvPtr& env);
  [[gnu::noinline]] JsonataResult EvalGroup(const JsonataNode& node, const Value& input,
                                            const EnvPtr& env);
  [[gnu::noinline]] JsonataResult EvalSort(const JsonataNode& node, const Value& input,
                                           const EnvPtr& env);
  [[gnu::noinline]] JsonataResult EvalFunctionCall(const JsonataNode& node, const Value& input,
                                                   const EnvPtr& env, const Value* apply_to);
  [[gnu::noinline]] JsonataResult EvalPartial(const JsonataNode& node, const Value& input,
                                              const EnvPtr& env);
  [[gnu::noinline]] JsonataResult EvalApply(const JsonataNode& node, const Value& input,
                                            const EnvPtr& env);
  [[gnu::noinline]] JsonataResult EvalLambda(const JsonataNode& node, const Value& input,
                                             const EnvPtr& env, bool thunk);
  [[gnu::noinline]] JsonataResult ApplyInner(const Value& proc, JsonataArgs& args,
                                             const Value& input, const EnvPtr& env);
  [[gnu::noinline]] JsonataResult ApplyTransform(const TransformImpl& t, JsonataArgs& args);
  [[gnu::noinline]] JsonataResult Step(const JsonataNode& node);
  EnvPtr FrameFromTuple(const EnvPtr& env, const Value& tuple);

  const JsonataExpression::Impl& impl_;
  const JsonataOptions& options_;
  int depth_ = 0;
  uint64_t steps_ = 0;
  uint64_t rng_state_ = 0x5DEECE66DULL;
  std::vector<std::weak_ptr<Env>> envs_;
  std::size_t envs_compact_at_ = 64;
};

const JsonataOptions& CallContext::Options() const { return ev_.options(); }
uint64_t CallContext::RandomBits() { return ev_.RandomBits(); }
JsonataResult CallContext::Apply(const Value& function, JsonataArgs args) {
  return ev_.Apply(function, std::move(args), Value::Null(), env_);
}

JsonataResult Evaluator::Step(const JsonataNode& node) {
  if (options_.max_steps != 0 && steps_ > options_.max_steps) {
    return Error("U1001", kTimeout, node.position, node.value);
  }
  if ((steps_ & 1023) == 0 && options_.interrupted && options_.interrupted()) {
    return Error("U1001", kTimeout, node.position, node.value);
  }
  return Value();
}

EnvPtr Evaluator::FrameFromTuple(const EnvPtr& env, const Value& tuple) {
  auto frame = NewEnv();
  frame->parent = env;
  if (!tuple.IsObject()) return frame;  // the empty stream's placeholder item
  // The frame's names point into a private copy of the tuple (the stream's tuples may change).
  auto copy = std::make_shared<Object>(tuple.object());
  frame->keep_alive = Value::Obj(copy);
  const auto& members = copy->members;
  frame->vars.reserve(members.size());
  for (const auto& [k, v] : members) frame->vars.emplace_back(k, v);
  return frame;
}

JsonataResult Evaluator::Eval(const JsonataNode& node, const Value& input, const EnvPtr& env,
                              bool tail) {
  if (++depth_ > options_.max_depth) {
    --depth_;
    return DepthError(node);
  }
  ++steps_;
  if ((options_.max_steps != 0 && steps_ > options_.max_steps) ||
      ((steps_ & 1023) == 0 && options_.interrupted)) {
    JsonataResult s = Step(node);
    if (!s.ok()) {
      --depth_;
      return s;
    }
  }
  JsonataResult r = EvalInner(node, input, env, tail);
  --depth_;
  return r;
}

JsonataResult Evaluator::EvalInner(const JsonataNode& node, const Value& input, const EnvPtr& env,
                                   bool tail) {
  JsonataResult r = EvalNode(node, input, env, tail);
  if (!r.ok()) return r;
  if (!node.predicates.empty() || (node.kind != Kind::kPath && node.group)) {
    return PostFilter(node, std::move(r.value()), env);
  }
  Collapse(node, r.value());
  return r;
}

JsonataResult Evaluator::PostFilter(const JsonataNode& node, Value result, const EnvPtr& env) {
  for (const JsonataNode& pred : node.predicates) {
    JTRY(r, EvalFilter(pred.children[0], result, env));
    result = std::move(r);
  }
  if (node.kind != Kind::kPath && node.group) {
    JTRY(r, EvalGroup(*node.group, result, env));
    result = std::move(r);
  }

  Collapse(node, result);
  return result;
}

void Evaluator::Collapse(const JsonataNode& node, Value& result) {
  if (result.IsArray() && FlagsOf(result).sequence && !FlagsOf(result).tuple_stream) {
    // jsonata's parser flags `a ~> f()[]` on the apply node itself.
    const bool keep =
        node.keep_array ||
        (node.kind == Kind::kApply && (node.children[0].keep_array || node.children[1].keep_array));
    if (keep) MutArray(result)->keep_singleton = true;
    const auto& items = result.array().items;
    if (items.empty()) {
      result = Value();
    } else if (items.size() == 1 && !FlagsOf(result).keep_singleton) {
      Value only = items[0];
      result = std::move(only);
    }
  }
}

JsonataResult Evaluator::EvalNode(const JsonataNode& node, const Value& input, const EnvPtr& env,
                                  bool tail) {
  // Each construct that nests evaluation has a function of its own, so the native frames per
  // level of nesting stay small.
  switch (node.kind) {
    case Kind::kPath:
      return EvalPath(node, input, env);
    case Kind::kBinary:
      return EvalBinary(node, input, env);
    case Kind::kArray:
      return EvalArray(node, input, env);
    case Kind::kObject:
      return EvalGroup(node, input, env);
    case Kind::kCondition:
      return EvalCondition(node, input, env, tail);
    case Kind::kBlock:
      return EvalBlock(node, input, env, tail);
    case Kind::kBind:
      return EvalBind(node, input, env);
    case Kind::kFunctionCall:
      if (tail && node.predicates.empty() && !node.group) break;
      return EvalFunctionCall(node, input, env, nullptr);
    case Kind::kPartial:
      return EvalPartial(node, input, env);
    case Kind::kApply:
      return EvalApply(node, input, env);
    case Kind::kLambda:
      return EvalLambda(node, input, env, false);
    default:
      break;
  }
  return EvalLeaf(node, input, env, tail);
}

JsonataResult Evaluator::EvalCondition(const JsonataNode& node, const Value& input,
                                       const EnvPtr& env, bool tail) {
  JTRY(cond, Eval(node.children[0], input, env));
  Value b = jsonata::BooleanOf(cond);
  if (b.IsBool() && b.boolean()) return Eval(node.children[1], input, env, tail);
  if (node.children.size() > 2) return Eval(node.children[2], input, env, tail);
  return Value();
}

JsonataResult Evaluator::EvalBlock(const JsonataNode& node, const Value& input, const EnvPtr& env,
                                   bool tail) {
  auto frame = NewEnv();
  frame->parent = env;
  EnvPtr fp = std::move(frame);
  Value result;
  for (std::size_t i = 0; i < node.children.size(); ++i) {
    JTRY(r, Eval(node.children[i], input, fp, tail && i + 1 == node.children.size()));
    result = std::move(r);
  }
  return result;
}

JsonataResult Evaluator::EvalBind(const JsonataNode& node, const Value& input, const EnvPtr& env) {
  JTRY(v, Eval(node.children[1], input, env));
  env->Bind(node.children[0].value, v);
  return v;
}

JsonataResult Evaluator::EvalLeaf(const JsonataNode& node, const Value& input, const EnvPtr& env,
                                  bool tail) {
  Value result;
  switch (node.kind) {
    case Kind::kNegate: {
      JTRY(v, Eval(node.children[0], input, env));
      if (v.IsUndefined()) {
        result = Value();
      } else {
        JsonataError e;
        if (IsNumeric(v, &e)) {
          result = Value::Number(-v.number());
        } else {
          if (!e.code.empty()) return e;
          return Error("D1002", "Cannot negate a non-numeric value: " + jsonata::Stringify(v),
                       node.position, "-");
        }
      }
      break;
    }
    case Kind::kName:
      result = Lookup(input, node.value);
      break;
    case Kind::kString:
      result = Value::String(node.value);
      break;
    case Kind::kNumber:
      result = Value::Number(node.number);
      break;
    case Kind::kValue:
      result = node.value == "true"    ? Value::Bool(true)
               : node.value == "false" ? Value::Bool(false)
                                       : Value::Null();
      break;
    case Kind::kWildcard: {
      auto out = Array::MakeSequence();
      const Value* in = &input;
      if (input.IsArray() && FlagsOf(input).outer_wrapper && !input.array().items.empty()) {
        in = &input.array().items[0];
      }
      auto add = [&out](const Value& v) {
        if (!v.IsArray()) {
          out->items.push_back(v);
          return;
        }
        // flatten (deep), iteratively
        std::vector<std::pair<const Array*, std::size_t>> stack{{&v.array(), 0}};
        while (!stack.empty()) {
          auto& [arr, i] = stack.back();
          if (i >= arr->items.size()) {
            stack.pop_back();
            continue;
          }
          const Value& item = arr->items[i++];
          if (item.IsArray()) {
            stack.push_back({&item.array(), 0});
          } else {
            out->items.push_back(item);
          }
        }
      };
      if (in->IsObject()) {
        for (const auto& [k, v] : in->object().members) add(v);
      } else if (in->IsArray()) {
        for (const Value& v : in->array().items) add(v);
      }
      result = Value::Arr(std::move(out));
      break;
    }
    case Kind::kDescendant: {
      if (input.IsUndefined()) break;
      auto out = Array::MakeSequence();
      std::vector<const Value*> stack{&input};
      while (!stack.empty()) {
        const Value* v = stack.back();
        stack.pop_back();
        if (v->IsArray()) {
          const auto& items = v->array().items;
          for (std::size_t i = items.size(); i-- > 0;) stack.push_back(&items[i]);
        } else {
          out->items.push_back(*v);
          if (v->IsObject()) {
            const auto& members = v->object().members;
            for (std::size_t i = members.size(); i-- > 0;) stack.push_back(&members[i].second);
          }
        }
      }
      if (out->items.size() == 1) {
        result = out->items[0];
      } else {
        result = Value::Arr(std::move(out));
      }
      break;
    }
    case Kind::kParent: {
      const Value* v = env->Lookup(node.value);
      if (v) result = *v;
      break;
    }
    case Kind::kRegex: {
      auto it = impl_.regexes.find(&node);
      if (it == impl_.regexes.end()) {
        auto e = impl_.regex_errors.find(&node);
        if (e != impl_.regex_errors.end()) {
          JsonataError err = e->second;
          if (!err.position) err.position = node.position;
          return err;
        }
        return Error("S0301", "Invalid regular expression", node.position);
      }
      auto f = std::make_shared<Function>();
      f->kind = Function::Kind::kRegex;
      f->regex = it->second;
      result = Value::Fn(std::move(f));
      break;
    }
    case Kind::kFunctionCall: {
      if (tail && node.predicates.empty() && !node.group) {
        // A tail call: hand it to the caller's trampoline (jsonata's thunk lambda).
        if (++depth_ > options_.max_depth) {
          --depth_;
          return Error("U1001", kStackOverflow, node.position, node.value);
        }
        --depth_;
        JTRY(r, EvalLambda(node, input, env, true));
        return r;
      }
      JTRY(r, EvalFunctionCall(node, input, env, nullptr));
      result = std::move(r);
      break;
    }
    case Kind::kVariable: {
      if (node.value.empty()) {
        if (input.IsArray() && FlagsOf(input).outer_wrapper && !input.array().items.empty()) {
          result = input.array().items[0];
        } else {
          result = input;
        }
      } else {
        const Value* v = env->Lookup(node.value);
        if (v) {
          result = *v;
        } else if (const Value* b = jsonata::FindBuiltin(node.value)) {
          result = *b;
        }
      }
      break;
    }
    case Kind::kTransform: {
      auto t = std::make_shared<TransformImpl>();
      t->node = &node;
      t->env = env;
      result = MakeFunction(Function::Kind::kTransform, std::move(t));
      break;
    }
    case Kind::kSort: {
      // A sort outside a path (the parser wraps it in one; defensive).
      JTRY(r, EvalSort(node, input.IsArray() ? input : SingletonSequence(input), env));
      result = std::move(r);
      break;
    }
    default:
      return Error("S0206", "Unknown expression type: " + node.value, node.position, node.value);
  }

  return result;
}

JsonataResult Evaluator::EvalPath(const JsonataNode& node, const Value& input, const EnvPtr& env) {
  // The input sequence: `input` as a singleton (built only when a step needs it as a Value), or
  // input_seq.
  Value input_seq;
  bool single = !(input.IsArray() && node.children[0].kind != Kind::kVariable);
  if (!single) input_seq = input;
  auto seq = [&]() -> const Value& {
    if (single) {
      input_seq = SingletonSequence(input);
      single = false;
    }
    return input_seq;
  };
  Value result;
  bool tuple_stream = false;
  Value tuples;
  const std::size_t n = node.children.size();
  for (std::size_t i = 0; i < n; ++i) {
    const JsonataNode& step = node.children[i];
    if (step.tuple) tuple_stream = true;
    if (i == 0 && step.cons_array) {
      JTRY(r, Eval(step, seq(), env));
      result = std::move(r);
    } else if (tuple_stream) {
      JTRY(r, EvalTupleStep(step, seq(), tuples, env));
      tuples = std::move(r);
    } else {
      JTRY(r, EvalStep(step, input_seq, single ? &input : nullptr, env, i + 1 == n));
      result = std::move(r);
    }
    if (!tuple_stream &&
        (result.IsUndefined() || (result.IsArray() && result.array().items.empty()))) {
      break;
    }
    if (!step.focus) {
      input_seq = result;
      single = false;
    }
  }
  if (tuple_stream) {
    if (node.tuple) {
      result = tuples;
    } else {
      auto out = Array::MakeSequence();
      if (tuples.IsArray()) {
        out->items.reserve(tuples.array().items.size());
        for (const Value& t : tuples.array().items) {
          const Value* at = TupleFocus(t);
          out->items.push_back(at ? *at : Value());
        }
      }
      result = Value::Arr(std::move(out));
    }
  }
  bool keep_singleton = node.keep_array;
  for (const JsonataNode& step : node.children) keep_singleton = keep_singleton || step.keep_array;
  if (keep_singleton) {
    if (result.IsArray() && FlagsOf(result).cons && !FlagsOf(result).sequence) {
      result = SingletonSequence(result);
    }
    if (result.IsArray()) {
      MutArray(result)->keep_singleton = true;
    }
  }
  if (node.group) {
    JTRY(r, EvalGroup(*node.group, tuple_stream ? tuples : result, env));
    result = std::move(r);
  }
  return result;
}

JsonataResult Evaluator::EvalStep(const JsonataNode& step, const Value& input_seq,
                                  const Value* single, const EnvPtr& env, bool last) {
  if (step.kind == Kind::kSort) {
    JTRY(r, EvalSort(step, single ? SingletonSequence(*single) : input_seq, env));
    if (!step.stages.empty()) return EvalStages(step.stages, std::move(r), env);
    return r;
  }
  const Value* inputs = single;
  std::size_t count = 1;
  if (single == nullptr) {
    const auto& items = input_seq.array().items;
    inputs = items.data();
    count = items.size();
  }
  // The results; the first one apart, so a step over one value allocates no vector.
  Value first;
  std::vector<Value> rest;
  std::size_t n = 0;
  for (std::size_t k = 0; k < count; ++k) {
    JTRY(res, Eval(step, inputs[k], env));
    for (const JsonataNode& stage : step.stages) {
      JTRY(f, EvalFilter(stage.children[0], res, env));
      res = std::move(f);
    }
    if (res.IsUndefined()) continue;
    if (n++ == 0) {
      first = std::move(res);
    } else {
      if (rest.empty()) rest.reserve(count - k);
      rest.push_back(std::move(res));
    }
  }
  if (last && n == 1 && first.IsArray() && !FlagsOf(first).sequence) return first;
  auto out = Array::MakeSequence();
  auto add = [&out](Value& r) {
    if (!r.IsArray() || FlagsOf(r).cons) {
      out->items.push_back(std::move(r));
    } else {
      const std::size_t size = r.ArraySize();
      for (std::size_t i = 0; i < size; ++i) out->items.push_back(r.ItemAt(i));
    }
  };
  if (n > 0) {
    out->items.reserve(n);
    add(first);
    for (Value& r : rest) add(r);
  }
  return Value::Arr(std::move(out));
}

JsonataResult Evaluator::EvalStages(const std::vector<JsonataNode>& stages, Value input,
                                    const EnvPtr& env) {
  Value result = std::move(input);
  for (const JsonataNode& stage : stages) {
    if (stage.kind == Kind::kFilter) {
      JTRY(r, EvalFilter(stage.children[0], result, env));
      result = std::move(r);
    } else if (stage.kind == Kind::kIndex && result.IsArray()) {
      const auto& items = result.array().items;
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (items[i].IsObject()) {
          items[i].object_ptr()->Set(stage.value, Value::Number(static_cast<double>(i)));
        }
      }
    }
  }
  return result;
}

JsonataResult Evaluator::EvalTupleStep(const JsonataNode& step, const Value& input_seq,
                                       Value tuples, const EnvPtr& env) {
  if (step.kind == Kind::kSort) {
    Value result;
    if (!tuples.IsUndefined()) {
      JTRY(r, EvalSort(step, tuples, env));
      result = std::move(r);
    } else {
      JTRY(sorted, EvalSort(step, input_seq, env));
      auto out = Array::MakeSequence();
      out->tuple_stream = true;
      if (sorted.IsArray()) {
        const auto& items = sorted.array().items;
        for (std::size_t i = 0; i < items.size(); ++i) {
          auto t = Object::Make();
          t->Set("@", items[i]);
          if (step.index) t->Set(*step.index, Value::Number(static_cast<double>(i)));
          out->items.push_back(Value::Obj(std::move(t)));
        }
      }
      result = Value::Arr(std::move(out));
    }
    if (!step.stages.empty()) return EvalStages(step.stages, std::move(result), env);
    return result;
  }
  auto out = Array::MakeSequence();
  out->tuple_stream = true;
  if (tuples.IsUndefined()) {
    auto t = Array::MakeSequence();
    for (const Value& item : input_seq.array().items) {
      auto o = Object::Make();
      o->Set("@", item);
      t->items.push_back(Value::Obj(std::move(o)));
    }
    tuples = Value::Arr(std::move(t));
  }
  for (const Value& tuple : tuples.array().items) {
    EnvPtr step_env = FrameFromTuple(env, tuple);
    const Value* at = TupleFocus(tuple);
    JTRY(res, Eval(step, at ? *at : Value(), step_env));
    if (res.IsUndefined()) continue;
    std::vector<Value> single;
    const std::vector<Value>* list;
    if (res.IsArray()) {
      list = &res.array().items;
    } else {
      single.push_back(res);
      list = &single;
    }
    const bool res_tuples = res.IsArray() && FlagsOf(res).tuple_stream;
    for (std::size_t b = 0; b < list->size(); ++b) {
      auto t = tuple.IsObject() ? std::make_shared<Object>(tuple.object()) : Object::Make();
      if (res_tuples) {
        if ((*list)[b].IsObject()) {
          for (const auto& [k, v] : (*list)[b].object().members) t->Set(k, v);
        }
      } else {
        if (step.focus) {
          t->Set(*step.focus, (*list)[b]);
          t->Set("@", at ? *at : Value());
        } else {
          t->Set("@", (*list)[b]);
        }
        if (step.index) t->Set(*step.index, Value::Number(static_cast<double>(b)));
        if (!step.ancestor.empty()) t->Set(step.ancestor, at ? *at : Value());
      }
      out->items.push_back(Value::Obj(std::move(t)));
    }
  }
  Value result = Value::Arr(std::move(out));
  if (!step.stages.empty()) return EvalStages(step.stages, std::move(result), env);
  return result;
}

JsonataResult Evaluator::EvalFilter(const JsonataNode& predicate, const Value& input,
                                    const EnvPtr& env) {
  auto results = Array::MakeSequence();
  const bool tuple_stream = input.IsArray() && FlagsOf(input).tuple_stream;
  results->tuple_stream = tuple_stream;
  if (predicate.kind == Kind::kNumber) {
    // One item: read it without building a borrowed array.
    const std::size_t size = input.IsArray() ? input.ArraySize() : 1;
    double index = std::floor(predicate.number);
    if (index < 0) index += static_cast<double>(size);
    if (index >= 0 && index < static_cast<double>(size)) {
      const Value item = input.IsArray() ? input.ItemAt(static_cast<std::size_t>(index)) : input;
      if (item.IsUndefined()) return Value::Arr(std::move(results));
      if (item.IsArray()) return item;
      results->items.push_back(item);
    }
    return Value::Arr(std::move(results));
  }
  Value in = input.IsArray() ? input : SingletonSequence(input);
  const auto& items = in.array().items;
  for (std::size_t index = 0; index < items.size(); ++index) {
    const Value& item = items[index];
    Value context = item;
    EnvPtr frame = env;
    if (tuple_stream) {
      const Value* at = TupleFocus(item);
      context = at ? *at : Value();
      frame = FrameFromTuple(env, item);
    }
    JTRY(res, Eval(predicate, context, frame));
    JsonataError num_error;
    if (IsNumeric(res, &num_error)) {
      double ii = std::floor(res.number());
      if (ii < 0) ii += static_cast<double>(items.size());
      if (ii == static_cast<double>(index)) results->items.push_back(item);
      continue;
    }
    if (!num_error.code.empty()) return num_error;
    if (res.IsArray() && !res.array().items.empty()) {
      bool all_numbers = true;
      for (const Value& v : res.array().items) {
        JsonataError e;
        if (!IsNumeric(v, &e)) {
          if (!e.code.empty()) return e;
          all_numbers = false;
          break;
        }
      }
      if (all_numbers) {
        for (const Value& v : res.array().items) {
          double ii = std::floor(v.number());
          if (ii < 0) ii += static_cast<double>(items.size());
          if (ii == static_cast<double>(index)) results->items.push_back(item);
        }
        continue;
      }
    } else if (res.IsArray()) {
      continue;  // an empty array of numbers selects nothing
    }
    Value b = jsonata::BooleanOf(res);
    if (b.IsBool() && b.boolean()) results->items.push_back(item);
  }
  return Value::Arr(std::move(results));
}

JsonataResult Evaluator::EvalBinary(const JsonataNode& node, const Value& input,
                                    const EnvPtr& env) {
  const std::string& op = node.value;
  JTRY(lhs, Eval(node.children[0], input, env));
  if (op == "and" || op == "or") {
    Value lb = jsonata::BooleanOf(lhs);
    const bool l = lb.IsBool() && lb.boolean();
    if (op == "and" && !l) return Value::Bool(false);
    if (op == "or" && l) return Value::Bool(true);
    JTRY(rhs, Eval(node.children[1], input, env));
    Value rb = jsonata::BooleanOf(rhs);
    return Value::Bool(rb.IsBool() && rb.boolean());
  }
  JTRY(rhs, Eval(node.children[1], input, env));
  return BinaryOp(node, lhs, rhs);
}

JsonataResult Evaluator::BinaryOp(const JsonataNode& node, const Value& lhs, const Value& rhs) {
  const std::string& op = node.value;
  const std::size_t pos = node.position;
  auto fail = [&](JsonataError e) {
    e.position = pos;
    if (e.token.empty()) e.token = op;
    return e;
  };
  switch (op[0]) {
    case '+':
    case '-':
    case '*':
    case '/':
    case '%': {
      JsonataError e;
      const bool ln = IsNumeric(lhs, &e);
      if (!e.code.empty()) return fail(e);
      if (!lhs.IsUndefined() && !ln) {
        return fail(
            Error("T2001", "The left side of the {{token}} operator must evaluate to a number"));
      }
      const bool rn = IsNumeric(rhs, &e);
      if (!e.code.empty()) return fail(e);
      if (!rhs.IsUndefined() && !rn) {
        return fail(
            Error("T2002", "The right side of the {{token}} operator must evaluate to a number"));
      }
      if (lhs.IsUndefined() || rhs.IsUndefined()) return Value();
      double a = lhs.number(), b = rhs.number();
      switch (op[0]) {
        case '+':
          return Value::Number(a + b);
        case '-':
          return Value::Number(a - b);
        case '*':
          return Value::Number(a * b);
        case '/':
          return Value::Number(a / b);
        default:
          return Value::Number(std::fmod(a, b));
      }
    }
    case '=':
      if (lhs.IsUndefined() || rhs.IsUndefined()) return Value::Bool(false);
      return Value::Bool(jsonata::DeepEqual(lhs, rhs));
    case '!':
      if (lhs.IsUndefined() || rhs.IsUndefined()) return Value::Bool(false);
      return Value::Bool(!jsonata::DeepEqual(lhs, rhs));
    case '<':
    case '>': {
      auto comparable = [](const Value& v) {
        return v.IsUndefined() || v.IsString() || v.IsNumber();
      };
      if (!comparable(lhs) || !comparable(rhs)) {
        const Value& bad = !(lhs.IsString() || lhs.IsNumber()) ? lhs : rhs;
        return fail(Error("T2010",
                          "The expressions either side of operator {{token}} must "
                          "evaluate to numeric or string values"));
        (void)bad;
      }
      if (lhs.IsUndefined() || rhs.IsUndefined()) return Value();
      if (lhs.kind() != rhs.kind()) {
        return fail(Error("T2009", "The values " + jsonata::Stringify(lhs) + " and " +
                                       jsonata::Stringify(rhs) +
                                       " either side of operator {{token}} must be of the same "
                                       "data type"));
      }
      int c;
      if (lhs.IsNumber()) {
        double a = lhs.number(), b = rhs.number();
        if (std::isnan(a) || std::isnan(b)) return Value::Bool(false);
        c = a < b ? -1 : (a > b ? 1 : 0);
      } else {
        int k = lhs.sv().compare(rhs.sv());
        c = k < 0 ? -1 : (k > 0 ? 1 : 0);
      }
      if (op == "<") return Value::Bool(c < 0);
      if (op == "<=") return Value::Bool(c <= 0);
      if (op == ">") return Value::Bool(c > 0);
      return Value::Bool(c >= 0);
    }
    case '&': {
      std::string out;
      if (!lhs.IsUndefined()) {
        JsonataResult s = jsonata::StringOf(lhs);
        if (!s.ok()) return fail(s.TakeError());
        out = s.value().sv();
      }
      if (!rhs.IsUndefined()) {
        JsonataResult s = jsonata::StringOf(rhs);
        if (!s.ok()) return fail(s.TakeError());
        out += s.value().sv();
      }
      // Long strings cost steps, so max_steps also bounds the memory of repeated doubling.
      steps_ += out.size() / 256;
      return Value::String(std::move(out));
    }
    case '.': {  // range
      if (!lhs.IsUndefined() && !(lhs.IsNumber() && IsInteger(lhs.number()))) {
        return fail(
            Error("T2003", "The left side of the range operator (..) must evaluate to an integer"));
      }
      if (!rhs.IsUndefined() && !(rhs.IsNumber() && IsInteger(rhs.number()))) {
        return fail(Error("T2004",
                          "The right side of the range operator (..) must evaluate to an integer"));
      }
      if (lhs.IsUndefined() || rhs.IsUndefined()) return Value();
      double a = lhs.number(), b = rhs.number();
      if (a > b) return Value();
      double size = b - a + 1;
      if (size > 1e7) {
        return fail(Error("D2014",
                          "The size of the sequence allocated by the range operator (..) must not "
                          "exceed 1e6.  Attempted to allocate " +
                              jsonata::NumberToString(size) + "."));
      }
      // A range costs steps in proportion to its size, counted before it is allocated.
      steps_ += static_cast<uint64_t>(size) / 16;
      if (options_.max_steps != 0 && steps_ > options_.max_steps) {
        return Error("U1001", kTimeout, node.position, node.value);
      }
      auto out = Array::MakeSequence();
      out->items.reserve(static_cast<std::size_t>(size));
      for (double x = a; x <= b; x += 1) out->items.push_back(Value::Number(x));
      return Value::Arr(std::move(out));
    }
    case 'i': {  // in
      if (lhs.IsUndefined() || rhs.IsUndefined()) return Value::Bool(false);
      auto same = [&lhs](const Value& v) {
        if (v.kind() != lhs.kind()) return false;
        switch (v.kind()) {
          case ValueKind::kNull:
            return true;
          case ValueKind::kBool:
            return v.boolean() == lhs.boolean();
          case ValueKind::kNumber:
            return v.number() == lhs.number();
          case ValueKind::kString:
            return v.sv() == lhs.sv();
          default:
            return v.identity() == lhs.identity();
        }
      };
      if (rhs.IsArray()) {
        for (const Value& v : rhs.array().items) {
          if (same(v)) return Value::Bool(true);
        }
        return Value::Bool(false);
      }
      return Value::Bool(same(rhs));
    }
    default:
      break;
  }
  return Error("S0204", "Unknown operator: {{token}}", pos, op);
}

JsonataResult Evaluator::EvalArray(const JsonataNode& node, const Value& input, const EnvPtr& env) {
  auto out = Array::Make();
  for (const JsonataNode& item : node.children) {
    JTRY(v, Eval(item, input, env));
    if (v.IsUndefined()) continue;
    if (item.kind == Kind::kArray) {
      out->items.push_back(std::move(v));
    } else if (v.IsArray()) {
      const auto& items = v.array().items;
      out->items.insert(out->items.end(), items.begin(), items.end());
    } else {
      out->items.push_back(std::move(v));
    }
  }
  if (node.cons_array) out->cons = true;
  return Value::Arr(std::move(out));
}

JsonataResult Evaluator::EvalGroup(const JsonataNode& node, const Value& input, const EnvPtr& env) {
  const bool reduce = input.IsArray() && FlagsOf(input).tuple_stream;
  std::vector<Value> single;
  const std::vector<Value>* items;
  if (input.IsArray()) {
    items = &input.array().items;
  } else {
    single.push_back(input);
    items = &single;
  }
  if (items->empty()) {
    single.push_back(Value());
    items = &single;
  }
  struct Group {
    Value data;
    std::size_t expr_index;
    // data is an array this loop built (by Append) and nothing else holds yet: the next item is
    // appended in place, which gives what Append(data, item) would without copying data.
    bool owned = false;
  };
  std::vector<std::pair<std::string, Group>> groups;
  std::unordered_map<std::string, std::size_t> group_index;
  const std::size_t pairs = node.children.size() / 2;
  groups.reserve(pairs);
  for (const Value& item : *items) {
    EnvPtr frame = reduce ? FrameFromTuple(env, item) : env;
    Value context = item;
    if (reduce) {
      const Value* at = TupleFocus(item);
      context = at ? *at : Value();
    }
    for (std::size_t p = 0; p < pairs; ++p) {
      JTRY(key, Eval(node.children[2 * p], context, frame));
      if (key.IsUndefined()) continue;
      if (!key.IsString()) {
        return Error(
            "T1003",
            "Key in object structure must evaluate to a string; got: " + jsonata::Stringify(key),
            node.position);
      }
      // Few groups: a scan beats hashing the key.
      const std::string_view key_text = key.sv();
      std::size_t at = groups.size();
      if (groups.size() <= 8) {
        for (std::size_t gi = 0; gi < groups.size(); ++gi) {
          if (groups[gi].first == key_text) at = gi;
        }
      } else if (auto it = group_index.find(std::string(key_text)); it != group_index.end()) {
        at = it->second;
      }
      if (at != groups.size()) {
        Group& g = groups[at].second;
        if (g.expr_index != p) {
          return Error("D1009",
                       "Multiple key definitions evaluate to same key: " + jsonata::Stringify(key),
                       node.position);
        }
        if (g.owned) {
          Array& acc = *g.data.array_ptr();
          if (item.IsArray()) {
            const std::size_t size = item.ArraySize();
            for (std::size_t i = 0; i < size; ++i) acc.items.push_back(item.ItemAt(i));
          } else {
            acc.items.push_back(item);
          }
        } else {
          g.owned = !g.data.IsUndefined() && !item.IsUndefined();
          g.data = Append(g.data, item);
        }
      } else {
        group_index.emplace(std::string(key_text), groups.size());
        groups.push_back({std::string(key_text), Group{item, p, false}});
      }
    }
  }
  auto result = Object::Make();
  result->members.reserve(groups.size());
  for (auto& [key, g] : groups) {
    Value context = g.data;
    EnvPtr frame = env;
    if (reduce) {
      // reduceTupleStream: merge the tuples' bindings, appending values.
      auto merged = Object::Make();
      if (g.data.IsArray()) {
        const auto& ts = g.data.array().items;
        if (!ts.empty() && ts[0].IsObject()) *merged = ts[0].object();
        for (std::size_t i = 1; i < ts.size(); ++i) {
          if (!ts[i].IsObject()) continue;
          for (const auto& [k, v] : ts[i].object().members) {
            const Value* prev = merged->Find(k);
            merged->Set(k, Append(prev ? *prev : Value(), v));
          }
        }
      } else if (g.data.IsObject()) {
        *merged = g.data.object();
      }
      const Value* at = merged->Find("@");
      context = at ? *at : Value();
      merged->Erase("@");
      frame = FrameFromTuple(env, Value::Obj(merged));
    }
    JTRY(v, Eval(node.children[2 * g.expr_index + 1], context, frame));
    if (!v.IsUndefined()) result->Set(key, std::move(v));
  }
  return Value::Obj(std::move(result));
}

JsonataResult Evaluator::EvalSort(const JsonataNode& node, const Value& input, const EnvPtr& env) {
  if (!input.IsArray()) return input;
  const auto& items = input.array().items;
  if (items.size() <= 1) return input;
  const bool tuple_sort = FlagsOf(input).tuple_stream;
  // Evaluate each term for each item once, then merge sort (stable), as jsonata's msort orders.
  const std::size_t terms = node.children.size();
  std::vector<std::vector<Value>> keys(items.size(), std::vector<Value>(terms));
  for (std::size_t i = 0; i < items.size(); ++i) {
    Value context = items[i];
    EnvPtr frame = env;
    if (tuple_sort) {
      const Value* at = TupleFocus(items[i]);
      context = at ? *at : Value();
      frame = FrameFromTuple(env, items[i]);
    }
    for (std::size_t t = 0; t < terms; ++t) {
      JTRY(k, Eval(node.children[t].children[0], context, frame));
      keys[i][t] = std::move(k);
    }
  }
  std::optional<JsonataError> error;
  auto greater = [&](std::size_t a, std::size_t b) -> bool {  // "swap a and b"
    int comp = 0;
    for (std::size_t t = 0; comp == 0 && t < terms; ++t) {
      const Value& aa = keys[a][t];
      const Value& bb = keys[b][t];
      if (aa.IsUndefined()) {
        comp = bb.IsUndefined() ? 0 : 1;
        continue;
      }
      if (bb.IsUndefined()) {
        comp = -1;
        continue;
      }
      auto sortable = [](const Value& v) { return v.IsString() || v.IsNumber(); };
      if (!sortable(aa) || !sortable(bb)) {
        if (!error) {
          error = Error("T2008",
                        "The expressions within an order-by clause must evaluate to numeric or "
                        "string values",
                        node.position);
        }
        return false;
      }
      if (aa.kind() != bb.kind()) {
        if (!error) {
          error = Error("T2007",
                        "Type mismatch when comparing values " + jsonata::Stringify(aa) + " and " +
                            jsonata::Stringify(bb) + " in order-by clause",
                        node.position);
        }
        return false;
      }
      if (aa.IsNumber()) {
        if (aa.number() == bb.number()) continue;
        comp = aa.number() < bb.number() ? -1 : 1;
      } else {
        int c = aa.sv().compare(bb.sv());
        if (c == 0) continue;
        comp = c < 0 ? -1 : 1;
      }
      if (node.children[t].descending) comp = -comp;
    }
    return comp == 1;
  };
  std::vector<std::size_t> order(items.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  // stable: b before a only when greater(a, b)
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return greater(y, x); });
  if (error) return *error;
  auto out = Array::MakeSequence();
  out->tuple_stream = tuple_sort;
  out->items.reserve(items.size());
  for (std::size_t i : order) out->items.push_back(items[i]);
  return Value::Arr(std::move(out));
}

JsonataResult Evaluator::EvalLambda(const JsonataNode& node, const Value& input, const EnvPtr& env,
                                    bool thunk) {
  auto l = std::make_shared<LambdaImpl>();
  l->input = input;
  l->env = env;
  if (thunk) {
    l->thunk = true;
    l->body = &node;
  } else {
    l->body = &node.children[0];
    l->params.reserve(node.parameters.size());
    for (const std::string& p : node.parameters) l->params.push_back(p);
    if (!node.signature.empty()) {
      auto it = impl_.signatures.find(&node);
      if (it != impl_.signatures.end()) {
        l->signature = &it->second;
      } else {
        auto e = impl_.signature_errors.find(&node);
        if (e != impl_.signature_errors.end()) return e->second;
      }
    }
  }
  return MakeFunction(Function::Kind::kLambda, std::move(l));
}

JsonataResult Evaluator::EvalFunctionCall(const JsonataNode& node, const Value& input,
                                          const EnvPtr& env, const Value* apply_to) {
  const JsonataNode& procedure = node.children[0];
  JTRY(proc, Eval(procedure, input, env));
  if (proc.IsUndefined() && procedure.kind == Kind::kPath && !procedure.children.empty() &&
      (env->Lookup(procedure.children[0].value) != nullptr ||
       jsonata::FindBuiltin(procedure.children[0].value) != nullptr)) {
    return NotAFunction(node);
  }
  JsonataArgs args;
  args.reserve(node.children.size() - 1 + (apply_to ? 1 : 0));
  if (apply_to) args.push_back(*apply_to);
  for (std::size_t i = 1; i < node.children.size(); ++i) {
    JTRY(a, Eval(node.children[i], input, env));
    args.push_back(std::move(a));
  }
  JsonataResult r = Apply(proc, std::move(args), input, env);
  if (!r.ok()) AddCallSite(r.error(), node);
  return r;
}

JsonataResult Evaluator::Apply(const Value& proc, JsonataArgs args, const Value& input,
                               const EnvPtr& env) {
  JsonataResult r = ApplyInner(proc, args, input, env);
  if (!r.ok()) return r;
  const Value& v = r.value();
  if (v.IsFunction() && v.function().kind == Function::Kind::kLambda &&
      ImplOf<LambdaImpl>(v.function()).thunk) {
    return Trampoline(std::move(r.value()));
  }
  return r;
}

JsonataResult Evaluator::Trampoline(Value result) {
  // The trampoline for tail calls.
  while (result.IsFunction() && result.function().kind == Function::Kind::kLambda &&
         ImplOf<LambdaImpl>(result.function()).thunk) {
    Value thunk = std::move(result);
    const LambdaImpl& t = ImplOf<LambdaImpl>(thunk.function());
    const JsonataNode& call = *t.body;
    JTRY(next, Eval(call.children[0], t.input, t.env));
    const std::string name = ProcName(call.children[0]);
    if (next.IsUndefined() && call.children[0].kind == Kind::kPath &&
        !call.children[0].children.empty() &&
        (t.env->Lookup(call.children[0].children[0].value) != nullptr)) {
      return Error("T1005", "Attempted to invoke a non-function. Did you mean ${{{token}}}?",
                   call.position, name);
    }
    JsonataArgs next_args;
    next_args.reserve(call.children.size() - 1);
    for (std::size_t i = 1; i < call.children.size(); ++i) {
      JTRY(a, Eval(call.children[i], t.input, t.env));
      next_args.push_back(std::move(a));
    }
    JsonataResult r = ApplyInner(next, next_args, t.input, t.env);
    if (!r.ok()) {
      JsonataError e = r.TakeError();
      if (!e.position) e.position = call.position;
      if (e.token.empty()) e.token = name;
      return e;
    }
    result = std::move(r.value());
  }
  return result;
}

JsonataResult Evaluator::ApplyInner(const Value& proc, JsonataArgs& args, const Value& input,
                                    const EnvPtr& env) {
  if (!proc.IsFunction()) return NonFunctionError();
  if (proc.function().kind == Function::Kind::kLambda) return ApplyLambda(proc, args, input);
  return ApplyOther(proc, args, input, env);
}

JsonataResult Evaluator::ApplyLambda(const Value& proc, JsonataArgs& args, const Value& input) {
  const LambdaImpl& l = ImplOf<LambdaImpl>(proc.function());
  if (l.thunk) return proc;
  JsonataArgs validated;
  JsonataArgs* use = &args;
  if (l.signature != nullptr) {
    JTRY(ok, l.signature->Validate(args, input, validated));
    use = &validated;
  }
  auto frame = NewEnv();
  frame->parent = l.env;
  frame->vars.reserve(l.params.size());
  for (std::size_t i = 0; i < l.params.size(); ++i) {
    frame->vars.emplace_back(l.params[i], i < use->size() ? (*use)[i] : Value());
  }
  EnvPtr fp = frame;
  return Eval(*l.body, l.input, fp, true);
}

JsonataResult Evaluator::ApplyOther(const Value& proc, JsonataArgs& args, const Value& input,
                                    const EnvPtr& env) {
  const Function& f = proc.function();
  switch (f.kind) {
    case Function::Kind::kBuiltin: {
      const auto& b = ImplOf<jsonata::BuiltinImpl>(f);
      JsonataArgs validated;
      JTRY(ok, b.signature.Validate(args, input, validated));
      CallContext ctx(*this, input, env);
      JsonataResult r = b.fn(ctx, validated);
      if (!r.ok() && r.error().token.empty()) r.error().token = b.name;
      return r;
    }
    case Function::Kind::kRegex: {
      CallContext ctx(*this, input, env);
      return f.regex->Apply(ctx, args);
    }
    case Function::Kind::kPartial: {
      const PartialImpl& p = ImplOf<PartialImpl>(f);
      JsonataArgs full = p.args;
      for (std::size_t i = 0; i < p.holes.size(); ++i) {
        full[p.holes[i]] = i < args.size() ? args[i] : Value();
      }
      return Apply(p.target, std::move(full), input, env);
    }
    case Function::Kind::kNative: {
      const ChainImpl& c = ImplOf<ChainImpl>(f);
      JTRY(mid, Apply(c.first, std::move(args), input, env));
      return Apply(c.second, JsonataArgs{std::move(mid)}, input, env);
    }
    case Function::Kind::kTransform:
      return ApplyTransform(ImplOf<TransformImpl>(f), args);
    case Function::Kind::kLambda:
      break;
  }
  return Error("T1006", "Attempted to invoke a non-function");
}

JsonataResult Evaluator::ApplyTransform(const TransformImpl& t, JsonataArgs& args) {
  // Signature <(oa):o>
  if (args.size() > 1 ||
      (args.size() == 1 && !args[0].IsUndefined() && !args[0].IsObject() && !args[0].IsArray())) {
    return Error("T0410", "Argument 1 of function {{token}} does not match function signature");
  }
  if (args.empty() || args[0].IsUndefined()) return Value();
  const JsonataNode& node = *t.node;
  Value result = jsonata::CloneValue(args[0]);
  JTRY(matches, Eval(node.children[0], result, t.env));
  if (matches.IsUndefined()) return result;
  std::vector<Value> list;
  if (matches.IsArray()) {
    list = matches.array().items;
  } else {
    list.push_back(matches);
  }
  for (const Value& match : list) {
    JTRY(update, Eval(node.children[1], match, t.env));
    if (!update.IsUndefined()) {
      if (!update.IsObject()) {
        return Error("T2011",
                     "The insert/update clause of the transform expression must evaluate to an "
                     "object: " +
                         jsonata::Stringify(update),
                     node.children[1].position);
      }
      if (match.IsObject()) {
        auto target = match.object_ptr();
        for (const auto& [k, v] : update.object().members) {
          // A value holding the match itself would make the tree a cycle: copy it.
          target->Set(k, v.identity() == match.identity() ? jsonata::CloneValue(v) : v);
        }
      }
    }
    if (node.children.size() > 2) {
      JTRY(deletions, Eval(node.children[2], match, t.env));
      if (deletions.IsUndefined()) continue;
      std::vector<Value> names;
      if (deletions.IsArray()) {
        names = deletions.array().items;
      } else {
        names.push_back(deletions);
      }
      for (const Value& n : names) {
        if (!n.IsString()) {
          return Error("T2012",
                       "The delete clause of the transform expression must evaluate to a string "
                       "or array of strings: " +
                           jsonata::Stringify(deletions),
                       node.children[2].position);
        }
      }
      if (match.IsObject()) {
        auto target = match.object_ptr();
        for (const Value& n : names) target->Erase(n.str());
      }
    }
  }
  return result;
}

JsonataResult Evaluator::EvalPartial(const JsonataNode& node, const Value& input,
                                     const EnvPtr& env) {
  const JsonataNode& procedure = node.children[0];
  JsonataArgs args;
  std::vector<std::size_t> holes;
  for (std::size_t i = 1; i < node.children.size(); ++i) {
    if (node.children[i].kind == Kind::kPlaceholder) {
      holes.push_back(i - 1);
      args.emplace_back();
    } else {
      JTRY(a, Eval(node.children[i], input, env));
      args.push_back(std::move(a));
    }
  }
  JTRY(proc, Eval(procedure, input, env));
  const std::string name = ProcName(procedure);
  if (proc.IsUndefined() && procedure.kind == Kind::kPath && !procedure.children.empty() &&
      (env->Lookup(procedure.children[0].value) != nullptr ||
       jsonata::FindBuiltin(procedure.children[0].value) != nullptr)) {
    return Error("T1007", "Attempted to partially apply a non-function. Did you mean ${{{token}}}?",
                 node.position, name);
  }
  if (!proc.IsFunction()) {
    return Error("T1008", "Attempted to partially apply a non-function", node.position, name);
  }
  const Function& f = proc.function();
  if (f.kind == Function::Kind::kLambda && !ImplOf<LambdaImpl>(f).thunk) {
    // partialApplyProcedure: bind the supplied parameters in a new frame.
    const LambdaImpl& l = ImplOf<LambdaImpl>(f);
    auto frame = NewEnv();
    frame->parent = l.env;
    auto out = std::make_shared<LambdaImpl>();
    out->body = l.body;
    out->input = l.input;
    for (std::size_t i = 0; i < l.params.size(); ++i) {
      const bool hole = std::find(holes.begin(), holes.end(), i) != holes.end();
      if (hole) {
        out->params.push_back(l.params[i]);
      } else {
        frame->Bind(l.params[i], i < args.size() ? args[i] : Value());
      }
    }
    out->env = frame;
    return MakeFunction(Function::Kind::kLambda, std::move(out));
  }
  auto p = std::make_shared<PartialImpl>();
  p->target = proc;
  // A native function takes as many arguments as its signature declares.
  std::size_t arity = args.size();
  if (f.kind == Function::Kind::kBuiltin) {
    arity = std::max(arity, static_cast<std::size_t>(ImplOf<jsonata::BuiltinImpl>(f).arity));
  }
  args.resize(arity);
  p->args = std::move(args);
  p->holes = std::move(holes);
  return MakeFunction(Function::Kind::kPartial, std::move(p));
}

JsonataResult Evaluator::EvalApply(const JsonataNode& node, const Value& input, const EnvPtr& env) {
  JTRY(lhs, Eval(node.children[0], input, env));
  const JsonataNode& rhs = node.children[1];
  if (rhs.kind == Kind::kFunctionCall) {
    return EvalFunctionCall(rhs, input, env, &lhs);
  }
  JTRY(func, Eval(rhs, input, env));
  if (!func.IsFunction()) {
    return Error("T2006",
                 "The right side of the function application operator ~> must be a "
                 "function",
                 node.position);
  }
  if (lhs.IsFunction()) {
    auto c = std::make_shared<ChainImpl>();
    c->first = lhs;
    c->second = func;
    return MakeFunction(Function::Kind::kNative, std::move(c));
  }
  return Apply(func, JsonataArgs{lhs}, input, env);
}

// Compile-time walk: lambda signatures and regex literals (the AST nests at most the parser's
// bound, so recursion here is bounded).
void Precompile(const JsonataNode& node, JsonataExpression::Impl& impl) {
  if (node.kind == Kind::kLambda && !node.signature.empty()) {
    Signature sig;
    JsonataError error;
    if (Signature::Parse(node.signature, sig, &error)) {
      impl.signatures.emplace(&node, std::move(sig));
    } else {
      impl.signature_errors.emplace(&node, std::move(error));
    }
  }
  if (node.kind == Kind::kRegex) {
    auto compiled = jsonata::CompileJsonataRegex(node.value, node.flags);
    if (compiled.index() == 0) {
      impl.regexes.emplace(&node, std::get<0>(std::move(compiled)));
    } else {
      impl.regex_errors.emplace(&node, std::get<1>(std::move(compiled)));
    }
  }
  for (const JsonataNode& c : node.children) Precompile(c, impl);
  for (const JsonataNode& c : node.stages) Precompile(c, impl);
  for (const JsonataNode& c : node.predicates) Precompile(c, impl);
  if (node.group) Precompile(*node.group, impl);
}

// Fills in the {{token}} placeholders of a message once the token is known.
void FinishError(JsonataError& e) {
  std::string& m = e.message;
  std::size_t p;
  while ((p = m.find("{{{token}}}")) != std::string::npos) m.replace(p, 11, e.token);
  std::string quoted;
  if (e.token.empty()) {
    quoted = "undefined";
  } else {
    AppendJsonString(quoted, e.token);
  }
  while ((p = m.find("{{token}}")) != std::string::npos) m.replace(p, 9, quoted);
}

}  // namespace

namespace jsonata {

int FunctionArity(const Value& function) {
  if (!function.IsFunction()) return 0;
  const Function& f = function.function();
  switch (f.kind) {
    case Function::Kind::kLambda:
      return static_cast<int>(ImplOf<LambdaImpl>(f).params.size());
    case Function::Kind::kBuiltin:
      return ImplOf<BuiltinImpl>(f).arity;
    case Function::Kind::kPartial:
      return static_cast<int>(ImplOf<PartialImpl>(f).holes.size());
    case Function::Kind::kRegex:
      return 2;
    case Function::Kind::kNative:
    case Function::Kind::kTransform:
      return 1;
  }
  return 0;
}

namespace {
struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct BuiltinRegistry {
  std::unordered_map<std::string, Value, NameHash, std::equal_to<>> by_name;
  BuiltinRegistry() {
    JsonataBuiltinTable table;
    RegisterCoreBuiltins(table);
    RegisterJsonataLibrary(table);
    for (auto& entry : table.entries()) {
      auto b = std::make_shared<BuiltinImpl>();
      b->name = entry.name;
      JsonataError error;
      if (!Signature::Parse(entry.signature, b->signature, &error)) continue;
      // JavaScript's Function.length: jsonata-js's $string(arg, prettify = false) counts 1.
      b->arity = entry.name == "string" ? 1 : static_cast<int>(b->signature.size());
      b->fn = entry.fn;
      auto f = std::make_shared<Function>();
      f->kind = Function::Kind::kBuiltin;
      f->name = entry.name;
      f->impl = b;
      by_name[entry.name] = Value::Fn(std::move(f));
    }
  }
};
}  // namespace

const Value* FindBuiltin(std::string_view name) {
  static const BuiltinRegistry registry;
  auto it = registry.by_name.find(name);
  return it == registry.by_name.end() ? nullptr : &it->second;
}

}  // namespace jsonata

std::variant<JsonataExpression, JsonataSyntaxError> JsonataExpression::Compile(
    std::string_view text) {
  JsonataParseResult parsed = ParseJsonata(text);
  if (!parsed) return parsed.error();
  auto impl = std::make_shared<Impl>();
  impl->text = std::string(text);
  impl->root = std::move(parsed).value();
  Precompile(impl->root, *impl);
  return JsonataExpression(std::move(impl));
}

JsonataEvalResult JsonataExpression::Evaluate(const Json* input, const JsonataBindings& bindings,
                                              const JsonataOptions& options) const {
  Evaluator ev(*impl_, options);
  auto env = ev.NewEnv();
  for (const auto& [name, value] : bindings) {
    env->Bind(name, value ? jsonata::FromJsonBorrowed(*value) : Value());
  }
  Value in = input ? jsonata::FromJsonBorrowed(*input) : Value();
  env->Bind("$", in);
  if (in.IsArray()) {
    auto wrapper = Array::MakeSequence();
    wrapper->outer_wrapper = true;
    wrapper->items.push_back(in);
    in = Value::Arr(std::move(wrapper));
  }
  EnvPtr root = env;
  JsonataResult r = ev.Eval(impl_->root, in, root);
  if (!r.ok()) {
    JsonataError e = r.TakeError();
    FinishError(e);
    return e;
  }
  if (jsonata::ResultTooDeep(r.value())) {
    return JsonataError{"U1001", 0, "", "The result nests deeper than 1100 levels"};
  }
  return jsonata::ToJson(r.value());
}

const std::string& JsonataExpression::text() const { return impl_->text; }

}  // namespace switchyard::asl
