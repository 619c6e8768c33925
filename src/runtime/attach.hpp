// Staying attached to a container process: forward signals, relay its pty, return its exit
// status. Used by `run` and `exec` when they do not detach.
#pragma once

#include <sys/types.h>

namespace ns::runtime {

// 128+N for a death by signal N, as shells report it.
int exit_code(int status);
// Waits for PID (our child), forwarding SIGINT/TERM/HUP/QUIT/USR1/USR2 to it and relaying
// MASTER (a pty master, or -1) to our stdin/stdout; returns its exit status.
int wait_attached(pid_t pid, int master);

}  // namespace ns::runtime
