// The OCI runtime-spec 1.2 configuration (config.json), typed.
//
// parse_spec() reads every field the spec defines for Linux, checks its JSON type and reports
// the first problem naming the field ("process.args: must not be empty"). validate_spec()
// checks the rules that span fields (hostname needs a UTS namespace, mappings need a user
// namespace...). Fields owned by later mechanisms (resources, seccomp) are type-checked here and
// kept as JSON for their module to read.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace ns::oci {

inline constexpr const char* kOciVersion = "1.2.0";

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
  std::string username;
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  int resource = 0;  // RLIMIT_NOFILE
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct ConsoleSize {
  unsigned height = 0;
  unsigned width = 0;
};

struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::string apparmor_profile;
  std::optional<int> oom_score_adj;
  std::string selinux_label;
  nlohmann::json scheduler;          // null when absent
  nlohmann::json io_priority;        // null when absent
  nlohmann::json exec_cpu_affinity;  // null when absent
};

struct Root {
  std::string path;
  bool readonly = false;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart, poststop;
};
// The hook kinds config.json may name, in lifecycle order: the parser and `features` read this table.
struct HookKind {
  const char* name;
  std::vector<Hook> Hooks::*list;
};
inline constexpr HookKind kHookKinds[] = {
    {"prestart", &Hooks::prestart},           {"createRuntime", &Hooks::create_runtime},
    {"createContainer", &Hooks::create_container}, {"startContainer", &Hooks::start_container},
    {"poststart", &Hooks::poststart},         {"poststop", &Hooks::poststop},
};

enum class NsType { Pid, Network, Mount, Ipc, Uts, User, Cgroup, Time };
inline constexpr NsType kAllNamespaces[] = {NsType::Pid,  NsType::Network, NsType::Mount,
                                            NsType::Ipc,  NsType::Uts,     NsType::User,
                                            NsType::Cgroup, NsType::Time};
const char* ns_type_name(NsType t);  // "pid", "network", ...

struct Namespace {
  NsType type;
  std::string path;  // empty: create a new one
};

struct Device {
  std::string path;
  char type = 'c';  // c, b, u, p
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

struct TimeOffset {
  int64_t secs = 0;
  uint32_t nanosecs = 0;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  std::map<std::string, TimeOffset> time_offsets;  // "monotonic", "boottime"
  std::vector<Device> devices;
  std::string cgroups_path;
  nlohmann::json resources;  // typed by the cgroup module
  std::map<std::string, std::string> sysctl;
  nlohmann::json seccomp;    // typed by the seccomp module
  std::string rootfs_propagation;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::string mount_label;
  nlohmann::json intel_rdt;
  nlohmann::json personality;

  [[nodiscard]] const Namespace* find_namespace(NsType t) const;
  [[nodiscard]] bool has_new_namespace(NsType t) const {
    auto* n = find_namespace(t);
    return n && n->path.empty();
  }
};

struct Spec {
  std::string oci_version;
  std::optional<Process> process;
  nlohmann::json process_json;  // the process object as written, kept in state for `exec`
  Root root;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  nlohmann::json hooks_json;  // as written, kept in state for start (poststart) and delete (poststop)
  std::map<std::string, std::string> annotations;
  std::optional<Linux> linux;
};

// Parses config.json text. Errors read "config.json: FIELD: PROBLEM".
Result<Spec> parse_spec(const std::string& text);
// A process object on its own: process.json of `exec --process`, or the one kept in state.
Result<Process> parse_process_json(const nlohmann::json& j, const std::string& field = "process");
// The inverse: PROCESS as runtime-spec JSON (what VM mode sends its agent for `exec`).
nlohmann::json process_to_json(const Process& p);
Result<void> validate_process(const Process& p);
// The hooks object on its own (as kept in state).
Result<Hooks> parse_hooks_json(const nlohmann::json& j);
// Cross-field rules, as runc enforces them.
Result<void> validate_spec(const Spec& spec);
// Reads BUNDLE/config.json, parses and validates it.
Result<Spec> load_spec(const std::string& bundle);


// Rlimit names the parser accepts, for `features`.
std::vector<std::string> known_rlimits();

}  // namespace ns::oci
