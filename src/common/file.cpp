#include "common/file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/fd.hpp"

namespace ns {

namespace {
struct Anchor {
  std::string prefix;
  UniqueFd fd;
};
Anchor& the_anchor() {
  static Anchor a;
  return a;
}
}  // namespace

void anchor_paths(const std::string& prefix) {
  Anchor& a = the_anchor();
  a.fd.reset(::open(prefix.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  a.prefix = a.fd ? prefix : std::string();
}

void forget_path_anchor() {
  Anchor& a = the_anchor();
  (void)a.fd.release();
  a.prefix.clear();
}

AnchoredPath anchored(const std::string& path) {
  const Anchor& a = the_anchor();
  if (a.fd && path.size() > a.prefix.size() + 1 && path.starts_with(a.prefix) && path[a.prefix.size()] == '/')
    return {a.fd.get(), path.c_str() + a.prefix.size() + 1};
  return {AT_FDCWD, path.c_str()};
}

AnchoredPath anchored(int dir_fd, const std::string& path) {
  return dir_fd == AT_FDCWD ? anchored(path) : AnchoredPath{dir_fd, path.c_str()};
}

Result<std::string> read_file(const std::string& path) {
  auto at = anchored(path);
  UniqueFd fd(::openat(at.dir, at.rel, O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error("open", path);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<void> write_all(int fd, std::string_view content, const std::string& path) {
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write", path);
    }
    content.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<void> write_file(const std::string& path, std::string_view content) {
  auto at = anchored(path);
  UniqueFd fd(::openat(at.dir, at.rel, O_WRONLY | O_CLOEXEC));
  if (!fd) return sys_error("open", path);
  return write_all(fd.get(), content, path);
}

Result<void> write_file_atomic(const std::string& path, std::string_view content, mode_t mode) {
  TRY(write_staged_file(path, content, mode));
  return commit_staged_file(path);
}

Result<void> write_staged_file(const std::string& path, std::string_view content, mode_t mode) {
  std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd) return sys_error("open", tmp);
  if (auto r = write_all(fd.get(), content, tmp); !r) {
    ::unlink(tmp.c_str());
    return r;
  }
  return {};
}

Result<void> commit_staged_file(const std::string& path) {
  std::string tmp = path + ".tmp";
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return sys_error("rename", path, e);
  }
  return {};
}

Result<void> mkdir_p(const std::string& path, mode_t mode) {
  if (path.empty() || path[0] != '/') return make_error("mkdir_p needs an absolute path: " + path);
  std::string cur;
  for (auto& part : split(path, '/')) {
    if (part.empty()) continue;
    cur += "/" + part;
    if (::mkdir(cur.c_str(), mode) < 0 && errno != EEXIST) return sys_error("mkdir", cur);
  }
  return {};
}

Result<void> check_private_dir(const std::string& path, const char* what) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return {};
    return sys_error("stat", path);
  }
  std::string where = std::string(what) + " " + path;
  if (S_ISLNK(st.st_mode)) return make_error(where + " is a symlink: refused (it could lead anywhere)");
  if (!S_ISDIR(st.st_mode)) return make_error(where + " is not a directory");
  if (st.st_uid != ::geteuid())
    return make_error(where + " belongs to uid " + std::to_string(st.st_uid) + ", not to us (uid " +
                      std::to_string(::geteuid()) + "): refused, its owner could plant state in it");
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return make_error(where + " is writable by others (mode " + ([&] {
                        char m[8];
                        std::snprintf(m, sizeof m, "%04o", static_cast<unsigned>(st.st_mode & 07777));
                        return std::string(m);
                      })() + "): refused, they could plant state in it");
  return {};
}

Result<std::string> private_runtime_dir(const std::string& leaf, const char* flag) {
  if (::geteuid() == 0) return "/run/" + leaf;
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg && *xdg) return join_path(xdg, leaf);
  std::string user_run = "/run/user/" + std::to_string(::geteuid());
  struct stat st{};
  if (::lstat(user_run.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid()) return join_path(user_run, leaf);
  return make_error(std::string("no private place for state: XDG_RUNTIME_DIR is not set and ") + user_run +
                    " is not yours; set XDG_RUNTIME_DIR or pass " + flag + " DIR");
}

static Result<void> remove_at(int dirfd, const char* name, dev_t dev) {
  struct stat st{};
  if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return {};
    return sys_error("stat", name);
  }
  if (S_ISDIR(st.st_mode) && st.st_dev == dev) {
    UniqueFd d(::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d) return sys_error("open", name);
    DIR* dir = ::fdopendir(::dup(d.get()));
    if (!dir) return sys_error("opendir", name);
    while (struct dirent* ent = ::readdir(dir)) {
      std::string_view n = ent->d_name;
      if (n == "." || n == "..") continue;
      if (auto r = remove_at(d.get(), ent->d_name, dev); !r) {
        ::closedir(dir);
        return r;
      }
    }
    ::closedir(dir);
    if (::unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) return sys_error("rmdir", name);
    return {};
  }
  if (::unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) return sys_error("unlink", name);
  return {};
}

Result<void> remove_tree(const std::string& path) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return {};
    return sys_error("stat", path);
  }
  if (auto r = remove_at(AT_FDCWD, path.c_str(), st.st_dev); !r) {
    r.error().path = path;
    return r;
  }
  return {};
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string join_path(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  if (b.empty()) return out;
  if (out.empty() || out.back() != '/') out += '/';
  out += b;
  return out;
}

std::string path_dirname(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

std::string path_basename(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? path : path.substr(pos + 1);
}

bool path_exists(const std::string& path) {
  struct stat st{};
  auto at = anchored(path);
  return ::fstatat(at.dir, at.rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

std::string rfc3339_now() {
  struct timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  // By hand, not strftime or gmtime_r: on their first call both load the time zone
  // (/etc/localtime: six system calls on create's path), which UTC does not need.
  using namespace std::chrono;
  const sys_seconds t{seconds{ts.tv_sec}};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02lld.%09ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<long long>(hms.seconds().count()),
                static_cast<long>(ts.tv_nsec));
  return buf;
}

}  // namespace ns
