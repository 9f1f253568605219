#include "api/server.hpp"

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <ostream>
#include <random>
#include <stdexcept>
#include <thread>

#include "api/aws_error.hpp"
#include "api/function_registry.hpp"
#include "api/http_server.hpp"
#include "api/lambda_api.hpp"
#include "api/lambda_esm.hpp"
#include "api/lambda_layers.hpp"
#include "api/lambda_urls.hpp"
#include "api/metrics.hpp"
#include "api/router.hpp"
#include "api/scheduler_api.hpp"
#include "api/sfn_api.hpp"
#include "api/sigv4.hpp"
#include "api/sqs_api.hpp"
#include "api/work_pool.hpp"
#include "logging.hpp"
#include "switchyard/invoker/function_config.hpp"
#include "switchyard/invoker/invoker.hpp"
#include "switchyard/orchestrator/engine.hpp"

namespace switchyard::orchestrator::api {
namespace {

namespace fs = std::filesystem;

constexpr int kControlThreads = 64;
constexpr int kInvokeThreads = 256;

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) id.push_back('-');
    id.push_back(kHex[rng() & 15]);
  }
  return id;
}

}  // namespace

bool IsLoopbackAddress(const std::string& address) {
  return address == "localhost" || address == "::1" || address.rfind("127.", 0) == 0;
}

struct ApiServer::Impl {
  ApiServerOptions options;
  std::string data_dir;
  bool own_data_dir = false;
  std::optional<CredentialSet> credentials;
  Metrics own_metrics;
  Metrics* metrics = &own_metrics;
  InMemoryFunctionRegistry memory_registry;
  InMemoryUrlRegistry memory_urls;
  InMemoryLayerRegistry memory_layers;
  std::thread sync_thread;  // LambdaApi::Sync every options.sync_interval
  std::mutex sync_mu;
  std::condition_variable sync_cv;
  bool sync_stop = false;  // Guarded by sync_mu.
  std::unique_ptr<invoker::Invoker> invoker;
  std::unique_ptr<WorkPool> control_pool;
  std::unique_ptr<WorkPool> invoke_pool;
  std::unique_ptr<LambdaApi> lambda;
  std::unique_ptr<LambdaLayers> layers;
  std::unique_ptr<FunctionUrls> urls;
  std::unique_ptr<SfnApi> sfn;
  std::unique_ptr<SqsApi> sqs;
  Router router;
  std::unique_ptr<HttpServer> http;
  bool running = false;

  std::size_t BodyLimit(const HttpRequest& head) const {
    if (head.Header("x-amz-target")) return kMaxSfnRequestBytes;
    if (sqs && IsSqsQueryRequest(head)) return kMaxSqsRequestBytes;
    if (RouteFunctionUrl(head)) return kMaxInvokeRequestBytes;
    if (head.method == "POST" && head.path.rfind("/2018-10-31/layers/", 0) == 0) {
      return kMaxCodeRequestBytes;  // PublishLayerVersion: the zip, base64 in JSON
    }
    return LambdaBodyLimit(head);
  }
  HttpResponse TooLarge(const HttpRequest& head, std::size_t limit) const {
    if (head.Header("x-amz-target")) return SfnTooLarge(limit);
    if (RouteFunctionUrl(head)) {
      HttpResponse response;
      response.status = 413;
      response.body = "{\"Message\":\"Request must be smaller than " + std::to_string(limit) +
                      " bytes for the InvokeFunction operation\"}";
      return response;
    }
    return LambdaTooLarge(head, limit);
  }
  void Handle(HttpRequest request, Respond respond);
};

// The AWS error type of an answer: x-amzn-ErrorType (REST-JSON) or the body's "__type"
// (JSON 1.0, written by Json10Error as {"__type":"...",...}); "" for a success.
static std::string_view ErrorTypeOf(const HttpResponse& response) {
  if (response.status < 400) return {};
  for (const auto& [name, value] : response.headers) {
    if (name == "x-amzn-ErrorType") return value;
  }
  constexpr std::string_view kPrefix = "{\"__type\":\"";
  std::string_view body(response.body);
  if (body.substr(0, kPrefix.size()) != kPrefix) return {};
  body.remove_prefix(kPrefix.size());
  return body.substr(0, body.find('"'));
}

static void LogRequest(std::string_view method, std::string_view operation,
                       const HttpResponse& response, const std::string& request_id,
                       double seconds) {
  const LogLevel level = response.status >= 500 ? LogLevel::kWarn : LogLevel::kInfo;
  if (!LogEnabled(level)) return;
  LogLine line("request");
  line.Str("method", method)
      .Str("operation", operation)
      .Int("status", response.status)
      .Num("ms", seconds * 1000)
      .Str("request_id", request_id);
  if (const std::string_view error = ErrorTypeOf(response); !error.empty())
    line.Str("error", error);
  line.Emit(level);
}

void ApiServer::Impl::Handle(HttpRequest request, Respond respond) {
  const auto received = std::chrono::steady_clock::now();
  if (auto target = RouteFunctionUrl(request)) {
    // A function URL: its own auth (AuthType), its own answers (not the API's error shapes).
    Respond counted = [this, respond = std::move(respond), received,
                       method = request.method](HttpResponse response) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count();
      metrics->CountRequest("url", "InvokeFunctionUrl", response.status, seconds);
      std::string request_id;
      for (const auto& [name, value] : response.headers) {
        if (name == "x-amzn-RequestId") request_id = value;
      }
      LogRequest(method, "InvokeFunctionUrl", response, request_id, seconds);
      respond(std::move(response));
    };
    urls->Serve(std::move(request), std::move(*target), *invoke_pool, std::move(counted));
    return;
  }
  std::string request_id = NewRequestId();
  if (request.method == "GET" &&
      (request.path == "/health" || request.path == "/metrics" || request.path == "/ping")) {
    // /ping answers here, on the I/O thread: the benchmarks' ceiling (the HTTP stack, the
    // request log and the counters, nothing else). /health and /metrics ask the database.
    const std::string operation = request.path.substr(1);
    Respond counted = [this, respond = std::move(respond), operation, request_id, received,
                       method = request.method](HttpResponse response) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count();
      metrics->CountRequest("http", operation, response.status, seconds);
      LogRequest(method, operation, response, request_id, seconds);
      respond(std::move(response));
    };
    if (request.path == "/ping") {
      HttpResponse response;
      response.body = "{}";
      return counted(std::move(response));
    }
    control_pool->Post([this, path = request.path, counted = std::move(counted)] {
      HttpResponse response;
      if (path == "/health") {
        std::string error;
        if (options.engine != nullptr) {
          try {
            (void)options.engine->Stats();
          } catch (const std::exception& e) {
            error = e.what();
          }
        }
        if (error.empty()) {
          response.body = "{\"status\":\"ok\",\"database\":\"ok\"}";
        } else {
          response.status = 503;
          response.body = "{\"status\":\"unavailable\",\"database\":" + JsonQuote(error) + "}";
        }
      } else {
        response.content_type = "text/plain; version=0.0.4";
        response.body = metrics->Render(options.engine);
        // This request counts itself.
        response.body +=
            "# HELP switchyard_api_requests_in_flight Requests received and not yet answered.\n"
            "# TYPE switchyard_api_requests_in_flight gauge\n"
            "switchyard_api_requests_in_flight " +
            std::to_string(http->InFlight()) + "\n";
      }
      counted(std::move(response));
    });
    return;
  }
  Router::Match match = router.Resolve(request);
  const Protocol protocol = match.call.protocol;
  const bool sqs_query = sqs && IsSqsQueryRequest(request);
  const std::string* target = request.Header("x-amz-target");
  const bool sqs_json = target && target->rfind("AmazonSQS.", 0) == 0;
  const std::string_view protocol_name =
      sqs_query || sqs_json           ? "sqs"
      : protocol == Protocol::kJson10 ? "states"
      : (request.path.rfind("/schedule", 0) == 0 || request.path.rfind("/tags/", 0) == 0)
          ? "scheduler"
          : "lambda";
  std::string operation =
      sqs_query ? "SqsQuery" : (match.handler ? match.call.operation : "Unknown");
  Respond counted = [this, respond = std::move(respond), protocol_name,
                     operation = std::move(operation), request_id, received,
                     method = request.method](HttpResponse response) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count();
    metrics->CountRequest(protocol_name, operation, response.status, seconds);
    LogRequest(method, operation, response, request_id, seconds);
    response.headers.emplace_back("x-amzn-RequestId", request_id);
    respond(std::move(response));
  };
  if (credentials) {
    const SigV4Verdict verdict =
        VerifySigV4(request, *credentials, std::chrono::system_clock::now());
    if (!verdict.ok) {
      if (sqs_query) {
        return counted(SqsQueryAuthError(verdict.status, verdict.error_type, verdict.message));
      }
      return counted(
          ProtocolError(protocol, verdict.status, verdict.error_type, verdict.message, true));
    }
  }
  if (sqs_query) return sqs->HandleQuery(std::move(request), std::move(counted));
  if (!match.handler) return counted(std::move(match.error));
  match.call.request = std::move(request);
  (*match.handler)(std::move(match.call), std::move(counted));
}

ApiServer::ApiServer(ApiServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

ApiServer::~ApiServer() { Stop(std::chrono::seconds(0)); }

std::string ApiServer::Preflight() {
  Impl& impl = *impl_;
  const ApiServerOptions& options = impl.options;
  impl.credentials.reset();
  if (!options.credentials_file.empty()) {
    std::string error;
    impl.credentials = LoadCredentialsFile(options.credentials_file, &error);
    if (!impl.credentials) return error;
  } else if (!IsLoopbackAddress(options.bind_address)) {
    return "refusing to listen on " + options.bind_address +
           " without credentials: requests could not be authenticated; pass "
           "--credentials-file (or SWITCHYARD_CREDENTIALS_FILE), or bind 127.0.0.1";
  }
  return {};
}

void ApiServer::Start(std::ostream& log) {
  Impl& impl = *impl_;
  const ApiServerOptions& options = impl.options;
  if (std::string error = Preflight(); !error.empty()) throw std::runtime_error(error);
  if (options.metrics != nullptr) impl.metrics = options.metrics;
  if (impl.credentials) {
    log << "switchyard serve: SigV4 authentication on, " << impl.credentials->size()
        << " access key(s) from " << options.credentials_file << "\n";
  } else {
    log << "switchyard serve: no credentials configured: requests are not authenticated, "
           "listening on loopback only\n";
  }

  if (options.data_dir.empty()) {
    std::string pattern = (fs::temp_directory_path() / "switchyard-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a data directory");
    impl.data_dir = pattern;
    impl.own_data_dir = true;
  } else {
    std::error_code ec;
    fs::create_directories(options.data_dir, ec);
    if (ec) {
      throw std::runtime_error("cannot create data directory '" + options.data_dir +
                               "': " + ec.message());
    }
    impl.data_dir = options.data_dir;
  }

  invoker::Invoker* functions = options.invoker;
  if (!functions) {
    invoker::InvokerOptions invoker_options;
    invoker_options.region = options.region;
    invoker_options.account_id = options.account_id;
    impl.invoker = std::make_unique<invoker::Invoker>(std::move(invoker_options));
    functions = impl.invoker.get();
  }
  impl.control_pool = std::make_unique<WorkPool>(kControlThreads);
  impl.invoke_pool = std::make_unique<WorkPool>(kInvokeThreads);
  LambdaApiOptions lambda_options;
  lambda_options.data_dir = impl.data_dir;
  lambda_options.region = options.region;
  lambda_options.account_id = options.account_id;
  lambda_options.code_store = options.code_store;
  lambda_options.dead_letters = options.dead_letters;
  FunctionRegistry& registry = options.registry ? *options.registry : impl.memory_registry;
  impl.lambda =
      std::make_unique<LambdaApi>(std::move(lambda_options), *functions, registry, *impl.metrics);
  LambdaLayersOptions layer_options;
  layer_options.root = options.code_store.empty()
                           ? (fs::path(impl.data_dir) / "layers").string()
                           : (fs::path(options.code_store) / ".layers").string();
  layer_options.region = options.region;
  layer_options.account_id = options.account_id;
  impl.layers = std::make_unique<LambdaLayers>(
      std::move(layer_options),
      options.layer_registry ? *options.layer_registry : impl.memory_layers);
  impl.lambda->SetLayers(impl.layers.get());
  impl.lambda->Register(impl.router, *impl.control_pool, *impl.invoke_pool);
  impl.layers->Register(impl.router, *impl.control_pool);
  FunctionUrlsOptions url_options;
  url_options.region = options.region;
  url_options.account_id = options.account_id;
  url_options.credentials = impl.credentials ? &*impl.credentials : nullptr;
  impl.urls = std::make_unique<FunctionUrls>(
      std::move(url_options), *impl.lambda, registry,
      options.url_registry ? *options.url_registry : impl.memory_urls);
  impl.urls->Register(impl.router, *impl.control_pool);
  impl.sfn = std::make_unique<SfnApi>(options.engine);
  impl.sfn->Register(impl.router, *impl.control_pool, *impl.invoke_pool);
  if (options.queues != nullptr) {
    impl.sqs = std::make_unique<SqsApi>(*options.queues, options.region, options.account_id);
    impl.sqs->Register(impl.router, *impl.control_pool, *impl.invoke_pool);
    RegisterEventSourceMappings(impl.router, *impl.control_pool, *options.queues, registry,
                                options.region, options.account_id);
  }
  if (options.schedules != nullptr) {
    RegisterSchedulerApi({options.region, options.account_id, options.schedules}, impl.router,
                         *impl.control_pool);
  }

  if (!options.functions_dir.empty()) {
    std::vector<std::string> errors;
    const auto configs = invoker::LoadFunctionsDirectory(options.functions_dir, &errors);
    for (const auto& message : errors) log << "switchyard serve: " << message << "\n";
    for (const auto& config : configs) {
      const std::string error = impl.lambda->AddLocalFunction(config);
      if (!error.empty()) {
        log << "switchyard serve: " << error << "\n";
      } else {
        log << "switchyard serve: function " << config.function_name << " (" << config.runtime
            << ") from " << config.code_dir << "\n";
      }
    }
  }

  // Functions kept in the registry (earlier starts, other nodes) come back into the invoker.
  for (const auto& failure : impl.lambda->Sync()) {
    log << "switchyard serve: cannot install function " << failure << "\n";
  }
  if (options.sync_interval.count() > 0) {
    impl.sync_stop = false;
    impl.sync_thread = std::thread([&impl, interval = options.sync_interval] {
      std::unique_lock lock(impl.sync_mu);
      while (!impl.sync_cv.wait_for(lock, interval, [&] { return impl.sync_stop; })) {
        lock.unlock();
        try {
          impl.lambda->Sync();
        } catch (const std::exception&) {
          // The database is away for now: the next round tries again.
        }
        lock.lock();
      }
    });
  }

  HttpServerOptions http_options;
  http_options.bind_address =
      options.bind_address == "localhost" ? "127.0.0.1" : options.bind_address;
  http_options.port = options.port;
  http_options.io_threads = options.io_threads;
  http_options.read_timeout = options.read_timeout;
  http_options.body_limit = [this](const HttpRequest& head) { return impl_->BodyLimit(head); };
  http_options.too_large = [this](const HttpRequest& head, std::size_t limit) {
    return impl_->TooLarge(head, limit);
  };
  const std::string shown_address = http_options.bind_address;
  impl.http = std::make_unique<HttpServer>(std::move(http_options),
                                           [this](HttpRequest request, Respond respond) {
                                             impl_->Handle(std::move(request), std::move(respond));
                                           });
  impl.http->Start();
  impl.running = true;
  log << "switchyard serve: listening on http://" << shown_address << ":" << impl.http->port()
      << std::endl;
}

uint16_t ApiServer::port() const { return impl_->http ? impl_->http->port() : 0; }

void ApiServer::Stop(std::chrono::milliseconds grace) {
  Impl& impl = *impl_;
  if (!impl.running) return;
  impl.running = false;
  // Order matters: no new requests, then the work already handed to the pools (their Respond
  // calls need the HTTP server alive), then the server's threads, then the invoker.
  if (impl.sync_thread.joinable()) {
    {
      std::lock_guard lock(impl.sync_mu);
      impl.sync_stop = true;
    }
    impl.sync_cv.notify_all();
    impl.sync_thread.join();
  }
  impl.http->Stop(grace);
  impl.control_pool->Shutdown();
  impl.invoke_pool->Shutdown();
  impl.http.reset();
  impl.invoker.reset();
  if (impl.own_data_dir) {
    std::error_code ec;
    fs::remove_all(impl.data_dir, ec);
  }
}

}  // namespace switchyard::orchestrator::api
