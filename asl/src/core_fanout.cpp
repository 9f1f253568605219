// Parallel and Map states: launching branches and iterations, their results, failure tolerance.

#include "core_internal.hpp"

namespace switchyard::asl {

namespace core_internal {

void Runner::RunFanOutState(Frame& frame, const State& state) {
  Stage stage(frame, state, frame.input);
  if (Status opened = OpenStage(stage); !opened) return FailFrame(frame, std::move(opened).error());
  frame.attempts.assign(state.retry.size(), 0);
  frame.retry_count = 0;
  frame.fan_max = 0;
  frame.tolerated_count = -1;
  frame.tolerated_percentage = -1;
  if (state.type == StateType::kParallel) {
    // Every branch's input: Parameters (JSONPath) or Arguments (JSONata), else the input.
    auto arguments = FieldValue(stage, "Arguments", nullptr,
                                state.parameters ? &*state.parameters : nullptr, state.arguments);
    if (!arguments) return FieldFailed(stage, frame, std::move(arguments).error());
    frame.work = *arguments ? std::move(**arguments) : stage.Effective();
    return StartFanOut(frame, state);  // Drive launches the children
  }
  frame.work = stage.Effective();
  if (state.item_reader) {
    return FailFrame(frame, RuntimeError(frame, "ItemReader (distributed Map) is not supported."));
  }
  // ItemsPath or Items, MaxConcurrency(Path), ToleratedFailure*(Path) read the effective input.
  constexpr std::string_view kMapFailed = "MapStateFailed";
  Stage fields(frame, state, frame.work);
  auto items = ItemsOf(fields);
  if (!items) return FieldFailed(fields, frame, std::move(items).error(), kMapFailed);
  frame.items = std::move(items).value();
  static constexpr IntegerField kMax{"MaxConcurrency", "MaxConcurrencyPath", PathInteger::kCount,
                                     0};
  auto max = IntegerFieldOf(fields, kMax, state.max_concurrency, state.max_concurrency_path,
                            state.max_concurrency_jsonata);
  if (!max) return FieldFailed(fields, frame, std::move(max).error(), kMapFailed);
  frame.fan_max = max->value_or(0);
  static constexpr IntegerField kCount{"ToleratedFailureCount", "ToleratedFailureCountPath",
                                       PathInteger::kCount, 0};
  auto count =
      IntegerFieldOf(fields, kCount, state.tolerated_failure_count,
                     state.tolerated_failure_count_path, state.tolerated_failure_count_jsonata);
  if (!count) return FieldFailed(fields, frame, std::move(count).error(), kMapFailed);
  frame.tolerated_count = count->value_or(-1);
  auto percentage = PercentageFieldOf(fields);
  if (!percentage) return FieldFailed(fields, frame, std::move(percentage).error(), kMapFailed);
  frame.tolerated_percentage = percentage->value_or(-1);
  StartFanOut(frame, state);  // Drive launches the children
}

void Runner::StartFanOut(Frame& frame, const State& state) {
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

bool Runner::FanOutFailed(const Frame& frame, const State& state) const {
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

Json Runner::MapIterationDetails(const State& state, int64_t index) {
  Json details = JsonObject();
  JsonSet(details, "name", JsonString(state.name));
  JsonSet(details, "index", JsonInt(index));
  return details;
}

void Runner::RecordChildDone(Frame& parent, int64_t child_id) {
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

int64_t Runner::FanOutStep(Frame& frame) {
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

int64_t Runner::LaunchChild(Frame& frame, const State& state) {
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
    StageExtra extra;
    extra.map_value = &item;
    extra.map_index = index;
    Stage stage(frame, state, frame.work, extra);
    auto selected = FieldValue(stage, "ItemSelector", nullptr, selector ? &*selector : nullptr,
                               state.item_selector_jsonata);
    if (!selected) {
      Error error = std::move(selected).error();
      AbortChildren(frame);
      // AWS records MapStateFailed for a JSONata ItemSelector's failure.
      HandleStateError(frame, state, std::move(error), stage.jsonata ? "MapStateFailed" : "");
      return -1;
    }
    child.input = *selected ? std::move(**selected) : CopyJson(item);
  }
  int64_t child_id = child.id;
  child.child_slot = frame.children.size();
  frame.children.push_back(child_id);
  impl_.frames.emplace(child_id, std::move(child));
  return child_id;
}

void Runner::RemoveChild(Frame& parent, const Frame& child) {
  const std::size_t slot = child.child_slot;
  if (slot >= parent.children.size() || parent.children[slot] != child.id) return;
  const int64_t last = parent.children.back();
  parent.children[slot] = last;
  parent.children.pop_back();
  if (last != child.id) impl_.frames.at(last).child_slot = slot;
}

void Runner::AbortFrame(int64_t top_id) {
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

void Runner::AbortChildren(Frame& frame) {
  std::vector<int64_t> children = SortedChildren(frame);
  frame.children.clear();
  for (int64_t child : children) AbortFrame(child);
}

void Runner::FailFanOut(Frame& frame, const State& state) {
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

void Runner::CompleteFanOut(Frame& frame, const State& state) {
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
  FinishWithResult(frame, state, std::move(result), true);
}

}  // namespace core_internal

}  // namespace switchyard::asl
