// ExecutionState as a JSON snapshot and back, byte-stable.

#include "core_internal.hpp"

namespace switchyard::asl {

namespace core_internal {

namespace {

// ---- snapshots ----------------------------------------------------------------------------
// Version 2 (the compact form): a field at its default value (see Frame and
// ExecutionState::Impl) is left out, a frame's "work" is left out when it is identical to its
// "input" (the common case: a state without InputPath), and the execution's ARN and its state
// machine's name when the state machine's ARN implies them (see ImpliedExecutionArn). Version 1
// snapshots (every field always present, written by earlier builds) read the same way: running
// executions survive an upgrade.
constexpr int64_t kSnapshotVersion = 2;

// Members are added without JsonSet's lookup: every key is written once, in a fixed order. The
// keys are string literals, referenced rather than copied.
void Add(Json& object, const char* key, Json value) {
  object.AddMember(Json(rapidjson::StringRef(key)), std::move(value), Alloc());
}
void AddInt(Json& object, const char* key, int64_t value, int64_t default_value = 0) {
  if (value != default_value) Add(object, key, JsonInt(value));
}
void AddString(Json& object, const char* key, const std::string& value) {
  if (!value.empty()) Add(object, key, JsonString(value));
}
void AddBool(Json& object, const char* key, bool value) {
  if (value) Add(object, key, JsonBool(true));
}
void AddJson(Json& object, const char* key, const Json& value) {  // null is the default
  if (!value.IsNull()) Add(object, key, CopyJson(value));
}
template <typename Ints>
void AddInts(Json& object, const char* key, const Ints& values) {
  if (values.empty()) return;
  Json array = JsonArray();
  array.Reserve(static_cast<rapidjson::SizeType>(values.size()), Alloc());
  for (int64_t value : values) array.PushBack(Json(value), Alloc());
  Add(object, key, std::move(array));
}

// What a snapshot without "stateMachineName" / "executionArn" means: the name in the state
// machine's ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME[:VERSION_OR_ALIAS]) and AWS's
// ARN of an execution of it (arn:aws:states:REGION:ACCOUNT:execution:NAME:EXECUTION_NAME); both
// "" when the state machine's ARN is not of that form. The writer leaves a field out only when it
// equals what it implies, and writes it otherwise (even when empty).
constexpr std::string_view kStateMachineMarker = ":stateMachine:";

std::string_view ImpliedStateMachineName(std::string_view state_machine_arn) {
  std::size_t marker = state_machine_arn.find(kStateMachineMarker);
  if (marker == std::string_view::npos) return {};
  std::string_view rest = state_machine_arn.substr(marker + kStateMachineMarker.size());
  return rest.substr(0, rest.find(':'));
}

std::string ImpliedExecutionArn(std::string_view state_machine_arn,
                                std::string_view execution_name) {
  std::size_t marker = state_machine_arn.find(kStateMachineMarker);
  if (marker == std::string_view::npos) return {};
  std::string arn;
  std::string_view name = ImpliedStateMachineName(state_machine_arn);
  arn.reserve(marker + name.size() + execution_name.size() + 16);
  arn.append(state_machine_arn.substr(0, marker))
      .append(":execution:")
      .append(name)
      .append(":")
      .append(execution_name);
  return arn;
}

bool IsEmptyObject(const Json& value) { return value.IsObject() && value.MemberCount() == 0; }

Json FrameToJson(const Frame& frame) {
  Json object = JsonObject();
  Add(object, "id", JsonInt(frame.id));  // always: the frame's name in the snapshot
  AddInt(object, "parent", frame.parent, -1);
  AddInt(object, "kind", static_cast<int64_t>(frame.kind));
  AddInt(object, "index", frame.index);
  AddString(object, "state", frame.state);
  AddInt(object, "phase", static_cast<int64_t>(frame.phase));
  AddJson(object, "input", frame.input);
  // Absent means "the same as input" (null is written as null when input is not null).
  if (!JsonIdentical(frame.work, frame.input)) Add(object, "work", CopyJson(frame.work));
  if (!IsEmptyObject(frame.variables)) Add(object, "variables", CopyJson(frame.variables));
  AddInt(object, "enteredEventId", frame.entered_event_id);
  AddInt(object, "enteredTime", frame.entered_time);
  AddInts(object, "attempts", frame.attempts);
  AddInt(object, "retryCount", frame.retry_count);
  AddString(object, "taskId", frame.task_id);
  AddString(object, "timerId", frame.timer_id);
  AddString(object, "token", frame.token);
  AddInt(object, "fanTotal", frame.fan_total);
  AddInt(object, "fanNext", frame.fan_next);
  AddInt(object, "fanFailed", frame.fan_failed);
  AddInt(object, "fanMax", frame.fan_max);
  AddInt(object, "toleratedCount", frame.tolerated_count, -1);
  if (frame.tolerated_percentage != -1.0) {
    Add(object, "toleratedPercentage", JsonDouble(frame.tolerated_percentage));
  }
  AddInts(object, "children", SortedChildren(frame));
  AddJson(object, "items", frame.items);
  AddJson(object, "results", frame.results);
  AddString(object, "fanError", frame.fan_error);
  AddString(object, "fanCause", frame.fan_cause);
  AddBool(object, "failed", frame.failed);
  AddJson(object, "output", frame.output);
  AddString(object, "error", frame.error);
  AddString(object, "cause", frame.cause);
  return object;
}

// Reads the members of one object: an absent member keeps the default given, a member of the
// wrong type makes the whole snapshot malformed (ok() false).
class Reader {
 public:
  explicit Reader(const Json& object) : object_(object) {
    if (!object.IsObject()) ok_ = false;
  }
  bool ok() const { return ok_; }
  void Fail() { ok_ = false; }
  const Json* Member(std::string_view key) const { return JsonFind(object_, key); }
  void Int(std::string_view key, int64_t& out) {
    const Json* value = Member(key);
    if (value == nullptr) return;
    if (!value->IsInt64()) {
      ok_ = false;
      return;
    }
    out = value->GetInt64();
  }
  int64_t IntOr(std::string_view key, int64_t default_value) {
    Int(key, default_value);
    return default_value;
  }
  // An integer in [0, max], for enums.
  int64_t Enum(std::string_view key, int64_t max) {
    int64_t value = IntOr(key, 0);
    if (value < 0 || value > max) {
      ok_ = false;
      return 0;
    }
    return value;
  }
  void UInt(std::string_view key, uint64_t& out) {
    const Json* value = Member(key);
    if (value == nullptr) return;
    if (!value->IsUint64()) {
      ok_ = false;
      return;
    }
    out = value->GetUint64();
  }
  void Double(std::string_view key, double& out) {
    const Json* value = Member(key);
    if (value == nullptr) return;
    if (!value->IsNumber()) {
      ok_ = false;
      return;
    }
    out = value->GetDouble();
  }
  void Bool(std::string_view key, bool& out) {
    const Json* value = Member(key);
    if (value == nullptr) return;
    if (!value->IsBool()) {
      ok_ = false;
      return;
    }
    out = value->GetBool();
  }
  void String(std::string_view key, std::string& out) {
    const Json* value = Member(key);
    if (value == nullptr) return;
    if (!value->IsString()) {
      ok_ = false;
      return;
    }
    out.assign(JsonView(*value));
  }
  std::string String(std::string_view key) {
    std::string value;
    String(key, value);
    return value;
  }
  // Whether the member is there; when it is, `out` becomes a copy of it.
  bool Copy(std::string_view key, Json& out) {
    const Json* value = Member(key);
    if (value == nullptr) return false;
    out = CopyJson(*value);
    return true;
  }
  void Ints(std::string_view key, std::vector<int64_t>& out) {
    const Json* value = Member(key);
    if (value == nullptr) return;
    if (!value->IsArray()) {
      ok_ = false;
      return;
    }
    out.reserve(value->Size());
    for (const auto& element : value->GetArray()) {
      if (!element.IsInt64()) {
        ok_ = false;
        return;
      }
      out.push_back(element.GetInt64());
    }
  }

 private:
  const Json& object_;
  bool ok_ = true;
};

std::optional<Frame> FrameFromJson(const Json& object) {
  Reader reader(object);
  if (!reader.ok() || reader.Member("id") == nullptr) return std::nullopt;
  Frame frame;
  reader.Int("id", frame.id);
  reader.Int("parent", frame.parent);
  frame.kind =
      static_cast<FrameKind>(reader.Enum("kind", static_cast<int64_t>(FrameKind::kIteration)));
  reader.Int("index", frame.index);
  reader.String("state", frame.state);
  frame.phase = static_cast<Phase>(reader.Enum("phase", static_cast<int64_t>(Phase::kYield)));
  reader.Copy("input", frame.input);
  if (!reader.Copy("work", frame.work)) frame.work = CopyJson(frame.input);
  reader.Copy("variables", frame.variables);
  reader.Int("enteredEventId", frame.entered_event_id);
  reader.Int("enteredTime", frame.entered_time);
  reader.Ints("attempts", frame.attempts);
  reader.Int("retryCount", frame.retry_count);
  reader.String("taskId", frame.task_id);
  reader.String("timerId", frame.timer_id);
  reader.String("token", frame.token);
  reader.Int("fanTotal", frame.fan_total);
  reader.Int("fanNext", frame.fan_next);
  reader.Int("fanFailed", frame.fan_failed);
  reader.Int("fanMax", frame.fan_max);
  reader.Int("toleratedCount", frame.tolerated_count);
  reader.Double("toleratedPercentage", frame.tolerated_percentage);
  reader.Ints("children", frame.children);
  reader.Copy("items", frame.items);
  reader.Copy("results", frame.results);
  reader.String("fanError", frame.fan_error);
  reader.String("fanCause", frame.fan_cause);
  reader.Bool("failed", frame.failed);
  reader.Copy("output", frame.output);
  reader.String("error", frame.error);
  reader.String("cause", frame.cause);
  // Counters the core indexes with.
  for (int64_t attempt : frame.attempts) {
    if (attempt < 0) reader.Fail();
  }
  if (frame.index < 0 || frame.fan_next < 0 || frame.fan_total < 0 || frame.fan_failed < 0 ||
      frame.fan_max < 0 || frame.retry_count < 0) {
    reader.Fail();
  }
  if (!reader.ok()) return std::nullopt;
  return frame;
}

}  // namespace

}  // namespace core_internal

using core_internal::Add;
using core_internal::AddBool;
using core_internal::AddInt;
using core_internal::AddJson;
using core_internal::AddString;
using core_internal::FrameFromJson;
using core_internal::FrameToJson;
using core_internal::ImpliedExecutionArn;
using core_internal::ImpliedStateMachineName;
using core_internal::Reader;
using core_internal::VariablesSize;

Json ExecutionState::ToJson() const {
  const Impl& impl = *impl_;
  Json object = JsonObject();
  Add(object, "version", JsonInt(core_internal::kSnapshotVersion));
  if (impl.status != ExecutionStatus::kRunning) {
    Add(object, "status", JsonString(ExecutionStatusName(impl.status)));
  }
  if (impl.type != ExecutionType::kStandard) {
    Add(object, "type", JsonString(ExecutionTypeName(impl.type)));
  }
  AddBool(object, "started", impl.started);
  AddString(object, "executionName", impl.execution_name);
  if (impl.execution_arn != ImpliedExecutionArn(impl.state_machine_arn, impl.execution_name)) {
    Add(object, "executionArn", JsonString(impl.execution_arn));
  }
  if (impl.state_machine_name != ImpliedStateMachineName(impl.state_machine_arn)) {
    Add(object, "stateMachineName", JsonString(impl.state_machine_name));
  }
  AddString(object, "stateMachineArn", impl.state_machine_arn);
  AddString(object, "roleArn", impl.role_arn);
  AddJson(object, "executionInput", impl.execution_input);
  if (impl.given_context) Add(object, "givenContext", CopyJson(*impl.given_context));
  AddInt(object, "startTime", impl.start_time);
  if (impl.prng != 0) Add(object, "prng", Json(impl.prng));
  AddInt(object, "lastEventId", impl.last_event_id);
  AddInt(object, "nextSerial", impl.next_serial, 1);
  AddBool(object, "executionTimer", impl.execution_timer);
  AddInt(object, "redriveCount", impl.redrive_count);
  if (impl.redrive_entered_event_id != 0) {
    Add(object, "redriveState", JsonString(impl.redrive_state));
    Add(object, "redriveEnteredEventId", JsonInt(impl.redrive_entered_event_id));
    Add(object, "redriveVariables", CopyJson(impl.redrive_variables));
  }
  AddString(object, "redriveRefusal", impl.redrive_refusal);
  Json frames = JsonArray();
  frames.Reserve(static_cast<rapidjson::SizeType>(impl.frames.size()), Alloc());
  for (int64_t frame_id : impl.SortedFrameIds())
    frames.PushBack(FrameToJson(impl.frames.at(frame_id)), Alloc());
  Add(object, "frames", std::move(frames));
  return object;
}

Result<ExecutionState> ExecutionState::FromJson(const Json& snapshot) {
  const Error malformed{std::string(kStatesRuntime), "malformed execution snapshot"};
  const Error malformed_frame{std::string(kStatesRuntime), "malformed frame in execution snapshot"};
  ExecutionState state;
  Impl& impl = *state.impl_;
  Reader reader(snapshot);
  // Version 1: every field present; version 2: defaults left out. Both read alike.
  const int64_t version = reader.IntOr("version", 0);
  if (version != 1 && version != core_internal::kSnapshotVersion) return malformed;
  if (reader.Member("status") != nullptr) {
    std::string status = reader.String("status");
    bool known = false;
    for (auto candidate :
         {ExecutionStatus::kRunning, ExecutionStatus::kSucceeded, ExecutionStatus::kFailed,
          ExecutionStatus::kTimedOut, ExecutionStatus::kAborted}) {
      if (ExecutionStatusName(candidate) == status) {
        impl.status = candidate;
        known = true;
      }
    }
    if (!known) return malformed;
  }
  if (reader.Member("type") != nullptr) {
    auto type = ParseExecutionType(reader.String("type"));
    if (!type) return malformed;
    impl.type = *type;
  }
  reader.Bool("started", impl.started);
  reader.String("executionName", impl.execution_name);
  reader.String("stateMachineArn", impl.state_machine_arn);
  if (reader.Member("executionArn") != nullptr) {
    reader.String("executionArn", impl.execution_arn);
  } else {
    impl.execution_arn = ImpliedExecutionArn(impl.state_machine_arn, impl.execution_name);
  }
  if (reader.Member("stateMachineName") != nullptr) {
    reader.String("stateMachineName", impl.state_machine_name);
  } else {
    impl.state_machine_name = ImpliedStateMachineName(impl.state_machine_arn);
  }
  reader.String("roleArn", impl.role_arn);
  reader.Copy("executionInput", impl.execution_input);
  if (const Json* v = reader.Member("givenContext"); v != nullptr && v->IsObject()) {
    impl.given_context = CopyJson(*v);
  }
  reader.Int("startTime", impl.start_time);
  reader.UInt("prng", impl.prng);
  reader.Int("lastEventId", impl.last_event_id);
  reader.Int("nextSerial", impl.next_serial);
  reader.Bool("executionTimer", impl.execution_timer);
  reader.Int("redriveCount", impl.redrive_count);
  if (reader.Member("redriveEnteredEventId") != nullptr) {
    reader.Int("redriveEnteredEventId", impl.redrive_entered_event_id);
    if (reader.Member("redriveState") == nullptr) reader.Fail();
    reader.String("redriveState", impl.redrive_state);
    reader.Copy("redriveVariables", impl.redrive_variables);
  }
  reader.String("redriveRefusal", impl.redrive_refusal);
  const Json* frames = reader.Member("frames");
  if (!reader.ok() || frames == nullptr || !frames->IsArray()) return malformed;
  int64_t roots = 0;
  for (const auto& element : frames->GetArray()) {
    auto frame = FrameFromJson(element);
    if (!frame) return malformed_frame;
    int64_t id = frame->id;
    if (frame->parent < 0) ++roots;
    impl.variables_bytes += VariablesSize(*frame);
    impl.IndexFrame(*frame);
    if (!impl.frames.emplace(id, std::move(*frame)).second) return malformed_frame;  // twice
  }
  // The frames form one tree: every child names its parent, its parent lists it once, and every
  // frame is reached from the root (no cycles, no orphans). Fan-out bookkeeping the core indexes
  // with is within bounds.
  if (roots > 1) return malformed_frame;
  std::vector<const Impl::Frame*> pending;
  std::size_t reached = 0;
  for (const auto& [id, frame] : impl.frames) {
    if (frame.parent < 0) pending.push_back(&frame);
  }
  while (!pending.empty()) {
    const Impl::Frame& parent = *pending.back();
    pending.pop_back();
    ++reached;
    if (!parent.children.empty()) {
      const bool bookkeeping = parent.phase == core_internal::Phase::kChildren &&
                               parent.fan_next <= parent.fan_total && parent.results.IsArray() &&
                               static_cast<int64_t>(parent.results.Size()) == parent.fan_total &&
                               (parent.items.IsNull() ||
                                (parent.items.IsArray() &&
                                 static_cast<int64_t>(parent.items.Size()) >= parent.fan_total));
      if (!bookkeeping) return malformed_frame;
    }
    for (std::size_t slot = 0; slot < parent.children.size(); ++slot) {
      auto child = impl.frames.find(parent.children[slot]);
      if (child == impl.frames.end() || child->second.parent != parent.id ||
          child->second.parent < 0 || child->second.index >= parent.fan_next ||
          child->second.child_slot != 0) {
        return malformed_frame;
      }
      child->second.child_slot = slot + 1;  // 1-based while walking: 0 means "not seen"
      pending.push_back(&child->second);
    }
  }
  if (reached != impl.frames.size()) return malformed_frame;
  for (auto& [id, frame] : impl.frames) {
    if (frame.parent >= 0) frame.child_slot -= 1;
  }
  return state;
}

}  // namespace switchyard::asl
