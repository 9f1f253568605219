// Durable engine throughput on PostgreSQL (a benchmark, not a test), driven by
// bench/run_engine_bench:
//   engine_throughput cluster start DIR [NAME=VALUE ...]   starts a throwaway cluster in DIR with
//                                                          the embedded launcher (serve's
//                                                          settings plus NAME=VALUE); prints URL
//   engine_throughput cluster stop DIR                     stops it and removes DIR
//   engine_throughput agent URL                            one engine node; commands on stdin
// Agent commands (one line each, one answer line each):
//   create pass|task NAME   creates the state machine NAME: `pass` is a 5-state Pass/Choice
//                           machine (an execution is one decision, inside its start); `task` is
//                           three Task states calling the native no-op function `noop`.
//   round NAME COUNT TOTAL FIRST CLIENTS
//                           CLIENTS threads start executions e<FIRST>..e<FIRST+COUNT-1> of NAME
//                           on this node, then it waits until TOTAL executions of NAME (of every
//                           node) have finished. Answers `done START_NS END_NS FAILED LAT...`:
//                           the wall-clock (system_clock) start and end, failed starts, and each
//                           StartExecution's duration in microseconds.
//   round NAME COUNT TOTAL FIRST CLIENTS queued
//                           the same, but the native function is held shut while the
//                           executions start: it answers `queued FAILED` once every start has
//                           committed (their first tasks queued: up to max_tasks_in_flight
//                           leased and waiting, the rest unclaimed), then waits for a line
//                           `go`, opens the function and times from there until TOTAL have
//                           finished (`done START_NS END_NS FAILED`): task processing alone, as
//                           graphile-worker's rounds time jobs already queued.
//   quit
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/embedded_postgres.hpp"
#include "switchyard/orchestrator/engine.hpp"

namespace orch = switchyard::orchestrator;

namespace {

int64_t WallNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Definition(const std::string& kind) {
  if (kind == "pass") {
    return R"({"StartAt": "A", "States": {
      "A": {"Type": "Pass", "Result": 1, "ResultPath": "$.a", "Next": "B"},
      "B": {"Type": "Choice", "Choices": [{"Variable": "$.a", "NumericEquals": 1, "Next": "C"}],
            "Default": "E"},
      "C": {"Type": "Pass", "Result": 2, "ResultPath": "$.c", "Next": "D"},
      "D": {"Type": "Pass", "Next": "E"},
      "E": {"Type": "Succeed"}}})";
  }
  const std::string fn = "arn:aws:lambda:us-east-1:000000000000:function:noop";
  return R"({"StartAt": "A", "States": {
      "A": {"Type": "Task", "Resource": ")" +
         fn + R"(", "Next": "B"},
      "B": {"Type": "Task", "Resource": ")" +
         fn + R"(", "Next": "C"},
      "C": {"Type": "Task", "Resource": ")" +
         fn + R"(", "End": true}}})";
}

int Cluster(int argc, char** argv) {
  namespace store = orch::store;
  const std::string command = argv[2];
  store::EmbeddedPostgresOptions options;
  options.data_dir = argv[3];
  options.database = "bench";
  options.sync_initdb = false;  // a throwaway cluster; the server's own settings are serve's
  options.stop_when_last = false;
  for (int i = 4; i < argc; ++i) {
    std::string setting = argv[i];
    auto eq = setting.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "engine_throughput: setting '%s' is not NAME=VALUE\n", argv[i]);
      return 2;
    }
    options.settings[setting.substr(0, eq)] = setting.substr(eq + 1);
  }
  try {
    if (command == "start") {
      auto cluster = store::EmbeddedPostgres::Start(options);
      std::printf("%s\n", cluster->connection_url().c_str());
      return 0;
    }
    if (command == "stop") {
      options.stop_when_last = true;  // Start reused the running cluster: stop it as its last user
      if (!std::filesystem::exists(options.data_dir / "pgdata")) return 0;
      store::EmbeddedPostgres::Start(options)->Stop();
      std::filesystem::remove_all(options.data_dir);
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "engine_throughput: %s\n", e.what());
    return 1;
  }
  return 2;
}

// Holds the native function's invocations while a queued round starts its executions.
class Gate {
 public:
  void Close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void Open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void Pass() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
};

int Agent(const std::string& url) {
  orch::EngineOptions options;
  options.database_url = url;
  // Task invocations in flight per node: 900 (below the invoker's account concurrency of 1,000,
  // past which an invocation is throttled). Measured 2026-11-28, task1q: 256 left ~19 % of the
  // two cores idle (decision batches of ~40 outcomes waiting on their commits); 900 gave
  // batches of ~200 and +18-25 % tasks/s. graphile-worker's side likewise runs its fastest
  // configuration (a local queue of 500). BENCH_MAX_TASKS overrides it.
  options.max_tasks_in_flight = 900;
  if (const char* tasks = std::getenv("BENCH_MAX_TASKS")) {
    options.max_tasks_in_flight = std::atoi(tasks);
  }
  // Tuning experiments: BENCH_DECISION_THREADS, BENCH_DECISION_BATCH (default: the engine's own
  // defaults).
  if (const char* threads = std::getenv("BENCH_DECISION_THREADS")) {
    options.decision_threads = std::atoi(threads);
  }
  if (const char* batch = std::getenv("BENCH_DECISION_BATCH")) {
    options.decision_batch = std::atoi(batch);
  }
  std::unique_ptr<orch::Engine> engine = orch::Engine::Create(options);
  Gate gate;
  // The no-op function returns at once, so it is registered kNonBlocking: called on the thread
  // that starts the node's tasks, as graphile-worker calls its jobs on its event loop.
  // BENCH_NATIVE_BLOCKING=1 registers it kMayBlock (a thread of the invoker's per call). (While
  // a queued round is held shut, the first call waits at the gate and the others wait behind
  // it; both modes start once it opens.)
  const auto native_mode = std::getenv("BENCH_NATIVE_BLOCKING") != nullptr
                               ? switchyard::invoker::NativeMode::kMayBlock
                               : switchyard::invoker::NativeMode::kNonBlocking;
  engine->RegisterNative(
      "noop",
      [&gate](const std::string& payload, const switchyard::invoker::NativeContext&) {
        gate.Pass();
        return switchyard::invoker::NativeOutcome{payload, ""};
      },
      60, native_mode);
  pqxx::connection connection(url);
  // The round's end is polled every 2 ms: first whether any execution of the machine still
  // runs (running_executions, migrations/0011: cheap), then, once none does, whether all have
  // started. (A count of the finished ones read every row of the machine: ~12 ms a call after a
  // few rounds, a PostgreSQL core busy with the poll that only the engine's sides paid for.)
  connection.prepare("running",
                     "SELECT EXISTS (SELECT 1 FROM running_executions WHERE state_machine_name = "
                     "$1)");
  connection.prepare("started", "SELECT count(*) FROM executions WHERE state_machine_name = $1");
  std::printf("ready\n");
  std::fflush(stdout);

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string command;
    in >> command;
    if (command == "quit") break;
    if (command == "create") {
      std::string kind, name;
      in >> kind >> name;
      auto created = engine->CreateStateMachine(name, Definition(kind));
      std::printf("%s\n", created.ok() ? "ok" : ("error " + created.error().cause).c_str());
    } else if (command == "round") {
      std::string name;
      int count = 0, total = 0, first = 0, clients = 1;
      std::string mode;
      in >> name >> count >> total >> first >> clients >> mode;
      const bool queued = mode == "queued";
      if (queued) gate.Close();
      std::atomic<int> next{0};
      std::atomic<int> failures{0};
      std::vector<std::vector<int64_t>> latencies(static_cast<std::size_t>(clients));
      int64_t start = WallNanos();
      std::vector<std::thread> threads;
      for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
          for (int i = next++; i < count; i = next++) {
            auto t0 = std::chrono::steady_clock::now();
            if (!engine->StartExecution(name, "e" + std::to_string(first + i), "{}").ok()) {
              ++failures;
            }
            latencies[static_cast<std::size_t>(c)].push_back(
                std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - t0)
                    .count());
          }
        });
      }
      for (auto& thread : threads) thread.join();
      if (queued) {
        std::printf("queued %d\n", failures.load());
        std::fflush(stdout);
        std::string go;
        if (!std::getline(std::cin, go) || go != "go") {
          gate.Open();
          break;
        }
        start = WallNanos();
        gate.Open();
        for (auto& per_client : latencies) per_client.clear();  // starts are not this round's
      }
      for (;;) {
        pqxx::nontransaction tx(connection);
        if (!tx.exec_prepared("running", name)[0][0].as<bool>() &&
            tx.exec_prepared("started", name)[0][0].as<int>() >= total) {
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      const int64_t end = WallNanos();
      std::string out = "done " + std::to_string(start) + " " + std::to_string(end) + " " +
                        std::to_string(failures.load());
      for (const auto& per_client : latencies) {
        for (int64_t us : per_client) out += " " + std::to_string(us);
      }
      std::printf("%s\n", out.c_str());
    } else {
      std::printf("error unknown command\n");
    }
    std::fflush(stdout);
  }
  engine->Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && std::string(argv[1]) == "cluster") return Cluster(argc, argv);
  if (argc == 3 && std::string(argv[1]) == "agent") return Agent(argv[2]);
  std::fprintf(stderr,
               "usage: engine_throughput cluster start|stop DIR [NAME=VALUE ...]\n"
               "       engine_throughput agent URL\n");
  return 2;
}
