#include "common/unix_socket.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace ns {

int send_with_fds_raw(int sock, const void* data, size_t len, std::span<const int> fds) noexcept {
  if (fds.size() > kMaxFdsPerMessage) return EINVAL;
  struct iovec iov{const_cast<void*>(data), len};
  struct msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)] = {};
  if (!fds.empty()) {
    mh.msg_control = control;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    if (::sendmsg(sock, &mh, MSG_NOSIGNAL) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

int send_with_fd_raw(int sock, const void* data, size_t len, int fd) noexcept {
  return send_with_fds_raw(sock, data, len, fd >= 0 ? std::span<const int>(&fd, 1) : std::span<const int>());
}

Result<void> send_with_fds(int sock, const void* data, size_t len, std::span<const int> fds, const std::string& op) {
  if (int err = send_with_fds_raw(sock, data, len, fds)) return std::unexpected(Error{err, op, {}, {}, {}});
  return {};
}

Result<void> send_with_fd(int sock, const void* data, size_t len, int fd, const std::string& op) {
  if (int err = send_with_fd_raw(sock, data, len, fd)) return std::unexpected(Error{err, op, {}, {}, {}});
  return {};
}

Result<size_t> recv_with_fds(int sock, char* buf, size_t len, std::vector<UniqueFd>* fds, const std::string& op) {
  struct iovec iov{buf, len};
  struct msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)] = {};
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  ssize_t n;
  // ECONNRESET: the peer closed with messages of ours unread. The kernel reports that once, ahead
  // of what the peer sent before it went (its last words: an error report, say), which is still
  // queued: read on, to that and then the end of the stream.
  bool reset_seen = false;
  while ((n = ::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 &&
         (errno == EINTR || (errno == ECONNRESET && !std::exchange(reset_seen, true)))) {
  }
  if (n < 0) return sys_error(op);
  fds->clear();
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int got;
      std::memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
      fds->emplace_back(got);
    }
  }
  return static_cast<size_t>(n);
}

Result<size_t> recv_with_fd(int sock, char* buf, size_t len, UniqueFd* fd, const std::string& op) {
  std::vector<UniqueFd> fds;
  size_t n = TRY(recv_with_fds(sock, buf, len, &fds, op));
  if (!fds.empty()) *fd = std::move(fds.front());  // any others close here
  return n;
}

Result<UniqueFd> recv_fd(int sock, const std::string& op) {
  char data[256];
  UniqueFd fd;
  TRY(recv_with_fd(sock, data, sizeof data, &fd, op));
  if (!fd) return make_error(op + ": no file descriptor came with the message");
  return fd;
}

namespace {
Result<sockaddr_un> address(const std::string& path, const std::string& what) {
  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) return make_error(what + " path \"" + path + "\" is too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  return addr;
}
}  // namespace

Result<UniqueFd> connect_unix(const std::string& path, const std::string& what) {
  auto addr = TRY(address(path, what));
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return sys_error("socket");
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return sys_error("connect " + what, path);
  return s;
}

Result<UniqueFd> listen_unix(const std::string& path) {
  auto addr = TRY(address(path, "socket"));
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return sys_error("socket");
  ::unlink(path.c_str());
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return sys_error("bind", path);
  if (::listen(s.get(), 16) < 0) return sys_error("listen", path);
  return s;
}

}  // namespace ns
