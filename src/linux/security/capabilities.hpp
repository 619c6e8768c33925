// Capabilities: the five sets of process.capabilities, and no_new_privs.
//   - the bounding set is cut first, while we still hold CAP_SETPCAP;
//   - PR_SET_KEEPCAPS keeps the permitted set across the switch to a non-root uid;
//   - effective, permitted and inheritable are set after the uid switch, ambient last (it
//     needs the cap in permitted and inheritable);
//   - no_new_privs is set last: from then on execve can never gain privileges (setuid bits,
//     file caps).
// An absent process.capabilities leaves the process's capabilities as they are, as runc does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "explain/narration.hpp"
#include "oci/spec.hpp"
#include "sys/kernel.hpp"

namespace ns::linux_security {

struct CapSets {
  uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
};

// 5 -> "CAP_KILL"; "" for a number libcap has no name for.
std::string cap_name(int cap);

// "CAP_KILL" -> 5; unknown names are an error naming the set and the name. Capabilities the
// running kernel does not have (beyond LAST_CAP) are left out.
Result<CapSets> resolve_caps(const oci::Capabilities& caps, int last_cap);

// Before the uid switch: drop every cap not in the bounding set, keep caps across setuid.
Result<void> prepare_caps(sys::Kernel& k, const CapSets& sets, int last_cap);
// After the uid switch: the effective/permitted/inheritable sets, then ambient.
Result<void> apply_caps(sys::Kernel& k, const CapSets& sets, int last_cap);

namespace narration {
extern const explain::Narration kBounding, kCapabilities, kNoNewPrivileges, kSeccompPrivileged, kSeccomp;
}

}  // namespace ns::linux_security
