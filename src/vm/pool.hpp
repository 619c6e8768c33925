// The warm pool of VM mode: `ns-runtime vm-pool start|stop|status [--size N]`. A cold boot under
// emulation costs about a second; a daemon under the state root (<root>/.vm-pool) keeps N VMs
// booted and idle instead, each with its agent up and an empty share. `create` in VM mode asks
// the pool first: it binds the container's rootfs and bind mounts into an idle VM's share (they
// appear in the guest at once through virtio-fs), hands over the agent channel, and boots a
// replacement. A container the pool cannot serve (a network to wire, more memory or vCPUs than a
// pooled VM has, another accelerator) boots cold. Without a pool nothing runs in the background.
//
// The pooled VMs' QEMU and virtiofsd are the daemon's children and die with it: `stop` ends the
// idle ones at once and the daemon stays until the last VM it lent out has stopped.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "vm/machine.hpp"
#include "vm/monitor.hpp"

namespace ns::vm {

struct PoolOptions {
  std::string root;  // the state root
  int size = 1;
  std::string accel = "auto";
};

// Starts the daemon, or resizes the running one; returns once SIZE VMs are idle.
Result<void> pool_start(const PoolOptions& o);
// Ends the idle VMs and the daemon (after the VMs it lent out have stopped).
Result<void> pool_stop(const std::string& root);
// {"size", "idle", "booting", "lent", "accel", "guestMiB", "vcpus", "pid"}; an error when no pool runs.
Result<nlohmann::json> pool_status(const std::string& root);

struct TakeRequest {
  std::vector<Share> shares;
  uint64_t guest_mib = 0;
  int vcpus = 1;
  std::string accel;
};
// A booted VM for a container, its shares attached; nullopt when no pool runs or none of its VMs
// fits (the caller boots cold). The agent channel's fd is the caller's to close.
Result<std::optional<MonitorPlan::Pooled>> pool_take(const std::string& root, const TakeRequest& r);

}  // namespace ns::vm
