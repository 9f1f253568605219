#pragma once
// EventBridge Scheduler's rows on PostgreSQL (migrations/0005_schedules.sql): schedule groups,
// schedules with their next occurrence, the firings to deliver, and dead letters. Free of pqxx
// (pimpl). Times are seconds since the epoch of the scheduler's clock, passed in by the caller.
// Thread model: thread-safe; each call is one transaction on a small pool of its own. Database
// failures that outlast the pool's retries throw.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchyard::orchestrator::store {

class ConnectionPool;

struct ScheduleGroupRow {
  std::string name;
  double created_at = 0;
  double modified_at = 0;
};

struct ScheduleRow {
  std::string group_name;
  std::string name;
  std::string definition;  // JSON object of the settable members
  std::string state;       // ENABLED | DISABLED
  std::string target_arn;
  std::string client_token;
  double created_at = 0;
  double modified_at = 0;
  double anchor_at = 0;
  std::optional<double> next_at;  // nullopt: no further occurrence
  std::optional<double> fire_at;
};

enum class ScheduleOutcome { kOk, kNotFound, kGroupNotFound, kConflict };

// What the firing transaction does with one due schedule (decided by the scheduler).
struct FiringDecision {
  bool fire = false;      // enqueue a firing of the occurrence `next_at`
  std::string firing_id;  // its id (stable per schedule and occurrence)
  std::string schedule_arn;
  std::string target;             // JSON
  std::optional<double> next_at;  // the occurrence after it (nullopt: none)
  std::optional<double> fire_at;
  bool delete_schedule = false;  // ActionAfterCompletion DELETE and no occurrence left
};

struct FiringRow {
  std::string firing_id;
  std::string schedule_arn;
  std::string target;
  double occurrence = 0;
  int attempts = 0;
  int64_t generation = 0;
};

class ScheduleStore {
 public:
  explicit ScheduleStore(const std::string& database_url, std::size_t pool_size = 3);
  ~ScheduleStore();
  ScheduleStore(const ScheduleStore&) = delete;
  ScheduleStore& operator=(const ScheduleStore&) = delete;

  // kConflict when it exists (kOk when it exists with the same non-empty client token).
  ScheduleOutcome CreateGroup(const std::string& name, const std::string& client_token, double now);
  std::optional<ScheduleGroupRow> GetGroup(const std::string& name) const;
  // Names > `after`, with `prefix`, by name, at most `limit`.
  std::vector<ScheduleGroupRow> ListGroups(const std::string& prefix, const std::string& after,
                                           int limit) const;
  // Tags of a group as a JSON object {"key": "value"}; nullopt when the group does not exist.
  std::optional<std::string> GroupTags(const std::string& name) const;
  // Merges `tags` (a JSON object) into the group's tags / removes `keys` (a JSON array of
  // strings). kNotFound when the group does not exist.
  ScheduleOutcome TagGroup(const std::string& name, const std::string& tags);
  ScheduleOutcome UntagGroup(const std::string& name, const std::string& keys);
  // Deletes the group and its schedules. kNotFound when absent.
  ScheduleOutcome DeleteGroup(const std::string& name);

  // kGroupNotFound, kConflict (kOk for a repeat with the same non-empty client token).
  ScheduleOutcome CreateSchedule(const ScheduleRow& row);
  std::optional<ScheduleRow> GetSchedule(const std::string& group_name,
                                         const std::string& name) const;
  // Replaces the settable columns (created_at and client_token kept). kNotFound, kGroupNotFound.
  ScheduleOutcome UpdateSchedule(const ScheduleRow& row);
  ScheduleOutcome DeleteSchedule(const std::string& group_name, const std::string& name);
  // Filters are ignored when empty; (group, name) > (after_group, after_name); at most `limit`.
  std::vector<ScheduleRow> ListSchedules(const std::string& group_name, const std::string& prefix,
                                         const std::string& state, const std::string& after_group,
                                         const std::string& after_name, int limit) const;

  // One firing transaction: claims up to `limit` schedules with fire_at <= now (FOR UPDATE SKIP
  // LOCKED: a schedule another node is firing is not waited for), asks `decide` about each, and
  // in the same transaction inserts the firing (ON CONFLICT DO NOTHING) and writes the next
  // occurrence or deletes the schedule. Returns how many schedules it claimed.
  int FireDue(double now, int limit,
              const std::function<FiringDecision(const ScheduleRow&)>& decide);

  // Claims the earliest firing due at `now` (or whose lease expired) for `lease_seconds`.
  std::optional<FiringRow> ClaimFiring(const std::string& node_id, double now,
                                       double lease_seconds);
  // A Lambda target, exactly once: in one transaction, checks that the function exists, queues
  // the Event invocation (async_invocations, request id = firing id) and deletes the firing.
  // False (nothing written) when the function does not exist; true also when the claim was lost.
  bool DeliverToFunction(const FiringRow& firing, const std::string& function_name,
                         const std::string& qualifier, const std::string& payload);
  // Deletes the firing (delivered) if the claim is current.
  void CompleteFiring(const FiringRow& firing);
  // Releases the firing for another attempt at `due_at`.
  void RetryFiring(const FiringRow& firing, int attempts, double due_at);
  // Records the dead letter and deletes the firing, in one transaction.
  void DeadLetterFiring(const FiringRow& firing, const std::string& target_arn,
                        const std::string& dead_letter_arn, const std::string& input,
                        const std::string& error);
  // Dead letters of a schedule, oldest first: (dead_letter_arn, error) pairs.
  std::vector<std::pair<std::string, std::string>> DeadLetters(
      const std::string& schedule_arn) const;

 private:
  std::unique_ptr<ConnectionPool> pool_;
};

}  // namespace switchyard::orchestrator::store
