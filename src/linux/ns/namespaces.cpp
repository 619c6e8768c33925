#include "linux/ns/namespaces.hpp"

#include <fcntl.h>
#include <sched.h>

#include <ctime>

namespace ns::linux_ns {

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

unsigned long clone_flags(const oci::Linux& l) {
  unsigned long flags = 0;
  for (auto& n : l.namespaces) {
    if (!n.path.empty() || n.type == NsType::Time || n.type == NsType::Cgroup) continue;
    flags |= static_cast<unsigned long>(clone_flag(n.type));
  }
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

Result<void> join_child_side(sys::Kernel& k, const oci::Linux& l) {
  if (auto* u = l.find_namespace(NsType::User); u && !u->path.empty()) TRY(setns_path(k, *u));
  for (auto& n : l.namespaces) {
    if (n.path.empty() || n.type == NsType::User || n.type == NsType::Pid || n.type == NsType::Time) continue;
    TRY(setns_path(k, n));
  }
  return {};
}

Result<void> unshare_cgroup(sys::Kernel& k, const oci::Linux& l) {
  if (!l.has_new_namespace(NsType::Cgroup)) return {};
  return k.unshare(CLONE_NEWCGROUP);
}

Result<void> write_id_maps(sys::Kernel& k, int pid, const oci::Linux& l) {
  auto render = [](const std::vector<oci::IdMapping>& maps) {
    std::string out;
    for (auto& m : maps)
      out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
    return out;
  };
  std::string base = "/proc/" + std::to_string(pid);
  TRY(k.write_file(base + "/uid_map", render(l.uid_mappings)));
  TRY(k.write_file(base + "/gid_map", render(l.gid_mappings)));
  return {};
}

}  // namespace ns::linux_ns
