#include "linux/process/placement.hpp"

namespace ns::linux_process {

void CpuPlacement::plan() {
  int here = ::sched_getcpu();
  if (here < 0 || ::sched_getaffinity(0, sizeof original_, &original_) < 0) return;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (cpu == here || !CPU_ISSET(cpu, &original_)) continue;
    side_ = cpu;
    break;
  }
  if (side_ < 0) return;
  here_ = here;
  runtime_pinned_ = pin(0, here);
}

bool CpuPlacement::move_runtime_aside() {
  if (side_ < 0 || !pin(0, side_)) return false;
  runtime_pinned_ = true;
  return true;
}

void CpuPlacement::release() {
  if (!runtime_pinned_) return;
  runtime_pinned_ = false;
  restore(0, original_);
}

bool CpuPlacement::pin(pid_t pid, int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return ::sched_setaffinity(pid, sizeof one, &one) == 0;
}

void CpuPlacement::restore(pid_t pid, const cpu_set_t& cpus) {
  if (::sched_setaffinity(pid, sizeof cpus, &cpus) == 0) return;
  cpu_set_t all;
  CPU_ZERO(&all);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &all);
  (void)::sched_setaffinity(pid, sizeof all, &all);
}

}  // namespace ns::linux_process
