#pragma once
// What the Lambda API knows about each function beyond what the invoker runs: versions with
// their metadata (code hash and size, revision ids, timestamps), aliases (with routing weights),
// reserved and provisioned concurrency, and event invoke configurations. This interface is the
// seam for persistence: InMemoryFunctionRegistry (tests, embedding), and
// store::PgFunctionRegistry (switchyard serve: the functions* tables of
// migrations/0003_functions.sql), so that functions survive a restart and every node on one
// database sees them; the server re-registers them with its invoker at start and when another
// node changes them (FunctionRecord::serial).
// Thread model: implementations are thread-safe; each call is atomic on its own.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "switchyard/invoker/function_config.hpp"

namespace switchyard::orchestrator::api {

inline constexpr const char* kLatestVersion = "$LATEST";

// One entry of a function's Layers: a layer version ARN and its package size.
struct LayerRef {
  std::string arn;  // arn:aws:lambda:<region>:<account>:layer:<name>:<version>
  int64_t code_size = 0;
  std::string code_sha256;    // of the layer's package
  int64_t unzipped_size = 0;  // counts in the function's 250 MB
};

struct FunctionVersionRecord {
  invoker::FunctionConfig config;
  std::vector<LayerRef> layers;          // in order; later layers' files win (Lambda's /opt)
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
  // RoutingConfig.AdditionalVersionWeights: at most one version -> weight (0..1).
  std::map<std::string, double> additional_version_weights;
};

// PutFunctionEventInvokeConfig, for one qualifier of a function.
struct EventInvokeConfigRecord {
  std::optional<int64_t> maximum_retry_attempts;     // 0..2; unset = 2
  std::optional<int64_t> maximum_event_age_seconds;  // 60..21600; unset = 21600
  std::string on_success;                            // destination ARN; "" = none
  std::string on_failure;
  double last_modified = 0;  // epoch seconds
};

// PutProvisionedConcurrencyConfig, for one qualifier (a version number or an alias).
struct ProvisionedConfigRecord {
  int64_t requested = 0;
  std::string last_modified;  // "2026-11-27T12:00:00+0000"
};

struct FunctionRecord {
  FunctionVersionRecord latest;
  std::map<int64_t, FunctionVersionRecord> versions;  // by number
  int64_t next_version = 1;
  std::map<std::string, AliasRecord> aliases;
  std::optional<int64_t> reserved_concurrency;
  // By qualifier: "$LATEST" (the unqualified function), a version number, or an alias name.
  std::map<std::string, EventInvokeConfigRecord> event_invoke_configs;
  std::map<std::string, ProvisionedConfigRecord> provisioned;
  // Bumped by every Put; a durable registry refuses a Put whose serial is not the stored one
  // (another node changed the function meanwhile). 0 = a new function.
  int64_t serial = 0;
};

// Thrown by FunctionRegistry::Put when the record changed since it was read (its serial).
class FunctionConflict : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class FunctionRegistry {
 public:
  virtual ~FunctionRegistry() = default;
  virtual std::optional<FunctionRecord> Get(const std::string& function_name) const = 0;
  // Every function, sorted by name.
  virtual std::vector<FunctionRecord> List() const = 0;
  // Inserts or replaces the function named record.latest.config.function_name. A durable
  // registry throws FunctionConflict when record.serial is not the stored serial (0 for a new
  // function); on success the stored serial is record.serial + 1.
  virtual void Put(const FunctionRecord& record) = 0;
  // Returns false when there was no such function.
  virtual bool Remove(const std::string& function_name) = 0;
  // Every function's serial, by name (what changed since the last look).
  virtual std::map<std::string, int64_t> Serials() const {
    std::map<std::string, int64_t> serials;
    for (const FunctionRecord& record : List()) {
      serials[record.latest.config.function_name] = record.serial;
    }
    return serials;
  }
  // Deployment packages kept for other nodes (a durable registry); the default keeps none.
  virtual void PutCode(const std::string& function_name, const std::string& code_sha256,
                       const std::string& zip) {
    (void)function_name, (void)code_sha256, (void)zip;
  }
  virtual std::optional<std::string> GetCode(const std::string& function_name,
                                             const std::string& code_sha256) const {
    (void)function_name, (void)code_sha256;
    return std::nullopt;
  }
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
