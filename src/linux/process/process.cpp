#include "linux/process/process.hpp"

#include <signal.h>

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "common/file.hpp"

namespace ns::linux_process {

namespace narration {
const explain::Narration kKeyring{
    "keyring", "",
    "The kernel keeps secrets (Kerberos tickets, filesystem encryption keys) in keyrings, and a process inherits "
    "the session keyring of whoever started it. The container joins a new session keyring of its own, so it "
    "cannot use the keys of the user that ran the runtime (--no-new-keyring keeps the caller's)."};
const explain::Narration kSession{
    "session", "process.terminal",
    "setsid makes the child the leader of a new session with no controlling terminal, so the caller's terminal "
    "and its job-control signals stay outside. umask 0 for now, so every node we create gets exactly the mode we "
    "ask for; the container's own umask comes with its user."};
const explain::Narration kOomScore{
    "oom-score", "process.oomScoreAdj",
    "oom_score_adj tells the kernel's out-of-memory killer how willing it should be to pick this process. Set "
    "here, it is inherited by the container's program."};
const explain::Narration kCwdCreate{
    "cwd-create", "process.cwd",
    "The working directory must exist. It is made now, as root, because after the user switch the container's "
    "user may not be allowed to create it."};
const explain::Narration kHostname{
    "hostname", "hostname, domainname",
    "The hostname and the domain name live in the UTS namespace: setting them here changes them for the "
    "container only. Without a UTS namespace of its own the container would rename the host."};
const explain::Narration kSysctl{
    "sysctl", "linux.sysctl",
    "Kernel settings that belong to a namespace (net.*, kernel.shm*, ...) are written under /proc/sys now, before "
    "/proc/sys turns read-only."};
const explain::Narration kRlimits{
    "rlimits", "process.rlimits",
    "Resource limits of the process (open files, processes, core size, ...) are set now, while we still have the "
    "privilege to raise a hard limit."};
const explain::Narration kUser{
    "user", "process.user",
    "Supplementary groups, then gid, then uid: in that order, because once the uid is no longer 0 the process may "
    "not change its groups. Then the container's umask."};
const explain::Narration kCwd{
    "cwd", "process.cwd",
    "The process enters its working directory as the container's user, so the directory's permissions are "
    "checked as that user. This is also the last moment any host directory could still be our cwd: from here on "
    "it is one inside the container."};
}  // namespace narration

Result<void> set_hostname(sys::Kernel& k, const oci::Spec& spec) {
  if (!spec.hostname.empty()) TRY(k.sethostname(spec.hostname));
  if (!spec.domainname.empty()) TRY(k.setdomainname(spec.domainname));
  return {};
}

Result<void> set_sysctl(sys::Kernel& k, const std::map<std::string, std::string>& sysctl) {
  for (auto& [key, value] : sysctl) {
    std::string rel = "sys/" + key;
    for (size_t i = 4; i < rel.size(); ++i)
      if (rel[i] == '.') rel[i] = '/';
    if (key.find("..") != std::string::npos || key.find('/') != std::string::npos)
      return make_error("sysctl \"" + key + "\": invalid name");
    if (auto r = k.write_procfs(rel, value); !r) {
      Error e = r.error();
      e.op = "write sysctl";
      e.path = key;
      if (e.err == EXDEV || e.err == ELOOP)
        e.msg = "/proc/" + rel + " is not procfs's own file (something is mounted over it, or a symlink leads elsewhere)";
      return std::unexpected(e);
    }
  }
  return {};
}

Result<void> set_rlimits(sys::Kernel& k, const std::vector<oci::Rlimit>& rlimits) {
  for (auto& rl : rlimits)
    if (auto r = k.setrlimit(rl.resource, rl.soft, rl.hard); !r) {
      Error e = r.error();
      e.path = rl.type;
      return std::unexpected(e);
    }
  return {};
}

Result<void> set_oom_score_adj(sys::Kernel& k, int value) {
  return k.write_file("/proc/self/oom_score_adj", std::to_string(value));
}

Result<void> switch_user(sys::Kernel& k, const oci::User& user) {
  std::vector<gid_t> groups(user.additional_gids.begin(), user.additional_gids.end());
  if (auto r = k.setgroups(groups); !r) {
    // A user namespace made without root has setgroups "deny" (the kernel's condition for
    // letting an unprivileged runtime write gid_map): no groups is then all there can be.
    if (!(r.error().err == EPERM && groups.empty())) return r;
  }
  TRY(k.setresgid(user.gid));
  TRY(k.setresuid(user.uid));
  return {};
}

static std::string env_value(const std::vector<std::string>& env, const std::string& key) {
  for (auto it = env.rbegin(); it != env.rend(); ++it)
    if (it->size() > key.size() && it->compare(0, key.size(), key) == 0 && (*it)[key.size()] == '=')
      return it->substr(key.size() + 1);
  return {};
}

static bool is_executable_file(const std::string& path, int* err) {
  struct stat st{};
  if (::stat(path.c_str(), &st) < 0) {
    *err = errno;
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    *err = EISDIR;
    return false;
  }
  if (::access(path.c_str(), X_OK) < 0) {
    *err = errno;
    return false;
  }
  return true;
}

Result<std::string> find_executable(const std::string& name, const std::vector<std::string>& env) {
  int err = 0;
  if (name.find('/') != std::string::npos) {
    if (is_executable_file(name, &err)) return name;
    return make_error("exec: \"" + name + "\": stat " + name + ": " + errno_string(err));
  }
  std::string path = env_value(env, "PATH");
  if (path.empty()) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (auto& dir : split(path, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (is_executable_file(candidate, &err)) return candidate;
  }
  return make_error("exec: \"" + name + "\": executable file not found in $PATH");
}

void close_fds_from(int first, std::vector<int> keep) {
  forget_path_anchor();  // closed below with the rest
  std::sort(keep.begin(), keep.end());
  unsigned lo = static_cast<unsigned>(first);
  for (int k : keep) {
    if (k < first) continue;
    if (static_cast<unsigned>(k) > lo) ::syscall(SYS_close_range, lo, static_cast<unsigned>(k) - 1, 0U);
    lo = static_cast<unsigned>(k) + 1;
  }
  ::syscall(SYS_close_range, lo, ~0U, 0U);
}

std::vector<std::string> build_env(const oci::Process& p, int listen_fds) {
  std::vector<std::string> env = p.env;
  if (listen_fds > 0) {
    std::erase_if(env, [](const std::string& e) { return e.starts_with("LISTEN_FDS=") || e.starts_with("LISTEN_PID="); });
    env.push_back("LISTEN_FDS=" + std::to_string(listen_fds));
    env.push_back("LISTEN_PID=1");
  }
  if (env_value(env, "HOME").empty()) env.push_back("HOME=/");
  return env;
}

void restore_signal_defaults() {
  // The runtime ignores SIGPIPE (a closed pipe on stderr must not kill it half-way through a
  // create); an ignored signal stays ignored across execve, so hand the default back first.
  ::signal(SIGPIPE, SIG_DFL);
}

void exec_or_die(const std::string& path, const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  restore_signal_defaults();
  ::execve(path.c_str(), argv.data(), envp.data());
  int err = errno;
  std::string msg = "ns-runtime: exec \"" + path + "\": " + errno_string(err) + "\n";
  (void)!::write(STDERR_FILENO, msg.data(), msg.size());
  ::_exit(err == ENOENT ? 127 : 126);
}

}  // namespace ns::linux_process
