// The verbs, independent of the command line: each one loads or creates state, asks the back end
// to act, and keeps state.json true. The CLI front ends only parse flags and call these.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "runtime/backend.hpp"
#include "state/state.hpp"

namespace ns::runtime {

struct GlobalOptions {
  std::string root;  // state root
  bool systemd_cgroup = false;
};

class Runtime {
 public:
  explicit Runtime(GlobalOptions g);

  // create: the container is set up and its init blocked; PID_FILE (if any) holds its pid.
  Result<void> create(CreateOptions opts, const std::string& pid_file);
  Result<void> start(const std::string& id);
  // create + start; attached (detach=false) it waits, relays the terminal, forwards signals and
  // returns the container's exit status (128+N for a signal).
  Result<int> run(CreateOptions opts, const std::string& pid_file, bool detach, bool keep);
  // The OCI state JSON, indented as runc prints it.
  Result<std::string> state(const std::string& id);
  Result<void> kill(const std::string& id, int signal, bool all);
  // delete; with force a running container is killed first and a missing one is not an error.
  Result<void> remove(const std::string& id, bool force);
  // exec: runs PROCESS in the container; attached it returns the exit status.
  Result<int> exec(const std::string& id, const ExecOptions& opts, const oci::Process& process);
  // The container's own process (config.json's), the template `exec ID CMD` starts from.
  Result<oci::Process> exec_template(const std::string& id);
  // events: with STATS one stats event and return; else a stats event every INTERVAL_MS and an
  // "oom" event when the OOM killer acts, until the container stops. Each event is one JSON line
  // handed to EMIT.
  Result<void> events(const std::string& id, bool stats, int interval_ms,
                      const std::function<bool(const std::string&)>& emit);
  Result<void> pause(const std::string& id);
  Result<void> resume(const std::string& id);
  // update: RESOURCES is linux.resources JSON; zero values leave a setting unchanged (Docker).
  Result<void> update(const std::string& id, const nlohmann::json& resources);
  // list: "table" or "json"; quiet prints ids only.
  Result<std::string> list(const std::string& format, bool quiet);
  Result<std::vector<pid_t>> pids(const std::string& id);

  [[nodiscard]] const state::Store& store() const { return store_; }

 private:
  // SAVED (if given) gets the state as saved: `run` goes on with it instead of reading it back.
  // START_NOW (run): the back end may start the init as it commits it (Created::started).
  Result<Created> create_container(CreateOptions& opts, const std::string& pid_file, state::State* saved = nullptr,
                                   bool start_now = false);
  // start and delete of a loaded state, the caller holding the container's lock.
  Result<void> start_locked(const state::State& st);
  // INIT_REAPED: this process has waited for the init (`run`): it is stopped, nothing to look up.
  Result<void> remove_locked(const state::State& st, bool force, bool init_reaped);
  // delete; KNOWN (when not null) is the state as this process saved it, not read back.
  Result<void> remove(const std::string& id, bool force, const state::State* known, bool init_reaped);
  Backend& backend_for(const state::State& st);

  GlobalOptions g_;
  state::Store store_;
  Backend& ns_backend_;
};

// Writes PID to PATH atomically (tmp file + rename in the same directory).
Result<void> write_pid_file(const std::string& path, pid_t pid);

// `ps` table format: runs ps(1) with ARGS (default -ef) and keeps the header and the lines whose
// PID column is one of PIDS.
Result<std::string> ps_table(const std::vector<pid_t>& pids, const std::vector<std::string>& args);

// Rows as aligned columns, three spaces apart, the first row the header (`list`, `nsrun ls`).
std::string format_table(const std::vector<std::vector<std::string>>& rows);

// "SIGTERM", "TERM", "term", "15" -> 15
Result<int> parse_signal(const std::string& s);

}  // namespace ns::runtime
