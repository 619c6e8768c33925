#include "vm/machine.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "common/fd.hpp"
#include "common/file.hpp"
#include "linux/security/exe_guard.hpp"
#include "vm/protocol.hpp"

#ifndef NS_VM_INSTALL_DIR
#define NS_VM_INSTALL_DIR "/usr/local/lib/nano-sandbox/vm"
#endif

namespace ns::vm {

namespace {

bool is_bind(const nlohmann::json& m, bool* recursive, bool* readonly) {
  bool bind = m.value("type", "") == "bind";
  *recursive = false;
  *readonly = false;
  if (auto o = m.find("options"); o != m.end() && o->is_array())
    for (auto& opt : *o) {
      if (!opt.is_string()) continue;
      const auto& s = opt.get_ref<const std::string&>();
      if (s == "bind") bind = true;
      if (s == "rbind") bind = *recursive = true;
      if (s == "ro") *readonly = true;
      if (s == "rw") *readonly = false;
    }
  return bind;
}

}  // namespace

Result<GuestPlan> plan_guest(const nlohmann::json& config, const std::string& bundle, const std::string& rootfs) {
  GuestPlan plan;
  plan.config = config;
  nlohmann::json& c = plan.config;
  bool root_ro = c.contains("root") && c["root"].value("readonly", false);
  plan.shares.push_back({rootfs, "rootfs", root_ro, false, true});
  c["root"]["path"] = std::string(kGuestShare) + "/rootfs";
  if (auto ms = c.find("mounts"); ms != c.end() && ms->is_array()) {
    for (size_t i = 0; i < ms->size(); ++i) {
      nlohmann::json& m = (*ms)[i];
      bool recursive, readonly;
      if (!is_bind(m, &recursive, &readonly)) continue;  // proc, tmpfs, sysfs ...: made inside
      std::string source = m.value("source", "");
      if (source.empty()) return make_error("mounts[" + std::to_string(i) + "]: a bind mount needs a source");
      if (source[0] != '/') source = join_path(bundle, source);
      struct stat st{};
      if (::stat(source.c_str(), &st) < 0) return sys_error("bind mount source", source);
      std::string name = "m" + std::to_string(i);
      plan.shares.push_back({source, name, readonly, recursive, S_ISDIR(st.st_mode)});
      m["source"] = std::string(kGuestShare) + "/" + name;
    }
  }
  // The host's namespaces cannot be joined from inside a VM: the guest makes new ones.
  if (c.contains("linux") && c["linux"].contains("namespaces") && c["linux"]["namespaces"].is_array())
    for (auto& n : c["linux"]["namespaces"]) {
      if (n.value("type", "") == "network") plan.netns_path = n.value("path", "");
      n.erase("path");
    }
  // Hooks are the engine's programs, on the host: they run there (prestart, poststart ...).
  c.erase("hooks");
  // Inside the guest the container is made with the namespace back end.
  if (c.contains("annotations") && c["annotations"].is_object()) c["annotations"]["org.nano-sandbox.runtime"] = "namespaces";
  return plan;
}

Sizing size_machine(const linux_cgroup::Resources& r, int host_cpus) {
  Sizing s;
  if (r.memory_limit && *r.memory_limit > 0) {
    uint64_t mib = (static_cast<uint64_t>(*r.memory_limit) + (1 << 20) - 1) >> 20;
    s.guest_mib = std::max(kMinGuestMiB, mib + kGuestKernelMiB);
  }
  if (r.cpu_quota && *r.cpu_quota > 0) {
    uint64_t period = r.cpu_period && *r.cpu_period > 0 ? *r.cpu_period : 100000;
    uint64_t cpus = (static_cast<uint64_t>(*r.cpu_quota) + period - 1) / period;
    s.vcpus = static_cast<int>(std::clamp<uint64_t>(cpus, 1, static_cast<uint64_t>(std::max(1, host_cpus))));
  }
  return s;
}

linux_cgroup::Resources host_resources(const linux_cgroup::Resources& r, const Sizing& s) {
  linux_cgroup::Resources h;
  if (r.memory_limit && *r.memory_limit > 0) h.memory_limit = static_cast<int64_t>((s.guest_mib + kHostOverheadMiB) << 20);
  h.cpu_shares = r.cpu_shares;
  h.cpu_quota = r.cpu_quota;
  h.cpu_period = r.cpu_period;
  h.cpus = r.cpus;
  h.mems = r.mems;
  return h;
}

Result<std::string> choose_accel(const std::string& want) {
  if (want == "tcg") return std::string("tcg");
  if (want != "auto" && want != "kvm") return make_error("--vm-accel \"" + want + "\": expected auto, kvm or tcg");
  bool hardware = path_exists("/sys/module/kvm_intel") || path_exists("/sys/module/kvm_amd");
  UniqueFd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
  if (hardware && kvm) return std::string("kvm");
  if (want == "auto") return std::string("tcg");
  if (!kvm) return sys_error("--vm-accel kvm: open", "/dev/kvm");
  return make_error("--vm-accel kvm: /dev/kvm is not hardware KVM here (neither kvm_intel nor kvm_amd is loaded)");
}

Result<Assets> find_assets() {
  std::vector<std::string> dirs;
  if (const char* d = std::getenv("NS_VM_DIR"); d && *d) {
    dirs.push_back(d);
  } else {
    if (auto self = linux_security::runtime_exe_path(); !self.empty()) dirs.push_back(path_dirname(self) + "/vm");
    dirs.push_back(NS_VM_INSTALL_DIR);
  }
  for (auto& d : dirs) {
    Assets a{d, d + "/vmlinux", d + "/agent.cpio"};
    if (path_exists(a.kernel) && path_exists(a.initrd)) return a;
  }
  std::string where;
  for (auto& d : dirs) where += (where.empty() ? "" : " or ") + d;
  return make_error("VM mode: no guest kernel and agent (vmlinux, agent.cpio) in " + where +
                    "; build them with `cmake --build build --target vm-assets` (or point NS_VM_DIR at them)");
}

uint64_t host_tsc_khz() {
  auto cpuinfo = read_file("/proc/cpuinfo");
  if (!cpuinfo) return 2000000;
  for (auto& line : split(*cpuinfo, '\n')) {
    if (!line.starts_with("cpu MHz")) continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) break;
    double mhz = std::strtod(line.c_str() + colon + 1, nullptr);
    if (mhz > 0) return static_cast<uint64_t>(mhz * 1000);
    break;
  }
  return 2000000;
}

std::vector<std::string> qemu_argv(const MachineConfig& m) {
  std::string mem = std::to_string(m.size.guest_mib) + "M";
  std::string append = "console=ttyS0 quiet panic=-1 cryptomgr.notests";
  if (m.accel == "tcg")
    append += " tsc_early_khz=" + std::to_string(m.tsc_khz) + " lpj=" + std::to_string(m.tsc_khz * 4);
  std::vector<std::string> argv = {
      m.qemu,
      "-M", "microvm,memory-backend=mem",
      "-accel", m.accel,
      "-cpu", m.accel == "kvm" ? "host" : "qemu64",
      "-m", mem,
      "-smp", std::to_string(m.size.vcpus),
      // virtiofsd maps the guest's memory: it has to be a shared memfd.
      "-object", "memory-backend-memfd,id=mem,size=" + mem + ",share=on",
      // virtiofsd cannot serve a legacy virtio-mmio device.
      "-global", "virtio-mmio.force-legacy=false",
      "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
      // Should a guest ever get code to run in QEMU: QEMU's seccomp sandbox refuses it new
      // processes, obsolete system calls and scheduling changes, and before the guest starts it
      // has chrooted to an empty directory and become a uid of its own, with no capabilities
      // (vm/confine.hpp). elevateprivileges stays allowed: -runas is a setuid, which deny kills;
      // after it the set*id calls cannot raise anything, as no capability is left.
      "-sandbox", "on,obsolete=deny,elevateprivileges=allow,spawn=deny,resourcecontrol=deny",
      "-chroot", m.jail_dir,
      "-runas", kRunasAtFork,
      "-qmp", "unix:" + m.qmp_socket + ",server=on,wait=off",
      "-chardev", "file,id=console,path=" + m.serial_log + ",append=on",
      "-serial", "chardev:console",
      "-chardev", "socket,id=fs,path=" + m.virtiofs_socket,
      "-device", std::string("vhost-user-fs-device,chardev=fs,tag=") + kShareTag,
      "-device", "virtio-serial-device,max_ports=2",
      "-chardev", "socket,id=agent,path=" + m.agent_socket,
      "-device", std::string("virtserialport,chardev=agent,name=") + kPortName,
      "-kernel", m.assets.kernel,
      "-initrd", m.assets.initrd,
      "-append", append,
  };
  for (size_t i = 0; i < m.nic_macs.size(); ++i) {
    std::string id = "net" + std::to_string(i);
    argv.insert(argv.end(), {"-netdev", "tap,id=" + id + ",fd=" + std::to_string(3 + i), "-device",
                             "virtio-net-device,netdev=" + id + ",mac=" + m.nic_macs[i]});
  }
  return argv;
}

std::vector<std::string> virtiofsd_argv(const std::string& virtiofsd, int fd, const std::string& source) {
  // modcaps=-mknod: the guest cannot make device nodes in the host's directories (FIFOs and
  // sockets need no capability); the container's /dev is a tmpfs inside the guest anyway.
  return {virtiofsd, "--fd=" + std::to_string(fd), "-o", "source=" + source, "-o", "cache=auto",
          "-o", "sandbox=namespace", "-o", "modcaps=-mknod"};
}

Result<std::string> find_program(const std::string& program, const std::string& package) {
  if (program.find('/') != std::string::npos) {
    if (::access(program.c_str(), X_OK) == 0) return program;
    return make_error("VM mode needs " + program + " (Debian package " + package + ")");
  }
  const char* path = std::getenv("PATH");
  for (auto& d : split(path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ':')) {
    std::string p = join_path(d.empty() ? "." : d, program);
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return make_error("VM mode needs " + program + " (Debian package " + package + "), not found in $PATH");
}

Result<std::string> find_virtiofsd() {
  if (const char* v = std::getenv("NS_VIRTIOFSD"); v && *v) return find_program(v, "qemu-system-common");
  for (const char* p : {"/usr/lib/qemu/virtiofsd", "/usr/libexec/virtiofsd"})
    if (::access(p, X_OK) == 0) return std::string(p);
  return find_program("virtiofsd", "qemu-system-common");
}

}  // namespace ns::vm
