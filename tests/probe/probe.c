/* ns-probe: runs inside test containers and prints what the container sees, one "key: value"
 * line per fact, so integration tests can assert on real kernel state.
 *   ns-probe [what ...]    what: ids cwd hostname domainname caps fds ns rlimits umask pid
 *                          oom mounts env all (default all)
 *   ns-probe write PATH    try to open PATH for writing; prints "write PATH: ok" or the errno
 *   ns-probe sleep N       sleep N seconds (a long-lived init for tests)
 *   ns-probe keyring       the session keyring's description ("keyring;uid;gid;perm;name")
 *   ns-probe grab-exe PID  the CVE-2019-5736 move: hold /proc/PID/exe (O_PATH), then keep trying
 *                          to reopen it for writing while it is busy (ETXTBSY), up to 10 s, and
 *                          append a byte; prints "exe writable" (the byte was written) or
 *                          "exe refused: ERR"
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char** environ;

static void print_file_line(const char* path, const char* prefix, const char* key) {
  FILE* f = fopen(path, "r");
  if (!f) return;
  char line[4096];
  while (fgets(line, sizeof line, f))
    if (strncmp(line, prefix, strlen(prefix)) == 0) printf("%s: %s", key, line + strlen(prefix));
  fclose(f);
}

static void ids(void) {
  printf("uid: %d\ngid: %d\n", (int)getuid(), (int)getgid());
  gid_t groups[256];
  int n = getgroups(256, groups);
  printf("groups:");
  for (int i = 0; i < n; i++) printf(" %d", (int)groups[i]);
  printf("\n");
}

static void fds(void) {
  DIR* d = opendir("/proc/self/fd");
  if (!d) {
    printf("fds: error %s\n", strerror(errno));
    return;
  }
  int self = dirfd(d);
  int list[1024], n = 0;
  struct dirent* e;
  while ((e = readdir(d)) && n < 1024) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd != self) list[n++] = fd;
  }
  closedir(d);
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (list[j] < list[i]) {
        int t = list[i];
        list[i] = list[j];
        list[j] = t;
      }
  printf("fds:");
  for (int i = 0; i < n; i++) printf(" %d", list[i]);
  printf("\n");
  for (int i = 0; i < n; i++) {
    char p[64], target[4096];
    snprintf(p, sizeof p, "/proc/self/fd/%d", list[i]);
    ssize_t len = readlink(p, target, sizeof target - 1);
    if (len < 0) continue;
    target[len] = 0;
    printf("fd %d: %s\n", list[i], target);
  }
}

static void namespaces(void) {
  const char* names[] = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"};
  for (unsigned i = 0; i < sizeof names / sizeof *names; i++) {
    char p[64], target[256];
    snprintf(p, sizeof p, "/proc/self/ns/%s", names[i]);
    ssize_t len = readlink(p, target, sizeof target - 1);
    if (len < 0) continue;
    target[len] = 0;
    printf("ns %s: %s\n", names[i], target);
  }
}

static void rlimits(void) {
  struct {
    const char* name;
    int res;
  } r[] = {{"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC}, {"core", RLIMIT_CORE}, {"stack", RLIMIT_STACK}};
  for (unsigned i = 0; i < sizeof r / sizeof *r; i++) {
    struct rlimit rl;
    getrlimit(r[i].res, &rl);
    printf("rlimit %s: %llu %llu\n", r[i].name, (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  }
}

static void show(const char* what) {
  int all = strcmp(what, "all") == 0;
  if (all || !strcmp(what, "ids")) ids();
  if (all || !strcmp(what, "pid")) printf("pid: %d\nppid: %d\n", (int)getpid(), (int)getppid());
  if (all || !strcmp(what, "cwd")) {
    char buf[4096];
    printf("cwd: %s\n", getcwd(buf, sizeof buf) ? buf : "?");
  }
  if (all || !strcmp(what, "hostname")) {
    struct utsname u;
    uname(&u);
    printf("hostname: %s\n", u.nodename);
  }
  if (all || !strcmp(what, "domainname")) {
    struct utsname u;
    uname(&u);
    printf("domainname: %s\n", u.domainname);
  }
  if (all || !strcmp(what, "umask")) {
    mode_t m = umask(0);
    umask(m);
    printf("umask: %04o\n", m);
  }
  if (all || !strcmp(what, "caps")) {
    print_file_line("/proc/self/status", "CapEff:\t", "cap effective");
    print_file_line("/proc/self/status", "CapBnd:\t", "cap bounding");
    print_file_line("/proc/self/status", "NoNewPrivs:\t", "no new privs");
  }
  if (all || !strcmp(what, "oom")) print_file_line("/proc/self/oom_score_adj", "", "oom score adj");
  if (all || !strcmp(what, "fds")) fds();
  if (all || !strcmp(what, "ns")) namespaces();
  if (all || !strcmp(what, "rlimits")) rlimits();
  if (!strcmp(what, "env"))
    for (char** e = environ; *e; e++) printf("env: %s\n", *e);
  if (!strcmp(what, "mounts")) print_file_line("/proc/self/mountinfo", "", "mount");
}

int main(int argc, char** argv) {
  if (argc >= 3 && !strcmp(argv[1], "write")) {
    int fd = open(argv[2], O_WRONLY);
    if (fd < 0)
      printf("write %s: %s\n", argv[2], strerror(errno));
    else
      printf("write %s: ok\n", argv[2]);
    return fd < 0 ? 1 : 0;
  }
  if (argc >= 2 && !strcmp(argv[1], "keyring")) {
    char desc[256] = {0};
    /* KEYCTL_DESCRIBE (6) of KEY_SPEC_SESSION_KEYRING (-3) */
    long n = syscall(SYS_keyctl, 6, -3, desc, sizeof desc - 1);
    printf("keyring: %s\n", n < 0 ? strerror(errno) : desc);
    return n < 0;
  }
  if (argc >= 3 && !strcmp(argv[1], "grab-exe")) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/exe", argv[2]);
    int held = open(path, O_PATH);
    if (held < 0) {
      printf("exe refused: %s (grab)\n", strerror(errno));
      return 1;
    }
    char again[64];
    snprintf(again, sizeof again, "/proc/self/fd/%d", held);
    for (int i = 0; i < 200; i++) {
      int w = open(again, O_WRONLY | O_APPEND);
      if (w >= 0) {
        // A sealed copy (memfd) opens, but takes no byte: try one, at the end.
        if (write(w, "", 1) == 1) {
          printf("exe writable\n");
          close(w);
          return 0;
        }
        printf("exe refused: %s (write)\n", strerror(errno));
        close(w);
        return 1;
      }
      if (errno != ETXTBSY) {
        printf("exe refused: %s\n", strerror(errno));
        return 1;
      }
      usleep(50000);
    }
    printf("exe refused: still busy after 10 s\n");
    return 1;
  }
  if (argc >= 3 && !strcmp(argv[1], "sleep")) {
    sleep((unsigned)atoi(argv[2]));
    return 0;
  }
  if (argc < 2) show("all");
  for (int i = 1; i < argc; i++) show(argv[i]);
  return 0;
}
