// Cost per item at scale: one execution of a shape with N items, run by the in-memory driver
// (MemoryDriver, fake clock, a native in-process function backend), history included.
//
//   scale_bench time SHAPE N [N ...]   rounds of >= BENCH_MIN_SECONDS (default 0.5) per size,
//                                      sizes interleaved round by round, BENCH_ROUNDS rounds
//                                      (default 5); one JSON line per size with each round's
//                                      nanoseconds per item, wall ("rounds") and CPU
//                                      ("cpu_rounds"), and their min / median / max.
//   scale_bench memory SHAPE N         one execution in this process; one JSON line with the
//                                      peak resident memory it added, per item (run one process
//                                      per size: the peak is per process).
//
// Shapes: map_pass, map_wait, map_task (Express inline Maps of N items whose iterator is a Pass,
// a Wait of 1 s, or a Task served by a native function) and choice_loop (a Pass that counts and
// a Choice that loops back until the count reaches N).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "switchyard/asl/core.hpp"
#include "switchyard/asl/definition.hpp"
#include "switchyard/asl/json.hpp"
#include "switchyard/orchestrator/memory_driver.hpp"

namespace asl = switchyard::asl;
namespace orchestrator = switchyard::orchestrator;

namespace {

constexpr int64_t kT0 = int64_t{1700000000} * 1000000000;

// A native function: answers every task at once with its payload.
class EchoBackend : public orchestrator::TaskBackend {
 public:
  std::optional<orchestrator::TaskOutcome> Start(const orchestrator::TaskRequest& request,
                                                 orchestrator::TaskCompleter) override {
    return orchestrator::TaskOutcome::Success(asl::CopyJson(request.payload));
  }
};

std::optional<std::string> Definition(const std::string& shape) {
  auto map = [](std::string_view iterator) {
    return R"({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
        "ResultPath": null, "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "S", "States": {"S": )" +
           std::string(iterator) + R"(}}, "End": true}}})";
  };
  if (shape == "map_pass") return map(R"({"Type": "Pass", "End": true})");
  if (shape == "map_wait") return map(R"({"Type": "Wait", "Seconds": 1, "End": true})");
  if (shape == "map_task") {
    return map(R"({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true})");
  }
  if (shape == "choice_loop") {
    return R"asl({"StartAt": "Count", "States": {
        "Count": {"Type": "Pass", "Next": "Loop",
                  "Parameters": {"n.$": "States.MathAdd($.n, 1)", "max.$": "$.max"}},
        "Loop": {"Type": "Choice", "Default": "Done", "Choices": [
                   {"Variable": "$.n", "NumericLessThanPath": "$.max", "Next": "Count"}]},
        "Done": {"Type": "Succeed"}}})asl";
  }
  return std::nullopt;
}

asl::Json Input(const std::string& shape, int64_t n) {
  asl::Json input = asl::JsonObject();
  if (shape == "choice_loop") {
    asl::JsonSet(input, "n", asl::JsonInt(0));
    asl::JsonSet(input, "max", asl::JsonInt(n));
    return input;
  }
  asl::Json items = asl::JsonArray();
  for (int64_t i = 0; i < n; ++i) asl::JsonPush(items, asl::JsonInt(0));
  asl::JsonSet(input, "items", std::move(items));
  return input;
}

// Runs one execution; aborts unless it succeeds.
void RunOnce(const asl::StateMachineDef& definition, const std::string& shape, int64_t n) {
  EchoBackend backend;
  orchestrator::MemoryDriverOptions options;
  options.fake_clock_start = kT0;
  // Express: no 25,000-event history limit (a Standard execution of 100,000 items would pass it).
  options.execution_type = asl::ExecutionType::kExpress;
  orchestrator::MemoryDriver driver(definition, backend, std::move(options));
  orchestrator::RunResult result = driver.Run(Input(shape, n));
  if (result.status != asl::ExecutionStatus::kSucceeded) {
    std::cerr << shape << " " << n << ": " << asl::ExecutionStatusName(result.status) << " "
              << result.error.value_or("") << " " << result.cause.value_or("") << "\n";
    std::exit(1);
  }
}

// CPU time this process has used (user + system), in seconds: unlike the wall clock, it leaves
// out the time other processes on a loaded machine held the core.
double CpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// A field of /proc/self/status in kB ("VmRSS", "VmHWM").
int64_t StatusKb(std::string_view field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.compare(0, field.size(), field) == 0 && line.size() > field.size() &&
        line[field.size()] == ':') {
      return std::strtoll(line.c_str() + field.size() + 1, nullptr, 10);
    }
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: scale_bench time SHAPE N [N ...] | scale_bench memory SHAPE N\n";
    return 2;
  }
  const std::string mode = argv[1];
  const std::string shape = argv[2];
  std::optional<std::string> text = Definition(shape);
  if (!text) {
    std::cerr << "unknown shape " << shape << "\n";
    return 2;
  }
  asl::ParseResult parsed = asl::ParseDefinition(*text);
  if (!parsed.ok()) {
    std::cerr << shape << ": invalid definition\n";
    return 2;
  }
  const asl::StateMachineDef& definition = *parsed.definition;
  std::vector<int64_t> sizes;
  for (int i = 3; i < argc; ++i) sizes.push_back(std::strtoll(argv[i], nullptr, 10));

  if (mode == "memory") {
    const int64_t n = sizes.front();
    const int64_t before_kb = StatusKb("VmRSS");
    // Resets the peak (VmHWM) to the current resident size, so the peak is this run's.
    std::ofstream("/proc/self/clear_refs") << "5";
    RunOnce(definition, shape, n);
    const int64_t peak_kb = StatusKb("VmHWM");
    std::cout << "{\"shape\":\"" << shape << "\",\"items\":" << n
              << ",\"peak_added_kb\":" << peak_kb - before_kb << ",\"bytes_per_item\":"
              << static_cast<double>(peak_kb - before_kb) * 1024.0 / static_cast<double>(n)
              << "}\n";
    return 0;
  }
  if (mode != "time") {
    std::cerr << "unknown mode " << mode << "\n";
    return 2;
  }
  const char* rounds_env = std::getenv("BENCH_ROUNDS");
  const char* seconds_env = std::getenv("BENCH_MIN_SECONDS");
  const long rounds = std::max(1L, rounds_env ? std::strtol(rounds_env, nullptr, 10) : 5L);
  const double min_seconds = seconds_env ? std::strtod(seconds_env, nullptr) : 0.5;
  for (int64_t n : sizes) RunOnce(definition, shape, n);  // warm-up
  std::vector<std::vector<double>> per_item(sizes.size());
  std::vector<std::vector<double>> cpu_per_item(sizes.size());
  for (long r = 0; r < rounds; ++r) {
    for (std::size_t s = 0; s < sizes.size(); ++s) {
      // Whole executions until the round has lasted min_seconds.
      int64_t runs = 0;
      double seconds = 0;
      const double cpu_start = CpuSeconds();
      const auto start = std::chrono::steady_clock::now();
      do {
        RunOnce(definition, shape, sizes[s]);
        ++runs;
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      } while (seconds < min_seconds);
      const double items = static_cast<double>(runs * sizes[s]);
      per_item[s].push_back(seconds * 1e9 / items);
      cpu_per_item[s].push_back((CpuSeconds() - cpu_start) * 1e9 / items);
    }
  }
  // {"min":…,"median":…,"max":…} of one size's rounds.
  auto summary = [](std::vector<double> values) {
    std::sort(values.begin(), values.end());
    std::ostringstream out;
    out << "{\"min\":" << values.front() << ",\"median\":" << values[values.size() / 2]
        << ",\"max\":" << values.back() << "}";
    return out.str();
  };
  for (std::size_t s = 0; s < sizes.size(); ++s) {
    std::cout << "{\"shape\":\"" << shape << "\",\"items\":" << sizes[s] << ",\"rounds\":[";
    for (std::size_t r = 0; r < per_item[s].size(); ++r) {
      std::cout << (r ? "," : "") << per_item[s][r];
    }
    std::cout << "],\"cpu_rounds\":[";
    for (std::size_t r = 0; r < cpu_per_item[s].size(); ++r) {
      std::cout << (r ? "," : "") << cpu_per_item[s][r];
    }
    std::cout << "],\"ns_per_item\":" << summary(per_item[s])
              << ",\"cpu_ns_per_item\":" << summary(cpu_per_item[s]) << "}\n";
  }
  return 0;
}
