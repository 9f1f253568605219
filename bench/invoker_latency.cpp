// Function invoker latency and throughput, through Invoker::Invoke, next to the bare cost of
// starting the same interpreters. Run it with bench/run_invoker_bench, which also compiles the
// C custom runtime used for the overhead and throughput rows.
//   invoker_latency --c-runtime PATH [--rounds N] [--round-seconds S] [--seconds S]
//                   [--threads A,B,...] [--only py|node|bash|c] [--cold-pause MS]
//
// Definitions (printed with the results). Every figure comes from rounds of at least
// --round-seconds (default 0.5 s), the two sides of a comparison interleaved round by round, and
// is reported as min / median / max over the rounds, so that one preemption on a loaded machine
// moves one round, not the figure.
// - bare start: spawn `python3 -c ...`, `node -e ...`, `bash -c ...`, `/bin/echo` with the
//   environment the invoker gives a runtime, timed to the first byte the program writes to its
//   stdout pipe (its "response"); the exit is not timed. Cold starts are timed to the response
//   too, so both sides stop at the same point.
// - cold start: Invoke() of a function without an environment (re-registering the function
//   retires the previous one first, outside the timed region): spawn (into its memory cgroup
//   when one can be made), runtime init, first /next, the event and its response.
// - warm: Invoke() of a function whose environment is idle in the pool; p50 and p99 per round.
// - warm overhead: for the C runtime, each warm Invoke() minus the runtime's own work for that
//   event (from the moment it has read the event to the moment it writes the response,
//   measured by the runtime with CLOCK_MONOTONIC and returned in the payload). What is left is
//   the platform: both HTTP legs on loopback, the thread hand-offs and the bookkeeping.
// - throughput: sync Invoke() calls per second of the C runtime function from several caller
//   threads at once, reserved concurrency 64, so up to one warm environment per thread.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "switchyard/invoker/invoker.hpp"

namespace {

namespace inv = switchyard::invoker;
using Clock = std::chrono::steady_clock;

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double Quantile(std::vector<double> samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const auto index =
      static_cast<std::size_t>(std::lround(q * static_cast<double>(samples.size() - 1)));
  return samples[std::min(index, samples.size() - 1)];
}

// min / median / max of per-round figures.
struct Spread {
  double min = 0;
  double median = 0;
  double max = 0;
};
Spread SpreadOf(const std::vector<double>& values) {
  Spread spread;
  if (values.empty()) return spread;
  spread.min = *std::min_element(values.begin(), values.end());
  spread.max = *std::max_element(values.begin(), values.end());
  spread.median = Quantile(values, 0.5);
  return spread;
}

std::string Ms(double micros) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, micros >= 10000 ? "%.1f" : "%.2f", micros / 1000.0);
  return buffer;
}
std::string Us(double micros) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.0f", micros);
  return buffer;
}
std::string X(double ratio) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f×", ratio);
  return buffer;
}
// "median (min–max)" with a unit formatter.
std::string Show(const Spread& spread, const std::function<std::string(double)>& format,
                 const std::string& unit) {
  return "**" + format(spread.median) + "** (" + format(spread.min) + "–" + format(spread.max) +
         ")" + unit;
}

void WriteFile(const std::string& path, const std::string& text, bool executable = false) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  if (executable) {
    std::filesystem::permissions(path, std::filesystem::perms::owner_all |
                                           std::filesystem::perms::group_read |
                                           std::filesystem::perms::group_exec);
  }
}

std::string Which(const std::string& name) {
  for (const char* dir : {"/usr/bin/", "/usr/local/bin/", "/bin/"}) {
    std::string path = std::string(dir) + name;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return name;
}

// CPU time (user + system, all threads) of this process's reaped children so far, in µs. The
// kernel keeps it exact (it is the sum of the tasks' run time), so on a loaded machine it
// measures the work of a start where the wall time measures mostly the wait for a core.
double ChildrenCpuMicros() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  auto micros = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) * 1e6 + static_cast<double>(tv.tv_usec);
  };
  return micros(usage.ru_utime) + micros(usage.ru_stime);
}

struct Sample {
  double wall = 0;  // µs
  double cpu = 0;   // µs of the started process
};

// One start of a program, timed from posix_spawn to the first byte on its stdout pipe; then
// killed (as a cold-started runtime is when it is retired) and reaped, untimed.
Sample SpawnToFirstByte(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) std::exit(1);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  // The environment the invoker gives its runtimes (not this shell's: NODE_EXTRA_CA_CERTS, for
  // one, makes node read a certificate bundle at start).
  static char path[] = "PATH=/usr/local/bin:/usr/bin/:/bin";
  static char lang[] = "LANG=en_US.UTF-8";
  static char* clean_env[] = {path, lang, nullptr};
  const double cpu_before = ChildrenCpuMicros();
  const auto start = Clock::now();
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), clean_env) != 0) {
    std::fprintf(stderr, "cannot spawn %s\n", argv[0]);
    std::exit(1);
  }
  close(fds[1]);
  char byte = 0;
  if (read(fds[0], &byte, 1) != 1) {
    std::fprintf(stderr, "%s wrote nothing\n", argv[0]);
    std::exit(1);
  }
  const auto end = Clock::now();
  kill(pid, SIGKILL);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  posix_spawn_file_actions_destroy(&actions);
  return {Micros(end - start), ChildrenCpuMicros() - cpu_before};
}

// Repeats `once` for at least `seconds`; returns every sample.
template <typename T>
std::vector<T> Round(const std::function<T()>& once, double seconds) {
  std::vector<T> samples;
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(seconds));
  do {
    samples.push_back(once());
  } while (Clock::now() < until);
  return samples;
}

struct Function {
  std::string label;
  inv::FunctionConfig config;
  std::vector<std::string> bare;  // the bare program it is compared with
  std::string bare_label;
};

inv::InvokeRequest Request(const std::string& name) {
  inv::InvokeRequest request;
  request.function_name = name;
  request.payload = R"({"n":1})";
  return request;
}

void Check(const inv::InvokeResult& result, const std::string& name) {
  if (result.status != inv::InvokeStatus::kOk || !result.function_error.empty()) {
    std::fprintf(stderr, "%s failed: %s %s\n", name.c_str(), result.error_type.c_str(),
                 result.payload.c_str());
    std::exit(1);
  }
}

// One cold start; the environment is retired (killed and reaped) afterwards, untimed, so that
// its CPU time is known.
int g_cold_pause_ms = 0;  // --cold-pause: idle time before each cold start (untimed)

Sample ColdOnce(inv::Invoker& invoker, const inv::FunctionConfig& config) {
  if (g_cold_pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(g_cold_pause_ms));
  const double cpu_before = ChildrenCpuMicros();
  const auto start = Clock::now();
  const inv::InvokeResult result = invoker.Invoke(Request(config.function_name));
  const auto end = Clock::now();
  Check(result, config.function_name);
  invoker.RegisterFunction(config);  // retires the idle environment: the next one is cold
  return {Micros(end - start), ChildrenCpuMicros() - cpu_before};
}

double WarmOnce(inv::Invoker& invoker, const std::string& name, std::vector<double>* overhead) {
  const auto start = Clock::now();
  const inv::InvokeResult result = invoker.Invoke(Request(name));
  const auto end = Clock::now();
  Check(result, name);
  if (overhead) {
    const auto at = result.payload.find("\"work_ns\":");
    const double work_ns =
        at == std::string::npos ? 0 : std::atof(result.payload.c_str() + at + 10);
    overhead->push_back(Micros(end - start) - work_ns / 1000.0);
  }
  return Micros(end - start);
}

double Throughput(inv::Invoker& invoker, const std::string& name, int threads, double seconds) {
  // Warm one environment per thread first, so the measured window has no cold starts.
  {
    std::vector<std::thread> warmers;
    warmers.reserve(static_cast<std::size_t>(threads));
    for (int t = 0; t < threads; ++t) {
      warmers.emplace_back([&] {
        for (int i = 0; i < 50; ++i) invoker.Invoke(Request(name));
      });
    }
    for (auto& thread : warmers) thread.join();
  }
  std::atomic<bool> stop{false};
  std::atomic<int64_t> done{0};
  std::atomic<int64_t> failed{0};
  std::vector<std::thread> callers;
  callers.reserve(static_cast<std::size_t>(threads));
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&] {
      int64_t mine = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const inv::InvokeResult result = invoker.Invoke(Request(name));
        if (result.status != inv::InvokeStatus::kOk || !result.function_error.empty()) {
          failed.fetch_add(1);
        } else {
          ++mine;
        }
      }
      done.fetch_add(mine);
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& caller : callers) caller.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed.load() > 0)
    std::fprintf(stderr, "%s: %lld failed\n", name.c_str(), static_cast<long long>(failed.load()));
  return static_cast<double>(done.load()) / elapsed;
}

double LoadAverage() {
  double load = 0;
  std::ifstream("/proc/loadavg") >> load;
  return load;
}

}  // namespace

int main(int argc, char** argv) {
  std::string c_runtime;
  int rounds = 5;
  double round_seconds = 0.5;
  double seconds = 1;
  std::string only;
  std::vector<int> thread_counts = {1, 2, 4, 8};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--c-runtime") {
      c_runtime = value;
    } else if (flag == "--rounds") {
      rounds = std::max(1, std::atoi(value.c_str()));
    } else if (flag == "--round-seconds") {
      round_seconds = std::atof(value.c_str());
    } else if (flag == "--seconds") {
      seconds = std::atof(value.c_str());
    } else if (flag == "--cold-pause") {
      g_cold_pause_ms = std::atoi(value.c_str());  // sporadic cold starts instead of a storm
    } else if (flag == "--only") {
      only = value;  // one function id: py, node, bash or c (no throughput)
    } else if (flag == "--threads") {
      thread_counts.clear();
      std::size_t start = 0;
      while (start < value.size()) {
        const auto comma = std::min(value.find(',', start), value.size());
        thread_counts.push_back(std::atoi(value.substr(start, comma - start).c_str()));
        start = comma + 1;
      }
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }

  const std::string root =
      (std::filesystem::temp_directory_path() / ("sy-invoker-bench-" + std::to_string(getpid())))
          .string();
  const std::string python = Which("python3");
  const std::string node = Which("node");
  std::vector<Function> functions;
  auto add = [&](const std::string& label, const std::string& name, const std::string& runtime,
                 const std::string& handler, std::vector<std::string> bare,
                 const std::string& bare_label) {
    inv::FunctionConfig config;
    config.function_name = name;
    config.code_dir = root + "/" + name;
    config.runtime = runtime;
    config.handler = handler;
    config.timeout_seconds = 30;
    config.memory_size_mb = 512;
    config.reserved_concurrency = 64;
    if (only.empty() || only == name) {
      functions.push_back({label, config, std::move(bare), bare_label});
    }
  };
  WriteFile(root + "/py/app.py", "def handler(event, context):\n    return event\n");
  add("python3.12 (echo)", "py", "python3.12", "app.handler",
      {python, "-c", "import sys; sys.stdout.write('.'); sys.stdout.flush()"},
      "`python3 -c` writing one byte");
  WriteFile(root + "/node/app.js", "exports.handler = async (event) => event;\n");
  add("nodejs20.x (echo)", "node", "nodejs20.x", "app.handler",
      {node, "-e", "process.stdout.write('.')"}, "`node -e` writing one byte");
  // The bash runtime of examples/functions/hello-shell, reduced: /dev/tcp, one connection per
  // request, no fork in the handler path.
  WriteFile(root + "/bash/bootstrap", R"(#!/bin/bash
set -u
export LC_ALL=C
host=${AWS_LAMBDA_RUNTIME_API%:*}; port=${AWS_LAMBDA_RUNTIME_API##*:}
request() {
  local method=$1 path=$2 payload=${3-} line name value length=0
  exec 3<>"/dev/tcp/$host/$port" || exit 1
  printf '%s /2018-06-01/runtime/%s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s' \
    "$method" "$path" "$host" "${#payload}" "$payload" >&3
  IFS= read -r line <&3
  REQUEST_ID=
  while IFS= read -r line <&3; do
    line=${line%$'\r'}
    [ -z "$line" ] && break
    name=${line%%:*}; value=${line#*: }
    case ${name,,} in
      content-length) length=$value ;;
      lambda-runtime-aws-request-id) REQUEST_ID=$value ;;
    esac
  done
  BODY=
  if [ "$length" -gt 0 ]; then IFS= read -r -N "$length" BODY <&3; fi
  exec 3<&-
}
while true; do
  request GET invocation/next
  request POST "invocation/$REQUEST_ID/response" "$BODY"
done
)",
            true);
  add("provided (bash)", "bash", "provided.al2023", "", {"/bin/bash", "-c", "printf ."},
      "`bash -c 'printf .'`");
  if (!c_runtime.empty()) {
    std::filesystem::create_directories(root + "/c");
    std::filesystem::copy_file(c_runtime, root + "/c/bootstrap",
                               std::filesystem::copy_options::overwrite_existing);
    add("provided (C)", "c", "provided.al2023", "", {"/bin/echo", "."}, "`/bin/echo .`");
  }

  inv::InvokerOptions options;
  options.max_concurrency = 1000;
  inv::Invoker invoker(std::move(options));
  std::printf("Load average at start: %.1f (2 cores)\n\n", LoadAverage());

  std::printf(
      "Cold start vs bare start, both timed from spawn to the first response byte (wall), and "
      "the started process's own CPU time until it is killed right after (cpu); %d interleaved "
      "rounds of >= %.1f s per side. Per round: the median start; shown: median (min–max) over "
      "rounds, in ms; p99 over all samples.\n\n",
      rounds, round_seconds);
  std::printf(
      "| function | bare start (what) | bare wall p50 | cold wall p50 | cold wall p99 | cold / "
      "bare (wall) | bare cpu | cold cpu | cold / bare (cpu) | starts |\n"
      "|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& function : functions) {
    SpawnToFirstByte(function.bare);  // page cache warm, as for the invoker's first start
    invoker.RegisterFunction(function.config);
    ColdOnce(invoker, function.config);
    std::vector<double> bare_wall;
    std::vector<double> cold_wall;
    std::vector<double> wall_ratio;
    std::vector<double> bare_cpu;
    std::vector<double> cold_cpu;
    std::vector<double> cpu_ratio;
    std::vector<double> cold_all;
    auto median_of = [](const std::vector<Sample>& samples, double Sample::*field) {
      std::vector<double> values;
      values.reserve(samples.size());
      for (const Sample& sample : samples) values.push_back(sample.*field);
      return Quantile(values, 0.5);
    };
    for (int r = 0; r < rounds; ++r) {
      const std::vector<Sample> bare =
          Round<Sample>([&] { return SpawnToFirstByte(function.bare); }, round_seconds);
      const std::vector<Sample> cold =
          Round<Sample>([&] { return ColdOnce(invoker, function.config); }, round_seconds);
      for (const Sample& sample : cold) cold_all.push_back(sample.wall);
      bare_wall.push_back(median_of(bare, &Sample::wall));
      cold_wall.push_back(median_of(cold, &Sample::wall));
      wall_ratio.push_back(cold_wall.back() / bare_wall.back());
      bare_cpu.push_back(median_of(bare, &Sample::cpu));
      cold_cpu.push_back(median_of(cold, &Sample::cpu));
      cpu_ratio.push_back(cold_cpu.back() / bare_cpu.back());
    }
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %zu |\n", function.label.c_str(),
                function.bare_label.c_str(), Show(SpreadOf(bare_wall), Ms, "").c_str(),
                Show(SpreadOf(cold_wall), Ms, "").c_str(), Ms(Quantile(cold_all, 0.99)).c_str(),
                Show(SpreadOf(wall_ratio), X, "").c_str(), Show(SpreadOf(bare_cpu), Ms, "").c_str(),
                Show(SpreadOf(cold_cpu), Ms, "").c_str(), Show(SpreadOf(cpu_ratio), X, "").c_str(),
                cold_all.size());
    std::fflush(stdout);
  }

  std::printf(
      "\nWarm invocations: %d rounds of >= %.1f s; per round p50 and p99; shown: median "
      "(min–max) over rounds, in µs.\n\n| function | warm p50 | warm p99 | invocations "
      "|\n|---|---|---|---|\n",
      rounds, round_seconds);
  std::vector<double> overhead_p50;
  std::vector<double> overhead_p99;
  for (const auto& function : functions) {
    const std::string& name = function.config.function_name;
    invoker.RegisterFunction(function.config);
    for (int i = 0; i < 20; ++i) WarmOnce(invoker, name, nullptr);
    std::vector<double> p50;
    std::vector<double> p99;
    std::size_t count = 0;
    for (int r = 0; r < rounds; ++r) {
      std::vector<double> overhead;
      const std::vector<double> samples =
          Round<double>([&] { return WarmOnce(invoker, name, name == "c" ? &overhead : nullptr); },
                        round_seconds);
      p50.push_back(Quantile(samples, 0.5));
      p99.push_back(Quantile(samples, 0.99));
      count += samples.size();
      if (!overhead.empty()) {
        overhead_p50.push_back(Quantile(overhead, 0.5));
        overhead_p99.push_back(Quantile(overhead, 0.99));
      }
    }
    std::printf("| %s | %s | %s | %zu |\n", function.label.c_str(),
                Show(SpreadOf(p50), Us, "").c_str(), Show(SpreadOf(p99), Us, "").c_str(), count);
    std::fflush(stdout);
  }
  if (!overhead_p50.empty()) {
    std::printf(
        "\nWarm overhead (C runtime: Invoke() wall time minus the runtime's own work), µs: p50 "
        "%s, p99 %s\n",
        Show(SpreadOf(overhead_p50), Us, "").c_str(), Show(SpreadOf(overhead_p99), Us, "").c_str());
  }
  const bool have_c = std::any_of(functions.begin(), functions.end(),
                                  [](const Function& f) { return f.config.function_name == "c"; });
  if (have_c && only.empty()) {
    std::printf(
        "\nSync invocations per second of the trivial C `provided` function (%d rounds of %.1f s "
        "per thread count, reserved concurrency 64; median (min–max)):\n\n| caller threads | "
        "invocations/s | environments |\n|---|---|---|\n",
        rounds, seconds);
    for (const int threads : thread_counts) {
      std::vector<double> rates;
      rates.reserve(static_cast<std::size_t>(rounds));
      for (int r = 0; r < rounds; ++r) rates.push_back(Throughput(invoker, "c", threads, seconds));
      std::printf("| %d | %s | %d |\n", threads,
                  Show(
                      SpreadOf(rates), [](double v) { return Us(v); }, "")
                      .c_str(),
                  invoker.EnvironmentCount("c"));
      std::fflush(stdout);
    }
  }
  std::printf("\nLoad average at end: %.1f\n", LoadAverage());
  std::error_code ignored;
  std::filesystem::remove_all(root, ignored);
  return 0;
}
