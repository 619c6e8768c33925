#include "nsrun/network.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "common/fd.hpp"
#include "explain/explain.hpp"
#include "linux/process/program.hpp"

namespace ns::nsrun {

namespace narration {
const explain::Narration kNetns{
    "netns", "linux.namespaces (network, by path)",
    "The sandbox gets a network namespace of its own before it exists: a private set of interfaces, routes and "
    "firewall rules. A bind mount keeps the namespace alive on a file, so it can be wired now and unwired at "
    "removal even after every process in it has exited."};
const explain::Narration kCniAdd{
    "network", "",
    "The standard CNI plugins wire the namespace, as podman and Kubernetes do: loopback brings up lo; bridge makes "
    "a veth pair (a virtual cable), puts one end in the sandbox as eth0 and plugs the other into the host bridge; "
    "host-local leases an address from the subnet; ipMasq NATs outgoing traffic; portmap adds DNAT rules for "
    "--port."};
const explain::Narration kCniDel{
    "network-remove", "",
    "The plugins are called again with DEL, in reverse order, each given what ADD returned: portmap removes its "
    "DNAT rules, bridge removes the veth and the NAT rule and host-local releases the address lease."};
}  // namespace narration

namespace {

struct Plugin {
  const char* type;
  const char* ifname;  // CNI_IFNAME
};
constexpr Plugin kPlugins[] = {{"loopback", "lo"}, {"bridge", "eth0"}, {"portmap", "eth0"}};
constexpr const char* kNeeded[] = {"loopback", "bridge", "host-local", "portmap"};

std::string network_name(const Network& net) { return "nsrun-" + net.bridge; }

nlohmann::json plugin_conf(const Network& net, const Plugin& p) {
  using json = nlohmann::json;
  json c = {{"type", p.type}};
  if (std::string(p.type) == "bridge") {
    c["bridge"] = net.bridge;
    c["isGateway"] = true;
    c["ipMasq"] = true;
    c["hairpinMode"] = true;
    c["ipam"] = {{"type", "host-local"},
                 {"ranges", json::array({json::array({{{"subnet", net.subnet}}})})},
                 {"routes", json::array({{{"dst", "0.0.0.0/0"}}})},
                 {"dataDir", net.ipam_dir}};
  } else if (std::string(p.type) == "portmap") {
    c["capabilities"] = {{"portMappings", true}};
    c["snat"] = true;
  }
  return c;
}

nlohmann::json port_mappings(const std::vector<PortMapping>& ports) {
  nlohmann::json a = nlohmann::json::array();
  for (auto& p : ports)
    a.push_back({{"hostPort", p.host_port}, {"containerPort", p.container_port}, {"protocol", p.protocol}});
  return a;
}

// One plugin call: the plugin's config (with name, cniVersion, runtimeConfig and prevResult) on
// stdin, the CNI_* variables in the environment; the result (or error) as JSON on stdout.
Result<nlohmann::json> call_plugin(const Network& net, const Plugin& p, const char* command, const std::string& id,
                                   const std::string& netns, const nlohmann::json& prev,
                                   const std::vector<PortMapping>& ports) {
  nlohmann::json conf = plugin_conf(net, p);
  conf["cniVersion"] = "1.0.0";
  conf["name"] = network_name(net);
  if (!prev.is_null()) conf["prevResult"] = prev;
  if (std::string(p.type) == "portmap") conf["runtimeConfig"] = {{"portMappings", port_mappings(ports)}};
  linux_process::Program prog;
  prog.path = net.cni_path + "/" + p.type;
  prog.env = {std::string("CNI_COMMAND=") + command, "CNI_CONTAINERID=" + id, "CNI_NETNS=" + netns,
              std::string("CNI_IFNAME=") + p.ifname, "CNI_PATH=" + net.cni_path,
              "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  prog.stdin_data = conf.dump();
  prog.timeout_ms = 60000;
  prog.mount_ns_fd = net.host_mount_ns;
  prog.merge_stderr = false;
  if (explain::on())
    explain::call("PARENT", std::string(p.type) + " " + command + " (CNI_IFNAME=" + p.ifname + ", CNI_NETNS=" + netns +
                              "): " + prog.stdin_data);
  auto r = TRY(linux_process::run_program(prog));
  nlohmann::json out = nlohmann::json::parse(r.out, nullptr, false);
  if (!r.ok()) {
    std::string why = r.how();
    if (out.is_object() && out.contains("msg")) {
      why = out.value("msg", "");
      if (out.contains("details") && out["details"].is_string() && !out["details"].get<std::string>().empty())
        why += ": " + out["details"].get<std::string>();
    } else if (!r.err.empty()) {
      why += ": " + r.err;
    }
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return make_error(std::string("CNI ") + p.type + " plugin " + command + " failed: " + why);
  }
  if (std::string(command) == "DEL") return nlohmann::json();
  if (out.is_discarded()) return make_error(std::string("CNI ") + p.type + " plugin: unreadable result: " + r.out);
  return out;
}

// In a child: enter the host's mount namespace when ours is private, then run FN; its exit
// status says whether FN worked (errno on failure).
template <typename Fn>
Result<void> in_host_mount_ns(const Network& net, const char* what, const std::string& path, Fn fn) {
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) {
    if (net.host_mount_ns >= 0 && ::setns(net.host_mount_ns, CLONE_NEWNS) < 0) ::_exit(errno);
    ::_exit(fn());
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  Error e;
  e.err = WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
  e.op = what;
  e.path = path;
  return std::unexpected(e);
}

}  // namespace

nlohmann::json conflist(const Network& net) {
  nlohmann::json plugins = nlohmann::json::array();
  for (auto& p : kPlugins) plugins.push_back(plugin_conf(net, p));
  return {{"cniVersion", "1.0.0"}, {"name", network_name(net)}, {"plugins", plugins}};
}

Result<void> check_plugins(const Network& net) {
  for (const char* p : kNeeded) {
    std::string path = net.cni_path + "/" + p;
    if (::access(path.c_str(), X_OK) != 0)
      return make_error("CNI plugin " + path + " not found: --net bridge needs Debian's containernetworking-plugins "
                        "(apt-get install containernetworking-plugins), or use --net none or --net host");
  }
  return {};
}

Result<void> make_netns(const Network& net, const std::string& path) {
  explain::Step step(narration::kNetns);
  {
    UniqueFd f(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
    if (!f) return sys_error("create", path);
  }
  // The namespace is made in a child that first enters the host's mount namespace, so the bind
  // mount is the host's; the child waits until we hold the namespace too.
  int sync[2];
  if (::pipe2(sync, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd rd(sync[0]), wr(sync[1]);
  int back[2];
  if (::pipe2(back, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd back_rd(back[0]), back_wr(back[1]);
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) {
    rd.reset();
    back_wr.reset();
    int err = 0;
    if (net.host_mount_ns >= 0 && ::setns(net.host_mount_ns, CLONE_NEWNS) < 0) err = errno;
    if (!err && ::unshare(CLONE_NEWNET) < 0) err = errno;
    if (!err && ::mount("/proc/self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) < 0) err = errno;
    (void)!::write(wr.get(), &err, sizeof err);
    char c;
    (void)!::read(back_rd.get(), &c, 1);  // until the parent has mounted it in its namespace too
    ::_exit(0);
  }
  wr.reset();
  back_rd.reset();
  int err = EPIPE;
  (void)!::read(rd.get(), &err, sizeof err);
  if (!err && net.host_mount_ns >= 0) {
    std::string child_ns = "/proc/" + std::to_string(pid) + "/ns/net";
    if (::mount(child_ns.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) < 0) err = errno;
  }
  back_wr.reset();
  ::waitpid(pid, nullptr, 0);
  if (err) {
    (void)remove_netns(net, path);
    Error e;
    e.err = err;
    e.op = "make network namespace";
    e.path = path;
    return std::unexpected(e);
  }
  if (explain::on()) {
    explain::call("PARENT", "unshare(CLONE_NEWNET); mount(\"/proc/self/ns/net\", \"" + path + "\", MS_BIND)");
    explain::note("PARENT", "the namespace has only a loopback interface, down; nothing can reach it yet");
  }
  step.done();
  return {};
}

Result<void> remove_netns(const Network& net, const std::string& path) {
  if (net.host_mount_ns >= 0) (void)::umount2(path.c_str(), MNT_DETACH);
  auto r = in_host_mount_ns(net, "remove network namespace", path, [&]() -> int {
    if (::umount2(path.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) return errno;
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) return errno;
    return 0;
  });
  return r;
}

Result<nlohmann::json> cni_add(const Network& net, const std::string& id, const std::string& netns,
                               const std::vector<PortMapping>& ports) {
  explain::Step step(narration::kCniAdd);
  nlohmann::json prev;
  nlohmann::json lo_result;
  for (const Plugin& p : kPlugins) {
    if (std::string(p.type) == "portmap" && ports.empty()) continue;
    bool lo = std::string(p.type) == "loopback";
    auto r = call_plugin(net, p, "ADD", id, netns, lo ? nlohmann::json() : prev, ports);
    if (!r) {
      // Undo what the earlier plugins did, so a failed ADD leaves no lease, veth or rule.
      (void)cni_del(net, id, netns, prev, {});
      return std::unexpected(r.error());
    }
    if (!lo) prev = *r;
  }
  if (explain::on()) {
    std::string ip = result_ip(prev);
    explain::note("PARENT", "veth: a pair of linked interfaces; eth0 in the sandbox, its twin on bridge " + net.bridge +
                              " (the host's side of the sandbox network " + net.subnet + ")");
    explain::note("PARENT", "IPAM: host-local leased " + ip + " (a file under " + net.ipam_dir + ")");
    explain::note("PARENT", "NAT: a MASQUERADE rule rewrites traffic from " + ip +
                              " leaving the host to the host's own address, so replies find their way back");
    for (auto& p : ports)
      explain::note("PARENT", "DNAT: connections to host port " + std::to_string(p.host_port) + "/" + p.protocol +
                                " are rewritten to " + ip + ":" + std::to_string(p.container_port));
  }
  step.done();
  return prev;
}

Result<void> cni_del(const Network& net, const std::string& id, const std::string& netns,
                     const nlohmann::json& cached, const std::vector<PortMapping>& ports) {
  explain::Step step(narration::kCniDel);
  Result<void> first = {};
  for (auto it = std::rbegin(kPlugins); it != std::rend(kPlugins); ++it) {
    if (std::string(it->type) == "portmap" && ports.empty()) continue;
    bool lo = std::string(it->type) == "loopback";
    auto r = call_plugin(net, *it, "DEL", id, netns, lo ? nlohmann::json() : cached, ports);
    if (!r && first) first = std::unexpected(r.error());
  }
  if (first) step.done();
  return first;
}

Result<void> remove_bridge_if_unused(const std::string& name) {
  std::string brif = "/sys/class/net/" + name + "/brif";
  DIR* d = ::opendir(brif.c_str());
  if (!d) return {};  // no such bridge
  bool used = false;
  while (struct dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') used = true;
  ::closedir(d);
  if (used) return {};
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) return sys_error("socket");
  struct ifreq ifr{};
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
  if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags & ~IFF_UP);
    (void)::ioctl(s.get(), SIOCSIFFLAGS, &ifr);
  }
  if (::ioctl(s.get(), SIOCBRDELBR, name.c_str()) < 0 && errno != ENXIO && errno != ENODEV)
    return sys_error("delete bridge", name);
  if (explain::on()) explain::call("PARENT", "ioctl(SIOCBRDELBR, \"" + name + "\"): the last sandbox on the bridge is gone");
  return {};
}

std::string result_ip(const nlohmann::json& result) {
  if (!result.is_object() || !result.contains("ips")) return "";
  for (auto& ip : result["ips"]) {
    std::string a = ip.value("address", "");
    if (a.find(':') != std::string::npos) continue;
    return a.substr(0, a.find('/'));
  }
  return "";
}

Result<void> check_port_free(const PortMapping& p) {
  int type = p.protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM;
  UniqueFd s(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (!s) return sys_error("socket");
  // As a server would bind it: connections of an earlier server lingering in TIME_WAIT do not
  // make the port busy.
  int one = 1;
  (void)::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(p.host_port);
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
    if (errno == EADDRINUSE)
      return make_error("--port " + std::to_string(p.host_port) + ":" + std::to_string(p.container_port) + "/" +
                        p.protocol + ": host port " + std::to_string(p.host_port) + "/" + p.protocol +
                        " is already in use");
    return sys_error("bind", "port " + std::to_string(p.host_port));
  }
  return {};
}

}  // namespace ns::nsrun
