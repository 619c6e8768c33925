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
    {"sync", false, MS_SYNCHRONOUS},
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
    // Anything else belongs to the filesystem ("mode=755", "newinstance", "size=64m").
    if (!out.data.empty()) out.data += ',';
    out.data += opt;
  }
  return out;
}

}  // namespace ns::linux_fs
