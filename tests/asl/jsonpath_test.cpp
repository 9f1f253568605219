#include "switchyard/asl/jsonpath.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace switchyard::asl {
namespace {

Json J(std::string_view text) {
  auto parsed = ParseJson(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed ? std::move(*parsed) : JsonNull();
}

JsonPath P(std::string_view text) {
  auto parsed = JsonPath::Parse(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << (parsed.ok() ? "" : parsed.error().cause);
  return std::move(parsed).value();
}

// "ok:<compact json>" or "error:<cause>".
std::string Eval(std::string_view path, std::string_view document) {
  auto parsed = JsonPath::Parse(path);
  if (!parsed.ok()) return "parse-error:" + parsed.error().cause;
  Json doc = J(document);
  auto result = parsed->Evaluate(doc);
  if (!result.ok()) return "error:" + result.error().cause;
  return "ok:" + DumpJson(*result);
}

std::string ParseError(std::string_view path) {
  auto parsed = JsonPath::Parse(path);
  return parsed.ok() ? "parsed" : parsed.error().cause;
}

class MapVariables : public VariableLookup {
 public:
  const Json* Find(std::string_view name) const override {
    auto it = values.find(std::string(name));
    return it == values.end() ? nullptr : &it->second;
  }
  std::map<std::string, Json> values;
};

TEST(JsonPathTest, ReferencePathDetection) {
  for (const char* path : {"$", "$.a", "$.a.b[0]", "$['a b'][3].c", "$[0]", "$$.Execution.Id",
                           "$order.items[0]", "$.a-b.ü", "$[-1]"}) {
    EXPECT_TRUE(P(path).IsReferencePath()) << path;
  }
  for (const char* path : {"$.*", "$[*]", "$..a", "$.a[1:2]", "$.a[0,1]", "$['a','b']",
                           "$.a[?(@.b)]", "$.a.length()", "$..[0]"}) {
    EXPECT_FALSE(P(path).IsReferencePath()) << path;
  }
}

TEST(JsonPathTest, RootsAndNames) {
  EXPECT_EQ(P("$.a").root(), JsonPath::Root::kInput);
  EXPECT_EQ(P("$$.Execution.Id").root(), JsonPath::Root::kContext);
  JsonPath variable = P("$order.items[0]");
  EXPECT_EQ(variable.root(), JsonPath::Root::kVariable);
  EXPECT_EQ(variable.variable_name(), "order");
  EXPECT_EQ(variable.text(), "$order.items[0]");
  EXPECT_EQ(P("$my_var2").variable_name(), "my_var2");
}

TEST(JsonPathTest, Normalized) {
  EXPECT_EQ(P("$").Normalized(), "$");
  EXPECT_EQ(P("$.a.b[0]").Normalized(), "$['a']['b'][0]");
  EXPECT_EQ(P("$['a b'][\"c\"]").Normalized(), "$['a b']['c']");
  EXPECT_EQ(P("$..a[*][1:3][:2][-2:]").Normalized(), "$..['a'][*][1:3][:2][-2:]");
  EXPECT_EQ(P("$['a','b'][0,1][?(@.x)]").Normalized(), "$['a', 'b'][0,1][?]");
  EXPECT_EQ(P("$$.Execution.Id").Normalized(), "$['Execution']['Id']");
  EXPECT_EQ(P("$v.x").Normalized(), "$['x']");
}

TEST(JsonPathTest, DefinitePaths) {
  const char* doc = R"({"a":{"b":[10,{"c":"x"}]},"s":"str","n":null,"a-b":1,"ü":{"k":true},
                       "a b":2,"it's":3})";
  EXPECT_EQ(Eval("$", "[1]"), "ok:[1]");
  EXPECT_EQ(Eval("$.a.b[0]", doc), "ok:10");
  EXPECT_EQ(Eval("$.a.b[1].c", doc), "ok:\"x\"");
  EXPECT_EQ(Eval("$.a.b[-1].c", doc), "ok:\"x\"");
  EXPECT_EQ(Eval("$.a.b[-2]", doc), "ok:10");
  EXPECT_EQ(Eval("$.a-b", doc), "ok:1");
  EXPECT_EQ(Eval("$.ü.k", doc), "ok:true");
  EXPECT_EQ(Eval("$['a b']", doc), "ok:2");
  EXPECT_EQ(Eval("$['it\\'s']", doc), "ok:3");
  EXPECT_EQ(Eval("$.n", doc), "ok:null");
  EXPECT_EQ(Eval("$['a','s','zz']", doc), R"(ok:{"a":{"b":[10,{"c":"x"}]},"s":"str"})");
}

// In a quoted bracket name only a backslash before the enclosing quote is an escape; any other
// backslash is part of the name (AWS's recorded run looks up the key Test\""Name" with
// $['Test\""Name"']; Jayway 2.0.0 does not unescape \u either).
TEST(JsonPathTest, BracketNameEscapes) {
  const char* doc = R"({"a'b":1,"x\"y":2,"a\\\"b":3,"Test\\\"\"Name\"":4,"\\u00fc":5,
                       "\u00fc":6,"a\\\\b":7,"a\\\\":8})";
  EXPECT_EQ(Eval("$['a\\'b']", doc), "ok:1");
  EXPECT_EQ(Eval("$[\"x\\\"y\"]", doc), "ok:2");
  EXPECT_EQ(Eval("$['a\\\"b']", doc), "ok:3");
  EXPECT_EQ(Eval("$['Test\\\"\"Name\"']", doc), "ok:4");
  EXPECT_EQ(Eval("$[\"\\u00fc\"]", doc), "ok:5");
  EXPECT_EQ(Eval("$['a\\\\b']", doc), "ok:7");
  EXPECT_EQ(Eval("$['a\\\\']", doc), "ok:8");
  EXPECT_EQ(Eval("$['a\\'b', 'x\"y']", doc), R"(ok:{"a'b":1,"x\"y":2})");
  EXPECT_FALSE(JsonPath::Parse("$['a\\']").ok());  // the escaped quote leaves it unterminated
}

// Jayway's [(@.length-N)] is the Nth element from the end.
TEST(JsonPathTest, LengthScriptIndex) {
  EXPECT_EQ(Eval("$[(@.length-1)].bar", R"([{"bar":1},{"bar":2}])"), "ok:2");
  EXPECT_EQ(Eval("$.a[(@.length-2)]", R"({"a":[1,2,3]})"), "ok:2");
  EXPECT_TRUE(JsonPath::Parse("$.a[(@.length-1)]")->IsReferencePath());
  EXPECT_FALSE(JsonPath::Parse("$.a[(@.length)]").ok());
  EXPECT_FALSE(JsonPath::Parse("$.a[(@.foo)]").ok());
}

// A bare word in a filter is a string (Jayway): [?(@.Key == FooBar)].
TEST(JsonPathTest, FilterBareWordIsAString) {
  const char* doc = R"({"R":[{"K":"FooBar","V":1},{"K":"foobar","V":2},{"K":"Foo Bar","V":3},
                             {"K":"trueish","V":4},{"K":true,"V":5},{"K":null,"V":6}]})";
  EXPECT_EQ(Eval("$.R[?(@.K == FooBar)].V", doc), "ok:[1]");
  EXPECT_EQ(Eval("$.R[?(@.K == FooBar )].V", doc), "ok:[1]");
  EXPECT_EQ(Eval("$.R[?(@.K != FooBar)].V", doc), "ok:[2,3,4,5,6]");
  EXPECT_EQ(Eval("$.R[?(@.K == Foo Bar)].V", doc), "ok:[3]");
  EXPECT_EQ(Eval("$.R[?(@.K == trueish)].V", doc), "ok:[4]");
  EXPECT_EQ(Eval("$.R[?(@.K == true)].V", doc), "ok:[5]");
  EXPECT_EQ(Eval("$.R[?(@.K == null)].V", doc), "ok:[6]");
  EXPECT_EQ(Eval("$.R[?(@.K == FooBar && @.V == 1)].V", doc), "ok:[1]");
}

TEST(JsonPathTest, DefinitePathErrorsUseJaywayWords) {
  const char* doc = R"({"a":{"b":[10]},"s":"str","n":null})";
  // AWS: "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']".
  EXPECT_EQ(Eval("$.NoSuchInputPath", doc), "error:No results for path: $['NoSuchInputPath']");
  EXPECT_EQ(Eval("$.a.zz", doc), "error:No results for path: $['a']['zz']");
  EXPECT_EQ(Eval("$.zz.yy", doc), "error:Missing property in path $['zz']");
  EXPECT_EQ(Eval("$.a.b[5]", doc), "error:No results for path: $['a']['b'][5]");
  EXPECT_EQ(Eval("$.a.b[-2]", doc), "error:No results for path: $['a']['b'][-2]");
  EXPECT_EQ(Eval("$.a.b[5].c", doc), "error:No results for path: $['a']['b'][5]['c']");
  EXPECT_EQ(Eval("$.s.x", doc),
            "error:Expected to find an object with property ['x'] in path $['s'] but found "
            "'java.lang.String'. This is not a json object according to the JsonProvider: "
            "'com.jayway.jsonpath.spi.json.JsonSmartJsonProvider'.");
  EXPECT_EQ(Eval("$.n[0]", doc), "error:The path $['n'] is null");
  EXPECT_EQ(Eval("$.a[0]", doc),
            "error:Filter: [0] can only be applied to arrays. Current context is: {b=[10]}");
  EXPECT_EQ(Eval("$['a','s'].x", doc),
            "error:Multi properties can only be used as path leafs: $['a', 's']");
}

TEST(JsonPathTest, IndefinitePathsReturnLists) {
  const char* doc = R"({"a":[{"x":1},{"y":2},{"x":3},5],"o":{"p":{"x":4},"q":[{"x":6}]}})";
  EXPECT_EQ(Eval("$.a[*].x", doc), "ok:[1,3]");
  EXPECT_EQ(Eval("$.a[*].zz", doc), "ok:[]");
  EXPECT_EQ(Eval("$.a[*][0]", doc), "ok:[]");  // newer Jayway drops mismatched branches
  EXPECT_EQ(Eval("$..x", doc), "ok:[1,3,4,6]");
  EXPECT_EQ(Eval("$.o.*", doc), R"(ok:[{"x":4},[{"x":6}]])");
  EXPECT_EQ(Eval("$.a[1:3]", doc), R"(ok:[{"y":2},{"x":3}])");
  EXPECT_EQ(Eval("$.a[:2]", doc), R"(ok:[{"x":1},{"y":2}])");
  EXPECT_EQ(Eval("$.a[-2:]", doc), R"(ok:[{"x":3},5])");
  EXPECT_EQ(Eval("$.a[0,2].x", doc), "ok:[1,3]");
  EXPECT_EQ(Eval("$.a[0,-1]", doc), R"(ok:[{"x":1},5])");
  EXPECT_EQ(Eval("$..nothing", doc), "ok:[]");
}

TEST(JsonPathTest, Filters) {
  const char* doc = R"({"books":[
      {"t":"A","price":8.95,"cat":"ref","tags":["x","y"]},
      {"t":"B","price":12.99,"cat":"fic","isbn":"1","tags":[]},
      {"t":"C","price":22,"cat":"fic","isbn":null}],"limit":10})";
  EXPECT_EQ(Eval("$.books[?(@.price < 10)].t", doc), R"(ok:["A"])");
  EXPECT_EQ(Eval("$.books[?(@.price >= 12.99)].t", doc), R"(ok:["B","C"])");
  EXPECT_EQ(Eval("$.books[?(@.price > $.limit)].t", doc), R"(ok:["B","C"])");
  EXPECT_EQ(Eval("$.books[?(@.cat == 'fic' && @.price < 20)].t", doc), R"(ok:["B"])");
  EXPECT_EQ(Eval("$.books[?(@.cat == \"ref\" || @.price == 22)].t", doc), R"(ok:["A","C"])");
  EXPECT_EQ(Eval("$.books[?(!(@.cat == 'fic'))].t", doc), R"(ok:["A"])");
  EXPECT_EQ(Eval("$.books[?(@.isbn)].t", doc), R"(ok:["B","C"])");  // null exists
  EXPECT_EQ(Eval("$.books[?(!@.isbn)].t", doc), R"(ok:["A"])");
  EXPECT_EQ(Eval("$.books[?(@.cat != 'fic')].t", doc), R"(ok:["A"])");
  EXPECT_EQ(Eval("$.books[?(@.t =~ /a/i)].t", doc), R"(ok:["A"])");
  EXPECT_EQ(Eval("$.books[?(@.t =~ /a/)].t", doc), R"(ok:[])");
  EXPECT_EQ(Eval("$.books[?(@.cat in ['ref','x'])].t", doc), R"(ok:["A"])");
  EXPECT_EQ(Eval("$.books[?(@.cat nin ['ref'])].t", doc), R"(ok:["B","C"])");
  EXPECT_EQ(Eval("$.books[?(@.tags subsetof ['x','y','z'])].t", doc), R"(ok:["A","B"])");
  EXPECT_EQ(Eval("$.books[?(@.tags anyof ['y'])].t", doc), R"(ok:["A"])");
  EXPECT_EQ(Eval("$.books[?(@.tags noneof ['y'])].t", doc), R"(ok:["B"])");
  EXPECT_EQ(Eval("$.books[?(@.tags size 2)].t", doc), R"(ok:["A"])");
  EXPECT_EQ(Eval("$.books[?(@.tags empty true)].t", doc), R"(ok:["B"])");
  EXPECT_EQ(Eval("$.books[?(@.tags == [\"x\",\"y\"])].t", doc), R"(ok:["A"])");
  EXPECT_EQ(Eval("$.books[?(@.price == '22')].t", doc), R"(ok:["C"])");
  EXPECT_EQ(Eval("$.books[?(@.isbn == null)].t", doc), R"(ok:["C"])");
  EXPECT_EQ(Eval("$..[?(@.isbn)].t", doc), R"(ok:["B","C"])");
  // Newer Jayway compares numbers only with numbers and strings only with strings.
  EXPECT_EQ(Eval("$[?(@ > 1)]", R"([1,2.5,"7",true,"abc",null])"), "ok:[2.5]");
  EXPECT_EQ(Eval("$[?(@ < 'b')]", R"([1,"a","c"])"), R"(ok:["a"])");
  // Jayway throws "Missing property" here; AWS (recorded) gives [] for an indefinite path.
  EXPECT_EQ(Eval("$.zz[*].x", doc), "ok:[]");
}

TEST(JsonPathTest, Functions) {
  const char* doc = R"({"a":[1,2,3,4],"o":{"x":1,"y":2},"s":"héllo"})";
  EXPECT_EQ(Eval("$.a.length()", doc), "ok:4");
  EXPECT_EQ(Eval("$.o.length()", doc), "ok:2");
  EXPECT_EQ(Eval("$.s.length()", doc), "ok:5");
  EXPECT_EQ(Eval("$.a.min()", doc), "ok:1.0");
  EXPECT_EQ(Eval("$.a.max()", doc), "ok:4.0");
  EXPECT_EQ(Eval("$.a.sum()", doc), "ok:10.0");
  EXPECT_EQ(Eval("$.a.avg()", doc), "ok:2.5");
  EXPECT_EQ(Eval("$.o.keys()", doc), R"(ok:["x","y"])");
  EXPECT_EQ(Eval("$.a[*].length()", doc), "ok:4");
  EXPECT_EQ(Eval("$.zz.length()", doc), "error:No results for path: $['zz']");
}

TEST(JsonPathTest, ContextAndVariableRoots) {
  Json input = J(R"({"a":1})");
  Json context = J(R"({"Execution":{"Id":"arn:exec"}})");
  MapVariables variables;
  variables.values.emplace("order", J(R"({"items":[{"sku":"k1"}]})"));
  Scope scope{&input, &context, &variables};
  EXPECT_EQ(DumpJson(*P("$$.Execution.Id").Evaluate(scope)), "\"arn:exec\"");
  EXPECT_EQ(DumpJson(*P("$order.items[0].sku").Evaluate(scope)), "\"k1\"");
  EXPECT_EQ(DumpJson(*P("$order").Evaluate(scope)), R"({"items":[{"sku":"k1"}]})");
  EXPECT_EQ(DumpJson(*P("$order..sku").Evaluate(scope)), R"(["k1"])");
  EXPECT_EQ(DumpJson(*P("$.a").Evaluate(scope)), "1");
  auto missing = P("$nope.x").Evaluate(scope);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().cause, "The variable 'nope' was not found");
  auto missing_field = P("$order.zz").Evaluate(scope);
  ASSERT_FALSE(missing_field.ok());
  EXPECT_EQ(missing_field.error().cause, "No results for path: $['zz']");
  Scope no_context{&input, nullptr, nullptr};
  EXPECT_FALSE(P("$$.Execution").Evaluate(no_context).ok());
  auto no_variables = P("$order").Evaluate(no_context);
  ASSERT_FALSE(no_variables.ok());
  EXPECT_EQ(no_variables.error().cause, "The variable 'order' was not found");
}

TEST(JsonPathTest, FailedAssignLeavesTheDocumentUntouched) {
  // "$.new.deeper[0]" would create "new" and "deeper" before finding no array to index.
  Json doc = *ParseJson(R"({"a":{"b":1}})");
  EXPECT_FALSE(JsonPath::Parse("$.new.deeper[0]")->Assign(doc, JsonInt(1)));
  EXPECT_FALSE(JsonPath::Parse("$.a.c.d[1]")->Assign(doc, JsonInt(1)));
  EXPECT_EQ(DumpJson(doc), R"({"a":{"b":1}})");
}

TEST(JsonPathTest, AssignResultPath) {
  Json doc = J(R"({"a":{"b":1},"arr":[1,{"x":2}],"s":"str"})");
  EXPECT_TRUE(P("$.a.c").Assign(doc, J("5")));
  EXPECT_TRUE(P("$.new.deep.er").Assign(doc, J(R"({"k":true})")));
  EXPECT_TRUE(P("$.a.b").Assign(doc, J("[1]")));
  EXPECT_TRUE(P("$.arr[1].x").Assign(doc, J("3")));
  EXPECT_TRUE(P("$.arr[0]").Assign(doc, J("\"zero\"")));
  EXPECT_TRUE(P("$['with space']").Assign(doc, J("0")));
  EXPECT_EQ(
      DumpJson(doc),
      R"({"a":{"b":[1],"c":5},"arr":["zero",{"x":3}],"s":"str","new":{"deep":{"er":{"k":true}}},"with space":0})");
  EXPECT_FALSE(P("$.s.x").Assign(doc, J("1")));     // into a string
  EXPECT_FALSE(P("$.arr.x").Assign(doc, J("1")));   // into an array by name
  EXPECT_FALSE(P("$.arr[5]").Assign(doc, J("1")));  // out of range
  EXPECT_FALSE(P("$.a[0]").Assign(doc, J("1")));    // index into an object
  EXPECT_FALSE(P("$.a.*").Assign(doc, J("1")));     // not a reference path
  EXPECT_FALSE(P("$$.a").Assign(doc, J("1")));      // not rooted at $
  Json whole = J(R"({"a":1})");
  EXPECT_TRUE(P("$").Assign(whole, J("[true]")));
  EXPECT_EQ(DumpJson(whole), "[true]");
  Json scalar = J("7");
  EXPECT_FALSE(P("$.a").Assign(scalar, J("1")));
}

TEST(JsonPathTest, ParseErrors) {
  EXPECT_EQ(ParseError(""), "path is empty");
  EXPECT_EQ(ParseError("a.b"), "path must start with '$' at position 0");
  EXPECT_EQ(ParseError("$."), "path must not end with '.'");
  EXPECT_EQ(ParseError("$.."), "path must not end with '..'");
  EXPECT_EQ(ParseError("$.a]"), "parsed");  // Jayway: a dot name may contain ']'
  EXPECT_EQ(ParseError("$[x]"), "unexpected character 'x' at position 2");
  EXPECT_EQ(ParseError("$['a"), "unterminated string starting at position 2");
  EXPECT_EQ(ParseError("$[1:2"), "unexpected end of path at position 5");
  EXPECT_EQ(ParseError("$.a b"),
            "use bracket notation ['my prop'] for a name with blanks at position 3");
  EXPECT_EQ(ParseError("$a b"), "unexpected character ' ' at position 2");
  EXPECT_EQ(ParseError("$[?(@.a ==)]"), "unexpected character ')' at position 10");
  EXPECT_EQ(ParseError("$.a.nope()"), "unknown function 'nope()' at position 4");
  EXPECT_EQ(ParseError("$.a.length().b"), "a function must end the path at position 12");
  EXPECT_EQ(ParseError("$[?(@.a =~ /(/)]"), "invalid regex /(/ at position 11");
}

TEST(JsonPathTest, CopiesAreIndependent) {
  JsonPath original = P("$.a[?(@.x == [1,2])].y");
  JsonPath copy = original;
  JsonPath assigned = P("$");
  assigned = copy;
  Json doc = J(R"({"a":[{"x":[1,2],"y":3}]})");
  EXPECT_EQ(DumpJson(*copy.Evaluate(doc)), "[3]");
  EXPECT_EQ(DumpJson(*assigned.Evaluate(doc)), "[3]");
  EXPECT_EQ(assigned.text(), original.text());
}

// ---- The golden file recorded from the real Jayway engine ----

std::vector<std::string> SplitTabs(const std::string& line, int max_parts) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (static_cast<int>(parts.size()) + 1 < max_parts) {
    std::size_t tab = line.find('\t', start);
    if (tab == std::string::npos) break;
    parts.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
  parts.push_back(line.substr(start));
  return parts;
}

TEST(JsonPathGoldenTest, AgreesWithJayway) {
  std::ifstream in(std::string(SWITCHYARD_TESTS_DIR) + "/asl/data/jsonpath_golden.tsv");
  ASSERT_TRUE(in.good());
  std::string line;
  int checked = 0;
  int excluded = 0;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> parts = SplitTabs(line, 4);
    ASSERT_EQ(parts.size(), 4u) << "line " << line_number;
    const std::string& mode = parts[0];
    const std::string& path = parts[1];
    const std::string& expected = parts[3];
    if (mode != "check") {
      ++excluded;
      continue;
    }
    ++checked;
    SCOPED_TRACE("line " + std::to_string(line_number) + ": " + path + " on " + parts[2]);
    auto parsed = JsonPath::Parse(path);
    bool jayway_failed = expected.rfind("ERROR\t", 0) == 0;
    if (!parsed.ok()) {
      EXPECT_TRUE(jayway_failed) << "we refuse to parse: " << parsed.error().cause
                                 << "; Jayway: " << expected;
      continue;
    }
    Json doc = J(parts[2]);
    auto result = parsed->Evaluate(doc);
    if (jayway_failed) {
      if (result.ok()) {
        ADD_FAILURE() << "Jayway fails (" << expected << ") but we return " << DumpJson(*result);
        continue;
      }
      if (parsed->IsReferencePath()) {
        std::string message = expected.substr(6);
        std::size_t colon = message.find("Exception: ");
        if (colon != std::string::npos) message = message.substr(colon + 11);
        EXPECT_EQ(result.error().cause, message);
      }
      continue;
    }
    if (!result.ok()) {
      ADD_FAILURE() << "we fail: " << result.error().cause << "; Jayway: " << expected;
      continue;
    }
    Json want = J(expected);
    EXPECT_TRUE(JsonEquals(*result, want))
        << "we return " << DumpJson(*result) << "; Jayway: " << expected;
  }
  EXPECT_GT(checked, 500);
  EXPECT_GT(excluded, 0);
}

// A deep scan walks the data with an explicit stack: any depth of value.
TEST(JsonPathTest, DeepScanOfADeepValueDoesNotRecurse) {
  constexpr int kDepth = 100000;
  // (Each hit is a copy of its subtree: "$..a" here would copy 100,000 nested subtrees.)
  Json deep = J(R"({"b":1})");
  for (int i = 0; i < kDepth; ++i) {
    Json outer = JsonObject();
    outer.AddMember(JsonString("a"), std::move(deep), Alloc());
    deep = std::move(outer);
  }
  auto hits = P("$..b").Evaluate(deep);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(DumpJson(*hits), "[1]");
  auto ones = P("$..[?(@.b == 1)]").Evaluate(deep);
  ASSERT_TRUE(ones.ok());
  EXPECT_EQ(DumpJson(*ones), R"([{"b":1}])");
  DestroyJson(deep);
}

// Paths are bounded so that parsing and evaluation recurse a bounded number of levels.
TEST(JsonPathTest, PathShapesAreBounded) {
  const std::string parens =
      "$[?(" + std::string(100000, '(') + "@.a" + std::string(100000, ')') + ")]";
  EXPECT_EQ(ParseError(parens).substr(0, 43), "the filter nests more than 100 levels deep ");
  EXPECT_EQ(ParseError("$[?(" + std::string(100000, '!') + "@.a)]").substr(0, 42),
            "the filter nests more than 100 levels deep");
  std::string nested_filters = "$";
  for (int i = 0; i < 200; ++i) nested_filters += "[?(@";
  nested_filters += ".a";
  for (int i = 0; i < 200; ++i) nested_filters += ")]";
  EXPECT_EQ(ParseError(nested_filters).substr(0, 42), "the filter nests more than 100 levels deep");
  std::string chain = "$[?(@.a";
  for (int i = 0; i < 2000; ++i) chain += " && @.a";
  EXPECT_EQ(ParseError(chain + ")]"), "the path has more than 1000 tokens and filter terms");
  std::string steps = "$";
  for (int i = 0; i < 100000; ++i) steps += ".a";
  EXPECT_EQ(ParseError(steps), "the path has more than 1000 tokens and filter terms");
  std::string filters = "$";
  for (int i = 0; i < 2000; ++i) filters += "[?(@.a)]";
  EXPECT_EQ(ParseError(filters), "the path has more than 1000 tokens and filter terms");
  // Within the bounds, as before.
  std::string ok_steps = "$";
  for (int i = 0; i < 900; ++i) ok_steps += ".a";
  EXPECT_EQ(ParseError(ok_steps), "parsed");
  EXPECT_EQ(Eval("$[?(" + std::string(90, '(') + "@.a" + std::string(90, ')') + ")]",
                 R"([{"a":1},{"b":2}])"),
            R"(ok:[{"a":1}])");
}

}  // namespace
}  // namespace switchyard::asl
