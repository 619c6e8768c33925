// A recording fake of the kernel seam: every call is appended to calls() as one readable line,
// resolved fds are shown as the path they were opened from, and any call can be made to fail
// with an errno.
#pragma once

#include <sys/sysmacros.h>

#include <map>
#include <string>
#include <vector>

#include "sys/kernel.hpp"

namespace ns::test {

class FakeKernel : public sys::Kernel {
 public:
  std::vector<std::string> calls;
  // "mount:/proc" -> EPERM: the first call whose line starts with the key fails.
  std::map<std::string, int> fail;
  // Paths that exist as regular files (for stat/fstat); everything else is a directory.
  std::vector<std::string> files;
  std::map<std::string, std::string> file_contents;
  // Paths that are symlinks (for stat/fstat).
  std::vector<std::string> symlinks;
  // Paths that are character devices (for stat/fstat), with their numbers.
  std::map<std::string, dev_t> char_devices{{"/dev/null", makedev(1, 3)}};

  Result<void> mount(const std::string& source, const std::string& target, const std::string& fstype,
                     unsigned long flags, const std::string& data) override;
  Result<void> umount2(const std::string& target, int flags) override;
  Result<void> pivot_root(const std::string& new_root, const std::string& put_old) override;
  Result<void> chroot(const std::string& path) override;
  Result<void> chdir(const std::string& path) override;
  Result<void> fchdir(int fd) override;
  Result<void> mount_setattr(const std::string& path, uint64_t set, uint64_t clear, bool recursive) override;
  Result<unsigned long> mount_flags(const std::string& path) override;
  Result<UniqueFd> open(const std::string& path, int flags, mode_t mode) override;
  Result<UniqueFd> open_in_root(int root_fd, const std::string& path, int flags, mode_t mode) override;
  Result<void> mkdirat(int dir_fd, const std::string& name, mode_t mode) override;
  Result<void> mknodat(int dir_fd, const std::string& name, mode_t mode, dev_t dev) override;
  Result<std::string> readlinkat(int dir_fd, const std::string& name) override;
  Result<void> symlinkat(const std::string& target, int dir_fd, const std::string& name) override;
  Result<void> fchownat(int dir_fd, const std::string& name, uid_t uid, gid_t gid) override;
  Result<struct stat> fstat(int fd) override;
  Result<struct stat> stat(const std::string& path) override;
  Result<void> write_file(const std::string& path, const std::string& content) override;
  Result<void> write_procfs(const std::string& rel, const std::string& content) override;
  Result<std::string> read_file(const std::string& path) override;
  Result<void> unlinkat(int dir_fd, const std::string& name, int flags) override;
  Result<void> sethostname(const std::string& name) override;
  Result<void> setdomainname(const std::string& name) override;
  Result<void> setns(int fd, int nstype) override;
  Result<void> unshare(int flags) override;
  Result<void> setrlimit(int resource, uint64_t soft, uint64_t hard) override;
  Result<void> setgroups(const std::vector<gid_t>& gids) override;
  Result<void> setresgid(gid_t gid) override;
  Result<void> setresuid(uid_t uid) override;
  mode_t umask(mode_t mask) override;
  Result<void> setsid() override;
  Result<void> loopback_up() override;
  int last_cap() override { return 40; }
  Result<void> drop_bounding_cap(int cap) override;
  Result<void> set_keep_caps(bool keep) override;
  Result<void> set_caps(uint64_t effective, uint64_t permitted, uint64_t inheritable) override;
  Result<void> raise_ambient_cap(int cap) override;
  Result<void> set_no_new_privs() override;
  Result<void> load_seccomp(const linux_security::SeccompFilter& filter, UniqueFd* listener) override;
  Result<void> set_personality(unsigned long persona) override;
  Result<void> join_session_keyring(const std::string& name) override;
  Result<void> set_scheduler(uint32_t policy, uint64_t flags, int32_t nice, uint32_t priority, uint64_t runtime,
                             uint64_t deadline, uint64_t period) override;
  Result<void> set_io_priority(int ioprio) override;
  Result<void> set_cpu_affinity(pid_t pid, const std::string& cpus) override;

  // Index of the first call starting with PREFIX, or -1.
  [[nodiscard]] int find(const std::string& prefix) const;
  [[nodiscard]] std::string dump() const;

 private:
  Result<void> record(const std::string& line);
  std::string name_of(int fd) const;
  std::string resolve_target(const std::string& target) const;
  UniqueFd new_fd(const std::string& path);
  std::map<int, std::string> fds_;
  int next_fd_ = 1000;
};

}  // namespace ns::test
