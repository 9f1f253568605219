#include "spawn.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>

namespace switchyard::invoker {

namespace {

constexpr std::size_t kChildStackBytes = std::size_t{64} * 1024;
constexpr const char* kSteps[] = {"",       "clone", "cgroup", "stdin",
                                  "stdout", "mount", "chdir",  "exec"};
enum Step : int { kNone = 0, kClone, kCgroup, kStdin, kStdout, kMount, kChdir, kExec };

// Shared with the child: with CLONE_VM it writes its failure here (the parent waits, CLONE_VFORK,
// until it has exec'd or exited); without, it reports through `error_pipe`.
struct ChildState {
  const SpawnSpec* spec;
  bool joined_cgroup = false;  // placed there by clone3 already
  int error_pipe = -1;
  int error = 0;
  int step = kNone;
};

// Runs in the child, between clone and exec: async-signal-safe calls only, no allocation.
[[noreturn]] void ChildMain(ChildState* state) {
  const SpawnSpec& spec = *state->spec;
  auto fail = [state](int step) {
    const int error = errno;
    if (state->error_pipe >= 0) {
      const int report[2] = {step, error};
      [[maybe_unused]] const ssize_t n = write(state->error_pipe, report, sizeof report);
    } else {
      state->error = error;
      state->step = step;
    }
    _exit(127);
  };
  // Signal handlers of the parent must never run here (the memory may be the parent's).
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction current {};
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    if (sigaction(sig, nullptr, &current) != 0) continue;
    const bool reset =
        current.sa_handler != SIG_DFL &&
        (current.sa_handler != SIG_IGN || sig == SIGPIPE || sig == SIGINT || sig == SIGTERM);
    if (reset) sigaction(sig, &default_action, nullptr);
  }
  // Its own process group, so a timeout kills whatever the runtime started too.
  setpgid(0, 0);
  if (!state->joined_cgroup && spec.cgroup_procs_fd >= 0) {
    // "0" is the writing process itself (cgroup v1 and v2).
    if (write(spec.cgroup_procs_fd, "0", 1) != 1) fail(kCgroup);
  }
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0 || dup2(null_fd, 0) < 0) fail(kStdin);
  if (dup2(spec.output_fd, 1) < 0 || dup2(spec.output_fd, 2) < 0) fail(kStdout);
  if (spec.opt) {
    // Before chdir: the working directory is then looked up in the new mount namespace.
    const char* step = "";
    if (const long rc = EnterOptMount(*spec.opt, &step); rc < 0) {
      errno = static_cast<int>(-rc);
      fail(kMount);
    }
  }
  if (spec.cwd && chdir(spec.cwd) != 0) fail(kChdir);
  // Sockets and pipes of other environments must not leak into this runtime. The error pipe is
  // close-on-exec: it survives until exec, then tells the parent that exec succeeded.
  if (state->error_pipe >= 0) {
    if (state->error_pipe > 3) {
      close_range(3, static_cast<unsigned>(state->error_pipe) - 1, 0);
    }
    close_range(static_cast<unsigned>(state->error_pipe) + 1, ~0U, 0);
  } else {
    close_range(3, ~0U, 0);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(spec.path, spec.argv, spec.envp);
  fail(kExec);
  _exit(127);  // not reached
}

int CloneEntry(void* arg) { ChildMain(static_cast<ChildState*>(arg)); }

SpawnResult Failed(int step, int error) {
  SpawnResult result;
  result.error = error;
  result.step = kSteps[step];
  return result;
}

// cgroup v2: clone3(CLONE_INTO_CGROUP) with fork semantics. Returns the result, or nullopt-like
// (pid -1, step "clone") when the kernel refuses clone3 so that the caller falls back.
SpawnResult SpawnIntoCgroup(const SpawnSpec& spec) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return Failed(kClone, errno);
  ChildState state{&spec, true, pipe_fds[1]};
  clone_args args{};
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(spec.cgroup_dir_fd);
  const long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) ChildMain(&state);
  const int clone_error = errno;
  close(pipe_fds[1]);
  if (pid < 0) {
    close(pipe_fds[0]);
    return Failed(kClone, clone_error);
  }
  int report[2] = {0, 0};
  ssize_t n;
  do {
    n = read(pipe_fds[0], report, sizeof report);
  } while (n < 0 && errno == EINTR);
  close(pipe_fds[0]);
  if (n == static_cast<ssize_t>(sizeof report)) {
    waitpid(static_cast<pid_t>(pid), nullptr, 0);
    return Failed(report[0], report[1]);
  }
  SpawnResult result;
  result.pid = static_cast<pid_t>(pid);
  return result;
}

}  // namespace

SpawnResult SpawnProcess(const SpawnSpec& spec) {
  // Every signal blocked while the child shares this thread's memory and stack: a handler must
  // not run in the child. The child restores an empty mask before exec.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  SpawnResult result;
  bool done = false;
  if (spec.cgroup_dir_fd >= 0) {
    result = SpawnIntoCgroup(spec);
    // Without clone3 (ENOSYS) or CLONE_INTO_CGROUP (EINVAL, E2BIG) join from the child instead.
    done = !(result.pid < 0 && std::strcmp(result.step, "clone") == 0);
  }
  if (!done) {
    // posix_spawn's own technique: CLONE_VM | CLONE_VFORK on a separate stack, so the parent's
    // memory is neither copied nor touched, and the parent resumes once the child has exec'd.
    auto stack = std::make_unique<unsigned char[]>(kChildStackBytes);
    ChildState state{&spec, false, -1};
    void* stack_top = stack.get() + kChildStackBytes;
    const int pid = clone(CloneEntry, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, &state);
    if (pid < 0) {
      result = Failed(kClone, errno);
    } else if (state.step != kNone) {
      waitpid(pid, nullptr, 0);
      result = Failed(state.step, state.error);
    } else {
      result = SpawnResult{};
      result.pid = pid;
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return result;
}

}  // namespace switchyard::invoker
