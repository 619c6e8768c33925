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
  std::vector<uint32_t> architectures;  // SCMP_ARCH_*
  std::vector<std::string> flags;
  std::vector<SeccompRule> rules;
};

// Parses linux.seccomp; errors name the field. SCMP_ACT_NOTIFY is refused (not supported yet).
Result<SeccompFilter> parse_seccomp(const nlohmann::json& j);

// What the parser accepts, for `features`.
struct SeccompFeatures {
  std::vector<std::string> actions, operators, archs, flags;
};
SeccompFeatures seccomp_features();

// Builds and loads the filter into the calling thread (libseccomp).
Result<void> load_seccomp(const SeccompFilter& f);

}  // namespace ns::linux_security
