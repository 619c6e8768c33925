// The runtime binary, protected from the container (the CVE-2019-5736 class).
//
// A container's program can make the kernel run ns-runtime inside the container (a script
// whose interpreter is "#!/proc/self/exe", exec'd by our init or by `exec`). Any process in
// the container could then open /proc/<that pid>/exe, keep the fd, and once nothing runs the
// binary any more reopen it for writing: the host's ns-runtime would be replaced by the
// container's code, to run as root at the next container start.
//
// The defence: every process of ours that enters a container runs the binary through a
// read-only mount. Before `create`, `run` or `exec` does anything, the runtime checks where
// /proc/self/exe lives; on a writable mount it clones the binary's mount with open_tree (a mount
// that belongs to no mount namespace and no path), makes the clone read-only and re-executes
// itself through the clone's fd (execveat). Reopening any /proc/PID/exe of ours for writing then
// fails with EROFS, and nothing changed in any mount namespace. Kernels older than 5.12 (no
// mount_setattr) get the older way: a private mount namespace of our own where the binary is
// bound read-only onto itself, re-executed through that path. (The static binary's entry point
// makes the same decision and re-execution before the C library starts: exe_guard_entry.c.)
// Nothing is done when the binary already sits on a read-only mount. Without root (rootless)
// there is no mount to clone, and a binary the user may write (their own build) could be written
// by the container's root, which is that user: it is copied into a memfd sealed against every
// change and re-executed from there (a binary the user cannot write needs nothing).
#pragma once

#include "common/error.hpp"

#include <string>

namespace ns::linux_security {

// Returns normally when the binary is already protected (or needs no protection); otherwise
// re-executes the process with ARGV through a read-only bind of itself and does not return.
// An error only when the protection was needed and could not be set up.
Result<void> protect_runtime_binary(char** argv);

// After a re-execution: remember the binary's path, which the process before passed in the
// environment (/proc/self/exe names "/" on the detached mount), and take the variable out.
void adopt_exe_path();
// After a re-execution: the CPUs the process before was allowed, taken back (the re-execution
// kept to one CPU: see exe_guard_entry.c), and the variable taken out.
void adopt_cpu_affinity();
// After a re-execution through a detached mount: the fd of that mount, kept open (see
// NS_EXE_TREE_ENV in exe_guard_env.h), close-on-exec from now on. drop_exe_tree closes it late:
// the last close of a detached mount waits for an RCU grace period (create: once the container
// is committed; exec: where it waits for the process). (A child cloned before inherits a copy
// and closes it with its other fds.)
void adopt_exe_tree();
void drop_exe_tree();
// The adopted fd (-1: none or dropped): the runtime's, never one to pass to a container.
int exe_tree_fd();
// Where the runtime binary lives on the host (the adopted path, else /proc/self/exe's target).
std::string runtime_exe_path();

// After a re-execution in a private mount namespace (older kernels): the fd (close-on-exec) of the mount namespace we came from, where
// the runtime-side hooks must run; -1 when there was no re-execution.
int adopt_host_mount_ns();

}  // namespace ns::linux_security
