// In-memory execution throughput of the pure core, one side of bench/run_exec_bench.
//
//   exec_throughput machine.asl.json input.json [machine.asl.json input.json ...]
//
// Parses each machine once and warms it up (BENCH_WARMUP_SECONDS, default 1, of executions),
// prints "ready", then serves rounds: for each line "<k>" on stdin it runs machine k (0-based)
// from Started to Finish (history events included, as the core always produces them), whole
// executions until BENCH_MIN_SECONDS (default 0.5) have passed, and prints one JSON line
// {"machine","executions","seconds","per_second","output"}. The driver script interleaves these
// rounds with the peer's, so both sides see the same machine load.
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

double EnvSeconds(const char* name, double fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtod(value, nullptr) : fallback;
}

struct Machine {
  std::string path;
  asl::StateMachineDef definition;
  asl::Json input;
  std::string output;  // of the first execution
};

// One execution, Started to Finish; aborts unless it succeeds.
void RunOnce(Machine& machine, long k) {
  asl::ExecutionState state;
  asl::Step step =
      asl::Apply(machine.definition, state,
                 asl::Event::Started(asl::CopyJson(machine.input), "bench-" + std::to_string(k),
                                     "bench", static_cast<uint64_t>(k)),
                 1700000000000000000);
  for (const asl::Command& command : step.commands) {
    if (command.kind == asl::Command::Kind::kFinish && machine.output.empty()) {
      machine.output = asl::DumpJson(command.output);
    }
  }
  if (state.status() != asl::ExecutionStatus::kSucceeded) std::abort();
}

// Runs whole executions until `seconds` have passed; returns {executions, seconds taken}.
std::pair<long, double> RunFor(Machine& machine, double seconds) {
  long executions = 0;
  double elapsed = 0;
  const auto start = std::chrono::steady_clock::now();
  do {
    // Batches of 64 between clock reads.
    for (int i = 0; i < 64; ++i) RunOnce(machine, executions++);
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds);
  return {executions, elapsed};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || (argc - 1) % 2 != 0) {
    std::cerr << "usage: exec_throughput machine.asl.json input.json ...\n";
    return 2;
  }
  std::vector<Machine> machines;
  for (int i = 1; i + 1 < argc; i += 2) {
    asl::ParseResult parsed = asl::ParseDefinition(Slurp(argv[i]));
    std::optional<asl::Json> input = asl::ParseJson(Slurp(argv[i + 1]));
    if (!parsed.ok() || !input) {
      std::cerr << argv[i] << ": invalid definition or input\n";
      return 2;
    }
    machines.push_back(Machine{argv[i], std::move(*parsed.definition), std::move(*input), ""});
  }
  const double warmup = EnvSeconds("BENCH_WARMUP_SECONDS", 1.0);
  const double round = EnvSeconds("BENCH_MIN_SECONDS", 0.5);
  for (Machine& machine : machines) RunFor(machine, warmup);
  std::cout << "ready" << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    const std::size_t k = std::strtoul(line.c_str(), nullptr, 10);
    if (k >= machines.size()) {
      std::cerr << "no machine " << line << "\n";
      return 2;
    }
    auto [executions, seconds] = RunFor(machines[k], round);
    std::cout << "{\"machine\":\"" << machines[k].path << "\",\"executions\":" << executions
              << ",\"seconds\":" << seconds
              << ",\"per_second\":" << static_cast<double>(executions) / seconds
              << ",\"output\":" << machines[k].output << "}" << std::endl;
  }
  return 0;
}
