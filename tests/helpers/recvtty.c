/* recvtty SOCKET [INPUT]: a console-socket receiver for tests, as conmon or containerd's shim
 * would be. Listens on SOCKET, takes one pty master by SCM_RIGHTS, prints "payload: <data>"
 * on stderr, writes INPUT (if given) to the master, then copies the master to stdout until the
 * container's side is closed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: recvtty SOCKET [INPUT]\n");
    return 2;
  }
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
  unlink(argv[1]);
  if (bind(s, (struct sockaddr*)&addr, sizeof addr) < 0 || listen(s, 1) < 0) {
    perror("recvtty: bind/listen");
    return 1;
  }
  int c = accept(s, NULL, NULL);
  if (c < 0) {
    perror("recvtty: accept");
    return 1;
  }
  char data[256] = {0};
  struct iovec iov = {data, sizeof data - 1};
  char control[CMSG_SPACE(sizeof(int))];
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  if (recvmsg(c, &mh, 0) < 0) {
    perror("recvtty: recvmsg");
    return 1;
  }
  struct cmsghdr* cm = CMSG_FIRSTHDR(&mh);
  if (!cm || cm->cmsg_type != SCM_RIGHTS) {
    fprintf(stderr, "recvtty: no fd received\n");
    return 1;
  }
  int master;
  memcpy(&master, CMSG_DATA(cm), sizeof master);
  fprintf(stderr, "payload: %s\n", data);
  if (argc > 2) {
    if (write(master, argv[2], strlen(argv[2])) < 0) perror("recvtty: write");
  }
  char buf[4096];
  for (;;) {
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) break; /* EIO once the container side is closed */
    fwrite(buf, 1, (size_t)n, stdout);
    fflush(stdout);
  }
  return 0;
}
