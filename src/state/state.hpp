// Container state on disk (layout.h): <root>/<id>.json, written atomically (tmp + rename) while
// <root>/<id>.lock is locked (flock), plus <root>/<id>.fifo while the container is "created".
// Status is never trusted from the file: it is derived from the init process (alive? same start
// time?), the fifo and the freezer, so a dead init reads "stopped".
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "state/layout.h"

namespace ns::state {

enum class Status { Created, Running, Paused, Stopped };
const char* status_name(Status s);

struct State {
  std::string oci_version;
  std::string id;
  pid_t pid = 0;
  unsigned long long pid_start = 0;  // /proc/<pid>/stat field 22, guards against pid reuse
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339
  uid_t owner = 0;
  std::map<std::string, std::string> annotations;
  std::string cgroup_path;
  std::string freezer;  // the file that says whether the cgroup is frozen (v1 freezer.state, v2 cgroup.freeze)
  nlohmann::json cgroup_layout;  // the cgroup hierarchies at create (linux_cgroup::layout_to_json), or null
  std::string backend = "namespaces";
  nlohmann::json process;  // config.json's process, the template `exec` starts from
  nlohmann::json hooks;    // config.json's hooks: poststart runs at start, poststop at delete
  nlohmann::json seccomp;  // linux.seccomp: exec'd processes get the container's filter
};

nlohmann::json to_json(const State& s);
Result<State> from_json(const nlohmann::json& j);
// The OCI state document `state` prints: ociVersion, id, status, pid, bundle, annotations
// (+ rootfs, created, owner as runc prints them).
nlohmann::json oci_state(const State& s, Status status);

// "abc-1.2_x" ok; "", ".", "..", "a/b" not.
Result<void> validate_id(const std::string& id);

// A state read for ID is trusted no further than this: it names ID itself, an init pid above 1, a
// known back end, a clean cgroup path (not the root cgroup, nothing that climbs out), mount points
// under /sys/fs/cgroup and a freezer file of that cgroup. Store::load checks every state it reads.
Result<void> check_state(const State& s, const std::string& id);

// The default state root: /run/nano-sandbox as root; $XDG_RUNTIME_DIR/nano-sandbox otherwise
// (an empty XDG_RUNTIME_DIR counts as unset, then /run/user/<uid>/nano-sandbox when that is the
// user's; never a shared directory: an error says to set XDG_RUNTIME_DIR or --root).
Result<std::string> default_root();

// Start time of PID from /proc/PID/stat; nullopt when gone or a zombie.
std::optional<unsigned long long> process_start_time(pid_t pid);

class Store {
 public:
  explicit Store(std::string root) : root_(std::move(root)) {}
  [[nodiscard]] const std::string& root() const { return root_; }
  [[nodiscard]] std::string lock_path(const std::string& id) const { return root_ + "/" + id + NS_LOCK_SUFFIX; }
  [[nodiscard]] std::string state_path(const std::string& id) const { return root_ + "/" + id + NS_STATE_SUFFIX; }
  [[nodiscard]] std::string fifo_path(const std::string& id) const { return root_ + "/" + id + NS_EXEC_FIFO_SUFFIX; }
  // VM mode's directory (sockets, logs); the VM back end makes it.
  [[nodiscard]] std::string vm_dir(const std::string& id) const { return root_ + "/" + id + NS_VM_DIR_SUFFIX; }

  // Every operation first checks the root (check_private_dir): ours alone, or refused.
  // Claims ID: <root>/<id>.lock made exclusively ("container with id exists: ID"), locked.
  Result<UniqueFd> claim(const std::string& id);
  // Opens and locks <root>/<id>.lock: "container \"ID\" does not exist" when missing (or
  // deleted while this waited for the lock).
  Result<UniqueFd> lock(const std::string& id) const;
  Result<State> load(const std::string& id) const;
  // The init's pid and start time, written into the lock file (LOCK, from claim) as soon as they
  // are known: delete --force finds the init through it when state.json is unreadable.
  Result<void> record_init(int lock, pid_t pid, unsigned long long start) const;
  // What record_init wrote for ID (nullopt: nothing, or not a pid and start time).
  [[nodiscard]] std::optional<std::pair<pid_t, unsigned long long>> recorded_init(const std::string& id) const;
  Result<void> save(const State& s) const;
  // save in two steps: <id>.json.tmp written now (while the init still sets up), renamed to
  // <id>.json by commit once the container exists.
  Result<void> stage(const State& s) const;
  Result<void> commit(const std::string& id) const;
  // Every file of ID, the lock last; VM_DIR: VM mode's directory too (when there may be one).
  Result<void> remove(const std::string& id, bool vm_dir) const;
  Result<std::vector<std::string>> list() const;

  // Derives the status: init gone or reused -> stopped; fifo present -> created; frozen ->
  // paused; else running.
  [[nodiscard]] Status status(const State& s) const;

 private:
  std::string root_;
};

}  // namespace ns::state
