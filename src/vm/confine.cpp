#include "vm/confine.hpp"

#include <linux/capability.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <seccomp.h>

#include <algorithm>

#include "linux/security/seccomp.hpp"

namespace ns::vm {

namespace {

// What neither QEMU nor virtiofsd ever calls: reaching other processes, the kernel's programs
// and modules, keys, swap, the kernel log.
const std::vector<std::string> kNeverCalled = {
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    "bpf", "perf_event_open", "userfaultfd",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "add_key", "request_key", "keyctl",
    "swapon", "swapoff", "reboot", "syslog", "acct", "quotactl", "iopl", "ioperm", "lookup_dcookie",
};

// What QEMU does not call either (virtiofsd does: its sandbox is namespaces and a pivot_root).
const std::vector<std::string> kQemuAlsoDenied = {
    "mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
    "mount_setattr", "unshare", "setns", "open_by_handle_at", "name_to_handle_at",
};

}  // namespace

uid_t qemu_id(pid_t qemu_pid) { return kQemuIdBase + static_cast<uid_t>(qemu_pid); }

std::string qemu_runas(pid_t qemu_pid) {
  std::string id = std::to_string(qemu_id(qemu_pid));
  return id + ":" + id;
}

Confinement qemu_confinement() {
  Confinement c;
  c.caps = {CAP_SETUID, CAP_SETGID, CAP_SYS_CHROOT};
  c.denied = kNeverCalled;
  c.denied.insert(c.denied.end(), kQemuAlsoDenied.begin(), kQemuAlsoDenied.end());
  return c;
}

Confinement virtiofsd_confinement() {
  Confinement c;
  c.caps = {CAP_SYS_ADMIN, CAP_SETPCAP, CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
            CAP_FSETID, CAP_SETUID, CAP_SETGID, CAP_SETFCAP, CAP_SYS_RESOURCE};
  c.denied = kNeverCalled;
  return c;
}

Result<void> confine(sys::Kernel& k, const Confinement& c) {
  if (c.own_network) TRY(k.unshare(CLONE_NEWNET));
  // The bounding set: every capability this kernel has that C does not keep.
  for (int cap = 0; cap <= k.last_cap(); ++cap)
    if (std::find(c.caps.begin(), c.caps.end(), cap) == c.caps.end()) TRY(k.drop_bounding_cap(cap));
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return sys_error("prctl PR_CAP_AMBIENT_CLEAR_ALL", {});
  cap_t caps = cap_get_proc();
  if (!caps) return sys_error("cap_get_proc", {});
  int rc = cap_clear_flag(caps, CAP_INHERITABLE);
  if (rc == 0) rc = cap_set_proc(caps);
  int err = errno;
  cap_free(caps);
  if (rc < 0) return sys_error("cap_set_proc (inheritable cleared)", {}, err);
  TRY(k.set_no_new_privs());
  linux_security::SeccompFilter f;
  f.default_action = SCMP_ACT_ALLOW;
  f.rules.push_back({c.denied, static_cast<uint32_t>(SCMP_ACT_ERRNO(EPERM)), {}});
  return linux_security::load_seccomp(f);
}

}  // namespace ns::vm
