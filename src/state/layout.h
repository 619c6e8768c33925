// The state directory's layout, shared by the C++ store (state.cpp, pipeline.cpp) and the entry
// point's `start` (start_entry.c, plain C, before the C library starts).
#pragma once

// root's default --root (state.cpp's default_root; others get $XDG_RUNTIME_DIR/nano-sandbox).
#define NS_ROOT_DEFAULT "/run/nano-sandbox"
// A container id's characters: letters, digits, _ + - . (state.cpp's validate_id, and the entry
// point's `start`, which also refuses "", ".", ".." and ids over 1024 bytes).
static inline int ns_id_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
         c == '-' || c == '.';
}
#define NS_ID_MAX 1024

// <root>/<id>/exec.fifo while the container is created: the init blocks reading it until
// `start` writes a byte.
#define NS_EXEC_FIFO "exec.fifo"
// The fifo is 0600 (only its owner may start the container). Its sticky bit, meaningless on a
// fifo otherwise, says that `start` has more to do than the byte (poststart hooks to run), so
// the entry point's `start` leaves the container to main().
#define NS_EXEC_FIFO_MODE 0600
#define NS_EXEC_FIFO_MORE 01000
