// JSONata-mode data flow: every "{% ... %}" string of a field evaluated with $states and the
// execution's variables, and the States.QueryEvaluationError causes AWS records for it.
#include "core_internal.hpp"
#include "switchyard/asl/jsonata_eval.hpp"

namespace switchyard::asl {

namespace core_internal {

namespace {

bool IsExpression(const Json& value) {
  if (!value.IsString()) return false;
  const std::string_view text = JsonView(value);
  return text.size() >= 4 && text.starts_with("{%") && text.ends_with("%}");
}

std::string_view Trim(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const std::size_t last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// Any "{% %}" string in `value`, at any depth (an explicit stack: definitions nest deep).
bool HasExpression(const Json& value) {
  std::vector<const Json*> stack{&value};
  while (!stack.empty()) {
    const Json* node = stack.back();
    stack.pop_back();
    if (IsExpression(*node)) return true;
    if (node->IsObject()) {
      for (const auto& member : node->GetObject()) stack.push_back(&member.value);
    } else if (node->IsArray()) {
      for (const auto& element : node->GetArray()) stack.push_back(&element);
    }
  }
  return false;
}

// True when `text` plainly evaluates to a function (a lambda or partial application, possibly
// bound to a variable or ending a block): AWS then reports an unsupported result type, where
// the evaluator (which drops functions from results, as JSON.stringify does) gives undefined.
bool YieldsFunction(std::string_view text) {
  JsonataParseResult parsed = ParseJsonata(text);
  if (!parsed) return false;
  const JsonataNode* node = &parsed.value();
  while (true) {
    switch (node->kind) {
      case JsonataNodeKind::kLambda:
      case JsonataNodeKind::kPartial:
        return true;
      case JsonataNodeKind::kBind:
        if (node->children.size() < 2) return false;
        node = &node->children[1];
        continue;
      case JsonataNodeKind::kBlock:
        if (node->children.empty()) return false;
        node = &node->children.back();
        continue;
      default:
        return false;
    }
  }
}

}  // namespace

std::string_view JsonataTypeName(const Json& value) {
  if (value.IsNull()) return "null";
  if (value.IsBool()) return "boolean";
  if (value.IsNumber()) return "number";
  if (value.IsString()) return "string";
  if (value.IsArray()) return "array";
  return "object";
}

Error Runner::QueryError(const Frame& frame, const State& state, std::string_view location,
                         const std::string& detail) {
  Error error{std::string(kStatesQueryEvaluationError), Prefix(frame) + detail};
  // AWS records the failure of an expression as an EvaluationFailed event before the state fails.
  Json details = JsonObject();
  JsonSet(details, "error", JsonString(error.error));
  JsonSet(details, "cause", JsonString(error.cause));
  JsonSet(details, "location", JsonString(location));
  JsonSet(details, "state", JsonString(state.name));
  Emit("EvaluationFailed", "evaluationFailedEventDetails", std::move(details));
  return error;
}

Error Runner::UnexpectedType(const Frame& frame, const State& state, std::string_view field,
                             const Json& raw, std::string_view expected, const Json& value) {
  const std::string expression =
      IsExpression(raw) ? std::string(Trim(JsonView(raw).substr(2, JsonView(raw).size() - 4)))
                        : DumpJson(raw);
  return QueryError(frame, state, field,
                    "The JSONata expression '" + expression + "' specified for the field '" +
                        std::string(field) + "' returned an unexpected result type. Expected '" +
                        std::string(expected) + "', but was '" +
                        std::string(JsonataTypeName(value)) + "' for value: " + DumpJson(value));
}

void Runner::BindJsonata(Stage& stage) {
  if (stage.bound) return;
  stage.bound = true;
  // $states: input, result (Task, Parallel, Map), errorOutput (Catch), context. Built once per
  // stage: every field of the stage shares it.
  stage.states = JsonObject();
  JsonSet(stage.states, "input", CopyJson(stage.input()));
  if (stage.extra.result != nullptr) JsonSet(stage.states, "result", CopyJson(*stage.extra.result));
  if (stage.extra.error_output != nullptr) {
    JsonSet(stage.states, "errorOutput", CopyJson(*stage.extra.error_output));
  }
  JsonSet(stage.states, "context", CopyJson(StageContext(stage)));
  // The variables in scope, innermost first (ASL: names are unique across nested scopes).
  JsonataBindings& bindings = stage.bindings;
  bindings.clear();
  bindings.emplace_back("states", &stage.states);
  for (int64_t id = stage.frame.id; id >= 0;) {
    auto it = impl_.frames.find(id);
    if (it == impl_.frames.end()) break;
    if (it->second.variables.IsObject()) {
      for (const auto& member : it->second.variables.GetObject()) {
        std::string name(JsonView(member.name));
        bool shadowed = false;
        for (const auto& bound : bindings) shadowed = shadowed || bound.first == name;
        if (!shadowed) bindings.emplace_back(std::move(name), &member.value);
      }
    }
    id = it->second.parent;
  }
}

Result<Json> Runner::EvalJsonata(Stage& stage, std::string_view field, const Json& raw) {
  Json value = CopyJson(raw);
  if (!HasExpression(value)) return value;
  BindJsonata(stage);
  const Frame& frame = stage.frame;
  const State& state = stage.state;
  const Json* input = JsonFind(stage.states, "input");
  JsonataOptions options;
  options.now_ms = now_ / 1000000;
  options.random = &random_;

  struct Pending {
    Json* node;
    std::string location;
  };
  std::vector<Pending> stack;
  stack.push_back({&value, std::string(field)});
  while (!stack.empty()) {
    Pending pending = std::move(stack.back());
    stack.pop_back();
    Json& node = *pending.node;
    if (IsExpression(node)) {
      const std::string_view written = JsonView(node);
      const std::string text(written.substr(2, written.size() - 4));
      const std::string shown(Trim(text));
      const std::string head = "The JSONata expression '" + shown + "' specified for the field '" +
                               pending.location + "' ";
      // Compiled when the definition was parsed; compiled here only for a state built otherwise.
      const JsonataExpression* compiled = nullptr;
      if (state.jsonata_compiled) {
        auto found = state.jsonata_compiled->find(text);
        if (found != state.jsonata_compiled->end()) compiled = &found->second;
      }
      std::optional<JsonataExpression> fresh_compiled;
      if (compiled == nullptr) {
        auto fresh = JsonataExpression::Compile(text);
        if (auto* syntax = std::get_if<JsonataSyntaxError>(&fresh)) {
          return QueryError(
              frame, state, pending.location,
              head + "threw an error during evaluation. " + syntax->code + ": " + syntax->message);
        }
        fresh_compiled = std::move(std::get<JsonataExpression>(fresh));
        compiled = &*fresh_compiled;
      }
      auto result = compiled->Evaluate(input, stage.bindings, options);
      if (!result.ok()) {
        const JsonataError& error = result.error();
        return QueryError(
            frame, state, pending.location,
            head + "threw an error during evaluation. " + error.code + ": " + error.message);
      }
      if (!result.value()) {
        return QueryError(frame, state, pending.location,
                          head + (YieldsFunction(text) ? "returned an unsupported result type."
                                                       : "returned nothing (undefined)."));
      }
      node = std::move(*result.value());
      continue;
    }
    // Children in reverse, so that they are evaluated (and fail) in the order written.
    if (node.IsObject()) {
      for (auto member = node.MemberEnd(); member != node.MemberBegin();) {
        --member;
        stack.push_back(
            {&member->value, pending.location + "/" + std::string(JsonView(member->name))});
      }
    } else if (node.IsArray()) {
      for (rapidjson::SizeType i = node.Size(); i > 0; --i) {
        stack.push_back({&node[i - 1], pending.location + "/" + ToString(i - 1)});
      }
    }
  }
  return value;
}

}  // namespace core_internal

}  // namespace switchyard::asl
