// process.terminal: the container gets a pseudo-terminal. The child opens the pty inside the
// container's own devpts (so the pty belongs to the container), keeps the slave as stdio and
// controlling terminal, and passes the master up; the runtime hands the master to whoever asked
// (`--console-socket`, with SCM_RIGHTS, as conmon and containerd expect) or relays it itself
// (`run` attached).
#pragma once

#include <optional>
#include <string>

#include "common/error.hpp"
#include "explain/narration.hpp"
#include "common/fd.hpp"
#include "oci/spec.hpp"

namespace ns::linux_console {

struct Pty {
  UniqueFd master;
  UniqueFd slave;
};

// Opens /dev/ptmx (the container's, after pivot_root) and its peer; sets the window size.
Result<Pty> open_pty(const std::optional<oci::ConsoleSize>& size);
// The slave becomes the controlling terminal and fds 0, 1, 2 (after setsid()).
Result<void> attach_slave(int slave);
// Connects to the unix socket PATH and sends MASTER with SCM_RIGHTS.
Result<void> send_to_console_socket(const std::string& path, int master);

// Puts the caller's terminal in raw mode for the life of the object (when stdin is a tty).
class RawTerminal {
 public:
  RawTerminal();
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  bool active_ = false;
  char saved_[64];  // struct termios, kept opaque here
};

// Copies the size of the caller's terminal (fd 0) to the pty master.
void copy_window_size(int master);

namespace narration {
extern const explain::Narration kConsole;
}

}  // namespace ns::linux_console
