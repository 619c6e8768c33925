#include "linux/security/capabilities.hpp"

#include <sys/capability.h>

#include "common/log.hpp"

namespace ns::linux_security {

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
