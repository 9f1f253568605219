#include "switchyard/asl/core.hpp"

#include "core_internal.hpp"

namespace switchyard::asl {

namespace core_internal {

void Runner::HandleEvent(const Event& event) {
  if (event.kind == Event::Kind::kStarted) {
    if (!impl_.started) Start(event);
    return;
  }
  if (event.kind == Event::Kind::kRedriven) return Redrive(event);
  if (!impl_.started || impl_.status != ExecutionStatus::kRunning) return;
  switch (event.kind) {
    case Event::Kind::kStarted:
    case Event::Kind::kRedriven:
      return;
    case Event::Kind::kActivityStarted:
      return HandleActivityStarted(event);
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

}  // namespace core_internal

using core_internal::IsActivity;
using core_internal::Runner;

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

Event Event::ActivityStarted(std::string task_id, std::string worker_name) {
  Event event;
  event.kind = Kind::kActivityStarted;
  event.task_id = std::move(task_id);
  event.worker_name = std::move(worker_name);
  return event;
}

Event Event::Redriven(Json input) {
  Event event;
  event.kind = Kind::kRedriven;
  event.input = std::move(input);
  return event;
}

bool IsActivityResource(std::string_view resource) { return IsActivity(resource); }

Event Event::StopRequested(std::string error, std::string cause) {
  Event event;
  event.kind = Kind::kStopRequested;
  event.error = std::move(error);
  event.cause = std::move(cause);
  return event;
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
int64_t ExecutionState::redrive_count() const { return impl_->redrive_count; }
int64_t ExecutionState::redrive_entered_event_id() const { return impl_->redrive_entered_event_id; }
std::string ExecutionState::redrive_refusal() const { return impl_->redrive_refusal; }

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
