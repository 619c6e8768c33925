// Control groups: where the container's processes are counted, limited, frozen and found again.
// This module knows the three layouts a host can have:
//   v2      one cgroup2 tree at /sys/fs/cgroup
//   v1      one tree per controller (/sys/fs/cgroup/memory, .../cpu,cpuacct, name=systemd ...)
//   hybrid  v1 trees plus a cgroup2 tree at /sys/fs/cgroup/unified (this is what crun refuses)
// and puts the container in a cgroup of the same path in every tree it finds.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "explain/narration.hpp"
#include "linux/fs/rootfs.hpp"
#include "sys/kernel.hpp"

namespace ns::linux_cgroup {

// A controller's name in cgroup v2: v1's blkio is io there; the others keep theirs.
inline std::string v2_controller(const std::string& controller) { return controller == "blkio" ? "io" : controller; }

struct Hierarchy {
  std::string mountpoint;    // "/sys/fs/cgroup/memory"
  std::string name;          // "memory", "cpu,cpuacct", "systemd", "unified", "" for pure v2
  std::string controllers;   // mount options naming it: "memory", "none,name=systemd", ""
  bool v2 = false;
};

struct Layout {
  std::vector<Hierarchy> hierarchies;
  [[nodiscard]] bool pure_v2() const { return hierarchies.size() == 1 && hierarchies[0].v2 && hierarchies[0].name.empty(); }
};

// Parses mountinfo text (the content of /proc/self/mountinfo).
Layout parse_layout(const std::string& mountinfo);
Result<Layout> detect_layout(sys::Kernel& k);
// The cgroup paths /proc/PID/cgroup lists for PID (one a hierarchy, as our cgroup namespace
// sees them); empty when PID is gone.
std::vector<std::string> cgroups_of(pid_t pid);
// The layout as a container's state records it at create, so that later verbs need not read
// mountinfo again (~0.1 ms each); recorded_layout falls back to detect_layout when the state
// has no usable record (a state written before it did).
nlohmann::json layout_to_json(const Layout& l);
Result<Layout> recorded_layout(sys::Kernel& k, const nlohmann::json& recorded);

// config.json linux.cgroupsPath -> the path under each hierarchy's root.
//   ""                 -> /nano-sandbox/<id>
//   "/a/b"             -> /a/b
//   "a/b"              -> /a/b   (relative paths hang off the root, as runc's cgroupfs driver does)
//   "slice:prefix:name" (systemd form) -> error unless a systemd manager exists
Result<std::string> resolve_path(const std::string& cgroups_path, const std::string& id, bool systemd);

// rmdir of a cgroup directory; a missing one is fine. Retries (up to ~1s) while the kernel still
// counts exiting tasks in it.
Result<void> remove_cgroup_dir(sys::Kernel& k, const std::string& dir);

// What a `cgroup` mount inside the container shows: one entry per hierarchy.
std::vector<linux_fs::CgroupMount> container_mounts(const Layout& layout);

// A directory of the cgroup that someone tried to make ahead of create() (the runtime's network
// namespace thread, beside the runtime's other work): ERR is mkdir's errno, 0 when it made it.
struct MadeAhead {
  std::string dir;
  int err = 0;
  bool cpuset_ready = false;  // a v1 cpuset directory whose CPUs and memory nodes were set too
};

// The container's cgroup in every hierarchy. Created on create(), removed on destroy().
class Cgroup {
 public:
  Cgroup() = default;
  Cgroup(Layout layout, std::string path) : layout_(std::move(layout)), path_(std::move(path)) {}

  // mkdir -p in every hierarchy; refuses a cgroup that already has processes in it (other than
  // BORN, a child born in a directory made ahead by create_one) or is frozen (and then removes
  // only the directories it made). AHEAD: directories someone already tried to make (made ones
  // count as ours; a missing parent means the usual walk).
  Result<void> create(sys::Kernel& k, pid_t born = 0, std::span<const MadeAhead> ahead = {});
  // mkdir -p in hierarchy H alone, ahead of create() (a child to be born in it); MADE gets
  // what it made, outermost first.
  Result<void> create_one(sys::Kernel& k, const Hierarchy& h, std::vector<std::string>& made,
                          std::span<const MadeAhead> ahead = {});
  Result<void> add_pid(sys::Kernel& k, pid_t pid);
  // Every pid in the cgroup (from the first hierarchy that has the directory).
  Result<std::vector<pid_t>> pids(sys::Kernel& k) const;
  // rmdir of the first hierarchy's directory alone: true when removed (or missing), false when
  // tasks are still in it (EBUSY, not retried); destroy() removes the rest.
  Result<bool> remove_first_if_empty(sys::Kernel& k);
  // rmdir in every hierarchy; missing directories are fine. Retries while the kernel still
  // counts exiting tasks.
  Result<void> destroy(sys::Kernel& k);

  // Where CONTROLLER lives: the v1 hierarchy that has it, else the cgroup2 tree if it offers it
  // (*is_v2 says which); nullptr when it is nowhere.
  const Hierarchy* home_of(sys::Kernel& k, const std::string& controller, bool* is_v2) const;

  // The file that tells (and sets) whether the cgroup is frozen; empty when there is no freezer.
  [[nodiscard]] std::string freezer_file() const;

  // The freezer: v1 freezer.state (FROZEN / THAWED, waiting out FREEZING), v2 cgroup.freeze.
  Result<void> freeze(sys::Kernel& k, bool frozen);

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] const Layout& layout() const { return layout_; }
  [[nodiscard]] std::string dir(const Hierarchy& h) const { return h.mountpoint + path_; }
  // The file a single-threaded process writes "0" into to move itself into H: on v1 `tasks`,
  // which moves just the writing thread. Moving a thread that is the writer itself is the one
  // migration for which the kernel does not take its global threadgroup lock for writing, and
  // so does not wait for an RCU grace period (5-20 ms the first time after a quiet spell, for
  // every cgroup.procs write); for a single-threaded process it moves the whole process. v2 has
  // no such file for a domain cgroup: cgroup.procs (a v2 child is born in its cgroup instead,
  // clone3's CLONE_INTO_CGROUP, which takes no such lock either).
  [[nodiscard]] std::string self_join_file(const Hierarchy& h) const {
    return dir(h) + (h.v2 ? "/cgroup.procs" : "/tasks");
  }

 private:
  Result<void> create_dirs(sys::Kernel& k, std::vector<std::string>& made, std::span<const MadeAhead> ahead);
  Layout layout_;
  std::string path_;
};

namespace narration {
extern const explain::Narration kCreate, kJoin, kAwaitJoin, kEnter, kExecJoin, kRemove, kFreeze, kThaw, kUpdate;
}

}  // namespace ns::linux_cgroup
