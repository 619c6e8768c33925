// Linux security modules: the AppArmor profile (process.apparmorProfile) and the SELinux labels
// (process.selinuxLabel, linux.mountLabel) of a container. Applied where the host has the module
// enabled; asked for on a host without it, they are an error at create, as runc reports them,
// never silently dropped. The labels are set "on exec": they take effect at the container's
// execve, so the runtime's own last steps are not confined by them.
#pragma once

#include "common/error.hpp"
#include "explain/narration.hpp"
#include "oci/spec.hpp"
#include "sys/kernel.hpp"

namespace ns::linux_security {

[[nodiscard]] bool apparmor_enabled();
[[nodiscard]] bool selinux_enabled();

// At create: the labels config.json asks for can be applied here (and linux.intelRdt, which
// ns-runtime does not support, is refused).
Result<void> check_labels(const oci::Spec& spec);

// In the child, after pivot_root: the exec labels of PROCESS.
Result<void> apply_labels(sys::Kernel& k, const oci::Process& process);

namespace narration {
extern const explain::Narration kLabels;
}

}  // namespace ns::linux_security
