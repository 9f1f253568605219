// Data flow: which (sub-)machine a frame runs, the context object, InputPath, Parameters,
// ResultPath, OutputPath, Assign and the payload limits.

#include "core_internal.hpp"

namespace switchyard::asl {

namespace core_internal {

const StateMachineDef& Runner::DefOf(const Frame& frame) const {
  if (frame.parent < 0) return definition_;
  const Frame& parent = impl_.frames.at(frame.parent);
  if (parent.parent < 0) return ChildDef(definition_, parent, frame);
  ancestors_.clear();
  for (const Frame* up = &frame; up->parent >= 0; up = &impl_.frames.at(up->parent)) {
    ancestors_.push_back(up);
  }
  const StateMachineDef* def = &definition_;
  for (auto it = ancestors_.rbegin(); it != ancestors_.rend(); ++it) {
    def = &ChildDef(*def, impl_.frames.at((*it)->parent), **it);
  }
  return *def;
}

const StateMachineDef& Runner::ChildDef(const StateMachineDef& parent_def, const Frame& parent,
                                        const Frame& child) {
  const State* state = parent_def.Find(parent.state);
  if (child.kind == FrameKind::kBranch) {
    return state->branches[static_cast<std::size_t>(child.index)];
  }
  return *state->item_processor;
}

Json Runner::Context(const Frame& frame, const State& state, const Json* map_value,
                     int64_t map_index) const {
  if (impl_.given_context) return CopyJson(*impl_.given_context);
  Json context = JsonObject();
  Json execution = JsonObject();
  JsonSet(execution, "Id", JsonString(ExecutionArn()));
  JsonSet(execution, "Input", CopyJson(impl_.execution_input));
  JsonSet(execution, "StartTime", JsonString(FormatTimestamp(impl_.start_time)));
  JsonSet(execution, "Name", JsonString(impl_.execution_name));
  JsonSet(execution, "RoleArn", JsonString(RoleArn()));
  JsonSet(execution, "RedriveCount", JsonInt(impl_.redrive_count));
  JsonSet(context, "Execution", std::move(execution));
  Json machine = JsonObject();
  JsonSet(machine, "Id", JsonString(StateMachineArn()));
  JsonSet(machine, "Name", JsonString(impl_.state_machine_name));
  JsonSet(context, "StateMachine", std::move(machine));
  Json state_object = JsonObject();
  JsonSet(state_object, "Name", JsonString(state.name));
  JsonSet(state_object, "EnteredTime", JsonString(FormatTimestamp(frame.entered_time)));
  if (IsRetryable(state.type)) JsonSet(state_object, "RetryCount", JsonInt(frame.retry_count));
  JsonSet(context, "State", std::move(state_object));
  if (!frame.token.empty()) {
    Json task = JsonObject();
    JsonSet(task, "Token", JsonString(frame.token));
    JsonSet(context, "Task", std::move(task));
  }
  if (map_value != nullptr) {
    Json item = JsonObject();
    JsonSet(item, "Index", JsonInt(map_index));
    JsonSet(item, "Value", CopyJson(*map_value));
    Json map = JsonObject();
    JsonSet(map, "Item", std::move(item));
    JsonSet(context, "Map", std::move(map));
  }
  return context;
}

std::string Runner::Prefix(const Frame& frame) const {
  return "An error occurred while executing the state '" + frame.state +
         "' (entered at the event id #" + ToString(frame.entered_event_id) + "). ";
}

Error Runner::RuntimeError(const Frame& frame, const std::string& detail) const {
  return Error{std::string(kStatesRuntime), Prefix(frame) + detail};
}

Error Runner::Prefixed(const Frame& frame, Error error) const {
  if (error.error.empty()) error.error = std::string(kStatesRuntime);
  if (error.error == kStatesRuntime || error.error == kStatesIntrinsicFailure) {
    error.cause = Prefix(frame) + error.cause;
  }
  return error;
}

Result<Json> Runner::EvalPath(const Frame& frame, const State& state, const JsonPath& path,
                              const Json& input) {
  // Building the context copies the execution input: only do it for `$$` paths.
  Json context = path.root() == JsonPath::Root::kContext ? Context(frame, state) : Json();
  FrameVariables variables(impl_, frame.id);
  Scope scope{&input, &context, &variables};
  auto value = path.Evaluate(scope);
  if (!value) {
    return RuntimeError(frame, "Invalid path '" + path.text() + "' : " + value.error().cause);
  }
  return std::move(value).value();
}

Result<Json> Runner::EvalTemplate(const Frame& frame, const State& state,
                                  const PayloadTemplate& tmpl, const Json& input) {
  // The context object is built only for templates that read it.
  Json context = tmpl.UsesContext() ? Context(frame, state) : JsonObject();
  FrameVariables variables(impl_, frame.id);
  Scope scope{&input, &context, &variables};
  auto value = tmpl.Evaluate(scope, random_);
  if (!value) return Prefixed(frame, std::move(value).error());
  return std::move(value).value();
}

Result<Json> Runner::ApplyInputPath(const Frame& frame, const State& state, const Json& input) {
  if (!state.input_path.set) return CopyJson(input);
  if (!state.input_path.path) return JsonObject();
  return EvalPath(frame, state, *state.input_path.path, input);
}

Result<Json> Runner::ApplyOutputPath(const Frame& frame, const State& state, Json value) {
  if (!state.output_path.set) return value;
  if (!state.output_path.path) return JsonObject();
  return EvalPath(frame, state, *state.output_path.path, value);
}

Result<Json> Runner::ApplyResultPath(const Frame& frame, const PathField& result_path, Json input,
                                     Json result) {
  if (!result_path.set) return result;
  if (!result_path.path) return input;
  // Assign is all or nothing, so on failure `input` is still what the state received.
  if (!result_path.path->Assign(input, std::move(result))) {
    return Error{std::string(kStatesResultPathMatchFailure),
                 Prefix(frame) + "Unable to apply ResultPath '" + result_path.path->text() +
                     "' to input '" + DumpJson(input) + "'"};
  }
  return input;
}

Result<Json> Runner::CheckAssigned(const Frame& frame, Result<Json> assigned) {
  if (!assigned || !assigned->IsObject()) return assigned;
  // ASL limits: 256 KiB per variable and per Assign.
  std::size_t total = 0;
  for (auto& member : assigned->GetObject()) {
    std::optional<std::size_t> measured = JsonTextSizeWithin(member.value);
    if (!measured) {
      DestroyJson(member.value);
      return DepthError(frame);
    }
    std::size_t size = *measured;
    total += size;
    if (size > kMaxVariableBytes) {
      return RuntimeError(frame, "The variable '" + std::string(JsonView(member.name)) +
                                     "' exceeds the maximum size of 262144 bytes.");
    }
  }
  if (total > kMaxVariableBytes) {
    return RuntimeError(frame,
                        "The variables assigned exceed the maximum size of 262144 "
                        "bytes per state.");
  }
  // ASL limit: 10 MiB of variables per execution (what this Assign replaces is given back).
  // AWS's quota page states the limit; the error and cause it records when an Assign passes
  // it are not in any public record found (checked 2026-11): States.Runtime with this cause
  // is our choice, not verified (States.DataLimitExceeded would be the other candidate).
  std::size_t replaced = 0;
  for (const auto& member : assigned->GetObject()) {
    if (const Json* old = JsonFind(frame.variables, JsonView(member.name))) {
      replaced += JsonTextSize(*old);
    }
  }
  if (impl_.variables_bytes - std::min(replaced, impl_.variables_bytes) + total >
      kMaxVariablesTotalBytes) {
    return RuntimeError(frame,
                        "The variables exceed the maximum size of 10485760 bytes per "
                        "execution.");
  }
  return assigned;
}

void Runner::CommitAssign(Frame& frame, Json assigned) {
  if (!assigned.IsObject()) return;
  for (auto& member : assigned.GetObject()) {
    if (const Json* old = JsonFind(frame.variables, JsonView(member.name))) {
      impl_.variables_bytes -= std::min(JsonTextSize(*old), impl_.variables_bytes);
    }
    impl_.variables_bytes += JsonTextSize(member.value);
    JsonSet(frame.variables, JsonView(member.name), std::move(member.value));
  }
}

void Runner::ForgetVariables(const Frame& frame) {
  impl_.variables_bytes -= std::min(VariablesSize(frame), impl_.variables_bytes);
}

std::optional<Error> Runner::CheckSize(const Frame& frame, const Json& value) const {
  std::optional<std::size_t> size = JsonTextSizeWithin(value);
  if (!size) return DepthError(frame);
  if (*size > kMaxPayloadBytes) return SizeError(frame);
  return std::nullopt;
}

Error Runner::DepthError(const Frame& frame) const {
  return RuntimeError(frame, "Document nesting depth (" + std::to_string(kMaxJsonNestingDepth + 1) +
                                 ") exceeds the maximum allowed (" +
                                 std::to_string(kMaxJsonNestingDepth) +
                                 ", from `StreamWriteConstraints.getMaxNestingDepth()`)");
}

std::optional<std::string> Runner::DumpWithinLimit(Json& value) {
  std::optional<std::string> text = DumpJsonWithin(value);
  if (!text) DestroyJson(value);
  return text;
}

Error Runner::SizeError(const Frame& frame) const {
  return Error{std::string(kStatesDataLimitExceeded),
               "The state/task '" + frame.state +
                   "' returned a result with a size exceeding the maximum number of bytes "
                   "service limit."};
}

}  // namespace core_internal

}  // namespace switchyard::asl
