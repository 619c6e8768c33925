// Small file helpers with errno-carrying errors.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace ns {

// Paths under one directory opened ahead (the anchor), resolved from its fd instead of from "/".
// create anchors /sys/fs/cgroup before its network namespace thread starts: walking sysfs's own
// directories on the way there (/sys, /sys/fs) waits on sysfs's lock, which making a network
// namespace holds for writing while it adds the namespace's devices to sysfs; from the anchor,
// a cgroup path crosses only the cgroup file systems. read_file, write_file, path_exists and
// the real kernel's path calls go through it; a path elsewhere is resolved as it always is, and
// errors still name the path as given.
struct AnchoredPath {
  int dir;          // the anchor's fd, or AT_FDCWD
  const char* rel;  // the rest of the path (into the caller's string), or the path itself
};
// Sets the anchor to PREFIX (absolute, no trailing '/'), when it opens as a directory; any
// earlier anchor goes. The fd is close-on-exec and stays open until the process ends.
void anchor_paths(const std::string& prefix);
// A process that closes the fds it inherited (a container's init) forgets the anchor: its fd
// is closed with the rest, and its number may be reused.
void forget_path_anchor();
AnchoredPath anchored(const std::string& path);
// PATH under DIR_FD: anchored(PATH) when DIR_FD is AT_FDCWD, else as given.
AnchoredPath anchored(int dir_fd, const std::string& path);

Result<std::string> read_file(const std::string& path);
// write(2) until all of CONTENT is out, retrying EINTR; PATH names the target in errors.
Result<void> write_all(int fd, std::string_view content, const std::string& path);
// Writes the whole content to an existing file (cgroup, /proc knobs): no create, no truncate dance.
Result<void> write_file(const std::string& path, std::string_view content);
// Writes to PATH.tmp and renames over PATH, so a reader sees the old or the new file, never half.
Result<void> write_file_atomic(const std::string& path, std::string_view content, mode_t mode = 0644);
// write_file_atomic in two steps: the content goes to PATH.tmp now, and becomes PATH (rename)
// at commit_staged_file; a reader never sees a partial PATH.
Result<void> write_staged_file(const std::string& path, std::string_view content, mode_t mode = 0644);
Result<void> commit_staged_file(const std::string& path);
// mkdir -p; existing directories are fine.
Result<void> mkdir_p(const std::string& path, mode_t mode = 0755);
// A directory that state lives in, which later commands act on (hooks run from it, pids are
// signalled): it must be ours alone. Missing is fine (the caller makes it, mode 0700 or 0711);
// otherwise a real directory (not a symlink), owned by the effective uid and writable by nobody
// else. WHAT names it in the error ("the state root").
Result<void> check_private_dir(const std::string& path, const char* what);
// Where a command's state lives by default: /run/LEAF as root; $XDG_RUNTIME_DIR/LEAF otherwise,
// or /run/user/UID/LEAF when that directory is the user's. Never a shared place such as /tmp,
// where another user could have made it first. FLAG names the option that chooses another.
Result<std::string> private_runtime_dir(const std::string& leaf, const char* flag);
// rm -rf of a directory tree we own (state dirs); does not cross mount points.
Result<void> remove_tree(const std::string& path);

std::vector<std::string> split(std::string_view s, char sep);
std::string join_path(std::string_view a, std::string_view b);
// "/a/b/c" -> "/a/b" and "c"; "/c" -> "/" and "c".
std::string path_dirname(const std::string& path);
std::string path_basename(const std::string& path);
bool path_exists(const std::string& path);
// Seconds since the epoch as RFC 3339 with nanoseconds, UTC ("2026-11-23T13:37:58.123456789Z").
std::string rfc3339_now();

}  // namespace ns
