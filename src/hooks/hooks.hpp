// OCI hooks: programs the runtime runs at fixed points of the lifecycle, each given the
// container's state JSON on stdin.
//   prestart, createRuntime   runtime side, after the namespaces exist, before the child mounts
//   createContainer           in the container's mount namespace, before pivot_root
//   startContainer            in the container, after `start`, before the user program
//   poststart                 runtime side, once the user program runs (failure: a warning)
//   poststop                  runtime side, when `delete` has torn the container down (warning)
// A hook that exits non-zero, or outlives its `timeout`, fails (and is killed).
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "explain/narration.hpp"
#include "oci/spec.hpp"

namespace ns::hooks {

// Where runtime-side hooks run when the runtime has moved itself into a private mount namespace
// (see linux/security/exe_guard.hpp): the fd of the namespace it came from; -1: where we are.
// The container's init sets it back to -1: createContainer and startContainer hooks run in the
// container's mount namespace.
void set_runtime_mount_ns(int fd);

// Runs one hook with STATE on stdin; its output is returned in the error when it fails.
Result<void> run_hook(const oci::Hook& hook, const std::string& state);
// Runs HOOKS in order; the first failure is returned, naming PHASE ("createRuntime").
Result<void> run_hooks(const std::vector<oci::Hook>& hooks, const std::string& state, const char* phase);

// The state document hooks read: ociVersion, id, status, pid, bundle, annotations.
std::string state_json(const std::string& oci_version, const std::string& id, const char* status, pid_t pid,
                       const std::string& bundle, const std::map<std::string, std::string>& annotations);

namespace narration {
extern const explain::Narration kRuntimeHooks, kAwaitRuntimeHooks, kCreateContainerHooks, kPoststart, kPoststop;
}

}  // namespace ns::hooks
