// The fds a caller hands the container: 3 .. 3+N-1, the socket-activation fds first (LISTEN_FDS)
// and then --preserve-fds, as runc passes them.
//
// The runtime opens fds of its own while it works (the state lock, cgroup files, a network
// namespace, sockets). Where the caller left a hole in that range, the kernel gives the hole's
// number to the next of those, and clearing close-on-exec over the range at exec would hand it
// to the container: an fd of the host's /sys/fs/cgroup is a way out of any rootfs. So the range
// is claimed before the runtime opens anything: each hole gets a placeholder (/dev/null,
// close-on-exec) that keeps the number taken, and at exec only the fds the caller had open there
// lose close-on-exec. The placeholders close at exec, so the container sees the caller's holes
// as holes.
#pragma once

#include <sys/types.h>

#include <memory>
#include <span>
#include <vector>

#include "common/error.hpp"

namespace ns::linux_process {

class PassedFds {
 public:
  PassedFds() = default;  // nothing passed
  PassedFds(PassedFds&& o) noexcept;
  PassedFds& operator=(PassedFds&& o) noexcept;
  PassedFds(const PassedFds&) = delete;
  PassedFds& operator=(const PassedFds&) = delete;
  ~PassedFds();

  // Claims 3 .. 3+COUNT-1. RUNTIME_FDS: fds in the range that are ours, not the caller's (the
  // entry point's, opened before anything could be claimed), which never pass. COUNT must not be
  // negative and the range must fit under the fd limit.
  static Result<PassedFds> claim(int count, std::span<const int> runtime_fds = {});
  // The range a create or exec hands on, claimed for COUNT fds (SHARED null: nothing claimed, as
  // for COUNT 0); an error when the count was not claimed before the runtime opened its own.
  static Result<const PassedFds*> claimed(const std::shared_ptr<const PassedFds>& shared, int count);

  [[nodiscard]] int count() const { return count_; }
  [[nodiscard]] const std::vector<int>& passed() const { return passed_; }

  // At exec, in the process that execs: the passed fds lose close-on-exec, every other fd from 3
  // on (the placeholders, whatever the runtime still holds) gets it.
  Result<void> prepare_for_exec() const;

 private:
  int count_ = 0;
  std::vector<int> passed_;        // the caller's, in the range
  std::vector<int> placeholders_;  // ours, in the caller's holes
};

// LISTEN_FDS as systemd's sd_listen_fds reads it: honoured only when LISTEN_PID names this
// process (a variable inherited from a parent that was meant for the parent passes nothing), and
// then it must be a count of fds. FDS and PID are the variables' values (nullptr: unset).
Result<int> listen_fds_for(const char* fds, const char* pid, pid_t self);

}  // namespace ns::linux_process
