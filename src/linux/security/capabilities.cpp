#include "linux/security/capabilities.hpp"

#include <sys/capability.h>

#include <cctype>

#include "common/log.hpp"

namespace ns::linux_security {

namespace narration {
const explain::Narration kBounding{
    "capabilities-bounding", "process.capabilities.bounding",
    "Root's power is split into about forty capabilities (CAP_NET_ADMIN, CAP_SYS_ADMIN, ...). The bounding set is "
    "the ceiling: no later execve, not even of a setuid binary, can gain a capability outside it. Everything not "
    "listed is dropped now, while we still hold CAP_SETPCAP, and KEEPCAPS keeps the permitted set across the uid "
    "switch that follows."};
const explain::Narration kCapabilities{
    "capabilities", "process.capabilities",
    "Exactly the effective, permitted and inheritable sets config.json lists are installed in one capset call. "
    "Ambient capabilities are raised last: they let a program that is not root keep those capabilities across "
    "execve."};
const explain::Narration kNoNewPrivileges{
    "no-new-privileges", "process.noNewPrivileges",
    "no_new_privs makes the kernel refuse to grant privileges at execve: setuid bits and file capabilities stop "
    "working. It can never be unset, and it allows an unprivileged process to load a seccomp filter."};
const explain::Narration kSeccompPrivileged{
    "seccomp-privileged", "linux.seccomp",
    "Without no_new_privs, loading a seccomp filter requires CAP_SYS_ADMIN, so in that case the filter is loaded "
    "here, before the capabilities go. With no_new_privs this stage does nothing and the filter comes last."};
const explain::Narration kSeccomp{
    "seccomp", "linux.seccomp",
    "A seccomp filter is a small BPF program the kernel runs on every system call of the process: it allows the "
    "call, fails it with an errno, logs it or kills the process. It is loaded as late as possible, so that only "
    "execve is left of the runtime's own calls to pass through it."};
}  // namespace narration

std::string cap_name(int cap) {
  char* n = cap_to_name(cap);
  std::string out = n ? n : "";
  cap_free(n);
  if (!out.starts_with("cap_")) return "";
  for (auto& ch : out) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

Result<CapSets> resolve_caps(const oci::Capabilities& caps, int last_cap) {
  CapSets out;
  auto mask = [&](const std::vector<std::string>& names, const char* set) -> Result<uint64_t> {
    uint64_t m = 0;
    for (auto& n : names) {
      cap_value_t v;
      if (cap_from_name(n.c_str(), &v) < 0 || !n.starts_with("CAP_"))
        return make_error("process.capabilities." + std::string(set) + ": unknown capability \"" + n + "\"");
      if (v > last_cap || v >= 64) continue;  // the kernel does not have it
      m |= uint64_t{1} << v;
    }
    return m;
  };
  out.bounding = TRY(mask(caps.bounding, "bounding"));
  out.effective = TRY(mask(caps.effective, "effective"));
  out.permitted = TRY(mask(caps.permitted, "permitted"));
  out.inheritable = TRY(mask(caps.inheritable, "inheritable"));
  out.ambient = TRY(mask(caps.ambient, "ambient"));
  return out;
}

Result<void> prepare_caps(sys::Kernel& k, const CapSets& sets, int last_cap) {
  for (int c = 0; c <= last_cap && c < 64; ++c)
    if (!(sets.bounding & (uint64_t{1} << c))) TRY(k.drop_bounding_cap(c));
  return k.set_keep_caps(true);
}

Result<void> apply_caps(sys::Kernel& k, const CapSets& sets, int last_cap) {
  TRY(k.set_caps(sets.effective, sets.permitted, sets.inheritable));
  for (int c = 0; c <= last_cap && c < 64; ++c) {
    if (!(sets.ambient & (uint64_t{1} << c))) continue;
    // The kernel raises an ambient cap only if it is also permitted and inheritable; runc
    // warns and goes on (its default spec lists ambient caps without inheritable ones).
    if (auto r = k.raise_ambient_cap(c); !r) {
      if (r.error().err != EPERM) return r;
      log::warn("cannot raise ambient capability " + std::to_string(c) + " (not in permitted and inheritable)");
    }
  }
  return k.set_keep_caps(false);
}

}  // namespace ns::linux_security
