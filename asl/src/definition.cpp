#include "switchyard/asl/definition.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <utility>

#include "switchyard/asl/jsonata.hpp"
#include "switchyard/asl/names.hpp"
#include "switchyard/asl/timestamp.hpp"

namespace switchyard::asl {
namespace {

// Length in UTF-16 code units, as AWS (Java) counts characters: one per UTF-8 sequence, two for
// a 4-byte one (a surrogate pair).
std::size_t Utf16Units(std::string_view text) {
  std::size_t units = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) units += c >= 0xF0 ? 2 : 1;
  }
  return units;
}

constexpr std::array<std::string_view, 39> kOperatorNames = {
    "StringEquals",
    "StringEqualsPath",
    "StringLessThan",
    "StringLessThanPath",
    "StringGreaterThan",
    "StringGreaterThanPath",
    "StringLessThanEquals",
    "StringLessThanEqualsPath",
    "StringGreaterThanEquals",
    "StringGreaterThanEqualsPath",
    "StringMatches",
    "NumericEquals",
    "NumericEqualsPath",
    "NumericLessThan",
    "NumericLessThanPath",
    "NumericGreaterThan",
    "NumericGreaterThanPath",
    "NumericLessThanEquals",
    "NumericLessThanEqualsPath",
    "NumericGreaterThanEquals",
    "NumericGreaterThanEqualsPath",
    "BooleanEquals",
    "BooleanEqualsPath",
    "TimestampEquals",
    "TimestampEqualsPath",
    "TimestampLessThan",
    "TimestampLessThanPath",
    "TimestampGreaterThan",
    "TimestampGreaterThanPath",
    "TimestampLessThanEquals",
    "TimestampLessThanEqualsPath",
    "TimestampGreaterThanEquals",
    "TimestampGreaterThanEqualsPath",
    "IsNull",
    "IsPresent",
    "IsNumeric",
    "IsString",
    "IsBoolean",
    "IsTimestamp",
};

// Predefined error names a retrier or catcher may name (ASL "Errors"; AWS adds more).
const std::set<std::string, std::less<>>& PredefinedErrors() {
  static const std::set<std::string, std::less<>> kNames = {
      std::string(kStatesAll),
      std::string(kStatesDataLimitExceeded),
      std::string(kStatesRuntime),
      std::string(kStatesTimeout),
      std::string(kStatesHeartbeatTimeout),
      std::string(kStatesTaskFailed),
      std::string(kStatesPermissions),
      std::string(kStatesResultPathMatchFailure),
      std::string(kStatesParameterPathFailure),
      std::string(kStatesBranchFailed),
      std::string(kStatesNoChoiceMatched),
      std::string(kStatesIntrinsicFailure),
      std::string(kStatesExceedToleratedFailureThreshold),
      std::string(kStatesItemReaderFailed),
      std::string(kStatesResultWriterFailed),
      std::string(kStatesQueryEvaluationError),
      std::string(kStatesHttpSocket)};
  return kNames;
}

std::string Join(std::string_view base, std::string_view token) {
  return std::string(base) + "/" + JsonPointerToken(token);
}

// Where a walk stands: `base` (a JSON pointer) and the tokens below it, joined only when a
// diagnostic needs the text, so a walk costs the size of the value, not size x depth.
class WalkLocation {
 public:
  WalkLocation(const std::string& base, const std::vector<std::string>& tokens)
      : base_(base), tokens_(tokens) {}
  std::string str() const {
    std::string out = base_;
    for (const std::string& token : tokens_) out += "/" + token;
    return out;
  }
  std::string Child(std::string_view key) const { return Join(str(), key); }

 private:
  const std::string& base_;
  const std::vector<std::string>& tokens_;
};

// Calls visit(value, location) for `root` and every value inside it, in document order, without
// recursion (a definition may nest as deep as ParseJson allows). `visit` returns false to skip
// the value's children.
template <typename Visit>
void WalkJson(const Json& root, const std::string& base, Visit&& visit) {
  struct Frame {
    const Json* container;
    rapidjson::SizeType next;
  };
  std::vector<Frame> stack;
  std::vector<std::string> tokens;  // one per container on the stack below the root
  auto is_container = [](const Json& v) { return v.IsObject() || v.IsArray(); };
  if (visit(root, WalkLocation(base, tokens)) && is_container(root)) stack.push_back({&root, 0});
  while (!stack.empty()) {
    Frame& top = stack.back();
    const Json& container = *top.container;
    const rapidjson::SizeType count =
        container.IsArray() ? container.Size() : container.MemberCount();
    if (top.next == count) {
      stack.pop_back();
      if (!stack.empty()) tokens.pop_back();
      continue;
    }
    const Json* child = nullptr;
    if (container.IsArray()) {
      child = &container[top.next];
      tokens.push_back(std::to_string(top.next));
    } else {
      const auto& member = *(container.MemberBegin() + top.next);
      child = &member.value;
      tokens.push_back(JsonPointerToken(JsonView(member.name)));
    }
    ++top.next;
    if (visit(*child, WalkLocation(base, tokens)) && is_container(*child)) {
      stack.push_back({child, 0});
    } else {
      tokens.pop_back();
    }
  }
}

// A copy of a state's JSON without its nested machines (parsed into `branches` and
// `item_processor`): copying them too would copy each level of nesting once per enclosing level.
Json RawWithoutMachines(const Json& state) {
  Json raw = JsonObject();
  for (auto it = state.MemberBegin(); it != state.MemberEnd(); ++it) {
    const std::string_view key = JsonView(it->name);
    if (key == "Branches" || key == "ItemProcessor" || key == "Iterator") continue;
    raw.AddMember(JsonString(key), CopyJson(it->value), Alloc());
  }
  return raw;
}

bool IsJsonata(const Json& v) {
  if (!v.IsString()) return false;
  const std::string_view s = JsonView(v);
  return s.size() >= 4 && s.starts_with("{%") && s.ends_with("%}");
}

// Every "{% ... %}" string in `raw` (a state without its nested machines), compiled; an explicit
// stack, as definitions may nest deep.
std::shared_ptr<const std::map<std::string, JsonataExpression, std::less<>>> CompileJsonata(
    const Json& raw) {
  auto compiled = std::make_shared<std::map<std::string, JsonataExpression, std::less<>>>();
  std::vector<const Json*> stack{&raw};
  while (!stack.empty()) {
    const Json* node = stack.back();
    stack.pop_back();
    if (IsJsonata(*node)) {
      const std::string_view written = JsonView(*node);
      std::string text(written.substr(2, written.size() - 4));
      if (compiled->find(text) != compiled->end()) continue;
      auto expression = JsonataExpression::Compile(text);
      if (auto* ok = std::get_if<JsonataExpression>(&expression)) {
        compiled->emplace(std::move(text), std::move(*ok));
      }
    } else if (node->IsObject()) {
      for (const auto& member : node->GetObject()) stack.push_back(&member.value);
    } else if (node->IsArray()) {
      for (const auto& element : node->GetArray()) stack.push_back(&element);
    }
  }
  return compiled;
}

// AWS evaluates a JSONata expression without a context item: the input is $states.input. So it
// refuses an expression that reads the context item at the top level, where nothing binds it:
// a path that starts with a field name (`phone`, `order.id`), `$` or `$$` ("Reference to 'phone'
// at the top level is not supported."). Inside a path's later steps, predicates, sort terms,
// group-by objects and transforms the context is the value being walked, which is fine. The first
// such reference in written order, or nullopt. An explicit stack: the tree may be deep.
std::optional<std::string> TopLevelReference(const JsonataNode& root) {
  struct Pending {
    const JsonataNode* node;
    bool top;
  };
  std::optional<std::string> found;
  std::size_t found_at = 0;
  std::vector<Pending> stack{{&root, true}};
  while (!stack.empty()) {
    const Pending pending = stack.back();
    stack.pop_back();
    const JsonataNode& node = *pending.node;
    if (pending.top) {
      std::optional<std::string> name;
      if (node.kind == JsonataNodeKind::kName) name = node.value;
      if (node.kind == JsonataNodeKind::kVariable && (node.value.empty() || node.value == "$")) {
        name = "$" + node.value;
      }
      if (name && (!found || node.position < found_at)) {
        found = std::move(name);
        found_at = node.position;
      }
    }
    const bool relative_children =
        node.kind == JsonataNodeKind::kSort || node.kind == JsonataNodeKind::kSortTerm ||
        node.kind == JsonataNodeKind::kTransform || node.kind == JsonataNodeKind::kFilter;
    for (std::size_t i = 0; i < node.children.size(); ++i) {
      // A path's first step reads the path's context; the others read the steps before them.
      const bool top =
          pending.top && !relative_children && (node.kind != JsonataNodeKind::kPath || i == 0);
      stack.push_back({&node.children[i], top});
    }
    for (const JsonataNode& stage : node.stages) stack.push_back({&stage, false});
    for (const JsonataNode& predicate : node.predicates) stack.push_back({&predicate, false});
    if (node.group) stack.push_back({node.group.get(), false});
  }
  return found;
}

bool IsLineBreak(char c) { return c == '\n' || c == '\r'; }

// Why a JSONata-mode string that opens with "{%" or closes with "%}" is not a well-formed
// expression, or empty when it is one (or is a plain literal). The form is "{% <expression> %}":
// a space inside each delimiter, a non-blank expression, and no line break right inside a
// delimiter. So "{%1%}", "{% 1 %" and "{% \n1 %}" are refused (asl-validator's fixtures), while
// line breaks inside the expression and extra spaces before "%}" are fine.
std::string JsonataSurroundProblem(std::string_view s) {
  if (!s.starts_with("{%") && !s.ends_with("%}")) return {};
  if (s.size() < 6 || !s.starts_with("{% ") || !s.ends_with(" %}")) {
    return "A JSONata expression must be written \"{% <expression> %}\"";
  }
  const std::string_view expression = s.substr(3, s.size() - 6);
  if (expression.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return "The JSONata expression is empty";
  }
  if (IsLineBreak(expression.front()) || IsLineBreak(expression.back())) {
    return "A JSONata expression must be written \"{% <expression> %}\", without a line break "
           "right inside the delimiters";
  }
  return {};
}

// True when a backslash in a single-quoted string literal of an intrinsic call escapes
// something other than ' { } or \ (AWS refuses the definition, e.g. for \").
bool HasIllegalIntrinsicEscape(std::string_view text) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!in_string) {
      in_string = c == '\'';
      continue;
    }
    if (c == '\'') {
      in_string = false;
    } else if (c == '\\') {
      if (i + 1 >= text.size()) return true;
      const char next = text[i + 1];
      if (next != '\'' && next != '{' && next != '}' && next != '\\') return true;
      ++i;
    }
  }
  return false;
}

bool IsLambdaNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

std::vector<std::string_view> SplitColons(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t colon = s.find(':', start);
    parts.push_back(s.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) return parts;
    start = colon + 1;
  }
}

// Problems AWS reports for a Task Resource ARN it can parse, or empty: a Lambda function ARN's
// name and qualifier (version, alias or $LATEST), and the DynamoDB optimised integration, which
// has exactly four actions (anything else goes through arn:aws:states:::aws-sdk:dynamodb:...).
std::string ResourceProblem(std::string_view resource) {
  const std::vector<std::string_view> parts = SplitColons(resource);
  if (parts.size() >= 6 && parts[2] == "lambda" && parts[5] == "function") {
    auto name_ok = [](std::string_view name, std::size_t max) {
      return !name.empty() && name.size() <= max &&
             std::all_of(name.begin(), name.end(), IsLambdaNameChar);
    };
    if (parts.size() < 7 || parts.size() > 8 || !name_ok(parts[6], 64)) {
      return "The Lambda function ARN '" + std::string(resource) + "' is not valid";
    }
    if (parts.size() == 8 && parts[7] != "$LATEST" && !name_ok(parts[7], 128)) {
      return "The Lambda function ARN '" + std::string(resource) +
             "' has an invalid version or alias '" + std::string(parts[7]) + "'";
    }
  }
  if (parts.size() == 7 && parts[2] == "states" && parts[5] == "dynamodb") {
    static const std::set<std::string_view> kActions = {"getItem", "putItem", "updateItem",
                                                        "deleteItem"};
    if (kActions.count(parts[6]) == 0) {
      return "The resource provided " + std::string(resource) +
             " is not recognized. The value is not a valid resource ARN, or the resource is not "
             "available in this region.";
    }
  }
  return {};
}

// The fields each state type allows (both query languages; the language split is checked
// separately).
const std::set<std::string, std::less<>>& AllowedFields(StateType type) {
  static const std::array<std::set<std::string, std::less<>>, 8> kFields = {{
      // Task
      {"Type",
       "Comment",
       "QueryLanguage",
       "Next",
       "End",
       "InputPath",
       "OutputPath",
       "Parameters",
       "ResultSelector",
       "ResultPath",
       "Arguments",
       "Output",
       "Assign",
       "Retry",
       "Catch",
       "Resource",
       "TimeoutSeconds",
       "TimeoutSecondsPath",
       "HeartbeatSeconds",
       "HeartbeatSecondsPath",
       "Credentials"},
      // Pass
      {"Type", "Comment", "QueryLanguage", "Next", "End", "InputPath", "OutputPath", "Parameters",
       "ResultPath", "Result", "Output", "Assign"},
      // Choice
      {"Type", "Comment", "QueryLanguage", "InputPath", "OutputPath", "Choices", "Default",
       "Output", "Assign"},
      // Wait
      {"Type", "Comment", "QueryLanguage", "Next", "End", "InputPath", "OutputPath", "Seconds",
       "SecondsPath", "Timestamp", "TimestampPath", "Output", "Assign"},
      // Succeed
      {"Type", "Comment", "QueryLanguage", "InputPath", "OutputPath", "Output"},
      // Fail
      {"Type", "Comment", "QueryLanguage", "Error", "ErrorPath", "Cause", "CausePath"},
      // Parallel
      {"Type", "Comment", "QueryLanguage", "Next", "End", "InputPath", "OutputPath", "Parameters",
       "ResultSelector", "ResultPath", "Arguments", "Output", "Assign", "Retry", "Catch",
       "Branches"},
      // Map
      {"Type",
       "Comment",
       "QueryLanguage",
       "Next",
       "End",
       "InputPath",
       "OutputPath",
       "Parameters",
       "ResultSelector",
       "ResultPath",
       "Output",
       "Assign",
       "Retry",
       "Catch",
       "ItemProcessor",
       "Iterator",
       "ItemsPath",
       "Items",
       "ItemSelector",
       "ItemReader",
       "ItemBatcher",
       "ResultWriter",
       "MaxConcurrency",
       "MaxConcurrencyPath",
       "ToleratedFailureCount",
       "ToleratedFailureCountPath",
       "ToleratedFailurePercentage",
       "ToleratedFailurePercentagePath",
       "Label",
       "Arguments"},
  }};
  return kFields[static_cast<std::size_t>(type)];
}

bool JsonPathOnlyField(std::string_view f) {
  static const std::set<std::string, std::less<>> kFields = {"InputPath",
                                                             "OutputPath",
                                                             "Parameters",
                                                             "ResultSelector",
                                                             "ResultPath",
                                                             "Result",
                                                             "TimeoutSecondsPath",
                                                             "HeartbeatSecondsPath",
                                                             "SecondsPath",
                                                             "TimestampPath",
                                                             "ErrorPath",
                                                             "CausePath",
                                                             "ItemsPath",
                                                             "MaxConcurrencyPath",
                                                             "ToleratedFailureCountPath",
                                                             "ToleratedFailurePercentagePath"};
  return kFields.count(f) > 0;
}

bool JsonataOnlyField(std::string_view f) {
  return f == "Arguments" || f == "Output" || f == "Items";
}

class Parser {
 public:
  std::vector<Diagnostic> diagnostics;

  void Report(std::string code, std::string location, std::string message) {
    diagnostics.push_back(
        Diagnostic{Severity::kError, std::move(code), std::move(location), std::move(message)});
  }
  void Schema(const std::string& location, std::string message) {
    Report(std::string(kDiagSchemaValidationFailed), location, std::move(message));
  }

  // Parses one (sub-)machine: the top level, a Parallel branch or a Map processor.
  //
  // Nested machines recurse ParseMachine -> ParseState -> ParseParallel/ParseMap ->
  // ParseMachine, as deep as a definition nests (at most ~333 levels within the JSON limit).
  // The functions on that path keep small frames, and all other work happens in [[gnu::noinline]]
  // helpers that return before the recursion goes on, so the stack per level stays small (also
  // under ASan, whose frames are several times larger).
  StateMachineDef ParseMachine(const Json& obj, const std::string& loc, QueryLanguage inherited,
                               bool top_level) {
    StateMachineDef def;
    def.query_language = inherited;
    const Json* states = ParseMachineFields(obj, loc, inherited, top_level, &def);
    if (states == nullptr) return def;
    for (auto it = states->MemberBegin(); it != states->MemberEnd(); ++it) {
      const std::string* admitted = AdmitState(it->name, loc, &def);
      if (admitted == nullptr) continue;
      const std::string at = *admitted;  // nested machines reuse state_loc_
      def.states.emplace_back();
      ParseState(JsonView(it->name), it->value, at, def.query_language, top_level,
                 def.states.back());
      def.index.emplace(std::string(JsonView(it->name)), def.states.size() - 1);
    }
    CheckTransitions(def, loc);
    return def;
  }

 private:
  std::set<std::string, std::less<>> all_names_;
  std::string state_loc_;  // AdmitState's answer

  // The machine's own fields; returns its States object when there are states to parse.
  [[gnu::noinline]] const Json* ParseMachineFields(const Json& obj, const std::string& loc,
                                                   QueryLanguage inherited, bool top_level,
                                                   StateMachineDef* out) {
    StateMachineDef& def = *out;
    if (!obj.IsObject()) {
      Schema(loc, "A state machine must be a JSON object");
      return nullptr;
    }
    for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
      const std::string_view key = JsonView(it->name);
      const std::string at = Join(loc, key);
      const Json& v = it->value;
      if (key == "StartAt") {
        if (v.IsString()) {
          def.start_at = std::string(JsonView(v));
        } else {
          Schema(at, "StartAt must be a string");
        }
      } else if (key == "States") {
        if (!v.IsObject()) Schema(at, "States must be an object");
      } else if (key == "Comment") {
        if (v.IsString()) {
          def.comment = std::string(JsonView(v));
        } else {
          Schema(at, "Comment must be a string");
        }
      } else if (key == "Version" && top_level) {
        if (!v.IsString() || JsonView(v) != "1.0") {
          Schema(at, "Version must be \"1.0\"");
        } else {
          def.version = "1.0";
        }
      } else if (key == "TimeoutSeconds" && top_level) {
        if (!v.IsInt64() || v.GetInt64() <= 0) {
          Schema(at, "TimeoutSeconds must be a positive integer");
        } else {
          def.timeout_seconds = v.GetInt64();
        }
      } else if (key == "QueryLanguage") {
        ParseQueryLanguage(v, at, &def.query_language);
        if (inherited == QueryLanguage::kJsonata &&
            def.query_language == QueryLanguage::kJsonPath) {
          Report(std::string(kDiagInvalidQueryLanguage), at,
                 "A JSONata state machine may not contain JSONPath states");
        }
      } else if (key == "ProcessorConfig" && !top_level) {
        // Map ItemProcessor: checked by the Map state.
      } else {
        Schema(at, "Field '" + std::string(key) + "' is not supported");
      }
    }
    if (!JsonFind(obj, "StartAt")) Schema(loc.empty() ? "" : loc, "StartAt is required");
    const Json* states = JsonFind(obj, "States");
    if (states == nullptr) {
      Schema(loc, "States is required");
      return nullptr;
    }
    if (!states->IsObject()) return nullptr;
    if (states->MemberCount() == 0) Schema(Join(loc, "States"), "States must not be empty");
    return states;
  }

  // Checks a state's name; returns its location (valid until the next call), or nullptr when
  // the state is not parsed (a name repeated within this machine).
  [[gnu::noinline]] const std::string* AdmitState(const Json& key, const std::string& loc,
                                                  const StateMachineDef* def) {
    const std::string name(JsonView(key));
    state_loc_ = Join(Join(loc, "States"), name);
    const std::string& at = state_loc_;
    if (name.empty() || Utf16Units(name) > kMaxStateNameLength) {
      Schema(at, "State names must be 1 to 80 characters long");
    }
    if (!all_names_.insert(name).second) {
      Report(std::string(kDiagDuplicateStateName), at,
             "State name '" + name + "' is used more than once in the state machine");
      // A name repeated in this machine keeps its first state; one repeated from another
      // machine (a sibling branch) is still this machine's state, so its transitions resolve
      // and the repeat is the only problem reported.
      if (def->index.count(name) > 0) return nullptr;
    }
    return &state_loc_;
  }

  void ParseQueryLanguage(const Json& v, const std::string& at, QueryLanguage* out) {
    if (v.IsString() && JsonView(v) == "JSONPath") {
      *out = QueryLanguage::kJsonPath;
    } else if (v.IsString() && JsonView(v) == "JSONata") {
      *out = QueryLanguage::kJsonata;
    } else {
      Schema(at, "QueryLanguage must be \"JSONPath\" or \"JSONata\"");
    }
  }

  std::optional<JsonPath> Path(const Json& v, const std::string& at, bool reference,
                               bool input_root_only = false) {
    if (!v.IsString()) {
      Schema(at, "Expected a JSONPath string");
      return std::nullopt;
    }
    Result<JsonPath> path = JsonPath::Parse(JsonView(v));
    if (!path.ok()) {
      Report(std::string(kDiagInvalidJsonPath), at,
             "The value for the field must be a valid JSONPath: " + path.error().cause);
      return std::nullopt;
    }
    if (reference && !path->IsReferencePath()) {
      Report(std::string(kDiagInvalidReferencePath), at,
             "The value for the field must be a valid Reference Path (a single node)");
      return std::nullopt;
    }
    if (input_root_only && path->root() != JsonPath::Root::kInput) {
      Report(std::string(kDiagInvalidReferencePath), at, "ResultPath must start with '$'");
      return std::nullopt;
    }
    return std::move(*path);
  }

  // NullablePath of `state`'s field `field`; the location is built only when the field is there
  // (a state's location grows with its nesting: building it for every absent field would cost
  // depth x fields per state).
  PathField FieldPath(const Json& state, const std::string& loc, std::string_view field,
                      bool reference, bool input_root_only = false) {
    const Json* v = JsonFind(state, field);
    if (v == nullptr) return {};
    return NullablePath(v, Join(loc, field), reference, input_root_only);
  }

  PathField NullablePath(const Json* v, const std::string& at, bool reference,
                         bool input_root_only = false) {
    PathField field;
    if (v == nullptr) return field;
    field.set = true;
    if (!v->IsNull()) field.path = Path(*v, at, reference, input_root_only);
    return field;
  }

  // Walks a JSONPath-mode payload template for "x" next to "x.$" (they collide once the ".$"
  // is dropped; exact repeats are FindDuplicateKeys' business) and for intrinsic calls whose
  // string literals use an escape AWS refuses (AWS reports those at the object holding the
  // field).
  bool CheckTemplateKeys(const Json& tmpl, const std::string& base) {
    bool ok = true;
    WalkJson(tmpl, base, [&](const Json& v, const WalkLocation& at) {
      if (!v.IsObject()) return true;
      std::map<std::string_view, std::string_view> seen;  // bare name -> key as written
      for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
        const std::string_view key = JsonView(it->name);
        std::string_view bare = key;
        if (bare.ends_with(".$")) bare.remove_suffix(2);
        if (auto [prior, fresh] = seen.emplace(bare, key); !fresh && prior->second != key) {
          Schema(at.Child(key), "Field '" + std::string(key) + "' appears more than once");
          ok = false;
        }
      }
      for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
        const std::string_view key = JsonView(it->name);
        const Json& f = it->value;
        if (key.ends_with(".$") && f.IsString() && Intrinsic::LooksLikeIntrinsic(JsonView(f)) &&
            HasIllegalIntrinsicEscape(JsonView(f))) {
          Schema(at.str(), "The value for the field '" + std::string(key) +
                               "' must be a valid JSONPath or a valid intrinsic function call");
          ok = false;
        }
      }
      return true;
    });
    return ok;
  }

  // JSONata mode: every string written "{% ... %}" (anywhere inside `v`) must have the surround
  // form and parse as JSONata.
  void CheckJsonataValue(const Json& value, const std::string& base) {
    WalkJson(value, base, [&](const Json& v, const WalkLocation& at) {
      if (!v.IsString()) return true;
      const std::string_view s = JsonView(v);
      const std::string problem = JsonataSurroundProblem(s);
      if (!problem.empty()) {
        Report(std::string(kDiagInvalidJsonataExpression), at.str(), problem);
      } else if (s.starts_with("{%")) {
        JsonataParseResult parsed = ParseJsonata(s.substr(3, s.size() - 6));
        if (!parsed) {
          const JsonataSyntaxError& error = parsed.error();
          Report(std::string(kDiagInvalidJsonataExpression), at.str(),
                 error.message + " (" + error.code + " at position " +
                     std::to_string(error.position) + ")");
        } else if (std::optional<std::string> name = TopLevelReference(parsed.value())) {
          Report(std::string(kDiagUnsupportedJsonataExpression), at.str(),
                 "Reference to '" + *name + "' at the top level is not supported.");
        }
      }
      return false;
    });
  }

  // The JSONata-bearing fields of a JSONata state: all but the structural ones (names, nested
  // machines, comments); in Choices and Catch only the rule's Condition, Assign and Output.
  void CheckJsonataFields(const Json& state, const std::string& loc) {
    static const std::set<std::string, std::less<>> kStructural = {
        "Type",     "Comment",       "QueryLanguage", "Next",  "End",     "Default", "Resource",
        "Branches", "ItemProcessor", "Iterator",      "Retry", "Choices", "Catch"};
    for (auto it = state.MemberBegin(); it != state.MemberEnd(); ++it) {
      const std::string_view key = JsonView(it->name);
      if (kStructural.count(key) > 0) continue;
      CheckJsonataValue(it->value, Join(loc, key));
    }
    for (std::string_view list : {"Choices", "Catch"}) {
      const Json* rules = JsonFind(state, list);
      if (rules == nullptr || !rules->IsArray()) continue;
      for (rapidjson::SizeType i = 0; i < rules->Size(); ++i) {
        const Json& rule = (*rules)[i];
        if (!rule.IsObject()) continue;
        for (std::string_view field : {"Condition", "Assign", "Output"}) {
          if (const Json* f = JsonFind(rule, field)) {
            CheckJsonataValue(*f, Join(Join(loc, list) + "/" + std::to_string(i), field));
          }
        }
      }
    }
  }

  std::optional<PayloadTemplate> Template(const Json& v, const std::string& at) {
    if (!CheckTemplateKeys(v, at)) return std::nullopt;
    std::vector<TemplateIssue> issues;
    PayloadTemplate t = PayloadTemplate::Compile(v, &issues);
    for (TemplateIssue& issue : issues) {
      Report(issue.code.empty() ? std::string(kDiagSchemaValidationFailed) : issue.code,
             at + issue.location, issue.message);
    }
    if (!issues.empty()) return std::nullopt;
    return t;
  }

  std::optional<PayloadTemplate> AssignTemplate(const Json& v, const std::string& at) {
    if (!v.IsObject()) {
      Schema(at, "Assign must be an object");
      return std::nullopt;
    }
    CheckVariableNames(v, at);
    return Template(v, at);
  }

  void CheckVariableNames(const Json& v, const std::string& at) {
    if (!v.IsObject()) {
      Schema(at, "Assign must be an object");
      return;
    }
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      std::string_view name = JsonView(it->name);
      if (name.ends_with(".$")) name.remove_suffix(2);
      bool ok = !name.empty() && Utf16Units(name) <= kMaxStateNameLength;
      for (char c : name) {
        if (c == '.' || c == '$' || c == '[' || c == ']' || c == ' ' || c == '\t' || c == '\n' ||
            c == '*' || c == '"' || c == '\'') {
          ok = false;
        }
      }
      if (!ok) {
        Schema(Join(at, JsonView(it->name)),
               "Invalid variable name '" + std::string(name) +
                   "': no '.', '$', brackets, quotes, '*' or spaces, at most 80 characters");
      }
    }
  }

  std::optional<int64_t> PositiveInt(const Json& v, const std::string& at, bool allow_zero) {
    if (!v.IsInt64() || v.GetInt64() < (allow_zero ? 0 : 1)) {
      Schema(at, allow_zero ? "Expected a non-negative integer" : "Expected a positive integer");
      return std::nullopt;
    }
    return v.GetInt64();
  }

  void CheckExclusive(const Json& obj, const std::string& loc,
                      std::initializer_list<std::string_view> fields, bool required) {
    std::vector<std::string_view> present;
    for (std::string_view f : fields) {
      if (JsonFind(obj, f) != nullptr) present.push_back(f);
    }
    std::string names;
    for (std::string_view f : fields) names += (names.empty() ? "" : ", ") + std::string(f);
    if (present.size() > 1) {
      Schema(Join(loc, present[1]), "Only one of " + names + " may be given");
    } else if (present.empty() && required) {
      Schema(loc, "One of " + names + " is required");
    }
  }

  std::vector<std::string> ErrorEquals(const Json* v, const std::string& at, bool is_last,
                                       std::set<std::string>* seen_all) {
    std::vector<std::string> out;
    if (v == nullptr) {
      Schema(at, "ErrorEquals is required");
      return out;
    }
    if (!v->IsArray() || v->Empty()) {
      Schema(at, "ErrorEquals must be a non-empty array of strings");
      return out;
    }
    for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
      const Json& e = (*v)[i];
      const std::string item_at = at + "/" + std::to_string(i);
      if (!e.IsString()) {
        Schema(item_at, "ErrorEquals entries must be strings");
        continue;
      }
      const std::string name(JsonView(e));
      if (name.starts_with("States.") && PredefinedErrors().count(name) == 0) {
        Schema(item_at, "'" + name + "' is not a predefined error name");
      }
      if (name == kStatesAll) {
        if (v->Size() != 1) Schema(at, "States.ALL must appear alone in ErrorEquals");
        if (!is_last) Schema(at, "States.ALL must be in the last retrier or catcher");
        seen_all->insert(name);
      }
      out.push_back(name);
    }
    return out;
  }

  void ParseRetry(const Json& v, const std::string& at, State* state) {
    if (!v.IsArray()) {
      Schema(at, "Retry must be an array");
      return;
    }
    std::set<std::string> seen_all;
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      const Json& r = v[i];
      const std::string rat = at + "/" + std::to_string(i);
      if (!r.IsObject()) {
        Schema(rat, "A retrier must be an object");
        continue;
      }
      Retrier retrier;
      retrier.error_equals = ErrorEquals(JsonFind(r, "ErrorEquals"), rat + "/ErrorEquals",
                                         i + 1 == v.Size(), &seen_all);
      for (auto it = r.MemberBegin(); it != r.MemberEnd(); ++it) {
        const std::string_view key = JsonView(it->name);
        const Json& f = it->value;
        const std::string fat = Join(rat, key);
        if (key == "ErrorEquals" || key == "Comment") {
          continue;
        } else if (key == "IntervalSeconds") {
          if (auto n = PositiveInt(f, fat, false))
            retrier.interval_seconds = static_cast<double>(*n);
        } else if (key == "MaxAttempts") {
          if (auto n = PositiveInt(f, fat, true)) retrier.max_attempts = *n;
        } else if (key == "BackoffRate") {
          if (!f.IsNumber() || f.GetDouble() < 1.0) {
            Schema(fat, "BackoffRate must be a number greater than or equal to 1.0");
          } else {
            retrier.backoff_rate = f.GetDouble();
          }
        } else if (key == "MaxDelaySeconds") {
          if (auto n = PositiveInt(f, fat, false)) {
            retrier.max_delay_seconds = static_cast<double>(*n);
          }
        } else if (key == "JitterStrategy") {
          if (f.IsString() && JsonView(f) == "FULL") {
            retrier.jitter = JitterStrategy::kFull;
          } else if (!(f.IsString() && JsonView(f) == "NONE")) {
            Schema(fat, "JitterStrategy must be FULL or NONE");
          }
        } else {
          Schema(fat, "Field '" + std::string(key) + "' is not supported in a retrier");
        }
      }
      state->retry.push_back(std::move(retrier));
    }
  }

  void ParseCatch(const Json& v, const std::string& at, State* state) {
    if (!v.IsArray()) {
      Schema(at, "Catch must be an array");
      return;
    }
    std::set<std::string> seen_all;
    const bool jsonata = state->query_language == QueryLanguage::kJsonata;
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      const Json& c = v[i];
      const std::string cat = at + "/" + std::to_string(i);
      if (!c.IsObject()) {
        Schema(cat, "A catcher must be an object");
        continue;
      }
      Catcher catcher;
      catcher.error_equals = ErrorEquals(JsonFind(c, "ErrorEquals"), cat + "/ErrorEquals",
                                         i + 1 == v.Size(), &seen_all);
      if (!JsonFind(c, "Next")) Schema(cat, "Next is required in a catcher");
      for (auto it = c.MemberBegin(); it != c.MemberEnd(); ++it) {
        const std::string_view key = JsonView(it->name);
        const Json& f = it->value;
        const std::string fat = Join(cat, key);
        if (key == "ErrorEquals" || key == "Comment") {
          continue;
        } else if (key == "Next") {
          if (f.IsString()) {
            catcher.next = std::string(JsonView(f));
          } else {
            Schema(fat, "Next must be a string");
          }
        } else if (key == "ResultPath" && !jsonata) {
          catcher.result_path_set = true;
          if (!f.IsNull()) catcher.result_path = Path(f, fat, true, true);
        } else if (key == "Output" && jsonata) {
          catcher.output = CopyJson(f);
        } else if (key == "Assign") {
          if (jsonata) {
            CheckVariableNames(f, fat);
            catcher.assign_jsonata = CopyJson(f);
          } else {
            catcher.assign = AssignTemplate(f, fat);
          }
        } else {
          Schema(fat, "Field '" + std::string(key) + "' is not supported in a catcher");
        }
      }
      state->catchers.push_back(std::move(catcher));
    }
  }

  // One Choice rule. `top` rules carry Next (and Assign/Output); nested ones must not.
  // And/Or/Not recurse here, once per level of the rule (at most ~1,000 within the JSON limit):
  // the rule's own fields are parsed by a noinline helper that only collects the operands, so
  // the frame that stays on the stack per level is small.
  ChoiceRule ParseRule(const Json& v, const std::string& at, bool top, bool jsonata) {
    ChoiceRule rule;
    std::vector<std::pair<const Json*, std::string>> operands;
    ParseRuleFields(v, at, top, jsonata, &rule, &operands);
    rule.children.reserve(operands.size());
    for (const auto& [operand, location] : operands) {
      rule.children.push_back(ParseRule(*operand, location, false, jsonata));
    }
    return rule;
  }

  [[gnu::noinline]] void ParseRuleFields(
      const Json& v, const std::string& at, bool top, bool jsonata, ChoiceRule* out,
      std::vector<std::pair<const Json*, std::string>>* operands) {
    ChoiceRule& rule = *out;
    if (!v.IsObject()) {
      Schema(at, "A choice rule must be an object");
      return;
    }
    int operators = 0;
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      const std::string_view key = JsonView(it->name);
      const Json& f = it->value;
      const std::string fat = Join(at, key);
      if (key == "Comment") continue;
      if (key == "Next" && top) {
        if (f.IsString()) {
          rule.next = std::string(JsonView(f));
        } else {
          Schema(fat, "Next must be a string");
        }
      } else if (key == "Assign" && top) {
        if (jsonata) {
          CheckVariableNames(f, fat);
          rule.assign_jsonata = CopyJson(f);
        } else {
          rule.assign = AssignTemplate(f, fat);
        }
      } else if (key == "Output" && top && jsonata) {
        rule.output = CopyJson(f);
      } else if (key == "Condition" && jsonata) {
        ++operators;
        rule.kind = ChoiceRule::Kind::kCondition;
        if (!f.IsBool() && !IsJsonata(f)) {
          Report(std::string(kDiagInvalidJsonataExpression), fat,
                 "Condition must be a boolean or a JSONata expression \"{% ... %}\"");
        }
        rule.condition = CopyJson(f);
      } else if ((key == "And" || key == "Or") && !jsonata) {
        ++operators;
        rule.kind = key == "And" ? ChoiceRule::Kind::kAnd : ChoiceRule::Kind::kOr;
        if (!f.IsArray() || f.Empty()) {
          Schema(fat, std::string(key) + " must be a non-empty array of rules");
          continue;
        }
        for (rapidjson::SizeType i = 0; i < f.Size(); ++i) {
          operands->emplace_back(&f[i], fat + "/" + std::to_string(i));
        }
      } else if (key == "Not" && !jsonata) {
        ++operators;
        rule.kind = ChoiceRule::Kind::kNot;
        operands->emplace_back(&f, fat);
      } else if (key == "Variable" && !jsonata) {
        rule.variable = Path(f, fat, false);
      } else if (auto op = ChoiceOperatorFromName(key); op && !jsonata) {
        ++operators;
        rule.kind = ChoiceRule::Kind::kComparison;
        rule.op = *op;
        CheckOperand(key, f, fat, &rule);
      } else {
        Schema(fat, "Field '" + std::string(key) + "' is not supported in a choice rule");
      }
    }
    if (operators == 0) {
      Schema(at, jsonata ? "A JSONata choice rule needs a Condition"
                         : "A choice rule needs exactly one comparison operator, And, Or or Not");
    } else if (operators > 1) {
      Schema(at, "A choice rule may have only one comparison operator, And, Or or Not");
    }
    if (rule.kind == ChoiceRule::Kind::kComparison && operators == 1 && !rule.variable &&
        !JsonFind(v, "Variable")) {
      Schema(at, "A comparison needs a Variable");
    }
    if (top && !JsonFind(v, "Next")) Schema(at, "Each rule in Choices needs a Next");
    return;
  }

  void CheckOperand(std::string_view op, const Json& f, const std::string& at, ChoiceRule* rule) {
    if (op.ends_with("Path")) {
      rule->operand_path = Path(f, at, false);
      return;
    }
    rule->operand = CopyJson(f);
    bool ok = true;
    if (op.starts_with("Is")) {
      ok = f.IsBool();
    } else if (op.starts_with("String")) {
      ok = f.IsString();
    } else if (op.starts_with("Numeric")) {
      ok = f.IsNumber();
    } else if (op.starts_with("Boolean")) {
      ok = f.IsBool();
    } else if (op.starts_with("Timestamp")) {
      ok = f.IsString() && ParseTimestamp(JsonView(f)).has_value();
    }
    if (!ok) Schema(at, "The operand of " + std::string(op) + " has the wrong type");
  }

  // `strict`: the state sits directly in the top level, where a JSONata machine may not hold a
  // JSONPath state (AWS accepts one inside a JSONata Map's processor).
  void ParseState(std::string_view name, const Json& v, const std::string& loc,
                  QueryLanguage inherited, bool strict, State& state) {
    if (!ParseStateFields(name, v, loc, inherited, strict, state)) return;
    switch (state.type) {
      case StateType::kTask:
        ParseTask(v, loc, &state);
        break;
      case StateType::kChoice:
        ParseChoice(v, loc, &state);
        break;
      case StateType::kWait:
        ParseWait(v, loc, &state);
        break;
      case StateType::kFail:
        ParseFail(v, loc, &state);
        break;
      case StateType::kParallel:
        ParseParallel(v, loc, &state);
        break;
      case StateType::kMap:
        ParseMap(v, loc, &state);
        break;
      case StateType::kPass:
      case StateType::kSucceed:
        break;
    }
  }

  // Every field a state type shares; false when the type is unknown (nothing more to parse).
  [[gnu::noinline]] bool ParseStateFields(std::string_view name_view, const Json& v,
                                          const std::string& loc, QueryLanguage inherited,
                                          bool strict, State& state) {
    const std::string name(name_view);
    state.name = name;
    state.query_language = inherited;
    if (!v.IsObject()) {
      Schema(loc, "A state must be a JSON object");
      return false;
    }
    state.raw = std::make_shared<const Json>(RawWithoutMachines(v));
    const Json* type = JsonFind(v, "Type");
    static const std::array<std::pair<std::string_view, StateType>, 8> kTypes = {
        {{"Task", StateType::kTask},
         {"Pass", StateType::kPass},
         {"Choice", StateType::kChoice},
         {"Wait", StateType::kWait},
         {"Succeed", StateType::kSucceed},
         {"Fail", StateType::kFail},
         {"Parallel", StateType::kParallel},
         {"Map", StateType::kMap}}};
    bool known = false;
    if (type != nullptr && type->IsString()) {
      for (const auto& [type_name, t] : kTypes) {
        if (JsonView(*type) == type_name) {
          state.type = t;
          known = true;
        }
      }
    }
    if (!known) {
      Schema(Join(loc, "Type"), type == nullptr ? "Type is required"
                                                : "Type must be one of Task, Pass, Choice, "
                                                  "Wait, Succeed, Fail, Parallel, Map");
      return false;
    }
    if (const Json* ql = JsonFind(v, "QueryLanguage")) {
      ParseQueryLanguage(*ql, Join(loc, "QueryLanguage"), &state.query_language);
      if (strict && inherited == QueryLanguage::kJsonata &&
          state.query_language == QueryLanguage::kJsonPath) {
        Report(std::string(kDiagInvalidQueryLanguage), Join(loc, "QueryLanguage"),
               "A JSONata state machine may not contain JSONPath states");
      }
    }
    const bool jsonata = state.query_language == QueryLanguage::kJsonata;
    const std::string type_name(StateTypeName(state.type));
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      const std::string_view key = JsonView(it->name);
      if (AllowedFields(state.type).count(key) == 0) {
        Schema(Join(loc, key),
               "Field '" + std::string(key) + "' is not supported by " + type_name + " states");
      } else if (jsonata && JsonPathOnlyField(key)) {
        Schema(Join(loc, key), "Field '" + std::string(key) +
                                   "' is not supported in JSONata states; use Arguments/Output");
      } else if (!jsonata && JsonataOnlyField(key)) {
        Schema(Join(loc, key),
               "Field '" + std::string(key) + "' is supported only in JSONata states");
      }
    }
    const bool terminal_type = state.type == StateType::kSucceed ||
                               state.type == StateType::kFail || state.type == StateType::kChoice;
    const Json* next = JsonFind(v, "Next");
    const Json* end = JsonFind(v, "End");
    if (!terminal_type) {
      if (next != nullptr && end != nullptr) {
        Schema(Join(loc, "End"), "Next and End are mutually exclusive");
      } else if (next == nullptr && end == nullptr) {
        Schema(loc, type_name + " state '" + name + "' needs Next or End");
      }
      if (next != nullptr) {
        if (next->IsString()) {
          state.next = std::string(JsonView(*next));
        } else {
          Schema(Join(loc, "Next"), "Next must be a string");
        }
      }
      if (end != nullptr) {
        if (!end->IsBool()) {
          Schema(Join(loc, "End"), "End must be a boolean");
        } else if (!end->GetBool()) {
          Schema(Join(loc, "End"), "End must be true when given");
        } else {
          state.end = true;
        }
      }
    }
    if (const Json* c = JsonFind(v, "Comment"); c != nullptr) {
      if (c->IsString()) {
        state.comment = std::string(JsonView(*c));
      } else {
        Schema(Join(loc, "Comment"), "Comment must be a string");
      }
    }

    // Data flow.
    if (!jsonata) {
      state.input_path = FieldPath(v, loc, "InputPath", false);
      state.output_path = FieldPath(v, loc, "OutputPath", false);
      state.result_path = FieldPath(v, loc, "ResultPath", true, true);
      if (const Json* p = JsonFind(v, "Parameters")) {
        state.parameters = Template(*p, Join(loc, "Parameters"));
      }
      if (const Json* p = JsonFind(v, "ResultSelector")) {
        if (!p->IsObject()) Schema(Join(loc, "ResultSelector"), "ResultSelector must be an object");
        state.result_selector = Template(*p, Join(loc, "ResultSelector"));
      }
      if (const Json* p = JsonFind(v, "Result")) state.result = CopyJson(*p);
      if (const Json* p = JsonFind(v, "Assign"))
        state.assign = AssignTemplate(*p, Join(loc, "Assign"));
    } else {
      if (const Json* p = JsonFind(v, "Arguments")) state.arguments = CopyJson(*p);
      if (const Json* p = JsonFind(v, "Output")) state.output = CopyJson(*p);
      if (const Json* p = JsonFind(v, "Assign")) {
        CheckVariableNames(*p, Join(loc, "Assign"));
        state.assign_jsonata = CopyJson(*p);
      }
      CheckJsonataFields(v, loc);
      state.jsonata_compiled = CompileJsonata(*state.raw);
    }
    if (const Json* r = JsonFind(v, "Retry")) ParseRetry(*r, Join(loc, "Retry"), &state);
    if (const Json* c = JsonFind(v, "Catch")) ParseCatch(*c, Join(loc, "Catch"), &state);
    return true;
  }

  // IntOrExpression of `state`'s field `field`, its location built only when it is there.
  void IntOrExpressionAt(const Json& state, const std::string& loc, std::string_view field,
                         bool jsonata, bool allow_zero, std::optional<int64_t>* value,
                         std::optional<Json>* expression) {
    const Json* f = JsonFind(state, field);
    if (f == nullptr) return;
    IntOrExpression(f, Join(loc, field), jsonata, allow_zero, value, expression);
  }

  void IntOrExpression(const Json* f, const std::string& at, bool jsonata, bool allow_zero,
                       std::optional<int64_t>* value, std::optional<Json>* expression) {
    if (f == nullptr) return;
    if (jsonata && IsJsonata(*f)) {
      *expression = CopyJson(*f);
      return;
    }
    *value = PositiveInt(*f, at, allow_zero);
  }

  [[gnu::noinline]] void ParseTask(const Json& v, const std::string& loc, State* state) {
    const bool jsonata = state->query_language == QueryLanguage::kJsonata;
    const Json* resource = JsonFind(v, "Resource");
    if (resource == nullptr) {
      Schema(loc, "Task state '" + state->name + "' needs a Resource");
    } else if (!resource->IsString()) {
      Schema(Join(loc, "Resource"), "Resource must be a string");
    } else {
      state->resource = std::string(JsonView(*resource));
      if (!state->resource.starts_with("arn:")) {
        Schema(Join(loc, "Resource"), "Resource must be an ARN");
      } else if (std::string problem = ResourceProblem(state->resource); !problem.empty()) {
        Schema(Join(loc, "Resource"), std::move(problem));
      }
    }
    CheckExclusive(v, loc, {"TimeoutSeconds", "TimeoutSecondsPath"}, false);
    CheckExclusive(v, loc, {"HeartbeatSeconds", "HeartbeatSecondsPath"}, false);
    IntOrExpressionAt(v, loc, "TimeoutSeconds", jsonata, false, &state->timeout_seconds,
                      &state->timeout_seconds_jsonata);
    IntOrExpressionAt(v, loc, "HeartbeatSeconds", jsonata, false, &state->heartbeat_seconds,
                      &state->heartbeat_seconds_jsonata);
    if (const Json* p = JsonFind(v, "TimeoutSecondsPath"); p && !jsonata) {
      state->timeout_seconds_path = Path(*p, Join(loc, "TimeoutSecondsPath"), true);
    }
    if (const Json* p = JsonFind(v, "HeartbeatSecondsPath"); p && !jsonata) {
      state->heartbeat_seconds_path = Path(*p, Join(loc, "HeartbeatSecondsPath"), true);
    }
    if (state->timeout_seconds && state->heartbeat_seconds &&
        *state->heartbeat_seconds >= *state->timeout_seconds) {
      Schema(Join(loc, "HeartbeatSeconds"), "HeartbeatSeconds must be smaller than TimeoutSeconds");
    }
    if (const Json* c = JsonFind(v, "Credentials")) {
      // AWS (recorded) rejects any Credentials field but RoleArn / RoleArn.$.
      if (!c->IsObject() || c->MemberCount() == 0) {
        Schema(Join(loc, "Credentials"), "Credentials must be an object with RoleArn");
      } else {
        for (auto it = c->MemberBegin(); it != c->MemberEnd(); ++it) {
          const std::string_view key = JsonView(it->name);
          if (key != "RoleArn" && key != "RoleArn.$") {
            Schema(Join(Join(loc, "Credentials"), key), "Credentials accepts only RoleArn");
          }
        }
        state->credentials = CopyJson(*c);
      }
    }
  }

  [[gnu::noinline]] void ParseChoice(const Json& v, const std::string& loc, State* state) {
    const bool jsonata = state->query_language == QueryLanguage::kJsonata;
    if (JsonFind(v, "Next") || JsonFind(v, "End")) {
      Schema(Join(loc, JsonFind(v, "End") ? "End" : "Next"),
             "A Choice state may not have Next or End");
    }
    const Json* choices = JsonFind(v, "Choices");
    if (choices == nullptr || !choices->IsArray() || choices->Empty()) {
      Schema(choices ? Join(loc, "Choices") : loc, "Choices must be a non-empty array");
    } else {
      for (rapidjson::SizeType i = 0; i < choices->Size(); ++i) {
        state->choices.push_back(ParseRule(
            (*choices)[i], Join(loc, "Choices") + "/" + std::to_string(i), true, jsonata));
      }
    }
    if (const Json* d = JsonFind(v, "Default")) {
      if (d->IsString()) {
        state->default_next = std::string(JsonView(*d));
      } else {
        Schema(Join(loc, "Default"), "Default must be a string");
      }
    }
  }

  [[gnu::noinline]] void ParseWait(const Json& v, const std::string& loc, State* state) {
    const bool jsonata = state->query_language == QueryLanguage::kJsonata;
    CheckExclusive(v, loc, {"Seconds", "SecondsPath", "Timestamp", "TimestampPath"}, true);
    if (const Json* s = JsonFind(v, "Seconds")) {
      if (jsonata && IsJsonata(*s)) {
        state->seconds_jsonata = CopyJson(*s);
      } else {
        state->seconds = PositiveInt(*s, Join(loc, "Seconds"), true);
      }
    }
    if (const Json* t = JsonFind(v, "Timestamp")) {
      if (jsonata && IsJsonata(*t)) {
        state->timestamp_jsonata = CopyJson(*t);
      } else if (!t->IsString() || !ParseTimestamp(JsonView(*t))) {
        Schema(Join(loc, "Timestamp"),
               "Timestamp must be an ISO-8601 extended offset date-time string");
      } else {
        state->timestamp = std::string(JsonView(*t));
      }
    }
    if (const Json* p = JsonFind(v, "SecondsPath"); p && !jsonata) {
      state->seconds_path = Path(*p, Join(loc, "SecondsPath"), true);
    }
    if (const Json* p = JsonFind(v, "TimestampPath"); p && !jsonata) {
      state->timestamp_path = Path(*p, Join(loc, "TimestampPath"), true);
    }
  }

  void FailField(const Json& v, const std::string& loc, std::string_view field, bool jsonata,
                 std::optional<std::string>* text, std::optional<JsonPath>* path,
                 std::optional<Intrinsic>* intrinsic, std::optional<Json>* expression) {
    const std::string path_field = std::string(field) + "Path";
    CheckExclusive(v, loc, {field, path_field}, false);
    if (const Json* f = JsonFind(v, field)) {
      if (!f->IsString()) {
        Schema(Join(loc, field), std::string(field) + " must be a string");
      } else if (jsonata && IsJsonata(*f)) {
        *expression = CopyJson(*f);
      } else {
        *text = std::string(JsonView(*f));
      }
    }
    if (const Json* f = JsonFind(v, path_field); f && !jsonata) {
      if (f->IsString() && Intrinsic::LooksLikeIntrinsic(JsonView(*f))) {
        Result<Intrinsic> call = Intrinsic::Parse(JsonView(*f));
        if (call.ok()) {
          *intrinsic = std::move(*call);
        } else {
          Report(std::string(kDiagInvalidIntrinsicFunction), Join(loc, path_field),
                 call.error().cause);
        }
      } else {
        *path = Path(*f, Join(loc, path_field), false);
      }
    }
  }

  [[gnu::noinline]] void ParseFail(const Json& v, const std::string& loc, State* state) {
    const bool jsonata = state->query_language == QueryLanguage::kJsonata;
    FailField(v, loc, "Error", jsonata, &state->error, &state->error_path,
              &state->error_path_intrinsic, &state->error_jsonata);
    FailField(v, loc, "Cause", jsonata, &state->cause, &state->cause_path,
              &state->cause_path_intrinsic, &state->cause_jsonata);
  }

  [[gnu::noinline]] static std::string BranchLocation(const std::string& loc,
                                                      rapidjson::SizeType i) {
    return Join(loc, "Branches") + "/" + std::to_string(i);
  }

  void ParseParallel(const Json& v, const std::string& loc, State* state) {
    const Json* branches = JsonFind(v, "Branches");
    if (branches == nullptr || !branches->IsArray() || branches->Empty()) {
      Schema(branches ? Join(loc, "Branches") : loc, "Branches must be a non-empty array");
      return;
    }
    state->branches.reserve(branches->Size());
    for (rapidjson::SizeType i = 0; i < branches->Size(); ++i) {
      state->branches.push_back(
          ParseMachine((*branches)[i], BranchLocation(loc, i), state->query_language, false));
    }
  }

  // On the nesting path: the processor's fields and the rest of the Map's are parsed by
  // noinline helpers (see ParseMachine).
  void ParseMap(const Json& v, const std::string& loc, State* state) {
    std::string processor_loc;
    if (const Json* processor = ParseMapProcessorConfig(v, loc, state, &processor_loc)) {
      state->item_processor = std::make_shared<StateMachineDef>(
          ParseMachine(*processor, processor_loc, state->query_language, false));
    }
    ParseMapFields(v, loc, state);
  }

  // ItemProcessor (or Iterator) and its ProcessorConfig; returns the processor to parse.
  [[gnu::noinline]] const Json* ParseMapProcessorConfig(const Json& v, const std::string& loc,
                                                        State* state,
                                                        std::string* processor_location) {
    CheckExclusive(v, loc, {"ItemProcessor", "Iterator"}, true);
    const Json* processor = JsonFind(v, "ItemProcessor");
    std::string& processor_loc = *processor_location;
    processor_loc = Join(loc, "ItemProcessor");
    if (processor == nullptr) {
      processor = JsonFind(v, "Iterator");
      processor_loc = Join(loc, "Iterator");
      state->legacy_iterator = processor != nullptr;
    }
    if (processor != nullptr) {
      if (const Json* config = JsonFind(*processor, "ProcessorConfig")) {
        if (!config->IsObject()) {
          Schema(Join(processor_loc, "ProcessorConfig"), "ProcessorConfig must be an object");
        } else {
          for (auto it = config->MemberBegin(); it != config->MemberEnd(); ++it) {
            const std::string_view key = JsonView(it->name);
            const Json& f = it->value;
            const std::string fat = Join(Join(processor_loc, "ProcessorConfig"), key);
            if (key == "Mode" && f.IsString() &&
                (JsonView(f) == "INLINE" || JsonView(f) == "DISTRIBUTED")) {
              state->processor_mode = std::string(JsonView(f));
            } else if (key == "ExecutionType" && f.IsString() &&
                       (JsonView(f) == "STANDARD" || JsonView(f) == "EXPRESS")) {
              state->execution_type = std::string(JsonView(f));
            } else {
              Schema(fat, "Invalid ProcessorConfig field or value");
            }
          }
        }
      }
    }
    return processor;
  }

  // The Map's fields other than its processor.
  [[gnu::noinline]] void ParseMapFields(const Json& v, const std::string& loc, State* state) {
    const bool jsonata = state->query_language == QueryLanguage::kJsonata;
    if (!jsonata) {
      state->items_path = FieldPath(v, loc, "ItemsPath", false);
      if (const Json* s = JsonFind(v, "ItemSelector")) {
        state->item_selector = Template(*s, Join(loc, "ItemSelector"));
      }
    } else {
      if (const Json* s = JsonFind(v, "Items")) state->items_jsonata = CopyJson(*s);
      if (const Json* s = JsonFind(v, "ItemSelector")) state->item_selector_jsonata = CopyJson(*s);
    }
    if (JsonFind(v, "ItemSelector") && JsonFind(v, "Parameters")) {
      Schema(Join(loc, "Parameters"), "Only one of ItemSelector, Parameters may be given");
    }
    CheckExclusive(v, loc, {"MaxConcurrency", "MaxConcurrencyPath"}, false);
    CheckExclusive(v, loc, {"ToleratedFailureCount", "ToleratedFailureCountPath"}, false);
    CheckExclusive(v, loc, {"ToleratedFailurePercentage", "ToleratedFailurePercentagePath"}, false);
    IntOrExpressionAt(v, loc, "MaxConcurrency", jsonata, true, &state->max_concurrency,
                      &state->max_concurrency_jsonata);
    IntOrExpressionAt(v, loc, "ToleratedFailureCount", jsonata, true,
                      &state->tolerated_failure_count, &state->tolerated_failure_count_jsonata);
    if (const Json* p = JsonFind(v, "ToleratedFailurePercentage")) {
      if (jsonata && IsJsonata(*p)) {
        state->tolerated_failure_percentage_jsonata = CopyJson(*p);
      } else if (!p->IsNumber() || p->GetDouble() < 0 || p->GetDouble() > 100) {
        Schema(Join(loc, "ToleratedFailurePercentage"),
               "ToleratedFailurePercentage must be a number from 0 to 100");
      } else {
        state->tolerated_failure_percentage = p->GetDouble();
      }
    }
    if (!jsonata) {
      if (const Json* p = JsonFind(v, "MaxConcurrencyPath")) {
        state->max_concurrency_path = Path(*p, Join(loc, "MaxConcurrencyPath"), true);
      }
      if (const Json* p = JsonFind(v, "ToleratedFailureCountPath")) {
        state->tolerated_failure_count_path =
            Path(*p, Join(loc, "ToleratedFailureCountPath"), true);
      }
      if (const Json* p = JsonFind(v, "ToleratedFailurePercentagePath")) {
        state->tolerated_failure_percentage_path =
            Path(*p, Join(loc, "ToleratedFailurePercentagePath"), true);
      }
    }
    if (const Json* p = JsonFind(v, "ItemReader")) {
      if (const Json* config = JsonFind(*p, "ReaderConfig"); config && config->IsObject()) {
        CheckExclusive(*config, Join(Join(loc, "ItemReader"), "ReaderConfig"),
                       {"MaxItems", "MaxItemsPath"}, false);
      }
      state->item_reader = CopyJson(*p);
    }
    if (const Json* p = JsonFind(v, "ItemBatcher")) {
      if (p->IsObject()) {
        CheckExclusive(*p, Join(loc, "ItemBatcher"), {"MaxItemsPerBatch", "MaxItemsPerBatchPath"},
                       false);
        CheckExclusive(*p, Join(loc, "ItemBatcher"),
                       {"MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath"}, false);
      }
      state->item_batcher = CopyJson(*p);
    }
    if (const Json* p = JsonFind(v, "ResultWriter")) state->result_writer = CopyJson(*p);
    if (const Json* p = JsonFind(v, "Label")) {
      if (!p->IsString() || p->GetStringLength() > 40) {
        Schema(Join(loc, "Label"), "Label must be a string of at most 40 characters");
      } else {
        state->label = std::string(JsonView(*p));
      }
    }
  }

  // Next targets exist, every state is reachable from StartAt, and some state ends the machine.
  [[gnu::noinline]] void CheckTransitions(const StateMachineDef& def, const std::string& loc) {
    auto exists = [&def](const std::string& name) { return def.index.count(name) > 0; };
    const std::string states_loc = Join(loc, "States");
    if (!def.start_at.empty() && !exists(def.start_at)) {
      Report(std::string(kDiagMissingTransitionTarget), Join(loc, "StartAt"),
             "StartAt names state '" + def.start_at + "', which does not exist");
    }
    bool any_terminal = false;
    for (const State& s : def.states) {
      // `field` is the location below the state, built only for a diagnostic.
      auto check = [&](const std::string& target, const std::string& field) {
        if (!target.empty() && !exists(target)) {
          Report(std::string(kDiagMissingTransitionTarget), Join(states_loc, s.name) + "/" + field,
                 "Missing 'Next' target: " + target);
        }
      };
      check(s.next, "Next");
      check(s.default_next, "Default");
      for (std::size_t i = 0; i < s.choices.size(); ++i) {
        check(s.choices[i].next, "Choices/" + std::to_string(i) + "/Next");
      }
      for (std::size_t i = 0; i < s.catchers.size(); ++i) {
        check(s.catchers[i].next, "Catch/" + std::to_string(i) + "/Next");
      }
      if (s.end || s.type == StateType::kSucceed || s.type == StateType::kFail) {
        any_terminal = true;
      }
    }
    if (!def.states.empty() && !any_terminal) {
      Report(std::string(kDiagNoTerminalState), states_loc,
             "The state machine has no terminal state (End, Succeed or Fail)");
    }
    // Reachability from StartAt.
    std::set<std::string, std::less<>> seen;
    std::vector<std::string> stack;
    if (exists(def.start_at)) stack.push_back(def.start_at);
    while (!stack.empty()) {
      const std::string name = std::move(stack.back());
      stack.pop_back();
      if (!seen.insert(name).second) continue;
      const State* s = def.Find(name);
      if (s == nullptr) continue;
      auto push = [&](const std::string& t) {
        if (!t.empty() && exists(t) && seen.count(t) == 0) stack.push_back(t);
      };
      push(s->next);
      push(s->default_next);
      for (const ChoiceRule& r : s->choices) push(r.next);
      for (const Catcher& c : s->catchers) push(c.next);
    }
    if (exists(def.start_at)) {
      for (const State& s : def.states) {
        if (seen.count(s.name) == 0) {
          Report(std::string(kDiagUnreachableState), Join(states_loc, s.name),
                 "State '" + s.name + "' is not reachable from StartAt");
        }
      }
    }
  }
};

// RapidJSON keeps every duplicate member; ASL (like AWS) rejects a definition that repeats one.
// ("x" next to "x.$" collides only in a JSONPath payload template, where the ".$" is dropped;
// JSONata fields keep both, as AWS's recorded BASE_LITERALS run shows: see Template().)
void FindDuplicateKeys(const Json& document, std::vector<Diagnostic>* out) {
  WalkJson(document, "", [out](const Json& v, const WalkLocation& at) {
    if (!v.IsObject()) return true;
    std::set<std::string_view> seen;
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      const std::string_view key = JsonView(it->name);
      if (!seen.insert(key).second) {
        out->push_back(Diagnostic{Severity::kError, std::string(kDiagSchemaValidationFailed),
                                  at.Child(key),
                                  "Field '" + std::string(key) + "' appears more than once"});
      }
    }
    return true;
  });
}

}  // namespace

std::string_view StateTypeName(StateType type) {
  switch (type) {
    case StateType::kTask:
      return "Task";
    case StateType::kPass:
      return "Pass";
    case StateType::kChoice:
      return "Choice";
    case StateType::kWait:
      return "Wait";
    case StateType::kSucceed:
      return "Succeed";
    case StateType::kFail:
      return "Fail";
    case StateType::kParallel:
      return "Parallel";
    case StateType::kMap:
      return "Map";
  }
  return "Pass";
}

std::string_view ChoiceOperatorName(ChoiceOperator op) {
  return kOperatorNames[static_cast<std::size_t>(op)];
}

std::optional<ChoiceOperator> ChoiceOperatorFromName(std::string_view name) {
  for (std::size_t i = 0; i < kOperatorNames.size(); ++i) {
    if (kOperatorNames[i] == name) return static_cast<ChoiceOperator>(i);
  }
  return std::nullopt;
}

const State* StateMachineDef::Find(std::string_view name) const {
  auto it = index.find(name);
  return it == index.end() ? nullptr : &states[it->second];
}

ParseResult ParseDefinition(std::string_view text) {
  // AWS: a definition is at most 1,048,576 characters (UTF-16 units; never more than its UTF-8
  // bytes, so only a text longer than that in bytes needs counting). The API refuses a longer
  // one with a ValidationException before looking at it: so do we, before parsing it.
  if (text.size() > kMaxDefinitionLength && Utf16Units(text) > kMaxDefinitionLength) {
    ParseResult result;
    result.diagnostics.push_back(Diagnostic{
        Severity::kError, std::string(kDiagValidationException), "",
        "1 validation error detected: Value at 'definition' failed to satisfy constraint: "
        "Member must have length less than or equal to 1048576"});
    return result;
  }
  std::string error;
  std::optional<Json> doc = ParseJson(text, &error);
  if (!doc) {
    ParseResult result;
    result.diagnostics.push_back(Diagnostic{Severity::kError,
                                            std::string(kDiagInvalidJsonDescription), "",
                                            "The definition is not valid JSON: " + error});
    return result;
  }
  return ParseDefinition(*doc);
}

ParseResult ParseDefinition(const Json& document) {
  ParseResult result;
  if (!document.IsObject()) {
    result.diagnostics.push_back(Diagnostic{Severity::kError,
                                            std::string(kDiagInvalidJsonDescription), "",
                                            "The definition must be a JSON object"});
    return result;
  }
  // ParseJson refuses deeper text; a document built in memory gets the same answer, and the
  // validator's walks over nested machines and rules stay within that depth.
  if (JsonNestingDepth(document) > kMaxJsonNestingDepth) {
    result.diagnostics.push_back(
        Diagnostic{Severity::kError, std::string(kDiagInvalidJsonDescription), "",
                   "The definition is not valid JSON: Document nesting depth (" +
                       std::to_string(kMaxJsonNestingDepth + 1) +
                       ") exceeds the maximum allowed (" + std::to_string(kMaxJsonNestingDepth) +
                       ", from `StreamReadConstraints.getMaxNestingDepth()`)"});
    return result;
  }
  Parser parser;
  FindDuplicateKeys(document, &parser.diagnostics);
  QueryLanguage top = QueryLanguage::kJsonPath;
  StateMachineDef def = parser.ParseMachine(document, "", top, true);
  result.diagnostics = std::move(parser.diagnostics);
  bool has_error = false;
  for (const Diagnostic& d : result.diagnostics) {
    if (d.severity == Severity::kError) has_error = true;
  }
  if (!has_error) result.definition = std::move(def);
  return result;
}

}  // namespace switchyard::asl
