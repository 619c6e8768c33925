#include "linux/process/passed_fds.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <string>
#include <string_view>
#include <utility>

namespace ns::linux_process {

PassedFds::PassedFds(PassedFds&& o) noexcept
    : count_(std::exchange(o.count_, 0)), passed_(std::move(o.passed_)), placeholders_(std::move(o.placeholders_)) {
  o.passed_.clear();
  o.placeholders_.clear();
}

PassedFds& PassedFds::operator=(PassedFds&& o) noexcept {
  if (this != &o) {
    for (int fd : placeholders_) ::close(fd);
    count_ = std::exchange(o.count_, 0);
    passed_ = std::move(o.passed_);
    placeholders_ = std::move(o.placeholders_);
    o.passed_.clear();
    o.placeholders_.clear();
  }
  return *this;
}

PassedFds::~PassedFds() {
  for (int fd : placeholders_) ::close(fd);
}

Result<PassedFds> PassedFds::claim(int count, std::span<const int> runtime_fds) {
  PassedFds out;
  if (count < 0) return make_error("the number of fds to pass (--preserve-fds, LISTEN_FDS) must not be negative");
  if (count == 0) return out;
  struct rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) < 0) return sys_error("getrlimit RLIMIT_NOFILE");
  if (lim.rlim_cur != RLIM_INFINITY && static_cast<rlim_t>(count) + 3 > lim.rlim_cur)
    return make_error("cannot pass " + std::to_string(count) + " fds (3 .. " + std::to_string(2 + count) +
                      "): the fd limit is " + std::to_string(lim.rlim_cur));
  out.count_ = count;
  int null_fd = -1;
  for (int fd = 3; fd < 3 + count; ++fd) {
    bool ours = std::find(runtime_fds.begin(), runtime_fds.end(), fd) != runtime_fds.end();
    if (::fcntl(fd, F_GETFD) >= 0) {
      if (!ours) out.passed_.push_back(fd);
      continue;
    }
    if (errno != EBADF) return sys_error("fcntl F_GETFD", std::to_string(fd));
    // A hole: a placeholder takes the number.
    if (null_fd < 0) {
      null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (null_fd < 0) return sys_error("open", "/dev/null");
      if (null_fd == fd) {  // the lowest free number: this very hole
        out.placeholders_.push_back(fd);
        continue;
      }
    }
    if (::dup3(null_fd, fd, O_CLOEXEC) < 0) return sys_error("dup3 (a placeholder for a hole among the passed fds)", std::to_string(fd));
    out.placeholders_.push_back(fd);
  }
  // The /dev/null fd itself, when it is not one of the placeholders, was only their source.
  if (null_fd >= 0 && std::find(out.placeholders_.begin(), out.placeholders_.end(), null_fd) == out.placeholders_.end())
    ::close(null_fd);
  return out;
}

Result<const PassedFds*> PassedFds::claimed(const std::shared_ptr<const PassedFds>& shared, int count) {
  static const PassedFds kNone;
  const PassedFds* p = shared ? shared.get() : &kNone;
  if (p->count() != count)
    return make_error("the fds to pass (" + std::to_string(count) + ") were not claimed before the runtime opened its own");
  return p;
}

Result<void> PassedFds::prepare_for_exec() const {
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    // Kernels before 5.11: one by one, as far as the limit goes.
    long max = ::sysconf(_SC_OPEN_MAX);
    for (int fd = 3; fd < (max > 0 ? max : 65536); ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  for (int fd : passed_) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0) return sys_error("fcntl F_GETFD", std::to_string(fd) + " (an fd to pass)");
    if (::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0) return sys_error("fcntl F_SETFD", std::to_string(fd));
  }
  return {};
}

Result<int> listen_fds_for(const char* fds, const char* pid, pid_t self) {
  if (!fds || !*fds) return 0;
  std::string_view p = pid ? pid : "";
  long owner = 0;
  auto [pe, pec] = std::from_chars(p.data(), p.data() + p.size(), owner);
  if (p.empty() || pec != std::errc() || pe != p.data() + p.size() || owner != self) return 0;  // not meant for us
  std::string_view f = fds;
  int n = -1;
  auto [fe, fec] = std::from_chars(f.data(), f.data() + f.size(), n);
  if (fec != std::errc() || fe != f.data() + f.size() || n < 0)
    return make_error("LISTEN_FDS=\"" + std::string(f) + "\" (with LISTEN_PID ours): not a count of fds");
  return n;
}

}  // namespace ns::linux_process
