#pragma once
// A function's layers at /opt, as Lambda shows them: the runtime process gets a mount namespace
// of its own (plus a user namespace when the invoker is not root), in which the function's
// merged layer directory is bind-mounted read-only at /opt with private propagation, so nothing
// it mounts or unmounts reaches the host and no other process sees its /opt.
//
// The plan is made in the parent (it allocates); EnterOptMount runs in the child between clone
// and exec and makes raw system calls only (no allocation, no locks, no sanitizer hooks).
//
// Thread model: OptMountMode and PlanOptMount are thread-safe; EnterOptMount is for the child.
#include <string>

namespace switchyard::invoker {

struct OptMount {
  std::string source;            // the merged layer directory (absolute)
  unsigned long keep_flags = 0;  // the source mount's nosuid/nodev/noexec/atime flags (locked
                                 // in a user namespace: a read-only remount must repeat them)
  bool user_namespace = false;   // also CLONE_NEWUSER, mapping the invoker's uid and gid
  std::string uid_map;           // "<uid> <uid> 1" when user_namespace
  std::string gid_map;
};

// What the child reads: plain pointers into an OptMount that outlives the spawn.
struct OptMountArgs {
  const char* source = nullptr;
  const char* uid_map = nullptr;  // null: no user namespace
  const char* gid_map = nullptr;
  unsigned long keep_flags = 0;
};
OptMountArgs ArgsOf(const OptMount& plan);

// How runtime processes can get a private /opt on this host, probed once per process (the
// first call forks a child that tries it on `probe_source`, a directory): "root" (a mount
// namespace), "user" (a user and mount namespace) or "" when neither works (then functions see
// their layers through environment variables only; logged once with the reason).
const std::string& OptMountMode(const std::string& probe_source);

// The plan for `layers_dir` in the probed mode; false (nothing set) when no mode works.
bool PlanOptMount(const std::string& layers_dir, OptMount* plan);

// Child side: enters the namespaces and mounts. Returns 0, or the negative errno of the failed
// call with `*step` naming it ("unshare", "setgroups", "uid_map", "gid_map", "private",
// "bind", "remount").
long EnterOptMount(const OptMountArgs& plan, const char** step);

}  // namespace switchyard::invoker
