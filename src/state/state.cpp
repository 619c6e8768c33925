#include "state/state.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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

Result<State> from_json(const json& j) {
  State s;
  try {
    s.oci_version = j.at("ociVersion").get<std::string>();
    s.id = j.at("id").get<std::string>();
    s.pid = j.at("pid").get<pid_t>();
    s.pid_start = j.at("pidStart").get<unsigned long long>();
    s.bundle = j.at("bundle").get<std::string>();
    s.rootfs = j.at("rootfs").get<std::string>();
    s.created = j.at("created").get<std::string>();
    s.owner = j.at("owner").get<uid_t>();
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
  if (id.size() > NS_ID_MAX) return make_error("invalid container id format: id too long");
  return {};
}

std::string default_root() {
  if (::geteuid() == 0) return NS_ROOT_DEFAULT;
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg && *xdg) return std::string(xdg) + "/nano-sandbox";
  return "/tmp/nano-sandbox-" + std::to_string(::geteuid());
}

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

Result<UniqueFd> Store::claim(const std::string& id) {
  TRY(mkdir_p(root_, 0711));
  std::string path = lock_path(id);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) {
    if (errno == EEXIST) return make_error("container with id exists: " + id);
    return sys_error("create", path);
  }
  if (::flock(fd.get(), LOCK_EX) < 0) return sys_error("lock", path);
  return fd;
}

Result<UniqueFd> Store::lock(const std::string& id) const {
  TRY(validate_id(id));
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
  auto text = read_file(state_path(id));
  if (!text) {
    if (text.error().err == ENOENT) return make_error("container \"" + id + "\" does not exist");
    return std::unexpected(text.error());
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return make_error("container \"" + id + "\": state.json is corrupt");
  return from_json(j);
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
