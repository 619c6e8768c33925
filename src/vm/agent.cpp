#include "common/json.hpp"
#include "vm/agent.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <vector>
#include <string>

#include "common/clock.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "common/log.hpp"
#include "common/unix_socket.hpp"
#include "explain/explain.hpp"
#include "sys/kernel.hpp"
#include "linux/net/netdev.hpp"
#include "oci/spec.hpp"
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

// LIST (/modules/load, /modules/load-net) names modules in load order (virtio_ring, virtio,
// virtio_mmio, ...): opened now, while the initramfs is still in view.
Result<std::vector<UniqueFd>> open_modules(const char* list_path) {
  std::vector<UniqueFd> out;
  auto list = read_file(list_path);
  if (!list) return out;  // no such list: nothing to load
  for (auto& name : split(*list, '\n')) {
    if (name.empty()) continue;
    std::string path = "/modules/" + name;
    out.emplace_back(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!out.back()) return sys_error("open", path);
  }
  return out;
}

Result<void> load_modules(std::vector<UniqueFd>& modules) {
  for (auto& fd : modules)
    if (::syscall(SYS_finit_module, fd.get(), "", 0) < 0 && errno != EEXIST) return sys_error("finit_module", sys::fd_path(fd.get()));
  modules.clear();
  return {};
}

// Each module costs time under emulation: the network's are loaded only for a container that
// has a network.
std::vector<UniqueFd> g_net_modules;

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

// A process of the container the agent relays: the init (stream 0) or an exec'd one.
struct Proc {
  pid_t pid = -1;
  bool tty = false;
  UniqueFd in;        // its stdin: a pipe's write end, or the pty master
  UniqueFd out, err;  // its stdout and stderr (read ends); with a tty, out is the master
  int status = -1;    // its wait status, once reaped
  uint64_t exited_at = 0;
};

// Runs ACT (a create or an exec of the namespace back end) so that the process it starts gets
// P's stdio: pipes (it inherits our fds 0-2 while ACT runs), or, with a tty, a pty in the guest
// whose master the back end sends to a console socket of ours.
Result<void> with_stdio(Proc& p, const std::function<Result<void>(const std::string& console_socket)>& act) {
  if (p.tty) {
    static int n = 0;
    std::string path = "/run/ns-console-" + std::to_string(n++) + ".sock";
    UniqueFd listener = TRY(listen_unix(path));
    auto r = act(path);
    ::unlink(path.c_str());
    TRY(r);
    UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) return sys_error("accept", path);
    p.out = TRY(recv_fd(conn.get(), "receive the pty master"));
    p.in.reset(::fcntl(p.out.get(), F_DUPFD_CLOEXEC, 3));
    return {};
  }
  // The process's ends of stdin, stdout and stderr; ours are the other ends.
  UniqueFd ends[3];
  UniqueFd* ours[3] = {&p.in, &p.out, &p.err};
  for (int i = 0; i < 3; ++i) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) return sys_error("pipe");
    bool input = i == 0;  // stdin: the process reads, we write
    ends[i].reset(input ? fds[0] : fds[1]);
    ours[i]->reset(input ? fds[1] : fds[0]);
  }
  UniqueFd saved[3];
  for (int i = 0; i < 3; ++i) {
    saved[i].reset(::fcntl(i, F_DUPFD_CLOEXEC, 3));
    ::dup2(ends[i].get(), i);
  }
  auto r = act("");
  for (int i = 0; i < 3; ++i) ::dup2(saved[i].get(), i);
  return r;
}

class Agent {
 public:
  Agent(int port, runtime::Runtime& rt, std::string id, FrameReader reader, int signal_fd)
      : port_(port), rt_(rt), id_(std::move(id)), reader_(std::move(reader)), signal_fd_(signal_fd) {}

  // Creates the container (stream 0) with the namespace back end, inside the guest.
  Result<pid_t> create(bool tty) {
    Proc& init = procs_[0];
    init.tty = tty;
    TRY(with_stdio(init, [&](const std::string& console_socket) -> Result<void> {
      runtime::CreateOptions opts;
      opts.id = id_;
      opts.bundle = kBundle;
      opts.console_socket = console_socket;
      return rt_.create(opts, "");
    }));
    init.pid = TRY(rt_.store().load(id_)).pid;
    return init.pid;
  }

  // Until the init has exited and the host has its status.
  void run() {
    for (;;) {
      std::vector<struct pollfd> p = {{port_, POLLIN, 0}, {signal_fd_, POLLIN, 0}};
      std::vector<std::pair<uint32_t, UniqueFd*>> outputs;
      for (auto& [stream, proc] : procs_)
        for (UniqueFd* fd : {&proc.out, &proc.err})
          if (*fd) {
            p.push_back({fd->get(), POLLIN, 0});
            outputs.emplace_back(stream, fd);
          }
      bool waiting = false;
      for (auto& [stream, proc] : procs_) waiting |= proc.status >= 0;
      if (::poll(p.data(), p.size(), waiting ? 100 : -1) < 0 && errno != EINTR) die("poll: " + errno_string(errno));
      if (p[0].revents & (POLLIN | POLLHUP)) read_frames();
      if (p[1].revents & POLLIN) reap();
      for (size_t i = 0; i < outputs.size(); ++i)
        if (p[2 + i].revents & (POLLIN | POLLHUP | POLLERR)) forward(outputs[i].first, *outputs[i].second);
      if (finish_exited()) return;
    }
  }

 private:
  int port_;
  runtime::Runtime& rt_;
  std::string id_;
  FrameReader reader_;
  int signal_fd_;
  std::map<uint32_t, Proc> procs_;

  void send(Frame type, uint32_t stream, std::string_view payload) {
    check(write_frame(port_, type, stream, payload), "agent channel");
  }

  void read_frames() {
    auto more = reader_.fill(port_);
    if (!more) die(more.error().to_string());
    if (!*more) die("the host closed the agent channel");
    for (;;) {
      auto m = reader_.next();
      if (!m) die(m.error().to_string());
      if (!*m) return;
      on_frame(**m);
    }
  }

  void on_frame(const Message& m) {
    auto it = procs_.find(m.stream);
    Proc* proc = it == procs_.end() ? nullptr : &it->second;
    switch (m.type) {
      case Frame::Start:
        if (auto r = rt_.start(id_); !r) {
          send(Frame::Stderr, 0, "ns-runtime: start in the VM: " + r.error().to_string() + "\n");
          (void)rt_.kill(id_, SIGKILL, false);
        }
        break;
      case Frame::Stdin:
        if (!proc || !proc->in) break;
        if (m.payload.empty()) {
          if (proc->tty) (void)!::write(proc->in.get(), "\x04", 1);  // ^D: end of input on a terminal
          else proc->in.reset();
        } else {
          (void)write_all(proc->in.get(), m.payload, "stdin");
        }
        break;
      case Frame::Signal: {
        auto j = parse_json(m.payload);
        if (!j.is_object()) break;
        int sig = j.value("signal", SIGTERM);
        if (m.stream == 0) (void)rt_.kill(id_, sig, j.value("all", false));
        else if (proc && proc->pid > 0 && proc->status < 0) ::kill(proc->pid, sig);
        break;
      }
      case Frame::Resize: {
        auto j = parse_json(m.payload);
        if (!proc || !proc->tty || !j.is_object()) break;
        struct winsize ws{};
        ws.ws_row = j.value("rows", static_cast<unsigned short>(24));
        ws.ws_col = j.value("cols", static_cast<unsigned short>(80));
        ::ioctl(proc->in.get(), TIOCSWINSZ, &ws);
        break;
      }
      case Frame::Exec: exec(m.stream, m.payload); break;
      case Frame::Update: {
        auto j = parse_json(m.payload);
        auto r = j.is_object() ? rt_.update(id_, j) : Result<void>(make_error("Update: not a JSON object"));
        send(r ? Frame::Ok : Frame::Error, m.stream, r ? "" : r.error().to_string());
        break;
      }
      default: break;
    }
  }

  void exec(uint32_t stream, const std::string& payload) {
    auto fail = [&](const std::string& why) {
      procs_.erase(stream);
      send(Frame::Error, stream, why);
    };
    if (stream == 0 || procs_.contains(stream)) return fail("stream " + std::to_string(stream) + " is taken");
    auto j = parse_json(payload);
    if (!j.is_object() || !j.contains("process")) return fail("Exec without a process");
    auto process = oci::parse_process_json(j["process"]);
    if (!process) return fail(process.error().to_string());
    Proc& p = procs_[stream];
    p.tty = process->terminal;
    std::string pid_file = "/run/ns-exec-" + std::to_string(stream) + ".pid";
    auto r = with_stdio(p, [&](const std::string& console_socket) -> Result<void> {
      runtime::ExecOptions opts;
      opts.detach = true;
      opts.pid_file = pid_file;
      opts.console_socket = console_socket;
      (void)TRY(rt_.exec(id_, opts, *process));
      return {};
    });
    auto pid = r ? read_file(pid_file) : Result<std::string>(std::unexpected(r.error()));
    ::unlink(pid_file.c_str());
    if (!pid) return fail(pid.error().to_string());
    p.pid = std::atoi(pid->c_str());
    send(Frame::Started, stream, std::to_string(p.pid));
  }

  void forward(uint32_t stream, UniqueFd& fd) {
    Proc& p = procs_[stream];
    char buf[65536];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {  // end of output (a pty master reads EIO once its slave is closed everywhere)
      fd.reset();
      return;
    }
    send(&fd == &p.err ? Frame::Stderr : Frame::Stdout, stream, std::string_view(buf, static_cast<size_t>(n)));
  }

  void reap() {
    struct signalfd_siginfo si;
    while (::read(signal_fd_, &si, sizeof si) > 0) {
    }
    int ws;
    pid_t pid;
    while ((pid = ::waitpid(-1, &ws, WNOHANG)) > 0)
      for (auto& [stream, proc] : procs_)
        if (proc.pid == pid) {
          proc.status = ws;
          proc.exited_at = monotonic_ms();
        }
  }

  // Sends the exit status of every process that has exited and whose output is all sent (or,
  // for processes outside its pid namespace that keep the pipes open, a second after it
  // exited). True once the init's status is through: then the host stops the VM.
  bool finish_exited() {
    auto done = [](const Proc& p) { return p.status >= 0 && ((!p.out && !p.err) || monotonic_ms() - p.exited_at >= 1000); };
    // The exec'd processes first: the init's end is the VM's, and theirs (killed with its pid
    // namespace, a moment later) should reach their relays too; a second at most.
    for (auto it = procs_.begin(); it != procs_.end();) {
      if (it->first == 0 || !done(it->second)) {
        ++it;
        continue;
      }
      send(Frame::Exit, it->first, std::to_string(it->second.status));
      it = procs_.erase(it);
    }
    auto init = procs_.find(0);
    if (init == procs_.end() || !done(init->second)) return false;
    if (procs_.size() > 1 && monotonic_ms() - init->second.exited_at < 1000) return false;
    send(Frame::Exit, 0, std::to_string(init->second.status));
    procs_.erase(init);
    wait_host_stop();
    return true;
  }

  // Writes to the port are asynchronous: powering off before the host has read the status would
  // lose it. The host stops the VM once it has it (the channel closes first); if it is gone, we
  // power off after a while.
  void wait_host_stop() {
    for (uint64_t until = monotonic_ms() + 5000; monotonic_ms() < until;) {
      struct pollfd p{port_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      auto more = reader_.fill(port_);
      if (!more || !*more) return;
    }
  }
};

// The NICs QEMU gave the guest, one per interface of the container's network namespace on the
// host (same MAC): moved into the container's network namespace here, with the interface's name,
// address, MTU and routes.
Result<void> wire_nics(pid_t init, const std::vector<linux_net::Interface>& nics) {
  if (nics.empty()) return {};
  TRY(load_modules(g_net_modules));
  std::vector<std::string> names;
  for (auto& nic : nics) {
    names.push_back(TRY(linux_net::find_by_mac(nic.mac)));
    TRY(linux_net::move_to_netns(names.back(), init));
  }
  UniqueFd ours(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  std::string theirs_path = "/proc/" + std::to_string(init) + "/ns/net";
  UniqueFd theirs(::open(theirs_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ours || !theirs) return sys_error("open", theirs_path);
  if (::setns(theirs.get(), CLONE_NEWNET) < 0) return sys_error("setns", theirs_path);
  Result<void> r;
  for (size_t i = 0; i < nics.size() && r; ++i) r = linux_net::configure(names[i], nics[i]);
  if (::setns(ours.get(), CLONE_NEWNET) < 0) return sys_error("setns", "/proc/self/ns/net");
  return r;
}

}  // namespace

bool is_agent(const char* argv0) { return ::getpid() == 1 && argv0 && std::strcmp(argv0, "/init") == 0; }

void agent_main() {
  // The floor VM mode is measured against (bench/vm.sh): this kernel and this initramfs, powered
  // off as soon as /init runs. The kernel hands NS_AGENT_FLOOR=1 from its command line to us.
  if (const char* floor = std::getenv("NS_AGENT_FLOOR"); floor && *floor == '1') {
    (void)!::write(STDERR_FILENO, "ns-agent: floor: powering off\n", 31);
    power_off();
  }
  log::set_program("ns-agent");
  auto modules = open_modules("/modules/load");
  if (!modules) die(modules.error().to_string());
  check(load_modules(*modules), "load modules");
  if (auto net = open_modules("/modules/load-net"); net) g_net_modules = std::move(*net);
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
  auto j = parse_json(config->payload);
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

  // -E on the host: the agent narrates what it does inside, and the guest's init what it does,
  // over the channel. The host prints it (roles AGENT and INIT) among its own stages.
  if (!j.value("explain", "").empty()) {
    explain::set_mode(explain::Mode::Text);
    explain::forward_to([](const char* kind, const std::string& role, const std::string& text, const explain::StageEvent* e) {
      std::string who = role == "PARENT" ? "AGENT" : role == "CHILD" ? "INIT" : role;
      nlohmann::json ev{{"kind", kind}, {"role", who}};
      if (e)
        ev.update({{"stage", e->stage}, {"field", e->field}, {"why", e->why}, {"ago_ns", explain::now_ns() - e->start_ns},
                   {"duration_ns", e->duration_ns}, {"ok", e->ok}});
      else
        ev["text"] = text;
      (void)write_frame(g_port, Frame::Explain, 0, ev.dump());
    });
  }
  runtime::Runtime rt({kStateRoot, false});
  Agent agent(g_port, rt, id, std::move(reader), sfd.get());
  bool tty = j["spec"].contains("process") && j["spec"]["process"].value("terminal", false);
  auto pid = agent.create(tty);
  if (!pid) die(pid.error().to_string());
  check(wire_nics(*pid, linux_net::interfaces_from_json(j.value("network", nlohmann::json::array()))), "network");
  check(write_frame(g_port, Frame::Created, 0, std::to_string(*pid)), "agent channel");
  agent.run();
  power_off();
}

}  // namespace ns::vm
