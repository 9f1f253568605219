#pragma once
// A memory cgroup for one execution environment, when the invoker may create one (cgroup v1
// `memory` hierarchy, or v2 with the memory controller delegated). The kernel then enforces
// MemorySize and reports the peak; without it the environment watches resident memory itself.
//
// Thread model: Create() is thread-safe; an instance is used by one environment.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace switchyard::invoker {

class MemoryCgroup {
 public:
  // A fresh cgroup limited to `limit_mb`, or nullptr when cgroups are not writable here.
  // SWITCHYARD_NO_CGROUP=1 in the environment disables them. Takes a directory made ahead by
  // Prepare() when there is one.
  static std::unique_ptr<MemoryCgroup> Create(int64_t limit_mb);
  // A fresh cgroup without a limit yet (SetLimit), or nullptr as for Create.
  static std::unique_ptr<MemoryCgroup> CreateUnlimited();
  // True when cgroups can be made here (and SWITCHYARD_NO_CGROUP is not 1).
  static bool Available();
  // Makes empty cgroups ahead of need until `count` wait unused (no-op without cgroups), so that
  // a cold start does not pay for mkdir. Leftovers are removed at process exit.
  static void Prepare(int count);
  // Removes the cgroups left behind by invokers that died without cleaning up (SIGKILL): the
  // directories named after a pid that no longer exists, killing the runtimes still in them.
  // Runs once by itself when this process first uses cgroups; returns how many it removed.
  static std::size_t RemoveStale();
  // The directory cgroups are made in ("" without cgroups).
  static std::string Base();
  ~MemoryCgroup();  // removes the cgroup (its processes must be gone)
  MemoryCgroup(const MemoryCgroup&) = delete;
  MemoryCgroup& operator=(const MemoryCgroup&) = delete;

  // Limits the cgroup to `limit_mb` (no swap beyond it) and restarts its peak counter (v1).
  // Returns false when the kernel refuses.
  bool SetLimit(int64_t limit_mb) const;
  // The cgroup's cgroup.procs, opened for writing (close-on-exec), for a child to join before
  // it execs; -1 when it cannot be opened. The caller closes it.
  int OpenProcs() const;
  // cgroup v2: the directory, opened for clone3's CLONE_INTO_CGROUP; -1 on v1. Caller closes.
  int OpenDirectory() const;
  // Peak memory use since creation. Keeps the counter file open: it is read after every
  // invocation, and one pread costs far less than open + read + close.
  int64_t PeakMb() const;
  // True once the kernel's OOM killer has killed a process of this cgroup.
  bool OomKilled() const;

 private:
  MemoryCgroup(std::string path, bool v2) : path_(std::move(path)), v2_(v2) {}
  std::string path_;
  bool v2_;
  mutable int peak_fd_ = -1;  // the peak counter, opened on first use
};

}  // namespace switchyard::invoker
