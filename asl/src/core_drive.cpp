// Driving frames from state to state: entering a state, transitions, the end of a frame.

#include "core_internal.hpp"

namespace switchyard::asl {

namespace core_internal {

void Runner::Resume(int64_t frame_id) {
  drive_stack_.clear();
  drive_stack_.push_back(frame_id);
  Drive();
}

void Runner::ResumeWithAncestors(int64_t frame_id) {
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

void Runner::Drive() {
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
        if (impl_.type == ExecutionType::kExpress && step_.history.size() >= kExpressYieldEvents) {
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

void Runner::Yield(Frame& frame) { WaitFor(frame, Phase::kYield, "yield-", now_); }

void Runner::WaitFor(Frame& frame, Phase phase, std::string_view prefix, int64_t fire_at) {
  frame.phase = phase;
  SetTimer(frame, NextId(prefix, frame));
  Command command;
  command.kind = Command::Kind::kStartTimer;
  command.timer_id = frame.timer_id;
  command.fire_at = fire_at;
  step_.commands.push_back(std::move(command));
}

void Runner::Transition(Frame& frame, const State& state, Json output, const std::string& next,
                        std::string output_text) {
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

void Runner::EndFrame(Frame& frame, bool failed, Json output, std::string error, std::string cause,
                      std::string output_text) {
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

void Runner::FailFrame(Frame& frame, Error error) {
  EndFrame(frame, true, JsonNull(), std::move(error.error), std::move(error.cause));
}

void Runner::EnterState(int64_t frame_id) {
  Frame& frame = impl_.frames.at(frame_id);
  const State* found = DefOf(frame).Find(frame.state);
  if (found == nullptr) {
    FailFrame(frame, Error{std::string(kStatesRuntime),
                           "State '" + frame.state + "' is not in the definition"});
    return;
  }
  const State& state = *found;
  frame.entered_time = now_;
  std::string input_text;
  if (!frame.input_text.empty()) {
    input_text = std::move(frame.input_text);
  } else if (std::optional<std::string> text = DumpWithinLimit(frame.input)) {
    input_text = std::move(*text);
  } else {
    // A Map iteration's or a branch's input built too deep (by an ItemSelector, say).
    EmitStateEntered(state, "null");
    frame.entered_event_id = impl_.last_event_id;
    FailFrame(frame, DepthError(frame));
    return;
  }
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

}  // namespace core_internal

}  // namespace switchyard::asl
