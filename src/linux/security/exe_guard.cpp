#include "linux/security/exe_guard.hpp"

#include "linux/security/exe_guard_env.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/fd.hpp"

extern char** environ;

namespace ns::linux_security {

int adopt_host_mount_ns() {
  const char* v = ::getenv(NS_HOST_MNTNS_ENV);
  if (!v) return -1;
  int fd = std::atoi(v);
  ::unsetenv(NS_HOST_MNTNS_ENV);
  struct stat st{};
  // It must be an open fd of a mount namespace (nsfs), or it is not ours.
  if (fd < 3 || ::fstat(fd, &st) < 0 || ::ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNS) return -1;
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
}

namespace {
std::string g_exe_path;

// Our environment without the variables a re-execution passes (a caller's would be forged),
// plus ours: NAME=VALUE entries.
std::vector<char*> environment_with(std::vector<std::string>& ours) {
  std::vector<char*> env;
  for (char** e = environ; *e; ++e) {
    std::string_view v(*e);
    if (v.starts_with(NS_EXE_PATH_ENV "=") || v.starts_with(NS_HOST_MNTNS_ENV "=") || v.starts_with(NS_CPUS_ENV "=") ||
        v.starts_with(NS_EXE_TREE_ENV "="))
      continue;
    env.push_back(*e);
  }
  for (auto& entry : ours) env.push_back(entry.data());
  env.push_back(nullptr);
  return env;
}
}  // namespace

void adopt_exe_path() {
  if (const char* v = ::getenv(NS_EXE_PATH_ENV)) {
    g_exe_path = v;
    ::unsetenv(NS_EXE_PATH_ENV);
  }
}

void adopt_cpu_affinity() {
  const char* v = ::getenv(NS_CPUS_ENV);
  if (!v) return;
  unsigned char mask[NS_CPUS_MAX_BYTES];
  size_t n = 0;
  auto digit = [](char c) { return c >= 'a' ? c - 'a' + 10 : c - '0'; };
  for (const char* h = v; h[0] && h[1] && n < sizeof mask; h += 2)
    mask[n++] = static_cast<unsigned char>(digit(h[0]) << 4 | digit(h[1]));
  ::unsetenv(NS_CPUS_ENV);
  if (n > 0) (void)::syscall(SYS_sched_setaffinity, 0, n, mask);
}

namespace {
int g_exe_tree = -1;
}

void adopt_exe_tree() {
  const char* v = ::getenv(NS_EXE_TREE_ENV);
  if (!v) return;
  int fd = std::atoi(v);
  ::unsetenv(NS_EXE_TREE_ENV);
  // It must be an O_PATH fd of the very file we run, or it is not ours (a caller's variable).
  struct stat mine{}, its{};
  int flags = fd >= 3 ? ::fcntl(fd, F_GETFL) : -1;
  if (flags < 0 || !(flags & O_PATH) || ::fstat(fd, &its) < 0 || ::stat("/proc/self/exe", &mine) < 0 ||
      its.st_dev != mine.st_dev || its.st_ino != mine.st_ino)
    return;
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  g_exe_tree = fd;
}

int exe_tree_fd() { return g_exe_tree; }

void drop_exe_tree() {
  if (g_exe_tree < 0) return;
  ::close(g_exe_tree);
  g_exe_tree = -1;
}

std::string runtime_exe_path() {
  if (!g_exe_path.empty()) return g_exe_path;
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

namespace {

constexpr unsigned kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

// Whether the file we run is a sealed copy (the memfd below): nobody can change it.
bool running_sealed_copy() {
  UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  int seals = self ? ::fcntl(self.get(), F_GET_SEALS) : -1;
  return seals >= 0 && (static_cast<unsigned>(seals) & kSeals) == kSeals;
}

// Whether a process with our uid (a rootless container's root), or anyone else, may write the
// binary: then a rootless container could change it.
bool writable_by_us(const struct stat& st) {
  return st.st_uid == ::geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
         ::faccessat(AT_FDCWD, "/proc/self/exe", W_OK, AT_EACCESS) == 0;
}

// Without root there is no mount to clone: the binary is copied into a memfd, sealed against any
// change (F_SEAL_WRITE and the rest), and re-executed from there (as runc does).
Result<void> reexecute_sealed_copy(char** argv, std::vector<std::string>& ours, const std::string& self) {
  UniqueFd src(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!src) return sys_error("open", "/proc/self/exe");
  struct stat st{};
  if (::fstat(src.get(), &st) < 0) return sys_error("fstat", self);
  constexpr unsigned kExec = 0x0010U;  // MFD_EXEC (Linux 6.3): say so, or the kernel warns
  UniqueFd mem(static_cast<int>(::syscall(SYS_memfd_create, "ns-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING | kExec)));
  if (!mem && errno == EINVAL)
    mem = UniqueFd(static_cast<int>(::syscall(SYS_memfd_create, "ns-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING)));
  if (!mem) return sys_error("memfd_create (a sealed copy of the runtime binary)");
  for (off_t off = 0; off < st.st_size;) {
    ssize_t n = ::sendfile(mem.get(), src.get(), &off, static_cast<size_t>(st.st_size - off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys_error("copy the runtime binary into a memfd", self);
  }
  if (::fcntl(mem.get(), F_ADD_SEALS, kSeals) < 0) return sys_error("seal the copy of the runtime binary", self);
  auto env = environment_with(ours);
  ::syscall(SYS_execveat, mem.get(), "", argv, env.data(), AT_EMPTY_PATH);
  return sys_error("re-execute through the sealed copy of", self + " (a host with vm.memfd_noexec=2 refuses it)");
}

}  // namespace

Result<void> protect_runtime_binary(char** argv) {
  if (running_sealed_copy()) return {};  // the rootless re-execution lands here
  struct statvfs fs{};
  if (::statvfs("/proc/self/exe", &fs) < 0) return sys_error("statvfs", "/proc/self/exe");
  if (fs.f_flag & ST_RDONLY) return {};  // already read-only: nothing to do (and the re-exec lands here)
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return sys_error("readlink", "/proc/self/exe");
  std::string self(buf, static_cast<size_t>(n));
  if (self.ends_with(" (deleted)"))
    return make_error("the ns-runtime binary " + self + " was replaced while running: run the new one");
  std::vector<std::string> ours{std::string(NS_EXE_PATH_ENV "=") + self};
  if (::geteuid() != 0) {
    struct stat st{};
    if (::stat("/proc/self/exe", &st) < 0) return sys_error("stat", self);
    if (!writable_by_us(st)) return {};  // the container's ids cannot write it: nothing to do
    return reexecute_sealed_copy(argv, ours, self);
  }

  // A read-only clone of the binary's mount that belongs to no mount namespace, executed through
  // its fd (Linux 5.12).
  UniqueFd tree(static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)));
  if (!tree && errno != ENOSYS) return sys_error("clone the mount of the runtime binary (open_tree)", self);
  if (tree) {
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) == 0) {
      auto env = environment_with(ours);
      ::syscall(SYS_execveat, tree.get(), "", argv, env.data(), AT_EMPTY_PATH);
      return sys_error("re-execute through the read-only clone of", self);
    }
    if (errno != ENOSYS) return sys_error("make the clone of the runtime binary's mount read-only", self);
  }

  // Older kernels: a private mount namespace where the binary is bound read-only onto itself.
  // The mount namespace we came from goes along (an inherited fd named in the environment):
  // hooks that run "in the runtime's namespace" run there, not in our private one.
  int opened = ::open("/proc/self/ns/mnt", O_RDONLY);  // no O_CLOEXEC: it must survive execve
  if (opened < 0) return sys_error("open", "/proc/self/ns/mnt");
  int host = ::fcntl(opened, F_DUPFD, NS_HOST_MNTNS_MIN_FD);
  ::close(opened);
  if (host < 0) return sys_error("dup", "/proc/self/ns/mnt");
  ours.push_back(std::string(NS_HOST_MNTNS_ENV "=") + std::to_string(host));
  // A mount namespace of our own, receiving the host's mounts but never sending ours back.
  if (::unshare(CLONE_NEWNS) < 0) return sys_error("unshare mount namespace (to protect the runtime binary)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0) return sys_error("make / slave");
  if (::mount(self.c_str(), self.c_str(), nullptr, MS_BIND, nullptr) < 0) return sys_error("bind", self);
  if (::mount(nullptr, self.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) < 0)
    return sys_error("remount read-only", self);
  auto env = environment_with(ours);
  ::execve(self.c_str(), argv, env.data());
  return sys_error("re-execute through the read-only bind", self);
}

}  // namespace ns::linux_security
