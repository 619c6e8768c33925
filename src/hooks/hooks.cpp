#include "hooks/hooks.hpp"

#include "linux/process/program.hpp"

namespace ns::hooks {

namespace narration {
const explain::Narration kRuntimeHooks{
    "hooks", "hooks.prestart, hooks.createRuntime",
    "Hooks are programs of the engine's (networking set-up, GPU injection) that the runtime runs at fixed points, "
    "with the container's state as JSON on stdin. prestart and createRuntime run now, in the runtime's "
    "namespaces: the container's namespaces and mounts exist, and the child waits before pivot_root."};
const explain::Narration kAwaitRuntimeHooks{
    "runtime-hooks-wait", "hooks.prestart, hooks.createRuntime",
    "The container's mounts are in place and pivot_root has not happened yet: the point where prestart and "
    "createRuntime hooks run. The child asks the runtime to run them and waits until they have succeeded."};
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

int g_runtime_mount_ns = -1;

}  // namespace

void set_runtime_mount_ns(int fd) { g_runtime_mount_ns = fd; }

Result<void> run_hook(const oci::Hook& hook, const std::string& state) {
  linux_process::Program p;
  p.path = hook.path;
  p.args = hook.args;
  p.env = hook.env;
  p.stdin_data = state;
  if (hook.timeout) p.timeout_ms = *hook.timeout * 1000;
  p.mount_ns_fd = g_runtime_mount_ns;
  auto r = linux_process::run_program(p);
  if (!r) {
    Error e = r.error();
    e.msg = "hook " + e.msg;
    return std::unexpected(e);
  }
  if (r->ok()) return {};
  std::string output = r->out;
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return make_error("hook " + hook.path + " failed (" + r->how() + ")" + (output.empty() ? "" : ": " + output));
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
