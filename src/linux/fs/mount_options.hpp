// Mount options as config.json writes them ("nosuid", "rbind", "rprivate", "mode=755",
// "tmpcopyup") turned into what mount(2) takes: flags to set, flags to clear, propagation
// changes to apply afterwards, and the fs-specific data string.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace ns::linux_fs {

struct MountOptions {
  unsigned long flags = 0;              // MS_* to set
  unsigned long cleared = 0;            // MS_* an option asked to clear ("rw", "suid", ...)
  std::vector<unsigned long> propagation;  // MS_PRIVATE|MS_REC ... applied after the mount
  std::string data;                     // "mode=755,size=65536k"
  bool bind = false;                    // bind or rbind
  bool recursive = false;               // rbind
  bool tmpcopyup = false;               // podman: copy the directory's old content into the tmpfs
  // "rro", "rnosuid", ...: MOUNT_ATTR_* set and cleared on the mount and every mount under it
  // (mount_setattr(2) with AT_RECURSIVE, Linux 5.12), as runc applies them.
  uint64_t rec_set = 0;
  uint64_t rec_clear = 0;
};

Result<MountOptions> parse_mount_options(const std::vector<std::string>& options);

// Every option name the parser gives a meaning to (data options aside), for `features`.
std::vector<std::string> known_mount_options();

// MS_* flags as a bind remount takes them, in mount_setattr(2)'s terms: the MOUNT_ATTR_* to set
// and to clear so that a mount ends up with exactly these (read-only, nosuid, nodev, noexec,
// nodiratime, nosymfollow, and the atime mode: relatime unless noatime or strictatime).
std::pair<uint64_t, uint64_t> mount_attrs_of(unsigned long ms_flags);

// Propagation names of rootfsPropagation ("rslave") to MS_* flags; 0 for "".
Result<unsigned long> propagation_flags(const std::string& name);

}  // namespace ns::linux_fs
