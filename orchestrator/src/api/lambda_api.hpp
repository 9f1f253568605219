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
#include <mutex>
#include <string>

#include "api/function_registry.hpp"
#include "api/http.hpp"
#include "api/router.hpp"

namespace switchyard::invoker {
class Invoker;
}

namespace switchyard::orchestrator::api {

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

  // Registers a function loaded from a directory (switchyard serve --functions-dir): its code is
  // used in place. Returns an empty string or the reason.
  std::string AddLocalFunction(const invoker::FunctionConfig& config);

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

 private:
  struct Code;
  std::string FunctionArn(const std::string& name, const std::string& qualifier = {}) const;
  std::string ConfigurationJson(const FunctionVersionRecord& version, bool qualified_latest) const;
  std::string AliasJson(const std::string& function_name, const AliasRecord& alias) const;
  HttpResponse NotFound(const std::string& name, const std::string& qualifier = {}) const;
  // Parses FunctionName path forms (name, name:qualifier, ARNs) into name + qualifier.
  bool SplitFunctionName(const std::string& text, std::string* name, std::string* qualifier,
                         HttpResponse* error) const;
  // Builds the code of `name` from a request's Code object (ZipFile or local directory).
  bool LoadCode(const std::string& name, const void* code_json, Code* code, HttpResponse* error);
  std::string Install(const FunctionRecord& record);

  LambdaApiOptions options_;
  invoker::Invoker& invoker_;
  FunctionRegistry& registry_;
  Metrics& metrics_;
  std::mutex mu_;  // serialises control-plane changes (registry + invoker together)
};

}  // namespace switchyard::orchestrator::api
