#pragma once
// Runs a program to completion and collects what it printed: the launcher's way of calling
// initdb and pg_ctl, optionally as another (unprivileged) user. Internal to the store.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace switchyard::orchestrator::store {

struct UserIds {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
};

struct ProcessResult {
  int exit_code = -1;  // -1 when the program was killed by a signal or could not be started
  std::string output;  // standard output and standard error, interleaved
};

// Runs argv[0] (an absolute path) with argv, standard input from /dev/null, in directory "/",
// with the default signal mask and dispositions, as `run_as` when given (the caller must be root).
// Waits for it to exit. Throws std::runtime_error only when fork or pipe fail.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::optional<UserIds>& run_as = std::nullopt);

// Whether `run_as` may read, write and enter `path` (checked in a child that switches to it).
bool AccessibleAs(const std::string& path, const UserIds& run_as);

// The user's ids, or nullopt when no such user exists.
std::optional<UserIds> LookUpUser(const std::string& name);

}  // namespace switchyard::orchestrator::store
