#pragma once
// Evaluating JSONata expressions: jsonata-js 2.0.6 semantics with AWS Step Functions' changes
// (no $eval; $partition, $range, $hash, $random, $uuid, $parse added). Pure, like the rest of
// asl/: "now" and randomness come in through JsonataOptions, and a caller that wants a wall-clock
// time limit supplies the check (`interrupted`) itself.
//
// This header is the contract between the evaluator and its users (the execution core's JSONata
// data flow, TestState, `switchyard jsonata`, the fuzz target and the benchmark).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "switchyard/asl/json.hpp"
#include "switchyard/asl/jsonata.hpp"
#include "switchyard/asl/template.hpp"  // RandomSource

namespace switchyard::asl {

// An evaluation error as jsonata-js reports it: its code ("T2001", "D3030", "U1001", or the
// S0xxx of a syntax error), the character offset in the expression (when jsonata-js gives one),
// the token involved (when it gives one) and its message text.
struct JsonataError {
  std::string code;
  std::optional<std::size_t> position;
  std::string token;
  std::string message;
};

struct JsonataOptions {
  // Deepest evaluation nesting (nested calls of non-tail lambdas, nested constructors, ...) before
  // the evaluation fails with U1001 ("Stack overflow error: Check for non-terminating recursive
  // function.  Consider rewriting as tail-recursive."). The evaluator never uses more native stack
  // than this bound allows, whatever the expression: about 1 KB of native stack per level
  // (RelWithDebInfo, x86-64), so the default needs about 1 MB of the calling thread's stack.
  int max_depth = 1000;
  // Upper bound on evaluation steps (0 = unbounded); past it the evaluation fails with U1001-like
  // "Expression evaluation timeout" (jsonata-js's timebox error code is U1001 as well). A step is
  // one evaluation of an expression node; ranges and long string concatenations count extra
  // steps in proportion to their size, so this also bounds the memory an expression can take.
  // With neither max_steps nor `interrupted`, a tail-recursive infinite loop never ends: callers
  // that evaluate untrusted expressions set one of them.
  uint64_t max_steps = 0;
  // Polled every few thousand steps; returning true ends the evaluation with the timeout error.
  std::function<bool()> interrupted;
  // $now() and $millis(): milliseconds since the Unix epoch, one instant per evaluation.
  int64_t now_ms = 0;
  // $random() without a seed, $uuid(), $shuffle(). Null: a fixed-seed generator.
  RandomSource* random = nullptr;
};

// Variables visible to the expression as $name (name without '$'). Values are borrowed, not copied.
using JsonataBindings = std::vector<std::pair<std::string, const Json*>>;

// The value of an evaluation: a JSON value, or nullopt when the result is undefined (jsonata's
// `undefined`, which AWS treats differently from null). Functions inside a result are dropped the
// way JSON.stringify drops them.
using JsonataValue = std::optional<Json>;

class [[nodiscard]] JsonataEvalResult {
 public:
  JsonataEvalResult(JsonataValue value) : v_(std::move(value)) {}  // NOLINT
  JsonataEvalResult(JsonataError error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  JsonataValue& value() & { return std::get<0>(v_); }
  JsonataValue&& value() && { return std::get<0>(std::move(v_)); }
  const JsonataError& error() const& { return std::get<1>(v_); }

 private:
  std::variant<JsonataValue, JsonataError> v_;
};

// A parsed (and possibly pre-compiled) expression. Immutable once built; cheap to copy (shared);
// safe to evaluate from many threads at once.
class JsonataExpression {
 public:
  // Parses `text` (what is between "{%" and "%}", or a whole expression for the CLI).
  static std::variant<JsonataExpression, JsonataSyntaxError> Compile(std::string_view text);

  // Evaluates against `input` (nullptr: the input is undefined) with `bindings`. The input and the
  // bound values are read in place, never copied (the cost of an evaluation does not grow with
  // the parts of the input it does not visit); the result shares nothing with them.
  JsonataEvalResult Evaluate(const Json* input, const JsonataBindings& bindings,
                             const JsonataOptions& options) const;

  // The text it was compiled from.
  const std::string& text() const;

  struct Impl;

 private:
  explicit JsonataExpression(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace switchyard::asl
