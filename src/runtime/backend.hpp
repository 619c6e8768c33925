// The isolation back end: what turns a validated spec into a blocked init and later drives it.
// The namespace back end (Linux namespaces + cgroups + pivot_root) is the first; VM mode (a
// microVM with a guest agent) is the second implementation of the same interface.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "linux/process/passed_fds.hpp"
#include "oci/spec.hpp"
#include "state/state.hpp"

namespace ns::runtime {

// Work a back end starts as soon as the spec is read, before the runtime makes the state
// directory, because it takes a while and needs nothing else (the namespace back end's network
// namespace thread). create() takes it over; dropped unused, it stops and leaves nothing.
struct EarlyWork {
  virtual ~EarlyWork() = default;
};

struct CreateOptions {
  std::string id;
  std::string bundle;          // absolute
  std::string console_socket;  // may be empty
  int preserve_fds = 0;
  int listen_fds = 0;  // LISTEN_FDS, when LISTEN_PID is ours (linux_process::listen_fds_for)
  // 3 .. 3+listen_fds+preserve_fds-1, claimed before the runtime opened anything (null: none).
  std::shared_ptr<const linux_process::PassedFds> passed_fds;
  bool no_pivot = false;
  bool no_new_keyring = false;
  bool systemd_cgroup = false;
  bool keep_console = false;   // `run` attached with a terminal: hand the pty master back
  bool vm = false;             // VM mode (--vm, ns-runtime-vm); also annotation org.nano-sandbox.runtime=vm
  std::string vm_accel = "auto";  // --vm-accel: auto, kvm, tcg
  // Called by a back end once the state's pid, start time and cgroup are known, while the init
  // still sets up: the runtime writes the state file then, off the path to Ready.
  std::function<void(const state::State&)> state_known;
  // Saves the state (the staged file renamed into place). A back end whose init can say when it
  // needs nothing more from the runtime calls it then, before Ready, and commits at once
  // (Created::committed); otherwise the runtime calls it after create().
  std::function<Result<void>()> save_state;
  // What start_early() began for this create, if anything.
  std::shared_ptr<EarlyWork> early;
  // `run`: the init is to be started as soon as it is committed (Created::start_at_commit). A
  // back end that can do that needs no exec fifo for it.
  bool start_at_commit = false;
  // An attached `run` that deletes the container when it exits: Created::mount_ns is to hold
  // the container's mount namespace (linux_ns::HeldNamespace says why).
  bool hold_mount_ns = false;
};

struct ExecOptions {
  std::string console_socket;
  std::string pid_file;
  int preserve_fds = 0;
  std::shared_ptr<const linux_process::PassedFds> passed_fds;  // as CreateOptions::passed_fds
  bool detach = false;
};

struct Created {
  pid_t pid = 0;
  UniqueFd console_master;  // when keep_console
  UniqueFd sync;            // to the blocked init, until commit()
  // `run`: commit() starts the init as well (the message that tells the init its state is saved
  // tells it to go on; the back end made no exec fifo for it), so no round trip through a fifo.
  // Set by the back end's create when it can; STARTED says whether commit() did start it, else
  // start() is still to be called.
  bool start_at_commit = false;
  bool started = false;
  // The state was saved and the commit sent during create() (CreateOptions::save_state):
  // commit() has nothing left to send.
  bool committed = false;
  // The init's mount namespace (CreateOptions::hold_mount_ns), when the back end has one and
  // could open it.
  UniqueFd mount_ns;
};

class Backend {
 public:
  virtual ~Backend() = default;
  [[nodiscard]] virtual const char* name() const = 0;

  // Starts what create() will need and can begin before the state directory exists; null when
  // there is nothing to start.
  virtual Result<std::shared_ptr<EarlyWork>> start_early(const oci::Spec&) { return nullptr; }
  // Sets the container up to a blocked init (the `created` state). Fills the state fields it
  // owns (pid, pid start, cgroup). On failure nothing it made is left: no process, no cgroup.
  virtual Result<Created> create(const CreateOptions& opts, const oci::Spec& spec, state::State& st) = 0;
  // Tells the blocked init that the state is saved: from now on it outlives the runtime.
  // Until then the runtime's death takes the half-made container with it. With
  // c.start_at_commit it may start the init too (then c.started).
  virtual Result<void> commit(Created& c) = 0;
  // Releases the blocked init so it execs the user process.
  virtual Result<void> start(const state::State& st) = 0;
  virtual Result<void> kill(const state::State& st, int signal, bool all) = 0;
  // Every process of the container.
  virtual Result<std::vector<pid_t>> pids(const state::State& st) = 0;
  // Runs PROCESS inside the running container: its namespaces, its cgroup. Detached: returns 0
  // once the process runs; attached: its exit status.
  virtual Result<int> exec(const state::State& st, const ExecOptions& opts, const oci::Process& process) = 0;
  // Freezes (pause) or thaws (resume) every process of the container.
  virtual Result<void> freeze(const state::State& st, bool frozen) = 0;
  // Applies linux.resources JSON to the running container; zero values leave a setting as it is.
  virtual Result<void> update(const state::State& st, const nlohmann::json& resources) = 0;
  // Kills whatever is left (SIGKILL), waits for it, removes the cgroup. INIT_REAPED: the caller
  // has waited for the init itself (`run`), so it is not looked for.
  virtual Result<void> destroy(const state::State& st, bool init_reaped) = 0;
};

Backend& namespace_backend(const std::string& state_root);
// VM mode: the container in a microVM of its own (QEMU), set up inside by the guest agent.
Backend& vm_backend(const std::string& state_root);

// The annotation that asks for VM mode per container, and the one `state` shows the
// accelerator in.
inline constexpr const char* kRuntimeAnnotation = "org.nano-sandbox.runtime";
inline constexpr const char* kVmAccelAnnotation = "org.nano-sandbox.vm.accel";

}  // namespace ns::runtime
