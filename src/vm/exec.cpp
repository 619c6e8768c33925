// `exec` in VM mode, the host side: asks the monitor to have the agent start the process in the
// guest, then relays its stdio, signals and window size until its exit status arrives.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <optional>

#include "common/file.hpp"
#include "common/unix_socket.hpp"
#include "explain/explain.hpp"
#include "linux/console/console.hpp"
#include "runtime/container.hpp"
#include "vm/monitor.hpp"
#include "vm/protocol.hpp"
#include "vm/vmm.hpp"

namespace ns::vm {
namespace {

struct Io {
  int in, out, err;
  int tty = -1;  // where the window size is read (SIGWINCH), when there is a terminal
};

// Until the Exit frame: its wait status; -1 when the monitor went away first.
int relay(int conn, FrameReader& reader, const Io& io) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaddset(&set, s);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  send_window_size(conn, io.tty);
  bool input_open = true;
  for (;;) {
    while (auto m = reader.next()) {
      if (!*m) break;
      Message& f = **m;
      if (f.type == Frame::Stdout) (void)write_all(io.out, f.payload, "stdout");
      else if (f.type == Frame::Stderr) (void)write_all(io.err, f.payload, "stderr");
      else if (f.type == Frame::Exit) return std::atoi(f.payload.c_str());
    }
    struct pollfd p[3] = {{conn, POLLIN, 0}, {sfd.get(), POLLIN, 0}, {input_open ? io.in : -1, POLLIN, 0}};
    if (::poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (p[0].revents & (POLLIN | POLLHUP)) {
      auto more = reader.fill(conn);
      if (!more || !*more) return -1;
    }
    if (p[1].revents & POLLIN) forward_signals(sfd.get(), conn, io.tty);
    if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[65536];
      ssize_t n = ::read(io.in, buf, sizeof buf);
      if (n > 0) {
        (void)write_frame(conn, Frame::Stdin, 0, std::string_view(buf, static_cast<size_t>(n)));
      } else if (n == 0 || errno != EINTR) {
        input_open = false;
        (void)write_frame(conn, Frame::Stdin, 0, "");
      }
    }
  }
}

}  // namespace

Result<int> exec(const std::string& dir, const runtime::ExecOptions& opts, const oci::Process& process) {
  explain::Step step(narration::kExec);
  auto conn = connect_unix(control_path(dir), "the VM monitor");
  if (!conn) {
    if (conn.error().err == ENOENT || conn.error().err == ECONNREFUSED) return make_error("container not running");
    return std::unexpected(conn.error());
  }
  nlohmann::json request{{"process", oci::process_to_json(process)}};
  TRY(write_frame(conn->get(), Frame::Exec, 0, request.dump()));
  FrameReader reader;
  auto started = reader.read(conn->get());
  if (!started) return make_error("container not running: its VM monitor closed the connection");
  if (started->type == Frame::Error) return make_error("in the VM: " + started->payload);
  if (started->type != Frame::Started) return make_error(std::string("VM monitor: expected Started, got ") + frame_name(started->type));
  if (explain::on()) explain::call("PARENT", "agent: started pid " + started->payload + " inside the guest");
  step.done();

  // A terminal for --console-socket: a host pty whose master goes to the socket and whose slave
  // (raw: the guest's pty does the line discipline) we relay.
  Io io{STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
  std::optional<linux_console::Pty> pty;
  if (process.terminal && !opts.console_socket.empty()) {
    pty = TRY(linux_console::open_pty(process.console_size));
    struct termios t{};
    if (::tcgetattr(pty->slave.get(), &t) == 0) {
      ::cfmakeraw(&t);
      ::tcsetattr(pty->slave.get(), TCSANOW, &t);
    }
    TRY(linux_console::send_to_console_socket(opts.console_socket, pty->master.get()));
    pty->master.reset();
    io = {pty->slave.get(), pty->slave.get(), pty->slave.get(), pty->slave.get()};
  } else if (process.terminal && ::isatty(STDIN_FILENO)) {
    io.tty = STDIN_FILENO;
  }

  if (opts.detach) {
    pid_t pid = ::fork();
    if (pid < 0) return sys_error("fork", "exec relay");
    if (pid == 0) {
      ::setsid();
      if (pty) ::ioctl(pty->slave.get(), TIOCSCTTY, 0);  // resizes reach us as SIGWINCH
      int status = relay(conn->get(), reader, io);
      exit_like(status < 0 ? (255 << 8) : status);
    }
    if (!opts.pid_file.empty()) TRY(runtime::write_pid_file(opts.pid_file, pid));
    return 0;
  }
  std::optional<linux_console::RawTerminal> raw;
  if (io.tty == STDIN_FILENO) raw.emplace();
  int status = relay(conn->get(), reader, io);
  if (status < 0) return make_error("the VM monitor went away before the process's exit status came");
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace ns::vm
