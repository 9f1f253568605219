// JSONata parser: tree shapes rendered as S-expressions, and jsonata-js's syntax error codes.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "switchyard/asl/jsonata.hpp"

namespace switchyard::asl {
namespace {

using Kind = JsonataNodeKind;

std::string Number(double n) {
  std::string text = std::to_string(n);
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

// A compact rendering: (path a b[ 0] c), (+ 1 (* 2 3)), ...
std::string Render(const JsonataNode& node) {
  std::string out;
  auto children = [&](std::string head) {
    std::string s = "(" + std::move(head);
    for (const JsonataNode& child : node.children) s += " " + Render(child);
    return s + ")";
  };
  switch (node.kind) {
    case Kind::kNumber:
      out = Number(node.number);
      break;
    case Kind::kString:
      out = "\"" + node.value + "\"";
      break;
    case Kind::kValue:
      out = node.value;
      break;
    case Kind::kRegex:
      out = "/" + node.value + "/" + node.flags;
      break;
    case Kind::kName:
      out = node.value;
      break;
    case Kind::kVariable:
      out = "$" + node.value;
      break;
    case Kind::kWildcard:
      out = "*";
      break;
    case Kind::kDescendant:
      out = "**";
      break;
    case Kind::kParent:
      out = "%" + node.value;
      break;
    case Kind::kBinary:
      out = children(node.value);
      break;
    case Kind::kNegate:
      out = children("neg");
      break;
    case Kind::kArray:
      out = children("array");
      break;
    case Kind::kObject:
      out = children("object");
      break;
    case Kind::kPath:
      out = children(node.keep_array ? "path[]" : "path");
      break;
    case Kind::kFilter:
      out = children("filter");
      break;
    case Kind::kIndex:
      out = "#$" + node.value;
      break;
    case Kind::kSort:
      out = children("sort");
      break;
    case Kind::kSortTerm:
      out = children(node.descending ? ">" : "<");
      break;
    case Kind::kFunctionCall:
      out = children("call");
      break;
    case Kind::kPartial:
      out = children("partial");
      break;
    case Kind::kPlaceholder:
      out = "?";
      break;
    case Kind::kLambda: {
      std::string head = "lambda";
      for (const std::string& p : node.parameters) head += " $" + p;
      if (!node.signature.empty()) head += " " + node.signature;
      out = children(head);
      break;
    }
    case Kind::kCondition:
      out = children("if");
      break;
    case Kind::kBlock:
      out = children("block");
      break;
    case Kind::kBind:
      out = children(":=");
      break;
    case Kind::kApply:
      out = children("~>");
      break;
    case Kind::kTransform:
      out = children("transform");
      break;
  }
  for (const JsonataNode& stage : node.stages) out += "[" + Render(stage) + "]";
  for (const JsonataNode& predicate : node.predicates) out += "{pred " + Render(predicate) + "}";
  if (node.group) out += "{group " + Render(*node.group) + "}";
  if (node.focus) out += "@$" + *node.focus;
  if (node.index) out += "#$" + *node.index;
  if (!node.ancestor.empty()) out += "^" + node.ancestor;
  return out;
}

std::string Tree(std::string_view expression) {
  JsonataParseResult result = ParseJsonata(expression);
  if (!result.ok()) return "error " + result.error().code + ": " + result.error().message;
  return Render(result.value());
}

std::string Code(std::string_view expression) {
  std::optional<JsonataSyntaxError> error = CheckJsonataSyntax(expression);
  return error ? error->code : "ok";
}

TEST(JsonataParser, RequiredValidExpressions) {
  for (const char* expression : {
           "10",
           "$states.input.a",
           "$sum($states.input.items.numbers)",
           R"({"a": $x, "b": [1,2,3]})",
           "$partition([1,2,3], 2)",
           "$states.input.items[price > 10].name",
           "function($x){$x*2}",
           "$map([1,2], function($v){$v+1})",
           R"("a" & "b")",
           "x ~> $uppercase()",
           "$not(true) ? 1 : 2",
           "/ab+c/i",
           "Account.Order.Product{Name: Price}",
           "items^(>price)",
           "a.b@$x.c#$i",
           "$$.x",
           "**.y",
           "[1..5]",
           R"($x ~> |a|{"b":1}|)",
       }) {
    EXPECT_EQ(Code(expression), "ok") << expression << " -> " << Tree(expression);
  }
}

TEST(JsonataParser, RequiredInvalidExpressions) {
  EXPECT_EQ(Code("10 + * 2"), "S0201");  // `*` is a wildcard operand, then `2` is left over
  EXPECT_EQ(Code("$.store.book[?(@.price < 10)].title"), "S0211");
  EXPECT_EQ(Code("$sum($states.input.items.numbers"), "S0203");
}

TEST(JsonataParser, Precedence) {
  EXPECT_EQ(Tree("1 + 2 * 3"), "(+ 1 (* 2 3))");
  EXPECT_EQ(Tree("1 * 2 + 3"), "(+ (* 1 2) 3)");
  EXPECT_EQ(Tree("1 - 2 - 3"), "(- (- 1 2) 3)");
  EXPECT_EQ(Tree("(1 + 2) * 3"), "(* (block (+ 1 2)) 3)");
  EXPECT_EQ(Tree("a = 1 and b < 2 or c"), "(or (and (= (path a) 1) (< (path b) 2)) (path c))");
  EXPECT_EQ(Tree(R"("a" & "b" = "ab")"), R"((= (& "a" "b") "ab"))");
  EXPECT_EQ(Tree("1 + 2 in [3]"), "(in (+ 1 2) (array 3))");
  EXPECT_EQ(Tree("-a.b * 2"), "(* (neg (path a b)) 2)");
  EXPECT_EQ(Tree("-5"), "-5");
  EXPECT_EQ(Tree("a > 1 ? b : c"), "(if (> (path a) 1) (path b) (path c))");
  EXPECT_EQ(Tree("x ? y"), "(if (path x) (path y))");
  EXPECT_EQ(Tree("x % 2"), "(% (path x) 2)");
}

TEST(JsonataParser, Literals) {
  EXPECT_EQ(Tree("1.5e3"), "1500");
  EXPECT_EQ(Tree("0.25"), "0.25");
  EXPECT_EQ(Tree("2E-2"), "0.02");
  EXPECT_EQ(Tree(R"('single' & "double")"), R"((& "single" "double"))");
  EXPECT_EQ(Tree(R"("tab\there")"), "\"tab\there\"");
  EXPECT_EQ(Tree(R"("\u00e9\u20AC")"), "\"\xC3\xA9\xE2\x82\xAC\"");
  EXPECT_EQ(Tree(R"("\ud83d\ude00")"), "\"\xF0\x9F\x98\x80\"");
  EXPECT_EQ(Tree(R"("q\"\\\/")"), R"("q"\/")");
  EXPECT_EQ(Tree("[true, false, null]"), "(array true false null)");
  EXPECT_EQ(Tree("/a\\/b[/]c/m"), "/a\\/b[/]c/m");
  EXPECT_EQ(Tree("$match(s, /x(y)/)"), "(call $match (path s) /x(y)/)");
  EXPECT_EQ(Tree("1 /* a comment */ + /* another */ 2"), "(+ 1 2)");
  EXPECT_EQ(Tree("a / b / 2"), "(/ (/ (path a) (path b)) 2)");
  // As in jsonata-js, a '/' right after a prefix token is read as division, not a regex.
  EXPECT_EQ(Code("[/a/]"), "S0211");
  EXPECT_EQ(Tree("$f([1], /a/)"), "(call $f (array 1) /a/)");
}

TEST(JsonataParser, Paths) {
  EXPECT_EQ(Tree("a.b[0].c"), "(path a b[(filter 0)] c)");
  EXPECT_EQ(Tree("a.b[0][x = 1]"), "(path a b[(filter 0)][(filter (= (path x) 1))])");
  EXPECT_EQ(Tree("`with space`.x"), "(path with space x)");
  EXPECT_EQ(Tree(R"(a."quoted name")"), "(path a quoted name)");
  EXPECT_EQ(Tree("$states.input.a"), "(path $states input a)");
  EXPECT_EQ(Tree("$$.x"), "(path $$ x)");
  EXPECT_EQ(Tree("$"), "$");
  EXPECT_EQ(Tree("**.y"), "(path ** y)");
  EXPECT_EQ(Tree("a.*.b"), "(path a * b)");
  EXPECT_EQ(Tree("a[]"), "(path[] a)");
  EXPECT_EQ(Tree("a.b[].c"), "(path[] a b c)");
  EXPECT_EQ(Tree("$x[0]"), "$x{pred (filter 0)}");
  EXPECT_EQ(Tree("a.$x[0]"), "(path a $x[(filter 0)])");
  EXPECT_EQ(Tree("a.and.or.in"), "(path a and or in)");
  EXPECT_EQ(Tree("a.[b, c]"), "(path a (array (path b) (path c)))");
  EXPECT_EQ(Tree("a.(b + 1)"), "(path a (block (+ (path b) 1)))");
  EXPECT_EQ(Tree("a.$uppercase()"), "(path a (call $uppercase))");
}

TEST(JsonataParser, StepAnnotations) {
  EXPECT_EQ(Tree("Account.Order.Product{Name: Price}"),
            "(path Account Order Product){group (object (path Name) (path Price))}");
  EXPECT_EQ(Tree("items^(>price)"), "(path items (sort (> (path price))))");
  EXPECT_EQ(Tree("items^(a, <b, >c)"),
            "(path items (sort (< (path a)) (< (path b)) (> (path c))))");
  EXPECT_EQ(Tree("a.b@$x.c#$i"), "(path a b@$x c#$i)");
  EXPECT_EQ(Tree("a.b[0]#$i"), "(path a b[(filter 0)][#$i])");
  EXPECT_EQ(Tree("a.b.%.c"), "(path a b^!0 %!0 c)");
  EXPECT_EQ(Tree("a.b[%.x = 1]"), "(path a b[(filter (= (path %!0 x) 1))]^!0)");
  EXPECT_EQ(Tree("a.b.c.%.%"), "(path a b^!1 c^!0 %!0 %!1)");
  // In a sort term `%` names the input of the step before the sort.
  EXPECT_EQ(Tree("a.b^(%.x)"), "(path a b^!0 (sort (< (path %!0 x))))");
  // A `%` as the callee is left for the evaluator to reject.
  EXPECT_EQ(Code("%()"), "ok");
}

TEST(JsonataParser, Constructors) {
  EXPECT_EQ(Tree(R"({"a": $x, "b": [1,2,3]})"), R"((object "a" $x "b" (array 1 2 3)))");
  EXPECT_EQ(Tree("{}"), "(object)");
  EXPECT_EQ(Tree("[]"), "(array)");
  EXPECT_EQ(Tree("[1..5]"), "(array (.. 1 5))");
  EXPECT_EQ(Tree("[0, $n..$m]"), "(array 0 (.. $n $m))");
  EXPECT_EQ(Tree("[1,2][0]"), "(array 1 2){pred (filter 0)}");
}

TEST(JsonataParser, FunctionsAndLambdas) {
  EXPECT_EQ(Tree("$sum($states.input.items.numbers)"),
            "(call $sum (path $states input items numbers))");
  EXPECT_EQ(Tree("$f()"), "(call $f)");
  EXPECT_EQ(Tree("$substring(?, 0, 2)"), "(partial $substring ? 0 2)");
  EXPECT_EQ(Tree("function($x){$x*2}"), "(lambda $x (* $x 2))");
  EXPECT_EQ(Tree("\xCE\xBB($a, $b){$a + $b}"), "(lambda $a $b (+ $a $b))");
  EXPECT_EQ(Tree("function($a)<n:n>{$a}"), "(lambda $a <n:n> $a)");
  EXPECT_EQ(Tree("function($a)<a<s>:n>{$a}"), "(lambda $a <a<s>:n> $a)");
  EXPECT_EQ(Tree("$map([1,2], function($v){$v+1})"),
            "(call $map (array 1 2) (lambda $v (+ $v 1)))");
  EXPECT_EQ(Tree("function($x){$x}(3)"), "(call (lambda $x $x) 3)");
}

TEST(JsonataParser, BlocksBindingsChainsTransforms) {
  EXPECT_EQ(Tree("$x := 1; $x"), "error S0201: Syntax error: ;");
  EXPECT_EQ(Tree("($x := 1; $x)"), "(block (:= $x 1) $x)");
  EXPECT_EQ(Tree("$a := $b := 2"), "(:= $a (:= $b 2))");
  EXPECT_EQ(Tree("$x := 1 + 2"), "(:= $x (+ 1 2))");
  EXPECT_EQ(Tree("()"), "(block)");
  EXPECT_EQ(Tree("(1; 2;)"), "(block 1 2)");
  EXPECT_EQ(Tree("x ~> $uppercase()"), "(~> (path x) (call $uppercase))");
  EXPECT_EQ(Tree("x ~> $f ~> $g"), "(~> (~> (path x) $f) $g)");
  EXPECT_EQ(Tree(R"($x ~> |a|{"b":1}|)"), R"((~> $x (transform (path a) (object "b" 1))))");
  EXPECT_EQ(Tree(R"(|a.b|{"c": 2}, ["d"]|)"),
            R"((transform (path a b) (object "c" 2) (array "d")))");
}

TEST(JsonataParser, LexicalErrors) {
  EXPECT_EQ(Code("\"no end"), "S0101");
  EXPECT_EQ(Code("'no end"), "S0101");
  EXPECT_EQ(Code("1e400"), "S0102");
  EXPECT_EQ(Tree("1e-400"), "0");
  EXPECT_EQ(Code(R"("\q")"), "S0103");
  EXPECT_EQ(Code(R"("\u12")"), "S0104");
  EXPECT_EQ(Code(R"("\u12zz")"), "S0104");
  EXPECT_EQ(Code("`open"), "S0105");
  EXPECT_EQ(Code("1 /* open"), "S0106");
  EXPECT_EQ(Code("//"), "S0301");
  EXPECT_EQ(Code("/abc"), "S0302");
  EXPECT_EQ(Code("1 ! 2"), "S0204");
  EXPECT_EQ(Code("a ~ b"), "S0204");
}

TEST(JsonataParser, SyntaxErrors) {
  const JsonataSyntaxError error = *CheckJsonataSyntax("a.b c");
  EXPECT_EQ(error.code, "S0201");
  EXPECT_EQ(error.position, 4u);
  EXPECT_EQ(Code("[1; 2]"), "S0202");
  EXPECT_EQ(Code("{\"a\" 1}"), "S0202");
  EXPECT_EQ(Code("(1, 2)"), "S0202");
  EXPECT_EQ(Code("[1, 2"), "S0203");
  EXPECT_EQ(Code("f(1"), "S0203");
  EXPECT_EQ(Code("2 *"), "S0207");
  EXPECT_EQ(Code(""), "S0207");
  EXPECT_EQ(Code("function(a){1}"), "S0208");
  EXPECT_EQ(Code("x{\"k\": 1}[0]"), "ok");  // group on the path, predicate on its step
  EXPECT_EQ(Code("[0]{\"k\": 1}[0]"), "S0209");
  EXPECT_EQ(Code("[0]{\"k\": 1}{\"j\": 2}"), "S0210");
  EXPECT_EQ(Code(") + 1"), "S0211");
  EXPECT_EQ(Code("= 1"), "S0211");
  EXPECT_EQ(Code("a := 1"), "S0212");
  EXPECT_EQ(Code("$a.b := 1"), "S0212");
  EXPECT_EQ(Code("a.true"), "S0213");
  EXPECT_EQ(Code("a.5"), "S0213");
  EXPECT_EQ(Code("a@b"), "S0214");
  EXPECT_EQ(Code("a#1"), "S0214");
  EXPECT_EQ(Code("a[0]@$x"), "S0215");
  EXPECT_EQ(Code("a^(b)@$x"), "S0216");
  EXPECT_EQ(Code("%"), "S0217");
  EXPECT_EQ(Code("$x.%"), "S0217");
  EXPECT_EQ(Code("a.%.%"), "S0217");
  EXPECT_EQ(Code("function($a)<s<s>>{$a}"), "S0401");
  EXPECT_EQ(Code("function($a)<(na<n>)>{$a}"), "S0402");
  EXPECT_EQ(Code("a ?? b"), "S0211");  // jsonata 2.1 syntax, not 2.0.6
  EXPECT_EQ(Code("a ?: b"), "S0211");
}

TEST(JsonataParser, DeepNestingIsAnErrorNotACrash) {
  EXPECT_EQ(Code(std::string(5000, '(') + std::string(5000, ')')), "S0201");
  std::string chain = "1";
  for (int i = 0; i < 5000; ++i) chain += "+1";
  EXPECT_EQ(Code(chain), "S0201");
  EXPECT_EQ(Code(std::string(50, '[') + std::string(50, ']')), "ok");
}

// Every construct that nests goes through the same depth count: 100,000 levels of each is
// S0201, never a stack overflow (also under ASan's larger frames).
TEST(JsonataParser, EveryNestingConstructIsBounded) {
  constexpr int kDeep = 100000;
  auto repeat = [](std::string_view piece, int times) {
    std::string out;
    out.reserve(piece.size() * static_cast<std::size_t>(times));
    for (int i = 0; i < times; ++i) out += piece;
    return out;
  };
  const std::vector<std::string> shapes = {
      std::string(kDeep, '(') + "1" + std::string(kDeep, ')'),
      std::string(kDeep, '[') + std::string(kDeep, ']'),
      repeat("{\"a\":", kDeep) + "1" + std::string(kDeep, '}'),
      std::string(kDeep, '-') + "1",
      repeat("$f(", kDeep) + "1" + std::string(kDeep, ')'),
      repeat("function($x){", kDeep) + "1" + std::string(kDeep, '}'),
      repeat("a[", kDeep) + "1" + std::string(kDeep, ']'),
      repeat("true ? ", kDeep) + "1" + repeat(" : 2", kDeep),
      repeat("$x := ", kDeep) + "1",
      "a" + repeat(".b", kDeep),
      "1" + repeat(" and 1", kDeep),
      repeat("(1; ", kDeep) + "1" + std::string(kDeep, ')'),
      repeat("a^(", kDeep) + "b" + std::string(kDeep, ')'),
  };
  for (const std::string& shape : shapes) {
    EXPECT_EQ(Code(shape), "S0201") << shape.substr(0, 40);
  }
  // Unclosed: still an error, not a crash.
  for (const std::string& shape : shapes) {
    EXPECT_NE(Code(shape.substr(0, shape.size() / 2)), "ok") << shape.substr(0, 40);
  }
}

}  // namespace
}  // namespace switchyard::asl
