// nsrun's bridge networking, done the way podman and Kubernetes do it: a network namespace kept
// by a bind mount, wired by the standard CNI plugins from Debian's containernetworking-plugins
// (loopback; bridge with host-local IPAM and ipMasq; portmap for --port), called per the CNI
// spec (ADD when the sandbox is made, DEL with the cached ADD result when it is removed).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "explain/narration.hpp"
#include "nsrun/options.hpp"

namespace ns::nsrun {

namespace narration {
extern const explain::Narration kNetns;
extern const explain::Narration kCniAdd;
extern const explain::Narration kCniDel;
}  // namespace narration

struct Network {
  std::string bridge;     // host bridge, e.g. nsbr0
  std::string subnet;     // e.g. 10.88.77.0/24
  std::string ipam_dir;   // host-local's lease directory (under nsrun's state)
  std::string cni_path = "/usr/lib/cni";
  int host_mount_ns = -1; // the host's mount namespace when ours is private (-1: we are in it)
};

// The CNI network configuration list nsrun uses for NET (plugins in order).
nlohmann::json conflist(const Network& net);

// The plugins nsrun needs are installed; else which package to install.
Result<void> check_plugins(const Network& net);

// A new network namespace, kept alive by a bind mount on PATH in the host's mount namespace (and
// in ours, when ours is private), so it outlives processes and CNI DEL can still enter it.
Result<void> make_netns(const Network& net, const std::string& path);
// Unmounts and removes PATH (missing is fine).
Result<void> remove_netns(const Network& net, const std::string& path);

// CNI ADD of every plugin in order; returns the final result (cache it for DEL).
Result<nlohmann::json> cni_add(const Network& net, const std::string& id, const std::string& netns,
                               const std::vector<PortMapping>& ports);
// CNI DEL of every plugin in reverse order, each given the cached ADD result; best effort: every
// plugin is called, the first failure is returned.
Result<void> cni_del(const Network& net, const std::string& id, const std::string& netns,
                     const nlohmann::json& cached, const std::vector<PortMapping>& ports);

// Deletes the host bridge NAME when nothing is plugged into it any more (no veth of any
// sandbox); a bridge still in use, or already gone, is left as it is.
Result<void> remove_bridge_if_unused(const std::string& name);

// The container's first IPv4 address in a CNI result ("10.88.77.2"), or "".
std::string result_ip(const nlohmann::json& result);

// A host port nobody listens on: bind()s it for a moment.
Result<void> check_port_free(const PortMapping& p);

}  // namespace ns::nsrun
