#pragma once
// One execution environment: a runtime process, its Runtime API endpoint and its log pipe. It
// serves one invocation at a time, as Lambda's do.
//
// Thread model: Run() is called by one thread at a time (the pool hands an environment to one
// invocation); the Runtime API handler runs on the HTTP server's I/O thread and a reader thread
// drains the process output. Internal state is guarded by mu_.
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http_server.hpp"
#include "memory_cgroup.hpp"
#include "opt_mount.hpp"
#include "stem_pool.hpp"

namespace switchyard::invoker {

using SteadyTime = std::chrono::steady_clock::time_point;

struct EnvironmentSpec {
  std::string function_name;
  std::string code_dir;
  std::vector<std::string> argv;         // argv[0] is the executable's path
  std::vector<std::string> environment;  // KEY=VALUE, without AWS_LAMBDA_RUNTIME_API
  int64_t memory_size_mb = 128;
  // The function's merged layers, bind-mounted read-only at /opt in namespaces of the
  // process's own (opt_mount.hpp); nullopt: the host's /opt.
  std::optional<OptMount> opt;
};

struct EventSpec {
  std::string request_id;
  std::string payload;
  std::string invoked_function_arn;
  std::string trace_id;
  std::string client_context;
  std::string cognito_identity;
  std::chrono::milliseconds timeout{3000};
  std::optional<SteadyTime> caller_deadline;
  std::chrono::milliseconds init_timeout{10000};
};

enum class OutcomeKind {
  kResponse,          // POST /response
  kFunctionError,     // POST /error
  kInitError,         // POST /init/error before the first /next
  kExit,              // the runtime process exited (Runtime.ExitError)
  kTimeout,           // the function timeout passed (Sandbox.Timedout)
  kDeadline,          // the caller's deadline passed
  kOutOfMemory,       // resident memory went over MemorySize (Runtime.OutOfMemory)
  kResponseTooLarge,  // /response over the body limit, answered 413 (the environment lives on)
};

struct RunOutcome {
  OutcomeKind kind = OutcomeKind::kResponse;
  std::string body;              // response or error body as the runtime sent it
  std::string error_type;        // Lambda-Runtime-Function-Error-Type, if sent
  std::string exit_description;  // "exit status 1" / "signal: killed"
  std::string output;  // output since the previous invocation (init output on a cold start)
  double duration_ms = 0;
  std::optional<double> init_duration_ms;  // first invocation of the environment only
  int64_t max_memory_used_mb = 0;
  // kTimeout during start-up: the runtime did not ask for its first event within the init
  // limit (InvokerOptions::init_timeout), rather than the function running past its Timeout.
  bool init_timed_out = false;
};

class Environment {
 public:
  // Spawns the runtime (in its own process group, cwd = code_dir, inside its memory cgroup
  // when one can be made): from a waiting stem of `stems` when one is ready, else directly.
  // Returns nullptr and sets `error` when the listener or the process cannot be started.
  static std::unique_ptr<Environment> Start(HttpServer& server, StemPool* stems,
                                            EnvironmentSpec spec, std::string* error);
  ~Environment();  // kills the process group and waits for the process
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  // Delivers one event and waits for its outcome. After kExit, kTimeout, kDeadline,
  // kOutOfMemory and kInitError the environment is dead (Usable() is false).
  RunOutcome Run(const EventSpec& event);
  bool Usable() const;
  // Kills the runtime's process group now (thread-safe); a Run() in progress ends with kExit.
  void Abort() { Kill(); }
  SteadyTime LastUsed() const { return last_used_; }
  void SetLastUsed(SteadyTime when) { last_used_ = when; }

 private:
  Environment() = default;
  void StartedProcess(pid_t pid, int output_fd);  // the process runs: watch it
  void Handle(HttpRequest request, Responder responder);
  void DeliverLocked(const Responder& responder);  // requires mu_
  void ReadLoop();
  void DrainOutput();
  void Kill();
  // Resident and peak resident memory of the runtime process, in MB (0, 0 once it is gone).
  std::pair<int64_t, int64_t> MemoryMb() const;

  EnvironmentSpec spec_;
  pid_t pid_ = -1;
  int output_fd_ = -1;
  int status_fd_ = -1;  // /proc/<pid>/status, kept open: re-read with pread (RSS watch)
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<MemoryCgroup> cgroup_;  // null when cgroups are not writable
  std::thread reader_;
  SteadyTime spawned_at_{};
  SteadyTime last_used_{};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  enum class Phase { kInit, kIdle, kInvoking };
  Phase phase_ = Phase::kInit;              // Guarded by mu_.
  std::optional<SteadyTime> init_done_at_;  // Guarded by mu_.
  bool init_reported_ = false;              // Guarded by mu_.
  std::optional<Responder> pending_next_;   // Guarded by mu_.
  std::optional<EventSpec> queued_event_;   // Guarded by mu_.
  std::string current_request_id_;          // Guarded by mu_.
  std::optional<SteadyTime> delivered_at_;  // Guarded by mu_.
  int64_t deadline_unix_ms_ = 0;            // Guarded by mu_.
  std::optional<RunOutcome> outcome_;       // Guarded by mu_.
  std::optional<RunOutcome> init_error_;    // Guarded by mu_.
  bool exited_ = false;                     // Guarded by mu_.
  std::string exit_description_;            // Guarded by mu_.
  bool dead_ = false;                       // Guarded by mu_.
  bool stop_reader_ = false;                // Guarded by mu_.
  int64_t peak_memory_mb_ = 0;              // Used by Run() only.

  std::mutex output_mu_;  // held while reading the pipe, so a drain sees everything written
  std::string output_;    // Guarded by output_mu_.
};

}  // namespace switchyard::invoker
