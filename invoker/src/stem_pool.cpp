#include "stem_pool.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace switchyard::invoker {

namespace {

constexpr std::size_t kStemStackBytes = std::size_t{64} * 1024;
constexpr const char* kSteps[] = {"", "cgroup", "stdin", "stdout", "mount", "chdir", "exec"};
enum Step : int { kNone = 0, kCgroup, kStdin, kStdout, kMount, kChdir, kExec };

}  // namespace

// Everything a stem reads lives here, in memory it shares with the invoker.
struct StemPool::Stem {
  std::unique_ptr<unsigned char[]> stack;
  std::unique_ptr<MemoryCgroup> cgroup;
  pid_t pid = -1;
  // The stem's ends (closed in the parent once it runs; read by the stem, never changed).
  int go_read = -1;
  int status_write = -1;
  int output_write = -1;
  int procs = -1;
  // The parent's ends.
  int go_write = -1;
  int status_read = -1;
  int output_read = -1;
  // What to exec, set by Take() before it writes to the go pipe.
  const char* path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* cwd = nullptr;
  const OptMountArgs* opt = nullptr;
};

namespace {

// Raw system calls only: no errno-free guarantee is needed (failures are reported through the
// status pipe with the value the kernel returned), no glibc cancellation bookkeeping in the
// invoker thread's TLS, no sanitizer interceptors.
#define SY_STEM_CODE __attribute__((no_sanitize("address", "undefined"))) inline

SY_STEM_CODE long Sys(long number, long a = 0, long b = 0, long c = 0, long d = 0) {
  return syscall(number, a, b, c, d);
}

[[noreturn]] SY_STEM_CODE void StemExit(int code) {
  Sys(SYS_exit, code);
  __builtin_unreachable();
}

[[noreturn]] SY_STEM_CODE void ReportAndExit(int status_fd, int step, long result) {
  const int report[2] = {step, result < 0 ? static_cast<int>(-result) : EIO};
  Sys(SYS_write, status_fd, reinterpret_cast<long>(report), sizeof report);
  StemExit(127);
}

SY_STEM_CODE long Checked(long result) { return result == -1 ? -errno : result; }

// Closes every descriptor except `keep` (sorted ascending).
SY_STEM_CODE void CloseAllBut(const int* keep, int count) {
  long from = 0;
  for (int i = 0; i < count; ++i) {
    if (keep[i] > from) Sys(SYS_close_range, from, keep[i] - 1, 0);
    from = keep[i] + 1;
  }
  Sys(SYS_close_range, from, ~0U, 0);
}

SY_STEM_CODE int StemMain(void* arg) {
  auto* stem = static_cast<StemPool::Stem*>(arg);
  int keep[] = {stem->go_read, stem->status_write, stem->output_write, stem->procs};
  for (int i = 1; i < 4; ++i) {  // sorted, by hand: no library code runs here
    for (int j = i; j > 0 && keep[j - 1] > keep[j]; --j) {
      const int t = keep[j];
      keep[j] = keep[j - 1];
      keep[j - 1] = t;
    }
  }
  CloseAllBut(keep, 4);
  // Join the cgroup now, before anything asks for this stem ("0" = the writing process).
  const long joined = Checked(Sys(SYS_write, stem->procs, reinterpret_cast<long>("0"), 1));
  Sys(SYS_close, stem->procs);
  const int join_error = joined == 1 ? 0 : static_cast<int>(joined < 0 ? -joined : EIO);
  Sys(SYS_write, stem->status_write, reinterpret_cast<long>(&join_error), sizeof join_error);
  if (join_error != 0) StemExit(1);
  char go = 0;
  long n;
  do {
    n = Checked(Sys(SYS_read, stem->go_read, reinterpret_cast<long>(&go), 1));
  } while (n == -EINTR);
  if (n != 1) StemExit(0);  // the pool is going away
  Sys(SYS_close, stem->go_read);
  // Default dispositions for every signal (an ignored SIGPIPE would survive exec), then none
  // blocked: what a runtime expects.
  const unsigned char default_action[32] = {};  // handler SIG_DFL, no flags, empty mask
  for (long sig = 1; sig < 65; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    Sys(SYS_rt_sigaction, sig, reinterpret_cast<long>(default_action), 0, 8);
  }
  Sys(SYS_setpgid, 0, 0);  // its own process group: a timeout kills what it started too
  const long null_fd =
      Checked(Sys(SYS_openat, AT_FDCWD, reinterpret_cast<long>("/dev/null"), O_RDONLY | O_CLOEXEC));
  if (null_fd < 0) ReportAndExit(stem->status_write, kStdin, null_fd);
  // 0-2 were closed on entry, so /dev/null is usually 0 already.
  long rc =
      null_fd == 0 ? Checked(Sys(SYS_fcntl, 0, F_SETFD, 0)) : Checked(Sys(SYS_dup3, null_fd, 0, 0));
  if (rc < 0) ReportAndExit(stem->status_write, kStdin, rc);
  rc = Checked(Sys(SYS_dup3, stem->output_write, 1, 0));
  if (rc >= 0) rc = Checked(Sys(SYS_dup3, stem->output_write, 2, 0));
  if (rc < 0) ReportAndExit(stem->status_write, kStdout, rc);
  if (stem->opt) {
    const char* step = "";
    rc = EnterOptMount(*stem->opt, &step);
    if (rc < 0) ReportAndExit(stem->status_write, kMount, rc);
  }
  if (stem->cwd) {
    rc = Checked(Sys(SYS_chdir, reinterpret_cast<long>(stem->cwd)));
    if (rc < 0) ReportAndExit(stem->status_write, kChdir, rc);
  }
  // Only 0-2 and the status pipe (close-on-exec: its EOF tells the parent exec succeeded).
  const int left[] = {0, 1, 2, stem->status_write};  // status_write > 2: pipes were made first
  CloseAllBut(left, 4);
  const uint64_t no_signals = 0;
  Sys(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&no_signals), 0, 8);
  rc = Checked(Sys(SYS_execve, reinterpret_cast<long>(stem->path),
                   reinterpret_cast<long>(stem->argv), reinterpret_cast<long>(stem->envp)));
  ReportAndExit(stem->status_write, kExec, rc);
  return 127;
}

void CloseIf(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// Reads exactly `size` bytes; returns how many were read before EOF.
std::size_t ReadFully(int fd, void* buffer, std::size_t size) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = read(fd, static_cast<char*>(buffer) + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

}  // namespace

StemPool::StemPool(int size) : size_(static_cast<std::size_t>(std::max(0, size))) {
  if (size_ == 0 || !MemoryCgroup::Available()) return;
  refill_ = std::thread([this] { RefillLoop(); });
}

StemPool::~StemPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (refill_.joinable()) refill_.join();  // it ends the waiting stems first
}

void StemPool::Discard(std::unique_ptr<Stem> stem) {
  if (!stem) return;
  CloseIf(&stem->go_write);  // EOF: the stem exits
  if (stem->pid > 0) waitpid(stem->pid, nullptr, 0);
  CloseIf(&stem->status_read);
  CloseIf(&stem->output_read);
  // Its stack is freed only now: the stem no longer runs.
}

std::unique_ptr<StemPool::Stem> StemPool::MakeStem() {
  auto stem = std::make_unique<Stem>();
  stem->cgroup = MemoryCgroup::CreateUnlimited();
  if (!stem->cgroup) return nullptr;
  stem->procs = stem->cgroup->OpenProcs();
  int go[2];
  int status[2];
  int output[2];
  if (stem->procs < 0 || pipe2(go, O_CLOEXEC) != 0) {
    CloseIf(&stem->procs);
    return nullptr;
  }
  if (pipe2(status, O_CLOEXEC) != 0) {
    close(go[0]);
    close(go[1]);
    CloseIf(&stem->procs);
    return nullptr;
  }
  if (pipe2(output, O_CLOEXEC) != 0) {
    for (int fd : {go[0], go[1], status[0], status[1]}) close(fd);
    CloseIf(&stem->procs);
    return nullptr;
  }
  stem->go_read = go[0];
  stem->go_write = go[1];
  stem->status_read = status[0];
  stem->status_write = status[1];
  stem->output_read = output[0];
  stem->output_write = output[1];
  stem->stack = std::make_unique<unsigned char[]>(kStemStackBytes);
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);  // the stem starts (and waits) with all blocked
  stem->pid = clone(StemMain, stem->stack.get() + kStemStackBytes, CLONE_VM | SIGCHLD, stem.get());
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  // The stem's ends, closed here only: the stem reads these fields (the memory is shared), so
  // they keep their values.
  for (const int fd : {stem->go_read, stem->status_write, stem->output_write, stem->procs}) {
    close(fd);
  }
  if (stem->pid < 0) {
    CloseIf(&stem->go_write);
    CloseIf(&stem->status_read);
    CloseIf(&stem->output_read);
    return nullptr;
  }
  int join_error = 0;
  if (ReadFully(stem->status_read, &join_error, sizeof join_error) != sizeof join_error ||
      join_error != 0) {
    spdlog::debug("stem pid={} cannot join its memory cgroup: {}", stem->pid,
                  std::strerror(join_error));
    Discard(std::move(stem));
    return nullptr;
  }
  return stem;
}

void StemPool::RefillLoop() {
  // This thread outlives every stem it made: a stem runs with this thread's thread pointer (its
  // TLS: errno, the stack guard), so the thread must not exit while one may still run.
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || (!broken_ && ready_.size() < size_); });
    if (stopping_) break;
    lock.unlock();
    std::unique_ptr<Stem> stem = MakeStem();
    lock.lock();
    if (!stem) {
      // Cgroups cannot be joined this way here: cold starts spawn directly (and find out).
      broken_ = true;
      continue;
    }
    ready_.push_back(std::move(stem));
  }
  std::vector<std::unique_ptr<Stem>> stems = std::move(ready_);
  ready_.clear();
  lock.unlock();
  for (auto& stem : stems) Discard(std::move(stem));
}

std::optional<StemPool::Started> StemPool::Take(const char* path, char* const* argv,
                                                char* const* envp, const char* cwd,
                                                int64_t memory_mb, const OptMountArgs* opt,
                                                std::string* error) {
  std::unique_ptr<Stem> stem;
  {
    std::lock_guard lock(mu_);
    if (ready_.empty()) return std::nullopt;
    stem = std::move(ready_.back());
    ready_.pop_back();
  }
  cv_.notify_all();
  if (!stem->cgroup->SetLimit(memory_mb)) {
    Discard(std::move(stem));
    return std::nullopt;
  }
  stem->path = path;
  stem->argv = argv;
  stem->envp = envp;
  stem->cwd = cwd;
  stem->opt = opt;
  // The write is the barrier: the stem reads the fields above only after it returns.
  const char go = 1;
  if (write(stem->go_write, &go, 1) != 1) {
    Discard(std::move(stem));
    return std::nullopt;
  }
  CloseIf(&stem->go_write);
  int report[2] = {0, 0};
  const std::size_t got = ReadFully(stem->status_read, report, sizeof report);
  CloseIf(&stem->status_read);
  Started started;
  if (got == sizeof report) {
    waitpid(stem->pid, nullptr, 0);
    const int step = report[0] >= 0 && report[0] <= kExec ? report[0] : kExec;
    *error = (step == kExec ? std::string() : std::string(kSteps[step]) + ": ") +
             std::strerror(report[1]);
    CloseIf(&stem->output_read);
    return started;  // pid -1
  }
  // EOF: exec succeeded (the status pipe was close-on-exec); the stack is no longer in use.
  started.pid = stem->pid;
  started.output_fd = stem->output_read;
  started.cgroup = std::move(stem->cgroup);
  return started;
}

}  // namespace switchyard::invoker
