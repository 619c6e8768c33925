#include <fcntl.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <grp.h>

#include "common/file.hpp"
#include "linux/security/capabilities.hpp"
#include "linux/security/seccomp.hpp"
#include "sys/kernel.hpp"

namespace ns::sys {
namespace {

std::string cap_name(int cap) {
  std::string n = linux_security::cap_name(cap);
  return n.empty() ? std::to_string(cap) : n;
}

class RealKernel final : public Kernel {
 public:
  Result<void> mount(const std::string& source, const std::string& target, const std::string& fstype,
                     unsigned long flags, const std::string& data) override {
    if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(),
                fstype.empty() ? nullptr : fstype.c_str(), flags, data.empty() ? nullptr : data.c_str()) < 0)
      return sys_error("mount", target);
    return {};
  }
  Result<void> umount2(const std::string& target, int flags) override {
    if (::umount2(target.c_str(), flags) < 0) return sys_error("umount", target);
    return {};
  }
  Result<void> pivot_root(const std::string& new_root, const std::string& put_old) override {
    if (::syscall(SYS_pivot_root, new_root.c_str(), put_old.c_str()) < 0) return sys_error("pivot_root", new_root);
    return {};
  }
  Result<void> chroot(const std::string& path) override {
    if (::chroot(path.c_str()) < 0) return sys_error("chroot", path);
    return {};
  }
  Result<void> chdir(const std::string& path) override {
    if (::chdir(path.c_str()) < 0) return sys_error("chdir", path);
    return {};
  }
  Result<void> fchdir(int fd) override {
    if (::fchdir(fd) < 0) return sys_error("fchdir", fd_path(fd));
    return {};
  }
  Result<void> mount_setattr(const std::string& path, uint64_t set, uint64_t clear, bool recursive) override {
    struct mount_attr attr{};
    attr.attr_set = set;
    attr.attr_clr = clear;
    if (::syscall(SYS_mount_setattr, AT_FDCWD, path.c_str(), recursive ? AT_RECURSIVE : 0, &attr, sizeof attr) < 0)
      return sys_error("mount_setattr", path);
    return {};
  }
  Result<unsigned long> mount_flags(const std::string& path) override {
    struct statvfs sv{};
    if (::statvfs(path.c_str(), &sv) < 0) return sys_error("statvfs", path);
    unsigned long out = 0;
    const std::pair<unsigned long, unsigned long> map[] = {
        {ST_RDONLY, MS_RDONLY}, {ST_NOSUID, MS_NOSUID},     {ST_NODEV, MS_NODEV},
        {ST_NOEXEC, MS_NOEXEC}, {ST_NOATIME, MS_NOATIME},   {ST_NODIRATIME, MS_NODIRATIME},
        {ST_RELATIME, MS_RELATIME}, {ST_SYNCHRONOUS, MS_SYNCHRONOUS}, {ST_MANDLOCK, MS_MANDLOCK}};
    for (auto [st, ms] : map)
      if (sv.f_flag & st) out |= ms;
    return out;
  }
  Result<UniqueFd> open(const std::string& path, int flags, mode_t mode) override {
    auto at = anchored(path);
    int fd = ::openat(at.dir, at.rel, flags | O_CLOEXEC, mode);
    if (fd < 0) return sys_error("open", path);
    return UniqueFd(fd);
  }
  Result<UniqueFd> open_in_root(int root_fd, const std::string& path, int flags, mode_t mode) override {
    struct open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    std::string rel = path;
    while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
    if (rel.empty()) rel = ".";
    for (;;) {
      long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how);
      if (fd >= 0) return UniqueFd(static_cast<int>(fd));
      if (errno == EAGAIN || errno == EINTR) continue;  // a rename raced the lookup: retry
      return sys_error("open", path);
    }
  }
  Result<void> mkdirat(int dir_fd, const std::string& name, mode_t mode) override {
    auto at = anchored(dir_fd, name);
    if (::mkdirat(at.dir, at.rel, mode) < 0) return sys_error("mkdir", name);
    return {};
  }
  Result<void> mknodat(int dir_fd, const std::string& name, mode_t mode, dev_t dev) override {
    if (::mknodat(dir_fd, name.c_str(), mode, dev) < 0) return sys_error("mknod", name);
    return {};
  }
  Result<std::string> readlinkat(int dir_fd, const std::string& name) override {
    char buf[4096];
    ssize_t n = ::readlinkat(dir_fd, name.c_str(), buf, sizeof buf);
    if (n < 0) return sys_error("readlink", name);
    return std::string(buf, static_cast<size_t>(n));
  }
  Result<void> symlinkat(const std::string& target, int dir_fd, const std::string& name) override {
    if (::symlinkat(target.c_str(), dir_fd, name.c_str()) < 0) return sys_error("symlink", name);
    return {};
  }
  Result<void> fchownat(int dir_fd, const std::string& name, uid_t uid, gid_t gid) override {
    if (::fchownat(dir_fd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0) return sys_error("chown", name);
    return {};
  }
  Result<struct stat> fstat(int fd) override {
    struct stat st{};
    if (::fstat(fd, &st) < 0) return sys_error("stat", fd_path(fd));
    return st;
  }
  Result<struct stat> stat(const std::string& path) override {
    struct stat st{};
    auto at = anchored(path);
    if (::fstatat(at.dir, at.rel, &st, 0) < 0) return sys_error("stat", path);
    return st;
  }
  Result<void> write_procfs(const std::string& rel, const std::string& content) override {
    UniqueFd proc(::open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!proc) return sys_error("open", "/proc");
    struct statfs fs{};
    struct stat st{};
    if (::fstatfs(proc.get(), &fs) < 0 || ::fstat(proc.get(), &st) < 0) return sys_error("stat", "/proc");
    if (fs.f_type != PROC_SUPER_MAGIC || st.st_ino != 1)
      return make_error("/proc is not the root of a procfs mount: refused to write /proc/" + rel + " through it");
    struct open_how how{};
    how.flags = O_WRONLY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
    long fd = -1;
    do fd = ::syscall(SYS_openat2, proc.get(), rel.c_str(), &how, sizeof how);
    while (fd < 0 && (errno == EAGAIN || errno == EINTR));
    if (fd < 0) return sys_error("open", "/proc/" + rel);
    UniqueFd f(static_cast<int>(fd));
    ssize_t n = ::write(f.get(), content.data(), content.size());
    if (n != static_cast<ssize_t>(content.size())) return sys_error("write", "/proc/" + rel);
    return {};
  }
  Result<void> write_file(const std::string& path, const std::string& content) override {
    return ns::write_file(path, content);
  }
  Result<void> write_each(const std::string& path, const std::vector<std::string>& values) override {
    auto at = anchored(path);
    UniqueFd fd(::openat(at.dir, at.rel, O_WRONLY | O_CLOEXEC));
    if (!fd) return sys_error("open", path);
    for (auto& v : values)
      if (::write(fd.get(), v.data(), v.size()) != static_cast<ssize_t>(v.size()))
        return std::unexpected(Error{errno, "write \"" + v + "\" to", path, {}, {}});
    return {};
  }
  Result<std::string> read_file(const std::string& path) override { return ns::read_file(path); }
  Result<void> unlinkat(int dir_fd, const std::string& name, int flags) override {
    auto at = anchored(dir_fd, name);
    if (::unlinkat(at.dir, at.rel, flags) < 0) return sys_error("unlink", name);
    return {};
  }
  Result<void> sethostname(const std::string& name) override {
    if (::sethostname(name.data(), name.size()) < 0) return sys_error("sethostname", name);
    return {};
  }
  Result<void> setdomainname(const std::string& name) override {
    if (::setdomainname(name.data(), name.size()) < 0) return sys_error("setdomainname", name);
    return {};
  }
  Result<void> setns(int fd, int nstype) override {
    if (::setns(fd, nstype) < 0) return sys_error("setns", fd_path(fd));
    return {};
  }
  Result<void> unshare(int flags) override {
    if (::unshare(flags) < 0) return sys_error("unshare");
    return {};
  }
  Result<void> setrlimit(int resource, uint64_t soft, uint64_t hard) override {
    struct rlimit rl{soft, hard};
    if (::setrlimit(static_cast<__rlimit_resource>(resource), &rl) < 0)
      return sys_error("setrlimit", std::to_string(resource));
    return {};
  }
  // The raw system calls, not glibc's wrappers: those make every thread glibc knows of take the
  // new ids (signalling each and waiting for it), and the container's init is cloned with a raw
  // clone3, not fork(): glibc's list of threads is the runtime's, and a thread the runtime had
  // running would not exist in the clone, to be waited for forever. The init's one thread is
  // all there is to set.
  Result<void> setgroups(const std::vector<gid_t>& gids) override {
    if (::syscall(SYS_setgroups, gids.size(), gids.data()) < 0) return sys_error("setgroups");
    return {};
  }
  Result<void> setresgid(gid_t gid) override {
    if (::syscall(SYS_setresgid, gid, gid, gid) < 0) return sys_error("setresgid", std::to_string(gid));
    return {};
  }
  Result<void> setresuid(uid_t uid) override {
    if (::syscall(SYS_setresuid, uid, uid, uid) < 0) return sys_error("setresuid", std::to_string(uid));
    return {};
  }
  mode_t umask(mode_t mask) override { return ::umask(mask); }
  Result<void> setsid() override {
    if (::setsid() < 0) return sys_error("setsid");
    return {};
  }
  int last_cap() override {
    static int cached = [] {
      auto text = ns::read_file("/proc/sys/kernel/cap_last_cap");
      if (text) return std::atoi(text->c_str());
      return static_cast<int>(cap_max_bits()) - 1;
    }();
    return cached;
  }
  Result<void> drop_bounding_cap(int cap) override {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) return sys_error("drop bounding capability", cap_name(cap));
    return {};
  }
  Result<void> set_keep_caps(bool keep) override {
    if (::prctl(PR_SET_KEEPCAPS, keep ? 1 : 0, 0, 0, 0) < 0) return sys_error("prctl PR_SET_KEEPCAPS");
    return {};
  }
  Result<void> set_caps(uint64_t effective, uint64_t permitted, uint64_t inheritable) override {
    cap_t caps = cap_init();
    if (!caps) return sys_error("cap_init");
    for (int c = 0; c < 64; ++c) {
      cap_value_t v = c;
      uint64_t bit = uint64_t{1} << c;
      if (effective & bit) cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET);
      if (permitted & bit) cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET);
      if (inheritable & bit) cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_SET);
    }
    int rc = cap_set_proc(caps);
    int err = errno;
    cap_free(caps);
    if (rc < 0) return sys_error("capset", {}, err);
    return {};
  }
  Result<void> raise_ambient_cap(int cap) override {
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      return sys_error("raise ambient capability", cap_name(cap));
    return {};
  }
  Result<void> set_no_new_privs() override {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return sys_error("prctl PR_SET_NO_NEW_PRIVS");
    return {};
  }
  Result<void> load_seccomp(const linux_security::SeccompFilter& filter, UniqueFd* listener) override {
    return linux_security::load_seccomp(filter, listener);
  }
  Result<void> join_session_keyring(const std::string& name) override {
    if (::syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, name.c_str()) < 0)
      return sys_error("keyctl JOIN_SESSION_KEYRING", name);
    return {};
  }
  Result<void> set_personality(unsigned long persona) override {
    if (::personality(persona) < 0) return sys_error("personality");
    return {};
  }
  Result<void> set_scheduler(uint32_t policy, uint64_t flags, int32_t nice, uint32_t priority, uint64_t runtime,
                             uint64_t deadline, uint64_t period) override {
    // struct sched_attr (include/uapi/linux/sched/types.h); glibc 2.36 has no wrapper.
    struct {
      uint32_t size, sched_policy;
      uint64_t sched_flags;
      int32_t sched_nice;
      uint32_t sched_priority;
      uint64_t sched_runtime, sched_deadline, sched_period;
    } attr{48, policy, flags, nice, priority, runtime, deadline, period};
    if (::syscall(SYS_sched_setattr, 0, &attr, 0) < 0) return sys_error("sched_setattr");
    return {};
  }
  Result<void> set_io_priority(int ioprio) override {
    if (::syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, ioprio) < 0) return sys_error("ioprio_set");
    return {};
  }
  Result<void> set_cpu_affinity(pid_t pid, const std::string& cpus) override {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (auto& part : split(cpus, ',')) {
      if (part.empty()) continue;
      auto dash = part.find('-');
      char* end = nullptr;
      long lo = std::strtol(part.c_str(), &end, 10), hi = lo;
      if (dash != std::string::npos) hi = std::strtol(part.c_str() + dash + 1, &end, 10);
      if (*end != '\0' || lo < 0 || hi < lo || hi >= CPU_SETSIZE)
        return make_error("invalid CPU list \"" + cpus + "\"");
      for (long c = lo; c <= hi; ++c) CPU_SET(static_cast<int>(c), &set);
    }
    if (::sched_setaffinity(pid, sizeof set, &set) < 0) return sys_error("sched_setaffinity", cpus);
    return {};
  }
  Result<void> loopback_up() override {
    if (int err = loopback_up_errno()) return std::unexpected(Error{err, "bring the loopback device up", "lo", {}, {}});
    return {};
  }
};

}  // namespace

int loopback_up_errno() noexcept {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  struct ifreq ifr{};
  ifr.ifr_name[0] = 'l';
  ifr.ifr_name[1] = 'o';
  int err = 0;
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
    err = errno;
  } else {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) < 0) err = errno;
  }
  ::close(s);
  return err;
}

Kernel& real_kernel() {
  static RealKernel k;
  return k;
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

}  // namespace ns::sys
