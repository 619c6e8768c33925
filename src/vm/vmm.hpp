// The running machine of a VM container: QEMU and virtiofsd as processes, the share directory
// virtiofsd serves, and the agent channel up to the agent's Hello. Used by the monitor (a cold
// boot, its own children) and by the warm pool (VMs booted ahead, handed to a container's
// monitor later, so not necessarily its children: processes are watched through pidfds).
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "vm/machine.hpp"
#include "vm/protocol.hpp"

namespace ns::vm {

// QEMU or virtiofsd, watched through a pidfd.
struct Proc {
  std::string name;
  pid_t pid = -1;
  UniqueFd pidfd;
  bool child = false;  // ours to reap

  static Proc watch(std::string name, pid_t pid, bool child);
  // Whether it has exited (reaped, if ours); *HOW says how, when that is known.
  bool exited(std::string* how = nullptr);
  // SIGKILL, and reaped if ours.
  void kill();
  [[nodiscard]] bool running() const { return pid > 0; }
};

struct Vm {
  Proc qemu, virtiofsd;
  UniqueFd agent;      // the agent channel, once QEMU has connected it
  FrameReader reader;  // what came on it after the Hello
};

// Binds each share's host path into ROOT/<name> (read-only where asked), making the mount point.
// NARRATE (may be empty) hears each mount.
Result<void> bind_shares(const std::string& root, const std::vector<Share>& shares,
                         const std::function<void(const std::string&)>& narrate = {});

// virtiofsd serving SHARE_DIR, then QEMU for M with TAPS as its NICs, both our children dying
// with us (PR_SET_PDEATHSIG), their output in LOG_FD. Returns the machine and the listening
// socket QEMU connects the agent port to.
struct Launched {
  Vm vm;
  UniqueFd agent_listen;
  std::vector<std::string> virtiofsd_argv, qemu_argv;
};
Result<Launched> launch(const MachineConfig& m, const std::string& virtiofsd, const std::string& share_dir,
                        std::vector<UniqueFd> taps, int log_fd);
// Accepts QEMU's connection of the agent port (into L.vm.agent) within TIMEOUT_MS, watching QEMU.
// The agent will say Hello when it is up; what is written before waits in the port for it.
Result<void> accept_agent(Launched& l, int timeout_ms);
// The Hello frame checked: our protocol, or a clear error naming the stale initramfs.
Result<void> check_hello(const Message& hello, const std::string& initrd);
// One frame from the agent within TIMEOUT_MS; QEMU or virtiofsd exiting is an error.
Result<Message> read_agent(Vm& vm, int timeout_ms);

// The host side's terminal (TTY, -1 for none): its window size as a Resize frame on CHAN.
void send_window_size(int chan, int tty);
// Drains the signalfd SFD and passes each signal on as a Signal frame on CHAN (SIGWINCH as the
// window size of TTY; SIGCHLD is the caller's own business and skipped): how the monitor and an
// exec relay stand for a process in the guest.
void forward_signals(int sfd, int chan, int tty);

// The last lines of a VM's console log (QEMU's and virtiofsd's messages too), for an error.
std::string log_tail(const std::string& log_path);

// A host helper (ip, tc), run to completion: its output, or an error with what it said.
Result<std::string> run_tool(const std::vector<std::string>& argv);

std::string join_args(const std::vector<std::string>& argv);

// QEMU, virtiofsd and virtiofsd's own children (its sandbox): every host process of a machine.
std::vector<pid_t> machine_pids(pid_t qemu, pid_t virtiofsd);

}  // namespace ns::vm
