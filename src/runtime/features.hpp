// `ns-runtime features`: the runtime-spec features document, generated from the tables the
// parsers use (mount options, namespaces, capabilities, seccomp), so it cannot drift from them.
#pragma once

#include <nlohmann/json.hpp>

namespace ns::runtime {

nlohmann::json features();

}  // namespace ns::runtime
