#include "linux/devices/devices.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>

#include "common/file.hpp"
#include "linux/fs/rootfs.hpp"

namespace ns::linux_dev {

namespace narration {
const explain::Narration kDevices{
    "devices", "linux.devices",
    "The tmpfs on /dev starts empty. The nodes every program expects (null, zero, full, random, urandom, tty) are "
    "made with mknod, or bind-mounted from the host inside a user namespace, where mknod is not allowed; then "
    "the symlinks /dev/fd, stdin, stdout, stderr, ptmx and the devices config.json lists. Whether the container "
    "may open a node is decided by the devices cgroup, not by the node."};
}  // namespace narration
namespace {

bool dev_is_bind_mounted(const oci::Spec& spec) {
  for (auto& m : spec.mounts) {
    if (m.destination != "/dev") continue;
    if (m.type == "bind") return true;
    if (std::find(m.options.begin(), m.options.end(), "bind") != m.options.end() ||
        std::find(m.options.begin(), m.options.end(), "rbind") != m.options.end())
      return true;
  }
  return false;
}

bool has_mount(const oci::Spec& spec, const std::string& dest) {
  return std::any_of(spec.mounts.begin(), spec.mounts.end(), [&](auto& m) { return m.destination == dest; });
}

// The directory the nodes go in, opened once for the nodes that share it (/dev, as a rule), and
// whether a node made there is ours already (the owner mknod gives it: our fsuid, and our fsgid
// unless the directory is setgid).
struct Parent {
  std::string path;
  UniqueFd fd;
  bool setgid = false;
};

Result<void> create_device(sys::Kernel& k, int root_fd, const oci::Device& d, bool in_userns, Parent& parent) {
  if (d.path.find("/../") != std::string::npos || d.path.ends_with("/.."))
    return make_error("device path \"" + d.path + "\" contains \"..\"");
  std::string dir = path_dirname(d.path);
  if (!parent.fd || parent.path != dir) {
    parent.fd = TRY(linux_fs::mkdir_all_in_root(k, root_fd, dir, 0755));
    parent.path = dir;
    parent.setgid = !in_userns && (TRY(k.fstat(parent.fd.get())).st_mode & S_ISGID);
  }
  std::string name = path_basename(d.path);

  if (in_userns) {
    // No mknod in a user namespace: bind the host's node over an empty file.
    auto target = TRY(linux_fs::create_file_in_root(k, root_fd, d.path, 0644));
    return k.mount(d.path, sys::fd_path(target.get()), "", MS_BIND, "");
  }

  mode_t type = 0;
  switch (d.type) {
    case 'c':
    case 'u': type = S_IFCHR; break;
    case 'b': type = S_IFBLK; break;
    case 'p': type = S_IFIFO; break;
    default: return make_error(std::string("device ") + d.path + ": unknown type " + d.type);
  }
  mode_t perm = d.file_mode ? (*d.file_mode & 07777) : 0666;
  dev_t dev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
  auto r = k.mknodat(parent.fd.get(), name, type | perm, dev);
  if (!r && r.error().err == EEXIST) {
    TRY(k.unlinkat(parent.fd.get(), name, 0));
    r = k.mknodat(parent.fd.get(), name, type | perm, dev);
  }
  if (!r) {
    r.error().path = d.path;
    return r;
  }
  uid_t uid = d.uid.value_or(0);
  gid_t gid = d.gid.value_or(0);
  if (uid == ::geteuid() && gid == ::getegid() && !parent.setgid) return {};  // mknod made it so
  return k.fchownat(parent.fd.get(), name, uid, gid);
}

Result<void> symlink_in_dev(sys::Kernel& k, int dev_fd, const std::string& target, const std::string& name,
                            bool replace) {
  auto r = k.symlinkat(target, dev_fd, name);
  if (!r && r.error().err == EEXIST) {
    if (!replace) return {};
    TRY(k.unlinkat(dev_fd, name, 0));
    r = k.symlinkat(target, dev_fd, name);
  }
  return r;
}

}  // namespace

std::vector<oci::Device> default_devices() {
  auto dev = [](const char* path, int64_t major, int64_t minor) {
    oci::Device d;
    d.path = path;
    d.type = 'c';
    d.major = major;
    d.minor = minor;
    d.file_mode = 0666;
    return d;
  };
  return {dev("/dev/null", 1, 3),   dev("/dev/zero", 1, 5),    dev("/dev/full", 1, 7),
          dev("/dev/random", 1, 8), dev("/dev/urandom", 1, 9), dev("/dev/tty", 5, 0)};
}

Result<void> setup_dev(sys::Kernel& k, const oci::Spec& spec, int root_fd, bool in_userns) {
  if (dev_is_bind_mounted(spec)) return {};
  std::vector<oci::Device> all = default_devices();
  if (spec.linux)
    for (auto& d : spec.linux->devices) {
      // A listed device replaces the default of the same path.
      std::erase_if(all, [&](auto& x) { return x.path == d.path; });
      all.push_back(d);
    }
  Parent parent;
  for (auto& d : all) TRY(create_device(k, root_fd, d, in_userns, parent));

  auto dev = TRY(linux_fs::mkdir_all_in_root(k, root_fd, "/dev", 0755));
  TRY(symlink_in_dev(k, dev.get(), "/proc/self/fd", "fd", false));
  TRY(symlink_in_dev(k, dev.get(), "/proc/self/fd/0", "stdin", false));
  TRY(symlink_in_dev(k, dev.get(), "/proc/self/fd/1", "stdout", false));
  TRY(symlink_in_dev(k, dev.get(), "/proc/self/fd/2", "stderr", false));
  if (k.stat("/proc/kcore")) TRY(symlink_in_dev(k, dev.get(), "/proc/kcore", "core", false));
  // With a private devpts, /dev/ptmx must be that instance's multiplexer.
  if (has_mount(spec, "/dev/pts")) TRY(symlink_in_dev(k, dev.get(), "pts/ptmx", "ptmx", true));
  return {};
}

}  // namespace ns::linux_dev
