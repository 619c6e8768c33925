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

#include <array>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>

#include "common/file.hpp"
#include "common/log.hpp"
#include "common/unix_socket.hpp"
#include "linux/cgroup/cgroup.hpp"
#include "linux/cgroup/device_filter.hpp"
#include "linux/cgroup/resources.hpp"
#include "linux/console/console.hpp"
#include "linux/devices/devices.hpp"
#include "linux/ns/namespaces.hpp"
#include "linux/process/placement.hpp"
#include "linux/process/process.hpp"
#include "linux/security/capabilities.hpp"
#include "linux/security/exe_guard.hpp"
#include "linux/security/lsm.hpp"
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
  TRY(linux_ns::join_child_side(*c.k, lin(c), c.netns_by_runtime));
  if (c.on_note) {
    for (const char* p : linux_ns::purposes(lin(c), linux_ns::unshare_flags(lin(c), c.netns_by_runtime))) c.on_note(p);
    if (c.netns_by_runtime)
      c.on_note("the network namespace is being made by a thread of the runtime; the child enters it before it "
                "mounts sysfs");
  }
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

Result<void> stage_keyring(InitContext& c) {
  if (!c.new_keyring) return {};
  auto r = c.k->join_session_keyring("_ses." + c.container_id);
  if (!r && r.error().err == ENOSYS) return {};  // a kernel without keys: nothing to isolate
  return r;
}

Result<void> stage_loopback(InitContext& c) {
  if (!lin(c).has_new_namespace(oci::NsType::Network)) return {};
  if (c.netns_by_runtime) {
    if (c.on_note) c.on_note("lo is brought up by the runtime's thread, in the namespace it made; the runtime makes sure "
                             "it is up before the container's process starts");
    return {};
  }
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

Result<void> stage_mounts(InitContext& c) { return linux_fs::mount_before_cgroup(*c.k, c.rootfs, c.root_fd.get()); }

Result<void> stage_await_cgroup(InitContext& c) {
  // Without a sysfs mount the network namespace is entered here.
  if (c.await_netns) TRY(c.await_netns());
  if (c.await_cgroup) TRY(c.await_cgroup());
  // A new cgroup namespace is rooted at the cgroup its maker is in: in ours first.
  if (lin(c).has_new_namespace(oci::NsType::Cgroup) && c.enter_cgroup) TRY(c.enter_cgroup());
  return {};
}

Result<void> stage_enter_cgroup(InitContext& c) { return c.enter_cgroup ? c.enter_cgroup() : Result<void>{}; }

Result<void> stage_cgroup_mounts(InitContext& c) { return linux_fs::mount_from_cgroup(*c.k, c.rootfs, c.root_fd.get()); }

Result<void> stage_devices(InitContext& c) {
  return linux_dev::setup_dev(*c.k, *c.spec, c.root_fd.get(), c.rootfs.in_userns);
}

std::string hook_state(const InitContext& c, const char* status) {
  return hooks::state_json(c.spec->oci_version, c.container_id, status, c.host_pid, c.rootfs.bundle,
                           c.spec->annotations);
}

Result<void> stage_runtime_hooks(InitContext& c) {
  if (c.spec->hooks.prestart.empty() && c.spec->hooks.create_runtime.empty()) return {};
  return c.await_runtime_hooks ? c.await_runtime_hooks() : Result<void>{};
}

// The runtime's CPUs, which the container's process and every hook inherit, back from the
// one we set up on (linux_process::CpuPlacement).
void give_back_placement(const InitContext& c) {
  if (c.affinity) linux_process::CpuPlacement::restore(0, *c.affinity);
}

Result<void> stage_create_container_hooks(InitContext& c) {
  if (c.spec->hooks.create_container.empty()) return {};
  give_back_placement(c);  // a hook gets the runtime's CPUs
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

// The runtime saves the state while the child finishes: neither waits for the other at Ready.
const explain::Narration kAskCommit{
    "ask-commit", "",
    "The root is in place and the runtime has done its part, so the child tells it to save the container's state "
    "and commit now. The child goes on meanwhile (hostname, sysctls, masks, its process's attributes) and reads "
    "the commit only after it reports Ready; should a later step fail, the runtime undoes it all, state included."};

Result<void> stage_ask_commit(InitContext& c) { return c.ask_commit ? c.ask_commit() : Result<void>{}; }

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

Result<void> stage_attributes(InitContext& c) {
  // The CPUs the runtime had (within our cpuset), which the container's process inherits: now,
  // before a seccomp filter could refuse the call (linux_process::CpuPlacement).
  give_back_placement(c);
  return linux_process::apply_attributes(*c.k, *c.attrs);
}

Result<void> stage_labels(InitContext& c) { return linux_security::apply_labels(*c.k, proc(c)); }

// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it before the caps go.
// Loads the filter; a notify listener goes to the runtime, which hands it to the agent.
Result<void> load_filter(InitContext& c) {
  UniqueFd listener;
  TRY(c.k->load_seccomp(*c.seccomp, &listener));
  if (listener) TRY(send_message(c.sync_fd, Message{Msg::SeccompListener, {}}, listener.get()));
  return {};
}

Result<void> stage_seccomp_privileged(InitContext& c) {
  if (!c.seccomp || proc(c).no_new_privileges) return {};
  return load_filter(c);
}

// With no_new_privs: as late as possible, so the fewest syscalls run under the filter.
Result<void> stage_seccomp(InitContext& c) {
  if (!c.seccomp || !proc(c).no_new_privileges) return {};
  return load_filter(c);
}

Result<void> stage_capabilities_bounding(InitContext& c) {
  if (!c.caps) return {};
  if (c.on_note) {
    std::string kept;
    int dropped = 0;
    for (int cap = 0; cap <= c.k->last_cap() && cap < 64; ++cap) {
      if (c.caps->bounding & (uint64_t{1} << cap)) kept += (kept.empty() ? "" : ", ") + linux_security::cap_name(cap);
      else ++dropped;
    }
    c.on_note("kept: " + (kept.empty() ? std::string("none") : kept) + "; dropped: " + std::to_string(dropped) +
              " others, for good");
  }
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

namespace fs_n = linux_fs::narration;
namespace ns_n = linux_ns::narration;
namespace proc_n = linux_process::narration;
namespace sec_n = linux_security::narration;

// The process half of the pipeline: who the process is and what it may do, from its terminal
// to its syscall filter. The init runs it after setting up the container; an exec'd process,
// which joins a container that is already set up, runs it after its own session.
constexpr std::array<InitStage, 11> kProcessStages = {{
    {&linux_console::narration::kConsole, stage_console},
    {&proc_n::kRlimits, stage_rlimits},
    {&proc_n::kAttributes, stage_attributes},
    {&sec_n::kLabels, stage_labels},
    {&sec_n::kSeccompPrivileged, stage_seccomp_privileged},
    {&sec_n::kBounding, stage_capabilities_bounding},
    {&proc_n::kUser, stage_user},
    {&sec_n::kCapabilities, stage_capabilities},
    {&proc_n::kCwd, stage_cwd},
    {&sec_n::kNoNewPrivileges, stage_no_new_privileges},
    {&sec_n::kSeccomp, stage_seccomp},
}};

template <size_t A, size_t B>
constexpr std::array<InitStage, A + B> then(const std::array<InitStage, A>& first, const std::array<InitStage, B>& second) {
  std::array<InitStage, A + B> out{};
  for (size_t i = 0; i < A; ++i) out[i] = first[i];
  for (size_t i = 0; i < B; ++i) out[A + i] = second[i];
  return out;
}

// The init side, in order: the container's set-up, then the process half. Each narration (what
// the stage is for, in plain words) lives in the module of the mechanism it narrates. Up to
// cgroup-wait the child works while the runtime makes the cgroup's directories, and up to
// cgroup-enter while it writes the limits and opens the files the child moves itself in with.
constexpr auto kInitStages = then(std::array<InitStage, 20>{{
                                      {&ns_n::kJoinNamespaces, stage_join_namespaces},
                                      {&proc_n::kSession, stage_session},
                                      {&proc_n::kKeyring, stage_keyring},
                                      {&ns_n::kLoopback, stage_loopback},
                                      {&proc_n::kOomScore, stage_oom_score},
                                      {&fs_n::kRootfs, stage_rootfs},
                                      {&fs_n::kMounts, stage_mounts},
                                      {&linux_cgroup::narration::kAwaitJoin, stage_await_cgroup},
                                      {&ns_n::kCgroupNamespace, stage_cgroup_namespace},
                                      {&fs_n::kCgroupMounts, stage_cgroup_mounts},
                                      {&linux_cgroup::narration::kEnter, stage_enter_cgroup},
                                      {&linux_dev::narration::kDevices, stage_devices},
                                      {&hooks::narration::kAwaitRuntimeHooks, stage_runtime_hooks},
                                      {&hooks::narration::kCreateContainerHooks, stage_create_container_hooks},
                                      {&proc_n::kCwdCreate, stage_cwd_create},
                                      {&fs_n::kPivotRoot, stage_pivot_root},
                                      {&kAskCommit, stage_ask_commit},
                                      {&proc_n::kHostname, stage_hostname},
                                      {&proc_n::kSysctl, stage_sysctl},
                                      {&fs_n::kFinalizeRootfs, stage_finalize_rootfs},
                                  }},
                                  kProcessStages);

// What an exec'd process runs once it is inside the container's namespaces and cgroup.
constexpr auto kExecStages = then(std::array<InitStage, 1>{{{&proc_n::kSession, stage_session}}}, kProcessStages);

Result<void> run_stages(InitContext& ctx, std::span<const InitStage> stages) {
  if (ctx.spec->process->capabilities && !ctx.caps) {
    auto caps = linux_security::resolve_caps(*ctx.spec->process->capabilities, ctx.k->last_cap());
    if (!caps) return with_stage(caps.error(), "capabilities");
    ctx.caps = *caps;
  }
  if (!ctx.attrs) {
    auto attrs = linux_process::parse_attributes(*ctx.spec->process, ctx.spec->linux ? &*ctx.spec->linux : nullptr);
    if (!attrs) return with_stage(attrs.error(), "process-attributes");
    ctx.attrs = std::move(*attrs);
  }
  if (ctx.spec->linux && !ctx.spec->linux->seccomp.is_null() && !ctx.seccomp) {
    auto filter = linux_security::parse_seccomp(ctx.spec->linux->seccomp);
    if (!filter) return with_stage(filter.error(), "seccomp");
    ctx.seccomp = std::move(*filter);
  }
  for (const InitStage& s : stages) {
    uint64_t start = ctx.on_stage ? explain::now_ns() : 0;
    auto r = s.run(ctx);
    if (ctx.on_stage) ctx.on_stage(*s.narration, start, explain::now_ns() - start, r.has_value());
    if (!r) return with_stage(r.error(), s.name());
    if (log::debug_enabled()) log::debug(std::string("stage ") + s.name() + " done");
  }
  return {};
}

}  // namespace

std::span<const InitStage> init_stages() { return kInitStages; }
std::span<const InitStage> exec_stages() { return kExecStages; }
Result<void> run_init_stages(InitContext& ctx) { return run_stages(ctx, kInitStages); }
Result<void> run_exec_stages(InitContext& ctx) { return run_stages(ctx, kExecStages); }

void send_text_over_sync(int sync, Msg type, const std::string& text) {
  Message m{type, {}};
  m.error.msg = text;
  (void)send_message(sync, m);
}

void send_stage_over_sync(int sync, const explain::Narration& n, uint64_t start, uint64_t duration, bool ok) {
  Message m{Msg::ExplainStage, {}};
  m.error.stage = n.stage;
  m.error.op = n.field;
  m.error.msg = n.why;
  m.error.err = ok ? 0 : 1;
  m.value = static_cast<int64_t>(duration);
  m.value2 = static_cast<int64_t>(start);
  (void)send_message(sync, m);
}

void narrate_over_sync(InitContext& ctx, std::unique_ptr<sys::Kernel>& holder) {
  int sync = ctx.sync_fd;
  holder = explain::explaining_kernel(*ctx.k, [sync](const std::string& what) { send_text_over_sync(sync, Msg::ExplainCall, what); });
  ctx.k = holder.get();
  ctx.on_note = [sync](const std::string& what) { send_text_over_sync(sync, Msg::ExplainNote, what); };
  ctx.on_stage = [sync](const explain::Narration& n, uint64_t start, uint64_t duration, bool ok) {
    send_stage_over_sync(sync, n, start, duration, ok);
  };
}

ChildGuard::~ChildGuard() {
  if (!armed) return;
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

Result<void> run_runtime_hooks(const oci::Spec& spec, const CreateOptions& opts, pid_t pid) {
  if (spec.hooks.prestart.empty() && spec.hooks.create_runtime.empty()) return {};
  explain::Step step(hooks::narration::kRuntimeHooks);
  std::string state = hooks::state_json(spec.oci_version, opts.id, "creating", pid, opts.bundle, spec.annotations);
  if (auto r = hooks::run_hooks(spec.hooks.prestart, state, "prestart"); !r) return with_stage(r.error(), "hooks");
  if (auto r = hooks::run_hooks(spec.hooks.create_runtime, state, "createRuntime"); !r)
    return with_stage(r.error(), "hooks");
  step.done();
  return {};
}

Result<void> hand_console(const CreateOptions& opts, UniqueFd master, Created& out) {
  if (!opts.console_socket.empty()) {
    if (auto r = linux_console::send_to_console_socket(opts.console_socket, master.get()); !r)
      return with_stage(r.error(), "console");
  } else if (opts.keep_console) {
    out.console_master = std::move(master);
  }
  return {};
}

Result<void> make_exec_fifo(const std::string& fifo, bool start_runs_hooks) {
  // 0600 whatever our umask: whoever may write it may start the container, so only its owner
  // (the runtime opens it read-write for the init before clone; `start` runs as the owner).
  // The sticky bit tells the entry point's `start` (start_entry.c) that poststart hooks wait.
  mode_t mode = NS_EXEC_FIFO_MODE | (start_runs_hooks ? NS_EXEC_FIFO_MORE : 0);
  if (::mkfifo(fifo.c_str(), 0600) < 0 || ::chmod(fifo.c_str(), mode) < 0)
    return with_stage(sys_error("mkfifo", fifo).error(), "exec-fifo");
  return {};
}

Result<UniqueFd> open_exec_fifo(sys::Kernel& k, const std::string& fifo) {
  // Opened here, by the runtime: the child may not be able to reach the state dir (a user
  // namespace without access to it, a user without read access to the fifo), and after
  // pivot_root it cannot name it at all. Read-write: the holder's copy keeps a reader (and a
  // writer, so its read blocks instead of seeing end-of-file); ours is closed after clone.
  return k.open(fifo, O_RDWR | O_CLOEXEC);
}

Result<void> release_exec_fifo(const std::string& fifo, const std::string& id) {
  // The holder keeps the fifo open for reading: opening it for writing cannot block, and fails
  // with ENXIO when the holder is gone. The byte wakes it; there is no need to wait until it
  // has run (a write to a pipe is there for the reader whenever it gets the CPU).
  UniqueFd fd(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return make_error("container \"" + id + "\" is not in created state");
    if (errno == ENXIO) return make_error("cannot start a container that has stopped");
    return sys_error("open exec fifo", fifo);
  }
  // Unlinked first: the byte is the last thing, so start is done when the holder wakes.
  ::unlink(fifo.c_str());
  if (::write(fd.get(), "0", 1) != 1) {
    if (errno == EPIPE) return make_error("cannot start a container that has stopped");
    return sys_error("write exec fifo", fifo);
  }
  if (explain::on()) explain::call("PARENT", "open(\"" + fifo + "\", O_WRONLY|O_NONBLOCK), write 1 byte, unlink");
  return {};
}

Result<void> hand_to_seccomp_agent(const nlohmann::json& seccomp, pid_t pid, const std::string& state_json,
                                   int listener_fd) {
  std::string path = seccomp.value("listenerPath", "");
  if (path.empty() || listener_fd < 0) return make_error("seccomp listener without a listenerPath");
  nlohmann::json process_state{{"ociVersion", oci::kOciVersion},
                               {"fds", {"seccompFd"}},
                               {"pid", pid},
                               {"metadata", seccomp.value("listenerMetadata", "")},
                               {"state", nlohmann::json::parse(state_json)}};
  return linux_security::send_to_agent(path, listener_fd, process_state.dump());
}

bool relay_narration(const Message& m, const char* default_role) {
  // A message relayed from further away (VM mode's guest) names its own role in error.path.
  std::string role = m.error.path.empty() ? default_role : m.error.path;
  switch (m.type) {
    case Msg::ExplainCall: explain::call(role, m.error.msg); return true;
    case Msg::ExplainNote: explain::note(role, m.error.msg); return true;
    case Msg::ExplainStage:
      explain::stage({role, m.error.stage, m.error.op, m.error.msg, static_cast<uint64_t>(m.value2),
                      static_cast<uint64_t>(m.value), m.error.err == 0});
      return true;
    default: return false;
  }
}

namespace {

// The child after clone. Runs the stages, reports Ready, blocks on the exec fifo until
// `start`, then execs the user process. Never returns.
[[noreturn]] void init_main(InitContext& ctx, const linux_process::PassedFds& passed, int listen_fds, bool await_maps,
                            bool runtime_root) {
  log::set_role(log::Role::Child);
  hooks::set_runtime_mount_ns(-1);  // our hooks run in the container's mount namespace
  linux_process::close_fds_from(3 + passed.count(), {ctx.sync_fd, ctx.fifo_fd.get(), log::fd()});
  auto fail = [&](Error e) {
    (void)send_message(ctx.sync_fd, Message{Msg::Error, std::move(e)});
    ::_exit(1);
  };
  // Nothing of the runtime's host view stays reachable through /proc/<our pid>: not its working
  // directory (the caller's, a host path), and, as root, not our memory or exe either from the
  // first instruction on (a process of a pid namespace we join could look before our maps are
  // written). A runtime without root keeps us dumpable until the maps are written: it may write
  // them only into /proc/PID files it owns, and a non-dumpable process's belong to root. (Not
  // our own euid decides: in a new user namespace it becomes 0 the moment uid_map is written,
  // and going non-dumpable then made the runtime's next write, setgroups, fail with EACCES.)
  (void)::chdir("/");
  if (runtime_root) ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // Our pid as the host sees it: /proc here is still the host's procfs.
  char self[32] = {0};
  if (::readlink("/proc/self", self, sizeof self - 1) > 0) ctx.host_pid = std::atoi(self);
  // In a new user namespace, wait until the runtime has written our id maps.
  if (await_maps) {
    auto go = recv_message(ctx.sync_fd);
    if (!go || go->type != Msg::Go) ::_exit(1);
  }
  // From here until execve this process is ns-runtime inside the container's namespaces:
  // nothing in the container may open our /proc/PID/exe or memory (CVE-2019-5736). execve
  // resets it for the container's program.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // Where the stages stop for the runtime: Go once it has done its part (EOF: it died).
  int sync = ctx.sync_fd;
  auto await_go = [sync]() -> Result<Message> {
    auto m = TRY(recv_message(sync));
    if (m.type != Msg::Go) return make_error("unexpected message from the runtime");
    return m;
  };
  // What the runtime and its network namespace thread send while we set up comes in whatever
  // order they send it: each message is acted on as it arrives, and a stage that needs one
  // takes messages until it has come.
  struct Inbox {
    InitContext& ctx;
    int sync;
    bool netns_entered, cgroup_made = false, cgroup_joined = false;
    Result<void> take() {
      std::vector<UniqueFd> fds;
      auto m = TRY(recv_message(sync, &fds));
      switch (m.type) {
        case Msg::NetNamespace: return enter_netns(m, fds);
        case Msg::CgroupMade:
          // No cgroup of our own after all (no permission without root): cgroup mounts show the
          // namespace's view instead of binding directories that were never made.
          if (m.value == 0)
            for (auto& cm : ctx.rootfs.cgroup_mounts) cm.own_dir.clear();
          cgroup_made = true;
          return {};
        case Msg::JoinCgroup: {
          // The v1 hierarchies' tasks files, opened by the runtime (the kernel checks the
          // opener's credentials, so this works in a user namespace too): a thread writing "0"
          // moves itself, and we are one thread.
          auto paths = split(m.error.msg, '\n');
          if (fds.empty() || fds.size() != paths.size())
            return make_error("join cgroup: tasks files missing from the runtime's message");
          for (size_t i = 0; i < fds.size(); ++i)
            if (::write(fds[i].get(), "0", 1) != 1) return sys_error("join cgroup: write \"0\" to", paths[i]);
          return {};
        }
        case Msg::CgroupJoined:
          // Joining a v1 cpuset gave us all of its CPUs: back to the one we set up on.
          if (m.value2 == 1 && ctx.own_cpu >= 0) (void)linux_process::CpuPlacement::pin(0, ctx.own_cpu);
          cgroup_joined = true;
          return {};
        default:
          return make_error("unexpected message from the runtime");
      }
    }
    Result<void> enter_netns(const Message& m, std::vector<UniqueFd>& fds) {
      // Whatever stage we are in, a failure here is the namespaces' (the thread's, or our setns).
      if (m.error.err) return std::unexpected(Error{m.error.err, "make the network namespace: " + m.error.op, {}, {}, "namespaces"});
      if (fds.empty() || netns_entered) return std::unexpected(Error{0, {}, {}, "the runtime sent no network namespace", "namespaces"});
      if (auto r = ctx.k->setns(fds[0].get(), CLONE_NEWNET); !r) {
        Error e = r.error();
        e.op = "enter the network namespace the runtime made";
        e.stage = "namespaces";
        return std::unexpected(e);
      }
      netns_entered = true;
      return {};
    }
    Result<void> until(const bool& done) {
      while (!done) TRY(take());
      return {};
    }
  };
  auto inbox = std::make_shared<Inbox>(Inbox{ctx, sync, !ctx.netns_by_runtime});
  ctx.await_cgroup = [inbox]() { return inbox->until(inbox->cgroup_made); };
  ctx.enter_cgroup = [inbox]() { return inbox->until(inbox->cgroup_joined); };
  ctx.await_netns = [inbox]() { return inbox->until(inbox->netns_entered); };
  ctx.rootfs.before_sysfs = [&ctx]() { return ctx.await_netns(); };
  ctx.await_runtime_hooks = [sync, await_go]() -> Result<void> {
    TRY(send_message(sync, Message{Msg::RunHooks, {}}));
    (void)TRY(await_go());
    return {};
  };
  ctx.ask_commit = [sync]() { return send_message(sync, Message{Msg::SaveState, {}}); };

  std::unique_ptr<sys::Kernel> narrating;
  if (explain::on()) narrate_over_sync(ctx, narrating);
  if (auto r = run_init_stages(ctx); !r) fail(r.error());

  const oci::Process& p = *ctx.spec->process;
  std::vector<std::string> env = linux_process::build_env(p, listen_fds);
  auto exe = linux_process::find_executable(p.args[0], env);
  if (!exe) fail(with_stage(exe.error(), "exec").error());
  if (auto r = passed.prepare_for_exec(); !r) fail(with_stage(r.error(), "fds").error());

  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  // The exec fifo, held open for reading and writing since the runtime opened it: `start` can
  // open it for writing without waiting, and our read() blocks until start's byte is there.
  int go_fd = ctx.fifo_fd.release();
  if (auto r = send_message(ctx.sync_fd, Message{Msg::Ready, {}}); !r) ::_exit(1);
  // The runtime saved state.json when we asked (ask-commit) and sent the commit then: as a rule
  // it is here already. Until it is, the runtime's death must take us with it: nothing could
  // ever start or delete a container that has no state. EOF instead of the commit means it
  // died. (Before this, a dead runtime shows as EOF at Go, or EPIPE at Ready.)
  auto committed = recv_message(ctx.sync_fd);
  if (!committed || committed->type != Msg::Go) ::_exit(1);
  ::close(ctx.sync_fd);
  log::flush();  // set-up succeeded: warnings held for a json log may be written now

  // `run` made no fifo (go_fd -1): its Go (value 1) started us. Otherwise start's byte does.
  if (go_fd >= 0) {
    // Blocks until `start` writes its byte: "go".
    char b;
    ssize_t n;
    while ((n = ::read(go_fd, &b, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) {
      // The runtime is gone by now: the container's stderr is the only place left to say it.
      std::string msg = "ns-runtime: read exec fifo: " + errno_string(errno) + "\n";
      (void)!::write(STDERR_FILENO, msg.data(), msg.size());
      ::_exit(1);
    }
    ::close(go_fd);
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


struct CloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;  // CLONE_INTO_CGROUP (Linux 5.7)

// fork()-like clone with namespace flags: returns 0 in the child. With CGROUP_FD (a cgroup2
// directory) the child is born in that cgroup (*born_in_cgroup says whether the kernel could).
Result<pid_t> clone_child(unsigned long flags, int cgroup_fd, bool* born_in_cgroup) {
  CloneArgs a{};
  a.flags = flags;
  a.exit_signal = SIGCHLD;
  *born_in_cgroup = false;
  long pid = -1;
  if (cgroup_fd >= 0) {
    a.flags |= kCloneIntoCgroup;
    a.cgroup = static_cast<uint64_t>(cgroup_fd);
    pid = ::syscall(SYS_clone3, &a, sizeof a);
    if (pid >= 0) *born_in_cgroup = true;
    // An older kernel (E2BIG, EINVAL) or none of clone3: join the cgroup afterwards instead.
    a.flags = flags;
    a.cgroup = 0;
  }
  if (pid < 0) pid = ::syscall(SYS_clone3, &a, sizeof a);
  if (pid < 0 && errno == ENOSYS) pid = ::syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) return sys_error("clone");
  return static_cast<pid_t>(pid);
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

const explain::Narration kExecFifo{
    "exec-fifo", "",
    "create and start are two commands: an engine creates the container, sets up its network, and only then starts "
    "it. The init holds this fifo open and blocks reading it; start writes one byte into it, which lets the init go "
    "on to exec the program."};
const explain::Narration kStart{
    "start", "process.args",
    "start writes one byte into the exec fifo: the init, blocked reading it, goes on to run the startContainer "
    "hooks and exec the program of process.args."};

// --explain: what each cgroup file written means. The device rules (a dozen defaults) are one note.
void explain_writes(sys::Kernel& k, const linux_cgroup::Cgroup& cg, const std::vector<linux_cgroup::Write>& writes) {
  int device_rules = 0;
  for (auto& w : writes) {
    bool v2 = false;
    if (!cg.home_of(k, w.controller, &v2) || (v2 ? w.v2_file : w.v1_file).empty()) continue;
    if (w.controller == "devices") {
      ++device_rules;
      continue;
    }
    explain::note("PARENT", linux_cgroup::describe(w, v2));
  }
  if (device_rules)
    explain::note("PARENT", std::to_string(device_rules) +
                                " devices rules: which device nodes (type major:minor) the container may read, write or "
                                "mknod; all others are refused, whatever the node's permissions say");
}

const explain::Narration kKill{
    "kill", "",
    "The signal goes to the container's init through a pidfd, a handle on that very process: a pid that was "
    "recycled for someone else can never be hit. With --all, every process in the container's cgroup gets it."};
const explain::Narration kKillLeftovers{
    "kill", "",
    "The container's init gets SIGKILL, which it cannot catch or ignore; since it is pid 1 of its pid namespace, "
    "the kernel then kills every other process in it. Whatever is still in the cgroup (a process that joined "
    "only the cgroup) is killed too, until the cgroup is empty."};

}  // namespace

Result<std::unique_ptr<ContainerCgroup>> plan_container_cgroup(sys::Kernel& k, linux_cgroup::Layout layout,
                                                               const std::string& cgroups_path, const std::string& id,
                                                               bool systemd) {
  auto out = std::make_unique<ContainerCgroup>();
  out->k = &k;
  out->layout = std::move(layout);
  std::string path = TRY(linux_cgroup::resolve_path(cgroups_path, id, systemd));
  out->cg = linux_cgroup::Cgroup(out->layout, path);
  return out;
}

Result<void> make_planned_cgroup(ContainerCgroup& c, const linux_cgroup::Resources& resources, pid_t born,
                                 const std::function<Result<void>(bool active)>& made,
                                 std::span<const linux_cgroup::MadeAhead> ahead) {
  sys::Kernel& k = *c.k;
  linux_cgroup::Cgroup& cg = c.cg;
  auto writes = linux_cgroup::plan_writes(resources);
  auto none = [&]() -> Result<void> {
    if (!writes.empty()) log::warn("linux.resources not applied: the container has no cgroup");
    return made ? made(false) : Result<void>{};
  };
  if (c.layout.hierarchies.empty()) return none();
  if (auto r = cg.create(k, born, ahead); !r) {
    bool denied = r.error().err == EACCES || r.error().err == EROFS || r.error().err == EPERM;
    if (::geteuid() == 0 || !denied) return with_stage(r.error(), "cgroup");  // create undid its own dirs
    log::warn("no permission to create cgroup " + cg.path() + ": running without resource control");
    return none();
  }
  c.active = true;  // from here on, dropping C removes the cgroup
  if (made) TRY(made(true));
  if (!c.controllers_checked) TRY(linux_cgroup::check_controllers(k, cg, writes));
  auto applied = linux_cgroup::enable_v2_controllers(k, cg, writes);
  if (applied) applied = linux_cgroup::apply(k, cg, writes);
  if (!applied) return with_stage(applied.error(), "cgroup");
  auto filtered = linux_cgroup::apply_device_filter(cg, resources.devices);
  if (!filtered) return with_stage(filtered.error(), "cgroup");
  if (*filtered && explain::on())
    explain::call("PARENT", "bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, " +
                                std::to_string(linux_cgroup::device_program(resources.devices).size()) +
                                " instructions), bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE)");
  if (explain::on()) explain_writes(k, cg, writes);
  return {};
}

Result<std::unique_ptr<ContainerCgroup>> make_container_cgroup(sys::Kernel& k, const linux_cgroup::Resources& resources,
                                                               const std::string& cgroups_path, const std::string& id,
                                                               bool systemd) {
  auto out = TRY(plan_container_cgroup(k, TRY(linux_cgroup::detect_layout(k)), cgroups_path, id, systemd));
  TRY(make_planned_cgroup(*out, resources));
  return out;
}

// The child into its cgroup: in each v1 hierarchy the child moves itself through the tasks
// file's fd, sent over the sync channel (no RCU grace period: see Cgroup::self_join_file;
// OPENED: those opened ahead, taken from there); into the v2 tree, unless it was born there
// (BORN_IN_V2), the runtime writes its pid into cgroup.procs (a kernel without CLONE_INTO_CGROUP).
Result<void> join_child(sys::Kernel& k, const linux_cgroup::Cgroup& cg, pid_t pid, int sync, bool born_in_v2,
                        std::vector<std::pair<std::string, UniqueFd>>& opened) {
  // The tasks fds go in as few messages as they fit in, their paths (for the child's errors)
  // one per line in error.msg.
  std::vector<UniqueFd> fds;
  Message m{Msg::JoinCgroup, {}};
  auto flush = [&]() -> Result<void> {
    if (fds.empty()) return {};
    std::vector<int> raw;
    for (auto& f : fds) raw.push_back(f.get());
    TRY(send_message(sync, m, raw));
    fds.clear();
    m.error.msg.clear();
    return {};
  };
  for (auto& h : cg.layout().hierarchies) {
    if (h.v2 && born_in_v2) continue;
    if (h.v2) {
      TRY(k.write_file(cg.dir(h) + "/cgroup.procs", std::to_string(pid)));
      continue;
    }
    std::string file = cg.self_join_file(h);
    if (fds.size() == ns::kMaxFdsPerMessage || m.error.msg.size() + file.size() + 1 >= kSyncTextMax) TRY(flush());
    auto ready = std::ranges::find_if(opened, [&](auto& o) { return o.first == file && o.second; });
    if (ready != opened.end())
      fds.push_back(std::move(ready->second));
    else
      fds.push_back(TRY(k.open(file, O_WRONLY | O_CLOEXEC)));
    m.error.msg += (m.error.msg.empty() ? "" : "\n") + file;
  }
  return flush();
}

ContainerCgroup::~ContainerCgroup() {
  if (settle) settle();
  if (kept) return;
  if (active) {
    (void)cg.destroy(*k);
    return;
  }
  // Made ahead for the child's birth, and the cgroup never came to be: the child is gone by
  // now (ChildGuard), but may still be leaving the directory.
  for (auto it = premade.rbegin(); it != premade.rend(); ++it) (void)linux_cgroup::remove_cgroup_dir(*k, *it);
}

namespace {

// The real kernel, narrating its calls as PARENT lines when --explain is on.
struct Narrated {
  std::unique_ptr<sys::Kernel> wrapper =
      explain::on() ? explain::explaining_kernel(sys::real_kernel(), [](const std::string& what) { explain::call("PARENT", what); })
                    : nullptr;
  sys::Kernel& k = wrapper ? *wrapper : sys::real_kernel();
};

// What the network namespace thread sends: the message is encoded before the thread starts,
// so the thread only patches an error in and calls sendmsg (linux_ns::NetnsThread).
struct NetnsDelivery {
  explicit NetnsDelivery(int sock) : sock(sock), msg(Message{Msg::NetNamespace, {}}) {}
  static void deliver(void* self, int ns_fd, int err, const char* op) noexcept {
    auto* d = static_cast<NetnsDelivery*>(self);
    if (err) d->msg.set_error(err, op);
    d->thread_err = err;
    d->send_err = d->msg.send(d->sock, ns_fd);
  }
  [[nodiscard]] bool ok() const { return thread_err == 0 && send_err == 0; }
  int sock;
  EncodedMessage msg;
  int thread_err = 0;
  int send_err = 0;
};

// The cgroup's directories, made by the network namespace thread once the namespace is out
// (linux_ns::NetnsThread::post): its CPU is free then, while the runtime still prepares the
// clone. Paths built before, results (errno per directory) read after wait_job().
// The tasks file of each (TASKS: paths built before) is opened there too, for the child to move
// itself in with (fds, -1 where the open failed: the runtime opens those itself).
// A v1 cpuset directory starts with no CPUs and no memory nodes: its parent's are copied in
// (CPUSET: that directory's index; cpuset_ready says it was done).
struct DirsAhead {
  std::vector<std::string> dirs, tasks;
  std::vector<int> errs, task_fds;
  size_t first = 0;  // the thread's share starts here; the runtime makes those before itself
  size_t cpuset = SIZE_MAX;
  bool cpuset_ready = false;
  std::string cpuset_files[4];  // parent's cpus, mems; the new directory's cpus, mems
  // (Each path from the anchor, when it is under it: see anchor_paths.)
  void make_range(size_t from, size_t to) noexcept {
    for (size_t i = from; i < to; ++i) {
      auto dir = anchored(dirs[i]), task = anchored(tasks[i]);
      errs[i] = ::mkdirat(dir.dir, dir.rel, 0755) == 0 ? 0 : errno;
      task_fds[i] = errs[i] == 0 || errs[i] == EEXIST ? ::openat(task.dir, task.rel, O_WRONLY | O_CLOEXEC) : -1;
      if (i == cpuset && errs[i] == 0) cpuset_ready = copy_file(0, 2) && copy_file(1, 3);
    }
  }
  bool copy_file(int from, int to) noexcept {
    char buf[4096];
    auto src = anchored(cpuset_files[from]), dst = anchored(cpuset_files[to]);
    int in = ::openat(src.dir, src.rel, O_RDONLY | O_CLOEXEC);
    if (in < 0) return false;
    ssize_t n = ::read(in, buf, sizeof buf);
    ::close(in);
    if (n <= 0 || n == static_cast<ssize_t>(sizeof buf)) return false;
    int out = ::openat(dst.dir, dst.rel, O_WRONLY | O_CLOEXEC);
    if (out < 0) return false;
    bool ok = ::write(out, buf, static_cast<size_t>(n)) == n;
    ::close(out);
    return ok;
  }
  static void make(void* self) noexcept {
    auto* d = static_cast<DirsAhead*>(self);
    d->make_range(d->first, d->dirs.size());
  }
  // The fds opened, as the runtime's own from now on (an fd's owner closes it).
  std::vector<std::pair<std::string, UniqueFd>> take_fds() {
    std::vector<std::pair<std::string, UniqueFd>> out;
    for (size_t i = 0; i < task_fds.size(); ++i)
      if (task_fds[i] >= 0) out.emplace_back(tasks[i], UniqueFd(std::exchange(task_fds[i], -1)));
    return out;
  }
};

// The sync channel, made before the spec's network namespace, and the thread making it.
// Members go in reverse: the thread is joined before the channel closes (and before the
// directories it makes are forgotten).
struct NetnsEarly final : EarlyWork {
  UniqueFd parent_end, child_end;
  NetnsDelivery delivery{-1};
  bool by_runtime = false;
  linux_process::Attributes attrs;  // the process's, parsed here for the placement and kept for create
  linux_process::CpuPlacement placement;
  DirsAhead dirs_ahead;
  linux_ns::NetnsThread thread;
};

class NamespaceBackend final : public Backend {
 public:
  explicit NamespaceBackend(std::string root) : store_(std::move(root)) {}
  const char* name() const override { return "namespaces"; }

  // The sync channel and, when the runtime makes the container's network namespace, the thread
  // that makes it (linux_ns::NetnsThread): started as soon as the spec is read, so the namespace
  // is ready or nearly so when the child needs it.
  Result<std::shared_ptr<EarlyWork>> start_early(const oci::Spec& spec) override {
    auto early = std::make_shared<NetnsEarly>();
    TRY(make_sync_pair(early->parent_end, early->child_end));
    early->delivery.sock = early->parent_end.get();
    early->by_runtime = linux_ns::NetnsThread::applies(spec.linux ? *spec.linux : kNoLinux);
    // Where the runtime, the thread and the child run (linux_process::CpuPlacement), unless
    // config.json places the process itself (execCPUAffinity).
    early->attrs = TRY(linux_process::parse_attributes(*spec.process, spec.linux ? &*spec.linux : nullptr));
    if (early->attrs.cpus_initial.empty() && early->attrs.cpus_final.empty()) early->placement.plan();
    if (early->by_runtime) {
      // The cgroup paths from /sys/fs/cgroup's fd: they then never wait on sysfs's lock, which
      // the thread's namespace holds while it adds its devices to sysfs (see anchor_paths).
      anchor_paths("/sys/fs/cgroup");
      TRY(early->thread.start(&NetnsDelivery::deliver, &early->delivery, early->placement.side_cpu()));
    }
    return early;
  }

  Result<Created> create(const CreateOptions& opts, const oci::Spec& spec, state::State& st) override {
    log::set_role(log::Role::Parent);  // log lines from here on are the runtime driving a container
    sys::Kernel& real = sys::real_kernel();
    Narrated n;
    sys::Kernel& k = n.k;
    const oci::Linux& l = spec.linux ? *spec.linux : kNoLinux;

    // 0. the sync channel, and the network namespace a thread of ours has been making since the
    //    spec was read (start_early), joined before anything else is sent to the child.
    auto early_work = std::dynamic_pointer_cast<NetnsEarly>(opts.early);
    if (!early_work) early_work = std::static_pointer_cast<NetnsEarly>(TRY(start_early(spec)));
    NetnsEarly& early = *early_work;
    UniqueFd parent_end = std::move(early.parent_end), child_end = std::move(early.child_end);
    linux_ns::NetnsThread& netns = early.thread;
    struct JoinFirst {  // the thread sends on parent_end: joined before that closes, whichever way
      linux_ns::NetnsThread& t;
      ~JoinFirst() { t.join(); }
    } join_first{netns};
    const NetnsDelivery& netns_delivery = early.delivery;
    const bool netns_by_runtime = early.by_runtime;
    linux_process::CpuPlacement& placement = early.placement;
    struct ReleaseCpus {  // the runtime's CPUs back when create is done, whichever way
      linux_process::CpuPlacement& p;
      ~ReleaseCpus() { p.release(); }
    } release_cpus{placement};

    // 1. cgroup: where it goes. On cgroup v2 it is made now and the child is born in it
    //    (CLONE_INTO_CGROUP); elsewhere it is made while the child does its first mounts, and
    //    the child moves itself into the v1 hierarchies (Cgroup::self_join_file). A hybrid
    //    host's cgroup2 tree gets its directory now, for the child to be born in. Neither way
    //    makes the kernel wait for an RCU grace period, as writing a pid into cgroup.procs does.
    auto resources = linux_cgroup::parse_resources(l.resources);
    if (!resources) return with_stage(resources.error(), "cgroup");
    linux_cgroup::add_default_device_rules(*resources);
    auto cgroup = TRY(plan_container_cgroup(k, TRY(linux_cgroup::detect_layout(k)), l.cgroups_path, opts.id,
                                            opts.systemd_cgroup));
    const linux_cgroup::Layout& layout = cgroup->layout;
    linux_cgroup::Cgroup& cg = cgroup->cg;
    // A controller the limits need and the host lacks: said now, before the child exists.
    if (!layout.hierarchies.empty() && ::geteuid() == 0) {
      if (auto r = linux_cgroup::check_controllers(k, cg, linux_cgroup::plan_writes(*resources)); !r)
        return with_stage(r.error(), "cgroup");
      cgroup->controllers_checked = true;
    }
    const bool born_in = layout.pure_v2();
    if (born_in) {
      explain::Step cgroup_stage(linux_cgroup::narration::kCreate);
      TRY(make_planned_cgroup(*cgroup, *resources));
      cgroup_stage.done();
    }
    const linux_cgroup::Hierarchy* birth_v2 = born_in && cgroup->active ? &layout.hierarchies[0] : nullptr;
    if (!born_in && ::geteuid() == 0)
      for (auto& h : layout.hierarchies)
        if (h.v2 && cg.create_one(k, h, cgroup->premade)) birth_v2 = &h;  // else: joined after clone
    // The v1 directories: half made here, half by the network namespace thread once it has sent
    // the namespace, while we make the fifo and clone (the limits are ours, after clone). What
    // the thread made is removed again if create fails before it counts as ours.
    DirsAhead& ahead = early.dirs_ahead;
    if (!born_in && ::geteuid() == 0 && netns.running()) {
      // The cpuset directory last, in the thread's share: its parent's CPUs and memory nodes are
      // copied in there too.
      for (int pass = 0; pass < 2; ++pass)
        for (auto& h : layout.hierarchies) {
          bool is_cpuset = h.controllers.find("cpuset") != std::string::npos;
          if (h.v2 || is_cpuset != (pass == 1)) continue;
          if (is_cpuset) {
            ahead.cpuset = ahead.dirs.size();
            std::string parent = path_dirname(cg.dir(h));
            ahead.cpuset_files[0] = parent + "/cpuset.cpus";
            ahead.cpuset_files[1] = parent + "/cpuset.mems";
            ahead.cpuset_files[2] = cg.dir(h) + "/cpuset.cpus";
            ahead.cpuset_files[3] = cg.dir(h) + "/cpuset.mems";
          }
          ahead.dirs.push_back(cg.dir(h));
          ahead.tasks.push_back(cg.self_join_file(h));
        }
      ahead.errs.assign(ahead.dirs.size(), -1);
      ahead.task_fds.assign(ahead.dirs.size(), -1);
      // Half here, before clone, while the thread still makes the namespace (cgroup mkdir and
      // the network namespace take different locks, the paths being anchored: start_early);
      // half there, after it. Measured on 2 CPUs against a tenth to seven tenths here (session
      // eight, before the anchor): half kept the child's wait for its cgroup least.
      ahead.first = ahead.dirs.size() / 2;
      ahead.make_range(0, ahead.first);
      netns.post(&DirsAhead::make, &ahead);
      cgroup->settle = [&netns, &ahead, c = cgroup.get()]() {
        netns.wait_job();
        (void)ahead.take_fds();  // closed
        for (size_t i = 0; i < ahead.dirs.size(); ++i)
          if (ahead.errs[i] == 0) c->premade.push_back(ahead.dirs[i]);
      };
    }

    // 2. the exec fifo: the init blocks reading it until `start` writes a byte.
    //    (`run` starts the init with the commit's message instead: no fifo.)
    std::string fifo = store_.fifo_path(opts.id);
    if (!opts.start_at_commit) {
      explain::Step fifo_stage(kExecFifo);
      TRY(make_exec_fifo(fifo, !spec.hooks.poststart.empty()));
      fifo_stage.done();
    }

    // 4. pid/time namespaces by path, or a new time namespace, apply to our children only.
    explain::Step ns_stage(linux_ns::narration::kParentNamespaces);
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
    // The container's own directories: made by the time the child mounts them (it waits).
    for (size_t i = 0; i < layout.hierarchies.size() && i < ctx.rootfs.cgroup_mounts.size(); ++i)
      ctx.rootfs.cgroup_mounts[i].own_dir = cg.dir(layout.hierarchies[i]);
    ctx.rootfs.cgroupns = l.find_namespace(oci::NsType::Cgroup) != nullptr;
    if (!l.mount_label.empty() && linux_security::selinux_enabled()) ctx.rootfs.mount_label = l.mount_label;
    if (!opts.start_at_commit) ctx.fifo_fd = TRY(open_exec_fifo(k, fifo));
    ctx.sync_fd = child_end.get();
    ctx.container_id = opts.id;
    // Parsed once, in start_early: the initial CPU affinity is ours to set, the rest the child inherits.
    ctx.attrs = early.attrs;
    ctx.new_keyring = !opts.no_new_keyring;
    ctx.netns_by_runtime = netns_by_runtime;
    if (placement.active()) {
      ctx.affinity = placement.original();
      ctx.own_cpu = placement.runtime_cpu();
    }
    // The fds the caller passes, claimed by the command line before anything was opened.
    const linux_process::PassedFds& passed =
        *TRY(linux_process::PassedFds::claimed(opts.passed_fds, opts.listen_fds + opts.preserve_fds));
    const bool new_userns = l.has_new_namespace(oci::NsType::User);

    // 5. clone: the child is born in its new pid (and user) namespace, and on cgroup v2 in its
    //    cgroup; it makes its other new namespaces itself (linux_ns::unshare_flags).
    explain::Step clone_stage(linux_ns::narration::kClone);
    UniqueFd cgroup_dir;
    if (birth_v2) cgroup_dir = UniqueFd(::open(cg.dir(*birth_v2).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (explain::on()) {
      char flags[32];
      std::snprintf(flags, sizeof flags, "0x%lx", linux_ns::clone_flags(l));
      explain::call("PARENT", std::string("clone3(flags=") + flags + (cgroup_dir ? "|CLONE_INTO_CGROUP, cgroup=\"" +
                                  cg.dir(*birth_v2) + "\"" : std::string()) + ", exit_signal=SIGCHLD)");
      for (const char* p : linux_ns::purposes(l, linux_ns::clone_flags(l))) explain::note("PARENT", p);
      explain::note("PARENT", "socketpair(AF_UNIX, SOCK_SEQPACKET): the sync channel; the exec fifo's fd goes along");
    }
    bool born_in_cgroup = false;
    // Whether the runtime is root, asked here: in a new user namespace the child's own euid is
    // 0 as soon as its maps are written, whoever wrote them.
    const bool runtime_root = ::geteuid() == 0;
    pid_t pid = TRY(clone_child(linux_ns::clone_flags(l), cgroup_dir ? cgroup_dir.get() : -1, &born_in_cgroup));
    if (pid == 0) {
      parent_end.reset();
      init_main(ctx, passed, opts.listen_fds, new_userns, runtime_root);
    }
    // The child was born on our CPU and is waiting for it: we go to the network namespace
    // thread's for the cgroup work (linux_process::CpuPlacement), first of all.
    const bool aside = placement.active() && placement.move_runtime_aside();
    child_end.reset();
    ctx.fifo_fd.reset();  // only the init holds the fifo: with it gone, start gets ENXIO
    clone_stage.done();
    ChildGuard child_guard{pid};
    int sync = parent_end.get();
    Created out;
    // The child's messages until the one it was waiting for; narration relayed, the console
    // master and a seccomp listener handed on, prestart/createRuntime run when it asks.
    auto serve_until = [&](Msg want) -> Result<void> {
      for (;;) {
        UniqueFd fd;
        auto m = recv_message(sync, &fd);
        if (!m) {
          Error e = m.error();
          e.msg = "container init exited before it was ready";
          return std::unexpected(e);
        }
        if (m->type == want) return {};
        if (m->type == Msg::Error) return std::unexpected(m->error);
        if (relay_narration(*m, "CHILD")) continue;
        if (m->type == Msg::SeccompListener) {
          std::string state = hooks::state_json(spec.oci_version, opts.id, "creating", pid, opts.bundle, spec.annotations);
          if (auto r = hand_to_seccomp_agent(l.seccomp, pid, state, fd.get()); !r) return with_stage(r.error(), "seccomp");
        } else if (m->type == Msg::ConsoleMaster) {
          TRY(hand_console(opts, std::move(fd), out));
        } else if (m->type == Msg::RunHooks) {
          placement.release();  // a hook gets the runtime's CPUs, not the one it keeps to
          TRY(run_runtime_hooks(spec, opts, pid));
          TRY(send_message(sync, Message{Msg::Go, {}}));
        } else if (m->type == Msg::SaveState && opts.save_state) {
          // ask-commit: the state saved and the commit sent while the child finishes; it reads
          // the commit after Ready. (A send that fails leaves it to commit(); the child's error
          // or EOF comes next.)
          TRY(opts.save_state());
          out.committed = send_commit(sync, opts.start_at_commit).has_value();
        }
      }
    };
    // Something the runtime did to the child failed: when the child died of an error of its
    // own first, that one is what went wrong (its message is waiting, then EOF). A send to a
    // child that exited with messages of ours unread (the network namespace) is ECONNRESET.
    auto child_error_or = [&](Error e) -> Error {
      if (e.err != ESRCH && e.err != EPIPE && e.err != ECONNRESET) return e;
      auto served = serve_until(Msg::Ready);
      return served ? e : served.error();
    };

    // 6. runtime side, while the child works: CPU affinity, id maps (which the child waits
    //    for), then the cgroup: its directories (the child waits for them before its cgroup
    //    mounts), its limits, and the files the child moves itself in with (it waits for those
    //    before its device nodes).
    if (!ctx.attrs->cpus_initial.empty())
      if (auto r = k.set_cpu_affinity(pid, ctx.attrs->cpus_initial); !r) return with_stage(r.error(), "process-attributes");
    if (aside && explain::on())
      explain::call("PARENT", "sched_setaffinity(0, {" + std::to_string(placement.side_cpu()) +
                                  "}): the child sets up on the runtime's CPU, which it has to itself; the runtime "
                                  "makes the cgroup beside the network namespace thread");
    cgroup_dir.reset();
    if (new_userns) {
      explain::Step maps_stage(linux_ns::narration::kIdMaps);
      if (auto r = linux_ns::write_id_maps(k, pid, l); !r) return with_stage(r.error(), "id-maps");
      if (auto r = send_message(sync, Message{Msg::Go, {}}); !r) return std::unexpected(child_error_or(r.error()));
      maps_stage.done();
    }
    std::vector<std::pair<std::string, UniqueFd>> tasks_ahead;  // opened by the thread
    auto tell_made = [&](bool active) -> Result<void> {
      Message made{Msg::CgroupMade, {}};
      made.value = active ? 1 : 0;  // 0: the cgroup mounts show the namespace's view
      if (auto r = send_message(sync, made); !r) return std::unexpected(child_error_or(r.error()));
      return {};
    };
    if (!born_in) {
      explain::Step cgroup_stage(linux_cgroup::narration::kCreate);
      std::vector<linux_cgroup::MadeAhead> made_ahead;
      if (!ahead.dirs.empty()) {
        netns.wait_job();
        cgroup->settle = nullptr;  // create() owns what the thread made from here on
        for (size_t i = 0; i < ahead.dirs.size(); ++i)
          made_ahead.push_back({ahead.dirs[i], ahead.errs[i], i == ahead.cpuset && ahead.cpuset_ready});
        if (explain::on())
          for (size_t i = 0; i < ahead.dirs.size(); ++i) {
            explain::call("THREAD", "mkdir(\"" + ahead.dirs[i] + "\")" + (ahead.errs[i] ? " = " + errno_string(ahead.errs[i]) : std::string()));
            if (ahead.task_fds[i] >= 0) explain::call("THREAD", "open(\"" + ahead.tasks[i] + "\", O_WRONLY)");
          }
        tasks_ahead = ahead.take_fds();
      }
      TRY(make_planned_cgroup(*cgroup, *resources, born_in_cgroup ? pid : 0, tell_made, made_ahead));
      cgroup_stage.done();
    } else {
      TRY(tell_made(cgroup->active));
    }
    if (cgroup->active && !(born_in && born_in_cgroup)) {
      explain::Step join_stage(linux_cgroup::narration::kJoin);
      if (auto r = join_child(k, cg, pid, sync, born_in_cgroup, tasks_ahead); !r)
        return std::unexpected(child_error_or(with_stage(r.error(), "cgroup").error()));
      join_stage.done();
    }
    Message joined{Msg::CgroupJoined, {}};
    joined.value2 = placement.active() ? 1 : 0;  // 1: pin yourself again (after a cpuset join)
    if (auto r = send_message(sync, joined); !r) return std::unexpected(child_error_or(r.error()));

    // 7. what the state records is known now: the runtime may write it while the child works.
    st.pid = pid;
    st.pid_start = state::process_start_time(pid).value_or(0);
    st.cgroup_path = cgroup->active ? cg.path() : "";
    st.freezer = cgroup->active ? cg.freezer_file() : "";
    if (cgroup->active) st.cgroup_layout = linux_cgroup::layout_to_json(layout);
    if (opts.state_known) opts.state_known(st);

    // The network namespace thread, done by now as a rule: whether the child got its namespace,
    // and lo came up in it.
    if (netns.join()) {
      if (explain::on()) {
        // The thread's own role: it ran side by side with the runtime's other stages.
        explain::call("THREAD", "unshare(CLONE_NEWNET); open(\"/proc/thread-self/ns/net\"); "
                                "send(<sync socket>, NetNamespace + fd); ioctl(<socket>, SIOCSIFFLAGS, \"lo\" IFF_UP)");
        explain::stage(explain::stage_event("THREAD", linux_ns::narration::kNetnsThread, netns.start_ns(),
                                            netns.duration_ns(), netns_delivery.ok() && netns.loopback_err() == 0));
      }
      if (netns_delivery.send_err)
        return std::unexpected(child_error_or(Error{netns_delivery.send_err, "send the network namespace to the child", {}, {}, "namespaces"}));
      if (netns.loopback_err())
        return std::unexpected(child_error_or(Error{netns.loopback_err(), "bring the loopback device up in the network namespace", {}, {}, "namespaces"}));
    }
    // An attached run holds the child's mount namespace (linux_ns::HeldNamespace), opened
    // while the child still sets up, once it has one of its own (else after Ready).
    if (opts.hold_mount_ns) out.mount_ns = linux_ns::open_own_mount_ns(pid);

    // 8. wait for Ready (or the error that stopped the child).
    TRY(serve_until(Msg::Ready));
    if (opts.hold_mount_ns && !out.mount_ns) out.mount_ns = linux_ns::open_own_mount_ns(pid);
    out.pid = pid;
    out.start_at_commit = opts.start_at_commit;
    out.sync = std::move(parent_end);
    child_guard.armed = false;
    cgroup->kept = true;
    return out;
  }

  // The commit: the state is saved, and from now on the init outlives the runtime. With START
  // (`run`) it starts the init as well.
  static Result<void> send_commit(int sync, bool start) {
    Message go{Msg::Go, {}};
    std::optional<explain::Step> step;
    if (start) {
      // The same as start, without a fifo: the init was made without one (the status is running
      // once the state is saved), and this Go tells it to go on.
      step.emplace(kStart);
      go.value = 1;
      if (explain::on())
        explain::call("PARENT", "send(<sync socket>, Go + start): run starts the init with the message that tells "
                                "it the state is saved; it has no exec fifo to wait on");
    } else if (explain::on()) {
      explain::call("PARENT", "send(<sync socket>, Go): the state is saved");
    }
    if (!send_message(sync, go)) return make_error("container init exited before it was committed");
    if (step) step->done();
    return {};
  }

  Result<void> commit(Created& c) override {
    if (!c.sync) return {};
    auto r = c.committed ? Result<void>{} : send_commit(c.sync.get(), c.start_at_commit);
    c.sync.reset();
    TRY(std::move(r));
    c.started = c.start_at_commit;
    // The mount our binary runs from: its last fd closed now that the child is past its own
    // mounts (it closed its copy with its other fds first thing). Dissolving the mount waits for
    // an expedited RCU grace period; closed while the child set up, it made the child's own
    // grace period (the old root's unmount after pivot_root) wait for the next one.
    linux_security::drop_exe_tree();
    return {};
  }

  Result<void> start(const state::State& st) override {
    explain::Step step(kStart);
    std::string fifo = store_.fifo_path(st.id);
    TRY(release_exec_fifo(fifo, st.id));
    step.done();
    return {};
  }

  Result<void> kill(const state::State& st, int sig, bool all) override {
    explain::Step step(kKill);
    auto r = signal(st, sig, all);
    if (r) step.done();
    return r;
  }

  // Before the processes of the state's cgroup are signalled: while the init lives, it must be in
  // that cgroup, or the state names someone else's (a planted cgroupPath of the host's services).
  static Result<void> cgroup_is_the_inits(const state::State& st) {
    if (st.cgroup_path.empty() || state::process_start_time(st.pid) != st.pid_start) return {};
    auto paths = linux_cgroup::cgroups_of(st.pid);
    if (paths.empty() || std::find(paths.begin(), paths.end(), st.cgroup_path) != paths.end()) return {};  // gone, or in it
    return make_error("container \"" + st.id + "\": its init (pid " + std::to_string(st.pid) + ") is not in cgroup " +
                      st.cgroup_path + ", which its state names: the cgroup's processes are not signalled");
  }

  Result<void> signal(const state::State& st, int sig, bool all) {
    if (explain::on()) {
      const char* abbrev = ::sigabbrev_np(sig);
      std::string name = abbrev ? std::string("SIG") + abbrev : std::to_string(sig);
      explain::call("PARENT", all ? "kill(<every pid in cgroup " + st.cgroup_path + ">, " + name + ")"
                                  : "pidfd_send_signal(pidfd_open(" + std::to_string(st.pid) + "), " + name + ")");
    }
    if (all && !st.cgroup_path.empty()) {
      TRY(cgroup_is_the_inits(st));
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
      auto layout = TRY(linux_cgroup::recorded_layout(sys::real_kernel(), st.cgroup_layout));
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
    Narrated n;
    explain::Step step(frozen ? linux_cgroup::narration::kFreeze : linux_cgroup::narration::kThaw);
    auto layout = TRY(linux_cgroup::recorded_layout(n.k, st.cgroup_layout));
    TRY(linux_cgroup::Cgroup(layout, st.cgroup_path).freeze(n.k, frozen));
    step.done();
    return {};
  }

  Result<void> update(const state::State& st, const nlohmann::json& resources) override {
    if (st.cgroup_path.empty()) return make_error("container \"" + st.id + "\" has no cgroup to update");
    Narrated n;
    sys::Kernel& k = n.k;
    explain::Step step(linux_cgroup::narration::kUpdate);
    auto r = TRY(linux_cgroup::parse_resources(resources));
    linux_cgroup::add_default_device_rules(r);  // a new device list still needs /dev/null & co
    auto writes = linux_cgroup::plan_writes(r, /*skip_zero=*/true);
    auto layout = TRY(linux_cgroup::recorded_layout(k, st.cgroup_layout));
    linux_cgroup::Cgroup cg(layout, st.cgroup_path);
    TRY(linux_cgroup::check_controllers(k, cg, writes));
    TRY(linux_cgroup::enable_v2_controllers(k, cg, writes));
    TRY(linux_cgroup::apply(k, cg, writes));
    // v2: a new device list replaces the filter program (Docker's update sends none: kept).
    (void)TRY(linux_cgroup::apply_device_filter(cg, r.devices));
    if (explain::on()) explain_writes(k, cg, writes);
    step.done();
    return {};
  }

  Result<void> destroy(const state::State& st, bool init_reaped) override {
    Narrated n;
    sys::Kernel& k = n.k;
    explain::Step kill_step(kKillLeftovers);
    bool alive = !init_reaped && state::process_start_time(st.pid) == st.pid_start;
    if (alive) TRY(cgroup_is_the_inits(st));
    if (alive) (void)signal(st, SIGKILL, false);
    std::optional<linux_cgroup::Cgroup> cg;
    if (!st.cgroup_path.empty()) {
      cg.emplace(TRY(linux_cgroup::recorded_layout(k, st.cgroup_layout)), st.cgroup_path);
      // With the init gone the cgroup is empty as a rule, and its first directory's rmdir says so
      // (EBUSY when something is left). Otherwise, or when it is not: leftovers (the init may
      // have shared the host pid namespace) are killed until it is empty.
      bool empty = !alive && TRY(cg->remove_first_if_empty(k));
      for (int round = 0; !empty && round < 100; ++round) {
        auto left = TRY(cg->pids(k));
        if (left.empty()) break;
        if (explain::on()) explain::call("PARENT", "kill(<" + std::to_string(left.size()) + " pids left in the cgroup>, SIGKILL)");
        for (pid_t p : left) ::kill(p, SIGKILL);
        struct timespec ts{0, 10'000'000};
        ::nanosleep(&ts, nullptr);
      }
    }
    if (alive && !wait_gone(st.pid, st.pid_start, 10'000))
      return make_error("container init " + std::to_string(st.pid) + " did not exit after SIGKILL");
    kill_step.done();
    if (cg) {
      explain::Step rm_step(linux_cgroup::narration::kRemove);
      TRY(cg->destroy(k));
      rm_step.done();
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
