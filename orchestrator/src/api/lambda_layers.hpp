#pragma once
// Lambda layers: PublishLayerVersion, GetLayerVersion, GetLayerVersionByArn, ListLayers,
// ListLayerVersions and DeleteLayerVersion (REST API 2018-10-31), and what a function's Layers
// need to run: each layer version unpacked once per node under `root`
// (<root>/<name>/<version>-<sha>/, files read-only, shared by every function), and each ordered
// set of layers merged into one directory (<root>/sets/<hash>/, hard links, later layers'
// files replacing earlier ones: Lambda's /opt), which the invoker exposes to the function
// (invoker::FunctionConfig::layers_dir).
// Thread model: thread-safe.
#include <rapidjson/fwd.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/function_registry.hpp"
#include "api/http.hpp"
#include "api/router.hpp"

namespace switchyard::orchestrator::api {

class WorkPool;

// Lambda's limit on a function's code and layers, unzipped: 250 MB.
inline constexpr int64_t kMaxUnzippedBytes = 262144000;
inline constexpr std::size_t kMaxLayersPerFunction = 5;

struct LayerVersionRecord {
  std::string layer_name;
  int64_t version = 0;  // from 1; never reused, even after deletion
  std::string description;
  std::string license_info;
  std::vector<std::string> compatible_runtimes;
  std::vector<std::string> compatible_architectures;
  std::string code_sha256;  // base64 of the package's SHA-256
  int64_t code_size = 0;    // bytes of the package
  int64_t unzipped_size = 0;
  std::string created_date;  // "2026-11-27T12:00:00.000+0000"
};

// Where layer versions and their packages are kept: in memory, or in PostgreSQL
// (store::PgLayerRegistry, tables layers and layer_versions). Thread-safe.
class LayerRegistry {
 public:
  virtual ~LayerRegistry() = default;
  // Stores a new version of record.layer_name (its number is assigned: one more than the
  // highest ever published for that name) and returns the record as stored.
  virtual LayerVersionRecord Publish(LayerVersionRecord record, const std::string& zip) = 0;
  virtual std::optional<LayerVersionRecord> Get(const std::string& layer_name,
                                                int64_t version) const = 0;
  // The layer's versions, newest first.
  virtual std::vector<LayerVersionRecord> Versions(const std::string& layer_name) const = 0;
  // Names of the layers with at least one version, sorted.
  virtual std::vector<std::string> Names() const = 0;
  // Removes the version from Get, Versions and Names. Its package stays for GetZip while a
  // function version names it (Lambda keeps a deleted layer for the functions using it).
  // False when no such version was there.
  virtual bool Delete(const std::string& layer_name, int64_t version) = 0;
  // The package of a version, deleted or not (see Delete); nullopt when gone.
  virtual std::optional<std::string> GetZip(const std::string& layer_name,
                                            int64_t version) const = 0;
};

class InMemoryLayerRegistry final : public LayerRegistry {
 public:
  LayerVersionRecord Publish(LayerVersionRecord record, const std::string& zip) override;
  std::optional<LayerVersionRecord> Get(const std::string& layer_name,
                                        int64_t version) const override;
  std::vector<LayerVersionRecord> Versions(const std::string& layer_name) const override;
  std::vector<std::string> Names() const override;
  bool Delete(const std::string& layer_name, int64_t version) override;
  std::optional<std::string> GetZip(const std::string& layer_name, int64_t version) const override;

 private:
  mutable std::mutex mu_;
  std::map<std::string, int64_t> next_version_;  // Guarded by mu_.
  std::map<std::pair<std::string, int64_t>, std::pair<LayerVersionRecord, std::string>>
      versions_;  // Guarded by mu_.
  // Packages of deleted versions: this registry cannot see which functions use them, so it
  // keeps them all (its life is the server's).
  std::map<std::pair<std::string, int64_t>, std::string> deleted_zips_;  // Guarded by mu_.
};

struct LambdaLayersOptions {
  std::string root;  // where layers are unpacked and merged
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
};

class LambdaLayers {
 public:
  LambdaLayers(LambdaLayersOptions options, LayerRegistry& registry);

  void Register(Router& router, WorkPool& control);

  // The operations (blocking). Exposed for tests.
  HttpResponse Publish(const ApiCall& call);
  HttpResponse GetVersion(const ApiCall& call);
  HttpResponse ListOrFind(const ApiCall& call);  // GET /layers: ListLayers or ?find=LayerVersion
  HttpResponse ListVersions(const ApiCall& call);
  HttpResponse DeleteVersion(const ApiCall& call);

  // A function's Layers member (a list of layer version ARNs): checked (≤ 5, each exists, one
  // version per layer) and turned into references. False with `error` set.
  bool Resolve(const rapidjson::Value& layers, std::vector<LayerRef>* out,
               HttpResponse* error) const;
  // Makes the merged directory of `layers` present on this node (unpacking packages from the
  // registry when needed) after checking Lambda's 250 MB limit against the code in `code_dir`.
  // Returns "" and sets `dir`, or the reason (AWS's message for the limit).
  std::string Prepare(const std::vector<LayerRef>& layers, const std::string& code_dir,
                      std::string* dir);

  std::string LayerArn(const std::string& name) const;

 private:
  std::string VersionJson(const LayerVersionRecord& record, bool with_content) const;
  std::string Unpacked(const std::string& name, int64_t version, const std::string& sha) const;
  // Makes the unpacked copy of a layer version present. Returns "" or the reason.
  std::string EnsureUnpacked(const std::string& name, int64_t version, const std::string& sha);

  LambdaLayersOptions options_;
  LayerRegistry& registry_;
  std::mutex build_mu_;  // one unpack or merge at a time on this node
};

}  // namespace switchyard::orchestrator::api
