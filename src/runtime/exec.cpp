// `exec` in the namespace back end: a process that joins a running container.
//
//   runtime ──fork──> intermediate: non-dumpable, joins the container's cgroup, then setns into
//   each of the init's namespaces (user first, mount last) ──fork──> the exec'd process: it is
//   in the container's pid namespace only because it was forked after setns(pid). It runs the
//   exec stages (console, rlimits, capabilities, user, cwd, no_new_privs) and execs.
// The intermediate reports the final pid and exits; attached, the runtime is a child subreaper
// so the process becomes its child and its exit status can be waited for.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sched.h>

#include <memory>

#include "common/file.hpp"
#include "common/log.hpp"
#include "explain/explain.hpp"
#include "hooks/hooks.hpp"
#include "linux/ns/namespaces.hpp"
#include "linux/cgroup/cgroup.hpp"
#include "linux/console/console.hpp"
#include "linux/process/process.hpp"
#include "linux/security/exe_guard.hpp"
#include "runtime/attach.hpp"
#include "runtime/container.hpp"
#include "runtime/exec.hpp"
#include "runtime/pipeline.hpp"
#include "runtime/sync.hpp"

namespace ns::runtime {
namespace {

struct NsToJoin {
  const char* name;
  int type;
  UniqueFd fd;
};

// The init's namespaces that differ from ours, in the order they must be joined.
Result<std::vector<NsToJoin>> namespaces_of(pid_t pid) {
  std::vector<NsToJoin> out;
  const std::pair<const char*, int> order[] = {{"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC},
                                               {"uts", CLONE_NEWUTS},   {"net", CLONE_NEWNET},
                                               {"pid", CLONE_NEWPID},   {"cgroup", CLONE_NEWCGROUP},
                                               {"time", CLONE_NEWTIME}, {"mnt", CLONE_NEWNS}};
  for (auto [name, type] : order) {
    std::string theirs = "/proc/" + std::to_string(pid) + "/ns/" + name;
    std::string ours = std::string("/proc/self/ns/") + name;
    UniqueFd fd(::open(theirs.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT && std::string(name) == "time") continue;  // kernel without time ns
      return sys_error("open", theirs);
    }
    struct stat a{}, b{};
    if (::fstat(fd.get(), &a) < 0) return sys_error("stat", theirs);
    if (::stat(ours.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue;
    out.push_back({name, type, std::move(fd)});
  }
  return out;
}

// The init's namespaces, with the init pinned: a pidfd taken and the start time checked first,
// the /proc/<pid>/ns files opened, then the pidfd asked whether the init exited meanwhile.
// While it lives its pid cannot be another process's, so every file opened was its own; a pid
// recycled between the state's check and the opens would otherwise hand us a stranger's.
Result<std::vector<NsToJoin>> pinned_namespaces_of(const state::State& st) {
  UniqueFd init(static_cast<int>(::syscall(SYS_pidfd_open, st.pid, 0)));
  if (!init || state::process_start_time(st.pid) != st.pid_start) return make_error("container not running");
  auto nss = TRY(namespaces_of(st.pid));
  struct pollfd pfd{init.get(), POLLIN, 0};
  if (::poll(&pfd, 1, 0) != 0) return make_error("container not running");  // exited while we looked
  return nss;
}

[[noreturn]] void fail_child(int sync_fd, Error e, const char* stage) {
  (void)send_message(sync_fd, Message{Msg::Error, with_stage(std::move(e), stage).error()});
  ::_exit(1);
}

// The process that becomes the exec'd program. Never returns.
[[noreturn]] void exec_final(InitContext& ctx, const linux_process::PassedFds& passed) {
  if (auto r = run_exec_stages(ctx); !r) fail_child(ctx.sync_fd, r.error(), "exec");
  const oci::Process& p = *ctx.spec->process;
  std::vector<std::string> env = linux_process::build_env(p, 0);
  auto exe = linux_process::find_executable(p.args[0], env);
  if (!exe) fail_child(ctx.sync_fd, exe.error(), "exec");
  if (auto r = passed.prepare_for_exec(); !r) fail_child(ctx.sync_fd, r.error(), "fds");
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (!send_message(ctx.sync_fd, Message{Msg::Ready, {}})) ::_exit(1);
  ::close(ctx.sync_fd);
  log::flush();
  linux_process::exec_or_die(*exe, p.args, env);
}

// The intermediate: joins cgroup and namespaces, forks the final process. Never returns.
[[noreturn]] void exec_intermediate(InitContext& ctx, std::vector<NsToJoin>& nss,
                                    const std::vector<std::string>& cgroup_procs, const linux_process::PassedFds& passed) {
  log::set_role(log::Role::Child);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // nothing in the container may open us (CVE-2019-5736)
  std::vector<int> keep = {ctx.sync_fd, log::fd()};
  for (auto& n : nss) keep.push_back(n.fd.get());
  linux_process::close_fds_from(3 + passed.count(), keep);

  std::unique_ptr<sys::Kernel> narrating;
  if (explain::on()) narrate_over_sync(ctx, narrating);
  auto reported = [&](const explain::Narration& n, uint64_t start, bool ok) {
    if (ctx.on_stage) ctx.on_stage(n, start, explain::now_ns() - start, ok);
  };

  uint64_t start = ctx.on_stage ? explain::now_ns() : 0;
  for (auto& procs : cgroup_procs)
    if (auto r = ctx.k->write_file(procs, "0"); !r) {
      reported(linux_cgroup::narration::kExecJoin, start, false);
      fail_child(ctx.sync_fd, r.error(), "cgroup");
    }
  if (!cgroup_procs.empty()) reported(linux_cgroup::narration::kExecJoin, start, true);

  start = ctx.on_stage ? explain::now_ns() : 0;
  for (auto& n : nss) {
    if (auto r = ctx.k->setns(n.fd.get(), n.type); !r) {
      reported(linux_ns::narration::kJoinContainer, start, false);
      Error e = r.error();
      e.op = std::string("join ") + n.name + " namespace";
      fail_child(ctx.sync_fd, e, "namespaces");
    }
    n.fd.reset();
  }
  reported(linux_ns::narration::kJoinContainer, start, true);
  pid_t pid = ::fork();
  if (pid < 0) fail_child(ctx.sync_fd, sys_error("fork").error(), "namespaces");
  if (pid == 0) exec_final(ctx, passed);
  (void)send_message(ctx.sync_fd, Message{Msg::Pid, {}, pid});
  ::_exit(0);
}

}  // namespace

Result<int> namespace_exec(const state::State& st, const ExecOptions& opts, const oci::Process& process) {
  sys::Kernel& k = sys::real_kernel();
  log::set_role(log::Role::Parent);
  if (process.terminal && opts.console_socket.empty() && opts.detach)
    return make_error("cannot allocate tty if ns-runtime will detach without setting console socket");
  if (!process.terminal && !opts.console_socket.empty())
    return make_error("cannot use console socket if ns-runtime will not allocate tty");
  const linux_process::PassedFds& passed = *TRY(linux_process::PassedFds::claimed(opts.passed_fds, opts.preserve_fds));

  auto nss = TRY(pinned_namespaces_of(st));
  std::vector<std::string> cgroup_procs;
  if (!st.cgroup_path.empty()) {
    auto layout = TRY(linux_cgroup::recorded_layout(k, st.cgroup_layout));
    linux_cgroup::Cgroup cg(layout, st.cgroup_path);
    for (auto& h : layout.hierarchies) cgroup_procs.push_back(cg.self_join_file(h));
  }

  oci::Spec spec;
  spec.process = process;
  if (!st.seccomp.is_null()) {
    spec.linux.emplace();
    spec.linux->seccomp = st.seccomp;
  }
  InitContext ctx;
  ctx.k = &k;
  ctx.spec = &spec;
  UniqueFd parent_end, child_end;
  TRY(make_sync_pair(parent_end, child_end));
  ctx.sync_fd = child_end.get();

  // Attached, the exec'd process must become our child when the intermediate exits.
  if (!opts.detach && ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) return sys_error("prctl PR_SET_CHILD_SUBREAPER");

  // The mount our binary runs from: closed before the fork, so that no process of the
  // container's is left holding the last fd (see linux_security::drop_exe_tree).
  linux_security::drop_exe_tree();
  pid_t mid = ::fork();
  if (mid < 0) return sys_error("fork");
  if (mid == 0) {
    parent_end.reset();
    exec_intermediate(ctx, nss, cgroup_procs, passed);
  }
  child_end.reset();
  nss.clear();

  pid_t final_pid = 0;
  bool ready = false;
  UniqueFd master;
  Result<void> outcome;
  while (!ready) {
    UniqueFd fd;
    auto m = recv_message(parent_end.get(), &fd);
    if (!m) {
      outcome = std::unexpected(m.error());
      outcome.error().msg = "exec'd process exited before it was ready";
      break;
    }
    if (relay_narration(*m, "CHILD")) continue;
    if (m->type == Msg::Pid) final_pid = static_cast<pid_t>(m->value);
    if (m->type == Msg::SeccompListener) {
      std::string state = hooks::state_json(st.oci_version, st.id, "running", st.pid, st.bundle, st.annotations);
      if (auto r = hand_to_seccomp_agent(st.seccomp, final_pid ? final_pid : st.pid, state, fd.get()); !r) {
        outcome = with_stage(r.error(), "seccomp");
        break;
      }
    }
    if (m->type == Msg::Ready) ready = true;
    if (m->type == Msg::Error) {
      outcome = std::unexpected(m->error);
      break;
    }
    if (m->type == Msg::ConsoleMaster) {
      if (!opts.console_socket.empty()) {
        if (auto r = linux_console::send_to_console_socket(opts.console_socket, fd.get()); !r) {
          outcome = with_stage(r.error(), "console");
          break;
        }
      } else {
        master = std::move(fd);
      }
    }
  }
  int status = 0;
  while (::waitpid(mid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!outcome) {
    if (final_pid > 0) ::kill(final_pid, SIGKILL);
    if (final_pid > 0 && !opts.detach) ::waitpid(final_pid, nullptr, 0);
    return std::unexpected(outcome.error());
  }
  if (final_pid == 0) {
    // Ready came first: the pid is the intermediate's last word.
    auto m = recv_message(parent_end.get());
    if (!m || m->type != Msg::Pid) return make_error("exec: the intermediate process did not report the pid");
    final_pid = static_cast<pid_t>(m->value);
  }
  if (!opts.pid_file.empty()) TRY(write_pid_file(opts.pid_file, final_pid));
  if (opts.detach) return 0;
  return wait_attached(final_pid, master ? master.get() : -1);
}

}  // namespace ns::runtime
