#pragma once
// EventBridge Scheduler's engine: what a schedule's definition means (ScheduleSpec), when it
// fires next, and the firing loop every `switchyard serve` node runs.
//
// Firing, exactly once per occurrence across nodes: a schedule row carries its next occurrence
// (next_at) and when to fire it (fire_at = next_at + a random offset inside a FLEXIBLE window).
// A node claims due rows FOR UPDATE SKIP LOCKED and, in the same transaction, writes the
// occurrence as a firing (id derived from the schedule ARN and the occurrence, so a repeat is a
// no-op) and the occurrence after it (store::ScheduleStore::FireDue). Firings are then delivered
// under a lease: a Lambda function through the durable Event queue (async_invocations, request
// id = firing id, queued and the firing deleted in one transaction); a state machine through
// Engine::StartExecution with the firing id as the execution name (idempotent by name).
//
// The catch-up window: an occurrence at time T is fired when the scheduler reaches it at a
// time `now` with now - T <= the target's RetryPolicy.MaximumEventAgeInSeconds (default 86400 s).
// After downtime every missed occurrence inside that window fires once, in order; older ones
// are skipped (logged, not fired) and the schedule continues with the first occurrence inside
// the window. A delivery that fails is retried (backoff 1, 2, 4 ... 60 s) while the event is
// younger than MaximumEventAgeInSeconds and attempts <= MaximumRetryAttempts (default 185);
// then it is recorded in schedule_dead_letters with the DeadLetterConfig ARN.
//
// The clock: the wall clock, plus the offset in seconds read from the file named by
// SWITCHYARD_TEST_CLOCK_OFFSET_FILE when that variable is set (test-only; docs/operations.md).
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "engine/schedule_expr.hpp"
#include "store/schedule_store.hpp"

namespace switchyard::orchestrator::store {
class QueueStore;
}  // namespace switchyard::orchestrator::store

namespace switchyard::orchestrator {

class Engine;

// The scheduler's clock, seconds since the epoch (see above). Thread-safe.
double SchedulerNow();

struct ScheduleSpec {
  std::string expression_text;
  schedule::Expression expression;
  std::string timezone = "UTC";
  const date::time_zone* zone = nullptr;
  std::optional<double> start_date;
  std::optional<double> end_date;
  std::string state = "ENABLED";
  int flexible_window_minutes = 0;  // 0: Mode OFF
  std::string action_after_completion = "NONE";
  std::string target_arn;
  std::optional<std::string> input;
  int maximum_event_age_seconds = 86400;
  int maximum_retry_attempts = 185;
  std::string dead_letter_arn;
};

// Reads a stored definition (JSON written by the API after validation). nullopt with `*error`
// when it is not one (the API's own validation words AWS's messages).
std::optional<ScheduleSpec> ParseScheduleSpec(const std::string& definition, std::string* error);

struct NextFiring {
  std::optional<double> next_at;
  std::optional<double> fire_at;
};
// The first occurrence at or after `from` inside [StartDate, EndDate] (at() ignores both, as
// AWS), and its fire time.
NextFiring ComputeNextFiring(const ScheduleSpec& spec, double anchor, double from);

// arn:aws:scheduler:<region>:<account>:schedule/<group>/<name>
std::string ScheduleArn(const std::string& region, const std::string& account,
                        const std::string& group, const std::string& name);

// What the firing transaction does with a due schedule at `now` (see the catch-up window).
store::FiringDecision DecideFiring(const store::ScheduleRow& row, double now,
                                   const std::string& region, const std::string& account);

struct SchedulerOptions {
  std::string database_url;
  std::string node_id;  // empty: generated
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  Engine* engine = nullptr;  // state machine targets; must outlive the scheduler
  // SQS queue targets and dead-letter queues (arn:aws:sqs:...); null: neither is reachable and
  // such firings are dead-lettered into schedule_dead_letters only. Must outlive the scheduler.
  store::QueueStore* queues = nullptr;
  double poll_seconds = 0.25;
  double lease_seconds = 30;
};

// The firing loop of one node (one thread). Thread model: Start and Stop from one thread.
class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options);
  ~Scheduler();  // Stop()
  void Start();
  void Stop();
  // One round: fires what is due, then delivers due firings. Returns how many it handled.
  int RunOnce();

 private:
  bool DeliverOne();
  SchedulerOptions options_;
  std::unique_ptr<store::ScheduleStore> store_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace switchyard::orchestrator
