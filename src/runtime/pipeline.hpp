// The create pipeline of the namespace back end, in order. Each stage has a name (errors and
// logs carry it) and the reason it sits where it does. The runtime side runs before and around
// clone(); the init side runs in the cloned child, the future container init.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "explain/narration.hpp"
#include "linux/fs/rootfs.hpp"
#include "linux/process/attributes.hpp"
#include "linux/security/capabilities.hpp"
#include "linux/security/seccomp.hpp"
#include "oci/spec.hpp"
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
// Runtime side: prints an ExplainCall / ExplainNote / ExplainStage message from ROLE; false
// for any other message.
bool relay_narration(const struct Message& m, const char* role);

// SCMP_ACT_NOTIFY: sends LISTENER_FD and the container process state (runtime-spec
// containerProcessState: pid, listenerMetadata, the container state) to linux.seccomp.listenerPath.
Result<void> hand_to_seccomp_agent(const nlohmann::json& seccomp, pid_t pid, const std::string& state_json,
                                   int listener_fd);

// The stages an `exec`'d process runs after joining the container's namespaces: the process
// part of the init pipeline (console, rlimits, capabilities, user, cwd, no_new_privs).
std::span<const InitStage> exec_stages();
Result<void> run_exec_stages(InitContext& ctx);

}  // namespace ns::runtime
