// The container's filesystem view: the rootfs bind, every mount of config.json, pivot_root,
// masked and read-only paths, the read-only root. Mount destinations are always resolved inside
// the rootfs (openat2 RESOLVE_IN_ROOT) and mounted through the resolved fd, so a symlink in the
// image cannot point a mount at the host.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "explain/narration.hpp"
#include "common/fd.hpp"
#include "oci/spec.hpp"
#include "sys/kernel.hpp"

namespace ns::linux_fs {

// One filesystem to mount under the container's /sys/fs/cgroup for a `cgroup` mount.
struct CgroupMount {
  std::string subdir;   // "" for the v2 root itself, "memory", "cpu,cpuacct", "unified" ...
  std::string fstype;   // "cgroup" or "cgroup2"
  std::string options;  // "memory", "none,name=systemd", ""
  std::string own_dir;  // the container's own cgroup in this hierarchy, on the host ("" when none)
};

struct RootfsContext {
  const oci::Spec* spec = nullptr;
  std::string bundle;  // absolute
  std::string rootfs;  // absolute host path of root.path
  bool no_pivot = false;
  bool in_userns = false;
  std::vector<CgroupMount> cgroup_mounts;
  // With a cgroup namespace a fresh cgroup mount shows the container's cgroup as its root;
  // without one it would show the host's whole tree, so the container's own cgroup is bound.
  bool cgroupns = false;
  std::string mount_label;  // linux.mountLabel, on a host with SELinux ("" otherwise)
  // Called before each sysfs mount: a sysfs mount shows the network devices of the namespace
  // it is made from, and the child may enter its network namespace only then (NetnsThread).
  std::function<Result<void>()> before_sysfs;
};

// Resolves PATH inside ROOT_FD, creating missing directories with MODE; an O_PATH fd of the last.
Result<UniqueFd> mkdir_all_in_root(sys::Kernel& k, int root_fd, const std::string& path, mode_t mode);
// As mkdir_all_in_root for the parent, then creates an empty file PATH if missing.
Result<UniqueFd> create_file_in_root(sys::Kernel& k, int root_fd, const std::string& path, mode_t mode);

// 1. make "/" rslave (or rootfsPropagation) so nothing we mount leaks to the host, and bind the
//    rootfs onto itself so it is a mount point pivot_root accepts. Returns an fd of the rootfs.
Result<UniqueFd> prepare_rootfs(sys::Kernel& k, const RootfsContext& ctx);
// 2. every entry of config.json "mounts", in order, in two parts: the entries before the first
//    cgroup one, which need nothing from the runtime; then that one and the rest, once the
//    container's cgroup exists and holds the child (a cgroup mount shows that cgroup).
Result<void> mount_before_cgroup(sys::Kernel& k, const RootfsContext& ctx, int root_fd);
Result<void> mount_from_cgroup(sys::Kernel& k, const RootfsContext& ctx, int root_fd);
// 3. pivot_root into the rootfs and detach the old root (or MS_MOVE + chroot with --no-pivot).
Result<void> enter_rootfs(sys::Kernel& k, const RootfsContext& ctx);
// 4. after pivot: rootfsPropagation, maskedPaths, readonlyPaths, readonly root.
Result<void> finalize_rootfs(sys::Kernel& k, const RootfsContext& ctx);

Result<void> mask_paths(sys::Kernel& k, const std::vector<std::string>& paths);
Result<void> readonly_paths(sys::Kernel& k, const std::vector<std::string>& paths);

namespace narration {
extern const explain::Narration kRootfs, kMounts, kCgroupMounts, kPivotRoot, kFinalizeRootfs;
}

}  // namespace ns::linux_fs
