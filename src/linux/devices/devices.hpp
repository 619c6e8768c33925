// /dev inside the container: the default device nodes every program expects (null, zero, full,
// random, urandom, tty), the ones config.json lists in linux.devices, and the /dev/fd, /dev/std*
// and /dev/ptmx symlinks. Inside a user namespace mknod is not allowed, so nodes are bind
// mounts of the host's.
#pragma once

#include <vector>

#include "common/error.hpp"
#include "explain/narration.hpp"
#include "oci/spec.hpp"
#include "sys/kernel.hpp"

namespace ns::linux_dev {

// The six devices runc and crun always create.
std::vector<oci::Device> default_devices();

// Creates every device (defaults first, then SPEC's) and the symlinks under ROOT_FD's /dev.
// Skipped when /dev is a bind mount of the host's.
Result<void> setup_dev(sys::Kernel& k, const oci::Spec& spec, int root_fd, bool in_userns);

namespace narration {
extern const explain::Narration kDevices;
}

}  // namespace ns::linux_dev
