#pragma once
// Amazon SQS (a subset) on the QueueStore, in both protocols SDKs speak:
//   JSON 1.0 (current SDKs): POST / with X-Amz-Target: AmazonSQS.<Operation>; errors
//     {"__type":"com.amazonaws.sqs#<Code>","message":...} plus the header
//     x-amzn-query-error: <query code>;Sender, which awsQueryCompatible clients read.
//   Query (older SDKs, awscli v2 2.9): form-encoded Action=<Operation>&... to / or to the
//     queue URL's path; XML answers in the 2012-11-05 namespace; XML ErrorResponse.
// One implementation per operation: a query request is rewritten as the JSON request, and the
// JSON answer is rendered as XML.
// Queue URLs are http://<Host header>/<account>/<name>.
// Thread model: thread-safe (the queue cache is locked); handlers run on the work pools.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "api/http.hpp"

namespace switchyard::orchestrator::store {
class QueueStore;
struct QueueRow;
}  // namespace switchyard::orchestrator::store

namespace switchyard::orchestrator::api {

class Router;
class WorkPool;

// True when the request is an SQS query-protocol call: no X-Amz-Target, a form body or a
// query string with Action=, on / or on /<account>/<queue>.
bool IsSqsQueryRequest(const HttpRequest& request);

// The query protocol's XML ErrorResponse for a request that failed SigV4 verification, from the
// verdict's status, JSON-protocol error type and message: InvalidClientTokenId (403),
// IncompleteSignature (400), MissingAuthenticationToken (403), RequestExpired (400, a date more
// than 15 minutes off), else SignatureDoesNotMatch (403).
HttpResponse SqsQueryAuthError(int status, std::string_view error_type, std::string message);

inline constexpr std::size_t kMaxSqsRequestBytes = std::size_t{4} * 1024 * 1024;

class SqsApi {
 public:
  SqsApi(store::QueueStore& store, std::string region, std::string account_id);
  ~SqsApi();
  void Register(Router& router, WorkPool& control, WorkPool& long_running);
  // A query-protocol request (IsSqsQueryRequest): runs on the pools, answers XML.
  void HandleQuery(HttpRequest request, Respond respond);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::orchestrator::api
