#include "switchyard/invoker/invoker.hpp"

#include <rapidjson/document.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <filesystem>
#include <list>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "callback_pool.hpp"
#include "environment.hpp"
#include "http_client.hpp"
#include "http_server.hpp"
#include "memory_cgroup.hpp"
#include "opt_mount.hpp"
#include "util.hpp"

namespace switchyard::invoker {

std::optional<InvocationType> ParseInvocationType(const std::string& text) {
  if (text == "RequestResponse") return InvocationType::kRequestResponse;
  if (text == "Event") return InvocationType::kEvent;
  if (text == "DryRun") return InvocationType::kDryRun;
  return std::nullopt;
}

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kLatest = "$LATEST";
// Empty memory cgroups kept ready for cold starts (topped up by the maintenance loop).
constexpr int kPreparedCgroups = 4;
// Runtime processes kept started, inside fresh memory cgroups, ready to exec (StemPool).
constexpr int kStems = 2;

// Lambda's buffered response limit: 6 MiB plus 100 bytes (RIE interop.MaxPayloadSize).
constexpr std::size_t kRuntimeBodyLimit = 6 * 1024 * 1024 + 100;

InvokeResult ApiError(InvokeStatus status, int code, const std::string& type,
                      const std::string& message, const std::string& reason = {}) {
  InvokeResult result;
  result.status = status;
  result.status_code = code;
  result.error_type = type;
  result.payload = std::string("{\"Type\":\"") + (code >= 500 ? "Service" : "User") +
                   "\",\"message\":" + JsonQuote(message);
  if (!reason.empty()) result.payload += ",\"Reason\":" + JsonQuote(reason);
  result.payload += "}";
  return result;
}

std::string ErrorTypeOf(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return {};
  if (!doc.HasMember("errorType") || !doc["errorType"].IsString()) return {};
  return std::string(doc["errorType"].GetString(), doc["errorType"].GetStringLength());
}

std::string FindExecutable(const std::string& name) {
  std::string preferred = "/usr/bin/" + name;
  if (access(preferred.c_str(), X_OK) == 0) return preferred;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const auto end = std::min(dirs.find(':', start), dirs.size());
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return preferred;
}

std::string Iso8601Now() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buffer;
}

std::string LogStreamName(const std::string& version) {
  const std::time_t secs = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char date[48];
  std::snprintf(date, sizeof date, "%04d/%02d/%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  std::string id = NewUuid();
  id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
  return std::string(date) + "/[" + version + "]" + id;
}

// Owns a temporary directory LoadFunctionConfig unpacked a zip into: removed when the last
// version using it goes (a replaced $LATEST still serves its published versions and the
// invocations in flight, which hold their FunctionVersion). One owner per path in the process,
// so a config registered twice (or in two Invokers) is removed only after both are done.
class UnpackedCode {
 public:
  static std::shared_ptr<UnpackedCode> For(const std::string& root) {
    if (root.empty()) return nullptr;
    static std::mutex registry_mu;
    static std::map<std::string, std::weak_ptr<UnpackedCode>> registry;  // Guarded by registry_mu.
    std::lock_guard lock(registry_mu);
    for (auto it = registry.begin(); it != registry.end();) {
      it = it->second.expired() ? registry.erase(it) : std::next(it);
    }
    std::weak_ptr<UnpackedCode>& slot = registry[root];
    if (auto owner = slot.lock()) return owner;
    auto owner = std::shared_ptr<UnpackedCode>(new UnpackedCode(root));
    slot = owner;
    return owner;
  }
  ~UnpackedCode() {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  UnpackedCode(const UnpackedCode&) = delete;
  UnpackedCode& operator=(const UnpackedCode&) = delete;

 private:
  explicit UnpackedCode(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

struct FunctionVersion {
  FunctionConfig config;
  std::string version;  // "$LATEST" or "1", "2", ...
  NativeFunction native;
  NativeMode native_mode = NativeMode::kMayBlock;
  std::shared_ptr<UnpackedCode> unpacked;  // shared by the versions published from it
};

struct Pool {
  std::vector<std::unique_ptr<Environment>> idle;
  int live = 0;      // idle + busy environments, and those starting
  int starting = 0;  // provisioned environments being started (counted in live)
};

// An alias: its version, and optionally a second version that takes a share of invocations.
struct AliasRoute {
  std::string version;
  std::string weighted_version;  // "" = none
  double weight = 0;             // 0..1: the share of weighted_version
};

struct FunctionEntry {
  uint64_t generation = 0;  // tells a re-created function from the deleted one of that name
  std::shared_ptr<const FunctionVersion> latest;
  std::map<std::string, std::shared_ptr<const FunctionVersion>> versions;
  int next_version = 1;
  std::map<std::string, AliasRoute> aliases;
  std::map<std::string, EventInvokeConfig> event_configs;  // by qualifier ($LATEST, 1, alias)
  std::map<std::string, int> provisioned;                  // by version ($LATEST, 1, ...)
  int busy = 0;
  std::map<std::string, Pool> pools;  // by version
};

// The caller's own deadline passed before the function finished: the invocation is abandoned
// (the environment is not blamed). Returns the REPORT status suffix.
std::string MarkCallerDeadlineExceeded(InvokeResult* result) {
  result->status = InvokeStatus::kDeadlineExceeded;
  result->status_code = 408;
  result->error_type = "DeadlineExceeded";
  result->payload =
      "{\"Type\":\"User\",\"message\":\"The caller's deadline passed before "
      "the function finished\"}";
  return "Status: timeout";
}

}  // namespace

struct Invoker::Impl {
  explicit Impl(InvokerOptions opts) : options(std::move(opts)), server(kRuntimeBodyLimit) {
    if (options.runtimes_dir.empty()) options.runtimes_dir = DefaultRuntimesDir();
  }

  // $SWITCHYARD_RUNTIMES_DIR; else next to an installed program (<prefix>/bin/x ->
  // <prefix>/share/switchyard/runtimes); else the source tree this library was built from; else
  // the install prefix it was configured for.
  static std::string DefaultRuntimesDir() {
    if (const char* from_env = std::getenv("SWITCHYARD_RUNTIMES_DIR")) return from_env;
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    std::vector<std::filesystem::path> candidates;
    if (!ec) candidates.push_back(exe.parent_path().parent_path() / "share/switchyard/runtimes");
#ifdef SWITCHYARD_RUNTIMES_DIR
    candidates.emplace_back(SWITCHYARD_RUNTIMES_DIR);
#endif
#ifdef SWITCHYARD_INSTALLED_RUNTIMES_DIR
    candidates.emplace_back(SWITCHYARD_INSTALLED_RUNTIMES_DIR);
#endif
    for (const auto& dir : candidates) {
      if (std::filesystem::is_directory(dir / "python", ec)) return dir.string();
    }
    return candidates.empty() ? std::string() : candidates.back().string();
  }

  InvokerOptions options;
  HttpServer server;
  StemPool stems{kStems};
  std::shared_ptr<EventQueue> queue =
      options.event_queue ? options.event_queue : std::make_shared<InMemoryEventQueue>();

  mutable std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, FunctionEntry> functions;  // Guarded by mu.
  int global_busy = 0;                             // Guarded by mu.
  bool stopping = false;                           // Guarded by mu.
  bool abandoning = false;                         // Guarded by mu. (AbandonRunning)
  bool draining = false;                           // Guarded by mu. (Drain: no more events)
  std::set<Environment*> running;                  // Guarded by mu: in Run() now.
  // (the event queue is thread-safe itself; see `queue` above)
  int async_running = 0;  // Guarded by mu.
  // InvokeAsync's invocations: threads reused from one invocation to the next.
  CallbackPool callbacks;
  std::thread async_thread;
  std::thread maintenance_thread;

  // The async queue's clock: event age and retry times. Injectable for tests.
  AsyncClock::time_point AsyncNow() const {
    return options.clock ? options.clock() : AsyncClock::now();
  }

  uint64_t next_generation = 1;  // Guarded by mu.

  // The entry named `name` if it is still the one of `generation`, else nullptr. Requires mu.
  FunctionEntry* EntryOf(const std::string& name, uint64_t generation) {
    auto it = functions.find(name);
    return it != functions.end() && it->second.generation == generation ? &it->second : nullptr;
  }
  FunctionEntry& EntryFor(const std::string& name) {  // requires mu; creates a new generation
    FunctionEntry& entry = functions[name];
    if (entry.generation == 0) entry.generation = next_generation++;
    return entry;
  }

  // Makes `fv` the function's $LATEST and retires $LATEST's idle environments. The replaced
  // version (which may remove its unpacked code) and the environments go outside mu.
  void InstallLatest(std::shared_ptr<FunctionVersion> fv) {
    std::shared_ptr<const FunctionVersion> replaced;
    std::vector<std::unique_ptr<Environment>> retired;
    {
      std::lock_guard lock(mu);
      FunctionEntry& entry = EntryFor(fv->config.function_name);
      replaced = std::move(entry.latest);
      entry.latest = std::move(fv);
      Pool& pool = entry.pools[kLatest];
      pool.live -= static_cast<int>(pool.idle.size());
      retired = std::move(pool.idle);
      pool.idle.clear();
    }
  }

  std::string FunctionArn(const std::string& name, const std::string& qualifier) const {
    std::string arn =
        "arn:aws:lambda:" + options.region + ":" + options.account_id + ":function:" + name;
    if (!qualifier.empty()) arn += ":" + qualifier;
    return arn;
  }

  // Lambda puts /opt/bin on PATH, /opt/lib on LD_LIBRARY_PATH, /opt/python and its
  // site-packages on the Python path and /opt/nodejs/node_modules (and nodeNN/node_modules) on
  // NODE_PATH. `root` is where the process sees the layers: /opt in a mount namespace of its
  // own, else the merged directory `dir` itself; `dir` is read for the version folders.
  static void AddLayerVariables(const std::string& dir, const std::string& root,
                                std::map<std::string, std::string>* env) {
    namespace fs = std::filesystem;
    if (root != "/opt") {
      (*env)["PATH"] = "/usr/local/bin:/usr/bin/:/bin:" + root + "/bin:/opt/bin";
      (*env)["LD_LIBRARY_PATH"] = "/usr/local/lib:/usr/lib:/lib:" + root + "/lib:/opt/lib";
    }
    std::vector<std::string> python;  // site-packages first, as Lambda's sys.path has them
    std::vector<std::string> node;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir + "/python/lib", ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("python3", 0) == 0) {
        python.push_back(root + "/python/lib/" + name + "/site-packages");
      }
    }
    for (const auto& entry : fs::directory_iterator(dir + "/nodejs", ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("node", 0) == 0 && name != "node_modules") {
        node.push_back(root + "/nodejs/" + name + "/node_modules");
      }
    }
    std::sort(python.begin(), python.end());
    std::sort(node.begin(), node.end());
    python.push_back(root + "/python");
    node.push_back(root + "/nodejs/node_modules");
    auto join = [](const std::vector<std::string>& parts) {
      std::string out;
      for (const auto& part : parts) out += (out.empty() ? "" : ":") + part;
      return out;
    };
    (*env)["PYTHONPATH"] = join(python);
    (*env)["NODE_PATH"] = join(node);
    (*env)["SWITCHYARD_LAYERS_DIR"] = root;
  }

  EnvironmentSpec SpecFor(const FunctionVersion& fv, bool provisioned) const {
    const FunctionConfig& config = fv.config;
    EnvironmentSpec spec;
    spec.function_name = config.function_name;
    spec.code_dir = config.code_dir;
    spec.memory_size_mb = config.memory_size_mb;
    std::string runtime_dir;
    if (config.runtime.rfind("python", 0) == 0) {
      runtime_dir = options.runtimes_dir + "/python";
      spec.argv = {FindExecutable("python3"), runtime_dir + "/bootstrap.py"};
    } else if (config.runtime.rfind("nodejs", 0) == 0) {
      runtime_dir = options.runtimes_dir + "/node";
      spec.argv = {FindExecutable("node"), runtime_dir + "/bootstrap.js"};
    } else {
      runtime_dir = config.code_dir;
      spec.argv = {config.code_dir + "/bootstrap"};
    }
    // Merge order as in Lambda: customer variables first, reserved ones always win.
    std::map<std::string, std::string> env = {
        {"PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"},
        {"LANG", "en_US.UTF-8"},
        {"LD_LIBRARY_PATH", "/usr/local/lib:/usr/lib:/lib:/opt/lib"},
    };
    if (config.runtime.rfind("python", 0) == 0) env["PYTHONUNBUFFERED"] = "1";
    if (!config.layers_dir.empty()) {
      OptMount opt;
      if (options.layers_at_opt && PlanOptMount(config.layers_dir, &opt)) {
        spec.opt = std::move(opt);
        AddLayerVariables(config.layers_dir, "/opt", &env);
      } else {
        AddLayerVariables(config.layers_dir, config.layers_dir, &env);
      }
    }
    for (const auto& [key, value] : config.environment) env[key] = value;
    env["_HANDLER"] = config.handler;
    env["LAMBDA_TASK_ROOT"] = config.code_dir;
    env["LAMBDA_RUNTIME_DIR"] = runtime_dir;
    env["AWS_LAMBDA_FUNCTION_NAME"] = config.function_name;
    env["AWS_LAMBDA_FUNCTION_VERSION"] = fv.version;
    env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = std::to_string(config.memory_size_mb);
    env["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + config.function_name;
    env["AWS_LAMBDA_LOG_STREAM_NAME"] = LogStreamName(fv.version);
    env["AWS_LAMBDA_INITIALIZATION_TYPE"] = provisioned ? "provisioned-concurrency" : "on-demand";
    env["AWS_REGION"] = options.region;
    env["AWS_DEFAULT_REGION"] = options.region;
    env["TZ"] = ":UTC";
    if (config.runtime.rfind("provided", 0) != 0) {
      env["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + config.runtime;
    }
    for (const auto& [key, value] : env) {
      std::string entry = key;
      entry += "=";
      entry += value;
      spec.environment.push_back(std::move(entry));
    }
    return spec;
  }

  // Resolves "name", "name:qualifier" or an ARN. Returns false when the form is invalid.
  static bool SplitName(const std::string& function_name, std::string* name,
                        std::string* qualifier) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
      const auto colon = function_name.find(':', start);
      parts.push_back(function_name.substr(start, colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    std::size_t index = 0;
    if (parts.size() >= 6 && parts[0] == "arn") {
      index = 6;  // arn:aws:lambda:region:account:function:name
      if (parts[5] != "function" || parts.size() < 7) return false;
    } else if (parts.size() >= 3 && parts[1] == "function") {
      index = 2;  // account:function:name
    }
    if (index >= parts.size()) return false;
    *name = parts[index];
    if (parts.size() == index + 2) {
      *qualifier = parts[index + 1];
    } else if (parts.size() > index + 2) {
      return false;
    }
    return !name->empty();
  }

  // Invoke, then the result sink.
  InvokeResult Invoke(const InvokeRequest& request) {
    InvokeResult result = InvokeUnreported(request);
    if (options.result_sink && request.type == InvocationType::kRequestResponse &&
        result.status != InvokeStatus::kNotFound &&
        result.status != InvokeStatus::kInvalidRequest &&
        result.status != InvokeStatus::kTooLarge) {
      std::string name;
      std::string qualifier;
      if (SplitName(request.function_name, &name, &qualifier)) options.result_sink(name, result);
    }
    return result;
  }
  InvokeResult InvokeUnreported(const InvokeRequest& request);
  // Whether an asynchronous request invokes $LATEST of a kNonBlocking native function (run on
  // the caller's thread).
  bool RunsOnCaller(const InvokeRequest& request) {
    if (request.type != InvocationType::kRequestResponse) return false;
    std::string name;
    std::string qualifier;
    if (!SplitName(request.function_name, &name, &qualifier)) return false;
    if (!request.qualifier.empty()) qualifier = request.qualifier;
    if (!qualifier.empty() && qualifier != kLatest) return false;
    std::lock_guard lock(mu);
    auto it = functions.find(name);
    return it != functions.end() && it->second.latest && it->second.latest->native &&
           it->second.latest->native_mode == NativeMode::kNonBlocking;
  }
  InvokeResult RunSync(const std::shared_ptr<const FunctionVersion>& fv,
                       const std::string& invoked_qualifier, const InvokeRequest& request,
                       const std::string& request_id);
  InvokeResult RunNative(const FunctionVersion& fv, const InvokeRequest& request,
                         const std::string& request_id);
  InvokeResult RunHttp(const FunctionVersion& fv, const InvokeRequest& request,
                       const std::string& request_id);
  void FinishInProcess(const FunctionVersion& fv, const InvokeRequest& request, double duration,
                       const std::string& status_suffix, InvokeResult* result) const {
    if (!options.log_sink && !request.log_tail) return;  // nobody reads the log
    const std::string log =
        BuildLog(result->request_id, fv.version, {}, nullptr, fv.config, duration, status_suffix);
    if (options.log_sink) options.log_sink(fv.config.function_name, result->request_id, log);
    if (request.log_tail) {
      result->log_result =
          Base64Encode(log.size() > kLogTailBytes ? log.substr(log.size() - kLogTailBytes) : log);
    }
  }
  void AsyncLoop();
  void ProcessAsync(QueuedEvent event);
  void MaintenanceLoop();
  int ReapIdle();
  void KeepProvisioned();
  std::string BuildLog(const std::string& request_id, const std::string& version,
                       const std::string& output, const RunOutcome* outcome,
                       const FunctionConfig& config, double duration_ms,
                       const std::string& status_suffix) const;
  void Deliver(const QueuedEvent& event, const std::string& destination, const std::string& record,
               bool success) const {
    if (options.async_sink) {
      options.async_sink(
          AsyncDelivery{destination, record, event.request_id, event.function_name, success});
    }
  }
};

std::string Invoker::Impl::BuildLog(const std::string& request_id, const std::string& version,
                                    const std::string& output, const RunOutcome* outcome,
                                    const FunctionConfig& config, double duration_ms,
                                    const std::string& status_suffix) const {
  std::string log = "START RequestId: " + request_id + " Version: " + version + "\n";
  log += output;
  if (!output.empty() && output.back() != '\n') log += "\n";
  log += "END RequestId: " + request_id + "\n";
  const auto billed = static_cast<int64_t>(std::ceil(duration_ms));
  log += "REPORT RequestId: " + request_id + "\tDuration: " + FormatFixed2(duration_ms) +
         " ms\tBilled Duration: " + std::to_string(billed) +
         " ms\tMemory Size: " + std::to_string(config.memory_size_mb) +
         " MB\tMax Memory Used: " + std::to_string(outcome ? outcome->max_memory_used_mb : 0) +
         " MB\t";
  if (outcome && outcome->init_duration_ms) {
    log += "Init Duration: " + FormatFixed2(*outcome->init_duration_ms) + " ms\t";
  }
  log += status_suffix;
  log += "\n";
  return log;
}

InvokeResult Invoker::Impl::InvokeUnreported(const InvokeRequest& request) {
  std::string name;
  std::string qualifier;
  if (!SplitName(request.function_name, &name, &qualifier)) {
    return ApiError(InvokeStatus::kInvalidRequest, 400, "InvalidParameterValueException",
                    "1 validation error detected: Value '" + request.function_name +
                        "' at 'functionName' failed to satisfy constraint");
  }
  if (!request.qualifier.empty()) {
    if (!qualifier.empty() && qualifier != request.qualifier) {
      return ApiError(InvokeStatus::kInvalidRequest, 400, "InvalidParameterValueException",
                      "The derived qualifier from the function name does not match the "
                      "specified qualifier.");
    }
    qualifier = request.qualifier;
  }
  const std::size_t limit =
      request.type == InvocationType::kEvent ? kMaxAsyncPayloadBytes : kMaxSyncPayloadBytes;
  if (request.payload.size() > limit) {
    return ApiError(InvokeStatus::kTooLarge, 413, "RequestTooLargeException",
                    "Request must be smaller than " + std::to_string(limit) +
                        " bytes for the InvokeFunction operation");
  }
  if (!request.payload.empty()) {
    rapidjson::Document doc;
    doc.Parse(request.payload.c_str(), request.payload.size());
    if (doc.HasParseError()) {
      return ApiError(InvokeStatus::kInvalidRequest, 400, "InvalidRequestContentException",
                      "Could not parse request body into json: Could not parse payload into "
                      "json");
    }
  }

  std::shared_ptr<const FunctionVersion> fv;
  {
    std::lock_guard lock(mu);
    auto it = functions.find(name);
    if (it != functions.end()) {
      const FunctionEntry& entry = it->second;
      if (qualifier.empty() || qualifier == kLatest) {
        fv = entry.latest;
      } else if (auto v = entry.versions.find(qualifier); v != entry.versions.end()) {
        fv = v->second;
      } else if (auto a = entry.aliases.find(qualifier); a != entry.aliases.end()) {
        std::string target = a->second.version;
        if (!a->second.weighted_version.empty()) {
          // Lambda's weighted alias: each invocation picks its version independently.
          thread_local std::mt19937_64 rng{std::random_device{}()};
          if (std::uniform_real_distribution<double>(0, 1)(rng) < a->second.weight) {
            target = a->second.weighted_version;
          }
        }
        if (target == kLatest) {
          fv = entry.latest;
        } else if (auto av = entry.versions.find(target); av != entry.versions.end()) {
          fv = av->second;
        }
      }
    }
  }
  if (!fv) {
    return ApiError(
        InvokeStatus::kNotFound, 404, "ResourceNotFoundException",
        "Function not found: " + FunctionArn(name, qualifier.empty() ? kLatest : qualifier));
  }

  const std::string request_id = request.request_id.empty() ? NewUuid() : request.request_id;
  if (request.type == InvocationType::kDryRun) {
    InvokeResult result;
    result.status_code = 204;
    result.request_id = request_id;
    result.executed_version = fv->version;
    return result;
  }
  if (request.type == InvocationType::kEvent) {
    QueuedEvent event;
    event.request_id = request_id;
    event.function_name = name;
    event.qualifier = qualifier;
    event.payload = request.payload;
    event.enqueued_at = AsyncNow();
    event.due = event.enqueued_at;
    queue->Push(std::move(event));
    cv.notify_all();
    InvokeResult result;
    result.status_code = 202;
    result.request_id = request_id;
    return result;
  }
  return RunSync(fv, qualifier, request, request_id);
}

InvokeResult Invoker::Impl::RunNative(const FunctionVersion& fv, const InvokeRequest& request,
                                      const std::string& request_id) {
  NativeContext context;
  context.request_id = request_id;
  context.function_name = fv.config.function_name;
  context.deadline = Clock::now() + std::chrono::seconds(fv.config.timeout_seconds);
  if (request.deadline && *request.deadline < context.deadline) {
    context.deadline = *request.deadline;
  }
  const auto start = Clock::now();
  NativeOutcome outcome;
  try {
    outcome = fv.native(request.payload, context);
  } catch (const std::exception& e) {
    // A throwing callable is the native equivalent of an unhandled exception.
    outcome.error_type = "NativeException";
    outcome.payload =
        "{\"errorMessage\":" + JsonQuote(e.what()) + ",\"errorType\":\"NativeException\"}";
  }
  const double duration = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  InvokeResult result;
  result.request_id = request_id;
  result.executed_version = fv.version;
  result.payload = std::move(outcome.payload);
  if (!outcome.error_type.empty()) {
    result.function_error = "Unhandled";
    result.error_type = outcome.error_type;
  }
  FinishInProcess(fv, request, duration, {}, &result);
  return result;
}

InvokeResult Invoker::Impl::RunHttp(const FunctionVersion& fv, const InvokeRequest& request,
                                    const std::string& request_id) {
  const auto start = Clock::now();
  auto deadline = start + std::chrono::seconds(fv.config.timeout_seconds);
  const bool caller_first = request.deadline && *request.deadline < deadline;
  if (caller_first) deadline = *request.deadline;
  const HttpCallResult call =
      HttpPost(fv.config.url, request.payload.empty() ? "{}" : request.payload, deadline);
  const double duration = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  InvokeResult result;
  result.request_id = request_id;
  result.executed_version = fv.version;
  std::string status_suffix;
  if (call.ok && call.status >= 200 && call.status < 300 && call.function_error_header.empty()) {
    result.payload = call.body;
  } else if (call.ok) {
    // The endpoint's own error: pass a Lambda-shaped error body through, wrap anything else.
    result.function_error = "Unhandled";
    result.error_type = ErrorTypeOf(call.body);
    if (!result.error_type.empty()) {
      result.payload = call.body;
    } else {
      result.error_type = "HttpError";
      result.payload =
          "{\"errorType\":\"HttpError\",\"errorMessage\":" +
          JsonQuote("HTTP " + std::to_string(call.status) + ": " + call.body.substr(0, 256)) + "}";
    }
    status_suffix = "Status: error\tError Type: " + result.error_type;
  } else if (call.timed_out && caller_first) {
    status_suffix = MarkCallerDeadlineExceeded(&result);
  } else if (call.timed_out) {
    result.function_error = "Unhandled";
    result.error_type = "Sandbox.Timedout";
    result.payload =
        "{\"errorType\":\"Sandbox.Timedout\",\"errorMessage\":" +
        JsonQuote("RequestId: " + request_id + " Error: Task timed out after " +
                  FormatFixed2(static_cast<double>(fv.config.timeout_seconds)) + " seconds") +
        "}";
    status_suffix = "Status: timeout";
  } else {
    result.function_error = "Unhandled";
    result.error_type = "Runtime.HttpConnectionError";
    result.payload = "{\"errorType\":\"Runtime.HttpConnectionError\",\"errorMessage\":" +
                     JsonQuote("RequestId: " + request_id + " Error: " + call.error) + "}";
    status_suffix = "Status: error\tError Type: Runtime.HttpConnectionError";
  }
  FinishInProcess(fv, request, duration, status_suffix, &result);
  return result;
}

InvokeResult Invoker::Impl::RunSync(const std::shared_ptr<const FunctionVersion>& fv,
                                    const std::string& invoked_qualifier,
                                    const InvokeRequest& request, const std::string& request_id) {
  const std::string& name = fv->config.function_name;
  const bool http = fv->config.runtime == "http";
  std::unique_ptr<Environment> env;
  uint64_t generation = 0;
  {
    std::lock_guard lock(mu);
    auto it = functions.find(name);
    if (it == functions.end()) {
      return ApiError(InvokeStatus::kNotFound, 404, "ResourceNotFoundException",
                      "Function not found: " + FunctionArn(name, fv->version));
    }
    FunctionEntry& entry = it->second;
    generation = entry.generation;
    const auto& reserved = fv->config.reserved_concurrency;
    if (reserved && entry.busy >= *reserved) {
      return ApiError(InvokeStatus::kThrottled, 429, "TooManyRequestsException", "Rate Exceeded.",
                      "ReservedFunctionConcurrentInvocationLimitExceeded");
    }
    if (global_busy >= options.max_concurrency) {
      return ApiError(InvokeStatus::kThrottled, 429, "TooManyRequestsException", "Rate Exceeded.",
                      "ConcurrentInvocationLimitExceeded");
    }
    ++entry.busy;
    ++global_busy;
    if (!fv->native && !http) {
      Pool& pool = entry.pools[fv->version];
      while (!pool.idle.empty() && !env) {
        env = std::move(pool.idle.back());
        pool.idle.pop_back();
        if (!env->Usable()) {
          --pool.live;
          env.reset();  // a dead idle runtime: stopped outside? cheap, it is already gone
        }
      }
      if (!env) ++pool.live;
    }
  }
  auto release = [&](std::unique_ptr<Environment> used) {
    std::unique_ptr<Environment> discard;
    {
      std::lock_guard lock(mu);
      --global_busy;
      // A deleted function's environment (and one of a re-created function of the same name)
      // is not reused.
      if (FunctionEntry* entry = EntryOf(name, generation)) {
        --entry->busy;
        if (!fv->native && !http) {
          Pool& pool = entry->pools[fv->version];
          // An environment of a replaced $LATEST is not reused.
          const bool current = fv->version != kLatest || entry->latest == fv;
          if (used && used->Usable() && current && !stopping) {
            used->SetLastUsed(Clock::now());
            pool.idle.push_back(std::move(used));
          } else {
            --pool.live;
          }
        }
      }
      discard = std::move(used);  // null when pooled; stopped outside the lock
    }
    discard.reset();
  };

  if (fv->native || http) {
    InvokeResult result =
        fv->native ? RunNative(*fv, request, request_id) : RunHttp(*fv, request, request_id);
    release(nullptr);
    return result;
  }

  if (!env && fv->config.runtime.rfind("provided", 0) == 0 &&
      access((fv->config.code_dir + "/bootstrap").c_str(), X_OK) != 0) {
    // Lambda answers a custom runtime without an executable bootstrap as a function error.
    release(nullptr);
    InvokeResult result;
    result.request_id = request_id;
    result.executed_version = fv->version;
    result.function_error = "Unhandled";
    result.error_type = "Runtime.InvalidEntrypoint";
    result.payload =
        "{\"errorType\":\"Runtime.InvalidEntrypoint\",\"errorMessage\":" +
        JsonQuote("RequestId: " + request_id + " Error: Couldn't find valid bootstrap(s): [" +
                  fv->config.code_dir + "/bootstrap]") +
        "}";
    FinishInProcess(*fv, request, 0, "Status: error\tError Type: Runtime.InvalidEntrypoint",
                    &result);
    return result;
  }
  if (!env) {
    std::string error;
    env = Environment::Start(server, &stems, SpecFor(*fv, false), &error);
    if (!env) {
      release(nullptr);
      spdlog::debug("function={} cannot start an execution environment: {}", name, error);
      return ApiError(InvokeStatus::kEnvironmentError, 502, "InvalidRuntimeException",
                      "function '" + name + "': " + error);
    }
  }

  EventSpec event;
  event.request_id = request_id;
  event.payload = request.payload.empty() ? "{}" : request.payload;
  event.invoked_function_arn = FunctionArn(name, invoked_qualifier);
  event.trace_id = request.trace_id;
  event.client_context = request.client_context;
  event.timeout = std::chrono::seconds(fv->config.timeout_seconds);
  event.caller_deadline = request.deadline;
  event.init_timeout = options.init_timeout;
  bool abandoned = false;
  {
    std::lock_guard lock(mu);
    abandoned = abandoning;
    if (!abandoned) running.insert(env.get());
  }
  RunOutcome outcome;
  if (!abandoned) {
    outcome = env->Run(event);
    std::lock_guard lock(mu);
    running.erase(env.get());
    cv.notify_all();  // Drain() waits for this
    // Killed by AbandonRunning (an answer that made it first stands).
    abandoned = abandoning && outcome.kind != OutcomeKind::kResponse &&
                outcome.kind != OutcomeKind::kFunctionError;
  }
  if (abandoned) {
    release(std::move(env));
    InvokeResult result = ApiError(InvokeStatus::kEnvironmentError, 503, "ServiceException",
                                   "function '" + name + "': the server is shutting down");
    result.request_id = request_id;
    result.abandoned = true;
    return result;
  }

  InvokeResult result;
  result.request_id = request_id;
  result.executed_version = fv->version;
  std::string status_suffix;
  std::string output = outcome.output;
  const std::string timeout_text =
      FormatFixed2(static_cast<double>(fv->config.timeout_seconds)) + " seconds";
  switch (outcome.kind) {
    case OutcomeKind::kResponse:
      result.payload = std::move(outcome.body);
      break;
    case OutcomeKind::kFunctionError:
    case OutcomeKind::kInitError:
      result.function_error = "Unhandled";
      result.payload = std::move(outcome.body);
      result.error_type = ErrorTypeOf(result.payload);
      if (result.error_type.empty()) result.error_type = outcome.error_type;
      if (result.error_type.empty()) result.error_type = "Function.Unknown";
      if (outcome.kind == OutcomeKind::kInitError) {
        status_suffix = "Status: error\tError Type: " + result.error_type;
      }
      break;
    case OutcomeKind::kExit:
      result.function_error = "Unhandled";
      result.error_type = "Runtime.ExitError";
      result.payload = "{\"errorType\":\"Runtime.ExitError\",\"errorMessage\":" +
                       JsonQuote("RequestId: " + request_id +
                                 " Error: Runtime exited with error: " + outcome.exit_description) +
                       "}";
      status_suffix = "Status: error\tError Type: Runtime.ExitError";
      break;
    case OutcomeKind::kTimeout: {
      // Lambda's words for a function that ran past its Timeout; a runtime that never asked for
      // its first event says instead which limit passed and where to look.
      const std::string what =
          outcome.init_timed_out
              ? "Init timed out after " +
                    FormatFixed2(std::chrono::duration<double>(options.init_timeout).count()) +
                    " seconds: the runtime did not ask for its first event (check the "
                    "function's start-up code, its handler and its runtime)"
              : "Task timed out after " + timeout_text;
      result.function_error = "Unhandled";
      result.error_type = "Sandbox.Timedout";
      result.payload = "{\"errorType\":\"Sandbox.Timedout\",\"errorMessage\":" +
                       JsonQuote("RequestId: " + request_id + " Error: " + what) + "}";
      if (!output.empty() && output.back() != '\n') output += "\n";
      output += Iso8601Now() + " " + request_id + " " + what + "\n";
      status_suffix = "Status: timeout";
      break;
    }
    case OutcomeKind::kOutOfMemory:
      result.function_error = "Unhandled";
      result.error_type = "Runtime.OutOfMemory";
      result.payload = "{\"errorType\":\"Runtime.OutOfMemory\",\"errorMessage\":" +
                       JsonQuote("RequestId: " + request_id +
                                 " Error: Runtime exited with error: signal: killed") +
                       "}";
      status_suffix = "Status: error\tError Type: Runtime.OutOfMemory";
      break;
    case OutcomeKind::kDeadline:
      status_suffix = MarkCallerDeadlineExceeded(&result);
      break;
    case OutcomeKind::kResponseTooLarge:
      // What Lambda answers the caller when the runtime's /response was refused with 413.
      result.function_error = "Unhandled";
      result.error_type = "Function.ResponseSizeTooLarge";
      result.payload =
          "{\"errorMessage\":\"Response payload size exceeded maximum allowed payload size "
          "(" +
          std::to_string(kRuntimeBodyLimit) +
          " bytes).\",\"errorType\":\"Function.ResponseSizeTooLarge\"}";
      status_suffix = "Status: error\tError Type: Function.ResponseSizeTooLarge";
      break;
  }
  // The log is built only for someone who reads it (a native function's invocation costs
  // little more than this string otherwise).
  const std::string log = options.log_sink || request.log_tail
                              ? BuildLog(request_id, fv->version, output, &outcome, fv->config,
                                         outcome.duration_ms, status_suffix)
                              : std::string();
  release(std::move(env));
  if (options.log_sink) options.log_sink(name, request_id, log);
  if (request.log_tail) {
    result.log_result =
        Base64Encode(log.size() > kLogTailBytes ? log.substr(log.size() - kLogTailBytes) : log);
  }
  spdlog::debug("function={} request_id={} outcome={} duration_ms={}", name, request_id,
                result.function_error.empty() ? "ok" : result.error_type, outcome.duration_ms);
  return result;
}

void Invoker::Impl::AsyncLoop() {
  std::unique_lock lock(mu);
  for (;;) {
    if (stopping || abandoning || draining) return;
    std::optional<AsyncClock::time_point> next_due;
    const auto now = AsyncNow();
    std::optional<QueuedEvent> event = queue->PopDue(now, &next_due);
    if (!event) {
      // Re-checked at least every 50 ms: pushes by other processes (a durable queue) and an
      // injected clock's advances are seen without a notification.
      std::chrono::milliseconds wait(50);
      if (next_due) {
        wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(*next_due - now));
      }
      cv.wait_for(lock, wait);
      continue;
    }
    ++async_running;
    lock.unlock();
    ProcessAsync(std::move(*event));
    lock.lock();
    --async_running;
    cv.notify_all();
  }
}

void Invoker::Impl::ProcessAsync(QueuedEvent event) {
  EventInvokeConfig config;
  std::shared_ptr<const FunctionVersion> fv;
  {
    std::lock_guard lock(mu);
    auto it = functions.find(event.function_name);
    if (it != functions.end()) {
      const std::string key = event.qualifier.empty() ? std::string(kLatest) : event.qualifier;
      if (auto c = it->second.event_configs.find(key); c != it->second.event_configs.end()) {
        config = c->second;
      }
      fv = it->second.latest;
    }
  }
  const std::string qualifier = event.qualifier.empty() ? std::string(kLatest) : event.qualifier;
  auto record = [&](const std::string& condition, const InvokeResult* result) {
    std::string json =
        "{\"version\":\"1.0\",\"timestamp\":" + JsonQuote(Iso8601Now()) +
        ",\"requestContext\":{\"requestId\":" + JsonQuote(event.request_id) +
        ",\"functionArn\":" + JsonQuote(FunctionArn(event.function_name, qualifier)) +
        ",\"condition\":" + JsonQuote(condition) +
        ",\"approximateInvokeCount\":" + std::to_string(event.attempts) +
        "},\"requestPayload\":" + (event.payload.empty() ? "{}" : event.payload);
    if (result) {
      json += ",\"responseContext\":{\"statusCode\":" + std::to_string(result->status_code) +
              ",\"executedVersion\":" + JsonQuote(result->executed_version);
      if (!result->function_error.empty()) {
        json += ",\"functionError\":" + JsonQuote(result->function_error);
      }
      json += "},\"responsePayload\":";
      rapidjson::Document doc;
      doc.Parse(result->payload.c_str(), result->payload.size());
      json += (result->payload.empty() || doc.HasParseError()) ? JsonQuote(result->payload)
                                                               : result->payload;
    }
    json += "}";
    return json;
  };
  AsyncProgress progress;
  progress.request_id = event.request_id;
  progress.function_name = event.function_name;
  progress.max_attempts = 1 + config.maximum_retry_attempts;
  auto report = [&] {
    progress.attempt = event.attempts;
    if (options.async_progress) options.async_progress(progress);
  };
  auto fail = [&](const std::string& condition, const InvokeResult* result) {
    if (!config.on_failure.empty()) {
      Deliver(event, config.on_failure, record(condition, result), false);
      progress.delivered_to.push_back(config.on_failure);
    }
    // Lambda: the version's DeadLetterConfig receives the event itself (the version that ran,
    // else the one the qualifier names, else $LATEST).
    std::string dead_letter_target;
    {
      std::lock_guard lock(mu);
      if (auto it = functions.find(event.function_name); it != functions.end()) {
        const std::string version =
            result && !result->executed_version.empty() ? result->executed_version : qualifier;
        auto v = it->second.versions.find(version);
        const auto& ran = v != it->second.versions.end() ? v->second : it->second.latest;
        if (ran) dead_letter_target = ran->config.dead_letter_target_arn;
      }
    }
    if (!dead_letter_target.empty()) {
      Deliver(event, dead_letter_target, event.payload, false);
      progress.delivered_to.push_back(dead_letter_target);
    } else if (config.dead_letter) {
      Deliver(event, "dead-letter", event.payload, false);
      progress.delivered_to.push_back("dead-letter");
    }
    spdlog::debug("function={} request_id={} async event failed condition={}", event.function_name,
                  event.request_id, condition);
    progress.retry_at.reset();
    progress.final_condition = condition;
    report();
    queue->Done(event);
  };
  if (!fv) {
    fail("RetriesExhausted", nullptr);
    return;
  }
  if (fv->config.reserved_concurrency && *fv->config.reserved_concurrency == 0) {
    fail("ZeroReservedConcurrency", nullptr);  // Lambda: no retries
    return;
  }
  const auto now = AsyncNow();
  const auto max_age = std::chrono::seconds(config.maximum_event_age_seconds);
  if (now - event.enqueued_at > max_age) {
    fail("EventAgeExceeded", nullptr);
    return;
  }
  ++event.attempts;
  InvokeRequest request;
  request.function_name = event.function_name;
  request.qualifier = event.qualifier;
  request.payload = event.payload;
  request.request_id = event.request_id;  // Lambda: every attempt has the event's request id
  InvokeResult result = Invoke(request);
  if (result.abandoned) {
    // Shut down past its grace: neither a failed attempt nor a retry. A durable queue runs it
    // again once its lease is released; an in-memory one loses it with the process.
    spdlog::info("function={} request_id={} async event abandoned at shutdown", event.function_name,
                 event.request_id);
    return;
  }
  auto requeue = [&](std::chrono::milliseconds delay) {
    event.due = AsyncNow() + delay;
    progress.retry_at = event.due;
    report();
    queue->Push(std::move(event));
  };
  if (result.status == InvokeStatus::kThrottled ||
      result.status == InvokeStatus::kEnvironmentError) {
    // Throttles and system errors go back to the queue with exponential backoff (1 s up to
    // 5 min, scaled with the retry base) until the event is too old; they are not attempts.
    --event.attempts;
    progress.outcome = "not run";
    progress.error_type = result.error_type;
    const auto shift = std::min(event.throttle_count++, 8);
    auto delay = options.async_retry_base / 60 * (int64_t{1} << shift);
    delay = std::min<std::chrono::milliseconds>(delay, options.async_retry_base * 5);
    if (AsyncNow() + delay - event.enqueued_at > max_age) {
      fail("EventAgeExceeded", nullptr);
      return;
    }
    requeue(delay);
    return;
  }
  if (result.status != InvokeStatus::kOk) {
    progress.outcome = "not run";
    progress.error_type = result.error_type;
    fail("RetriesExhausted", &result);
    return;
  }
  if (result.function_error.empty()) {
    progress.outcome = "succeeded";
    if (!config.on_success.empty()) {
      Deliver(event, config.on_success, record("Success", &result), true);
      progress.delivered_to.push_back(config.on_success);
    }
    progress.final_condition = "Success";
    report();
    queue->Done(event);
    return;
  }
  progress.outcome = "failed";
  progress.error_type = result.error_type;
  if (event.attempts <= config.maximum_retry_attempts) {
    // Lambda waits 1 minute before the second attempt and 2 minutes before the third.
    const auto delay = options.async_retry_base * event.attempts;
    if (AsyncNow() + delay - event.enqueued_at > max_age) {
      fail("EventAgeExceeded", &result);
      return;
    }
    requeue(delay);
    return;
  }
  fail("RetriesExhausted", &result);
}

int Invoker::Impl::ReapIdle() {
  std::vector<std::unique_ptr<Environment>> stale;
  {
    std::lock_guard lock(mu);
    const auto now = Clock::now();
    for (auto& [name, entry] : functions) {
      for (auto& [version, pool] : entry.pools) {
        auto& idle = pool.idle;
        for (auto it = idle.begin(); it != idle.end();) {
          const auto wanted = entry.provisioned.find(version);
          const bool keep_warm =
              wanted != entry.provisioned.end() && pool.live <= wanted->second && (*it)->Usable();
          if (!keep_warm && (!(*it)->Usable() || now - (*it)->LastUsed() >= options.idle_timeout)) {
            stale.push_back(std::move(*it));
            it = idle.erase(it);
            --pool.live;
          } else {
            ++it;
          }
        }
      }
    }
  }
  return static_cast<int>(stale.size());  // destroyed here, outside the lock
}

void Invoker::Impl::KeepProvisioned() {
  std::vector<std::pair<std::shared_ptr<const FunctionVersion>, uint64_t>> wanted;
  {
    std::lock_guard lock(mu);
    for (auto& [name, entry] : functions) {
      for (const auto& [version, count] : entry.provisioned) {
        std::shared_ptr<const FunctionVersion> fv = entry.latest;
        if (version != kLatest) {
          const auto v = entry.versions.find(version);
          if (v == entry.versions.end()) continue;
          fv = v->second;
        }
        if (!fv || fv->native || fv->config.runtime == "http") continue;
        Pool& pool = entry.pools[version];
        for (int i = pool.live; i < count; ++i) {
          wanted.emplace_back(fv, entry.generation);
          ++pool.live;
          ++pool.starting;
        }
      }
    }
  }
  for (const auto& [fv, generation] : wanted) {
    std::string error;
    auto env = Environment::Start(server, &stems, SpecFor(*fv, true), &error);
    std::lock_guard lock(mu);
    FunctionEntry* entry = EntryOf(fv->config.function_name, generation);
    if (!entry) continue;  // deleted meanwhile; env stops as it leaves scope, after the lock
    Pool& pool = entry->pools[fv->version];
    --pool.starting;
    const bool current = fv->version != kLatest || entry->latest == fv;
    if (!env || !current || stopping) {
      --pool.live;
      if (!env) {
        spdlog::warn("function={} provisioned environment failed: {}", fv->config.function_name,
                     error);
      }
      continue;  // env (if any) stops as it leaves scope
    }
    pool.idle.push_back(std::move(env));
  }
}

void Invoker::Impl::MaintenanceLoop() {
  std::unique_lock lock(mu);
  while (!stopping) {
    cv.wait_for(lock, std::chrono::milliseconds(200));
    if (stopping) return;
    lock.unlock();
    ReapIdle();
    KeepProvisioned();
    MemoryCgroup::Prepare(kPreparedCgroups);
    lock.lock();
  }
}

Invoker::Invoker(InvokerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  MemoryCgroup::Prepare(kPreparedCgroups);
  impl_->async_thread = std::thread([this] { impl_->AsyncLoop(); });
  impl_->maintenance_thread = std::thread([this] { impl_->MaintenanceLoop(); });
}

void Invoker::Drain(std::chrono::steady_clock::time_point until) {
  {
    std::unique_lock lock(impl_->mu);
    impl_->draining = true;
    impl_->cv.notify_all();
    impl_->cv.wait_until(lock, until,
                         [&] { return impl_->async_running == 0 && impl_->running.empty(); });
  }
  AbandonRunning();
}

void Invoker::AbandonRunning() {
  std::lock_guard lock(impl_->mu);
  impl_->abandoning = true;
  for (Environment* env : impl_->running) env->Abort();
  impl_->cv.notify_all();
}

Invoker::~Invoker() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->async_thread.joinable()) impl_->async_thread.join();
  if (impl_->maintenance_thread.joinable()) impl_->maintenance_thread.join();
  impl_->callbacks.Shutdown();  // asynchronous invocations in flight end first
  std::map<std::string, FunctionEntry> functions;
  {
    std::lock_guard lock(impl_->mu);
    functions.swap(impl_->functions);
  }
  functions.clear();  // stops every idle environment before the HTTP server goes
}

std::string Invoker::RegisterFunction(const FunctionConfig& config) {
  if (config.runtime == "native") return "runtime 'native' needs RegisterNative";
  std::string error = CheckFunctionConfig(config);
  if (!error.empty()) return "function '" + config.function_name + "': " + error;
  auto fv = std::make_shared<FunctionVersion>();
  fv->config = config;
  fv->version = kLatest;
  fv->unpacked = UnpackedCode::For(config.unpacked_root);
  impl_->InstallLatest(std::move(fv));
  return {};
}

std::string Invoker::RegisterNative(FunctionConfig config, NativeFunction function,
                                    NativeMode mode) {
  config.runtime = "native";
  std::string error = CheckFunctionConfig(config);
  if (!error.empty()) return "function '" + config.function_name + "': " + error;
  auto fv = std::make_shared<FunctionVersion>();
  fv->config = std::move(config);
  fv->version = kLatest;
  fv->native = std::move(function);
  fv->native_mode = mode;
  fv->unpacked = UnpackedCode::For(fv->config.unpacked_root);
  impl_->InstallLatest(std::move(fv));
  return {};
}

bool Invoker::DeleteFunction(const std::string& function_name) {
  FunctionEntry removed;  // its environments and code go outside the lock
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->functions.find(function_name);
    if (it == impl_->functions.end()) return false;
    removed = std::move(it->second);
    impl_->functions.erase(it);
  }
  return true;
}

void Invoker::RetainQualifiers(const std::string& function_name,
                               const std::set<std::string>& versions,
                               const std::set<std::string>& aliases) {
  // Removed versions and their environments are destroyed outside the lock.
  std::vector<std::shared_ptr<const FunctionVersion>> gone_versions;
  std::vector<Pool> gone_pools;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->functions.find(function_name);
    if (it == impl_->functions.end()) return;
    FunctionEntry& entry = it->second;
    for (auto v = entry.versions.begin(); v != entry.versions.end();) {
      if (versions.count(v->first)) {
        ++v;
        continue;
      }
      if (auto pool = entry.pools.find(v->first); pool != entry.pools.end()) {
        gone_pools.push_back(std::move(pool->second));
        entry.pools.erase(pool);
      }
      entry.provisioned.erase(v->first);
      entry.event_configs.erase(v->first);
      gone_versions.push_back(std::move(v->second));
      v = entry.versions.erase(v);
    }
    for (auto a = entry.aliases.begin(); a != entry.aliases.end();) {
      if (aliases.count(a->first)) {
        ++a;
        continue;
      }
      entry.event_configs.erase(a->first);
      a = entry.aliases.erase(a);
    }
  }
}

std::string Invoker::PublishVersion(const std::string& function_name) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->functions.find(function_name);
  if (it == impl_->functions.end()) return {};
  FunctionEntry& entry = it->second;
  auto fv = std::make_shared<FunctionVersion>(*entry.latest);
  fv->version = std::to_string(entry.next_version++);
  std::string version = fv->version;
  entry.versions[version] = std::move(fv);
  return version;
}

std::string Invoker::CreateAlias(const std::string& function_name, const std::string& alias,
                                 const std::string& version,
                                 const std::map<std::string, double>& additional_version_weights) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->functions.find(function_name);
  if (it == impl_->functions.end()) return "function '" + function_name + "' not found";
  if (version != kLatest && !it->second.versions.count(version)) {
    return "function '" + function_name + "' has no version '" + version + "'";
  }
  if (alias.empty() || alias == kLatest ||
      std::all_of(alias.begin(), alias.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return "alias name '" + alias + "' is not valid";
  }
  AliasRoute route;
  route.version = version;
  if (additional_version_weights.size() > 1) return "at most one additional version";
  for (const auto& [weighted, weight] : additional_version_weights) {
    if (weighted != kLatest && !it->second.versions.count(weighted)) {
      return "function '" + function_name + "' has no version '" + weighted + "'";
    }
    route.weighted_version = weighted;
    route.weight = std::clamp(weight, 0.0, 1.0);
  }
  it->second.aliases[alias] = std::move(route);
  return {};
}

std::string Invoker::RegisterVersion(const FunctionConfig& config, const std::string& version) {
  if (version.empty() || version == kLatest ||
      !std::all_of(version.begin(), version.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return "version '" + version + "' is not a version number";
  }
  std::string error = CheckFunctionConfig(config);
  if (!error.empty()) return "function '" + config.function_name + "': " + error;
  auto fv = std::make_shared<FunctionVersion>();
  fv->config = config;
  fv->version = version;
  fv->unpacked = UnpackedCode::For(config.unpacked_root);
  std::lock_guard lock(impl_->mu);
  auto it = impl_->functions.find(config.function_name);
  if (it == impl_->functions.end()) return "function '" + config.function_name + "' not found";
  it->second.versions[version] = std::move(fv);
  it->second.next_version = std::max(it->second.next_version, std::stoi(version) + 1);
  return {};
}

void Invoker::PutEventInvokeConfig(const std::string& function_name, EventInvokeConfig config,
                                   const std::string& qualifier) {
  config.maximum_retry_attempts = std::clamp(config.maximum_retry_attempts, 0, 2);
  config.maximum_event_age_seconds =
      std::clamp<int64_t>(config.maximum_event_age_seconds, 60, 21600);
  std::lock_guard lock(impl_->mu);
  auto it = impl_->functions.find(function_name);
  if (it != impl_->functions.end()) {
    it->second.event_configs[qualifier.empty() ? std::string(kLatest) : qualifier] =
        std::move(config);
  }
}

void Invoker::SetProvisionedConcurrency(const std::string& function_name, int count,
                                        const std::string& version) {
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->functions.find(function_name);
    if (it == impl_->functions.end()) return;
    const std::string key = version.empty() ? std::string(kLatest) : version;
    if (count > 0) {
      it->second.provisioned[key] = count;
    } else {
      it->second.provisioned.erase(key);
    }
  }
  impl_->KeepProvisioned();
}

int Invoker::ProvisionedReady(const std::string& function_name, const std::string& version) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->functions.find(function_name);
  if (it == impl_->functions.end()) return 0;
  const std::string key = version.empty() ? std::string(kLatest) : version;
  const auto wanted = it->second.provisioned.find(key);
  const auto pool = it->second.pools.find(key);
  if (wanted == it->second.provisioned.end() || pool == it->second.pools.end()) return 0;
  return std::min(wanted->second, pool->second.live - pool->second.starting);
}

bool Invoker::HasFunction(const std::string& function_name) const {
  std::lock_guard lock(impl_->mu);
  return impl_->functions.count(function_name) > 0;
}

std::vector<std::string> Invoker::FunctionNames() const {
  std::lock_guard lock(impl_->mu);
  std::vector<std::string> names;
  for (const auto& [name, entry] : impl_->functions) names.push_back(name);
  return names;
}

InvokeResult Invoker::Invoke(const InvokeRequest& request) { return impl_->Invoke(request); }

void Invoker::InvokeAsync(InvokeRequest request, std::function<void(InvokeResult)> done) {
  if (impl_->RunsOnCaller(request)) {
    done(impl_->Invoke(request));
    return;
  }
  // std::function needs a copyable job: the request and callback are shared, not copied.
  auto job = std::make_shared<std::pair<InvokeRequest, std::function<void(InvokeResult)>>>(
      std::move(request), std::move(done));
  impl_->callbacks.Post([this, job] { job->second(impl_->Invoke(job->first)); });
}

int Invoker::ReapIdle() { return impl_->ReapIdle(); }

int Invoker::EnvironmentCount(const std::string& function_name) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->functions.find(function_name);
  if (it == impl_->functions.end()) return 0;
  int count = 0;
  for (const auto& [version, pool] : it->second.pools) count += pool.live;
  return count;
}

void Invoker::DrainAsync() {
  std::unique_lock lock(impl_->mu);
  while (!impl_->stopping && (impl_->queue->Size() > 0 || impl_->async_running > 0)) {
    impl_->cv.wait_for(lock, std::chrono::milliseconds(50));
  }
}

}  // namespace switchyard::invoker
