#include "linux/fs/rootfs.hpp"

#include <algorithm>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/file.hpp"
#include "common/log.hpp"
#include "linux/fs/mount_options.hpp"

namespace ns::linux_fs {

namespace narration {
const explain::Narration kRootfs{
    "rootfs", "root.path, linux.rootfsPropagation",
    "Our mount namespace is a copy of the host's, and with shared propagation a mount made in it would appear on "
    "the host too. So / is made slave first (mounts flow in from the host, never back out). Then the rootfs is "
    "bind-mounted onto itself, because pivot_root needs the new root to be a mount point."};
const explain::Narration kMounts{
    "mounts", "mounts",
    "Every entry of config.json's mounts, in order: proc, a tmpfs for /dev, devpts, sysfs, binds from the host. "
    "Each destination is resolved inside the rootfs (openat2 with RESOLVE_IN_ROOT) and mounted through the fd "
    "that names it, so a symlink planted in the image cannot aim a mount at the host."};
const explain::Narration kCgroupMounts{
    "cgroup-mounts", "mounts",
    "From the first cgroup mount on, the entries need the container's cgroup: /sys/fs/cgroup shows that cgroup "
    "as its root (a fresh mount in a cgroup namespace, or a bind of its directory in every v1 hierarchy), and "
    "the mounts after it go on top. They are resolved inside the rootfs like the others."};
const explain::Narration kPivotRoot{
    "pivot-root", "root.path",
    "pivot_root makes the rootfs the root of our mount namespace and puts the old root under it, where it is "
    "unmounted at once: no path leads back to the host any more. chroot (used only with --no-pivot) would "
    "change how this process looks paths up but leave the host's root mounted and reachable."};
const explain::Narration kFinalizeRootfs{
    "finalize-rootfs", "linux.maskedPaths, linux.readonlyPaths, root.readonly",
    "Files under /proc and /sys that control the whole host get /dev/null or an empty read-only tmpfs over "
    "them (masked) or become read-only binds. /dev/null is checked to be the null device (char 1:3), never "
    "followed as a symlink: an image may put a link into /proc/sys there. Last, with root.readonly, the rootfs "
    "itself becomes read-only."};
}  // namespace narration
namespace {

// Flags a remount must keep: the kernel refuses to clear nosuid/nodev/noexec (and the atime
// flags) that a less privileged mount namespace inherited locked.
constexpr unsigned long kLockedFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME;

std::string clean_dest(const std::string& dest) {
  if (!dest.empty() && dest[0] == '/') return dest;
  return "/" + dest;  // runc accepts relative destinations as relative to "/"
}

// Copies the content of SRC_DIR into DST_DIR (tmpcopyup): directories, files, symlinks, modes
// and owners. Both are fds, so the copy cannot wander outside either tree.
Result<void> copy_tree(int src_dir, int dst_dir) {
  int dup_fd = ::dup(src_dir);
  if (dup_fd < 0) return sys_error("dup");
  DIR* d = ::fdopendir(dup_fd);
  if (!d) {
    ::close(dup_fd);
    return sys_error("opendir");
  }
  ::rewinddir(d);
  Result<void> result;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st{};
    if (::fstatat(src_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      result = sys_error("stat", name);
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(dst_dir, name.c_str(), st.st_mode & 07777) < 0 && errno != EEXIST) {
        result = sys_error("mkdir", name);
        break;
      }
      UniqueFd s(::openat(src_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd t(::openat(dst_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!s || !t) {
        result = sys_error("open", name);
        break;
      }
      if (result = copy_tree(s.get(), t.get()); !result) break;
    } else if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t n = ::readlinkat(src_dir, name.c_str(), buf, sizeof buf - 1);
      if (n < 0) {
        result = sys_error("readlink", name);
        break;
      }
      buf[n] = 0;
      if (::symlinkat(buf, dst_dir, name.c_str()) < 0 && errno != EEXIST) {
        result = sys_error("symlink", name);
        break;
      }
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd s(::openat(src_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd t(::openat(dst_dir, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                          st.st_mode & 07777));
      if (!s || !t) {
        result = sys_error("open", name);
        break;
      }
      char buf[65536];
      ssize_t n;
      while ((n = ::read(s.get(), buf, sizeof buf)) > 0)
        if (::write(t.get(), buf, static_cast<size_t>(n)) != n) {
          n = -1;
          break;
        }
      if (n < 0) {
        result = sys_error("copy", name);
        break;
      }
    } else {
      if (::mknodat(dst_dir, name.c_str(), st.st_mode, st.st_rdev) < 0 && errno != EEXIST) {
        result = sys_error("mknod", name);
        break;
      }
    }
    (void)::fchownat(dst_dir, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
    if (!S_ISLNK(st.st_mode)) (void)::fchmodat(dst_dir, name.c_str(), st.st_mode & 07777, 0);
  }
  ::closedir(d);
  return result;
}

Result<void> apply_propagation(sys::Kernel& k, const std::string& target, const std::vector<unsigned long>& props) {
  for (unsigned long p : props) TRY(k.mount("", target, "", p, ""));
  return {};
}

// What a mount gets once it is in place: the recursive attributes ("rro", "rnosuid", ...) over the
// whole subtree, then the propagation changes.
Result<void> finish_mount(sys::Kernel& k, const std::string& target, const std::string& dest, const MountOptions& o) {
  if (o.rec_set || o.rec_clear) {
    if (auto r = k.mount_setattr(target, o.rec_set, o.rec_clear, true); !r) {
      Error e = r.error();
      e.path = dest;
      if (e.err == ENOSYS) e.msg = "recursive mount options (rro, rnosuid, ...) need Linux 5.12 or later";
      return std::unexpected(e);
    }
  }
  return apply_propagation(k, target, o.propagation);
}

Result<void> mount_cgroup(sys::Kernel& k, const RootfsContext& ctx, int root_fd, const std::string& dest,
                          const MountOptions& o) {
  auto fd = TRY(mkdir_all_in_root(k, root_fd, dest, 0755));
  unsigned long flags = o.flags & ~MS_REMOUNT;
  // The flags a bind of our own directory gets, named by PATH under BASE (the bind's root now):
  // a remount each, where one recursive mount_setattr for them all is not to be had.
  auto remount_bind = [&](int base, const std::string& path) -> Result<void> {
    auto bound = TRY(k.open_in_root(base, path, O_PATH | O_DIRECTORY));
    return k.mount("", sys::fd_path(bound.get()), "", MS_BIND | MS_REMOUNT | (flags & ~MS_BIND), "");
  };
  // The container's cgroup in one hierarchy at TARGET: a fresh mount inside a cgroup namespace
  // (its root is the container's cgroup), else a bind of its own directory.
  auto fresh = [&](const CgroupMount& cm) { return ctx.cgroupns || cm.own_dir.empty(); };
  auto one = [&](const CgroupMount& cm, const UniqueFd& target) -> Result<void> {
    if (fresh(cm)) return k.mount(cm.fstype, sys::fd_path(target.get()), cm.fstype, flags, cm.options);
    return k.mount(cm.own_dir, sys::fd_path(target.get()), "", MS_BIND | MS_REC, "");
  };
  // v2: one cgroup2 filesystem.
  if (ctx.cgroup_mounts.size() == 1 && ctx.cgroup_mounts[0].subdir.empty()) {
    TRY(one(ctx.cgroup_mounts[0], fd));
    return fresh(ctx.cgroup_mounts[0]) ? Result<void>{} : remount_bind(root_fd, dest);
  }
  // v1: a tmpfs holding one mount per hierarchy, made read-only at the end like the others. The
  // tmpfs is ours alone and fresh (nothing in the container runs yet): its directories are made
  // and named relative to it, without walking the whole path inside the rootfs again each time.
  TRY(k.mount("tmpfs", sys::fd_path(fd.get()), "tmpfs", (flags & ~MS_RDONLY), "mode=755"));
  auto tmp = TRY(k.open_in_root(root_fd, dest, O_PATH | O_DIRECTORY));
  for (auto& cm : ctx.cgroup_mounts) {
    TRY(k.mkdirat(tmp.get(), cm.subdir, 0755));
    TRY(one(cm, TRY(k.open_in_root(tmp.get(), cm.subdir, O_PATH | O_DIRECTORY))));
    // Co-mounted controllers ("cpu,cpuacct") are also reachable under each name.
    if (cm.subdir.find(',') != std::string::npos)
      for (auto& name : split(cm.subdir, ','))
        if (auto r = k.symlinkat(cm.subdir, tmp.get(), name); !r && r.error().err != EEXIST) return r;
  }
  // The flags of the binds and the tmpfs: all at once, on the tmpfs and every mount under it
  // (mount_setattr, AT_RECURSIVE: the flags exactly, as a remount sets them); a remount each on
  // kernels before 5.12, or when some hierarchy got a fresh mount with flags of its own.
  if (std::none_of(ctx.cgroup_mounts.begin(), ctx.cgroup_mounts.end(), fresh)) {
    auto [set, clear] = mount_attrs_of(flags);
    auto r = k.mount_setattr(sys::fd_path(tmp.get()), set, clear, true);
    if (r || r.error().err != ENOSYS) return r;
  }
  for (auto& cm : ctx.cgroup_mounts)
    if (!fresh(cm)) TRY(remount_bind(tmp.get(), cm.subdir));
  if (flags & MS_RDONLY)
    TRY(k.mount("", sys::fd_path(tmp.get()), "", MS_REMOUNT | MS_RDONLY | (flags & kLockedFlags), "mode=755"));
  return {};
}

// proc and sysfs must be at the path they are named by: the runtime and the masks find them
// there (/proc/self/fd, /proc/sys, /sys/firmware), and a symlink in the image would put them
// elsewhere, the masks following them (the CVE-2023-28642 class). Each component is looked at
// without following it, in order, so the first symlink on the way is the one reported.
static Result<void> no_symlink_on_the_way(sys::Kernel& k, int root_fd, const std::string& dest, const std::string& type) {
  std::string prefix;
  for (auto& part : split(dest, '/')) {
    if (part.empty()) continue;
    prefix += "/" + part;
    auto fd = k.open_in_root(root_fd, prefix, O_PATH | O_NOFOLLOW);
    if (!fd) {
      if (fd.error().err == ENOENT) return {};  // made below, as a directory
      return std::unexpected(fd.error());
    }
    auto st = TRY(k.fstat(fd->get()));
    if (S_ISLNK(st.st_mode))
      return make_error("mount " + type + " on " + dest + ": " + prefix + " is a symlink in the rootfs: refused (" + type +
                        " must be at the path it is named by)");
  }
  return {};
}

Result<void> mount_one(sys::Kernel& k, const RootfsContext& ctx, int root_fd, const oci::Mount& m) {
  MountOptions o = TRY(parse_mount_options(m.options));
  std::string dest = clean_dest(m.destination);
  if (m.type == "bind") o.bind = true;

  if (m.type == "cgroup") return mount_cgroup(k, ctx, root_fd, dest, o);
  if (m.type == "sysfs" && !o.bind && ctx.before_sysfs) TRY(ctx.before_sysfs());

  if (o.bind) {
    std::string src = m.source;
    if (src.empty()) return make_error("mount " + dest + ": bind mount without a source");
    if (src[0] != '/') src = join_path(ctx.bundle, src);
    auto st = k.stat(src);
    if (!st) {
      Error e = st.error();
      e.op = "mount source";
      return std::unexpected(e);
    }
    UniqueFd target = S_ISDIR(st->st_mode) ? TRY(mkdir_all_in_root(k, root_fd, dest, 0755))
                                           : TRY(create_file_in_root(k, root_fd, dest, 0644));
    unsigned long rec = o.recursive ? MS_REC : 0;
    if (auto r = k.mount(src, sys::fd_path(target.get()), "", MS_BIND | rec, ""); !r) {
      Error e = r.error();
      e.op = "mount \"" + src + "\" on";
      e.path = dest;
      return std::unexpected(e);
    }
    // The fd names the directory under the new mount: reopen to reach the mount itself.
    auto mounted = TRY(k.open_in_root(root_fd, dest, O_PATH));
    unsigned long want = o.flags & ~MS_REMOUNT;
    if (want != 0) {
      unsigned long keep = TRY(k.mount_flags(sys::fd_path(mounted.get()))) & kLockedFlags & ~o.cleared;
      TRY(k.mount("", sys::fd_path(mounted.get()), "", MS_BIND | MS_REMOUNT | rec | want | keep, ""));
    }
    return finish_mount(k, sys::fd_path(mounted.get()), dest, o);
  }

  if (m.type == "proc" || m.type == "sysfs") TRY(no_symlink_on_the_way(k, root_fd, dest, m.type));
  auto target = TRY(mkdir_all_in_root(k, root_fd, dest, 0755));
  UniqueFd old_content;
  if (o.tmpcopyup) {
    if (m.type != "tmpfs") return make_error("mount " + dest + ": tmpcopyup needs a tmpfs mount");
    old_content = TRY(k.open_in_root(root_fd, dest, O_RDONLY | O_DIRECTORY));
  }
  std::string data = o.data;
  // SELinux (linux.mountLabel): the filesystems the runtime makes carry the container's file
  // label, as runc labels them; binds, proc and sysfs keep their own.
  if (!ctx.mount_label.empty() && (m.type == "tmpfs" || m.type == "devpts" || m.type == "mqueue" || m.type == "shm"))
    data += (data.empty() ? "" : ",") + std::string("context=\"") + ctx.mount_label + "\"";
  if (auto r = k.mount(m.source, sys::fd_path(target.get()), m.type, o.flags, data); !r) {
    Error e = r.error();
    e.op = "mount \"" + (m.source.empty() ? m.type : m.source) + "\" on";
    e.path = dest;
    return std::unexpected(e);
  }
  // The fd names the directory under the new mount: what follows needs the mount itself.
  if (!o.tmpcopyup && !o.rec_set && !o.rec_clear && o.propagation.empty()) return {};
  auto mounted = TRY(k.open_in_root(root_fd, dest, O_PATH));
  if (o.tmpcopyup) {
    auto fresh = TRY(k.open_in_root(root_fd, dest, O_RDONLY | O_DIRECTORY));
    if (auto r = copy_tree(old_content.get(), fresh.get()); !r) {
      Error e = r.error();
      e.msg = "tmpcopyup into " + dest;
      return std::unexpected(e);
    }
  }
  return finish_mount(k, sys::fd_path(mounted.get()), dest, o);
}

// The mount point under which PATH lives, from /proc/self/mountinfo (longest prefix wins).
Result<std::string> parent_mount_point(sys::Kernel& k, const std::string& path) {
  std::string info = TRY(k.read_file("/proc/self/mountinfo"));
  std::string best = "/";
  for (auto& line : split(info, '\n')) {
    auto fields = split(line, ' ');
    if (fields.size() < 5) continue;
    const std::string& mp = fields[4];
    if ((path == mp || path.starts_with(mp == "/" ? mp : mp + "/")) && mp.size() > best.size()) best = mp;
  }
  return best;
}

}  // namespace

static Result<UniqueFd> mkdir_all_depth(sys::Kernel& k, int root_fd, const std::string& path, mode_t mode,
                                        int depth) {
  if (depth > 40) return std::unexpected(Error{ELOOP, "mkdir", path, {}, {}});
  // Most destinations exist already (/proc, /dev, /sys in an image): one lookup, no walk.
  if (auto whole = k.open_in_root(root_fd, path, O_PATH | O_DIRECTORY); whole || whole.error().err != ENOENT)
    return whole;
  // Most of the others miss their last component only (/dev/pts in the /dev tmpfs): the parent,
  // the directory, and it. Anything else (a missing parent, a dangling symlink) takes the walk.
  if (size_t slash = path.find_last_of('/'); depth == 0 && slash != std::string::npos && slash + 1 < path.size()) {
    std::string last = path.substr(slash + 1);
    if (last != "." && last != "..") {
      if (auto parent = k.open_in_root(root_fd, slash == 0 ? "/" : path.substr(0, slash), O_PATH | O_DIRECTORY)) {
        if (k.mkdirat(parent->get(), last, mode)) return k.open_in_root(root_fd, path, O_PATH | O_DIRECTORY);
      }
    }
  }
  std::string prefix;
  UniqueFd last_fd;
  auto parts = split(path, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (part.empty() || part == ".") continue;
    std::string next = prefix + "/" + part;
    auto fd = k.open_in_root(root_fd, next, O_PATH | O_DIRECTORY);
    if (!fd && fd.error().err == ENOENT) {
      auto parent = TRY(k.open_in_root(root_fd, prefix.empty() ? "/" : prefix, O_PATH | O_DIRECTORY));
      auto made = k.mkdirat(parent.get(), part, mode);
      if (!made && made.error().err == EEXIST) {
        // A dangling symlink: create what it points to, inside the root, and go on from there.
        if (auto link = k.readlinkat(parent.get(), part)) {
          std::string target = (*link)[0] == '/' ? *link : prefix + "/" + *link;
          std::string rest;
          for (size_t j = i + 1; j < parts.size(); ++j) rest += "/" + parts[j];
          return mkdir_all_depth(k, root_fd, target + rest, mode, depth + 1);
        }
      } else if (!made) {
        made.error().path = next;
        return std::unexpected(made.error());
      }
      fd = k.open_in_root(root_fd, next, O_PATH | O_DIRECTORY);
    }
    if (!fd) return std::unexpected(fd.error());
    prefix = next;
    last_fd = std::move(*fd);
  }
  if (last_fd) return last_fd;
  return k.open_in_root(root_fd, "/", O_PATH | O_DIRECTORY);
}

Result<UniqueFd> mkdir_all_in_root(sys::Kernel& k, int root_fd, const std::string& path, mode_t mode) {
  return mkdir_all_depth(k, root_fd, path, mode, 0);
}

Result<UniqueFd> create_file_in_root(sys::Kernel& k, int root_fd, const std::string& path, mode_t mode) {
  (void)TRY(mkdir_all_in_root(k, root_fd, path_dirname(path), 0755));
  auto existing = k.open_in_root(root_fd, path, O_PATH);
  if (existing) return existing;
  auto created = TRY(k.open_in_root(root_fd, path, O_CREAT | O_WRONLY, mode));
  (void)created;
  return k.open_in_root(root_fd, path, O_PATH);
}

Result<UniqueFd> prepare_rootfs(sys::Kernel& k, const RootfsContext& ctx) {
  const auto& lin = ctx.spec->linux;
  std::string prop_name = lin ? lin->rootfs_propagation : "";
  unsigned long prop = TRY(propagation_flags(prop_name));
  if (prop == 0) prop = MS_SLAVE | MS_REC;
  // Our mounts must not show up on the host, and the host's later mounts should still reach us.
  TRY(k.mount("", "/", "", prop, ""));
  // pivot_root refuses a new root whose parent mount is shared: make that one private.
  if (prop & MS_SHARED) {
    std::string parent = TRY(parent_mount_point(k, ctx.rootfs));
    TRY(k.mount("", parent, "", MS_PRIVATE, ""));
  }
  TRY(k.mount(ctx.rootfs, ctx.rootfs, "", MS_BIND | MS_REC, ""));
  return k.open(ctx.rootfs, O_PATH | O_DIRECTORY);
}

namespace {
size_t first_cgroup_mount(const RootfsContext& ctx) {
  auto& ms = ctx.spec->mounts;
  auto it = std::find_if(ms.begin(), ms.end(), [](const oci::Mount& m) { return m.type == "cgroup" || m.type == "cgroup2"; });
  return static_cast<size_t>(it - ms.begin());
}
}  // namespace

Result<void> mount_before_cgroup(sys::Kernel& k, const RootfsContext& ctx, int root_fd) {
  size_t end = first_cgroup_mount(ctx);
  for (size_t i = 0; i < end; ++i) TRY(mount_one(k, ctx, root_fd, ctx.spec->mounts[i]));
  return {};
}

Result<void> mount_from_cgroup(sys::Kernel& k, const RootfsContext& ctx, int root_fd) {
  for (size_t i = first_cgroup_mount(ctx); i < ctx.spec->mounts.size(); ++i)
    TRY(mount_one(k, ctx, root_fd, ctx.spec->mounts[i]));
  return {};
}

Result<void> enter_rootfs(sys::Kernel& k, const RootfsContext& ctx) {
  if (ctx.no_pivot) {
    TRY(k.chdir(ctx.rootfs));
    TRY(k.mount(ctx.rootfs, "/", "", MS_MOVE, ""));
    TRY(k.chroot("."));
    return k.chdir("/");
  }
  auto old_root = TRY(k.open("/", O_DIRECTORY | O_RDONLY));
  auto new_root = TRY(k.open(ctx.rootfs, O_DIRECTORY | O_RDONLY));
  TRY(k.fchdir(new_root.get()));
  // pivot_root(".", "."): the old root ends up stacked on the new one, no put_old dir needed.
  TRY(k.pivot_root(".", "."));
  TRY(k.fchdir(old_root.get()));
  // Slave first, so detaching the old root does not unmount anything on the host.
  TRY(k.mount("", ".", "", MS_SLAVE | MS_REC, ""));
  TRY(k.umount2(".", MNT_DETACH));
  return k.chdir("/");
}

// Calls FN(root_fd, path, fd) for every path of PATHS that exists in the container ("/" now);
// a missing path is skipped, as runc skips it.
template <class Fn>
static Result<void> for_each_existing(sys::Kernel& k, const std::vector<std::string>& paths, Fn&& fn) {
  auto root = TRY(k.open("/", O_PATH | O_DIRECTORY));
  for (const auto& p : paths) {
    auto fd = k.open_in_root(root.get(), p, O_PATH);
    if (!fd) {
      if (fd.error().err == ENOENT) continue;
      return std::unexpected(fd.error());
    }
    TRY(fn(root.get(), p, fd->get()));
  }
  return {};
}

// The container's /dev/null, which masked files are bound to, opened without following a
// symlink and checked to be the null device (char 1:3): a /dev from the image or a bind mount may
// hold anything under that name, and a masked path bound to a symlink into /proc/sys would be a
// writable host sysctl (the CVE-2025-31133 class).
static Result<UniqueFd> open_null_device(sys::Kernel& k, int root) {
  auto fd = k.open_in_root(root, "/dev/null", O_PATH | O_NOFOLLOW);
  if (!fd) {
    Error e = fd.error();
    e.msg = "maskedPaths: the container's /dev/null cannot be opened";
    return std::unexpected(e);
  }
  auto st = TRY(k.fstat(fd->get()));
  if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
    return make_error(std::string("maskedPaths: the container's /dev/null is not the null device (char 1:3) but ") +
                      (S_ISLNK(st.st_mode)   ? "a symlink"
                       : S_ISCHR(st.st_mode) ? "char device " + std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev))
                       : S_ISDIR(st.st_mode) ? "a directory"
                                             : "a file") +
                      ": masked files would be bound to it");
  return fd;
}

Result<void> mask_paths(sys::Kernel& k, const std::vector<std::string>& paths) {
  UniqueFd null_dev;
  return for_each_existing(k, paths, [&](int root, const std::string&, int fd) -> Result<void> {
    auto st = TRY(k.fstat(fd));
    if (S_ISDIR(st.st_mode)) return k.mount("tmpfs", sys::fd_path(fd), "tmpfs", MS_RDONLY, "");
    if (!null_dev) null_dev = TRY(open_null_device(k, root));
    return k.mount(sys::fd_path(null_dev.get()), sys::fd_path(fd), "", MS_BIND, "");
  });
}

// The mount at PATH read-only (RECURSIVE: and every mount under it), its other flags as they
// are: mount_setattr changes only what it is told; before 5.12, a remount that keeps the flags
// a remount may not drop.
static Result<void> make_readonly(sys::Kernel& k, const std::string& path, bool recursive) {
  auto r = k.mount_setattr(path, MOUNT_ATTR_RDONLY, 0, recursive);
  if (r || r.error().err != ENOSYS) return r;
  unsigned long keep = TRY(k.mount_flags(path)) & kLockedFlags;
  return k.mount("", path, "", MS_BIND | MS_REMOUNT | MS_RDONLY | (recursive ? MS_REC : 0) | keep, "");
}

Result<void> readonly_paths(sys::Kernel& k, const std::vector<std::string>& paths) {
  return for_each_existing(k, paths, [&](int root, const std::string& p, int fd) -> Result<void> {
    TRY(k.mount(sys::fd_path(fd), sys::fd_path(fd), "", MS_BIND | MS_REC, ""));
    auto mounted = TRY(k.open_in_root(root, p, O_PATH));
    return make_readonly(k, sys::fd_path(mounted.get()), true);
  });
}

Result<void> finalize_rootfs(sys::Kernel& k, const RootfsContext& ctx) {
  const oci::Spec& s = *ctx.spec;
  if (s.linux) {
    if (!s.linux->rootfs_propagation.empty())
      TRY(k.mount("", "/", "", TRY(propagation_flags(s.linux->rootfs_propagation)), ""));
    TRY(mask_paths(k, s.linux->masked_paths));
    TRY(readonly_paths(k, s.linux->readonly_paths));
  }
  // The root mount alone: the mounts on it keep their own flags.
  if (s.root.readonly) TRY(make_readonly(k, "/", false));
  return {};
}

}  // namespace ns::linux_fs
