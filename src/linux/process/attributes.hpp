// How the container's process is scheduled and in which execution domain it runs: the
// personality (linux.personality), the scheduling policy (process.scheduler), the I/O priority
// (process.ioPriority) and the CPUs it may run on (process.execCPUAffinity). Parsed and checked
// at create, so a wrong value fails before anything is made; applied by the child (all of them
// are inherited across execve); the initial CPU affinity by the runtime, right after clone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "explain/narration.hpp"
#include "oci/spec.hpp"
#include "sys/kernel.hpp"

namespace ns::linux_process {

struct Scheduler {
  uint32_t policy = 0;  // SCHED_OTHER ...
  uint64_t flags = 0;   // SCHED_FLAG_*
  int32_t nice = 0;
  uint32_t priority = 0;
  uint64_t runtime = 0, deadline = 0, period = 0;
};

struct Attributes {
  std::optional<unsigned long> personality;  // PER_LINUX, PER_LINUX32
  std::optional<Scheduler> scheduler;
  std::optional<int> io_priority;             // IOPRIO_PRIO_VALUE(class, level)
  std::string cpus_initial, cpus_final;        // CPU lists ("0-3,7"); empty: unchanged
  [[nodiscard]] bool any() const {
    return personality || scheduler || io_priority || !cpus_initial.empty() || !cpus_final.empty();
  }
};

// Errors name the field: "config.json: process.scheduler.policy: unknown policy \"SCHED_FAST\"".
Result<Attributes> parse_attributes(const oci::Process& p, const oci::Linux* l);

// The child's part: personality, scheduler, I/O priority, final CPU affinity.
Result<void> apply_attributes(sys::Kernel& k, const Attributes& a);

namespace narration {
extern const explain::Narration kAttributes;
}

}  // namespace ns::linux_process
