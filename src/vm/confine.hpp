// The least privilege QEMU and virtiofsd run with (docs/security.md, "VM mode: what QEMU and
// virtiofsd can reach"). Both are forked by the runtime as root; before they execute:
//   - the bounding set is cut to the capabilities each needs (root's execve gets no others);
//   - inheritable and ambient are cleared, no_new_privs is set (no setuid bit or file capability
//     ever raises them);
//   - a seccomp filter fails with EPERM what neither ever calls and a compromised one would:
//     ptrace, other processes' memory, bpf, perf, module and kexec loading, keyrings, swap,
//     reboot, the kernel log (and for QEMU, which needs no mount of its own: mounts, namespaces,
//     file handles). It stacks under QEMU's own -sandbox and virtiofsd's own allowlist.
// QEMU then opens what its command line names (as root with CAP_SETUID, CAP_SETGID and
// CAP_SYS_CHROOT only) and, before the guest's first instruction, chroots to an empty directory
// and becomes a uid and gid of its own (-chroot, -runas): kQemuIdBase + its pid, unique while it
// runs, no supplementary groups, no capabilities left. A VM without NICs gets its QEMU an empty
// network namespace: nothing on the host's network (its loopback, abstract unix sockets) is
// reachable from it; one with NICs has it in the container's network namespace. virtiofsd keeps
// root's uid and the capabilities that serving files of any owner takes; its own sandbox (new
// mount, pid and network namespaces, pivot_root into the share) limits it to the share's files.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "sys/kernel.hpp"

namespace ns::vm {

// QEMU's uid and gid: kQemuIdBase + its pid (pid_max is at most 2^22). The range lies above
// systemd's container ranges (0x80000..0x6FFFFFFF) and below its foreign range and 2^31; the
// runtime owns no file there, and a pid names one live process, so no two QEMUs share a uid.
inline constexpr uid_t kQemuIdBase = 0x70000000;
uid_t qemu_id(pid_t qemu_pid);
// "UID:GID" as -runas takes it.
std::string qemu_runas(pid_t qemu_pid);

struct Confinement {
  std::vector<int> caps;            // the bounding set: every other capability is dropped
  std::vector<std::string> denied;  // system calls that fail with EPERM
  int runas_arg = -1;               // the argv index -runas takes: filled with qemu_runas(own pid)
  bool own_network = false;         // a network namespace of its own, empty (a VM without NICs)
};

// QEMU: CAP_SETUID, CAP_SETGID, CAP_SYS_CHROOT (for -runas and -chroot).
Confinement qemu_confinement();
// virtiofsd: what its sandbox (namespaces, mounts, pivot_root) and serving files of any owner
// take: CAP_SYS_ADMIN (until its sandbox is up; it drops it itself), CAP_SETPCAP (to drop it),
// CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_SETUID, CAP_SETGID,
// CAP_SETFCAP, CAP_SYS_RESOURCE (its file limit). Not CAP_MKNOD (-o modcaps=-mknod).
Confinement virtiofsd_confinement();

// In the forked child, before execve: an empty network namespace (when asked), the bounding
// set, inheritable and ambient cleared, no_new_privs, the filter. An error names the step and
// carries errno. The namespace, bounding set and no_new_privs go through K (the seam);
// inheritable and ambient are cleared directly.
Result<void> confine(sys::Kernel& k, const Confinement& c);

}  // namespace ns::vm
