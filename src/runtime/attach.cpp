#include "runtime/attach.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "common/fd.hpp"
#include "common/file.hpp"
#include "linux/console/console.hpp"

namespace ns::runtime {

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// `run` attached: forward signals to init, relay the pty if we hold it, return the exit status.
int wait_attached(pid_t pid, int master) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGPIPE}) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC));

  std::optional<linux_console::RawTerminal> raw;
  if (master >= 0) {
    raw.emplace();
    linux_console::copy_window_size(master);
  }
  bool stdin_open = master >= 0, master_open = master >= 0;
  int status = 0;
  bool reaped = false;
  auto try_reap = [&] {
    if (reaped) return;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) reaped = true;
  };
  try_reap();
  while (!reaped || master_open) {
    struct pollfd fds[3];
    int n = 0;
    fds[n++] = {sfd.get(), POLLIN, 0};
    int master_idx = -1, stdin_idx = -1;
    if (master_open) {
      master_idx = n;
      fds[n++] = {master, POLLIN, 0};
    }
    if (stdin_open && !reaped) {
      stdin_idx = n;
      fds[n++] = {STDIN_FILENO, POLLIN, 0};
    }
    int ready = ::poll(fds, static_cast<nfds_t>(n), reaped ? 100 : -1);
    if (ready < 0 && errno != EINTR) break;
    if (ready == 0 && reaped) break;  // drained
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si{};
      if (::read(sfd.get(), &si, sizeof si) == sizeof si) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGCHLD) {
          try_reap();
        } else if (sig == SIGWINCH) {
          if (master >= 0) linux_console::copy_window_size(master);
        } else if (sig != SIGPIPE) {
          ::kill(pid, sig);
        }
      }
    }
    char buf[16384];
    if (master_idx >= 0 && (fds[master_idx].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = ::read(master, buf, sizeof buf);
      if (r > 0)
        (void)write_all(STDOUT_FILENO, std::string_view(buf, static_cast<size_t>(r)), "stdout");
      else if (r == 0 || (errno != EINTR && errno != EAGAIN))
        master_open = false;  // EIO: every slave fd is closed
    }
    if (stdin_idx >= 0 && (fds[stdin_idx].revents & (POLLIN | POLLHUP))) {
      ssize_t r = ::read(STDIN_FILENO, buf, sizeof buf);
      if (r > 0)
        (void)write_all(master, std::string_view(buf, static_cast<size_t>(r)), "pty");
      else
        stdin_open = false;
    }
  }
  if (!reaped)
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  return exit_code(status);
}


}  // namespace ns::runtime
