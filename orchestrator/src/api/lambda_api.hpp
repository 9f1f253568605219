#pragma once
// The Lambda REST-JSON API (2015-03-31 and friends) over the invoker and a FunctionRegistry.
// Each operation is a blocking function from the parsed call to the HTTP answer; Register puts
// them in the route table, running each on a work pool (control-plane calls on one pool,
// invocations on another) so the I/O threads never wait.
//
// Code of functions created through the API is unpacked under `<data_dir>/functions/`; the
// invoker owns each unpacked directory and removes it once no version uses it.
// Thread model: thread-safe. Control-plane changes are serialised by one mutex; invocations run
// concurrently.
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/function_registry.hpp"
#include "api/http.hpp"
#include "api/router.hpp"

namespace switchyard::invoker {
class Invoker;
}

namespace switchyard::orchestrator::api {

class LambdaLayers;
class Metrics;
class WorkPool;

// AWS's request limits for the Lambda operations.
inline constexpr std::size_t kMaxInvokeRequestBytes = std::size_t{6} * 1024 * 1024;  // 6291456
inline constexpr std::size_t kMaxCodeRequestBytes = 69905067;  // 50 MB zipped, base64 in JSON
inline constexpr std::size_t kMaxLambdaRequestBytes = std::size_t{1} * 1024 * 1024;

// The body limit for a Lambda request head, and the answer when it is exceeded.
std::size_t LambdaBodyLimit(const HttpRequest& head);
HttpResponse LambdaTooLarge(const HttpRequest& head, std::size_t limit);

struct LambdaApiOptions {
  std::string data_dir;  // code goes to <data_dir>/functions
  // Set with a durable registry: the code store. A zip's code is unpacked once into
  // <code_store>/<name>/<code-sha256 (base64url)>/ and kept there (the invoker does not own it);
  // the zip itself goes to the registry (PutCode) so that a node lacking the directory rebuilds
  // it from the database.
  std::string code_store{};
  // Failed asynchronous events also go to the dead-letter sink (serve: the dead_letters table).
  bool dead_letters = false;
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  int64_t account_concurrency = 1000;
};

class LambdaApi {
 public:
  LambdaApi(LambdaApiOptions options, invoker::Invoker& invoker, FunctionRegistry& registry,
            Metrics& metrics);

  // Adds the Lambda routes; handlers run on `control` or `invoke`.
  void Register(Router& router, WorkPool& control, WorkPool& invoke);
  // Where functions' Layers are resolved and merged (lambda_layers.hpp); null: a function with
  // Layers is refused. Set before Register; must outlive this.
  void SetLayers(LambdaLayers* layers) { layers_ = layers; }
  // Parses FunctionName path forms (name, name:qualifier, ARNs) into name + qualifier.
  bool SplitFunctionName(const std::string& text, std::string* name, std::string* qualifier,
                         HttpResponse* error) const;

  // Registers a function loaded from a directory (switchyard serve --functions-dir): its code is
  // used in place. Returns an empty string or the reason.
  std::string AddLocalFunction(const invoker::FunctionConfig& config);

  // Brings the invoker up to date with the registry: installs every function (its versions,
  // aliases, event invoke configs, provisioned concurrency) whose serial changed since this
  // node last installed it, and removes functions deleted elsewhere. Called at start and
  // periodically by serve (other nodes' changes), and by Invoke for the function it calls.
  // Returns the functions it could not install ("name: reason").
  std::vector<std::string> Sync();

  // The operations (blocking). Exposed for tests.
  HttpResponse CreateFunction(const ApiCall& call);
  HttpResponse GetFunction(const ApiCall& call);
  HttpResponse GetFunctionConfiguration(const ApiCall& call);
  HttpResponse ListFunctions(const ApiCall& call);
  HttpResponse UpdateFunctionCode(const ApiCall& call);
  HttpResponse UpdateFunctionConfiguration(const ApiCall& call);
  HttpResponse DeleteFunction(const ApiCall& call);
  HttpResponse Invoke(const ApiCall& call);
  HttpResponse PublishVersion(const ApiCall& call);
  HttpResponse ListVersionsByFunction(const ApiCall& call);
  HttpResponse CreateAlias(const ApiCall& call);
  HttpResponse GetAlias(const ApiCall& call);
  HttpResponse UpdateAlias(const ApiCall& call);
  HttpResponse DeleteAlias(const ApiCall& call);
  HttpResponse ListAliases(const ApiCall& call);
  HttpResponse PutFunctionConcurrency(const ApiCall& call);
  HttpResponse GetFunctionConcurrency(const ApiCall& call);
  HttpResponse DeleteFunctionConcurrency(const ApiCall& call);
  HttpResponse GetAccountSettings(const ApiCall& call);
  // lambda_configs.cpp: event invoke configs and provisioned concurrency.
  HttpResponse PutFunctionEventInvokeConfig(const ApiCall& call);
  HttpResponse UpdateFunctionEventInvokeConfig(const ApiCall& call);
  HttpResponse GetFunctionEventInvokeConfig(const ApiCall& call);
  HttpResponse DeleteFunctionEventInvokeConfig(const ApiCall& call);
  HttpResponse ListFunctionEventInvokeConfigs(const ApiCall& call);
  HttpResponse PutProvisionedConcurrencyConfig(const ApiCall& call);
  HttpResponse GetProvisionedConcurrencyConfig(const ApiCall& call);
  HttpResponse DeleteProvisionedConcurrencyConfig(const ApiCall& call);
  HttpResponse ListProvisionedConcurrencyConfigs(const ApiCall& call);

 private:
  struct Code;
  std::string FunctionArn(const std::string& name, const std::string& qualifier = {}) const;
  std::string ConfigurationJson(const FunctionVersionRecord& version, bool qualified_latest) const;
  std::string AliasJson(const std::string& function_name, const AliasRecord& alias) const;
  HttpResponse NotFound(const std::string& name, const std::string& qualifier = {}) const;
  // lambda_layers.cpp: a body's Layers into `version` (checked); the merged layer directory of
  // `version` into `config` (built when missing).
  bool ApplyLayers(const void* body_json, FunctionVersionRecord* version,
                   HttpResponse* error) const;
  std::string PrepareLayers(const FunctionVersionRecord& version, invoker::FunctionConfig* config);
  // Builds the code of `name` from a request's Code object (ZipFile or local directory).
  bool LoadCode(const std::string& name, const void* code_json, Code* code, HttpResponse* error);
  std::string Install(const FunctionRecord& record);
  // Installs everything of `record` in the invoker (fetching missing code). Requires mu_.
  std::string InstallAll(FunctionRecord& record);
  // Makes a zip-built version's code present in the code store. Requires mu_.
  // `zip`: the package at hand (else it comes from the registry).
  std::string EnsureCode(FunctionVersionRecord* version, const std::string* zip = nullptr);
  // registry_.Put, then records the new serial as installed. Requires mu_.
  void Save(FunctionRecord& record);
  // The copy of each function this node installed (what Invoke resolves against).
  void Remember(const FunctionRecord& record);  // requires mu_
  void Forget(const std::string& function_name);
  std::optional<FunctionRecord> Installed(const std::string& function_name) const;
  // The invoker's event invoke config and provisioned concurrency of one qualifier.
  void ApplyEventInvokeConfig(const FunctionRecord& record, const std::string& qualifier);
  void ApplyProvisioned(const FunctionRecord& record, const std::string& qualifier);
  using Method = HttpResponse (LambdaApi::*)(const ApiCall&);
  // Adds a route that runs `fn` on `pool`: a FunctionConflict answers ResourceConflictException,
  // any other exception ServiceException.
  void AddRoute(Router& router, WorkPool& pool, const char* method, const char* pattern,
                const char* operation, Method fn);
  void RegisterConfigRoutes(Router& router, WorkPool& control);
  // GET .../provisioned-concurrency: List with ?List=ALL, else Get.
  HttpResponse GetOrListProvisionedConcurrencyConfigs(const ApiCall& call);
  // The function and qualifier ("$LATEST" when none) a config operation names (FunctionName and
  // ?Qualifier=), checked to exist. nullopt with `error` set.
  struct QualifiedFunction {
    std::optional<FunctionRecord> record;
    std::string name;
    std::string qualifier;
  };
  std::optional<QualifiedFunction> ResolveQualified(const ApiCall& call, HttpResponse* error) const;
  // RoutingConfig.AdditionalVersionWeights of a Create/UpdateAlias body (a rapidjson object).
  bool ParseRoutingConfig(const void* body_json, std::map<std::string, double>* weights,
                          bool* present, HttpResponse* error) const;
  // The weights against the function: published versions other than `version`, which must not
  // be $LATEST.
  bool CheckRouting(const FunctionRecord& record, const std::string& version,
                    const std::map<std::string, double>& weights, HttpResponse* error) const;

  LambdaApiOptions options_;
  LambdaLayers* layers_ = nullptr;
  invoker::Invoker& invoker_;
  FunctionRegistry& registry_;
  Metrics& metrics_;
  std::mutex mu_;  // serialises control-plane changes (registry + invoker together)
  std::map<std::string, int64_t> installed_;  // Guarded by mu_: serial installed, by name.
  mutable std::mutex cache_mu_;
  std::map<std::string, FunctionRecord> cache_;  // Guarded by cache_mu_.
};

}  // namespace switchyard::orchestrator::api
