#include "switchyard/orchestrator/engine.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <utility>

#include "engine/engine_impl.hpp"
#include "store/migrate.hpp"
#include "store/version_store.hpp"
#include "switchyard/asl/json.hpp"
#include "switchyard/asl/names.hpp"
#include "switchyard/asl/timestamp.hpp"

namespace switchyard::orchestrator {

namespace asl = switchyard::asl;

namespace {

// Optimized service integrations other than Lambda (arn:aws:states:::sqs:...) go to
// EngineOptions::service_backend, everything else to the Lambda backend.
class ServiceRouter final : public TaskBackend {
 public:
  ServiceRouter(std::unique_ptr<TaskBackend> lambda, TaskBackend& services)
      : lambda_(std::move(lambda)), services_(services) {}
  std::optional<TaskOutcome> Start(const TaskRequest& request, TaskCompleter complete) override {
    if (request.resource.rfind("arn:aws:states:::sqs:", 0) == 0) {
      return services_.Start(request, std::move(complete));
    }
    return lambda_->Start(request, std::move(complete));
  }
  void Cancel(const std::string& task_id) override {
    lambda_->Cancel(task_id);
    services_.Cancel(task_id);
  }

 private:
  std::unique_ptr<TaskBackend> lambda_;
  TaskBackend& services_;
};

constexpr int64_t kMaxInputBytes = 262144;

int64_t RealNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string RandomUuid() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t high = (random() & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  uint64_t low = (random() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  std::string text;
  int position = 0;
  for (uint64_t part : {high, low}) {
    for (int shift = 60; shift >= 0; shift -= 4, ++position) {
      if (position == 8 || position == 12 || position == 16 || position == 20) text += '-';
      text += kHex[(part >> shift) & 0xF];
    }
  }
  return text;
}

asl::Error Err(std::string_view code, std::string message) {
  return asl::Error{std::string(code), std::move(message)};
}

StateMachineInfo ToInfo(const store::StateMachineRow& row) {
  StateMachineInfo info;
  info.name = row.name;
  info.arn = row.arn;
  info.type = row.type;
  info.definition = row.definition;
  info.role_arn = row.role_arn;
  info.revision_id = row.revision_id;
  info.status = row.status;
  info.creation_date = row.created_at;
  return info;
}

ExecutionInfo ToInfo(const store::ExecutionRow& row) {
  ExecutionInfo info;
  info.execution_arn = row.execution_arn;
  info.state_machine_arn = row.state_machine_arn;
  info.name = row.name;
  info.status = row.status;
  info.input = row.input;
  info.output = row.output;
  info.error = row.error;
  info.cause = row.cause;
  info.start_date = row.start_date;
  info.stop_date = row.stop_date;
  info.redrive_count = row.redrive_count;
  return info;
}

}  // namespace

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 80) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c == 0x7F) return false;
    if (std::string_view("<>{}[]?*\"#%\\^|~`$&,;:/").find(static_cast<char>(c)) !=
        std::string_view::npos) {
      return false;
    }
  }
  return true;
}

std::string HistoryEntry::ToJson() const {
  std::string out = "{\"id\":" + std::to_string(id) +
                    ",\"previousEventId\":" + std::to_string(previous_event_id) + ",\"timestamp\":";
  asl::AppendJsonString(out, asl::FormatTimestamp(timestamp));
  out += ",\"type\":";
  asl::AppendJsonString(out, type);
  if (!details_key.empty()) {
    out += ',';
    asl::AppendJsonString(out, details_key);
    out += ':';
    out += details.empty() ? "{}" : details;
  }
  out += '}';
  return out;
}

// ---- Impl -------------------------------------------------------------------------------------

Engine::Impl::Impl(EngineOptions options) : options_(std::move(options)) {
  node_id_ = options_.node_id.empty() ? "node-" + RandomUuid() : options_.node_id;
  std::optional<std::string> url;
  if (!options_.database_url.empty()) url = options_.database_url;
  std::optional<std::filesystem::path> data_dir;
  if (!options_.data_dir.empty()) data_dir = options_.data_dir;
  database_ = store::OpenDatabase(url, data_dir);
  if (options_.migrate) (void)store::Migrate(database_.url);
  // API callers, the decision thread, the claimer and the lease renewer share the pool.
  db_ = std::make_unique<store::ConnectionPool>(
      database_.url, static_cast<std::size_t>(std::max(options_.pool_size, 1) + 3),
      [lease = options_.lease](pqxx::connection& connection) {
        store::PrepareExecutionStatements(connection);
        // A transaction idle for a whole lease belongs to a node that stopped (its leases are
        // about to move): its row locks must not hold the other nodes back.
        store::LimitIdleTransactions(connection, std::max(lease, std::chrono::milliseconds(1000)));
      });
  if (options_.invoker != nullptr) {
    invoker_ = options_.invoker;
  } else {
    invoker::InvokerOptions invoker_options;
    invoker_options.region = options_.region;
    invoker_options.account_id = options_.account_id;
    owned_invoker_ = std::make_unique<invoker::Invoker>(std::move(invoker_options));
    invoker_ = owned_invoker_.get();
  }
  backend_ = std::make_unique<LambdaBackend>(*invoker_, options_.region, options_.account_id);
  if (options_.service_backend != nullptr) {
    backend_ = std::make_unique<ServiceRouter>(std::move(backend_), *options_.service_backend);
  }
  mailbox_->impl = this;
}

Engine::Impl::~Impl() { Shutdown(); }

int64_t Engine::Impl::Now() const { return RealNow(); }

std::string Engine::Impl::StateMachineArn(const std::string& name) const {
  return "arn:aws:states:" + options_.region + ":" + options_.account_id + ":stateMachine:" + name;
}

std::string Engine::Impl::ExecutionArn(const std::string& state_machine, const std::string& name,
                                       bool express) const {
  return "arn:aws:states:" + options_.region + ":" + options_.account_id +
         (express ? ":express:" : ":execution:") + state_machine + ":" + name;
}

std::optional<std::string> Engine::Impl::StateMachineName(const std::string& name_or_arn) const {
  if (!name_or_arn.starts_with("arn:")) return name_or_arn;
  // arn:aws:states:<region>:<account>:stateMachine:<name>
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t colon = name_or_arn.find(':', start);
    parts.push_back(name_or_arn.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() != 7 || parts[2] != "states" || parts[5] != "stateMachine") return std::nullopt;
  return parts[6];
}

std::shared_ptr<const asl::StateMachineDef> Engine::Impl::Definition(
    pqxx::transaction_base& tx, const std::string& revision_id) {
  {
    std::lock_guard<std::mutex> lock(definitions_mu_);
    auto it = definitions_.find(revision_id);
    if (it != definitions_.end()) return it->second;
  }
  std::optional<std::string> text = store::GetRevision(tx, revision_id);
  if (!text) return nullptr;
  asl::ParseResult parsed = asl::ParseDefinition(*text);
  if (!parsed.ok()) return nullptr;
  auto definition = std::make_shared<const asl::StateMachineDef>(std::move(*parsed.definition));
  std::lock_guard<std::mutex> lock(definitions_mu_);
  definitions_.emplace(revision_id, definition);
  return definition;
}

void Engine::Impl::Start() {
  tasks_held_ = options_.hold_tasks;
  // Fail early and clearly when the database is unreachable or not migrated.
  db_->Transact([](pqxx::transaction_base& tx) { store::CheckSchema(tx); });
  started_ = true;
  for (int i = 0; i < std::max(options_.decision_threads, 1); ++i) {
    deciders_.emplace_back([this] { DecisionLoop(); });
  }
  if (options_.run_workers) {
    claimer_ = std::thread([this] { ClaimLoop(); });
    renewer_ = std::thread([this] { RenewLoop(); });
  }
  listener_ = std::thread([this] { ListenLoop(); });
  if (options_.run_workers && options_.retention.count() > 0) {
    retention_ = std::thread([this] { RetentionLoop(); });
  }
}

void Engine::Impl::Shutdown(std::chrono::steady_clock::time_point drain_until) {
  if (shut_down_) return;
  shut_down_ = true;
  if (!started_) return;
  // 1. No more claims.
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    std::lock_guard<std::mutex> lock2(mu_);
    stopping_ = true;
  }
  tasks_cv_.notify_all();
  if (claimer_.joinable()) claimer_.join();
  // 1b. The tasks running here may finish within the grace: their outcomes are decided as
  // usual, and their leases are still renewed meanwhile.
  {
    // (Items leased to this node but never started wait for nobody: step 4 gives them back.)
    std::unique_lock<std::mutex> lock(tasks_mu_);
    auto running = [&] {
      return std::count_if(in_flight_.begin(), in_flight_.end(),
                           [](const auto& entry) { return entry.second.started; });
    };
    if (running() > 0 && std::chrono::steady_clock::now() < drain_until) {
      spdlog::info("engine: node={} waiting for {} task(s) still running", node_id_, running());
      tasks_cv_.wait_until(lock, drain_until, [&] { return running() == 0; });
    }
  }
  {
    std::lock_guard<std::mutex> lock(activity_mu_);
    activity_stop_ = true;
  }
  activity_cv_.notify_all();
  if (retention_.joinable()) retention_.join();
  // 2. Express executions of this node end (aborted).
  {
    std::lock_guard<std::mutex> lock(express_mu_);
    for (auto& [arn, driver] : express_) driver->Stop("", "engine shut down");
  }
  for (;;) {
    std::thread thread;
    {
      std::lock_guard<std::mutex> lock(express_mu_);
      if (express_threads_.empty()) break;
      thread = std::move(express_threads_.back().thread);
      express_threads_.pop_back();
    }
    thread.join();
  }
  // 3. Outcomes arriving from now on are dropped; the decisions already asked for are made.
  {
    std::lock_guard<std::mutex> lock(mailbox_->mu);
    mailbox_->impl = nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    decider_stop_ = true;
  }
  cv_.notify_all();
  for (auto& decider : deciders_) {
    if (decider.joinable()) decider.join();
  }
  // 4. Leases of tasks still running go back: the work is runnable again at once.
  std::vector<int64_t> leased, inline_executions, inline_generations;
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    for (const auto& [work_id, task] : in_flight_) {
      if (task.inline_task) {
        inline_executions.push_back(task.execution_id);
        inline_generations.push_back(task.generation);
      } else {
        leased.push_back(work_id);
      }
    }
    in_flight_.clear();
    renew_stop_ = true;
  }
  tasks_cv_.notify_all();
  if (renewer_.joinable()) renewer_.join();
  if (!leased.empty() || !inline_executions.empty()) {
    try {
      db_->Transact([&](pqxx::transaction_base& tx) {
        store::ReleaseLeases(tx, node_id_, leased);
        store::ReleaseInlineTasks(tx, node_id_, inline_executions, inline_generations);
      });
      spdlog::info("engine: node={} released {} lease(s) of tasks still running", node_id_,
                   leased.size() + inline_executions.size());
    } catch (const std::exception& e) {
      spdlog::error("engine: node={} releasing leases failed: {}", node_id_, e.what());
    }
  }
  if (listener_.joinable()) listener_.join();
  backend_.reset();
  owned_invoker_.reset();
  db_.reset();
  if (database_.cluster) {
    try {
      database_.cluster->Stop();
    } catch (const std::exception& e) {
      spdlog::error("engine: stopping the embedded database failed: {}", e.what());
    }
  }
}

DecisionReplyTo::~DecisionReplyTo() {
  if (!done_) return;
  DecisionReply reply;
  reply.error = Err("ServiceUnavailable", "the engine is shut down");
  set_value(std::move(reply));
}

void DecisionReplyTo::set_value(DecisionReply reply) {
  if (done_) {
    // Called after the batch committed: a throwing callback must not undo that batch's replies.
    try {
      std::exchange(done_, nullptr)(std::move(reply));
    } catch (const std::exception& e) {
      spdlog::error("engine: a decision's reply callback failed: {}", e.what());
    }
  } else {
    promise_.set_value(std::move(reply));
  }
}

void Engine::Impl::DecideAsync(DecisionRequest request, std::function<void(DecisionReply)> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!decider_stop_ && started_) {
      request.reply.emplace(std::move(done));
      queue_.push_back(std::move(request));
      done = nullptr;
    }
  }
  if (done) {
    DecisionReply reply;
    reply.error = Err("ServiceUnavailable", "the engine is shut down");
    done(std::move(reply));
    return;
  }
  cv_.notify_one();
}

std::optional<store::StateMachineRow> Engine::Impl::MachineForStart(pqxx::transaction_base& tx,
                                                                    const std::string& name) {
  const auto now = std::chrono::steady_clock::now();
  uint64_t epoch = 0;
  {
    std::lock_guard<std::mutex> lock(machines_mu_);
    auto cached = machines_.find(name);
    if (cached != machines_.end() && now - cached->second.fetched < kMachineCacheTtl) {
      return cached->second.row;
    }
    epoch = machines_epoch_;
  }
  std::optional<store::StateMachineRow> row = store::GetStateMachine(tx, name);
  if (row) {
    std::lock_guard<std::mutex> lock(machines_mu_);
    // Not when this node changed a machine meanwhile: the row read may be the old one.
    if (machines_epoch_ == epoch) {
      if (machines_.size() >= kMachineCacheSize) machines_.clear();
      machines_.insert_or_assign(name, CachedMachine{*row, now});
    }
  }
  return row;
}

void Engine::Impl::ForgetMachine(const std::string& name) {
  std::lock_guard<std::mutex> lock(machines_mu_);
  machines_.erase(name);
  ++machines_epoch_;
}

DecisionReply Engine::Impl::Decide(DecisionRequest request) {
  std::promise<DecisionReply> promise;
  std::future<DecisionReply> future = promise.get_future();
  request.reply.emplace(std::move(promise));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (decider_stop_ || !started_) {
      DecisionReply reply;
      reply.error = Err("ServiceUnavailable", "the engine is shut down");
      return reply;
    }
    queue_.push_back(std::move(request));
  }
  cv_.notify_one();  // any one decider takes it (Shutdown notifies all)
  return future.get();
}

void Engine::Impl::Post(DecisionRequest request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (decider_stop_) return;
    queue_.push_back(std::move(request));
  }
  cv_.notify_one();
}

void Engine::Impl::DecisionLoop() {
  for (;;) {
    std::vector<DecisionRequest> batch;
    bool claim_timers = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      for (;;) {
        if (!queue_.empty() || decider_stop_) break;
        if (options_.run_workers && !stopping_) {
          int64_t now = Now();
          if (now >= next_timer_check_) break;
          cv_.wait_for(lock, std::chrono::nanoseconds(next_timer_check_ - now));
        } else {
          cv_.wait(lock);
        }
      }
      if (decider_stop_ && queue_.empty()) return;
      while (!queue_.empty() && static_cast<int>(batch.size()) < options_.decision_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      int64_t now = Now();
      if (options_.run_workers && !stopping_ && now >= next_timer_check_) {
        claim_timers = true;
        next_timer_check_ =
            now +
            std::chrono::duration_cast<std::chrono::nanoseconds>(options_.poll_interval).count();
      }
    }
    std::vector<int64_t> finished_work;
    for (const auto& request : batch) {
      if (request.work_id != 0) finished_work.push_back(request.work_id);
    }
    try {
      RunBatch(batch, claim_timers);
    } catch (const std::exception& e) {
      // One bad request must not sink the others: decide them one at a time.
      spdlog::warn("engine: node={} decision batch of {} failed, deciding one by one: {}", node_id_,
                   batch.size(), e.what());
      DecideOneByOne(batch, claim_timers);
    }
    if (!finished_work.empty()) {
      {
        std::lock_guard<std::mutex> lock(tasks_mu_);
        for (int64_t work_id : finished_work) in_flight_.erase(work_id);
        // Room again: claim when unleased task items may be waiting (a node that leases its
        // own new tasks usually has none: no empty claim after every batch).
        if (task_backlog_) claim_wanted_ = true;
      }
      tasks_cv_.notify_all();
    }
  }
}

void Engine::Impl::DecideOneByOne(std::vector<DecisionRequest>& batch, bool claimed_timers) {
  // Nothing of the batch committed: every request is decided again, alone. A request that fails
  // alone is answered with the error (a task outcome is dropped: its lease expires and the task
  // runs again).
  if (claimed_timers) {
    // The due timers the batch claimed went back with its rollback: each is decided alone too
    // (one whose decision throws would otherwise fail every batch that claims timers).
    try {
      std::vector<store::WorkItem> timers =
          db_->Transact([](pqxx::transaction_base& tx) { return store::ClaimTimers(tx, 256); });
      for (const auto& timer : timers) {
        DecisionRequest request;
        request.kind = DecisionRequest::Kind::kTimer;
        request.execution_id = timer.execution_id;
        request.work_id = timer.work_id;
        batch.push_back(std::move(request));
      }
    } catch (const std::exception& e) {
      spdlog::warn("engine: node={} listing due timers failed: {}", node_id_, e.what());
    }
  }
  for (auto& request : batch) {
    std::vector<DecisionRequest> single;
    single.push_back(std::move(request));
    try {
      RunBatch(single, false);
      if (single[0].execution_id != 0) {
        std::lock_guard<std::mutex> lock(mu_);
        decision_failures_.erase(single[0].execution_id);
      }
    } catch (const std::exception& e) {
      spdlog::error("engine: node={} execution_id={} decision failed: {}", node_id_,
                    single[0].execution_id, e.what());
      if (single[0].reply) {
        DecisionReply reply;
        reply.error = Err("InternalError", e.what());
        single[0].reply->set_value(std::move(reply));
      }
      const DecisionRequest::Kind kind = single[0].kind;
      if ((kind == DecisionRequest::Kind::kEvent || kind == DecisionRequest::Kind::kTimer) &&
          single[0].execution_id != 0) {
        DecisionFailed(single[0].execution_id, e);
      }
    }
  }
}

void Engine::Impl::DecisionFailed(int64_t execution_id, const std::exception& error) {
  // A database that is down past the retries says nothing about the execution.
  if (store::IsTransient(error) || dynamic_cast<const pqxx::in_doubt_error*>(&error) != nullptr) {
    return;
  }
  int attempts = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (decision_failures_.size() > 10000) decision_failures_.clear();  // bounded
    attempts = ++decision_failures_[execution_id];
    if (attempts >= kMaxDecisionFailures) decision_failures_.erase(execution_id);
  }
  if (attempts >= kMaxDecisionFailures) FailExecution(execution_id, error.what(), attempts);
}

void Engine::Impl::FailExecution(int64_t execution_id, const std::string& reason, int attempts) {
  // Written directly, not through the core: applying the event again is what keeps failing. The
  // snapshot stays as it was; the row and the history say FAILED, and the work goes.
  std::string detail;
  for (char c : reason.substr(0, 4096)) detail += c == '\0' ? '?' : c;
  std::string failed_arn;
  try {
    db_->Transact([&](pqxx::transaction_base& tx) {
      failed_arn.clear();
      std::vector<store::LockedExecution> rows =
          store::LockExecutions(tx, {execution_id}, {execution_id});
      if (rows.empty() || rows[0].status != "RUNNING") return;
      const store::LockedExecution& row = rows[0];
      const std::string cause = "the engine could not decide an event of execution '" +
                                row.execution_arn + "' (" + std::to_string(attempts) +
                                " attempts): " + detail;
      const int64_t now = Now();
      store::ExecutionUpdate update;
      update.execution_id = execution_id;
      update.status = "FAILED";
      update.snapshot = row.snapshot.value_or("");
      update.history_count = row.history_count + 1;
      update.error = std::string(asl::kStatesRuntime);
      update.cause = cause;
      update.finished = true;
      asl::Json details = asl::JsonObject();
      asl::JsonSet(details, "error", asl::JsonString(asl::kStatesRuntime));
      asl::JsonSet(details, "cause", asl::JsonString(cause));
      store::HistoryRow event;
      event.execution_id = execution_id;
      event.event_id = row.history_count + 1;
      event.previous_event_id = row.history_count;
      event.timestamp = now;
      event.type = "ExecutionFailed";
      event.details_key = "executionFailedEventDetails";
      event.details = asl::DumpJson(details);
      store::DeleteExecutionWork(tx, {execution_id});
      store::UpdateExecutions(tx, {update}, now);
      store::AppendHistory(tx, {event});
      failed_arn = row.execution_arn;
    });
    if (!failed_arn.empty()) {
      spdlog::error(
          "engine: node={} execution={} failed (States.Runtime) after {} failed "
          "decisions: {}",
          node_id_, failed_arn, attempts, detail);
    }
  } catch (const std::exception& e) {
    spdlog::error("engine: node={} execution_id={} failing the execution failed: {}", node_id_,
                  execution_id, e.what());
  }
}

void Engine::Impl::ClaimLoop() {
  const int64_t lease_ms = options_.lease.count();
  // When the backstop claims next (the poll interval, sooner when a task or lease is due).
  auto next_claim = std::chrono::steady_clock::now();
  for (;;) {
    int64_t capacity = 0;
    bool claim = false;
    std::vector<store::WorkItem> ready;
    {
      std::unique_lock<std::mutex> lock(tasks_mu_);
      tasks_cv_.wait_until(lock, next_claim, [&] {
        return stopping_ || !ready_tasks_.empty() ||
               (!tasks_held_ && claim_wanted_ &&
                static_cast<int64_t>(in_flight_.size()) + reserved_tasks_ <
                    options_.max_tasks_in_flight);
      });
      if (stopping_) return;
      ready.swap(ready_tasks_);
      const auto now = std::chrono::steady_clock::now();
      if (tasks_held_) {
        next_claim = now + options_.poll_interval;
      } else if (claim_wanted_ || now >= next_claim) {
        claim = true;
        capacity = options_.max_tasks_in_flight - static_cast<int64_t>(in_flight_.size()) -
                   reserved_tasks_;
        claim_wanted_ = false;
      }
    }
    // Tasks that decisions of this node leased to it as they enqueued them (decisions.cpp).
    for (const auto& item : ready) RunTask(item);
    if (!claim) continue;
    if (capacity <= 0) {
      next_claim = std::chrono::steady_clock::now() + options_.poll_interval;
      continue;
    }
    // One claim statement for as much as there is room for (bounded by max_tasks_in_flight).
    int64_t limit = std::min<int64_t>(capacity, 256);
    std::vector<store::WorkItem> items;
    std::optional<int64_t> due_ms;
    const auto claim_started = std::chrono::steady_clock::now();
    try {
      db_->Transact([&](pqxx::transaction_base& tx) {
        // Inline tasks whose lease expired (their node died or stalled) become claimable first.
        store::RescueInlineTasks(tx, limit);
        items = store::ClaimTasks(tx, node_id_, lease_ms, limit);
        due_ms.reset();
        // When idle, how long until a task is due or a lease expires. Busy (some claimed), the
        // next claim comes when they finish: no statement for it.
        if (items.empty()) due_ms = store::MillisUntilDue(tx, true);
      });
    } catch (const std::exception& e) {
      spdlog::warn("engine: node={} claiming tasks failed: {}", node_id_, e.what());
      next_claim = std::chrono::steady_clock::now() + options_.poll_interval;
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(tasks_mu_);
      for (const auto& item : items) {
        in_flight_[item.work_id] =
            InFlightTask{item.work_id, item.generation, item.execution_id, false, claim_started};
      }
      if (static_cast<int64_t>(items.size()) == limit) claim_wanted_ = true;
      task_backlog_ = static_cast<int64_t>(items.size()) == limit;
    }
    for (const auto& item : items) RunTask(item);
    std::chrono::milliseconds wait = options_.poll_interval;
    if (due_ms) wait = std::min(wait, std::chrono::milliseconds(std::max<int64_t>(*due_ms, 1)));
    next_claim = std::chrono::steady_clock::now() + wait;
  }
}

void Engine::Impl::RunTask(const store::WorkItem& item) {
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    if (auto it = in_flight_.find(item.work_id); it != in_flight_.end()) it->second.started = true;
  }
  std::optional<asl::Json> payload =
      asl::ParseJsonNested(item.payload, asl::kMaxRecordNestingDepth);
  TaskRequest request;
  request.task_id = item.key;
  std::string execution_arn;
  if (payload && payload->IsObject()) {
    if (const asl::Json* v = asl::JsonFind(*payload, "resource"); v && v->IsString()) {
      request.resource = std::string(asl::JsonView(*v));
    }
    if (asl::Json* v = asl::JsonFind(*payload, "payload")) request.payload = std::move(*v);
    if (const asl::Json* v = asl::JsonFind(*payload, "timeout"); v && v->IsInt64()) {
      request.timeout_seconds = v->GetInt64();
    }
    if (const asl::Json* v = asl::JsonFind(*payload, "heartbeat"); v && v->IsInt64()) {
      request.heartbeat_seconds = v->GetInt64();
    }
    if (const asl::Json* v = asl::JsonFind(*payload, "token"); v && v->IsString()) {
      request.token = std::string(asl::JsonView(*v));
    }
    if (const asl::Json* v = asl::JsonFind(*payload, "execution"); v && v->IsString()) {
      execution_arn = std::string(asl::JsonView(*v));
    }
  }
  // The invocation id: stable for this attempt of this task, whichever node runs it.
  request.invocation_id = execution_arn + "/" + item.key;
  const bool callback = !request.token.empty();
  // Written by the decision that scheduled the task (decisions.cpp) under the same rules.
  // (An unreadable payload: assume both.)
  const bool parsed = payload && payload->IsObject();
  const bool timeout_item =
      !parsed || (request.timeout_seconds > 0 && request.timeout_seconds < kNoDeadlineSeconds);
  const bool heartbeat_item = !parsed || request.heartbeat_seconds > 0;
  auto complete = [mailbox = mailbox_, item_copy = item, callback, timeout_item, heartbeat_item,
                   observer = options_.observer, execution_arn,
                   started = std::chrono::steady_clock::now()](TaskOutcome outcome) {
    if (observer != nullptr) {
      // arn:aws:states:<region>:<account>:execution:<machine>:<name>
      std::string_view machine(execution_arn);
      if (const auto at = machine.find(":execution:"); at != std::string_view::npos) {
        machine.remove_prefix(at + 11);
        machine = machine.substr(0, machine.find(':'));
      } else {
        machine = {};
      }
      observer->TaskFinished(
          machine, execution_arn, item_copy.key, outcome.succeeded ? "" : outcome.error,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    DecisionRequest decision;
    decision.kind = DecisionRequest::Kind::kEvent;
    decision.execution_id = item_copy.execution_id;
    decision.work_id = item_copy.work_id;
    decision.generation = item_copy.generation;
    decision.callback_invocation = callback;
    decision.task_timeout_item = timeout_item;
    decision.task_heartbeat_item = heartbeat_item;
    decision.event = outcome.succeeded
                         ? asl::Event::TaskSucceeded(item_copy.key, std::move(outcome.output))
                         : asl::Event::TaskFailed(item_copy.key, std::move(outcome.error),
                                                  std::move(outcome.cause));
    std::lock_guard<std::mutex> lock(mailbox->mu);
    if (mailbox->impl != nullptr) mailbox->impl->Post(std::move(decision));
  };
  if (std::optional<TaskOutcome> outcome = backend_->Start(request, complete)) {
    complete(std::move(*outcome));
  }
}

void Engine::Impl::RenewLoop() {
  const auto period = std::max(options_.lease / 3, std::chrono::milliseconds(100));
  // A renewal misses work items whose task has just finished (its decision deleted the row and
  // in_flight_ forgets it right after the commit) or that shutdown released. A lease is lost
  // only when its task is still in flight here, with its generation, one period later and the
  // renewal misses it again: another node took it (this node was paused or cut off).
  std::map<int64_t, int64_t> missed;  // work id -> generation, missed by the last renewal
  std::set<int64_t> reported;         // lost leases already logged (once each)
  // Only leases older than lease/2 - period are renewed: a younger one still has half its
  // lease when the next round renews it (one failed round is survived). Most tasks end within
  // milliseconds; renewing them rewrote their rows (and waited for the decision batches that
  // were deleting them: ~0.3 s a round with 900 tasks in flight) for nothing. With short leases
  // (under two periods) every lease is renewed every round, as before.
  const auto renew_age = std::max(std::chrono::steady_clock::duration::zero(),
                                  std::chrono::steady_clock::duration(options_.lease / 2 - period));
  for (;;) {
    std::vector<int64_t> ids, generations;
    // Inline tasks (negative ids): renewed in their executions' rows.
    std::vector<int64_t> inline_ids, inline_executions, inline_generations;
    std::chrono::steady_clock::time_point renew_started;
    {
      std::unique_lock<std::mutex> lock(tasks_mu_);
      tasks_cv_.wait_for(lock, period, [&] { return renew_stop_; });
      if (renew_stop_) return;
      renew_started = std::chrono::steady_clock::now();
      for (const auto& [work_id, task] : in_flight_) {
        if (renew_started - task.leased_at < renew_age) continue;
        if (task.inline_task) {
          inline_ids.push_back(work_id);
          inline_executions.push_back(task.execution_id);
          inline_generations.push_back(task.generation);
        } else {
          ids.push_back(work_id);
          generations.push_back(task.generation);
        }
      }
    }
    if (ids.empty() && inline_ids.empty()) continue;
    try {
      std::vector<int64_t> renewed = db_->Transact([&](pqxx::transaction_base& tx) {
        std::vector<int64_t> done =
            store::RenewLeases(tx, node_id_, ids, generations, options_.lease.count());
        std::vector<int64_t> executions = store::RenewInlineLeases(
            tx, node_id_, inline_executions, inline_generations, options_.lease.count());
        std::sort(executions.begin(), executions.end());
        for (std::size_t i = 0; i < inline_ids.size(); ++i) {
          if (std::binary_search(executions.begin(), executions.end(), inline_executions[i])) {
            done.push_back(inline_ids[i]);
          }
        }
        return done;
      });
      ids.insert(ids.end(), inline_ids.begin(), inline_ids.end());
      generations.insert(generations.end(), inline_generations.begin(), inline_generations.end());
      std::sort(renewed.begin(), renewed.end());
      {
        std::lock_guard<std::mutex> lock(tasks_mu_);
        for (int64_t id : renewed) {
          if (auto task = in_flight_.find(id); task != in_flight_.end()) {
            task->second.leased_at = renew_started;
          }
        }
      }
      std::map<int64_t, int64_t> now_missed;
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (!std::binary_search(renewed.begin(), renewed.end(), ids[i])) {
          now_missed.emplace(ids[i], generations[i]);
        }
      }
      std::size_t lost = 0;
      {
        std::lock_guard<std::mutex> lock(tasks_mu_);
        for (auto it = now_missed.begin(); it != now_missed.end();) {
          const auto task = in_flight_.find(it->first);
          if (task == in_flight_.end() || task->second.generation != it->second) {
            it = now_missed.erase(it);  // finished or released: not lost
            continue;
          }
          const auto before = missed.find(it->first);
          if (before != missed.end() && before->second == it->second &&
              reported.insert(it->first).second) {
            ++lost;
          }
          ++it;
        }
      }
      if (lost > 0) {
        spdlog::warn("engine: node={} lost {} lease(s): another node may run those tasks again",
                     node_id_, lost);
      }
      missed = std::move(now_missed);
      std::erase_if(reported, [&](int64_t id) { return missed.count(id) == 0; });
    } catch (const std::exception& e) {
      spdlog::warn("engine: node={} renewing leases failed: {}", node_id_, e.what());
    }
  }
}

void Engine::Impl::ListenLoop() {
  // NOTIFY after commit, from here and debounced: at most one per 20 ms per node.
  auto last_notify = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (decider_stop_) return;
    }
    try {
      store::WorkChannel channel(db_->url(), [this] {
        {
          std::lock_guard<std::mutex> lock(tasks_mu_);
          claim_wanted_ = true;
          task_backlog_ = true;
        }
        tasks_cv_.notify_all();
        WakeActivityPollers();
      });
      for (;;) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (decider_stop_) return;
        }
        channel.Await(20000);
        auto now = std::chrono::steady_clock::now();
        if (notify_pending_ && now - last_notify >= std::chrono::milliseconds(20)) {
          notify_pending_ = false;
          last_notify = now;
          channel.Notify();
        }
      }
    } catch (const std::exception& e) {
      spdlog::warn("engine: node={} listener: {}", node_id_, e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

// ---- Engine -----------------------------------------------------------------------------------

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() { Shutdown(); }

std::unique_ptr<Engine> Engine::Create(EngineOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  impl->Start();
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

void Engine::Shutdown() {
  if (impl_) impl_->Shutdown();
}

void Engine::Shutdown(std::chrono::steady_clock::time_point drain_until) {
  if (impl_) impl_->Shutdown(drain_until);
}

void Engine::ReleaseTasks() {
  {
    std::lock_guard<std::mutex> lock(impl_->tasks_mu_);
    impl_->tasks_held_ = false;
    impl_->claim_wanted_ = true;
    impl_->task_backlog_ = true;
  }
  impl_->tasks_cv_.notify_all();
}

const std::string& Engine::node_id() const { return impl_->node_id_; }

EngineStats Engine::Stats() {
  EngineStats stats;
  const store::QueueStats queue =
      impl_->db_->Transact([](pqxx::transaction_base& tx) { return store::CountWork(tx); });
  stats.runnable_work = queue.runnable;
  stats.leased_work = queue.leased;
  stats.pending_timers = queue.pending;
  std::lock_guard<std::mutex> lock(impl_->tasks_mu_);
  stats.leases_held = static_cast<int64_t>(impl_->in_flight_.size());
  return stats;
}

std::string Engine::RegisterNative(const std::string& name, invoker::NativeFunction function,
                                   int64_t timeout_seconds, invoker::NativeMode mode) {
  if (!impl_->owned_invoker_) return "functions are registered on the embedder's invoker";
  invoker::FunctionConfig config;
  config.function_name = name;
  config.runtime = "native";
  config.timeout_seconds = timeout_seconds;
  return impl_->owned_invoker_->RegisterNative(std::move(config), std::move(function), mode);
}

std::string Engine::RegisterFunction(const invoker::FunctionConfig& config) {
  if (!impl_->owned_invoker_) return "functions are registered on the embedder's invoker";
  return impl_->owned_invoker_->RegisterFunction(config);
}

asl::Result<StateMachineInfo> Engine::CreateStateMachine(const std::string& name,
                                                         const std::string& definition,
                                                         const std::string& type,
                                                         const std::string& role_arn) {
  if (!ValidName(name)) return Err(kInvalidName, "Invalid Name: '" + name + "'");
  if (type != "STANDARD" && type != "EXPRESS") {
    return Err(kValidationException, "1 validation error detected: Value '" + type +
                                         "' at 'type' failed to satisfy constraint: Member "
                                         "must satisfy enum value set: [STANDARD, EXPRESS]");
  }
  asl::ParseResult parsed = asl::ParseDefinition(definition);
  if (!parsed.ok()) {
    std::string cause = "Invalid State Machine Definition: '";
    bool first = true;
    for (const auto& d : parsed.diagnostics) {
      if (d.severity != asl::Severity::kError) continue;
      if (!first) cause += ", ";
      first = false;
      cause += d.code + ": " + d.message + " at " + (d.location.empty() ? "/" : d.location);
    }
    cause += "'";
    return Err(kInvalidDefinition, cause);
  }
  store::StateMachineRow row;
  row.name = name;
  row.arn = impl_->StateMachineArn(name);
  row.type = type;
  row.role_arn = role_arn;
  row.revision_id = RandomUuid();
  row.definition = definition;
  row.status = "ACTIVE";
  impl_->ForgetMachine(name);
  return impl_->db_->Transact([&](pqxx::transaction_base& tx) -> asl::Result<StateMachineInfo> {
    if (store::InsertStateMachine(tx, row)) {
      std::optional<store::StateMachineRow> created = store::GetStateMachine(tx, name);
      return ToInfo(*created);
    }
    std::optional<store::StateMachineRow> existing = store::GetStateMachine(tx, name);
    if (existing && existing->definition == definition && existing->type == type &&
        existing->role_arn == role_arn) {
      return ToInfo(*existing);
    }
    return Err(kStateMachineAlreadyExists, "State Machine Already Exists: '" + row.arn + "'");
  });
}

asl::Result<StateMachineInfo> Engine::UpdateStateMachine(const std::string& name_or_arn,
                                                         const std::string& definition) {
  std::optional<std::string> name = impl_->StateMachineName(name_or_arn);
  if (!name) return Err(kInvalidArn, "Invalid Arn: '" + name_or_arn + "'");
  asl::ParseResult parsed = asl::ParseDefinition(definition);
  if (!parsed.ok()) {
    std::string cause = "Invalid State Machine Definition: '";
    for (const auto& d : parsed.diagnostics) {
      if (d.severity == asl::Severity::kError) cause += d.code + ": " + d.message + " ";
    }
    return Err(kInvalidDefinition, cause + "'");
  }
  std::string revision_id = RandomUuid();
  asl::Result<StateMachineInfo> updated =
      impl_->db_->Transact([&](pqxx::transaction_base& tx) -> asl::Result<StateMachineInfo> {
        if (!store::UpdateStateMachine(tx, *name, revision_id, definition, "")) {
          return Err(kStateMachineDoesNotExist,
                     "State Machine Does Not Exist: '" + impl_->StateMachineArn(*name) + "'");
        }
        return ToInfo(*store::GetStateMachine(tx, *name));
      });
  impl_->ForgetMachine(*name);  // committed: this node's next start reads the new revision
  return updated;
}

asl::Result<StateMachineInfo> Engine::DescribeStateMachine(const std::string& name_or_arn) {
  std::optional<std::string> name = impl_->StateMachineName(name_or_arn);
  if (!name) return Err(kInvalidArn, "Invalid Arn: '" + name_or_arn + "'");
  std::optional<store::StateMachineRow> row = impl_->db_->Transact(
      [&](pqxx::transaction_base& tx) { return store::GetStateMachine(tx, *name); });
  if (!row) {
    return Err(kStateMachineDoesNotExist,
               "State Machine Does Not Exist: '" + impl_->StateMachineArn(*name) + "'");
  }
  return ToInfo(*row);
}

std::vector<StateMachineInfo> Engine::ListStateMachines() {
  std::vector<store::StateMachineRow> rows = impl_->db_->Transact(
      [&](pqxx::transaction_base& tx) { return store::ListStateMachines(tx); });
  std::vector<StateMachineInfo> infos;
  for (const auto& row : rows) infos.push_back(ToInfo(row));
  return infos;
}

asl::Status Engine::DeleteStateMachine(const std::string& name_or_arn) {
  std::optional<std::string> name = impl_->StateMachineName(name_or_arn);
  if (!name) return Err(kInvalidArn, "Invalid Arn: '" + name_or_arn + "'");
  impl_->db_->Transact([&](pqxx::transaction_base& tx) {
    if (store::DeleteStateMachine(tx, *name)) {
      store::DeleteVersionsAndAliases(tx, *name);
      store::RemoveAllTags(tx, impl_->StateMachineArn(*name));
    }
  });
  impl_->ForgetMachine(*name);
  return {};
}

asl::Result<PreparedStart> Engine::Impl::PrepareStart(const std::string& state_machine,
                                                      const std::string& name,
                                                      const std::string& input) {
  PreparedStart start;
  if (IsQualifiedStateMachineArn(state_machine)) {
    asl::Result<StartTarget> resolved = ResolveStartTarget(state_machine);
    if (!resolved.ok()) return resolved.error();
    start.target = std::move(*resolved);
  }
  std::optional<std::string> machine = start.target.machine_name.empty()
                                           ? StateMachineName(state_machine)
                                           : start.target.machine_name;
  if (!machine) return Err(kInvalidArn, "Invalid Arn: '" + state_machine + "'");
  start.machine_name = std::move(*machine);
  start.execution_name = name.empty() ? RandomUuid() : name;
  if (!ValidName(start.execution_name)) return Err(kInvalidName, "Invalid Name: '" + name + "'");
  start.input_text = input.empty() ? "{}" : input;
  if (start.input_text.size() > static_cast<std::size_t>(kMaxInputBytes)) {
    return Err(kValidationException,
               "1 validation error detected: Value at 'input' failed to satisfy constraint: "
               "Member must have length less than or equal to 262144");
  }
  std::string parse_error;
  std::optional<asl::Json> parsed = asl::ParseJson(start.input_text, &parse_error);
  if (!parsed) {
    return Err(kInvalidExecutionInput,
               "Invalid State Machine Execution Input: '" + parse_error + "'");
  }
  start.input = std::move(*parsed);
  return start;
}

namespace {

DecisionRequest StartRequestOf(const PreparedStart& prepared) {
  DecisionRequest request;
  request.kind = DecisionRequest::Kind::kStart;
  request.state_machine_name = prepared.machine_name;
  request.execution_name = prepared.execution_name;
  request.input_text = prepared.input_text;
  request.revision_id = prepared.target.revision_id;
  request.version_arn = prepared.target.version_arn;
  request.alias_arn = prepared.target.alias_arn;
  return request;
}

}  // namespace

asl::Result<StartExecutionResult> Engine::Impl::StartExpress(const PreparedStart& prepared,
                                                             const std::string& stored_definition) {
  const std::string& machine = prepared.machine_name;
  const std::string& execution_name = prepared.execution_name;
  const std::string& input_text = prepared.input_text;
  const StartTarget& target = prepared.target;
  // An Express execution: in memory on this node, at most once.
  asl::ParseResult parsed =
      asl::ParseDefinition(target.definition.empty() ? stored_definition : target.definition);
  if (!parsed.ok()) return Err(kInvalidDefinition, "stored definition does not parse");
  auto definition = std::make_shared<asl::StateMachineDef>(std::move(*parsed.definition));
  StartExecutionResult result;
  result.execution_arn = ExecutionArn(machine, execution_name + ":" + RandomUuid(), true);
  result.start_date = RealNow();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Err("ServiceUnavailable", "the engine is shutting down");
  }
  std::lock_guard<std::mutex> lock(express_mu_);
  MemoryDriverOptions driver_options;
  driver_options.execution_name = execution_name;
  driver_options.state_machine_name = machine;
  driver_options.seed = std::random_device{}();
  driver_options.execution_type = asl::ExecutionType::kExpress;
  driver_options.keep_history = false;  // Express: history only when asked (not yet)
  auto driver = std::make_shared<MemoryDriver>(*definition, *backend_, std::move(driver_options));
  express_[result.execution_arn] = driver.get();
  std::string arn = result.execution_arn;
  Impl* impl = this;
  // Threads of Express executions that ended are joined here, so they do not accumulate.
  auto& threads = express_threads_;
  for (auto it = threads.begin(); it != threads.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = threads.erase(it);
    } else {
      ++it;
    }
  }
  auto done = std::make_shared<std::atomic<bool>>(false);
  Impl::ExpressThread express;
  express.done = done;
  express.thread = std::thread([impl, driver, definition, arn, input_text, done] {
    (void)driver->Run(*asl::ParseJson(input_text));
    std::lock_guard<std::mutex> inner(impl->express_mu_);
    impl->express_.erase(arn);
    *done = true;
  });
  threads.push_back(std::move(express));
  return result;
}

asl::Result<StartExecutionResult> Engine::StartExecution(const std::string& state_machine,
                                                         const std::string& name,
                                                         const std::string& input) {
  asl::Result<PreparedStart> prepared = impl_->PrepareStart(state_machine, name, input);
  if (!prepared.ok()) return prepared.error();
  DecisionReply reply = impl_->Decide(StartRequestOf(*prepared));
  if (reply.error.error == "__express__") return impl_->StartExpress(*prepared, reply.error.cause);
  if (!reply.error.error.empty()) return reply.error;
  StartExecutionResult result;
  result.execution_arn = reply.execution_arn;
  result.start_date = reply.date;
  return result;
}

bool Engine::StartExecutionAsync(const std::string& state_machine, const std::string& name,
                                 const std::string& input,
                                 std::function<void(asl::Result<StartExecutionResult>)> done) {
  if (Impl::IsQualifiedStateMachineArn(state_machine)) return false;  // resolving reads
  asl::Result<PreparedStart> prepared = impl_->PrepareStart(state_machine, name, input);
  if (!prepared.ok()) {
    done(prepared.error());
    return true;
  }
  DecisionRequest request = StartRequestOf(*prepared);
  Impl* impl = impl_.get();
  auto kept = std::make_shared<PreparedStart>(std::move(*prepared));  // for an Express start
  impl_->DecideAsync(std::move(request), [impl, kept, done = std::move(done)](DecisionReply reply) {
    if (reply.error.error == "__express__") {
      done(impl->StartExpress(*kept, reply.error.cause));
    } else if (!reply.error.error.empty()) {
      done(std::move(reply.error));
    } else {
      StartExecutionResult result;
      result.execution_arn = std::move(reply.execution_arn);
      result.start_date = reply.date;
      done(std::move(result));
    }
  });
  return true;
}

asl::Result<SyncExecutionResult> Engine::StartSyncExecution(const std::string& state_machine,
                                                            const std::string& name,
                                                            const std::string& input) {
  asl::Result<PreparedStart> prepared = impl_->PrepareStart(state_machine, name, input);
  if (!prepared.ok()) return prepared.error();
  const std::string& machine = prepared->machine_name;
  const std::string& execution_name = prepared->execution_name;
  // A version keeps its machine's type (UpdateStateMachine cannot change it), so a version or
  // alias of an Express machine runs here and one of a Standard machine is refused alike.
  asl::Result<StateMachineInfo> info = DescribeStateMachine(machine);
  if (!info.ok()) return info.error();
  if (info->type != "EXPRESS") {
    return Err(kStateMachineTypeNotSupported,
               "This operation is not supported by this type of state machine");
  }
  asl::ParseResult parsed = asl::ParseDefinition(
      prepared->target.definition.empty() ? info->definition : prepared->target.definition);
  if (!parsed.ok()) return Err(kInvalidDefinition, "stored definition does not parse");
  MemoryDriverOptions driver_options;
  driver_options.execution_name = execution_name;
  driver_options.state_machine_name = machine;
  driver_options.seed = std::random_device{}();
  driver_options.execution_type = asl::ExecutionType::kExpress;
  driver_options.keep_history = false;
  SyncExecutionResult result;
  result.state_machine_arn = info->arn;
  result.name = execution_name;
  result.execution_arn = impl_->ExecutionArn(machine, execution_name + ":" + RandomUuid(), true);
  result.start_date = RealNow();
  MemoryDriver driver(*parsed.definition, *impl_->backend_, std::move(driver_options));
  {
    std::lock_guard<std::mutex> lock(impl_->express_mu_);
    impl_->express_[result.execution_arn] = &driver;
  }
  RunResult run = driver.Run(std::move(prepared->input));
  {
    std::lock_guard<std::mutex> lock(impl_->express_mu_);
    impl_->express_.erase(result.execution_arn);
  }
  result.stop_date = RealNow();
  result.status = std::string(asl::ExecutionStatusName(run.status));
  if (run.status == asl::ExecutionStatus::kSucceeded) result.output = asl::DumpJson(run.output);
  result.error = run.error;
  result.cause = run.cause;
  return result;
}

asl::Result<ExecutionInfo> Engine::DescribeExecution(const std::string& execution_arn) {
  std::optional<store::ExecutionTargetRow> target;
  std::optional<store::ExecutionRow> row = impl_->db_->Transact([&](pqxx::transaction_base& tx) {
    std::optional<store::ExecutionRow> found = store::FindExecution(tx, execution_arn);
    target.reset();
    if (found) target = store::GetExecutionTarget(tx, found->execution_id);
    return found;
  });
  if (!row) {
    return Err(kExecutionDoesNotExist, "Execution Does Not Exist: '" + execution_arn + "'");
  }
  ExecutionInfo info = ToInfo(*row);
  if (target) {
    info.state_machine_version_arn = target->version_arn;
    info.state_machine_alias_arn = target->alias_arn;
  }
  impl_->FillRedriveStatus(info);
  return info;
}

asl::Result<std::vector<ExecutionInfo>> Engine::ListExecutions(const std::string& state_machine,
                                                               const std::string& status_filter,
                                                               int64_t max_results) {
  std::optional<std::string> machine = impl_->StateMachineName(state_machine);
  if (!machine) return Err(kInvalidArn, "Invalid Arn: '" + state_machine + "'");
  max_results = std::clamp<int64_t>(max_results <= 0 ? 100 : max_results, 1, 1000);
  return impl_->db_->Transact(
      [&](pqxx::transaction_base& tx) -> asl::Result<std::vector<ExecutionInfo>> {
        if (!store::GetStateMachine(tx, *machine)) {
          return Err(kStateMachineDoesNotExist,
                     "State Machine Does Not Exist: '" + impl_->StateMachineArn(*machine) + "'");
        }
        std::vector<ExecutionInfo> infos;
        for (const auto& row : store::ListExecutions(tx, *machine, status_filter, 0, max_results)) {
          infos.push_back(ToInfo(row));
        }
        return infos;
      });
}

asl::Result<HistoryPage> Engine::GetExecutionHistory(const std::string& execution_arn,
                                                     int64_t max_results,
                                                     const std::string& next_token,
                                                     bool reverse_order) {
  max_results = std::clamp<int64_t>(max_results <= 0 ? 100 : max_results, 1, 1000);
  int64_t from = 0;
  if (!next_token.empty()) {
    try {
      std::size_t used = 0;
      from = std::stoll(next_token, &used);
      if (used != next_token.size() || from < 0) throw std::invalid_argument("token");
    } catch (const std::exception&) {
      return Err("InvalidToken", "Invalid Token: '" + next_token + "'");
    }
  }
  return impl_->db_->Transact([&](pqxx::transaction_base& tx) -> asl::Result<HistoryPage> {
    std::optional<store::ExecutionRow> row = store::FindExecution(tx, execution_arn);
    if (!row) {
      return Err(kExecutionDoesNotExist, "Execution Does Not Exist: '" + execution_arn + "'");
    }
    HistoryPage page;
    std::vector<store::HistoryRow> rows =
        store::ReadHistory(tx, row->execution_id, from, max_results + 1, reverse_order);
    bool more = static_cast<int64_t>(rows.size()) > max_results;
    if (more) rows.pop_back();
    for (auto& h : rows) {
      HistoryEntry entry;
      entry.id = h.event_id;
      entry.previous_event_id = h.previous_event_id;
      entry.timestamp = h.timestamp;
      entry.type = std::move(h.type);
      entry.details_key = std::move(h.details_key);
      entry.details = std::move(h.details);
      page.events.push_back(std::move(entry));
    }
    if (more && !page.events.empty()) page.next_token = std::to_string(page.events.back().id);
    return page;
  });
}

asl::Result<int64_t> Engine::StopExecution(const std::string& execution_arn,
                                           const std::string& error, const std::string& cause) {
  {
    std::lock_guard<std::mutex> lock(impl_->express_mu_);
    auto it = impl_->express_.find(execution_arn);
    if (it != impl_->express_.end()) {
      it->second->Stop(error, cause);
      return RealNow();
    }
  }
  DecisionRequest request;
  request.kind = DecisionRequest::Kind::kStop;
  request.execution_arn = execution_arn;
  request.event.error = error;
  request.event.cause = cause;
  DecisionReply reply = impl_->Decide(std::move(request));
  if (!reply.error.error.empty()) return reply.error;
  return reply.date;
}

asl::Result<ExecutionInfo> Engine::WaitForExecution(const std::string& execution_arn,
                                                    std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::chrono::milliseconds pause(5);
  for (;;) {
    asl::Result<ExecutionInfo> info = DescribeExecution(execution_arn);
    if (!info.ok() || info->status != "RUNNING" || std::chrono::steady_clock::now() >= deadline) {
      return info;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
  }
}

namespace {
bool ValidToken(const std::string& token) { return !token.empty() && token.size() <= 2048; }
}  // namespace

asl::Status Engine::SendTaskSuccess(const std::string& token, const std::string& output) {
  if (!ValidToken(token)) return Err(kInvalidToken, "Invalid Token: '" + token + "'");
  std::string parse_error;
  std::optional<asl::Json> parsed = asl::ParseJson(output, &parse_error);
  if (!parsed) return Err(kInvalidOutput, "Invalid Output: '" + parse_error + "'");
  {
    // An Express execution of this node?
    std::lock_guard<std::mutex> lock(impl_->express_mu_);
    for (auto& [arn, driver] : impl_->express_)
      driver->SendTaskSuccess(token, asl::CopyJson(*parsed));
  }
  DecisionRequest request;
  request.kind = DecisionRequest::Kind::kCallback;
  request.token = token;
  request.event = asl::Event::TaskSucceeded("", std::move(*parsed));
  request.event.token = token;
  DecisionReply reply = impl_->Decide(std::move(request));
  if (!reply.error.error.empty()) return reply.error;
  return {};
}

asl::Status Engine::SendTaskFailure(const std::string& token, const std::string& error,
                                    const std::string& cause) {
  if (!ValidToken(token)) return Err(kInvalidToken, "Invalid Token: '" + token + "'");
  {
    std::lock_guard<std::mutex> lock(impl_->express_mu_);
    for (auto& [arn, driver] : impl_->express_) driver->SendTaskFailure(token, error, cause);
  }
  DecisionRequest request;
  request.kind = DecisionRequest::Kind::kCallback;
  request.token = token;
  request.event = asl::Event::TaskFailed("", error, cause);
  request.event.token = token;
  DecisionReply reply = impl_->Decide(std::move(request));
  if (!reply.error.error.empty()) return reply.error;
  return {};
}

asl::Status Engine::SendTaskHeartbeat(const std::string& token) {
  if (!ValidToken(token)) return Err(kInvalidToken, "Invalid Token: '" + token + "'");
  {
    std::lock_guard<std::mutex> lock(impl_->express_mu_);
    for (auto& [arn, driver] : impl_->express_) driver->SendTaskHeartbeat(token);
  }
  DecisionRequest request;
  request.kind = DecisionRequest::Kind::kHeartbeat;
  request.token = token;
  DecisionReply reply = impl_->Decide(std::move(request));
  if (!reply.error.error.empty()) return reply.error;
  return {};
}

}  // namespace switchyard::orchestrator
