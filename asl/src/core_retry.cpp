// Retry and Catch, and the timers that resume a frame (Wait, retry backoff, yield).

#include "core_internal.hpp"

namespace switchyard::asl {

namespace core_internal {

void Runner::HandleStateError(Frame& frame, const State& state, Error error,
                              std::string_view failed_event) {
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
    return WaitFor(frame, Phase::kRetry, "retry-", AddSeconds(now_, delay));
  }
  if (!failed_event.empty()) Emit(failed_event);
  for (const Catcher& catcher : state.catchers) {
    if (!ErrorMatches(catcher.error_equals, error.error)) continue;
    Json error_output = JsonObject();
    JsonSet(error_output, "Error", JsonString(error.error));
    JsonSet(error_output, "Cause", JsonString(error.cause));
    return Catch(frame, state, catcher, std::move(error_output));
  }
  FailFrame(frame, std::move(error));
}

void Runner::HandleTimer(const std::string& timer_id) {
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

// JSONPath: Assign's `$` is the error output, which ResultPath places in the state's input.
// JSONata: Assign and Output see $states.input (the state's input) and $states.errorOutput;
// without Output the state's output is the error output.
void Runner::Catch(Frame& frame, const State& state, const Catcher& catcher, Json error_output) {
  Stage stage(frame, state, &error_output, true);
  auto assigned = StageAssign(stage, catcher.assign, catcher.assign_jsonata);
  if (!assigned) return FailFrame(frame, std::move(assigned).error());
  PathField result_path;
  result_path.set = catcher.result_path_set;
  if (catcher.result_path) result_path.path = *catcher.result_path;
  auto output = ResultOutput(stage, frame, &error_output, result_path, catcher.output, false);
  if (!output) return FailFrame(frame, std::move(output).error());
  std::optional<std::string> text = DumpWithinLimit(*output);
  if (!text) return FailFrame(frame, DepthError(frame));
  CommitAssign(frame, std::move(assigned).value());
  std::string output_text = std::move(*text);
  EmitStateExited(state, output_text);
  frame.state = catcher.next;
  frame.input = std::move(output).value();
  frame.input_text = std::move(output_text);
  frame.phase = Phase::kEnter;
  frame.attempts.clear();
  frame.retry_count = 0;
  ClearToken(frame);
}

}  // namespace core_internal

}  // namespace switchyard::asl
