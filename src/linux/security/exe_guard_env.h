// Shared by exe_guard.cpp and the entry-point fast path (exe_guard_entry.c, plain C): how a
// re-executed runtime finds the mount namespace it came from.
#pragma once

// The environment variable naming the inherited fd of that mount namespace.
#define NS_HOST_MNTNS_ENV "_NS_RUNTIME_HOST_MNTNS"
// The fd is moved this high: far above the fds a caller hands the container (--preserve-fds,
// LISTEN_FDS count from 3).
#define NS_HOST_MNTNS_MIN_FD 512
