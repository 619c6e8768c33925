// `exec` for the namespace back end (see exec.cpp for the process model).
#pragma once

#include <string>

#include "common/error.hpp"
#include "oci/spec.hpp"
#include "runtime/backend.hpp"
#include "state/state.hpp"

namespace ns::runtime {

Result<int> namespace_exec(const state::State& st, const ExecOptions& opts, const oci::Process& process);

}  // namespace ns::runtime
