// QEMU's machine protocol (QMP), the little of it VM mode uses: `stop` and `cont` for pause and
// resume. One connection per command: the greeting, qmp_capabilities, the command, its return.
#pragma once

#include <string>

#include "common/error.hpp"

namespace ns::vm {

// Runs COMMAND ("stop", "cont") on the QMP socket at PATH; an error carries QEMU's own words.
Result<void> qmp_execute(const std::string& path, const std::string& command);

}  // namespace ns::vm
