#pragma once
// JSONPath as AWS Step Functions evaluates it (the Jayway JsonPath engine's semantics).
//
// Three roots: `$` the state's input (or whatever document the field applies to), `$$` the
// context object, `$name` a workflow variable (`$name.field[0]` reads into it).
// A *reference path* selects one node: names, quoted names and array indices only (no `*`,
// `..`, slices, unions or filters). A *definite* path is one that Jayway treats as returning a
// single value (the same as a reference path); any other path returns a list of matches.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/asl/json.hpp"
#include "switchyard/asl/result.hpp"

namespace switchyard::asl {

// Where a path looks things up. Thread model: a value; the referenced documents must outlive it.
class VariableLookup {
 public:
  virtual ~VariableLookup() = default;
  // The variable's value, or nullptr when no variable of that name is in scope.
  virtual const Json* Find(std::string_view name) const = 0;
};

struct Scope {
  const Json* input = nullptr;                // `$`
  const Json* context = nullptr;              // `$$`; nullptr when there is none
  const VariableLookup* variables = nullptr;  // `$name`; nullptr when none are visible
};

class JsonPath {
 public:
  enum class Root { kInput, kContext, kVariable };

  // Parses a path. On a syntax error returns Error{"", message} where message explains where
  // (e.g. "unexpected character ']' at position 4").
  static Result<JsonPath> Parse(std::string_view text);

  JsonPath(JsonPath&&) noexcept;
  JsonPath& operator=(JsonPath&&) noexcept;
  JsonPath(const JsonPath&);
  JsonPath& operator=(const JsonPath&);
  ~JsonPath();

  const std::string& text() const { return text_; }
  Root root() const;
  // For kVariable: the variable's name (without `$`).
  const std::string& variable_name() const;
  // True when the path selects at most one node (no wildcard, deep scan, slice, union, filter).
  bool IsReferencePath() const;
  // Jayway's normalised form of the path, e.g. "$['a']['b'][0]" (used in its error messages).
  std::string Normalized() const;

  // Evaluates the path.
  // - Reference path: the selected node (a copy); when a name or index is missing, Error with
  //   cause in Jayway's words, e.g. "No results for path: $['a']['b']"  (error name left empty:
  //   the caller knows which ASL error applies).
  // - Other paths: a JSON array of all matches (possibly empty), as Jayway returns lists.
  // An unknown variable is an error: "The variable 'name' was not found" (caller decides).
  Result<Json> Evaluate(const Scope& scope) const;
  // Evaluates against one document as `$` (no context, no variables).
  Result<Json> Evaluate(const Json& root) const;

  // ResultPath: writes `value` into `root` at this reference path (rooted at `$`), creating
  // intermediate objects as needed; `$` replaces the whole document. Fails (returns false) when
  // an intermediate node exists but is not an object, or an index is out of range.
  bool Assign(Json& root, Json value) const;

  struct Impl;

 private:
  JsonPath();
  std::string text_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::asl
