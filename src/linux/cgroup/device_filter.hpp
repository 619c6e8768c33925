// Device access on cgroup v2. v2 has no devices.allow / devices.deny: which device nodes a
// cgroup's processes may open or mknod is decided by a BPF program of type CGROUP_DEVICE
// attached to the cgroup. This module turns the container's device rules (the same list the
// v1 files get, in the same order) into that program and attaches it.
//
// The rules keep v1's meaning: a rule for every device ("a") resets the whole list to allow
// or deny; after that the last rule that matches a request decides. The program checks the
// remaining rules from the last to the first and falls back to the default.
#pragma once

#include <linux/bpf.h>

#include <vector>

#include "common/error.hpp"
#include "linux/cgroup/resources.hpp"

namespace ns::linux_cgroup {

// The program for RULES (pure: unit tests run it on an interpreter).
std::vector<struct bpf_insn> device_program(const std::vector<DeviceRule>& rules);

// Where the devices controller is not a v1 hierarchy (pure v2) and CG has a cgroup2 directory:
// attaches the program for RULES there; true when it did. Nothing to do on v1 (the rules are
// devices.allow / devices.deny writes) or with no rules.
Result<bool> apply_device_filter(const Cgroup& cg, const std::vector<DeviceRule>& rules);

// Loads the program and attaches it to the cgroup directory CGROUP_DIR (a cgroup2 directory),
// replacing any device program attached there before (update).
Result<void> attach_device_program(const std::string& cgroup_dir, const std::vector<DeviceRule>& rules);

}  // namespace ns::linux_cgroup
