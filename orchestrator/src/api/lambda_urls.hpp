#pragma once
// Function URLs: the Lambda operations that configure them (Create/Get/Update/Delete/
// ListFunctionUrlConfigs, REST API 2021-10-31) and the HTTP endpoints themselves, served on the
// API's own listener. A request reaches a URL in one of two ways:
//   http://<host>:<port>/lambda-url/<url-id>/<path>    (no DNS needed; what FunctionUrl shows)
//   Host: <url-id>.lambda-url.<region>.<anything>      (AWS's form, e.g. *.localhost)
// and becomes one synchronous invocation through LambdaApi::Invoke (same resolution, install
// and metrics as the Invoke operation), run on the invoke pool.
// Thread model: thread-safe.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/http.hpp"
#include "api/router.hpp"
#include "api/sigv4.hpp"
#include "api/url_event.hpp"

namespace switchyard::orchestrator::api {

class FunctionRegistry;
class LambdaApi;
class WorkPool;

struct FunctionUrlRecord {
  std::string function_name;
  std::string qualifier;  // "" = the unqualified function; else an alias name
  std::string url_id;     // 32 lower-case letters and digits; never changes
  std::string auth_type;  // "NONE" | "AWS_IAM"
  std::string invoke_mode = "BUFFERED";
  std::optional<CorsConfig> cors;
  std::string creation_time;  // ISO-8601, "2026-11-27T12:00:00.000000Z"
  std::string last_modified_time;
};

// Where function URL configs are kept: in memory (tests, embedding) or in PostgreSQL
// (store::PgUrlRegistry, table function_urls). Implementations are thread-safe.
class UrlRegistry {
 public:
  virtual ~UrlRegistry() = default;
  virtual std::optional<FunctionUrlRecord> Get(const std::string& function_name,
                                               const std::string& qualifier) const = 0;
  virtual std::optional<FunctionUrlRecord> GetById(const std::string& url_id) const = 0;
  // The function's URLs, sorted by qualifier.
  virtual std::vector<FunctionUrlRecord> List(const std::string& function_name) const = 0;
  // False when the function already has a URL for that qualifier.
  virtual bool Insert(const FunctionUrlRecord& record) = 0;
  // False when there is no such URL.
  virtual bool Update(const FunctionUrlRecord& record) = 0;
  virtual bool Remove(const std::string& function_name, const std::string& qualifier) = 0;
};

class InMemoryUrlRegistry final : public UrlRegistry {
 public:
  std::optional<FunctionUrlRecord> Get(const std::string& function_name,
                                       const std::string& qualifier) const override;
  std::optional<FunctionUrlRecord> GetById(const std::string& url_id) const override;
  std::vector<FunctionUrlRecord> List(const std::string& function_name) const override;
  bool Insert(const FunctionUrlRecord& record) override;
  bool Update(const FunctionUrlRecord& record) override;
  bool Remove(const std::string& function_name, const std::string& qualifier) override;

 private:
  mutable std::mutex mu_;
  std::map<std::string, FunctionUrlRecord> by_id_;  // Guarded by mu_.
};

// Where a request lands when it is for a function URL.
struct UrlTarget {
  std::string url_id;
  std::string raw_path;  // the path below the URL, "/" at least
};

// The URL a request names (the /lambda-url/<id> prefix or a <id>.lambda-url.<region>. Host), or
// nullopt when it is an API request.
std::optional<UrlTarget> RouteFunctionUrl(const HttpRequest& request);

struct FunctionUrlsOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  // For AWS_IAM: the keys signatures are checked against. Null: the server has no credentials,
  // so a signed request is accepted on the strength of its well-formed Authorization header
  // alone (nothing to verify against) and an unsigned one is refused.
  const CredentialSet* credentials = nullptr;
  // How long a URL config read from the registry is used before it is read again (other
  // nodes' updates and deletions show up within this).
  std::chrono::milliseconds cache_ttl{1000};
};

class FunctionUrls {
 public:
  FunctionUrls(FunctionUrlsOptions options, LambdaApi& lambda, FunctionRegistry& functions,
               UrlRegistry& urls);

  // Adds the five operations (run on `control`).
  void Register(Router& router, WorkPool& control);
  // Serves one request for a URL (answered from `invoke`; never blocks the caller).
  void Serve(HttpRequest request, UrlTarget target, WorkPool& invoke, Respond respond);

  // The operations (blocking). Exposed for tests.
  HttpResponse Create(const ApiCall& call);
  HttpResponse Get(const ApiCall& call);
  HttpResponse Update(const ApiCall& call);
  HttpResponse Delete(const ApiCall& call);
  HttpResponse List(const ApiCall& call);
  // Serves a URL request on the calling thread.
  HttpResponse Handle(const HttpRequest& request, const UrlTarget& target);

 private:
  struct Cached {
    std::optional<FunctionUrlRecord> record;
    std::chrono::steady_clock::time_point fetched;
  };
  std::optional<FunctionUrlRecord> Lookup(const std::string& url_id);
  void Invalidate(const std::string& url_id);
  std::string FunctionArn(const std::string& name, const std::string& qualifier) const;
  std::string ConfigJson(const FunctionUrlRecord& record, const HttpRequest& request,
                         bool with_last_modified) const;
  // The function and ?Qualifier= a config operation names, checked (the function and alias
  // exist). nullopt with `error` set.
  std::optional<std::pair<std::string, std::string>> Resolve(const ApiCall& call,
                                                             HttpResponse* error) const;

  FunctionUrlsOptions options_;
  LambdaApi& lambda_;
  FunctionRegistry& functions_;
  UrlRegistry& urls_;
  std::mutex cache_mu_;
  std::map<std::string, Cached> cache_;  // Guarded by cache_mu_: by url id.
};

}  // namespace switchyard::orchestrator::api
