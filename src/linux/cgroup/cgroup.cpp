#include "linux/cgroup/cgroup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <set>

#include "common/file.hpp"

namespace ns::linux_cgroup {

namespace narration {
const explain::Narration kCreate{
    "cgroup", "linux.cgroupsPath, linux.resources",
    "A cgroup is a group of processes the kernel counts and limits together: memory, CPU time, number of "
    "processes, disk I/O, which devices may be opened. The container gets a cgroup of its own in every hierarchy "
    "(cgroup v1 has one tree per controller, v2 a single tree), and its limits are written before any process is "
    "in it."};
const explain::Narration kJoin{
    "cgroup-join", "linux.cgroupsPath",
    "The runtime opens the tasks file of each v1 hierarchy and hands it to the child, which writes \"0\" into it: "
    "a thread moving itself, the one move the kernel makes without waiting for an RCU grace period. On a hybrid "
    "host the child was born in its cgroup2 directory. Before the child forks or execs anything, so everything "
    "the container runs is counted and limited."};
const explain::Narration kAwaitJoin{
    "cgroup-wait", "linux.cgroupsPath",
    "A cgroup mount binds the container's own cgroup directories, so the child, done with the mounts before it, "
    "waits until the runtime has made them. The runtime tells it as soon as they exist and writes the limits "
    "while the child goes on. A new cgroup namespace is rooted at the cgroup its maker is in: then the child "
    "moves itself in here, first."};
const explain::Narration kEnter{
    "cgroup-enter", "linux.cgroupsPath",
    "Before it makes any device node (the device controller's rules apply to mknod) and before it forks or execs "
    "anything, the child moves itself into the container's cgroup, through the tasks files the runtime opened "
    "for it meanwhile. From here on everything it does is counted and limited."};
const explain::Narration kExecJoin{
    "cgroup-join", "linux.cgroupsPath",
    "A process exec'd into the container must be counted and limited with it, so before anything else it writes "
    "itself (\"0\" means the writer) into the container's cgroup in every hierarchy: v1's tasks file (a thread "
    "moving itself, which spares the kernel's wait for an RCU grace period), v2's cgroup.procs."};
const explain::Narration kRemove{
    "cgroup-remove", "linux.cgroupsPath",
    "A cgroup is removed with rmdir once no process is left in it; the kernel then frees its counters. The "
    "processes were killed first: a process that left the container's pid namespace is still in its cgroup, so "
    "the cgroup is what is swept."};
const explain::Narration kFreeze{
    "freeze", "",
    "The freezer stops every process of the cgroup at once, where it stands, without a signal the processes "
    "could see or catch (v1: freezer.state = FROZEN; v2: cgroup.freeze = 1). They keep their memory and open "
    "files, and go on exactly where they were when thawed."};
const explain::Narration kThaw{
    "thaw", "", "The freezer lets every process of the cgroup run again, from exactly where it stopped."};
const explain::Narration kUpdate{
    "cgroup-update", "linux.resources",
    "Limits can change while the container runs: the same cgroup files are written again with the new values. "
    "A value left out (or 0 from Docker) leaves that setting as it is."};
}  // namespace narration
namespace {

bool is_controller_option(const std::string& o) {
  static const std::set<std::string> controllers = {
      "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "net_prio",
      "blkio", "perf_event", "hugetlb", "pids", "rdma", "misc"};
  return controllers.contains(o) || o.starts_with("name=");
}

// The cpuset of a new v1 cgroup is empty and refuses tasks: inherit the parent's.
Result<void> init_cpuset(sys::Kernel& k, const std::string& dir) {
  for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
    std::string mine = TRY(k.read_file(dir + "/" + f));
    if (mine.find_first_not_of(" \n") != std::string::npos) continue;
    std::string parent = TRY(k.read_file(path_dirname(dir) + "/" + f));
    TRY(k.write_file(dir + "/" + f, parent));
  }
  return {};
}

}  // namespace

namespace {
// The Nth (0-based) space-separated field of S; empty when there are fewer.
std::string_view field(std::string_view s, int n) {
  for (; n > 0; --n) {
    auto sp = s.find(' ');
    if (sp == std::string_view::npos) return {};
    s.remove_prefix(sp + 1);
  }
  return s.substr(0, s.find(' '));
}
}  // namespace

Layout parse_layout(const std::string& mountinfo) {
  // Run by every create before clone: fields are looked at in place, and only cgroup lines are
  // taken apart further.
  Layout l;
  std::string_view rest = mountinfo;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    auto sep = line.find(" - ");
    if (sep == std::string_view::npos) continue;
    std::string_view pre = line.substr(0, sep), post = line.substr(sep + 3);
    std::string_view mp = field(pre, 4), fstype = field(post, 0), super = field(post, 2);
    if (mp.empty() || fstype.empty() || super.empty()) continue;
    // A later mount on the same place, or on a parent of it, hides what was there (a tmpfs
    // over /sys/fs/cgroup/unified, say): only what is visible counts.
    std::erase_if(l.hierarchies, [&](const Hierarchy& h) {
      std::string_view hm = h.mountpoint;
      return hm == mp || (hm.starts_with(mp) && (mp == "/" || (hm.size() > mp.size() && hm[mp.size()] == '/')));
    });
    if (fstype == "cgroup2") {
      Hierarchy h;
      h.mountpoint = mp;
      h.v2 = true;
      h.name = mp == "/sys/fs/cgroup" ? "" : path_basename(h.mountpoint);
      l.hierarchies.push_back(h);
    } else if (fstype == "cgroup") {
      Hierarchy h;
      h.mountpoint = mp;
      std::vector<std::string> ctrls;
      std::string named;
      for (auto& o : split(super, ','))
        if (is_controller_option(o)) (o.starts_with("name=") ? named : ctrls.emplace_back()) = o;
      std::string list;
      for (auto& c : ctrls) list += (list.empty() ? "" : ",") + c;
      if (!named.empty()) list = (list.empty() ? "none," : list + ",") + named;
      h.controllers = list;
      h.name = path_basename(h.mountpoint);
      l.hierarchies.push_back(h);
    }
  }
  // Only the standard place counts: mounts of the same trees elsewhere (inside containers,
  // in test chroots) are not ours to manage.
  std::erase_if(l.hierarchies, [](const Hierarchy& h) {
    return h.mountpoint != "/sys/fs/cgroup" && !h.mountpoint.starts_with("/sys/fs/cgroup/");
  });
  return l;
}

nlohmann::json layout_to_json(const Layout& l) {
  auto out = nlohmann::json::array();
  for (auto& h : l.hierarchies)
    out.push_back({{"mountpoint", h.mountpoint}, {"name", h.name}, {"controllers", h.controllers}, {"v2", h.v2}});
  return out;
}

Result<Layout> recorded_layout(sys::Kernel& k, const nlohmann::json& recorded) {
  if (!recorded.is_array()) return detect_layout(k);
  Layout l;
  for (auto& h : recorded) {
    if (!h.is_object() || !h.contains("mountpoint") || !h["mountpoint"].is_string()) return detect_layout(k);
    l.hierarchies.push_back({h["mountpoint"].get<std::string>(), h.value("name", ""), h.value("controllers", ""),
                             h.value("v2", false)});
  }
  return l;
}

std::vector<std::string> cgroups_of(pid_t pid) {
  std::vector<std::string> out;
  auto text = read_file("/proc/" + std::to_string(pid) + "/cgroup");
  if (!text) return out;
  for (auto& line : split(*text, '\n')) {  // "ID:CONTROLLERS:PATH"
    auto second = line.find(':', line.find(':') + 1);
    if (second != std::string::npos && second + 1 < line.size()) out.push_back(line.substr(second + 1));
  }
  return out;
}

Result<Layout> detect_layout(sys::Kernel& k) { return parse_layout(TRY(k.read_file("/proc/self/mountinfo"))); }

Result<std::string> resolve_path(const std::string& cgroups_path, const std::string& id, bool systemd) {
  if (systemd) return make_error("systemd cgroup manager: systemd not running");
  if (cgroups_path.empty()) return "/nano-sandbox/" + id;
  if (cgroups_path.find(':') != std::string::npos && cgroups_path[0] != '/')
    return make_error("cgroupsPath \"" + cgroups_path + "\" is in the systemd form slice:prefix:name; "
                      "use --systemd-cgroup (systemd not running here) or a path");
  std::string out;
  for (auto& part : split(cgroups_path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return make_error("cgroupsPath \"" + cgroups_path + "\" must not contain \"..\"");
    out += "/" + part;
  }
  if (out.empty()) return make_error("cgroupsPath \"" + cgroups_path + "\" names the root cgroup");
  return out;
}

std::vector<linux_fs::CgroupMount> container_mounts(const Layout& layout) {
  std::vector<linux_fs::CgroupMount> out;
  for (auto& h : layout.hierarchies) {
    if (h.v2)
      out.push_back({h.name, "cgroup2", ""});
    else
      out.push_back({h.name, "cgroup", h.controllers});
  }
  return out;
}

Result<void> Cgroup::create(sys::Kernel& k, pid_t born, std::span<const MadeAhead> ahead) {
  // On a refusal, only the directories made here go again: a cgroup that was there before
  // (someone else's, non-empty or frozen) is left exactly as it was.
  std::vector<std::string> made;
  auto undo = [&](Error e) -> Result<void> {
    for (auto it = made.rbegin(); it != made.rend(); ++it) (void)k.unlinkat(AT_FDCWD, *it, AT_REMOVEDIR);
    return std::unexpected(std::move(e));
  };
  auto refused = create_dirs(k, made, ahead);
  if (!refused) return undo(refused.error());
  // A cgroup just made holds no process (but the child born in it): only one that was there
  // before is looked into.
  const bool fresh = !layout_.hierarchies.empty() && std::ranges::find(made, dir(layout_.hierarchies[0])) != made.end();
  auto existing = fresh ? Result<std::vector<pid_t>>{} : pids(k);
  if (!existing) return undo(existing.error());
  std::erase(*existing, born);
  if (!existing->empty())
    return undo(Error{0, {}, {}, "cgroup " + path_ + " is not empty: it already holds " +
                                     std::to_string(existing->size()) + " process(es)", {}});
  // A frozen cgroup would hold the container stopped at birth.
  if (std::string f = freezer_file(); !f.empty())
    if (auto state = k.read_file(f); state && (state->starts_with("FROZEN") || state->starts_with("FREEZING") ||
                                               state->starts_with("1")))
      return undo(Error{0, {}, {}, "cgroup " + path_ + " is frozen: thaw it first, a container cannot start in it", {}});
  return {};
}

Result<void> Cgroup::create_dirs(sys::Kernel& k, std::vector<std::string>& made, std::span<const MadeAhead> ahead) {
  for (auto& h : layout_.hierarchies) TRY(create_one(k, h, made, ahead));
  return {};
}

Result<void> Cgroup::create_one(sys::Kernel& k, const Hierarchy& h, std::vector<std::string>& made,
                                std::span<const MadeAhead> ahead) {
  // Tried ahead: made (ours, as if made here), or there already; anything else goes the usual way.
  for (auto& a : ahead) {
    if (a.dir != dir(h) || (a.err != 0 && a.err != EEXIST)) continue;
    if (a.err == EEXIST) return {};
    made.push_back(a.dir);
    if (h.controllers.find("cpuset") != std::string::npos && !a.cpuset_ready) TRY(init_cpuset(k, made.back()));
    return {};
  }
  auto fd = k.open(h.mountpoint, O_PATH | O_DIRECTORY);
  if (!fd) return std::unexpected(fd.error());
  // The parents are there already, as a rule (nano-sandbox/, an engine's slice): the cgroup at
  // once; the walk from the top only when a parent is missing.
  std::string rel = path_;
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  if (rel.empty()) return {};
  if (auto r = k.mkdirat(fd->get(), rel, 0755); r || r.error().err == EEXIST) {
    if (!r) return {};
    made.push_back(h.mountpoint + "/" + rel);
    if (h.controllers.find("cpuset") != std::string::npos) TRY(init_cpuset(k, made.back()));
    return {};
  }
  std::string cur = h.mountpoint;
  for (auto& part : split(path_, '/')) {
    if (part.empty()) continue;
    cur += "/" + part;
    auto r = k.mkdirat(fd->get(), cur.substr(h.mountpoint.size() + 1), 0755);
    if (!r && r.error().err != EEXIST) {
      Error e = r.error();
      e.op = "create cgroup";
      e.path = cur;
      return std::unexpected(e);
    }
    if (r) made.push_back(cur);
    if (r && h.controllers.find("cpuset") != std::string::npos) TRY(init_cpuset(k, cur));
  }
  return {};
}

Result<void> Cgroup::add_pid(sys::Kernel& k, pid_t pid) {
  std::string p = std::to_string(pid);
  for (auto& h : layout_.hierarchies) TRY(k.write_file(dir(h) + "/cgroup.procs", p));
  return {};
}

Result<std::vector<pid_t>> Cgroup::pids(sys::Kernel& k) const {
  std::vector<pid_t> out;
  for (auto& h : layout_.hierarchies) {
    auto text = k.read_file(dir(h) + "/cgroup.procs");
    if (!text) {
      if (text.error().err == ENOENT) continue;
      return std::unexpected(text.error());
    }
    for (auto& line : split(*text, '\n'))
      if (!line.empty()) out.push_back(static_cast<pid_t>(std::stol(line)));
    return out;
  }
  return out;
}

namespace {
// A failed rmdir of DIR, told as the cgroup's removal.
std::unexpected<Error> removal_error(Error e, const std::string& dir) {
  e.op = "remove cgroup";
  e.path = dir;
  return std::unexpected(std::move(e));
}
}  // namespace

Result<void> remove_cgroup_dir(sys::Kernel& k, const std::string& dir) {
  for (int attempt = 0;; ++attempt) {
    auto r = k.unlinkat(AT_FDCWD, dir, AT_REMOVEDIR);
    if (r || r.error().err == ENOENT) return {};
    // EBUSY while the last tasks finish exiting: wait a little, up to ~1s.
    if (r.error().err != EBUSY || attempt >= 100) return removal_error(r.error(), dir);
    struct timespec ts{0, 10'000'000};
    ::nanosleep(&ts, nullptr);
  }
}

Result<bool> Cgroup::remove_first_if_empty(sys::Kernel& k) {
  if (layout_.hierarchies.empty()) return true;
  std::string d = dir(layout_.hierarchies.front());
  auto r = k.unlinkat(AT_FDCWD, d, AT_REMOVEDIR);
  if (r || r.error().err == ENOENT) return true;
  if (r.error().err == EBUSY) return false;
  return removal_error(r.error(), d);
}

Result<void> Cgroup::destroy(sys::Kernel& k) {
  for (auto& h : layout_.hierarchies) TRY(remove_cgroup_dir(k, dir(h)));
  return {};
}

}  // namespace ns::linux_cgroup

namespace ns::linux_cgroup {

const Hierarchy* Cgroup::home_of(sys::Kernel& k, const std::string& controller, bool* is_v2) const {
  for (auto& h : layout_.hierarchies) {
    if (h.v2) continue;
    for (auto& c : split(h.controllers, ','))
      if (c == controller) {
        *is_v2 = false;
        return &h;
      }
  }
  const std::string v2_name = v2_controller(controller);
  for (auto& h : layout_.hierarchies) {
    if (!h.v2) continue;
    auto available = k.read_file(h.mountpoint + "/cgroup.controllers");
    if (!available) continue;
    for (auto& c : split(*available, ' ')) {
      std::string name = c;
      while (!name.empty() && name.back() == '\n') name.pop_back();
      if (name == v2_name) {
        *is_v2 = true;
        return &h;
      }
    }
  }
  return nullptr;
}

std::string Cgroup::freezer_file() const {
  const Hierarchy* v2 = nullptr;
  for (auto& h : layout_.hierarchies) {
    if (!h.v2) {
      for (auto& c : split(h.controllers, ','))
        if (c == "freezer") return dir(h) + "/freezer.state";
    } else if (h.name.empty()) {
      v2 = &h;
    }
  }
  return v2 ? dir(*v2) + "/cgroup.freeze" : "";
}

Result<void> Cgroup::freeze(sys::Kernel& k, bool frozen) {
  std::string file = freezer_file();
  if (file.ends_with("/freezer.state")) {
    const char* want = frozen ? "FROZEN" : "THAWED";
    for (int attempt = 0; attempt < 1000; ++attempt) {
      TRY(k.write_file(file, want));
      std::string now = TRY(k.read_file(file));
      if (now.starts_with(want)) return {};
      struct timespec ts{0, 1'000'000};  // FREEZING: tasks still on their way
      ::nanosleep(&ts, nullptr);
    }
    return make_error(std::string("cgroup ") + path_ + " did not reach " + want);
  }
  if (!file.empty()) {
    std::string d = path_dirname(file);
    TRY(k.write_file(file, frozen ? "1" : "0"));
    for (int attempt = 0; attempt < 1000; ++attempt) {
      std::string events = TRY(k.read_file(d + "/cgroup.events"));
      if (events.find(frozen ? "frozen 1" : "frozen 0") != std::string::npos) return {};
      struct timespec ts{0, 1'000'000};
      ::nanosleep(&ts, nullptr);
    }
    return make_error("cgroup " + path_ + " did not " + (frozen ? "freeze" : "thaw"));
  }
  return make_error("no freezer: neither a v1 freezer hierarchy nor cgroup v2 is mounted");
}

}  // namespace ns::linux_cgroup
