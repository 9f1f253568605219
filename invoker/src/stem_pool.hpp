#pragma once
// Children started ahead of need ("stems"), each already inside a fresh memory cgroup of its
// own and waiting to exec a runtime. Joining a cgroup costs milliseconds on cgroup v1 (the
// kernel waits for an RCU grace period, tens of ms on a loaded machine); a stem pays that before
// any invocation asks for it, so a cold start only sets the cgroup's limit and execs.
//
// A stem shares the invoker's memory until it execs (CLONE_VM, as posix_spawn's child does, but
// without suspending the parent): it runs on a stack of its own, makes raw system calls only,
// touches no shared data but its own record, and blocks every signal. Nothing is copied, and
// its cgroup is charged nothing until the runtime runs.
//
// Thread model: thread-safe. One refill thread per pool makes the stems; it lives until the pool
// goes (a stem shares its thread pointer until it execs or exits).
#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "memory_cgroup.hpp"
#include "opt_mount.hpp"

namespace switchyard::invoker {

class StemPool {
 public:
  // Keeps `size` stems ready (0, or no writable memory cgroups: the pool stays empty and Take
  // always answers nullopt).
  explicit StemPool(int size);
  ~StemPool();  // stops the refill thread; waiting stems exit and are reaped
  StemPool(const StemPool&) = delete;
  StemPool& operator=(const StemPool&) = delete;

  struct Started {
    pid_t pid = -1;
    int output_fd = -1;  // read end of the runtime's stdout+stderr pipe (close-on-exec)
    std::unique_ptr<MemoryCgroup> cgroup;
  };
  // Execs `path` (argv, envp null-terminated; cwd) in a waiting stem whose cgroup is limited to
  // `memory_mb` first, with `opt` (or null) mounted at /opt. Returns nullopt when no stem is ready
  // (the caller then spawns directly); a result with pid -1 and `error` set when the exec failed.
  std::optional<Started> Take(const char* path, char* const* argv, char* const* envp,
                              const char* cwd, int64_t memory_mb, const OptMountArgs* opt,
                              std::string* error);

  struct Stem;  // one waiting child (stem_pool.cpp)

 private:
  std::unique_ptr<Stem> MakeStem();
  void RefillLoop();
  static void Discard(std::unique_ptr<Stem> stem);

  const std::size_t size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Stem>> ready_;  // Guarded by mu_.
  bool stopping_ = false;                     // Guarded by mu_.
  bool broken_ = false;  // Guarded by mu_. (a stem could not be made: no more tries)
  std::thread refill_;
};

}  // namespace switchyard::invoker
