// deny-call CALL ERRNO PROGRAM [ARG...]: runs PROGRAM with one system call failing, through a
// seccomp filter (no-new-privs is set for it). CALL is open_tree (every call: a kernel older
// than 5.2, so the runtime's binary guard takes its older way) or unshare=FLAGS (only calls whose
// flags are exactly FLAGS: unshare=0x40000000 fails the runtime's network namespace thread and
// nothing else). ERRNO is ENOSYS or EPERM.
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int usage(void) {
  fprintf(stderr, "usage: deny-call open_tree|unshare=FLAGS ENOSYS|EPERM PROGRAM [ARG...]\n");
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 4) return usage();
  unsigned nr;
  int match_arg = 0;
  unsigned long arg = 0;
  if (strcmp(argv[1], "open_tree") == 0) {
    nr = SYS_open_tree;
  } else if (strncmp(argv[1], "unshare=", 8) == 0) {
    nr = SYS_unshare;
    match_arg = 1;
    arg = strtoul(argv[1] + 8, NULL, 0);
  } else {
    return usage();
  }
  int err = strcmp(argv[2], "ENOSYS") == 0 ? ENOSYS : strcmp(argv[2], "EPERM") == 0 ? EPERM : 0;
  if (!err) return usage();
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 3),
      // the first argument's low 32 bits (flags fit in them): equal to FLAGS, when CALL names them
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)arg, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  if (!match_arg) {  // every call: the argument test goes
    filter[4] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 2, 3);
  }
  struct sock_fprog prog = {sizeof filter / sizeof filter[0], filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
    perror("deny-call: seccomp");
    return 1;
  }
  execvp(argv[3], argv + 3);
  perror(argv[3]);
  return 127;
}
