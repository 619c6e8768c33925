// Shared by exe_guard.cpp and the entry-point fast path (exe_guard_entry.c, plain C): what a
// re-executed runtime is told by the process it was before.
#pragma once

// The path of the binary: after the re-execution /proc/self/exe names a file on a detached
// mount, which has no path a reader could use (VM mode looks for its assets beside the binary).
#define NS_EXE_PATH_ENV "_NS_RUNTIME_EXE"

// Kernels without open_tree/mount_setattr: the re-execution happens in a private mount
// namespace, and this variable names the inherited fd of the mount namespace we came from.
#define NS_HOST_MNTNS_ENV "_NS_RUNTIME_HOST_MNTNS"
// The fd is moved this high: far above the fds a caller hands the container (--preserve-fds,
// LISTEN_FDS count from 3).
#define NS_HOST_MNTNS_MIN_FD 512

// The CPUs the process before was allowed (sched_getaffinity's bytes, in hex): the re-execution
// keeps to the CPU it is on (an exec would move the task to the idlest CPU otherwise, a second
// time in a row), and the re-executed runtime takes these back first thing.
#define NS_CPUS_ENV "_NS_RUNTIME_CPUS"
#define NS_CPUS_MAX_BYTES 128

// The fd of the read-only clone of the binary's mount (open_tree), kept open across the
// re-execution: closing the last fd of a detached mount dissolves it, and the kernel then waits
// for an RCU grace period (~40 us here). Closed by an exec that closes it, that wait would come
// at the start of every create, run and exec; kept, the runtime closes it where it waits anyway
// (linux_security::drop_exe_tree). Moved as high as the host mount namespace's fd.
#define NS_EXE_TREE_ENV "_NS_RUNTIME_EXE_TREE"

