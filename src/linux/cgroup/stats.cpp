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

// runc's blkio entries: {major, minor, op, value}.
nlohmann::json blkio_entry(const std::string& dev, const std::string& op, uint64_t value) {
  auto colon = dev.find(':');
  uint64_t major = std::strtoull(dev.c_str(), nullptr, 10);
  uint64_t minor = colon == std::string::npos ? 0 : std::strtoull(dev.c_str() + colon + 1, nullptr, 10);
  return {{"major", major}, {"minor", minor}, {"op", op}, {"value", value}};
}

// v1: "8:0 Read 4096" lines (a last "Total N" line has no device); v2: io.stat's
// "8:0 rbytes=.. wbytes=.. rios=.. wios=.." becomes the same entries, as runc reports them.
nlohmann::json blkio_stats(Reader& r) {
  using json = nlohmann::json;
  json bytes = json::array(), ios = json::array();
  if (r.v2("io")) {
    for (auto& line : split(r.read("io", nullptr, "io.stat").value_or(""), '\n')) {
      auto fields = split(line, ' ');
      if (fields.size() < 2) continue;
      std::map<std::string, uint64_t> kv;
      for (size_t i = 1; i < fields.size(); ++i)
        if (auto eq = fields[i].find('='); eq != std::string::npos)
          kv[fields[i].substr(0, eq)] = std::strtoull(fields[i].c_str() + eq + 1, nullptr, 10);
      bytes.push_back(blkio_entry(fields[0], "Read", kv["rbytes"]));
      bytes.push_back(blkio_entry(fields[0], "Write", kv["wbytes"]));
      ios.push_back(blkio_entry(fields[0], "Read", kv["rios"]));
      ios.push_back(blkio_entry(fields[0], "Write", kv["wios"]));
    }
  } else {
    auto entries = [&](const char* file) {
      json out = json::array();
      for (auto& line : split(r.read("blkio", file, nullptr).value_or(""), '\n')) {
        auto fields = split(line, ' ');
        if (fields.size() != 3 || fields[0].find(':') == std::string::npos) continue;
        out.push_back(blkio_entry(fields[0], fields[1], std::strtoull(fields[2].c_str(), nullptr, 10)));
      }
      return out;
    };
    bytes = entries("blkio.throttle.io_service_bytes_recursive");
    ios = entries("blkio.throttle.io_serviced_recursive");
  }
  return json{{"ioServiceBytesRecursive", bytes}, {"ioServicedRecursive", ios}};
}

// Per huge page size ("2MB", "1GB", named as hugepageLimits names them): usage, max usage, failcnt.
nlohmann::json hugetlb_stats(Reader& r) {
  nlohmann::json out = nlohmann::json::object();
  for (const char* size : {"64KB", "2MB", "32MB", "512MB", "1GB", "16GB"}) {
    std::string v1 = std::string("hugetlb.") + size + ".usage_in_bytes";
    std::string v2 = std::string("hugetlb.") + size + ".current";
    auto usage = r.read("hugetlb", v1.c_str(), v2.c_str());
    if (!usage) continue;
    if (r.v2("hugetlb")) {
      std::string events = std::string("hugetlb.") + size + ".events";
      out[size] = {{"usage", num(usage)},
                   {"max", 0},
                   {"failcnt", keyed(r.read("hugetlb", nullptr, events.c_str()).value_or(""))["max"]}};
    } else {
      std::string max = std::string("hugetlb.") + size + ".max_usage_in_bytes";
      std::string fail = std::string("hugetlb.") + size + ".failcnt";
      out[size] = {{"usage", num(usage)},
                   {"max", num(r.read("hugetlb", max.c_str(), nullptr))},
                   {"failcnt", num(r.read("hugetlb", fail.c_str(), nullptr))}};
    }
  }
  return out;
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
  return json{{"cpu", cpu}, {"memory", memory}, {"pids", pids}, {"blkio", blkio_stats(r)}, {"hugetlb", hugetlb_stats(r)}};
}

uint64_t oom_kills(sys::Kernel& k, const Cgroup& cg) {
  Reader r{k, cg};
  if (r.v2("memory")) return keyed(r.read("memory", nullptr, "memory.events").value_or(""))["oom_kill"];
  return keyed(r.read("memory", "memory.oom_control", nullptr).value_or(""))["oom_kill"];
}

}  // namespace ns::linux_cgroup
