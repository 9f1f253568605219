#pragma once
// The API server as `switchyard serve` runs it: the HTTP server, the route table with every
// AWS protocol mounted, SigV4 authentication, /health and /metrics, the work pools and the
// invoker. Free of Beast.
// Thread model: Start and Stop are called from one controlling thread.
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>

namespace switchyard::invoker {
class Invoker;
}
namespace switchyard::orchestrator {
class Engine;
namespace store {
class ScheduleStore;
class QueueStore;
}  // namespace store
}  // namespace switchyard::orchestrator

namespace switchyard::orchestrator::api {

class FunctionRegistry;
class LayerRegistry;
class Metrics;
class UrlRegistry;

struct ApiServerOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 8083;          // 0 = any free port
  std::string credentials_file;  // AWS shared-credentials file; empty = no authentication
  std::string functions_dir;     // functions registered at start (one folder each)
  std::string data_dir;          // empty = a private temporary directory, removed at Stop
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  int io_threads = 2;
  std::chrono::milliseconds read_timeout{std::chrono::seconds(60)};
  // The invoker that runs functions (shared with the engine, so Task states reach functions
  // created through the API). Null: the server owns one. Must outlive the server.
  invoker::Invoker* invoker = nullptr;
  // The durable engine behind the Step Functions operations. Null: only the operations that
  // need no engine (ValidateStateMachineDefinition). Must outlive the server.
  Engine* engine = nullptr;
  // Where functions are kept (serve: store::PgFunctionRegistry on the engine's database). Null:
  // in memory, gone at Stop. Must outlive the server.
  FunctionRegistry* registry = nullptr;
  // Where function URL configs and layers are kept (serve: store::PgUrlRegistry and
  // store::PgLayerRegistry). Null: in memory. Must outlive the server.
  UrlRegistry* url_registry = nullptr;
  LayerRegistry* layer_registry = nullptr;
  // With a durable registry: the directory zip-built code is unpacked into (kept across
  // restarts; see LambdaApiOptions::code_store). Empty: <data_dir>/functions, owned by the
  // invoker.
  std::string code_store{};
  bool dead_letters = false;  // failed async events also go to the dead-letter sink
  // How often other nodes' function changes are picked up (0 = never: one node).
  std::chrono::milliseconds sync_interval{0};
  // Where /metrics counts (shared with the engine, which reports to it as its observer). Null:
  // the server owns one. Must outlive the server.
  Metrics* metrics = nullptr;
  // Queues (the SQS protocols) and Lambda event-source mappings. Null: neither is mounted.
  // Must outlive the server.
  store::QueueStore* queues = nullptr;
  // The EventBridge Scheduler API's schedules (api/scheduler_api.hpp). Null: not served. Must
  // outlive the server.
  store::ScheduleStore* schedules = nullptr;
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackAddress(const std::string& address);

class ApiServer {
 public:
  explicit ApiServer(ApiServerOptions options);
  ~ApiServer();  // Stop() if running
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Loads the credentials file and checks the bind address: returns "" or why serving must not
  // start (an unusable credentials file; a non-loopback address without credentials). Start
  // calls it too; serve calls it first, before it starts a database.
  std::string Preflight();
  // Loads credentials and functions, binds and starts serving; writes what it did to `log`.
  // Throws std::runtime_error when the credentials file is unusable, when asked to bind a
  // non-loopback address without credentials, or when it cannot listen.
  void Start(std::ostream& log);
  uint16_t port() const;
  // Graceful: stops accepting, answers the requests in flight (up to `grace`), waits for the
  // work they started, then stops the invoker.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(30));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::orchestrator::api
