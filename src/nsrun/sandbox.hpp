// nsrun's sandboxes: each one is an OCI bundle written under nsrun's state directory and run by
// the same runtime library as `ns-runtime` (same state root, so `ns-runtime list` shows them),
// plus what a person expects around it: networking, /etc/hosts, /etc/resolv.conf, a log of a
// detached sandbox's output, and removal that takes everything back.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "nsrun/network.hpp"
#include "nsrun/options.hpp"
#include "runtime/container.hpp"

namespace ns::nsrun {

// config.json for a sandbox. FILES names the sandbox's generated /etc files (hosts, hostname,
// resolv.conf) and NETNS the network namespace to join (bridge mode).
struct SandboxFiles {
  std::string hosts, hostname, resolv_conf, netns;
};
Result<nlohmann::json> build_config(const SandboxOptions& o, const SandboxFiles& files);

// The default seccomp profile: everything allowed but the calls a container has no business
// making (kernel modules, reboot, clock, swap, keyrings, namespaces and mounts, ptrace of
// others, BPF, perf), which fail with EPERM, as podman's default profile refuses them.
nlohmann::json default_seccomp();

class Sandboxes {
 public:
  // STATE: nsrun's own directory (bundles, logs, network caches); ROOT: the runtime's state root.
  Sandboxes(std::string state, std::string root, int host_mount_ns);

  // Runs a sandbox: attached it returns the command's exit status and removes the sandbox after;
  // detached it prints the name and leaves it running.
  Result<int> run(SandboxOptions o);
  Result<std::string> ls();
  Result<std::string> logs(const std::string& name);
  Result<int> exec(const std::string& name, const std::vector<std::string>& args, bool tty);
  Result<void> stop(const std::string& name, int timeout_s);
  // Removes everything of NAME (container, network, namespace, files); a running one only with
  // FORCE. Works on half-made sandboxes too.
  Result<void> rm(const std::string& name, bool force);

 private:
  std::string dir(const std::string& name) const;
  // The sandboxes in the state directory, by name (sorted), and one's sandbox.json (null when
  // it is missing or unreadable: a sandbox interrupted before it was written).
  std::vector<std::string> names() const;
  nlohmann::json meta(const std::string& name) const;
  Network network_of(const nlohmann::json& meta) const;
  Result<void> check_ports_free(const SandboxOptions& o);

  std::string state_;
  std::string root_;
  int host_mount_ns_;
  runtime::Runtime rt_;
};

// Default directories: nsrun's state (/run/nsrun as root) and the runtime's root.
Result<std::string> default_state_dir();

}  // namespace ns::nsrun
