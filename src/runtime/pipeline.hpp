// The create pipeline of the namespace back end, in order. Each stage has a name (errors and
// logs carry it) and the reason it sits where it does. The runtime side runs before and around
// clone(); the init side runs in the cloned child, the future container init.
#pragma once

#include <sched.h>

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "explain/narration.hpp"
#include "linux/cgroup/cgroup.hpp"
#include "linux/cgroup/resources.hpp"
#include "linux/fs/rootfs.hpp"
#include "linux/process/attributes.hpp"
#include "linux/security/capabilities.hpp"
#include "linux/security/seccomp.hpp"
#include "oci/spec.hpp"
#include "runtime/backend.hpp"
#include "runtime/sync.hpp"
#include "sys/kernel.hpp"

namespace ns::runtime {

// Everything the init side needs, prepared by the runtime before clone.
struct InitContext {
  sys::Kernel* k = nullptr;
  const oci::Spec* spec = nullptr;
  linux_fs::RootfsContext rootfs;
  UniqueFd fifo_fd;       // the exec fifo, opened read-write by the runtime; read after the stages
  int sync_fd = -1;       // child end of the sync socketpair
  std::string container_id;
  bool new_keyring = true;  // --no-new-keyring: false
  pid_t host_pid = 0;     // the child's pid as the host sees it (for the hooks' state)
  // Filled in while the stages run:
  UniqueFd root_fd;
  std::optional<linux_security::CapSets> caps;
  std::optional<linux_security::SeccompFilter> seccomp;
  std::optional<linux_process::Attributes> attrs;
  // --explain: where a finished stage is reported (the child sends it to the runtime).
  std::function<void(const explain::Narration&, uint64_t start_ns, uint64_t duration_ns, bool ok)> on_stage;
  // --explain: a plain-words remark on the current stage (kept capabilities, ...).
  std::function<void(const std::string&)> on_note;
  // Where the child stops for the runtime (over the sync channel, set by the init): until its
  // cgroup's directories are made (before the cgroup mounts), until it is in its cgroup (before
  // the device nodes, or before a new cgroup namespace), and while the runtime runs the
  // prestart/createRuntime hooks (mounts done, before pivot_root). Unset (as in the unit
  // tests), there is nothing to wait for.
  std::function<Result<void>()> await_cgroup;
  std::function<Result<void>()> enter_cgroup;
  std::function<Result<void>()> await_runtime_hooks;
  // Once the root is in place (after pivot_root) the child needs nothing more from the runtime:
  // it asks it to save the state and commit now (Msg::SaveState), and finishes its stages
  // meanwhile; the commit's Go is read after Ready. Unset (the unit tests): nothing is asked.
  std::function<Result<void>()> ask_commit;
  // The runtime makes the network namespace (linux_ns::NetnsThread): the child does not unshare
  // it, and enters it when await_netns is first called (before a sysfs mount, at the latest
  // before the cgroup wait).
  bool netns_by_runtime = false;
  std::function<Result<void>()> await_netns;
  // linux_process::CpuPlacement: the child sets up on OWN_CPU (the runtime's, where it was
  // born; pinned again by itself once in its cgroup: a v1 cpuset join resets it) and takes
  // AFFINITY, the runtime's CPUs before, back for its process stages. Unset: the child is left
  // where it is.
  std::optional<cpu_set_t> affinity;
  int own_cpu = -1;
};

// A stage: what it is for (its narration, owned by the mechanism's module) and what it does.
struct InitStage {
  const explain::Narration* narration;
  Result<void> (*run)(InitContext&);
  [[nodiscard]] const char* name() const { return narration->stage; }
};

// The init side, in order: what `ns-runtime create` makes the child do before it blocks on the
// exec fifo. Unit tests run this same list on a recording fake kernel.
std::span<const InitStage> init_stages();

// Runs the stages in order; an error carries the stage name.
Result<void> run_init_stages(InitContext& ctx);

// --explain inside a child (init, or exec's processes): wraps ctx.k in a narrating kernel whose
// calls, and ctx.on_stage's stages, travel to the runtime over the sync socket. HOLDER keeps
// the wrapper alive.
void narrate_over_sync(InitContext& ctx, std::unique_ptr<sys::Kernel>& holder);
// Runtime side: prints an ExplainCall / ExplainNote / ExplainStage message from ROLE (or from
// the role the message names in error.path: VM mode's guest); false for any other message.
bool relay_narration(const struct Message& m, const char* role);

// The sync channel's --explain messages, for a child that narrates itself (an init, VM mode's
// monitor): a kernel call or note (TYPE ExplainCall / ExplainNote), a finished stage.
void send_text_over_sync(int sync, Msg type, const std::string& text);
void send_stage_over_sync(int sync, const explain::Narration& n, uint64_t start, uint64_t duration, bool ok);

// The child create made (the init; VM mode's monitor), killed and reaped if create fails
// before it is disarmed.
struct ChildGuard {
  pid_t pid;
  bool armed = true;
  explicit ChildGuard(pid_t p) : pid(p) {}
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  ~ChildGuard();
};

// prestart and createRuntime hooks, in the runtime's namespaces, with PID as the container's
// pid (the init; VM mode's monitor), in either back end.
Result<void> run_runtime_hooks(const oci::Spec& spec, const CreateOptions& opts, pid_t pid);

// The container's pty master, sent by the child that made it (init; VM mode's monitor): to the
// --console-socket, or kept in OUT for `run` attached.
Result<void> hand_console(const CreateOptions& opts, UniqueFd master, Created& out);

// The exec fifo, shared by both back ends: made 0600 in the state dir by create, opened
// read-write for whoever blocks on it until `start` (the init; VM mode's monitor), and written
// by start (one byte, after unlinking it). START_RUNS_HOOKS (poststart hooks in config.json)
// sets the fifo's sticky bit, which keeps `start` out of the entry point's plain path
// (start_entry.c) and in main(), which runs them.
Result<void> make_exec_fifo(const std::string& fifo, bool start_runs_hooks);
Result<UniqueFd> open_exec_fifo(sys::Kernel& k, const std::string& fifo);
Result<void> release_exec_fifo(const std::string& fifo, const std::string& id);

// SCMP_ACT_NOTIFY: sends LISTENER_FD and the container process state (runtime-spec
// containerProcessState: pid, listenerMetadata, the container state) to linux.seccomp.listenerPath.
Result<void> hand_to_seccomp_agent(const nlohmann::json& seccomp, pid_t pid, const std::string& state_json,
                                   int listener_fd);

// The stages an `exec`'d process runs after joining the container's namespaces: the process
// part of the init pipeline (console, rlimits, capabilities, user, cwd, no_new_privs).
std::span<const InitStage> exec_stages();
Result<void> run_exec_stages(InitContext& ctx);

// The container's cgroup on the host, made and limited before the container's first process is
// in it: planned (layout, path) before clone; made before clone where the child is born in it
// (cgroup v2, CLONE_INTO_CGROUP; VM mode), else while the child sets up its mounts, and the
// child joined before it goes past them. Removed again when dropped before `kept` is set (a
// create that failed later leaves no cgroup).
struct ContainerCgroup {
  sys::Kernel* k = nullptr;
  linux_cgroup::Layout layout;
  linux_cgroup::Cgroup cg;
  bool active = false;  // false: no cgroup at all (no hierarchy; or no permission, without root)
  bool controllers_checked = false;  // linux_cgroup::check_controllers ran (warned) already
  bool kept = false;
  std::vector<std::string> premade;  // made ahead by create_one, for the child to be born in
  // Until create() has taken them: waits for directories someone else is making ahead and adds
  // those made to PREMADE (so that a create that fails early removes them too).
  std::function<void()> settle;
  ContainerCgroup() = default;
  ContainerCgroup(const ContainerCgroup&) = delete;
  ContainerCgroup& operator=(const ContainerCgroup&) = delete;
  ~ContainerCgroup();
};
Result<std::unique_ptr<ContainerCgroup>> plan_container_cgroup(sys::Kernel& k, linux_cgroup::Layout layout,
                                                               const std::string& cgroups_path, const std::string& id,
                                                               bool systemd);
// BORN: a child already in the cgroup's v2 directory (made ahead), which create() allows.
// MADE, when given, is told as soon as the directories are there (or that there is no cgroup:
// false), before the limits are written.
Result<void> make_planned_cgroup(ContainerCgroup& c, const linux_cgroup::Resources& resources, pid_t born = 0,
                                 const std::function<Result<void>(bool active)>& made = {},
                                 std::span<const linux_cgroup::MadeAhead> ahead = {});
// Both at once.
Result<std::unique_ptr<ContainerCgroup>> make_container_cgroup(sys::Kernel& k, const linux_cgroup::Resources& resources,
                                                               const std::string& cgroups_path, const std::string& id,
                                                               bool systemd);

}  // namespace ns::runtime
