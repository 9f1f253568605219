#pragma once
// The execution core's insides, shared by its files (asl/src/core*.cpp); not an API.
//
// One Runner applies one event to one ExecutionState. Its member functions live in the file of
// their job: core.cpp (the public API, event dispatch), core_history.cpp (history events, ids),
// core_execution.cpp (start, end, redrive), core_dataflow.cpp (paths, templates, Assign, limits),
// core_drive.cpp (driving frames from state to state), core_states.cpp (Pass, Choice, Succeed,
// Fail, Wait), core_task.cpp (Task), core_retry.cpp (Retry, Catch, timers), core_fanout.cpp
// (Parallel, Map), core_jsonata.cpp (evaluating JSONata-mode fields; Assign and Output at the end
// of a JSONata state) and core_snapshot.cpp (ExecutionState to JSON and back).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "switchyard/asl/core.hpp"
#include "switchyard/asl/names.hpp"
#include "switchyard/asl/timestamp.hpp"

namespace switchyard::asl {

namespace core_internal {

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
inline int64_t AddSeconds(int64_t now, int64_t seconds) {
  if (seconds <= 0) return now;
  if (seconds >= (INT64_MAX - std::max<int64_t>(now, 0)) / kNanosPerSecond) return INT64_MAX;
  return now + seconds * kNanosPerSecond;
}

// The same for a delay in (fractional) seconds, e.g. a retry's backoff.
inline int64_t AddSeconds(int64_t now, double seconds) {
  if (!(seconds > 0)) return now;
  if (seconds >= static_cast<double>((INT64_MAX - std::max<int64_t>(now, 0)) / kNanosPerSecond)) {
    return INT64_MAX;
  }
  return now + static_cast<int64_t>(seconds * static_cast<double>(kNanosPerSecond));
}

inline std::string ToString(int64_t value) {
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

inline std::vector<int64_t> SortedChildren(const Frame& frame) {
  std::vector<int64_t> children = frame.children;
  std::sort(children.begin(), children.end());
  return children;
}

inline std::size_t VariablesSize(const Frame& frame) {
  std::size_t size = 0;
  if (!frame.variables.IsObject()) return size;
  for (const auto& member : frame.variables.GetObject()) size += JsonTextSize(member.value);
  return size;
}

}  // namespace core_internal

struct ExecutionState::Impl {
  using Frame = core_internal::Frame;
  ExecutionStatus status = ExecutionStatus::kRunning;
  ExecutionType type = ExecutionType::kStandard;
  bool started = false;
  std::string execution_name;
  std::string execution_arn;
  std::string state_machine_name;
  std::string state_machine_arn;
  std::string role_arn;
  Json execution_input;
  // Event::context of the Started event: the Context object every state sees, when set.
  std::optional<Json> given_context;
  int64_t start_time = 0;
  uint64_t prng = 0;
  int64_t last_event_id = 0;
  int64_t next_serial = 1;
  bool execution_timer = false;
  // RedriveExecution: times redriven, and where a redrive restarts (set when the execution ends
  // unsuccessfully; see ExecutionState::redrive_entered_event_id). In snapshots only when set.
  int64_t redrive_count = 0;
  std::string redrive_state;
  int64_t redrive_entered_event_id = 0;
  Json redrive_variables;
  std::string redrive_refusal;
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

namespace core_internal {

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

inline bool IsRetryable(StateType type) {
  return type == StateType::kTask || type == StateType::kParallel || type == StateType::kMap;
}

inline std::vector<std::string_view> SplitColon(std::string_view text) {
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
inline bool IsLegacyLambda(std::string_view resource) {
  auto parts = SplitColon(resource);
  return parts.size() >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function";
}

inline bool IsActivity(std::string_view resource) {
  auto parts = SplitColon(resource);
  return parts.size() == 7 && parts[0] == "arn" && parts[2] == "states" && parts[5] == "activity" &&
         !parts[6].empty();
}

inline bool IsCallback(std::string_view resource) {
  return resource.size() >= kCallbackSuffix.size() &&
         resource.substr(resource.size() - kCallbackSuffix.size()) == kCallbackSuffix;
}

// "arn:aws:states:::lambda:invoke" → ("lambda", "invoke").
inline std::pair<std::string, std::string> ResourceTypeAndName(std::string_view resource) {
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
inline bool ErrorMatches(const std::vector<std::string>& error_equals, const std::string& error) {
  for (const auto& name : error_equals) {
    if (name == error) return true;
    if (name == kStatesAll) return true;
    if (name == kStatesTaskFailed && error != kStatesTimeout) return true;
  }
  return false;
}

inline std::string ValueText(const Json& value) {
  return value.IsString() ? std::string(JsonView(value)) : DumpJson(value);
}

// "null", "boolean", "number", "string", "array", "object".
std::string_view JsonataTypeName(const Json& value);

inline Json PayloadDetails() {
  Json details = JsonObject();
  JsonSet(details, "truncated", JsonBool(false));
  return details;
}

enum StateEvent { kEntered, kExited, kAborted };

// "PassStateEntered", "MapStateAborted", ...: literals, as HistoryEvent::type requires.
inline std::string_view StateEventType(StateType type, StateEvent event) {
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

// What a stage sees besides its input: $states.result and $states.errorOutput (JSONata), and the
// Map item of an ItemSelector ($$.Map.Item / $states.context.Map.Item).
struct StageExtra {
  const Json* result = nullptr;        // Task, Parallel, Map: the result
  const Json* error_output = nullptr;  // Catch: {Error, Cause}
  const Json* map_value = nullptr;     // ItemSelector: the item
  int64_t map_index = 0;
};

// One stage of a state (its entry, its result, a catcher, a Map item) in the state's query
// language: what every field of the stage is evaluated against. JSONPath: `$` is the stage's
// input (after OpenStage, the effective input) and `$$` is built on first use. JSONata:
// $states ({input, context, result?, errorOutput?}) and the variables in scope are bound on the
// stage's first expression and shared by all its fields. Lives within one Runner call; neither
// copied nor moved (its bindings point into it); must not be used once the frame's variables
// change (CommitAssign).
class Stage {
 public:
  Stage(const Frame& of_frame, const State& of_state, Json& input, StageExtra with = {})
      : frame(of_frame),
        state(of_state),
        jsonata(of_state.query_language == QueryLanguage::kJsonata),
        extra(with),
        input_(&input) {}
  // A stage that sees `result` (a Task's, Parallel's or Map's result; with `error`, a caught
  // error's output): JSONPath's `$` is `result` itself; JSONata's $states.input is the frame's
  // input and `result` is $states.result ($states.errorOutput). Without a result (a JSONata
  // Pass), the frame's input.
  Stage(Frame& of_frame, const State& of_state, Json* result, bool error = false)
      : Stage(of_frame, of_state,
              result != nullptr && of_state.query_language != QueryLanguage::kJsonata
                  ? *result
                  : of_frame.input,
              ResultExtra(of_state, result, error)) {}
  Stage(const Stage&) = delete;
  Stage& operator=(const Stage&) = delete;

  const Json& input() const { return *input_; }
  // The input becomes `value` (JSONPath: the effective input).
  void Replace(Json value) {
    owned_ = std::move(value);
    input_ = &owned_;
  }
  // Moves the input out (the stage is done with it).
  Json TakeInput() { return std::move(*input_); }
  // The effective input as a value of its own: moved out when the stage made it (InputPath),
  // else copied (the frame's input stays: JSONata's $states.input at the end of the state).
  Json Effective() { return input_ == &owned_ ? std::move(owned_) : CopyJson(*input_); }

  const Frame& frame;
  const State& state;
  const bool jsonata;
  const StageExtra extra;
  std::optional<Json> context;  // $$ / $states.context, once built
  Json states;                  // JSONata: $states, once bound
  JsonataBindings bindings;     // JSONata: $states and the variables in scope
  bool bound = false;

 private:
  static StageExtra ResultExtra(const State& state, const Json* result, bool error) {
    StageExtra extra;
    if (state.query_language != QueryLanguage::kJsonata) return extra;
    (error ? extra.error_output : extra.result) = result;
    return extra;
  }

  Json* input_;
  Json owned_;
};

// For FieldValue: a field a state's query language does not have.
inline const std::optional<Json> kNoField;

// How a JSONPath integer field's value is read (the JSONata ones are integers >= minimum).
enum class PathInteger {
  kPositive,     // TimeoutSecondsPath, HeartbeatSecondsPath: an integer > 0
  kCount,        // MaxConcurrencyPath, ToleratedFailureCountPath: >= 0, or a string holding one
  kNonNegative,  // SecondsPath: a long >= 0 (an integral double too; past int64 saturates)
};
struct IntegerField {
  std::string_view name;       // JSONata's field ("TimeoutSeconds")
  std::string_view path_name;  // JSONPath's ("TimeoutSecondsPath")
  PathInteger rule;
  int64_t minimum;  // JSONata
};

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
  void HandleEvent(const Event& event);

  // history and commands (core_history.cpp)
  // `details_key` must be a literal (HistoryEvent keeps a view of it).
  // `type` and `details_key` must be literals (HistoryEvent keeps views of them).
  int64_t Emit(std::string_view type, std::string_view details_key = {}, Json details = Json());

  // As Emit, with the details object already as JSON text.
  // As Emit, with the details object already as JSON text, and the payload (JSON text) that
  // goes in its member `payload_field` ("input"/"output") kept apart.
  // Returns the new event's id, or 0 when the history limit takes its place.
  int64_t EmitText(std::string_view type, std::string_view details_key, std::string details_json,
                   std::string_view payload_field = {}, std::string payload_text = {});

  // The hot path (every state entry and exit) writes its details as text directly.
  // State events keep the name and payload apart; HistoryEvent::Details() assembles them.
  void EmitStateEntered(const State& state, std::string input_text);

  void EmitStateExited(const State& state, const Json& output);

  void EmitStateExited(const State& state, std::string output_text);

  Json ErrorDetails(const std::string& error, const std::string& cause);

  std::string NextSerial(std::string_view prefix);

  // A new task or timer id for `frame`: "<prefix><serial>.<frame id>" (see Impl::FrameOfId).
  std::string NextId(std::string_view prefix, const Frame& frame);

  // A frame's task id, timer id and token change only through these (a token is indexed).
  void SetTask(Frame& frame, std::string task_id) { frame.task_id = std::move(task_id); }
  void ClearTask(Frame& frame) { frame.task_id.clear(); }
  void SetTimer(Frame& frame, std::string timer_id) { frame.timer_id = std::move(timer_id); }
  void ClearTimer(Frame& frame) { frame.timer_id.clear(); }
  void SetToken(Frame& frame, std::string token);
  // The hot path (a Pass or Choice state) has no token: kept small enough to inline.
  void ClearToken(Frame& frame) {
    if (!frame.token.empty()) ClearIndexed(frame.token, frame.id);
  }
  [[gnu::noinline]] void ClearIndexed(std::string& key, int64_t frame_id);
  // Removes a frame (and its index entries).
  void EraseFrame(int64_t frame_id);

  // start and end (core_execution.cpp)
  // The execution's ARNs: the ones the Started event gave, or ones derived from the names.
  std::string ExecutionArn() const;
  std::string StateMachineArn() const;
  std::string_view RoleArn() const;

  void Start(const Event& event);

  // The execution's own timer: its TimeoutSeconds, at most `max_seconds`.
  void StartExecutionTimer(int64_t max_seconds);

  // Cancels whatever is in flight in every frame and records the end of the execution.
  void EndExecution(ExecutionStatus status, std::string_view type, Json output, std::string error,
                    std::string cause, std::string output_text = {});

  // The history limit was reached during this step: drop the commands issued since, cancel what
  // was in flight before and record the failure as the last event.
  void EndAtHistoryLimit();

  // redrive (core_execution.cpp)
  void ClearRedrivePoint(std::string refusal);

  // The execution ends unsuccessfully: remember the top-level state it was in, so that a
  // redrive enters it again (AWS: "continues the failed execution from the unsuccessful step").
  // AWS redrives only the failed branches or iterations of a Parallel or Map state; keeping
  // their finished siblings is not supported yet, so such an execution is not redrivable.
  void SaveRedrivePoint();

  void Redrive(const Event& event);

  void CancelInFlight(Frame& frame);

  // definitions and scopes (core_dataflow.cpp)
  // The (sub-)machine `frame` runs in: walked down from the root along the frame's ancestors,
  // iteratively (a definition may nest Parallel and Map states hundreds of levels deep).
  const StateMachineDef& DefOf(const Frame& frame) const;

  // The sub-machine `child` runs in, `parent` (a frame in a Parallel or Map state) running in
  // `parent_def`.
  static const StateMachineDef& ChildDef(const StateMachineDef& parent_def, const Frame& parent,
                                         const Frame& child);

  const State& StateOf(const Frame& frame) const { return *DefOf(frame).Find(frame.state); }

  Json Context(const Frame& frame, const State& state, const Json* map_value = nullptr,
               int64_t map_index = 0) const;

  std::string Prefix(const Frame& frame) const;

  Error RuntimeError(const Frame& frame, const std::string& detail) const;

  // Errors from templates and intrinsics carry their own name; runtime ones get AWS's prefix.
  Error Prefixed(const Frame& frame, Error error) const;

  Result<Json> EvalPath(const Frame& frame, const State& state, const JsonPath& path,
                        const Json& input);

  Result<Json> EvalTemplate(const Frame& frame, const State& state, const PayloadTemplate& tmpl,
                            const Json& input);

  Result<Json> ApplyInputPath(const Frame& frame, const State& state, const Json& input);

  Result<Json> ApplyOutputPath(const Frame& frame, const State& state, Json value);

  Result<Json> ApplyResultPath(const Frame& frame, const PathField& result_path, Json input,
                               Json result);

  // The limits on what an Assign (of either language) gives: 256 KiB per variable and per
  // Assign, 10 MiB per execution.
  Result<Json> CheckAssigned(const Frame& frame, Result<Json> assigned);

  void CommitAssign(Frame& frame, Json assigned);

  // A frame goes away, and its variables with it.
  void ForgetVariables(const Frame& frame);

  std::optional<Error> CheckSize(const Frame& frame, const Json& value) const;

  // Every payload the core produces (a state's input and output, a task's parameters, a Map
  // iteration's input, a variable) nests at most kMaxJsonNestingDepth levels: Jackson's writer
  // refuses deeper values (StreamWriteConstraints.getMaxNestingDepth(), 1000 by default), and so
  // a loop that wraps a value once more per state stops here instead of growing it without
  // bound. AWS documents no error for this; States.Runtime is what it gives for a failure of its
  // own serialisation, and the cause quotes Jackson.
  Error DepthError(const Frame& frame) const;

  // The text of a value the core is about to record, or nullopt (after destroying the value
  // without recursion) when it nests too deep for Jackson's writer.
  static std::optional<std::string> DumpWithinLimit(Json& value);

  Error SizeError(const Frame& frame) const;

  // The query-language seam (core_fields.cpp): a state's code evaluates every field of a stage
  // through these, written once for JSONPath and JSONata; each knows both languages.
  // JSONPath: the stage's input becomes the effective input (InputPath); fails as InputPath
  // does. JSONata: nothing to do.
  Status OpenStage(Stage& stage);
  // $$ / $states.context of the stage, built on first use.
  const Json& StageContext(Stage& stage);
  // A field whose value is any JSON: JSONPath `path` (a Path field) or `tmpl` (Parameters,
  // ItemSelector, ...); JSONata `raw` (its "{% %}" strings evaluated). nullopt when the state has
  // none of them.
  Result<std::optional<Json>> FieldValue(Stage& stage, std::string_view field, const JsonPath* path,
                                         const PayloadTemplate* tmpl,
                                         const std::optional<Json>& raw);
  // An integer field: `literal`, else the value of its JSONPath `path` or JSONata `raw`, read
  // as `field` says; nullopt when none is set.
  Result<std::optional<int64_t>> IntegerFieldOf(Stage& stage, const IntegerField& field,
                                                const std::optional<int64_t>& literal,
                                                const std::optional<JsonPath>& path,
                                                const std::optional<Json>& raw);
  // ToleratedFailurePercentage(Path): a number in [0, 100]; nullopt when not set.
  Result<std::optional<double>> PercentageFieldOf(Stage& stage);
  // A Wait's Timestamp(Path) in epoch nanoseconds; nullopt when not set.
  Result<std::optional<int64_t>> TimestampFieldOf(Stage& stage);
  // A Fail's Error or Cause text (`error`: which one); empty when not set.
  Result<std::string> FailTextOf(Stage& stage, bool error);
  // A Map's items: JSONPath ItemsPath, JSONata Items (default: the input); an array.
  Result<Json> ItemsOf(Stage& stage);
  // The output of a state with a result (`result`, or nullptr for a JSONata Pass): JSONPath
  // `result_path` applied to the frame's input, then OutputPath when `output_path`; JSONata
  // `output` (the Output field) when set, else `result` (else the frame's input). Moves
  // `result` and the frame's input out.
  Result<Json> ResultOutput(Stage& stage, Frame& frame, Json* result, const PathField& result_path,
                            const std::optional<Json>& output, bool output_path);
  // A Choice rule's verdict: the JSONPath rule tree or the JSONata Condition.
  Result<bool> Verdict(Stage& stage, const ChoiceRule& rule);
  // Assign (JSONPath template or JSONata object) on entry-time variables, within the limits; {}
  // when there is none.
  Result<Json> StageAssign(Stage& stage, const std::optional<PayloadTemplate>& assign,
                           const std::optional<Json>& assign_jsonata);
  // The output of a state without a result (Choice, Wait, Succeed): JSONPath OutputPath applied
  // to the effective input; JSONata `output` (the Output field) when set, else the input.
  Result<Json> StageOutput(Stage& stage, const std::optional<Json>& output);
  // How a stage's field failure ends the state: a JSONata one (States.QueryEvaluationError)
  // goes to Retry and Catch (`failed_event` as HandleStateError); a JSONPath one ends the frame.
  void FieldFailed(Stage& stage, Frame& frame, Error error, std::string_view failed_event = {});

  // JSONata (core_jsonata.cpp): evaluating "{% %}" strings with the stage's bindings.
  // $states and the variables in scope, bound on the stage's first expression.
  void BindJsonata(Stage& stage);
  // `raw` (a field's value as written) with every "{% ... %}" string in it, at any depth, replaced
  // by its value; `field` names it in errors ("Output", "Arguments", ...; nested members as
  // "Output/result"). Fails with States.QueryEvaluationError (and an EvaluationFailed event) when
  // an expression throws or returns undefined.
  Result<Json> EvalJsonata(Stage& stage, std::string_view field, const Json& raw);
  // States.QueryEvaluationError with AWS's prefix, recorded as an EvaluationFailed event.
  Error QueryError(const Frame& frame, const State& state, std::string_view location,
                   const std::string& detail);
  Error UnexpectedType(const Frame& frame, const State& state, std::string_view field,
                       const Json& raw, std::string_view expected, const Json& value);

  // driving frames (core_drive.cpp)
  // Runs `frame_id` until it blocks or ends, then lets finished frames notify their parents.
  void Resume(int64_t frame_id);

  // Resumes `frame_id` and, once it blocks, the fan-outs of each of its ancestors in turn
  // (innermost first): what a yield held back (see Drive).
  void ResumeWithAncestors(int64_t frame_id);

  // Runs the frames on drive_stack_ until every one has blocked or ended. The stack is a chain
  // of frames, each the parent of the next: the top one runs; a fan-out pushes the child it
  // launches; a child that ends is popped and reported to its parent (pushed when not already
  // below it); a frame that blocks (task, timer, children still running) is popped. An explicit
  // stack, not a recursion: Parallel and Map states may nest hundreds of levels deep.
  // An Express execution yields once this step has recorded kExpressYieldEvents events: the
  // frame about to enter a state waits for a timer due at once, and every frame on the stack
  // (its ancestors, whose fan-outs would otherwise launch children that yield in turn) waits
  // with it until that timer fires (HandleTimer → ResumeWithAncestors).
  void Drive();

  // Lets the driver run (and time pass) before `frame` enters its state.
  void Yield(Frame& frame);

  // `frame` waits in `phase` for a new timer ("<prefix><serial>.<frame id>") due at `fire_at`.
  void WaitFor(Frame& frame, Phase phase, std::string_view prefix, int64_t fire_at);

  // `output_text`, when known, is DumpJson(output).
  void Transition(Frame& frame, const State& state, Json output, const std::string& next,
                  std::string output_text = {});

  void EndFrame(Frame& frame, bool failed, Json output, std::string error, std::string cause,
                std::string output_text = {});

  void FailFrame(Frame& frame, Error error);

  void EnterState(int64_t frame_id);

  // simple states (core_states.cpp)
  // A Pass state whose output is exactly its input.
  static bool IsPassThrough(const State& state);

  void RunPass(Frame& frame, const State& state);

  // The end of a state with a result (Pass, Task, Parallel, Map): Assign, the output, then
  // StateExited and on to state.next. JSONPath: ResultSelector (`select`), ResultPath, OutputPath,
  // Assign seeing the result. JSONata: Output (default: the result; a Pass's input when `result`
  // is nullopt), Assign and Output seeing $states.input and $states.result. `output_text`, when
  // given, is already DumpJson of what the output will be.
  void FinishWithResult(Frame& frame, const State& state, std::optional<Json> result,
                        bool select = false, std::string output_text = {});

  void RunChoice(Frame& frame, const State& state);

  void RunSucceed(Frame& frame, const State& state);

  void RunFail(Frame& frame, const State& state);

  // Wait (core_states.cpp)
  void RunWait(Frame& frame, const State& state);

  // Task (core_task.cpp)
  void RunTask(Frame& frame, const State& state);

  void InvokeTask(Frame& frame, const State& state);

  void HandleActivityStarted(const Event& event);

  Json TaskEventDetails(const State& state);

  void HandleTaskEvent(const Event& event);

  void TaskSucceededContinue(Frame& frame, const State& state, Json result);

  // Retry and Catch (core_retry.cpp)
  // `failed_event` (MapStateFailed) is recorded unless a retrier takes the
  // error: AWS's history shows a retried Map state going straight to MapStateStarted again.
  void HandleStateError(Frame& frame, const State& state, Error error,
                        std::string_view failed_event = {});

  // A catcher took `error_output` ({Error, Cause}): its Assign and output, then its Next.
  void Catch(Frame& frame, const State& state, const Catcher& catcher, Json error_output);

  void HandleTimer(const std::string& timer_id);

  // Parallel and Map (core_fanout.cpp)
  void RunFanOutState(Frame& frame, const State& state);

  void StartFanOut(Frame& frame, const State& state);

  bool FanOutFailed(const Frame& frame, const State& state) const;

  Json MapIterationDetails(const State& state, int64_t index);

  void RecordChildDone(Frame& parent, int64_t child_id);

  // One step of a fan-out (Drive runs it while the frame is in kChildren): fails it when the
  // failure rules say so, launches the next child when there is room (returning its id, which
  // Drive runs next), or completes it when every child is done. -1 when it launched nothing.
  int64_t FanOutStep(Frame& frame);

  int64_t LaunchChild(Frame& frame, const State& state);

  // Takes `child` out of `parent.children` in O(1): the last child takes its place.
  void RemoveChild(Frame& parent, const Frame& child);

  // Aborts a frame and, first, all its descendants (children in launch order, depth first), with
  // an explicit stack: the nesting is the definition's, hundreds of levels at most, but a
  // recursion per level is what a user controls.
  void AbortFrame(int64_t top_id);

  void AbortChildren(Frame& frame);

  void FailFanOut(Frame& frame, const State& state);

  void CompleteFanOut(Frame& frame, const State& state);

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

}  // namespace core_internal

}  // namespace switchyard::asl
