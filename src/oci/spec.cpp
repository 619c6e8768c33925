#include "common/json.hpp"
#include "oci/spec.hpp"

#include <sys/resource.h>
#include <sys/stat.h>

#include <set>

#include "common/file.hpp"
#include "common/log.hpp"
#include "oci/json_reader.hpp"

namespace ns::oci {
namespace {

using json = nlohmann::json;
using detail::field_error;
using detail::Obj;
using detail::type_name;

struct RlimitName {
  const char* name;
  int resource;
};
constexpr RlimitName kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

Result<std::vector<IdMapping>> parse_mappings(Obj& o, const std::string& key) {
  std::vector<IdMapping> out;
  TRY(o.each_object(key, [&](Obj& m) -> Result<void> {
    IdMapping im;
    auto c = TRY(m.integer<uint32_t>("containerID"));
    auto h = TRY(m.integer<uint32_t>("hostID"));
    auto s = TRY(m.integer<uint32_t>("size"));
    if (!c || !h || !s) return field_error(m.field("size"), "containerID, hostID and size are required");
    im.container_id = *c;
    im.host_id = *h;
    im.size = *s;
    out.push_back(im);
    return {};
  }));
  return out;
}

Result<Hook> parse_hook(Obj& o) {
  Hook h;
  auto p = TRY(o.str("path"));
  if (!p || p->empty()) return field_error(o.field("path"), "missing required field");
  h.path = *p;
  h.args = TRY(o.strings("args"));
  h.env = TRY(o.strings("env"));
  h.timeout = TRY(o.integer<int>("timeout"));
  if (h.timeout && *h.timeout <= 0) return field_error(o.field("timeout"), "must be greater than zero");
  return h;
}

Result<Hooks> parse_hooks(Obj& h) {
  Hooks hooks;
  auto list = [&](const char* key, std::vector<Hook>& out) -> Result<void> {
    return h.each_object(key, [&](Obj& o) -> Result<void> {
      out.push_back(TRY(parse_hook(o)));
      return {};
    });
  };
  for (const HookKind& k : kHookKinds) TRY(list(k.name, hooks.*k.list));
  h.warn_unknown();
  return hooks;
}

Result<void> parse_process(Obj& o, Process& p) {
  TRY(o.bool_into("terminal", p.terminal));
  if (auto cs = TRY(o.object("consoleSize"))) {
    ConsoleSize size;
    TRY(cs->int_into("height", size.height));
    TRY(cs->int_into("width", size.width));
    cs->warn_unknown();
    p.console_size = size;
  }
  if (auto u = TRY(o.object("user"))) {
    TRY(u->int_into("uid", p.user.uid));
    TRY(u->int_into("gid", p.user.gid));
    p.user.umask = TRY(u->integer<uint32_t>("umask"));
    const json* ag = u->get("additionalGids");
    if (ag) {
      if (!ag->is_array()) return field_error(u->field("additionalGids"), "expected array of integers");
      for (size_t i = 0; i < ag->size(); ++i)
        p.user.additional_gids.push_back(
            TRY(Obj::to_int<uint32_t>((*ag)[i], u->field("additionalGids") + "[" + std::to_string(i) + "]")));
    }
    TRY(u->str_into("username", p.user.username));
    u->warn_unknown();
  }
  p.args = TRY(o.strings("args"));
  (void)TRY(o.str("commandLine"));  // Windows only
  p.env = TRY(o.strings("env"));
  TRY(o.str_into("cwd", p.cwd));
  if (auto c = TRY(o.object("capabilities"))) {
    Capabilities caps;
    caps.bounding = TRY(c->strings("bounding"));
    caps.effective = TRY(c->strings("effective"));
    caps.inheritable = TRY(c->strings("inheritable"));
    caps.permitted = TRY(c->strings("permitted"));
    caps.ambient = TRY(c->strings("ambient"));
    c->warn_unknown();
    p.capabilities = std::move(caps);
  }
  TRY(o.each_object("rlimits", [&](Obj& r) -> Result<void> {
    Rlimit rl;
    auto t = TRY(r.str("type"));
    if (!t) return field_error(r.field("type"), "missing required field");
    rl.type = *t;
    bool found = false;
    for (auto& k : kRlimits)
      if (rl.type == k.name) {
        rl.resource = k.resource;
        found = true;
      }
    if (!found) return field_error(r.field("type"), "unknown rlimit \"" + rl.type + "\"");
    for (auto& prev : p.rlimits)
      if (prev.type == rl.type) return field_error(r.field("type"), "duplicate rlimit \"" + rl.type + "\"");
    auto hard = TRY(r.integer<uint64_t>("hard"));
    auto soft = TRY(r.integer<uint64_t>("soft"));
    if (!hard || !soft) return field_error(r.field("hard"), "hard and soft are required");
    rl.hard = *hard;
    rl.soft = *soft;
    p.rlimits.push_back(rl);
    return {};
  }));
  TRY(o.bool_into("noNewPrivileges", p.no_new_privileges));
  TRY(o.str_into("apparmorProfile", p.apparmor_profile));
  p.oom_score_adj = TRY(o.integer<int>("oomScoreAdj"));
  TRY(o.str_into("selinuxLabel", p.selinux_label));
  p.scheduler = TRY(o.raw("scheduler", json::value_t::object));
  p.io_priority = TRY(o.raw("ioPriority", json::value_t::object));
  p.exec_cpu_affinity = TRY(o.raw("execCPUAffinity", json::value_t::object));
  o.warn_unknown();
  return {};
}

Result<NsType> ns_type_from(const std::string& s, const std::string& where) {
  for (NsType t : kAllNamespaces)
    if (s == ns_type_name(t)) return t;
  return field_error(where, "unknown namespace type \"" + s + "\"");
}

Result<void> parse_linux(Obj& o, Linux& l) {
  TRY(o.each_object("namespaces", [&](Obj& n) -> Result<void> {
    auto t = TRY(n.str("type"));
    if (!t) return field_error(n.field("type"), "missing required field");
    Namespace ns{TRY(ns_type_from(*t, n.field("type"))), {}};
    TRY(n.str_into("path", ns.path));
    if (!ns.path.empty() && ns.path[0] != '/')
      return field_error(n.field("path"), "must be an absolute path, got \"" + ns.path + "\"");
    for (auto& prev : l.namespaces)
      if (prev.type == ns.type) return field_error(n.field("type"), "duplicate namespace \"" + *t + "\"");
    l.namespaces.push_back(ns);
    return {};
  }));
  l.uid_mappings = TRY(parse_mappings(o, "uidMappings"));
  l.gid_mappings = TRY(parse_mappings(o, "gidMappings"));
  if (auto to = TRY(o.object("timeOffsets"))) {
    for (const char* clock : {"monotonic", "boottime"}) {
      if (auto c = TRY(to->object(clock))) {
        TimeOffset off;
        TRY(c->int_into("secs", off.secs));
        TRY(c->int_into("nanosecs", off.nanosecs));
        c->warn_unknown();
        l.time_offsets[clock] = off;
      }
    }
    to->warn_unknown();
  }
  TRY(o.each_object("devices", [&](Obj& d) -> Result<void> {
    Device dev;
    auto p = TRY(d.str("path"));
    if (!p || p->empty()) return field_error(d.field("path"), "missing required field");
    dev.path = *p;
    auto t = TRY(d.str("type"));
    if (!t || t->size() != 1 || std::string("cbup").find((*t)[0]) == std::string::npos)
      return field_error(d.field("type"), "must be one of c, b, u, p");
    dev.type = (*t)[0];
    TRY(d.int_into("major", dev.major));
    TRY(d.int_into("minor", dev.minor));
    dev.file_mode = TRY(d.integer<uint32_t>("fileMode"));
    dev.uid = TRY(d.integer<uint32_t>("uid"));
    dev.gid = TRY(d.integer<uint32_t>("gid"));
    l.devices.push_back(dev);
    return {};
  }));
  TRY(o.str_into("cgroupsPath", l.cgroups_path));
  l.resources = TRY(o.raw("resources", json::value_t::object));
  l.sysctl = TRY(o.string_map("sysctl"));
  l.seccomp = TRY(o.raw("seccomp", json::value_t::object));
  TRY(o.str_into("rootfsPropagation", l.rootfs_propagation));
  l.masked_paths = TRY(o.strings("maskedPaths"));
  l.readonly_paths = TRY(o.strings("readonlyPaths"));
  TRY(o.str_into("mountLabel", l.mount_label));
  l.intel_rdt = TRY(o.raw("intelRdt", json::value_t::object));
  l.personality = TRY(o.raw("personality", json::value_t::object));
  (void)TRY(o.raw("memoryPolicy", json::value_t::object));
  (void)TRY(o.raw("netDevices", json::value_t::object));
  o.warn_unknown();
  return {};
}

}  // namespace

const char* ns_type_name(NsType t) {
  switch (t) {
    case NsType::Pid: return "pid";
    case NsType::Network: return "network";
    case NsType::Mount: return "mount";
    case NsType::Ipc: return "ipc";
    case NsType::Uts: return "uts";
    case NsType::User: return "user";
    case NsType::Cgroup: return "cgroup";
    case NsType::Time: return "time";
  }
  return "?";
}

const Namespace* Linux::find_namespace(NsType t) const {
  for (auto& n : namespaces)
    if (n.type == t) return &n;
  return nullptr;
}

std::vector<std::string> known_rlimits() {
  std::vector<std::string> out;
  for (auto& k : kRlimits) out.emplace_back(k.name);
  return out;
}

Result<Spec> parse_spec(const std::string& text) {
  if (json_nested_too_deep(text))
    return make_error("config.json: values nested more than " + std::to_string(kJsonMaxDepth) + " levels deep");
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Re-parse with exceptions only to get the position and reason into the message.
    try {
      json discard = json::parse(text);
      (void)discard;
    } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e400 (fuzz-config)
      std::string what = e.what();
      auto pos = what.find("parse error");
      return make_error("config.json: invalid JSON: " + (pos == std::string::npos ? what : what.substr(pos)));
    }
    return make_error("config.json: invalid JSON");
  }
  if (!j.is_object()) return field_error("(top level)", std::string("expected object, got ") + type_name(j));

  Spec s;
  Obj top(j, "");
  auto ver = TRY(top.str("ociVersion"));
  if (!ver || ver->empty()) return field_error("ociVersion", "missing required field");
  s.oci_version = *ver;

  if (auto p = TRY(top.object("process"))) {
    Process proc;
    TRY(parse_process(*p, proc));
    s.process = std::move(proc);
    s.process_json = j["process"];
  }
  auto root = TRY(top.object("root"));
  if (!root) return field_error("root", "missing required field");
  auto rp = TRY(root->str("path"));
  if (!rp || rp->empty()) return field_error("root.path", "missing required field");
  s.root.path = *rp;
  TRY(root->bool_into("readonly", s.root.readonly));
  root->warn_unknown();

  TRY(top.str_into("hostname", s.hostname));
  TRY(top.str_into("domainname", s.domainname));
  TRY(top.each_object("mounts", [&](Obj& m) -> Result<void> {
    Mount mnt;
    auto d = TRY(m.str("destination"));
    if (!d || d->empty()) return field_error(m.field("destination"), "missing required field");
    mnt.destination = *d;
    TRY(m.str_into("type", mnt.type));
    TRY(m.str_into("source", mnt.source));
    mnt.options = TRY(m.strings("options"));
    mnt.uid_mappings = TRY(parse_mappings(m, "uidMappings"));
    mnt.gid_mappings = TRY(parse_mappings(m, "gidMappings"));
    s.mounts.push_back(std::move(mnt));
    return {};
  }));
  if (auto h = TRY(top.object("hooks"))) {
    s.hooks = TRY(parse_hooks(*h));
    s.hooks_json = j["hooks"];
  }
  s.annotations = TRY(top.string_map("annotations"));
  if (auto l = TRY(top.object("linux"))) {
    Linux lin;
    TRY(parse_linux(*l, lin));
    s.linux = std::move(lin);
  }
  // Other platforms' sections are legal in a portable config.json and simply not ours.
  for (const char* other : {"solaris", "windows", "vm", "zos"}) (void)top.get(other);
  top.warn_unknown();
  return s;
}

Result<Hooks> parse_hooks_json(const nlohmann::json& j) {
  if (j.is_null()) return Hooks{};
  if (!j.is_object()) return field_error("hooks", std::string("expected object, got ") + type_name(j));
  Obj o(j, "hooks");
  return parse_hooks(o);
}

Result<Process> parse_process_json(const nlohmann::json& j, const std::string& field) {
  if (!j.is_object()) return field_error(field, std::string("expected object, got ") + type_name(j));
  Obj o(j, field);
  Process p;
  TRY(parse_process(o, p));
  TRY(validate_process(p));
  return p;
}

json process_to_json(const Process& p) {
  json j{{"terminal", p.terminal}, {"args", p.args}, {"env", p.env}, {"cwd", p.cwd}};
  if (p.console_size) j["consoleSize"] = {{"height", p.console_size->height}, {"width", p.console_size->width}};
  json user{{"uid", p.user.uid}, {"gid", p.user.gid}};
  if (p.user.umask) user["umask"] = *p.user.umask;
  if (!p.user.additional_gids.empty()) user["additionalGids"] = p.user.additional_gids;
  if (!p.user.username.empty()) user["username"] = p.user.username;
  j["user"] = user;
  if (p.capabilities)
    j["capabilities"] = {{"bounding", p.capabilities->bounding},
                         {"effective", p.capabilities->effective},
                         {"inheritable", p.capabilities->inheritable},
                         {"permitted", p.capabilities->permitted},
                         {"ambient", p.capabilities->ambient}};
  if (!p.rlimits.empty()) {
    j["rlimits"] = json::array();
    for (auto& r : p.rlimits) j["rlimits"].push_back({{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}});
  }
  if (p.no_new_privileges) j["noNewPrivileges"] = true;
  if (!p.apparmor_profile.empty()) j["apparmorProfile"] = p.apparmor_profile;
  if (p.oom_score_adj) j["oomScoreAdj"] = *p.oom_score_adj;
  if (!p.selinux_label.empty()) j["selinuxLabel"] = p.selinux_label;
  if (!p.scheduler.is_null()) j["scheduler"] = p.scheduler;
  if (!p.io_priority.is_null()) j["ioPriority"] = p.io_priority;
  if (!p.exec_cpu_affinity.is_null()) j["execCPUAffinity"] = p.exec_cpu_affinity;
  return j;
}

Result<void> validate_process(const Process& p) {
  if (p.args.empty()) return field_error("process.args", "must not be empty");
  if (p.cwd.empty() || p.cwd[0] != '/')
    return field_error("process.cwd", "must be an absolute path, got \"" + p.cwd + "\"");
  for (auto& e : p.env)
    if (e.find('=') == std::string::npos) return field_error("process.env", "entry \"" + e + "\" has no '='");
  if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000))
    return field_error("process.oomScoreAdj", "must be between -1000 and 1000");
  for (auto& rl : p.rlimits)
    if (rl.soft > rl.hard) return field_error("process.rlimits", rl.type + ": soft limit is greater than hard limit");
  return {};
}

Result<void> validate_spec(const Spec& s) {
  if (!s.process) return field_error("process", "missing required field");
  const Process& p = *s.process;
  TRY(validate_process(p));

  for (auto& m : s.mounts) {
    if (m.destination.find('\0') != std::string::npos) return field_error("mounts", "bad destination");
  }
  if (!s.linux) {
    if (!s.hostname.empty()) return field_error("hostname", "unable to set hostname without a private UTS namespace");
    return {};
  }
  const Linux& l = *s.linux;
  if (!s.hostname.empty() && !l.has_new_namespace(NsType::Uts))
    return field_error("hostname", "unable to set hostname without a private UTS namespace");
  if (!s.domainname.empty() && !l.has_new_namespace(NsType::Uts))
    return field_error("domainname", "unable to set domainname without a private UTS namespace");
  bool userns = l.find_namespace(NsType::User) != nullptr;
  if (!userns && (!l.uid_mappings.empty() || !l.gid_mappings.empty()))
    return field_error("linux.uidMappings", "user namespace mappings given without a user namespace");
  if (l.has_new_namespace(NsType::User) && (l.uid_mappings.empty() || l.gid_mappings.empty()))
    return field_error("linux.uidMappings", "a new user namespace needs uidMappings and gidMappings");
  if (!l.time_offsets.empty() && !l.has_new_namespace(NsType::Time))
    return field_error("linux.timeOffsets", "time offsets given without a new time namespace");
  if (!l.rootfs_propagation.empty()) {
    static const std::set<std::string> ok = {"shared", "slave", "private", "unbindable",
                                             "rshared", "rslave", "rprivate", "runbindable"};
    if (!ok.contains(l.rootfs_propagation))
      return field_error("linux.rootfsPropagation", "invalid value \"" + l.rootfs_propagation + "\"");
  }
  // Only sysctls that belong to a namespace the container has of its own (as runc allows them):
  // any other is the host's, for every process on it.
  for (auto& [key, value] : l.sysctl) {
    (void)value;
    static const std::set<std::string> ipc = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                              "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
    auto own = [&](NsType t, const char* name) -> Result<void> {
      const Namespace* n = l.find_namespace(t);
      if (!n) return field_error("linux.sysctl", "sysctl \"" + key + "\" is not allowed in the host " + name + " namespace");
      // Joined by path: not the host's own (the runtime's) either.
      struct stat theirs{}, ours{};
      std::string mine = std::string("/proc/self/ns/") + (t == NsType::Network ? "net" : t == NsType::Ipc ? "ipc" : "uts");
      if (!n->path.empty() && ::stat(n->path.c_str(), &theirs) == 0 && ::stat(mine.c_str(), &ours) == 0 &&
          theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino)
        return field_error("linux.sysctl", "sysctl \"" + key + "\": the " + name + " namespace at " + n->path +
                                               " is the host's own");
      return {};
    };
    if (key.starts_with("net.")) TRY(own(NsType::Network, "network"));
    else if (ipc.contains(key) || key.starts_with("fs.mqueue.")) TRY(own(NsType::Ipc, "IPC"));
    else if (key == "kernel.hostname" || key == "kernel.domainname") TRY(own(NsType::Uts, "UTS"));
    else
      return field_error("linux.sysctl", "sysctl \"" + key + "\" belongs to no namespace a container can have: "
                                             "it would change the host (not allowed)");
  }
  for (auto& d : l.devices)
    if (d.path.empty() || d.path[0] != '/')
      return field_error("linux.devices", "device path \"" + d.path + "\" must be absolute");
  return {};
}

Result<Spec> load_spec(const std::string& bundle) {
  std::string path = join_path(bundle, "config.json");
  auto text = read_file(path);
  if (!text) {
    Error e = text.error();
    e.op = "open";
    return std::unexpected(e);
  }
  Spec s = TRY(parse_spec(*text));
  TRY(validate_spec(s));
  return s;
}

}  // namespace ns::oci
