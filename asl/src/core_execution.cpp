// The execution's start and end (success, failure, timeout, abort, the history limit) and its
// redrive.

#include "core_internal.hpp"

namespace switchyard::asl {

namespace core_internal {

std::string Runner::ExecutionArn() const {
  if (!impl_.execution_arn.empty()) return impl_.execution_arn;
  return "arn:aws:states:us-east-1:111111111111:execution:" + impl_.state_machine_name + ":" +
         impl_.execution_name;
}

std::string Runner::StateMachineArn() const {
  if (!impl_.state_machine_arn.empty()) return impl_.state_machine_arn;
  return "arn:aws:states:us-east-1:111111111111:stateMachine:" + impl_.state_machine_name;
}

std::string_view Runner::RoleArn() const {
  if (!impl_.role_arn.empty()) return impl_.role_arn;
  return "arn:aws:iam::111111111111:role/switchyard-execution";
}

void Runner::Start(const Event& event) {
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
  if (event.context) impl_.given_context = CopyJson(*event.context);
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
  StartExecutionTimer(max_seconds);

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

void Runner::StartExecutionTimer(int64_t max_seconds) {
  impl_.execution_timer = true;
  Command command;
  command.kind = Command::Kind::kStartTimer;
  command.timer_id = std::string(kExecutionTimerId);
  command.fire_at =
      AddSeconds(now_, std::min(definition_.timeout_seconds.value_or(max_seconds), max_seconds));
  step_.commands.push_back(std::move(command));
}

void Runner::EndExecution(ExecutionStatus status, std::string_view type, Json output,
                          std::string error, std::string cause, std::string output_text) {
  if (history_full_) return;  // EndAtHistoryLimit ends it
  if (status != ExecutionStatus::kSucceeded) SaveRedrivePoint();
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
    std::string_view key = status == ExecutionStatus::kFailed     ? "executionFailedEventDetails"
                           : status == ExecutionStatus::kTimedOut ? "executionTimedOutEventDetails"
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

void Runner::EndAtHistoryLimit() {
  history_full_ = false;
  step_.commands.erase(step_.commands.begin() + static_cast<std::ptrdiff_t>(commands_at_limit_),
                       step_.commands.end());
  impl_.status = ExecutionStatus::kRunning;
  EndExecution(ExecutionStatus::kFailed, "ExecutionFailed", JsonNull(), std::string(kStatesRuntime),
               "The execution reached the maximum number of history events (" +
                   ToString(kMaxHistoryEvents) + ").");
  ClearRedrivePoint("Execution history event limit exceeded.");
}

void Runner::ClearRedrivePoint(std::string refusal) {
  impl_.redrive_state.clear();
  impl_.redrive_entered_event_id = 0;
  impl_.redrive_variables = Json();
  impl_.redrive_refusal = std::move(refusal);
}

void Runner::SaveRedrivePoint() {
  ClearRedrivePoint("");
  if (impl_.type != ExecutionType::kStandard) {
    impl_.redrive_refusal = "Express executions cannot be redriven.";
    return;
  }
  const Frame* root = nullptr;
  for (const auto& [id, frame] : impl_.frames) {
    if (frame.parent < 0) {
      root = &frame;
      break;
    }
  }
  const State* state = root != nullptr ? definition_.Find(root->state) : nullptr;
  if (root == nullptr || state == nullptr || root->entered_event_id == 0) {
    impl_.redrive_refusal = "The execution did not fail in a state.";
    return;
  }
  if (state->type == StateType::kParallel || state->type == StateType::kMap) {
    impl_.redrive_refusal = "Redriving the branches or iterations of the " +
                            std::string(state->type == StateType::kMap ? "Map" : "Parallel") +
                            " state '" + state->name + "' is not supported.";
    return;
  }
  impl_.redrive_state = root->state;
  impl_.redrive_entered_event_id = root->entered_event_id;
  impl_.redrive_variables = CopyJson(root->variables);
}

void Runner::Redrive(const Event& event) {
  if (!impl_.started || impl_.status == ExecutionStatus::kRunning ||
      impl_.status == ExecutionStatus::kSucceeded || impl_.redrive_entered_event_id == 0) {
    return;
  }
  impl_.status = ExecutionStatus::kRunning;
  impl_.redrive_count += 1;
  Json details = JsonObject();
  JsonSet(details, "redriveCount", JsonInt(impl_.redrive_count));
  Emit("ExecutionRedriven", "executionRedrivenEventDetails", std::move(details));
  // The execution's TimeoutSeconds runs again from the redrive.
  StartExecutionTimer(kMaxStandardDurationSeconds);

  Frame root;
  root.id = impl_.next_serial++;
  root.kind = FrameKind::kRoot;
  root.state = impl_.redrive_state;
  root.input = consumable_ != nullptr ? std::move(consumable_->input) : CopyJson(event.input);
  if (impl_.redrive_variables.IsObject()) root.variables = std::move(impl_.redrive_variables);
  impl_.variables_bytes = VariablesSize(root);
  ClearRedrivePoint("");
  int64_t root_id = root.id;
  impl_.frames.emplace(root_id, std::move(root));
  Resume(root_id);
}

void Runner::CancelInFlight(Frame& frame) {
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

}  // namespace core_internal

}  // namespace switchyard::asl
