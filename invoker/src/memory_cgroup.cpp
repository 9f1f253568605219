#include "memory_cgroup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

namespace switchyard::invoker {

namespace {

struct Hierarchy {
  std::string base;  // the invoker's own memory cgroup directory; empty = unavailable
  bool v2 = false;
};

// Where this process sits in the memory hierarchy (/proc/self/cgroup).
Hierarchy FindHierarchy() {
  Hierarchy found;
  if (const char* off = std::getenv("SWITCHYARD_NO_CGROUP"); off && std::string(off) == "1") {
    return found;
  }
  std::ifstream self("/proc/self/cgroup");
  std::string line;
  std::string v2_path;
  while (std::getline(self, line)) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    std::istringstream names(controllers);
    std::string name;
    while (std::getline(names, name, ',')) {
      if (name == "memory") {
        found.base = "/sys/fs/cgroup/memory" + (path == "/" ? std::string() : path);
        return found;
      }
    }
    if (line.rfind("0::", 0) == 0) v2_path = path;
  }
  if (!v2_path.empty() && access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
    found.base = "/sys/fs/cgroup" + (v2_path == "/" ? std::string() : v2_path);
    found.v2 = true;
  }
  return found;
}

bool WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

// The pid in a cgroup name this invoker makes ("switchyard-<pid>-<n>"), or 0.
pid_t OwnerPid(const std::string& name) {
  constexpr std::string_view kPrefix = "switchyard-";
  if (name.rfind(kPrefix, 0) != 0) return 0;
  const std::size_t dash = name.find('-', kPrefix.size());
  if (dash == std::string::npos || dash == kPrefix.size()) return 0;
  pid_t pid = 0;
  for (std::size_t i = kPrefix.size(); i < dash; ++i) {
    if (name[i] < '0' || name[i] > '9' || pid > 1000000000) return 0;
    pid = pid * 10 + (name[i] - '0');
  }
  return pid;
}

std::size_t RemoveStaleIn(const std::string& base) {
  std::vector<std::string> stale;
  if (DIR* dir = opendir(base.c_str())) {
    while (const dirent* entry = readdir(dir)) {
      const pid_t owner = OwnerPid(entry->d_name);
      // Only an owner that no longer exists: a live pid (even a reused one) keeps its cgroups.
      if (owner > 0 && kill(owner, 0) != 0 && errno == ESRCH) {
        stale.push_back(base + "/" + entry->d_name);
      }
    }
    closedir(dir);
  }
  // Runtimes the dead invoker left running are orphans nobody will invoke again.
  for (const auto& path : stale) {
    std::ifstream procs(path + "/cgroup.procs");
    pid_t pid = 0;
    while (procs >> pid) {
      if (pid > 0) kill(pid, SIGKILL);
    }
  }
  std::size_t removed = 0;
  for (const auto& path : stale) {
    // A killed process leaves its cgroup only once the kernel has torn it down.
    for (int attempt = 0; attempt < 50; ++attempt) {
      if (rmdir(path.c_str()) == 0 || errno == ENOENT) {
        ++removed;
        break;
      }
      if (errno != EBUSY) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return removed;
}

const Hierarchy& TheHierarchy() {
  static const Hierarchy hierarchy = [] {
    Hierarchy found = FindHierarchy();
    // An invoker killed with SIGKILL cannot remove its cgroups: the next one does.
    if (!found.base.empty()) RemoveStaleIn(found.base);
    return found;
  }();
  return hierarchy;
}

std::string NewCgroupDirectory() {
  const Hierarchy& hierarchy = TheHierarchy();
  static std::atomic<uint64_t> counter{0};
  std::string path = hierarchy.base + "/switchyard-" + std::to_string(getpid()) + "-" +
                     std::to_string(counter.fetch_add(1));
  if (mkdir(path.c_str(), 0755) != 0) return {};
  return path;
}

// Empty cgroup directories made ahead of need; removed at exit if still unused.
class PreparedCgroups {
 public:
  ~PreparedCgroups() {
    std::lock_guard lock(mu_);
    for (const auto& path : paths_) rmdir(path.c_str());
  }
  std::string Take() {
    std::lock_guard lock(mu_);
    if (paths_.empty()) return {};
    std::string path = std::move(paths_.back());
    paths_.pop_back();
    return path;
  }
  // Returns how many are missing to reach `count`.
  std::size_t Missing(std::size_t count) {
    std::lock_guard lock(mu_);
    return paths_.size() >= count ? 0 : count - paths_.size();
  }
  void Put(std::string path) {
    std::lock_guard lock(mu_);
    paths_.push_back(std::move(path));
  }

 private:
  std::mutex mu_;
  std::vector<std::string> paths_;  // Guarded by mu_.
};

PreparedCgroups& Prepared() {
  static PreparedCgroups prepared;
  return prepared;
}

}  // namespace

void MemoryCgroup::Prepare(int count) {
  if (TheHierarchy().base.empty() || count <= 0) return;
  for (std::size_t missing = Prepared().Missing(static_cast<std::size_t>(count)); missing > 0;
       --missing) {
    std::string path = NewCgroupDirectory();
    if (path.empty()) return;
    Prepared().Put(std::move(path));
  }
}

bool MemoryCgroup::Available() { return !TheHierarchy().base.empty(); }

std::size_t MemoryCgroup::RemoveStale() {
  const Hierarchy& hierarchy = TheHierarchy();
  return hierarchy.base.empty() ? 0 : RemoveStaleIn(hierarchy.base);
}

std::string MemoryCgroup::Base() { return TheHierarchy().base; }

std::unique_ptr<MemoryCgroup> MemoryCgroup::CreateUnlimited() {
  const Hierarchy& hierarchy = TheHierarchy();
  if (hierarchy.base.empty()) return nullptr;
  std::string path = Prepared().Take();
  if (path.empty()) path = NewCgroupDirectory();
  if (path.empty()) return nullptr;
  return std::unique_ptr<MemoryCgroup>(new MemoryCgroup(path, hierarchy.v2));
}

std::unique_ptr<MemoryCgroup> MemoryCgroup::Create(int64_t limit_mb) {
  auto cgroup = CreateUnlimited();
  if (!cgroup || !cgroup->SetLimit(limit_mb)) return nullptr;  // the destructor removes it
  return cgroup;
}

bool MemoryCgroup::SetLimit(int64_t limit_mb) const {
  const std::string bytes = std::to_string(limit_mb * 1024 * 1024);
  if (v2_) {
    if (!WriteText(path_ + "/memory.max", bytes)) return false;
    WriteText(path_ + "/memory.swap.max", "0");  // absent without swap accounting
    return true;
  }
  // v1 refuses a memory limit above memsw's: lower memory first, then memsw (both start
  // unlimited).
  if (!WriteText(path_ + "/memory.limit_in_bytes", bytes)) return false;
  if (access((path_ + "/memory.memsw.limit_in_bytes").c_str(), W_OK) == 0) {
    // No swapping past the limit: Lambda has no swap.
    WriteText(path_ + "/memory.memsw.limit_in_bytes", bytes);
  }
  WriteText(path_ + "/memory.max_usage_in_bytes", "0");  // the peak starts from now
  return true;
}

MemoryCgroup::~MemoryCgroup() {
  if (peak_fd_ >= 0) close(peak_fd_);
  // The kernel refuses while the last killed process is still being torn down; retry briefly.
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (rmdir(path_.c_str()) == 0 || errno == ENOENT) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int MemoryCgroup::OpenProcs() const {
  return open((path_ + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
}

int MemoryCgroup::OpenDirectory() const {
  return v2_ ? open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
}

int64_t MemoryCgroup::PeakMb() const {
  if (peak_fd_ < 0) {
    const std::string file = path_ + (v2_ ? "/memory.peak" : "/memory.max_usage_in_bytes");
    peak_fd_ = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  }
  int64_t bytes = 0;
  char buffer[32];
  const ssize_t n = peak_fd_ >= 0 ? pread(peak_fd_, buffer, sizeof buffer - 1, 0) : -1;
  if (n > 0) {
    buffer[n] = '\0';
    bytes = std::strtoll(buffer, nullptr, 10);
  }
  constexpr int64_t kMb = int64_t{1024} * 1024;
  return (bytes + kMb - 1) / kMb;
}

bool MemoryCgroup::OomKilled() const {
  std::ifstream in(path_ + (v2_ ? "/memory.events" : "/memory.oom_control"));
  std::string key;
  int64_t value = 0;
  while (in >> key >> value) {
    if (key == "oom_kill") return value > 0;
  }
  return false;
}

}  // namespace switchyard::invoker
