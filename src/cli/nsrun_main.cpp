// nsrun's command line: the same binary as ns-runtime, called by the name `nsrun`.
//   nsrun [--state DIR] [--root DIR] [-E] --rootfs DIR [FLAGS] CMD [ARGS...]   (or `nsrun run ...`)
//   nsrun ls | logs NAME | exec [-t] NAME CMD... | stop [-t SECONDS] NAME | rm [-f] NAME...
#include "cli/nsrun_main.hpp"

#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string_view>

#include "cli/args.hpp"
#include "common/file.hpp"
#include "common/log.hpp"
#include "explain/explain.hpp"
#include "nsrun/sandbox.hpp"
#include "state/state.hpp"

namespace {

namespace cli = ns::cli;
using cli::Arg;

constexpr const char* kFooter =
    "\nSandboxes that run detached:\n"
    "  nsrun ls                      list them (name, status, address, ports, command)\n"
    "  nsrun logs NAME               what a detached sandbox wrote to stdout and stderr\n"
    "  nsrun exec [-t] NAME CMD...   run a command in a running sandbox\n"
    "  nsrun stop [-t SECONDS] NAME  SIGTERM, then SIGKILL after SECONDS (default 10)\n"
    "  nsrun rm [-f] NAME...         remove: container, address, port mappings, veth, cgroup, files\n";

int fail(const ns::Error& e) {
  ns::log::fatal(e.to_string());
  return 1;
}

// The options every nsrun command takes.
struct Common {
  std::string state, root, explain;
  void add(std::vector<cli::Option>& opts) {
    opts.push_back({0, "state", Arg::Required, "DIR", "nsrun's own state directory (default /run/nsrun as root)",
                    cli::value(state)});
    opts.push_back({0, "root", Arg::Required, "DIR",
                    "the runtime's state directory, shared with ns-runtime (default /run/nano-sandbox)",
                    cli::value(root)});
    opts.push_back({'E', "explain", Arg::Optional, "json",
                    "narrate every step (what, why, how long) on stderr; --explain=json for JSON lines",
                    [this](const char* v) -> ns::Result<void> {
                      explain = v ? v : "text";
                      return {};
                    }});
  }
  ns::Result<void> apply(const std::string& command) {
    if (state.empty()) state = TRY(ns::nsrun::default_state_dir());
    TRY(ns::check_private_dir(state, "nsrun's state directory"));
    if (root.empty()) root = TRY(ns::state::default_root());
    return ns::explain::enable(explain, "nsrun " + command);
  }
};

// The index of the verb (ls, logs, exec, stop, rm, run) after the global flags, or 0.
int verb_index(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--state" || a == "--root") {
      ++i;
      continue;
    }
    if (a == "-E" || a.starts_with("--explain") || a.starts_with("--state=") || a.starts_with("--root=")) continue;
    if (a == "ls" || a == "logs" || a == "exec" || a == "stop" || a == "rm" || a == "run") return i;
    return 0;
  }
  return 0;
}

int run_sandbox(int argc, char** argv, int first, int host_mount_ns) {
  Common common;
  ns::nsrun::SandboxOptions o;
  std::string memory, cpu, net = "bridge", pids_s;
  std::vector<std::string> ports, volumes;
  std::vector<cli::Option> opts;
  common.add(opts);
  std::vector<cli::Option> own = {
      {0, "rootfs", Arg::Required, "DIR", "directory to use as the sandbox's / (required)", cli::value(o.rootfs)},
      {0, "name", Arg::Required, "NAME", "name for nsrun ls/logs/exec/stop/rm (default: ns-<random>)", cli::value(o.name)},
      {0, "hostname", Arg::Required, "NAME", "hostname inside (default: the name)", cli::value(o.hostname)},
      {0, "memory", Arg::Required, "SIZE", "memory limit: bytes or with k, m, g (256M, 1G)", cli::value(memory)},
      {0, "cpu", Arg::Required, "CPUS", "CPU limit in CPUs: 0.5 is half of one CPU's time", cli::value(cpu)},
      {0, "pids", Arg::Required, "N", "most processes the sandbox may have", cli::value(pids_s)},
      {'p', "port", Arg::Required, "HOST:CTR[/PROTO]", "publish a port, tcp or udp (repeatable; needs --net bridge)",
       cli::append(ports)},
      {'v', "volume", Arg::Required, "SRC:DST[:ro]", "bind a host path (repeatable)", cli::append(volumes)},
      {'e', "env", Arg::Required, "KEY=VALUE", "set an environment variable (repeatable)", cli::append(o.env)},
      {'w', "workdir", Arg::Required, "DIR", "working directory inside (default /)", cli::value(o.workdir)},
      {'u', "user", Arg::Required, "USER[:GROUP]", "names from the rootfs's /etc/passwd, or numbers", cli::value(o.user)},
      {0, "net", Arg::Required, "MODE",
       "bridge (default: own address on a NATed bridge), none (loopback only), host", cli::value(net)},
      {0, "bridge", Arg::Required, "NAME", "host bridge for --net bridge (default nsbr0)", cli::value(o.bridge)},
      {0, "subnet", Arg::Required, "CIDR", "subnet of that bridge (default 10.88.77.0/24)", cli::value(o.subnet)},
      {'d', "detach", Arg::None, "", "run in the background; output goes to nsrun logs NAME", cli::flag(o.detach)},
      {0, "read-only", Arg::None, "", "mount the rootfs read-only", cli::flag(o.read_only)},
      {0, "vm", Arg::None, "", "run the sandbox in a microVM of its own, with its own kernel (VM mode)", cli::flag(o.vm)},
      {0, "vm-accel", Arg::Required, "ACCEL", "VM mode's accelerator: auto (KVM where it works, else TCG), kvm, tcg",
       cli::one_of(o.vm_accel, {"auto", "kvm", "tcg"}, "vm-accel")},
  };
  opts.insert(opts.end(), own.begin(), own.end());
  cli::Command cmd{nullptr, "nsrun: run a command in a sandbox made from a root filesystem directory",
                   "--rootfs DIR CMD [ARGS...]", opts, true, kFooter};
  auto parsed = cli::parse(cmd, argc, argv, first, "nsrun");
  if (!parsed) return fail(parsed.error());
  if (parsed->help) return 0;
  if (auto r = common.apply("run"); !r) return fail(r.error());
  o.args = parsed->positionals;
  char cwd[4096];
  std::string here = ::getcwd(cwd, sizeof cwd) ? cwd : "/";
  if (!o.rootfs.empty() && o.rootfs[0] != '/') o.rootfs = ns::join_path(here, o.rootfs);
  auto checked = [&]() -> ns::Result<void> {
    if (!memory.empty()) o.memory = TRY(ns::nsrun::parse_size("--memory", memory));
    if (!cpu.empty()) o.cpu = TRY(ns::nsrun::parse_cpu(cpu));
    if (!pids_s.empty()) {
      int n = 0;
      TRY(cli::number(n, "pids")(pids_s.c_str()));
      if (n <= 0) return ns::make_error("--pids " + pids_s + ": must be at least 1");
      o.pids = n;
    }
    for (auto& p : ports) o.ports.push_back(TRY(ns::nsrun::parse_port(p)));
    for (auto& v : volumes) o.volumes.push_back(TRY(ns::nsrun::parse_volume(v, here)));
    o.net = TRY(ns::nsrun::parse_net(net));
    return {};
  }();
  if (!checked) return fail(checked.error());
  o.tty = !o.detach && ::isatty(0) && ::isatty(1);
  ns::nsrun::Sandboxes s(common.state, common.root, host_mount_ns);
  auto r = s.run(o);
  if (!r) return fail(r.error());
  return *r;
}

int manage(int argc, char** argv, int verb_at, int host_mount_ns) {
  std::string verb = argv[verb_at];
  // The global options before the verb, then the verb's own.
  Common common;
  std::vector<cli::Option> global_opts;
  common.add(global_opts);
  cli::Command global{nullptr, "nsrun", "COMMAND", global_opts, true};
  std::vector<char*> before(argv, argv + verb_at);
  auto g = cli::parse(global, static_cast<int>(before.size()), before.data(), 1, "nsrun");
  if (!g) return fail(g.error());

  bool tty = false, force = false;
  int timeout = 10;
  std::vector<cli::Option> opts;
  common.add(opts);
  const char* args = "NAME";
  const char* summary = "";
  if (verb == "ls") {
    args = "";
    summary = "list sandboxes: name, status, address, ports, command";
  } else if (verb == "logs") {
    summary = "print what a detached sandbox wrote to stdout and stderr";
  } else if (verb == "exec") {
    args = "NAME CMD [ARGS...]";
    summary = "run a command in a running sandbox";
    opts.push_back({'t', "tty", Arg::None, "", "give the command a terminal", cli::flag(tty)});
  } else if (verb == "stop") {
    summary = "stop a sandbox: SIGTERM, then SIGKILL after the timeout";
    opts.push_back({'t', "time", Arg::Required, "SECONDS", "seconds to wait before SIGKILL (default 10)",
                    cli::number(timeout, "time")});
  } else {
    args = "NAME...";
    summary = "remove sandboxes and everything made for them";
    opts.push_back({'f', "force", Arg::None, "", "stop a running sandbox first", cli::flag(force)});
  }
  cli::Command cmd{verb.c_str(), summary, args, opts, verb == "exec"};
  auto parsed = cli::parse(cmd, argc, argv, verb_at + 1, "nsrun " + verb);
  if (!parsed) return fail(parsed.error());
  if (parsed->help) return 0;
  if (auto r = common.apply(verb); !r) return fail(r.error());
  auto& pos = parsed->positionals;
  if (verb != "ls" && pos.empty()) return fail(ns::Error{0, {}, {}, "a sandbox name is required (see nsrun " + verb + " --help)", {}});
  size_t max = verb == "ls" ? 0 : (verb == "logs" || verb == "stop") ? 1 : SIZE_MAX;
  if (pos.size() > max) return fail(ns::Error{0, {}, {}, "unexpected argument \"" + pos[max] + "\" (see nsrun " + verb + " --help)", {}});

  ns::nsrun::Sandboxes s(common.state, common.root, host_mount_ns);
  if (verb == "ls") {
    auto r = s.ls();
    if (!r) return fail(r.error());
    std::fputs(r->c_str(), stdout);
    return 0;
  }
  if (verb == "logs") {
    auto r = s.logs(pos[0]);
    if (!r) return fail(r.error());
    std::fwrite(r->data(), 1, r->size(), stdout);
    return 0;
  }
  if (verb == "exec") {
    std::vector<std::string> cmdline(pos.begin() + 1, pos.end());
    if (!cmdline.empty() && cmdline[0] == "--") cmdline.erase(cmdline.begin());
    auto r = s.exec(pos[0], cmdline, tty);
    if (!r) return fail(r.error());
    return *r;
  }
  if (verb == "stop") {
    if (auto r = s.stop(pos[0], timeout); !r) return fail(r.error());
    return 0;
  }
  int code = 0;
  for (auto& n : pos)
    if (auto r = s.rm(n, force); !r) code = fail(r.error());
  return code;
}

}  // namespace

bool nsrun_enters_container(int argc, char** argv) {
  int v = verb_index(argc, argv);
  if (v == 0) return argc > 1 && std::string_view(argv[1]) != "--help" && std::string_view(argv[1]) != "-h";
  std::string_view verb = argv[v];
  return verb == "run" || verb == "exec";
}

int nsrun_main(int argc, char** argv, int host_mount_ns) {
  ns::log::set_program("nsrun");
  int v = verb_index(argc, argv);
  if (v > 0 && std::string_view(argv[v]) != "run") return manage(argc, argv, v, host_mount_ns);
  if (v > 0) {
    // `nsrun [GLOBAL] run FLAGS CMD`: the same as without the word run.
    std::vector<char*> rest;
    for (int i = 0; i < argc; ++i)
      if (i != v) rest.push_back(argv[i]);
    return run_sandbox(static_cast<int>(rest.size()), rest.data(), 1, host_mount_ns);
  }
  return run_sandbox(argc, argv, 1, host_mount_ns);
}
