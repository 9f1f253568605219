// Function invoker latency and throughput, through Invoker::Invoke, next to the bare cost of
// starting the same interpreters. Run it with bench/run_invoker_bench, which also compiles the
// C custom runtime used for the overhead and throughput rows.
//   invoker_latency --c-runtime PATH [--cold N] [--warm N] [--seconds S] [--threads A,B,...]
//
// Definitions (printed with the results):
// - bare start: posix_spawn + waitpid of `python3 -c pass`, `node -e 0`, `/bin/true`, with the
//   same minimal environment the invoker gives a runtime.
// - cold start: Invoke() of a function without an environment (re-registering the function
//   retires the previous one first, outside the timed region): spawn, runtime init, first
//   /next, the event and its response.
// - warm: Invoke() of a function whose environment is idle in the pool.
// - warm overhead: for the C runtime, each warm Invoke() minus the runtime's own work for that
//   event (from the moment it has read the event to the moment it writes the response,
//   measured by the runtime with CLOCK_MONOTONIC and returned in the payload). What is left is
//   the platform: both HTTP legs on loopback, the thread hand-offs and the bookkeeping.
// - throughput: sync Invoke() calls per second of the C runtime function from several caller
//   threads at once, reserved concurrency 64, so up to one warm environment per thread.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "switchyard/invoker/invoker.hpp"

namespace {

namespace inv = switchyard::invoker;
using Clock = std::chrono::steady_clock;

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct Stats {
  double p50 = 0;
  double p99 = 0;
  std::size_t n = 0;
};

Stats Summarise(std::vector<double> samples) {
  Stats stats;
  stats.n = samples.size();
  if (samples.empty()) return stats;
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    const auto index = static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1) + 0.5);
    return samples[std::min(index, samples.size() - 1)];
  };
  stats.p50 = at(0.50);
  stats.p99 = at(0.99);
  return stats;
}

std::string Ms(double micros) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, micros >= 10000 ? "%.1f ms" : "%.2f ms", micros / 1000.0);
  return buffer;
}
std::string Us(double micros) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.0f µs", micros);
  return buffer;
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
    const std::string path = std::string(dir) + name;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return name;
}

// One posix_spawn + waitpid, stdout/stderr to /dev/null.
double SpawnOnce(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  const auto start = Clock::now();
  pid_t pid = -1;
  // The environment the invoker gives its runtimes (not this shell's: NODE_EXTRA_CA_CERTS, for
  // one, makes node read a certificate bundle at start).
  static char path[] = "PATH=/usr/local/bin:/usr/bin/:/bin";
  static char lang[] = "LANG=en_US.UTF-8";
  static char* clean_env[] = {path, lang, nullptr};
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), clean_env) != 0) {
    std::fprintf(stderr, "cannot spawn %s\n", argv[0]);
    std::exit(1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const auto end = Clock::now();
  posix_spawn_file_actions_destroy(&actions);
  return Micros(end - start);
}

Stats Bare(const std::vector<std::string>& args, int n) {
  SpawnOnce(args);  // page cache warm, as for the invoker's runs
  std::vector<double> samples;
  for (int i = 0; i < n; ++i) samples.push_back(SpawnOnce(args));
  return Summarise(samples);
}

struct Function {
  std::string label;
  inv::FunctionConfig config;
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

Stats Cold(inv::Invoker& invoker, const inv::FunctionConfig& config, int n) {
  std::vector<double> samples;
  for (int i = 0; i < n + 1; ++i) {
    invoker.RegisterFunction(config);  // retires the idle environment: the next one is cold
    const auto start = Clock::now();
    const inv::InvokeResult result = invoker.Invoke(Request(config.function_name));
    const auto end = Clock::now();
    Check(result, config.function_name);
    if (i > 0) samples.push_back(Micros(end - start));  // the first one warms the page cache
  }
  return Summarise(samples);
}

// Warm latencies; with `work`, also the overhead samples (wall minus the runtime's work_ns).
Stats Warm(inv::Invoker& invoker, const inv::FunctionConfig& config, int n,
           std::vector<double>* overhead) {
  invoker.RegisterFunction(config);
  for (int i = 0; i < 20; ++i) Check(invoker.Invoke(Request(config.function_name)), "warm-up");
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const auto start = Clock::now();
    const inv::InvokeResult result = invoker.Invoke(Request(config.function_name));
    const auto end = Clock::now();
    Check(result, config.function_name);
    samples.push_back(Micros(end - start));
    if (overhead) {
      const auto at = result.payload.find("\"work_ns\":");
      const double work_ns =
          at == std::string::npos ? 0 : std::atof(result.payload.c_str() + at + 10);
      overhead->push_back(Micros(end - start) - work_ns / 1000.0);
    }
  }
  return Summarise(samples);
}

double Throughput(inv::Invoker& invoker, const std::string& name, int threads, double seconds) {
  // Warm one environment per thread first, so the measured window has no cold starts.
  {
    std::vector<std::thread> warmers;
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

}  // namespace

int main(int argc, char** argv) {
  std::string c_runtime;
  int cold_n = 20;
  int warm_n = 2000;
  double seconds = 3;
  std::vector<int> thread_counts = {1, 2, 4, 8};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--c-runtime") {
      c_runtime = value;
    } else if (flag == "--cold") {
      cold_n = std::atoi(value.c_str());
    } else if (flag == "--warm") {
      warm_n = std::atoi(value.c_str());
    } else if (flag == "--seconds") {
      seconds = std::atof(value.c_str());
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
  std::vector<Function> functions;
  auto add = [&](const std::string& label, const std::string& name, const std::string& runtime,
                 const std::string& handler) {
    inv::FunctionConfig config;
    config.function_name = name;
    config.code_dir = root + "/" + name;
    config.runtime = runtime;
    config.handler = handler;
    config.timeout_seconds = 30;
    config.memory_size_mb = 512;
    config.reserved_concurrency = 64;
    functions.push_back({label, config});
  };
  WriteFile(root + "/py/app.py", "def handler(event, context):\n    return event\n");
  add("python3.12 (echo)", "py", "python3.12", "app.handler");
  WriteFile(root + "/node/app.js", "exports.handler = async (event) => event;\n");
  add("nodejs20.x (echo)", "node", "nodejs20.x", "app.handler");
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
  add("provided (bash)", "bash", "provided.al2023", "");
  if (!c_runtime.empty()) {
    std::filesystem::create_directories(root + "/c");
    std::filesystem::copy_file(c_runtime, root + "/c/bootstrap",
                               std::filesystem::copy_options::overwrite_existing);
    add("provided (C)", "c", "provided.al2023", "");
  }

  const std::string python = Which("python3");
  const std::string node = Which("node");
  std::printf("Bare process start (posix_spawn + waitpid), %d runs each:\n\n", cold_n);
  std::printf("| command | p50 | p99 |\n|---|---|---|\n");
  const Stats bare_python = Bare({python, "-c", "pass"}, cold_n);
  const Stats bare_node = Bare({node, "-e", "0"}, cold_n);
  const Stats bare_true = Bare({"/bin/true"}, cold_n);
  const Stats bare_bash = Bare({"/bin/bash", "-c", ":"}, cold_n);
  // What the built-in bootstraps import before their first /next (runtimes/*/bootstrap.*):
  // the part of a cold start that is neither the interpreter nor the invoker.
  const Stats bare_python_imports =
      Bare({python, "-c", "import http.client, importlib, json, traceback"}, cold_n);
  const Stats bare_node_imports = Bare({node, "-e", "require('http'); require('util')"}, cold_n);
  std::printf("| `%s -c pass` | %s | %s |\n", python.c_str(), Ms(bare_python.p50).c_str(),
              Ms(bare_python.p99).c_str());
  std::printf("| `%s -e 0` | %s | %s |\n", node.c_str(), Ms(bare_node.p50).c_str(),
              Ms(bare_node.p99).c_str());
  std::printf("| `/bin/true` (fork+exec) | %s | %s |\n", Ms(bare_true.p50).c_str(),
              Ms(bare_true.p99).c_str());
  std::printf("| `/bin/bash -c :` | %s | %s |\n", Ms(bare_bash.p50).c_str(),
              Ms(bare_bash.p99).c_str());
  std::printf("| `python3 -c 'import http.client, importlib, json, traceback'` | %s | %s |\n",
              Ms(bare_python_imports.p50).c_str(), Ms(bare_python_imports.p99).c_str());
  std::printf("| `node -e \"require('http'); require('util')\"` | %s | %s |\n\n",
              Ms(bare_node_imports.p50).c_str(), Ms(bare_node_imports.p99).c_str());
  std::fflush(stdout);

  inv::InvokerOptions options;
  options.max_concurrency = 1000;
  inv::Invoker invoker(std::move(options));

  std::printf("Through Invoker::Invoke (cold: %d runs; warm: %d runs):\n\n", cold_n, warm_n);
  std::printf(
      "| function | cold p50 | cold p99 | cold / bare start (p50) | warm p50 | warm p99 |\n"
      "|---|---|---|---|---|---|\n");
  std::vector<double> overhead;
  for (const auto& function : functions) {
    const Stats cold = Cold(invoker, function.config, cold_n);
    const bool is_c = function.config.function_name == "c";
    const int n = function.config.function_name == "bash" ? std::min(warm_n, 500) : warm_n;
    const Stats warm = Warm(invoker, function.config, n, is_c ? &overhead : nullptr);
    const std::string& id = function.config.function_name;
    const Stats* bare = id == "py"     ? &bare_python
                        : id == "node" ? &bare_node
                        : id == "bash" ? &bare_bash
                                       : &bare_true;
    const char* bare_name = id == "py"     ? "python3 -c pass"
                            : id == "node" ? "node -e 0"
                            : id == "bash" ? "bash -c :"
                                           : "/bin/true";
    char ratio[64];
    std::snprintf(ratio, sizeof ratio, "%.2f× (%s)", cold.p50 / bare->p50, bare_name);
    std::printf("| %s | %s | %s | %s | %s | %s |\n", function.label.c_str(), Ms(cold.p50).c_str(),
                Ms(cold.p99).c_str(), ratio, Us(warm.p50).c_str(), Us(warm.p99).c_str());
    std::fflush(stdout);
  }
  if (!overhead.empty()) {
    const Stats stats = Summarise(overhead);
    std::printf(
        "\nWarm overhead (C runtime: Invoke() wall time minus the runtime's own work), "
        "%zu runs: p50 %s, p99 %s\n",
        stats.n, Us(stats.p50).c_str(), Us(stats.p99).c_str());
    std::printf(
        "\nSync invocations per second of the trivial C `provided` function "
        "(%.0f s each, reserved concurrency 64):\n\n| caller threads | invocations/s | "
        "environments |\n|---|---|---|\n",
        seconds);
    for (const int threads : thread_counts) {
      const double rate = Throughput(invoker, "c", threads, seconds);
      std::printf("| %d | %.0f | %d |\n", threads, rate, invoker.EnvironmentCount("c"));
      std::fflush(stdout);
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(root, ignored);
  return 0;
}
