// `features` is generated from the parsers' tables: everything it lists must be accepted by the
// parsers, so the document cannot claim what the runtime does not take.
#include <gtest/gtest.h>

#include "linux/fs/mount_options.hpp"
#include "linux/security/capabilities.hpp"
#include "linux/security/seccomp.hpp"
#include "oci/spec.hpp"
#include "runtime/features.hpp"
#include "sys/kernel.hpp"

namespace ns {
namespace {

TEST(Features, EverythingListedIsAccepted) {
  auto f = runtime::features();
  EXPECT_EQ(f["ociVersionMax"], oci::kOciVersion);
  ASSERT_GT(f["mountOptions"].size(), 20u);
  for (auto& o : f["mountOptions"]) {
    auto parsed = linux_fs::parse_mount_options({o.get<std::string>()});
    ASSERT_TRUE(parsed) << o;
    EXPECT_TRUE(parsed->data.empty()) << o << " would be passed to the filesystem as data";
  }
  for (auto& n : f["linux"]["namespaces"]) {
    std::string cfg = R"({"ociVersion": "1.2.0", "root": {"path": "r"}, "linux": {"namespaces": [{"type": ")" +
                      n.get<std::string>() + R"("}]}})";
    EXPECT_TRUE(oci::parse_spec(cfg)) << n;
  }
  oci::Capabilities caps;
  for (auto& c : f["linux"]["capabilities"]) caps.bounding.push_back(c);
  ASSERT_FALSE(caps.bounding.empty());
  EXPECT_TRUE(linux_security::resolve_caps(caps, 63));
  for (auto& a : f["linux"]["seccomp"]["actions"])  // every action, as a rule's (NOTIFY with its listener)
    EXPECT_TRUE(linux_security::parse_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"},
                                               {"listenerPath", "/run/agent.sock"},
                                               {"syscalls", {{{"names", {"mkdir"}}, {"action", a}}}}}))
        << a;
  for (auto& arch : f["linux"]["seccomp"]["archs"])
    EXPECT_TRUE(linux_security::parse_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"}, {"architectures", {arch}}})) << arch;
  for (auto& op : f["linux"]["seccomp"]["operators"])
    EXPECT_TRUE(linux_security::parse_seccomp(
        {{"defaultAction", "SCMP_ACT_ALLOW"},
         {"syscalls", {{{"names", {"read"}}, {"action", "SCMP_ACT_ERRNO"}, {"args", {{{"index", 0}, {"value", 1}, {"op", op}}}}}}}}))
        << op;
  for (auto& fl : f["linux"]["seccomp"]["knownFlags"])
    EXPECT_TRUE(linux_security::parse_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"}, {"flags", {fl}}})) << fl;
}

// The other direction: every name the runtime-spec defines that the parsers take must be listed, so
// nothing supported is missing from the document.
bool listed(const nlohmann::json& list, const std::string& name) {
  for (auto& e : list)
    if (e == name) return true;
  return false;
}

TEST(Features, EverythingAcceptedIsListed) {
  auto f = runtime::features();
  const char* mount_options[] = {
      "async",    "atime",     "bind",       "defaults",  "dev",          "diratime",  "dirsync",     "exec",
      "iversion", "lazytime",  "loud",       "mand",      "noatime",      "nodev",     "nodiratime",  "noexec",
      "noiversion", "nolazytime", "nomand",  "norelatime", "nostrictatime", "nosuid",  "nosymfollow", "private",
      "ratime",   "rbind",     "rdev",       "rdiratime", "relatime",     "remount",   "rexec",       "rnoatime",
      "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow", "ro",      "rprivate",
      "rrelatime", "rro",      "rrw",        "rshared",   "rslave",       "rstrictatime", "rsuid",     "rsymfollow",
      "runbindable", "rw",     "shared",     "silent",    "slave",        "strictatime", "suid",      "symfollow",
      "sync",     "tmpcopyup", "unbindable", "idmap",     "ridmap"};
  int accepted = 0;
  for (const char* o : mount_options) {
    auto parsed = linux_fs::parse_mount_options({o});
    if (parsed && parsed->data.empty()) {
      ++accepted;
      EXPECT_TRUE(listed(f["mountOptions"], o)) << o << " is taken by the parser but missing from features";
    }
  }
  EXPECT_GT(accepted, 50);

  for (const char* n : {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"}) {
    std::string cfg =
        R"({"ociVersion": "1.2.0", "root": {"path": "r"}, "linux": {"namespaces": [{"type": ")" + std::string(n) + R"("}]}})";
    if (oci::parse_spec(cfg)) {
      EXPECT_TRUE(listed(f["linux"]["namespaces"], n)) << n;
    }
  }

  for (const char* h : {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
                        "prestop"}) {
    std::string cfg = R"({"ociVersion": "1.2.0", "root": {"path": "r"}, "hooks": {")" + std::string(h) +
                      R"(": [{"path": "/bin/true"}]}})";
    auto spec = oci::parse_spec(cfg);
    ASSERT_TRUE(spec) << h;
    size_t taken = 0;
    for (const oci::HookKind& k : oci::kHookKinds) taken += (spec->hooks.*k.list).size();
    EXPECT_EQ(taken > 0, listed(f["hooks"], h)) << h;
  }

  for (int c = 0; c < 64; ++c) {
    std::string n = linux_security::cap_name(c);
    if (n.empty()) continue;
    oci::Capabilities caps;
    caps.bounding.push_back(n);
    if (linux_security::resolve_caps(caps, 63)) {
      // Listed up to the running kernel's last capability; a name past it is refused at create.
      if (listed(f["linux"]["capabilities"], n)) continue;
      EXPECT_GT(c, sys::real_kernel().last_cap()) << n;
    }
  }

  auto rule = [](const std::string& action) {
    return nlohmann::json{{"defaultAction", "SCMP_ACT_ALLOW"},
                          {"listenerPath", "/run/agent.sock"},
                          {"syscalls", {{{"names", {"mkdir"}}, {"action", action}}}}};
  };
  for (const char* a : {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                        "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"})
    if (linux_security::parse_seccomp(rule(a))) {
      EXPECT_TRUE(listed(f["linux"]["seccomp"]["actions"], a)) << a;
    }
  for (const char* op : {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                         "SCMP_CMP_MASKED_EQ"}) {
    nlohmann::json j = {{"defaultAction", "SCMP_ACT_ALLOW"},
                        {"syscalls",
                         {{{"names", {"read"}}, {"action", "SCMP_ACT_ERRNO"}, {"args", {{{"index", 0}, {"value", 1}, {"op", op}}}}}}}};
    if (linux_security::parse_seccomp(j)) {
      EXPECT_TRUE(listed(f["linux"]["seccomp"]["operators"], op)) << op;
    }
  }
  for (const char* arch : {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
                           "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
                           "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
                           "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
                           "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
                           "SCMP_ARCH_SH", "SCMP_ARCH_SHEB"})
    if (linux_security::parse_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"}, {"architectures", {arch}}})) {
      EXPECT_TRUE(listed(f["linux"]["seccomp"]["archs"], arch)) << arch;
    }
  for (const char* fl : {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                         "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"})
    if (linux_security::parse_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"}, {"flags", {fl}}})) {
      EXPECT_TRUE(listed(f["linux"]["seccomp"]["knownFlags"], fl)) << fl;
    }
}

}  // namespace
}  // namespace ns
