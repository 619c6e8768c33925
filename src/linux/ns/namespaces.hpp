// Linux namespaces: which ones the container gets new (clone flags), which it joins by path
// (setns), and where each step must happen.
//   - pid and time namespaces only apply to children of the caller, so they are joined (setns)
//     or made (unshare CLONE_NEWTIME + offsets) by the runtime itself before clone;
//   - the cgroup namespace is unshared by the child after it has entered its cgroup, so the
//     cgroup is the root of what it sees;
//   - every other new namespace comes with clone(); joined ones are setns'd first thing in the
//     child, the user namespace before the others (it owns them).
#pragma once

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
// does): network, IPC, UTS, mount. A network namespace is the dearest thing a create makes
// (~0.5 ms): made by the child, it is built while the runtime makes the cgroup.
unsigned long unshare_flags(const oci::Linux& l);

// In the runtime, before clone: setns pid/time by path, or unshare time with its offsets.
Result<void> enter_parent_side(sys::Kernel& k, const oci::Linux& l);
// In the child: setns every other namespace given by path, the user namespace first; then
// unshare the new ones of unshare_flags.
Result<void> join_child_side(sys::Kernel& k, const oci::Linux& l);
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
    kJoinContainer;
}

}  // namespace ns::linux_ns
