// The config.json `ns-runtime spec` writes: runc's defaults (sh on a terminal, the usual mounts,
// masked and read-only paths), or the rootless variant with a user namespace.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include "oci/spec.hpp"

namespace ns::oci {

nlohmann::json default_spec(bool rootless, uid_t uid, gid_t gid);

}  // namespace ns::oci
