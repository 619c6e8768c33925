#include "linux/security/exe_guard.hpp"

#include "linux/security/exe_guard_env.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

extern char** environ;

namespace ns::linux_security {

namespace {
constexpr const char* kHostMountNsEnv = NS_HOST_MNTNS_ENV;
}

int adopt_host_mount_ns() {
  const char* v = ::getenv(kHostMountNsEnv);
  if (!v) return -1;
  int fd = std::atoi(v);
  ::unsetenv(kHostMountNsEnv);
  struct stat st{};
  // It must be an open fd of a mount namespace (nsfs), or it is not ours.
  if (fd < 3 || ::fstat(fd, &st) < 0 || ::ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNS) return -1;
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
}

Result<void> protect_runtime_binary(char** argv) {
  struct statvfs fs{};
  if (::statvfs("/proc/self/exe", &fs) < 0) return sys_error("statvfs", "/proc/self/exe");
  if (fs.f_flag & ST_RDONLY) return {};  // already read-only: nothing to do (and the re-exec lands here)
  if (::geteuid() != 0) return {};
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return sys_error("readlink", "/proc/self/exe");
  std::string self(buf, static_cast<size_t>(n));
  if (self.ends_with(" (deleted)"))
    return make_error("the ns-runtime binary " + self + " was replaced while running: run the new one");
  // The mount namespace we came from goes along (an inherited fd named in the environment):
  // hooks that run "in the runtime's namespace" run there, not in our private one.
  int opened = ::open("/proc/self/ns/mnt", O_RDONLY);  // no O_CLOEXEC: it must survive execve
  if (opened < 0) return sys_error("open", "/proc/self/ns/mnt");
  int host = ::fcntl(opened, F_DUPFD, NS_HOST_MNTNS_MIN_FD);
  ::close(opened);
  if (host < 0) return sys_error("dup", "/proc/self/ns/mnt");
  ::setenv(kHostMountNsEnv, std::to_string(host).c_str(), 1);
  // A mount namespace of our own, receiving the host's mounts but never sending ours back.
  if (::unshare(CLONE_NEWNS) < 0) return sys_error("unshare mount namespace (to protect the runtime binary)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0) return sys_error("make / slave");
  if (::mount(self.c_str(), self.c_str(), nullptr, MS_BIND, nullptr) < 0) return sys_error("bind", self);
  if (::mount(nullptr, self.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) < 0)
    return sys_error("remount read-only", self);
  ::execve(self.c_str(), argv, environ);
  return sys_error("re-execute through the read-only bind", self);
}

}  // namespace ns::linux_security
