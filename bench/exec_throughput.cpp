// In-memory execution throughput of the pure core: each machine is parsed once, then run N
// times from Started to Finish (history events included, as the core always produces them),
// BENCH_ROUNDS times (default 5). Prints one JSON line per machine: {"machine","executions",
// "rounds","per_second" (the median round),"output"}.
//   exec_throughput N machine.asl.json input.json [machine.asl.json input.json ...]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "switchyard/asl/core.hpp"
#include "switchyard/asl/definition.hpp"
#include "switchyard/asl/json.hpp"

namespace asl = switchyard::asl;

namespace {

std::string Slurp(const char* path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || (argc - 2) % 2 != 0) {
    std::cerr << "usage: exec_throughput N machine.asl.json input.json ...\n";
    return 2;
  }
  const long n = std::strtol(argv[1], nullptr, 10);
  const char* rounds_env = std::getenv("BENCH_ROUNDS");
  const long rounds = std::max(1L, rounds_env ? std::strtol(rounds_env, nullptr, 10) : 5L);
  for (int i = 2; i + 1 < argc; i += 2) {
    asl::ParseResult parsed = asl::ParseDefinition(Slurp(argv[i]));
    std::optional<asl::Json> input = asl::ParseJson(Slurp(argv[i + 1]));
    if (!parsed.ok() || !input) {
      std::cerr << argv[i] << ": invalid definition or input\n";
      return 2;
    }
    std::string output;
    auto run_once = [&](long k) {
      asl::ExecutionState state;
      asl::Step step =
          asl::Apply(*parsed.definition, state,
                     asl::Event::Started(asl::CopyJson(*input), "bench-" + std::to_string(k),
                                         "bench", static_cast<uint64_t>(k)),
                     1700000000000000000);
      for (const asl::Command& command : step.commands) {
        if (command.kind == asl::Command::Kind::kFinish && k == 0) {
          output = asl::DumpJson(command.output);
        }
      }
      if (state.status() != asl::ExecutionStatus::kSucceeded) std::abort();
    };
    for (long w = 0; w < 200; ++w) run_once(w);  // warm-up, as the peer gets
    std::vector<double> rates;
    for (long r = 0; r < rounds; ++r) {
      const auto start = std::chrono::steady_clock::now();
      for (long k = 0; k < n; ++k) run_once(k);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      rates.push_back(static_cast<double>(n) / seconds);
    }
    std::vector<double> sorted = rates;
    std::sort(sorted.begin(), sorted.end());
    std::cout << "{\"machine\":\"" << argv[i] << "\",\"executions\":" << n << ",\"rounds\":[";
    for (std::size_t r = 0; r < rates.size(); ++r) std::cout << (r ? "," : "") << rates[r];
    std::cout << "],\"per_second\":" << sorted[sorted.size() / 2] << ",\"output\":" << output
              << "}\n";
  }
  return 0;
}
