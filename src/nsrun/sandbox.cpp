#include "common/json.hpp"
#include "nsrun/sandbox.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <random>

#include "common/fd.hpp"
#include "common/file.hpp"
#include "linux/cgroup/cgroup.hpp"
#include "sys/kernel.hpp"
#include "oci/default_spec.hpp"
#include "state/state.hpp"

namespace ns::nsrun {

using json = nlohmann::json;

namespace {

constexpr const char* kPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// podman's default capability set.
constexpr const char* kCaps[] = {"CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FOWNER",     "CAP_FSETID",
                                 "CAP_KILL",   "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID",
                                 "CAP_SETPCAP", "CAP_SETUID",      "CAP_SYS_CHROOT"};

const char* net_name(NetMode m) {
  switch (m) {
    case NetMode::Bridge: return "bridge";
    case NetMode::None: return "none";
    case NetMode::Host: return "host";
  }
  return "none";
}

// A field of the line for KEY in an /etc/passwd-style file of the rootfs.
std::optional<uint32_t> lookup_id(const std::string& rootfs, const char* file, const std::string& key) {
  auto text = read_file(join_path(rootfs, file));
  if (!text) return std::nullopt;
  for (auto& line : split(*text, '\n')) {
    auto f = split(line, ':');
    if (f.size() > 2 && f[0] == key) {
      uint32_t v = 0;
      auto [p, ec] = std::from_chars(f[2].data(), f[2].data() + f[2].size(), v);
      if (ec == std::errc()) return v;
    }
  }
  return std::nullopt;
}

Result<json> parse_user(const std::string& rootfs, const std::string& spec) {
  if (spec.empty()) return json{{"uid", 0}, {"gid", 0}};
  auto parts = split(spec, ':');
  if (parts.size() > 2 || parts[0].empty()) return make_error("--user \"" + spec + "\": expected USER[:GROUP]");
  auto id_of = [&](const std::string& s, const char* file) -> std::optional<uint32_t> {
    uint32_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return v;
    return lookup_id(rootfs, file, s);
  };
  auto uid = id_of(parts[0], "etc/passwd");
  if (!uid) return make_error("--user \"" + spec + "\": no user \"" + parts[0] + "\" in the rootfs's /etc/passwd");
  std::optional<uint32_t> gid = 0;
  if (parts.size() == 2) {
    gid = id_of(parts[1], "etc/group");
    if (!gid) return make_error("--user \"" + spec + "\": no group \"" + parts[1] + "\" in the rootfs's /etc/group");
  } else if (auto text = read_file(join_path(rootfs, "etc/passwd"))) {
    // The user's primary group, as `su` would give it.
    for (auto& line : split(*text, '\n')) {
      auto f = split(line, ':');
      if (f.size() > 3 && (f[0] == parts[0] || f[2] == parts[0])) {
        uint32_t v = 0;
        if (std::from_chars(f[3].data(), f[3].data() + f[3].size(), v).ec == std::errc()) gid = v;
        break;
      }
    }
  }
  return json{{"uid", *uid}, {"gid", *gid}};
}

std::string random_name() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "ns-%06x", rd() & 0xffffff);
  return buf;
}

// The host's resolv.conf without loopback name servers (unreachable from another network
// namespace); for --net host it is the host's as it is.
std::string resolv_conf_for(NetMode net) {
  auto host = read_file("/etc/resolv.conf");
  if (!host) return "";
  if (net == NetMode::Host) return *host;
  std::string out;
  for (auto& line : split(*host, '\n')) {
    if (line.starts_with("nameserver") && (line.find(" 127.") != std::string::npos || line.find(" ::1") != std::string::npos))
      continue;
    if (!line.empty()) out += line + "\n";
  }
  return out;
}

json bind_file(const std::string& src, const std::string& dst) {
  return {{"destination", dst}, {"type", "bind"}, {"source", src}, {"options", {"bind", "rprivate"}}};
}

// sandbox.json keeps the port mappings as [{host_port, container_port, protocol}].
json ports_json(const std::vector<PortMapping>& ports) {
  json a = json::array();
  for (auto& p : ports)
    a.push_back({{"host_port", p.host_port}, {"container_port", p.container_port}, {"protocol", p.protocol}});
  return a;
}

std::vector<PortMapping> ports_of(const json& meta) {
  std::vector<PortMapping> out;
  if (!meta.is_object()) return out;
  for (auto& p : meta.value("ports", json::array()))
    out.push_back({static_cast<uint16_t>(p.value("host_port", 0)), static_cast<uint16_t>(p.value("container_port", 0)),
                   p.value("protocol", "tcp")});
  return out;
}

bool alive(const runtime::Runtime& rt, const std::string& id) {
  auto st = rt.store().load(id);
  return st && rt.store().status(*st) != state::Status::Stopped;
}

// Whether the nsrun that made a sandbox is still at work on it (pid and start time recorded).
bool creator_alive(const json& meta) {
  pid_t pid = meta.value("creator_pid", 0);
  auto start = state::process_start_time(pid);
  return start && *start == meta.value("creator_start", 0ULL);
}

}  // namespace

Result<std::string> default_state_dir() { return private_runtime_dir("nsrun", "--state"); }

json default_seccomp() {
  json names = {"acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
                "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "get_mempolicy",
                "init_module", "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl",
                "lookup_dcookie", "mbind", "mount", "mount_setattr", "move_mount", "move_pages",
                "name_to_handle_at", "nfsservctl", "open_by_handle_at", "open_tree", "perf_event_open",
                "pivot_root", "process_vm_readv", "process_vm_writev", "ptrace", "query_module", "quotactl",
                "quotactl_fd", "reboot", "request_key", "set_mempolicy", "setns", "settimeofday", "stime",
                "swapoff", "swapon", "sysfs", "_sysctl", "umount", "umount2", "unshare", "uselib",
                "userfaultfd", "ustat", "vm86", "vm86old"};
  return {{"defaultAction", "SCMP_ACT_ALLOW"},
          {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
          {"syscalls", {{{"names", names}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}}}}};
}

Result<json> build_config(const SandboxOptions& o, const SandboxFiles& f) {
  json c = oci::default_spec(false, 0, 0);
  c["root"] = {{"path", o.rootfs}, {"readonly", o.read_only}};
  auto& p = c["process"];
  p["terminal"] = o.tty;
  p["args"] = o.args;
  std::vector<std::string> env = {kPath, "HOSTNAME=" + o.hostname};
  if (o.tty) env.push_back("TERM=xterm");
  for (auto& e : o.env) {
    auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0) return make_error("--env \"" + e + "\": expected KEY=VALUE");
    std::string key = e.substr(0, eq + 1);
    std::erase_if(env, [&](const std::string& x) { return x.starts_with(key); });
    env.push_back(e);
  }
  p["env"] = env;
  if (!o.workdir.empty() && o.workdir[0] != '/') return make_error("--workdir \"" + o.workdir + "\": must be absolute");
  p["cwd"] = o.workdir.empty() ? "/" : o.workdir;
  p["user"] = TRY(parse_user(o.rootfs, o.user));
  json caps = json::array();
  for (const char* cap : kCaps) caps.push_back(cap);
  p["capabilities"] = {{"bounding", caps}, {"effective", caps}, {"permitted", caps}};
  p["noNewPrivileges"] = false;
  c["hostname"] = o.hostname;

  auto& mounts = c["mounts"];
  if (!f.hosts.empty()) mounts.push_back(bind_file(f.hosts, "/etc/hosts"));
  if (!f.hostname.empty()) mounts.push_back(bind_file(f.hostname, "/etc/hostname"));
  if (!f.resolv_conf.empty()) mounts.push_back(bind_file(f.resolv_conf, "/etc/resolv.conf"));
  for (auto& v : o.volumes) {
    json opts = {"rbind", "rprivate"};
    if (v.readonly) opts.push_back("ro");
    mounts.push_back({{"destination", v.destination}, {"type", "bind"}, {"source", v.source}, {"options", opts}});
  }

  auto& l = c["linux"];
  json namespaces = json::array();
  for (auto& n : l["namespaces"]) {
    if (n["type"] == "network") {
      if (o.net == NetMode::Host) continue;
      if (o.net == NetMode::Bridge) n["path"] = f.netns;
    }
    namespaces.push_back(n);
  }
  l["namespaces"] = namespaces;
  auto& res = l["resources"];
  if (o.memory) res["memory"] = {{"limit", *o.memory}};
  if (o.cpu) res["cpu"] = {{"quota", o.cpu->quota_us}, {"period", o.cpu->period_us}};
  if (o.pids) res["pids"] = {{"limit", *o.pids}};
  // As podman does: root in the sandbox may ping without CAP_NET_RAW (its own network namespace).
  if (o.net != NetMode::Host) l["sysctl"] = {{"net.ipv4.ping_group_range", "0 0"}};
  l["cgroupsPath"] = "/nsrun/" + o.name;
  l["seccomp"] = default_seccomp();
  c["annotations"] = {{"org.nano-sandbox.nsrun.name", o.name}};
  return c;
}

Sandboxes::Sandboxes(std::string state, std::string root, int host_mount_ns)
    : state_(std::move(state)), root_(root), host_mount_ns_(host_mount_ns), rt_({root, false}) {}

std::string Sandboxes::dir(const std::string& name) const { return join_path(state_, name); }

std::vector<std::string> Sandboxes::names() const {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(state_.c_str())) {
    while (struct dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') out.emplace_back(e->d_name);  // .ipam, .bridges: nsrun's own
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

json Sandboxes::meta(const std::string& name) const {
  auto text = read_file(join_path(dir(name), "sandbox.json"));
  if (!text) return json();
  json m = parse_json(*text);
  return m.is_object() ? m : json();
}

Network Sandboxes::network_of(const json& meta) const {
  Network n;
  n.bridge = meta.value("bridge", "nsbr0");
  n.subnet = meta.value("subnet", "10.88.77.0/24");
  n.ipam_dir = join_path(state_, ".ipam");
  if (const char* p = std::getenv("NSRUN_CNI_PATH"); p && *p) n.cni_path = p;
  n.host_mount_ns = host_mount_ns_;
  return n;
}

Result<void> Sandboxes::check_ports_free(const SandboxOptions& o) {
  if (o.ports.empty()) return {};
  // Mapped by another sandbox of ours (running or not: its DNAT rules stay until `nsrun rm`)?
  for (auto& n : names())
    for (auto& mp : ports_of(meta(n)))
      for (auto& p : o.ports)
        if (mp.host_port == p.host_port && mp.protocol == p.protocol)
          return make_error("--port " + std::to_string(p.host_port) + ":" + std::to_string(p.container_port) +
                            ": host port " + std::to_string(p.host_port) + "/" + p.protocol + " is mapped by sandbox " +
                            n + " (nsrun rm " + n + " frees it)");
  for (auto& p : o.ports) TRY(check_port_free(p));
  return {};
}

Result<int> Sandboxes::run(SandboxOptions o) {
  struct stat st{};
  if (o.rootfs.empty()) return make_error("--rootfs DIR is required: the directory to use as the sandbox's /");
  if (::stat(o.rootfs.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
    return make_error("--rootfs " + o.rootfs + ": no such directory");
  if (o.args.empty()) return make_error("no command given: nsrun --rootfs DIR [FLAGS] CMD [ARGS...]");
  if (o.name.empty()) o.name = random_name();
  TRY(check_name(o.name));
  if (o.hostname.empty()) o.hostname = o.name;
  if (!o.ports.empty() && o.net != NetMode::Bridge) return make_error("--port needs --net bridge");
  for (auto& v : o.volumes)
    if (!path_exists(v.source)) return make_error("--volume " + v.source + ":" + v.destination + ": " + v.source + " does not exist");
  TRY(mkdir_p(state_, 0700));

  // What an interrupted nsrun left (its maker gone before the sandbox was complete) goes first,
  // so its name, address and ports are free again.
  for (auto& n : names()) {
    json m = meta(n);
    bool complete = m.is_object() && m.value("complete", false);
    if (!complete && !(m.is_object() && creator_alive(m)) && !alive(rt_, n)) (void)rm(n, true);
  }
  if (path_exists(dir(o.name)))
    return make_error("a sandbox named " + o.name + " exists: nsrun rm -f " + o.name + " removes it");
  if (o.net == NetMode::Bridge) {
    TRY(check_subnet(o.subnet));
    TRY(check_plugins(network_of(json::object())));
  }
  TRY(check_ports_free(o));

  std::string d = dir(o.name);
  if (::mkdir(d.c_str(), 0700) < 0) return sys_error("mkdir", d);
  json ports = ports_json(o.ports);
  json meta = {{"name", o.name},          {"rootfs", o.rootfs},    {"args", o.args},
               {"net", net_name(o.net)},  {"bridge", o.bridge},    {"subnet", o.subnet},
               {"ports", ports},          {"detach", o.detach},    {"created", rfc3339_now()},
               {"complete", false},       {"creator_pid", ::getpid()},
               {"creator_start", state::process_start_time(::getpid()).value_or(0)}};
  struct Cleanup {
    Sandboxes* s;
    std::string name;
    bool armed = true;
    ~Cleanup() {
      if (armed) (void)s->rm(name, true);
    }
  } cleanup{this, o.name};
  TRY(write_file_atomic(join_path(d, "sandbox.json"), meta.dump(2) + "\n", 0600));

  SandboxFiles files;
  std::string ip;
  if (o.net == NetMode::Bridge) {
    Network net = network_of(meta);
    TRY(mkdir_p(net.ipam_dir, 0700));
    files.netns = join_path(d, "netns");
    if (!path_exists("/sys/class/net/" + o.bridge)) {
      // The bridge plugin will make it: remember that it is ours to remove with the last sandbox.
      TRY(mkdir_p(join_path(state_, ".bridges"), 0700));
      TRY(write_file_atomic(join_path(state_, ".bridges/" + o.bridge), o.subnet + "\n", 0600));
    }
    TRY(make_netns(net, files.netns));
    json result = TRY(cni_add(net, o.name, files.netns, o.ports));
    TRY(write_file_atomic(join_path(d, "cni.json"), result.dump() + "\n", 0600));
    ip = result_ip(result);
  }
  files.hosts = join_path(d, "hosts");
  files.hostname = join_path(d, "hostname");
  files.resolv_conf = join_path(d, "resolv.conf");
  std::string hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  hosts += (ip.empty() ? std::string("127.0.1.1") : ip) + "\t" + o.hostname + "\n";
  TRY(write_file_atomic(files.hosts, hosts, 0644));
  TRY(write_file_atomic(files.hostname, o.hostname + "\n", 0644));
  TRY(write_file_atomic(files.resolv_conf, resolv_conf_for(o.net), 0644));

  std::string bundle = join_path(d, "bundle");
  TRY(mkdir_p(bundle, 0700));
  json config = TRY(build_config(o, files));
  TRY(write_file_atomic(join_path(bundle, "config.json"), config.dump(2) + "\n", 0600));

  runtime::CreateOptions copts;
  copts.id = o.name;
  copts.bundle = bundle;
  copts.vm = o.vm;
  copts.vm_accel = o.vm_accel;
  if (o.detach) {
    // The sandbox's stdout and stderr go to its log; stdin is /dev/null. Ours come back after.
    std::string log_path = join_path(d, "output.log");
    UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!log) return sys_error("open", log_path);
    UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    UniqueFd saved[3] = {UniqueFd(::fcntl(0, F_DUPFD_CLOEXEC, 3)), UniqueFd(::fcntl(1, F_DUPFD_CLOEXEC, 3)),
                         UniqueFd(::fcntl(2, F_DUPFD_CLOEXEC, 3))};
    ::dup2(null.get(), 0);
    ::dup2(log.get(), 1);
    ::dup2(log.get(), 2);
    auto r = rt_.run(copts, "", true, /*keep=*/false);
    for (int fd = 0; fd < 3; ++fd) ::dup2(saved[fd].get(), fd);
    if (!r) return std::unexpected(r.error());
    meta["complete"] = true;
    TRY(write_file_atomic(join_path(d, "sandbox.json"), meta.dump(2) + "\n", 0600));
    cleanup.armed = false;
    std::printf("%s\n", o.name.c_str());
    std::fflush(stdout);
    return 0;
  }
  auto r = rt_.run(copts, "", false, /*keep=*/true);  // rm below removes all of it
  cleanup.armed = false;
  auto removed = rm(o.name, true);
  if (!r) return std::unexpected(r.error());
  if (!removed) return std::unexpected(removed.error());
  return *r;
}

Result<std::string> Sandboxes::ls() {
  std::vector<std::vector<std::string>> rows = {{"NAME", "STATUS", "IP", "PORTS", "COMMAND"}};
  for (auto& n : names()) {
    json meta = this->meta(n);
    if (!meta.is_object()) continue;
    std::string status = "stopped";
    if (auto st = rt_.store().load(n)) status = state::status_name(rt_.store().status(*st));
    if (!meta.value("complete", false)) status = creator_alive(meta) ? "attached" : "incomplete";
    std::string ip;
    if (auto cni = read_file(join_path(dir(n), "cni.json"))) ip = result_ip(parse_json(*cni));
    std::string ports;
    for (auto& p : ports_of(meta))
      ports += (ports.empty() ? "" : ",") + std::to_string(p.host_port) + "->" + std::to_string(p.container_port) +
               "/" + p.protocol;
    std::string cmd;
    for (auto& a : meta.value("args", json::array())) cmd += (cmd.empty() ? "" : " ") + a.get<std::string>();
    rows.push_back({n, status, ip.empty() ? "-" : ip, ports.empty() ? "-" : ports, cmd});
  }
  return runtime::format_table(rows);
}

Result<std::string> Sandboxes::logs(const std::string& name) {
  TRY(check_name(name));
  if (!path_exists(dir(name))) return make_error("no sandbox named " + name);
  std::string log = join_path(dir(name), "output.log");
  if (!path_exists(log)) return make_error("sandbox " + name + " is attached: its output goes to its terminal");
  return read_file(log);
}

Result<int> Sandboxes::exec(const std::string& name, const std::vector<std::string>& args, bool tty) {
  TRY(check_name(name));
  if (!path_exists(dir(name))) return make_error("no sandbox named " + name);
  if (args.empty()) return make_error("no command given: nsrun exec NAME CMD [ARGS...]");
  oci::Process p = TRY(rt_.exec_template(name));
  p.args = args;
  p.terminal = tty;
  if (tty && std::find_if(p.env.begin(), p.env.end(), [](auto& e) { return e.starts_with("TERM="); }) == p.env.end())
    p.env.push_back("TERM=xterm");
  runtime::ExecOptions eo;
  return rt_.exec(name, eo, p);
}

Result<void> Sandboxes::stop(const std::string& name, int timeout_s) {
  TRY(check_name(name));
  if (!path_exists(dir(name))) return make_error("no sandbox named " + name);
  if (!alive(rt_, name)) return {};
  TRY(rt_.kill(name, SIGTERM, false));
  for (int i = 0; i < timeout_s * 20; ++i) {
    if (!alive(rt_, name)) return {};
    ::usleep(50000);
  }
  if (auto r = rt_.kill(name, SIGKILL, true); !r && alive(rt_, name)) return r;
  for (int i = 0; i < 100; ++i) {
    if (!alive(rt_, name)) return {};
    ::usleep(50000);
  }
  return make_error("sandbox " + name + " did not stop after SIGKILL");
}

Result<void> Sandboxes::rm(const std::string& name, bool force) {
  TRY(check_name(name));
  std::string d = dir(name);
  bool have_dir = path_exists(d);
  auto st = rt_.store().load(name);
  if (!have_dir) return make_error("no sandbox named " + name);
  if (st && rt_.store().status(*st) != state::Status::Stopped && !force)
    return make_error("sandbox " + name + " is running: nsrun stop " + name + " first, or nsrun rm -f " + name);
  // Only a container nsrun made for this sandbox (an ns-runtime container may share the name).
  if (st && st->bundle == join_path(d, "bundle")) TRY(rt_.remove(name, true));
  json meta = this->meta(name);
  Result<void> first = {};
  std::string netns = join_path(d, "netns");
  if (meta.is_object() && meta.value("net", "") == "bridge" && path_exists(netns)) {
    Network net = network_of(meta);
    json cached;
    if (auto c = read_file(join_path(d, "cni.json"))) cached = parse_json(*c);
    if (cached.is_discarded()) cached = json();
    first = cni_del(net, name, netns, cached, ports_of(meta));
    if (auto r = remove_netns(net, netns); !r && first) first = r;
  }
  if (!first) return first;
  TRY(remove_tree(d));
  // The last sandbox gone: its bridge (when nothing else is plugged in) and nsrun's parent cgroup
  // (when empty) go too, so nothing of nsrun's stays on the host.
  // Only a bridge nsrun made (a marker says so): never one the host had before.
  if (meta.is_object() && meta.value("net", "") == "bridge") {
    std::string bridge = meta.value("bridge", "");
    std::string marker = join_path(state_, ".bridges/" + bridge);
    if (!bridge.empty() && path_exists(marker)) {
      TRY(remove_bridge_if_unused(bridge));
      if (!path_exists("/sys/class/net/" + bridge)) ::unlink(marker.c_str());
    }
  }
  if (auto layout = linux_cgroup::detect_layout(sys::real_kernel()))
    for (auto& h : layout->hierarchies) (void)::rmdir((h.mountpoint + "/nsrun").c_str());
  return {};
}

}  // namespace ns::nsrun
