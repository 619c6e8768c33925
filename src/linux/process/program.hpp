// Running a helper program of the host (hooks, newuidmap, CNI plugins): fork, exec with the given
// argv and environment, feed it STDIN, collect what it writes, wait within a timeout.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace ns::linux_process {

struct Program {
  std::string path;
  std::vector<std::string> args;  // argv, argv[0] included; empty means {path}
  std::vector<std::string> env;   // the whole environment
  std::string stdin_data;
  std::optional<int> timeout_ms;  // killed (SIGKILL) after this long
  int mount_ns_fd = -1;           // >= 0: the child enters this mount namespace first
  bool merge_stderr = true;       // stderr into the same capture as stdout
};

struct ProgramResult {
  int status = 0;  // waitpid status
  std::string out;
  std::string err;  // empty when merge_stderr
  [[nodiscard]] bool ok() const;
  // "exit status 2", "signal 9"
  [[nodiscard]] std::string how() const;
};

// An error only when the program could not be run at all or timed out; its exit status is for
// the caller to judge. Output beyond 1 MiB per stream is dropped.
Result<ProgramResult> run_program(const Program& p);

}  // namespace ns::linux_process
