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

}  // namespace

Result<bool> EvaluateChoiceRule(const ChoiceRule& rule, const Scope& scope) {
  switch (rule.kind) {
    case ChoiceRule::Kind::kAnd:
      for (const ChoiceRule& child : rule.children) {
        Result<bool> r = EvaluateChoiceRule(child, scope);
        if (!r.ok() || !*r) return r;
      }
      return true;
    case ChoiceRule::Kind::kOr:
      for (const ChoiceRule& child : rule.children) {
        Result<bool> r = EvaluateChoiceRule(child, scope);
        if (!r.ok() || *r) return r;
      }
      return false;
    case ChoiceRule::Kind::kNot: {
      if (rule.children.empty()) return false;
      Result<bool> r = EvaluateChoiceRule(rule.children.front(), scope);
      if (!r.ok()) return r;
      return !*r;
    }
    case ChoiceRule::Kind::kCondition:
      if (rule.condition.IsBool()) return rule.condition.GetBool();
      return Error{std::string(kStatesQueryEvaluationError),
                   "JSONata conditions are not evaluated by this build"};
    case ChoiceRule::Kind::kComparison:
      break;
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

}  // namespace switchyard::asl
