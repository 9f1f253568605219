#pragma once
// The route table: maps a request to an AWS operation of one protocol and its handler.
//   JSON 1.0: POST / with X-Amz-Target: <prefix>.<Operation> (Step Functions).
//   REST-JSON: method + path pattern with {Param} segments (Lambda).
// Handlers own no state; they parse, call a service, and shape the answer.
// Thread model: built once before the server starts, then read-only (thread-safe).
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/aws_error.hpp"
#include "api/http.hpp"

namespace switchyard::orchestrator::api {

struct ApiCall {
  HttpRequest request;
  Protocol protocol = Protocol::kRestJson;
  std::string operation;                                   // "Invoke", "CreateStateMachine", ...
  std::map<std::string, std::string> params;               // decoded {Param} path segments
  std::vector<std::pair<std::string, std::string>> query;  // decoded

  // The first query parameter of that name, or nullopt.
  std::optional<std::string> Query(const std::string& name) const;
  const std::string& Param(const std::string& name) const;
};

// Called on an I/O thread: must not block (hand work to a pool, then Respond).
using ApiHandler = std::function<void(ApiCall call, Respond respond)>;

class Router {
 public:
  // pattern: "/2015-03-31/functions/{FunctionName}/invocations"; a trailing '/' on the request
  // path is ignored.
  void AddRest(std::string method, std::string pattern, std::string operation, ApiHandler handler);
  // target: "AWSStepFunctions.StartExecution"; the operation is the part after the last '.'.
  void AddJson10(std::string target, ApiHandler handler);

  struct Match {
    const ApiHandler* handler = nullptr;  // null: unknown operation, see `error`
    ApiCall call;                         // request not yet moved in (empty)
    HttpResponse error;
  };
  // Looks the request's head up (the body is not read). Never fails: an unknown operation
  // comes back with its AWS error.
  Match Resolve(const HttpRequest& request) const;
  // The operation (for body limits, metrics) without the handler; "" when unknown.
  Protocol ProtocolOf(const HttpRequest& request) const;

 private:
  struct RestRoute {
    std::string method;
    std::vector<std::string> segments;  // "{Name}" for parameters
    std::string operation;
    ApiHandler handler;
  };
  std::vector<RestRoute> rest_;
  std::map<std::string, std::pair<std::string, ApiHandler>> json10_;  // target → (op, handler)
};

}  // namespace switchyard::orchestrator::api
