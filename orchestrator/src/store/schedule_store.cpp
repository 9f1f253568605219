#include "store/schedule_store.hpp"

#include "store/pool.hpp"

namespace switchyard::orchestrator::store {
namespace {

// Optional times travel as -1 (never a valid time here) and become NULL in SQL.
double Nullable(const std::optional<double>& value) { return value ? *value : -1.0; }
constexpr const char* kScheduleColumns =
    "group_name, name, definition, state, target_arn, client_token, "
    "extract(epoch from created_at)::float8, extract(epoch from modified_at)::float8, "
    "extract(epoch from anchor_at)::float8, extract(epoch from next_at)::float8, "
    "extract(epoch from fire_at)::float8";

ScheduleRow ReadSchedule(const pqxx::row& row) {
  ScheduleRow out;
  out.group_name = row[0].as<std::string>();
  out.name = row[1].as<std::string>();
  out.definition = row[2].as<std::string>();
  out.state = row[3].as<std::string>();
  out.target_arn = row[4].as<std::string>();
  out.client_token = row[5].as<std::string>();
  out.created_at = row[6].as<double>();
  out.modified_at = row[7].as<double>();
  out.anchor_at = row[8].as<double>();
  if (!row[9].is_null()) out.next_at = row[9].as<double>();
  if (!row[10].is_null()) out.fire_at = row[10].as<double>();
  return out;
}

bool GroupExists(pqxx::work& tx, const std::string& name) {
  return !tx.exec_params("SELECT 1 FROM schedule_groups WHERE name = $1", name).empty();
}

}  // namespace

ScheduleStore::ScheduleStore(const std::string& database_url, std::size_t pool_size)
    : pool_(std::make_unique<ConnectionPool>(database_url, pool_size)) {}

ScheduleStore::~ScheduleStore() = default;

ScheduleOutcome ScheduleStore::CreateGroup(const std::string& name, const std::string& client_token,
                                           double now) {
  return pool_->Transact([&](pqxx::work& tx) {
    const pqxx::result inserted = tx.exec_params(
        "INSERT INTO schedule_groups (name, client_token, created_at, modified_at) VALUES ($1, "
        "$2, to_timestamp($3), to_timestamp($3)) ON CONFLICT DO NOTHING RETURNING name",
        name, client_token, now);
    if (!inserted.empty()) return ScheduleOutcome::kOk;
    if (client_token.empty()) return ScheduleOutcome::kConflict;
    const pqxx::result existing = tx.exec_params(
        "SELECT 1 FROM schedule_groups WHERE name = $1 AND client_token = $2", name, client_token);
    return existing.empty() ? ScheduleOutcome::kConflict : ScheduleOutcome::kOk;
  });
}

std::optional<ScheduleGroupRow> ScheduleStore::GetGroup(const std::string& name) const {
  return pool_->Transact([&](pqxx::work& tx) -> std::optional<ScheduleGroupRow> {
    const pqxx::result rows = tx.exec_params(
        "SELECT name, extract(epoch from created_at)::float8, extract(epoch from "
        "modified_at)::float8 FROM schedule_groups WHERE name = $1",
        name);
    if (rows.empty()) return std::nullopt;
    return ScheduleGroupRow{rows[0][0].as<std::string>(), rows[0][1].as<double>(),
                            rows[0][2].as<double>()};
  });
}

std::vector<ScheduleGroupRow> ScheduleStore::ListGroups(const std::string& prefix,
                                                        const std::string& after, int limit) const {
  return pool_->Transact([&](pqxx::work& tx) {
    std::vector<ScheduleGroupRow> out;
    for (const auto& row :
         tx.exec_params("SELECT name, extract(epoch from created_at)::float8, extract(epoch from "
                        "modified_at)::float8 FROM schedule_groups WHERE name > $1 AND left(name, "
                        "length($2)) = $2 ORDER BY name LIMIT $3",
                        after, prefix, limit)) {
      out.push_back({row[0].as<std::string>(), row[1].as<double>(), row[2].as<double>()});
    }
    return out;
  });
}

std::optional<std::string> ScheduleStore::GroupTags(const std::string& name) const {
  return pool_->Transact([&](pqxx::work& tx) -> std::optional<std::string> {
    const pqxx::result rows =
        tx.exec_params("SELECT tags::text FROM schedule_groups WHERE name = $1", name);
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<std::string>();
  });
}

ScheduleOutcome ScheduleStore::TagGroup(const std::string& name, const std::string& tags) {
  return pool_->Transact([&](pqxx::work& tx) {
    const pqxx::result rows = tx.exec_params(
        "UPDATE schedule_groups SET tags = tags || $2::jsonb WHERE name = $1 RETURNING 1", name,
        tags);
    return rows.empty() ? ScheduleOutcome::kNotFound : ScheduleOutcome::kOk;
  });
}

ScheduleOutcome ScheduleStore::UntagGroup(const std::string& name, const std::string& keys) {
  return pool_->Transact([&](pqxx::work& tx) {
    const pqxx::result rows = tx.exec_params(
        "UPDATE schedule_groups SET tags = tags - ARRAY(SELECT jsonb_array_elements_text("
        "$2::jsonb)) WHERE name = $1 RETURNING 1",
        name, keys);
    return rows.empty() ? ScheduleOutcome::kNotFound : ScheduleOutcome::kOk;
  });
}

ScheduleOutcome ScheduleStore::DeleteGroup(const std::string& name) {
  return pool_->Transact([&](pqxx::work& tx) {
    const pqxx::result rows =
        tx.exec_params("DELETE FROM schedule_groups WHERE name = $1 RETURNING name", name);
    return rows.empty() ? ScheduleOutcome::kNotFound : ScheduleOutcome::kOk;
  });
}

ScheduleOutcome ScheduleStore::CreateSchedule(const ScheduleRow& row) {
  return pool_->Transact([&](pqxx::work& tx) {
    if (!GroupExists(tx, row.group_name)) return ScheduleOutcome::kGroupNotFound;
    const pqxx::result inserted = tx.exec_params(
        "INSERT INTO schedules (group_name, name, definition, state, target_arn, client_token, "
        "created_at, modified_at, anchor_at, next_at, fire_at) VALUES ($1, $2, $3, $4, $5, $6, "
        "to_timestamp($7), to_timestamp($7), to_timestamp($8), to_timestamp(NULLIF($9, -1)), "
        "to_timestamp(NULLIF($10, -1))) ON CONFLICT DO NOTHING RETURNING name",
        row.group_name, row.name, row.definition, row.state, row.target_arn, row.client_token,
        row.created_at, row.anchor_at, Nullable(row.next_at), Nullable(row.fire_at));
    if (!inserted.empty()) return ScheduleOutcome::kOk;
    if (row.client_token.empty()) return ScheduleOutcome::kConflict;
    const pqxx::result existing = tx.exec_params(
        "SELECT 1 FROM schedules WHERE group_name = $1 AND name = $2 AND client_token = $3",
        row.group_name, row.name, row.client_token);
    return existing.empty() ? ScheduleOutcome::kConflict : ScheduleOutcome::kOk;
  });
}

std::optional<ScheduleRow> ScheduleStore::GetSchedule(const std::string& group_name,
                                                      const std::string& name) const {
  return pool_->Transact([&](pqxx::work& tx) -> std::optional<ScheduleRow> {
    const pqxx::result rows = tx.exec_params(std::string("SELECT ") + kScheduleColumns +
                                                 " FROM schedules WHERE group_name = $1 AND "
                                                 "name = $2",
                                             group_name, name);
    if (rows.empty()) return std::nullopt;
    return ReadSchedule(rows[0]);
  });
}

ScheduleOutcome ScheduleStore::UpdateSchedule(const ScheduleRow& row) {
  return pool_->Transact([&](pqxx::work& tx) {
    if (!GroupExists(tx, row.group_name)) return ScheduleOutcome::kGroupNotFound;
    const pqxx::result updated = tx.exec_params(
        "UPDATE schedules SET definition = $3, state = $4, target_arn = $5, modified_at = "
        "to_timestamp($6), anchor_at = to_timestamp($7), next_at = to_timestamp(NULLIF($8, "
        "-1)), fire_at = to_timestamp(NULLIF($9, -1)) WHERE group_name = $1 AND name = $2 "
        "RETURNING name",
        row.group_name, row.name, row.definition, row.state, row.target_arn, row.modified_at,
        row.anchor_at, Nullable(row.next_at), Nullable(row.fire_at));
    return updated.empty() ? ScheduleOutcome::kNotFound : ScheduleOutcome::kOk;
  });
}

ScheduleOutcome ScheduleStore::DeleteSchedule(const std::string& group_name,
                                              const std::string& name) {
  return pool_->Transact([&](pqxx::work& tx) {
    if (!GroupExists(tx, group_name)) return ScheduleOutcome::kGroupNotFound;
    const pqxx::result rows =
        tx.exec_params("DELETE FROM schedules WHERE group_name = $1 AND name = $2 RETURNING name",
                       group_name, name);
    return rows.empty() ? ScheduleOutcome::kNotFound : ScheduleOutcome::kOk;
  });
}

std::vector<ScheduleRow> ScheduleStore::ListSchedules(
    const std::string& group_name, const std::string& prefix, const std::string& state,
    const std::string& after_group, const std::string& after_name, int limit) const {
  return pool_->Transact([&](pqxx::work& tx) {
    std::vector<ScheduleRow> out;
    for (const auto& row : tx.exec_params(
             std::string("SELECT ") + kScheduleColumns +
                 " FROM schedules WHERE ($1 = '' OR group_name = $1) AND left(name, "
                 "length($2)) = $2 AND ($3 = '' OR state = $3) AND (group_name, name) > ($4, "
                 "$5) ORDER BY group_name, name LIMIT $6",
             group_name, prefix, state, after_group, after_name, limit)) {
      out.push_back(ReadSchedule(row));
    }
    return out;
  });
}

int ScheduleStore::FireDue(double now, int limit,
                           const std::function<FiringDecision(const ScheduleRow&)>& decide) {
  return pool_->Transact([&](pqxx::work& tx) {
    const pqxx::result due = tx.exec_params(
        std::string("SELECT ") + kScheduleColumns +
            " FROM schedules WHERE fire_at <= to_timestamp($1) ORDER BY fire_at LIMIT $2 FOR "
            "UPDATE SKIP LOCKED",
        now, limit);
    for (const auto& row : due) {
      const ScheduleRow schedule = ReadSchedule(row);
      const FiringDecision decision = decide(schedule);
      if (decision.fire && schedule.next_at) {
        tx.exec_params(
            "INSERT INTO schedule_firings (firing_id, schedule_arn, target, occurrence, due_at) "
            "VALUES ($1, $2, $3, to_timestamp($4), to_timestamp($5)) ON CONFLICT DO NOTHING",
            decision.firing_id, decision.schedule_arn, decision.target, *schedule.next_at, now);
      }
      if (decision.delete_schedule) {
        tx.exec_params("DELETE FROM schedules WHERE group_name = $1 AND name = $2",
                       schedule.group_name, schedule.name);
      } else {
        tx.exec_params(
            "UPDATE schedules SET next_at = to_timestamp(NULLIF($3, -1)), fire_at = "
            "to_timestamp(NULLIF($4, -1)) WHERE group_name = $1 AND name = $2",
            schedule.group_name, schedule.name, Nullable(decision.next_at),
            Nullable(decision.fire_at));
      }
    }
    return static_cast<int>(due.size());
  });
}

std::optional<FiringRow> ScheduleStore::ClaimFiring(const std::string& node_id, double now,
                                                    double lease_seconds) {
  return pool_->Transact([&](pqxx::work& tx) -> std::optional<FiringRow> {
    const pqxx::result rows = tx.exec_params(
        "WITH next AS (SELECT firing_id FROM schedule_firings WHERE (lease_owner IS NULL AND "
        "due_at <= to_timestamp($1)) OR (lease_owner IS NOT NULL AND lease_until < "
        "to_timestamp($1)) ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
        "UPDATE schedule_firings f SET lease_owner = $2, lease_until = to_timestamp($1 + $3), "
        "generation = f.generation + 1 FROM next WHERE f.firing_id = next.firing_id RETURNING "
        "f.firing_id, f.schedule_arn, f.target, extract(epoch from f.occurrence)::float8, "
        "f.attempts, f.generation",
        now, node_id, lease_seconds);
    if (rows.empty()) return std::nullopt;
    const auto& row = rows[0];
    return FiringRow{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                     row[3].as<double>(),      row[4].as<int>(),         row[5].as<int64_t>()};
  });
}

bool ScheduleStore::DeliverToFunction(const FiringRow& firing, const std::string& function_name,
                                      const std::string& qualifier, const std::string& payload) {
  return pool_->Transact([&](pqxx::work& tx) {
    if (tx.exec_params("SELECT 1 FROM functions WHERE name = $1", function_name).empty()) {
      return false;
    }
    const pqxx::result deleted = tx.exec_params(
        "DELETE FROM schedule_firings WHERE firing_id = $1 AND generation = $2 RETURNING 1",
        firing.firing_id, firing.generation);
    if (deleted.empty()) return true;  // another node holds it now
    // The invoker's durable Event queue (store::PgEventQueue) runs it from here, on the
    // database's clock as Invoke does (the scheduler's may be the test-only offset clock).
    tx.exec_params(
        "INSERT INTO async_invocations (request_id, function_name, qualifier, payload) VALUES "
        "($1, $2, $3, $4) ON CONFLICT (request_id) DO NOTHING",
        firing.firing_id, function_name, qualifier, payload);
    return true;
  });
}

void ScheduleStore::CompleteFiring(const FiringRow& firing) {
  pool_->Transact([&](pqxx::work& tx) {
    tx.exec_params("DELETE FROM schedule_firings WHERE firing_id = $1 AND generation = $2",
                   firing.firing_id, firing.generation);
  });
}

void ScheduleStore::RetryFiring(const FiringRow& firing, int attempts, double due_at) {
  pool_->Transact([&](pqxx::work& tx) {
    tx.exec_params(
        "UPDATE schedule_firings SET attempts = $3, due_at = to_timestamp($4), lease_owner = "
        "NULL, lease_until = NULL WHERE firing_id = $1 AND generation = $2",
        firing.firing_id, firing.generation, attempts, due_at);
  });
}

void ScheduleStore::DeadLetterFiring(const FiringRow& firing, const std::string& target_arn,
                                     const std::string& dead_letter_arn, const std::string& input,
                                     const std::string& error) {
  pool_->Transact([&](pqxx::work& tx) {
    const pqxx::result deleted = tx.exec_params(
        "DELETE FROM schedule_firings WHERE firing_id = $1 AND generation = $2 RETURNING 1",
        firing.firing_id, firing.generation);
    if (deleted.empty()) return;
    tx.exec_params(
        "INSERT INTO schedule_dead_letters (firing_id, schedule_arn, target_arn, "
        "dead_letter_arn, occurrence, input, error) VALUES ($1, $2, $3, $4, to_timestamp($5), "
        "$6, $7)",
        firing.firing_id, firing.schedule_arn, target_arn, dead_letter_arn, firing.occurrence,
        input, error);
  });
}

std::vector<std::pair<std::string, std::string>> ScheduleStore::DeadLetters(
    const std::string& schedule_arn) const {
  return pool_->Transact([&](pqxx::work& tx) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& row : tx.exec_params(
             "SELECT dead_letter_arn, error FROM schedule_dead_letters WHERE schedule_arn = $1 "
             "ORDER BY dead_letter_id",
             schedule_arn)) {
      out.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
    }
    return out;
  });
}

}  // namespace switchyard::orchestrator::store
