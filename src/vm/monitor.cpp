#include "common/json.hpp"
#include "vm/monitor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <cstring>
#include <memory>
#include <vector>

#include "common/fd.hpp"
#include "common/file.hpp"
#include "common/log.hpp"
#include "common/unix_socket.hpp"
#include "explain/explain.hpp"
#include "linux/console/console.hpp"
#include "linux/net/netdev.hpp"
#include "linux/process/program.hpp"
#include "linux/process/process.hpp"
#include "runtime/pipeline.hpp"
#include "runtime/sync.hpp"
#include "vm/protocol.hpp"
#include "vm/vmm.hpp"

namespace ns::vm {

namespace narration {
const explain::Narration kMachine{
    "vm-machine", "annotations org.nano-sandbox.runtime, linux.resources",
    "VM mode runs the container inside its own small virtual machine with its own kernel, so a kernel bug "
    "reachable from the container no longer reaches the host. The accelerator is probed, not assumed: hardware "
    "KVM where kvm_intel or kvm_amd is loaded, else QEMU's software emulation (TCG). The memory limit sizes the "
    "guest; the CPU quota gives its vCPUs."};
const explain::Narration kShare{
    "vm-share", "root.path, mounts (bind)",
    "The guest cannot see the host's files. In a mount namespace of its own, the monitor bind-mounts the rootfs "
    "and every bind mount's source side by side into one directory (read-only where config.json says so) and "
    "virtiofsd serves that directory, and nothing else, to the guest over virtio-fs."};
const explain::Narration kNetwork{
    "vm-network", "linux.namespaces (network path)",
    "The container's network namespace was made by the engine (podman, CNI, nsrun) with an interface and an "
    "address in it. The guest gets a NIC with the same MAC, backed by a tap device in that namespace; tc redirects "
    "every frame between the interface and the tap, and the agent gives the guest's NIC the interface's name, "
    "address and routes inside the container's own namespace in the guest."};
const explain::Narration kBoot{
    "vm-boot", "",
    "QEMU boots a microvm (no PCI, no firmware, no emulated legacy hardware beyond a serial console) straight "
    "into the guest kernel, whose initramfs's /init is this same program as the guest agent. The agent loads the "
    "virtio modules, mounts the share and says hello on a virtio-serial port. Should a guest ever get code to run "
    "in QEMU, QEMU has by then no capability, a uid of its own (0x70000000 + its pid, -runas), an empty root "
    "(-chroot) and, without NICs, an empty network namespace; a seccomp filter refuses it ptrace, bpf, modules and "
    "mounts. virtiofsd, which has to act as the owner of any file in the share, sees only the share."};
const explain::Narration kPooled{
    "vm-pool", "",
    "A VM booted ahead of time by `ns-runtime vm-pool` was waiting, its agent up and its share empty: the pool "
    "bound this container's rootfs and bind mounts into the share (they appear in the guest at once through "
    "virtio-fs), and QEMU and virtiofsd moved into the container's cgroup. No boot to wait for."};
const explain::Narration kAgent{
    "vm-agent", "process, linux",
    "The agent gets config.json with the guest's paths and creates the container inside the guest with the "
    "namespace back end: the same namespaces, mounts, cgroups, capabilities, seccomp and rlimits as on a host. "
    "Its stdio, exit status and signals travel over the same virtio-serial port."};
const explain::Narration kStart{
    "start", "process.args",
    "start writes one byte into the exec fifo, which the VM's monitor process holds; the monitor tells the agent "
    "inside the guest to start the container, whose init then execs the program of process.args."};
const explain::Narration kKill{
    "kill", "",
    "The signal goes to the VM's monitor over its control socket; the monitor passes it to the agent, which sends "
    "it to the container's init (or, with --all, to every process of the container) inside the guest. SIGKILL "
    "goes to the monitor itself, which takes QEMU and the whole guest down with it."};
const explain::Narration kExec{
    "exec", "process",
    "The process to run goes to the VM's monitor over its control socket and on to the agent, which starts it in "
    "the container with the namespace back end inside the guest (joining the init's namespaces and cgroup). Its "
    "stdio, signals and exit status travel on a stream of their own over the same virtio-serial port."};
const explain::Narration kPause{
    "pause", "",
    "QEMU stops the guest's virtual CPUs (QMP stop): the container's processes stand still where they are, "
    "inside a guest that does not run. Then the host cgroup is frozen, QEMU and virtiofsd with it, so nothing of "
    "the container runs on the host either."};
const explain::Narration kResume{
    "resume", "",
    "The host cgroup is thawed, then QEMU lets the guest's virtual CPUs run again (QMP cont): the container goes "
    "on from where it stood."};
}  // namespace narration

namespace {

std::string log_path(const std::string& dir) { return dir + "/vm.log"; }

// The share: a tmpfs in a mount namespace of the monitor's own, with the rootfs and each bind
// mount's source bound into it. Nothing of it is seen on the host, and it goes with the monitor.
Result<void> make_share(const std::string& dir, const std::vector<Share>& shares,
                        const std::function<void(const std::string&)>& narrate) {
  if (::unshare(CLONE_NEWNS) < 0) return sys_error("unshare mount namespace (for the VM's share)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) return sys_error("make / private");
  std::string root = dir + "/share";
  TRY(mkdir_p(root, 0700));
  if (::mount("tmpfs", root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) return sys_error("mount tmpfs", root);
  return bind_shares(root, shares, narrate);
}

}  // namespace

void exit_like(int status) {
  if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    struct rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    ::sigprocmask(SIG_UNBLOCK, &one, nullptr);
    ::raise(sig);
    ::_exit(128 + sig);
  }
  ::_exit(255);
}

namespace {

class Monitor {
  struct Client;

 public:
  Monitor(const MonitorPlan& plan, int sync_fd, int fifo_fd) : plan_(plan), sync_(sync_fd), fifo_(fifo_fd) {}

  [[noreturn]] void run() {
    auto go = runtime::recv_message(sync_);
    if (!go || go->type != runtime::Msg::Go) ::_exit(1);  // the runtime died before we joined the cgroup
    ::setsid();
    // Every signal we may catch is ours to forward; SIGCHLD tells us QEMU or virtiofsd stopped.
    sigset_t all;
    sigfillset(&all);
    ::sigprocmask(SIG_BLOCK, &all, nullptr);
    signal_fd_.reset(::signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK));
    if (auto r = boot(); !r) fail(r.error());
    if (auto r = runtime::send_message(sync_, runtime::Message{runtime::Msg::Ready, {}}); !r) shutdown_and_exit(1);
    // Until the runtime has saved the state, its death takes the VM with it.
    auto committed = runtime::recv_message(sync_);
    if (!committed || committed->type != runtime::Msg::Go) shutdown_and_exit(1);
    ::close(sync_);
    sync_ = -1;
    relay();
  }

 private:
  const MonitorPlan& plan_;
  int sync_;
  UniqueFd fifo_;
  UniqueFd signal_fd_, control_, log_;
  Vm vm_;  // QEMU, virtiofsd, the agent channel
  int status_ = -1;
  std::vector<linux_net::Interface> nics_;  // the container's interfaces on the host, now the guest's NICs
  std::string tc_;
  UniqueFd tty_;  // with process.terminal: the host pty's slave, raw; its master went to the engine
  std::vector<std::unique_ptr<Client>> clients_;
  uint32_t next_stream_ = 1;

  [[noreturn]] void fail(Error e) {
    stop_children();
    if (std::string tail = log_tail(plan_.log); !tail.empty()) e.msg += (e.msg.empty() ? "" : "; ") + std::string("the VM's console ended with:\n") + tail;
    if (sync_ >= 0) (void)runtime::send_message(sync_, runtime::Message{runtime::Msg::Error, std::move(e)});
    ::_exit(1);
  }

  void stage(const explain::Narration& n, uint64_t start, bool ok) {
    if (explain::on() && sync_ >= 0) runtime::send_stage_over_sync(sync_, n, start, explain::now_ns() - start, ok);
  }
  void call(const std::string& what) {
    if (explain::on() && sync_ >= 0) runtime::send_text_over_sync(sync_, runtime::Msg::ExplainCall, what);
  }

  Result<void> boot() {
    if (plan_.pooled) {
      uint64_t t = explain::now_ns();
      // Booted ahead by the pool, the share attached by it: not our children, watched by pidfd.
      vm_.qemu = Proc::watch("QEMU", plan_.pooled->qemu, false);
      vm_.virtiofsd = Proc::watch("virtiofsd", plan_.pooled->virtiofsd, false);
      vm_.agent.reset(plan_.pooled->agent_fd);
      control_ = TRY(listen_unix(control_path(plan_.dir)));
      call("took a VM booted ahead by the warm pool: QEMU pid " + std::to_string(plan_.pooled->qemu) + ", the container's "
           "paths bound into the share its virtiofsd serves");
      stage(narration::kPooled, t, true);
    } else {
      TRY(cold_boot());
    }
    uint64_t t = explain::now_ns();
    if (plan_.pooled) TRY(send_config());  // a cold boot sent it as soon as the port was up
    auto created = TRY(read_agent(vm_, 60'000));
    while (created.type == Frame::Explain) {
      relay_guest_narration(created.payload);
      created = TRY(read_agent(vm_, 60'000));
    }
    if (created.type == Frame::Error) return make_error("in the VM: " + created.payload);
    if (created.type != Frame::Created) return make_error(std::string("VM agent: expected Created, got ") + frame_name(created.type));
    call("agent: container created inside the guest, its init is pid " + created.payload + " there");
    if (plan_.terminal) TRY(make_terminal());
    stage(narration::kAgent, t, true);
    return {};
  }

  Result<void> cold_boot() {
    uint64_t t = explain::now_ns();
    log_.reset(::open(plan_.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!log_) return sys_error("open", plan_.log);
    TRY(make_share(plan_.dir, plan_.guest.shares, [this](const std::string& what) { call(what); }));
    stage(narration::kShare, t, true);

    MachineConfig machine = plan_.machine;
    std::vector<UniqueFd> taps;
    if (!plan_.guest.netns_path.empty()) {
      t = explain::now_ns();
      TRY(wire_network(machine, taps));
      stage(narration::kNetwork, t, true);
    }

    t = explain::now_ns();
    control_ = TRY(listen_unix(control_path(plan_.dir)));
    auto launched = TRY(launch(machine, plan_.virtiofsd, plan_.dir + "/share", std::move(taps), log_.get()));
    call(join_args(launched.virtiofsd_argv));
    call(join_args(launched.qemu_argv));
    // The Config goes as soon as QEMU has connected the port: it waits there for the agent,
    // which reads it right after its Hello (one round trip less under emulation).
    auto connected = accept_agent(launched, 60'000);
    vm_ = std::move(launched.vm);
    TRY(connected);
    TRY(send_config());
    TRY(check_hello(TRY(read_agent(vm_, 60'000)), plan_.machine.assets.initrd));
    stage(narration::kBoot, t, true);
    return {};
  }

  Result<void> send_config() {
    nlohmann::json config{{"id", plan_.id},
                          {"spec", plan_.guest.config},
                          {"network", linux_net::to_json(nics_)},
                          {"explain", explain::on() ? "text" : ""}};
    return write_frame(vm_.agent.get(), Frame::Config, 0, config.dump());
  }

  // An Explain frame of the agent's: on to the runtime over the sync channel, the stage's start
  // moved from the guest's clock to ours (as long ago as it was there).
  void relay_guest_narration(const std::string& payload) {
    auto ev = parse_json(payload);
    if (!ev.is_object() || sync_ < 0) return;
    std::string kind = ev.value("kind", ""), role = ev.value("role", "GUEST");
    runtime::Message m{kind == "stage" ? runtime::Msg::ExplainStage : kind == "note" ? runtime::Msg::ExplainNote
                                                                                         : runtime::Msg::ExplainCall,
                       {}};
    m.error.path = role;
    if (kind == "stage") {
      m.error.stage = ev.value("stage", "");
      m.error.op = ev.value("field", "");
      m.error.msg = ev.value("why", "");
      m.error.err = ev.value("ok", true) ? 0 : 1;
      m.value = ev.value("duration_ns", int64_t{0});
      m.value2 = static_cast<int64_t>(explain::now_ns()) - ev.value("ago_ns", int64_t{0});
    } else {
      m.error.msg = ev.value("text", "");
    }
    (void)runtime::send_message(sync_, m);
  }

  // process.terminal: the container's pty is in the guest; the engine gets the master of a host
  // pty whose slave we relay, raw, to and from the guest's. It is our controlling terminal, so
  // that a resize reaches us as SIGWINCH.
  Result<void> make_terminal() {
    auto pty = TRY(linux_console::open_pty(std::nullopt));
    struct termios t{};
    if (::tcgetattr(pty.slave.get(), &t) == 0) {
      ::cfmakeraw(&t);
      ::tcsetattr(pty.slave.get(), TCSANOW, &t);
    }
    ::ioctl(pty.slave.get(), TIOCSCTTY, 0);
    TRY(runtime::send_message(sync_, runtime::Message{runtime::Msg::ConsoleMaster, {}}, pty.master.get()));
    tty_ = std::move(pty.slave);
    return {};
  }

  // The container's network namespace on the host (podman's, CNI's, nsrun's): QEMU runs in it,
  // one tap per interface, each wired both ways to its interface by tc mirred redirects, so
  // whatever reaches the interface reaches the guest's NIC (same MAC) and back.
  Result<void> wire_network(MachineConfig& machine, std::vector<UniqueFd>& taps) {
    const std::string& path = plan_.guest.netns_path;
    UniqueFd netns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns) return sys_error("open network namespace", path);
    if (::setns(netns.get(), CLONE_NEWNET) < 0) return sys_error("setns", path);
    call("setns(\"" + path + "\", CLONE_NEWNET): QEMU runs in the container's network namespace");
    std::string ip = TRY(find_program("ip", "iproute2"));
    tc_ = TRY(find_program("tc", "iproute2"));
    auto addrs = nlohmann::json::parse(TRY(run_tool({ip, "-j", "addr", "show"})), nullptr, false);
    auto routes = nlohmann::json::parse(TRY(run_tool({ip, "-j", "-4", "route", "show"})), nullptr, false);
    nics_ = linux_net::parse_ip_json(addrs, routes);
    for (auto& nic : nics_) {
      std::string tap;
      taps.push_back(TRY(linux_net::open_tap("nstap%d", &tap)));
      TRY(run_tool({ip, "link", "set", "dev", tap, "mtu", std::to_string(nic.mtu), "up"}));
      for (auto [from, to] : {std::pair{nic.name, tap}, std::pair{tap, nic.name}}) {
        TRY(run_tool({tc_, "qdisc", "add", "dev", from, "ingress"}));
        TRY(run_tool({tc_, "filter", "add", "dev", from, "parent", "ffff:", "protocol", "all", "u32", "match", "u32", "0",
                      "0", "action", "mirred", "egress", "redirect", "dev", to}));
      }
      call("tap " + tap + " <-> " + nic.name + " (tc ingress, u32 match all, mirred egress redirect); guest NIC " + nic.mac +
           " gets " + nic.address);
      machine.nic_macs.push_back(nic.mac);
    }
    return {};
  }

  // The interfaces as they were: no redirect left on them (the taps went with QEMU).
  void unwire_network() {
    for (auto& nic : nics_) (void)run_tool({tc_, "qdisc", "del", "dev", nic.name, "ingress"});
    nics_.clear();
  }

  // False when QEMU or virtiofsd has exited.
  bool machine_running() {
    struct signalfd_siginfo si;
    while (::read(signal_fd_.get(), &si, sizeof si) > 0) {
    }
    return !vm_.qemu.exited() && !vm_.virtiofsd.exited();
  }

  void stop_children() {
    vm_.qemu.kill();
    vm_.virtiofsd.kill();
    unwire_network();
  }

  [[noreturn]] void shutdown_and_exit(int code) {
    stop_children();
    ::_exit(code);
  }



  // A connection on the control socket: `kill` (one Signal, answered Ok), `update` (an Update,
  // answered by the agent) or `exec` (an Exec, then that process's stream both ways until its
  // Exit).
  struct Client {
    UniqueFd fd;
    FrameReader reader;
    uint32_t stream = 0;
  };

  void accept_client() {
    UniqueFd c(::accept4(control_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (c) clients_.push_back(std::make_unique<Client>(Client{std::move(c), {}, 0}));
  }

  // False when the client is done (closed, or a kill answered).
  bool on_client(Client& c) {
    auto more = c.reader.fill(c.fd.get());
    if (!more || !*more) return false;
    for (;;) {
      auto m = c.reader.next();
      if (!m) return false;
      if (!*m) return true;
      Message& f = **m;
      if ((f.type == Frame::Exec || f.type == Frame::Update) && c.stream == 0) {
        c.stream = next_stream_++;
        if (!write_frame(vm_.agent.get(), f.type, c.stream, f.payload)) return false;
      } else if (f.type == Frame::Signal && c.stream == 0) {
        auto w = write_frame(vm_.agent.get(), Frame::Signal, 0, f.payload);
        (void)write_frame(c.fd.get(), w ? Frame::Ok : Frame::Error, 0, w ? "" : w.error().to_string());
        return false;
      } else if (c.stream != 0 && (f.type == Frame::Stdin || f.type == Frame::Signal || f.type == Frame::Resize)) {
        (void)write_frame(vm_.agent.get(), f.type, c.stream, f.payload);
      } else {
        (void)write_frame(c.fd.get(), Frame::Error, 0, std::string("unexpected ") + frame_name(f.type));
        return false;
      }
    }
  }

  // A frame of an exec'd process: to its client; its Exit (or Error) ends the stream.
  void to_client(const Message& f) {
    for (auto it = clients_.begin(); it != clients_.end(); ++it) {
      if ((*it)->stream != f.stream) continue;
      bool ok = !!write_frame((*it)->fd.get(), f.type, f.stream, f.payload);
      if (!ok || f.type == Frame::Exit || f.type == Frame::Error || f.type == Frame::Ok) clients_.erase(it);
      return;
    }
  }

  [[noreturn]] void relay() {
    bool started = false, input_open = true;
    // The container's input and output: our stdio, or with a terminal the host pty's slave.
    int in = tty_ ? tty_.get() : STDIN_FILENO;
    int out = tty_ ? tty_.get() : STDOUT_FILENO;
    int err = tty_ ? tty_.get() : STDERR_FILENO;
    for (;;) {
      std::vector<struct pollfd> p = {{fifo_.get(), POLLIN, 0},
                                      {vm_.agent.get(), POLLIN, 0},
                                      {started && input_open ? in : -1, POLLIN, 0},
                                      {control_.get(), POLLIN, 0},
                                      {signal_fd_.get(), POLLIN, 0},
                                      // QEMU's end (a pooled VM's is not our child: no SIGCHLD)
                                      {vm_.qemu.pidfd.get(), POLLIN, 0}};
      for (auto& c : clients_) p.push_back({c->fd.get(), POLLIN, 0});
      if (::poll(p.data(), p.size(), -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (p[0].revents & POLLIN) {
        char b;
        if (::read(fifo_.get(), &b, 1) == 1) {
          fifo_.reset();
          started = true;
          if (!write_frame(vm_.agent.get(), Frame::Start, 0, "")) break;
          send_window_size(vm_.agent.get(), tty_.get());
        }
      }
      if (p[1].revents & (POLLIN | POLLHUP)) {
        auto more = vm_.reader.fill(vm_.agent.get());
        if (!more || !*more) break;  // the VM is gone
        bool done = false;
        for (;;) {
          auto m = vm_.reader.next();
          if (!m) {
            done = true;
            break;
          }
          if (!*m) break;
          Message& f = **m;
          if (f.stream != 0) {
            to_client(f);
          } else if (f.type == Frame::Stdout) {
            (void)write_all(out, f.payload, "stdout");
          } else if (f.type == Frame::Stderr) {
            (void)write_all(err, f.payload, "stderr");
          } else if (f.type == Frame::Exit) {
            status_ = std::atoi(f.payload.c_str());
            done = true;
            break;
          }
        }
        if (done) break;
      }
      if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[65536];
        ssize_t n = ::read(in, buf, sizeof buf);
        if (n > 0) {
          (void)write_frame(vm_.agent.get(), Frame::Stdin, 0, std::string_view(buf, static_cast<size_t>(n)));
        } else if (n == 0 || errno != EINTR) {
          input_open = false;
          (void)write_frame(vm_.agent.get(), Frame::Stdin, 0, "");
        }
      }
      if (p[3].revents & POLLIN) accept_client();
      if (p[4].revents & POLLIN) forward_signals(signal_fd_.get(), vm_.agent.get(), tty_.get());
      if ((p[4].revents | p[5].revents) & POLLIN)
        if (!machine_running()) break;  // QEMU died under the container
      for (size_t i = 6; i < p.size(); ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        auto it = std::find_if(clients_.begin(), clients_.end(), [&](auto& c) { return c->fd.get() == p[i].fd; });
        if (it != clients_.end() && !on_client(**it)) clients_.erase(it);
      }
    }
    finish();
  }

  [[noreturn]] void finish() {
    ::unlink(control_path(plan_.dir).c_str());
    control_.reset();
    // The exit status is the last frame the agent sends: everything the container wrote came
    // before it, and its files went to the host as it wrote them (virtio-fs without a writeback
    // cache). Nothing in the guest is left to wait for: the VM is stopped, not shut down.
    vm_.agent.reset();
    stop_children();
    ::unlink(plan_.machine.agent_socket.c_str());
    ::unlink(plan_.machine.virtiofs_socket.c_str());
    if (status_ < 0) {
      std::string msg = "ns-runtime: the VM of container " + plan_.id + " stopped without an exit status";
      if (std::string tail = log_tail(plan_.log); !tail.empty()) msg += "; its console ended with:\n" + tail;
      msg += "\n";
      (void)!::write(STDERR_FILENO, msg.data(), msg.size());
      ::_exit(255);
    }
    exit_like(status_);
  }
};

}  // namespace

std::string control_path(const std::string& dir) { return dir + "/vm.sock"; }
std::string qmp_path(const std::string& dir) { return dir + "/qmp.sock"; }

void place_in(MonitorPlan& plan) {
  plan.machine.virtiofs_socket = plan.dir + "/virtiofs.sock";
  plan.machine.agent_socket = plan.dir + "/agent.sock";
  plan.machine.serial_log = log_path(plan.dir);
  plan.machine.qmp_socket = qmp_path(plan.dir);
  plan.machine.jail_dir = plan.dir + "/empty";
  plan.log = plan.pooled ? plan.pooled->log : plan.machine.serial_log;
}

void monitor_main(const MonitorPlan& plan, int sync_fd, int fifo_fd) {
  log::set_role(log::Role::Child);
  linux_process::close_fds_from(3, {sync_fd, fifo_fd, log::fd(), plan.pooled ? plan.pooled->agent_fd : -1});
  Monitor(plan, sync_fd, fifo_fd).run();
}

namespace {

// One request on the monitor's control socket and its answer (Ok, or Error in words).
Result<void> request(const std::string& dir, Frame type, const std::string& payload) {
  auto c = connect_unix(control_path(dir), "the VM monitor");
  if (!c) {
    if (c.error().err == ENOENT || c.error().err == ECONNREFUSED) return make_error("container not running");
    return std::unexpected(c.error());
  }
  TRY(write_frame(c->get(), type, 0, payload));
  FrameReader r;
  auto m = r.read(c->get());
  if (!m) return make_error("container not running");
  if (m->type == Frame::Error) return make_error("in the VM: " + m->payload);
  return {};
}

}  // namespace

Result<void> send_signal(const std::string& dir, int signal, bool all) {
  nlohmann::json j{{"signal", signal}, {"all", all}};
  return request(dir, Frame::Signal, j.dump());
}

Result<void> update_inside(const std::string& dir, const nlohmann::json& resources) {
  return request(dir, Frame::Update, resources.dump());
}

}  // namespace ns::vm
