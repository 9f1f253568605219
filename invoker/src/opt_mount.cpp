#include "opt_mount.hpp"

#include <fcntl.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace switchyard::invoker {

namespace {

#define SY_CHILD_CODE __attribute__((no_sanitize("address", "undefined")))

SY_CHILD_CODE long RawCall(long number, long a = 0, long b = 0, long c = 0, long d = 0,
                           long e = 0) {
  const long rc = syscall(number, a, b, c, d, e);
  return rc == -1 ? -errno : rc;
}

SY_CHILD_CODE long Length(const char* text) {
  long n = 0;
  while (text[n] != '\0') ++n;
  return n;
}

// Writes `text` to the file at `path` (a /proc/self file): 0 or -errno.
SY_CHILD_CODE long WriteProcFile(const char* path, const char* text) {
  const long fd = RawCall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fd;
  const long n = Length(text);
  const long written = RawCall(SYS_write, fd, reinterpret_cast<long>(text), n);
  RawCall(SYS_close, fd);
  if (written < 0) return written;
  return written == n ? 0 : -EIO;
}

std::mutex mode_mu;
bool probed = false;  // Guarded by mode_mu.
std::string mode;     // Guarded by mode_mu; set once.

OptMount PlanFor(const std::string& source, bool user_namespace) {
  OptMount plan;
  plan.source = source;
  plan.user_namespace = user_namespace;
  struct statvfs info {};
  if (statvfs(source.c_str(), &info) == 0) {
    if (info.f_flag & ST_NOSUID) plan.keep_flags |= MS_NOSUID;
    if (info.f_flag & ST_NODEV) plan.keep_flags |= MS_NODEV;
    if (info.f_flag & ST_NOEXEC) plan.keep_flags |= MS_NOEXEC;
    if (info.f_flag & ST_NOATIME) plan.keep_flags |= MS_NOATIME;
    if (info.f_flag & ST_NODIRATIME) plan.keep_flags |= MS_NODIRATIME;
    if (info.f_flag & ST_RELATIME) plan.keep_flags |= MS_RELATIME;
  }
  if (user_namespace) {
    plan.uid_map = std::to_string(geteuid()) + " " + std::to_string(geteuid()) + " 1";
    plan.gid_map = std::to_string(getegid()) + " " + std::to_string(getegid()) + " 1";
  }
  return plan;
}

// Forks a child that tries `plan` and reads a file back through /opt: "" or the reason.
std::string Try(const OptMount& plan) {
  const OptMountArgs args = ArgsOf(plan);
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  const pid_t pid = fork();
  if (pid < 0) {
    close(report[0]);
    close(report[1]);
    return std::string("fork: ") + std::strerror(errno);
  }
  if (pid == 0) {
    // The child of a threaded process: async-signal-safe calls only.
    const char* step = "";
    long rc = EnterOptMount(args, &step);
    if (rc == 0) {
      rc = RawCall(SYS_openat, AT_FDCWD, reinterpret_cast<long>("/opt"), O_RDONLY | O_DIRECTORY);
      step = "open /opt";
    }
    const long out[2] = {rc < 0 ? -rc : 0, reinterpret_cast<long>(step)};
    [[maybe_unused]] const ssize_t n = write(report[1], out, sizeof out);
    _exit(0);
  }
  close(report[1]);
  long out[2] = {EIO, 0};
  ssize_t n;
  do {
    n = read(report[0], out, sizeof out);
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (n != static_cast<ssize_t>(sizeof out)) return "the probe died";
  if (out[0] == 0) return {};
  // The step is a string literal of this program: the child's copy is at the same address.
  return std::string(reinterpret_cast<const char*>(out[1])) + ": " +
         std::strerror(static_cast<int>(out[0]));
}

}  // namespace

OptMountArgs ArgsOf(const OptMount& plan) {
  OptMountArgs args;
  args.source = plan.source.c_str();
  if (plan.user_namespace) {
    args.uid_map = plan.uid_map.c_str();
    args.gid_map = plan.gid_map.c_str();
  }
  args.keep_flags = plan.keep_flags;
  return args;
}

SY_CHILD_CODE long EnterOptMount(const OptMountArgs& plan, const char** step) {
  long flags = CLONE_NEWNS;
  if (plan.uid_map != nullptr) flags |= CLONE_NEWUSER;
  long rc = RawCall(SYS_unshare, flags);
  if (rc < 0) {
    *step = "unshare";
    return rc;
  }
  if (plan.uid_map != nullptr) {
    // The kernel wants setgroups denied before an unprivileged gid_map is written.
    if ((rc = WriteProcFile("/proc/self/setgroups", "deny")) < 0) {
      *step = "setgroups";
      return rc;
    }
    if ((rc = WriteProcFile("/proc/self/uid_map", plan.uid_map)) < 0) {
      *step = "uid_map";
      return rc;
    }
    if ((rc = WriteProcFile("/proc/self/gid_map", plan.gid_map)) < 0) {
      *step = "gid_map";
      return rc;
    }
  }
  // Private first: the bind below (and anything the function mounts) stays in this namespace.
  rc = RawCall(SYS_mount, reinterpret_cast<long>("none"), reinterpret_cast<long>("/"), 0,
               MS_REC | MS_PRIVATE, 0);
  if (rc < 0) {
    *step = "private";
    return rc;
  }
  rc = RawCall(SYS_mount, reinterpret_cast<long>(plan.source), reinterpret_cast<long>("/opt"), 0,
               MS_BIND | MS_REC, 0);
  if (rc < 0) {
    *step = "bind";
    return rc;
  }
  rc = RawCall(SYS_mount, 0, reinterpret_cast<long>("/opt"), 0,
               static_cast<long>(MS_BIND | MS_REMOUNT | MS_RDONLY | plan.keep_flags), 0);
  if (rc < 0) {
    *step = "remount";
    return rc;
  }
  return 0;
}

const std::string& OptMountMode(const std::string& probe_source) {
  std::lock_guard lock(mode_mu);
  if (probed) return mode;
  probed = true;
  std::string reasons;
  // Root makes a mount namespace alone; otherwise (or when root lacks CAP_SYS_ADMIN, as in
  // some containers) a user namespace brings the right to mount with it.
  if (geteuid() == 0) {
    const std::string reason = Try(PlanFor(probe_source, false));
    if (reason.empty()) {
      mode = "root";
      spdlog::info("invoker: function layers are mounted read-only at /opt (mount namespaces)");
      return mode;
    }
    reasons = "mount namespace: " + reason + "; ";
  }
  const std::string reason = Try(PlanFor(probe_source, true));
  if (reason.empty()) {
    mode = "user";
    spdlog::info(
        "invoker: function layers are mounted read-only at /opt (user and mount namespaces)");
    return mode;
  }
  reasons += "user namespace: " + reason;
  spdlog::warn(
      "invoker: no private /opt for functions ({}); their layers are reached through PATH, "
      "LD_LIBRARY_PATH, PYTHONPATH, NODE_PATH and SWITCHYARD_LAYERS_DIR instead",
      reasons);
  return mode;
}

bool PlanOptMount(const std::string& layers_dir, OptMount* plan) {
  const std::string& how = OptMountMode(layers_dir);
  if (how.empty()) return false;
  *plan = PlanFor(layers_dir, how == "user");
  return true;
}

}  // namespace switchyard::invoker
