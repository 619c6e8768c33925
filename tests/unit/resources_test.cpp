#include <gtest/gtest.h>

#include "fake_kernel.hpp"
#include "linux/cgroup/cgroup.hpp"
#include "linux/cgroup/resources.hpp"

#include <algorithm>

namespace ns::linux_cgroup {
namespace {

Resources parse(const char* text) {
  auto r = parse_resources(nlohmann::json::parse(text));
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? *r : Resources{};
}

const Write* find(const std::vector<Write>& w, const std::string& file) {
  for (auto& x : w)
    if (x.v1_file == file || x.v2_file == file) return &x;
  return nullptr;
}

TEST(Resources, Conversions) {
  EXPECT_EQ(shares_to_weight(2), 1u);
  EXPECT_EQ(shares_to_weight(1024), 39u);
  EXPECT_EQ(shares_to_weight(262144), 10000u);
  EXPECT_EQ(blkio_to_io_weight(10), 1u);
  EXPECT_EQ(blkio_to_io_weight(500), 4950u);
  EXPECT_EQ(blkio_to_io_weight(1000), 10000u);
}

TEST(Resources, MemoryV1AndV2Forms) {
  auto w = plan_writes(parse(R"({"memory": {"limit": 100, "swap": 300, "reservation": 50}})"));
  auto* limit = find(w, "memory.limit_in_bytes");
  ASSERT_NE(limit, nullptr);
  EXPECT_EQ(limit->v2_file, "memory.max");
  EXPECT_EQ(limit->v2_value, "100");
  auto* swap = find(w, "memory.memsw.limit_in_bytes");
  ASSERT_NE(swap, nullptr);
  EXPECT_EQ(swap->v1_value, "300");
  EXPECT_EQ(swap->v2_file, "memory.swap.max");
  EXPECT_EQ(swap->v2_value, "200") << "v2 swap.max is swap alone: memsw - limit";
  EXPECT_LT(limit - w.data(), swap - w.data()) << "v1 limit first: memsw must stay >= limit";
  auto unlimited = plan_writes(parse(R"({"memory": {"limit": -1}})"));
  EXPECT_EQ(find(unlimited, "memory.limit_in_bytes")->v2_value, "max");
}

TEST(Resources, CpuQuotaPeriodAndShares) {
  auto w = plan_writes(parse(R"({"cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0-1"}})"));
  EXPECT_EQ(find(w, "cpu.shares")->v2_value, "39");
  EXPECT_EQ(find(w, "cpu.cfs_quota_us")->v1_value, "50000");
  EXPECT_EQ(find(w, "cpu.max")->v2_value, "50000 100000");
  EXPECT_EQ(find(w, "cpuset.cpus")->v1_value, "0-1");
  auto unl = plan_writes(parse(R"({"cpu": {"quota": -1}})"));
  EXPECT_EQ(find(unl, "cpu.max")->v2_value, "max 100000");
}

TEST(Resources, PidsAndZeroMeansUnchangedOnUpdate) {
  EXPECT_EQ(find(plan_writes(parse(R"({"pids": {"limit": 0}})")), "pids.max")->v1_value, "max");
  auto w = plan_writes(parse(R"({"pids": {"limit": 0}, "memory": {"limit": 0}, "cpu": {"shares": 0}})"), true);
  EXPECT_TRUE(w.empty());
}

// On a pure v2 host blkio is the io controller: its throttles go to io.max, and +io (not +blkio)
// is what each level's cgroup.subtree_control is given.
TEST(Resources, BlockIoOnPureV2IsTheIoController) {
  Layout l = parse_layout("25 1 0:23 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
  Cgroup cg(l, "/nano-sandbox/c1");
  test::FakeKernel k;
  k.file_contents["/sys/fs/cgroup/cgroup.controllers"] = "cpuset cpu io memory pids\n";
  auto w = plan_writes(parse(R"({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}]}})"));
  ASSERT_TRUE(check_controllers(k, cg, w));
  ASSERT_TRUE(enable_v2_controllers(k, cg, w));
  ASSERT_TRUE(apply(k, cg, w));
  auto has = [&](const std::string& call) { return std::find(k.calls.begin(), k.calls.end(), call) != k.calls.end(); };
  EXPECT_TRUE(has("write:/sys/fs/cgroup/cgroup.subtree_control +io")) << k.dump();
  EXPECT_TRUE(has("write:/sys/fs/cgroup/nano-sandbox/c1/io.max 8:0 rbps=1048576")) << k.dump();
  // Without an io controller it is the error it always was.
  k.file_contents["/sys/fs/cgroup/cgroup.controllers"] = "cpu memory pids\n";
  auto missing = check_controllers(k, cg, w);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().to_string().find("\"blkio\" is not available"), std::string::npos);
}

TEST(Resources, DevicesInOrderWithWildcards) {
  Resources r = parse(R"({"devices": [{"allow": false, "access": "rwm"},
                                      {"allow": true, "type": "c", "major": 10, "access": "rw"}]})");
  auto w = plan_writes(r);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].v1_file, "devices.deny");
  EXPECT_EQ(w[0].v1_value, "a");
  EXPECT_EQ(w[1].v1_file, "devices.allow");
  EXPECT_EQ(w[1].v1_value, "c 10:* rw");
  add_default_device_rules(r);
  auto all = plan_writes(r);
  EXPECT_EQ(all[2].v1_value, "c *:* m");
  EXPECT_EQ(all.back().v1_value, "c 136:* rwm");
}

TEST(Resources, BlockIoHugetlbUnified) {
  auto w = plan_writes(parse(R"({"blockIO": {"weight": 500, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}]},
                                 "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
                                 "unified": {"memory.high": "1000000"}})"));
  EXPECT_EQ(find(w, "blkio.weight")->v2_value, "default 4950");
  EXPECT_EQ(find(w, "blkio.throttle.read_bps_device")->v2_value, "8:0 rbps=1048576");
  EXPECT_EQ(find(w, "hugetlb.2MB.limit_in_bytes")->v2_file, "hugetlb.2MB.max");
  auto* high = find(w, "memory.high");
  ASSERT_NE(high, nullptr);
  EXPECT_EQ(high->controller, "memory");
  EXPECT_TRUE(high->v1_file.empty());
}

TEST(Resources, ZeroBlockIoWeightMeansUnset) {
  // Docker sends "blockIO": {"weight": 0} on every create; the kernel refuses 0 (range 10-1000).
  auto w = plan_writes(parse(R"({"blockIO": {"weight": 0, "leafWeight": 0,
                                  "weightDevice": [{"major": 8, "minor": 0, "weight": 0, "leafWeight": 300}]}})"));
  EXPECT_EQ(find(w, "blkio.weight"), nullptr);
  EXPECT_EQ(find(w, "blkio.leaf_weight"), nullptr);
  EXPECT_EQ(find(w, "blkio.weight_device"), nullptr);
  ASSERT_NE(find(w, "blkio.leaf_weight_device"), nullptr);
  EXPECT_EQ(find(w, "blkio.leaf_weight_device")->v1_value, "8:0 300");
}

TEST(Resources, ErrorsNameTheField) {
  auto bad = parse_resources(nlohmann::json::parse(R"({"memory": {"limit": "lots"}})"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().to_string().find("linux.resources.memory.limit"), std::string::npos);
  auto dev = parse_resources(nlohmann::json::parse(R"({"devices": [{"allow": true, "type": "x"}]})"));
  ASSERT_FALSE(dev);
  EXPECT_NE(dev.error().to_string().find("devices[0].type"), std::string::npos);
}

// Each write goes where its controller lives: the hybrid layout of this project's CI machine.
TEST(Resources, ApplyUsesEveryControllerWhereItLives) {
  test::FakeKernel k;
  k.file_contents["/sys/fs/cgroup/unified/cgroup.controllers"] = "hugetlb\n";
  Layout l = parse_layout(
      "31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
      "36 30 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "37 30 0:33 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n");
  Cgroup cg(l, "/ns/c1");
  auto w = plan_writes(parse(R"({"memory": {"limit": 100}, "pids": {"limit": 5},
                                 "hugepageLimits": [{"pageSize": "2MB", "limit": 0}]})"));
  ASSERT_TRUE(enable_v2_controllers(k, cg, w)) << k.dump();
  ASSERT_TRUE(apply(k, cg, w)) << k.dump();
  EXPECT_GE(k.find("write:/sys/fs/cgroup/memory/ns/c1/memory.limit_in_bytes 100"), 0) << k.dump();
  EXPECT_GE(k.find("write:/sys/fs/cgroup/pids/ns/c1/pids.max 5"), 0);
  EXPECT_GE(k.find("write:/sys/fs/cgroup/unified/cgroup.subtree_control +hugetlb"), 0);
  EXPECT_GE(k.find("write:/sys/fs/cgroup/unified/ns/cgroup.subtree_control +hugetlb"), 0);
  EXPECT_GE(k.find("write:/sys/fs/cgroup/unified/ns/c1/hugetlb.2MB.max 0"), 0);
  auto cpu = plan_writes(parse(R"({"cpu": {"shares": 100}})"));
  auto missing = apply(k, cg, cpu);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().to_string().find("\"cpu\" is not available"), std::string::npos);
}

}  // namespace
}  // namespace ns::linux_cgroup
