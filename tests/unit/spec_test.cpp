#include <gtest/gtest.h>
#include <sys/resource.h>

#include "oci/default_spec.hpp"
#include "oci/spec.hpp"

namespace ns::oci {
namespace {

std::string minimal(const std::string& extra = "") {
  return R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "process": {"args": ["sh"], "cwd": "/"})" + extra +
         "}";
}

std::string error_of(const std::string& text) {
  auto s = parse_spec(text);
  if (!s) return s.error().to_string();
  auto v = validate_spec(*s);
  if (!v) return v.error().to_string();
  return "";
}

TEST(Spec, ParsesAFullConfig) {
  auto s = parse_spec(R"({
    "ociVersion": "1.2.0",
    "process": {"terminal": true, "consoleSize": {"height": 24, "width": 80},
      "user": {"uid": 1, "gid": 2, "umask": 18, "additionalGids": [3, 4]},
      "args": ["/bin/sh", "-c", "true"], "env": ["A=b"], "cwd": "/tmp",
      "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
      "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}],
      "noNewPrivileges": true, "oomScoreAdj": -5, "apparmorProfile": "p", "selinuxLabel": "l"},
    "root": {"path": "rootfs", "readonly": true},
    "hostname": "h", "domainname": "d",
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid"]}],
    "hooks": {"prestart": [{"path": "/bin/hook", "args": ["hook", "x"], "env": ["E=1"], "timeout": 5}],
              "poststop": [{"path": "/bin/done"}]},
    "annotations": {"org.example": "v"},
    "linux": {"namespaces": [{"type": "pid"}, {"type": "network", "path": "/run/netns/x"}, {"type": "uts"}],
      "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
      "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}],
      "cgroupsPath": "/a/b", "resources": {"pids": {"limit": 10}},
      "sysctl": {"net.ipv4.ip_forward": "1"}, "seccomp": {"defaultAction": "SCMP_ACT_ALLOW"},
      "rootfsPropagation": "rslave", "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"],
      "timeOffsets": {"monotonic": {"secs": 10, "nanosecs": 5}}}
  })");
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_TRUE(s->process->terminal);
  EXPECT_EQ(s->process->console_size->width, 80u);
  EXPECT_EQ(s->process->user.additional_gids, (std::vector<uint32_t>{3, 4}));
  EXPECT_EQ(*s->process->user.umask, 18u);
  EXPECT_EQ(s->process->args.size(), 3u);
  EXPECT_EQ(s->process->capabilities->bounding, std::vector<std::string>{"CAP_KILL"});
  EXPECT_EQ(s->process->rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(s->process->rlimits[0].soft, 512u);
  EXPECT_EQ(*s->process->oom_score_adj, -5);
  EXPECT_TRUE(s->root.readonly);
  EXPECT_EQ(s->domainname, "d");
  EXPECT_EQ(s->mounts[0].options, std::vector<std::string>{"nosuid"});
  EXPECT_EQ(s->hooks.prestart[0].args[1], "x");
  EXPECT_EQ(*s->hooks.prestart[0].timeout, 5);
  EXPECT_EQ(s->hooks.poststop[0].path, "/bin/done");
  EXPECT_EQ(s->annotations.at("org.example"), "v");
  const Linux& l = *s->linux;
  EXPECT_TRUE(l.has_new_namespace(NsType::Pid));
  EXPECT_FALSE(l.has_new_namespace(NsType::Network));
  EXPECT_EQ(l.find_namespace(NsType::Network)->path, "/run/netns/x");
  EXPECT_EQ(l.uid_mappings[0].host_id, 1000u);
  EXPECT_EQ(l.devices[0].major, 10);
  EXPECT_EQ(*l.devices[0].file_mode, 438u);
  EXPECT_EQ(l.cgroups_path, "/a/b");
  EXPECT_EQ(l.resources["pids"]["limit"], 10);
  EXPECT_EQ(l.sysctl.at("net.ipv4.ip_forward"), "1");
  EXPECT_EQ(l.seccomp["defaultAction"], "SCMP_ACT_ALLOW");
  EXPECT_EQ(l.time_offsets.at("monotonic").nanosecs, 5u);
}

TEST(Spec, InvalidJsonIsReportedWithAPosition) {
  std::string e = error_of("{\"ociVersion\": ");
  EXPECT_NE(e.find("config.json: invalid JSON"), std::string::npos) << e;
  EXPECT_NE(e.find("parse error"), std::string::npos) << e;
}

TEST(Spec, WrongTypesNameTheField) {
  EXPECT_NE(error_of(minimal().replace(minimal().find("[\"sh\"]"), 6, "\"sh\"")).find("process.args: expected array"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"ociVersion": "1.2.0", "root": {"path": 5}})").find("root.path: expected string, got number"),
            std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "mounts": [{"destination": "/x", "options": [true]}])"))
                .find("mounts[0].options[0]: expected string, got boolean"),
            std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "linux": {"namespaces": [{"type": "pid", "path": 3}]})"))
                .find("linux.namespaces[0].path: expected string"),
            std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "hostname": ["a"])")).find("hostname: expected string, got array"),
            std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "annotations": {"a": 1})")).find("annotations.a: expected string"),
            std::string::npos);
}

TEST(Spec, IntegersAreCheckedForRangeAndFractions) {
  EXPECT_NE(error_of(R"({"ociVersion": "1", "root": {"path": "r"}, "process": {"args": ["a"], "user": {"uid": -1}}})")
                .find("process.user.uid: value out of range"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"ociVersion": "1", "root": {"path": "r"}, "process": {"args": ["a"], "user": {"uid": 1.5}}})")
                .find("expected integer, got fraction"),
            std::string::npos);
  EXPECT_EQ(error_of(R"({"ociVersion": "1", "root": {"path": "r"}, "process": {"args": ["a"], "user": {"uid": 2.0}}})"),
            "");
}

// Found by fuzz-config: a number beyond double's range (1e400) made the second parse, the one
// that finds the error's position, throw out_of_range, which nothing caught: the runtime aborted.
TEST(Spec, ANumberTooLargeForADoubleIsAnErrorNotAnAbort) {
  EXPECT_NE(error_of(R"({"ociVersion": 1e400})").find("config.json: invalid JSON"), std::string::npos);
}

// Found by fuzz-config: a float beyond long long's range was cast before it was checked (undefined).
TEST(Spec, AFloatFarOutOfRangeIsOutOfRangeNotACast) {
  for (const char* v : {"1.88889e+62", "-1e300", "9.3e18"})
    EXPECT_NE(error_of(std::string(R"({"ociVersion": "1", "root": {"path": "r"}, "process": {"args": ["a"], "user": {"uid": )") +
                       v + "}}}")
                  .find("process.user.uid: value out of range"),
              std::string::npos)
        << v;
}

TEST(Spec, RequiredFields) {
  EXPECT_NE(error_of(R"({"root": {"path": "r"}, "process": {"args": ["a"]}})").find("ociVersion: missing required"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"ociVersion": "1", "process": {"args": ["a"]}})").find("root: missing required"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"ociVersion": "1", "root": {"path": "r"}})").find("process: missing required field"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"ociVersion": "1", "root": {"path": "r"}, "process": {"args": []}})")
                .find("process.args: must not be empty"),
            std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "hooks": {"prestart": [{"args": ["x"]}]})")).find("hooks.prestart[0].path"),
            std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "mounts": [{"type": "tmpfs"}])")).find("mounts[0].destination: missing"),
            std::string::npos);
}

TEST(Spec, UnknownValuesAreRejected) {
  EXPECT_NE(error_of(minimal(R"(, "linux": {"namespaces": [{"type": "pidd"}]})")).find("unknown namespace type \"pidd\""),
            std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "linux": {"namespaces": [{"type": "pid"}, {"type": "pid"}]})"))
                .find("duplicate namespace"),
            std::string::npos);
  std::string rl = R"({"ociVersion": "1", "root": {"path": "r"}, "process": {"args": ["a"], "rlimits": [RL]}})";
  auto with_rl = [&](const std::string& r) { return std::string(rl).replace(rl.find("RL"), 2, r); };
  EXPECT_NE(error_of(with_rl(R"({"type": "RLIMIT_FOO", "hard": 1, "soft": 1})")).find("unknown rlimit \"RLIMIT_FOO\""),
            std::string::npos);
  EXPECT_NE(error_of(with_rl(R"({"type": "RLIMIT_NOFILE", "hard": 1, "soft": 2})")).find("soft limit is greater"),
            std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "linux": {"devices": [{"path": "/dev/x", "type": "q"}]})")).find("devices[0].type"),
            std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "linux": {"rootfsPropagation": "up"})")).find("rootfsPropagation: invalid value"),
            std::string::npos);
}

TEST(Spec, CrossFieldRules) {
  EXPECT_NE(error_of(minimal(R"(, "hostname": "h", "linux": {"namespaces": [{"type": "pid"}]})"))
                .find("unable to set hostname without a private UTS namespace"),
            std::string::npos);
  EXPECT_EQ(error_of(minimal(R"(, "hostname": "h", "linux": {"namespaces": [{"type": "uts"}]})")), "");
  EXPECT_NE(error_of(minimal(R"(, "linux": {"uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]})"))
                .find("without a user namespace"),
            std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "linux": {"namespaces": [{"type": "user"}]})")).find("needs uidMappings"),
            std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "linux": {"sysctl": {"net.core.somaxconn": "1"}})")).find("host network namespace"),
            std::string::npos);
  EXPECT_EQ(error_of(minimal(R"(, "linux": {"namespaces": [{"type": "network"}], "sysctl": {"net.core.somaxconn": "1"}})")),
            "");
  EXPECT_NE(error_of(R"({"ociVersion": "1", "root": {"path": "r"}, "process": {"args": ["a"], "cwd": "rel"}})")
                .find("process.cwd: must be an absolute path"),
            std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "linux": {"timeOffsets": {"monotonic": {"secs": 1}}})")).find("time namespace"),
            std::string::npos);
}

TEST(Spec, UnknownFieldsAreIgnoredLikeRunc) {
  EXPECT_EQ(error_of(minimal(R"(, "x-vendor": {"a": 1}, "windows": {}, "vm": {})")), "");
}

TEST(Spec, DefaultSpecParsesAndValidates) {
  for (bool rootless : {false, true}) {
    auto j = default_spec(rootless, 1000, 1000);
    auto s = parse_spec(j.dump());
    ASSERT_TRUE(s) << s.error().to_string();
    EXPECT_TRUE(validate_spec(*s)) << rootless;
    EXPECT_EQ(s->linux->find_namespace(NsType::User) != nullptr, rootless);
  }
}

}  // namespace
}  // namespace ns::oci
