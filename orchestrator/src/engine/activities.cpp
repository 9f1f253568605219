// Activities (CreateActivity ... GetActivityTask), RedriveExecution and retention: the parts of
// the Engine API that sit beside executions. The decisions they cause are made in decisions.cpp.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "engine/engine_impl.hpp"
#include "store/activity_store.hpp"
#include "switchyard/asl/json.hpp"
#include "switchyard/asl/names.hpp"
#include "switchyard/orchestrator/request_limits.hpp"

namespace switchyard::orchestrator {

namespace asl = switchyard::asl;

namespace {

constexpr int64_t kNanosPerSecond = 1000000000;
constexpr int64_t kRedrivablePeriodNanos = 14LL * 24 * 3600 * kNanosPerSecond;
constexpr int64_t kPurgeBatch = 200;
// GetActivityTask looks again at least this often when no wake-up comes (a NOTIFY lost while
// the listener reconnects, another node's task).
constexpr auto kActivityPollBackstop = std::chrono::seconds(1);

asl::Error Err(std::string_view code, std::string message) {
  return asl::Error{std::string(code), std::move(message)};
}

ActivityInfo ToInfo(const store::ActivityRow& row) {
  ActivityInfo info;
  info.name = row.name;
  info.arn = row.arn;
  info.tags = row.tags;
  info.creation_date = row.created_at;
  return info;
}

// The same tags, whatever their order and spacing.
bool SameTags(const std::string& a, const std::string& b) {
  std::optional<asl::Json> left = asl::ParseJson(a);
  std::optional<asl::Json> right = asl::ParseJson(b);
  if (!left || !right) return a == b;
  return asl::DumpJson(*left) == asl::DumpJson(*right);
}

}  // namespace

// ---- Impl -------------------------------------------------------------------------------------

void Engine::Impl::WakeActivityPollers() {
  {
    std::lock_guard<std::mutex> lock(activity_mu_);
    ++activity_epoch_;
  }
  activity_cv_.notify_all();
}

int64_t Engine::Impl::PurgeExpired() {
  if (options_.retention.count() <= 0) return 0;
  const int64_t cutoff =
      Now() - std::chrono::duration_cast<std::chrono::nanoseconds>(options_.retention).count();
  int64_t total = 0;
  for (;;) {
    // Small batches, each its own short transaction, so that purging never holds many locks.
    int64_t purged = db_->Transact([&](pqxx::transaction_base& tx) {
      return store::PurgeExecutions(tx, cutoff, kPurgeBatch);
    });
    if (purged <= 0) break;  // done, or another node is purging
    total += purged;
    std::lock_guard<std::mutex> lock(activity_mu_);
    if (activity_stop_) break;
  }
  if (total > 0) spdlog::info("engine: node={} retention purged={}", node_id_, total);
  return total;
}

void Engine::Impl::RetentionLoop() {
  for (;;) {
    try {
      (void)PurgeExpired();
    } catch (const std::exception& e) {
      spdlog::warn("engine: node={} retention pass failed: {}", node_id_, e.what());
    }
    std::unique_lock<std::mutex> lock(activity_mu_);
    if (activity_cv_.wait_for(lock, options_.retention_interval, [&] { return activity_stop_; })) {
      return;
    }
  }
}

void Engine::Impl::FillRedriveStatus(ExecutionInfo& info) {
  info.redrive_status = "NOT_REDRIVABLE";
  if (info.redrive_count == 0 && (info.status == "RUNNING" || info.status == "SUCCEEDED")) {
    // The common case needs no second look at the database.
    info.redrive_status_reason = "Execution is " + info.status + " and cannot be redriven.";
    return;
  }
  std::optional<store::RedriveRow> row = db_->Transact(
      [&](pqxx::transaction_base& tx) { return store::GetRedriveRow(tx, info.execution_arn); });
  if (row) info.redrive_date = row->redrive_date;
  info.redrive_status = "NOT_REDRIVABLE";
  if (info.status == "RUNNING" || info.status == "SUCCEEDED") {
    info.redrive_status_reason = "Execution is " + info.status + " and cannot be redriven.";
    return;
  }
  const int64_t now = Now();
  if (info.stop_date && *info.stop_date < now - kRedrivablePeriodNanos) {
    info.redrive_status_reason = "Execution redrivable period exceeded.";
    return;
  }
  if (!row || !row->snapshot) {
    info.redrive_status_reason = "Execution cannot be redriven.";
    return;
  }
  std::optional<asl::Json> snapshot = asl::ParseJson(*row->snapshot);
  asl::Result<asl::ExecutionState> state =
      snapshot ? asl::ExecutionState::FromJson(*snapshot)
               : asl::Result<asl::ExecutionState>(asl::Error{"", ""});
  if (!state.ok() || state->redrive_entered_event_id() == 0) {
    std::string reason = state.ok() ? state->redrive_refusal() : std::string();
    info.redrive_status_reason = reason.empty() ? "Execution cannot be redriven." : reason;
    return;
  }
  if (state->history_size() >= asl::kMaxHistoryEvents - 1) {
    info.redrive_status_reason = "Execution history event limit exceeded.";
    return;
  }
  info.redrive_status = "REDRIVABLE";
}

// ---- Engine: activities -----------------------------------------------------------------------

namespace {
// arn:aws:states:<region>:<account>:activity:<name> → true when well formed.
bool ValidActivityArn(const std::string& arn) { return asl::IsActivityResource(arn); }
}  // namespace

asl::Result<ActivityInfo> Engine::CreateActivity(const std::string& name, const std::string& tags) {
  if (std::optional<RequestError> problem = CheckExecutionName(name)) {
    return Err(problem->type, problem->message);
  }
  store::ActivityRow row;
  row.name = name;
  row.arn = "arn:aws:states:" + impl_->options_.region + ":" + impl_->options_.account_id +
            ":activity:" + name;
  row.tags = tags.empty() ? "[]" : tags;
  return impl_->db_->Transact([&](pqxx::transaction_base& tx) -> asl::Result<ActivityInfo> {
    if (store::InsertActivity(tx, row)) return ToInfo(*store::GetActivity(tx, row.arn));
    std::optional<store::ActivityRow> existing = store::GetActivity(tx, row.arn);
    if (!existing) {
      return Err(kActivityAlreadyExists, "Activity already exists: '" + row.arn + "'");
    }
    // AWS: CreateActivity is idempotent unless the tags differ.
    if (!SameTags(existing->tags, row.tags)) {
      return Err(kActivityAlreadyExists,
                 "Activity already exists with different tags: '" + row.arn + "'");
    }
    return ToInfo(*existing);
  });
}

asl::Status Engine::DeleteActivity(const std::string& activity_arn) {
  if (!ValidActivityArn(activity_arn)) {
    return Err(kInvalidArn,
               "Invalid Arn: 'Resource type not valid in this context: " + activity_arn + "'");
  }
  impl_->db_->Transact(
      [&](pqxx::transaction_base& tx) { (void)store::DeleteActivity(tx, activity_arn); });
  return {};
}

asl::Result<ActivityInfo> Engine::DescribeActivity(const std::string& activity_arn) {
  if (!ValidActivityArn(activity_arn)) {
    return Err(kInvalidArn,
               "Invalid Arn: 'Resource type not valid in this context: " + activity_arn + "'");
  }
  std::optional<store::ActivityRow> row = impl_->db_->Transact(
      [&](pqxx::transaction_base& tx) { return store::GetActivity(tx, activity_arn); });
  if (!row) {
    return Err(kActivityDoesNotExist, "Activity Does Not Exist: '" + activity_arn + "'");
  }
  return ToInfo(*row);
}

asl::Result<ActivityPage> Engine::ListActivities(int64_t max_results,
                                                 const std::string& next_token) {
  max_results = std::clamp<int64_t>(max_results <= 0 ? 100 : max_results, 1, 1000);
  // The token is the last name listed (names are unique and ordered).
  if (next_token.size() > 1024) {
    return Err("InvalidToken", "Invalid Token: '" + next_token + "'");
  }
  std::vector<store::ActivityRow> rows = impl_->db_->Transact([&](pqxx::transaction_base& tx) {
    return store::ListActivities(tx, next_token, max_results + 1);
  });
  ActivityPage page;
  bool more = static_cast<int64_t>(rows.size()) > max_results;
  if (more) rows.pop_back();
  for (const auto& row : rows) page.activities.push_back(ToInfo(row));
  if (more && !page.activities.empty()) page.next_token = page.activities.back().name;
  return page;
}

asl::Result<ActivityTask> Engine::GetActivityTask(const std::string& activity_arn,
                                                  const std::string& worker_name,
                                                  std::chrono::milliseconds wait) {
  if (!ValidActivityArn(activity_arn)) {
    return Err(kInvalidArn,
               "Invalid Arn: 'Resource type not valid in this context: " + activity_arn + "'");
  }
  if (!DescribeActivity(activity_arn).ok()) {
    return Err(kActivityDoesNotExist, "Activity Does Not Exist: '" + activity_arn + "'");
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    uint64_t epoch = 0;
    {
      std::lock_guard<std::mutex> lock(impl_->activity_mu_);
      if (impl_->activity_stop_) return ActivityTask{};
      epoch = impl_->activity_epoch_;
    }
    // Taking the task and recording ActivityStarted are one decision (one transaction).
    DecisionRequest request;
    request.kind = DecisionRequest::Kind::kActivityTake;
    request.activity_arn = activity_arn;
    request.worker_name = worker_name;
    DecisionReply reply = impl_->Decide(std::move(request));
    if (!reply.error.error.empty()) return reply.error;
    if (!reply.token.empty()) return ActivityTask{reply.token, reply.input};
    // Nothing waits: sleep (holding no connection) until a task may have come, or the backstop.
    std::unique_lock<std::mutex> lock(impl_->activity_mu_);
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return ActivityTask{};
    impl_->activity_cv_.wait_until(lock, std::min(deadline, now + kActivityPollBackstop), [&] {
      return impl_->activity_stop_ || impl_->activity_epoch_ != epoch;
    });
  }
}

// ---- Engine: redrive and retention ------------------------------------------------------------

asl::Result<int64_t> Engine::RedriveExecution(const std::string& execution_arn,
                                              const std::string& client_token) {
  if (!execution_arn.starts_with("arn:aws:states:") ||
      execution_arn.find(":execution:") == std::string::npos) {
    if (execution_arn.find(":express:") != std::string::npos) {
      return Err(kExecutionNotRedrivable, "Express executions cannot be redriven.");
    }
    return Err(kInvalidArn, "Invalid Arn: '" + execution_arn + "'");
  }
  DecisionRequest request;
  request.kind = DecisionRequest::Kind::kRedrive;
  request.execution_arn = execution_arn;
  request.client_token = client_token;
  DecisionReply reply = impl_->Decide(std::move(request));
  if (!reply.error.error.empty()) return reply.error;
  return reply.date / 1000 * 1000;  // as stored (PostgreSQL keeps microseconds)
}

int64_t Engine::PurgeExpiredExecutions() { return impl_->PurgeExpired(); }

}  // namespace switchyard::orchestrator
