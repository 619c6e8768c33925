#include "vm/vmm.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "common/file.hpp"
#include "common/unix_socket.hpp"
#include "linux/process/process.hpp"
#include "linux/process/program.hpp"
#include "sys/kernel.hpp"
#include "vm/confine.hpp"

namespace ns::vm {

Proc Proc::watch(std::string name, pid_t pid, bool child) {
  Proc p;
  p.name = std::move(name);
  p.pid = pid;
  p.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  p.child = child;
  return p;
}

bool Proc::exited(std::string* how) {
  if (pid <= 0) return true;
  if (child) {
    int ws;
    if (::waitpid(pid, &ws, WNOHANG) != pid) return false;
    if (how) *how = WIFEXITED(ws) ? "status " + std::to_string(WEXITSTATUS(ws)) : "signal " + std::to_string(WTERMSIG(ws));
  } else {
    struct pollfd p{pidfd.get(), POLLIN, 0};
    if (pidfd && ::poll(&p, 1, 0) <= 0) return false;
    if (!pidfd && ::kill(pid, 0) == 0) return false;
    if (how) *how = "gone";
  }
  pid = -1;
  pidfd.reset();
  return true;
}

void Proc::kill() {
  if (pid <= 0) return;
  if (pidfd) ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
  else ::kill(pid, SIGKILL);
  if (child)
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  pid = -1;
  pidfd.reset();
}

Result<void> bind_shares(const std::string& root, const std::vector<Share>& shares,
                         const std::function<void(const std::string&)>& narrate) {
  for (const Share& s : shares) {
    std::string target = root + "/" + s.name;
    if (s.is_dir) {
      TRY(mkdir_p(target));
    } else {
      UniqueFd f(::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
      if (!f) return sys_error("create", target);
    }
    if (::mount(s.host_path.c_str(), target.c_str(), nullptr, MS_BIND | (s.recursive ? MS_REC : 0), nullptr) < 0)
      return sys_error("bind " + s.host_path, target);
    if (s.readonly && ::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) < 0)
      return sys_error("remount read-only", target);
    if (narrate)
      narrate("mount(\"" + s.host_path + "\", \"" + target + "\", MS_BIND" + (s.recursive ? "|MS_REC" : "") +
              (s.readonly ? "), then MS_RDONLY" : ")"));
  }
  return {};
}

namespace {

// A child that dies with us, confined as C says (vm/confine.hpp). Its stdin is /dev/null, its
// output LOG_FD; the fds of PASS become its fds 3, 4, ...
Result<pid_t> spawn(const std::vector<std::string>& argv, int log_fd, const std::vector<int>& pass,
                    const Confinement& c) {
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork", argv[0]);
  if (pid > 0) return pid;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(1);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Out of the way first: the targets 0 .. 3+n may be where some of them are now.
  int lf = ::fcntl(log_fd, F_DUPFD, 100);
  std::vector<int> high;
  for (int fd : pass) high.push_back(::fcntl(fd, F_DUPFD, 100));
  int null = ::open("/dev/null", O_RDWR);
  ::dup2(null, 0);
  ::dup2(lf, 1);
  ::dup2(lf, 2);
  for (size_t i = 0; i < high.size(); ++i) ::dup2(high[i], 3 + static_cast<int>(i));
  linux_process::close_fds_from(3 + static_cast<int>(high.size()), {});
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::string runas;
  if (c.runas_arg > 0 && static_cast<size_t>(c.runas_arg) < argv.size()) {
    runas = qemu_runas(::getpid());
    args[c.runas_arg] = runas.data();
  }
  std::string msg;
  if (auto confined = confine(sys::real_kernel(), c); !confined) msg = "ns-runtime: confining " + argv[0] + ": " + confined.error().to_string() + "\n";
  else {
    ::execv(args[0], args.data());
    msg = "ns-runtime: exec " + argv[0] + ": " + errno_string(errno) + "\n";
  }
  (void)!::write(2, msg.data(), msg.size());
  ::_exit(127);
}

// An error when QEMU or virtiofsd has exited.
Result<void> check(Vm& vm) {
  for (Proc* p : {&vm.qemu, &vm.virtiofsd}) {
    std::string how;
    std::string name = p->name;
    if (p->running() && p->exited(&how)) return make_error(name + " exited (" + how + ")");
  }
  return {};
}

}  // namespace

Result<Launched> launch(const MachineConfig& m, const std::string& virtiofsd, const std::string& share_dir,
                        std::vector<UniqueFd> taps, int log_fd) {
  Launched l;
  UniqueFd fs_listen = TRY(listen_unix(m.virtiofs_socket));
  l.virtiofsd_argv = virtiofsd_argv(virtiofsd, 3, share_dir);
  l.vm.virtiofsd = Proc::watch("virtiofsd", TRY(spawn(l.virtiofsd_argv, log_fd, {fs_listen.get()}, virtiofsd_confinement())), true);
  auto qemu = [&]() -> Result<pid_t> {
    if (::mkdir(m.jail_dir.c_str(), 0555) < 0) return sys_error("mkdir", m.jail_dir);
    l.agent_listen = TRY(listen_unix(m.agent_socket));
    l.qemu_argv = qemu_argv(m);
    Confinement c = qemu_confinement();
    c.own_network = taps.empty();
    auto runas = std::find(l.qemu_argv.begin(), l.qemu_argv.end(), "-runas");
    if (runas != l.qemu_argv.end()) c.runas_arg = static_cast<int>(runas - l.qemu_argv.begin()) + 1;
    std::vector<int> tap_fds;
    for (auto& tap : taps) tap_fds.push_back(tap.get());
    pid_t pid = TRY(spawn(l.qemu_argv, log_fd, tap_fds, c));
    if (c.runas_arg > 0) l.qemu_argv[c.runas_arg] = qemu_runas(pid);
    return pid;
  }();
  if (!qemu) {
    l.vm.virtiofsd.kill();
    return std::unexpected(qemu.error());
  }
  l.vm.qemu = Proc::watch("QEMU", *qemu, true);
  return l;  // the taps: QEMU holds them now, and they go when it exits
}

Result<void> check_hello(const Message& hello, const std::string& initrd) {
  if (hello.type != Frame::Hello) return make_error(std::string("VM agent: expected Hello, got ") + frame_name(hello.type));
  if (hello.payload != kProtocol)
    return make_error("VM agent speaks " + hello.payload + ", this ns-runtime " + kProtocol + ": " + initrd +
                      " is from another build; rebuild it (cmake --build build --target vm-assets)");
  return {};
}

Result<void> accept_agent(Launched& l, int timeout_ms) {
  for (int waited = 0;; waited += 100) {
    struct pollfd p{l.agent_listen.get(), POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) break;
    TRY(check(l.vm));
    if (waited >= timeout_ms) return make_error("QEMU did not connect the agent port within " + std::to_string(timeout_ms / 1000) + " s");
  }
  l.vm.agent.reset(::accept4(l.agent_listen.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!l.vm.agent) return sys_error("accept", "agent port");
  l.agent_listen.reset();
  return {};
}

Result<Message> read_agent(Vm& vm, int timeout_ms) {
  for (int waited = 0;;) {
    if (auto m = TRY(vm.reader.next())) return *m;
    struct pollfd p{vm.agent.get(), POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      if (!TRY(vm.reader.fill(vm.agent.get()))) {
        TRY(check(vm));
        return make_error("the VM closed the agent channel");
      }
      continue;
    }
    TRY(check(vm));
    if ((waited += 100) >= timeout_ms) return make_error("the VM agent did not answer within " + std::to_string(timeout_ms / 1000) + " s");
  }
}

void send_window_size(int chan, int tty) {
  struct winsize ws{};
  if (tty < 0 || ::ioctl(tty, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0) return;
  nlohmann::json j{{"rows", ws.ws_row}, {"cols", ws.ws_col}};
  (void)write_frame(chan, Frame::Resize, 0, j.dump());
}

void forward_signals(int sfd, int chan, int tty) {
  struct signalfd_siginfo si;
  while (::read(sfd, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo == SIGCHLD) continue;
    if (si.ssi_signo == SIGWINCH) {
      send_window_size(chan, tty);
      continue;
    }
    nlohmann::json j{{"signal", si.ssi_signo}, {"all", false}};
    (void)write_frame(chan, Frame::Signal, 0, j.dump());
  }
}

std::string log_tail(const std::string& log_path) {
  auto text = read_file(log_path);
  if (!text || text->empty()) return "";
  std::string t = *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  size_t pos = t.size();
  for (int lines = 0; lines < 6 && pos != std::string::npos && pos > 0; ++lines) pos = t.rfind('\n', pos - 1);
  std::string tail = pos == std::string::npos ? t : t.substr(pos + 1);
  std::erase(tail, '\r');
  return tail;
}

Result<std::string> run_tool(const std::vector<std::string>& argv) {
  linux_process::Program p;
  p.path = argv[0];
  p.args = argv;
  p.timeout_ms = 10'000;
  auto r = TRY(linux_process::run_program(p));
  if (!r.ok()) return make_error(join_args(argv) + ": " + r.how() + ": " + r.out);
  return r.out;
}

std::vector<pid_t> machine_pids(pid_t qemu, pid_t virtiofsd) {
  std::vector<pid_t> out = {qemu, virtiofsd};
  for (size_t i = 1; i < out.size(); ++i) {
    auto children = read_file("/proc/" + std::to_string(out[i]) + "/task/" + std::to_string(out[i]) + "/children");
    if (!children) continue;
    for (auto& c : split(*children, ' '))
      if (!c.empty() && c != "\n") out.push_back(std::atoi(c.c_str()));
  }
  return out;
}

std::string join_args(const std::vector<std::string>& argv) {
  std::string s;
  for (auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

}  // namespace ns::vm
