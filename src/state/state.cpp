#include "common/json.hpp"
#include "state/state.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <cstdio>
#include <cstdlib>

#include "common/file.hpp"
#include "oci/spec.hpp"

namespace ns::state {

using json = nlohmann::json;

const char* status_name(Status s) {
  switch (s) {
    case Status::Created: return "created";
    case Status::Running: return "running";
    case Status::Paused: return "paused";
    case Status::Stopped: return "stopped";
  }
  return "unknown";
}

json to_json(const State& s) {
  return json{{"ociVersion", s.oci_version}, {"id", s.id},           {"pid", s.pid},
              {"pidStart", s.pid_start},     {"bundle", s.bundle},   {"rootfs", s.rootfs},
              {"created", s.created},        {"owner", s.owner},     {"annotations", s.annotations},
              {"cgroupPath", s.cgroup_path}, {"freezer", s.freezer}, {"backend", s.backend}, {"process", s.process},
              {"hooks", s.hooks}, {"seccomp", s.seccomp}, {"cgroupLayout", s.cgroup_layout}};
}

namespace {
// An integer field that fits T: nlohmann's get<T> converts a float with a plain cast, which is
// undefined out of T's range (fuzz-state found pidStart 3.7e183), and truncates a wide integer.
template <class T>
T integer(const json& j, const char* key) {
  const json& v = j.at(key);
  if (v.is_number_unsigned()) {
    auto u = v.get<unsigned long long>();
    if (u <= static_cast<unsigned long long>(std::numeric_limits<T>::max())) return static_cast<T>(u);
  } else if (v.is_number_integer()) {
    auto n = v.get<long long>();
    if (n >= static_cast<long long>(std::numeric_limits<T>::min()) &&
        (n < 0 || static_cast<unsigned long long>(n) <= static_cast<unsigned long long>(std::numeric_limits<T>::max())))
      return static_cast<T>(n);
  }
  throw json::type_error::create(302, std::string(key) + " is not an integer in range", &v);
}
}  // namespace

Result<State> from_json(const json& j) {
  State s;
  try {
    s.oci_version = j.at("ociVersion").get<std::string>();
    s.id = j.at("id").get<std::string>();
    s.pid = integer<pid_t>(j, "pid");
    s.pid_start = integer<unsigned long long>(j, "pidStart");
    s.bundle = j.at("bundle").get<std::string>();
    s.rootfs = j.at("rootfs").get<std::string>();
    s.created = j.at("created").get<std::string>();
    s.owner = integer<uid_t>(j, "owner");
    s.annotations = j.at("annotations").get<std::map<std::string, std::string>>();
    s.cgroup_path = j.at("cgroupPath").get<std::string>();
    s.freezer = j.value("freezer", "");
    s.backend = j.at("backend").get<std::string>();
    s.process = j.value("process", nlohmann::json());
    s.hooks = j.value("hooks", nlohmann::json());
    s.seccomp = j.value("seccomp", nlohmann::json());
    s.cgroup_layout = j.value("cgroupLayout", nlohmann::json());
  } catch (const json::exception& e) {
    return make_error(std::string("state.json is corrupt: ") + e.what());
  }
  return s;
}

json oci_state(const State& s, Status status) {
  json j = {{"ociVersion", s.oci_version},
            {"id", s.id},
            {"pid", status == Status::Stopped ? 0 : s.pid},
            {"status", status_name(status)},
            {"bundle", s.bundle},
            {"rootfs", s.rootfs},
            {"created", s.created},
            {"owner", ""}};
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  return j;
}

Result<void> validate_id(const std::string& id) {
  if (id.empty()) return make_error("container id cannot be empty");
  if (id == "." || id == "..") return make_error("invalid container id format: " + id);
  for (char c : id)
    if (!ns_id_char_ok(c)) return make_error("invalid container id format: " + id);
  if (id.size() > static_cast<size_t>(NS_ID_MAX))
    return make_error("invalid container id format: id too long (" + std::to_string(id.size()) + " bytes, at most " +
                      std::to_string(NS_ID_MAX) + ")");
  return {};
}

Result<std::string> default_root() { return private_runtime_dir("nano-sandbox", "--root"); }

std::optional<unsigned long long> process_start_time(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  auto close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  // After "pid (comm) ": field 3 is the state, field 22 the start time.
  auto fields = split(std::string_view(*text).substr(close + 2), ' ');
  if (fields.size() < 20) return std::nullopt;
  if (fields[0] == "Z" || fields[0] == "X" || fields[0] == "x") return std::nullopt;
  return std::strtoull(fields[19].c_str(), nullptr, 10);
}

namespace {

// A clean absolute path: "/" then names, no empty, "." or ".." component, no control character.
bool clean_absolute(const std::string& p) {
  if (p.size() < 2 || p[0] != '/' || p.back() == '/') return false;
  for (auto& part : split(std::string_view(p).substr(1), '/'))
    if (part.empty() || part == "." || part == ".." ||
        std::any_of(part.begin(), part.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
      return false;
  return true;
}

bool under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
}

}  // namespace

Result<void> check_state(const State& s, const std::string& id) {
  auto bad = [&](const std::string& what) {
    return make_error("container \"" + id + "\": state.json is corrupt or was tampered with: " + what);
  };
  if (s.id != id) return bad("it names another container, \"" + s.id + "\"");
  if (s.pid < 2) return bad("pid " + std::to_string(s.pid) + " cannot be a container's init");
  if (s.backend != "namespaces" && s.backend != "vm") return bad("unknown back end \"" + s.backend + "\"");
  if (!s.cgroup_path.empty() && !clean_absolute(s.cgroup_path))
    return bad("cgroup path \"" + s.cgroup_path + "\" is not a clean path below the root cgroup");
  std::vector<std::string> mounts;
  if (!s.cgroup_layout.is_null()) {
    if (!s.cgroup_layout.is_array()) return bad("cgroupLayout is not a list");
    for (auto& h : s.cgroup_layout) {
      std::string m = h.is_object() && h.contains("mountpoint") && h["mountpoint"].is_string() ? h["mountpoint"].get<std::string>() : "";
      if (!clean_absolute(m) || !(m == "/sys/fs/cgroup" || under(m, "/sys/fs/cgroup")))
        return bad("cgroup mount point \"" + m + "\" is not under /sys/fs/cgroup");
      mounts.push_back(m);
    }
  }
  if (!s.freezer.empty()) {
    bool ok = false;
    for (const char* file : {"/freezer.state", "/cgroup.freeze"}) {
      if (!s.freezer.ends_with(file)) continue;
      std::string dir = s.freezer.substr(0, s.freezer.size() - std::string_view(file).size());
      if (mounts.empty()) ok = ok || (clean_absolute(dir) && under(dir, "/sys/fs/cgroup") && dir.ends_with(s.cgroup_path));
      for (auto& m : mounts) ok = ok || dir == m + s.cgroup_path;
    }
    if (!ok || s.cgroup_path.empty()) return bad("freezer \"" + s.freezer + "\" is not the container's cgroup's");
  }
  return {};
}

Result<UniqueFd> Store::claim(const std::string& id) {
  TRY(check_private_dir(root_, "the state root"));
  TRY(mkdir_p(root_, 0711));
  TRY(check_private_dir(root_, "the state root"));  // made by someone else meanwhile?
  std::string path = lock_path(id);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) {
    if (errno == EEXIST) return make_error("container with id exists: " + id);
    return sys_error("create", path);
  }
  if (::flock(fd.get(), LOCK_EX) < 0) return sys_error("lock", path);
  return fd;
}

Result<UniqueFd> Store::lock(const std::string& id) const {
  TRY(validate_id(id));
  TRY(check_private_dir(root_, "the state root"));
  std::string path = lock_path(id);
  for (;;) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT) return make_error("container \"" + id + "\" does not exist");
      return sys_error("open", path);
    }
    if (::flock(fd.get(), LOCK_EX) < 0) return sys_error("lock", path);
    // Deleted while we waited (the lock file is the last thing delete removes): whatever has the
    // name now, if anything, is another container's.
    struct stat st{};
    if (::fstat(fd.get(), &st) < 0) return sys_error("stat", path);
    if (st.st_nlink > 0) return fd;
  }
}

Result<State> Store::load(const std::string& id) const {
  TRY(validate_id(id));
  TRY(check_private_dir(root_, "the state root"));
  auto text = read_file(state_path(id));
  if (!text) {
    if (text.error().err == ENOENT) return make_error("container \"" + id + "\" does not exist");
    return std::unexpected(text.error());
  }
  json j = parse_json(*text);
  if (j.is_discarded()) return make_error("container \"" + id + "\": state.json is corrupt");
  State s = TRY(from_json(j));
  TRY(check_state(s, id));
  return s;
}

Result<void> Store::record_init(int lock, pid_t pid, unsigned long long start) const {
  std::string line = std::to_string(pid) + " " + std::to_string(start) + "\n";
  if (::pwrite(lock, line.data(), line.size(), 0) != static_cast<ssize_t>(line.size())) return sys_error("write", "the lock file");
  return {};
}

std::optional<std::pair<pid_t, unsigned long long>> Store::recorded_init(const std::string& id) const {
  auto text = read_file(lock_path(id));
  if (!text) return std::nullopt;
  long long pid = 0;
  unsigned long long start = 0;
  if (std::sscanf(text->c_str(), "%lld %llu", &pid, &start) != 2 || pid < 2 || pid > INT32_MAX) return std::nullopt;
  return std::pair{static_cast<pid_t>(pid), start};
}

Result<void> Store::save(const State& s) const {
  return write_file_atomic(state_path(s.id), to_json(s).dump(), 0600);
}

Result<void> Store::stage(const State& s) const {
  return write_staged_file(state_path(s.id), to_json(s).dump(), 0600);
}

Result<void> Store::commit(const std::string& id) const { return commit_staged_file(state_path(id)); }

Result<void> Store::remove(const std::string& id, bool vm_dir) const {
  // The state, then what may be left besides (an exec fifo never started, a file staged by a
  // create that failed or was killed, VM mode's directory), the lock last: until it goes, the
  // id stays claimed.
  for (const std::string& path : {state_path(id), fifo_path(id), state_path(id) + ".tmp"})
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) return sys_error("remove", path);
  if (vm_dir) TRY(remove_tree(this->vm_dir(id)));
  std::string lock = lock_path(id);
  if (::unlink(lock.c_str()) < 0 && errno != ENOENT) return sys_error("remove", lock);
  return {};
}

Result<std::vector<std::string>> Store::list() const {
  std::vector<std::string> ids;
  TRY(check_private_dir(root_, "the state root"));
  DIR* d = ::opendir(root_.c_str());
  if (!d) {
    if (errno == ENOENT) return ids;
    return sys_error("open", root_);
  }
  constexpr std::string_view suffix = NS_STATE_SUFFIX;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name.size() <= suffix.size() || !name.ends_with(suffix)) continue;
    std::string id(name.substr(0, name.size() - suffix.size()));
    if (validate_id(id)) ids.push_back(std::move(id));
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

Status Store::status(const State& s) const {
  auto start = process_start_time(s.pid);
  if (!start || *start != s.pid_start) return Status::Stopped;
  if (path_exists(fifo_path(s.id))) return Status::Created;
  // Paused: the freezer says so (v1 freezer.state FROZEN, v2 cgroup.freeze 1).
  if (!s.freezer.empty())
    if (auto f = read_file(s.freezer); f && (f->starts_with("FROZEN") || f->starts_with("1"))) return Status::Paused;
  return Status::Running;
}

}  // namespace ns::state
