#pragma once
// JSONata (version 2.0.6, the one AWS Step Functions pins): the expression language of
// JSONata-mode states. This header is the parser's contract: expressions are parsed into an AST
// that a later evaluator walks. Pure, like the rest of asl/.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace switchyard::asl {

// A syntax error as jsonata-js reports it: its code (e.g. "S0201"), the character offset where
// it was detected, and a message.
struct JsonataSyntaxError {
  std::string code;
  std::size_t position = 0;
  std::string message;
};

// Checks that `expression` (the text between "{%" and "%}") is a syntactically valid JSONata
// expression. Returns nullopt when it is, otherwise the first error.
std::optional<JsonataSyntaxError> CheckJsonataSyntax(std::string_view expression);

// ---------------------------------------------------------------------------------------------
// The AST. ParseJsonata returns the tree after jsonata's own post-processing: `a.b[0].c` is one
// kPath whose steps carry their predicates, bindings and ancestry, ready for an evaluator.
//
// Layout per kind (children are in source order unless said otherwise):
//   kNumber      number
//   kString      value = the decoded text (UTF-8)
//   kValue       value = "true" | "false" | "null"
//   kRegex       value = the pattern as written, flags = "i"/"m" letters as written
//   kName        value = field name (a path step; a quoted string used as a step becomes kName)
//   kVariable    value = name without '$' ("" for `$`, "$" for `$$`)
//   kWildcard    `*`           kDescendant `**`
//   kParent      `%`; value = the ancestor label it reads (the step that binds it has the same
//                label in `ancestor`)
//   kBinary      value = operator: + - * / % = != < <= > >= & and or in .. ; children = lhs, rhs
//                (".." only occurs as an item of an array constructor)
//   kNegate      unary minus of a non-literal; children = operand (-<number> folds to kNumber)
//   kArray       children = items; cons_array when it is the first or last step of a path
//   kObject      children = key0, value0, key1, value1, ...
//   kPath        children = steps (any node kind); keep_array when a step was written `x[]`
//   kFilter      a predicate `[expr]` in `stages`/`predicates`; children = expr
//   kIndex       an index binding `#$i` in `stages` after a predicate; value = variable name
//   kSort        a path step `^(...)`; children = kSortTerm
//   kSortTerm    children = expr; descending for `>expr`
//   kFunctionCall children = procedure, arguments...
//   kPartial     like kFunctionCall; at least one argument is a kPlaceholder (`?`)
//   kPlaceholder `?` in an argument list
//   kLambda      parameters = names without '$', signature = "<...>" or "", children = body
//   kCondition   children = condition, then[, else]
//   kBlock       children = expressions of `( a; b; c )`
//   kBind        children = kVariable, value              (`$x := value`)
//   kApply       children = lhs, rhs                      (`lhs ~> rhs`)
//   kTransform   children = pattern, update[, delete]     (`| pattern | update, delete |`)
enum class JsonataNodeKind {
  kNumber,
  kString,
  kValue,
  kRegex,
  kName,
  kVariable,
  kWildcard,
  kDescendant,
  kParent,
  kBinary,
  kNegate,
  kArray,
  kObject,
  kPath,
  kFilter,
  kIndex,
  kSort,
  kSortTerm,
  kFunctionCall,
  kPartial,
  kPlaceholder,
  kLambda,
  kCondition,
  kBlock,
  kBind,
  kApply,
  kTransform,
};

// One node. Move-only (children own their subtrees).
struct JsonataNode {
  JsonataNodeKind kind = JsonataNodeKind::kValue;
  std::size_t position = 0;  // offset of the token that made the node
  std::string value;
  double number = 0;
  std::string flags;  // kRegex
  std::vector<JsonataNode> children;
  std::vector<std::string> parameters;  // kLambda
  std::string signature;                // kLambda
  bool descending = false;              // kSortTerm

  // Annotations on a path step, or on an expression that a predicate/group follows.
  std::vector<JsonataNode> stages;      // on a path step: kFilter / kIndex, in order
  std::vector<JsonataNode> predicates;  // on a non-step expression (`$x[0]`): kFilter
  std::unique_ptr<JsonataNode> group;   // `expr{k: v}` group-by: a kObject
  std::optional<std::string> focus;     // `@$v` (name without '$')
  std::optional<std::string> index;     // `#$i` before any predicate (name without '$')
  std::string ancestor;                 // label bound for a `%` further on ("" = none)
  bool keep_array = false;              // `x[]`
  bool cons_array = false;
  bool tuple = false;  // the step binds variables (focus/index/ancestor)
};

// Either the tree or the first syntax error, shaped like Result<T>.
class [[nodiscard]] JsonataParseResult {
 public:
  JsonataParseResult(JsonataNode node) : v_(std::move(node)) {}           // NOLINT
  JsonataParseResult(JsonataSyntaxError error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  JsonataNode& value() & { return std::get<0>(v_); }
  const JsonataNode& value() const& { return std::get<0>(v_); }
  JsonataNode&& value() && { return std::get<0>(std::move(v_)); }
  const JsonataSyntaxError& error() const& { return std::get<1>(v_); }

 private:
  std::variant<JsonataNode, JsonataSyntaxError> v_;
};

// Parses `expression` as jsonata-js 2.0.6 does, with its error codes: S0101 unterminated
// string, S0102 number out of range, S0103 unsupported escape, S0104 bad backslash-u escape, S0105
// unterminated `name`, S0106 unterminated comment, S0201 unexpected token (also used when the
// expression nests deeper than this parser allows), S0202 expected X got Y, S0203 expected X
// before end, S0204 unknown operator, S0207 unexpected end, S0208 lambda parameter not a
// variable, S0209/S0210 predicate/grouping after grouping, S0211 symbol is not a prefix
// operator, S0212 `:=` needs a variable, S0213 literal used as a path step, S0214 `@`/`#` need a
// variable, S0215/S0216 focus binding after a predicate/sort, S0217 `%` without an ancestor,
// S0301 empty regex, S0302 unterminated regex, S0401/S0402 bad function signature.
// `??` and `?:` (jsonata 2.1) are not part of 2.0.6 and are rejected.
JsonataParseResult ParseJsonata(std::string_view expression);

}  // namespace switchyard::asl
