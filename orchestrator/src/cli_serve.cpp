// `switchyard serve`: resolves the database (an URL, or the embedded cluster it starts), migrates
// it, runs until SIGINT or SIGTERM, then shuts down in reverse order.
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "api/metrics.hpp"
#include "api/server.hpp"
#include "engine/scheduler.hpp"
#include "logging.hpp"
#include "serve_functions.hpp"
#include "store/database.hpp"
#include "store/migrate.hpp"
#include "store/queue_store.hpp"
#include "switchyard/invoker/function_config.hpp"
#include "switchyard/invoker/invoker.hpp"
#include "switchyard/orchestrator/cli.hpp"
#include "switchyard/orchestrator/engine.hpp"
#include "triggers/esm_poller.hpp"
#include "triggers/sqs_task_backend.hpp"

namespace switchyard::orchestrator {

int RunServeCommand(const ServeOptions& options, std::ostream& out, std::ostream& err) {
  // SIGINT and SIGTERM are blocked in this thread before any other thread exists, so every thread
  // inherits the block and the signal waits for sigwait below instead of killing the process
  // half-way. (Child processes get the default mask back: see store/process.cpp.)
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  if (std::string error = ConfigureLogging(options.log_level, options.log_format); !error.empty()) {
    err << "switchyard serve: " << error << "\n";
    return 2;
  }
  // Lines still queued are written whichever way this function returns.
  struct LogDrain {
    ~LogDrain() { StopLogging(); }
  } log_drain;

  // The HTTP API's flags are checked before a database is started for nothing.
  api::ApiServerOptions api_options;
  api_options.bind_address = options.bind_address;
  api_options.port = options.port;
  api_options.credentials_file = options.credentials_file;
  api_options.functions_dir = options.functions_dir;
  api_options.read_timeout = std::chrono::milliseconds(options.read_timeout_ms);
  auto api_server = std::make_unique<api::ApiServer>(api_options);
  if (std::string error = api_server->Preflight(); !error.empty()) {
    err << "switchyard serve: " << error << "\n";
    return 2;
  }

  std::optional<std::filesystem::path> data_dir;
  if (options.database.data_dir) data_dir = *options.database.data_dir;
  store::Database database;
  try {
    database = store::OpenDatabase(options.database.database_url, data_dir);
    if (database.cluster) {
      spdlog::info("serve: database=embedded data_dir={} cluster={} url={}",
                   database.cluster->data_dir().string(),
                   database.cluster->started_cluster() ? "started" : "reused", database.url);
    } else {
      spdlog::info("serve: database=external url={}", store::RedactUrl(database.url));
    }
    if (options.no_migrate) {
      spdlog::info("serve: migrations skipped (--no-migrate)");
    } else {
      const std::vector<int> applied = store::Migrate(database.url);
      spdlog::info("serve: migrations applied={} known={}", applied.size(),
                   store::BuiltinMigrations().size());
    }
  } catch (const std::invalid_argument& e) {
    err << "switchyard serve: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    err << "switchyard serve: " << e.what() << "\n";
    return 1;
  }

  // The invoker is shared: functions created through the Lambda API are what Task states run.
  // The engine and the HTTP API run on their own threads until the signal below; they shut
  // down (API first, then the engine) before the database does.
  // Metrics outlive the invoker and the engine, which report to them.
  api::Metrics metrics;
  invoker::InvokerOptions invoker_options;
  // Functions and async invocations live in the database (serve_functions.hpp).
  std::unique_ptr<DurableFunctions> durable;
  try {
    durable = std::make_unique<DurableFunctions>(database.url, "", &invoker_options);
  } catch (const std::exception& e) {
    err << "switchyard serve: " << e.what() << "\n";
    if (database.cluster) database.cluster->Stop();
    return 1;
  }
  api_options.registry = &durable->registry();
  // Queues and event-source mappings (migrations/0006_queues.sql); the poller starts below.
  auto queues = std::make_unique<store::QueueStore>(database.url);
  api_options.queues = queues.get();
  durable->AttachQueues(queues.get());
  std::unique_ptr<triggers::EsmPoller> esm_poller;
  triggers::SqsTaskBackend sqs_tasks(*queues);  // Task states on arn:aws:states:::sqs:...
  api_options.url_registry = &durable->urls();
  api_options.layer_registry = &durable->layers();
  api_options.dead_letters = true;
  api_options.sync_interval = std::chrono::seconds(2);
  api_options.code_store = options.functions_store;
  if (api_options.code_store.empty()) {
    api_options.code_store =
        ((database.cluster ? database.cluster->data_dir() : store::DefaultDataDir()) / "functions")
            .string();
  }
  invoker_options.log_sink = [&metrics](const std::string& function_name, const std::string&,
                                        const std::string& log) {
    metrics.CountInvocationLog(function_name, log);
  };
  invoker_options.result_sink = [&metrics](const std::string& function_name,
                                           const invoker::InvokeResult& result) {
    metrics.CountInvokeResult(function_name, result);
  };
  auto functions = std::make_unique<invoker::Invoker>(std::move(invoker_options));
  std::unique_ptr<Engine> engine;
  // EventBridge Scheduler: the API's rows and this node's firing loop (engine/scheduler.hpp).
  std::unique_ptr<store::ScheduleStore> schedules;
  std::unique_ptr<Scheduler> scheduler;
  try {
    EngineOptions engine_options;
    engine_options.database_url = database.url;
    engine_options.migrate = false;  // done above
    engine_options.invoker = functions.get();
    engine_options.service_backend = &sqs_tasks;
    engine_options.retention =
        std::chrono::seconds(static_cast<int64_t>(options.retention_days * 24 * 3600));
    engine_options.observer = &metrics;
    // Four transactions of decisions in flight (not the library's two): StartExecution calls
    // wait on commits, so overlapping more of them keeps the group commits full (bench/README).
    engine_options.decision_threads = 4;
    engine_options.pool_size = 6;
    engine_options.lease = std::chrono::milliseconds(options.lease_ms);
    engine_options.hold_tasks = true;  // until the functions are installed (below)
    engine = Engine::Create(std::move(engine_options));
    spdlog::info("serve: engine node={}", engine->node_id());
    api_options.invoker = functions.get();
    api_options.engine = engine.get();
    api_options.metrics = &metrics;
    schedules = std::make_unique<store::ScheduleStore>(database.url);
    api_options.schedules = schedules.get();
    api_server = std::make_unique<api::ApiServer>(api_options);
    durable->Attach(functions.get(), engine.get());
    api_server->Start(out);
    durable->queue().Start();  // functions are installed: queued events may run now
    engine->ReleaseTasks();    // and Task states may claim their invocations
    esm_poller = std::make_unique<triggers::EsmPoller>(*queues, *functions, api_options.region,
                                                       api_options.account_id);
    esm_poller->Start();  // and queues may feed them
    SchedulerOptions scheduler_options;
    scheduler_options.database_url = database.url;
    scheduler_options.engine = engine.get();
    scheduler_options.queues = queues.get();  // SQS targets and dead-letter queues
    scheduler = std::make_unique<Scheduler>(std::move(scheduler_options));
    scheduler->Start();
  } catch (const std::exception& e) {
    err << "switchyard serve: " << e.what() << "\n";
    api_server.reset();
    scheduler.reset();
    if (engine) engine->Shutdown();
    engine.reset();
    if (database.cluster) database.cluster->Stop();
    return 1;
  }
  if (!options.port_file.empty()) {
    // Written whole, then renamed: a reader never sees a partial port.
    {
      std::ofstream file(options.port_file + ".tmp");
      file << api_server->port() << "\n";
    }
    std::rename((options.port_file + ".tmp").c_str(), options.port_file.c_str());
  }

  spdlog::info("serve: ready (SIGINT or SIGTERM stops)");
  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) != 0) {
  }
  spdlog::info("serve: received {}, shutting down", signal_number == SIGINT ? "SIGINT" : "SIGTERM");

  // Requests in flight are answered first, then the engine lets its running tasks finish and
  // releases the leases of the rest, then the invoker's environments stop, then the database.
  // All of it within the grace: past it, the function processes still running are killed and
  // what they were doing is left for another node (or the next start), as after a crash.
  out << "switchyard serve: finishing requests in flight" << std::endl;
  const auto grace_end = std::chrono::steady_clock::now() +
                         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(options.shutdown_grace_seconds));
  std::mutex grace_mu;
  std::condition_variable grace_cv;
  bool grace_done = false;  // Guarded by grace_mu.
  std::thread grace_watch([&] {
    std::unique_lock lock(grace_mu);
    if (grace_cv.wait_until(lock, grace_end, [&] { return grace_done; })) return;
    spdlog::warn("serve: the shutdown grace of {}s has passed: killing the functions still running",
                 options.shutdown_grace_seconds);
    functions->AbandonRunning();
  });
  if (esm_poller) esm_poller->Stop();  // batches being invoked finish first
  esm_poller.reset();
  api_server->Stop();
  api_server.reset();
  scheduler.reset();
  engine->Shutdown(grace_end);
  {
    std::lock_guard lock(grace_mu);
    grace_done = true;
  }
  grace_cv.notify_all();
  grace_watch.join();
  // Event invocations in flight may finish within what is left of the grace.
  functions->Drain(grace_end);
  durable->Attach(nullptr, nullptr);
  durable->AttachQueues(nullptr);
  engine.reset();
  functions.reset();
  durable.reset();

  int status = 0;
  if (database.cluster) {
    try {
      database.cluster->Stop();
    } catch (const std::exception& e) {
      err << "switchyard serve: " << e.what() << "\n";
      status = 1;
    }
  }
  spdlog::info("serve: stopped");
  out << "switchyard serve: stopped" << std::endl;
  return status;
}

}  // namespace switchyard::orchestrator
