// The container process itself: hostname, sysctl, rlimits, oom score, user and groups, cwd,
// the fds it may keep, the executable lookup and the final execve.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "explain/narration.hpp"
#include "oci/spec.hpp"
#include "sys/kernel.hpp"

namespace ns::linux_process {

Result<void> set_hostname(sys::Kernel& k, const oci::Spec& spec);
// linux.sysctl: "net.ipv4.ip_forward" -> /proc/sys/net/ipv4/ip_forward
Result<void> set_sysctl(sys::Kernel& k, const std::map<std::string, std::string>& sysctl);
Result<void> set_rlimits(sys::Kernel& k, const std::vector<oci::Rlimit>& rlimits);
Result<void> set_oom_score_adj(sys::Kernel& k, int value);
// setgroups(additionalGids), setresgid, setresuid: groups first, uid last (it drops the right
// to change the others).
Result<void> switch_user(sys::Kernel& k, const oci::User& user);

// PATH lookup inside the container, as execvp would, but before the fifo so `create` reports it:
//   exec: "nope": executable file not found in $PATH
Result<std::string> find_executable(const std::string& name, const std::vector<std::string>& env);

// Closes every fd >= FIRST except those in KEEP (the sync socket, the log): what the runtime
// process happened to hold (state-dir locks, sockets of the caller) never reaches the child's
// later stages, let alone the container.
void close_fds_from(int first, std::vector<int> keep);

// Environment for the container: process.env, plus LISTEN_FDS/LISTEN_PID when socket
// activation fds are passed.
std::vector<std::string> build_env(const oci::Process& p, int listen_fds);

// SIGPIPE back to its default: the runtime ignores it, and ignored signals survive execve.
void restore_signal_defaults();
// execve, or report on stderr and _exit(127 for ENOENT, else 126). Restores signal defaults first.
[[noreturn]] void exec_or_die(const std::string& path, const std::vector<std::string>& args,
                              const std::vector<std::string>& env);

namespace narration {
extern const explain::Narration kKeyring, kSession, kOomScore, kCwdCreate, kHostname, kSysctl, kRlimits, kUser, kCwd;
}

}  // namespace ns::linux_process
