#include "common/unix_socket.hpp"

#include <sys/socket.h>

#include <cstring>

namespace ns {

Result<void> send_with_fd(int sock, const void* data, size_t len, int fd, const std::string& op) {
  struct iovec iov{const_cast<void*>(data), len};
  struct msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  for (;;) {
    if (::sendmsg(sock, &mh, MSG_NOSIGNAL) >= 0) return {};
    if (errno != EINTR) return sys_error(op);
  }
}

}  // namespace ns
