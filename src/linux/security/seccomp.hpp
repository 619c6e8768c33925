// linux.seccomp: a syscall filter built with libseccomp.
//   - syscall names this architecture does not have are skipped, not rejected (podman's and
//     Docker's profiles name _llseek, chown32 ...);
//   - a rule whose action equals the default action is redundant and skipped (libseccomp
//     refuses it);
//   - ERRNO actions use errnoRet, else defaultErrnoRet, else EPERM.
// Loaded by the init pipeline: as late as possible (last stage) when no_new_privs is set; before
// the capabilities are dropped otherwise, because loading a filter without no_new_privs needs
// CAP_SYS_ADMIN.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace ns::linux_security {

struct SeccompArg {
  unsigned index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  int op = 0;  // enum scmp_compare
};

struct SeccompRule {
  std::vector<std::string> names;
  uint32_t action = 0;  // SCMP_ACT_*, with the errno folded in
  std::vector<SeccompArg> args;
};

struct SeccompFilter {
  uint32_t default_action = 0;
  // SCMP_ACT_NOTIFY: the unix socket of the agent that handles notified syscalls, and what to
  // tell it. The listener fd goes there, with the container's process state (seccomp-agent).
  std::string listener_path, listener_metadata;
  std::vector<uint32_t> architectures;  // SCMP_ARCH_*
  std::vector<std::string> flags;
  std::vector<SeccompRule> rules;
};

// Parses linux.seccomp; errors name the field. SCMP_ACT_NOTIFY needs listenerPath.
Result<SeccompFilter> parse_seccomp(const nlohmann::json& j);

// What the parser accepts, for `features`.
struct SeccompFeatures {
  std::vector<std::string> actions, operators, archs, flags;
};
SeccompFeatures seccomp_features();

// Builds and loads the filter into the calling thread (libseccomp). With SCMP_ACT_NOTIFY rules the
// listener fd lands in *LISTENER (when LISTENER is given).
Result<void> load_seccomp(const SeccompFilter& f, UniqueFd* listener = nullptr);

// Hands the listener fd to the agent at PATH (SOCK_STREAM, SCM_RIGHTS) with STATE_JSON, the
// runtime-spec's containerProcessState: {ociVersion, fds: ["seccompFd"], pid, metadata, state}.
Result<void> send_to_agent(const std::string& path, int listener_fd, const std::string& state_json);

}  // namespace ns::linux_security
