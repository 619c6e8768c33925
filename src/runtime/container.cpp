#include "runtime/container.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "common/file.hpp"
#include "common/log.hpp"
#include "explain/explain.hpp"
#include "linux/process/attributes.hpp"
#include "linux/process/placement.hpp"
#include "linux/security/lsm.hpp"
#include "hooks/hooks.hpp"
#include "linux/cgroup/stats.hpp"
#include "linux/console/console.hpp"
#include "linux/ns/namespaces.hpp"
#include "runtime/attach.hpp"

namespace ns::runtime {
namespace {

Result<std::string> absolute(const std::string& path) {
  char buf[PATH_MAX];
  if (!::realpath(path.empty() ? "." : path.c_str(), buf)) return sys_error("resolve bundle", path);
  return std::string(buf);
}

std::string user_name(uid_t uid) {
  if (auto text = read_file("/etc/passwd"))
    for (auto& line : split(*text, '\n')) {
      auto f = split(line, ':');
      if (f.size() > 2 && f[2] == std::to_string(uid)) return f[0];
    }
  return std::to_string(uid);
}


// poststart and poststop: the spec makes their failure a warning; the lifecycle goes on.
void run_warning_hooks(const state::State& st, std::vector<oci::Hook> oci::Hooks::*phase, const char* name,
                       const char* status, pid_t pid) {
  auto hooks = oci::parse_hooks_json(st.hooks);
  if (!hooks) {
    log::warn(hooks.error().to_string());
    return;
  }
  const auto& list = (*hooks).*phase;
  if (list.empty()) return;
  explain::Step step(phase == &oci::Hooks::poststart ? hooks::narration::kPoststart : hooks::narration::kPoststop);
  std::string s = hooks::state_json(st.oci_version, st.id, status, pid, st.bundle, st.annotations);
  if (auto r = hooks::run_hooks(list, s, name); !r) log::warn(r.error().to_string());
  step.done();
}

const explain::Narration kLoadSpec{
    "config", "",
    "config.json is read and every field is type-checked before anything is made, so a mistake is reported by "
    "the name of its field and nothing needs undoing."};
const explain::Narration kSaveState{
    "state", "",
    "The container exists now: its init needs nothing more from the runtime. Its state (init pid and that "
    "process's start time, bundle, cgroup) is written to <id>.json under --root, atomically (a temporary file "
    "renamed into place), where every later command finds it. Then the init is told it may outlive this command."};
const explain::Narration kStatus{
    "status", "",
    "A container's status is never stored, because a process can die at any moment without telling anyone. It is "
    "worked out each time: the init pid recorded at create must still run with the same start time (so a pid "
    "reused by another process does not count), then the exec fifo and the freezer tell created and paused "
    "apart from running."};
const explain::Narration kRemoveState{
    "state-remove", "",
    "The container's state files go, its lock file last, and with it the id: it may be used again. The bundle and its rootfs "
    "belong to whoever made them and are left as they are."};

}  // namespace

Result<void> write_pid_file(const std::string& path, pid_t pid) {
  auto abs_dir = absolute(path_dirname(path));
  if (!abs_dir) return std::unexpected(abs_dir.error());
  std::string target = *abs_dir + "/" + path_basename(path);
  // tmp + rename in the same directory: a reader never sees an empty pid file. The temporary
  // file has a name nobody can guess, made exclusively (mkostemp: O_EXCL), so a symlink planted
  // at a predictable name cannot send the write elsewhere.
  std::string tmp = *abs_dir + "/." + path_basename(path) + ".XXXXXX";
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd) return sys_error("create pid file", tmp);
  std::string content = std::to_string(pid);
  if (::fchmod(fd.get(), 0644) < 0 ||
      ::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
    int e = errno;
    ::unlink(tmp.c_str());
    return sys_error("write pid file", tmp, e);
  }
  fd.reset();
  if (::rename(tmp.c_str(), target.c_str()) < 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return sys_error("rename pid file", target, e);
  }
  return {};
}

Result<std::string> ps_table(const std::vector<pid_t>& pids, const std::vector<std::string>& args) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd rd(pipefd[0]), wr(pipefd[1]);
  std::vector<std::string> argv_s = {"ps"};
  if (args.empty())
    argv_s.push_back("-ef");
  else
    argv_s.insert(argv_s.end(), args.begin(), args.end());
  pid_t child = ::fork();
  if (child < 0) return sys_error("fork");
  if (child == 0) {
    ::dup2(wr.get(), STDOUT_FILENO);
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!std::getenv("PATH")) ::setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
    ::execvp("ps", argv.data());
    ::_exit(127);
  }
  wr.reset();
  std::string output;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(rd.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) output.append(buf, static_cast<size_t>(n));
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return make_error("ps failed (exit " + std::to_string(exit_code(status)) + ")");
  auto lines = split(output, '\n');
  if (lines.empty()) return make_error("ps printed nothing");
  // ps's columns are separated by runs of blanks.
  auto words = [](const std::string& line) {
    std::vector<std::string> out;
    for (auto& w : split(line, ' '))
      if (!w.empty()) out.push_back(w);
    return out;
  };
  // Which column is PID?
  auto header = words(lines[0]);
  auto pid_at = std::find(header.begin(), header.end(), "PID");
  if (pid_at == header.end()) return make_error("ps output has no PID column");
  size_t pid_col = static_cast<size_t>(pid_at - header.begin());
  std::string out = lines[0] + "\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    auto cols = words(lines[i]);
    if (cols.size() <= pid_col) continue;
    pid_t p = static_cast<pid_t>(std::atol(cols[pid_col].c_str()));
    if (std::find(pids.begin(), pids.end(), p) != pids.end()) out += lines[i] + "\n";
  }
  return out;
}

Result<int> parse_signal(const std::string& s) {
  if (s.empty()) return make_error("invalid signal: empty");
  if (std::all_of(s.begin(), s.end(), ::isdigit)) {
    int n = std::atoi(s.c_str());
    if (n <= 0 || n > SIGRTMAX) return make_error("invalid signal \"" + s + "\"");
    return n;
  }
  std::string name = s;
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name.starts_with("SIG")) name = name.substr(3);
  for (int sig = 1; sig < SIGRTMIN; ++sig) {
    const char* abbrev = ::sigabbrev_np(sig);
    if (abbrev && name == abbrev) return sig;
  }
  if (name.starts_with("RTMIN")) {
    int off = name.size() > 5 ? std::atoi(name.c_str() + 6) : 0;
    if (SIGRTMIN + off <= SIGRTMAX) return SIGRTMIN + off;
  }
  if (name.starts_with("RTMAX")) {
    int off = name.size() > 5 ? std::atoi(name.c_str() + 6) : 0;
    if (SIGRTMAX - off >= SIGRTMIN) return SIGRTMAX - off;
  }
  return make_error("invalid signal \"" + s + "\"");
}

Runtime::Runtime(GlobalOptions g)
    : g_(std::move(g)), store_(g_.root), ns_backend_(namespace_backend(g_.root)) {}

Backend& Runtime::backend_for(const state::State& st) {
  return st.backend == "vm" ? vm_backend(g_.root) : ns_backend_;
}

namespace {
// -E: which fds the container is handed, and why no other fd of ours can be among them.
std::string passed_fds_note(const CreateOptions& opts) {
  const char* listen = std::getenv("LISTEN_FDS");
  std::string s = "fds passed to the container: ";
  int n = opts.passed_fds ? opts.passed_fds->count() : 0;
  if (n == 0) {
    s += "none (0-2 only)";
  } else {
    s += "3.." + std::to_string(2 + n) + " (" + std::to_string(opts.listen_fds) + " for LISTEN_FDS, " +
         std::to_string(opts.preserve_fds) + " for --preserve-fds); " +
         std::to_string(opts.passed_fds->passed().size()) +
         " were open in the caller, and the holes were claimed by placeholders before the runtime opened anything, "
         "so none of its own fds (cgroup files, the state lock, a namespace) can take their numbers and be passed";
  }
  if (listen && *listen && opts.listen_fds == 0)
    s += "; LISTEN_FDS is ignored: LISTEN_PID does not name this process, and socket-activation fds are only for the "
         "process LISTEN_PID names (as sd_listen_fds reads them)";
  return s;
}
}  // namespace

Result<Created> Runtime::create_container(CreateOptions& opts, const std::string& pid_file, state::State* saved,
                                          bool start_now) {
  TRY(state::validate_id(opts.id));
  opts.bundle = TRY(absolute(opts.bundle));
  explain::Step load_step(kLoadSpec);
  if (explain::on()) explain::note("PARENT", passed_fds_note(opts));
  oci::Spec spec = TRY(oci::load_spec(opts.bundle));

  std::string rootfs = spec.root.path[0] == '/' ? spec.root.path : join_path(opts.bundle, spec.root.path);
  struct stat st_root{};
  if (::stat(rootfs.c_str(), &st_root) < 0) return sys_error("rootfs", rootfs);
  if (!S_ISDIR(st_root.st_mode)) return make_error("rootfs \"" + rootfs + "\" is not a directory");
  if (spec.process->terminal && opts.console_socket.empty() && !opts.keep_console)
    return make_error("cannot allocate tty if ns-runtime will detach without setting console socket");
  if (!spec.process->terminal && !opts.console_socket.empty())
    return make_error("cannot use console socket if ns-runtime will not allocate tty");
  if (opts.preserve_fds < 0) return make_error("--preserve-fds must not be negative");
  // Without a mount namespace of its own, the container's root would be made in the caller's:
  // pivot_root there swaps the host's root (runc refuses such a config too).
  if (!(spec.linux && spec.linux->find_namespace(oci::NsType::Mount)))
    return make_error("config.json: linux.namespaces has no \"mount\" namespace: a container needs one (its rootfs is set up "
                      "in it; without it the runtime would change the caller's mounts)");
  if (::geteuid() != 0 && !(spec.linux && spec.linux->find_namespace(oci::NsType::User)))
    return make_error("rootless container requires a user namespace: without root, config.json needs "
                      "linux.namespaces \"user\" with uidMappings and gidMappings (ns-runtime spec --rootless writes them)");
  TRY(linux_process::parse_attributes(*spec.process, spec.linux ? &*spec.linux : nullptr));
  TRY(linux_security::check_labels(spec));
  // VM mode: asked for by the command line (--vm, ns-runtime-vm) or by the container's annotation.
  auto runtime_ann = spec.annotations.find(kRuntimeAnnotation);
  if (runtime_ann != spec.annotations.end() && runtime_ann->second != "vm" && runtime_ann->second != "namespaces")
    return make_error("annotation " + std::string(kRuntimeAnnotation) + "=\"" + runtime_ann->second +
                      "\": expected vm or namespaces");
  bool vm = opts.vm || (runtime_ann != spec.annotations.end() && runtime_ann->second == "vm");
  Backend& backend = vm ? vm_backend(g_.root) : ns_backend_;
  load_step.done();
  opts.early = TRY(backend.start_early(spec));
  opts.start_at_commit = start_now;

  UniqueFd lock = TRY(store_.claim(opts.id));
  state::State st;
  st.oci_version = spec.oci_version;
  st.id = opts.id;
  st.bundle = opts.bundle;
  st.rootfs = TRY(absolute(rootfs));
  st.created = rfc3339_now();
  st.owner = ::geteuid();
  st.annotations = spec.annotations;
  st.backend = backend.name();
  st.process = spec.process_json;
  st.hooks = spec.hooks_json;
  if (spec.linux) st.seccomp = spec.linux->seccomp;

  // Anything that fails from here on leaves nothing behind.
  bool made = false;
  struct Cleanup {
    Runtime* rt;
    Backend* backend;
    state::State* st;
    bool* made;
    bool armed = true;
    ~Cleanup() {
      if (!armed) return;
      if (*made) (void)backend->destroy(*st, false);
      (void)rt->store_.remove(st->id, st->backend == "vm");
    }
  } cleanup{this, &backend, &st, &made};

  // The namespace back end says when the state is known, while the init still sets up: the file
  // is written then, and only renamed into place once the container exists.
  bool staged = false;
  bool state_saved = false;
  opts.state_known = [&](const state::State& known) {
    staged = store_.stage(known).has_value();
    (void)store_.record_init(lock.get(), known.pid, known.pid_start);
  };
  // The namespace back end saves it when the init asks (ask-commit), before Ready; the VM back
  // end's init cannot, and it is saved once create() returns.
  auto save_state = [&]() -> Result<void> {
    explain::Step state_step(kSaveState);
    TRY(staged ? store_.commit(st.id) : store_.save(st));
    if (explain::on()) {
      std::string file = store_.state_path(st.id);
      explain::call("PARENT", "rename(\"" + file + ".tmp\", \"" + file + "\")");
    }
    state_step.done();
    state_saved = true;
    return {};
  };
  opts.save_state = save_state;
  Created c = TRY(backend.create(opts, spec, st));
  opts.state_known = nullptr;
  opts.save_state = nullptr;
  made = true;
  if (!staged) (void)store_.record_init(lock.get(), st.pid, st.pid_start);
  if (!state_saved) TRY(save_state());
  if (!pid_file.empty()) {
    if (explain::on()) explain::call("PARENT", "write(\"" + pid_file + "\", \"" + std::to_string(c.pid) + "\")");
    TRY(write_pid_file(pid_file, c.pid));
  }
  TRY(backend.commit(c));
  cleanup.armed = false;
  if (saved) *saved = std::move(st);
  return c;
}

Result<void> Runtime::create(CreateOptions opts, const std::string& pid_file) {
  (void)TRY(create_container(opts, pid_file));
  return {};
}

Result<void> Runtime::start(const std::string& id) {
  UniqueFd lock = TRY(store_.lock(id));
  return start_locked(TRY(store_.load(id)));
}

Result<void> Runtime::start_locked(const state::State& st) {
  switch (store_.status(st)) {
    case state::Status::Created: break;
    case state::Status::Stopped: return make_error("cannot start a container that has stopped");
    default: return make_error("cannot start an already running container");
  }
  TRY(backend_for(st).start(st));
  run_warning_hooks(st, &oci::Hooks::poststart, "poststart", "running", st.pid);
  return {};
}

Result<int> Runtime::run(CreateOptions opts, const std::string& pid_file, bool detach, bool keep) {
  if (!detach && opts.console_socket.empty()) opts.keep_console = true;
  opts.hold_mount_ns = !detach && !keep;
  state::State st;
  Created c = TRY(create_container(opts, pid_file, &st, /*start_now=*/true));
  // The container's mount namespace, held from create on: the init's exit leaves its teardown
  // to this thread, which does it beside the cgroup's removal below.
  linux_ns::HeldNamespace held(std::move(c.mount_ns));
  // Started at commit (the namespace back end), or now: the state this process has just saved,
  // locked again, not read back.
  auto started = [&]() -> Result<void> {
    if (c.started) {
      run_warning_hooks(st, &oci::Hooks::poststart, "poststart", "running", st.pid);
      return {};
    }
    UniqueFd lock = TRY(store_.lock(opts.id));
    return start_locked(st);
  }();
  explain::timeline("run");
  if (!started) {
    (void)remove(opts.id, true);
    return std::unexpected(started.error());
  }
  if (detach) return 0;
  int code = wait_attached(c.pid, c.console_master ? c.console_master.get() : -1);
  // As runc and crun: an attached run deletes the container once it has exited (state, cgroup),
  // unless --keep asks to leave it stopped for a later `delete`.
  if (keep) return code;
  explain::set_command("run: deleting the exited container");
  if (held.held()) {
    held.let_go();
    if (explain::on())
      explain::note("PARENT", "close(<the container's mount namespace>) on a thread of the runtime: the runtime held it "
                              "since create, so the init's exit left its mounts standing; they are torn down on the "
                              "other CPU while this one removes the cgroup");
  }
  TRY(remove(opts.id, true, &st, /*init_reaped=*/true));
  return code;
}

Result<std::string> Runtime::state(const std::string& id) {
  explain::Step step(kStatus);
  state::State st = TRY(store_.load(id));
  state::Status status = store_.status(st);
  if (explain::on()) {
    explain::call("PARENT", "read(\"" + store_.state_path(id) + "\")");
    explain::call("PARENT", "read(\"/proc/" + std::to_string(st.pid) + "/stat\"): field 22, the start time");
    std::string why;
    switch (status) {
      case state::Status::Stopped: why = "no process " + std::to_string(st.pid) + " with the recorded start time: stopped"; break;
      case state::Status::Created: why = "init alive and its exec fifo still there (start has not written it): created"; break;
      case state::Status::Paused: why = "init alive, its cgroup frozen (" + st.freezer + "): paused"; break;
      default: why = "init alive, no exec fifo, cgroup not frozen: running"; break;
    }
    explain::note("PARENT", why);
  }
  step.done();
  return state::oci_state(st, status).dump(2);
}

Result<void> Runtime::kill(const std::string& id, int signal, bool all) {
  UniqueFd lock = TRY(store_.lock(id));
  state::State st = TRY(store_.load(id));
  if (store_.status(st) == state::Status::Stopped) {
    if (all) return {};
    return make_error("container not running");
  }
  return backend_for(st).kill(st, signal, all);
}

Result<void> Runtime::remove(const std::string& id, bool force) { return remove(id, force, nullptr, false); }

Result<void> Runtime::remove(const std::string& id, bool force, const state::State* known, bool init_reaped) {
  auto lock = store_.lock(id);
  if (!lock) {
    if (force && lock.error().msg.find("does not exist") != std::string::npos) return {};
    return std::unexpected(lock.error());
  }
  if (known) return remove_locked(*known, force, init_reaped);
  auto loaded = store_.load(id);
  if (!loaded) {
    // A runtime killed half-way through create leaves its lock file without a state file; a
    // state file may be corrupt. The lock file names the init (Store::record_init): killed.
    if (force) {
      log::warn("delete --force " + id + ": " + loaded.error().to_string() + "; the init its lock file names is killed");
      if (auto init = store_.recorded_init(id)) {
        // What destroy needs, from the lock file (the init's pid and start time, so a recycled
        // pid is never hit) and from the init itself (its cgroup, never the unreadable state's):
        // only a cgroup named for the container (its last component holds the id), not a shared one.
        state::State st;
        st.id = id;
        st.pid = init->first;
        st.pid_start = init->second;
        for (auto& path : linux_cgroup::cgroups_of(st.pid))
          if (path_basename(path).find(id) != std::string::npos) st.cgroup_path = path;
        TRY(ns_backend_.destroy(st, false));
      }
      return store_.remove(id, true);
    }
    return std::unexpected(loaded.error());
  }
  return remove_locked(*loaded, force, false);
}

Result<void> Runtime::remove_locked(const state::State& st, bool force, bool init_reaped) {
  state::Status status = init_reaped ? state::Status::Stopped : store_.status(st);
  if (!force && (status == state::Status::Running || status == state::Status::Paused))
    return make_error("cannot delete container " + st.id + " that is not stopped: " + state::status_name(status));
  if (status == state::Status::Paused) (void)backend_for(st).freeze(st, false);
  TRY(backend_for(st).destroy(st, init_reaped));
  run_warning_hooks(st, &oci::Hooks::poststop, "poststop", "stopped", 0);
  explain::Step step(kRemoveState);
  TRY(store_.remove(st.id, st.backend == "vm"));
  if (explain::on())
    explain::call("PARENT", "unlink(\"" + store_.state_path(st.id) + "\"), then its lock, \"" + store_.lock_path(st.id) + "\"");
  step.done();
  return {};
}

Result<void> Runtime::events(const std::string& id, bool stats, int interval_ms,
                             const std::function<bool(const std::string&)>& emit) {
  state::State st = TRY(store_.load(id));
  if (store_.status(st) == state::Status::Stopped) return make_error("container not running");
  if (st.cgroup_path.empty()) return make_error("container \"" + id + "\" has no cgroup to report on");
  sys::Kernel& k = sys::real_kernel();
  linux_cgroup::Cgroup cg(TRY(linux_cgroup::recorded_layout(k, st.cgroup_layout)), st.cgroup_path);
  auto stats_event = [&] {
    return nlohmann::json{{"type", "stats"}, {"id", id}, {"data", linux_cgroup::read_stats(k, cg)}}.dump();
  };
  if (stats) {
    emit(stats_event());
    return {};
  }
  uint64_t ooms = linux_cgroup::oom_kills(k, cg);
  while (store_.status(st) != state::Status::Stopped) {
    uint64_t now = linux_cgroup::oom_kills(k, cg);
    if (now > ooms && !emit(nlohmann::json{{"type", "oom"}, {"id", id}}.dump())) return {};
    ooms = now;
    if (!emit(stats_event())) return {};  // the reader went away (`events ID | head -1`)
    struct timespec ts{interval_ms / 1000, (interval_ms % 1000) * 1000000L};
    ::nanosleep(&ts, nullptr);
  }
  return {};
}

Result<void> Runtime::pause(const std::string& id) {
  UniqueFd lock = TRY(store_.lock(id));
  state::State st = TRY(store_.load(id));
  switch (store_.status(st)) {
    case state::Status::Running: return backend_for(st).freeze(st, true);
    case state::Status::Paused: return make_error("container \"" + id + "\" is already paused");
    default: return make_error("container not running");
  }
}

Result<void> Runtime::resume(const std::string& id) {
  UniqueFd lock = TRY(store_.lock(id));
  state::State st = TRY(store_.load(id));
  if (store_.status(st) != state::Status::Paused) return make_error("container \"" + id + "\" is not paused");
  return backend_for(st).freeze(st, false);
}

Result<void> Runtime::update(const std::string& id, const nlohmann::json& resources) {
  UniqueFd lock = TRY(store_.lock(id));
  state::State st = TRY(store_.load(id));
  if (store_.status(st) == state::Status::Stopped) return make_error("container not running");
  return backend_for(st).update(st, resources);
}

Result<int> Runtime::exec(const std::string& id, const ExecOptions& opts, const oci::Process& process) {
  {
    // The process's own fields, checked before anything runs (errors name process.json's fields).
    oci::Spec only;
    only.process = process;
    TRY(linux_process::parse_attributes(process, nullptr));
    TRY(linux_security::check_labels(only));
  }
  state::State st;
  {
    UniqueFd lock = TRY(store_.lock(id));
    st = TRY(store_.load(id));
    switch (store_.status(st)) {
      case state::Status::Paused: return make_error("cannot exec in a paused container: resume it first");
      case state::Status::Stopped: return make_error("cannot exec in a stopped container: container not running");
      default: break;
    }
  }
  return backend_for(st).exec(st, opts, process);
}

Result<oci::Process> Runtime::exec_template(const std::string& id) {
  state::State st = TRY(store_.load(id));
  if (st.process.is_null()) return make_error("container \"" + id + "\" has no process in its state");
  return oci::parse_process_json(st.process);
}

Result<std::string> Runtime::list(const std::string& format, bool quiet) {
  auto ids = TRY(store_.list());
  std::vector<std::pair<state::State, state::Status>> rows;
  for (auto& id : ids) {
    auto st = store_.load(id);
    if (!st) continue;  // being created or deleted right now
    state::Status s = store_.status(*st);
    rows.emplace_back(std::move(*st), s);
  }
  std::string out;
  if (quiet) {
    for (auto& [st, s] : rows) out += st.id + "\n";
    return out;
  }
  if (format == "json") {
    nlohmann::json arr = nlohmann::json::array();
    for (auto& [st, s] : rows) {
      auto j = state::oci_state(st, s);
      j["owner"] = user_name(st.owner);
      arr.push_back(j);
    }
    return arr.dump() + "\n";
  }
  if (format != "table") return make_error("invalid format option \"" + format + "\"");
  std::vector<std::vector<std::string>> table = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (auto& [st, s] : rows)
    table.push_back({st.id, std::to_string(s == state::Status::Stopped ? 0 : st.pid), state::status_name(s), st.bundle,
                     st.created, user_name(st.owner)});
  return format_table(table);
}

std::string format_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (auto& r : rows) {
    if (width.size() < r.size()) width.resize(r.size(), 0);
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out.append(width[i] - r[i].size() + 3, ' ');
    }
    out += "\n";
  }
  return out;
}

Result<std::vector<pid_t>> Runtime::pids(const std::string& id) {
  state::State st = TRY(store_.load(id));
  if (store_.status(st) == state::Status::Stopped) return std::vector<pid_t>{};
  return backend_for(st).pids(st);
}

}  // namespace ns::runtime
