#include "linux/cgroup/resources.hpp"

#include <algorithm>
#include <set>

#include "common/file.hpp"
#include "common/log.hpp"
#include "oci/json_reader.hpp"

namespace ns::linux_cgroup {
namespace {

using oci::detail::field_error;
using oci::detail::Obj;

Result<std::vector<ThrottleDevice>> throttles(Obj& o, const std::string& key) {
  std::vector<ThrottleDevice> out;
  TRY(o.each_object(key, [&](Obj& d) -> Result<void> {
    ThrottleDevice t;
    TRY(d.int_into("major", t.major));
    TRY(d.int_into("minor", t.minor));
    TRY(d.int_into("rate", t.rate));
    out.push_back(t);
    return {};
  }));
  return out;
}

std::string dev_num(int64_t n) { return n < 0 ? "*" : std::to_string(n); }

// -1 (or any negative) means unlimited.
std::string v1_limit(int64_t v) { return v < 0 ? "-1" : std::to_string(v); }
std::string v2_limit(int64_t v) { return v < 0 ? "max" : std::to_string(v); }

}  // namespace

std::string describe(const Write& w, bool v2) {
  const std::string& file = v2 ? w.v2_file : w.v1_file;
  const std::string& value = v2 ? w.v2_value : w.v1_value;
  auto has = [&](const char* s) { return file.find(s) != std::string::npos; };
  std::string what;
  if (w.controller == "memory") {
    if (has("soft_limit") || has("memory.low")) what = "memory the kernel tries to leave the container when the host runs short";
    else if (has("memsw")) what = "memory plus swap the container may use (v1 counts them together)";
    else if (has("swap.max")) what = "swap the container may use on top of its memory";
    else if (has("kmem.tcp")) what = "kernel memory for TCP buffers";
    else if (has("kmem")) what = "kernel memory (page tables, dentries) the container may pin";
    else if (has("swappiness")) what = "how eagerly the container's memory is swapped out (0-100)";
    else if (has("oom_control")) what = "1 switches the OOM killer off for the container: its processes wait for memory instead";
    else what = "the most memory the container may use; past it the kernel reclaims, then the OOM killer ends one of its processes";
  } else if (w.controller == "cpu") {
    if (has("shares") || has("weight")) what = "the container's share of CPU time when CPUs are contended (v1 shares 2-262144 map to v2 weight 1-10000)";
    else if (has("cpu.max.burst") || has("burst")) what = "unused quota the container may save up and spend in a burst";
    else if (has("cpu.max") || has("quota") || has("period")) what = "CPU time allowed per period, in microseconds: 50000 of 100000 is half a CPU";
    else if (has("rt_")) what = "real-time CPU time allowed per period";
    else if (has("idle")) what = "1 makes the container's processes run only when nothing else wants the CPU";
  } else if (w.controller == "cpuset") {
    what = has("mems") ? "the memory nodes the container may allocate from" : "the CPUs the container may run on";
  } else if (w.controller == "pids") {
    what = "the most processes and threads the container may have at once; past it fork fails with EAGAIN";
  } else if (w.controller == "blkio" || w.controller == "io") {
    if (has("weight")) what = "the container's share of disk time when disks are contended";
    else what = "a ceiling on disk bytes or operations per second for one device (major:minor)";
  } else if (w.controller == "hugetlb") {
    what = "the most huge pages of this size the container may use";
  } else if (w.controller == "devices") {
    what = std::string(has("deny") ? "forbids" : "allows") + " opening device nodes of this type major:minor with these rights (r, w, m = mknod)";
  } else if (w.controller == "net_cls") {
    what = "a class id that marks the container's packets for traffic control";
  } else if (w.controller == "net_prio") {
    what = "the priority of the container's packets on one interface";
  } else if (w.controller == "rdma") {
    what = "the most RDMA handles and objects the container may hold";
  }
  if (what.empty()) what = "set as linux.resources.unified gives it";
  return file + " = " + value + ": " + what;
}

uint64_t shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_to_io_weight(uint64_t weight) {
  if (weight == 0) return 0;
  weight = std::clamp<uint64_t>(weight, 10, 1000);
  return 1 + (weight - 10) * 9999 / 990;
}

Result<Resources> parse_resources(const nlohmann::json& j) {
  Resources r;
  if (j.is_null()) return r;
  Obj top(j, "linux.resources");
  if (auto m = TRY(top.object("memory"))) {
    r.memory_limit = TRY(m->integer<int64_t>("limit"));
    r.memory_reservation = TRY(m->integer<int64_t>("reservation"));
    r.memory_swap = TRY(m->integer<int64_t>("swap"));
    r.memory_kernel = TRY(m->integer<int64_t>("kernel"));
    r.memory_kernel_tcp = TRY(m->integer<int64_t>("kernelTCP"));
    r.memory_swappiness = TRY(m->integer<uint64_t>("swappiness"));
    if (r.memory_swappiness && *r.memory_swappiness > 100)
      return field_error("linux.resources.memory.swappiness", "must be between 0 and 100");
    bool d = false;
    if (m->get("disableOOMKiller")) {
      TRY(m->bool_into("disableOOMKiller", d));
      r.disable_oom_killer = d;
    }
    bool check = false;
    TRY(m->bool_into("checkBeforeUpdate", check));
    (void)TRY(m->integer<int64_t>("useHierarchy"));
    m->warn_unknown();
  }
  if (auto c = TRY(top.object("cpu"))) {
    r.cpu_shares = TRY(c->integer<uint64_t>("shares"));
    r.cpu_quota = TRY(c->integer<int64_t>("quota"));
    r.cpu_period = TRY(c->integer<uint64_t>("period"));
    r.cpu_burst = TRY(c->integer<uint64_t>("burst"));
    r.cpu_realtime_runtime = TRY(c->integer<int64_t>("realtimeRuntime"));
    r.cpu_realtime_period = TRY(c->integer<uint64_t>("realtimePeriod"));
    TRY(c->str_into("cpus", r.cpus));
    TRY(c->str_into("mems", r.mems));
    r.cpu_idle = TRY(c->integer<int64_t>("idle"));
    c->warn_unknown();
  }
  if (auto p = TRY(top.object("pids"))) {
    r.pids_limit = TRY(p->integer<int64_t>("limit"));
    p->warn_unknown();
  }
  if (auto b = TRY(top.object("blockIO"))) {
    r.blkio_weight = TRY(b->integer<uint16_t>("weight"));
    r.blkio_leaf_weight = TRY(b->integer<uint16_t>("leafWeight"));
    TRY(b->each_object("weightDevice", [&](Obj& d) -> Result<void> {
      WeightDevice w;
      TRY(d.int_into("major", w.major));
      TRY(d.int_into("minor", w.minor));
      w.weight = TRY(d.integer<uint16_t>("weight"));
      w.leaf_weight = TRY(d.integer<uint16_t>("leafWeight"));
      r.blkio_weight_device.push_back(w);
      return {};
    }));
    r.throttle_read_bps = TRY(throttles(*b, "throttleReadBpsDevice"));
    r.throttle_write_bps = TRY(throttles(*b, "throttleWriteBpsDevice"));
    r.throttle_read_iops = TRY(throttles(*b, "throttleReadIOPSDevice"));
    r.throttle_write_iops = TRY(throttles(*b, "throttleWriteIOPSDevice"));
    b->warn_unknown();
  }
  TRY(top.each_object("hugepageLimits", [&](Obj& h) -> Result<void> {
    auto size = TRY(h.str("pageSize"));
    auto limit = TRY(h.integer<uint64_t>("limit"));
    if (!size || !limit) return field_error(h.field("pageSize"), "pageSize and limit are required");
    r.hugepage_limits[*size] = *limit;
    return {};
  }));
  TRY(top.each_object("devices", [&](Obj& d) -> Result<void> {
    DeviceRule rule;
    TRY(d.bool_into("allow", rule.allow));
    auto t = TRY(d.str("type"));
    if (t) {
      if (*t != "a" && *t != "c" && *t != "b") return field_error(d.field("type"), "must be a, c or b");
      rule.type = (*t)[0];
    }
    TRY(d.int_into("major", rule.major));
    TRY(d.int_into("minor", rule.minor));
    auto access = TRY(d.str("access"));
    if (access) {
      if (access->find_first_not_of("rwm") != std::string::npos)
        return field_error(d.field("access"), "must be made of r, w and m");
      rule.access = *access;
    }
    r.devices.push_back(rule);
    return {};
  }));
  if (auto n = TRY(top.object("network"))) {
    r.net_cls_classid = TRY(n->integer<uint32_t>("classID"));
    TRY(n->each_object("priorities", [&](Obj& p) -> Result<void> {
      auto name = TRY(p.str("name"));
      auto prio = TRY(p.integer<uint32_t>("priority"));
      if (!name || !prio) return field_error(p.field("name"), "name and priority are required");
      r.net_prio[*name] = *prio;
      return {};
    }));
    n->warn_unknown();
  }
  if (auto rd = TRY(top.object("rdma"))) {
    for (auto& [dev, v] : j.at("rdma").items()) {
      Obj o(v, "linux.resources.rdma." + dev);
      std::string line;
      if (auto h = TRY(o.integer<uint32_t>("hcaHandles"))) line += "hca_handle=" + std::to_string(*h);
      if (auto h = TRY(o.integer<uint32_t>("hcaObjects")))
        line += std::string(line.empty() ? "" : " ") + "hca_object=" + std::to_string(*h);
      r.rdma[dev] = line;
    }
    (void)rd;
  }
  r.unified = TRY(top.string_map("unified"));
  top.warn_unknown();
  return r;
}

void add_default_device_rules(Resources& r) {
  if (r.devices.empty()) return;
  auto allow = [&](char type, int64_t major, int64_t minor, const char* access) {
    r.devices.push_back(DeviceRule{true, type, major, minor, access});
  };
  allow('c', -1, -1, "m");
  allow('b', -1, -1, "m");
  for (int minor : {3, 5, 7, 8, 9}) allow('c', 1, minor, "rwm");  // null zero full random urandom
  for (int minor : {0, 1, 2}) allow('c', 5, minor, "rwm");        // tty console ptmx
  allow('c', 136, -1, "rwm");                                      // /dev/pts/*
}

std::vector<Write> plan_writes(const Resources& r, bool skip_zero) {
  std::vector<Write> w;
  auto set = [&](auto const& opt) { return opt.has_value() && !(skip_zero && *opt == 0); };

  // memory: on v1 the swap limit is memory+swap and must stay >= the memory limit, so when both
  // are given swap goes first only if it grows; writing the limit first is right otherwise.
  if (set(r.memory_reservation))
    w.push_back({"memory", "memory.soft_limit_in_bytes", v1_limit(*r.memory_reservation), "memory.low",
                 v2_limit(*r.memory_reservation)});
  Write limit{"memory", "", "", "", ""};
  if (set(r.memory_limit)) limit = {"memory", "memory.limit_in_bytes", v1_limit(*r.memory_limit), "memory.max",
                                    v2_limit(*r.memory_limit)};
  Write swap{"memory", "", "", "", ""};
  if (set(r.memory_swap)) {
    std::string v2 = "max";
    if (*r.memory_swap >= 0 && r.memory_limit && *r.memory_limit >= 0)
      v2 = std::to_string(std::max<int64_t>(0, *r.memory_swap - *r.memory_limit));
    else if (*r.memory_swap >= 0)
      v2 = std::to_string(*r.memory_swap);
    swap = {"memory", "memory.memsw.limit_in_bytes", v1_limit(*r.memory_swap), "memory.swap.max", v2};
  }
  if (!limit.controller.empty() && !limit.v1_file.empty()) w.push_back(limit);
  if (!swap.v1_file.empty()) w.push_back(swap);
  if (set(r.memory_kernel)) w.push_back({"memory", "memory.kmem.limit_in_bytes", v1_limit(*r.memory_kernel), "", ""});
  if (set(r.memory_kernel_tcp))
    w.push_back({"memory", "memory.kmem.tcp.limit_in_bytes", v1_limit(*r.memory_kernel_tcp), "", ""});
  if (r.memory_swappiness) w.push_back({"memory", "memory.swappiness", std::to_string(*r.memory_swappiness), "", ""});
  if (r.disable_oom_killer && *r.disable_oom_killer) w.push_back({"memory", "memory.oom_control", "1", "", ""});

  // cpu
  if (set(r.cpu_shares))
    w.push_back({"cpu", "cpu.shares", std::to_string(*r.cpu_shares), "cpu.weight",
                 std::to_string(shares_to_weight(*r.cpu_shares))});
  if (set(r.cpu_period) || set(r.cpu_quota)) {
    std::string period = set(r.cpu_period) ? std::to_string(*r.cpu_period) : "100000";
    std::string quota = set(r.cpu_quota) ? (*r.cpu_quota < 0 ? "max" : std::to_string(*r.cpu_quota)) : "max";
    if (set(r.cpu_period)) w.push_back({"cpu", "cpu.cfs_period_us", period, "", ""});
    if (set(r.cpu_quota)) w.push_back({"cpu", "cpu.cfs_quota_us", std::to_string(*r.cpu_quota), "", ""});
    w.push_back({"cpu", "", "", "cpu.max", quota + " " + period});
  }
  if (set(r.cpu_burst))
    w.push_back({"cpu", "cpu.cfs_burst_us", std::to_string(*r.cpu_burst), "cpu.max.burst", std::to_string(*r.cpu_burst)});
  if (set(r.cpu_realtime_period))
    w.push_back({"cpu", "cpu.rt_period_us", std::to_string(*r.cpu_realtime_period), "", ""});
  if (set(r.cpu_realtime_runtime))
    w.push_back({"cpu", "cpu.rt_runtime_us", std::to_string(*r.cpu_realtime_runtime), "", ""});
  if (r.cpu_idle) w.push_back({"cpu", "cpu.idle", std::to_string(*r.cpu_idle), "cpu.idle", std::to_string(*r.cpu_idle)});
  if (!r.cpus.empty()) w.push_back({"cpuset", "cpuset.cpus", r.cpus, "cpuset.cpus", r.cpus});
  if (!r.mems.empty()) w.push_back({"cpuset", "cpuset.mems", r.mems, "cpuset.mems", r.mems});

  // pids: 0 or negative means no limit
  if (r.pids_limit && !(skip_zero && *r.pids_limit == 0)) {
    std::string v = *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max";
    w.push_back({"pids", "pids.max", v, "pids.max", v});
  }

  // block I/O: weights run 10-1000, so 0 means "not set" (Docker always sends weight 0)
  auto weight_set = [](auto const& opt) { return opt.has_value() && *opt != 0; };
  if (weight_set(r.blkio_weight))
    w.push_back({"blkio", "blkio.weight", std::to_string(*r.blkio_weight), "io.weight",
                 "default " + std::to_string(blkio_to_io_weight(*r.blkio_weight))});
  if (weight_set(r.blkio_leaf_weight)) w.push_back({"blkio", "blkio.leaf_weight", std::to_string(*r.blkio_leaf_weight), "", ""});
  for (auto& d : r.blkio_weight_device) {
    std::string dev = std::to_string(d.major) + ":" + std::to_string(d.minor);
    if (weight_set(d.weight))
      w.push_back({"blkio", "blkio.weight_device", dev + " " + std::to_string(*d.weight), "io.weight",
                   dev + " " + std::to_string(blkio_to_io_weight(*d.weight))});
    if (weight_set(d.leaf_weight))
      w.push_back({"blkio", "blkio.leaf_weight_device", dev + " " + std::to_string(*d.leaf_weight), "", ""});
  }
  auto throttle = [&](const std::vector<ThrottleDevice>& list, const char* v1, const char* v2key) {
    for (auto& t : list) {
      std::string dev = std::to_string(t.major) + ":" + std::to_string(t.minor);
      w.push_back({"blkio", v1, dev + " " + std::to_string(t.rate), "io.max",
                   dev + " " + v2key + "=" + std::to_string(t.rate)});
    }
  };
  throttle(r.throttle_read_bps, "blkio.throttle.read_bps_device", "rbps");
  throttle(r.throttle_write_bps, "blkio.throttle.write_bps_device", "wbps");
  throttle(r.throttle_read_iops, "blkio.throttle.read_iops_device", "riops");
  throttle(r.throttle_write_iops, "blkio.throttle.write_iops_device", "wiops");

  // hugetlb
  for (auto& [size, limit_bytes] : r.hugepage_limits)
    w.push_back({"hugetlb", "hugetlb." + size + ".limit_in_bytes", std::to_string(limit_bytes), "hugetlb." + size + ".max",
                 std::to_string(limit_bytes)});

  // devices (v1 lists; the v2 form is an eBPF program, not a file)
  for (auto& d : r.devices) {
    std::string rule = std::string(1, d.type) + " " + dev_num(d.major) + ":" + dev_num(d.minor) + " " + d.access;
    if (d.type == 'a') rule = "a";
    w.push_back({"devices", d.allow ? "devices.allow" : "devices.deny", rule, "", ""});
  }

  // network
  if (r.net_cls_classid) w.push_back({"net_cls", "net_cls.classid", std::to_string(*r.net_cls_classid), "", ""});
  for (auto& [name, prio] : r.net_prio)
    w.push_back({"net_prio", "net_prio.ifpriomap", name + " " + std::to_string(prio), "", ""});
  for (auto& [dev, line] : r.rdma) w.push_back({"rdma", "rdma.max", dev + " " + line, "rdma.max", dev + " " + line});

  // unified: raw cgroup2 files, "memory.high" -> controller "memory"
  for (auto& [file, value] : r.unified) {
    auto dot = file.find('.');
    w.push_back({dot == std::string::npos ? file : file.substr(0, dot), "", "", file, value});
  }
  return w;
}

namespace {
// A limit on memory, cpu or pids that cannot be enforced is an error; the optional controllers
// (net_cls, rdma, devices on a pure v2 host ...) are skipped with a warning.
Result<void> missing_controller(const Write& w, bool warn) {
  static const std::set<std::string> required = {"memory", "cpu", "cpuset", "pids", "blkio"};
  std::string what = w.v1_file.empty() ? w.v2_file : w.v1_file;
  if (required.contains(w.controller))
    return make_error("cgroup controller \"" + w.controller + "\" is not available on this host (needed for " + what + ")");
  if (warn) log::warn("cgroup controller \"" + w.controller + "\" is not available here: " + what + " not set");
  return {};
}
}  // namespace

Result<void> check_controllers(sys::Kernel& k, const Cgroup& cg, const std::vector<Write>& writes) {
  std::set<std::string> seen;
  for (auto& w : writes) {
    if (!seen.insert(w.controller).second) continue;
    bool v2 = false;
    if (cg.home_of(k, w.controller, &v2) || w.controller == "devices") continue;
    TRY(missing_controller(w, true));
  }
  return {};
}

Result<void> apply(sys::Kernel& k, const Cgroup& cg, const std::vector<Write>& writes) {
  for (size_t i = 0; i < writes.size(); ++i) {
    const Write& w = writes[i];
    bool v2 = false;
    const Hierarchy* h = cg.home_of(k, w.controller, &v2);
    if (!h && w.controller == "devices") continue;  // cgroup v2: the device filter program's job
    if (!h) {
      TRY(missing_controller(w, false));  // check_controllers said so before
      continue;
    }
    const std::string& file = v2 ? w.v2_file : w.v1_file;
    const std::string& value = v2 ? w.v2_value : w.v1_value;
    if (file.empty()) continue;  // this setting has no form in this version
    std::string path = cg.dir(*h) + "/" + file;
    if (!v2 && w.controller == "devices") {
      // The v1 device controller takes one rule per write: a run of them through one open.
      std::vector<std::string> rules{value};
      while (i + 1 < writes.size() && writes[i + 1].controller == "devices" && writes[i + 1].v1_file == file)
        rules.push_back(writes[++i].v1_value);
      TRY(k.write_each(path, rules));
      continue;
    }
    auto r = k.write_file(path, value);
    if (!r && r.error().err == ENOENT && (file == "blkio.weight" || file == "blkio.weight_device" || file == "io.weight")) {
      // With the BFQ scheduler the weight files carry its name (as runc falls back too).
      path = cg.dir(*h) + "/" + (v2 ? "io.bfq.weight" : "blkio.bfq." + file.substr(6));
      r = k.write_file(path, value);
    }
    if (!r) {
      Error e = r.error();
      e.op = "write \"" + value + "\" to";
      e.path = path;
      return std::unexpected(e);
    }
  }
  return {};
}

Result<void> enable_v2_controllers(sys::Kernel& k, const Cgroup& cg, const std::vector<Write>& writes) {
  std::set<std::string> needed;
  for (auto& w : writes) {
    bool v2 = false;
    if (cg.home_of(k, w.controller, &v2) && v2) needed.insert(v2_controller(w.controller));
  }
  if (needed.empty()) return {};
  for (auto& h : cg.layout().hierarchies) {
    if (!h.v2) continue;
    std::string enable;
    for (auto& c : needed) enable += (enable.empty() ? "+" : " +") + c;
    // From the root down to the container's parent: each level hands the controllers on.
    std::string dir = h.mountpoint;
    auto parts = split(cg.path(), '/');
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      if (!parts[i].empty()) dir += "/" + parts[i];
      if (auto r = k.write_file(dir + "/cgroup.subtree_control", enable); !r) {
        Error e = r.error();
        e.op = "enable controllers \"" + enable + "\" in";
        e.path = dir + "/cgroup.subtree_control";
        return std::unexpected(e);
      }
    }
  }
  return {};
}

}  // namespace ns::linux_cgroup
