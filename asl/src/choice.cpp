#include <optional>
#include <string>
#include <vector>

#include "switchyard/asl/definition.hpp"
#include "switchyard/asl/names.hpp"
#include "switchyard/asl/timestamp.hpp"

namespace switchyard::asl {
namespace {

// ASL: StringMatches takes `*` as "any run of characters"; `\*` and `\\` are literal.
bool WildcardMatch(std::string_view text, std::string_view pattern) {
  // Tokenise the pattern into literal characters and wildcards.
  std::vector<bool> is_star;
  std::vector<char> chars;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      chars.push_back(pattern[++i]);
      is_star.push_back(false);
    } else {
      chars.push_back(pattern[i]);
      is_star.push_back(pattern[i] == '*');
    }
  }
  // Greedy matching with backtracking to the last star.
  std::size_t t = 0, p = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < chars.size() && !is_star[p] && chars[p] == text[t]) {
      ++t;
      ++p;
    } else if (p < chars.size() && is_star[p]) {
      star = p++;
      mark = t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < chars.size() && is_star[p]) ++p;
  return p == chars.size();
}

int CompareNumbers(const Json& a, const Json& b) {
  if (a.IsInt64() && b.IsInt64()) {
    return a.GetInt64() < b.GetInt64() ? -1 : (a.GetInt64() > b.GetInt64() ? 1 : 0);
  }
  const double x = a.GetDouble();
  const double y = b.GetDouble();
  return x < y ? -1 : (x > y ? 1 : 0);
}

bool Holds(int cmp, int kind) {
  switch (kind) {
    case 0:
      return cmp == 0;
    case 1:
      return cmp < 0;
    case 2:
      return cmp > 0;
    case 3:
      return cmp <= 0;
    default:
      return cmp >= 0;
  }
}

// Which comparison (0 Equals, 1 LessThan, 2 GreaterThan, 3 LessThanEquals, 4 GreaterThanEquals)
// an operator name ends with.
int ComparisonKind(std::string_view name) {
  if (name.ends_with("Path")) name.remove_suffix(4);
  if (name.ends_with("LessThanEquals")) return 3;
  if (name.ends_with("GreaterThanEquals")) return 4;
  if (name.ends_with("LessThan")) return 1;
  if (name.ends_with("GreaterThan")) return 2;
  return 0;
}

bool Compare(std::string_view op_name, const Json& value, const Json& operand) {
  const int kind = ComparisonKind(op_name);
  if (op_name.starts_with("String")) {
    if (!value.IsString() || !operand.IsString()) return false;
    const int cmp = JsonView(value).compare(JsonView(operand));
    return Holds(cmp < 0 ? -1 : (cmp > 0 ? 1 : 0), kind);
  }
  if (op_name.starts_with("Numeric")) {
    if (!value.IsNumber() || !operand.IsNumber()) return false;
    return Holds(CompareNumbers(value, operand), kind);
  }
  if (op_name.starts_with("Boolean")) {
    return value.IsBool() && operand.IsBool() && value.GetBool() == operand.GetBool();
  }
  if (op_name.starts_with("Timestamp")) {
    if (!value.IsString() || !operand.IsString()) return false;
    const auto a = ParseTimestamp(JsonView(value));
    const auto b = ParseTimestamp(JsonView(operand));
    if (!a || !b) return false;
    return Holds(*a < *b ? -1 : (*a > *b ? 1 : 0), kind);
  }
  return false;
}

// One comparison (or a JSONata condition, which this evaluator does not compute).
Result<bool> EvaluateLeaf(const ChoiceRule& rule, const Scope& scope) {
  if (rule.kind == ChoiceRule::Kind::kCondition) {
    if (rule.condition.IsBool()) return rule.condition.GetBool();
    return Error{std::string(kStatesQueryEvaluationError),
                 "JSONata conditions are not evaluated by this build"};
  }
  if (!rule.variable) return false;
  Result<Json> value = rule.variable->Evaluate(scope);
  if (rule.op == ChoiceOperator::kIsPresent) {
    const bool present =
        value.ok() && !(value->IsArray() && !rule.variable->IsReferencePath() && value->Empty());
    return rule.operand.IsBool() && rule.operand.GetBool() == present;
  }
  if (!value.ok()) {
    return Error{std::string(kStatesRuntime),
                 "Invalid path '" + rule.variable->text() +
                     "': The choice state's condition path references an invalid value."};
  }
  const Json& v = *value;
  const std::string_view name = ChoiceOperatorName(rule.op);
  auto type_test = [&](bool holds) -> Result<bool> {
    return rule.operand.IsBool() && rule.operand.GetBool() == holds;
  };
  switch (rule.op) {
    case ChoiceOperator::kIsNull:
      return type_test(v.IsNull());
    case ChoiceOperator::kIsNumeric:
      return type_test(v.IsNumber());
    case ChoiceOperator::kIsString:
      return type_test(v.IsString());
    case ChoiceOperator::kIsBoolean:
      return type_test(v.IsBool());
    case ChoiceOperator::kIsTimestamp:
      return type_test(v.IsString() && ParseTimestamp(JsonView(v)).has_value());
    case ChoiceOperator::kStringMatches:
      return v.IsString() && rule.operand.IsString() &&
             WildcardMatch(JsonView(v), JsonView(rule.operand));
    default:
      break;
  }
  if (name.ends_with("Path")) {
    if (!rule.operand_path) return false;
    Result<Json> operand = rule.operand_path->Evaluate(scope);
    if (!operand.ok()) {
      return Error{std::string(kStatesRuntime),
                   "Invalid path '" + rule.operand_path->text() +
                       "': The choice state's condition path references an invalid value."};
    }
    return Compare(name, v, *operand);
  }
  return Compare(name, v, rule.operand);
}

}  // namespace

// And/Or/Not are walked with an explicit stack (rules nest as deep as a definition does), with
// the short circuits of the recursive form: And stops at the first false, Or at the first true,
// both at the first error.
Result<bool> EvaluateChoiceRule(const ChoiceRule& rule, const Scope& scope) {
  struct Frame {
    const ChoiceRule* rule;
    std::size_t next;  // the next child to evaluate
  };
  std::vector<Frame> stack{{&rule, 0}};
  std::optional<Result<bool>> finished;  // what the rule just popped evaluated to
  while (!stack.empty()) {
    Frame& top = stack.back();
    const ChoiceRule& current = *top.rule;
    const ChoiceRule::Kind kind = current.kind;
    if (kind == ChoiceRule::Kind::kAnd || kind == ChoiceRule::Kind::kOr) {
      if (finished.has_value()) {
        const bool decisive = !finished->ok() || (kind == ChoiceRule::Kind::kAnd) != **finished;
        if (decisive) {
          stack.pop_back();  // `finished` is this rule's value too
          continue;
        }
        finished.reset();
      }
      if (top.next == current.children.size()) {
        finished = Result<bool>(kind == ChoiceRule::Kind::kAnd);
        stack.pop_back();
        continue;
      }
      const ChoiceRule* child = &current.children[top.next++];
      stack.push_back({child, 0});
    } else if (kind == ChoiceRule::Kind::kNot) {
      if (finished.has_value()) {
        if (finished->ok()) finished = Result<bool>(!**finished);
        stack.pop_back();
      } else if (current.children.empty()) {
        finished = Result<bool>(false);
        stack.pop_back();
      } else {
        stack.push_back({&current.children.front(), 0});
      }
    } else {
      finished = EvaluateLeaf(current, scope);
      stack.pop_back();
    }
  }
  return std::move(*finished);
}

}  // namespace switchyard::asl
