#include "vm/agent.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <fstream>
#include <string>

#include "common/fd.hpp"
#include "common/file.hpp"
#include "common/log.hpp"
#include "runtime/container.hpp"
#include "vm/protocol.hpp"

namespace ns::vm {

namespace {

constexpr const char* kStateRoot = "/run/ns";
constexpr const char* kBundle = "/run/bundle";

int g_port = -1;

[[noreturn]] void power_off() {
  ::sync();
  ::reboot(RB_POWER_OFF);
  for (;;) ::pause();
}

// Set-up failed: say it on the console (the host keeps it in vm.log) and over the channel.
[[noreturn]] void die(const std::string& what) {
  std::string line = "ns-agent: " + what + "\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  if (g_port >= 0) {
    (void)write_frame(g_port, Frame::Error, 0, what);
    // Guest writes to the port are asynchronous: give the host the time to read them.
    struct timespec ts{0, 200'000'000};
    ::nanosleep(&ts, nullptr);
  }
  power_off();
}

void check(const Result<void>& r, const std::string& what) {
  if (!r) die(what + ": " + r.error().to_string());
}

Result<void> mount_fs(const char* source, const std::string& target, const char* type, unsigned long flags,
                      const char* data = nullptr) {
  TRY(mkdir_p(target));
  if (::mount(source, target.c_str(), type, flags, data) < 0) return sys_error(std::string("mount ") + type, target);
  return {};
}

// /modules/load lists the modules in load order (virtio_ring, virtio, virtio_mmio, ...).
Result<void> load_modules() {
  std::ifstream list("/modules/load");
  std::string name;
  while (std::getline(list, name)) {
    if (name.empty()) continue;
    std::string path = "/modules/" + name;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return sys_error("open", path);
    if (::syscall(SYS_finit_module, fd.get(), "", 0) < 0 && errno != EEXIST) return sys_error("finit_module", path);
  }
  return {};
}

// The initramfs cannot be pivot_root'ed away from: put a tmpfs over it and chroot there, so the
// container's pivot_root works as on a host.
Result<void> move_root_to_tmpfs() {
  TRY(mount_fs("tmpfs", "/newroot", "tmpfs", MS_NOSUID, "mode=0755"));
  if (::chdir("/newroot") < 0) return sys_error("chdir", "/newroot");
  if (::mount(".", "/", nullptr, MS_MOVE, nullptr) < 0) return sys_error("mount --move", "/newroot");
  if (::chroot(".") < 0) return sys_error("chroot", "/newroot");
  if (::chdir("/") < 0) return sys_error("chdir", "/");
  return {};
}

Result<void> mount_system() {
  TRY(mount_fs("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC));
  TRY(mount_fs("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC));
  TRY(mount_fs("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"));
  TRY(mount_fs("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC));
  TRY(mount_fs("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"));
  TRY(mount_fs("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"));
  TRY(mount_fs(kShareTag, kGuestShare, "virtiofs", 0));
  return {};
}

// Without udev: the port is the /dev/vportNpM whose sysfs name is ours. It may take a moment
// to appear after the module loads.
Result<UniqueFd> open_port() {
  for (int tries = 0; tries < 500; ++tries) {
    if (DIR* d = ::opendir("/sys/class/virtio-ports")) {
      std::string found;
      while (struct dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        auto name = read_file(std::string("/sys/class/virtio-ports/") + e->d_name + "/name");
        if (name && name->starts_with(kPortName)) found = e->d_name;
      }
      ::closedir(d);
      if (!found.empty()) {
        std::string dev = "/dev/" + found;
        UniqueFd fd(::open(dev.c_str(), O_RDWR | O_CLOEXEC));
        if (fd) return fd;
        if (errno != ENOENT) return sys_error("open", dev);
      }
    }
    struct timespec ts{0, 10'000'000};
    ::nanosleep(&ts, nullptr);
  }
  return make_error(std::string("no virtio port named ") + kPortName + " after 5 s");
}

struct Stdio {
  UniqueFd in, out, err;  // our ends: the container's stdin (write), stdout and stderr (read)
};

// Creates the container with the namespace back end, its stdio the pipes of STDIO (its init
// inherits our fds 0-2 while create runs).
Result<pid_t> create_container(runtime::Runtime& rt, const std::string& id, Stdio& stdio) {
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) < 0 || ::pipe2(out, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0) return sys_error("pipe");
  stdio.in.reset(in[1]);
  stdio.out.reset(out[0]);
  stdio.err.reset(err[0]);
  UniqueFd ends[3] = {UniqueFd(in[0]), UniqueFd(out[1]), UniqueFd(err[1])};
  UniqueFd saved[3];
  for (int i = 0; i < 3; ++i) {
    saved[i].reset(::fcntl(i, F_DUPFD_CLOEXEC, 3));
    ::dup2(ends[i].get(), i);
  }
  runtime::CreateOptions opts;
  opts.id = id;
  opts.bundle = kBundle;
  auto r = rt.create(opts, "");
  for (int i = 0; i < 3; ++i) ::dup2(saved[i].get(), i);
  if (!r) return std::unexpected(r.error());
  auto st = TRY(rt.store().load(id));
  return st.pid;
}

struct Relay {
  int port;
  runtime::Runtime& rt;
  std::string id;
  pid_t init;
  Stdio stdio;
  FrameReader reader;
  int signal_fd = -1;
  int status = -1;  // the init's wait status, once reaped
  uint64_t exited_at = 0;

  static uint64_t now_ms() {
    struct timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1'000'000;
  }

  void on_frame(const Message& m) {
    switch (m.type) {
      case Frame::Start:
        if (auto r = rt.start(id); !r) {
          std::string msg = "ns-runtime: start in the VM: " + r.error().to_string() + "\n";
          (void)write_frame(port, Frame::Stderr, 0, msg);
          (void)rt.kill(id, SIGKILL, false);
        }
        break;
      case Frame::Stdin:
        if (m.payload.empty()) stdio.in.reset();
        else if (stdio.in) (void)write_all(stdio.in.get(), m.payload, "container stdin");
        break;
      case Frame::Signal: {
        auto j = nlohmann::json::parse(m.payload, nullptr, false);
        if (j.is_object()) (void)rt.kill(id, j.value("signal", SIGTERM), j.value("all", false));
        break;
      }
      default: break;
    }
  }

  void forward(UniqueFd& fd, Frame type) {
    char buf[65536];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) return;
    if (n <= 0) {
      fd.reset();
      return;
    }
    check(write_frame(port, type, 0, std::string_view(buf, static_cast<size_t>(n))), "agent channel");
  }

  void reap() {
    struct signalfd_siginfo si;
    while (::read(signal_fd, &si, sizeof si) > 0) {
    }
    int ws;
    pid_t p;
    while ((p = ::waitpid(-1, &ws, WNOHANG)) > 0)
      if (p == init) {
        status = ws;
        exited_at = now_ms();
      }
  }

  // Until the init has exited and its output is all sent (or, for processes outside its pid
  // namespace that keep the pipes, a second after it exited).
  void run() {
    for (;;) {
      bool drained = !stdio.out && !stdio.err;
      if (status >= 0 && (drained || now_ms() - exited_at > 1000)) break;
      struct pollfd p[4] = {{port, POLLIN, 0}, {signal_fd, POLLIN, 0}, {stdio.out.get(), POLLIN, 0}, {stdio.err.get(), POLLIN, 0}};
      if (::poll(p, 4, status >= 0 ? 100 : -1) < 0 && errno != EINTR) die("poll: " + errno_string(errno));
      if (p[0].revents & (POLLIN | POLLHUP)) {
        auto more = reader.fill(port);
        if (!more) die(more.error().to_string());
        for (;;) {
          auto m = reader.next();
          if (!m) die(m.error().to_string());
          if (!*m) break;
          on_frame(**m);
        }
      }
      if (p[1].revents & POLLIN) reap();
      if (p[2].revents & (POLLIN | POLLHUP)) forward(stdio.out, Frame::Stdout);
      if (p[3].revents & (POLLIN | POLLHUP)) forward(stdio.err, Frame::Stderr);
    }
    check(write_frame(port, Frame::Exit, 0, std::to_string(status)), "agent channel");
    // The host says when it has the status: writes to the port are asynchronous, and powering
    // off first would lose them.
    for (uint64_t until = now_ms() + 5000; now_ms() < until;) {
      struct pollfd p{port, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      auto more = reader.fill(port);
      if (!more || !*more) break;
      auto m = reader.next();
      if (m && *m && (*m)->type == Frame::Bye) break;
    }
  }
};

}  // namespace

bool is_agent(const char* argv0) { return ::getpid() == 1 && argv0 && std::strcmp(argv0, "/init") == 0; }

void agent_main() {
  log::set_program("ns-agent");
  check(load_modules(), "load modules");
  check(move_root_to_tmpfs(), "new root");
  check(mount_system(), "mounts");
  auto port = open_port();
  if (!port) die(port.error().to_string());
  g_port = port->get();
  check(write_frame(g_port, Frame::Hello, 0, kProtocol), "agent channel");

  FrameReader reader;
  auto config = reader.read(g_port);
  if (!config) die("agent channel: " + config.error().to_string());
  if (config->type != Frame::Config) die(std::string("agent channel: expected Config, got ") + frame_name(config->type));
  auto j = nlohmann::json::parse(config->payload, nullptr, false);
  if (!j.is_object() || !j.contains("spec")) die("agent channel: Config is not a JSON object with a spec");
  std::string id = j.value("id", "container");
  check(mkdir_p(kBundle), "bundle");
  check(write_file_atomic(std::string(kBundle) + "/config.json", j["spec"].dump()), "bundle");

  // SIGCHLD through a signalfd, blocked before the container exists so no exit is missed.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);
  UniqueFd sfd(::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK));

  runtime::Runtime rt({kStateRoot, false});
  Stdio stdio;
  auto pid = create_container(rt, id, stdio);
  if (!pid) die(pid.error().to_string());
  check(write_frame(g_port, Frame::Created, 0, std::to_string(*pid)), "agent channel");

  Relay relay{g_port, rt, id, *pid, std::move(stdio), std::move(reader), sfd.get()};
  relay.run();
  power_off();
}

}  // namespace ns::vm
