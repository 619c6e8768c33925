/* seccomp-agent: a minimal seccomp notify agent for the tests (SCMP_ACT_NOTIFY, listenerPath).
 *   seccomp-agent SOCKET OUT_PREFIX ERRNO
 * Listens on the unix socket SOCKET. Each connection brings a listener fd (SCM_RIGHTS) and the
 * container process state JSON, written to OUT_PREFIX.N (N = 1, 2, ...). Every notified system
 * call is answered with -ERRNO, so a test can tell the agent decided it. Runs until killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FDS 16

static int receive(int conn, const char* prefix, int n) {
  char buf[65536];
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {buf, sizeof buf - 1};
  struct msghdr mh = {0};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  ssize_t got = recvmsg(conn, &mh, 0);
  if (got < 0) return -1;
  int fd = -1;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(c), sizeof fd);
  char path[4096];
  snprintf(path, sizeof path, "%s.%d", prefix, n);
  FILE* f = fopen(path, "w");
  if (f) {
    fwrite(buf, 1, (size_t)got, f);
    fclose(f);
  }
  return fd;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: seccomp-agent SOCKET OUT_PREFIX ERRNO\n");
    return 2;
  }
  int answer = atoi(argv[3]);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
  unlink(argv[1]);
  if (s < 0 || bind(s, (struct sockaddr*)&addr, sizeof addr) < 0 || listen(s, 4) < 0) {
    perror("seccomp-agent: listen");
    return 1;
  }
  struct pollfd p[MAX_FDS + 1];
  int nfds = 0, conns = 0;
  p[0].fd = s;
  p[0].events = POLLIN;
  for (;;) {
    if (poll(p, (nfds_t)(nfds + 1), -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (p[0].revents & POLLIN) {
      int conn = accept(s, NULL, NULL);
      if (conn >= 0) {
        int fd = receive(conn, argv[2], ++conns);
        close(conn);
        if (fd >= 0 && nfds < MAX_FDS) {
          p[++nfds].fd = fd;
          p[nfds].events = POLLIN;
        }
      }
    }
    for (int i = 1; i <= nfds; i++) {
      if (p[i].revents & (POLLHUP | POLLERR)) {  // the filtered processes are gone
        close(p[i].fd);
        p[i] = p[nfds--];
        i--;
        continue;
      }
      if (!(p[i].revents & POLLIN)) continue;
      struct seccomp_notif req;
      struct seccomp_notif_resp resp;
      memset(&req, 0, sizeof req);
      if (ioctl(p[i].fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) continue;
      memset(&resp, 0, sizeof resp);
      resp.id = req.id;
      resp.error = -answer;
      ioctl(p[i].fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    }
  }
}
