#pragma once
// Internal to the evaluator core: function implementations, signatures, environments, and the
// core's builtins (jsonata_builtins.cpp). Not for the library (it uses jsonata_value.hpp only).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "jsonata_value.hpp"

namespace switchyard::asl::jsonata {

// A parsed jsonata function signature ("<s-nn?:s>"), validated like jsonata-js's signature.js.
class Signature {
 public:
  struct Param {
    std::string set;       // accepted type symbols (s n b l a o f + m for missing)
    char type = 'x';       // the declared type symbol ('(' for a choice)
    bool context = false;  // '-': the context value stands in when missing
    bool optional = false;
    bool repeat = false;  // '+'
    std::string subtype;  // a<n> / f<...>
  };
  // Parses; on a malformed signature returns false and leaves `error` (S0401/S0402).
  static bool Parse(std::string_view text, Signature& out, JsonataError* error);
  // Validates `args` (the function's arguments as supplied) and returns the arguments the function
  // receives, or T0410/T0411/T0412.
  JsonataResult Validate(JsonataArgs& args, const Value& context, JsonataArgs& out) const;
  std::size_t size() const { return params_.size(); }

 private:
  std::vector<Param> params_;
};

// One frame of variables (jsonata's environment). Frames form a chain to the builtins.
struct Env {
  std::shared_ptr<Env> parent;
  std::vector<std::pair<std::string_view, Value>> vars;
  Value keep_alive;  // owner of names bound from a tuple

  const Value* Lookup(std::string_view name) const {
    for (const Env* e = this; e != nullptr; e = e->parent.get()) {
      for (const auto& [n, v] : e->vars) {
        if (n == name) return &v;
      }
    }
    return nullptr;
  }
  void Bind(std::string_view name, Value value) {
    for (auto& [n, v] : vars) {
      if (n == name) {
        v = std::move(value);
        return;
      }
    }
    vars.emplace_back(name, std::move(value));
  }
};
using EnvPtr = std::shared_ptr<Env>;

struct BuiltinImpl {
  std::string name;
  Signature signature;
  JsonataNativeFn fn;
  int arity = 0;
};

// A scalar JSON value as a Value.
Value ScalarFromJson(const Json& json);
// A JSON value as a Value converted lazily, one level at a time: it refers to `json`, which must
// outlive every Value made from it (the evaluation's input and bindings do).
Value FromJsonBorrowed(const Json& json);

// Whether a result nests too deep to be returned as JSON.
bool ResultTooDeep(const Value& value);

// The builtins, by name (without '$'): the core's, then the library's over them.
const Value* FindBuiltin(std::string_view name);

// Registers the core's own builtins.
void RegisterCoreBuiltins(JsonataBuiltinTable& table);

// JSON.stringify of a value for error messages ("undefined" for undefined and functions).
std::string Stringify(const Value& value);

// The jsonata-js $clone of a value (JSON round trip through $string), for transforms.
Value CloneValue(const Value& value);

// Function arity for hofFuncArgs.
int FunctionArity(const Value& function);

// jsonata-js's fn.boolean for a function argument of a builtin (a function is false).
Value BooleanOfArg(const Value& value);

}  // namespace switchyard::asl::jsonata
