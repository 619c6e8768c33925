// Network interfaces, for VM mode: what the container's network namespace holds on the host
// (read from iproute2's JSON), the tap devices QEMU's NICs use there, and the guest side that
// gives the NIC the same name, MAC, address, MTU and routes inside the container's namespace.
// IPv4 (ioctl); the NIC moves between namespaces over rtnetlink.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace ns::linux_net {

struct Route {
  std::string dst;      // "default" or a CIDR
  std::string gateway;  // empty: on-link
};

struct Interface {
  std::string name;     // "eth0"
  std::string mac;      // "aa:bb:cc:dd:ee:ff"
  std::string address;  // "10.88.0.5/16"
  int mtu = 1500;
  std::vector<Route> routes;
};

nlohmann::json to_json(const std::vector<Interface>& ifs);
std::vector<Interface> interfaces_from_json(const nlohmann::json& j);

// The interfaces (not loopback) that have an IPv4 address, with the routes through them, from
// `ip -j addr show` (ADDRS) and `ip -j -4 route show` (ROUTES).
std::vector<Interface> parse_ip_json(const nlohmann::json& addrs, const nlohmann::json& routes);

// A tap device in the current network namespace, named from PATTERN ("nstap%d"): not persistent,
// it goes when its last fd is closed. *NAME gets the name the kernel gave it.
Result<UniqueFd> open_tap(const std::string& pattern, std::string* name);

// The name of the interface with MAC in the current network namespace.
Result<std::string> find_by_mac(const std::string& mac);
// Moves interface IFNAME into the network namespace of PID.
Result<void> move_to_netns(const std::string& ifname, pid_t pid);
// Renames interface CURRENT to WANT.name and gives it WANT's MTU, address and routes, up.
Result<void> configure(const std::string& current, const Interface& want);

}  // namespace ns::linux_net
