#include "switchyard/asl/template.hpp"

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "intrinsics_internal.hpp"
#include "switchyard/asl/names.hpp"

namespace switchyard::asl {

// A compiled template. Subtrees without any ".$" key collapse into one literal, so a template
// without dynamic fields evaluates as a single CopyJson.
struct PayloadTemplate::Node {
  enum class Kind { kLiteral, kObject, kArray, kPath, kIntrinsic };
  Kind kind = Kind::kLiteral;
  std::string key;  // output key when this node is a member of an object
  std::shared_ptr<const Json> literal;
  const Json* literal_source = nullptr;  // while compiling: the literal, copied at the end
  std::vector<Node> children;            // kObject members / kArray items
  bool has_duplicate_keys = false;       // kObject: "a" and "a.$" side by side; the later one wins
  std::string field;                     // kPath / kIntrinsic: the key as written, "value.$"
  std::optional<JsonPath> path;
  std::shared_ptr<const Intrinsic::Node> intrinsic;
  bool uses_context = false;  // the root: some path reads the context object ($$)
};

namespace {

using Node = PayloadTemplate::Node;

constexpr std::string_view kDynamicSuffix = ".$";

// A literal is copied only once compilation knows it is not inside a larger literal (see
// MaterializeLiterals): copying each level's subtree as it is compiled would copy a deep literal
// once per level.
Node Literal(const Json& value) {
  Node node;
  node.literal_source = &value;
  return node;
}

void MaterializeLiterals(Node& root) {
  std::vector<Node*> pending{&root};
  while (!pending.empty()) {
    Node* node = pending.back();
    pending.pop_back();
    if (node->literal_source != nullptr) {
      node->literal = std::make_shared<const Json>(CopyJson(*node->literal_source));
      node->literal_source = nullptr;
    }
    for (Node& child : node->children) pending.push_back(&child);
  }
}

Node CompileDynamic(std::string_view field, const Json& value, const std::string& pointer,
                    std::vector<TemplateIssue>* issues) {
  Node node;
  node.field = std::string(field);
  node.literal = std::make_shared<const Json>(JsonNull());
  auto report = [&](std::string_view code, std::string message) {
    if (issues != nullptr) issues->push_back({pointer, std::string(code), std::move(message)});
  };
  if (!value.IsString()) {
    report(kDiagSchemaValidationFailed,
           "The value for the field '" + std::string(field) +
               "' must be a STRING that contains a JSONPath or an intrinsic function call, but "
               "was " +
               std::string(JsonTypeName(value)));
    return node;
  }
  const std::string_view text = JsonView(value);
  if (text.starts_with("States.")) {
    auto intrinsic = ParseIntrinsicNode(text);
    if (!intrinsic.ok()) {
      report(kDiagInvalidIntrinsicFunction,
             "The value for the field '" + std::string(field) +
                 "' must be a valid intrinsic function call: " + intrinsic.error().cause);
      return node;
    }
    node.kind = Node::Kind::kIntrinsic;
    node.intrinsic = std::make_shared<const Intrinsic::Node>(std::move(intrinsic).value());
    return node;
  }
  if (!text.starts_with("$")) {
    report(kDiagInvalidJsonPath, "The value for the field '" + std::string(field) +
                                     "' must be a valid JSONPath or intrinsic function call, "
                                     "but was '" +
                                     std::string(text) + "'");
    return node;
  }
  auto path = JsonPath::Parse(text);
  if (!path.ok()) {
    report(kDiagInvalidJsonPath, "The value for the field '" + std::string(field) +
                                     "' must be a valid JSONPath: " + path.error().cause);
    return node;
  }
  node.kind = Node::Kind::kPath;
  node.path = std::move(path).value();
  return node;
}

Node CompileNode(const Json& value, const std::string& pointer,
                 std::vector<TemplateIssue>* issues) {
  if (value.IsObject()) {
    Node node;
    node.kind = Node::Kind::kObject;
    bool dynamic = false;
    std::set<std::string, std::less<>> keys;
    for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it) {
      const std::string_view key = JsonView(it->name);
      const std::string child_pointer = pointer + "/" + JsonPointerToken(key);
      Node child;
      if (key.ends_with(kDynamicSuffix)) {
        child = CompileDynamic(key, it->value, child_pointer, issues);
        child.key = std::string(key.substr(0, key.size() - kDynamicSuffix.size()));
        dynamic = true;
      } else {
        child = CompileNode(it->value, child_pointer, issues);
        child.key = std::string(key);
        dynamic = dynamic || child.kind != Node::Kind::kLiteral;
      }
      if (!keys.insert(child.key).second) node.has_duplicate_keys = true;
      node.children.push_back(std::move(child));
    }
    if (!dynamic) return Literal(value);
    return node;
  }
  if (value.IsArray()) {
    Node node;
    node.kind = Node::Kind::kArray;
    bool dynamic = false;
    for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
      Node child = CompileNode(value[i], pointer + "/" + std::to_string(i), issues);
      dynamic = dynamic || child.kind != Node::Kind::kLiteral;
      node.children.push_back(std::move(child));
    }
    if (!dynamic) return Literal(value);
    return node;
  }
  return Literal(value);
}

Result<Json> EvaluateNode(const Node& node, const Scope& scope, RandomSource& random) {
  switch (node.kind) {
    case Node::Kind::kLiteral:
      return CopyJson(*node.literal);
    case Node::Kind::kPath:
      return EvaluateFieldPath(*node.path, node.field, scope);
    case Node::Kind::kIntrinsic:
      return EvaluateIntrinsicNode(*node.intrinsic, scope, random, node.field);
    case Node::Kind::kArray: {
      Json array = JsonArray();
      array.Reserve(static_cast<rapidjson::SizeType>(node.children.size()), Alloc());
      for (const Node& child : node.children) {
        auto value = EvaluateNode(child, scope, random);
        if (!value.ok()) return value;
        JsonPush(array, std::move(value).value());
      }
      return array;
    }
    case Node::Kind::kObject: {
      Json object = JsonObject();
      for (const Node& child : node.children) {
        auto value = EvaluateNode(child, scope, random);
        if (!value.ok()) return value;
        if (node.has_duplicate_keys) {
          JsonSet(object, child.key, std::move(value).value());
        } else {
          object.AddMember(JsonString(child.key), std::move(value).value(), Alloc());
        }
      }
      return object;
    }
  }
  return JsonNull();
}

}  // namespace

namespace {

bool IntrinsicUsesContext(const Intrinsic::Node& node) {
  if (node.path) return node.path->root() == JsonPath::Root::kContext;
  for (const auto& arg : node.args) {
    if (IntrinsicUsesContext(arg)) return true;
  }
  return false;
}

bool NodeUsesContext(const Node& node) {
  if (node.path && node.path->root() == JsonPath::Root::kContext) return true;
  if (node.intrinsic && IntrinsicUsesContext(*node.intrinsic)) return true;
  for (const auto& child : node.children) {
    if (NodeUsesContext(child)) return true;
  }
  return false;
}

}  // namespace

PayloadTemplate PayloadTemplate::Compile(const Json& tmpl, std::vector<TemplateIssue>* issues) {
  PayloadTemplate compiled;
  // Compilation and evaluation recurse once per level of the template: no deeper than a
  // definition may nest (ParseJson's limit).
  if (JsonNestingDepth(tmpl) > kMaxJsonNestingDepth) {
    if (issues != nullptr) {
      issues->push_back({"", std::string(kDiagSchemaValidationFailed),
                         "The template nests more than " + std::to_string(kMaxJsonNestingDepth) +
                             " levels deep"});
    }
    compiled.root_ = std::make_unique<Node>();
    compiled.root_->literal = std::make_shared<const Json>(JsonNull());
    return compiled;
  }
  compiled.root_ = std::make_unique<Node>(CompileNode(tmpl, "", issues));
  MaterializeLiterals(*compiled.root_);
  compiled.root_->uses_context = NodeUsesContext(*compiled.root_);
  return compiled;
}

bool PayloadTemplate::UsesContext() const { return root_ != nullptr && root_->uses_context; }

PayloadTemplate::PayloadTemplate() = default;
PayloadTemplate::PayloadTemplate(PayloadTemplate&&) noexcept = default;
PayloadTemplate& PayloadTemplate::operator=(PayloadTemplate&&) noexcept = default;
PayloadTemplate::PayloadTemplate(const PayloadTemplate& other)
    : root_(other.root_ ? std::make_unique<Node>(*other.root_) : nullptr) {}
PayloadTemplate& PayloadTemplate::operator=(const PayloadTemplate& other) {
  if (this != &other) root_ = other.root_ ? std::make_unique<Node>(*other.root_) : nullptr;
  return *this;
}
PayloadTemplate::~PayloadTemplate() = default;

Result<Json> PayloadTemplate::Evaluate(const Scope& scope, RandomSource& random) const {
  if (root_ == nullptr) return JsonNull();
  return EvaluateNode(*root_, scope, random);
}

}  // namespace switchyard::asl
