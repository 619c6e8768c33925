// Linux namespaces: which ones the container gets new (clone flags), which it joins by path
// (setns), and where each step must happen.
//   - pid and time namespaces only apply to children of the caller, so they are joined (setns)
//     or made (unshare CLONE_NEWTIME + offsets) by the runtime itself before clone;
//   - the cgroup namespace is unshared by the child after it has entered its cgroup, so the
//     cgroup is the root of what it sees;
//   - every other new namespace comes with clone(); joined ones are setns'd first thing in the
//     child, the user namespace before the others (it owns them).
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "explain/narration.hpp"
#include "oci/spec.hpp"
#include "sys/kernel.hpp"

namespace ns::linux_ns {

int clone_flag(oci::NsType t);
// CLONE_NEW* for clone(): the new namespaces a process must be born in. A pid namespace is only
// ever entered at birth; a new user namespace owns the others and gets its id maps from the
// runtime, outside it.
unsigned long clone_flags(const oci::Linux& l);
// CLONE_NEW* the child unshares itself, first thing, after joining those given by path (as runc
// does): network, IPC, UTS, mount; the network namespace not when NET_BY_RUNTIME (NetnsThread).
unsigned long unshare_flags(const oci::Linux& l, bool net_by_runtime = false);

// In the runtime, before clone: setns pid/time by path, or unshare time with its offsets.
Result<void> enter_parent_side(sys::Kernel& k, const oci::Linux& l);
// In the child: setns every other namespace given by path, the user namespace first; then
// unshare the new ones of unshare_flags.
Result<void> join_child_side(sys::Kernel& k, const oci::Linux& l, bool net_by_runtime = false);

// A new network namespace, made by a thread of the runtime while the runtime and the child go
// on with the rest of create. It is the dearest namespace to make (~0.4 ms here: the kernel
// registers the namespace's sysctl tables, devices and protocol state), and made by the child it
// held up everything the child does after it. unshare(CLONE_NEWNET) in a thread moves only that
// thread; it hands an fd of the namespace to DELIVER, which sends it to the child, and then
// brings lo up there. The child enters the namespace (setns) before its first sysfs mount, which
// shows the network devices of the namespace it is mounted from; the runtime joins the thread
// (lo is up then, or loopback_err says why not) before it lets the child go on to exec.
// The thread makes system calls and nothing else: the runtime forks the child while it runs,
// and a child forked while another thread holds an allocator lock would find it held for ever.
class NetnsThread {
 public:
  // Called on the thread, once: the namespace's fd (closed after the call), or -1 with the errno
  // and the call that failed. Must not allocate.
  using Deliver = void (*)(void* arg, int ns_fd, int err, const char* op) noexcept;

  // Whether the runtime can make the container's network namespace: as root, a new network
  // namespace (not one joined by path), and no user namespace, new or joined (the network
  // namespace must belong to the container's, which only the child can make or join) and no
  // time namespace (setns into one, which the runtime does before clone, needs a single thread).
  static bool applies(const oci::Linux& l);

  NetnsThread() = default;
  NetnsThread(const NetnsThread&) = delete;
  NetnsThread& operator=(const NetnsThread&) = delete;
  ~NetnsThread() { join(); }

  // Once it has sent the namespace, the thread takes one job from the runtime: work the runtime
  // can hand it because the thread's CPU is free then (the cgroup's directories; system calls
  // only, like the thread itself). post() once: a job, or nullptr for none; the thread waits
  // for it before it goes on (lo), and wait_job() returns once the job has run.
  using Job = void (*)(void* arg) noexcept;
  void post(Job job, void* arg);
  void wait_job();

  // Starts the thread with every signal blocked (they stay the main thread's to take), on CPU
  // when it is not -1.
  Result<void> start(Deliver deliver, void* arg, int cpu = -1);
  // Waits for the thread (no-op when none runs; posts "no job" if nothing was posted); false
  // when it was never started.
  bool join();
  [[nodiscard]] bool running() const { return running_; }
  // CLOCK_MONOTONIC ns the thread started and took, for --explain (after join).
  [[nodiscard]] uint64_t start_ns() const { return start_ns_; }
  [[nodiscard]] uint64_t duration_ns() const { return end_ns_ - start_ns_; }
  // After join: 0 when lo came up in the namespace (or none was made), else the errno.
  [[nodiscard]] int loopback_err() const { return loopback_err_; }

 private:
  static void* run(void* self);
  pthread_t thread_{};
  bool running_ = false;
  Deliver deliver_ = nullptr;
  void* arg_ = nullptr;
  uint64_t start_ns_ = 0, end_ns_ = 0;
  int loopback_err_ = 0;
  // 0 nothing posted yet, 1 posted; job_done_: 1 once the posted job (or none) has run.
  std::atomic<int> posted_{0}, job_done_{0};
  Job job_ = nullptr;
  void* job_arg_ = nullptr;
};
// A namespace held open so that its last process's exit does not tear it down, let go of by a
// thread of ours when asked. An attached `run` holds the container's mount namespace: the init's
// exit then skips the teardown of its ~30 mounts (an RCU grace period among them) and the
// runtime learns of the exit that much sooner; the thread tears the namespace down on the other
// CPU while the runtime removes the cgroup, and the runtime waits for it before it exits.
class HeldNamespace {
 public:
  // Holds FD and starts the thread, every signal blocked in it (a signal the runtime waits for
  // with signalfd, SIGCHLD, must not be delivered to a thread that ignores it). Nothing to do
  // when FD is not open, or when the thread cannot start (FD is then closed at once).
  explicit HeldNamespace(UniqueFd fd);
  HeldNamespace(const HeldNamespace&) = delete;
  HeldNamespace& operator=(const HeldNamespace&) = delete;
  // Lets go (if let_go() was not called) and waits for the thread.
  ~HeldNamespace();
  // The thread closes the fd now; returns at once.
  void let_go();
  [[nodiscard]] bool held() const { return running_; }

 private:
  static void* run(void* self);
  UniqueFd fd_;
  pthread_t thread_{};
  bool running_ = false;
  std::atomic<int> go_{0};
};
// The mount namespace of PID when it is not ours (the child has made its own by now), else not
// open: what CreateOptions::hold_mount_ns holds.
UniqueFd open_own_mount_ns(pid_t pid);

// In the child, after the cgroup join: unshare(CLONE_NEWCGROUP) when a new one is asked for.
Result<void> unshare_cgroup(sys::Kernel& k, const oci::Linux& l);

// Writes /proc/PID/{uid_map,gid_map} for a new user namespace (runtime side, as root).
Result<void> write_id_maps(sys::Kernel& k, int pid, const oci::Linux& l);

// What each namespace gives the container, one sentence each: the clone narration lists them.
const char* purpose(oci::NsType t);
// purpose() of each new namespace of L that FLAGS (clone_flags, unshare_flags) makes, in order.
std::vector<const char*> purposes(const oci::Linux& l, unsigned long flags);

namespace narration {
extern const explain::Narration kParentNamespaces, kClone, kJoinNamespaces, kCgroupNamespace, kLoopback, kIdMaps,
    kJoinContainer, kNetnsThread;
}

}  // namespace ns::linux_ns
