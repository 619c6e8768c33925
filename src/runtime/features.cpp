#include "runtime/features.hpp"

#include "linux/fs/mount_options.hpp"
#include "linux/security/capabilities.hpp"
#include "linux/security/seccomp.hpp"
#include "oci/spec.hpp"
#include "sys/kernel.hpp"
#include "version.hpp"

namespace ns::runtime {

nlohmann::json features() {
  using json = nlohmann::json;
  json caps = json::array();
  for (int c = 0; c <= sys::real_kernel().last_cap(); ++c) {
    if (std::string n = linux_security::cap_name(c); !n.empty()) caps.push_back(n);
  }
  json namespaces = json::array();
  for (oci::NsType t : oci::kAllNamespaces) namespaces.push_back(oci::ns_type_name(t));
  json hooks = json::array();
  for (const oci::HookKind& k : oci::kHookKinds) hooks.push_back(k.name);
  auto sc = linux_security::seccomp_features();
  return json{
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", oci::kOciVersion},
      {"hooks", hooks},
      {"mountOptions", linux_fs::known_mount_options()},
      {"linux",
       {{"namespaces", namespaces},
        {"capabilities", caps},
        {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", true}}},
        {"seccomp",
         {{"enabled", true},
          {"actions", sc.actions},
          {"operators", sc.operators},
          {"archs", sc.archs},
          {"knownFlags", sc.flags},
          {"supportedFlags", sc.flags}}},
        {"apparmor", {{"enabled", true}}},  // applied where the host has it (linux/security/lsm)
        {"selinux", {{"enabled", true}}},
        {"intelRdt", {{"enabled", false}}},
        {"mountExtensions", {{"idmap", {{"enabled", false}}}}}}},
      // The back ends a container may ask for with the annotation org.nano-sandbox.runtime.
      {"annotations", {{"org.nano-sandbox.version", NS_VERSION}, {"org.nano-sandbox.runtime", "namespaces,vm"}}},
  };
}

}  // namespace ns::runtime
