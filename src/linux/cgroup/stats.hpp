// Resource usage of a container's cgroup, as runc's `events` reports it: cpu, memory (+swap),
// pids, and the OOM-kill counter that `events` watches.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "linux/cgroup/cgroup.hpp"
#include "sys/kernel.hpp"

namespace ns::linux_cgroup {

// runc's stats object: {"cpu": {...}, "memory": {...}, "pids": {...}, "blkio": {}, "hugetlb": {}}
nlohmann::json read_stats(sys::Kernel& k, const Cgroup& cg);
// How many times the OOM killer acted in the cgroup (v1 memory.oom_control oom_kill, v2
// memory.events oom_kill); 0 when unknown.
uint64_t oom_kills(sys::Kernel& k, const Cgroup& cg);

}  // namespace ns::linux_cgroup
