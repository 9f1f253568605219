#include "store/process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace switchyard::orchestrator::store {
namespace {

// In the child between fork and exec: only async-signal-safe calls. Returns false on failure.
bool BecomeUser(const UserIds& user) {
  const gid_t gid = user.gid;
  return setgroups(1, &gid) == 0 && setgid(user.gid) == 0 && setuid(user.uid) == 0;
}

void ResetSignals() {
  // The serve command blocks SIGINT/SIGTERM to sigwait for them; children must not inherit that
  // (PostgreSQL would ignore pg_ctl stop), nor an ignored SIGPIPE.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::optional<UserIds>& run_as) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    const int error = errno;
    close(fds[0]);
    close(fds[1]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(error));
  }
  if (pid == 0) {
    ResetSignals();
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[1], 2) < 0) {
      _exit(127);
    }
    if (chdir("/") != 0) _exit(127);
    if (run_as && !BecomeUser(*run_as)) {
      static constexpr char kMessage[] = "could not switch to the cluster's user\n";
      [[maybe_unused]] auto n = write(2, kMessage, sizeof kMessage - 1);
      _exit(127);
    }
    execv(args[0], args.data());
    static constexpr char kMessage[] = "could not execute the program\n";
    [[maybe_unused]] auto n = write(2, kMessage, sizeof kMessage - 1);
    _exit(127);
  }
  close(fds[1]);
  ProcessResult result;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n > 0) {
      // Bounded: keep the last 64 KiB, which holds the error a caller reports.
      result.output.append(buffer, static_cast<std::size_t>(n));
      if (result.output.size() > 65536) result.output.erase(0, result.output.size() - 65536);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return result;
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool AccessibleAs(const std::string& path, const UserIds& run_as) {
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    if (!BecomeUser(run_as)) _exit(2);
    _exit(access(path.c_str(), R_OK | W_OK | X_OK) == 0 ? 0 : 1);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::optional<UserIds> LookUpUser(const std::string& name) {
  struct passwd entry {};
  struct passwd* found = nullptr;
  std::string buffer(16384, '\0');
  if (getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return std::nullopt;
  }
  return UserIds{found->pw_uid, found->pw_gid, name};
}

}  // namespace switchyard::orchestrator::store
