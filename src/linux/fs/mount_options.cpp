#include "linux/fs/mount_options.hpp"

#include <sys/mount.h>

#include <string_view>

namespace ns::linux_fs {
namespace {

struct FlagOption {
  std::string_view name;
  bool clear;
  unsigned long flag;
};

constexpr FlagOption kFlagOptions[] = {
    {"async", true, MS_SYNCHRONOUS},   {"atime", true, MS_NOATIME},
    {"defaults", false, 0},            {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME}, {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},         {"iversion", false, MS_I_VERSION},
    {"lazytime", false, MS_LAZYTIME},  {"loud", true, MS_SILENT},
    {"mand", false, MS_MANDLOCK},      {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},        {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},      {"noiversion", true, MS_I_VERSION},
    {"nolazytime", true, MS_LAZYTIME}, {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME}, {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},      {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},           {"silent", false, MS_SILENT},
    {"strictatime", false, MS_STRICTATIME}, {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},   {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW},
};

// The recursive forms: what they set and clear in mount_setattr(2)'s terms. An atime mode is
// one value under MOUNT_ATTR__ATIME, so setting one clears that field first.
struct RecOption {
  std::string_view name;
  uint64_t set;
  uint64_t clear;
};
constexpr RecOption kRecursive[] = {
    {"rro", MOUNT_ATTR_RDONLY, 0},
    {"rrw", 0, MOUNT_ATTR_RDONLY},
    {"rnosuid", MOUNT_ATTR_NOSUID, 0},
    {"rsuid", 0, MOUNT_ATTR_NOSUID},
    {"rnodev", MOUNT_ATTR_NODEV, 0},
    {"rdev", 0, MOUNT_ATTR_NODEV},
    {"rnoexec", MOUNT_ATTR_NOEXEC, 0},
    {"rexec", 0, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", MOUNT_ATTR_NODIRATIME, 0},
    {"rdiratime", 0, MOUNT_ATTR_NODIRATIME},
    {"rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
    {"rnorelatime", 0, MOUNT_ATTR__ATIME},
    {"rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
    {"ratime", 0, MOUNT_ATTR__ATIME},
    {"rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
    {"rnostrictatime", 0, MOUNT_ATTR__ATIME},
    {"rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0},
    {"rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW},
};

struct PropOption {
  std::string_view name;
  unsigned long flags;
};
constexpr PropOption kPropagation[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

}  // namespace

std::vector<std::string> known_mount_options() {
  std::vector<std::string> out = {"bind", "rbind", "tmpcopyup"};
  for (auto& f : kFlagOptions) out.emplace_back(f.name);
  for (auto& p : kPropagation) out.emplace_back(p.name);
  for (auto& r : kRecursive) out.emplace_back(r.name);
  return out;
}

Result<unsigned long> propagation_flags(const std::string& name) {
  if (name.empty()) return 0UL;
  for (auto& p : kPropagation)
    if (p.name == name) return p.flags;
  return make_error("invalid propagation \"" + name + "\"");
}

Result<MountOptions> parse_mount_options(const std::vector<std::string>& options) {
  MountOptions out;
  for (const std::string& opt : options) {
    if (opt == "bind") {
      out.bind = true;
      continue;
    }
    if (opt == "rbind") {
      out.bind = out.recursive = true;
      continue;
    }
    if (opt == "tmpcopyup") {
      out.tmpcopyup = true;
      continue;
    }
    if (opt == "idmap" || opt == "ridmap")
      return make_error("mount option \"" + opt + "\" is not supported");
    bool matched = false;
    for (auto& f : kFlagOptions) {
      if (f.name != opt) continue;
      if (f.clear) {
        out.flags &= ~f.flag;
        out.cleared |= f.flag;
      } else {
        out.flags |= f.flag;
        out.cleared &= ~f.flag;
      }
      matched = true;
      break;
    }
    if (matched) continue;
    for (auto& p : kPropagation) {
      if (p.name != opt) continue;
      out.propagation.push_back(p.flags);
      matched = true;
      break;
    }
    if (matched) continue;
    for (auto& r : kRecursive) {
      if (r.name != opt) continue;
      // A later option wins over an earlier one for the same attribute.
      out.rec_set = (out.rec_set & ~(r.set | r.clear)) | r.set;
      out.rec_clear = (out.rec_clear & ~(r.set | r.clear)) | r.clear;
      matched = true;
      break;
    }
    if (matched) continue;
    // Anything else belongs to the filesystem ("mode=755", "newinstance", "size=64m").
    if (!out.data.empty()) out.data += ',';
    out.data += opt;
  }
  return out;
}

std::pair<uint64_t, uint64_t> mount_attrs_of(unsigned long ms_flags) {
  uint64_t set = 0, clear = MOUNT_ATTR__ATIME;
  const std::pair<unsigned long, uint64_t> each[] = {
      {MS_RDONLY, MOUNT_ATTR_RDONLY}, {MS_NOSUID, MOUNT_ATTR_NOSUID},         {MS_NODEV, MOUNT_ATTR_NODEV},
      {MS_NOEXEC, MOUNT_ATTR_NOEXEC}, {MS_NODIRATIME, MOUNT_ATTR_NODIRATIME}, {MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW}};
  for (auto [ms, attr] : each) (ms_flags & ms ? set : clear) |= attr;
  set |= ms_flags & MS_NOATIME ? MOUNT_ATTR_NOATIME : ms_flags & MS_STRICTATIME ? MOUNT_ATTR_STRICTATIME : MOUNT_ATTR_RELATIME;
  return {set, clear};
}

}  // namespace ns::linux_fs
