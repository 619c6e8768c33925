// The host side of a VM container: the process engines see as the container's pid. It shares
// the rootfs and bind mounts with virtio-fs, boots QEMU, hands the agent the container's config,
// and from then on stands for the container on the host: it waits on the exec fifo for `start`,
// relays stdio to and from the agent, forwards the signals it receives, answers `kill` on its
// control socket, and exits with the container's exit status (or dies of its signal). QEMU and
// virtiofsd are its children and die with it (PR_SET_PDEATHSIG): SIGKILL to the monitor takes
// the whole VM down.
#pragma once

#include <optional>
#include <string>

#include "common/error.hpp"
#include "explain/narration.hpp"
#include "oci/spec.hpp"
#include "runtime/backend.hpp"
#include "vm/machine.hpp"

namespace ns::vm {

struct MonitorPlan {
  std::string id;
  std::string dir;  // the container's state directory: sockets, the share's mount point, vm.log
  MachineConfig machine;
  std::string virtiofsd;
  GuestPlan guest;
  bool terminal = false;  // process.terminal: a pty, whose master goes to the runtime (ConsoleMaster)
  // A VM taken from the warm pool (vm/pool.hpp): booted, its share attached; not our children.
  struct Pooled {
    pid_t qemu = -1, virtiofsd = -1;
    int agent_fd = -1;  // the connected agent channel, Hello read
    std::string log;    // its console log
    std::string qmp;    // its QMP socket
  };
  std::optional<Pooled> pooled;
  std::string log;  // the console log (place_in)
};

// Fills in MACHINE's socket and log paths under DIR (and LOG: there, or the pooled VM's).
void place_in(MonitorPlan& plan);

// The monitor, in the process forked by `create`. SYNC_FD is its end of the sync channel (Go,
// Ready or Error, the runtime's commit; --explain stages travel on it too); FIFO_FD the exec
// fifo, held read-write. Never returns.
[[noreturn]] void monitor_main(const MonitorPlan& plan, int sync_fd, int fifo_fd);

// Exits with a wait status: its code, or death by its signal (no core dump) — how the monitor
// and an exec relay hand the container's exit on to whoever waits for them.
[[noreturn]] void exit_like(int status);

// The monitor's control socket, where kill and exec reach it.
std::string control_path(const std::string& dir);
// QEMU's QMP socket of the container at DIR (a pooled VM's: a link to it).
std::string qmp_path(const std::string& dir);

// `kill` of a VM container: asks its monitor, over DIR/vm.sock, to have the agent signal the
// container's init (or every process in it, with ALL).
Result<void> send_signal(const std::string& dir, int signal, bool all);
// `update` of a VM container, the guest's part: the agent applies RESOURCES (linux.resources)
// to the container's cgroup inside.
Result<void> update_inside(const std::string& dir, const nlohmann::json& resources);

// `exec` of a VM container (vm/exec.cpp): the process runs inside the guest, started by the
// agent, its stdio relayed through the monitor. Attached: its exit status (128+N for a signal).
// Detached: a relay process of ours stands for it on the host (its pid goes to --pid-file),
// relays its stdio and signals, and exits with its status.
Result<int> exec(const std::string& dir, const runtime::ExecOptions& opts, const oci::Process& process);

namespace narration {
extern const explain::Narration kMachine, kShare, kNetwork, kBoot, kPooled, kAgent, kStart, kKill, kExec, kPause,
    kResume;
}

}  // namespace ns::vm
