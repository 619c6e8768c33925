// The monotonic clock in milliseconds, for timeouts and back-offs (never the wall clock: a clock
// set back must not stretch a wait).
#pragma once

#include <time.h>

#include <cstdint>

namespace ns {

inline uint64_t monotonic_ms() {
  struct timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1'000'000;
}

}  // namespace ns
