// What a VM container's machine is made of, decided on the host before anything starts: the
// guest's view of config.json and the host directories it shares, the accelerator, the size of
// the guest, and the QEMU and virtiofsd command lines. Pure functions (apart from the probes),
// unit-tested without QEMU.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "linux/cgroup/resources.hpp"

namespace ns::vm {

// A host path the guest sees under /run/share/NAME through virtio-fs.
struct Share {
  std::string host_path;
  std::string name;  // "rootfs", "m0", "m1" ...
  bool readonly = false;
  bool recursive = false;  // rbind
  bool is_dir = true;
};

struct GuestPlan {
  nlohmann::json config;      // config.json as the agent applies it inside the guest
  std::vector<Share> shares;  // the rootfs first, then one per bind mount
  std::string netns_path;     // the host network namespace config.json names (podman, CNI, nsrun)
};

// The rootfs and every bind mount's source become shares, their paths in CONFIG rewritten to
// the guest's; namespaces given by path (the host's) become new ones (a network namespace's path
// is kept in NETNS_PATH: its interfaces become the guest's NICs); hooks stay on the host.
// ROOTFS is the absolute host path of root.path.
Result<GuestPlan> plan_guest(const nlohmann::json& config, const std::string& bundle, const std::string& rootfs);

inline constexpr uint64_t kDefaultGuestMiB = 256;  // no memory limit
inline constexpr uint64_t kMinGuestMiB = 128;
inline constexpr uint64_t kGuestKernelMiB = 64;   // on top of the limit: the guest kernel and the agent
inline constexpr uint64_t kHostOverheadMiB = 256;  // on top of the guest: QEMU (TCG's code cache), virtiofsd

struct Sizing {
  uint64_t guest_mib = kDefaultGuestMiB;
  int vcpus = 1;
};
// The memory limit sizes the guest (limit + kGuestKernelMiB, at least kMinGuestMiB); the CPU
// quota gives the vCPUs (rounded up, at most HOST_CPUS).
Sizing size_machine(const linux_cgroup::Resources& r, int host_cpus);
// What the host cgroup holding QEMU, virtiofsd and the monitor is limited to: memory (the
// guest's plus kHostOverheadMiB), CPU time and CPU sets. The rest (pids, devices, I/O ...)
// applies inside the guest, where the container's processes are.
linux_cgroup::Resources host_resources(const linux_cgroup::Resources& r, const Sizing& s);

// --vm-accel: "kvm" when the host has working hardware KVM (kvm_intel or kvm_amd loaded and
// /dev/kvm usable; a /dev/kvm alone proves nothing: PVM's cannot run a stock kernel), else
// "tcg". WANT is auto, kvm or tcg; kvm where it does not work is an error.
Result<std::string> choose_accel(const std::string& want);

// The guest kernel and the agent's initramfs: $NS_VM_DIR, else vm/ beside the binary, else
// the installed directory.
struct Assets {
  std::string dir, kernel, initrd;
};
Result<Assets> find_assets();

// The host's TSC in kHz (/proc/cpuinfo), for tsc_early_khz: without it about one boot in ten
// hangs in timer calibration under TCG.
uint64_t host_tsc_khz();

struct MachineConfig {
  std::string qemu;             // path of qemu-system-x86_64
  Assets assets;
  std::string accel = "tcg";
  Sizing size;
  std::string virtiofs_socket;  // virtiofsd listens here
  std::string agent_socket;     // the monitor listens here; QEMU connects the virtserialport
  std::string serial_log;       // the guest console
  std::string qmp_socket;       // QEMU listens here for QMP (pause: stop, resume: cont)
  std::string jail_dir;         // empty: QEMU chroots here once it has opened the rest (-chroot)
  uint64_t tsc_khz = 0;
  std::vector<std::string> nic_macs;  // one virtio-net NIC each, on the tap fds 3, 4, ... QEMU gets
};
// QEMU's command line. Its -runas value is kRunasAtFork: the uid and gid are QEMU's own pid's
// (vm/confine.hpp), known once it is forked.
inline constexpr const char* kRunasAtFork = "UID:GID";
std::vector<std::string> qemu_argv(const MachineConfig& m);
// virtiofsd on an inherited listening socket (FD), sharing SOURCE.
std::vector<std::string> virtiofsd_argv(const std::string& virtiofsd, int fd, const std::string& source);

// Finds PROGRAM in $PATH (or takes it as a path); the error names the Debian package.
Result<std::string> find_program(const std::string& program, const std::string& package);
// Debian's QEMU ships the C virtiofsd outside $PATH: $NS_VIRTIOFSD, /usr/lib/qemu/virtiofsd,
// /usr/libexec/virtiofsd, then $PATH.
Result<std::string> find_virtiofsd();

}  // namespace ns::vm
