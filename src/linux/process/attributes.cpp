#include "linux/process/attributes.hpp"

#include <sched.h>
#include <sys/personality.h>

#include <array>
#include <utility>

#include "oci/json_reader.hpp"

namespace ns::linux_process {

namespace narration {
const explain::Narration kAttributes{
    "process-attributes", "linux.personality, process.scheduler, process.ioPriority, process.execCPUAffinity",
    "How the kernel treats the process: its personality (LINUX32 makes uname say i686, for 32-bit builds), its "
    "scheduling policy and priority, its disk I/O priority, and the CPUs it may run on. All of them pass through "
    "execve to the container's program unchanged."};
}  // namespace narration

namespace {

using oci::detail::field_error;
using oci::detail::Obj;

constexpr std::array<std::pair<const char*, uint32_t>, 7> kPolicies{{{"SCHED_OTHER", 0},
                                                                      {"SCHED_FIFO", 1},
                                                                      {"SCHED_RR", 2},
                                                                      {"SCHED_BATCH", 3},
                                                                      {"SCHED_ISO", 4},
                                                                      {"SCHED_IDLE", 5},
                                                                      {"SCHED_DEADLINE", 6}}};
constexpr std::array<std::pair<const char*, uint64_t>, 7> kSchedFlags{{{"SCHED_FLAG_RESET_ON_FORK", 0x01},
                                                                       {"SCHED_FLAG_RECLAIM", 0x02},
                                                                       {"SCHED_FLAG_DL_OVERRUN", 0x04},
                                                                       {"SCHED_FLAG_KEEP_POLICY", 0x08},
                                                                       {"SCHED_FLAG_KEEP_PARAMS", 0x10},
                                                                       {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
                                                                       {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40}}};
constexpr std::array<std::pair<const char*, int>, 3> kIoClasses{
    {{"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3}}};

bool valid_cpu_list(const std::string& s) {
  if (s.empty()) return false;
  bool digit = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') digit = true;
    else if (c != ',' && c != '-') return false;
  }
  return digit;
}

}  // namespace

Result<Attributes> parse_attributes(const oci::Process& p, const oci::Linux* l) {
  Attributes a;
  if (l && !l->personality.is_null()) {
    Obj o(l->personality, "linux.personality");
    std::string domain;
    TRY(o.str_into("domain", domain));
    if (domain == "LINUX") a.personality = PER_LINUX;
    else if (domain == "LINUX32") a.personality = PER_LINUX32;
    else return field_error(o.field("domain"), "unknown domain \"" + domain + "\" (LINUX or LINUX32)");
    auto flags = TRY(o.strings("flags"));
    if (!flags.empty()) return field_error(o.field("flags"), "unknown personality flag \"" + flags[0] + "\"");
  }
  if (!p.scheduler.is_null()) {
    Obj o(p.scheduler, "process.scheduler");
    Scheduler s;
    std::string policy;
    TRY(o.str_into("policy", policy));
    bool known = false;
    for (auto [name, v] : kPolicies)
      if (policy == name) s.policy = v, known = true;
    if (!known) return field_error(o.field("policy"), "unknown policy \"" + policy + "\"");
    TRY(o.int_into("nice", s.nice));
    if (s.nice < -20 || s.nice > 19) return field_error(o.field("nice"), "must be between -20 and 19");
    TRY(o.int_into("priority", s.priority));
    for (auto& f : TRY(o.strings("flags"))) {
      bool found = false;
      for (auto [name, v] : kSchedFlags)
        if (f == name) s.flags |= v, found = true;
      if (!found) return field_error(o.field("flags"), "unknown flag \"" + f + "\"");
    }
    TRY(o.int_into("runtime", s.runtime));
    TRY(o.int_into("deadline", s.deadline));
    TRY(o.int_into("period", s.period));
    bool realtime = s.policy == 1 || s.policy == 2;
    if (realtime && (s.priority < 1 || s.priority > 99))
      return field_error(o.field("priority"), "SCHED_FIFO and SCHED_RR need a priority between 1 and 99");
    if (!realtime && s.priority != 0) return field_error(o.field("priority"), "only SCHED_FIFO and SCHED_RR take a priority");
    a.scheduler = s;
  }
  if (!p.io_priority.is_null()) {
    Obj o(p.io_priority, "process.ioPriority");
    std::string klass;
    TRY(o.str_into("class", klass));
    int cls = 0;
    for (auto [name, v] : kIoClasses)
      if (klass == name) cls = v;
    if (!cls) return field_error(o.field("class"), "unknown class \"" + klass + "\"");
    int level = 0;
    TRY(o.int_into("priority", level));
    if (level < 0 || level > 7) return field_error(o.field("priority"), "must be between 0 and 7");
    a.io_priority = (cls << 13) | level;
  }
  if (!p.exec_cpu_affinity.is_null()) {
    Obj o(p.exec_cpu_affinity, "process.execCPUAffinity");
    TRY(o.str_into("initial", a.cpus_initial));
    TRY(o.str_into("final", a.cpus_final));
    if (!a.cpus_initial.empty() && !valid_cpu_list(a.cpus_initial))
      return field_error(o.field("initial"), "\"" + a.cpus_initial + "\" is not a CPU list such as 0-3,7");
    if (!a.cpus_final.empty() && !valid_cpu_list(a.cpus_final))
      return field_error(o.field("final"), "\"" + a.cpus_final + "\" is not a CPU list such as 0-3,7");
  }
  return a;
}

Result<void> apply_attributes(sys::Kernel& k, const Attributes& a) {
  if (a.personality) TRY(k.set_personality(*a.personality));
  if (a.scheduler) {
    const Scheduler& s = *a.scheduler;
    TRY(k.set_scheduler(s.policy, s.flags, s.nice, s.priority, s.runtime, s.deadline, s.period));
  }
  if (a.io_priority) TRY(k.set_io_priority(*a.io_priority));
  if (!a.cpus_final.empty()) TRY(k.set_cpu_affinity(0, a.cpus_final));
  return {};
}

}  // namespace ns::linux_process
