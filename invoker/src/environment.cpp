#include "environment.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "spawn.hpp"
#include "util.hpp"

extern char** environ;

namespace switchyard::invoker {

namespace {

constexpr const char* kPrefix = "/2018-06-01/runtime/";

HttpResponse ErrorResponse(int status, const std::string& type, const std::string& message) {
  HttpResponse response;
  response.status = status;
  response.body =
      "{\"errorMessage\":" + JsonQuote(message) + ",\"errorType\":" + JsonQuote(type) + "}";
  return response;
}

HttpResponse Accepted() {
  HttpResponse response;
  response.status = 202;
  response.body = "{\"status\":\"OK\"}";
  return response;
}

double MillisSince(SteadyTime start, SteadyTime end) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    if (sig == SIGKILL) return "signal: killed";
    const char* name = sigabbrev_np(sig);
    return std::string("signal: ") + (name ? name : std::to_string(sig));
  }
  return "exit status unknown";
}

}  // namespace

std::unique_ptr<Environment> Environment::Start(HttpServer& server, StemPool* stems,
                                                EnvironmentSpec spec, std::string* error) {
  std::unique_ptr<Environment> env(new Environment());
  env->spec_ = std::move(spec);
  Environment* raw = env.get();
  try {
    env->listener_ = server.Listen([raw](HttpRequest request, Responder responder) {
      raw->Handle(std::move(request), std::move(responder));
    });
  } catch (const std::exception& e) {
    *error = std::string("cannot listen for the Runtime API: ") + e.what();
    return nullptr;
  }

  std::vector<std::string> env_strings = env->spec_.environment;
  env_strings.push_back("AWS_LAMBDA_RUNTIME_API=127.0.0.1:" +
                        std::to_string(env->listener_->Port()));
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  argv.reserve(env->spec_.argv.size() + 1);
  for (auto& arg : env->spec_.argv) argv.push_back(arg.data());
  argv.push_back(nullptr);

  // Init Duration counts from here: the clock starts before the process exists, so the
  // runtime's first /next (which may come before this function returns) is always later.
  env->spawned_at_ = std::chrono::steady_clock::now();
  env->last_used_ = env->spawned_at_;
  OptMountArgs opt_args;
  const OptMountArgs* opt = nullptr;
  if (env->spec_.opt) {
    opt_args = ArgsOf(*env->spec_.opt);
    opt = &opt_args;
  }
  if (stems) {
    std::optional<StemPool::Started> started =
        stems->Take(argv[0], argv.data(), envp.data(), env->spec_.code_dir.c_str(),
                    env->spec_.memory_size_mb, opt, error);
    if (started && started->pid < 0) {
      *error = "cannot start runtime '" + env->spec_.argv[0] + "': " + *error;
      return nullptr;
    }
    if (started) {
      env->cgroup_ = std::move(started->cgroup);
      env->StartedProcess(started->pid, started->output_fd);
      return env;
    }
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  // Lambda's memory limit: the kernel's when a cgroup can be made (the child joins it before
  // exec, so all of its memory is charged), else Run() watches RSS.
  env->cgroup_ = MemoryCgroup::Create(env->spec_.memory_size_mb);
  SpawnSpec spawn;
  spawn.path = argv[0];
  spawn.argv = argv.data();
  spawn.envp = envp.data();
  spawn.cwd = env->spec_.code_dir.c_str();
  spawn.output_fd = fds[1];
  spawn.opt = opt;
  if (env->cgroup_) {
    spawn.cgroup_procs_fd = env->cgroup_->OpenProcs();
    spawn.cgroup_dir_fd = env->cgroup_->OpenDirectory();
    if (spawn.cgroup_procs_fd < 0 && spawn.cgroup_dir_fd < 0) env->cgroup_.reset();
  }
  SpawnResult spawned = SpawnProcess(spawn);
  if (spawned.pid < 0 && std::strcmp(spawned.step, "cgroup") == 0) {
    // The kernel refused the cgroup (e.g. a v2 hierarchy without delegation): run without it,
    // watching resident memory instead.
    env->cgroup_.reset();
    spawn.cgroup_procs_fd = -1;
    spawn.cgroup_dir_fd = -1;
    spawned = SpawnProcess(spawn);
  }
  for (const int fd : {spawn.cgroup_procs_fd, spawn.cgroup_dir_fd}) {
    if (fd >= 0) close(fd);
  }
  close(fds[1]);
  if (spawned.pid < 0) {
    close(fds[0]);
    *error = "cannot start runtime '" + env->spec_.argv[0] + "': " +
             (std::strcmp(spawned.step, "exec") == 0 ? std::string()
                                                     : std::string(spawned.step) + ": ") +
             std::strerror(spawned.error);
    return nullptr;
  }
  env->StartedProcess(spawned.pid, fds[0]);
  return env;
}

void Environment::StartedProcess(pid_t pid, int output_fd) {
  pid_ = pid;
  const std::string status_path = "/proc/" + std::to_string(pid) + "/status";
  status_fd_ = open(status_path.c_str(), O_RDONLY | O_CLOEXEC);
  output_fd_ = output_fd;
  fcntl(output_fd_, F_SETFL, fcntl(output_fd_, F_GETFL) | O_NONBLOCK);
  reader_ = std::thread([this] { ReadLoop(); });
}

Environment::~Environment() {
  listener_.reset();  // no Runtime API call reaches this object any more
  Kill();
  {
    std::lock_guard lock(mu_);
    stop_reader_ = true;
    pending_next_.reset();
  }
  if (reader_.joinable()) reader_.join();
  if (output_fd_ >= 0) close(output_fd_);
  if (status_fd_ >= 0) close(status_fd_);
  cgroup_.reset();  // empty now that the process is reaped
}

void Environment::Kill() {
  if (pid_ > 0) {
    std::lock_guard lock(mu_);
    if (!exited_) ::kill(-pid_, SIGKILL);
    dead_ = true;
  }
}

bool Environment::Usable() const {
  std::lock_guard lock(mu_);
  return !dead_ && !exited_;
}

void Environment::ReadLoop() {
  bool reaped = false;
  bool eof = false;
  for (;;) {
    if (!eof) {
      pollfd pfd{output_fd_, POLLIN, 0};
      poll(&pfd, 1, 50);
      std::lock_guard lock(output_mu_);
      char buffer[8192];
      for (;;) {
        const ssize_t n = read(output_fd_, buffer, sizeof buffer);
        if (n > 0) {
          output_.append(buffer, static_cast<std::size_t>(n));
          continue;
        }
        if (n == 0) eof = true;
        break;
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!reaped) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped = true;
        // Whatever the process wrote before it died belongs to this invocation's log.
        DrainOutput();
        std::lock_guard lock(mu_);
        exited_ = true;
        exit_description_ = DescribeWaitStatus(status);
        cv_.notify_all();
      }
    }
    std::lock_guard lock(mu_);
    if (reaped && (eof || stop_reader_)) return;
  }
}

void Environment::DrainOutput() {
  std::lock_guard lock(output_mu_);
  char buffer[8192];
  for (;;) {
    const ssize_t n = read(output_fd_, buffer, sizeof buffer);
    if (n <= 0) break;
    output_.append(buffer, static_cast<std::size_t>(n));
  }
}

std::pair<int64_t, int64_t> Environment::MemoryMb() const {
  // The file stays open (and pins this process: once it is reaped, reads fail instead of
  // reading a recycled pid); pread at 0 makes the kernel render it afresh.
  char buffer[4096];
  const ssize_t n = status_fd_ >= 0 ? pread(status_fd_, buffer, sizeof buffer - 1, 0) : -1;
  if (n <= 0) return {0, 0};
  buffer[n] = '\0';
  auto field_kb = [&](const char* name) -> int64_t {
    const char* at = std::strstr(buffer, name);
    return at ? std::strtoll(at + std::strlen(name), nullptr, 10) : 0;
  };
  const int64_t rss_kb = field_kb("\nVmRSS:");
  const int64_t hwm_kb = field_kb("\nVmHWM:");
  return {(rss_kb + 1023) / 1024, (hwm_kb + 1023) / 1024};
}

void Environment::DeliverLocked(const Responder& responder) {
  const EventSpec& event = *queued_event_;
  const auto now = std::chrono::steady_clock::now();
  delivered_at_ = now;
  deadline_unix_ms_ = UnixMillis() + event.timeout.count();
  HttpResponse response;
  response.status = 200;
  response.body = event.payload;
  response.headers.emplace_back("Lambda-Runtime-Aws-Request-Id", event.request_id);
  response.headers.emplace_back("Lambda-Runtime-Deadline-Ms", std::to_string(deadline_unix_ms_));
  response.headers.emplace_back("Lambda-Runtime-Invoked-Function-Arn", event.invoked_function_arn);
  if (!event.trace_id.empty()) {
    response.headers.emplace_back("Lambda-Runtime-Trace-Id", event.trace_id);
  }
  if (!event.client_context.empty()) {
    response.headers.emplace_back("Lambda-Runtime-Client-Context", event.client_context);
  }
  if (!event.cognito_identity.empty()) {
    response.headers.emplace_back("Lambda-Runtime-Cognito-Identity", event.cognito_identity);
  }
  phase_ = Phase::kInvoking;
  queued_event_.reset();
  cv_.notify_all();
  responder(std::move(response));
}

void Environment::Handle(HttpRequest request, Responder responder) {
  if (request.target.rfind(kPrefix, 0) != 0) {
    responder(ErrorResponse(404, "NotFound", "Unknown path " + request.target));
    return;
  }
  const std::string path = request.target.substr(std::strlen(kPrefix));
  std::unique_lock lock(mu_);

  if (request.body_too_large) {
    // Lambda ends the invocation whose response is too large (the caller gets
    // Function.ResponseSizeTooLarge); the runtime may ask for the next event at once.
    const std::string response_path = "invocation/" + current_request_id_ + "/response";
    if (request.method == "POST" && path == response_path && !current_request_id_.empty() &&
        phase_ == Phase::kInvoking && !outcome_) {
      RunOutcome outcome;
      outcome.kind = OutcomeKind::kResponseTooLarge;
      outcome_ = std::move(outcome);
      phase_ = Phase::kIdle;
      cv_.notify_all();
    }
    responder(ErrorResponse(413, "RequestEntityTooLarge",
                            "Exceeded maximum allowed payload size (6291556 bytes)."));
    return;
  }

  if (path == "invocation/next") {
    if (request.method != "GET") {
      responder(ErrorResponse(405, "MethodNotAllowed", "Use GET"));
      return;
    }
    if (phase_ == Phase::kInvoking || pending_next_) {
      responder(ErrorResponse(403, "InvalidStateTransition",
                              "State transition from Invoking to Ready failed for runtime. "
                              "Error: the current invocation has not been answered"));
      return;
    }
    if (phase_ == Phase::kInit) init_done_at_ = std::chrono::steady_clock::now();
    phase_ = Phase::kIdle;
    cv_.notify_all();
    if (queued_event_) {
      DeliverLocked(responder);
    } else {
      pending_next_ = std::move(responder);
    }
    return;
  }

  if (path == "init/error") {
    if (request.method != "POST") {
      responder(ErrorResponse(405, "MethodNotAllowed", "Use POST"));
      return;
    }
    if (phase_ != Phase::kInit || init_error_) {
      responder(ErrorResponse(403, "InvalidStateTransition",
                              "State transition from Ready to InitError failed for runtime. "
                              "Error: not in the init phase"));
      return;
    }
    RunOutcome outcome;
    outcome.kind = OutcomeKind::kInitError;
    outcome.body = std::move(request.body);
    outcome.error_type = request.Header("Lambda-Runtime-Function-Error-Type");
    init_error_ = std::move(outcome);
    cv_.notify_all();
    responder(Accepted());
    return;
  }

  // invocation/{id}/response | invocation/{id}/error
  const std::string invocation = "invocation/";
  const auto slash = path.rfind('/');
  if (path.rfind(invocation, 0) == 0 && slash != std::string::npos && slash >= invocation.size()) {
    const std::string request_id = path.substr(invocation.size(), slash - invocation.size());
    const std::string verb = path.substr(slash + 1);
    if (verb == "response" || verb == "error") {
      if (request.method != "POST") {
        responder(ErrorResponse(405, "MethodNotAllowed", "Use POST"));
        return;
      }
      // RIE: the request id is checked before the state transition.
      if (request_id.empty() || request_id != current_request_id_) {
        responder(ErrorResponse(400, "InvalidRequestID", "Invalid request ID"));
        return;
      }
      if (phase_ != Phase::kInvoking || outcome_) {
        responder(ErrorResponse(403, "InvalidStateTransition",
                                "State transition from " +
                                    std::string(verb == "response" ? "ResponseSent" : "Ready") +
                                    " to " + (verb == "response" ? "ResponseSent" : "ErrorSent") +
                                    " failed for runtime. Error: no invocation in progress"));
        return;
      }
      const std::string mode = request.Header("Lambda-Runtime-Function-Response-Mode");
      if (!mode.empty() && mode != "streaming") {
        responder(
            ErrorResponse(400, "InvalidFunctionResponseMode", "Invalid function response mode"));
        return;
      }
      RunOutcome outcome;
      outcome.kind = verb == "response" ? OutcomeKind::kResponse : OutcomeKind::kFunctionError;
      outcome.body = std::move(request.body);
      outcome.error_type = request.Header("Lambda-Runtime-Function-Error-Type");
      if (verb == "response") {
        // A streamed response that failed mid-way carries its error in trailers.
        const std::string trailer_type = request.Header("Lambda-Runtime-Function-Error-Type");
        if (!trailer_type.empty()) outcome.kind = OutcomeKind::kFunctionError;
      }
      outcome_ = std::move(outcome);
      phase_ = Phase::kIdle;
      cv_.notify_all();
      responder(Accepted());
      return;
    }
  }
  responder(ErrorResponse(404, "NotFound", "Unknown path " + request.target));
}

RunOutcome Environment::Run(const EventSpec& event) {
  std::unique_lock lock(mu_);
  current_request_id_ = event.request_id;
  outcome_.reset();
  delivered_at_.reset();
  queued_event_ = event;
  if (pending_next_) {
    Responder responder = std::move(*pending_next_);
    pending_next_.reset();
    DeliverLocked(responder);
  }

  std::optional<OutcomeKind> failure;
  const auto poll_interval = std::chrono::milliseconds(100);
  // Resident memory is sampled every poll interval, not on entry: a fast invocation then costs
  // no /proc read (its peak is read once below). With a cgroup the kernel enforces the limit.
  auto next_memory_check = std::chrono::steady_clock::now() + poll_interval;
  for (;;) {
    if (outcome_ || init_error_ || exited_) break;
    const auto now = std::chrono::steady_clock::now();
    if (event.caller_deadline && now >= *event.caller_deadline) {
      failure = OutcomeKind::kDeadline;
      break;
    }
    if (delivered_at_ && now >= *delivered_at_ + event.timeout) {
      failure = OutcomeKind::kTimeout;
      break;
    }
    if (!delivered_at_ && phase_ == Phase::kInit && now >= spawned_at_ + event.init_timeout) {
      failure = OutcomeKind::kTimeout;
      break;
    }
    // Lambda kills an environment whose memory use passes MemorySize. Without a writable
    // cgroup we watch the runtime's resident set.
    if (!cgroup_ && now >= next_memory_check) {
      next_memory_check = now + poll_interval;
      const auto [rss_mb, peak_mb] = MemoryMb();
      peak_memory_mb_ = std::max(peak_memory_mb_, peak_mb);
      if (rss_mb > spec_.memory_size_mb) {
        failure = OutcomeKind::kOutOfMemory;
        break;
      }
    }
    auto wake = now + poll_interval;
    if (event.caller_deadline && *event.caller_deadline < wake) wake = *event.caller_deadline;
    if (delivered_at_ && *delivered_at_ + event.timeout < wake) {
      wake = *delivered_at_ + event.timeout;
    }
    cv_.wait_until(lock, wake);
  }
  const auto end = std::chrono::steady_clock::now();

  RunOutcome result;
  if (failure) {
    result.kind = *failure;
    result.init_timed_out = failure == OutcomeKind::kTimeout && !delivered_at_;
  } else if (outcome_) {
    result = std::move(*outcome_);
    outcome_.reset();
  } else if (init_error_) {
    result = *init_error_;
  } else {
    result.kind = OutcomeKind::kExit;
    result.exit_description = exit_description_;
  }
  const SteadyTime start = delivered_at_.value_or(init_done_at_.value_or(end));
  result.duration_ms = MillisSince(start, end);
  if (failure == OutcomeKind::kTimeout && delivered_at_) {
    result.duration_ms = static_cast<double>(event.timeout.count());
  }
  if (!init_reported_) {
    init_reported_ = true;
    result.init_duration_ms = MillisSince(spawned_at_, init_done_at_.value_or(end));
  }
  lock.unlock();
  if (cgroup_) {
    result.max_memory_used_mb = cgroup_->PeakMb();
  } else {
    peak_memory_mb_ = std::max(peak_memory_mb_, MemoryMb().second);
    result.max_memory_used_mb = peak_memory_mb_;
  }
  if (result.kind == OutcomeKind::kExit && cgroup_ && cgroup_->OomKilled()) {
    result.kind = OutcomeKind::kOutOfMemory;
  }

  const bool fatal = result.kind != OutcomeKind::kResponse &&
                     result.kind != OutcomeKind::kFunctionError &&
                     result.kind != OutcomeKind::kResponseTooLarge;
  if (fatal) {
    Kill();
    // Reap before collecting the log so the process's last words are in it.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    std::unique_lock wait_lock(mu_);
    cv_.wait_until(wait_lock, give_up, [this] { return exited_; });
    if (result.kind == OutcomeKind::kExit) result.exit_description = exit_description_;
  }
  DrainOutput();
  {
    std::lock_guard output_lock(output_mu_);
    result.output = std::move(output_);
    output_.clear();
  }
  last_used_ = std::chrono::steady_clock::now();
  return result;
}

}  // namespace switchyard::invoker
