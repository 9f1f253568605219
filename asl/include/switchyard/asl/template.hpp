#pragma once
// Payload templates ("key.$" fields) and the 18 intrinsic functions (States.Format, ...).
//
// A template is compiled once, when the definition is parsed, and evaluated per state entry.
// Randomness (States.UUID, States.MathRandom without a seed) comes in through RandomSource, so
// evaluation stays deterministic for the execution core.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/asl/json.hpp"
#include "switchyard/asl/jsonpath.hpp"
#include "switchyard/asl/result.hpp"

namespace switchyard::asl {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // 64 uniformly distributed bits.
  virtual uint64_t NextU64() = 0;
};

// A definition-time problem in a template or intrinsic, with a JSON pointer relative to the
// template's root (e.g. "/value.$"), one of the diagnostic codes of names.hpp, and a message.
struct TemplateIssue {
  std::string location;
  std::string code;
  std::string message;
};

// One parsed intrinsic call, e.g. States.Format('{} x', $.a). Thread model: immutable value.
class Intrinsic {
 public:
  // Parses the call; Error.cause explains a syntax error, an unknown function or a wrong
  // argument count / literal type (Error.error is left empty).
  static Result<Intrinsic> Parse(std::string_view text);
  // True when `text` looks like an intrinsic call (starts with "States.<Name>(").
  static bool LooksLikeIntrinsic(std::string_view text);

  Intrinsic(Intrinsic&&) noexcept;
  Intrinsic& operator=(Intrinsic&&) noexcept;
  Intrinsic(const Intrinsic&);
  Intrinsic& operator=(const Intrinsic&);
  ~Intrinsic();

  // Evaluates the call. Errors are States.IntrinsicFailure with AWS's causes; a path argument that
  // selects nothing is States.Runtime.
  Result<Json> Evaluate(const Scope& scope, RandomSource& random) const;

  struct Node;

 private:
  Intrinsic();
  std::unique_ptr<Node> root_;
};

// A compiled payload template (Parameters, ResultSelector, ItemSelector, Assign in JSONPath mode,
// Credentials). Thread model: immutable value.
class PayloadTemplate {
 public:
  // Compiles `tmpl`. Keys ending in ".$" must hold a string that is a path (`$...`, `$$...`,
  // `$var...`) or an intrinsic call; other values are copied as they are. Problems are appended to
  // `issues` (locations relative to the template) and the result is then unusable.
  static PayloadTemplate Compile(const Json& tmpl, std::vector<TemplateIssue>* issues);

  PayloadTemplate(PayloadTemplate&&) noexcept;
  PayloadTemplate& operator=(PayloadTemplate&&) noexcept;
  PayloadTemplate(const PayloadTemplate&);
  PayloadTemplate& operator=(const PayloadTemplate&);
  ~PayloadTemplate();

  // Builds the payload. A path that selects nothing gives States.Runtime with AWS's cause:
  // "The JSONPath '$.x' specified for the field 'value.$' could not be found in the input '<input
  // as compact JSON>'"; intrinsic failures give States.IntrinsicFailure.
  Result<Json> Evaluate(const Scope& scope, RandomSource& random) const;

  // True when some path in the template (or in its intrinsic arguments) reads the context
  // object ($$...): only then does Evaluate need Scope::context.
  bool UsesContext() const;

  struct Node;

 private:
  PayloadTemplate();
  std::unique_ptr<Node> root_;
};

}  // namespace switchyard::asl
