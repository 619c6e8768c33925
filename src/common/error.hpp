// Errors are values: every fallible call returns Result<T>, an std::expected that carries
// errno, the operation, the path it was applied to and the pipeline stage it happened in.
#pragma once

#include <cerrno>
#include <expected>
#include <string>
#include <utility>

namespace ns {

struct Error {
  int err = 0;        // errno, 0 when the error is not a system call failure
  std::string op;     // what was attempted: "mount", "open", "parse config.json" ...
  std::string path;   // the object it was applied to, may be empty
  std::string msg;    // extra human words, may be empty
  std::string stage;  // the pipeline stage, filled in by the pipeline

  // "mount "/proc" on ".../rootfs/proc": operation not permitted (stage: mounts)"
  [[nodiscard]] std::string to_string() const;
};

template <class T>
using Result = std::expected<T, Error>;

// strerror() with the first letter lower-cased: engines match "no such file or directory" and
// "permission denied" case-sensitively (Docker), as Go's syscall errors print them.
[[nodiscard]] std::string errno_string(int err);

[[nodiscard]] inline std::unexpected<Error> sys_error(std::string op, std::string path = {},
                                                      int err = errno) {
  return std::unexpected(Error{err, std::move(op), std::move(path), {}, {}});
}
[[nodiscard]] inline std::unexpected<Error> make_error(std::string msg, int err = 0) {
  return std::unexpected(Error{err, {}, {}, std::move(msg), {}});
}

// Adds a stage or a prefix to an error travelling upward.
[[nodiscard]] inline std::unexpected<Error> with_stage(Error e, std::string stage) {
  if (e.stage.empty()) e.stage = std::move(stage);
  return std::unexpected(std::move(e));
}

namespace detail {
template <class T>
T unwrap(std::expected<T, Error>&& r) {
  return std::move(*r);
}
inline void unwrap(std::expected<void, Error>&&) {}
}  // namespace detail

}  // namespace ns

// TRY(expr): evaluates a Result; on error returns it from the enclosing function, else yields
// the value (or nothing for Result<void>).
#define TRY(...)                                                     \
  ({                                                                 \
    auto ns_try_r_ = (__VA_ARGS__);                                  \
    if (!ns_try_r_) [[unlikely]]                                     \
      return std::unexpected(std::move(ns_try_r_).error());          \
    ::ns::detail::unwrap(std::move(ns_try_r_));                      \
  })
