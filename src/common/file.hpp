// Small file helpers with errno-carrying errors.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace ns {

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
