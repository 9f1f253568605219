#pragma once
// Starts a runtime process already inside its memory cgroup: the child joins the cgroup before
// it execs, so nothing the runtime does (interpreter start, imports, init code) escapes the
// limit or the peak. On cgroup v2 the kernel places it there at clone time (clone3 with
// CLONE_INTO_CGROUP); otherwise (v1, or clone3 refused) the child writes "0" to the cgroup's
// cgroup.procs between clone and exec.
//
// Thread model: SpawnProcess is thread-safe (it blocks every signal of the calling thread for
// the few microseconds the child shares its memory).
#include <sys/types.h>

#include "opt_mount.hpp"

namespace switchyard::invoker {

struct SpawnSpec {
  const char* path = nullptr;         // the executable
  char* const* argv = nullptr;        // null-terminated
  char* const* envp = nullptr;        // null-terminated; the whole environment
  const char* cwd = nullptr;          // working directory
  int output_fd = -1;                 // becomes stdout and stderr; stdin is /dev/null
  int cgroup_procs_fd = -1;           // open cgroup.procs (O_WRONLY) to join, or -1
  int cgroup_dir_fd = -1;             // cgroup v2 directory for CLONE_INTO_CGROUP, or -1
  const OptMountArgs* opt = nullptr;  // the layers to mount at /opt (opt_mount.hpp), or null
};

struct SpawnResult {
  pid_t pid = -1;         // > 0 on success
  int error = 0;          // errno of the failed step
  const char* step = "";  // "clone", "cgroup", "stdin", "stdout", "mount", "chdir" or
                          // "exec"
};

// Starts the process in its own process group, with SIGPIPE/SIGINT/SIGTERM at their defaults,
// no blocked signals, and no file descriptor above 2. Returns its pid, or the failed step (the
// child is then already reaped).
SpawnResult SpawnProcess(const SpawnSpec& spec);

}  // namespace switchyard::invoker
