#include "linux/security/lsm.hpp"

#include <unistd.h>

#include "common/file.hpp"

namespace ns::linux_security {

namespace narration {
const explain::Narration kLabels{
    "lsm-labels", "process.apparmorProfile, process.selinuxLabel",
    "AppArmor and SELinux confine a process by a policy the host's administrator loaded, on top of everything "
    "else. The profile or label is set to take effect at the next execve, so it is the container's program that "
    "runs confined, not the runtime's last steps."};
}  // namespace narration

bool apparmor_enabled() {
  auto v = read_file("/sys/module/apparmor/parameters/enabled");
  return v && v->starts_with("Y") && ::access("/sys/kernel/security/apparmor", F_OK) == 0;
}

bool selinux_enabled() { return ::access("/sys/fs/selinux/enforce", F_OK) == 0; }

Result<void> check_labels(const oci::Spec& spec) {
  if (spec.process) {
    if (!spec.process->apparmor_profile.empty() && !apparmor_enabled())
      return make_error("config.json: process.apparmorProfile: apparmor profile \"" + spec.process->apparmor_profile +
                        "\" is specified, but AppArmor is not enabled on this host");
    if (!spec.process->selinux_label.empty() && !selinux_enabled())
      return make_error("config.json: process.selinuxLabel: selinux label is specified in config, but selinux is "
                        "disabled or not supported");
  }
  if (spec.linux) {
    if (!spec.linux->mount_label.empty() && !selinux_enabled())
      return make_error("config.json: linux.mountLabel: selinux label is specified in config, but selinux is "
                        "disabled or not supported");
    if (!spec.linux->intel_rdt.is_null())
      return make_error(::access("/sys/fs/resctrl/schemata", F_OK) == 0
                            ? "config.json: linux.intelRdt: Intel RDT is not supported by ns-runtime"
                            : "config.json: linux.intelRdt: Intel RDT is not enabled on this host (no resctrl "
                              "filesystem at /sys/fs/resctrl)");
  }
  return {};
}

Result<void> apply_labels(sys::Kernel& k, const oci::Process& p) {
  if (!p.apparmor_profile.empty()) {
    // The LSM-specific file of newer kernels, else the shared one AppArmor also reads.
    // Written through the verified procfs (Kernel::write_procfs), by pid: /proc/self is a symlink.
    std::string self = std::to_string(::getpid());
    std::string file = ::access("/proc/self/attr/apparmor/exec", F_OK) == 0 ? self + "/attr/apparmor/exec"
                                                                             : self + "/attr/exec";
    TRY(k.write_procfs(file, "exec " + p.apparmor_profile));
  }
  if (!p.selinux_label.empty()) TRY(k.write_procfs(std::to_string(::getpid()) + "/attr/exec", p.selinux_label));
  return {};
}

}  // namespace ns::linux_security
