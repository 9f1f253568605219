#include "switchyard/orchestrator/memory_driver.hpp"

#include <algorithm>
#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>
#include <chrono>
#include <functional>
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

// Open addressing: a Map of 100,000 tasks in flight finds and erases each without walking a
// bucket's linked nodes (std::unordered_map's erase looks for the node before).
struct MemoryDriver::Tables {
  boost::unordered_flat_map<std::string, InFlight> in_flight;
  boost::unordered_flat_map<std::string, std::string> tokens;
  boost::unordered_flat_set<std::string> cancelled_timers;
};

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

void MemoryDriver::EventRing::push_back(asl::Event event) {
  if (size_ == slots_.size()) {
    std::vector<asl::Event> grown(std::max<std::size_t>(16, 2 * slots_.size()));
    for (std::size_t i = 0; i < size_; ++i) {
      grown[i] = std::move(slots_[(head_ + i) & (slots_.size() - 1)]);
    }
    slots_ = std::move(grown);
    head_ = 0;
  }
  slots_[(head_ + size_) & (slots_.size() - 1)] = std::move(event);
  ++size_;
}

asl::Event MemoryDriver::EventRing::pop_front() {
  asl::Event event = std::move(slots_[head_]);
  head_ = (head_ + 1) & (slots_.size() - 1);
  --size_;
  return event;
}

void TaskBackend::Cancel(const std::string& /*task_id*/) {}

std::optional<TaskOutcome> NoFunctionBackend::Start(const TaskRequest& request,
                                                    TaskCompleter /*complete*/) {
  return TaskOutcome::Failure(std::string(asl::kStatesTaskFailed),
                              "no function backend configured for " + request.resource);
}

MemoryDriver::MemoryDriver(const asl::StateMachineDef& definition, TaskBackend& backend,
                           MemoryDriverOptions options)
    : definition_(definition),
      backend_(backend),
      options_(std::move(options)),
      tables_(std::make_unique<Tables>()) {
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
    std::string task_id = event.task_id;
    if (task_id.empty() && !event.token.empty()) {
      auto token = tables_->tokens.find(event.token);
      if (token != tables_->tokens.end()) task_id = token->second;
    }
    auto it = tables_->in_flight.find(task_id);
    if (it != tables_->in_flight.end() && it->second.heartbeat_seconds > 0) {
      it->second.heartbeat_at = AddSeconds(Now(), it->second.heartbeat_seconds);
      ScheduleDeadline(it->first, it->second);
    }
  }
  asl::Step step = asl::Apply(definition_, state_, event, Now());
  if (options_.keep_history) {
    // Taken over whole, or event by event, freeing the step's blocks as they empty: the
    // history is never held twice.
    if (result.history.empty()) {
      result.history = std::move(step.history);
    } else {
      for (; !step.history.empty(); step.history.pop_front()) {
        result.history.push_back(std::move(step.history.front()));
      }
    }
  }
  // A task completes in the core only through its task id or its token; forget its deadlines.
  if (event.kind == asl::Event::Kind::kTaskSucceeded ||
      event.kind == asl::Event::Kind::kTaskFailed ||
      event.kind == asl::Event::Kind::kTaskTimedOut ||
      event.kind == asl::Event::Kind::kHeartbeatTimedOut) {
    bool still_waiting = false;
    std::string completed = event.task_id;
    if (completed.empty()) {
      auto token = tables_->tokens.find(event.token);
      if (!event.token.empty() && token != tables_->tokens.end()) completed = token->second;
    } else if (event.kind == asl::Event::Kind::kTaskSucceeded) {
      // A `.waitForTaskToken` invocation that returned still waits for its callback.
      auto it = tables_->in_flight.find(completed);
      still_waiting = it != tables_->in_flight.end() && !it->second.token.empty();
    }
    if (!still_waiting) ForgetTask(completed);
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
      // One lookup: the core never reuses a task id, but an entry by that id would be replaced.
      auto [entry, inserted] = tables_->in_flight.try_emplace(command.task_id);
      if (!inserted) {
        ForgetTask(command.task_id);
        entry = tables_->in_flight.try_emplace(command.task_id).first;
      }
      entry->second = std::move(flight);
      if (!entry->second.token.empty()) tables_->tokens[entry->second.token] = command.task_id;
      ScheduleDeadline(entry->first, entry->second);
      TaskRequest request;
      request.task_id = command.task_id;
      request.resource = std::move(command.resource);  // the command is spent after this
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
      std::optional<TaskOutcome> outcome = backend_.Start(request, std::move(completer));
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
      ForgetTask(command.task_id);
      backend_.Cancel(command.task_id);
      return;
    case asl::Command::Kind::kStartTimer:
      PushDue(Due{command.fire_at, next_sequence_++, true, std::move(command.timer_id)});
      return;
    case asl::Command::Kind::kCancelTimer:
      // Dropped when it reaches the front of the queue (the core never reuses a timer id).
      // Cheaper than an index from id to entry, which every timer would pay for.
      tables_->cancelled_timers.insert(command.timer_id);
      if (tables_->cancelled_timers.size() > 4096) CompactDue();
      return;
    case asl::Command::Kind::kFinish:
      finished_ = true;
      result.status = command.status;
      result.output = std::move(command.output);
      result.error = std::move(command.error);
      result.cause = std::move(command.cause);
      for (const auto& [task_id, flight] : tables_->in_flight) backend_.Cancel(task_id);
      tables_->in_flight.clear();
      tables_->tokens.clear();
      tables_->cancelled_timers.clear();
      due_sorted_.clear();
      due_heap_.clear();
      due_stale_ = 0;
      return;
  }
}

MemoryDriver::Due* MemoryDriver::NextDue() {
  if (due_heap_.empty()) return due_sorted_.empty() ? nullptr : &due_sorted_.front();
  if (due_sorted_.empty() || due_heap_.front() < due_sorted_.front()) return &due_heap_.front();
  return &due_sorted_.front();
}

void MemoryDriver::PopDue() {
  if (!due_heap_.empty() && (due_sorted_.empty() || due_heap_.front() < due_sorted_.front())) {
    std::pop_heap(due_heap_.begin(), due_heap_.end(), std::greater<Due>());
    due_heap_.pop_back();
  } else {
    due_sorted_.pop_front();
  }
}

void MemoryDriver::PushDue(Due due) {
  if (due_sorted_.empty() || !(due < due_sorted_.back())) {
    due_sorted_.push_back(std::move(due));
  } else {
    due_heap_.push_back(std::move(due));
    std::push_heap(due_heap_.begin(), due_heap_.end(), std::greater<Due>());
  }
}

void MemoryDriver::CompactDue() {
  auto dropped = [this](const Due& due) {
    if (due.timer) return tables_->cancelled_timers.erase(due.id) > 0;
    auto flight = tables_->in_flight.find(due.id);
    return flight == tables_->in_flight.end() || flight->second.deadline != due.sequence;
  };
  due_sorted_.erase(std::remove_if(due_sorted_.begin(), due_sorted_.end(), dropped),
                    due_sorted_.end());
  due_heap_.erase(std::remove_if(due_heap_.begin(), due_heap_.end(), dropped), due_heap_.end());
  std::make_heap(due_heap_.begin(), due_heap_.end(), std::greater<Due>());
  due_stale_ = 0;
  tables_->cancelled_timers.clear();  // every one was still queued, so it has just been dropped
}

void MemoryDriver::ScheduleDeadline(const std::string& task_id, InFlight& flight) {
  if (flight.deadline != 0) ++due_stale_;
  int64_t due = flight.heartbeat_at > 0 ? std::min(flight.heartbeat_at, flight.timeout_at)
                                        : flight.timeout_at;
  flight.deadline = next_sequence_++;
  PushDue(Due{due, flight.deadline, false, task_id});
}

void MemoryDriver::ForgetTask(const std::string& task_id) {
  auto it = tables_->in_flight.find(task_id);
  if (it == tables_->in_flight.end()) return;
  if (it->second.deadline != 0) ++due_stale_;
  if (!it->second.token.empty()) {
    auto token = tables_->tokens.find(it->second.token);
    if (token != tables_->tokens.end() && token->second == task_id) tables_->tokens.erase(token);
  }
  tables_->in_flight.erase(it);
  // A finished task's deadline (by default a few years away) would otherwise stay queued for
  // the rest of the execution: drop them once they are most of the queue (amortised O(1)).
  if (due_stale_ > 4096 && due_stale_ > (due_sorted_.size() + due_heap_.size()) / 2) CompactDue();
}

std::optional<int64_t> MemoryDriver::FireDue(int64_t now) {
  while (Due* next = NextDue()) {
    if (next->timer) {
      if (!tables_->cancelled_timers.empty() && tables_->cancelled_timers.erase(next->id) > 0) {
        PopDue();
        continue;
      }
    } else {
      auto flight = tables_->in_flight.find(next->id);
      if (flight == tables_->in_flight.end() || flight->second.deadline != next->sequence) {
        if (due_stale_ > 0) --due_stale_;
        PopDue();
        continue;
      }
    }
    if (next->at > now) return next->at;
    Due due = std::move(*next);
    PopDue();
    if (due.timer) {
      ready_.push_back(asl::Event::TimerFired(std::move(due.id)));
      continue;
    }
    // The task stays in flight (its deadline spent) until the core has taken the event.
    auto flight = tables_->in_flight.find(due.id);
    flight->second.deadline = 0;
    if (flight->second.heartbeat_at > 0 && flight->second.heartbeat_at <= now) {
      ready_.push_back(asl::Event::HeartbeatTimedOut(due.id));
    } else {
      ready_.push_back(asl::Event::TaskTimedOut(due.id));
    }
  }
  return std::nullopt;
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
  if (options_.context) started.context = asl::CopyJson(*options_.context);
  ApplyEvent(started, result);
  while (!finished_) {
    if (!ready_.empty()) {
      asl::Event event = ready_.pop_front();
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

    // Fire what is due, in (due, sequence) order; otherwise wait for the earliest deadline or
    // an event.
    std::optional<int64_t> next = FireDue(Now());
    if (!ready_.empty()) continue;
    if (!next) {
      bool pending;
      {
        std::lock_guard<std::mutex> lock(mailbox_->mu);
        pending = mailbox_->async_pending > 0 || !mailbox_->posted.empty();
      }
      if (!pending && tables_->in_flight.empty()) {
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
