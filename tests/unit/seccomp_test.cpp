#include <gtest/gtest.h>
#include <seccomp.h>

#include "linux/security/seccomp.hpp"

namespace ns::linux_security {
namespace {

TEST(Seccomp, ParsesActionsArchesArgsAndErrnos) {
  auto f = parse_seccomp(nlohmann::json::parse(R"({
    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "flags": ["SECCOMP_FILTER_FLAG_LOG"],
    "syscalls": [
      {"names": ["read", "write", "_llseek"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
      {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 4294967295, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}]},
      {"names": ["chmod"], "action": "SCMP_ACT_ERRNO"}
    ]})"));
  ASSERT_TRUE(f) << f.error().to_string();
  EXPECT_EQ(f->default_action, SCMP_ACT_ERRNO(38));
  EXPECT_EQ(f->architectures.size(), 3u);
  ASSERT_EQ(f->rules.size(), 4u);
  EXPECT_EQ(f->rules[1].action, SCMP_ACT_ERRNO(1));
  EXPECT_EQ(f->rules[3].action, SCMP_ACT_ERRNO(38)) << "no errnoRet: defaultErrnoRet";
  EXPECT_EQ(f->rules[2].args[0].op, SCMP_CMP_MASKED_EQ);
  EXPECT_EQ(f->rules[2].args[0].value_two, 8u);
}

TEST(Seccomp, ErrorsNameTheField) {
  auto bad = [](const char* text) {
    auto f = parse_seccomp(nlohmann::json::parse(text));
    return f ? std::string() : f.error().to_string();
  };
  EXPECT_NE(bad(R"({})").find("defaultAction: missing"), std::string::npos);
  EXPECT_NE(bad(R"({"defaultAction": "SCMP_ACT_MAYBE"})").find("unknown action"), std::string::npos);
  EXPECT_NE(bad(R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]})").find("unknown architecture"),
            std::string::npos);
  EXPECT_NE(bad(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
      "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]})").find("syscalls[0].args[0].op"),
            std::string::npos);
  EXPECT_NE(bad(R"({"defaultAction": "SCMP_ACT_NOTIFY"})").find("cannot be the default action"), std::string::npos);
  EXPECT_NE(bad(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})")
                .find("linux.seccomp.listenerPath: required"),
            std::string::npos);
  EXPECT_NE(bad(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "agent.sock",
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})").find("must be an absolute path"),
            std::string::npos);
}

}  // namespace
}  // namespace ns::linux_security
