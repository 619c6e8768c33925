// nsrun's flag parsing, the OCI config it writes and the CNI configuration it hands the plugins.
#include <gtest/gtest.h>

#include "common/units.hpp"
#include "nsrun/network.hpp"
#include "nsrun/options.hpp"
#include "nsrun/sandbox.hpp"
#include "oci/spec.hpp"

namespace ns::nsrun {
namespace {

TEST(NsrunOptions, Sizes) {
  EXPECT_EQ(*parse_size("--memory", "256M"), 256LL << 20);
  EXPECT_EQ(*parse_size("--memory", "1g"), 1LL << 30);
  EXPECT_EQ(*parse_size("--memory", "512kb"), 512LL << 10);
  EXPECT_EQ(*parse_size("--memory", "1048576"), 1048576);
  EXPECT_EQ(*parse_size("--memory", "512b"), 512);
  for (const char* bad : {"", "M", "12XB", "-5", "-1", "0", "1.5G", "99999999999999999999"}) {
    auto r = parse_size("--memory", bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().to_string().find("--memory"), std::string::npos);
  }
}

TEST(Units, SizesForUpdateTakeZeroAndUnlimited) {
  EXPECT_EQ(*ns::parse_size("--memory", "0"), 0);  // Docker's "leave unchanged"
  EXPECT_EQ(*ns::parse_size("--memory", "-1"), -1);
  EXPECT_EQ(*ns::parse_size("--memory-swap", "2G"), 2LL << 30);
  for (const char* bad : {"-5m", "-2", "ten", "5x"}) EXPECT_FALSE(ns::parse_size("--memory", bad)) << bad;
}

TEST(NsrunOptions, Cpu) {
  EXPECT_EQ(parse_cpu("0.5")->quota_us, 50000);
  EXPECT_EQ(parse_cpu("2")->quota_us, 200000);
  EXPECT_EQ(parse_cpu("0.5")->period_us, 100000u);
  for (const char* bad : {"", "half", "0", "-1", "0.001", "1.5x"}) EXPECT_FALSE(parse_cpu(bad)) << bad;
}

TEST(NsrunOptions, PortsVolumesNetNames) {
  auto p = parse_port("8080:80");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->host_port, 8080);
  EXPECT_EQ(p->container_port, 80);
  EXPECT_EQ(p->protocol, "tcp");
  EXPECT_EQ(parse_port("53:53/udp")->protocol, "udp");
  for (const char* bad : {"8080", "8080:", ":80", "0:80", "99999:80", "80:80/sctp", "a:b"}) EXPECT_FALSE(parse_port(bad)) << bad;

  auto v = parse_volume("data:/mnt:ro", "/home/me");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->source, "/home/me/data");
  EXPECT_EQ(v->destination, "/mnt");
  EXPECT_TRUE(v->readonly);
  EXPECT_FALSE(parse_volume("/a:/b", "/")->readonly);
  for (const char* bad : {"/a", "/a:b", "/a:/b:rx", ":/b", "/a:/b:ro:x"}) EXPECT_FALSE(parse_volume(bad, "/")) << bad;

  EXPECT_EQ(*parse_net("none"), NetMode::None);
  EXPECT_FALSE(parse_net("overlay"));
  EXPECT_TRUE(check_name("web-1.test_a"));
  for (const char* bad : {"", "-x", "a/b", "a b", "../x"}) EXPECT_FALSE(check_name(bad)) << bad;
  EXPECT_TRUE(check_subnet("10.88.77.0/24"));
  for (const char* bad : {"10.88.77.0", "10.88.77.0/31", "10.88.77/24", "fd00::/64", "x/24"})
    EXPECT_FALSE(check_subnet(bad)) << bad;
}

TEST(NsrunConfig, WhatTheSandboxGets) {
  SandboxOptions o;
  o.rootfs = "/srv/rootfs";
  o.name = "web";
  o.hostname = "web";
  o.memory = 256LL << 20;
  o.cpu = CpuLimit{50000, 100000};
  o.pids = 64;
  o.env = {"A=1", "PATH=/bin"};
  o.volumes = {{"/data", "/data", true}};
  o.args = {"httpd", "-f"};
  SandboxFiles f{"/st/web/hosts", "/st/web/hostname", "/st/web/resolv.conf", "/st/web/netns"};
  auto c = build_config(o, f);
  ASSERT_TRUE(c) << c.error().to_string();
  // It is a config the runtime's own parser takes.
  auto spec = oci::parse_spec(c->dump());
  ASSERT_TRUE(spec) << spec.error().to_string();
  EXPECT_EQ((*c)["root"]["path"], "/srv/rootfs");
  EXPECT_EQ((*c)["linux"]["cgroupsPath"], "/nsrun/web");
  EXPECT_EQ((*c)["linux"]["resources"]["memory"]["limit"], 256LL << 20);
  EXPECT_EQ((*c)["linux"]["resources"]["cpu"]["quota"], 50000);
  EXPECT_EQ((*c)["linux"]["resources"]["pids"]["limit"], 64);
  bool joined = false;
  for (auto& n : (*c)["linux"]["namespaces"])
    if (n["type"] == "network") joined = n.value("path", "") == "/st/web/netns";
  EXPECT_TRUE(joined);
  auto env = (*c)["process"]["env"];
  EXPECT_EQ(std::count(env.begin(), env.end(), "PATH=/bin"), 1);  // replaces the default PATH
  EXPECT_EQ(std::count(env.begin(), env.end(), "A=1"), 1);
  int binds = 0;
  for (auto& m : (*c)["mounts"])
    if (m["destination"] == "/etc/hosts" || m["destination"] == "/etc/resolv.conf" || m["destination"] == "/etc/hostname" ||
        (m["destination"] == "/data" && m["options"].back() == "ro"))
      ++binds;
  EXPECT_EQ(binds, 4);
  EXPECT_EQ((*c)["process"]["capabilities"]["bounding"].size(), 11u);
  EXPECT_EQ((*c)["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ALLOW");

  o.net = NetMode::Host;
  auto host = build_config(o, f);
  for (auto& n : (*host)["linux"]["namespaces"]) EXPECT_NE(n["type"], "network");
  o.workdir = "relative";
  EXPECT_FALSE(build_config(o, f));
  o.workdir.clear();
  o.env = {"=x"};
  EXPECT_FALSE(build_config(o, f));
}

TEST(NsrunNetwork, ConflistAndResults) {
  Network n;
  n.bridge = "nsbr9";
  n.subnet = "10.1.2.0/24";
  n.ipam_dir = "/st/.ipam";
  auto c = conflist(n);
  EXPECT_EQ(c["name"], "nsrun-nsbr9");
  ASSERT_EQ(c["plugins"].size(), 3u);
  EXPECT_EQ(c["plugins"][1]["type"], "bridge");
  EXPECT_EQ(c["plugins"][1]["bridge"], "nsbr9");
  EXPECT_EQ(c["plugins"][1]["ipMasq"], true);
  EXPECT_EQ(c["plugins"][1]["ipam"]["ranges"][0][0]["subnet"], "10.1.2.0/24");
  EXPECT_EQ(c["plugins"][2]["capabilities"]["portMappings"], true);
  auto r = nlohmann::json::parse(R"({"ips": [{"address": "fd00::2/64"}, {"address": "10.1.2.5/24", "gateway": "10.1.2.1"}]})");
  EXPECT_EQ(result_ip(r), "10.1.2.5");
  EXPECT_EQ(result_ip(nlohmann::json::object()), "");
}

}  // namespace
}  // namespace ns::nsrun
