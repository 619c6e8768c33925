// Which CPU each of create's workers runs on. create has three at once: the runtime (making the
// cgroup), its network namespace thread, and the child (mounts, the longest of the three). A
// kernel that packs tasks onto as few CPUs as it can (VM guests here: sched_vcpu_pack) puts a
// new task where its parent runs and a woken one where its waker runs, so the thread and the
// child would wait for the runtime's CPU while another sits idle. So, with two CPUs or more
// allowed: the runtime pins itself to the CPU it is on, the thread goes to another (the side
// CPU), the child is born on the runtime's CPU and keeps it to itself, and the runtime, once it
// has cloned the child, moves to the side CPU, where its cgroup work follows the thread's (which
// runs at a real-time priority until the child has its namespace). Everyone gets the CPUs the
// runtime had back: the runtime when create is done or before it runs a hook, the child before
// a createContainer hook and at the start of its process stages (before a seccomp filter could
// forbid the call), so the container's process and every hook inherit them. Not used when
// config.json sets execCPUAffinity. The runtime never changes its priority: the container's
// process and every hook run at the nice value of the runtime's caller.
#pragma once

#include <sched.h>
#include <sys/types.h>


namespace ns::linux_process {

class CpuPlacement {
 public:
  CpuPlacement() = default;
  CpuPlacement(const CpuPlacement&) = delete;
  CpuPlacement& operator=(const CpuPlacement&) = delete;
  ~CpuPlacement() { release(); }

  // Picks the runtime's CPU (where it runs now) and another it may use, and pins the runtime to
  // its own. With a single CPU allowed, nothing (active() is false).
  void plan();
  [[nodiscard]] bool active() const { return side_ >= 0; }
  // The network namespace thread's CPU, and the runtime's once it has cloned the child.
  [[nodiscard]] int side_cpu() const { return side_; }
  // The CPU the runtime was on, and the child is born on.
  [[nodiscard]] int runtime_cpu() const { return here_; }
  // The runtime (the caller) to the side CPU; false if the kernel refused.
  bool move_runtime_aside();
  // The runtime's CPUs before plan().
  [[nodiscard]] const cpu_set_t& original() const { return original_; }
  // The runtime's CPUs back.
  void release();

  // Pins task PID (0: the caller) to CPU; false if the kernel refused (a cpuset without it).
  static bool pin(pid_t pid, int cpu);
  // Gives task PID (0: the caller) the CPUS back, within its cpuset; every CPU of its cpuset
  // when none of CPUS is in it.
  static void restore(pid_t pid, const cpu_set_t& cpus);

 private:
  cpu_set_t original_{};
  int side_ = -1;
  int here_ = -1;
  bool runtime_pinned_ = false;
};

}  // namespace ns::linux_process
