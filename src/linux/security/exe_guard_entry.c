// The CVE-2019-5736 guard's fast path, before the C library starts (see exe_guard.hpp).
//
// create, run and exec re-execute ns-runtime through a read-only clone of its mount. Done from
// main(), that costs a whole start of the C library twice; its largest part on a VM is the CPU
// feature probe (dozens of CPUID instructions, each a trap to the hypervisor: ~0.2 ms). So the
// static binary's entry point (src/cli/entry.c) calls this first: it takes the same decision
// and makes the same re-execution with raw system calls, before glibc's _start has run at all.
// Whatever it cannot settle (nsrun, VM mode's agent, an unusual argument, any failed
// call) it leaves alone: main() still runs protect_runtime_binary, which finds the binary
// protected after our re-execution, or does the work itself and reports what went wrong.
// What may be used here: common/freestanding.h.
#include <fcntl.h>
#include <linux/sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include "cli/global_options.h"
#include "common/freestanding.h"
#include "linux/security/exe_guard_env.h"

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000  // <fcntl.h> names it only with _GNU_SOURCE
#endif
#define ST_RDONLY_FLAG 1  // statfs f_flags: the mount is read-only (ST_RDONLY)
#define MAX_ENV 4096

// Whether ns-runtime's command line puts a process of ours into a container (create, run or
// exec), found by the same verb finder main() uses (cli/global_options.h). A command line whose
// global options cannot be read counts as one that does: main() will refuse it, but the guard
// must not depend on that. main() asks this same function.
int ns_enters_container(int argc, char** argv) {
  int i = ns_verb_index(argc, argv);
  if (i < 0) return 1;
  if (i >= argc) return 0;
  const char* v = argv[i];
  return ns_eq(v, "create") || ns_eq(v, "run") || ns_eq(v, "exec");
}

// What the re-execution changed before it failed, given back: the CPUs (PINNED: cpus_len
// bytes of CPUS).
static void ns_undo_early(int pinned, long cpus_len, const unsigned char* cpus) {
  if (pinned) SYS(SYS_sched_setaffinity, 0, cpus_len, cpus, 0, 0);
}

void ns_exe_guard_early(long* sp) {
  int argc = (int)sp[0];
  char** argv = (char**)(sp + 1);
  char** envp = argv + argc + 1;
  if (argc < 1 || !argv[0]) return;
  // nsrun's own command line, and VM mode's agent (pid 1 in the guest): main() decides.
  if (ns_eq(ns_base_name(argv[0]), "nsrun") || SYS(SYS_getpid, 0, 0, 0, 0, 0) == 1) return;
  if (!ns_enters_container(argc, argv) || SYS(SYS_geteuid, 0, 0, 0, 0, 0) != 0) return;
  struct statfs fs;
  if (SYS(SYS_statfs, "/proc/self/exe", &fs, 0, 0, 0) < 0 || (fs.f_flags & ST_RDONLY_FLAG)) return;
  char self[4096];
  long n = SYS(SYS_readlink, "/proc/self/exe", self, sizeof self - 1, 0, 0);
  if (n <= 0) return;
  self[n] = 0;
  if (n > 10 && ns_eq(self + n - 10, " (deleted)")) return;  // main() says so

  // The environment again, without any of our own variables the caller passed, then with ours.
  char* newenv[MAX_ENV + 4];  // + path, CPUs, the tree's fd or the host mount namespace's, NULL
  int k = 0;
  for (char** e = envp; *e; ++e) {
    if (ns_starts_with(*e, NS_HOST_MNTNS_ENV "=") || ns_starts_with(*e, NS_EXE_PATH_ENV "=") ||
        ns_starts_with(*e, NS_CPUS_ENV "=") || ns_starts_with(*e, NS_EXE_TREE_ENV "="))
      continue;
    if (k == MAX_ENV) return;
    newenv[k++] = *e;
  }
  // Where the binary lives, for main() (the path /proc/self/exe shows after the re-execution is
  // the detached mount's "/"). Built with ns_append: an initialised array could become a call to
  // memcpy, which is not there yet.
  char path_var[sizeof NS_EXE_PATH_ENV + sizeof self];
  char* p = path_var;
  if (!ns_append(&p, path_var + sizeof path_var, NS_EXE_PATH_ENV "=") || !ns_append(&p, path_var + sizeof path_var, self))
    return;
  newenv[k++] = path_var;
  newenv[k] = 0;

  // Exec moves a task to the idlest CPU (the scheduler's exec balancing), and our caller's exec
  // has just done that: a second move would wake another CPU for nothing (tens of microseconds
  // on a VM). So the re-execution keeps to this CPU; the allowed CPUs travel in the
  // environment and main() takes them back (adopt_cpu_affinity).
  unsigned char cpus[NS_CPUS_MAX_BYTES], one[NS_CPUS_MAX_BYTES];
  char cpus_var[sizeof NS_CPUS_ENV + 2 * NS_CPUS_MAX_BYTES + 1];
  long cpus_len = SYS(SYS_sched_getaffinity, 0, sizeof cpus, cpus, 0, 0);
  unsigned cpu = 0;
  int pinned = 0;
  if (cpus_len > 0 && SYS(SYS_getcpu, &cpu, 0, 0, 0, 0) == 0 && cpu < (unsigned long)cpus_len * 8) {
    static const char hex[] = "0123456789abcdef";
    p = cpus_var;
    if (ns_append(&p, cpus_var + sizeof cpus_var, NS_CPUS_ENV "=")) {
      for (long i = 0; i < cpus_len; ++i) {
        *p++ = hex[cpus[i] >> 4];
        *p++ = hex[cpus[i] & 15];
        one[i] = 0;
      }
      *p = 0;
      one[cpu / 8] = (unsigned char)(1u << (cpu % 8));
      if (SYS(SYS_sched_setaffinity, 0, cpus_len, one, 0, 0) == 0) {
        pinned = 1;
        newenv[k++] = cpus_var;
        newenv[k] = 0;
      }
    }
  }

  // First choice: a read-only clone of the binary's mount that belongs to no mount namespace
  // (open_tree + mount_setattr, Linux 5.12), executed through its fd. No mount table is copied
  // and we stay in the caller's mount namespace.
  long opened_tree = SYS(SYS_open_tree, AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC, 0, 0);
  // Kept open across the re-execution, far above the fds a caller hands the container (see
  // NS_EXE_TREE_ENV); the exec closes the fd open_tree gave.
  long tree = opened_tree < 0 ? -1 : SYS(SYS_fcntl, opened_tree, F_DUPFD, NS_HOST_MNTNS_MIN_FD, 0, 0);
  if (tree >= 0) {
    char tree_var[sizeof NS_EXE_TREE_ENV + 12];
    char tree_digits[12];
    int t = sizeof tree_digits - 1;
    tree_digits[t] = 0;
    for (long v = tree; v > 0 || t == (int)sizeof tree_digits - 1; v /= 10) tree_digits[--t] = (char)('0' + v % 10);
    p = tree_var;
    struct mount_attr attr;
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    attr.attr_clr = 0;
    attr.propagation = 0;
    attr.userns_fd = 0;
    if (ns_append(&p, tree_var + sizeof tree_var, NS_EXE_TREE_ENV "=") &&
        ns_append(&p, tree_var + sizeof tree_var, tree_digits + t) &&
        SYS(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0) {
      newenv[k] = tree_var;
      newenv[k + 1] = 0;
      SYS(SYS_execveat, tree, "", argv, newenv, AT_EMPTY_PATH);
      newenv[k] = 0;
    }
    SYS(SYS_close, tree, 0, 0, 0, 0);
  }
  if (opened_tree >= 0) SYS(SYS_close, opened_tree, 0, 0, 0, 0);

  // Older kernels: a private mount namespace where the binary is bound read-only onto itself.
  // The fd of the mount namespace we came from goes along (see adopt_host_mount_ns).
  long opened = SYS(SYS_open, "/proc/self/ns/mnt", O_RDONLY, 0, 0, 0);
  long host = opened < 0 ? -1 : SYS(SYS_fcntl, opened, F_DUPFD, NS_HOST_MNTNS_MIN_FD, 0, 0);
  if (opened >= 0) SYS(SYS_close, opened, 0, 0, 0, 0);
  if (host < 0) {
    ns_undo_early(pinned, cpus_len, cpus);
    return;
  }
  char digits[12];
  int d = sizeof digits - 1;
  digits[d] = 0;
  for (long v = host; v > 0 || d == (int)sizeof digits - 1; v /= 10) digits[--d] = (char)('0' + v % 10);
  char var[64];
  p = var;
  if (!ns_append(&p, var + sizeof var, NS_HOST_MNTNS_ENV "=") || !ns_append(&p, var + sizeof var, digits + d)) {
    SYS(SYS_close, host, 0, 0, 0, 0);
    ns_undo_early(pinned, cpus_len, cpus);
    return;
  }
  newenv[k++] = var;
  newenv[k] = 0;

  if (SYS(SYS_unshare, CLONE_NEWNS, 0, 0, 0, 0) == 0) {
    if (SYS(SYS_mount, 0, "/", 0, MS_REC | MS_SLAVE, 0) == 0 && SYS(SYS_mount, self, self, 0, MS_BIND, 0) == 0 &&
        SYS(SYS_mount, 0, self, 0, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, 0) == 0)
      SYS(SYS_execve, self, argv, newenv, 0, 0);
    // Back to the mount namespace we came from: main() starts over from there.
    SYS(SYS_setns, host, CLONE_NEWNS, 0, 0, 0);
  }
  // Still here: main() tries again and reports the error. The fd must not reach a container.
  SYS(SYS_close, host, 0, 0, 0, 0);
  ns_undo_early(pinned, cpus_len, cpus);
}

