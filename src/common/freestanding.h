// What the entry point's C code (before the C library starts: exe_guard_entry.c,
// start_entry.c) may use: raw system calls and a few string loops. Nothing here may call into
// the C library (not even memcpy: its implementation is chosen at start-up) or touch
// thread-local storage (errno), which is not set up yet. Those files are built freestanding,
// without stack protector, builtins or sanitizers (CMakeLists.txt).
#pragma once

#include <sys/syscall.h>

static inline long ns_sys6(long n, long a, long b, long c, long d, long e) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
  return ret;
}
// A system call: the result, or -errno.
#define SYS(n, a, b, c, d, e) ns_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e))

static inline int ns_eq(const char* a, const char* b) {
  while (*a && *a == *b) ++a, ++b;
  return *a == *b;
}

static inline int ns_starts_with(const char* s, const char* prefix) {
  while (*prefix)
    if (*s++ != *prefix++) return 0;
  return 1;
}

static inline const char* ns_base_name(const char* p) {
  const char* b = p;
  for (; *p; ++p)
    if (*p == '/') b = p + 1;
  return b;
}

// Appends S at *AT, never past END - 1; 0 when it did not fit.
static inline int ns_append(char** at, char* end, const char* s) {
  while (*s) {
    if (*at >= end - 1) return 0;
    *(*at)++ = *s++;
  }
  **at = 0;
  return 1;
}
