// The kernel seam. Every system call the container set-up makes goes through this interface, so
// the stage logic (which mounts, in which order, with which flags) is unit-tested on a recording
// fake without root, and failures (EPERM, EBUSY) can be injected. RealKernel is the only
// implementation that touches the kernel.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace ns::linux_security {
struct SeccompFilter;
}

namespace ns::sys {

class Kernel {
 public:
  virtual ~Kernel() = default;

  // mounts
  virtual Result<void> mount(const std::string& source, const std::string& target, const std::string& fstype,
                             unsigned long flags, const std::string& data) = 0;
  virtual Result<void> umount2(const std::string& target, int flags) = 0;
  virtual Result<void> pivot_root(const std::string& new_root, const std::string& put_old) = 0;
  virtual Result<void> chroot(const std::string& path) = 0;
  virtual Result<void> chdir(const std::string& path) = 0;
  virtual Result<void> fchdir(int fd) = 0;
  // mount_setattr(2) on PATH and (RECURSIVE: AT_RECURSIVE) every mount under it: MOUNT_ATTR_* to
  // set and clear; the mount's other flags stay as they are.
  virtual Result<void> mount_setattr(const std::string& path, uint64_t set, uint64_t clear, bool recursive) = 0;
  // MS_* flags of the mount that holds PATH (statvfs), to keep locked flags on a remount.
  virtual Result<unsigned long> mount_flags(const std::string& path) = 0;

  // files, resolved against a directory fd; open_in_root never leaves the tree under root_fd
  // (symlinks and ".." are resolved as if root_fd were "/").
  virtual Result<UniqueFd> open(const std::string& path, int flags, mode_t mode = 0) = 0;
  virtual Result<UniqueFd> open_in_root(int root_fd, const std::string& path, int flags, mode_t mode = 0) = 0;
  virtual Result<void> mkdirat(int dir_fd, const std::string& name, mode_t mode) = 0;
  virtual Result<void> mknodat(int dir_fd, const std::string& name, mode_t mode, dev_t dev) = 0;
  virtual Result<std::string> readlinkat(int dir_fd, const std::string& name) = 0;
  virtual Result<void> symlinkat(const std::string& target, int dir_fd, const std::string& name) = 0;
  virtual Result<void> fchownat(int dir_fd, const std::string& name, uid_t uid, gid_t gid) = 0;
  virtual Result<struct stat> fstat(int fd) = 0;
  virtual Result<struct stat> stat(const std::string& path) = 0;
  virtual Result<void> write_file(const std::string& path, const std::string& content) = 0;
  // CONTENT into /proc/REL (REL: "sys/net/ipv4/ip_forward", "<pid>/attr/exec"), through a procfs
  // the kernel vouches for: /proc must be the root of a procfs mount (PROC_SUPER_MAGIC, inode 1),
  // and REL is looked up beneath it without following a symlink or crossing into another mount
  // (openat2 RESOLVE_BENEATH | NO_SYMLINKS | NO_XDEV). The container's mount table is its
  // config's and its image's: a bind over /proc/sys, or a /proc that is not procfs, would send a
  // sysctl or an LSM label elsewhere (the CVE-2025-52881 class).
  virtual Result<void> write_procfs(const std::string& rel, const std::string& content) = 0;
  // Each of VALUES written to PATH by a write() of its own, through one open: a file that takes
  // one entry per write (a v1 cgroup's devices.allow). An error names the value it failed on.
  virtual Result<void> write_each(const std::string& path, const std::vector<std::string>& values) {
    for (auto& v : values)
      if (auto r = write_file(path, v); !r) {
        Error e = r.error();
        e.op = "write \"" + v + "\" to";
        e.path = path;
        return std::unexpected(e);
      }
    return {};
  }
  virtual Result<std::string> read_file(const std::string& path) = 0;
  virtual Result<void> unlinkat(int dir_fd, const std::string& name, int flags) = 0;

  // identity and namespaces
  virtual Result<void> sethostname(const std::string& name) = 0;
  virtual Result<void> setdomainname(const std::string& name) = 0;
  virtual Result<void> setns(int fd, int nstype) = 0;
  virtual Result<void> unshare(int flags) = 0;
  virtual Result<void> setrlimit(int resource, uint64_t soft, uint64_t hard) = 0;
  virtual Result<void> setgroups(const std::vector<gid_t>& gids) = 0;
  virtual Result<void> setresgid(gid_t gid) = 0;
  virtual Result<void> setresuid(uid_t uid) = 0;
  virtual mode_t umask(mode_t mask) = 0;
  virtual Result<void> setsid() = 0;
  // keyctl(KEYCTL_JOIN_SESSION_KEYRING, NAME): a new session keyring of that name.
  virtual Result<void> join_session_keyring(const std::string& name) = 0;

  // capabilities and privileges
  [[nodiscard]] virtual int last_cap() = 0;  // the highest capability the kernel knows
  virtual Result<void> drop_bounding_cap(int cap) = 0;
  virtual Result<void> set_keep_caps(bool keep) = 0;
  virtual Result<void> set_caps(uint64_t effective, uint64_t permitted, uint64_t inheritable) = 0;
  virtual Result<void> raise_ambient_cap(int cap) = 0;
  virtual Result<void> set_no_new_privs() = 0;
  // Loads the filter; with SCMP_ACT_NOTIFY rules, *LISTENER receives the notification fd.
  virtual Result<void> load_seccomp(const linux_security::SeccompFilter& filter, UniqueFd* listener) = 0;
  virtual Result<void> loopback_up() = 0;

  // scheduling and execution domain (all inherited across execve)
  virtual Result<void> set_personality(unsigned long persona) = 0;
  // sched_setattr(2) of the calling thread; the fields of struct sched_attr.
  virtual Result<void> set_scheduler(uint32_t policy, uint64_t flags, int32_t nice, uint32_t priority,
                                     uint64_t runtime, uint64_t deadline, uint64_t period) = 0;
  virtual Result<void> set_io_priority(int ioprio) = 0;  // IOPRIO_PRIO_VALUE(class, level)
  // sched_setaffinity(PID, the CPUs of a list such as "0-3,7"); PID 0 is the caller.
  virtual Result<void> set_cpu_affinity(pid_t pid, const std::string& cpus) = 0;
};

// The process-wide real kernel.
Kernel& real_kernel();

// lo up in the caller's network namespace: 0 or an errno. Allocates nothing (the runtime's
// network namespace thread calls it while the runtime forks); RealKernel::loopback_up wraps it.
int loopback_up_errno() noexcept;

// "/proc/self/fd/N": how a resolved fd is named to calls that take a path (mount targets).
std::string fd_path(int fd);

}  // namespace ns::sys
