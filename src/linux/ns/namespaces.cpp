#include "linux/ns/namespaces.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <string>

#include "common/fd.hpp"
#include "linux/process/process.hpp"
#include "linux/process/program.hpp"

namespace ns::linux_ns {

namespace narration {
const explain::Narration kParentNamespaces{
    "parent-namespaces", "linux.namespaces (pid, time)",
    "A new pid or time namespace applies to the children of the process that makes it, never to that process "
    "itself. So the runtime joins (setns) or makes these before clone, and the child is born inside them."};
const explain::Narration kClone{
    "clone", "linux.namespaces",
    "A container is an ordinary process that sees its own view of the system; each view is a namespace. clone3 "
    "starts the child in its new pid (and user) namespace, which can only be had at birth; the child makes the "
    "rest itself. A socket pair (the sync channel) carries Go one way and an error or Ready the other."};
const explain::Narration kJoinNamespaces{
    "namespaces", "linux.namespaces",
    "Namespaces config.json names by path are shared with something else (a pod's network, say): the child joins "
    "them with setns, the user namespace first. Then it makes its new IPC, UTS and mount namespaces with one "
    "unshare (and its network namespace, unless a thread of the runtime is making that one), while the runtime "
    "makes its cgroup."};
const explain::Narration kCgroupNamespace{
    "cgroup-namespace", "linux.namespaces (cgroup)",
    "The cgroup namespace makes the container's own cgroup look like the root of the tree, in /proc/self/cgroup "
    "and in a cgroup mount. It is unshared only now, after the runtime moved us into our cgroup, so that this "
    "cgroup is the one that becomes our root."};
const explain::Narration kLoopback{
    "loopback", "linux.namespaces (network)",
    "A new network namespace holds only a loopback device, and it starts down. Programs expect 127.0.0.1 to "
    "work, so the runtime brings lo up as runc does; any other interface is for the engine to add (CNI)."};
const explain::Narration kNetnsThread{
    "netns-thread", "linux.namespaces (network)",
    "A new network namespace is the dearest namespace to make: the kernel registers its own sysctl tables, "
    "loopback device and protocol state. A thread of the runtime makes it (unshare moves only that thread) "
    "while the child does its first mounts and sends it over the sync channel; then it makes its share of the "
    "cgroup's directories and brings lo up."};
const explain::Narration kJoinContainer{
    "join-namespaces", "",
    "exec does not make namespaces, it joins the container's: setns on each /proc/<init>/ns/* that differs from "
    "ours, the user namespace first (it owns the others) and the mount namespace last (after it, host paths are "
    "gone). A pid namespace is entered only by children, so the process forks once more: that child is the one "
    "that runs in the container."};
const explain::Narration kIdMaps{
    "id-maps", "linux.uidMappings, linux.gidMappings",
    "A new user namespace starts with no user ids at all. Its uid_map and gid_map say which host ids its ids "
    "stand for (0 inside may be 100000 outside), and only a process outside the namespace may write them, so "
    "the runtime does it while the child waits."};
}  // namespace narration

using oci::NsType;

int clone_flag(NsType t) {
  switch (t) {
    case NsType::Pid: return CLONE_NEWPID;
    case NsType::Network: return CLONE_NEWNET;
    case NsType::Mount: return CLONE_NEWNS;
    case NsType::Ipc: return CLONE_NEWIPC;
    case NsType::Uts: return CLONE_NEWUTS;
    case NsType::User: return CLONE_NEWUSER;
    case NsType::Cgroup: return CLONE_NEWCGROUP;
    case NsType::Time: return CLONE_NEWTIME;
  }
  return 0;
}

const char* purpose(NsType t) {
  switch (t) {
    case NsType::Pid: return "CLONE_NEWPID: its own process numbers; the container's first process is pid 1 and sees only its descendants";
    case NsType::Network: return "CLONE_NEWNET: its own network devices, addresses, routes and ports";
    case NsType::Mount: return "CLONE_NEWNS: its own mount table, so mounting the rootfs and /proc changes nothing on the host";
    case NsType::Ipc: return "CLONE_NEWIPC: its own System V IPC objects and POSIX message queues";
    case NsType::Uts: return "CLONE_NEWUTS: its own hostname and domain name";
    case NsType::User: return "CLONE_NEWUSER: its own user and group ids, so root inside need not be root outside";
    case NsType::Cgroup: return "CLONE_NEWCGROUP: its own cgroup appears as the root of the cgroup tree (unshared after the cgroup join)";
    case NsType::Time: return "CLONE_NEWTIME: its own offsets for the monotonic and boot clocks";
  }
  return "";
}

std::vector<const char*> purposes(const oci::Linux& l, unsigned long flags) {
  std::vector<const char*> out;
  for (auto& n : l.namespaces)
    if (n.path.empty() && (flags & static_cast<unsigned long>(clone_flag(n.type)))) out.push_back(purpose(n.type));
  return out;
}

unsigned long clone_flags(const oci::Linux& l) {
  unsigned long flags = 0;
  for (NsType t : {NsType::Pid, NsType::User})
    if (l.has_new_namespace(t)) flags |= static_cast<unsigned long>(clone_flag(t));
  return flags;
}

unsigned long unshare_flags(const oci::Linux& l, bool net_by_runtime) {
  unsigned long flags = 0;
  for (NsType t : {NsType::Network, NsType::Ipc, NsType::Uts, NsType::Mount})
    if (l.has_new_namespace(t) && !(t == NsType::Network && net_by_runtime))
      flags |= static_cast<unsigned long>(clone_flag(t));
  return flags;
}

static Result<void> setns_path(sys::Kernel& k, const oci::Namespace& n) {
  auto fd = k.open(n.path, O_RDONLY);
  if (!fd) {
    Error e = fd.error();
    e.op = std::string("open ") + oci::ns_type_name(n.type) + " namespace";
    return std::unexpected(e);
  }
  if (auto r = k.setns(fd->get(), clone_flag(n.type)); !r) {
    Error e = r.error();
    e.op = std::string("join ") + oci::ns_type_name(n.type) + " namespace";
    e.path = n.path;
    return std::unexpected(e);
  }
  return {};
}

Result<void> enter_parent_side(sys::Kernel& k, const oci::Linux& l) {
  for (NsType t : {NsType::Pid, NsType::Time}) {
    const oci::Namespace* n = l.find_namespace(t);
    if (n && !n->path.empty()) TRY(setns_path(k, *n));
  }
  if (l.has_new_namespace(NsType::Time)) {
    TRY(k.unshare(CLONE_NEWTIME));
    // Offsets can only be written before the first process enters the namespace.
    std::string offsets;
    for (auto& [clock, off] : l.time_offsets) {
      int id = clock == "monotonic" ? CLOCK_MONOTONIC : CLOCK_BOOTTIME;
      offsets += std::to_string(id) + " " + std::to_string(off.secs) + " " + std::to_string(off.nanosecs) + "\n";
    }
    if (!offsets.empty()) TRY(k.write_file("/proc/self/timens_offsets", offsets));
  }
  return {};
}

Result<void> join_child_side(sys::Kernel& k, const oci::Linux& l, bool net_by_runtime) {
  if (auto* u = l.find_namespace(NsType::User); u && !u->path.empty()) TRY(setns_path(k, *u));
  for (auto& n : l.namespaces) {
    if (n.path.empty() || n.type == NsType::User || n.type == NsType::Pid || n.type == NsType::Time) continue;
    TRY(setns_path(k, n));
  }
  if (unsigned long flags = unshare_flags(l, net_by_runtime)) {
    if (auto r = k.unshare(static_cast<int>(flags)); !r) {
      Error e = r.error();
      e.op = "unshare the container's new namespaces";
      return std::unexpected(e);
    }
  }
  return {};
}

bool NetnsThread::applies(const oci::Linux& l) {
  return ::geteuid() == 0 && l.has_new_namespace(NsType::Network) && !l.find_namespace(NsType::User) &&
         !l.find_namespace(NsType::Time);
}

namespace {
// pthread_create with every signal blocked in the new thread: signals stay the main thread's to
// take (its signalfd must see SIGCHLD; a thread that did not block it would take it, ignored).
int create_signals_blocked(pthread_t* t, const pthread_attr_t* attr, void* (*fn)(void*), void* arg) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int err = pthread_create(t, attr, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return err;
}
}  // namespace

Result<void> NetnsThread::start(Deliver deliver, void* arg, int cpu) {
  deliver_ = deliver;
  arg_ = arg;
  // On the CPU it is given (linux_process::CpuPlacement: not the runtime's).
  auto on_cpu = [cpu](pthread_attr_t& a) {
    pthread_attr_init(&a);
    if (cpu < 0) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pthread_attr_setaffinity_np(&a, sizeof one, &one);
  };
  pthread_attr_t attr, rt;
  on_cpu(attr);
  // Until the namespace is sent the thread is what the child waits for first, and its CPU is
  // where the runtime goes to make the cgroup once it has cloned the child: a real-time
  // priority (the lowest) keeps the runtime from cutting in before the namespace is out. It
  // drops to SCHED_IDLE then (run). Without CAP_SYS_NICE, an ordinary thread.
  on_cpu(rt);
  struct sched_param lowest{};
  lowest.sched_priority = ::sched_get_priority_min(SCHED_FIFO);
  pthread_attr_setinheritsched(&rt, PTHREAD_EXPLICIT_SCHED);
  pthread_attr_setschedpolicy(&rt, SCHED_FIFO);
  pthread_attr_setschedparam(&rt, &lowest);
  int err = create_signals_blocked(&thread_, &rt, &NetnsThread::run, this);
  if (err == EPERM) err = create_signals_blocked(&thread_, &attr, &NetnsThread::run, this);
  pthread_attr_destroy(&rt);
  pthread_attr_destroy(&attr);
  if (err) return std::unexpected(Error{err, "start the network namespace thread", {}, {}, {}});
  running_ = true;
  return {};
}

namespace {
// A futex on one of NetnsThread's flags: wait while it still holds OLD, or wake its waiters.
void flag_wait(std::atomic<int>& flag, int old) noexcept {
  while (flag.load(std::memory_order_acquire) == old)
    ::syscall(SYS_futex, reinterpret_cast<int*>(&flag), FUTEX_WAIT_PRIVATE, old, nullptr, nullptr, 0);
}
void flag_set(std::atomic<int>& flag) noexcept {
  flag.store(1, std::memory_order_release);
  ::syscall(SYS_futex, reinterpret_cast<int*>(&flag), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
}
}  // namespace

void NetnsThread::post(Job job, void* arg) {
  if (posted_.load(std::memory_order_acquire)) return;
  job_ = job;
  job_arg_ = arg;
  flag_set(posted_);
}

void NetnsThread::wait_job() {
  if (!running_) return;
  flag_wait(job_done_, 0);
}

bool NetnsThread::join() {
  if (!running_) return false;
  post(nullptr, nullptr);
  pthread_join(thread_, nullptr);
  running_ = false;
  return true;
}

HeldNamespace::HeldNamespace(UniqueFd fd) : fd_(std::move(fd)) {
  if (!fd_) return;
  int err = create_signals_blocked(&thread_, nullptr, &HeldNamespace::run, this);
  if (err) fd_.reset();  // held by nobody then: torn down by the init's exit, as without a hold
  running_ = err == 0;
}

HeldNamespace::~HeldNamespace() {
  if (!running_) return;
  let_go();
  pthread_join(thread_, nullptr);
}

void HeldNamespace::let_go() { flag_set(go_); }

void* HeldNamespace::run(void* self) {
  auto* h = static_cast<HeldNamespace*>(self);
  flag_wait(h->go_, 0);
  h->fd_.reset();  // the namespace's teardown, here
  return nullptr;
}

UniqueFd open_own_mount_ns(pid_t pid) {
  UniqueFd fd(::open(("/proc/" + std::to_string(pid) + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC));
  struct stat theirs{}, ours{};
  if (!fd || ::fstat(fd.get(), &theirs) < 0 || ::stat("/proc/self/ns/mnt", &ours) < 0) return {};
  if (theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino) return {};  // not unshared yet
  return fd;
}

namespace {
uint64_t monotonic_ns() noexcept {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

void* NetnsThread::run(void* self) {
  auto* t = static_cast<NetnsThread*>(self);
  t->start_ns_ = monotonic_ns();
  int fd = -1, err = 0;
  const char* op = nullptr;
  if (::unshare(CLONE_NEWNET) < 0) {
    err = errno;
    op = "unshare(CLONE_NEWNET)";
  } else if ((fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
    err = errno;
    op = "open /proc/thread-self/ns/net";
  }
  // The child needs the namespace itself first (for sysfs); lo only before it execs, which
  // the runtime makes sure of when it joins us.
  t->deliver_(t->arg_, fd, err, op);
  // The runtime's job, still at our priority: the child waits for it next.
  flag_wait(t->posted_, 0);
  if (t->job_) t->job_(t->job_arg_);
  flag_set(t->job_done_);
  if (fd >= 0) {
    // The rest of our work is needed only at the end of create: whatever else wants this CPU
    // (the runtime's cgroup work, which the child waits for next) goes first.
    struct sched_param none{};
    (void)::sched_setscheduler(0, SCHED_IDLE, &none);
    ::close(fd);
    t->loopback_err_ = sys::loopback_up_errno();
  }
  t->end_ns_ = monotonic_ns();
  return nullptr;
}

Result<void> unshare_cgroup(sys::Kernel& k, const oci::Linux& l) {
  if (!l.has_new_namespace(NsType::Cgroup)) return {};
  return k.unshare(CLONE_NEWCGROUP);
}

namespace {

// A map an unprivileged process may write itself: one line, its own id, size 1.
bool own_id_only(const std::vector<oci::IdMapping>& maps, unsigned id) {
  return maps.size() == 1 && maps[0].size == 1 && maps[0].host_id == id;
}

// newuidmap / newgidmap (Debian's uidmap package): setuid helpers that write the ranges
// /etc/subuid and /etc/subgid grant us. Their complaint, if any, becomes the error.
Result<void> run_map_helper(const char* tool, int pid, const std::vector<oci::IdMapping>& maps) {
  std::string path;
  for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"})
    if (::access((std::string(dir) + tool).c_str(), X_OK) == 0) {
      path = std::string(dir) + tool;
      break;
    }
  if (path.empty())
    return make_error(std::string(tool) + " not found: without root, mapping more than your own id needs the setuid "
                      "helpers of Debian's uidmap package, and ranges for you in /etc/subuid and /etc/subgid");
  std::vector<std::string> args = {path, std::to_string(pid)};
  for (auto& m : maps) {
    args.push_back(std::to_string(m.container_id));
    args.push_back(std::to_string(m.host_id));
    args.push_back(std::to_string(m.size));
  }
  linux_process::Program p;
  p.path = path;
  p.args = args;
  auto r = TRY(linux_process::run_program(p));
  if (r.ok()) return {};
  std::string said = r.out;
  while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
  return make_error(std::string(tool) + " failed" + (said.empty() ? "" : ": " + said));
}

}  // namespace

Result<void> write_id_maps(sys::Kernel& k, int pid, const oci::Linux& l) {
  auto render = [](const std::vector<oci::IdMapping>& maps) {
    std::string out;
    for (auto& m : maps)
      out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
    return out;
  };
  std::string base = "/proc/" + std::to_string(pid);
  if (::geteuid() == 0) {
    TRY(k.write_file(base + "/uid_map", render(l.uid_mappings)));
    TRY(k.write_file(base + "/gid_map", render(l.gid_mappings)));
    return {};
  }
  // Without root: our own id we may map ourselves; anything more goes through newuidmap.
  if (own_id_only(l.uid_mappings, ::geteuid())) TRY(k.write_file(base + "/uid_map", render(l.uid_mappings)));
  else TRY(run_map_helper("newuidmap", pid, l.uid_mappings));
  if (own_id_only(l.gid_mappings, ::getegid())) {
    // The kernel lets us write gid_map only once setgroups is denied in the new namespace
    // (else a process could drop a group that was denying it access), as runc does.
    TRY(k.write_file(base + "/setgroups", "deny"));
    TRY(k.write_file(base + "/gid_map", render(l.gid_mappings)));
  } else {
    TRY(run_map_helper("newgidmap", pid, l.gid_mappings));
  }
  return {};
}

}  // namespace ns::linux_ns
