#pragma once
// The JSONata evaluator's internal value model and the interface between the evaluator core
// (asl/src/jsonata_eval.cpp, owned by the evaluator) and the function library
// (asl/src/jsonata_lib*.cpp, owned by the library).
//
// HOW THE LIBRARY PLUGS IN (stable; add to it, do not rename):
//   * asl/src/jsonata_lib.cpp DEFINES `RegisterJsonataLibrary` and `CompileJsonataRegex` (both
//     declared at the end of this header). The evaluator ships a placeholder version of that file
//     (no functions, regex literals fail with D1004-like "not supported"); the library replaces
//     the file wholesale and may add more files asl/src/jsonata_lib_*.cpp (add them to
//     switchyard_asl_jsonata's SOURCES in asl/CMakeLists.txt).
//   * RegisterJsonataLibrary(table) calls table.Add(name, signature, fn) once per function, e.g.
//       table.Add("formatBase", "<n-n?:s>", [](JsonataCall& call, JsonataArgs& args) ->
//       JsonataResult {...});
//     `signature` is jsonata's signature syntax; the evaluator validates the arguments against it
//     before the call (T0410/T0411/T0412, context insertion for `-`, `a` wrapping of a single value
//     into an array), exactly as jsonata-js's signature.js does. So `fn` receives exactly one
//     Value per parameter of the signature (an omitted optional argument is Undefined).
//   * A function registered by the library replaces one of the same name registered by the core.
//   * Errors: return a JsonataError (code + message, e.g. MakeJsonataError("D3100", "The radix of
//     the formatBase function must be between 2 and 36.  It was given 1")). The evaluator fills in
//     position and token (the function's name) when they are empty, as jsonata-js does.
//   * Higher-order functions call function values through call.Apply(fn, args); they learn how many
//     parameters a function value declares through FunctionArity(fn) (jsonata-js's
//     getFunctionArity: $map passes (value, index, array) according to it).
//
// Values are immutable once they are shared: a builder makes a fresh Array/Object, fills it and
// then wraps it in a Value. Thread model: a Value may be read from many threads; evaluation of one
// expression runs on one thread.
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "switchyard/asl/json.hpp"
#include "switchyard/asl/jsonata_eval.hpp"

namespace switchyard::asl::jsonata {

enum class ValueKind : uint8_t {
  kUndefined,
  kNull,
  kBool,
  kNumber,
  kString,
  kArray,
  kObject,
  kFunction,
};

struct Array;
struct Object;
struct Function;

// One JSONata value. Small (32 bytes); copying shares the heap part (strings, arrays, objects,
// functions are reference-counted and immutable once shared).
//
// An array or object of the evaluation's input (or of a binding) is BORROWED: the Value points at
// the caller's Json (which outlives the evaluation) and nothing is copied. Reading one member
// (Member), one item (ItemAt) or the size (ArraySize) works on the Json itself; array() and
// object() build the heap part on first use (its items borrowed in turn, one level at a time) and
// keep it in this Value (not in its earlier copies). Values are confined to one evaluation on one
// thread, so this caching through a const Value is safe.
class Value {
 public:
  Value() = default;  // undefined
  static Value Undefined() { return Value(); }
  static Value Null() { return Value(ValueKind::kNull); }
  static Value Bool(bool b) {
    Value v(ValueKind::kBool);
    v.bool_ = b;
    return v;
  }
  static Value Number(double d) {
    Value v(ValueKind::kNumber);
    v.number_ = d;
    return v;
  }
  static Value String(std::string s);
  static Value String(std::shared_ptr<const std::string> s);
  static Value Arr(std::shared_ptr<Array> a);
  static Value Obj(std::shared_ptr<Object> o);
  static Value Fn(std::shared_ptr<Function> f);
  // A JSON value as a Value: scalars converted, containers borrowed (see above). `json` must
  // outlive every Value made from it.
  static Value Borrow(const Json& json);

  ValueKind kind() const { return kind_; }
  bool IsUndefined() const { return kind_ == ValueKind::kUndefined; }
  bool IsNull() const { return kind_ == ValueKind::kNull; }
  bool IsBool() const { return kind_ == ValueKind::kBool; }
  bool IsNumber() const { return kind_ == ValueKind::kNumber; }
  bool IsString() const { return kind_ == ValueKind::kString; }
  bool IsArray() const { return kind_ == ValueKind::kArray; }
  bool IsObject() const { return kind_ == ValueKind::kObject; }
  bool IsFunction() const { return kind_ == ValueKind::kFunction; }

  bool boolean() const { return bool_; }
  double number() const { return number_; }
  // Only for the kind they name.
  // (A string of the input is borrowed too: sv() reads it in place, str() copies it on first use.)
  const std::string& str() const {
    if (!ptr_) Build();
    return *static_cast<const std::string*>(ptr_.get());
  }
  std::string_view sv() const {
    if (!ptr_) return {json_->GetString(), json_->GetStringLength()};
    return *static_cast<const std::string*>(ptr_.get());
  }
  inline const Array& array() const;
  inline const Object& object() const;
  const Function& function() const { return *static_cast<const Function*>(ptr_.get()); }
  // The shared heap part (for sharing it in another Value without a copy).
  std::shared_ptr<Array> array_ptr() const {
    array();
    return std::static_pointer_cast<Array>(ptr_);
  }
  std::shared_ptr<Object> object_ptr() const {
    object();
    return std::static_pointer_cast<Object>(ptr_);
  }
  std::shared_ptr<Function> function_ptr() const {
    return std::static_pointer_cast<Function>(ptr_);
  }
  // Identity of the container (jsonata's `===` on objects/arrays/functions).
  const void* identity() const { return borrowed() != nullptr ? json_ : ptr_.get(); }
  // How many Values share the heap part (the core's iterative destruction uses it).
  long use_count() const { return ptr_.use_count(); }

  // The input Json a borrowed array or object stands for, or nullptr.
  const Json* borrowed() const {
    return kind_ == ValueKind::kArray || kind_ == ValueKind::kObject ? json_ : nullptr;
  }
  // An array's size and item `i` (< size), without building the heap part of a borrowed array.
  inline std::size_t ArraySize() const;
  inline Value ItemAt(std::size_t i) const;
  // An object's member `key` (undefined when absent), without building the heap part of a
  // borrowed object (duplicate keys: the last wins, as JSON.parse has it).
  inline Value Member(std::string_view key) const;

 private:
  explicit Value(ValueKind kind) : kind_(kind) {}
  void Build() const;  // the heap part of a borrowed container or string
  ValueKind kind_ = ValueKind::kUndefined;
  bool bool_ = false;
  union {
    double number_ = 0;
    const Json* json_;  // a borrowed container or string (kArray, kObject, kString only)
  };
  mutable std::shared_ptr<void> ptr_;
};

// A JSON array or a jsonata sequence (with jsonata-js's flags).
struct Array {
  Array() = default;
  Array(const Array&) = default;
  Array& operator=(const Array&) = default;
  // Frees nested containers iteratively, so a value nested any depth never exhausts the stack.
  ~Array();

  std::vector<Value> items;
  bool sequence = false;        // a result sequence (flattened, singleton-collapsed)
  bool keep_singleton = false;  // `x[]`: a singleton sequence stays an array
  bool outer_wrapper = false;   // the input array wrapped as a one-item sequence
  bool tuple_stream = false;    // items are tuple objects {"@": value, var: value...}
  bool cons = false;            // built by an array constructor
  static std::shared_ptr<Array> Make() { return std::make_shared<Array>(); }
  static std::shared_ptr<Array> MakeSequence() {
    auto a = std::make_shared<Array>();
    a->sequence = true;
    return a;
  }
};

// A JSON object: members in insertion order (as JavaScript keeps string keys), with a hash index
// for large objects.
struct Object {
  ~Object();  // iterative, as Array's
  Object() = default;
  Object(const Object& other) : members(other.members) {}
  Object& operator=(const Object& other) {
    if (this != &other) {
      members = other.members;
      index_.clear();
    }
    return *this;
  }

  // The value of `key`, or nullptr.
  const Value* Find(std::string_view key) const;
  // Adds `key` at the end, or replaces its value in place.
  void Set(std::string_view key, Value value);
  // Removes `key` (keeps the order of the others). Returns whether it was there.
  bool Erase(std::string_view key);
  std::size_t size() const { return members.size(); }

  std::vector<std::pair<std::string, Value>> members;

  static std::shared_ptr<Object> Make() { return std::make_shared<Object>(); }

 private:
  void BuildIndex() const;
  mutable std::unordered_map<std::string_view, std::size_t> index_;  // when large
};

inline const Array& Value::array() const {
  if (!ptr_) Build();
  return *static_cast<const Array*>(ptr_.get());
}
inline const Object& Value::object() const {
  if (!ptr_) Build();
  return *static_cast<const Object*>(ptr_.get());
}
inline std::size_t Value::ArraySize() const {
  if (ptr_ || json_ == nullptr) return array().items.size();
  return json_->Size();
}
inline Value Value::ItemAt(std::size_t i) const {
  if (ptr_ || json_ == nullptr) return array().items[i];
  return Borrow((*json_)[static_cast<rapidjson::SizeType>(i)]);
}
inline Value Value::Member(std::string_view key) const {
  if (ptr_ || json_ == nullptr) {
    const Value* v = object().Find(key);
    return v != nullptr ? *v : Value();
  }
  // From the end: with duplicate keys the last wins, as JSON.parse has it.
  const Json* found = nullptr;
  for (auto m = json_->MemberEnd(); m != json_->MemberBegin();) {
    --m;
    if (m->name.GetStringLength() == key.size() &&
        (key.empty() || (m->name.GetString()[0] == key[0] &&
                         std::memcmp(m->name.GetString(), key.data(), key.size()) == 0))) {
      found = &m->value;
      break;
    }
  }
  return found != nullptr ? Borrow(*found) : Value();
}

// An array's jsonata flags (sequence, cons, ...) without building a borrowed JSON array, whose
// flags are all unset.
inline const Array& FlagsOf(const Value& array) {
  static const Array kPlain;
  return array.borrowed() != nullptr && array.use_count() == 0 ? kPlain : array.array();
}

using JsonataArgs = std::vector<Value>;

// What a library function returns: a Value (possibly Undefined) or an error.
class [[nodiscard]] JsonataResult {
 public:
  JsonataResult(Value value) : value_(std::move(value)) {}  // NOLINT
  JsonataResult(JsonataError error)                         // NOLINT
      : error_(std::make_unique<JsonataError>(std::move(error))) {}
  bool ok() const { return !error_; }
  explicit operator bool() const { return ok(); }
  Value& value() { return value_; }
  JsonataError& error() { return *error_; }
  JsonataError TakeError() { return std::move(*error_); }

 private:
  Value value_;
  std::unique_ptr<JsonataError> error_;
};

inline JsonataError MakeJsonataError(std::string code, std::string message) {
  return JsonataError{std::move(code), std::nullopt, "", std::move(message)};
}

// What a library function sees of the evaluation calling it.
class JsonataCall {
 public:
  virtual ~JsonataCall() = default;
  // The context value (jsonata's focus/input) at the call.
  virtual const Value& Input() const = 0;
  virtual const JsonataOptions& Options() const = 0;
  // 64 random bits from options.random (or the evaluator's fixed-seed generator).
  virtual uint64_t RandomBits() = 0;
  // Applies a function value (lambda, builtin, partial, regex) to `args`, with jsonata's
  // semantics (signature validation, tail calls, depth and step limits).
  virtual JsonataResult Apply(const Value& function, JsonataArgs args) = 0;
};

using JsonataNativeFn = std::function<JsonataResult(JsonataCall&, JsonataArgs&)>;

// A compiled regular expression (jsonata's regex literal /.../flags). The library defines the
// concrete class; the core only keeps it in a function Value and calls Apply when an expression
// invokes the regex itself (jsonata-js: returns {match, start, end, groups, next}).
class JsonataRegex {
 public:
  virtual ~JsonataRegex() = default;
  virtual JsonataResult Apply(JsonataCall& call, JsonataArgs& args) const = 0;
};

// A function value. The core builds lambdas and partial applications; the library sees builtins
// and regexes through these accessors.
struct Function {
  enum class Kind : uint8_t { kLambda, kBuiltin, kRegex, kPartial, kTransform, kNative };
  Kind kind = Kind::kBuiltin;
  std::string name;                           // builtin name (without '$')
  std::shared_ptr<const JsonataRegex> regex;  // kRegex
  std::shared_ptr<const void> impl;           // the core's data for the other kinds
};

// How many parameters a function value declares (jsonata-js's getFunctionArity).
int FunctionArity(const Value& function);

// The table of builtin functions the library fills.
class JsonataBuiltinTable {
 public:
  // Registers $name. `signature` is a jsonata signature ("<s-n?:s>"); it must be valid.
  void Add(std::string name, std::string signature, JsonataNativeFn fn);

  struct Entry {
    std::string name;
    std::string signature;
    JsonataNativeFn fn;
  };
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

// ---- Helpers the core implements (jsonata_eval.cpp) for the library to use. ----

// A JSON value as a jsonata value (iterative; shares nothing with `json`).
Value FromJson(const Json& json);
// A jsonata value as JSON (functions dropped as JSON.stringify drops them; undefined -> nullopt;
// non-finite numbers -> null, as JSON.stringify writes them).
std::optional<Json> ToJson(const Value& value);
// JavaScript's Number.prototype.toString / JSON.stringify of a finite number ("1e+21", "0.1",
// "100").
std::string NumberToString(double number);
// jsonata's $string(value, prettify): strings as they are, numbers with 15 significant digits,
// others as JSON (functions as ""). Errors: D3001 for a non-finite number.
JsonataResult StringOf(const Value& value, bool prettify = false);
// jsonata's truthiness ($boolean): Undefined when value is undefined.
Value BooleanOf(const Value& value);
// jsonata's deep equality (=).
bool DeepEqual(const Value& a, const Value& b);
// The number of Unicode code points of UTF-8 text (what jsonata-js's $length counts).
std::size_t CodePointLength(std::string_view utf8);
// The string of `value` when it is a string, else nullptr.
inline const std::string* AsString(const Value& value) {
  return value.IsString() ? &value.str() : nullptr;
}

// ---- Defined by the library (asl/src/jsonata_lib.cpp). ----

// Adds the library's functions to `table`.
void RegisterJsonataLibrary(JsonataBuiltinTable& table);

// Compiles the regex literal /pattern/flags (flags as written: any of "i", "m"). On an invalid
// pattern returns an error (jsonata-js reports the JavaScript engine's SyntaxError as code
// "S0301"-like; the library chooses).
std::variant<std::shared_ptr<const JsonataRegex>, JsonataError> CompileJsonataRegex(
    std::string_view pattern, std::string_view flags);

}  // namespace switchyard::asl::jsonata
