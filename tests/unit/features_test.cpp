// `features` is generated from the parsers' tables: everything it lists must be accepted by the
// parsers, so the document cannot claim what the runtime does not take.
#include <gtest/gtest.h>

#include "linux/fs/mount_options.hpp"
#include "linux/security/capabilities.hpp"
#include "linux/security/seccomp.hpp"
#include "oci/spec.hpp"
#include "runtime/features.hpp"

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

}  // namespace
}  // namespace ns
