// in-process PID ATTACK [ARG]: makes the process PID run one system call of an attacker's, as
// code that got to run inside it would: with its credentials, capabilities, seccomp filters,
// namespaces and root directory. The test suite's stand-in for a compromised QEMU or virtiofsd.
//   open PATH        openat(AT_FDCWD, PATH, O_RDONLY) (a returned fd is closed again)
//   ptrace PID2      ptrace(PTRACE_SEIZE, PID2) (PID2 is the caller's victim to kill afterwards)
//   bpf              bpf(BPF_MAP_CREATE) of a one-entry array map (a returned fd is closed again)
//   connect PORT     a TCP socket, connect(127.0.0.1:PORT) (the result is the connect's)
// Prints "ok N" (the call returned N), "err ENAME" (it failed), or "killed SIGNAME" (the process
// died of it: a seccomp filter's KILL action). Exit status 0 for those three, 2 when the
// injection itself failed. x86_64 only: the call is made by pointing the stopped thread at a
// `syscall` instruction of its own vDSO and single-stepping it; its registers and the scratch
// memory below its stack pointer are restored before it goes on.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __x86_64__
int main(void) {
  fprintf(stderr, "in-process: x86_64 only\n");
  return 2;
}
#else

static pid_t target;
static int mem = -1;

static int fail(const char* what) {
  fprintf(stderr, "in-process: %s: %s\n", what, strerror(errno));
  return 2;
}

// The address of a `syscall` (0f 05) in the target's vDSO, 0 if none.
static uint64_t find_syscall_insn(void) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/maps", target);
  FILE* f = fopen(path, "r");
  if (!f) return 0;
  char line[512];
  uint64_t found = 0;
  while (!found && fgets(line, sizeof line, f)) {
    if (!strstr(line, "[vdso]")) continue;
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx", &lo, &hi) != 2) break;
    size_t n = hi - lo;
    unsigned char* buf = malloc(n);
    if (buf && pread(mem, buf, n, (off_t)lo) == (ssize_t)n)
      for (size_t i = 0; i + 1 < n; ++i)
        if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
          found = lo + i;
          break;
        }
    free(buf);
  }
  fclose(f);
  return found;
}

static const char* signame(int sig) {
  switch (sig) {
    case SIGSYS: return "SIGSYS";
    case SIGKILL: return "SIGKILL";
    case SIGSEGV: return "SIGSEGV";
    default: return "another signal";
  }
}

// One system call NR(A..) in the stopped target; *RET its return value. 1 when the target died
// of it (*RET the signal), 0 when it returned, -1 when the injection failed.
static int inject(const struct user_regs_struct* saved, uint64_t insn, long nr, uint64_t a0, uint64_t a1,
                  uint64_t a2, long* ret) {
  struct user_regs_struct r = *saved;
  r.rip = insn;
  r.rax = (uint64_t)nr;
  r.orig_rax = (uint64_t)-1;  // no syscall restart on the way back in
  r.rdi = a0;
  r.rsi = a1;
  r.rdx = a2;
  r.r10 = r.r8 = r.r9 = 0;
  if (ptrace(PTRACE_SETREGS, target, 0, &r) < 0) return -1;
  if (ptrace(PTRACE_SINGLESTEP, target, 0, 0) < 0) return -1;
  int st;
  for (;;) {
    if (waitpid(target, &st, __WALL) < 0) return -1;
    if (WIFSIGNALED(st)) {
      *ret = WTERMSIG(st);
      return 1;
    }
    if (WIFEXITED(st)) {
      *ret = 0;
      return 1;
    }
    if (WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP) break;
    // Another signal arrived first: let it wait, step again.
    if (ptrace(PTRACE_SINGLESTEP, target, 0, 0) < 0) return -1;
  }
  if (ptrace(PTRACE_GETREGS, target, 0, &r) < 0) return -1;
  *ret = (long)r.rax;
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: in-process PID open PATH | ptrace PID2 | bpf\n");
    return 2;
  }
  target = atoi(argv[1]);
  const char* attack = argv[2];
  // What the call reads, written below the target's stack pointer (past the red zone).
  unsigned char data[256] = {0};
  size_t data_len = 0;
  long nr;
  uint64_t a1 = 0, a2 = 0;
  uint64_t a0 = 0;
  if (strcmp(attack, "open") == 0 && argc == 4 && strlen(argv[3]) < sizeof data) {
    nr = SYS_openat;
    a0 = (uint64_t)(long)AT_FDCWD;
    data_len = strlen(argv[3]) + 1;
    memcpy(data, argv[3], data_len);
    a2 = O_RDONLY | O_CLOEXEC;
  } else if (strcmp(attack, "ptrace") == 0 && argc == 4) {
    nr = SYS_ptrace;
    a0 = 0x4206;  // PTRACE_SEIZE
    a1 = (uint64_t)atoi(argv[3]);
  } else if (strcmp(attack, "bpf") == 0 && argc == 3) {
    nr = SYS_bpf;
    a0 = 0;                                       // BPF_MAP_CREATE
    uint32_t attr[4] = {2 /* BPF_MAP_TYPE_ARRAY */, 4, 4, 1};  // type, key, value size, entries
    data_len = 128;                               // the rest of union bpf_attr: zero
    memcpy(data, attr, sizeof attr);
    a2 = data_len;
  } else if (strcmp(attack, "connect") == 0 && argc == 4) {
    nr = SYS_connect;  // a0 is the socket, made first
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])),
                              .sin_addr = {htonl(INADDR_LOOPBACK)}};
    data_len = sizeof sin;
    memcpy(data, &sin, sizeof sin);
    a2 = sizeof sin;
  } else {
    fprintf(stderr, "in-process: unknown attack %s\n", attack);
    return 2;
  }

  if (ptrace(PTRACE_SEIZE, target, 0, 0) < 0) return fail("PTRACE_SEIZE");
  if (ptrace(PTRACE_INTERRUPT, target, 0, 0) < 0) return fail("PTRACE_INTERRUPT");
  int st;
  if (waitpid(target, &st, __WALL) < 0 || !WIFSTOPPED(st)) return fail("waitpid");
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mem", target);
  mem = open(path, O_RDWR | O_CLOEXEC);
  if (mem < 0) return fail("open /proc/PID/mem");
  struct user_regs_struct saved;
  if (ptrace(PTRACE_GETREGS, target, 0, &saved) < 0) return fail("PTRACE_GETREGS");
  uint64_t insn = find_syscall_insn();
  if (!insn) {
    fprintf(stderr, "in-process: no syscall instruction in the target's vDSO\n");
    return 2;
  }
  uint64_t scratch = (saved.rsp - 4096) & ~(uint64_t)0xf;
  unsigned char before[sizeof data];
  if (data_len) {
    if (pread(mem, before, data_len, (off_t)scratch) != (ssize_t)data_len) return fail("read scratch");
    if (pwrite(mem, data, data_len, (off_t)scratch) != (ssize_t)data_len) return fail("write scratch");
    a1 = scratch;  // the path, or the bpf_attr
  }
  long ret = 0;
  int how;
  long sock = -1;
  if (nr == SYS_connect) {
    how = inject(&saved, insn, SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0, &sock);
    if (how == 0 && sock < 0) {
      ret = sock;  // the socket itself was refused
      goto restore;
    }
    if (how < 0) return fail("inject socket");
    if (how == 1) {
      printf("killed %s\n", signame((int)sock));
      return 0;
    }
    a0 = (uint64_t)sock;
  }
  how = inject(&saved, insn, nr, a0, a1, a2, &ret);
  if (how < 0) return fail("inject");
  if (how == 1) {
    printf("killed %s\n", signame((int)ret));
    return 0;
  }
  long opened = nr == SYS_connect ? sock : ret;
  if (opened >= 0 && nr != SYS_ptrace) {
    long ignored;
    if (inject(&saved, insn, SYS_close, (uint64_t)opened, 0, 0, &ignored) != 0) return fail("inject close");
  }
restore:
  if (data_len && pwrite(mem, before, data_len, (off_t)scratch) != (ssize_t)data_len) return fail("restore scratch");
  if (ptrace(PTRACE_SETREGS, target, 0, &saved) < 0) return fail("restore registers");
  if (ptrace(PTRACE_DETACH, target, 0, 0) < 0) return fail("PTRACE_DETACH");
  if (ret < 0) printf("err %s\n", strerrorname_np((int)-ret) ? strerrorname_np((int)-ret) : "?");
  else printf("ok %ld\n", ret);
  return 0;
}
#endif
