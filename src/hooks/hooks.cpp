#include "hooks/hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fd.hpp"
#include "linux/process/process.hpp"

namespace ns::hooks {

namespace narration {
const explain::Narration kRuntimeHooks{
    "hooks", "hooks.prestart, hooks.createRuntime",
    "Hooks are programs of the engine's (networking set-up, GPU injection) that the runtime runs at fixed points, "
    "with the container's state as JSON on stdin. prestart and createRuntime run now, in the runtime's "
    "namespaces: the container's namespaces exist, nothing is mounted in them yet."};
const explain::Narration kCreateContainerHooks{
    "create-container-hooks", "hooks.createContainer",
    "createContainer hooks run in the container's mount namespace but before pivot_root, so they can still see "
    "the host's paths and prepare the rootfs. They get the state on stdin like every hook; a failure fails create "
    "and everything made so far is undone."};
const explain::Narration kPoststart{
    "poststart-hooks", "hooks.poststart",
    "poststart hooks run once the program has been started; a failure is only a warning, the container runs."};
const explain::Narration kPoststop{
    "poststop-hooks", "hooks.poststop",
    "poststop hooks run after the container is gone, to undo what the engine set up; a failure is a warning."};
}  // namespace narration
namespace {

long long now_ms() {
  struct timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int g_runtime_mount_ns = -1;

}  // namespace

void set_runtime_mount_ns(int fd) { g_runtime_mount_ns = fd; }

Result<void> run_hook(const oci::Hook& hook, const std::string& state) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd in_r(in[0]), in_w(in[1]);
  if (::pipe2(out, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd out_r(out[0]), out_w(out[1]);

  std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : hook.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork hook", hook.path);
  if (pid == 0) {
    if (g_runtime_mount_ns >= 0) {
      char cwd[4096];
      bool have_cwd = ::getcwd(cwd, sizeof cwd) != nullptr;
      if (::setns(g_runtime_mount_ns, CLONE_NEWNS) < 0) ::_exit(126);
      if (have_cwd) (void)::chdir(cwd);
    }
    ::dup2(in_r.get(), 0);
    ::dup2(out_w.get(), 1);
    ::dup2(out_w.get(), 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    linux_process::restore_signal_defaults();
    ::execve(hook.path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  in_r.reset();
  out_w.reset();
  // The state goes in whole or as far as the hook reads it; a hook may ignore stdin (the
  // runtime ignores SIGPIPE from main() on, so a closed stdin is EPIPE here, not death).
  (void)!::write(in_w.get(), state.data(), state.size());
  in_w.reset();

  // Read its output until it closes it, then wait for its exit; both within the timeout.
  std::string output;
  long long deadline = hook.timeout ? now_ms() + *hook.timeout * 1000LL : -1;
  auto remaining = [&] { return deadline < 0 ? -1 : static_cast<int>(std::max(0LL, deadline - now_ms())); };
  bool timed_out = false;
  while (out_r && !timed_out) {
    struct pollfd pfd{out_r.get(), POLLIN, 0};
    int n = ::poll(&pfd, 1, remaining());
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      timed_out = true;
      break;
    }
    char buf[4096];
    ssize_t r = ::read(out_r.get(), buf, sizeof buf);
    if (r > 0 && output.size() < 65536) output.append(buf, static_cast<size_t>(r));
    if (r <= 0) out_r.reset();
  }
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!timed_out && pidfd) {
    struct pollfd pfd{pidfd.get(), POLLIN, 0};
    while (true) {
      int n = ::poll(&pfd, 1, remaining());
      if (n < 0 && errno == EINTR) continue;
      timed_out = n == 0;
      break;
    }
  }
  if (timed_out) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return make_error("hook " + hook.path + " timed out after " + std::to_string(*hook.timeout) + "s");
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  while (!output.empty() && output.back() == '\n') output.pop_back();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && output.empty())
    return make_error("hook " + hook.path + ": exec failed: no such file or directory");
  std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                      : "signal " + std::to_string(WTERMSIG(status));
  return make_error("hook " + hook.path + " failed (" + how + ")" + (output.empty() ? "" : ": " + output));
}

Result<void> run_hooks(const std::vector<oci::Hook>& hooks, const std::string& state, const char* phase) {
  for (auto& h : hooks)
    if (auto r = run_hook(h, state); !r) {
      Error e = r.error();
      e.msg = std::string(phase) + " " + e.msg;
      return std::unexpected(e);
    }
  return {};
}

std::string state_json(const std::string& oci_version, const std::string& id, const char* status, pid_t pid,
                       const std::string& bundle, const std::map<std::string, std::string>& annotations) {
  nlohmann::json j = {{"ociVersion", oci_version}, {"id", id}, {"status", status}, {"pid", pid}, {"bundle", bundle}};
  if (!annotations.empty()) j["annotations"] = annotations;
  return j.dump();
}

}  // namespace ns::hooks
