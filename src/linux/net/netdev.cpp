#include "linux/net/netdev.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace ns::linux_net {

nlohmann::json to_json(const std::vector<Interface>& ifs) {
  nlohmann::json out = nlohmann::json::array();
  for (auto& i : ifs) {
    nlohmann::json routes = nlohmann::json::array();
    for (auto& r : i.routes) routes.push_back({{"dst", r.dst}, {"gateway", r.gateway}});
    out.push_back({{"name", i.name}, {"mac", i.mac}, {"address", i.address}, {"mtu", i.mtu}, {"routes", routes}});
  }
  return out;
}

std::vector<Interface> interfaces_from_json(const nlohmann::json& j) {
  std::vector<Interface> out;
  if (!j.is_array()) return out;
  for (auto& e : j) {
    Interface i{e.value("name", ""), e.value("mac", ""), e.value("address", ""), e.value("mtu", 1500), {}};
    if (e.contains("routes") && e["routes"].is_array())
      for (auto& r : e["routes"]) i.routes.push_back({r.value("dst", ""), r.value("gateway", "")});
    out.push_back(std::move(i));
  }
  return out;
}

std::vector<Interface> parse_ip_json(const nlohmann::json& addrs, const nlohmann::json& routes) {
  std::vector<Interface> out;
  if (!addrs.is_array()) return out;
  for (auto& link : addrs) {
    std::string name = link.value("ifname", "");
    if (name.empty() || name == "lo" || link.value("link_type", "") == "loopback") continue;
    std::string address;
    if (link.contains("addr_info"))
      for (auto& a : link["addr_info"])
        if (a.value("family", "") == "inet") {
          address = a.value("local", "") + "/" + std::to_string(a.value("prefixlen", 32));
          break;
        }
    if (address.empty()) continue;
    Interface i{name, link.value("address", ""), address, link.value("mtu", 1500), {}};
    if (routes.is_array())
      for (auto& r : routes)
        if (r.value("dev", "") == name && r.contains("gateway")) i.routes.push_back({r.value("dst", ""), r.value("gateway", "")});
    out.push_back(std::move(i));
  }
  return out;
}

Result<UniqueFd> open_tap(const std::string& pattern, std::string* name) {
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!fd) return sys_error("open", "/dev/net/tun");
  struct ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, pattern.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) return sys_error("ioctl TUNSETIFF", pattern);
  *name = ifr.ifr_name;
  return fd;
}

namespace {

Result<UniqueFd> inet_socket() {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) return sys_error("socket");
  return s;
}

Result<in_addr> parse_ipv4(const std::string& s, const std::string& what) {
  in_addr a{};
  if (::inet_pton(AF_INET, s.c_str(), &a) != 1) return make_error(what + ": not an IPv4 address: \"" + s + "\"");
  return a;
}

void set_sockaddr(struct sockaddr& sa, in_addr a) {
  auto* sin = reinterpret_cast<struct sockaddr_in*>(&sa);
  sin->sin_family = AF_INET;
  sin->sin_addr = a;
}

// "10.88.0.5/16" -> address, netmask
Result<std::pair<in_addr, in_addr>> parse_cidr(const std::string& cidr) {
  auto slash = cidr.find('/');
  auto addr = TRY(parse_ipv4(cidr.substr(0, slash), "address"));
  int prefix = slash == std::string::npos ? 32 : std::atoi(cidr.c_str() + slash + 1);
  if (prefix < 0 || prefix > 32) return make_error("bad prefix length in \"" + cidr + "\"");
  in_addr mask{};
  mask.s_addr = prefix == 0 ? 0 : htonl(~uint32_t{0} << (32 - prefix));
  return std::pair{addr, mask};
}

}  // namespace

Result<std::string> find_by_mac(const std::string& mac) {
  auto s = TRY(inet_socket());
  struct if_nameindex* all = ::if_nameindex();
  if (!all) return sys_error("if_nameindex");
  std::string found;
  for (auto* i = all; i->if_index != 0; ++i) {
    struct ifreq ifr{};
    std::strncpy(ifr.ifr_name, i->if_name, IFNAMSIZ - 1);
    if (::ioctl(s.get(), SIOCGIFHWADDR, &ifr) < 0) continue;
    auto* b = reinterpret_cast<unsigned char*>(ifr.ifr_hwaddr.sa_data);
    char text[18];
    std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
    if (mac == text) found = i->if_name;
  }
  ::if_freenameindex(all);
  if (found.empty()) return make_error("no network interface with MAC " + mac);
  return found;
}

Result<void> move_to_netns(const std::string& ifname, pid_t pid) {
  unsigned index = ::if_nametoindex(ifname.c_str());
  if (index == 0) return sys_error("if_nametoindex", ifname);
  UniqueFd nl(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!nl) return sys_error("socket(AF_NETLINK)");
  struct {
    struct nlmsghdr n;
    struct ifinfomsg i;
    char attrs[64];
  } req{};
  req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  req.n.nlmsg_type = RTM_NEWLINK;
  req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.i.ifi_family = AF_UNSPEC;
  req.i.ifi_index = static_cast<int>(index);
  auto* rta = reinterpret_cast<struct rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.n.nlmsg_len));
  rta->rta_type = IFLA_NET_NS_PID;
  rta->rta_len = RTA_LENGTH(sizeof(uint32_t));
  uint32_t p = static_cast<uint32_t>(pid);
  std::memcpy(RTA_DATA(rta), &p, sizeof p);
  req.n.nlmsg_len = NLMSG_ALIGN(req.n.nlmsg_len) + RTA_ALIGN(rta->rta_len);
  if (::send(nl.get(), &req, req.n.nlmsg_len, 0) < 0) return sys_error("netlink send", ifname);
  char buf[512];
  ssize_t n = ::recv(nl.get(), buf, sizeof buf, 0);
  if (n < 0) return sys_error("netlink recv", ifname);
  auto* h = reinterpret_cast<struct nlmsghdr*>(buf);
  if (h->nlmsg_type == NLMSG_ERROR) {
    auto* e = reinterpret_cast<struct nlmsgerr*>(NLMSG_DATA(h));
    if (e->error != 0) return sys_error("move " + ifname + " to the network namespace of pid " + std::to_string(pid), "", -e->error);
  }
  return {};
}

Result<void> configure(const std::string& current, const Interface& want) {
  auto s = TRY(inet_socket());
  auto req = [&](const std::string& name) {
    struct ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    return ifr;
  };
  std::string name = current;
  if (!want.name.empty() && want.name != current) {
    struct ifreq ifr = req(current);
    std::strncpy(ifr.ifr_newname, want.name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(s.get(), SIOCSIFNAME, &ifr) < 0) return sys_error("rename " + current, want.name);
    name = want.name;
  }
  if (want.mtu > 0) {
    struct ifreq ifr = req(name);
    ifr.ifr_mtu = want.mtu;
    if (::ioctl(s.get(), SIOCSIFMTU, &ifr) < 0) return sys_error("ioctl SIOCSIFMTU", name);
  }
  if (!want.address.empty()) {
    auto [addr, mask] = TRY(parse_cidr(want.address));
    struct ifreq ifr = req(name);
    set_sockaddr(ifr.ifr_addr, addr);
    if (::ioctl(s.get(), SIOCSIFADDR, &ifr) < 0) return sys_error("ioctl SIOCSIFADDR", name);
    ifr = req(name);
    set_sockaddr(ifr.ifr_netmask, mask);
    if (::ioctl(s.get(), SIOCSIFNETMASK, &ifr) < 0) return sys_error("ioctl SIOCSIFNETMASK", name);
  }
  struct ifreq ifr = req(name);
  if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) < 0) return sys_error("ioctl SIOCGIFFLAGS", name);
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) < 0) return sys_error("ioctl SIOCSIFFLAGS", name);
  for (auto& r : want.routes) {
    if (r.gateway.empty()) continue;  // on-link routes come with the address
    struct rtentry rt{};
    auto [dst, mask] = r.dst == "default" ? std::pair{in_addr{}, in_addr{}} : TRY(parse_cidr(r.dst));
    set_sockaddr(rt.rt_dst, dst);
    set_sockaddr(rt.rt_genmask, mask);
    set_sockaddr(rt.rt_gateway, TRY(parse_ipv4(r.gateway, "gateway")));
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    rt.rt_dev = const_cast<char*>(name.c_str());
    if (::ioctl(s.get(), SIOCADDRT, &rt) < 0 && errno != EEXIST) return sys_error("add route " + r.dst + " via " + r.gateway, name);
  }
  return {};
}

}  // namespace ns::linux_net
