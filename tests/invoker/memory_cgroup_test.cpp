// The cgroups an invoker leaves behind when it is killed are removed by the next invoker.
#include "memory_cgroup.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace switchyard::invoker {
namespace {

namespace fs = std::filesystem;

// A pid that existed a moment ago and is gone now.
pid_t DeadPid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);
  return child;
}

TEST(MemoryCgroupTest, RemovesTheCgroupsOfAnInvokerThatDied) {
  const std::string base = MemoryCgroup::Base();
  if (base.empty()) GTEST_SKIP() << "no writable memory cgroup here";
  const std::string stale = base + "/switchyard-" + std::to_string(DeadPid()) + "-0";
  ASSERT_EQ(mkdir(stale.c_str(), 0755), 0) << stale;
  // A runtime the dead invoker left running in it.
  const pid_t orphan = fork();
  if (orphan == 0) {
    pause();
    _exit(0);
  }
  // Never leave the orphan behind, nor wait for it forever, whatever fails below.
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      if (pid > 0 && kill(pid, SIGKILL) == 0) waitpid(pid, nullptr, 0);
    }
  } reaper{orphan};
  {
    std::ofstream procs(stale + "/cgroup.procs");
    procs << orphan << std::flush;
    ASSERT_TRUE(procs.good()) << "cannot move the orphan into " << stale;
  }
  // This process's own cgroups are not stale, whatever their number.
  const std::string own = base + "/switchyard-" + std::to_string(getpid()) + "-987654";
  ASSERT_EQ(mkdir(own.c_str(), 0755), 0) << own;

  EXPECT_EQ(MemoryCgroup::RemoveStale(), 1u);

  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(own));
  // RemoveStale killed it: it is gone (a zombie) within moments.
  int status = 0;
  pid_t waited = 0;
  for (int i = 0; i < 300 && waited == 0; ++i) {
    waited = waitpid(orphan, &status, WNOHANG);
    if (waited == 0) usleep(100'000);
  }
  ASSERT_EQ(waited, orphan) << "the orphan in the stale cgroup was not killed";
  reaper.pid = -1;
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  rmdir(own.c_str());
}

TEST(MemoryCgroupTest, LeavesOtherDirectoriesAlone) {
  const std::string base = MemoryCgroup::Base();
  if (base.empty()) GTEST_SKIP() << "no writable memory cgroup here";
  const std::string other = base + "/switchyard-notapid-" + std::to_string(getpid());
  ASSERT_EQ(mkdir(other.c_str(), 0755), 0) << other;
  EXPECT_EQ(MemoryCgroup::RemoveStale(), 0u);
  EXPECT_TRUE(fs::exists(other));
  rmdir(other.c_str());
}

}  // namespace
}  // namespace switchyard::invoker
