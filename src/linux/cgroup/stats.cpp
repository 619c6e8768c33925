#include "linux/cgroup/stats.hpp"

#include <cstdlib>
#include <unistd.h>

#include "common/file.hpp"

namespace ns::linux_cgroup {
namespace {

// "key value" lines -> map
std::map<std::string, uint64_t> keyed(const std::string& text) {
  std::map<std::string, uint64_t> out;
  for (auto& line : split(text, '\n')) {
    auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    out[line.substr(0, sp)] = std::strtoull(line.c_str() + sp + 1, nullptr, 10);
  }
  return out;
}

struct Reader {
  sys::Kernel& k;
  const Cgroup& cg;
  // The file of CONTROLLER in the container's cgroup: V1 name on v1, V2 name on v2.
  std::optional<std::string> read(const std::string& controller, const char* v1, const char* v2) {
    bool is_v2 = false;
    const Hierarchy* h = cg.home_of(k, controller, &is_v2);
    if (!h) return std::nullopt;
    const char* name = is_v2 ? v2 : v1;
    if (!name) return std::nullopt;
    auto text = k.read_file(cg.dir(*h) + "/" + name);
    if (!text) return std::nullopt;
    return *text;
  }
  bool v2(const std::string& controller) {
    bool is_v2 = false;
    return cg.home_of(k, controller, &is_v2) && is_v2;
  }
};

uint64_t num(const std::optional<std::string>& s) {
  if (!s) return 0;
  if (s->starts_with("max")) return UINT64_MAX;
  return std::strtoull(s->c_str(), nullptr, 10);
}

}  // namespace

nlohmann::json read_stats(sys::Kernel& k, const Cgroup& cg) {
  using json = nlohmann::json;
  Reader r{k, cg};
  json cpu = json::object();
  if (r.v2("cpu") || (!r.read("cpuacct", "cpuacct.usage", nullptr) && r.read("cpu", nullptr, "cpu.stat"))) {
    auto st = keyed(r.read("cpu", nullptr, "cpu.stat").value_or(""));
    cpu["usage"] = {{"total", st["usage_usec"] * 1000}, {"user", st["user_usec"] * 1000}, {"kernel", st["system_usec"] * 1000}};
    cpu["throttling"] = {{"periods", st["nr_periods"]}, {"throttled_periods", st["nr_throttled"]},
                         {"throttled_time", st["throttled_usec"] * 1000}};
  } else {
    long tick = ::sysconf(_SC_CLK_TCK);
    uint64_t ns_per_tick = tick > 0 ? 1000000000ULL / static_cast<uint64_t>(tick) : 10000000ULL;
    auto st = keyed(r.read("cpuacct", "cpuacct.stat", nullptr).value_or(""));
    json percpu = json::array();
    for (auto& v : split(r.read("cpuacct", "cpuacct.usage_percpu", nullptr).value_or(""), ' '))
      if (!v.empty() && v != "\n") percpu.push_back(std::strtoull(v.c_str(), nullptr, 10));
    cpu["usage"] = {{"total", num(r.read("cpuacct", "cpuacct.usage", nullptr))},
                    {"percpu", percpu},
                    {"user", st["user"] * ns_per_tick},
                    {"kernel", st["system"] * ns_per_tick}};
    auto th = keyed(r.read("cpu", "cpu.stat", nullptr).value_or(""));
    cpu["throttling"] = {{"periods", th["nr_periods"]}, {"throttled_periods", th["nr_throttled"]},
                         {"throttled_time", th["throttled_time"]}};
  }

  json memory = json::object();
  if (r.v2("memory")) {
    memory["usage"] = {{"usage", num(r.read("memory", nullptr, "memory.current"))},
                       {"max", num(r.read("memory", nullptr, "memory.peak"))},
                       {"limit", num(r.read("memory", nullptr, "memory.max"))},
                       {"failcnt", keyed(r.read("memory", nullptr, "memory.events").value_or(""))["max"]}};
    memory["swap"] = {{"usage", num(r.read("memory", nullptr, "memory.swap.current"))},
                      {"limit", num(r.read("memory", nullptr, "memory.swap.max"))}};
    memory["raw"] = keyed(r.read("memory", nullptr, "memory.stat").value_or(""));
  } else if (r.read("memory", "memory.usage_in_bytes", nullptr)) {
    memory["usage"] = {{"usage", num(r.read("memory", "memory.usage_in_bytes", nullptr))},
                       {"max", num(r.read("memory", "memory.max_usage_in_bytes", nullptr))},
                       {"limit", num(r.read("memory", "memory.limit_in_bytes", nullptr))},
                       {"failcnt", num(r.read("memory", "memory.failcnt", nullptr))}};
    memory["swap"] = {{"usage", num(r.read("memory", "memory.memsw.usage_in_bytes", nullptr))},
                      {"max", num(r.read("memory", "memory.memsw.max_usage_in_bytes", nullptr))},
                      {"limit", num(r.read("memory", "memory.memsw.limit_in_bytes", nullptr))},
                      {"failcnt", num(r.read("memory", "memory.memsw.failcnt", nullptr))}};
    memory["raw"] = keyed(r.read("memory", "memory.stat", nullptr).value_or(""));
  }

  json pids = {{"current", num(r.read("pids", "pids.current", "pids.current"))},
               {"limit", num(r.read("pids", "pids.max", "pids.max"))}};
  if (pids["limit"] == UINT64_MAX) pids["limit"] = 0;  // runc reports "no limit" as 0
  return json{{"cpu", cpu}, {"memory", memory}, {"pids", pids}, {"blkio", json::object()}, {"hugetlb", json::object()}};
}

uint64_t oom_kills(sys::Kernel& k, const Cgroup& cg) {
  Reader r{k, cg};
  if (r.v2("memory")) return keyed(r.read("memory", nullptr, "memory.events").value_or(""))["oom_kill"];
  return keyed(r.read("memory", "memory.oom_control", nullptr).value_or(""))["oom_kill"];
}

}  // namespace ns::linux_cgroup
