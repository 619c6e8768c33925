// The namespace back end's create pipeline, top to bottom: first the init side (the stages the
// cloned child runs, as a table), then the runtime side (NamespaceBackend::create) that clones
// the child and talks to it over the sync socket.
#include "runtime/pipeline.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "common/file.hpp"
#include "common/log.hpp"
#include "linux/cgroup/cgroup.hpp"
#include "linux/cgroup/resources.hpp"
#include "linux/console/console.hpp"
#include "linux/devices/devices.hpp"
#include "linux/ns/namespaces.hpp"
#include "linux/process/process.hpp"
#include "linux/security/capabilities.hpp"
#include "explain/explain.hpp"
#include "hooks/hooks.hpp"
#include "runtime/backend.hpp"
#include "runtime/exec.hpp"
#include "runtime/sync.hpp"

namespace ns::runtime {
namespace {

const oci::Linux kNoLinux{};
const oci::Linux& lin(const InitContext& c) { return c.spec->linux ? *c.spec->linux : kNoLinux; }
const oci::Process& proc(const InitContext& c) { return *c.spec->process; }

// ---------------------------------------------------------------------------------------------
// Init side. Each function is one stage; the table below is the order.
// ---------------------------------------------------------------------------------------------

Result<void> stage_join_namespaces(InitContext& c) {
  TRY(linux_ns::join_child_side(*c.k, lin(c)));
  if (lin(c).find_namespace(oci::NsType::User)) {
    // In a user namespace we start as the overflow uid until we become its root; only then do
    // files we create get an owner the namespace can name.
    TRY(c.k->setresgid(0));
    TRY(c.k->setresuid(0));
  }
  return {};
}

Result<void> stage_cgroup_namespace(InitContext& c) { return linux_ns::unshare_cgroup(*c.k, lin(c)); }

Result<void> stage_session(InitContext& c) {
  TRY(c.k->setsid());
  c.k->umask(0);  // device nodes and mount points get exactly the modes config.json gives
  return {};
}

Result<void> stage_loopback(InitContext& c) {
  if (!lin(c).has_new_namespace(oci::NsType::Network)) return {};
  return c.k->loopback_up();
}

Result<void> stage_oom_score(InitContext& c) {
  if (!proc(c).oom_score_adj) return {};
  return linux_process::set_oom_score_adj(*c.k, *proc(c).oom_score_adj);
}

Result<void> stage_rootfs(InitContext& c) {
  c.root_fd = TRY(linux_fs::prepare_rootfs(*c.k, c.rootfs));
  return {};
}

Result<void> stage_mounts(InitContext& c) { return linux_fs::mount_all(*c.k, c.rootfs, c.root_fd.get()); }

Result<void> stage_devices(InitContext& c) {
  return linux_dev::setup_dev(*c.k, *c.spec, c.root_fd.get(), c.rootfs.in_userns);
}

std::string hook_state(const InitContext& c, const char* status) {
  return hooks::state_json(c.spec->oci_version, c.container_id, status, c.host_pid, c.rootfs.bundle,
                           c.spec->annotations);
}

Result<void> stage_create_container_hooks(InitContext& c) {
  if (c.spec->hooks.create_container.empty()) return {};
  return hooks::run_hooks(c.spec->hooks.create_container, hook_state(c, "creating"), "createContainer");
}

Result<void> stage_cwd_create(InitContext& c) {
  (void)TRY(linux_fs::mkdir_all_in_root(*c.k, c.root_fd.get(), proc(c).cwd, 0755));
  return {};
}

Result<void> stage_pivot_root(InitContext& c) {
  c.root_fd.reset();
  return linux_fs::enter_rootfs(*c.k, c.rootfs);
}

Result<void> stage_hostname(InitContext& c) { return linux_process::set_hostname(*c.k, *c.spec); }

Result<void> stage_sysctl(InitContext& c) { return linux_process::set_sysctl(*c.k, lin(c).sysctl); }

Result<void> stage_finalize_rootfs(InitContext& c) { return linux_fs::finalize_rootfs(*c.k, c.rootfs); }

Result<void> stage_console(InitContext& c) {
  if (!proc(c).terminal) return {};
  auto pty = TRY(linux_console::open_pty(proc(c).console_size));
  TRY(send_message(c.sync_fd, Message{Msg::ConsoleMaster, {}}, pty.master.get()));
  return linux_console::attach_slave(pty.slave.get());
}

Result<void> stage_rlimits(InitContext& c) { return linux_process::set_rlimits(*c.k, proc(c).rlimits); }

// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it before the caps go.
Result<void> stage_seccomp_privileged(InitContext& c) {
  if (!c.seccomp || proc(c).no_new_privileges) return {};
  return c.k->load_seccomp(*c.seccomp);
}

// With no_new_privs: as late as possible, so the fewest syscalls run under the filter.
Result<void> stage_seccomp(InitContext& c) {
  if (!c.seccomp || !proc(c).no_new_privileges) return {};
  return c.k->load_seccomp(*c.seccomp);
}

Result<void> stage_capabilities_bounding(InitContext& c) {
  if (!c.caps) return {};
  return linux_security::prepare_caps(*c.k, *c.caps, c.k->last_cap());
}

Result<void> stage_user(InitContext& c) {
  TRY(linux_process::switch_user(*c.k, proc(c).user));
  c.k->umask(proc(c).user.umask.value_or(022));
  return {};
}

Result<void> stage_capabilities(InitContext& c) {
  if (!c.caps) return {};
  return linux_security::apply_caps(*c.k, *c.caps, c.k->last_cap());
}

Result<void> stage_cwd(InitContext& c) { return c.k->chdir(proc(c).cwd); }

Result<void> stage_no_new_privileges(InitContext& c) {
  if (!proc(c).no_new_privileges) return {};
  return c.k->set_no_new_privs();
}

constexpr InitStage kInitStages[] = {
    {"namespaces", "join the namespaces config.json names by path; the user namespace first, it owns the rest",
     stage_join_namespaces},
    {"cgroup-namespace", "unshare the cgroup namespace only now, after the runtime put us in our cgroup, so it is our root",
     stage_cgroup_namespace},
    {"session", "a new session, detached from the caller's terminal; umask 0 so created nodes get exact modes",
     stage_session},
    {"loopback", "a new network namespace starts with lo down: bring it up as runc does", stage_loopback},
    {"oom-score", "oom_score_adj is inherited by the container process", stage_oom_score},
    {"rootfs", "make / slave so our mounts never reach the host; bind the rootfs so pivot_root accepts it",
     stage_rootfs},
    {"mounts", "every mount of config.json, destinations resolved inside the rootfs", stage_mounts},
    {"devices", "/dev nodes and symlinks every program expects, plus linux.devices", stage_devices},
    {"create-container-hooks", "createContainer hooks run in the container's mount namespace, before pivot_root",
     stage_create_container_hooks},
    {"cwd-create", "process.cwd must exist before the user switch may forbid creating it", stage_cwd_create},
    {"pivot-root", "make the rootfs / and detach the host's root, so no path leads back out", stage_pivot_root},
    {"hostname", "hostname and domainname live in the UTS namespace", stage_hostname},
    {"sysctl", "per-namespace kernel knobs, written before /proc/sys turns read-only", stage_sysctl},
    {"finalize-rootfs", "masked and read-only paths and the read-only root, once nothing more is mounted",
     stage_finalize_rootfs},
    {"console", "the pty is opened in the container's devpts and becomes stdio and controlling terminal",
     stage_console},
    {"rlimits", "resource limits, set while we may still raise them", stage_rlimits},
    {"seccomp-privileged", "without no_new_privs a filter needs CAP_SYS_ADMIN: load it before the caps go",
     stage_seccomp_privileged},
    {"capabilities-bounding", "cut the bounding set while we still may, and keep caps across the uid switch",
     stage_capabilities_bounding},
    {"user", "groups, gid, uid (in that order: the uid switch drops the right to change the others); umask",
     stage_user},
    {"capabilities", "effective, permitted, inheritable, then ambient: exactly the sets config.json lists",
     stage_capabilities},
    {"cwd", "enter process.cwd as the container user", stage_cwd},
    {"no-new-privileges", "from here on no execve can gain privileges (setuid bits, file capabilities)",
     stage_no_new_privileges},
    {"seccomp", "the syscall filter, as close to execve as possible", stage_seccomp},
};

constexpr InitStage kExecStages[] = {
    {"session", "a new session, detached from the caller's terminal", stage_session},
    {"console", "a pty from the container's devpts when --tty", stage_console},
    {"rlimits", "the process's resource limits", stage_rlimits},
    {"seccomp-privileged", "the container's filter, before the caps go (no no_new_privs)", stage_seccomp_privileged},
    {"capabilities-bounding", "cut the bounding set, keep caps across the uid switch", stage_capabilities_bounding},
    {"user", "groups, gid, uid; umask", stage_user},
    {"capabilities", "exactly the capability sets of the process", stage_capabilities},
    {"cwd", "enter the process's cwd as its user", stage_cwd},
    {"no-new-privileges", "no execve may gain privileges", stage_no_new_privileges},
    {"seccomp", "the container's syscall filter, last", stage_seccomp},
};

Result<void> run_stages(InitContext& ctx, std::span<const InitStage> stages) {
  if (ctx.spec->process->capabilities && !ctx.caps) {
    auto caps = linux_security::resolve_caps(*ctx.spec->process->capabilities, ctx.k->last_cap());
    if (!caps) return with_stage(caps.error(), "capabilities");
    ctx.caps = *caps;
  }
  if (ctx.spec->linux && !ctx.spec->linux->seccomp.is_null() && !ctx.seccomp) {
    auto filter = linux_security::parse_seccomp(ctx.spec->linux->seccomp);
    if (!filter) return with_stage(filter.error(), "seccomp");
    ctx.seccomp = std::move(*filter);
  }
  for (const InitStage& s : stages) {
    uint64_t start = ctx.on_stage ? explain::now_ns() : 0;
    auto r = s.run(ctx);
    if (ctx.on_stage) ctx.on_stage(s.name, s.why, start, explain::now_ns() - start, r.has_value());
    if (!r) return with_stage(r.error(), s.name);
    if (log::debug_enabled()) log::debug(std::string("stage ") + s.name + " done");
  }
  return {};
}

}  // namespace

std::span<const InitStage> init_stages() { return kInitStages; }
std::span<const InitStage> exec_stages() { return kExecStages; }
Result<void> run_init_stages(InitContext& ctx) { return run_stages(ctx, kInitStages); }
Result<void> run_exec_stages(InitContext& ctx) { return run_stages(ctx, kExecStages); }

namespace {

// The child after clone. Runs the stages, reports Ready, blocks on the exec fifo until
// `start`, then execs the user process. Never returns.
[[noreturn]] void init_main(InitContext& ctx, int listen_fds, int preserve_fds) {
  log::set_role(log::Role::Child);
  // Until execve this process is ns-runtime: nothing in the container may open our
  // /proc/PID/exe or memory (CVE-2019-5736). execve resets it for the container's program.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  linux_process::close_fds_from(3 + preserve_fds + listen_fds, {ctx.sync_fd, ctx.fifo_fd.get(), log::fd()});
  auto fail = [&](Error e) {
    (void)send_message(ctx.sync_fd, Message{Msg::Error, std::move(e)});
    ::_exit(1);
  };
  // Our pid as the host sees it: /proc here is still the host's procfs.
  char self[32] = {0};
  if (::readlink("/proc/self", self, sizeof self - 1) > 0) ctx.host_pid = std::atoi(self);
  // Wait until the runtime has put us in our cgroup and written our id maps.
  auto go = recv_message(ctx.sync_fd);
  if (!go || go->type != Msg::Go) ::_exit(1);

  std::unique_ptr<sys::Kernel> narrating;
  if (explain::on()) {
    int sync = ctx.sync_fd;
    narrating = explain::explaining_kernel(*ctx.k, [sync](const std::string& what) {
      Message m{Msg::ExplainCall, {}};
      m.error.msg = what;
      (void)send_message(sync, m);
    });
    ctx.k = narrating.get();
    ctx.on_stage = [sync](const char* stage, const char* why, uint64_t start, uint64_t duration, bool ok) {
      Message m{Msg::ExplainStage, {}};
      m.error.stage = stage;
      m.error.msg = why;
      m.error.err = ok ? 0 : 1;
      m.value = static_cast<int64_t>(duration);
      m.value2 = static_cast<int64_t>(start);
      (void)send_message(sync, m);
    };
  }
  if (auto r = run_init_stages(ctx); !r) fail(r.error());

  const oci::Process& p = *ctx.spec->process;
  std::vector<std::string> env = linux_process::build_env(p, listen_fds);
  auto exe = linux_process::find_executable(p.args[0], env);
  if (!exe) fail(with_stage(exe.error(), "exec").error());
  if (auto r = linux_process::prepare_fds(preserve_fds + listen_fds); !r) fail(with_stage(r.error(), "fds").error());

  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  if (auto r = send_message(ctx.sync_fd, Message{Msg::Ready, {}}); !r) ::_exit(1);
  // The runtime now saves state.json. Until it says so, its death must take us with it:
  // nothing could ever start or delete a container that has no state. EOF instead of the
  // commit means it died. (Before this, a dead runtime shows as EOF at Go, or EPIPE at Ready.)
  auto committed = recv_message(ctx.sync_fd);
  if (!committed || committed->type != Msg::Go) ::_exit(1);
  ::close(ctx.sync_fd);
  log::flush();  // set-up succeeded: warnings held for a json log may be written now

  if (ctx.fifo_fd) {
    // Blocks until `start` opens the other end; then one byte says "go".
    std::string self = sys::fd_path(ctx.fifo_fd.get());
    int w = ::open(self.c_str(), O_WRONLY | O_CLOEXEC);
    if (w < 0 || ::write(w, "0", 1) != 1) {
      // The runtime is gone by now: the container's stderr is the only place left to say it.
      std::string msg = "ns-runtime: open exec fifo: " + errno_string(errno) + "\n";
      (void)!::write(STDERR_FILENO, msg.data(), msg.size());
      ::_exit(1);
    }
    ::close(w);
    ctx.fifo_fd.reset();
  }
  if (!ctx.spec->hooks.start_container.empty()) {
    // `start` has returned by now: the container's stderr is where a failure can be told.
    if (auto r = hooks::run_hooks(ctx.spec->hooks.start_container, hook_state(ctx, "created"), "startContainer"); !r) {
      std::string msg = "ns-runtime: " + r.error().to_string() + "\n";
      (void)!::write(STDERR_FILENO, msg.data(), msg.size());
      ::_exit(1);
    }
  }
  linux_process::exec_or_die(*exe, p.args, env);
}

// A runtime-side step: with --explain it is timed and narrated as a PARENT stage when done()
// is called, or as failed if it is left without done() (an early error return).
class ParentStage {
 public:
  ParentStage(const char* name, const char* why) : name_(name), why_(why), start_(explain::on() ? explain::now_ns() : 0) {}
  ParentStage(const ParentStage&) = delete;
  ParentStage& operator=(const ParentStage&) = delete;
  ~ParentStage() { finish(false); }
  void done() { finish(true); }

 private:
  void finish(bool ok) {
    if (finished_ || !explain::on()) return;
    finished_ = true;
    explain::stage({"PARENT", name_, why_, start_, explain::now_ns() - start_, ok});
  }
  const char* name_;
  const char* why_;
  uint64_t start_;
  bool finished_ = false;
};

struct CloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

// fork()-like clone with namespace flags: returns 0 in the child.
Result<pid_t> clone_child(unsigned long flags) {
  CloneArgs a{};
  a.flags = flags;
  a.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &a, sizeof a);
  if (pid < 0 && errno == ENOSYS) pid = ::syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) return sys_error("clone");
  return static_cast<pid_t>(pid);
}

Result<void> kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return {};
}

// Waits until PID is gone (or a zombie), up to TIMEOUT_MS.
bool wait_gone(pid_t pid, unsigned long long start, int timeout_ms) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    UniqueFd guard(pidfd);
    if (state::process_start_time(pid) != start) return true;
    struct pollfd pfd{pidfd, POLLIN, 0};
    return ::poll(&pfd, 1, timeout_ms) > 0;
  }
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (state::process_start_time(pid) != start) return true;
    struct timespec ts{0, 10'000'000};
    ::nanosleep(&ts, nullptr);
  }
  return state::process_start_time(pid) != start;
}

class NamespaceBackend final : public Backend {
 public:
  explicit NamespaceBackend(std::string root) : store_(std::move(root)) {}
  const char* name() const override { return "namespaces"; }

  Result<Created> create(const CreateOptions& opts, const oci::Spec& spec, state::State& st) override {
    sys::Kernel& real = sys::real_kernel();
    std::unique_ptr<sys::Kernel> narrating;
    if (explain::on())
      narrating = explain::explaining_kernel(real, [](const std::string& what) { explain::call("PARENT", what); });
    sys::Kernel& k = narrating ? *narrating : real;
    const oci::Linux& l = spec.linux ? *spec.linux : kNoLinux;

    // 1. cgroup: made before the child exists, so it is counted and limited from its first step.
    ParentStage cgroup_stage("cgroup",
                             "a cgroup of the container's own in every hierarchy, limits written before it holds anything");
    auto resources = linux_cgroup::parse_resources(l.resources);
    if (!resources) return with_stage(resources.error(), "cgroup");
    linux_cgroup::add_default_device_rules(*resources);
    auto writes = linux_cgroup::plan_writes(*resources);
    auto layout = TRY(linux_cgroup::detect_layout(k));
    std::string cg_path = TRY(linux_cgroup::resolve_path(l.cgroups_path, opts.id, opts.systemd_cgroup));
    linux_cgroup::Cgroup cg(layout, cg_path);
    bool use_cgroup = !layout.hierarchies.empty();
    if (use_cgroup) {
      if (auto r = cg.create(k); !r) {
        bool denied = r.error().err == EACCES || r.error().err == EROFS || r.error().err == EPERM;
        if (::geteuid() == 0 || !denied) {
          (void)cg.destroy(k);
          return with_stage(r.error(), "cgroup");
        }
        log::warn("no permission to create cgroup " + cg_path + ": running without resource control");
        use_cgroup = false;
      }
    }
    if (use_cgroup) {
      auto applied = linux_cgroup::enable_v2_controllers(k, cg, writes);
      if (applied) applied = linux_cgroup::apply(k, cg, writes);
      if (!applied) {
        (void)cg.destroy(k);
        return with_stage(applied.error(), "cgroup");
      }
    } else if (!writes.empty()) {
      log::warn("linux.resources not applied: the container has no cgroup");
    }
    struct CgroupGuard {
      sys::Kernel& k;
      linux_cgroup::Cgroup& cg;
      bool armed;
      ~CgroupGuard() {
        if (armed) (void)cg.destroy(k);
      }
    } cg_guard{k, cg, use_cgroup};
    cgroup_stage.done();

    // 2. the exec fifo: init blocks writing it until `start` reads it.
    ParentStage fifo_stage("exec-fifo", "init will block writing this fifo: that is the created state, until start reads it");
    std::string fifo = store_.fifo_path(opts.id);
    // 0622 whatever our umask: init opens it for writing after switching to the container user.
    if (::mkfifo(fifo.c_str(), 0622) < 0 || ::chmod(fifo.c_str(), 0622) < 0)
      return with_stage(sys_error("mkfifo", fifo).error(), "exec-fifo");

    fifo_stage.done();

    // 3. the sync channel.
    UniqueFd parent_end, child_end;
    TRY(make_sync_pair(parent_end, child_end));

    // 4. pid/time namespaces by path, or a new time namespace, apply to our children only.
    ParentStage ns_stage("parent-namespaces", "pid and time namespaces apply to children: join or make them before clone");
    if (auto r = linux_ns::enter_parent_side(k, l); !r) return with_stage(r.error(), "namespaces");
    ns_stage.done();

    InitContext ctx;
    ctx.k = &real;  // the child narrates its own calls, over the sync channel
    ctx.spec = &spec;
    ctx.rootfs.spec = &spec;
    ctx.rootfs.bundle = opts.bundle;
    ctx.rootfs.rootfs = st.rootfs;
    ctx.rootfs.no_pivot = opts.no_pivot;
    ctx.rootfs.in_userns = l.find_namespace(oci::NsType::User) != nullptr;
    ctx.rootfs.cgroup_mounts = linux_cgroup::container_mounts(layout);
    // Opened here, by the runtime: the child may not be able to reach the state dir (a user
    // namespace without access to it), and after pivot_root it cannot name it at all.
    ctx.fifo_fd = TRY(k.open(fifo, O_PATH));
    ctx.sync_fd = child_end.get();
    ctx.container_id = opts.id;
    int listen_fds = 0;
    if (const char* lf = std::getenv("LISTEN_FDS"); lf && *lf) listen_fds = std::atoi(lf);

    // 5. clone: the child gets its new namespaces at birth.
    ParentStage clone_stage("clone", "a child born in its new namespaces; it waits for Go on the sync socket");
    if (explain::on()) {
      char flags[32];
      std::snprintf(flags, sizeof flags, "0x%lx", linux_ns::clone_flags(l));
      explain::call("PARENT", std::string("clone3(flags=") + flags + " (CLONE_NEW* of config.json), exit_signal=SIGCHLD)");
    }
    pid_t pid = TRY(clone_child(linux_ns::clone_flags(l)));
    if (pid == 0) {
      parent_end.reset();
      init_main(ctx, listen_fds, opts.preserve_fds);
    }
    child_end.reset();
    clone_stage.done();
    struct ChildGuard {
      pid_t pid;
      bool armed = true;
      ~ChildGuard() {
        if (armed) (void)kill_and_reap(pid);
      }
    } child_guard{pid};

    // 6. runtime side, while the child waits for Go.
    ParentStage join_stage("cgroup-join", "the child enters its cgroup before it runs anything; uid/gid maps; hooks");
    if (use_cgroup)
      if (auto r = cg.add_pid(k, pid); !r) return with_stage(r.error(), "cgroup");
    if (l.has_new_namespace(oci::NsType::User))
      if (auto r = linux_ns::write_id_maps(k, pid, l); !r) return with_stage(r.error(), "id-maps");
    // prestart and createRuntime hooks: the namespaces exist, nothing is mounted yet.
    std::string state = hooks::state_json(spec.oci_version, opts.id, "creating", pid, opts.bundle, spec.annotations);
    if (auto r = hooks::run_hooks(spec.hooks.prestart, state, "prestart"); !r) return with_stage(r.error(), "hooks");
    if (auto r = hooks::run_hooks(spec.hooks.create_runtime, state, "createRuntime"); !r)
      return with_stage(r.error(), "hooks");
    join_stage.done();
    TRY(send_message(parent_end.get(), Message{Msg::Go, {}}));

    // 7. wait for Ready (or the error that stopped the child), handing on the console master.
    Created out;
    for (;;) {
      UniqueFd fd;
      auto m = recv_message(parent_end.get(), &fd);
      if (!m) {
        Error e = m.error();
        e.msg = "container init exited before it was ready";
        return std::unexpected(e);
      }
      if (m->type == Msg::Error) return std::unexpected(m->error);
      if (m->type == Msg::Ready) break;
      if (m->type == Msg::ExplainCall) explain::call("CHILD", m->error.msg);
      if (m->type == Msg::ExplainStage)
        explain::stage({"CHILD", m->error.stage, m->error.msg, static_cast<uint64_t>(m->value2),
                        static_cast<uint64_t>(m->value), m->error.err == 0});
      if (m->type == Msg::ConsoleMaster) {
        if (!opts.console_socket.empty()) {
          if (auto r = linux_console::send_to_console_socket(opts.console_socket, fd.get()); !r)
            return with_stage(r.error(), "console");
        } else if (opts.keep_console) {
          out.console_master = std::move(fd);
        }
      }
    }
    st.pid = pid;
    st.pid_start = state::process_start_time(pid).value_or(0);
    st.cgroup_path = use_cgroup ? cg_path : "";
    st.freezer = use_cgroup ? cg.freezer_file() : "";
    out.pid = pid;
    out.sync = std::move(parent_end);
    child_guard.armed = false;
    cg_guard.armed = false;
    return out;
  }

  Result<void> commit(Created& c) override {
    if (!c.sync) return {};
    auto r = send_message(c.sync.get(), Message{Msg::Go, {}});
    c.sync.reset();
    if (!r) return make_error("container init exited before it was committed");
    return {};
  }

  Result<void> start(const state::State& st) override {
    std::string fifo = store_.fifo_path(st.id);
    UniqueFd fd(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT) return make_error("container \"" + st.id + "\" is not in created state");
      return sys_error("open exec fifo", fifo);
    }
    for (;;) {
      struct pollfd pfd{fd.get(), POLLIN, 0};
      int n = ::poll(&pfd, 1, 100);
      if (n < 0 && errno != EINTR) return sys_error("poll exec fifo", fifo);
      if (n > 0) {
        char b;
        ssize_t got = ::read(fd.get(), &b, 1);
        if (got == 1) break;
        if (got < 0 && errno == EAGAIN) continue;
        return make_error("cannot start a container that has stopped");
      }
      if (state::process_start_time(st.pid) != st.pid_start)
        return make_error("cannot start a container that has stopped");
    }
    ::unlink(fifo.c_str());
    return {};
  }

  Result<void> kill(const state::State& st, int sig, bool all) override {
    if (all && !st.cgroup_path.empty()) {
      for (pid_t p : TRY(pids(st)))
        if (::kill(p, sig) < 0 && errno != ESRCH) return sys_error("kill", std::to_string(p));
      return {};
    }
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, st.pid, 0));
    if (pidfd < 0) {
      if (errno == ESRCH) return make_error("container not running");
      if (::kill(st.pid, sig) < 0) return sys_error("kill", std::to_string(st.pid));
      return {};
    }
    UniqueFd guard(pidfd);
    // The pidfd pins the process: if the start time still matches, it is our init.
    if (state::process_start_time(st.pid) != st.pid_start) return make_error("container not running");
    if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0) {
      if (errno == ESRCH) return make_error("container not running");
      return sys_error("kill", std::to_string(st.pid));
    }
    return {};
  }

  Result<std::vector<pid_t>> pids(const state::State& st) override {
    std::vector<pid_t> out;
    if (!st.cgroup_path.empty()) {
      auto layout = TRY(linux_cgroup::detect_layout(sys::real_kernel()));
      out = TRY(linux_cgroup::Cgroup(layout, st.cgroup_path).pids(sys::real_kernel()));
    }
    if (out.empty() && state::process_start_time(st.pid) == st.pid_start) out.push_back(st.pid);
    return out;
  }

  Result<int> exec(const state::State& st, const ExecOptions& opts, const oci::Process& process) override {
    return namespace_exec(st, opts, process);
  }

  Result<void> freeze(const state::State& st, bool frozen) override {
    if (st.cgroup_path.empty()) return make_error("container \"" + st.id + "\" has no cgroup to freeze");
    sys::Kernel& k = sys::real_kernel();
    auto layout = TRY(linux_cgroup::detect_layout(k));
    return linux_cgroup::Cgroup(layout, st.cgroup_path).freeze(k, frozen);
  }

  Result<void> update(const state::State& st, const nlohmann::json& resources) override {
    if (st.cgroup_path.empty()) return make_error("container \"" + st.id + "\" has no cgroup to update");
    sys::Kernel& k = sys::real_kernel();
    auto r = TRY(linux_cgroup::parse_resources(resources));
    auto writes = linux_cgroup::plan_writes(r, /*skip_zero=*/true);
    auto layout = TRY(linux_cgroup::detect_layout(k));
    linux_cgroup::Cgroup cg(layout, st.cgroup_path);
    TRY(linux_cgroup::enable_v2_controllers(k, cg, writes));
    return linux_cgroup::apply(k, cg, writes);
  }

  Result<void> destroy(const state::State& st) override {
    sys::Kernel& k = sys::real_kernel();
    bool alive = state::process_start_time(st.pid) == st.pid_start;
    if (alive) (void)kill(st, SIGKILL, false);
    if (!st.cgroup_path.empty()) {
      auto layout = TRY(linux_cgroup::detect_layout(k));
      linux_cgroup::Cgroup cg(layout, st.cgroup_path);
      // Leftovers (the container's init may have shared the host pid namespace): kill until empty.
      for (int round = 0; round < 100; ++round) {
        auto left = TRY(cg.pids(k));
        if (left.empty()) break;
        for (pid_t p : left) ::kill(p, SIGKILL);
        struct timespec ts{0, 10'000'000};
        ::nanosleep(&ts, nullptr);
      }
      if (alive && !wait_gone(st.pid, st.pid_start, 10'000))
        return make_error("container init " + std::to_string(st.pid) + " did not exit after SIGKILL");
      TRY(cg.destroy(k));
    } else if (alive && !wait_gone(st.pid, st.pid_start, 10'000)) {
      return make_error("container init " + std::to_string(st.pid) + " did not exit after SIGKILL");
    }
    return {};
  }

 private:
  state::Store store_;
};

}  // namespace

Backend& namespace_backend(const std::string& state_root) {
  static NamespaceBackend b(state_root);
  return b;
}

}  // namespace ns::runtime
