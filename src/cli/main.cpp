// ns-runtime: the runc-compatible command line. Flags are parsed here and nothing else happens
// here: every verb is one call into ns::runtime::Runtime.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/file.hpp"
#include "cli/args.hpp"
#include "cli/global_options.h"
#include "cli/nsrun_main.hpp"
#include "linux/process/passed_fds.hpp"
#include "common/log.hpp"
#include "common/units.hpp"
#include "hooks/hooks.hpp"
#include "linux/security/exe_guard.hpp"
#include "oci/default_spec.hpp"
#include "explain/explain.hpp"
#include "vm/agent.hpp"
#include "vm/pool.hpp"
#include "runtime/container.hpp"
#include "runtime/features.hpp"
#include "state/state.hpp"
#include "version.hpp"

namespace {

using ns::Result;

int fail(const ns::Error& e) {
  ns::log::fatal(e.to_string());
  return 1;
}

// stdout, flushed; false when it cannot be written (a closed pipe: SIGPIPE is ignored).
bool print(const std::string& s) {
  bool ok = std::fwrite(s.data(), 1, s.size(), stdout) == s.size();
  return std::fflush(stdout) == 0 && ok;
}


Result<int64_t> parse_int(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (end == v.c_str() || *end != 0 || errno != 0) return ns::make_error("--" + flag + ": invalid number \"" + v + "\"");
  return static_cast<int64_t>(n);
}

// "5s", "500ms", "1m" -> milliseconds
Result<int> parse_interval(const std::string& v) {
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  std::string unit = end ? end : "";
  long mult = unit == "ms" ? 1 : unit == "s" || unit.empty() ? 1000 : unit == "m" ? 60000 : -1;
  if (end == v.c_str() || n <= 0 || mult < 0) return ns::make_error("--interval: invalid duration \"" + v + "\"");
  return static_cast<int>(n * mult);
}

// update: the JSON from --resources (a file or stdin), then the flags on top of it.
Result<nlohmann::json> update_resources(const std::string& file, const std::map<std::string, std::string>& flags) {
  nlohmann::json j = nlohmann::json::object();
  if (!file.empty()) {
    std::string text;
    if (file == "-") {
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) text.append(buf, n);
    } else {
      text = TRY(ns::read_file(file));
    }
    j = ns::parse_json(text);
    if (j.is_discarded() || !j.is_object()) return ns::make_error("--resources: invalid JSON in " + file);
  }
  struct Target {
    const char* flag;
    const char* group;
    const char* key;
    bool bytes;
  };
  static const Target targets[] = {
      {"memory", "memory", "limit", true},          {"memory-swap", "memory", "swap", true},
      {"memory-reservation", "memory", "reservation", true}, {"kernel-memory", "memory", "kernel", true},
      {"kernel-memory-tcp", "memory", "kernelTCP", true},    {"cpu-shares", "cpu", "shares", false},
      {"cpu-quota", "cpu", "quota", false},         {"cpu-period", "cpu", "period", false},
      {"cpu-rt-period", "cpu", "realtimePeriod", false}, {"cpu-rt-runtime", "cpu", "realtimeRuntime", false},
      {"pids-limit", "pids", "limit", false},       {"blkio-weight", "blockIO", "weight", false},
  };
  for (auto& t : targets) {
    const std::string& v = flags.at(t.flag);
    if (v.empty()) continue;
    j[t.group][t.key] = t.bytes ? TRY(ns::parse_size(std::string("--") + t.flag, v)) : TRY(parse_int(t.flag, v));
  }
  if (!flags.at("cpuset-cpus").empty()) j["cpu"]["cpus"] = flags.at("cpuset-cpus");
  if (!flags.at("cpuset-mems").empty()) j["cpu"]["mems"] = flags.at("cpuset-mems");
  return j;
}

// The process `exec` runs: process.json, or the container's own process with CMD and the flags.
Result<ns::oci::Process> exec_process(ns::runtime::Runtime& rt, const std::string& id, const std::string& file,
                                      std::vector<std::string> args, bool tty, const std::vector<std::string>& env,
                                      const std::string& cwd, const std::string& user,
                                      const std::vector<std::string>& gids, const std::vector<std::string>& caps,
                                      bool nnp) {
  if (!file.empty()) {
    std::string text = TRY(ns::read_file(file));
    auto j = ns::parse_json(text);
    if (j.is_discarded()) return ns::make_error("--process " + file + ": invalid JSON");
    return ns::oci::parse_process_json(j);
  }
  ns::oci::Process p = TRY(rt.exec_template(id));
  if (!args.empty() && args[0] == "--") args.erase(args.begin());
  p.args = args.empty() ? std::vector<std::string>{"/bin/sh"} : args;
  p.terminal = tty;
  p.console_size.reset();
  for (auto& e : env) {
    auto eq = e.find('=');
    if (eq == std::string::npos) return ns::make_error("--env \"" + e + "\": expected KEY=VALUE");
    std::string key = e.substr(0, eq + 1);
    std::erase_if(p.env, [&](const std::string& x) { return x.starts_with(key); });
    p.env.push_back(e);
  }
  if (!cwd.empty()) p.cwd = cwd;
  if (!user.empty()) {
    auto colon = user.find(':');
    p.user.uid = static_cast<uint32_t>(TRY(parse_int("user", user.substr(0, colon))));
    p.user.gid = colon == std::string::npos ? 0 : static_cast<uint32_t>(TRY(parse_int("user", user.substr(colon + 1))));
  }
  for (auto& g : gids) p.user.additional_gids.push_back(static_cast<uint32_t>(TRY(parse_int("additional-gids", g))));
  if (!caps.empty()) {
    if (!p.capabilities) p.capabilities.emplace();
    for (auto& c : caps)
      for (auto* set : {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted})
        set->push_back(c);
  }
  if (nnp) p.no_new_privileges = true;
  TRY(ns::oci::validate_process(p));
  return p;
}

}  // namespace

int run_cli(int argc, char** argv, int host_mount_ns);

// Whether the verb is create, run or exec (exe_guard_entry.c, which makes the same decision at
// the entry point).
extern "C" int ns_enters_container(int argc, char** argv);

// libstdc++'s default terminate handler prints the uncaught exception's demangled type; ours
// says what happened without it, which keeps the demangler (~40 KB of text that every start
// would map) out of the static binary. The runtime reports errors as values, never by throwing.
namespace __gnu_cxx {
void __verbose_terminate_handler() {
  static const char msg[] = "ns-runtime: terminate called (an uncaught exception)\n";
  (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
  std::abort();
}
}  // namespace __gnu_cxx

int main(int argc, char** argv) {
  // In VM mode's guest this binary is /init, pid 1: the agent.
  if (ns::vm::is_agent(argv[0])) ns::vm::agent_main();
  // A caller may start us with fd 0, 1 or 2 closed: the first fds we open would take their
  // place and reach the container as its stdio. Fill any gap with /dev/null first.
  ns::explain::mark_start();
  for (int fd = 0; fd < 3; ++fd)
    if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF && ::open("/dev/null", O_RDWR) != fd) return 1;
  // A reader that goes away (`ns-runtime -E run ... 2>&1 | head`) must not kill us half-way
  // through a create: writes fail with EPIPE instead. Every execve restores the default.
  ::signal(SIGPIPE, SIG_IGN);
  // Verbs that put processes of ours into a container run the binary through a read-only mount
  // (CVE-2019-5736). That may re-execute us: do it first, before any fd is opened or any work
  // (parsing the command line) is done twice.
  // Called as `nsrun` (a link to this binary), it is the sandbox front end.
  bool nsrun = ns::path_basename(argv[0]) == "nsrun";
  if (nsrun ? nsrun_enters_container(argc, argv) : ns_enters_container(argc, argv))
    if (auto r = ns::linux_security::protect_runtime_binary(argv); !r) {
      if (nsrun) ns::log::set_program("nsrun");
      ns::log::fatal(r.error().to_string());
      return 1;
    }
  ns::linux_security::adopt_exe_path();
  ns::linux_security::adopt_cpu_affinity();
  ns::linux_security::adopt_exe_tree();
  int host_mount_ns = ns::linux_security::adopt_host_mount_ns();
  ns::hooks::set_runtime_mount_ns(host_mount_ns);
  int code = nsrun ? nsrun_main(argc, argv, host_mount_ns) : run_cli(argc, argv, host_mount_ns);
  ns::explain::timeline();
  ns::log::flush();
  return code;
}

int run_cli(int argc, char** argv, int host_mount_ns) {
  namespace cli = ns::cli;
  using cli::Arg;
  // Global options, before the verb.
  std::string root, log_path, log_format = "text", explain_mode;
  bool debug = false, systemd_cgroup = false, version = false;
  // Called as ns-runtime-vm (a link to this binary), every container it creates is a VM: engines
  // register VM mode as a runtime of its own that way.
  bool vm = ns::path_basename(argv[0]) == "ns-runtime-vm";
  std::string vm_accel = "auto";
  cli::Command global{
      nullptr,
      "ns-runtime: an OCI container runtime that explains itself",
      "COMMAND [ARGS...]",
      {
          {0, "root", Arg::Required, "DIR",
           "directory for container state (default /run/nano-sandbox as root, $XDG_RUNTIME_DIR/nano-sandbox otherwise)",
           cli::value(root)},
          {0, "log", Arg::Required, "FILE", "append log lines to this file (default: stderr)", cli::value(log_path)},
          {0, "log-format", Arg::Required, "FORMAT", "log format: text or json", cli::one_of(log_format, {"text", "json"}, "log-format")},
          {0, "debug", Arg::None, "", "log debug lines", cli::flag(debug)},
          {'E', "explain", Arg::Optional, "json",
           "narrate every step (what, why, how long) on stderr; --explain=json for one JSON event per line",
           [&](const char* v) -> Result<void> {
             explain_mode = v ? v : "text";
             return {};
           }},
          {0, "systemd-cgroup", Arg::None, "", "manage cgroups through systemd (fails where systemd does not run)",
           cli::flag(systemd_cgroup)},
          {0, "vm", Arg::None, "", "create and run containers in a microVM of their own (VM mode; as when called ns-runtime-vm)",
           cli::flag(vm)},
          {0, "vm-accel", Arg::Required, "ACCEL", "VM mode's accelerator: auto (KVM where it works, else TCG), kvm or tcg",
           cli::one_of(vm_accel, {"auto", "kvm", "tcg"}, "vm-accel")},
          {'v', "version", Arg::None, "", "print the version and exit", cli::flag(version)},
      },
      true,
      "\nCommands:\n"
      "  create    create a container: set it up and leave its init blocked until start\n"
      "  start     start a created container\n"
      "  run       create and start a container (attached unless --detach)\n"
      "  state     print the OCI state of a container\n"
      "  kill      send a signal to a container's init (or all its processes)\n"
      "  delete    delete a container and everything the runtime made for it\n"
      "  list      list containers\n"
      "  ps        list the processes of a container\n"
      "  exec      run a new process inside a running container\n"
      "  pause     freeze every process of a container\n"
      "  resume    thaw a paused container\n"
      "  update    change the resource limits of a running container\n"
      "  events    print a container's resource usage and OOM events as JSON lines\n"
      "  features  print the runtime-spec features document (JSON)\n"
      "  spec      write a default config.json into the bundle directory\n"
      "  vm-pool   keep VM mode's microVMs booted ahead: start [--size N], stop, status\n"
      "\n`ns-runtime COMMAND --help` describes each one.\n"};
  // The verb is where the entry point found it (cli/global_options.h): the global options are
  // read up to there and no further.
  if (auto same = cli::same_options(global, ns_global_options); !same) return fail(same.error());
  const int verb_at = ns_verb_index(argc, argv);
  auto g = cli::parse(global, verb_at < 0 ? argc : verb_at, argv, 1, "ns-runtime");
  if (!g) return fail(g.error());
  if (g->help) return 0;
  if (verb_at < 0 || !g->positionals.empty())  // cli::parse refuses what ns_verb_index cannot read
    return fail(ns::Error{0, {}, {}, "the global options cannot be read: see ns-runtime --help", {}});
  if (version) {
    print(std::string("ns-runtime version ") + NS_VERSION + "\nspec: " + ns::oci::kOciVersion + "\n");
    return 0;
  }
  if (verb_at >= argc) return fail(ns::Error{0, {}, {}, "a command is required: see ns-runtime --help", {}});
  const std::string verb = argv[verb_at];
  int first = verb_at + 1;  // argv index after the verb

  // Every verb's options and arguments.
  ns::runtime::CreateOptions copts;
  copts.vm = vm;
  copts.vm_accel = vm_accel;
  std::string pid_file, id, signal = "SIGTERM", format = "table", process_file, exec_cwd, exec_user, resources_file,
                            interval = "5s", spec_bundle = ".", exec_apparmor, exec_label;
  bool detach = false, keep = false, all = false, force = false, quiet = false, exec_tty = false, exec_nnp = false,
       events_stats = false, rootless = false;
  std::vector<std::string> exec_env, exec_caps, exec_gids_s;
  ns::runtime::ExecOptions eopts;
  std::map<std::string, std::string> update_flags;
  std::vector<cli::Option> create_opts = {
      {'b', "bundle", Arg::Required, "DIR", "bundle directory holding config.json (default: current directory)",
       cli::value(copts.bundle)},
      {0, "pid-file", Arg::Required, "FILE", "write the container init's pid to this file", cli::value(pid_file)},
      {0, "console-socket", Arg::Required, "SOCKET", "unix socket to receive the pty master when process.terminal is true",
       cli::value(copts.console_socket)},
      {0, "preserve-fds", Arg::Required, "N", "pass N extra fds (3 .. 3+N-1) into the container",
       cli::number(copts.preserve_fds, "preserve-fds")},
      {0, "no-pivot", Arg::None, "", "do not use pivot_root (MS_MOVE + chroot instead)", cli::flag(copts.no_pivot)},
      {0, "no-new-keyring", Arg::None, "", "do not create a new session keyring", cli::flag(copts.no_new_keyring)},
  };
  std::vector<cli::Option> run_opts = create_opts;
  run_opts.push_back({'d', "detach", Arg::None, "", "start the container and return", cli::flag(detach)});
  run_opts.push_back({0, "keep", Arg::None, "", "keep the exited container (state and cgroup) until delete; attached only",
                      cli::flag(keep)});
  // Attached, run deletes the exited container anyway (as runc and crun do); --rm says so.
  bool rm = false;
  run_opts.push_back({0, "rm", Arg::None, "", "delete the container once it exits (the default; see --keep)", cli::flag(rm)});
  int pool_size = 1;
  std::vector<cli::Option> update_opts = {
      {'r', "resources", Arg::Required, "FILE",
       "linux.resources JSON from this file, or - for stdin (zero values leave a setting unchanged)",
       cli::value(resources_file)}};
  for (const char* f : {"memory", "memory-swap", "memory-reservation", "kernel-memory", "kernel-memory-tcp", "cpu-shares",
                        "cpu-quota", "cpu-period", "cpu-rt-period", "cpu-rt-runtime", "cpuset-cpus", "cpuset-mems",
                        "pids-limit", "blkio-weight"}) {
    update_flags[f];
    update_opts.push_back({0, f, Arg::Required, "VALUE", f, cli::value(update_flags[f])});
  }
  std::vector<cli::Command> commands = {
      {"create", "create a container: set it up and leave its init blocked until start", "ID", create_opts},
      {"run", "create and start a container (attached unless --detach)", "ID", run_opts},
      {"start", "start a created container", "ID", {}},
      {"state", "print the OCI state of a container", "ID", {}},
      {"kill", "send a signal to a container's init (or all its processes)", "ID [SIGNAL]",
       {{'a', "all", Arg::None, "", "signal every process of the container", cli::flag(all)}}},
      {"delete", "delete a container and everything the runtime made for it", "ID",
       {{'f', "force", Arg::None, "", "kill a running container first; a missing one is not an error", cli::flag(force)}}},
      {"list", "list containers", "",
       {{'f', "format", Arg::Required, "FORMAT", "table or json", cli::one_of(format, {"table", "json"}, "format")},
        {'q', "quiet", Arg::None, "", "print ids only", cli::flag(quiet)}}},
      {"ps", "list the processes of a container", "ID [PS-ARGS...]",
       {{'f', "format", Arg::Required, "FORMAT", "table or json", cli::one_of(format, {"table", "json"}, "format")}},
       true},
      {"exec", "run a new process inside a running container (default /bin/sh)", "ID [CMD [ARGS...]]",
       {{'p', "process", Arg::Required, "FILE", "process.json to run (instead of CMD ARGS)", cli::value(process_file)},
        {'t', "tty", Arg::None, "", "allocate a pseudo-terminal", cli::flag(exec_tty)},
        {0, "console-socket", Arg::Required, "SOCKET", "unix socket to receive the pty master",
         cli::value(eopts.console_socket)},
        {'d', "detach", Arg::None, "", "start the process and return", cli::flag(eopts.detach)},
        {0, "pid-file", Arg::Required, "FILE", "write the process's pid to this file", cli::value(eopts.pid_file)},
        {0, "preserve-fds", Arg::Required, "N", "pass N extra fds (3 .. 3+N-1)",
         cli::number(eopts.preserve_fds, "preserve-fds")},
        {'e', "env", Arg::Required, "KEY=VALUE", "set an environment variable (repeatable)", cli::append(exec_env)},
        {0, "cwd", Arg::Required, "DIR", "working directory inside the container", cli::value(exec_cwd)},
        {'u', "user", Arg::Required, "UID[:GID]", "user to run as", cli::value(exec_user)},
        {'g', "additional-gids", Arg::Required, "GID", "an additional group id (repeatable)", cli::append(exec_gids_s)},
        {'c', "cap", Arg::Required, "CAP", "add a capability (bounding, effective, permitted; repeatable)",
         cli::append(exec_caps)},
        {0, "no-new-privs", Arg::None, "", "set no_new_privs", cli::flag(exec_nnp)},
        {0, "apparmor", Arg::Required, "PROFILE", "AppArmor profile for the process", cli::value(exec_apparmor)},
        {0, "process-label", Arg::Required, "LABEL", "SELinux label for the process", cli::value(exec_label)}},
       true},
      {"pause", "freeze every process of a container", "ID", {}},
      {"resume", "thaw a paused container", "ID", {}},
      {"update", "change the resource limits of a running container", "ID", update_opts},
      {"events", "print a container's resource usage and OOM events as JSON lines", "ID",
       {{0, "stats", Arg::None, "", "print one stats event and exit", cli::flag(events_stats)},
        {0, "interval", Arg::Required, "DURATION", "time between stats events (5s, 500ms, 1m; default 5s)",
         cli::value(interval)}}},
      {"features", "print the runtime-spec features document (JSON)", "", {}},
      {"spec", "write a default config.json into the bundle directory", "",
       {{'b', "bundle", Arg::Required, "DIR", "bundle directory (default: current directory)", cli::value(spec_bundle)},
        {0, "rootless", Arg::None, "", "a spec for a rootless container (user namespace)", cli::flag(rootless)}}},
      {"vm-pool", "keep VM mode's microVMs booted ahead: start (or resize), stop, status", "start|stop|status",
       {{0, "size", Arg::Required, "N", "how many idle VMs to keep booted (start; default 1)", cli::number(pool_size, "size")}}},
  };
  // An unknown verb is an error even with --help after it: podman probes `checkpoint --help` and
  // reads a zero exit as "supported".
  const cli::Command* cmd = nullptr;
  for (auto& c : commands)
    if (verb == c.name) cmd = &c;
  if (!cmd) return fail(ns::Error{0, {}, {}, "unknown command \"" + verb + "\": see ns-runtime --help", {}});
  auto parsed = cli::parse(*cmd, argc, argv, first, "ns-runtime " + verb);
  if (!parsed) return fail(parsed.error());
  if (parsed->help) return 0;
  std::vector<std::string>& pos = parsed->positionals;
  if (verb == "vm-pool") {
    if (pos.size() != 1 || (pos[0] != "start" && pos[0] != "stop" && pos[0] != "status"))
      return fail(ns::Error{0, {}, {}, "vm-pool needs one of start, stop, status (see ns-runtime vm-pool --help)", {}});
    if (auto r = ns::log::init(log_path, log_format == "json", debug); !r) return fail(r.error());
    if (root.empty()) {
      auto r = ns::state::default_root();
      if (!r) return fail(r.error());
      root = *r;
    }
    if (pos[0] == "start") {
      if (auto r = ns::vm::pool_start({root, pool_size, vm_accel}); !r) return fail(r.error());
    } else if (pos[0] == "stop") {
      if (auto r = ns::vm::pool_stop(root); !r) return fail(r.error());
    } else {
      auto st = ns::vm::pool_status(root);
      if (!st) return fail(st.error());
      print(st->dump(2) + "\n");
    }
    return 0;
  }
  // The positional arguments each verb takes.
  size_t max_args = verb == "kill" ? 2 : (verb == "list" || verb == "features" || verb == "spec") ? 0 : 1;
  bool rest = verb == "exec" || verb == "ps";
  if (max_args > 0 && pos.empty()) return fail(ns::Error{0, {}, {}, "a container id is required (see ns-runtime " + verb + " --help)", {}});
  if (!rest && pos.size() > max_args)
    return fail(ns::Error{0, {}, {}, "unexpected argument \"" + pos[max_args] + "\" (see ns-runtime " + verb + " --help)", {}});
  if (!pos.empty()) id = pos[0];
  copts.id = id;
  if (verb == "kill" && pos.size() > 1) signal = pos[1];
  std::vector<std::string> extra(pos.size() > 1 ? pos.begin() + 1 : pos.end(), pos.end());

  // The fds the container is handed (3 .. 3+N-1), claimed before we open anything of our own
  // (linux_process::PassedFds): socket activation's when LISTEN_PID is ours, then --preserve-fds.
  if (verb == "create" || verb == "run" || verb == "exec") {
    int listen = 0;
    if (verb != "exec") {
      auto n = ns::linux_process::listen_fds_for(std::getenv("LISTEN_FDS"), std::getenv("LISTEN_PID"), ::getpid());
      if (!n) return fail(n.error());
      listen = *n;
    }
    int preserve = verb == "exec" ? eopts.preserve_fds : copts.preserve_fds;
    if (preserve < 0) return fail(ns::Error{0, {}, {}, "--preserve-fds " + std::to_string(preserve) + ": must not be negative", {}});
    if (preserve > INT32_MAX - listen) return fail(ns::Error{0, {}, {}, "--preserve-fds: too many fds", {}});
    const int runtime_fds[] = {host_mount_ns, ns::linux_security::exe_tree_fd()};
    auto passed = ns::linux_process::PassedFds::claim(listen + preserve, runtime_fds);
    if (!passed) return fail(passed.error());
    auto shared = std::make_shared<const ns::linux_process::PassedFds>(std::move(*passed));
    copts.listen_fds = listen;
    copts.passed_fds = shared;
    eopts.passed_fds = shared;
  }
  if (auto r = ns::log::init(log_path, log_format == "json", debug); !r) return fail(r.error());
  if (root.empty() && verb != "spec" && verb != "features") {
    auto r = ns::state::default_root();
    if (!r) return fail(r.error());
    root = *r;
  }
  if (auto r = ns::explain::enable(explain_mode, verb); !r) return fail(r.error());
  if (systemd_cgroup) return fail(ns::Error{0, {}, {}, "systemd cgroup manager: systemd not running", {}});
  ns::runtime::Runtime rt({root, systemd_cgroup});

  if (verb == "create") {
    auto r = rt.create(copts, pid_file);
    if (!r) return fail(r.error());
    return 0;
  }
  if (verb == "run") {
    if (rm && keep) return fail(ns::Error{0, {}, {}, "run: --rm and --keep contradict each other", {}});
    auto r = rt.run(copts, pid_file, detach, keep);
    if (!r) return fail(r.error());
    return *r;
  }
  if (verb == "start") {
    if (auto r = rt.start(id); !r) return fail(r.error());
    return 0;
  }
  if (verb == "state") {
    auto r = rt.state(id);
    if (!r) return fail(r.error());
    print(*r + "\n");
    return 0;
  }
  if (verb == "kill") {
    auto sig = ns::runtime::parse_signal(signal);
    if (!sig) return fail(sig.error());
    if (auto r = rt.kill(id, *sig, all); !r) return fail(r.error());
    return 0;
  }
  if (verb == "delete") {
    if (auto r = rt.remove(id, force); !r) return fail(r.error());
    return 0;
  }
  if (verb == "list") {
    auto r = rt.list(format, quiet);
    if (!r) return fail(r.error());
    print(*r);
    return 0;
  }
  if (verb == "ps") {
    auto pids = rt.pids(id);
    if (!pids) return fail(pids.error());
    if (format == "json") {
      print(nlohmann::json(*pids).dump() + "\n");
      return 0;
    }
    auto table = ns::runtime::ps_table(*pids, extra);
    if (!table) return fail(table.error());
    print(*table);
    return 0;
  }
  if (verb == "exec") {
    auto process = exec_process(rt, id, process_file, extra, exec_tty, exec_env, exec_cwd, exec_user, exec_gids_s,
                                exec_caps, exec_nnp);
    if (!process) return fail(process.error());
    if (!exec_apparmor.empty()) process->apparmor_profile = exec_apparmor;
    if (!exec_label.empty()) process->selinux_label = exec_label;
    auto r = rt.exec(id, eopts, *process);
    if (!r) return fail(r.error());
    return *r;
  }
  if (verb == "pause") {
    if (auto r = rt.pause(id); !r) return fail(r.error());
    return 0;
  }
  if (verb == "resume") {
    if (auto r = rt.resume(id); !r) return fail(r.error());
    return 0;
  }
  if (verb == "update") {
    auto resources = update_resources(resources_file, update_flags);
    if (!resources) return fail(resources.error());
    if (auto r = rt.update(id, *resources); !r) return fail(r.error());
    return 0;
  }
  if (verb == "events") {
    auto ms = parse_interval(interval);
    if (!ms) return fail(ms.error());
    auto r = rt.events(id, events_stats, *ms, [](const std::string& line) { return print(line + "\n"); });
    if (!r) return fail(r.error());
    return 0;
  }
  if (verb == "features") {
    print(ns::runtime::features().dump(2) + "\n");
    return 0;
  }
  // spec
  std::string path = ns::join_path(spec_bundle, "config.json");
  if (ns::path_exists(path)) return fail(ns::Error{0, {}, {}, "file " + path + " exists: remove it first", {}});
  auto text = ns::oci::default_spec(rootless, ::geteuid(), ::getegid()).dump(2) + "\n";
  if (auto r = ns::write_file_atomic(path, text, 0644); !r) return fail(r.error());
  return 0;
}
