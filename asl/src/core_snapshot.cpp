// ExecutionState as a JSON snapshot and back, byte-stable.

#include "core_internal.hpp"

namespace switchyard::asl {

namespace core_internal {

namespace {

// ---- snapshots ----------------------------------------------------------------------------
template <typename Ints>
Json IntArray(const Ints& values) {
  Json array = JsonArray();
  for (int64_t value : values) JsonPush(array, JsonInt(value));
  return array;
}

Json FrameToJson(const Frame& frame) {
  Json object = JsonObject();
  JsonSet(object, "id", JsonInt(frame.id));
  JsonSet(object, "parent", JsonInt(frame.parent));
  JsonSet(object, "kind", JsonInt(static_cast<int64_t>(frame.kind)));
  JsonSet(object, "index", JsonInt(frame.index));
  JsonSet(object, "state", JsonString(frame.state));
  JsonSet(object, "phase", JsonInt(static_cast<int64_t>(frame.phase)));
  JsonSet(object, "input", CopyJson(frame.input));
  JsonSet(object, "work", CopyJson(frame.work));
  JsonSet(object, "variables", CopyJson(frame.variables));
  JsonSet(object, "enteredEventId", JsonInt(frame.entered_event_id));
  JsonSet(object, "enteredTime", JsonInt(frame.entered_time));
  JsonSet(object, "attempts", IntArray(frame.attempts));
  JsonSet(object, "retryCount", JsonInt(frame.retry_count));
  JsonSet(object, "taskId", JsonString(frame.task_id));
  JsonSet(object, "timerId", JsonString(frame.timer_id));
  JsonSet(object, "token", JsonString(frame.token));
  JsonSet(object, "fanTotal", JsonInt(frame.fan_total));
  JsonSet(object, "fanNext", JsonInt(frame.fan_next));
  JsonSet(object, "fanFailed", JsonInt(frame.fan_failed));
  JsonSet(object, "fanMax", JsonInt(frame.fan_max));
  JsonSet(object, "toleratedCount", JsonInt(frame.tolerated_count));
  JsonSet(object, "toleratedPercentage", JsonDouble(frame.tolerated_percentage));
  JsonSet(object, "children", IntArray(SortedChildren(frame)));
  JsonSet(object, "items", CopyJson(frame.items));
  JsonSet(object, "results", CopyJson(frame.results));
  JsonSet(object, "fanError", JsonString(frame.fan_error));
  JsonSet(object, "fanCause", JsonString(frame.fan_cause));
  JsonSet(object, "failed", JsonBool(frame.failed));
  JsonSet(object, "output", CopyJson(frame.output));
  JsonSet(object, "error", JsonString(frame.error));
  JsonSet(object, "cause", JsonString(frame.cause));
  return object;
}

class Reader {
 public:
  explicit Reader(const Json& object) : object_(object) {}
  bool ok() const { return ok_; }
  const Json* Member(std::string_view key) {
    const Json* value = JsonFind(object_, key);
    if (value == nullptr) ok_ = false;
    return value;
  }
  int64_t Int(std::string_view key) {
    const Json* value = Member(key);
    if (value == nullptr || !value->IsInt64()) {
      ok_ = false;
      return 0;
    }
    return value->GetInt64();
  }
  uint64_t UInt(std::string_view key) {
    const Json* value = Member(key);
    if (value == nullptr || !value->IsUint64()) {
      ok_ = false;
      return 0;
    }
    return value->GetUint64();
  }
  double Double(std::string_view key) {
    const Json* value = Member(key);
    if (value == nullptr || !value->IsNumber()) {
      ok_ = false;
      return 0;
    }
    return value->GetDouble();
  }
  bool Bool(std::string_view key) {
    const Json* value = Member(key);
    if (value == nullptr || !value->IsBool()) {
      ok_ = false;
      return false;
    }
    return value->GetBool();
  }
  std::string String(std::string_view key) {
    const Json* value = Member(key);
    if (value == nullptr || !value->IsString()) {
      ok_ = false;
      return {};
    }
    return std::string(JsonView(*value));
  }
  Json Copy(std::string_view key) {
    const Json* value = Member(key);
    return value == nullptr ? Json() : CopyJson(*value);
  }
  std::vector<int64_t> Ints(std::string_view key) {
    std::vector<int64_t> values;
    const Json* value = Member(key);
    if (value == nullptr || !value->IsArray()) {
      ok_ = false;
      return values;
    }
    for (const auto& element : value->GetArray()) {
      if (!element.IsInt64()) {
        ok_ = false;
        continue;
      }
      values.push_back(element.GetInt64());
    }
    return values;
  }

 private:
  const Json& object_;
  bool ok_ = true;
};

std::optional<Frame> FrameFromJson(const Json& object) {
  Reader reader(object);
  Frame frame;
  frame.id = reader.Int("id");
  frame.parent = reader.Int("parent");
  frame.kind = static_cast<FrameKind>(reader.Int("kind"));
  frame.index = reader.Int("index");
  frame.state = reader.String("state");
  frame.phase = static_cast<Phase>(reader.Int("phase"));
  frame.input = reader.Copy("input");
  frame.work = reader.Copy("work");
  frame.variables = reader.Copy("variables");
  frame.entered_event_id = reader.Int("enteredEventId");
  frame.entered_time = reader.Int("enteredTime");
  frame.attempts = reader.Ints("attempts");
  frame.retry_count = reader.Int("retryCount");
  frame.task_id = reader.String("taskId");
  frame.timer_id = reader.String("timerId");
  frame.token = reader.String("token");
  frame.fan_total = reader.Int("fanTotal");
  frame.fan_next = reader.Int("fanNext");
  frame.fan_failed = reader.Int("fanFailed");
  frame.fan_max = reader.Int("fanMax");
  frame.tolerated_count = reader.Int("toleratedCount");
  frame.tolerated_percentage = reader.Double("toleratedPercentage");
  frame.children = reader.Ints("children");
  frame.items = reader.Copy("items");
  frame.results = reader.Copy("results");
  frame.fan_error = reader.String("fanError");
  frame.fan_cause = reader.String("fanCause");
  frame.failed = reader.Bool("failed");
  frame.output = reader.Copy("output");
  frame.error = reader.String("error");
  frame.cause = reader.String("cause");
  if (!reader.ok()) return std::nullopt;
  return frame;
}

}  // namespace

}  // namespace core_internal

using core_internal::FrameFromJson;
using core_internal::FrameToJson;
using core_internal::Reader;
using core_internal::VariablesSize;

Json ExecutionState::ToJson() const {
  const Impl& impl = *impl_;
  Json object = JsonObject();
  JsonSet(object, "version", JsonInt(1));
  JsonSet(object, "status", JsonString(ExecutionStatusName(impl.status)));
  JsonSet(object, "type", JsonString(ExecutionTypeName(impl.type)));
  JsonSet(object, "started", JsonBool(impl.started));
  JsonSet(object, "executionName", JsonString(impl.execution_name));
  JsonSet(object, "executionArn", JsonString(impl.execution_arn));
  JsonSet(object, "stateMachineName", JsonString(impl.state_machine_name));
  JsonSet(object, "stateMachineArn", JsonString(impl.state_machine_arn));
  JsonSet(object, "roleArn", JsonString(impl.role_arn));
  JsonSet(object, "executionInput", CopyJson(impl.execution_input));
  // Only when set, so that snapshots without it keep their exact text.
  if (impl.given_context) JsonSet(object, "givenContext", CopyJson(*impl.given_context));
  JsonSet(object, "startTime", JsonInt(impl.start_time));
  Json prng(impl.prng);
  JsonSet(object, "prng", std::move(prng));
  JsonSet(object, "lastEventId", JsonInt(impl.last_event_id));
  JsonSet(object, "nextSerial", JsonInt(impl.next_serial));
  JsonSet(object, "executionTimer", JsonBool(impl.execution_timer));
  // Redrive fields only when set, so that snapshots without them keep their exact text.
  if (impl.redrive_count != 0) JsonSet(object, "redriveCount", JsonInt(impl.redrive_count));
  if (impl.redrive_entered_event_id != 0) {
    JsonSet(object, "redriveState", JsonString(impl.redrive_state));
    JsonSet(object, "redriveEnteredEventId", JsonInt(impl.redrive_entered_event_id));
    JsonSet(object, "redriveVariables", CopyJson(impl.redrive_variables));
  }
  if (!impl.redrive_refusal.empty()) {
    JsonSet(object, "redriveRefusal", JsonString(impl.redrive_refusal));
  }
  Json frames = JsonArray();
  for (int64_t frame_id : impl.SortedFrameIds())
    JsonPush(frames, FrameToJson(impl.frames.at(frame_id)));
  JsonSet(object, "frames", std::move(frames));
  return object;
}

Result<ExecutionState> ExecutionState::FromJson(const Json& snapshot) {
  ExecutionState state;
  Impl& impl = *state.impl_;
  Reader reader(snapshot);
  std::string status = reader.String("status");
  for (auto candidate :
       {ExecutionStatus::kRunning, ExecutionStatus::kSucceeded, ExecutionStatus::kFailed,
        ExecutionStatus::kTimedOut, ExecutionStatus::kAborted}) {
    if (ExecutionStatusName(candidate) == status) impl.status = candidate;
  }
  auto type = ParseExecutionType(reader.String("type"));
  if (!type) return Error{std::string(kStatesRuntime), "malformed execution snapshot"};
  impl.type = *type;
  impl.started = reader.Bool("started");
  impl.execution_name = reader.String("executionName");
  impl.execution_arn = reader.String("executionArn");
  impl.state_machine_name = reader.String("stateMachineName");
  impl.state_machine_arn = reader.String("stateMachineArn");
  impl.role_arn = reader.String("roleArn");
  impl.execution_input = reader.Copy("executionInput");
  if (const Json* v = JsonFind(snapshot, "givenContext"); v != nullptr && v->IsObject()) {
    impl.given_context = CopyJson(*v);
  }
  impl.start_time = reader.Int("startTime");
  impl.prng = reader.UInt("prng");
  impl.last_event_id = reader.Int("lastEventId");
  impl.next_serial = reader.Int("nextSerial");
  impl.execution_timer = reader.Bool("executionTimer");
  if (const Json* v = JsonFind(snapshot, "redriveCount"); v != nullptr && v->IsInt64()) {
    impl.redrive_count = v->GetInt64();
  }
  if (const Json* v = JsonFind(snapshot, "redriveEnteredEventId"); v != nullptr && v->IsInt64()) {
    impl.redrive_entered_event_id = v->GetInt64();
    impl.redrive_state = reader.String("redriveState");
    impl.redrive_variables = reader.Copy("redriveVariables");
  }
  if (const Json* v = JsonFind(snapshot, "redriveRefusal"); v != nullptr && v->IsString()) {
    impl.redrive_refusal = std::string(JsonView(*v));
  }
  const Json* frames = reader.Member("frames");
  if (!reader.ok() || frames == nullptr || !frames->IsArray()) {
    return Error{std::string(kStatesRuntime), "malformed execution snapshot"};
  }
  for (const auto& element : frames->GetArray()) {
    auto frame = FrameFromJson(element);
    if (!frame) return Error{std::string(kStatesRuntime), "malformed frame in execution snapshot"};
    int64_t id = frame->id;
    impl.variables_bytes += VariablesSize(*frame);
    impl.IndexFrame(*frame);
    impl.frames.emplace(id, std::move(*frame));
  }
  for (const auto& [parent_id, parent] : impl.frames) {
    for (std::size_t slot = 0; slot < parent.children.size(); ++slot) {
      auto child = impl.frames.find(parent.children[slot]);
      if (child == impl.frames.end() || child->second.parent != parent_id) {
        return Error{std::string(kStatesRuntime), "malformed frame in execution snapshot"};
      }
      child->second.child_slot = slot;
    }
  }
  return state;
}

}  // namespace switchyard::asl
