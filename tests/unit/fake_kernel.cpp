#include "fake_kernel.hpp"

#include "linux/security/seccomp.hpp"

#include <algorithm>

namespace ns::test {

Result<void> FakeKernel::record(const std::string& line) {
  calls.push_back(line);
  for (auto it = fail.begin(); it != fail.end(); ++it)
    if (line.starts_with(it->first)) {
      int err = it->second;
      fail.erase(it);
      return std::unexpected(Error{err, "fake", line, {}, {}});
    }
  return {};
}

std::string FakeKernel::name_of(int fd) const {
  auto it = fds_.find(fd);
  return it == fds_.end() ? "fd" + std::to_string(fd) : it->second;
}

std::string FakeKernel::resolve_target(const std::string& target) const {
  const std::string prefix = "/proc/self/fd/";
  if (target.starts_with(prefix)) return name_of(std::stoi(target.substr(prefix.size())));
  return target;
}

UniqueFd FakeKernel::new_fd(const std::string& path) {
  int fd = next_fd_++;
  fds_[fd] = path;
  return UniqueFd(fd);
}

Result<void> FakeKernel::mount(const std::string& source, const std::string& target, const std::string& fstype,
                               unsigned long flags, const std::string& data) {
  return record("mount:" + resolve_target(target) + " src=" + resolve_target(source) + " type=" + fstype +
                " flags=" + std::to_string(flags) + (data.empty() ? "" : " data=" + data));
}
Result<void> FakeKernel::umount2(const std::string& target, int) { return record("umount:" + target); }
Result<void> FakeKernel::pivot_root(const std::string& n, const std::string& o) { return record("pivot_root:" + n + " " + o); }
Result<void> FakeKernel::chroot(const std::string& path) { return record("chroot:" + path); }
Result<void> FakeKernel::chdir(const std::string& path) { return record("chdir:" + path); }
Result<void> FakeKernel::fchdir(int fd) { return record("fchdir:" + name_of(fd)); }
Result<unsigned long> FakeKernel::mount_flags(const std::string&) { return 0UL; }
Result<void> FakeKernel::mount_setattr(const std::string& path, uint64_t set, uint64_t clear, bool recursive) {
  return record("mount_setattr:" + resolve_target(path) + " set=" + std::to_string(set) + " clear=" + std::to_string(clear) +
                (recursive ? "" : " single"));
}

Result<UniqueFd> FakeKernel::open(const std::string& path, int, mode_t) {
  TRY(record("open:" + path));
  return new_fd(path);
}

Result<UniqueFd> FakeKernel::open_in_root(int root_fd, const std::string& path, int, mode_t) {
  std::string base = name_of(root_fd);
  std::string full = base == "/" ? path : base + (path.starts_with("/") ? "" : "/") + path;
  for (auto it = fail.begin(); it != fail.end(); ++it)
    if (("open_in_root:" + full).starts_with(it->first)) {
      int e = it->second;
      fail.erase(it);
      return std::unexpected(Error{e, "open", full, {}, {}});
    }
  return new_fd(full);
}

Result<void> FakeKernel::mkdirat(int dir_fd, const std::string& name, mode_t) {
  return record("mkdir:" + name_of(dir_fd) + "/" + name);
}
Result<void> FakeKernel::mknodat(int dir_fd, const std::string& name, mode_t mode, dev_t) {
  return record("mknod:" + name_of(dir_fd) + "/" + name + " mode=" + std::to_string(mode & 07777));
}
Result<std::string> FakeKernel::readlinkat(int dir_fd, const std::string& name) {
  return std::unexpected(Error{EINVAL, "readlink", name_of(dir_fd) + "/" + name, {}, {}});
}
Result<void> FakeKernel::symlinkat(const std::string& target, int dir_fd, const std::string& name) {
  return record("symlink:" + name_of(dir_fd) + "/" + name + " -> " + target);
}
Result<void> FakeKernel::fchownat(int dir_fd, const std::string& name, uid_t uid, gid_t gid) {
  return record("chown:" + name_of(dir_fd) + "/" + name + " " + std::to_string(uid) + ":" + std::to_string(gid));
}
Result<struct stat> FakeKernel::fstat(int fd) { return stat(name_of(fd)); }
Result<struct stat> FakeKernel::stat(const std::string& path) {
  struct stat st{};
  bool is_file = std::find(files.begin(), files.end(), path) != files.end();
  st.st_mode = is_file ? (S_IFREG | 0644) : (S_IFDIR | 0755);
  if (std::find(symlinks.begin(), symlinks.end(), path) != symlinks.end()) st.st_mode = S_IFLNK | 0777;
  if (auto dev = char_devices.find(path); dev != char_devices.end()) {
    st.st_mode = S_IFCHR | 0666;
    st.st_rdev = dev->second;
  }
  return st;
}
Result<void> FakeKernel::write_procfs(const std::string& rel, const std::string& content) {
  return record("write:/proc/" + rel + " " + content);
}
Result<void> FakeKernel::write_file(const std::string& path, const std::string& content) {
  return record("write:" + path + " " + content);
}
Result<std::string> FakeKernel::read_file(const std::string& path) {
  auto it = file_contents.find(path);
  if (it == file_contents.end()) return std::unexpected(Error{ENOENT, "open", path, {}, {}});
  return it->second;
}
Result<void> FakeKernel::unlinkat(int dir_fd, const std::string& name, int) {
  return record("unlink:" + name_of(dir_fd) + "/" + name);
}
Result<void> FakeKernel::sethostname(const std::string& name) { return record("sethostname:" + name); }
Result<void> FakeKernel::setdomainname(const std::string& name) { return record("setdomainname:" + name); }
Result<void> FakeKernel::setns(int fd, int nstype) {
  return record("setns:" + name_of(fd) + " " + std::to_string(nstype));
}
Result<void> FakeKernel::unshare(int flags) { return record("unshare:" + std::to_string(flags)); }
Result<void> FakeKernel::setrlimit(int resource, uint64_t soft, uint64_t hard) {
  return record("setrlimit:" + std::to_string(resource) + " " + std::to_string(soft) + " " + std::to_string(hard));
}
Result<void> FakeKernel::setgroups(const std::vector<gid_t>& gids) {
  std::string s;
  for (auto g : gids) s += " " + std::to_string(g);
  return record("setgroups:" + s);
}
Result<void> FakeKernel::setresgid(gid_t gid) { return record("setresgid:" + std::to_string(gid)); }
Result<void> FakeKernel::setresuid(uid_t uid) { return record("setresuid:" + std::to_string(uid)); }
mode_t FakeKernel::umask(mode_t mask) {
  calls.push_back("umask:" + std::to_string(mask));
  return 022;
}
Result<void> FakeKernel::setsid() { return record("setsid:"); }
Result<void> FakeKernel::loopback_up() { return record("loopback_up:"); }

Result<void> FakeKernel::drop_bounding_cap(int cap) { return record("capbset_drop:" + std::to_string(cap)); }
Result<void> FakeKernel::set_keep_caps(bool keep) { return record(std::string("keepcaps:") + (keep ? "1" : "0")); }
Result<void> FakeKernel::set_caps(uint64_t e, uint64_t p, uint64_t i) {
  return record("capset:" + std::to_string(e) + " " + std::to_string(p) + " " + std::to_string(i));
}
Result<void> FakeKernel::raise_ambient_cap(int cap) { return record("ambient_raise:" + std::to_string(cap)); }
Result<void> FakeKernel::set_no_new_privs() { return record("no_new_privs:"); }
Result<void> FakeKernel::join_session_keyring(const std::string& name) { return record("keyring:" + name); }
Result<void> FakeKernel::set_personality(unsigned long p) { return record("personality:" + std::to_string(p)); }
Result<void> FakeKernel::set_scheduler(uint32_t policy, uint64_t flags, int32_t nice, uint32_t priority, uint64_t runtime,
                                       uint64_t deadline, uint64_t period) {
  return record("sched_setattr:" + std::to_string(policy) + " flags=" + std::to_string(flags) + " nice=" +
                std::to_string(nice) + " prio=" + std::to_string(priority) + " rt=" + std::to_string(runtime) +
                " dl=" + std::to_string(deadline) + " period=" + std::to_string(period));
}
Result<void> FakeKernel::set_io_priority(int ioprio) { return record("ioprio_set:" + std::to_string(ioprio)); }
Result<void> FakeKernel::set_cpu_affinity(pid_t pid, const std::string& cpus) {
  return record("sched_setaffinity:" + std::to_string(pid) + " " + cpus);
}

Result<void> FakeKernel::load_seccomp(const linux_security::SeccompFilter& f, UniqueFd*) {
  return record("seccomp_load:" + std::to_string(f.rules.size()) + " rules");
}

int FakeKernel::find(const std::string& prefix) const {
  for (size_t i = 0; i < calls.size(); ++i)
    if (calls[i].starts_with(prefix)) return static_cast<int>(i);
  return -1;
}

std::string FakeKernel::dump() const {
  std::string out;
  for (auto& c : calls) out += c + "\n";
  return out;
}

}  // namespace ns::test
