#include "common/json.hpp"
#include "vm/pool.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <memory>

#include "common/clock.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "common/unix_socket.hpp"
#include "linux/process/process.hpp"
#include "state/state.hpp"
#include "vm/protocol.hpp"
#include "vm/vmm.hpp"

namespace ns::vm {
namespace {

std::string pool_dir(const std::string& root) { return root + "/.vm-pool"; }
std::string pool_socket(const std::string& root) { return pool_dir(root) + "/pool.sock"; }

nlohmann::json share_to_json(const Share& s) {
  return {{"hostPath", s.host_path}, {"name", s.name}, {"readonly", s.readonly}, {"recursive", s.recursive}, {"dir", s.is_dir}};
}
Share share_from_json(const nlohmann::json& j) {
  return {j.value("hostPath", ""), j.value("name", ""), j.value("readonly", false), j.value("recursive", false),
          j.value("dir", true)};
}

// One request, one JSON answer (and maybe an fd), on the pool's socket.
Result<std::optional<std::pair<nlohmann::json, UniqueFd>>> ask(const std::string& root, const nlohmann::json& req) {
  auto c = connect_unix(pool_socket(root), "the VM pool");
  if (!c) {
    if (c.error().err == ENOENT || c.error().err == ECONNREFUSED) return std::nullopt;
    return std::unexpected(c.error());
  }
  TRY(write_frame(c->get(), Frame::Config, 0, req.dump()));
  UniqueFd fd;  // the answer is one frame, and an fd may come with it
  auto m = TRY(recv_frame_with_fd(c->get(), &fd));
  auto j = parse_json(m.payload);
  if (!j.is_object()) return make_error("the VM pool answered something that is not JSON");
  return std::pair{std::move(j), std::move(fd)};
}

// ---------------------------------------------------------------------------------------------
// The daemon.
// ---------------------------------------------------------------------------------------------

struct PoolVm {
  enum State { Booting, Idle, Lent };
  int n = 0;
  std::string dir;
  State state = Booting;
  Launched l;  // l.vm: the processes and, once connected, the agent channel
  UniqueFd log;
};

class Daemon {
 public:
  Daemon(std::string root, int size, MachineConfig base, std::string virtiofsd)
      : root_(std::move(root)), dir_(pool_dir(root_)), size_(size), base_(std::move(base)), virtiofsd_(std::move(virtiofsd)) {}

  [[noreturn]] void run(UniqueFd listen) {
    listen_ = std::move(listen);
    for (;;) {
      fill();
      if (stopping_ && vms_.empty()) break;
      std::vector<struct pollfd> p;
      p.push_back({listen_ ? listen_.get() : -1, POLLIN, 0});
      for (auto& v : vms_) {
        p.push_back({v->l.vm.qemu.pidfd.get(), POLLIN, 0});
        p.push_back({v->l.vm.virtiofsd.pidfd.get(), POLLIN, 0});
        int chan = v->state != PoolVm::Booting ? -1 : v->l.vm.agent ? v->l.vm.agent.get() : v->l.agent_listen.get();
        p.push_back({chan, POLLIN, 0});
      }
      if (::poll(p.data(), p.size(), 1000) < 0 && errno != EINTR) break;
      if (p[0].revents & POLLIN) serve();
      for (size_t i = 0; i < vms_.size() && 1 + 3 * i < p.size(); ++i) {
        PoolVm& v = *vms_[i];
        if (p[3 + 3 * i].revents & (POLLIN | POLLHUP)) progress(v);
        if ((p[1 + 3 * i].revents | p[2 + 3 * i].revents) & POLLIN) end(v);
      }
      std::erase_if(vms_, [](auto& v) { return !v->l.vm.qemu.running() && !v->l.vm.virtiofsd.running(); });
    }
    ::unlink(pool_socket(root_).c_str());
    (void)remove_tree(dir_);
    ::_exit(0);
  }

 private:
  std::string root_, dir_;
  int size_;
  MachineConfig base_;
  std::string virtiofsd_;
  UniqueFd listen_;
  std::vector<std::unique_ptr<PoolVm>> vms_;
  int next_ = 0;
  bool stopping_ = false;
  uint64_t backoff_until_ = 0;

  int count(PoolVm::State s) const {
    int n = 0;
    for (auto& v : vms_) n += v->state == s && v->l.vm.qemu.running();
    return n;
  }

  void note(const std::string& what) {
    std::string line = "ns-runtime vm-pool: " + what + "\n";
    (void)!::write(STDERR_FILENO, line.data(), line.size());
  }

  // Boots VMs until SIZE are idle or booting.
  void fill() {
    if (stopping_ || monotonic_ms() < backoff_until_) return;
    while (count(PoolVm::Idle) + count(PoolVm::Booting) < size_) {
      if (auto r = boot_one(); !r) {
        note("boot: " + r.error().to_string());
        backoff_until_ = monotonic_ms() + 1000;
        return;
      }
    }
  }

  Result<void> boot_one() {
    auto v = std::make_unique<PoolVm>();
    v->n = next_++;
    v->dir = dir_ + "/vm" + std::to_string(v->n);
    std::string share = v->dir + "/share";
    TRY(mkdir_p(share, 0700));
    // Its share: a tmpfs, shared, so that what is bound into it later propagates into
    // virtiofsd's own mount namespace (a slave copy of ours).
    if (::mount("tmpfs", share.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) return sys_error("mount tmpfs", share);
    if (::mount(nullptr, share.c_str(), nullptr, MS_SHARED, nullptr) < 0) return sys_error("make shared", share);
    MachineConfig m = base_;
    m.virtiofs_socket = v->dir + "/virtiofs.sock";
    m.agent_socket = v->dir + "/agent.sock";
    m.serial_log = v->dir + "/vm.log";
    m.jail_dir = v->dir + "/empty";
    m.qmp_socket = v->dir + "/qmp.sock";
    v->log.reset(::open(m.serial_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!v->log) return sys_error("open", m.serial_log);
    v->l = TRY(launch(m, virtiofsd_, share, {}, v->log.get()));
    vms_.push_back(std::move(v));
    return {};
  }

  // A booting VM: QEMU connected the agent port, or the agent said hello.
  void progress(PoolVm& v) {
    if (!v.l.vm.agent) {
      v.l.vm.agent.reset(::accept4(v.l.agent_listen.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (v.l.vm.agent) v.l.agent_listen.reset();
      return;
    }
    auto more = v.l.vm.reader.fill(v.l.vm.agent.get());
    auto m = more && *more ? v.l.vm.reader.next() : Result<std::optional<Message>>(std::nullopt);
    if (!more || !*more || !m) {
      note("vm" + std::to_string(v.n) + ": the agent channel closed while booting");
      end(v);
      return;
    }
    if (!*m) return;
    if (auto r = check_hello(**m, base_.assets.initrd); !r) {
      note("vm" + std::to_string(v.n) + ": " + r.error().to_string());
      end(v);
      return;
    }
    v.state = PoolVm::Idle;
  }

  // A VM that stopped (or is to): its processes gone, its share unmounted, its directory removed.
  // One that stops while booting holds the next boot back a little (a broken kernel or initramfs
  // must not become a loop of boots).
  void end(PoolVm& v) {
    if (v.state == PoolVm::Booting && !stopping_) backoff_until_ = monotonic_ms() + 2000;
    v.l.vm.qemu.kill();
    v.l.vm.virtiofsd.kill();
    std::string share = v.dir + "/share";
    ::umount2(share.c_str(), MNT_DETACH);
    (void)remove_tree(v.dir);
  }

  void serve() {
    UniqueFd c(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!c) return;
    struct timeval tv{2, 0};
    ::setsockopt(c.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    FrameReader r;
    auto m = r.read(c.get());
    if (!m) return;
    auto req = parse_json(m->payload);
    std::string op = req.is_object() ? req.value("op", "") : "";
    auto answer = [&](const nlohmann::json& j, int fd = -1) {
      (void)send_frame_with_fd(c.get(), Frame::Ok, 0, j.dump(), fd);
    };
    if (op == "status") {
      answer(status());
    } else if (op == "size") {
      size_ = std::max(0, req.value("size", size_));
      for (auto& v : vms_)
        if (count(PoolVm::Idle) > size_ && v->state == PoolVm::Idle) end(*v);
      backoff_until_ = 0;
      answer(status());
    } else if (op == "stop") {
      stopping_ = true;
      ::unlink(pool_socket(root_).c_str());
      for (auto& v : vms_)
        if (v->state != PoolVm::Lent) end(*v);
      answer(status());
      listen_.reset();
    } else if (op == "take") {
      take(req, answer);
    } else {
      answer({{"error", "unknown request \"" + op + "\""}});
    }
  }

  template <class Answer>
  void take(const nlohmann::json& req, Answer& answer) {
    for (auto& v : vms_) {
      if (v->state != PoolVm::Idle || !v->l.vm.qemu.running()) continue;
      if (req.value("accel", "") != base_.accel || req.value("guestMiB", uint64_t{0}) > base_.size.guest_mib ||
          req.value("vcpus", 1) > base_.size.vcpus)
        break;  // every pooled VM is alike: none fits
      std::vector<Share> shares;
      for (auto& s : req.value("shares", nlohmann::json::array())) shares.push_back(share_from_json(s));
      if (auto r = bind_shares(v->dir + "/share", shares); !r) {
        answer({{"error", r.error().to_string()}});
        end(*v);
        return;
      }
      answer({{"qemu", v->l.vm.qemu.pid}, {"virtiofsd", v->l.vm.virtiofsd.pid}, {"log", v->dir + "/vm.log"},
              {"qmp", v->dir + "/qmp.sock"}},
             v->l.vm.agent.get());
      v->state = PoolVm::Lent;
      v->l.vm.agent.reset();  // the container's monitor has it now
      return;
    }
    answer({{"none", true}});
  }

  nlohmann::json status() const {
    return {{"size", size_},
            {"idle", count(PoolVm::Idle)},
            {"booting", count(PoolVm::Booting)},
            {"lent", count(PoolVm::Lent)},
            {"accel", base_.accel},
            {"guestMiB", base_.size.guest_mib},
            {"vcpus", base_.size.vcpus},
            {"pid", ::getpid()},
            {"stopping", stopping_}};
  }
};

Result<void> wait_idle(const std::string& root, int size, int timeout_ms) {
  for (uint64_t until = monotonic_ms() + static_cast<uint64_t>(timeout_ms);;) {
    auto st = TRY(pool_status(root));
    if (st.value("idle", 0) >= size) return {};
    if (monotonic_ms() > until)
      return make_error("the VM pool has " + std::to_string(st.value("idle", 0)) + " of " + std::to_string(size) +
                        " VMs booted after " + std::to_string(timeout_ms / 1000) + " s; see " + pool_dir(root) + "/pool.log");
    struct timespec ts{0, 50'000'000};
    ::nanosleep(&ts, nullptr);
  }
}

}  // namespace

Result<nlohmann::json> pool_status(const std::string& root) {
  auto a = TRY(ask(root, {{"op", "status"}}));
  if (!a) return make_error("no VM pool runs under " + root + " (ns-runtime vm-pool start)");
  return a->first;
}

Result<void> pool_stop(const std::string& root) {
  auto a = TRY(ask(root, {{"op", "stop"}}));
  if (!a) return make_error("no VM pool runs under " + root);
  return {};
}

Result<void> pool_start(const PoolOptions& o) {
  if (o.size < 0) return make_error("--size must not be negative");
  if (auto a = TRY(ask(o.root, {{"op", "size"}, {"size", o.size}}))) return wait_idle(o.root, o.size, 30'000 + 15'000 * o.size);
  MachineConfig base;
  base.assets = TRY(find_assets());
  base.qemu = TRY(find_program("qemu-system-x86_64", "qemu-system-x86"));
  base.accel = TRY(choose_accel(o.accel));
  base.tsc_khz = host_tsc_khz();
  std::string virtiofsd = TRY(find_virtiofsd());
  std::string dir = pool_dir(o.root);
  TRY(mkdir_p(o.root, 0700));
  (void)remove_tree(dir);  // what a daemon that was killed left
  TRY(mkdir_p(dir, 0700));
  UniqueFd listen = TRY(listen_unix(pool_socket(o.root)));
  UniqueFd log(::open((dir + "/pool.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log) return sys_error("open", dir + "/pool.log");
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork", "VM pool");
  if (pid == 0) {
    // The daemon: its own session, no terminal, stdio to /dev/null and pool.log, a mount
    // namespace of its own for the VMs' shares.
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(log.get(), 2);
    linux_process::close_fds_from(3, {listen.get()});
    ::signal(SIGPIPE, SIG_IGN);
    if (::unshare(CLONE_NEWNS) < 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) ::_exit(1);
    Daemon(o.root, o.size, base, virtiofsd).run(std::move(listen));
  }
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return wait_idle(o.root, o.size, 30'000 + 15'000 * o.size);
}

Result<std::optional<MonitorPlan::Pooled>> pool_take(const std::string& root, const TakeRequest& r) {
  nlohmann::json shares = nlohmann::json::array();
  for (auto& s : r.shares) shares.push_back(share_to_json(s));
  auto a = TRY(ask(root, {{"op", "take"}, {"shares", shares}, {"guestMiB", r.guest_mib}, {"vcpus", r.vcpus}, {"accel", r.accel}}));
  if (!a || a->first.contains("none")) return std::nullopt;
  if (a->first.contains("error")) return make_error("VM pool: " + a->first["error"].get<std::string>());
  if (!a->second) return make_error("VM pool: no agent channel came with the VM");
  MonitorPlan::Pooled p;
  p.qemu = a->first.value("qemu", -1);
  p.virtiofsd = a->first.value("virtiofsd", -1);
  p.log = a->first.value("log", "");
  p.qmp = a->first.value("qmp", "");
  p.agent_fd = a->second.release();
  return p;
}

}  // namespace ns::vm
