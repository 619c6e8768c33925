// `start` at the entry point, before the C library starts.
//
// start is the verb an engine calls on every container, and the least work of all: lock the
// container (<root>/<id>.lock), open its exec fifo (<root>/<id>.fifo) for writing (which
// succeeds only while the init holds it: the container is created), unlink it and write one byte. Run from main(), most of
// its time would go to starting the C library (on a VM, mostly its CPU probe) and to reading
// state.json, which the byte does not need. So the entry point does exactly that with raw
// system calls, the same steps as Store::lock and release_exec_fifo, and exits.
//
// It settles only the plain case and changes nothing until it knows it can (it opens the log
// file, as main() would, and takes the lock, dropped again on the way back): `ns-runtime
// [--root R] [--log F] [--log-format text|json] start ID` with a valid ID (without --root, as
// root: the default root is root's), a fifo that a live init holds, and no poststart hooks (the fifo's
// sticky bit, set by create: NS_EXEC_FIFO_MORE). Anything else (another option, -E, a missing
// container, a running or stopped one, hooks, any failed call) returns to let main() do the
// whole verb, with its checks and messages. The one step after which it cannot go back is the
// byte: if that write fails, the init is gone, and main() finds the container stopped.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "common/freestanding.h"
#include "state/layout.h"

#define PATH_CAP 4096

// state.cpp's validate_id: ns_id_char_ok characters; not "", "." or ".."; at most NS_ID_MAX bytes.
static int valid_id(const char* id) {
  int n = 0;
  for (const char* c = id; *c; ++c, ++n)
    if (!ns_id_char_ok(*c)) return 0;
  return n > 0 && n <= NS_ID_MAX && !ns_eq(id, ".") && !ns_eq(id, "..");
}

#define MISSING ((const char*)-1)

// The value of global option NAME at argv[*i] ("--root R" or "--root=R"), moving *i past it;
// 0 when argv[*i] is not that option, MISSING when its value is.
static const char* option_value(const char* name, int argc, char** argv, int* i) {
  const char* rest = argv[*i];
  while (*name)
    if (*rest++ != *name++) return 0;
  if (*rest == '=') return rest + 1;
  if (*rest) return 0;
  if (*i + 1 >= argc) return MISSING;
  return argv[++*i];
}

static void start(int argc, char** argv) {
  const char *root = 0, *log = 0, *verb = 0, *id = 0;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (!verb) {
      const char* v = 0;
      if ((v = option_value("--root", argc, argv, &i))) {
        root = v;
      } else if ((v = option_value("--log-format", argc, argv, &i))) {
        if (v != MISSING && !ns_eq(v, "text") && !ns_eq(v, "json")) return;
      } else if ((v = option_value("--log", argc, argv, &i))) {
        log = v;
      } else if (ns_eq(a, "start")) {
        verb = a;
      } else {
        return;  // -E, --debug, --systemd-cgroup, --vm, --help, another verb: main()
      }
      if (v == MISSING) return;
      continue;
    }
    if (id || a[0] == '-') return;  // start's own options (--help), or a second argument
    id = a;
  }
  if (!verb || !id || !valid_id(id)) return;
  if (!root) {
    if (SYS(SYS_geteuid, 0, 0, 0, 0, 0) != 0) return;
    root = NS_ROOT_DEFAULT;
  }
  if (!*root || (log && !*log)) return;
  // The root must be ours alone, as main() checks (check_private_dir): else main() refuses it.
  struct stat rs;
  if (SYS(SYS_newfstatat, AT_FDCWD, root, &rs, AT_SYMLINK_NOFOLLOW, 0) < 0 || !S_ISDIR(rs.st_mode) ||
      rs.st_uid != (unsigned)SYS(SYS_geteuid, 0, 0, 0, 0, 0) || (rs.st_mode & (S_IWGRP | S_IWOTH)))
    return;

  char lock[PATH_CAP], fifo[PATH_CAP];
  char *at = lock, *fat = fifo;
  if (!ns_append(&at, lock + sizeof lock, root) || !ns_append(&at, lock + sizeof lock, "/") ||
      !ns_append(&at, lock + sizeof lock, id) || !ns_append(&fat, fifo + sizeof fifo, lock) ||
      !ns_append(&at, lock + sizeof lock, NS_LOCK_SUFFIX) || !ns_append(&fat, fifo + sizeof fifo, NS_EXEC_FIFO_SUFFIX))
    return;

  long log_fd = -1;
  if (log) {  // as main() does: the log file is opened (made) whatever happens
    log_fd = SYS(SYS_open, log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644, 0, 0);
    if (log_fd < 0) return;
  }
  long lock_fd = SYS(SYS_open, lock, O_RDONLY | O_CLOEXEC, 0, 0, 0);
  long fifo_fd = -1;
  struct stat st;
  if (lock_fd < 0 || SYS(SYS_flock, lock_fd, LOCK_EX, 0, 0, 0) < 0) goto back;
  // Deleted while we waited for the lock: main() says so (Store::lock).
  if (SYS(SYS_fstat, lock_fd, &st, 0, 0, 0) < 0 || st.st_nlink == 0) goto back;
  fifo_fd = SYS(SYS_open, fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0, 0, 0);
  if (fifo_fd < 0 || SYS(SYS_fstat, fifo_fd, &st, 0, 0, 0) < 0) goto back;
  if (!S_ISFIFO(st.st_mode) || (st.st_mode & NS_EXEC_FIFO_MORE)) goto back;
  // Unlinked first: the byte is the last thing, so start is done when the init wakes.
  SYS(SYS_unlink, fifo, 0, 0, 0, 0);
  if (SYS(SYS_write, fifo_fd, "0", 1, 0, 0) != 1) goto back;
  SYS(SYS_exit_group, 0, 0, 0, 0, 0);

back:  // main() does it all over; nothing of ours may stay open (the lock least of all)
  if (fifo_fd >= 0) SYS(SYS_close, fifo_fd, 0, 0, 0, 0);
  if (lock_fd >= 0) SYS(SYS_close, lock_fd, 0, 0, 0, 0);
  if (log_fd >= 0) SYS(SYS_close, log_fd, 0, 0, 0, 0);
}

void ns_start_early(long* sp) {
  int argc = (int)sp[0];
  char** argv = (char**)(sp + 1);
  if (argc < 3 || !argv[0] || ns_eq(ns_base_name(argv[0]), "nsrun") || SYS(SYS_getpid, 0, 0, 0, 0, 0) == 1) return;
  start(argc, argv);
}
