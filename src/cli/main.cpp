// ns-runtime: the runc-compatible command line. Flags are parsed here and nothing else happens
// here: every verb is one call into ns::runtime::Runtime.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "common/file.hpp"
#include "cli/nsrun_main.hpp"
#include "common/log.hpp"
#include "hooks/hooks.hpp"
#include "linux/security/exe_guard.hpp"
#include "oci/default_spec.hpp"
#include "explain/explain.hpp"
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

// "256m" -> 268435456; plain numbers are bytes; -1 stays -1 (unlimited).
Result<int64_t> parse_bytes(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (end == v.c_str() || errno != 0) return ns::make_error("--" + flag + ": invalid value \"" + v + "\"");
  std::string unit = end;
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  long long mult = 1;
  if (unit == "k") mult = 1LL << 10;
  else if (unit == "m") mult = 1LL << 20;
  else if (unit == "g") mult = 1LL << 30;
  else if (!unit.empty()) return ns::make_error("--" + flag + ": invalid unit in \"" + v + "\"");
  return static_cast<int64_t>(n * mult);
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
    j = nlohmann::json::parse(text, nullptr, false);
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
    j[t.group][t.key] = t.bytes ? TRY(parse_bytes(t.flag, v)) : TRY(parse_int(t.flag, v));
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
    auto j = nlohmann::json::parse(text, nullptr, false);
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

int run_cli(int argc, char** argv);

// Whether the verb (the first word that is not a global flag or its value) is create, run or exec.
bool enters_container(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--root" || a == "--log" || a == "--log-format") {
      ++i;
      continue;
    }
    if (a.starts_with("-")) continue;
    return a == "create" || a == "run" || a == "exec";
  }
  return false;
}

int main(int argc, char** argv) {
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
  if (nsrun ? nsrun_enters_container(argc, argv) : enters_container(argc, argv))
    if (auto r = ns::linux_security::protect_runtime_binary(argv); !r) {
      if (nsrun) ns::log::set_program("nsrun");
      ns::log::fatal(r.error().to_string());
      return 1;
    }
  int host_mount_ns = ns::linux_security::adopt_host_mount_ns();
  ns::hooks::set_runtime_mount_ns(host_mount_ns);
  int code = nsrun ? nsrun_main(argc, argv, host_mount_ns) : run_cli(argc, argv);
  ns::explain::timeline();
  ns::log::flush();
  return code;
}

int run_cli(int argc, char** argv) {
  CLI::App app{"ns-runtime: an OCI container runtime that explains itself", "ns-runtime"};
  app.require_subcommand(1);
  app.set_version_flag("-v,--version",
                       std::string("ns-runtime version ") + NS_VERSION + "\nspec: " + ns::oci::kOciVersion);
  std::string root, log_path, log_format = "text";
  bool debug = false, systemd_cgroup = false;
  app.add_option("--root", root, "directory for container state (default /run/nano-sandbox as root, "
                                 "$XDG_RUNTIME_DIR/nano-sandbox otherwise)");
  app.add_option("--log", log_path, "append log lines to this file (default: stderr)");
  app.add_option("--log-format", log_format, "log format: text or json")->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", debug, "log debug lines");
  std::string explain_mode;
  app.add_flag("-E,--explain{text}", explain_mode,
               "narrate every step (what, why, how long) on stderr; --explain=json for one JSON event per line");
  app.add_flag("--systemd-cgroup", systemd_cgroup, "manage cgroups through systemd (fails where systemd does not run)");

  ns::runtime::CreateOptions copts;
  std::string pid_file;
  auto add_create_flags = [&](CLI::App* c) {
    c->add_option("-b,--bundle", copts.bundle, "bundle directory holding config.json (default: current directory)");
    c->add_option("--pid-file", pid_file, "write the container init's pid to this file");
    c->add_option("--console-socket", copts.console_socket,
                  "unix socket to receive the pty master when process.terminal is true");
    c->add_option("--preserve-fds", copts.preserve_fds, "pass N extra fds (3 .. 3+N-1) into the container");
    c->add_flag("--no-pivot", copts.no_pivot, "do not use pivot_root (MS_MOVE + chroot instead)");
    c->add_flag("--no-new-keyring", copts.no_new_keyring, "do not create a new session keyring");
    c->add_option("id", copts.id, "container id")->required();
  };

  auto* create = app.add_subcommand("create", "create a container: set it up and leave its init blocked until start");
  add_create_flags(create);

  auto* run = app.add_subcommand("run", "create and start a container (attached unless --detach)");
  add_create_flags(run);
  bool detach = false, rm = false;
  run->add_flag("-d,--detach", detach, "start the container and return");
  run->add_flag("--rm", rm, "delete the container when it exits (attached only)");

  std::string id;
  auto* start = app.add_subcommand("start", "start a created container");
  start->add_option("id", id, "container id")->required();

  auto* state = app.add_subcommand("state", "print the OCI state of a container");
  state->add_option("id", id, "container id")->required();

  auto* kill = app.add_subcommand("kill", "send a signal to a container's init (or all its processes)");
  std::string signal = "SIGTERM";
  bool all = false;
  kill->add_flag("-a,--all", all, "signal every process of the container");
  kill->add_option("id", id, "container id")->required();
  kill->add_option("signal", signal, "signal name or number (default SIGTERM)");

  auto* del = app.add_subcommand("delete", "delete a container and everything the runtime made for it");
  bool force = false;
  del->add_flag("-f,--force", force, "kill a running container first; a missing one is not an error");
  del->add_option("id", id, "container id")->required();

  auto* list = app.add_subcommand("list", "list containers");
  std::string format = "table";
  bool quiet = false;
  list->add_option("-f,--format", format, "table or json")->check(CLI::IsMember({"table", "json"}));
  list->add_flag("-q,--quiet", quiet, "print ids only");

  auto* ps = app.add_subcommand("ps", "list the processes of a container");
  ps->add_option("-f,--format", format, "table or json")->check(CLI::IsMember({"table", "json"}));
  ps->add_option("id", id, "container id")->required();
  std::vector<std::string> ps_args;
  ps->add_option("ps-args", ps_args, "arguments for ps(1) in table format (default -ef)");
  ps->positionals_at_end();

  auto* exec = app.add_subcommand("exec", "run a new process inside a running container (default /bin/sh)");
  ns::runtime::ExecOptions eopts;
  std::string process_file, exec_cwd, exec_user;
  std::vector<std::string> exec_env, exec_caps, exec_gids_s;
  bool exec_tty = false, exec_nnp = false;
  exec->add_option("-p,--process", process_file, "process.json to run (instead of CMD ARGS)");
  exec->add_flag("-t,--tty", exec_tty, "allocate a pseudo-terminal");
  exec->add_option("--console-socket", eopts.console_socket, "unix socket to receive the pty master");
  exec->add_flag("-d,--detach", eopts.detach, "start the process and return");
  exec->add_option("--pid-file", eopts.pid_file, "write the process's pid to this file");
  exec->add_option("--preserve-fds", eopts.preserve_fds, "pass N extra fds (3 .. 3+N-1)");
  exec->add_option("-e,--env", exec_env, "set an environment variable (KEY=VALUE)")->allow_extra_args(false);
  exec->add_option("--cwd", exec_cwd, "working directory inside the container");
  exec->add_option("-u,--user", exec_user, "UID[:GID] to run as");
  exec->add_option("-g,--additional-gids", exec_gids_s, "additional group ids")->allow_extra_args(false);
  exec->add_option("-c,--cap", exec_caps, "add a capability (bounding, effective, permitted)")->allow_extra_args(false);
  exec->add_flag("--no-new-privs", exec_nnp, "set no_new_privs");
  std::string exec_apparmor, exec_label;
  exec->add_option("--apparmor", exec_apparmor, "AppArmor profile for the process");
  exec->add_option("--process-label", exec_label, "SELinux label for the process");
  exec->add_option("id", id, "container id")->required();
  exec->prefix_command();

  auto* pause = app.add_subcommand("pause", "freeze every process of a container");
  pause->add_option("id", id, "container id")->required();
  auto* resume = app.add_subcommand("resume", "thaw a paused container");
  resume->add_option("id", id, "container id")->required();

  auto* update = app.add_subcommand("update", "change the resource limits of a running container");
  std::string resources_file;
  update->add_option("-r,--resources", resources_file,
                     "linux.resources JSON from this file, or - for stdin (zero values leave a setting unchanged)");
  std::map<std::string, std::string> update_flags;
  for (const char* f : {"memory", "memory-swap", "memory-reservation", "kernel-memory", "kernel-memory-tcp",
                        "cpu-shares", "cpu-quota", "cpu-period", "cpu-rt-period", "cpu-rt-runtime", "cpuset-cpus",
                        "cpuset-mems", "pids-limit", "blkio-weight"})
    update->add_option(std::string("--") + f, update_flags[f], std::string("set ") + f);
  update->add_option("id", id, "container id")->required();

  auto* events = app.add_subcommand("events", "print a container's resource usage and OOM events as JSON lines");
  bool events_stats = false;
  std::string interval = "5s";
  events->add_flag("--stats", events_stats, "print one stats event and exit");
  events->add_option("--interval", interval, "time between stats events (5s, 500ms, 1m; default 5s)");
  events->add_option("id", id, "container id")->required();

  auto* features = app.add_subcommand("features", "print the runtime-spec features document (JSON)");

  auto* spec = app.add_subcommand("spec", "write a default config.json into the bundle directory");
  bool rootless = false;
  std::string spec_bundle = ".";
  spec->add_option("-b,--bundle", spec_bundle, "bundle directory (default: current directory)");
  spec->add_flag("--rootless", rootless, "a spec for a rootless container (user namespace)");

  // An unknown verb is an error even with --help after it: podman probes `checkpoint --help` and
  // reads a zero exit as "supported".
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.starts_with("-")) {
      bool takes_value = a == "--root" || a == "--log" || a == "--log-format";
      if (takes_value) ++i;
      continue;
    }
    auto known = app.get_subcommands([&](CLI::App* sub) { return sub->get_name() == a; });
    if (known.empty()) {
      ns::log::fatal("unknown command \"" + a + "\": see ns-runtime --help");
      return 1;
    }
    break;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    ns::log::fatal(e.what());
    return 1;
  }

  if (auto r = ns::log::init(log_path, log_format == "json", debug); !r) return fail(r.error());
  if (root.empty()) root = ns::state::default_root();
  if (!explain_mode.empty()) {
    if (explain_mode != "json" && explain_mode != "text" && explain_mode != "true")
      return fail(ns::Error{0, {}, {}, "--explain: \"" + explain_mode + "\" is neither text nor json", {}});
    ns::explain::set_mode(explain_mode == "json" ? ns::explain::Mode::Json : ns::explain::Mode::Text);
    ns::explain::set_command(app.get_subcommands().front()->get_name());
  }
  if (systemd_cgroup) return fail(ns::Error{0, {}, {}, "systemd cgroup manager: systemd not running", {}});
  ns::runtime::Runtime rt({root, systemd_cgroup});

  if (*create) {
    auto r = rt.create(copts, pid_file);
    if (!r) return fail(r.error());
    return 0;
  }
  if (*run) {
    auto r = rt.run(copts, pid_file, detach, rm);
    if (!r) return fail(r.error());
    return *r;
  }
  if (*start) {
    if (auto r = rt.start(id); !r) return fail(r.error());
    return 0;
  }
  if (*state) {
    auto r = rt.state(id);
    if (!r) return fail(r.error());
    print(*r + "\n");
    return 0;
  }
  if (*kill) {
    auto sig = ns::runtime::parse_signal(signal);
    if (!sig) return fail(sig.error());
    if (auto r = rt.kill(id, *sig, all); !r) return fail(r.error());
    return 0;
  }
  if (*del) {
    if (auto r = rt.remove(id, force); !r) return fail(r.error());
    return 0;
  }
  if (*list) {
    auto r = rt.list(format, quiet);
    if (!r) return fail(r.error());
    print(*r);
    return 0;
  }
  if (*ps) {
    auto pids = rt.pids(id);
    if (!pids) return fail(pids.error());
    if (format == "json") {
      print(nlohmann::json(*pids).dump() + "\n");
      return 0;
    }
    auto table = ns::runtime::ps_table(*pids, ps_args);
    if (!table) return fail(table.error());
    print(*table);
    return 0;
  }
  if (*exec) {
    auto process = exec_process(rt, id, process_file, exec->remaining(), exec_tty, exec_env, exec_cwd,
                                exec_user, exec_gids_s, exec_caps, exec_nnp);
    if (!process) return fail(process.error());
    if (!exec_apparmor.empty()) process->apparmor_profile = exec_apparmor;
    if (!exec_label.empty()) process->selinux_label = exec_label;
    auto r = rt.exec(id, eopts, *process);
    if (!r) return fail(r.error());
    return *r;
  }
  if (*pause) {
    if (auto r = rt.pause(id); !r) return fail(r.error());
    return 0;
  }
  if (*resume) {
    if (auto r = rt.resume(id); !r) return fail(r.error());
    return 0;
  }
  if (*update) {
    auto resources = update_resources(resources_file, update_flags);
    if (!resources) return fail(resources.error());
    if (auto r = rt.update(id, *resources); !r) return fail(r.error());
    return 0;
  }
  if (*events) {
    auto ms = parse_interval(interval);
    if (!ms) return fail(ms.error());
    auto r = rt.events(id, events_stats, *ms, [](const std::string& line) { return print(line + "\n"); });
    if (!r) return fail(r.error());
    return 0;
  }
  if (*features) {
    print(ns::runtime::features().dump(2) + "\n");
    return 0;
  }
  if (*spec) {
    std::string path = ns::join_path(spec_bundle, "config.json");
    if (ns::path_exists(path)) return fail(ns::Error{0, {}, {}, "file " + path + " exists: remove it first", {}});
    auto text = ns::oci::default_spec(rootless, ::geteuid(), ::getegid()).dump(2) + "\n";
    if (auto r = ns::write_file_atomic(path, text, 0644); !r) return fail(r.error());
    return 0;
  }
  return 1;
}
