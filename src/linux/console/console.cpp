#include "linux/console/console.hpp"

#include "common/unix_socket.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

namespace ns::linux_console {

namespace narration {
const explain::Narration kConsole{
    "console", "process.terminal, process.consoleSize",
    "With a terminal, a pseudo-terminal pair is opened from the container's own devpts. The slave end becomes the "
    "container's stdin, stdout, stderr and controlling terminal; the master end goes to whoever asked, through "
    "--console-socket, and that is where the user's keystrokes come from."};
}  // namespace narration

static_assert(sizeof(struct termios) <= 64);

Result<Pty> open_pty(const std::optional<oci::ConsoleSize>& size) {
  Pty p;
  p.master.reset(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!p.master) return sys_error("open", "/dev/ptmx");
  int unlock = 0;
  if (::ioctl(p.master.get(), TIOCSPTLCK, &unlock) < 0) return sys_error("ioctl TIOCSPTLCK", "/dev/ptmx");
  int slave = ::ioctl(p.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) return sys_error("ioctl TIOCGPTPEER", "/dev/ptmx");
  p.slave.reset(slave);
  if (size && size->height && size->width) {
    struct winsize ws{};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (::ioctl(p.master.get(), TIOCSWINSZ, &ws) < 0) return sys_error("ioctl TIOCSWINSZ");
  }
  return p;
}

Result<void> attach_slave(int slave) {
  if (::ioctl(slave, TIOCSCTTY, 0) < 0) return sys_error("ioctl TIOCSCTTY");
  for (int target = 0; target < 3; ++target)
    if (::dup2(slave, target) < 0) return sys_error("dup2", "pty slave");
  return {};
}

Result<void> send_to_console_socket(const std::string& path, int master) {
  UniqueFd s = TRY(connect_unix(path, "console socket"));
  // The payload names the terminal, as runc sends it.
  static const char kName[] = "/dev/ptmx";
  return send_with_fd(s.get(), kName, sizeof kName - 1, master, "send to console socket " + path);
}

RawTerminal::RawTerminal() {
  struct termios t{};
  if (!::isatty(STDIN_FILENO) || ::tcgetattr(STDIN_FILENO, &t) < 0) return;
  std::memcpy(saved_, &t, sizeof t);
  ::cfmakeraw(&t);
  if (::tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) active_ = true;
}

RawTerminal::~RawTerminal() {
  if (!active_) return;
  struct termios t{};
  std::memcpy(&t, saved_, sizeof t);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

void copy_window_size(int master) {
  struct winsize ws{};
  if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
}

}  // namespace ns::linux_console
