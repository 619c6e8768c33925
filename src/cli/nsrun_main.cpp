// nsrun's command line: the same binary as ns-runtime, called by the name `nsrun`.
//   nsrun --rootfs DIR [FLAGS] CMD [ARGS...]     (or `nsrun run ...`)
//   nsrun ls | logs NAME | exec [-t] NAME CMD... | stop [-t SECONDS] NAME | rm [-f] NAME...
#include "cli/nsrun_main.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string_view>

#include "common/file.hpp"
#include "common/log.hpp"
#include "explain/explain.hpp"
#include "nsrun/sandbox.hpp"
#include "state/state.hpp"

namespace {

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

template <typename F>
int parse_or_exit(CLI::App& app, int argc, char** argv, F&& then) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    ns::log::fatal(std::string(e.what()) + " (see nsrun --help)");
    return 1;
  }
  return then();
}

struct Common {
  std::string state, root, explain;
  void add(CLI::App& app) {
    app.add_option("--state", state, "nsrun's own state directory (default /run/nsrun as root)");
    app.add_option("--root", root, "the runtime's state directory, shared with ns-runtime (default /run/nano-sandbox)");
    app.add_flag("-E,--explain{text}", explain,
                 "narrate every step (what, why, how long) on stderr; --explain=json for JSON lines");
  }
  ns::Result<void> apply(const std::string& command) {
    if (state.empty()) state = ns::nsrun::default_state_dir();
    if (root.empty()) root = ns::state::default_root();
    if (!explain.empty()) {
      if (explain != "json" && explain != "text" && explain != "true")
        return ns::make_error("--explain: \"" + explain + "\" is neither text nor json");
      ns::explain::set_mode(explain == "json" ? ns::explain::Mode::Json : ns::explain::Mode::Text);
      ns::explain::set_command("nsrun " + command);
    }
    return {};
  }
};

int run_sandbox(int argc, char** argv, int host_mount_ns) {
  CLI::App app{"nsrun: run a command in a sandbox made from a root filesystem directory\n"
               "  nsrun --rootfs DIR [OPTIONS] CMD [ARGS...]      (options before the command)",
               "nsrun"};
  app.footer(kFooter);
  Common common;
  common.add(app);
  ns::nsrun::SandboxOptions o;
  std::string memory, cpu, net = "bridge";
  std::optional<int64_t> pids;
  std::vector<std::string> ports, volumes;
  app.add_option("--rootfs", o.rootfs, "directory to use as the sandbox's / (required)");
  app.add_option("--name", o.name, "name for nsrun ls/logs/exec/stop/rm (default: ns-<random>)");
  app.add_option("--hostname", o.hostname, "hostname inside (default: the name)");
  app.add_option("--memory", memory, "memory limit: bytes or with k, m, g (256M, 1G)");
  app.add_option("--cpu", cpu, "CPU limit in CPUs: 0.5 is half of one CPU's time");
  app.add_option("--pids", pids, "most processes the sandbox may have");
  app.add_option("-p,--port", ports, "publish HOST:CONTAINER[/tcp|udp] (repeatable; needs --net bridge)")->allow_extra_args(false);
  app.add_option("-v,--volume", volumes, "bind SRC:DST[:ro] from the host (repeatable)")->allow_extra_args(false);
  app.add_option("-e,--env", o.env, "set KEY=VALUE (repeatable)")->allow_extra_args(false);
  app.add_option("-w,--workdir", o.workdir, "working directory inside (default /)");
  app.add_option("-u,--user", o.user, "USER[:GROUP], names from the rootfs's /etc/passwd or numbers");
  app.add_option("--net", net, "bridge (default: own address on a NATed bridge), none (loopback only), host");
  app.add_option("--bridge", o.bridge, "host bridge for --net bridge (default nsbr0)");
  app.add_option("--subnet", o.subnet, "subnet of that bridge (default 10.88.77.0/24)");
  app.add_flag("-d,--detach", o.detach, "run in the background; output goes to nsrun logs NAME");
  app.add_flag("--read-only", o.read_only, "mount the rootfs read-only");
  app.prefix_command();
  return parse_or_exit(app, argc, argv, [&]() -> int {
    if (auto r = common.apply("run"); !r) return fail(r.error());
    o.args = app.remaining();
    if (!o.rootfs.empty() && o.rootfs[0] != '/') {
      char cwd[4096];
      if (::getcwd(cwd, sizeof cwd)) o.rootfs = ns::join_path(cwd, o.rootfs);
    }
    auto checked = [&]() -> ns::Result<void> {
      if (!memory.empty()) o.memory = TRY(ns::nsrun::parse_size("--memory", memory));
      if (!cpu.empty()) o.cpu = TRY(ns::nsrun::parse_cpu(cpu));
      if (pids) {
        if (*pids <= 0) return ns::make_error("--pids " + std::to_string(*pids) + ": must be at least 1");
        o.pids = pids;
      }
      for (auto& p : ports) o.ports.push_back(TRY(ns::nsrun::parse_port(p)));
      char cwd[4096];
      std::string here = ::getcwd(cwd, sizeof cwd) ? cwd : "/";
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
  });
}

int manage(int argc, char** argv, int host_mount_ns) {
  CLI::App app{"nsrun: manage detached sandboxes", "nsrun"};
  Common common;
  common.add(app);
  app.require_subcommand(1);
  auto* ls = app.add_subcommand("ls", "list sandboxes");
  std::string name;
  auto* logs = app.add_subcommand("logs", "print a detached sandbox's output");
  logs->add_option("name", name, "sandbox name")->required();
  auto* exec = app.add_subcommand("exec", "run a command in a running sandbox");
  bool tty = false;
  exec->add_flag("-t,--tty", tty, "give the command a terminal");
  exec->add_option("name", name, "sandbox name")->required();
  exec->prefix_command();
  auto* stop = app.add_subcommand("stop", "stop a sandbox: SIGTERM, then SIGKILL after the timeout");
  int timeout = 10;
  stop->add_option("-t,--time", timeout, "seconds to wait before SIGKILL (default 10)");
  stop->add_option("name", name, "sandbox name")->required();
  auto* rm = app.add_subcommand("rm", "remove sandboxes and everything made for them");
  bool force = false;
  std::vector<std::string> names;
  rm->add_flag("-f,--force", force, "stop a running sandbox first");
  rm->add_option("names", names, "sandbox names")->required();
  return parse_or_exit(app, argc, argv, [&]() -> int {
    std::string verb = app.get_subcommands().front()->get_name();
    if (auto r = common.apply(verb); !r) return fail(r.error());
    ns::nsrun::Sandboxes s(common.state, common.root, host_mount_ns);
    if (*ls) {
      auto r = s.ls();
      if (!r) return fail(r.error());
      std::fputs(r->c_str(), stdout);
      return 0;
    }
    if (*logs) {
      auto r = s.logs(name);
      if (!r) return fail(r.error());
      std::fwrite(r->data(), 1, r->size(), stdout);
      return 0;
    }
    if (*exec) {
      auto r = s.exec(name, exec->remaining(), tty);
      if (!r) return fail(r.error());
      return *r;
    }
    if (*stop) {
      if (auto r = s.stop(name, timeout); !r) return fail(r.error());
      return 0;
    }
    int code = 0;
    for (auto& n : names)
      if (auto r = s.rm(n, force); !r) code = fail(r.error());
    return code;
  });
}

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
  if (v > 0 && std::string_view(argv[v]) != "run") return manage(argc, argv, host_mount_ns);
  if (v > 0) {
    std::vector<char*> rest;
    for (int i = 0; i < argc; ++i)
      if (i != v) rest.push_back(argv[i]);
    return run_sandbox(static_cast<int>(rest.size()), rest.data(), host_mount_ns);
  }
  return run_sandbox(argc, argv, host_mount_ns);
}
