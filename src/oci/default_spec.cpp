#include "oci/default_spec.hpp"

namespace ns::oci {

using json = nlohmann::json;

json default_spec(bool rootless, uid_t uid, gid_t gid) {
  json caps = json::array({"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
  json spec = {
      {"ociVersion", kOciVersion},
      {"process",
       {{"terminal", true},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"sh"}},
        {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "nano-sandbox"},
      {"mounts",
       {
           {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
           {{"destination", "/dev"},
            {"type", "tmpfs"},
            {"source", "tmpfs"},
            {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
           {{"destination", "/dev/pts"},
            {"type", "devpts"},
            {"source", "devpts"},
            {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
           {{"destination", "/dev/shm"},
            {"type", "tmpfs"},
            {"source", "shm"},
            {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
           {{"destination", "/dev/mqueue"},
            {"type", "mqueue"},
            {"source", "mqueue"},
            {"options", {"nosuid", "noexec", "nodev"}}},
           {{"destination", "/sys"},
            {"type", "sysfs"},
            {"source", "sysfs"},
            {"options", {"nosuid", "noexec", "nodev", "ro"}}},
           {{"destination", "/sys/fs/cgroup"},
            {"type", "cgroup"},
            {"source", "cgroup"},
            {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}},
       }},
      {"linux",
       {{"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
        {"namespaces",
         {{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}},
          {{"type", "cgroup"}}}},
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}},
  };
  if (!rootless) return spec;

  // Rootless: a user namespace maps the caller to root; no new network namespace (it could not
  // be connected anywhere), /sys is bound from the host, no cgroup mount and no resources. The
  // bind of /sys is read-only all the way down ("rro"): "ro" on a recursive bind is one remount
  // of the top mount, and /sys/fs/cgroup under it would stay writable (the CVE-2023-25809 class).
  auto& l = spec["linux"];
  l.erase("resources");
  l["uidMappings"] = {{{"containerID", 0}, {"hostID", uid}, {"size", 1}}};
  l["gidMappings"] = {{{"containerID", 0}, {"hostID", gid}, {"size", 1}}};
  json ns = json::array();
  for (const char* t : {"pid", "ipc", "uts", "mount", "cgroup", "user"}) ns.push_back({{"type", t}});
  l["namespaces"] = ns;
  json mounts = json::array();
  for (auto& m : spec["mounts"]) {
    if (m["destination"] == "/sys") {
      mounts.push_back({{"destination", "/sys"},
                        {"type", "none"},
                        {"source", "/sys"},
                        {"options", {"rbind", "nosuid", "noexec", "nodev", "ro", "rro"}}});
    } else if (m["destination"] == "/dev/pts") {
      m["options"] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
      mounts.push_back(m);
    } else if (m["destination"] != "/sys/fs/cgroup") {
      mounts.push_back(m);
    }
  }
  spec["mounts"] = mounts;
  return spec;
}

}  // namespace ns::oci
