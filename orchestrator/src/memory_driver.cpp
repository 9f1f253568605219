#include "switchyard/orchestrator/memory_driver.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "switchyard/asl/names.hpp"

namespace switchyard::orchestrator {

namespace asl = switchyard::asl;

namespace {
constexpr int64_t kNanosPerSecond = 1000000000;

// `now` + `seconds`, saturated: a TimeoutSecondsPath may give any positive int64.
int64_t AddSeconds(int64_t now, int64_t seconds) {
  if (seconds >= (INT64_MAX - std::max<int64_t>(now, 0)) / kNanosPerSecond) return INT64_MAX;
  return now + seconds * kNanosPerSecond;
}

int64_t RealNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

TaskOutcome TaskOutcome::Success(asl::Json output) {
  TaskOutcome outcome;
  outcome.succeeded = true;
  outcome.output = std::move(output);
  return outcome;
}

TaskOutcome TaskOutcome::Failure(std::string error, std::string cause) {
  TaskOutcome outcome;
  outcome.succeeded = false;
  outcome.error = std::move(error);
  outcome.cause = std::move(cause);
  return outcome;
}

void TaskBackend::Cancel(const std::string& /*task_id*/) {}

std::optional<TaskOutcome> NoFunctionBackend::Start(const TaskRequest& request,
                                                    TaskCompleter /*complete*/) {
  return TaskOutcome::Failure(std::string(asl::kStatesTaskFailed),
                              "no function backend configured for " + request.resource);
}

MemoryDriver::MemoryDriver(const asl::StateMachineDef& definition, TaskBackend& backend,
                           MemoryDriverOptions options)
    : definition_(definition), backend_(backend), options_(std::move(options)) {
  if (options_.fake_clock_start) {
    fake_now_ = *options_.fake_clock_start;
    options_.fast_timers = true;
  }
}

MemoryDriver::~MemoryDriver() {
  std::lock_guard<std::mutex> lock(mailbox_->mu);
  mailbox_->closed = true;
}

int64_t MemoryDriver::Now() {
  if (options_.fake_clock_start) return fake_now_;
  return RealNow() + skipped_;
}

void MemoryDriver::Post(asl::Event event) {
  {
    std::lock_guard<std::mutex> lock(mailbox_->mu);
    mailbox_->posted.push_back(std::move(event));
  }
  mailbox_->cv.notify_all();
}

void MemoryDriver::SendTaskSuccess(const std::string& token, asl::Json output) {
  asl::Event event = asl::Event::TaskSucceeded("", std::move(output));
  event.token = token;
  Post(std::move(event));
}

void MemoryDriver::SendTaskFailure(const std::string& token, std::string error, std::string cause) {
  asl::Event event = asl::Event::TaskFailed("", std::move(error), std::move(cause));
  event.token = token;
  Post(std::move(event));
}

void MemoryDriver::SendTaskHeartbeat(const std::string& token) {
  asl::Event event = asl::Event::Heartbeat("");
  event.token = token;
  Post(std::move(event));
}

void MemoryDriver::Stop(std::string error, std::string cause) {
  Post(asl::Event::StopRequested(std::move(error), std::move(cause)));
}

void MemoryDriver::ApplyEvent(const asl::Event& event, RunResult& result) {
  if (finished_) return;
  // Heartbeats move the heartbeat deadline here: the driver owns task deadlines.
  if (event.kind == asl::Event::Kind::kHeartbeat) {
    for (auto& [task_id, flight] : in_flight_) {
      bool match = event.task_id.empty() ? (!event.token.empty() && flight.token == event.token)
                                         : task_id == event.task_id;
      if (match && flight.heartbeat_seconds > 0) {
        flight.heartbeat_at = AddSeconds(Now(), flight.heartbeat_seconds);
      }
    }
  }
  asl::Step step = asl::Apply(definition_, state_, event, Now());
  if (options_.keep_history) {
    for (auto& history_event : step.history) result.history.push_back(std::move(history_event));
  }
  // A task completes in the core only through its task id or its token; forget its deadlines.
  if (event.kind == asl::Event::Kind::kTaskSucceeded ||
      event.kind == asl::Event::Kind::kTaskFailed ||
      event.kind == asl::Event::Kind::kTaskTimedOut ||
      event.kind == asl::Event::Kind::kHeartbeatTimedOut) {
    bool still_waiting = false;
    std::string completed = event.task_id;
    if (completed.empty()) {
      for (const auto& [task_id, flight] : in_flight_) {
        if (!event.token.empty() && flight.token == event.token) completed = task_id;
      }
    } else if (event.kind == asl::Event::Kind::kTaskSucceeded) {
      // A `.waitForTaskToken` invocation that returned still waits for its callback.
      auto it = in_flight_.find(completed);
      still_waiting = it != in_flight_.end() && !it->second.token.empty();
    }
    if (!still_waiting) in_flight_.erase(completed);
  }
  for (auto& command : step.commands) Execute(command, result);
  if (options_.after_event) options_.after_event(state_);
}

void MemoryDriver::Execute(asl::Command& command, RunResult& result) {
  switch (command.kind) {
    case asl::Command::Kind::kInvokeTask: {
      InFlight flight;
      int64_t now = Now();
      flight.timeout_at = AddSeconds(now, command.timeout_seconds);
      flight.heartbeat_seconds = command.heartbeat_seconds;
      if (command.heartbeat_seconds > 0) {
        flight.heartbeat_at = AddSeconds(now, command.heartbeat_seconds);
      }
      flight.token = command.token;
      in_flight_[command.task_id] = flight;
      TaskRequest request;
      request.task_id = command.task_id;
      request.resource = command.resource;
      request.payload = std::move(command.payload);
      request.timeout_seconds = command.timeout_seconds;
      request.heartbeat_seconds = command.heartbeat_seconds;
      request.token = command.token;
      std::string task_id = command.task_id;
      {
        std::lock_guard<std::mutex> lock(mailbox_->mu);
        ++mailbox_->async_pending;
      }
      // The completer holds the mailbox, not the driver: a task that ends after the driver is
      // gone (e.g. past its TimeoutSeconds) posts into a closed mailbox and is dropped.
      auto completer = [mailbox = mailbox_, task_id](TaskOutcome outcome) {
        asl::Event event = outcome.succeeded
                               ? asl::Event::TaskSucceeded(task_id, std::move(outcome.output))
                               : asl::Event::TaskFailed(task_id, std::move(outcome.error),
                                                        std::move(outcome.cause));
        {
          std::lock_guard<std::mutex> lock(mailbox->mu);
          if (mailbox->closed) return;
          --mailbox->async_pending;
          mailbox->posted.push_back(std::move(event));
        }
        mailbox->cv.notify_all();
      };
      std::optional<TaskOutcome> outcome = backend_.Start(request, completer);
      if (outcome) {
        {
          std::lock_guard<std::mutex> lock(mailbox_->mu);
          --mailbox_->async_pending;
        }
        ready_.push_back(outcome->succeeded
                             ? asl::Event::TaskSucceeded(task_id, std::move(outcome->output))
                             : asl::Event::TaskFailed(task_id, std::move(outcome->error),
                                                      std::move(outcome->cause)));
      }
      return;
    }
    case asl::Command::Kind::kCancelTask:
      in_flight_.erase(command.task_id);
      backend_.Cancel(command.task_id);
      return;
    case asl::Command::Kind::kStartTimer:
      timers_[command.timer_id] = command.fire_at;
      return;
    case asl::Command::Kind::kCancelTimer:
      timers_.erase(command.timer_id);
      return;
    case asl::Command::Kind::kFinish:
      finished_ = true;
      result.status = command.status;
      result.output = std::move(command.output);
      result.error = std::move(command.error);
      result.cause = std::move(command.cause);
      for (const auto& [task_id, flight] : in_flight_) backend_.Cancel(task_id);
      in_flight_.clear();
      timers_.clear();
      return;
  }
}

void MemoryDriver::WaitForEvents(std::optional<int64_t> deadline) {
  std::unique_lock<std::mutex> lock(mailbox_->mu);
  if (!mailbox_->posted.empty()) return;
  bool fast = options_.fast_timers || options_.fake_clock_start.has_value();
  // A fake clock jumps even over tasks in flight: a test decides what completes before a deadline.
  bool jump = options_.fake_clock_start.has_value() || mailbox_->async_pending == 0;
  if (fast && jump && deadline) {
    // Nothing can happen before the next deadline: jump to it.
    if (options_.fake_clock_start) {
      fake_now_ = std::max(fake_now_, *deadline);
    } else {
      int64_t now = RealNow() + skipped_;
      if (*deadline > now) skipped_ += *deadline - now;
    }
    return;
  }
  if (options_.fake_clock_start) {
    // A fake clock never sleeps: with no deadline ahead, wait for an asynchronous completion.
    if (mailbox_->async_pending == 0) return;
    mailbox_->cv.wait(lock, [this] { return !mailbox_->posted.empty(); });
    return;
  }
  if (!deadline) {
    mailbox_->cv.wait(lock, [this] { return !mailbox_->posted.empty(); });
    return;
  }
  int64_t remaining = *deadline - (RealNow() + skipped_);
  if (remaining <= 0) return;
  mailbox_->cv.wait_for(lock, std::chrono::nanoseconds(remaining),
                        [this] { return !mailbox_->posted.empty(); });
}

RunResult MemoryDriver::Run(asl::Json input) {
  RunResult result;
  asl::Event started = asl::Event::Started(std::move(input), options_.execution_name,
                                           options_.state_machine_name, options_.seed);
  started.execution_type = options_.execution_type;
  ApplyEvent(started, result);
  while (!finished_) {
    if (!ready_.empty()) {
      asl::Event event = std::move(ready_.front());
      ready_.pop_front();
      ApplyEvent(event, result);
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mailbox_->mu);
      while (!mailbox_->posted.empty()) {
        ready_.push_back(std::move(mailbox_->posted.front()));
        mailbox_->posted.pop_front();
      }
    }
    if (!ready_.empty()) continue;

    // Fire what is due; otherwise wait for the earliest deadline or an event.
    int64_t now = Now();
    std::optional<int64_t> next;
    for (const auto& [timer_id, fire_at] : timers_) {
      if (fire_at <= now) {
        ready_.push_back(asl::Event::TimerFired(timer_id));
      } else {
        next = next ? std::min(*next, fire_at) : fire_at;
      }
    }
    for (const auto& [task_id, flight] : in_flight_) {
      if (flight.heartbeat_at > 0 && flight.heartbeat_at <= now) {
        ready_.push_back(asl::Event::HeartbeatTimedOut(task_id));
      } else if (flight.timeout_at <= now) {
        ready_.push_back(asl::Event::TaskTimedOut(task_id));
      } else {
        int64_t due = flight.heartbeat_at > 0 ? std::min(flight.heartbeat_at, flight.timeout_at)
                                              : flight.timeout_at;
        next = next ? std::min(*next, due) : due;
      }
    }
    if (!ready_.empty()) {
      // Fired timers leave the table now; the core ignores duplicates anyway.
      for (const auto& event : ready_) {
        if (event.kind == asl::Event::Kind::kTimerFired) timers_.erase(event.timer_id);
      }
      continue;
    }
    if (!next) {
      bool pending;
      {
        std::lock_guard<std::mutex> lock(mailbox_->mu);
        pending = mailbox_->async_pending > 0 || !mailbox_->posted.empty();
      }
      if (!pending && in_flight_.empty()) {
        // Nothing can ever happen again: a bug in the core or a lost task. End it visibly.
        result.status = asl::ExecutionStatus::kFailed;
        result.error = std::string(asl::kStatesRuntime);
        result.cause = "the execution is stuck: no timer, task or event can make progress";
        break;
      }
    }
    WaitForEvents(next);
  }
  return result;
}

}  // namespace switchyard::orchestrator
