#pragma once
// The SQL of Step Functions versions, aliases, execution targets (the version and alias an
// execution started through) and resource tags. Like execution_store.hpp: every function runs
// inside the transaction it is given and throws what libpqxx throws. Times are nanoseconds since
// the Unix epoch.
//
// Thread model: stateless functions; a transaction belongs to one thread.
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "store/execution_store.hpp"

namespace switchyard::orchestrator::store {

// ---- versions ---------------------------------------------------------------------------------
struct VersionRow {
  std::string state_machine_name;
  int64_t version = 0;
  std::string revision_id;
  std::string description;
  std::string definition;  // filled by GetVersion only
  int64_t created_at = 0;
};

// Locks the machine row (FOR UPDATE) and returns its current revision id, or nullopt when the
// machine does not exist. Serialises publishing per machine.
std::optional<std::string> LockStateMachineRevision(pqxx::transaction_base& tx,
                                                    const std::string& name);
// The newest version of `revision_id`, or nullopt.
std::optional<VersionRow> FindVersionByRevision(pqxx::transaction_base& tx, const std::string& name,
                                                const std::string& revision_id);
// Gives the machine's next version number to `revision_id` (the machine row must be locked).
VersionRow InsertVersion(pqxx::transaction_base& tx, const std::string& name,
                         const std::string& revision_id, const std::string& description);
std::optional<VersionRow> GetVersion(pqxx::transaction_base& tx, const std::string& name,
                                     int64_t version);
// Newest first; versions below `before_version` (0 = from the newest); at most `limit`.
std::vector<VersionRow> ListVersions(pqxx::transaction_base& tx, const std::string& name,
                                     int64_t before_version, int64_t limit);
int64_t CountVersions(pqxx::transaction_base& tx, const std::string& name);
bool DeleteVersion(pqxx::transaction_base& tx, const std::string& name, int64_t version);

// ---- aliases ----------------------------------------------------------------------------------
struct AliasRow {
  std::string state_machine_name;
  std::string alias;
  std::string routing;  // JSON array text: [{"stateMachineVersionArn": .., "weight": ..}]
  std::string description;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};
// False (nothing written) when the alias exists.
bool InsertAlias(pqxx::transaction_base& tx, const AliasRow& row);
std::optional<AliasRow> GetAlias(pqxx::transaction_base& tx, const std::string& name,
                                 const std::string& alias);
// By alias name.
std::vector<AliasRow> ListAliases(pqxx::transaction_base& tx, const std::string& name);
bool UpdateAlias(pqxx::transaction_base& tx, const AliasRow& row);
bool DeleteAlias(pqxx::transaction_base& tx, const std::string& name, const std::string& alias);
// Removes the machine's versions and aliases (DeleteStateMachine).
void DeleteVersionsAndAliases(pqxx::transaction_base& tx, const std::string& name);

// ---- execution targets ------------------------------------------------------------------------
struct ExecutionTargetRow {
  int64_t execution_id = 0;
  std::string version_arn;
  std::optional<std::string> alias_arn;
};
void InsertExecutionTargets(pqxx::transaction_base& tx,
                            const std::vector<ExecutionTargetRow>& rows);
std::optional<ExecutionTargetRow> GetExecutionTarget(pqxx::transaction_base& tx,
                                                     int64_t execution_id);
// The executions started through the version or alias ARN `target_arn` (without input, output,
// error and cause), newest first, below `before_id` (0 = from the newest), `status` empty = any,
// at most `limit`.
std::vector<ExecutionRow> ListExecutionsByTarget(pqxx::transaction_base& tx,
                                                 const std::string& target_arn,
                                                 const std::string& status, int64_t before_id,
                                                 int64_t limit);

// ---- tags -------------------------------------------------------------------------------------
// Adds or overwrites the tags.
void PutTags(pqxx::transaction_base& tx, const std::string& resource_arn,
             const std::vector<std::pair<std::string, std::string>>& tags);
void RemoveTags(pqxx::transaction_base& tx, const std::string& resource_arn,
                const std::vector<std::string>& keys);
void RemoveAllTags(pqxx::transaction_base& tx, const std::string& resource_arn);
// By key.
std::vector<std::pair<std::string, std::string>> ListTags(pqxx::transaction_base& tx,
                                                          const std::string& resource_arn);
bool ActivityExists(pqxx::transaction_base& tx, const std::string& activity_arn);

}  // namespace switchyard::orchestrator::store
