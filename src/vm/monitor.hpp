// The host side of a VM container: the process engines see as the container's pid. It shares
// the rootfs and bind mounts with virtio-fs, boots QEMU, hands the agent the container's config,
// and from then on stands for the container on the host: it waits on the exec fifo for `start`,
// relays stdio to and from the agent, forwards the signals it receives, answers `kill` on its
// control socket, and exits with the container's exit status (or dies of its signal). QEMU and
// virtiofsd are its children and die with it (PR_SET_PDEATHSIG): SIGKILL to the monitor takes
// the whole VM down.
#pragma once

#include <string>

#include "common/error.hpp"
#include "explain/narration.hpp"
#include "vm/machine.hpp"

namespace ns::vm {

struct MonitorPlan {
  std::string id;
  std::string dir;  // the container's state directory: sockets, the share's mount point, vm.log
  MachineConfig machine;
  std::string virtiofsd;
  GuestPlan guest;
};

// Fills in MACHINE's socket and log paths under DIR.
void place_in(MonitorPlan& plan);

// The monitor, in the process forked by `create`. SYNC_FD is its end of the sync channel (Go,
// Ready or Error, the runtime's commit; --explain stages travel on it too); FIFO_FD the exec
// fifo, held read-write. Never returns.
[[noreturn]] void monitor_main(const MonitorPlan& plan, int sync_fd, int fifo_fd);

// `kill` of a VM container: asks its monitor, over DIR/vm.sock, to have the agent signal the
// container's init (or every process in it, with ALL).
Result<void> send_signal(const std::string& dir, int signal, bool all);

namespace narration {
extern const explain::Narration kMachine, kShare, kBoot, kAgent, kStart, kKill;
}

}  // namespace ns::vm
