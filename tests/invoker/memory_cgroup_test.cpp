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
  {
    std::ofstream procs(stale + "/cgroup.procs");
    procs << orphan;
  }
  // This process's own cgroups are not stale, whatever their number.
  const std::string own = base + "/switchyard-" + std::to_string(getpid()) + "-987654";
  ASSERT_EQ(mkdir(own.c_str(), 0755), 0) << own;

  EXPECT_EQ(MemoryCgroup::RemoveStale(), 1u);

  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(own));
  int status = 0;
  ASSERT_EQ(waitpid(orphan, &status, 0), orphan);
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
