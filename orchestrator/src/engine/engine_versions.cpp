// Step Functions versions, aliases, tags, DescribeStateMachineForExecution and paged execution
// listings: the parts of Engine that sit on store/version_store.hpp.
#include <algorithm>
#include <charconv>
#include <random>
#include <utility>

#include "engine/engine_impl.hpp"
#include "store/version_store.hpp"
#include "switchyard/asl/json.hpp"

namespace switchyard::orchestrator {

namespace {

constexpr int64_t kMaxVersions = 1000;  // AWS: versions per state machine
constexpr int64_t kMaxAliases = 100;    // AWS: aliases per state machine
constexpr std::size_t kMaxTags = 50;    // AWS: tags per resource

asl::Error Err(std::string_view code, std::string message) {
  return asl::Error{std::string(code), std::move(message)};
}

asl::Error BadArn(const std::string& arn) { return Err(kInvalidArn, "Invalid Arn: '" + arn + "'"); }

asl::Error BadToken(const std::string& token) {
  return Err(kInvalidToken, "Invalid Token: '" + token + "'");
}

std::vector<std::string> SplitColons(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return parts;
}

// arn:aws:states:<region>:<account>:stateMachine:<name>[:<qualifier>]
struct MachineArn {
  std::string name;
  std::string qualifier;  // empty: the machine itself
  int64_t version = 0;    // > 0: a version ARN
};

std::optional<MachineArn> ParseMachineArn(const std::string& arn) {
  std::vector<std::string> parts = SplitColons(arn);
  if ((parts.size() != 7 && parts.size() != 8) || parts[0] != "arn" || parts[2] != "states" ||
      parts[5] != "stateMachine" || parts[6].empty()) {
    return std::nullopt;
  }
  MachineArn parsed;
  parsed.name = parts[6];
  if (parts.size() == 8) {
    parsed.qualifier = parts[7];
    if (parsed.qualifier.empty()) return std::nullopt;
    if (std::all_of(parsed.qualifier.begin(), parsed.qualifier.end(),
                    [](char c) { return c >= '0' && c <= '9'; })) {
      auto [end, ec] =
          std::from_chars(parsed.qualifier.data(),
                          parsed.qualifier.data() + parsed.qualifier.size(), parsed.version);
      if (ec != std::errc() || parsed.version <= 0) return std::nullopt;
    }
  }
  return parsed;
}

// Page tokens: "<kind>.<position>", opaque to clients.
std::string MakeToken(std::string_view kind, const std::string& position) {
  return std::string(kind) + "." + position;
}

// The position in `token` for a listing of `kind` (true with an empty position for no token).
bool ReadToken(const std::string& token, std::string_view kind, std::string* position) {
  position->clear();
  if (token.empty()) return true;
  if (token.size() <= kind.size() + 1 || token.compare(0, kind.size(), kind) != 0 ||
      token[kind.size()] != '.' || token.size() > 1024) {
    return false;
  }
  *position = token.substr(kind.size() + 1);
  return true;
}

bool ReadIntToken(const std::string& token, std::string_view kind, int64_t* value) {
  *value = 0;
  std::string position;
  if (!ReadToken(token, kind, &position)) return false;
  if (position.empty()) return true;
  auto [end, ec] = std::from_chars(position.data(), position.data() + position.size(), *value);
  return ec == std::errc() && end == position.data() + position.size() && *value > 0;
}

int64_t PageSize(int64_t max_results) {
  return std::clamp<int64_t>(max_results <= 0 ? 100 : max_results, 1, 1000);
}

std::string RoutingJson(const std::vector<RoutingEntry>& routing) {
  asl::Json array = asl::JsonArray();
  for (const RoutingEntry& entry : routing) {
    asl::Json item = asl::JsonObject();
    asl::JsonSet(item, "stateMachineVersionArn", asl::JsonString(entry.version_arn));
    asl::JsonSet(item, "weight", asl::JsonInt(entry.weight));
    asl::JsonPush(array, std::move(item));
  }
  return asl::DumpJson(array);
}

std::vector<RoutingEntry> ParseRouting(const std::string& text) {
  std::vector<RoutingEntry> routing;
  std::optional<asl::Json> json = asl::ParseJson(text);
  if (!json || !json->IsArray()) return routing;
  for (const asl::Json& item : json->GetArray()) {
    RoutingEntry entry;
    if (const asl::Json* v = asl::JsonFind(item, "stateMachineVersionArn"); v && v->IsString()) {
      entry.version_arn = std::string(asl::JsonView(*v));
    }
    if (const asl::Json* v = asl::JsonFind(item, "weight"); v && v->IsInt64()) {
      entry.weight = v->GetInt64();
    }
    routing.push_back(std::move(entry));
  }
  return routing;
}

bool SameRouting(const std::vector<RoutingEntry>& a, const std::vector<RoutingEntry>& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](const auto& x, const auto& y) {
           return x.version_arn == y.version_arn && x.weight == y.weight;
         });
}

ExecutionInfo ListedExecution(const store::ExecutionRow& row) {
  ExecutionInfo info;
  info.execution_arn = row.execution_arn;
  info.state_machine_arn = row.state_machine_arn;
  info.name = row.name;
  info.status = row.status;
  info.start_date = row.start_date;
  info.stop_date = row.stop_date;
  info.redrive_count = row.redrive_count;
  return info;
}

// A version as the API shows it (`machine_arn`: the state machine's ARN).
StateMachineVersionInfo VersionInfo(const std::string& machine_arn, const store::VersionRow& row) {
  StateMachineVersionInfo info;
  info.arn = machine_arn + ":" + std::to_string(row.version);
  info.description = row.description;
  info.revision_id = row.revision_id;
  info.creation_date = row.created_at;
  return info;
}

// An alias as the API shows it, with its parsed routing.
StateMachineAliasInfo AliasInfo(std::string alias_arn, const store::AliasRow& row,
                                std::vector<RoutingEntry> routing) {
  StateMachineAliasInfo info;
  info.arn = std::move(alias_arn);
  info.name = row.alias;
  info.description = row.description;
  info.routing = std::move(routing);
  info.creation_date = row.created_at;
  info.update_date = row.updated_at;
  return info;
}

}  // namespace

bool Engine::Impl::IsQualifiedStateMachineArn(const std::string& arn) {
  std::optional<MachineArn> parsed = ParseMachineArn(arn);
  return parsed && !parsed->qualifier.empty();
}

asl::Result<StartTarget> Engine::Impl::ResolveStartTarget(const std::string& qualified_arn) {
  std::optional<MachineArn> parsed = ParseMachineArn(qualified_arn);
  if (!parsed || parsed->qualifier.empty()) return BadArn(qualified_arn);
  // The alias picks its version before the transaction; the draw is uniform over 0..99.
  thread_local std::mt19937_64 random{std::random_device{}()};
  const int64_t draw = static_cast<int64_t>(random() % 100);
  return db_->Transact([&](pqxx::transaction_base& tx) -> asl::Result<StartTarget> {
    StartTarget target;
    target.machine_name = parsed->name;
    int64_t version = parsed->version;
    if (version == 0) {
      std::optional<store::AliasRow> alias = store::GetAlias(tx, parsed->name, parsed->qualifier);
      if (!alias) {
        return Err(kResourceNotFound, "Resource Not Found: '" + qualified_arn + "'");
      }
      std::vector<RoutingEntry> routing = ParseRouting(alias->routing);
      int64_t cumulative = 0;
      for (const RoutingEntry& entry : routing) {
        cumulative += entry.weight;
        if (draw < cumulative || &entry == &routing.back()) {
          target.version_arn = entry.version_arn;
          break;
        }
      }
      std::optional<MachineArn> version_arn = ParseMachineArn(target.version_arn);
      if (!version_arn || version_arn->version == 0) return BadArn(target.version_arn);
      version = version_arn->version;
      target.alias_arn = qualified_arn;
    } else {
      target.version_arn = qualified_arn;
    }
    std::optional<store::VersionRow> row = store::GetVersion(tx, parsed->name, version);
    if (!row) {
      if (!store::GetStateMachine(tx, parsed->name)) {
        return Err(kStateMachineDoesNotExist,
                   "State Machine Does Not Exist: '" + StateMachineArn(parsed->name) + "'");
      }
      return Err(kStateMachineDoesNotExist,
                 "State Machine Does Not Exist: '" + target.version_arn + "'");
    }
    target.revision_id = row->revision_id;
    target.definition = row->definition;
    return target;
  });
}

asl::Result<StateMachineVersionInfo> Engine::PublishStateMachineVersion(
    const std::string& machine_arn, const std::string& revision_id,
    const std::string& description) {
  std::optional<MachineArn> parsed = ParseMachineArn(machine_arn);
  if (!parsed || !parsed->qualifier.empty()) return BadArn(machine_arn);
  if (description.size() > 256) {
    return Err(kValidationException,
               "1 validation error detected: Value at 'description' failed to satisfy "
               "constraint: Member must have length less than or equal to 256");
  }
  return impl_->db_->Transact(
      [&](pqxx::transaction_base& tx) -> asl::Result<StateMachineVersionInfo> {
        std::optional<std::string> current = store::LockStateMachineRevision(tx, parsed->name);
        if (!current) {
          return Err(kStateMachineDoesNotExist, "State Machine Does Not Exist: '" +
                                                    impl_->StateMachineArn(parsed->name) + "'");
        }
        if (!revision_id.empty() && revision_id != *current && revision_id != "INITIAL") {
          return Err(kConflictException,
                     "Failed to publish the State Machine version for revision " + revision_id +
                         ". The current State Machine revision is " + *current + ".");
        }
        std::optional<store::VersionRow> row =
            store::FindVersionByRevision(tx, parsed->name, *current);
        if (!row) {
          if (store::CountVersions(tx, parsed->name) >= kMaxVersions) {
            return Err(kServiceQuotaExceededException,
                       "The maximum number of versions (1000) for state machine '" + parsed->name +
                           "' has been reached.");
          }
          row = store::InsertVersion(tx, parsed->name, *current, description);
        }
        return VersionInfo(impl_->StateMachineArn(parsed->name), *row);
      });
}

asl::Result<Page<StateMachineVersionInfo>> Engine::ListStateMachineVersions(
    const std::string& machine_arn, int64_t max_results, const std::string& next_token) {
  std::optional<MachineArn> parsed = ParseMachineArn(machine_arn);
  if (!parsed || !parsed->qualifier.empty()) return BadArn(machine_arn);
  int64_t before = 0;
  if (!ReadIntToken(next_token, "v1", &before)) return BadToken(next_token);
  const int64_t limit = PageSize(max_results);
  return impl_->db_->Transact(
      [&](pqxx::transaction_base& tx) -> asl::Result<Page<StateMachineVersionInfo>> {
        if (!store::GetStateMachine(tx, parsed->name)) {
          return Err(kStateMachineDoesNotExist, "State Machine Does Not Exist: '" +
                                                    impl_->StateMachineArn(parsed->name) + "'");
        }
        std::vector<store::VersionRow> rows =
            store::ListVersions(tx, parsed->name, before, limit + 1);
        Page<StateMachineVersionInfo> page;
        for (std::size_t i = 0; i < rows.size() && static_cast<int64_t>(i) < limit; ++i) {
          page.items.push_back(VersionInfo(impl_->StateMachineArn(parsed->name), rows[i]));
        }
        if (static_cast<int64_t>(rows.size()) > limit) {
          page.next_token = MakeToken("v1", std::to_string(rows[limit - 1].version));
        }
        return page;
      });
}

asl::Status Engine::DeleteStateMachineVersion(const std::string& version_arn) {
  std::optional<MachineArn> parsed = ParseMachineArn(version_arn);
  if (!parsed || parsed->version == 0) return BadArn(version_arn);
  return impl_->db_->Transact([&](pqxx::transaction_base& tx) -> asl::Status {
    (void)store::LockStateMachineRevision(tx, parsed->name);  // no alias is created meanwhile
    for (const store::AliasRow& alias : store::ListAliases(tx, parsed->name)) {
      for (const RoutingEntry& entry : ParseRouting(alias.routing)) {
        if (entry.version_arn == version_arn) {
          return Err(kConflictException,
                     "Version to be deleted must not be referenced by an alias. Current list of "
                     "aliases referencing this version: [" +
                         impl_->StateMachineArn(parsed->name) + ":" + alias.alias + "]");
        }
      }
    }
    (void)store::DeleteVersion(tx, parsed->name, parsed->version);
    return {};
  });
}

asl::Result<StateMachineInfo> Engine::DescribeStateMachineVersion(const std::string& version_arn,
                                                                  std::string* description) {
  std::optional<MachineArn> parsed = ParseMachineArn(version_arn);
  if (!parsed || parsed->version == 0) return BadArn(version_arn);
  return impl_->db_->Transact([&](pqxx::transaction_base& tx) -> asl::Result<StateMachineInfo> {
    std::optional<store::StateMachineRow> machine = store::GetStateMachine(tx, parsed->name);
    std::optional<store::VersionRow> version =
        machine ? store::GetVersion(tx, parsed->name, parsed->version) : std::nullopt;
    if (!version) {
      return Err(kStateMachineDoesNotExist, "State Machine Does Not Exist: '" + version_arn + "'");
    }
    StateMachineInfo info;
    info.name = machine->name;
    info.arn = version_arn;
    info.type = machine->type;
    info.definition = version->definition;
    info.role_arn = machine->role_arn;
    info.revision_id = version->revision_id;
    info.status = machine->status;
    info.creation_date = version->created_at;
    *description = version->description;
    return info;
  });
}

namespace {

// Routing as AWS checks it: 1 or 2 distinct version ARNs of one machine, weights 0..100 that sum
// to 100. Returns the machine's name.
asl::Result<std::string> CheckRouting(const std::vector<RoutingEntry>& routing) {
  if (routing.empty() || routing.size() > 2) {
    return Err(kValidationException,
               "1 validation error detected: Value at 'routingConfiguration' failed to satisfy "
               "constraint: Member must have length less than or equal to 2 and greater than "
               "or equal to 1");
  }
  std::string machine;
  int64_t total = 0;
  for (const RoutingEntry& entry : routing) {
    std::optional<MachineArn> parsed = ParseMachineArn(entry.version_arn);
    if (!parsed || parsed->version == 0) return BadArn(entry.version_arn);
    if (!machine.empty() && parsed->name != machine) {
      return Err(kValidationException,
                 "Routing configuration must contain state machine versions of the same state "
                 "machine.");
    }
    machine = parsed->name;
    if (entry.weight < 0 || entry.weight > 100) {
      return Err(kValidationException,
                 "1 validation error detected: Value '" + std::to_string(entry.weight) +
                     "' at 'routingConfiguration.member.weight' failed to satisfy constraint: "
                     "Member must have value less than or equal to 100");
    }
    total += entry.weight;
  }
  if (routing.size() == 2 && routing[0].version_arn == routing[1].version_arn) {
    return Err(kValidationException,
               "Routing configuration must contain distinct state machine versions.");
  }
  if (total != 100) {
    return Err(kValidationException, "Sum of routing configuration weights must be equal to 100.");
  }
  return machine;
}

}  // namespace

asl::Result<StateMachineAliasInfo> Engine::CreateStateMachineAlias(
    const std::string& name, const std::string& description,
    const std::vector<RoutingEntry>& routing) {
  // An alias name must not read as a version number.
  if (!ValidName(name) ||
      std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Err(kInvalidName, "Invalid Name: '" + name + "'");
  }
  if (description.size() > 256) {
    return Err(kValidationException,
               "1 validation error detected: Value at 'description' failed to satisfy "
               "constraint: Member must have length less than or equal to 256");
  }
  asl::Result<std::string> machine = CheckRouting(routing);
  if (!machine.ok()) return machine.error();
  return impl_->db_->Transact(
      [&](pqxx::transaction_base& tx) -> asl::Result<StateMachineAliasInfo> {
        if (!store::LockStateMachineRevision(tx, *machine)) {
          return Err(kStateMachineDoesNotExist,
                     "State Machine Does Not Exist: '" + impl_->StateMachineArn(*machine) + "'");
        }
        for (const RoutingEntry& entry : routing) {
          if (!store::GetVersion(tx, *machine, ParseMachineArn(entry.version_arn)->version)) {
            return Err(kResourceNotFound, "Resource Not Found: '" + entry.version_arn + "'");
          }
        }
        store::AliasRow row;
        row.state_machine_name = *machine;
        row.alias = name;
        row.routing = RoutingJson(routing);
        row.description = description;
        const std::string alias_arn = impl_->StateMachineArn(*machine) + ":" + name;
        if (!store::InsertAlias(tx, row)) {
          std::optional<store::AliasRow> existing = store::GetAlias(tx, *machine, name);
          // Idempotent on (machine, name, description, routing).
          if (!existing || existing->description != description ||
              !SameRouting(ParseRouting(existing->routing), routing)) {
            return Err(kConflictException,
                       "Alias with the name '" + name +
                           "' already exists with a different configuration: '" + alias_arn + "'");
          }
          row = *existing;
        } else if (static_cast<int64_t>(store::ListAliases(tx, *machine).size()) > kMaxAliases) {
          return Err(kServiceQuotaExceededException,
                     "The maximum number of aliases (100) for state machine '" + *machine +
                         "' has been reached.");
        } else {
          row = *store::GetAlias(tx, *machine, name);
        }
        return AliasInfo(alias_arn, row, ParseRouting(row.routing));
      });
}

asl::Result<StateMachineAliasInfo> Engine::DescribeStateMachineAlias(const std::string& alias_arn) {
  std::optional<MachineArn> parsed = ParseMachineArn(alias_arn);
  if (!parsed || parsed->qualifier.empty() || parsed->version != 0) return BadArn(alias_arn);
  std::optional<store::AliasRow> row = impl_->db_->Transact([&](pqxx::transaction_base& tx) {
    return store::GetAlias(tx, parsed->name, parsed->qualifier);
  });
  if (!row) return Err(kResourceNotFound, "Resource Not Found: '" + alias_arn + "'");
  return AliasInfo(alias_arn, *row, ParseRouting(row->routing));
}

asl::Result<Page<StateMachineAliasInfo>> Engine::ListStateMachineAliases(
    const std::string& machine_or_version_arn, int64_t max_results, const std::string& next_token) {
  std::optional<MachineArn> parsed = ParseMachineArn(machine_or_version_arn);
  if (!parsed || (!parsed->qualifier.empty() && parsed->version == 0)) {
    return BadArn(machine_or_version_arn);
  }
  std::string after;
  if (!ReadToken(next_token, "a1", &after)) return BadToken(next_token);
  const int64_t limit = PageSize(max_results);
  return impl_->db_->Transact(
      [&](pqxx::transaction_base& tx) -> asl::Result<Page<StateMachineAliasInfo>> {
        if (!store::GetStateMachine(tx, parsed->name)) {
          return Err(kStateMachineDoesNotExist, "State Machine Does Not Exist: '" +
                                                    impl_->StateMachineArn(parsed->name) + "'");
        }
        if (parsed->version != 0 && !store::GetVersion(tx, parsed->name, parsed->version)) {
          return Err(kResourceNotFound, "Resource Not Found: '" + machine_or_version_arn + "'");
        }
        Page<StateMachineAliasInfo> page;
        for (const store::AliasRow& row : store::ListAliases(tx, parsed->name)) {
          if (!after.empty() && row.alias <= after) continue;
          std::vector<RoutingEntry> routing = ParseRouting(row.routing);
          if (parsed->version != 0 &&
              std::none_of(routing.begin(), routing.end(), [&](const RoutingEntry& entry) {
                return entry.version_arn == machine_or_version_arn;
              })) {
            continue;
          }
          if (static_cast<int64_t>(page.items.size()) == limit) {
            page.next_token = MakeToken("a1", page.items.back().name);
            break;
          }
          page.items.push_back(AliasInfo(impl_->StateMachineArn(parsed->name) + ":" + row.alias,
                                         row, std::move(routing)));
        }
        return page;
      });
}

asl::Result<int64_t> Engine::UpdateStateMachineAlias(
    const std::string& alias_arn, const std::optional<std::string>& description,
    const std::optional<std::vector<RoutingEntry>>& routing) {
  std::optional<MachineArn> parsed = ParseMachineArn(alias_arn);
  if (!parsed || parsed->qualifier.empty() || parsed->version != 0) return BadArn(alias_arn);
  if (!description && !routing) {
    return Err(kValidationException,
               "Either the description or the RoutingConfiguration must be specified");
  }
  if (description && description->size() > 256) {
    return Err(kValidationException,
               "1 validation error detected: Value at 'description' failed to satisfy "
               "constraint: Member must have length less than or equal to 256");
  }
  if (routing) {
    asl::Result<std::string> machine = CheckRouting(*routing);
    if (!machine.ok()) return machine.error();
    if (*machine != parsed->name) {
      return Err(kValidationException,
                 "Routing configuration must contain state machine versions of the same state "
                 "machine as the alias.");
    }
  }
  return impl_->db_->Transact([&](pqxx::transaction_base& tx) -> asl::Result<int64_t> {
    (void)store::LockStateMachineRevision(tx, parsed->name);
    std::optional<store::AliasRow> row = store::GetAlias(tx, parsed->name, parsed->qualifier);
    if (!row) return Err(kResourceNotFound, "Resource Not Found: '" + alias_arn + "'");
    if (routing) {
      for (const RoutingEntry& entry : *routing) {
        if (!store::GetVersion(tx, parsed->name, ParseMachineArn(entry.version_arn)->version)) {
          return Err(kResourceNotFound, "Resource Not Found: '" + entry.version_arn + "'");
        }
      }
      row->routing = RoutingJson(*routing);
    }
    if (description) row->description = *description;
    (void)store::UpdateAlias(tx, *row);
    return store::GetAlias(tx, parsed->name, parsed->qualifier)->updated_at;
  });
}

asl::Status Engine::DeleteStateMachineAlias(const std::string& alias_arn) {
  std::optional<MachineArn> parsed = ParseMachineArn(alias_arn);
  if (!parsed || parsed->qualifier.empty() || parsed->version != 0) return BadArn(alias_arn);
  const bool deleted = impl_->db_->Transact([&](pqxx::transaction_base& tx) {
    return store::DeleteAlias(tx, parsed->name, parsed->qualifier);
  });
  if (!deleted) return Err(kResourceNotFound, "Resource Not Found: '" + alias_arn + "'");
  return {};
}

asl::Result<ExecutionStateMachineInfo> Engine::DescribeStateMachineForExecution(
    const std::string& execution_arn) {
  std::vector<std::string> parts = SplitColons(execution_arn);
  if (parts.size() == 8 && parts[0] == "arn" && parts[2] == "states" && parts[5] == "express") {
    return Err(kInvalidArn, "Invalid Arn: 'Resource type not valid in this context: express'");
  }
  if (parts.size() != 8 || parts[0] != "arn" || parts[2] != "states" || parts[5] != "execution") {
    return BadArn(execution_arn);
  }
  return impl_->db_->Transact(
      [&](pqxx::transaction_base& tx) -> asl::Result<ExecutionStateMachineInfo> {
        std::optional<store::ExecutionRow> execution = store::FindExecution(tx, execution_arn);
        if (!execution) {
          return Err(kExecutionDoesNotExist, "Execution Does Not Exist: '" + execution_arn + "'");
        }
        ExecutionStateMachineInfo info;
        info.machine.name = execution->state_machine_name;
        info.machine.arn = execution->state_machine_arn;
        info.machine.revision_id = execution->revision_id;
        info.machine.definition = store::GetRevision(tx, execution->revision_id).value_or("");
        info.update_date = execution->start_date;
        if (std::optional<store::StateMachineRow> machine =
                store::GetStateMachine(tx, execution->state_machine_name)) {
          info.machine.role_arn = machine->role_arn;
          info.machine.type = machine->type;
          info.update_date = machine->revision_id == execution->revision_id ? machine->updated_at
                                                                            : execution->start_date;
        }
        if (std::optional<store::ExecutionTargetRow> target =
                store::GetExecutionTarget(tx, execution->execution_id)) {
          info.state_machine_version_arn = target->version_arn;
          info.state_machine_alias_arn = target->alias_arn;
        }
        return info;
      });
}

asl::Result<Page<ExecutionInfo>> Engine::ListExecutionsPage(const std::string& arn,
                                                            const std::string& status_filter,
                                                            int64_t max_results,
                                                            const std::string& next_token) {
  std::optional<MachineArn> parsed = ParseMachineArn(arn);
  if (!parsed) return BadArn(arn);
  int64_t before = 0;
  if (!ReadIntToken(next_token, "e1", &before)) return BadToken(next_token);
  const int64_t limit = PageSize(max_results);
  return impl_->db_->Transact([&](pqxx::transaction_base& tx) -> asl::Result<Page<ExecutionInfo>> {
    std::optional<store::StateMachineRow> machine = store::GetStateMachine(tx, parsed->name);
    if (!machine) {
      return Err(kStateMachineDoesNotExist,
                 "State Machine Does Not Exist: '" + impl_->StateMachineArn(parsed->name) + "'");
    }
    if (machine->type == "EXPRESS") {  // AWS: Express executions are not listed
      return Err(kStateMachineTypeNotSupported,
                 "This operation is not supported by this type of state machine");
    }
    std::vector<store::ExecutionRow> rows;
    if (parsed->qualifier.empty()) {
      rows = store::ListExecutions(tx, parsed->name, status_filter, before, limit + 1);
    } else {
      const bool exists = parsed->version != 0
                              ? store::GetVersion(tx, parsed->name, parsed->version).has_value()
                              : store::GetAlias(tx, parsed->name, parsed->qualifier).has_value();
      if (!exists) return Err(kResourceNotFound, "Resource Not Found: '" + arn + "'");
      rows = store::ListExecutionsByTarget(tx, arn, status_filter, before, limit + 1);
    }
    Page<ExecutionInfo> page;
    for (std::size_t i = 0; i < rows.size() && static_cast<int64_t>(i) < limit; ++i) {
      page.items.push_back(ListedExecution(rows[i]));
    }
    if (static_cast<int64_t>(rows.size()) > limit) {
      page.next_token = MakeToken("e1", std::to_string(rows[limit - 1].execution_id));
    }
    return page;
  });
}

namespace {

// The resource a tag call names, or an error: a state machine or an activity ARN.
std::optional<std::string> TagTargetKind(const std::string& arn) {
  std::vector<std::string> parts = SplitColons(arn);
  if (parts.size() == 7 && parts[0] == "arn" && parts[2] == "states" &&
      (parts[5] == "stateMachine" || parts[5] == "activity") && !parts[6].empty()) {
    return parts[5];
  }
  return std::nullopt;
}

}  // namespace

asl::Status Engine::TagResource(const std::string& resource_arn,
                                const std::vector<std::pair<std::string, std::string>>& tags) {
  std::optional<std::string> kind = TagTargetKind(resource_arn);
  if (!kind) return BadArn(resource_arn);
  return impl_->db_->Transact([&](pqxx::transaction_base& tx) -> asl::Status {
    const bool exists = *kind == "activity"
                            ? store::ActivityExists(tx, resource_arn)
                            : store::GetStateMachine(tx, SplitColons(resource_arn)[6]).has_value();
    if (!exists) return Err(kResourceNotFound, "Resource not found: '" + resource_arn + "'");
    std::vector<std::pair<std::string, std::string>> current = store::ListTags(tx, resource_arn);
    std::size_t count = current.size();
    for (const auto& [key, value] : tags) {
      if (std::none_of(current.begin(), current.end(),
                       [&](const auto& tag) { return tag.first == key; })) {
        current.emplace_back(key, value);
        ++count;
      }
    }
    if (count > kMaxTags) {
      return Err(kTooManyTags, "Too many tags: a resource can have at most 50 tags");
    }
    store::PutTags(tx, resource_arn, tags);
    return {};
  });
}

asl::Status Engine::UntagResource(const std::string& resource_arn,
                                  const std::vector<std::string>& keys) {
  std::optional<std::string> kind = TagTargetKind(resource_arn);
  if (!kind) return BadArn(resource_arn);
  return impl_->db_->Transact([&](pqxx::transaction_base& tx) -> asl::Status {
    const bool exists = *kind == "activity"
                            ? store::ActivityExists(tx, resource_arn)
                            : store::GetStateMachine(tx, SplitColons(resource_arn)[6]).has_value();
    if (!exists) return Err(kResourceNotFound, "Resource not found: '" + resource_arn + "'");
    store::RemoveTags(tx, resource_arn, keys);
    return {};
  });
}

asl::Result<std::vector<std::pair<std::string, std::string>>> Engine::ListTagsForResource(
    const std::string& resource_arn) {
  std::optional<std::string> kind = TagTargetKind(resource_arn);
  if (!kind) return BadArn(resource_arn);
  return impl_->db_->Transact([&](pqxx::transaction_base& tx)
                                  -> asl::Result<std::vector<std::pair<std::string, std::string>>> {
    const bool exists = *kind == "activity"
                            ? store::ActivityExists(tx, resource_arn)
                            : store::GetStateMachine(tx, SplitColons(resource_arn)[6]).has_value();
    if (!exists) return Err(kResourceNotFound, "Resource not found: '" + resource_arn + "'");
    return store::ListTags(tx, resource_arn);
  });
}

}  // namespace switchyard::orchestrator
