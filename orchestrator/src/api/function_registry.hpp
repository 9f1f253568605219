#pragma once
// What the Lambda API knows about each function beyond what the invoker runs: versions with
// their metadata (code hash and size, revision ids, timestamps), aliases and reserved
// concurrency. This interface is the seam for persistence: today InMemoryFunctionRegistry; the
// store will implement it on PostgreSQL (functions, function_versions, function_aliases) so that
// functions survive a restart and the server re-registers them with the invoker at start.
// Thread model: implementations are thread-safe; each call is atomic on its own.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/invoker/function_config.hpp"

namespace switchyard::orchestrator::api {

inline constexpr const char* kLatestVersion = "$LATEST";

struct FunctionVersionRecord {
  invoker::FunctionConfig config;
  std::string version = kLatestVersion;  // "$LATEST" | "1" | "2" ...
  std::string role;
  std::string code_sha256;    // base64 of the SHA-256 of the deployment package
  int64_t code_size = 0;      // bytes of the deployment package
  std::string last_modified;  // "2026-11-27T12:00:00.000+0000"
  std::string revision_id;    // changes with every update of this version
  std::string code_location;  // where the code lives (a directory), for GetFunction
  // For published versions: the $LATEST revision it was published from (PublishVersion of an
  // unchanged $LATEST returns the existing version).
  std::string source_revision_id;
};

struct AliasRecord {
  std::string name;
  std::string function_version;
  std::string description;
  std::string revision_id;
};

struct FunctionRecord {
  FunctionVersionRecord latest;
  std::map<int64_t, FunctionVersionRecord> versions;  // by number
  int64_t next_version = 1;
  std::map<std::string, AliasRecord> aliases;
  std::optional<int64_t> reserved_concurrency;
};

class FunctionRegistry {
 public:
  virtual ~FunctionRegistry() = default;
  virtual std::optional<FunctionRecord> Get(const std::string& function_name) const = 0;
  // Every function, sorted by name.
  virtual std::vector<FunctionRecord> List() const = 0;
  // Inserts or replaces the function named record.latest.config.function_name.
  virtual void Put(const FunctionRecord& record) = 0;
  // Returns false when there was no such function.
  virtual bool Remove(const std::string& function_name) = 0;
};

class InMemoryFunctionRegistry final : public FunctionRegistry {
 public:
  std::optional<FunctionRecord> Get(const std::string& function_name) const override;
  std::vector<FunctionRecord> List() const override;
  void Put(const FunctionRecord& record) override;
  bool Remove(const std::string& function_name) override;

 private:
  mutable std::mutex mu_;
  std::map<std::string, FunctionRecord> functions_;  // Guarded by mu_.
};

}  // namespace switchyard::orchestrator::api
