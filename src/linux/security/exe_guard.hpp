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
// /proc/self/exe lives; on a writable mount it makes a private mount namespace of its own,
// binds the binary onto itself read-only there and re-executes itself through that mount.
// Reopening any /proc/PID/exe of ours then fails with EROFS. (The static binary's entry point
// makes the same decision and re-execution before the C library starts: exe_guard_entry.c.) Nothing is done when the binary
// already sits on a read-only mount, or when we are not root (a rootless container cannot
// write a root-owned binary, and could not make a mount namespace to protect it anyway).
#pragma once

#include "common/error.hpp"

namespace ns::linux_security {

// Returns normally when the binary is already protected (or needs no protection); otherwise
// re-executes the process with ARGV through a read-only bind of itself and does not return.
// An error only when the protection was needed and could not be set up.
Result<void> protect_runtime_binary(char** argv);

// After such a re-execution: the fd (close-on-exec) of the mount namespace we came from, where
// the runtime-side hooks must run; -1 when there was no re-execution.
int adopt_host_mount_ns();

}  // namespace ns::linux_security
