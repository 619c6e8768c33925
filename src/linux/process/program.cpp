#include "linux/process/program.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.hpp"
#include "common/fd.hpp"
#include "linux/process/process.hpp"

namespace ns::linux_process {
namespace {

constexpr size_t kMaxOutput = 1 << 20;

}  // namespace

bool ProgramResult::ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

std::string ProgramResult::how() const {
  return WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                           : "signal " + std::to_string(WTERMSIG(status));
}

Result<ProgramResult> run_program(const Program& p) {
  int in[2], out[2], err[2] = {-1, -1};
  if (::pipe2(in, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd in_r(in[0]), in_w(in[1]);
  if (::pipe2(out, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd out_r(out[0]), out_w(out[1]);
  if (!p.merge_stderr && ::pipe2(err, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd err_r(err[0]), err_w(err[1]);

  std::vector<std::string> args = p.args.empty() ? std::vector<std::string>{p.path} : p.args;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : p.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork", p.path);
  if (pid == 0) {
    if (p.mount_ns_fd >= 0) {
      char cwd[4096];
      bool have_cwd = ::getcwd(cwd, sizeof cwd) != nullptr;
      if (::setns(p.mount_ns_fd, CLONE_NEWNS) < 0) ::_exit(126);
      if (have_cwd) (void)::chdir(cwd);
    }
    ::dup2(in_r.get(), 0);
    ::dup2(out_w.get(), 1);
    ::dup2(p.merge_stderr ? out_w.get() : err_w.get(), 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    restore_signal_defaults();
    ::execve(p.path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  in_r.reset();
  out_w.reset();
  err_w.reset();
  // The input goes in whole or as far as the program reads it; one that ignores stdin closes it
  // (the runtime ignores SIGPIPE, so that is EPIPE here, not death).
  (void)!::write(in_w.get(), p.stdin_data.data(), p.stdin_data.size());
  in_w.reset();

  ProgramResult res;
  auto now = [] { return static_cast<long long>(monotonic_ms()); };
  long long deadline = p.timeout_ms ? now() + *p.timeout_ms : -1;
  auto remaining = [&] { return deadline < 0 ? -1 : static_cast<int>(std::max(0LL, deadline - now())); };
  bool timed_out = false;
  while ((out_r || err_r) && !timed_out) {
    struct pollfd pfd[2] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}};
    int n = ::poll(pfd, 2, remaining());
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      timed_out = true;
      break;
    }
    auto drain = [](UniqueFd& fd, const struct pollfd& pf, std::string& into) {
      if (!fd || !(pf.revents & (POLLIN | POLLHUP | POLLERR))) return;
      char buf[4096];
      ssize_t r = ::read(fd.get(), buf, sizeof buf);
      if (r > 0 && into.size() < kMaxOutput) into.append(buf, static_cast<size_t>(r));
      if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) fd.reset();
    };
    drain(out_r, pfd[0], res.out);
    drain(err_r, pfd[1], res.err);
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
    return make_error(p.path + " timed out after " + std::to_string(*p.timeout_ms / 1000) + "s");
  }
  while (::waitpid(pid, &res.status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(res.status) && WEXITSTATUS(res.status) == 127 && res.out.empty() && res.err.empty())
    return make_error(p.path + ": exec failed: no such file or directory");
  return res;
}

}  // namespace ns::linux_process
