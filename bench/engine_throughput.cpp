// Durable engine throughput on a PostgreSQL database (a benchmark, not a test):
//   engine_throughput URL pass|task EXECUTIONS CLIENTS NODES
// `pass`: a 5-state Pass/Choice machine (every execution is one decision, inside its start);
// `task`: three Task states calling a native no-op function (four decisions per execution).
// CLIENTS threads start the executions on the first engine; NODES engines (in this process)
// run the work. Prints executions/s and, from the stored start/stop dates, the start-to-finish
// latency p50/p99.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "switchyard/orchestrator/engine.hpp"

namespace orch = switchyard::orchestrator;

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: engine_throughput URL pass|task EXECUTIONS CLIENTS NODES\n");
    return 2;
  }
  const std::string url = argv[1];
  const std::string kind = argv[2];
  const int executions = std::atoi(argv[3]);
  const int clients = std::atoi(argv[4]);
  const int nodes = std::atoi(argv[5]);

  std::vector<std::unique_ptr<orch::Engine>> engines;
  for (int i = 0; i < nodes; ++i) {
    orch::EngineOptions options;
    options.database_url = url;
    options.max_tasks_in_flight = 256;
    engines.push_back(orch::Engine::Create(options));
    engines.back()->RegisterNative(
        "noop", [](const std::string& payload, const switchyard::invoker::NativeContext&) {
          return switchyard::invoker::NativeOutcome{payload, ""};
        });
  }
  const std::string machine =
      kind + "-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  std::string definition;
  if (kind == "pass") {
    definition = R"({"StartAt": "A", "States": {
      "A": {"Type": "Pass", "Result": 1, "ResultPath": "$.a", "Next": "B"},
      "B": {"Type": "Choice", "Choices": [{"Variable": "$.a", "NumericEquals": 1, "Next": "C"}],
            "Default": "E"},
      "C": {"Type": "Pass", "Result": 2, "ResultPath": "$.c", "Next": "D"},
      "D": {"Type": "Pass", "Next": "E"},
      "E": {"Type": "Succeed"}}})";
  } else {
    const std::string fn = "arn:aws:lambda:us-east-1:000000000000:function:noop";
    definition = R"({"StartAt": "A", "States": {
      "A": {"Type": "Task", "Resource": ")" +
                 fn + R"(", "Next": "B"},
      "B": {"Type": "Task", "Resource": ")" +
                 fn + R"(", "Next": "C"},
      "C": {"Type": "Task", "Resource": ")" +
                 fn + R"(", "End": true}}})";
  }
  auto created = engines[0]->CreateStateMachine(machine, definition);
  if (!created.ok()) {
    std::fprintf(stderr, "create: %s\n", created.error().cause.c_str());
    return 1;
  }

  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      for (int i = next++; i < executions; i = next++) {
        if (!engines[0]->StartExecution(machine, "e" + std::to_string(i), "{}").ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  pqxx::connection connection(url);
  for (;;) {
    pqxx::work tx(connection);
    int running = tx.exec_params(
                        "SELECT count(*) FROM executions WHERE state_machine_name = $1 "
                        "AND status = 'RUNNING'",
                        machine)[0][0]
                      .as<int>();
    tx.commit();
    if (running == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> latencies;
  {
    pqxx::work tx(connection);
    for (const auto& row : tx.exec_params(
             "SELECT extract(epoch from stop_date - start_date) * 1000 FROM executions WHERE "
             "state_machine_name = $1 AND status = 'SUCCEEDED'",
             machine)) {
      latencies.push_back(row[0].as<double>());
    }
  }
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    if (latencies.empty()) return 0.0;
    return latencies[static_cast<std::size_t>(p * static_cast<double>(latencies.size() - 1))];
  };
  std::printf(
      "machine=%s executions=%d clients=%d nodes=%d seconds=%.3f executions_per_s=%.0f "
      "succeeded=%zu failures=%d latency_ms_p50=%.2f p99=%.2f\n",
      kind.c_str(), executions, clients, nodes, seconds, executions / seconds, latencies.size(),
      failures.load(), pct(0.5), pct(0.99));
  for (auto& engine : engines) engine->Shutdown();
  return 0;
}
