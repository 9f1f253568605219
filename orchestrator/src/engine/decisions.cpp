// Decisions: one transaction applies a batch of events (of many executions) through the core and
// writes everything they cause — snapshots, history, work items, tokens — before anyone is told.
#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <random>
#include <set>
#include <tuple>
#include <utility>

#include "engine/engine_impl.hpp"
#include "store/activity_store.hpp"
#include "store/version_store.hpp"
#include "switchyard/asl/names.hpp"

namespace switchyard::orchestrator {

namespace asl = switchyard::asl;

namespace {

constexpr int64_t kNanosPerSecond = 1000000000;
constexpr int64_t kTimerClaimLimit = 256;
// AWS: an execution can be redriven within 14 days of its end, at most 1,000 times.
constexpr int64_t kRedrivablePeriodNanos = 14LL * 24 * 3600 * kNanosPerSecond;
constexpr int64_t kMaxRedriveCount = 1000;
constexpr int64_t kMaxOpenNanos = 365LL * 24 * 3600 * kNanosPerSecond;

// Whether any Task of the definition (or of its branches and item processors) runs an
// activity: only those executions need their waiting activity tasks cleaned up. An explicit
// stack: nesting depth comes from the user.
bool UsesActivities(const asl::StateMachineDef& definition) {
  std::vector<const asl::StateMachineDef*> stack{&definition};
  while (!stack.empty()) {
    const asl::StateMachineDef* def = stack.back();
    stack.pop_back();
    for (const auto& state : def->states) {
      if (asl::IsActivityResource(state.resource)) return true;
      for (const auto& branch : state.branches) stack.push_back(&branch);
      if (state.item_processor) stack.push_back(state.item_processor.get());
    }
  }
  return false;
}

using WorkKey = std::tuple<int64_t, std::string, std::string>;

bool CompletesTask(asl::Event::Kind kind) {
  return kind == asl::Event::Kind::kTaskSucceeded || kind == asl::Event::Kind::kTaskFailed ||
         kind == asl::Event::Kind::kTaskTimedOut || kind == asl::Event::Kind::kHeartbeatTimedOut;
}

// The transaction may run again after a transient failure: events are copied out of the
// requests, never moved.
asl::Event CopyEvent(const asl::Event& event) {
  asl::Event copy;
  copy.kind = event.kind;
  copy.input = asl::CopyJson(event.input);
  copy.execution_name = event.execution_name;
  copy.execution_arn = event.execution_arn;
  copy.state_machine_name = event.state_machine_name;
  copy.state_machine_arn = event.state_machine_arn;
  copy.role_arn = event.role_arn;
  copy.seed = event.seed;
  copy.task_id = event.task_id;
  copy.token = event.token;
  copy.output = asl::CopyJson(event.output);
  copy.error = event.error;
  copy.cause = event.cause;
  copy.timer_id = event.timer_id;
  copy.worker_name = event.worker_name;
  return copy;
}

uint64_t RandomSeed() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return random();
}

// The work a batch writes, merged so that an item enqueued and cancelled within the batch is
// never written.
struct WorkChanges {
  std::map<WorkKey, store::WorkItem> enqueue;
  std::set<WorkKey> remove;
  std::map<std::string, store::TaskTokenRow> tokens;              // to insert
  std::set<std::pair<int64_t, std::string>> removed_token_tasks;  // (execution, task id)
  // Activity tasks waiting for a worker: to insert, and to delete (execution, task id).
  std::map<std::pair<int64_t, std::string>, store::ActivityTaskRow> activity_tasks;
  std::set<std::pair<int64_t, std::string>> removed_activity_tasks;

  void Enqueue(store::WorkItem item) {
    WorkKey key{item.execution_id, item.kind, item.key};
    enqueue[key] = std::move(item);
  }
  void Remove(int64_t execution_id, const std::string& kind, const std::string& key) {
    WorkKey work_key{execution_id, kind, key};
    if (enqueue.erase(work_key) == 0) remove.insert(std::move(work_key));
  }
  void RemoveTask(int64_t execution_id, const std::string& task_id) {
    Remove(execution_id, store::kWorkTask, task_id);
    Remove(execution_id, store::kWorkTaskTimeout, task_id);
    Remove(execution_id, store::kWorkHeartbeatTimeout, task_id);
    bool pending = false;
    for (auto it = tokens.begin(); it != tokens.end();) {
      if (it->second.execution_id == execution_id && it->second.task_id == task_id) {
        it = tokens.erase(it);
        pending = true;
      } else {
        ++it;
      }
    }
    if (!pending) removed_token_tasks.emplace(execution_id, task_id);
  }
  // A task whose outcome came through the fence: the fence deleted its task item, and of its
  // deadline items only those it had exist (a plain task has no token). Nothing is deleted that
  // was never written.
  void RemoveFencedTask(int64_t execution_id, const std::string& task_id, bool timeout_item,
                        bool heartbeat_item) {
    enqueue.erase({execution_id, store::kWorkTask, task_id});
    if (timeout_item) {
      Remove(execution_id, store::kWorkTaskTimeout, task_id);
    } else {
      enqueue.erase({execution_id, store::kWorkTaskTimeout, task_id});
    }
    if (heartbeat_item) {
      Remove(execution_id, store::kWorkHeartbeatTimeout, task_id);
    } else {
      enqueue.erase({execution_id, store::kWorkHeartbeatTimeout, task_id});
    }
  }
  void RemoveActivityTask(int64_t execution_id, const std::string& task_id) {
    if (activity_tasks.erase({execution_id, task_id}) == 0) {
      removed_activity_tasks.emplace(execution_id, task_id);
    }
  }
};

// An event waiting for its execution's lock.
struct PendingEvent {
  int64_t execution_id = 0;
  asl::Event event;
  std::optional<std::size_t> request;  // the request to answer
  bool callback_invocation = false;
  // The outcome of a task leased by this node, accepted by the fence; which deadline items the
  // task has (DecisionRequest).
  bool fenced = false;
  // The outcome of an inline task of this node (its lease in execution_states): applied only if
  // the execution's row still names it with this generation.
  bool inline_task = false;
  int64_t inline_generation = 0;
  bool task_timeout_item = true;
  bool task_heartbeat_item = true;
  bool redrive = false;  // kRedriven (RedriveExecution with `client_token`)
  std::string client_token;
  std::string task_id;  // a callback's task (found through its token)
};

// An execution being decided in this transaction.
struct Working {
  const store::LockedExecution* row = nullptr;
  std::shared_ptr<const asl::StateMachineDef> definition;
  asl::ExecutionState state;
  bool changed = false;
  bool finished = false;
  bool uses_activities = false;
  // This batch ends the execution's inline task (its outcome applied, or the task removed).
  bool inline_done = false;
  store::ExecutionUpdate update;
};

// The outcome of a task leased by this node (request `i`), to apply once its lease is checked.
PendingEvent FencedOutcome(const DecisionRequest& request, std::size_t i) {
  PendingEvent pending;
  pending.execution_id = request.execution_id;
  pending.event = CopyEvent(request.event);
  pending.callback_invocation = request.callback_invocation;
  pending.fenced = true;
  pending.task_timeout_item = request.task_timeout_item;
  pending.task_heartbeat_item = request.task_heartbeat_item;
  pending.request = i;
  return pending;
}

// The event a due timer item fires.
PendingEvent TimerEvent(const store::WorkItem& timer) {
  PendingEvent pending;
  pending.execution_id = timer.execution_id;
  if (timer.kind == store::kWorkTimer) {
    pending.event = asl::Event::TimerFired(timer.key);
  } else if (timer.kind == store::kWorkTaskTimeout) {
    pending.event = asl::Event::TaskTimedOut(timer.key);
  } else {
    pending.event = asl::Event::HeartbeatTimedOut(timer.key);
  }
  return pending;
}

store::HistoryRow ToHistoryRow(int64_t execution_id, const asl::HistoryEvent& event) {
  store::HistoryRow row;
  row.execution_id = execution_id;
  row.event_id = event.id;
  row.previous_event_id = event.previous_event_id;
  row.timestamp = event.timestamp;
  row.type = std::string(event.type);
  if (!event.details_key.empty()) {
    row.details_key = std::string(event.details_key);
    row.details = event.DetailsText();
  }
  return row;
}

// The end of an execution, as its row records it.
void SetFinish(store::ExecutionUpdate& update, const asl::Command& command) {
  update.finished = true;
  if (command.status == asl::ExecutionStatus::kSucceeded) {
    update.output = asl::DumpJson(command.output);
  }
  update.error = command.error;
  update.cause = command.cause;
}

std::string TaskPayload(const asl::Command& command, const std::string& execution_arn) {
  asl::Json payload = asl::JsonObject();
  asl::JsonSet(payload, "resource", asl::JsonString(command.resource));
  asl::JsonSet(payload, "payload", asl::CopyJson(command.payload));
  asl::JsonSet(payload, "timeout", asl::JsonInt(command.timeout_seconds));
  asl::JsonSet(payload, "heartbeat", asl::JsonInt(command.heartbeat_seconds));
  if (!command.token.empty()) asl::JsonSet(payload, "token", asl::JsonString(command.token));
  asl::JsonSet(payload, "execution", asl::JsonString(execution_arn));
  return asl::DumpJson(payload);
}

// Room among this node's tasks in flight (max_tasks_in_flight) that a decision batch holds for
// the task items it leases to itself, from its write until they are in flight (or the
// transaction failed). None while the engine stops, holds tasks or runs no workers.
// The batch's own task outcomes count as room: their tasks leave in_flight_ once the batch
// committed, so a node whose every slot is busy still leases each execution's next task to
// itself (inline) instead of queueing it for a claim.
class TaskReservation {
 public:
  TaskReservation(Engine::Impl& impl, const std::vector<DecisionRequest>& batch) : impl_(impl) {
    std::lock_guard<std::mutex> lock(impl_.tasks_mu_);
    for (const auto& request : batch) {
      if (request.work_id != 0 && impl_.in_flight_.contains(request.work_id)) {
        ending_ids_.push_back(request.work_id);
      }
    }
    ending_ = static_cast<int64_t>(ending_ids_.size());
  }
  TaskReservation(const TaskReservation&) = delete;
  TaskReservation& operator=(const TaskReservation&) = delete;
  ~TaskReservation() { Release(); }

  // Reserves up to `wanted` more; returns how many it got. The batch's own outcomes are its
  // credit: what it reserves within them is not counted in reserved_tasks_ (their slots are
  // still in in_flight_ until the batch commits; counting both would make another batch or the
  // claimer see the same slots taken twice).
  int64_t Take(int64_t wanted) {
    if (wanted <= 0 || !impl_.options_.run_workers) return 0;
    std::lock_guard<std::mutex> lock(impl_.tasks_mu_);
    if (impl_.stopping_ || impl_.tasks_held_) return 0;
    const int64_t credit = std::max<int64_t>(ending_ - held_, 0);
    const int64_t room =
        std::max<int64_t>(impl_.options_.max_tasks_in_flight -
                              static_cast<int64_t>(impl_.in_flight_.size()) - impl_.reserved_tasks_,
                          0);
    const int64_t got = std::min(wanted, credit + room);
    const int64_t before = Counted();
    held_ += got;
    impl_.reserved_tasks_ += Counted() - before;
    return got;
  }
  // Marks as many of `work`'s new task items as this node has room for to be leased to it by
  // the statement that inserts them. Returns whether some are left for a claim.
  bool LeaseNewTasks(std::vector<store::WorkItem>& work) {
    int64_t new_tasks = 0;
    for (const auto& item : work) new_tasks += item.kind == store::kWorkTask ? 1 : 0;
    const int64_t leased = std::min(new_tasks, Take(new_tasks));
    int64_t leasing = leased;
    for (auto& item : work) {
      if (leasing == 0) break;
      if (item.kind != store::kWorkTask) continue;
      item.lease = true;
      --leasing;
    }
    return new_tasks > leased;
  }
  void Release() {
    if (held_ == 0) return;
    std::lock_guard<std::mutex> lock(impl_.tasks_mu_);
    impl_.reserved_tasks_ -= Counted();
    held_ = 0;
  }
  // Committed: the leased items become tasks in flight (their reservation turns into them),
  // started by the claimer thread (not here: the decision thread goes on to its next batch).
  // While the engine stops they are not started: Shutdown gives their leases back with the
  // others in flight.
  // `leased_at`: before the transaction that leased them began. The batch's own outcomes leave
  // in_flight_ at the same moment (the decision loop forgets them again after the batch, a
  // no-op then): in between, another batch would count them and the new tasks both.
  void Commit(std::vector<store::WorkItem>& items,
              std::chrono::steady_clock::time_point leased_at) {
    {
      std::lock_guard<std::mutex> lock(impl_.tasks_mu_);
      impl_.reserved_tasks_ -= Counted();
      held_ = 0;
      for (int64_t work_id : ending_ids_) impl_.in_flight_.erase(work_id);
      ending_ids_.clear();
      ending_ = 0;
      if (items.empty()) return;
      const auto now = std::chrono::steady_clock::now();
      for (auto& item : items) {
        auto at = leased_at;
        if (item.inline_task) {
          // An inline lease may be older than the batch (kept from the execution's last task).
          item.work_id = --impl_.last_inline_id_;
          at =
              std::min(at, now - impl_.options_.lease +
                               std::chrono::milliseconds(std::max<int64_t>(item.lease_left_ms, 0)));
        }
        impl_.in_flight_[item.work_id] = InFlightTask{
            item.work_id, item.generation, item.execution_id, false, at, item.inline_task};
        if (!impl_.stopping_) impl_.ready_tasks_.push_back(std::move(item));
      }
    }
    impl_.tasks_cv_.notify_all();
  }

 private:
  Engine::Impl& impl_;
  // What of held_ counts in reserved_tasks_: the part beyond the batch's own outcomes.
  int64_t Counted() const { return std::max<int64_t>(held_ - ending_, 0); }

  std::vector<int64_t> ending_ids_;  // the batch's task outcomes (of tasks in in_flight_)
  int64_t ending_ = 0;
  int64_t held_ = 0;
};

}  // namespace

void Engine::Impl::RunBatch(std::vector<DecisionRequest>& batch, bool claim_timers) {
  std::vector<DecisionReply> replies;
  bool enqueued_tasks = false;
  bool scheduled_activities = false;
  std::optional<int64_t> next_timer;  // ns
  bool more_timers = false;
  // States to cache once the transaction committed (execution id, state).
  std::vector<std::pair<int64_t, CachedState>> to_cache;
  // For the observer, told after the commit.
  struct Observed {
    std::string machine;
    std::string execution_arn;
    bool started = false;
    int64_t transitions = 0;
    std::string finished_status;
    std::string error;
  };
  std::map<int64_t, Observed> observed;
  int64_t decisions = 0;
  const auto batch_start = std::chrono::steady_clock::now();
  auto observe = [&](int64_t execution_id, const std::string& machine,
                     const std::string& execution_arn, const asl::Step& step) -> Observed* {
    ++decisions;
    if (options_.observer == nullptr) return nullptr;
    Observed& seen = observed[execution_id];
    seen.machine = machine;
    seen.execution_arn = execution_arn;
    for (const auto& event : step.history) {
      if (event.type.ends_with("StateEntered")) ++seen.transitions;
    }
    return &seen;
  };

  // Room reserved among this node's tasks in flight for the task items the batch leases to
  // itself (given back by each attempt and at the end).
  TaskReservation reservation(*this, batch);
  std::vector<store::WorkItem> self_leased;

  // A batch of only starts (on a machine ARN; no timers to claim) writes everything in one
  // statement outside an explicit transaction: the statement is its own transaction (no BEGIN,
  // no COMMIT round trip), all or nothing, committed before its result returns. Its start time
  // stays the same across attempts, so an attempt after a lost answer recognises its own rows.
  // A start whose first decision needs more than executions, history and work items (a task
  // token, an activity task) sends the batch down the transaction path.
  bool autocommit =
      !claim_timers && !batch.empty() && std::all_of(batch.begin(), batch.end(), [](const auto& r) {
        return r.kind == DecisionRequest::Kind::kStart && r.version_arn.empty();
      });
  struct NeedsTransaction {};
  const int64_t autocommit_now = Now();
  int autocommit_attempt = 0;

  auto body = [&](pqxx::transaction_base& tx) {
    reservation.Release();
    self_leased.clear();
    to_cache.clear();
    observed.clear();
    decisions = 0;
    replies.assign(batch.size(), DecisionReply{});
    enqueued_tasks = false;
    scheduled_activities = false;
    next_timer.reset();
    more_timers = false;
    const int64_t now = autocommit ? autocommit_now : Now();
    // (A batch of starts alone keeps the generic plan of its one statement: planning it for
    // every batch would cost a start more than the plan can.)
    if (!autocommit) store::UseCustomPlans(tx);

    std::vector<PendingEvent> events;
    std::map<std::string, std::optional<store::StateMachineRow>> machines;  // this batch's
    std::vector<store::ExecutionRow> new_executions;
    std::vector<std::size_t> new_requests;
    std::vector<int64_t> fence_ids, fence_generations;
    std::vector<std::size_t> fenced_requests;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      DecisionRequest& request = batch[i];
      DecisionReply& reply = replies[i];
      switch (request.kind) {
        case DecisionRequest::Kind::kStart: {
          auto cached = machines.find(request.state_machine_name);
          if (cached == machines.end()) {
            cached = machines
                         .emplace(request.state_machine_name,
                                  MachineForStart(tx, request.state_machine_name))
                         .first;
          }
          const std::optional<store::StateMachineRow>& machine = cached->second;
          if (!machine) {
            reply.error = {std::string(kStateMachineDoesNotExist),
                           "State Machine Does Not Exist: '" +
                               StateMachineArn(request.state_machine_name) + "'"};
            break;
          }
          if (machine->type == "EXPRESS") {
            reply.error = {"__express__", machine->definition};
            break;
          }
          store::ExecutionRow row;
          row.execution_arn = ExecutionArn(machine->name, request.execution_name, false);
          row.state_machine_name = machine->name;
          row.state_machine_arn = machine->arn;
          row.revision_id =
              request.revision_id.empty() ? machine->revision_id : request.revision_id;
          row.name = request.execution_name;
          row.input = request.input_text;
          row.start_date = now;
          reply.execution_arn = row.execution_arn;
          new_executions.push_back(std::move(row));
          new_requests.push_back(i);
          break;
        }
        case DecisionRequest::Kind::kCallback:
        case DecisionRequest::Kind::kHeartbeat: {
          std::optional<store::TaskTokenRow> token = store::FindTaskToken(tx, request.token);
          if (!token) {
            reply.error = {std::string(kTaskDoesNotExist), "Task Does Not Exist"};
            break;
          }
          if (request.kind == DecisionRequest::Kind::kHeartbeat) {
            if (token->heartbeat_seconds > 0) {
              (void)store::RescheduleWork(tx, token->execution_id, store::kWorkHeartbeatTimeout,
                                          token->task_id,
                                          now + token->heartbeat_seconds * kNanosPerSecond);
            }
            break;
          }
          PendingEvent pending;
          pending.execution_id = token->execution_id;
          pending.event = CopyEvent(request.event);
          pending.task_id = token->task_id;
          pending.request = i;
          events.push_back(std::move(pending));
          break;
        }
        case DecisionRequest::Kind::kStop: {
          std::optional<store::ExecutionRow> execution =
              store::FindExecution(tx, request.execution_arn);
          if (!execution) {
            reply.error = {std::string(kExecutionDoesNotExist),
                           "Execution Does Not Exist: '" + request.execution_arn + "'"};
            break;
          }
          reply.execution_arn = execution->execution_arn;
          if (execution->status != "RUNNING") {
            reply.date = execution->stop_date.value_or(now);
            break;
          }
          reply.date = now;
          PendingEvent pending;
          pending.execution_id = execution->execution_id;
          pending.event = asl::Event::StopRequested(request.event.error, request.event.cause);
          pending.request = i;
          events.push_back(std::move(pending));
          break;
        }
        case DecisionRequest::Kind::kActivityTake: {
          std::optional<store::ActivityTaskRow> task =
              store::TakeActivityTask(tx, request.activity_arn);
          if (!task) break;
          reply.token = task->token;
          reply.input = task->input;
          // The heartbeat clock starts when a worker takes the task.
          if (task->heartbeat_seconds > 0) {
            store::WorkItem heartbeat;
            heartbeat.execution_id = task->execution_id;
            heartbeat.kind = store::kWorkHeartbeatTimeout;
            heartbeat.key = task->task_id;
            heartbeat.due_at = now + task->heartbeat_seconds * kNanosPerSecond;
            next_timer = std::min(next_timer.value_or(heartbeat.due_at), heartbeat.due_at);
            store::EnqueueWork(tx, {heartbeat});
          }
          PendingEvent pending;
          pending.execution_id = task->execution_id;
          pending.event = asl::Event::ActivityStarted(task->task_id, request.worker_name);
          events.push_back(std::move(pending));
          break;
        }
        case DecisionRequest::Kind::kRedrive: {
          std::optional<store::ExecutionRow> execution =
              store::FindExecution(tx, request.execution_arn);
          if (!execution) {
            reply.error = {std::string(kExecutionDoesNotExist),
                           "Execution Does Not Exist: '" + request.execution_arn + "'"};
            break;
          }
          reply.execution_arn = execution->execution_arn;
          std::optional<store::RedriveRow> redrive =
              store::GetRedriveRow(tx, request.execution_arn);
          if (!request.client_token.empty() && redrive && redrive->client_token &&
              *redrive->client_token == request.client_token && redrive->redrive_date) {
            reply.date = *redrive->redrive_date;  // the same redrive again
            break;
          }
          std::string refusal;
          if (execution->status == "RUNNING" || execution->status == "SUCCEEDED") {
            refusal = "Execution is " + execution->status + " and cannot be redriven.";
          } else if (execution->stop_date && *execution->stop_date < now - kRedrivablePeriodNanos) {
            refusal = "Execution redrivable period exceeded.";
          } else if (execution->history_count >= asl::kMaxHistoryEvents - 1) {
            refusal = "Execution history event limit exceeded.";
          } else if (execution->start_date < now - kMaxOpenNanos) {
            refusal = "Execution has exceeded the max execution time.";
          } else if (execution->redrive_count >= kMaxRedriveCount) {
            refusal = "Execution has been redriven the maximum number of times (1000).";
          }
          if (!refusal.empty()) {
            reply.error = {std::string(kExecutionNotRedrivable), refusal};
            break;
          }
          PendingEvent pending;
          pending.execution_id = execution->execution_id;
          pending.event = asl::Event::Redriven(asl::JsonNull());
          pending.request = i;
          pending.redrive = true;
          pending.client_token = request.client_token;
          events.push_back(std::move(pending));
          break;
        }
        case DecisionRequest::Kind::kTimer:
          if (std::optional<store::WorkItem> timer = store::ClaimTimer(tx, request.work_id)) {
            events.push_back(TimerEvent(*timer));
            store::DeleteWorkIds(tx, {timer->work_id});
          }
          break;
        case DecisionRequest::Kind::kEvent:
          if (request.work_id > 0) {
            fence_ids.push_back(request.work_id);
            fence_generations.push_back(request.generation);
            fenced_requests.push_back(i);
          } else if (request.work_id < 0) {
            // An inline task's outcome: fenced against the execution's row once it is locked.
            PendingEvent pending = FencedOutcome(request, i);
            pending.inline_task = true;
            pending.inline_generation = request.generation;
            events.push_back(std::move(pending));
          } else {
            PendingEvent pending;
            pending.execution_id = request.execution_id;
            pending.event = CopyEvent(request.event);
            pending.request = i;
            events.push_back(std::move(pending));
          }
          break;
      }
    }

    WorkChanges changes;
    std::vector<std::pair<int64_t, std::string>> redriven;  // (execution, client token)
    std::vector<store::HistoryRow> history;
    std::set<int64_t> finished;  // executions that ended in this batch
    bool started_any = false;    // new executions were inserted
    // What one step of the core causes besides the new state: history events and work.
    auto absorb = [&](int64_t execution_id, const std::string& execution_arn, asl::Step& step,
                      asl::Event::Kind kind, const std::string& task_id,
                      const PendingEvent* pending, bool success, bool uses_activities) {
      const bool callback_invocation = pending != nullptr && pending->callback_invocation;
      for (const auto& event : step.history) history.push_back(ToHistoryRow(execution_id, event));
      // A task ends in the core through its id or its token; its deadlines and token go.
      // A .waitForTaskToken invocation that merely returned keeps waiting for its callback.
      if (CompletesTask(kind) && !task_id.empty() && !(callback_invocation && success)) {
        if (pending != nullptr && pending->fenced && !callback_invocation) {
          changes.RemoveFencedTask(execution_id, task_id, pending->task_timeout_item,
                                   pending->task_heartbeat_item);
        } else {
          changes.RemoveTask(execution_id, task_id);
        }
        if (uses_activities) changes.RemoveActivityTask(execution_id, task_id);
      }
      for (auto& command : step.commands) {
        switch (command.kind) {
          case asl::Command::Kind::kInvokeTask: {
            if (asl::IsActivityResource(command.resource)) {
              // Waits for GetActivityTask; then for its token, like a callback task.
              store::ActivityTaskRow row;
              row.activity_arn = command.resource;
              row.execution_id = execution_id;
              row.task_id = command.task_id;
              row.token = command.token;
              row.input = asl::DumpJson(command.payload);
              row.heartbeat_seconds = command.heartbeat_seconds;
              changes.activity_tasks[{execution_id, command.task_id}] = std::move(row);
            } else {
              store::WorkItem item;
              item.execution_id = execution_id;
              item.kind = store::kWorkTask;
              item.key = command.task_id;
              item.payload = TaskPayload(command, execution_arn);
              item.due_at = now;
              changes.Enqueue(std::move(item));
              enqueued_tasks = true;
            }
            if (command.timeout_seconds > 0 && command.timeout_seconds < kNoDeadlineSeconds) {
              store::WorkItem timeout;
              timeout.execution_id = execution_id;
              timeout.kind = store::kWorkTaskTimeout;
              timeout.key = command.task_id;
              timeout.due_at = now + command.timeout_seconds * kNanosPerSecond;
              next_timer = std::min(next_timer.value_or(timeout.due_at), timeout.due_at);
              changes.Enqueue(std::move(timeout));
            }
            if (command.heartbeat_seconds > 0 && !asl::IsActivityResource(command.resource)) {
              store::WorkItem heartbeat;
              heartbeat.execution_id = execution_id;
              heartbeat.kind = store::kWorkHeartbeatTimeout;
              heartbeat.key = command.task_id;
              heartbeat.due_at = now + command.heartbeat_seconds * kNanosPerSecond;
              next_timer = std::min(next_timer.value_or(heartbeat.due_at), heartbeat.due_at);
              changes.Enqueue(std::move(heartbeat));
            }
            if (!command.token.empty()) {
              store::TaskTokenRow token;
              token.token = command.token;
              token.execution_id = execution_id;
              token.task_id = command.task_id;
              token.heartbeat_seconds = command.heartbeat_seconds;
              changes.tokens[command.token] = std::move(token);
            }
            break;
          }
          case asl::Command::Kind::kCancelTask:
            changes.RemoveTask(execution_id, command.task_id);
            if (uses_activities) changes.RemoveActivityTask(execution_id, command.task_id);
            break;
          case asl::Command::Kind::kStartTimer: {
            store::WorkItem timer;
            timer.execution_id = execution_id;
            timer.kind = store::kWorkTimer;
            timer.key = command.timer_id;
            timer.due_at = command.fire_at;
            next_timer = std::min(next_timer.value_or(timer.due_at), timer.due_at);
            changes.Enqueue(std::move(timer));
            break;
          }
          case asl::Command::Kind::kCancelTimer:
            changes.Remove(execution_id, store::kWorkTimer, command.timer_id);
            break;
          case asl::Command::Kind::kFinish:
            break;  // the caller records the end in the execution's row
        }
      }
    };

    // New executions: each Start is decided first, then the rows are inserted with their first
    // decision in one statement (no separate lock, read or update). A name taken is the same call
    // again (the same input of a running execution) or ExecutionAlreadyExists, as AWS answers;
    // its decision is dropped.
    if (!new_executions.empty()) {
      std::vector<store::ExecutionRow> rows;
      std::vector<std::size_t> row_requests;
      std::vector<store::ExecutionUpdate> decided;
      std::deque<asl::Step> steps;  // a deque: a Step is not nothrow-movable
      std::deque<asl::ExecutionState> states;
      std::vector<bool> uses_activities;
      std::vector<store::HistoryRow> new_history;
      for (std::size_t k = 0; k < new_executions.size(); ++k) {
        store::ExecutionRow& row = new_executions[k];
        DecisionRequest& request = batch[new_requests[k]];
        const store::StateMachineRow& machine = *machines[request.state_machine_name];
        std::shared_ptr<const asl::StateMachineDef> definition = Definition(tx, row.revision_id);
        if (!definition) {
          replies[new_requests[k]].error = {
              "InternalError", "state machine '" + machine.name + "': unreadable definition"};
          continue;
        }
        std::optional<asl::Json> input = asl::ParseJson(request.input_text);
        asl::Event started = asl::Event::Started(input ? std::move(*input) : asl::JsonObject(),
                                                 row.name, machine.name, RandomSeed());
        started.execution_arn = row.execution_arn;
        started.state_machine_arn = machine.arn;
        started.role_arn = machine.role_arn;
        started.execution_type = asl::ExecutionType::kStandard;  // 25,000 events, a year
        asl::ExecutionState& state = states.emplace_back();
        asl::Step step = asl::Apply(*definition, state, std::move(started), now);
        // Counted now: the history moves to `new_history` below (an id taken is forgotten).
        if (Observed* seen = observe(-static_cast<int64_t>(rows.size()) - 1, machine.name,
                                     row.execution_arn, step)) {
          seen->started = true;
        }
        store::ExecutionUpdate update;
        for (const auto& command : step.commands) {
          if (command.kind == asl::Command::Kind::kFinish) SetFinish(update, command);
        }
        update.status = std::string(asl::ExecutionStatusName(state.status()));
        // A SUCCEEDED execution keeps no snapshot: nothing decides it again (redrive refuses it).
        if (state.status() != asl::ExecutionStatus::kSucceeded) {
          update.snapshot = asl::DumpJson(state.ToJson());
        }
        update.history_count = state.history_size();
        decided.push_back(std::move(update));
        // The history goes with the rows (execution_id: the position in `rows`).
        for (const auto& event : step.history) {
          new_history.push_back(ToHistoryRow(static_cast<int64_t>(rows.size()), event));
        }
        step.history.clear();
        steps.push_back(std::move(step));
        uses_activities.push_back(UsesActivities(*definition));
        rows.push_back(std::move(row));
        row_requests.push_back(new_requests[k]);
      }
      std::vector<std::optional<int64_t>> ids;
      if (autocommit) {
        // The work the first decisions cause, keyed by position in `rows` (as the history is).
        for (std::size_t k = 0; k < rows.size(); ++k) {
          absorb(static_cast<int64_t>(k), rows[k].execution_arn, steps[k],
                 asl::Event::Kind::kStarted, "", nullptr, false, uses_activities[k]);
        }
        // (Removals name rows of executions that do not exist yet: nothing to delete.)
        if (!changes.tokens.empty() || !changes.activity_tasks.empty()) throw NeedsTransaction{};
        std::vector<store::WorkItem> work;
        for (auto& [key, item] : changes.enqueue) work.push_back(std::move(item));
        changes = WorkChanges{};
        enqueued_tasks = reservation.LeaseNewTasks(work);
        store::StartedExecutions written = store::InsertStartedExecutions(
            tx, rows, decided, new_history, work, node_id_, options_.lease.count());
        ids = std::move(written.ids);
        self_leased = std::move(written.leased);
      } else {
        ids = store::InsertDecidedExecutions(tx, rows, decided, new_history);
      }
      for (std::size_t k = 0; k < rows.size(); ++k) {
        const store::ExecutionRow& row = rows[k];
        DecisionReply& reply = replies[row_requests[k]];
        if (!ids[k]) {
          std::optional<store::ExecutionRow> existing =
              store::FindExecutionByName(tx, row.state_machine_name, row.name);
          if (existing && autocommit && autocommit_attempt > 0 &&
              existing->start_date / 1000 == now / 1000 && existing->input == row.input &&
              existing->revision_id == row.revision_id) {
            // Written by an earlier attempt of this batch whose answer was lost: this start.
            // (Task items it leased to this node are not run here: their lease expires and
            // they are claimed again, as after a crash.)
            reply.execution_arn = existing->execution_arn;
            reply.date = existing->start_date;
            continue;
          }
          if (existing && existing->status == "RUNNING" && existing->input == row.input) {
            reply.execution_arn = existing->execution_arn;
            reply.date = existing->start_date;
          } else {
            reply.error = {std::string(kExecutionAlreadyExists),
                           "Execution Already Exists: '" + row.execution_arn + "'"};
          }
          continue;
        }
        reply.date = now;
        started_any = true;
        if (auto seen = observed.extract(-static_cast<int64_t>(k) - 1)) {
          seen.key() = *ids[k];
          if (decided[k].finished) {
            seen.mapped().finished_status = decided[k].status;
            seen.mapped().error = decided[k].error.value_or("");
          }
          observed.insert(std::move(seen));
        }
        if (!autocommit) {
          absorb(*ids[k], row.execution_arn, steps[k], asl::Event::Kind::kStarted, "", nullptr,
                 false, uses_activities[k]);
        }
        if (decided[k].finished) {
          finished.insert(*ids[k]);
        } else {
          to_cache.emplace_back(*ids[k], CachedState{1, std::move(states[k])});
        }
      }
      if (autocommit) return;  // all written (the batch holds nothing else)
      // Executions started through a version or an alias remember it (DescribeExecution).
      std::vector<store::ExecutionTargetRow> targets;
      for (std::size_t k = 0; k < rows.size(); ++k) {
        const DecisionRequest& request = batch[row_requests[k]];
        if (!ids[k] || request.version_arn.empty()) continue;
        store::ExecutionTargetRow target;
        target.execution_id = *ids[k];
        target.version_arn = request.version_arn;
        if (!request.alias_arn.empty()) target.alias_arn = request.alias_arn;
        targets.push_back(std::move(target));
      }
      store::InsertExecutionTargets(tx, targets);
    }

    // The fence: only outcomes of leases this node still holds are applied.
    if (!fence_ids.empty()) {
      std::vector<int64_t> accepted = store::FenceWork(tx, node_id_, fence_ids, fence_generations);
      std::set<int64_t> accepted_set(accepted.begin(), accepted.end());
      for (std::size_t i : fenced_requests) {
        DecisionRequest& request = batch[i];
        if (accepted_set.count(request.work_id) == 0) {
          replies[i].error = {"__stale__", "lease lost"};
          continue;
        }
        events.push_back(FencedOutcome(request, i));
      }
    }

    // Due timers, locked until this transaction ends.
    if (claim_timers) {
      std::vector<store::WorkItem> timers = store::ClaimTimers(tx, kTimerClaimLimit);
      more_timers = static_cast<int64_t>(timers.size()) == kTimerClaimLimit;
      std::vector<int64_t> ids;
      for (auto& timer : timers) {
        ids.push_back(timer.work_id);
        events.push_back(TimerEvent(timer));
      }
      store::DeleteWorkIds(tx, ids);
      if (!more_timers) {
        if (std::optional<int64_t> ms = store::MillisUntilDue(tx, false)) {
          next_timer = now + *ms * 1000000;
        }
      }
    }
    if (events.empty() && !started_any) return;

    std::vector<int64_t> ids;
    for (const auto& pending : events) ids.push_back(pending.execution_id);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    // Cached states are moved out for this attempt (a retry reads the snapshots instead).
    std::map<int64_t, CachedState> borrowed;
    std::vector<int64_t> cached_ids, cached_counts;
    {
      std::lock_guard<std::mutex> lock(states_mu_);
      for (int64_t id : ids) {
        auto cached = states_.find(id);
        if (cached == states_.end()) continue;
        cached_ids.push_back(id);
        cached_counts.push_back(cached->second.decision_count);
        borrowed.emplace(id, std::move(cached->second));
        states_.erase(cached);
      }
    }
    std::vector<store::LockedExecution> rows =
        store::LockExecutionsCached(tx, ids, cached_ids, cached_counts);
    std::map<int64_t, Working> working;
    for (const auto& row : rows) {
      Working& w = working[row.execution_id];
      w.row = &row;
    }

    std::vector<int64_t> finished_ids;
    for (PendingEvent& pending : events) {
      auto it = working.find(pending.execution_id);
      if (it == working.end()) {
        if (pending.request) {
          replies[*pending.request].error = {std::string(kExecutionDoesNotExist),
                                             "Execution Does Not Exist"};
        }
        continue;
      }
      Working& w = it->second;
      if (pending.inline_task) {
        // The fence of an inline task: this node still holds it, in this generation.
        if (w.inline_done || w.row->task_owner != node_id_ ||
            w.row->task_generation != pending.inline_generation ||
            w.row->task_key != pending.event.task_id) {
          replies[*pending.request].error = {"__stale__", "lease lost"};
          continue;
        }
        w.inline_done = true;
      }
      if (!w.definition) {
        w.definition = Definition(tx, w.row->revision_id);
        if (w.row->snapshot_cached) {
          w.state = std::move(borrowed.at(w.row->execution_id).state);
        } else if (w.row->snapshot) {
          std::optional<asl::Json> snapshot =
              asl::ParseJsonNested(*w.row->snapshot, asl::kMaxRecordNestingDepth);
          asl::Result<asl::ExecutionState> state =
              snapshot ? asl::ExecutionState::FromJson(*snapshot)
                       : asl::Result<asl::ExecutionState>(
                             asl::Error{std::string(asl::kStatesRuntime), "snapshot"});
          if (!state.ok()) {
            // A snapshot this build cannot read: leave the execution alone, loudly.
            w.definition = nullptr;
            if (pending.request) {
              replies[*pending.request].error = {
                  "InternalError", "execution '" + w.row->execution_arn + "': unreadable snapshot"};
            }
            continue;
          }
          w.state = std::move(state).value();
        }
      }
      if (w.definition == nullptr) continue;
      if (!w.row->snapshot && !w.row->snapshot_cached && !w.changed) {
        // Not started, or SUCCEEDED (no snapshot kept): nothing to decide.
        if (pending.redrive && pending.request) {
          replies[*pending.request].error = {
              std::string(kExecutionNotRedrivable),
              "Execution is " + w.row->status + " and cannot be redriven."};
        }
        continue;
      }
      if (!w.changed) w.uses_activities = UsesActivities(*w.definition);
      if (pending.redrive) {
        // Under the execution's lock: is it (still) redrivable, and from which state's input?
        std::string refusal;
        if (w.state.status() == asl::ExecutionStatus::kRunning ||
            w.state.status() == asl::ExecutionStatus::kSucceeded) {
          refusal = "Execution is " + std::string(asl::ExecutionStatusName(w.state.status())) +
                    " and cannot be redriven.";
        } else if (w.state.redrive_entered_event_id() == 0) {
          refusal = w.state.redrive_refusal().empty() ? "Execution cannot be redriven."
                                                      : w.state.redrive_refusal();
        } else {
          std::optional<std::string> details = store::HistoryEventDetails(
              tx, w.row->execution_id, w.state.redrive_entered_event_id());
          std::optional<asl::Json> parsed = details ? asl::ParseJson(*details) : std::nullopt;
          const asl::Json* input_text = parsed ? asl::JsonFind(*parsed, "input") : nullptr;
          std::optional<asl::Json> input =
              input_text != nullptr && input_text->IsString()
                  ? asl::ParseJson(std::string(asl::JsonView(*input_text)))
                  : std::nullopt;
          if (!input) {
            refusal = "Execution cannot be redriven: the input of its last state is missing.";
          } else {
            pending.event.input = std::move(*input);
          }
        }
        if (!refusal.empty()) {
          if (pending.request) {
            replies[*pending.request].error = {std::string(kExecutionNotRedrivable), refusal};
          }
          continue;
        }
        redriven.emplace_back(w.row->execution_id, pending.client_token);
      }

      asl::Event::Kind kind = pending.event.kind;
      std::string task_id =
          !pending.event.task_id.empty() ? pending.event.task_id : pending.task_id;
      bool success = kind == asl::Event::Kind::kTaskSucceeded;
      asl::Step step = asl::Apply(*w.definition, w.state, std::move(pending.event), now);
      w.changed = true;
      observe(w.row->execution_id, w.row->state_machine_name, w.row->execution_arn, step);
      for (const auto& command : step.commands) {
        if (command.kind == asl::Command::Kind::kFinish) {
          w.finished = true;
          SetFinish(w.update, command);
        }
      }
      absorb(w.row->execution_id, w.row->execution_arn, step, kind, task_id, &pending, success,
             w.uses_activities);
      if (pending.request) {
        DecisionReply& reply = replies[*pending.request];
        if (reply.execution_arn.empty()) reply.execution_arn = w.row->execution_arn;
        if (reply.date == 0) reply.date = now;
      }
    }

    // Writes: cancellations first, then new work (none for executions that ended), then the
    // executions and their history.
    std::vector<store::ExecutionUpdate> updates;
    for (auto& [execution_id, w] : working) {
      if (!w.changed) continue;
      w.update.execution_id = execution_id;
      w.update.decision_count = w.row->decision_count;
      w.update.status = std::string(asl::ExecutionStatusName(w.state.status()));
      if (w.state.status() != asl::ExecutionStatus::kSucceeded) {
        w.update.snapshot = asl::DumpJson(w.state.ToJson());
      }
      w.update.history_count = w.state.history_size();
      w.update.to_executions = w.finished || w.update.status != w.row->status;
      if (!w.row->task_owner.empty() &&
          changes.remove.count(WorkKey{execution_id, store::kWorkTask, w.row->task_key}) != 0) {
        w.inline_done = true;  // the task was removed (timed out, its branch ended, ...)
      }
      if (w.inline_done) w.update.inline_task = store::ExecutionUpdate::InlineTask::kClear;
      if (w.finished) {
        finished_ids.push_back(execution_id);
        if (auto seen = observed.find(execution_id); seen != observed.end()) {
          seen->second.finished_status = w.update.status;
          seen->second.error = w.update.error.value_or("");
        }
      } else {
        to_cache.emplace_back(execution_id,
                              CachedState{w.row->decision_count + 1, std::move(w.state)});
      }
      updates.push_back(std::move(w.update));
    }
    finished.insert(finished_ids.begin(), finished_ids.end());
    std::vector<store::WorkItem> removals;
    for (const auto& [execution_id, kind, key] : changes.remove) {
      if (finished.count(execution_id) != 0) continue;
      store::WorkItem item;
      item.execution_id = execution_id;
      item.kind = kind;
      item.key = key;
      removals.push_back(std::move(item));
    }
    store::DeleteWork(tx, removals);
    // (execution, task id) pairs of executions still running, as two columns.
    auto live_pairs = [&](const std::set<std::pair<int64_t, std::string>>& pairs,
                          std::vector<int64_t>* executions, std::vector<std::string>* tasks) {
      for (const auto& [execution_id, task_id] : pairs) {
        if (finished.count(execution_id) != 0) continue;
        executions->push_back(execution_id);
        tasks->push_back(task_id);
      }
    };
    std::vector<int64_t> token_executions;
    std::vector<std::string> token_tasks;
    live_pairs(changes.removed_token_tasks, &token_executions, &token_tasks);
    store::DeleteTaskTokens(tx, token_executions, token_tasks);
    std::vector<store::WorkItem> work;
    for (auto& [key, item] : changes.enqueue) {
      if (finished.count(item.execution_id) == 0) work.push_back(std::move(item));
    }
    std::vector<store::TaskTokenRow> tokens;
    for (auto& [token, row] : changes.tokens) {
      if (finished.count(row.execution_id) == 0) tokens.push_back(std::move(row));
    }
    store::InsertTaskTokens(tx, tokens);
    std::vector<int64_t> activity_executions;
    std::vector<std::string> activity_task_ids;
    live_pairs(changes.removed_activity_tasks, &activity_executions, &activity_task_ids);
    store::DeleteActivityTasks(tx, activity_executions, activity_task_ids);
    std::vector<store::ActivityTaskRow> activity_rows;
    for (auto& [key, row] : changes.activity_tasks) {
      if (finished.count(row.execution_id) == 0) activity_rows.push_back(std::move(row));
    }
    store::InsertActivityTasks(tx, activity_rows);
    scheduled_activities = !activity_rows.empty();
    std::vector<int64_t> finished_activity_users;
    for (int64_t execution_id : finished_ids) {
      auto it = working.find(execution_id);
      if (it != working.end() && it->second.uses_activities) {
        finished_activity_users.push_back(execution_id);
      }
    }
    store::DeleteExecutionActivityTasks(tx, finished_activity_users);
    for (const auto& [execution_id, client_token] : redriven) {
      store::MarkRedriven(tx, execution_id, now, client_token);
    }
    // New task items go to this node's own workers, leased in the insert, as far as it has room:
    // no claim transaction, and the task starts right after the commit. The rest wait for a claim.
    enqueued_tasks = reservation.LeaseNewTasks(work);
    // One task item leased to this node per execution goes inline instead (into the execution's
    // execution_states row: no work item to insert, fence and delete) when the execution's row
    // has no inline task left and the update goes there.
    {
      std::map<int64_t, store::ExecutionUpdate*> by_execution;
      for (auto& update : updates) by_execution.emplace(update.execution_id, &update);
      std::vector<store::WorkItem> kept;
      kept.reserve(work.size());
      for (auto& item : work) {
        if (item.lease && item.kind == store::kWorkTask) {
          auto u = by_execution.find(item.execution_id);
          auto w = working.find(item.execution_id);
          if (u != by_execution.end() && w != working.end() && !u->second->WritesExecutionsRow() &&
              u->second->inline_task != store::ExecutionUpdate::InlineTask::kSet &&
              (w->second.row->task_owner.empty() || w->second.inline_done)) {
            u->second->inline_task = store::ExecutionUpdate::InlineTask::kSet;
            u->second->inline_key = item.key;
            u->second->inline_payload = std::move(item.payload);
            continue;
          }
        }
        kept.push_back(std::move(item));
      }
      work = std::move(kept);
    }
    // After the deletions above (a key removed and enqueued again in one batch).
    // The work and tokens of executions that ended go in the same statement (none of their work
    // is in `work`).
    self_leased = store::WriteDecisions(tx, updates, now, work, history, finished_ids, node_id_,
                                        options_.lease.count());
  };

  // An in-doubt commit is settled by the pool from the transaction's id (txid_status), exactly:
  // Transact returns only when the batch committed and throws when that cannot be known (then
  // DecideOneByOne decides every request again from what the database holds). The old check
  // here (the first execution's decision count) could answer "committed" for a batch that was
  // not, when another batch of the same execution had committed the same count since (seen in
  // the chaos test). As a second line of defence, kept from then: the states of a batch during
  // which a commit of this pool was in doubt (any thread's: a spurious miss only costs a read)
  // are not cached; the next decision of those executions reads what the database holds.
  const uint64_t in_doubt_before = db_->stats().in_doubt;
  if (autocommit) {
    try {
      db_->Autocommit([&](pqxx::nontransaction& tx, int attempt) {
        autocommit_attempt = attempt;
        body(tx);
      });
    } catch (const NeedsTransaction&) {
      autocommit = false;
    }
  }
  if (!autocommit) db_->Transact(body);
  if (db_->stats().in_doubt != in_doubt_before) to_cache.clear();
  reservation.Commit(self_leased, batch_start);
  if (!to_cache.empty()) {
    std::lock_guard<std::mutex> lock(states_mu_);
    if (states_.size() + to_cache.size() > kStateCacheSize) states_.clear();
    for (auto& [execution_id, cached] : to_cache) {
      states_.insert_or_assign(execution_id, std::move(cached));
    }
  }

  // Committed: tell the callers, the observer, wake the workers.
  if (options_.observer != nullptr) {
    EngineObserver& observer = *options_.observer;
    if (decisions > 0) {
      observer.DecisionBatch(
          decisions,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - batch_start).count());
    }
    for (const auto& [execution_id, seen] : observed) {
      if (execution_id < 0) continue;  // a start whose name was taken
      if (seen.started) observer.ExecutionStarted(seen.machine, seen.execution_arn);
      if (seen.transitions > 0) observer.StateTransitions(seen.machine, seen.transitions);
      if (!seen.finished_status.empty()) {
        observer.ExecutionFinished(seen.machine, seen.execution_arn, seen.finished_status,
                                   seen.error);
      }
    }
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].reply) batch[i].reply->set_value(std::move(replies[i]));
    batch[i].reply.reset();
  }
  if (enqueued_tasks && options_.run_workers) {
    {
      std::lock_guard<std::mutex> lock(tasks_mu_);
      claim_wanted_ = true;
      task_backlog_ = true;
    }
    tasks_cv_.notify_all();
  }
  if (enqueued_tasks || scheduled_activities) notify_pending_ = true;
  if (scheduled_activities) WakeActivityPollers();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (more_timers) {
      next_timer_check_ = 0;
    } else if (next_timer) {
      next_timer_check_ = std::min(next_timer_check_, *next_timer);
    }
  }
}

}  // namespace switchyard::orchestrator
