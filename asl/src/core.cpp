#include "switchyard/asl/core.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include "switchyard/asl/names.hpp"
#include "switchyard/asl/timestamp.hpp"

namespace switchyard::asl {

namespace {

constexpr int64_t kNanosPerSecond = 1000000000;
constexpr int64_t kDefaultTaskTimeoutSeconds = 99999999;
constexpr std::string_view kExecutionTimerId = "execution-timeout";
constexpr std::string_view kCallbackSuffix = ".waitForTaskToken";
// An Express execution hands control back to its driver after this many events in one Apply,
// so that its 5-minute limit can fire even in a loop of synchronous states.
constexpr std::size_t kExpressYieldEvents = 5000;

// kYield: about to enter the current state, once the timer `timer_id` (due at once) fires.
enum class Phase {
  kEnter = 0,
  kTask = 1,
  kWait = 2,
  kRetry = 3,
  kChildren = 4,
  kDone = 5,
  kYield = 6
};
enum class FrameKind { kRoot = 0, kBranch = 1, kIteration = 2 };

// `now` plus `seconds` (>= 0), saturated: a time past what int64 nanoseconds hold (year 2262)
// stays at the largest one, later than any time an execution can reach.
int64_t AddSeconds(int64_t now, int64_t seconds) {
  if (seconds <= 0) return now;
  if (seconds >= (INT64_MAX - std::max<int64_t>(now, 0)) / kNanosPerSecond) return INT64_MAX;
  return now + seconds * kNanosPerSecond;
}

// The same for a delay in (fractional) seconds, e.g. a retry's backoff.
int64_t AddSeconds(int64_t now, double seconds) {
  if (!(seconds > 0)) return now;
  if (seconds >= static_cast<double>((INT64_MAX - std::max<int64_t>(now, 0)) / kNanosPerSecond)) {
    return INT64_MAX;
  }
  return now + static_cast<int64_t>(seconds * static_cast<double>(kNanosPerSecond));
}

std::string ToString(int64_t value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  (void)ec;
  return std::string(buffer, end);
}

// A frame is one thread of control: the execution itself, a Parallel branch or a Map iteration.
struct Frame {
  int64_t id = 0;
  int64_t parent = -1;
  FrameKind kind = FrameKind::kRoot;
  int64_t index = 0;  // branch index or item index
  std::string state;  // the current state
  Phase phase = Phase::kEnter;
  Json input;  // the current state's raw input
  // DumpJson(input) when it is already known (the previous state's output text); empty when
  // not. A cache for the history, never in snapshots: whoever sets `input` clears or sets it.
  std::string input_text;
  Json work;  // effective input (after InputPath); a Wait's pending output
  Json variables = JsonObject();
  int64_t entered_event_id = 0;
  int64_t entered_time = 0;
  std::vector<int64_t> attempts;  // per retrier of the current state
  int64_t retry_count = 0;
  std::string task_id;
  std::string timer_id;
  std::string token;
  // Parallel / Map bookkeeping of the current state.
  int64_t fan_total = 0;
  int64_t fan_next = 0;
  int64_t fan_failed = 0;
  int64_t fan_max = 0;
  int64_t tolerated_count = -1;
  double tolerated_percentage = -1;
  // Live children's ids, in no particular order: each child knows its place (`child_slot`), so
  // that a Map of 100,000 waiting iterations removes a finished one in O(1). Ids grow with
  // launch order: SortedChildren() is the launch order.
  std::vector<int64_t> children;
  // This frame's index in its parent's `children`. Not in snapshots (FromJson recomputes it).
  std::size_t child_slot = 0;
  Json items;
  Json results;
  std::string fan_error;
  std::string fan_cause;
  // Outcome, once kDone.
  bool failed = false;
  Json output;
  std::string error;
  std::string cause;
};

std::vector<int64_t> SortedChildren(const Frame& frame) {
  std::vector<int64_t> children = frame.children;
  std::sort(children.begin(), children.end());
  return children;
}

std::size_t VariablesSize(const Frame& frame) {
  std::size_t size = 0;
  if (!frame.variables.IsObject()) return size;
  for (const auto& member : frame.variables.GetObject()) size += JsonTextSize(member.value);
  return size;
}

}  // namespace

struct ExecutionState::Impl {
  ExecutionStatus status = ExecutionStatus::kRunning;
  ExecutionType type = ExecutionType::kStandard;
  bool started = false;
  std::string execution_name;
  std::string execution_arn;
  std::string state_machine_name;
  std::string state_machine_arn;
  std::string role_arn;
  Json execution_input;
  int64_t start_time = 0;
  uint64_t prng = 0;
  int64_t last_event_id = 0;
  int64_t next_serial = 1;
  bool execution_timer = false;
  // By id. Hashed: a Map of 100,000 live iterations finds a frame without a tree walk's cache
  // misses. Whatever depends on their order (snapshots, the commands that end an execution)
  // sorts the ids (SortedFrameIds).
  std::unordered_map<int64_t, Frame> frames;
  // The size of every live frame's variables (AWS: at most 10 MiB per execution). Not in
  // snapshots: FromJson recounts it.
  std::size_t variables_bytes = 0;
  // A task or timer id names its frame ("task-<serial>.<frame id>"), so that an event finds its
  // frame without scanning them all. A callback token (32 random hex digits) cannot: `owners`
  // maps each token in flight to its frame, allocated on first use, never in snapshots (FromJson
  // rebuilds it from the frames). An entry may outlive its frame (the lookup checks the frame).
  std::unique_ptr<std::unordered_map<std::string, int64_t>> owners;
  // Test hook: frames examined to route task and timer events to their owner (one per event).
  int64_t frames_examined = 0;

  [[gnu::noinline]] void Index(const std::string& key, int64_t frame_id) {
    if (key.empty()) return;
    if (!owners) owners = std::make_unique<std::unordered_map<std::string, int64_t>>();
    (*owners)[key] = frame_id;
  }
  [[gnu::noinline]] void Unindex(const std::string& key, int64_t frame_id) {
    if (key.empty() || !owners) return;
    auto it = owners->find(key);
    if (it != owners->end() && it->second == frame_id) owners->erase(it);
  }
  // Enters `frame`'s token in `owners`.
  void IndexFrame(const Frame& frame) { Index(frame.token, frame.id); }
  // Removes `frame`'s entry (if it still names it).
  void UnindexFrame(const Frame& frame) { Unindex(frame.token, frame.id); }
  // The frame a task or timer id names, or nullptr.
  Frame* FrameOfId(std::string_view id) {
    std::size_t dot = id.rfind('.');
    if (dot == std::string_view::npos) return nullptr;
    int64_t frame_id = 0;
    auto [end, ec] = std::from_chars(id.data() + dot + 1, id.data() + id.size(), frame_id);
    if (ec != std::errc() || end != id.data() + id.size()) return nullptr;
    auto it = frames.find(frame_id);
    if (it == frames.end()) return nullptr;
    ++frames_examined;
    return &it->second;
  }
  std::vector<int64_t> SortedFrameIds() const {
    std::vector<int64_t> ids;
    ids.reserve(frames.size());
    for (const auto& entry : frames) ids.push_back(entry.first);
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  // The frame that owns token `key`, or nullptr.
  Frame* Owner(const std::string& key) {
    if (key.empty() || !owners) return nullptr;
    auto owner = owners->find(key);
    if (owner == owners->end()) return nullptr;
    auto it = frames.find(owner->second);
    if (it == frames.end()) return nullptr;
    ++frames_examined;
    return &it->second;
  }
};

namespace {

using Impl = ExecutionState::Impl;

// splitmix64: small, fast and fully determined by its 64-bit state, which lives in the snapshot.
class SplitMix : public RandomSource {
 public:
  explicit SplitMix(uint64_t& state) : state_(state) {}
  uint64_t NextU64() override {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t& state_;
};

class FrameVariables : public VariableLookup {
 public:
  FrameVariables(const Impl& impl, int64_t frame_id) : impl_(impl), frame_id_(frame_id) {}
  const Json* Find(std::string_view name) const override {
    // ASL: inner scopes read outer variables; names are unique across nested scopes.
    int64_t id = frame_id_;
    while (id >= 0) {
      auto it = impl_.frames.find(id);
      if (it == impl_.frames.end()) return nullptr;
      if (const Json* value = JsonFind(it->second.variables, name)) return value;
      id = it->second.parent;
    }
    return nullptr;
  }

 private:
  const Impl& impl_;
  int64_t frame_id_;
};

bool IsRetryable(StateType type) {
  return type == StateType::kTask || type == StateType::kParallel || type == StateType::kMap;
}

std::vector<std::string_view> SplitColon(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = text.find(':', start);
    if (pos == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

// A legacy Lambda resource ("arn:aws:lambda:<region>:<account>:function:<name>") records
// LambdaFunction* history events; everything else records Task* events.
bool IsLegacyLambda(std::string_view resource) {
  auto parts = SplitColon(resource);
  return parts.size() >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function";
}

bool IsCallback(std::string_view resource) {
  return resource.size() >= kCallbackSuffix.size() &&
         resource.substr(resource.size() - kCallbackSuffix.size()) == kCallbackSuffix;
}

// "arn:aws:states:::lambda:invoke" → ("lambda", "invoke").
std::pair<std::string, std::string> ResourceTypeAndName(std::string_view resource) {
  auto parts = SplitColon(resource);
  if (parts.size() >= 6 && parts[2] == "states") {
    std::string type(parts[5]);
    std::string name;
    for (std::size_t i = 6; i < parts.size(); ++i) {
      if (!name.empty()) name += ':';
      name += parts[i];
    }
    return {type, name};
  }
  return {"", std::string(resource)};
}

// ASL error matching. States.Runtime is terminal and never reaches here. AWS's recorded
// histories show States.ALL catching a task's States.DataLimitExceeded; States.TaskFailed matches
// any task error except States.Timeout.
bool ErrorMatches(const std::vector<std::string>& error_equals, const std::string& error) {
  for (const auto& name : error_equals) {
    if (name == error) return true;
    if (name == kStatesAll) return true;
    if (name == kStatesTaskFailed && error != kStatesTimeout) return true;
  }
  return false;
}

std::string ValueText(const Json& value) {
  return value.IsString() ? std::string(JsonView(value)) : DumpJson(value);
}

Json PayloadDetails() {
  Json details = JsonObject();
  JsonSet(details, "truncated", JsonBool(false));
  return details;
}

enum StateEvent { kEntered, kExited, kAborted };

// "PassStateEntered", "MapStateAborted", ...: literals, as HistoryEvent::type requires.
std::string_view StateEventType(StateType type, StateEvent event) {
  static constexpr std::string_view kNames[][3] = {
      {"TaskStateEntered", "TaskStateExited", "TaskStateAborted"},
      {"PassStateEntered", "PassStateExited", "PassStateAborted"},
      {"ChoiceStateEntered", "ChoiceStateExited", "ChoiceStateAborted"},
      {"WaitStateEntered", "WaitStateExited", "WaitStateAborted"},
      {"SucceedStateEntered", "SucceedStateExited", "SucceedStateAborted"},
      {"FailStateEntered", "FailStateExited", "FailStateAborted"},
      {"ParallelStateEntered", "ParallelStateExited", "ParallelStateAborted"},
      {"MapStateEntered", "MapStateExited", "MapStateAborted"},
  };
  std::size_t row = 0;
  switch (type) {
    case StateType::kTask:
      row = 0;
      break;
    case StateType::kPass:
      row = 1;
      break;
    case StateType::kChoice:
      row = 2;
      break;
    case StateType::kWait:
      row = 3;
      break;
    case StateType::kSucceed:
      row = 4;
      break;
    case StateType::kFail:
      row = 5;
      break;
    case StateType::kParallel:
      row = 6;
      break;
    case StateType::kMap:
      row = 7;
      break;
  }
  return kNames[row][event];
}

// Drive's stack of frame ids, the top one kept apart: driving a single frame (an execution of
// Pass and Choice states) allocates nothing.
class FrameStack {
 public:
  bool empty() const { return size_ == 0; }
  int64_t back() const { return top_; }
  void push_back(int64_t frame_id) {
    if (size_ > 0) below_.push_back(top_);
    top_ = frame_id;
    ++size_;
  }
  void pop_back() {
    if (--size_ > 0) {
      top_ = below_.back();
      below_.pop_back();
    }
  }
  void clear() {
    size_ = 0;
    below_.clear();
  }

 private:
  int64_t top_ = -1;
  std::size_t size_ = 0;
  std::vector<int64_t> below_;
};

class Runner {
 public:
  // `consumable`, when given, is the event being handled, whose payloads may be moved out
  // instead of copied once they have been read.
  Runner(const StateMachineDef& definition, Impl& impl, int64_t now, Step& step,
         Event* consumable = nullptr)
      : definition_(definition),
        impl_(impl),
        now_(now),
        step_(step),
        random_(impl.prng),
        consumable_(consumable) {}

  void Handle(const Event& event) {
    HandleEvent(event);
    if (history_full_) EndAtHistoryLimit();
  }

 private:
  void HandleEvent(const Event& event) {
    if (event.kind == Event::Kind::kStarted) {
      if (!impl_.started) Start(event);
      return;
    }
    if (!impl_.started || impl_.status != ExecutionStatus::kRunning) return;
    switch (event.kind) {
      case Event::Kind::kStarted:
        return;
      case Event::Kind::kTaskSucceeded:
      case Event::Kind::kTaskFailed:
      case Event::Kind::kTaskTimedOut:
      case Event::Kind::kHeartbeatTimedOut:
      case Event::Kind::kHeartbeat:
        return HandleTaskEvent(event);
      case Event::Kind::kTimerFired:
        return HandleTimer(event.timer_id);
      case Event::Kind::kStopRequested:
        return EndExecution(ExecutionStatus::kAborted, "ExecutionAborted", JsonNull(), event.error,
                            event.cause);
    }
  }

  // ---- history and commands -----------------------------------------------------------
  // `details_key` must be a literal (HistoryEvent keeps a view of it).
  // `type` and `details_key` must be literals (HistoryEvent keeps views of them).
  int64_t Emit(std::string_view type, std::string_view details_key = {}, Json details = Json()) {
    return EmitText(type, details_key, details_key.empty() ? std::string() : DumpJson(details));
  }

  // As Emit, with the details object already as JSON text.
  // As Emit, with the details object already as JSON text, and the payload (JSON text) that
  // goes in its member `payload_field` ("input"/"output") kept apart.
  // Returns the new event's id, or 0 when the history limit takes its place.
  int64_t EmitText(std::string_view type, std::string_view details_key, std::string details_json,
                   std::string_view payload_field = {}, std::string payload_text = {}) {
    if (history_full_) return 0;
    if (impl_.type == ExecutionType::kStandard && impl_.last_event_id + 1 >= kMaxHistoryEvents &&
        !type.starts_with("Execution")) {
      // AWS: the 25,000th event is ExecutionFailed. Whatever this step does from here on is
      // neither recorded nor carried out; Handle ends the execution once the step unwinds.
      history_full_ = true;
      commands_at_limit_ = step_.commands.size();
      impl_.status = ExecutionStatus::kFailed;  // stops every loop that drives frames
      return 0;
    }
    HistoryEvent& event = step_.history.emplace_back();
    event.id = ++impl_.last_event_id;
    event.previous_event_id = event.id - 1;
    event.timestamp = now_;
    event.type = type;
    event.details_key = details_key;
    event.details_json = std::move(details_json);
    event.payload_field = payload_field;
    event.payload_text = std::move(payload_text);
    return impl_.last_event_id;
  }

  // The hot path (every state entry and exit) writes its details as text directly.
  // State events keep the name and payload apart; HistoryEvent::Details() assembles them.
  void EmitStateEntered(const State& state, std::string input_text) {
    if (EmitText(StateEventType(state.type, kEntered), "stateEnteredEventDetails", {}, "input",
                 std::move(input_text)) != 0) {
      step_.history.back().state_name = state.name;
    }
  }

  void EmitStateExited(const State& state, const Json& output) {
    EmitStateExited(state, DumpJson(output));
  }

  void EmitStateExited(const State& state, std::string output_text) {
    if (EmitText(StateEventType(state.type, kExited), "stateExitedEventDetails", {}, "output",
                 std::move(output_text)) != 0) {
      step_.history.back().state_name = state.name;
    }
  }

  Json ErrorDetails(const std::string& error, const std::string& cause) {
    Json details = JsonObject();
    if (!error.empty()) JsonSet(details, "error", JsonString(error));
    if (!cause.empty()) JsonSet(details, "cause", JsonString(cause));
    return details;
  }

  std::string NextSerial(std::string_view prefix) {
    return std::string(prefix) + ToString(impl_.next_serial++);
  }

  // A new task or timer id for `frame`: "<prefix><serial>.<frame id>" (see Impl::FrameOfId).
  std::string NextId(std::string_view prefix, const Frame& frame) {
    return NextSerial(prefix) + "." + ToString(frame.id);
  }

  // A frame's task id, timer id and token change only through these (a token is indexed).
  void SetTask(Frame& frame, std::string task_id) { frame.task_id = std::move(task_id); }
  void ClearTask(Frame& frame) { frame.task_id.clear(); }
  void SetTimer(Frame& frame, std::string timer_id) { frame.timer_id = std::move(timer_id); }
  void ClearTimer(Frame& frame) { frame.timer_id.clear(); }
  void SetToken(Frame& frame, std::string token) {
    ClearToken(frame);
    frame.token = std::move(token);
    impl_.Index(frame.token, frame.id);
  }
  // The hot path (a Pass or Choice state) has no token: kept small enough to inline.
  void ClearToken(Frame& frame) {
    if (!frame.token.empty()) ClearIndexed(frame.token, frame.id);
  }
  [[gnu::noinline]] void ClearIndexed(std::string& key, int64_t frame_id) {
    impl_.Unindex(key, frame_id);
    key.clear();
  }
  // Removes a frame (and its index entries).
  void EraseFrame(int64_t frame_id) {
    auto it = impl_.frames.find(frame_id);
    if (it == impl_.frames.end()) return;
    impl_.UnindexFrame(it->second);
    impl_.frames.erase(it);
  }

  // ---- start and end ------------------------------------------------------------------
  // The execution's ARNs: the ones the Started event gave, or ones derived from the names.
  std::string ExecutionArn() const {
    if (!impl_.execution_arn.empty()) return impl_.execution_arn;
    return "arn:aws:states:us-east-1:111111111111:execution:" + impl_.state_machine_name + ":" +
           impl_.execution_name;
  }
  std::string StateMachineArn() const {
    if (!impl_.state_machine_arn.empty()) return impl_.state_machine_arn;
    return "arn:aws:states:us-east-1:111111111111:stateMachine:" + impl_.state_machine_name;
  }
  std::string_view RoleArn() const {
    if (!impl_.role_arn.empty()) return impl_.role_arn;
    return "arn:aws:iam::111111111111:role/switchyard-execution";
  }

  void Start(const Event& event) {
    impl_.started = true;
    impl_.type = event.execution_type;
    impl_.prng = event.seed;
    impl_.execution_name = event.execution_name;
    impl_.state_machine_name = event.state_machine_name;
    // Empty ARNs stay empty here and are derived when used (ExecutionArn() etc.).
    impl_.execution_arn = event.execution_arn;
    impl_.state_machine_arn = event.state_machine_arn;
    impl_.role_arn = event.role_arn;
    impl_.execution_input = CopyJson(event.input);
    impl_.start_time = now_;

    std::string input_text = DumpJson(event.input);
    std::string details;
    details.reserve(RoleArn().size() + 64);
    details += "{\"inputDetails\":{\"truncated\":false},\"roleArn\":";
    AppendJsonString(details, RoleArn());
    details += '}';
    EmitText("ExecutionStarted", "executionStartedEventDetails", std::move(details), "input",
             input_text);

    // AWS: a Standard execution lasts at most a year, an Express one 5 minutes; either then
    // times out as a TimeoutSeconds would.
    const int64_t max_seconds = impl_.type == ExecutionType::kExpress ? kMaxExpressDurationSeconds
                                                                      : kMaxStandardDurationSeconds;
    {
      impl_.execution_timer = true;
      Command command;
      command.kind = Command::Kind::kStartTimer;
      command.timer_id = std::string(kExecutionTimerId);
      command.fire_at = AddSeconds(
          now_, std::min(definition_.timeout_seconds.value_or(max_seconds), max_seconds));
      step_.commands.push_back(std::move(command));
    }

    Frame root;
    root.id = impl_.next_serial++;
    root.kind = FrameKind::kRoot;
    root.state = definition_.start_at;
    root.input = consumable_ != nullptr ? std::move(consumable_->input) : CopyJson(event.input);
    root.input_text = std::move(input_text);
    int64_t root_id = root.id;
    impl_.frames.emplace(root_id, std::move(root));
    Resume(root_id);
  }

  // Cancels whatever is in flight in every frame and records the end of the execution.
  void EndExecution(ExecutionStatus status, std::string_view type, Json output, std::string error,
                    std::string cause, std::string output_text = {}) {
    if (history_full_) return;  // EndAtHistoryLimit ends it
    if (impl_.frames.size() == 1) {
      CancelInFlight(impl_.frames.begin()->second);
    } else {
      for (int64_t frame_id : impl_.SortedFrameIds()) CancelInFlight(impl_.frames.at(frame_id));
    }
    if (impl_.execution_timer && status != ExecutionStatus::kTimedOut) {
      Command command;
      command.kind = Command::Kind::kCancelTimer;
      command.timer_id = std::string(kExecutionTimerId);
      step_.commands.push_back(std::move(command));
    }
    impl_.execution_timer = false;
    impl_.frames.clear();
    impl_.variables_bytes = 0;
    impl_.owners.reset();
    impl_.status = status;

    if (status == ExecutionStatus::kSucceeded) {
      if (output_text.empty()) output_text = DumpJson(output);
      EmitText(type, "executionSucceededEventDetails", {}, "output", std::move(output_text));
    } else {
      std::string_view key = status == ExecutionStatus::kFailed ? "executionFailedEventDetails"
                             : status == ExecutionStatus::kTimedOut
                                 ? "executionTimedOutEventDetails"
                                 : "executionAbortedEventDetails";
      Emit(type, key, ErrorDetails(error, cause));
    }
    Command finish;
    finish.kind = Command::Kind::kFinish;
    finish.status = status;
    if (status == ExecutionStatus::kSucceeded) {
      finish.output = std::move(output);
    } else {
      if (!error.empty()) finish.error = std::move(error);
      if (!cause.empty()) finish.cause = std::move(cause);
    }
    step_.commands.push_back(std::move(finish));
  }

  // The history limit was reached during this step: drop the commands issued since, cancel what
  // was in flight before and record the failure as the last event.
  void EndAtHistoryLimit() {
    history_full_ = false;
    step_.commands.erase(step_.commands.begin() + static_cast<std::ptrdiff_t>(commands_at_limit_),
                         step_.commands.end());
    impl_.status = ExecutionStatus::kRunning;
    EndExecution(ExecutionStatus::kFailed, "ExecutionFailed", JsonNull(),
                 std::string(kStatesRuntime),
                 "The execution reached the maximum number of history events (" +
                     ToString(kMaxHistoryEvents) + ").");
  }

  void CancelInFlight(Frame& frame) {
    if (frame.phase == Phase::kTask && !frame.task_id.empty()) {
      Command command;
      command.kind = Command::Kind::kCancelTask;
      command.task_id = frame.task_id;
      step_.commands.push_back(std::move(command));
    }
    if ((frame.phase == Phase::kWait || frame.phase == Phase::kRetry ||
         frame.phase == Phase::kYield) &&
        !frame.timer_id.empty()) {
      Command command;
      command.kind = Command::Kind::kCancelTimer;
      command.timer_id = frame.timer_id;
      step_.commands.push_back(std::move(command));
    }
    ClearTask(frame);
    ClearTimer(frame);
  }

  // ---- definitions and scopes ---------------------------------------------------------
  // The (sub-)machine `frame` runs in: walked down from the root along the frame's ancestors,
  // iteratively (a definition may nest Parallel and Map states hundreds of levels deep).
  const StateMachineDef& DefOf(const Frame& frame) const {
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

  // The sub-machine `child` runs in, `parent` (a frame in a Parallel or Map state) running in
  // `parent_def`.
  static const StateMachineDef& ChildDef(const StateMachineDef& parent_def, const Frame& parent,
                                         const Frame& child) {
    const State* state = parent_def.Find(parent.state);
    if (child.kind == FrameKind::kBranch) {
      return state->branches[static_cast<std::size_t>(child.index)];
    }
    return *state->item_processor;
  }

  const State& StateOf(const Frame& frame) const { return *DefOf(frame).Find(frame.state); }

  Json Context(const Frame& frame, const State& state, const Json* map_value = nullptr,
               int64_t map_index = 0) const {
    Json context = JsonObject();
    Json execution = JsonObject();
    JsonSet(execution, "Id", JsonString(ExecutionArn()));
    JsonSet(execution, "Input", CopyJson(impl_.execution_input));
    JsonSet(execution, "StartTime", JsonString(FormatTimestamp(impl_.start_time)));
    JsonSet(execution, "Name", JsonString(impl_.execution_name));
    JsonSet(execution, "RoleArn", JsonString(RoleArn()));
    JsonSet(execution, "RedriveCount", JsonInt(0));
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

  std::string Prefix(const Frame& frame) const {
    return "An error occurred while executing the state '" + frame.state +
           "' (entered at the event id #" + ToString(frame.entered_event_id) + "). ";
  }

  Error RuntimeError(const Frame& frame, const std::string& detail) const {
    return Error{std::string(kStatesRuntime), Prefix(frame) + detail};
  }

  // Errors from templates and intrinsics carry their own name; runtime ones get AWS's prefix.
  Error Prefixed(const Frame& frame, Error error) const {
    if (error.error.empty()) error.error = std::string(kStatesRuntime);
    if (error.error == kStatesRuntime || error.error == kStatesIntrinsicFailure) {
      error.cause = Prefix(frame) + error.cause;
    }
    return error;
  }

  Result<Json> EvalPath(const Frame& frame, const State& state, const JsonPath& path,
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

  Result<Json> EvalTemplate(const Frame& frame, const State& state, const PayloadTemplate& tmpl,
                            const Json& input) {
    // The context object is built only for templates that read it.
    Json context = tmpl.UsesContext() ? Context(frame, state) : JsonObject();
    FrameVariables variables(impl_, frame.id);
    Scope scope{&input, &context, &variables};
    auto value = tmpl.Evaluate(scope, random_);
    if (!value) return Prefixed(frame, std::move(value).error());
    return std::move(value).value();
  }

  Result<Json> ApplyInputPath(const Frame& frame, const State& state, const Json& input) {
    if (!state.input_path.set) return CopyJson(input);
    if (!state.input_path.path) return JsonObject();
    return EvalPath(frame, state, *state.input_path.path, input);
  }

  Result<Json> ApplyOutputPath(const Frame& frame, const State& state, Json value) {
    if (!state.output_path.set) return value;
    if (!state.output_path.path) return JsonObject();
    return EvalPath(frame, state, *state.output_path.path, value);
  }

  Result<Json> ApplyResultPath(const Frame& frame, const PathField& result_path, Json input,
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

  // Evaluates an Assign template on entry-time variables; the caller commits the result.
  Result<Json> EvalAssign(const Frame& frame, const State& state,
                          const std::optional<PayloadTemplate>& assign, const Json& input) {
    if (!assign) return JsonObject();
    auto assigned = EvalTemplate(frame, state, *assign, input);
    if (!assigned || !assigned->IsObject()) return assigned;
    // ASL limits: 256 KiB per variable and per Assign.
    std::size_t total = 0;
    for (const auto& member : assigned->GetObject()) {
      std::size_t size = JsonTextSize(member.value);
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

  void CommitAssign(Frame& frame, Json assigned) {
    if (!assigned.IsObject()) return;
    for (auto& member : assigned.GetObject()) {
      if (const Json* old = JsonFind(frame.variables, JsonView(member.name))) {
        impl_.variables_bytes -= std::min(JsonTextSize(*old), impl_.variables_bytes);
      }
      impl_.variables_bytes += JsonTextSize(member.value);
      JsonSet(frame.variables, JsonView(member.name), std::move(member.value));
    }
  }

  // A frame goes away, and its variables with it.
  void ForgetVariables(const Frame& frame) {
    impl_.variables_bytes -= std::min(VariablesSize(frame), impl_.variables_bytes);
  }

  std::optional<Error> CheckSize(const Frame& frame, const Json& value) const {
    if (JsonTextSize(value) > kMaxPayloadBytes) return SizeError(frame);
    return std::nullopt;
  }

  Error SizeError(const Frame& frame) const {
    return Error{std::string(kStatesDataLimitExceeded),
                 "The state/task '" + frame.state +
                     "' returned a result with a size exceeding the maximum number of bytes "
                     "service limit."};
  }

  // ---- driving frames -----------------------------------------------------------------
  // Runs `frame_id` until it blocks or ends, then lets finished frames notify their parents.
  void Resume(int64_t frame_id) {
    drive_stack_.clear();
    drive_stack_.push_back(frame_id);
    Drive();
  }

  // Resumes `frame_id` and, once it blocks, the fan-outs of each of its ancestors in turn
  // (innermost first): what a yield held back (see Drive).
  void ResumeWithAncestors(int64_t frame_id) {
    std::vector<int64_t> chain;
    for (int64_t id = frame_id; id >= 0;) {
      chain.push_back(id);
      auto it = impl_.frames.find(id);
      id = it == impl_.frames.end() ? -1 : it->second.parent;
    }
    drive_stack_.clear();
    for (auto id = chain.rbegin(); id != chain.rend(); ++id) drive_stack_.push_back(*id);
    Drive();
  }

  // Runs the frames on drive_stack_ until every one has blocked or ended. The stack is a chain
  // of frames, each the parent of the next: the top one runs; a fan-out pushes the child it
  // launches; a child that ends is popped and reported to its parent (pushed when not already
  // below it); a frame that blocks (task, timer, children still running) is popped. An explicit
  // stack, not a recursion: Parallel and Map states may nest hundreds of levels deep.
  // An Express execution yields once this step has recorded kExpressYieldEvents events: the
  // frame about to enter a state waits for a timer due at once, and every frame on the stack
  // (its ancestors, whose fan-outs would otherwise launch children that yield in turn) waits
  // with it until that timer fires (HandleTimer → ResumeWithAncestors).
  void Drive() {
    FrameStack& stack = drive_stack_;
    while (!stack.empty() && impl_.status == ExecutionStatus::kRunning) {
      const int64_t frame_id = stack.back();
      auto it = impl_.frames.find(frame_id);
      if (it == impl_.frames.end()) {
        stack.pop_back();
        continue;
      }
      Frame& frame = it->second;
      switch (frame.phase) {
        case Phase::kEnter:
          if (impl_.type == ExecutionType::kExpress &&
              step_.history.size() >= kExpressYieldEvents) {
            Yield(frame);
            stack.clear();
            return;
          }
          EnterState(frame_id);
          continue;
        case Phase::kChildren: {
          const int64_t child_id = FanOutStep(frame);
          if (child_id >= 0) {
            stack.push_back(child_id);
            continue;
          }
          // Blocked unless the step moved the frame on (completed, failed, retrying, ...).
          auto again = impl_.frames.find(frame_id);
          if (again == impl_.frames.end() || again->second.phase == Phase::kChildren) {
            stack.pop_back();
          }
          continue;
        }
        case Phase::kDone: {
          stack.pop_back();
          const int64_t parent_id = frame.parent;
          if (parent_id < 0) continue;
          RecordChildDone(impl_.frames.at(parent_id), frame_id);
          if (stack.empty() || stack.back() != parent_id) stack.push_back(parent_id);
          continue;
        }
        case Phase::kTask:
        case Phase::kWait:
        case Phase::kRetry:
        case Phase::kYield:
          stack.pop_back();
          continue;
      }
    }
  }

  // Lets the driver run (and time pass) before `frame` enters its state.
  void Yield(Frame& frame) {
    frame.phase = Phase::kYield;
    SetTimer(frame, NextId("yield-", frame));
    Command command;
    command.kind = Command::Kind::kStartTimer;
    command.timer_id = frame.timer_id;
    command.fire_at = now_;
    step_.commands.push_back(std::move(command));
  }

  // `output_text`, when known, is DumpJson(output).
  void Transition(Frame& frame, const State& state, Json output, const std::string& next,
                  std::string output_text = {}) {
    if (state.end || next.empty()) {
      EndFrame(frame, false, std::move(output), "", "", std::move(output_text));
      return;
    }
    frame.state = next;
    frame.input = std::move(output);
    frame.input_text = std::move(output_text);
    frame.phase = Phase::kEnter;
    frame.attempts.clear();
    frame.retry_count = 0;
    ClearToken(frame);
  }

  void EndFrame(Frame& frame, bool failed, Json output, std::string error, std::string cause,
                std::string output_text = {}) {
    if (frame.parent < 0) {
      if (failed) {
        EndExecution(ExecutionStatus::kFailed, "ExecutionFailed", JsonNull(), std::move(error),
                     std::move(cause));
      } else {
        EndExecution(ExecutionStatus::kSucceeded, "ExecutionSucceeded", std::move(output), "", "",
                     std::move(output_text));
      }
      return;
    }
    frame.phase = Phase::kDone;
    frame.failed = failed;
    frame.output = std::move(output);
    frame.error = std::move(error);
    frame.cause = std::move(cause);
  }

  void FailFrame(Frame& frame, Error error) {
    EndFrame(frame, true, JsonNull(), std::move(error.error), std::move(error.cause));
  }

  void EnterState(int64_t frame_id) {
    Frame& frame = impl_.frames.at(frame_id);
    const State* found = DefOf(frame).Find(frame.state);
    if (found == nullptr) {
      FailFrame(frame, Error{std::string(kStatesRuntime),
                             "State '" + frame.state + "' is not in the definition"});
      return;
    }
    const State& state = *found;
    frame.entered_time = now_;
    std::string input_text =
        frame.input_text.empty() ? DumpJson(frame.input) : std::move(frame.input_text);
    frame.input_text.clear();
    const std::size_t input_size = input_text.size();
    if (IsPassThrough(state)) {
      // Its output text will be this text: keep a copy rather than serialise it again.
      EmitStateEntered(state, input_text);
      frame.input_text = std::move(input_text);
    } else {
      EmitStateEntered(state, std::move(input_text));
    }
    frame.entered_event_id = impl_.last_event_id;
    if (state.query_language == QueryLanguage::kJsonata) {
      FailFrame(frame, RuntimeError(frame, "JSONata query language is not supported yet (state '" +
                                               state.name + "')."));
      return;
    }
    if (input_size > kMaxPayloadBytes) {
      FailFrame(frame, SizeError(frame));
      return;
    }
    switch (state.type) {
      case StateType::kPass:
        return RunPass(frame, state);
      case StateType::kChoice:
        return RunChoice(frame, state);
      case StateType::kWait:
        return RunWait(frame, state);
      case StateType::kSucceed:
        return RunSucceed(frame, state);
      case StateType::kFail:
        return RunFail(frame, state);
      case StateType::kTask:
        return RunTask(frame, state);
      case StateType::kParallel:
      case StateType::kMap:
        return RunFanOutState(frame, state);
    }
  }

  // ---- simple states ------------------------------------------------------------------
  // A Pass state whose output is exactly its input.
  static bool IsPassThrough(const State& state) {
    return state.type == StateType::kPass && !state.input_path.set && !state.parameters &&
           !state.result && !state.result_path.set && !state.output_path.set;
  }

  void RunPass(Frame& frame, const State& state) {
    // Without an InputPath nothing can fail before the result is known, so the input is not
    // copied when it is not needed (Result) or when it becomes the result as it is.
    if (!state.input_path.set && state.result) {
      Json result = CopyJson(*state.result);
      // When the output is bound to contain the result (no OutputPath, a ResultPath that keeps
      // it), the output's size check gives the same error: no need to measure the result too.
      bool output_contains_result =
          !state.output_path.set && (!state.result_path.set || state.result_path.path);
      if (!output_contains_result || state.assign) {
        if (auto size_error = CheckSize(frame, result)) return FailFrame(frame, *size_error);
      }
      return FinishWithResult(frame, state, std::move(result), state.assign, state.next);
    }
    if (!state.input_path.set && !state.parameters && !state.result_path.set) {
      // ResultPath "$" by default: the input is replaced by the result, which is the input.
      Json result = std::move(frame.input);
      frame.input = JsonNull();
      // A pure pass-through: the output is the input, whose text EnterState kept.
      std::string output_text = IsPassThrough(state) ? std::move(frame.input_text) : std::string();
      frame.input_text.clear();
      return FinishWithResult(frame, state, std::move(result), state.assign, state.next,
                              std::move(output_text));
    }
    auto effective = ApplyInputPath(frame, state, frame.input);
    if (!effective) return FailFrame(frame, std::move(effective).error());
    Json result;
    if (state.result) {
      // ASL: a Pass state's Result is its output, whatever Parameters would give.
      result = CopyJson(*state.result);
    } else if (state.parameters) {
      auto parameters = EvalTemplate(frame, state, *state.parameters, *effective);
      if (!parameters) return FailFrame(frame, std::move(parameters).error());
      result = std::move(parameters).value();
    } else {
      // A part of an input already within the limit: no size check needed.
      result = std::move(effective).value();
      return FinishWithResult(frame, state, std::move(result), state.assign, state.next);
    }
    if (auto size_error = CheckSize(frame, result)) return FailFrame(frame, *size_error);
    FinishWithResult(frame, state, std::move(result), state.assign, state.next);
  }

  // ResultPath → OutputPath → StateExited → next; Assign sees the result (ASL variables).
  // `output_text`, when given, is already DumpJson of what the output will be.
  void FinishWithResult(Frame& frame, const State& state, Json result,
                        const std::optional<PayloadTemplate>& assign, const std::string& next,
                        std::string output_text = {}) {
    auto assigned = EvalAssign(frame, state, assign, result);
    if (!assigned) return FailFrame(frame, std::move(assigned).error());
    auto combined =
        ApplyResultPath(frame, state.result_path, std::move(frame.input), std::move(result));
    if (!combined) return FailFrame(frame, std::move(combined).error());
    auto output = ApplyOutputPath(frame, state, std::move(combined).value());
    if (!output) return FailFrame(frame, std::move(output).error());
    if (output_text.empty()) output_text = DumpJson(*output);
    if (output_text.size() > kMaxPayloadBytes) return FailFrame(frame, SizeError(frame));
    CommitAssign(frame, std::move(assigned).value());
    EmitStateExited(state, output_text);
    Transition(frame, state, std::move(output).value(), next, std::move(output_text));
  }

  void RunChoice(Frame& frame, const State& state) {
    auto effective = ApplyInputPath(frame, state, frame.input);
    if (!effective) return FailFrame(frame, std::move(effective).error());
    Json context = Context(frame, state);
    FrameVariables variables(impl_, frame.id);
    Scope scope{&*effective, &context, &variables};
    const ChoiceRule* matched = nullptr;
    for (const auto& rule : state.choices) {
      auto verdict = EvaluateChoiceRule(rule, scope);
      if (!verdict) return FailFrame(frame, Prefixed(frame, std::move(verdict).error()));
      if (*verdict) {
        matched = &rule;
        break;
      }
    }
    std::string next;
    if (matched != nullptr) {
      next = matched->next;
    } else if (!state.default_next.empty()) {
      next = state.default_next;
    } else {
      return FailFrame(frame,
                       Error{std::string(kStatesNoChoiceMatched),
                             "An error occurred while executing the state '" + state.name +
                                 "' (entered at the event id #" + ToString(frame.entered_event_id) +
                                 "). Failed to transition out of the state. The state "
                                 "does not point to a next state."});
    }
    auto assigned = EvalAssign(frame, state, state.assign, *effective);
    if (!assigned) return FailFrame(frame, std::move(assigned).error());
    Json all_assigned = std::move(assigned).value();
    if (matched != nullptr && matched->assign) {
      auto rule_assigned = EvalAssign(frame, state, matched->assign, *effective);
      if (!rule_assigned) return FailFrame(frame, std::move(rule_assigned).error());
      for (auto& member : rule_assigned->GetObject()) {
        JsonSet(all_assigned, JsonView(member.name), std::move(member.value));
      }
    }
    auto output = ApplyOutputPath(frame, state, std::move(effective).value());
    if (!output) return FailFrame(frame, std::move(output).error());
    CommitAssign(frame, std::move(all_assigned));
    std::string output_text = DumpJson(*output);
    EmitStateExited(state, output_text);
    frame.state = next;
    frame.input = std::move(output).value();
    frame.input_text = std::move(output_text);
    frame.phase = Phase::kEnter;
  }

  void RunSucceed(Frame& frame, const State& state) {
    auto effective = ApplyInputPath(frame, state, frame.input);
    if (!effective) return FailFrame(frame, std::move(effective).error());
    auto output = ApplyOutputPath(frame, state, std::move(effective).value());
    if (!output) return FailFrame(frame, std::move(output).error());
    EmitStateExited(state, *output);
    EndFrame(frame, false, std::move(output).value(), "", "");
  }

  Result<std::string> FailField(Frame& frame, const State& state, std::string_view field,
                                const std::optional<std::string>& literal,
                                const std::optional<JsonPath>& path,
                                const std::optional<Intrinsic>& intrinsic) {
    if (literal) return *literal;
    Json context = Context(frame, state);
    FrameVariables variables(impl_, frame.id);
    Scope scope{&frame.input, &context, &variables};
    if (path) {
      auto value = path->Evaluate(scope);
      if (!value) {
        return RuntimeError(frame, "The JSONPath '" + path->text() + "' specified for the field '" +
                                       std::string(field) + "' could not be found in the input '" +
                                       DumpJson(frame.input) + "'");
      }
      return ValueText(*value);
    }
    if (intrinsic) {
      auto value = intrinsic->Evaluate(scope, random_);
      if (!value) return Prefixed(frame, std::move(value).error());
      return ValueText(*value);
    }
    return std::string();
  }

  void RunFail(Frame& frame, const State& state) {
    auto error = FailField(frame, state, "ErrorPath", state.error, state.error_path,
                           state.error_path_intrinsic);
    if (!error) return FailFrame(frame, std::move(error).error());
    auto cause = FailField(frame, state, "CausePath", state.cause, state.cause_path,
                           state.cause_path_intrinsic);
    if (!cause) return FailFrame(frame, std::move(cause).error());
    EndFrame(frame, true, JsonNull(), std::move(error).value(), std::move(cause).value());
  }

  // ---- Wait ---------------------------------------------------------------------------
  void RunWait(Frame& frame, const State& state) {
    auto effective = ApplyInputPath(frame, state, frame.input);
    if (!effective) return FailFrame(frame, std::move(effective).error());
    int64_t fire_at = now_;
    if (state.seconds) {
      fire_at = AddSeconds(now_, *state.seconds);
    } else if (state.timestamp) {
      // Far timestamps (past 2262) saturate: the execution's own limit comes first.
      auto parsed = ParseTimestamp(*state.timestamp);
      fire_at = parsed ? parsed->ToEpochNanos() : now_;
    } else if (state.seconds_path) {
      auto value = EvalPath(frame, state, *state.seconds_path, *effective);
      if (!value) return FailFrame(frame, std::move(value).error());
      std::string shown = state.seconds_path->text() + " == " + ValueText(*value);
      int64_t seconds = 0;
      if (value->IsInt64()) {
        seconds = value->GetInt64();
      } else if (value->IsUint64()) {
        seconds = INT64_MAX;
      } else if (value->IsDouble() && std::floor(value->GetDouble()) == value->GetDouble() &&
                 std::fabs(value->GetDouble()) < 9e15) {
        seconds = static_cast<int64_t>(value->GetDouble());
      } else {
        return FailFrame(frame, RuntimeError(frame,
                                             "The SecondsPath parameter cannot be parsed "
                                             "as a long value: " +
                                                 shown));
      }
      if (seconds < 0) {
        return FailFrame(frame, RuntimeError(frame,
                                             "The SecondsPath parameter references a "
                                             "negative value: " +
                                                 shown));
      }
      fire_at = AddSeconds(now_, seconds);
    } else if (state.timestamp_path) {
      auto value = EvalPath(frame, state, *state.timestamp_path, *effective);
      if (!value) return FailFrame(frame, std::move(value).error());
      std::optional<Timestamp> parsed;
      if (value->IsString()) parsed = ParseTimestamp(JsonView(*value));
      if (!parsed) {
        return FailFrame(
            frame, RuntimeError(frame,
                                "The TimestampPath parameter does not "
                                "reference a valid ISO-8601 extended offset "
                                "date-time format string: " +
                                    state.timestamp_path->text() + " == " + ValueText(*value)));
      }
      fire_at = parsed->ToEpochNanos();
    }
    auto assigned = EvalAssign(frame, state, state.assign, *effective);
    if (!assigned) return FailFrame(frame, std::move(assigned).error());
    auto output = ApplyOutputPath(frame, state, std::move(effective).value());
    if (!output) return FailFrame(frame, std::move(output).error());
    CommitAssign(frame, std::move(assigned).value());
    if (fire_at <= now_) {
      EmitStateExited(state, *output);
      Transition(frame, state, std::move(output).value(), state.next);
      return;
    }
    frame.work = std::move(output).value();
    frame.phase = Phase::kWait;
    SetTimer(frame, NextId("timer-", frame));
    Command command;
    command.kind = Command::Kind::kStartTimer;
    command.timer_id = frame.timer_id;
    command.fire_at = fire_at;
    step_.commands.push_back(std::move(command));
  }

  // ---- Task ---------------------------------------------------------------------------
  Result<int64_t> SecondsField(Frame& frame, const State& state, std::string_view field,
                               const std::optional<int64_t>& literal,
                               const std::optional<JsonPath>& path, int64_t fallback) {
    if (literal) return *literal;
    if (!path) return fallback;
    auto value = EvalPath(frame, state, *path, frame.work);
    if (!value) return std::move(value).error();
    if (value->IsInt64() && value->GetInt64() > 0) return value->GetInt64();
    return RuntimeError(frame, "The " + std::string(field) + " field refers to value \"" +
                                   ValueText(*value) +
                                   "\" which is not a valid positive integer: " + path->text());
  }

  void RunTask(Frame& frame, const State& state) {
    auto effective = ApplyInputPath(frame, state, frame.input);
    if (!effective) return FailFrame(frame, std::move(effective).error());
    frame.work = std::move(effective).value();
    frame.attempts.assign(state.retry.size(), 0);
    frame.retry_count = 0;
    InvokeTask(frame, state);
  }

  void InvokeTask(Frame& frame, const State& state) {
    bool callback = IsCallback(state.resource);
    ClearToken(frame);
    if (callback) {
      uint64_t high = random_.NextU64();
      uint64_t low = random_.NextU64();
      static constexpr char kHex[] = "0123456789abcdef";
      std::string token;
      for (uint64_t part : {high, low}) {
        for (int shift = 60; shift >= 0; shift -= 4) {
          token += kHex[(part >> shift) & 0xF];
        }
      }
      SetToken(frame, std::move(token));
    }
    Json payload;
    if (state.parameters) {
      auto parameters = EvalTemplate(frame, state, *state.parameters, frame.work);
      if (!parameters) return HandleStateError(frame, state, std::move(parameters).error());
      payload = std::move(parameters).value();
      // ASL limit: the input a task is scheduled with (its own input is within it already).
      if (auto size_error = CheckSize(frame, payload)) {
        return HandleStateError(frame, state, std::move(*size_error));
      }
    } else {
      payload = CopyJson(frame.work);
    }
    auto timeout = SecondsField(frame, state, "TimeoutSecondsPath", state.timeout_seconds,
                                state.timeout_seconds_path, kDefaultTaskTimeoutSeconds);
    if (!timeout) return FailFrame(frame, std::move(timeout).error());
    auto heartbeat = SecondsField(frame, state, "HeartbeatSecondsPath", state.heartbeat_seconds,
                                  state.heartbeat_seconds_path, 0);
    if (!heartbeat) return FailFrame(frame, std::move(heartbeat).error());

    SetTask(frame, NextId("task-", frame));
    frame.phase = Phase::kTask;
    bool lambda = IsLegacyLambda(state.resource);
    if (lambda) {
      Json details = JsonObject();
      JsonSet(details, "resource", JsonString(state.resource));
      JsonSet(details, "input", JsonString(DumpJson(payload)));
      JsonSet(details, "inputDetails", PayloadDetails());
      if (state.timeout_seconds || state.timeout_seconds_path) {
        JsonSet(details, "timeoutInSeconds", JsonInt(*timeout));
      }
      Emit("LambdaFunctionScheduled", "lambdaFunctionScheduledEventDetails", std::move(details));
      Emit("LambdaFunctionStarted");
    } else {
      auto [type, name] = ResourceTypeAndName(state.resource);
      Json details = JsonObject();
      JsonSet(details, "resourceType", JsonString(type));
      JsonSet(details, "resource", JsonString(name));
      JsonSet(details, "region", JsonString("us-east-1"));
      JsonSet(details, "parameters", JsonString(DumpJson(payload)));
      if (state.timeout_seconds || state.timeout_seconds_path) {
        JsonSet(details, "timeoutInSeconds", JsonInt(*timeout));
      }
      if (*heartbeat > 0) JsonSet(details, "heartbeatInSeconds", JsonInt(*heartbeat));
      Emit("TaskScheduled", "taskScheduledEventDetails", std::move(details));
      Json started = JsonObject();
      JsonSet(started, "resourceType", JsonString(type));
      JsonSet(started, "resource", JsonString(name));
      Emit("TaskStarted", "taskStartedEventDetails", std::move(started));
    }
    Command command;
    command.kind = Command::Kind::kInvokeTask;
    command.task_id = frame.task_id;
    command.resource = state.resource;
    command.payload = std::move(payload);
    command.timeout_seconds = *timeout;
    command.heartbeat_seconds = *heartbeat;
    command.token = frame.token;
    step_.commands.push_back(std::move(command));
  }

  Json TaskEventDetails(const State& state) {
    Json details = JsonObject();
    if (!IsLegacyLambda(state.resource)) {
      auto [type, name] = ResourceTypeAndName(state.resource);
      JsonSet(details, "resourceType", JsonString(type));
      JsonSet(details, "resource", JsonString(name));
    }
    return details;
  }

  void HandleTaskEvent(const Event& event) {
    Frame* found =
        !event.task_id.empty() ? impl_.FrameOfId(event.task_id) : impl_.Owner(event.token);
    if (found == nullptr || found->phase != Phase::kTask) return;
    if (!event.task_id.empty() ? found->task_id != event.task_id : found->token != event.token) {
      return;
    }
    Frame& frame = *found;
    int64_t frame_id = frame.id;
    const State& state = StateOf(frame);
    bool lambda = IsLegacyLambda(state.resource);
    bool is_callback_reply = event.task_id.empty();
    switch (event.kind) {
      case Event::Kind::kHeartbeat:
        return;
      case Event::Kind::kTaskSucceeded: {
        if (!frame.token.empty() && !is_callback_reply) return;  // waits for the callback
        std::string output_text = DumpJson(event.output);
        if (output_text.size() > kMaxPayloadBytes) {
          // AWS records an oversized result as a failed task, which Retry and Catch then see.
          // AWS names a Lambda function by its ARN and a service integration by its service
          // ("lambda" for arn:aws:states:::lambda:invoke).
          std::string task_name =
              lambda ? state.resource : ResourceTypeAndName(state.resource).first;
          Error error{std::string(kStatesDataLimitExceeded),
                      "The state/task '" + task_name +
                          "' returned a result with a size exceeding the maximum number of "
                          "bytes service limit."};
          Json details = TaskEventDetails(state);
          JsonSet(details, "error", JsonString(error.error));
          JsonSet(details, "cause", JsonString(error.cause));
          Emit(lambda ? "LambdaFunctionFailed" : "TaskFailed",
               lambda ? "lambdaFunctionFailedEventDetails" : "taskFailedEventDetails",
               std::move(details));
          ClearTask(frame);
          frame.phase = Phase::kEnter;
          HandleStateError(frame, state, std::move(error));
          break;
        }
        Json details = TaskEventDetails(state);
        JsonSet(details, "output", JsonString(output_text));
        JsonSet(details, "outputDetails", PayloadDetails());
        Emit(lambda ? "LambdaFunctionSucceeded" : "TaskSucceeded",
             lambda ? "lambdaFunctionSucceededEventDetails" : "taskSucceededEventDetails",
             std::move(details));
        ClearTask(frame);
        frame.phase = Phase::kEnter;  // provisional; TaskSucceededContinue decides
        TaskSucceededContinue(
            frame, state,
            consumable_ != nullptr ? std::move(consumable_->output) : CopyJson(event.output));
        break;
      }
      case Event::Kind::kTaskFailed:
      case Event::Kind::kTaskTimedOut:
      case Event::Kind::kHeartbeatTimedOut: {
        Error error;
        std::string_view type = lambda ? "LambdaFunctionFailed" : "TaskFailed";
        std::string_view key =
            lambda ? "lambdaFunctionFailedEventDetails" : "taskFailedEventDetails";
        if (event.kind == Event::Kind::kTaskFailed) {
          error = Error{event.error, event.cause};
        } else {
          error.error = std::string(
              event.kind == Event::Kind::kTaskTimedOut ? kStatesTimeout : kStatesHeartbeatTimeout);
          error.cause = event.cause;
          type = lambda ? "LambdaFunctionTimedOut" : "TaskTimedOut";
          key = lambda ? "lambdaFunctionTimedOutEventDetails" : "taskTimedOutEventDetails";
        }
        Json details = TaskEventDetails(state);
        if (!error.error.empty()) JsonSet(details, "error", JsonString(error.error));
        if (!error.cause.empty()) JsonSet(details, "cause", JsonString(error.cause));
        Emit(type, key, std::move(details));
        ClearTask(frame);
        HandleStateError(frame, state, std::move(error));
        break;
      }
      default:
        return;
    }
    Resume(frame_id);
  }

  void TaskSucceededContinue(Frame& frame, const State& state, Json result) {
    if (auto size_error = CheckSize(frame, result)) {
      return HandleStateError(frame, state, std::move(*size_error));
    }
    if (state.result_selector) {
      auto selected = EvalTemplate(frame, state, *state.result_selector, result);
      if (!selected) return HandleStateError(frame, state, std::move(selected).error());
      result = std::move(selected).value();
    }
    FinishWithResult(frame, state, std::move(result), state.assign, state.next);
  }

  // ---- Retry and Catch ----------------------------------------------------------------
  // `failed_event` (MapStateFailed) is recorded unless a retrier takes the
  // error: AWS's history shows a retried Map state going straight to MapStateStarted again.
  void HandleStateError(Frame& frame, const State& state, Error error,
                        std::string_view failed_event = {}) {
    if (error.error == kStatesRuntime) {
      // AWS: States.Runtime ends the execution; not even an explicit catcher takes it.
      if (!failed_event.empty()) Emit(failed_event);
      return FailFrame(frame, std::move(error));
    }
    for (std::size_t i = 0; i < state.retry.size(); ++i) {
      const Retrier& retrier = state.retry[i];
      if (!ErrorMatches(retrier.error_equals, error.error)) continue;
      if (frame.attempts.size() < state.retry.size()) frame.attempts.resize(state.retry.size(), 0);
      int64_t attempt = frame.attempts[i];
      if (attempt >= retrier.max_attempts) break;  // ASL: an exhausted retrier ends retrying
      double delay =
          retrier.interval_seconds * std::pow(retrier.backoff_rate, static_cast<double>(attempt));
      if (retrier.max_delay_seconds) delay = std::min(delay, *retrier.max_delay_seconds);
      if (retrier.jitter == JitterStrategy::kFull) {
        double unit = static_cast<double>(random_.NextU64() >> 11) * 0x1.0p-53;
        delay *= unit;
      }
      frame.attempts[i] = attempt + 1;
      frame.retry_count += 1;
      frame.phase = Phase::kRetry;
      SetTimer(frame, NextId("retry-", frame));
      Command command;
      command.kind = Command::Kind::kStartTimer;
      command.timer_id = frame.timer_id;
      command.fire_at = AddSeconds(now_, delay);
      step_.commands.push_back(std::move(command));
      return;
    }
    if (!failed_event.empty()) Emit(failed_event);
    for (const Catcher& catcher : state.catchers) {
      if (!ErrorMatches(catcher.error_equals, error.error)) continue;
      Json error_output = JsonObject();
      JsonSet(error_output, "Error", JsonString(error.error));
      JsonSet(error_output, "Cause", JsonString(error.cause));
      auto assigned = EvalAssign(frame, state, catcher.assign, error_output);
      if (!assigned) return FailFrame(frame, std::move(assigned).error());
      PathField result_path;
      result_path.set = catcher.result_path_set;
      if (catcher.result_path) result_path.path = *catcher.result_path;
      auto output =
          ApplyResultPath(frame, result_path, std::move(frame.input), std::move(error_output));
      if (!output) return FailFrame(frame, std::move(output).error());
      CommitAssign(frame, std::move(assigned).value());
      std::string output_text = DumpJson(*output);
      EmitStateExited(state, output_text);
      frame.state = catcher.next;
      frame.input = std::move(output).value();
      frame.input_text = std::move(output_text);
      frame.phase = Phase::kEnter;
      frame.attempts.clear();
      frame.retry_count = 0;
      ClearToken(frame);
      return;
    }
    FailFrame(frame, std::move(error));
  }

  void HandleTimer(const std::string& timer_id) {
    if (timer_id == kExecutionTimerId) {
      if (!impl_.execution_timer) return;
      impl_.execution_timer = false;
      EndExecution(ExecutionStatus::kTimedOut, "ExecutionTimedOut", JsonNull(),
                   std::string(kStatesTimeout), "");
      return;
    }
    Frame* found = impl_.FrameOfId(timer_id);
    if (found == nullptr || found->timer_id != timer_id ||
        (found->phase != Phase::kWait && found->phase != Phase::kRetry &&
         found->phase != Phase::kYield)) {
      return;
    }
    Frame& frame = *found;
    int64_t frame_id = frame.id;
    ClearTimer(frame);
    if (frame.phase == Phase::kYield) {
      frame.phase = Phase::kEnter;
      ResumeWithAncestors(frame_id);
      return;
    }
    const State& state = StateOf(frame);
    if (frame.phase == Phase::kWait) {
      EmitStateExited(state, frame.work);
      Json output = std::move(frame.work);
      frame.work = Json();
      Transition(frame, state, std::move(output), state.next);
    } else if (state.type == StateType::kTask) {
      InvokeTask(frame, state);
    } else {
      StartFanOut(frame, state);
    }
    Resume(frame_id);
  }

  // ---- Parallel and Map ---------------------------------------------------------------
  Result<int64_t> IntegerField(Frame& frame, const State& state, std::string_view field,
                               const JsonPath& path) {
    auto value = EvalPath(frame, state, path, frame.work);
    if (!value) return std::move(value).error();
    if (value->IsInt64() && value->GetInt64() >= 0) return value->GetInt64();
    if (value->IsString()) {
      // AWS accepts a string holding an integer ("1").
      std::string_view text = JsonView(*value);
      int64_t parsed = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
      if (ec == std::errc() && end == text.data() + text.size() && parsed >= 0) return parsed;
    }
    return RuntimeError(frame, "The " + std::string(field) + " field refers to value \"" +
                                   ValueText(*value) +
                                   "\" which is not a valid integer: " + path.text());
  }

  void RunFanOutState(Frame& frame, const State& state) {
    auto effective = ApplyInputPath(frame, state, frame.input);
    if (!effective) return FailFrame(frame, std::move(effective).error());
    frame.attempts.assign(state.retry.size(), 0);
    frame.retry_count = 0;
    if (state.type == StateType::kParallel) {
      if (state.parameters) {
        auto parameters = EvalTemplate(frame, state, *state.parameters, *effective);
        if (!parameters) return FailFrame(frame, std::move(parameters).error());
        frame.work = std::move(parameters).value();
      } else {
        frame.work = std::move(effective).value();
      }
      frame.fan_max = 0;
      frame.tolerated_count = -1;
      frame.tolerated_percentage = -1;
    } else {
      frame.work = std::move(effective).value();
      if (state.item_reader) {
        return FailFrame(frame, RuntimeError(frame,
                                             "ItemReader (distributed Map) is not "
                                             "supported."));
      }
      Json items;
      if (state.items_path.set && !state.items_path.path) {
        items = CopyJson(frame.work);
      } else if (state.items_path.set) {
        auto selected = EvalPath(frame, state, *state.items_path.path, frame.work);
        if (!selected) return FailFrame(frame, std::move(selected).error());
        items = std::move(selected).value();
      } else {
        items = CopyJson(frame.work);
      }
      if (!items.IsArray()) {
        return FailFrame(frame, RuntimeError(frame, "Map state input must be an array but was: " +
                                                        DumpJson(items)));
      }
      frame.items = std::move(items);
      frame.fan_max = state.max_concurrency.value_or(0);
      if (state.max_concurrency_path) {
        auto max = IntegerField(frame, state, "MaxConcurrencyPath", *state.max_concurrency_path);
        if (!max) return FailFrame(frame, std::move(max).error());
        frame.fan_max = *max;
      }
      frame.tolerated_count = state.tolerated_failure_count.value_or(-1);
      if (state.tolerated_failure_count_path) {
        auto count = IntegerField(frame, state, "ToleratedFailureCountPath",
                                  *state.tolerated_failure_count_path);
        if (!count) return FailFrame(frame, std::move(count).error());
        frame.tolerated_count = *count;
      }
      frame.tolerated_percentage = state.tolerated_failure_percentage.value_or(-1);
      if (state.tolerated_failure_percentage_path) {
        auto value = EvalPath(frame, state, *state.tolerated_failure_percentage_path, frame.work);
        if (!value) return FailFrame(frame, std::move(value).error());
        if (!value->IsNumber() || value->GetDouble() < 0 || value->GetDouble() > 100) {
          return FailFrame(
              frame, RuntimeError(frame,
                                  "The ToleratedFailurePercentagePath field refers to "
                                  "value \"" +
                                      ValueText(*value) + "\" which is not a valid percentage: " +
                                      state.tolerated_failure_percentage_path->text()));
        }
        frame.tolerated_percentage = value->GetDouble();
      }
    }
    StartFanOut(frame, state);  // Drive launches the children
  }

  void StartFanOut(Frame& frame, const State& state) {
    frame.phase = Phase::kChildren;
    frame.fan_next = 0;
    frame.fan_failed = 0;
    frame.fan_error.clear();
    frame.fan_cause.clear();
    frame.children.clear();
    frame.results = JsonArray();
    if (state.type == StateType::kParallel) {
      frame.fan_total = static_cast<int64_t>(state.branches.size());
      Emit("ParallelStateStarted");
    } else {
      frame.fan_total = static_cast<int64_t>(frame.items.Size());
      Json details = JsonObject();
      JsonSet(details, "length", JsonInt(frame.fan_total));
      Emit("MapStateStarted", "mapStateStartedEventDetails", std::move(details));
    }
    // The children live at once (all of them without a MaxConcurrency): room in the frame table
    // now rather than rehashing it again and again while they launch.
    const int64_t live =
        frame.fan_max > 0 ? std::min(frame.fan_max, frame.fan_total) : frame.fan_total;
    impl_.frames.reserve(impl_.frames.size() + static_cast<std::size_t>(live));
    JsonAllocator allocator;  // stateless: every Json allocates with malloc
    frame.results.Reserve(static_cast<rapidjson::SizeType>(frame.fan_total), allocator);
    for (int64_t i = 0; i < frame.fan_total; ++i) JsonPush(frame.results, JsonNull());
  }

  bool FanOutFailed(const Frame& frame, const State& state) const {
    if (frame.fan_failed == 0) return false;
    if (state.type == StateType::kParallel) return true;
    bool has_tolerance = frame.tolerated_count >= 0 || frame.tolerated_percentage >= 0;
    if (!has_tolerance) return true;
    if (frame.tolerated_count >= 0 && frame.fan_failed > frame.tolerated_count) return true;
    if (frame.tolerated_percentage >= 0 && frame.fan_total > 0 &&
        static_cast<double>(frame.fan_failed) * 100.0 / static_cast<double>(frame.fan_total) >
            frame.tolerated_percentage) {
      return true;
    }
    return false;
  }

  Json MapIterationDetails(const State& state, int64_t index) {
    Json details = JsonObject();
    JsonSet(details, "name", JsonString(state.name));
    JsonSet(details, "index", JsonInt(index));
    return details;
  }

  void RecordChildDone(Frame& parent, int64_t child_id) {
    const State& state = StateOf(parent);
    if (state.type == StateType::kParallel && impl_.frames.at(child_id).failed) {
      // AWS records a Task that ends a branch with an uncaught error as aborted (and no
      // ParallelStateFailed follows).
      const State* failed_state =
          DefOf(impl_.frames.at(child_id)).Find(impl_.frames.at(child_id).state);
      if (failed_state != nullptr && failed_state->type == StateType::kTask) {
        Emit("TaskStateAborted");
      }
    }
    impl_.UnindexFrame(impl_.frames.at(child_id));
    RemoveChild(parent, impl_.frames.at(child_id));
    Frame child = std::move(impl_.frames.at(child_id));
    ForgetVariables(child);
    impl_.frames.erase(child_id);
    if (child.failed) {
      parent.fan_failed += 1;
      parent.fan_error = child.error;
      parent.fan_cause = child.cause;
    } else {
      parent.results[static_cast<rapidjson::SizeType>(child.index)] = std::move(child.output);
    }
    if (state.type == StateType::kMap) {
      Emit(child.failed ? "MapIterationFailed" : "MapIterationSucceeded",
           child.failed ? "mapIterationFailedEventDetails" : "mapIterationSucceededEventDetails",
           MapIterationDetails(state, child.index));
    }
  }

  // One step of a fan-out (Drive runs it while the frame is in kChildren): fails it when the
  // failure rules say so, launches the next child when there is room (returning its id, which
  // Drive runs next), or completes it when every child is done. -1 when it launched nothing.
  int64_t FanOutStep(Frame& frame) {
    const State& state = StateOf(frame);
    if (FanOutFailed(frame, state)) {
      FailFanOut(frame, state);
      return -1;
    }
    bool room = frame.fan_max <= 0 || static_cast<int64_t>(frame.children.size()) < frame.fan_max;
    if (room && frame.fan_next < frame.fan_total) return LaunchChild(frame, state);
    if (frame.children.empty() && frame.fan_next >= frame.fan_total) CompleteFanOut(frame, state);
    return -1;
  }

  int64_t LaunchChild(Frame& frame, const State& state) {
    int64_t index = frame.fan_next++;
    Frame child;
    child.id = impl_.next_serial++;
    child.parent = frame.id;
    child.index = index;
    if (state.type == StateType::kParallel) {
      child.kind = FrameKind::kBranch;
      child.state = state.branches[static_cast<std::size_t>(index)].start_at;
      child.input = CopyJson(frame.work);
    } else {
      child.kind = FrameKind::kIteration;
      child.state = state.item_processor->start_at;
      const Json& item = frame.items[static_cast<rapidjson::SizeType>(index)];
      Emit("MapIterationStarted", "mapIterationStartedEventDetails",
           MapIterationDetails(state, index));
      const std::optional<PayloadTemplate>& selector =
          state.item_selector ? state.item_selector : state.parameters;
      if (selector) {
        Json context = Context(frame, state, &item, index);
        FrameVariables variables(impl_, frame.id);
        Scope scope{&frame.work, &context, &variables};
        auto selected = selector->Evaluate(scope, random_);
        if (!selected) {
          Error error = Prefixed(frame, std::move(selected).error());
          AbortChildren(frame);
          HandleStateError(frame, state, std::move(error));
          return -1;
        }
        child.input = std::move(selected).value();
      } else {
        child.input = CopyJson(item);
      }
    }
    int64_t child_id = child.id;
    child.child_slot = frame.children.size();
    frame.children.push_back(child_id);
    impl_.frames.emplace(child_id, std::move(child));
    return child_id;
  }

  // Takes `child` out of `parent.children` in O(1): the last child takes its place.
  void RemoveChild(Frame& parent, const Frame& child) {
    const std::size_t slot = child.child_slot;
    if (slot >= parent.children.size() || parent.children[slot] != child.id) return;
    const int64_t last = parent.children.back();
    parent.children[slot] = last;
    parent.children.pop_back();
    if (last != child.id) impl_.frames.at(last).child_slot = slot;
  }

  // Aborts a frame and, first, all its descendants (children in launch order, depth first), with
  // an explicit stack: the nesting is the definition's, hundreds of levels at most, but a
  // recursion per level is what a user controls.
  void AbortFrame(int64_t top_id) {
    struct Pending {
      int64_t frame_id;
      bool children_pushed;
    };
    std::vector<Pending> stack{{top_id, false}};
    while (!stack.empty()) {
      Pending& pending = stack.back();
      Frame& frame = impl_.frames.at(pending.frame_id);
      if (!pending.children_pushed) {
        pending.children_pushed = true;
        std::vector<int64_t> children = SortedChildren(frame);
        frame.children.clear();
        // Reversed, so that the first-launched child is aborted first.
        for (auto child = children.rbegin(); child != children.rend(); ++child) {
          stack.push_back({*child, false});
        }
        continue;
      }
      const int64_t frame_id = pending.frame_id;
      stack.pop_back();
      if (frame.phase != Phase::kDone) {
        const State* state = DefOf(frame).Find(frame.state);
        bool in_state = frame.phase == Phase::kTask || frame.phase == Phase::kWait ||
                        frame.phase == Phase::kRetry || frame.phase == Phase::kChildren;
        CancelInFlight(frame);
        if (state != nullptr && in_state) {
          Emit(StateEventType(state->type, kAborted));
        }
        if (frame.kind == FrameKind::kIteration) {
          const Frame& parent = impl_.frames.at(frame.parent);
          Emit("MapIterationAborted", "mapIterationAbortedEventDetails",
               MapIterationDetails(StateOf(parent), frame.index));
        }
      }
      ForgetVariables(frame);
      EraseFrame(frame_id);
    }
  }

  void AbortChildren(Frame& frame) {
    std::vector<int64_t> children = SortedChildren(frame);
    frame.children.clear();
    for (int64_t child : children) AbortFrame(child);
  }

  void FailFanOut(Frame& frame, const State& state) {
    int64_t frame_id = frame.id;
    AbortChildren(frame);
    Frame& self = impl_.frames.at(frame_id);
    Error error{self.fan_error, self.fan_cause};
    bool has_tolerance = self.tolerated_count >= 0 || self.tolerated_percentage >= 0;
    if (state.type == StateType::kMap && has_tolerance) {
      error = Error{std::string(kStatesExceedToleratedFailureThreshold),
                    "The specified tolerated failure threshold was exceeded"};
    }
    self.phase = Phase::kEnter;
    self.results = Json();
    HandleStateError(self, state, std::move(error),
                     state.type == StateType::kMap ? "MapStateFailed" : "");
  }

  void CompleteFanOut(Frame& frame, const State& state) {
    // AWS records MapStateSucceeded but nothing for a Parallel state between its branches and
    // ParallelStateExited.
    if (state.type == StateType::kMap) Emit("MapStateSucceeded");
    Json result = std::move(frame.results);
    frame.results = Json();
    frame.items = Json();
    frame.work = Json();
    frame.phase = Phase::kEnter;
    // As for a Task's result: the branches' or iterations' results together are one result,
    // bound by the payload limit before ResultSelector or ResultPath see it.
    if (auto size_error = CheckSize(frame, result)) {
      return HandleStateError(frame, state, std::move(*size_error));
    }
    if (state.result_selector) {
      auto selected = EvalTemplate(frame, state, *state.result_selector, result);
      if (!selected) return HandleStateError(frame, state, std::move(selected).error());
      result = std::move(selected).value();
    }
    FinishWithResult(frame, state, std::move(result), state.assign, state.next);
  }

  const StateMachineDef& definition_;
  Impl& impl_;
  int64_t now_;
  Step& step_;
  SplitMix random_;
  Event* consumable_;
  // The history limit was reached in this step (Standard); commands_at_limit_ commands had been
  // issued before it.
  bool history_full_ = false;
  std::size_t commands_at_limit_ = 0;
  // Scratch space, kept to reuse its memory within the step: Drive's stack, DefOf's ancestors.
  FrameStack drive_stack_;
  mutable std::vector<const Frame*> ancestors_;
};

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

std::string_view ExecutionStatusName(ExecutionStatus status) {
  switch (status) {
    case ExecutionStatus::kRunning:
      return "RUNNING";
    case ExecutionStatus::kSucceeded:
      return "SUCCEEDED";
    case ExecutionStatus::kFailed:
      return "FAILED";
    case ExecutionStatus::kTimedOut:
      return "TIMED_OUT";
    case ExecutionStatus::kAborted:
      return "ABORTED";
  }
  return "RUNNING";
}

std::string_view ExecutionTypeName(ExecutionType type) {
  return type == ExecutionType::kExpress ? "EXPRESS" : "STANDARD";
}

std::optional<ExecutionType> ParseExecutionType(std::string_view text) {
  if (text == "STANDARD") return ExecutionType::kStandard;
  if (text == "EXPRESS") return ExecutionType::kExpress;
  return std::nullopt;
}

Event Event::Started(Json input, std::string execution_name, std::string state_machine_name,
                     uint64_t seed) {
  Event event;
  event.kind = Kind::kStarted;
  event.input = std::move(input);
  event.execution_name = std::move(execution_name);
  event.state_machine_name = std::move(state_machine_name);
  event.seed = seed;
  return event;
}

Event Event::TaskSucceeded(std::string task_id, Json output) {
  Event event;
  event.kind = Kind::kTaskSucceeded;
  event.task_id = std::move(task_id);
  event.output = std::move(output);
  return event;
}

Event Event::TaskFailed(std::string task_id, std::string error, std::string cause) {
  Event event;
  event.kind = Kind::kTaskFailed;
  event.task_id = std::move(task_id);
  event.error = std::move(error);
  event.cause = std::move(cause);
  return event;
}

Event Event::TaskTimedOut(std::string task_id) {
  Event event;
  event.kind = Kind::kTaskTimedOut;
  event.task_id = std::move(task_id);
  return event;
}

Event Event::HeartbeatTimedOut(std::string task_id) {
  Event event;
  event.kind = Kind::kHeartbeatTimedOut;
  event.task_id = std::move(task_id);
  return event;
}

Event Event::Heartbeat(std::string task_id) {
  Event event;
  event.kind = Kind::kHeartbeat;
  event.task_id = std::move(task_id);
  return event;
}

Event Event::TimerFired(std::string timer_id) {
  Event event;
  event.kind = Kind::kTimerFired;
  event.timer_id = std::move(timer_id);
  return event;
}

Event Event::StopRequested(std::string error, std::string cause) {
  Event event;
  event.kind = Kind::kStopRequested;
  event.error = std::move(error);
  event.cause = std::move(cause);
  return event;
}

Json HistoryEvent::ToJson() const {
  Json object = JsonObject();
  JsonSet(object, "id", JsonInt(id));
  JsonSet(object, "previousEventId", JsonInt(previous_event_id));
  JsonSet(object, "timestamp", JsonString(FormatTimestamp(timestamp)));
  JsonSet(object, "type", JsonString(type));
  if (!details_key.empty()) JsonSet(object, details_key, Details());
  return object;
}

Json HistoryEvent::Details() const {
  Json parsed_details = JsonObject();
  if (!details_json.empty()) {
    std::optional<Json> parsed = ParseJson(details_json);
    if (parsed && parsed->IsObject()) parsed_details = std::move(*parsed);
  }
  // AWS's order: name, the payload, its "...Details", then the rest.
  Json details = JsonObject();
  auto member = parsed_details.MemberBegin();
  if (!state_name.empty()) {
    JsonSet(details, "name", JsonString(state_name));
  } else if (member != parsed_details.MemberEnd() && JsonView(member->name) == "name") {
    JsonSet(details, "name", std::move(member->value));
    ++member;
  }
  if (!payload_field.empty()) {
    JsonSet(details, payload_field, JsonString(payload_text));
    if (JsonFind(parsed_details, std::string(payload_field) + "Details") == nullptr) {
      Json truncated = JsonObject();
      JsonSet(truncated, "truncated", JsonBool(false));
      JsonSet(details, std::string(payload_field) + "Details", std::move(truncated));
    }
  }
  for (; member != parsed_details.MemberEnd(); ++member) {
    JsonSet(details, JsonView(member->name), std::move(member->value));
  }
  return details;
}

ExecutionState::ExecutionState() : impl_(std::make_unique<Impl>()) {}
ExecutionState::ExecutionState(const ExecutionState& other) : impl_(std::make_unique<Impl>()) {
  *this = other;
}
ExecutionState& ExecutionState::operator=(const ExecutionState& other) {
  if (this == &other) return *this;
  auto copy = FromJson(other.ToJson());
  impl_ = std::move(copy.value().impl_);
  return *this;
}
ExecutionState::ExecutionState(ExecutionState&&) noexcept = default;
ExecutionState& ExecutionState::operator=(ExecutionState&&) noexcept = default;
ExecutionState::~ExecutionState() = default;

ExecutionStatus ExecutionState::status() const { return impl_->status; }
int64_t ExecutionState::history_size() const { return impl_->last_event_id; }
int64_t ExecutionState::frames_examined() const { return impl_->frames_examined; }

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
  JsonSet(object, "startTime", JsonInt(impl.start_time));
  Json prng(impl.prng);
  JsonSet(object, "prng", std::move(prng));
  JsonSet(object, "lastEventId", JsonInt(impl.last_event_id));
  JsonSet(object, "nextSerial", JsonInt(impl.next_serial));
  JsonSet(object, "executionTimer", JsonBool(impl.execution_timer));
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
  impl.start_time = reader.Int("startTime");
  impl.prng = reader.UInt("prng");
  impl.last_event_id = reader.Int("lastEventId");
  impl.next_serial = reader.Int("nextSerial");
  impl.execution_timer = reader.Bool("executionTimer");
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

Step Apply(const StateMachineDef& definition, ExecutionState& state, const Event& event,
           int64_t now) {
  Step step;
  Runner runner(definition, state.impl(), now, step);
  runner.Handle(event);
  return step;
}

Step Apply(const StateMachineDef& definition, ExecutionState& state, Event&& event, int64_t now) {
  Step step;
  Runner runner(definition, state.impl(), now, step, &event);
  runner.Handle(event);
  return step;
}

}  // namespace switchyard::asl
