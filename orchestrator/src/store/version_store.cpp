#include "store/version_store.hpp"

namespace switchyard::orchestrator::store {

namespace {

#define SY_NS(column) "((extract(epoch from " column ") * 1000000)::bigint * 1000)"

std::string Text(const pqxx::field& field) { return field.is_null() ? "" : field.c_str(); }

VersionRow ReadVersion(const pqxx::row& r, bool with_definition) {
  VersionRow row;
  row.state_machine_name = Text(r[0]);
  row.version = r[1].as<int64_t>();
  row.revision_id = Text(r[2]);
  row.description = Text(r[3]);
  row.created_at = r[4].as<int64_t>();
  if (with_definition) row.definition = Text(r[5]);
  return row;
}

constexpr const char* kVersionColumns =
    "v.state_machine_name, v.version, v.revision_id, v.description, " SY_NS("v.created_at");

AliasRow ReadAlias(const pqxx::row& r) {
  AliasRow row;
  row.state_machine_name = Text(r[0]);
  row.alias = Text(r[1]);
  row.routing = Text(r[2]);
  row.description = Text(r[3]);
  row.created_at = r[4].as<int64_t>();
  row.updated_at = r[5].as<int64_t>();
  return row;
}

constexpr const char* kAliasColumns =
    "state_machine_name, alias, routing::text, description, " SY_NS("created_at") ", " SY_NS(
        "updated_at");

}  // namespace

std::optional<std::string> LockStateMachineRevision(pqxx::transaction_base& tx,
                                                    const std::string& name) {
  pqxx::result result =
      tx.exec_params("SELECT revision_id FROM state_machines WHERE name = $1 FOR UPDATE", name);
  if (result.empty()) return std::nullopt;
  return Text(result[0][0]);
}

std::optional<VersionRow> FindVersionByRevision(pqxx::transaction_base& tx, const std::string& name,
                                                const std::string& revision_id) {
  pqxx::result result = tx.exec_params(std::string("SELECT ") + kVersionColumns +
                                           " FROM state_machine_versions v WHERE "
                                           "v.state_machine_name = $1 AND v.revision_id = $2 "
                                           "ORDER BY v.version DESC LIMIT 1",
                                       name, revision_id);
  if (result.empty()) return std::nullopt;
  return ReadVersion(result[0], false);
}

VersionRow InsertVersion(pqxx::transaction_base& tx, const std::string& name,
                         const std::string& revision_id, const std::string& description) {
  pqxx::result result = tx.exec_params(
      std::string("WITH n AS (UPDATE state_machines SET last_version = last_version + 1 WHERE "
                  "name = $1 RETURNING last_version) INSERT INTO state_machine_versions AS v "
                  "(state_machine_name, version, revision_id, description) SELECT $1, "
                  "n.last_version, $2, $3 FROM n RETURNING ") +
          kVersionColumns,
      name, revision_id, description);
  return ReadVersion(result.at(0), false);
}

std::optional<VersionRow> GetVersion(pqxx::transaction_base& tx, const std::string& name,
                                     int64_t version) {
  pqxx::result result = tx.exec_params(
      std::string("SELECT ") + kVersionColumns +
          ", r.definition FROM state_machine_versions v JOIN state_machine_revisions r USING "
          "(revision_id) WHERE v.state_machine_name = $1 AND v.version = $2",
      name, version);
  if (result.empty()) return std::nullopt;
  return ReadVersion(result[0], true);
}

std::vector<VersionRow> ListVersions(pqxx::transaction_base& tx, const std::string& name,
                                     int64_t before_version, int64_t limit) {
  std::vector<VersionRow> rows;
  for (const auto& r : tx.exec_params(std::string("SELECT ") + kVersionColumns +
                                          " FROM state_machine_versions v WHERE "
                                          "v.state_machine_name = $1 AND ($2 = 0 OR v.version "
                                          "< $2) ORDER BY v.version DESC LIMIT $3",
                                      name, before_version, limit)) {
    rows.push_back(ReadVersion(r, false));
  }
  return rows;
}

int64_t CountVersions(pqxx::transaction_base& tx, const std::string& name) {
  return tx
      .exec_params("SELECT count(*) FROM state_machine_versions WHERE state_machine_name = $1",
                   name)[0][0]
      .as<int64_t>();
}

bool DeleteVersion(pqxx::transaction_base& tx, const std::string& name, int64_t version) {
  return !tx.exec_params(
                "DELETE FROM state_machine_versions WHERE state_machine_name = $1 AND "
                "version = $2 RETURNING version",
                name, version)
              .empty();
}

bool InsertAlias(pqxx::transaction_base& tx, const AliasRow& row) {
  return !tx.exec_params(
                "INSERT INTO state_machine_aliases (state_machine_name, alias, routing, "
                "description) VALUES ($1, $2, $3::jsonb, $4) ON CONFLICT DO NOTHING "
                "RETURNING alias",
                row.state_machine_name, row.alias, row.routing, row.description)
              .empty();
}

std::optional<AliasRow> GetAlias(pqxx::transaction_base& tx, const std::string& name,
                                 const std::string& alias) {
  pqxx::result result = tx.exec_params(std::string("SELECT ") + kAliasColumns +
                                           " FROM state_machine_aliases WHERE "
                                           "state_machine_name = $1 AND alias = $2",
                                       name, alias);
  if (result.empty()) return std::nullopt;
  return ReadAlias(result[0]);
}

std::vector<AliasRow> ListAliases(pqxx::transaction_base& tx, const std::string& name) {
  std::vector<AliasRow> rows;
  for (const auto& r : tx.exec_params(std::string("SELECT ") + kAliasColumns +
                                          " FROM state_machine_aliases WHERE "
                                          "state_machine_name = $1 ORDER BY alias",
                                      name)) {
    rows.push_back(ReadAlias(r));
  }
  return rows;
}

bool UpdateAlias(pqxx::transaction_base& tx, const AliasRow& row) {
  return !tx.exec_params(
                "UPDATE state_machine_aliases SET routing = $3::jsonb, description = $4, "
                "updated_at = now() WHERE state_machine_name = $1 AND alias = $2 "
                "RETURNING alias",
                row.state_machine_name, row.alias, row.routing, row.description)
              .empty();
}

bool DeleteAlias(pqxx::transaction_base& tx, const std::string& name, const std::string& alias) {
  return !tx.exec_params(
                "DELETE FROM state_machine_aliases WHERE state_machine_name = $1 AND "
                "alias = $2 RETURNING alias",
                name, alias)
              .empty();
}

void DeleteVersionsAndAliases(pqxx::transaction_base& tx, const std::string& name) {
  tx.exec_params("DELETE FROM state_machine_aliases WHERE state_machine_name = $1", name);
  tx.exec_params("DELETE FROM state_machine_versions WHERE state_machine_name = $1", name);
}

void InsertExecutionTargets(pqxx::transaction_base& tx,
                            const std::vector<ExecutionTargetRow>& rows) {
  if (rows.empty()) return;
  std::vector<int64_t> ids;
  std::vector<std::string> versions;
  std::vector<std::optional<std::string>> aliases;
  for (const auto& row : rows) {
    ids.push_back(row.execution_id);
    versions.push_back(row.version_arn);
    aliases.push_back(row.alias_arn);
  }
  tx.exec_params(
      "INSERT INTO execution_targets (execution_id, version_arn, alias_arn) SELECT * FROM "
      "unnest($1::bigint[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING",
      IntArray(ids), TextArray(versions), OptionalTextArray(aliases));
}

std::optional<ExecutionTargetRow> GetExecutionTarget(pqxx::transaction_base& tx,
                                                     int64_t execution_id) {
  pqxx::result result = tx.exec_params(
      "SELECT version_arn, alias_arn FROM execution_targets WHERE execution_id = $1", execution_id);
  if (result.empty()) return std::nullopt;
  ExecutionTargetRow row;
  row.execution_id = execution_id;
  row.version_arn = Text(result[0][0]);
  if (!result[0][1].is_null()) row.alias_arn = Text(result[0][1]);
  return row;
}

std::vector<ExecutionRow> ListExecutionsByTarget(pqxx::transaction_base& tx,
                                                 const std::string& target_arn,
                                                 const std::string& status, int64_t before_id,
                                                 int64_t limit) {
  std::vector<ExecutionRow> rows;
  for (const auto& r : tx.exec_params(
           "SELECT e.execution_id, e.execution_arn, e.state_machine_name, e.state_machine_arn, "
           "e.name, e.status, " SY_NS("e.start_date") ", " SY_NS(
               "e.stop_date") ", e.redrive_count FROM execution_targets t JOIN executions e "
                              "USING (execution_id) WHERE (t.version_arn = $1 OR t.alias_arn = "
                              "$1) AND ($2 = '' OR e.status = $2) AND ($3 = 0 OR "
                              "e.execution_id < $3) ORDER BY e.execution_id DESC LIMIT $4",
           target_arn, status, before_id, limit)) {
    ExecutionRow row;
    row.execution_id = r[0].as<int64_t>();
    row.execution_arn = Text(r[1]);
    row.state_machine_name = Text(r[2]);
    row.state_machine_arn = Text(r[3]);
    row.name = Text(r[4]);
    row.status = Text(r[5]);
    row.start_date = r[6].as<int64_t>();
    if (!r[7].is_null()) row.stop_date = r[7].as<int64_t>();
    row.redrive_count = r[8].as<int64_t>();
    rows.push_back(std::move(row));
  }
  return rows;
}

void PutTags(pqxx::transaction_base& tx, const std::string& resource_arn,
             const std::vector<std::pair<std::string, std::string>>& tags) {
  if (tags.empty()) return;
  std::vector<std::string> keys, values;
  for (const auto& [key, value] : tags) {
    keys.push_back(key);
    values.push_back(value);
  }
  tx.exec_params(
      "INSERT INTO resource_tags (resource_arn, key, value) SELECT $1, k, v FROM "
      "unnest($2::text[], $3::text[]) AS t(k, v) ON CONFLICT (resource_arn, key) DO UPDATE SET "
      "value = EXCLUDED.value",
      resource_arn, TextArray(keys), TextArray(values));
}

void RemoveTags(pqxx::transaction_base& tx, const std::string& resource_arn,
                const std::vector<std::string>& keys) {
  if (keys.empty()) return;
  tx.exec_params("DELETE FROM resource_tags WHERE resource_arn = $1 AND key = ANY($2::text[])",
                 resource_arn, TextArray(keys));
}

void RemoveAllTags(pqxx::transaction_base& tx, const std::string& resource_arn) {
  tx.exec_params("DELETE FROM resource_tags WHERE resource_arn = $1", resource_arn);
}

std::vector<std::pair<std::string, std::string>> ListTags(pqxx::transaction_base& tx,
                                                          const std::string& resource_arn) {
  std::vector<std::pair<std::string, std::string>> tags;
  for (const auto& r :
       tx.exec_params("SELECT key, value FROM resource_tags WHERE resource_arn = $1 ORDER BY key",
                      resource_arn)) {
    tags.emplace_back(Text(r[0]), Text(r[1]));
  }
  return tags;
}

bool ActivityExists(pqxx::transaction_base& tx, const std::string& activity_arn) {
  return !tx.exec_params("SELECT 1 FROM activities WHERE activity_arn = $1", activity_arn).empty();
}

}  // namespace switchyard::orchestrator::store
