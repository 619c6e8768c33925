// The state directory's layout, shared by the C++ store (state.cpp, pipeline.cpp) and the entry
// point's `start` (start_entry.c, plain C, before the C library starts).
#pragma once

// root's default --root (state.cpp's default_root; others get $XDG_RUNTIME_DIR/nano-sandbox).
#define NS_ROOT_DEFAULT "/run/nano-sandbox"
// A container id's characters: letters, digits, _ + - . (state.cpp's validate_id, and the entry
// point's `start`, which also refuses "", ".", ".." and ids over NS_ID_MAX bytes).
static inline int ns_id_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
         c == '-' || c == '.';
}

// A container's files lie side by side in <root>, each named <id> + a suffix of its own (an id
// has no '/'; two suffixes where neither ends the other cannot name the same file twice):
//   <id>.lock   made first by create (O_EXCL: the claim on the id), flock'ed by every verb that
//               changes the container, removed last by delete;
//   <id>.json   state.json (written to <id>.json.tmp, renamed);
//   <id>.fifo   the exec fifo while the container is created: the init blocks reading it until
//               `start` writes a byte;
//   <id>.vm/    VM mode's sockets and logs.
// No directory per container: on a file system that discards freed blocks synchronously (ext4
// mounted with -o discard), a directory's block costs a discard at delete; a small file whose
// blocks are not yet allocated (delayed allocation) costs none.
#define NS_LOCK_SUFFIX ".lock"
#define NS_STATE_SUFFIX ".json"
#define NS_EXEC_FIFO_SUFFIX ".fifo"
#define NS_VM_DIR_SUFFIX ".vm"
#define NS_EXEC_FIFO_MODE 0600
#define NS_EXEC_FIFO_MORE 01000
// The longest id: its longest file name, <id>.json.tmp, must fit in a directory entry (255 bytes).
// A longer one could claim its lock file and then fail to write its state.
#define NS_ID_MAX (255 - (int)sizeof NS_STATE_SUFFIX ".tmp" + 1)
