#include <gtest/gtest.h>

#include <algorithm>

#include "fake_kernel.hpp"
#include "linux/cgroup/cgroup.hpp"

namespace ns::linux_cgroup {
namespace {

// This machine's layout: v1 controllers, named systemd, and a cgroup2 mount at unified.
const char* kHybrid =
    "30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
    "32 30 0:28 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup rw,xattr,name=systemd\n"
    "35 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:15 - cgroup cgroup rw,cpu,cpuacct\n"
    "36 30 0:32 / /sys/fs/cgroup/memory rw,nosuid shared:16 - cgroup cgroup rw,memory\n"
    "37 30 0:33 / /sys/fs/cgroup/cpuset rw,nosuid shared:17 - cgroup cgroup rw,cpuset,clone_children\n"
    "90 60 0:33 / /var/lib/other/cgroup rw - cgroup cgroup rw,cpuset\n";

// kHybrid's cgroup2 tree and memory hierarchy alone (cpuset would need its parent's cpus read).
Layout v2_and_memory() {
  std::string info = kHybrid;
  return parse_layout(info.substr(info.find('\n') + 1, info.find("32 30") - info.find('\n') - 1) +
                      info.substr(info.find("36 30"), info.find("37 30") - info.find("36 30")));
}

const char* kV2 = "25 1 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate\n";

TEST(CgroupLayout, Hybrid) {
  Layout l = parse_layout(kHybrid);
  ASSERT_EQ(l.hierarchies.size(), 5u);
  EXPECT_FALSE(l.pure_v2());
  EXPECT_TRUE(l.hierarchies[0].v2);
  EXPECT_EQ(l.hierarchies[0].name, "unified");
  EXPECT_EQ(l.hierarchies[1].controllers, "none,name=systemd");
  EXPECT_EQ(l.hierarchies[1].name, "systemd");
  EXPECT_EQ(l.hierarchies[2].controllers, "cpu,cpuacct");
  EXPECT_EQ(l.hierarchies[2].name, "cpu,cpuacct");
  EXPECT_EQ(l.hierarchies[4].controllers, "cpuset");
}

TEST(CgroupLayout, ShadowedMountsDoNotCount) {
  std::string info = std::string(kHybrid) + "99 31 0:99 / /sys/fs/cgroup/unified rw - tmpfs pb-unified rw\n";
  Layout l = parse_layout(info);
  ASSERT_EQ(l.hierarchies.size(), 4u);
  for (auto& h : l.hierarchies) EXPECT_FALSE(h.v2) << h.mountpoint;
  Layout hidden = parse_layout(std::string(kHybrid) + "99 22 0:98 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n");
  EXPECT_TRUE(hidden.hierarchies.empty());
  // A mount whose path only begins like a hierarchy's hides nothing; a cut-off line is skipped.
  Layout beside = parse_layout(std::string(kHybrid) + "99 22 0:97 / /sys/fs/cgrou rw - tmpfs tmpfs rw\n"
                                                      "100 22 0:96 / /sys/fs/cgroup/cpu,cpuacctX rw - tmpfs tmpfs rw\n"
                                                      "101 22 0:95 / /sys/fs/cgroup/pids rw - cgrou");
  EXPECT_EQ(beside.hierarchies.size(), 5u);
}

TEST(CgroupJoin, AProcessMovesItselfThroughV1TasksAndV2CgroupProcs) {
  Layout l = parse_layout(kHybrid);
  Cgroup cg(l, "/nano-sandbox/c1");
  // tasks: a thread moving itself, which the kernel does without its threadgroup lock (and so
  // without an RCU grace period); v2 has only cgroup.procs for a domain cgroup.
  EXPECT_EQ(cg.self_join_file(l.hierarchies[0]), "/sys/fs/cgroup/unified/nano-sandbox/c1/cgroup.procs");
  EXPECT_EQ(cg.self_join_file(l.hierarchies[1]), "/sys/fs/cgroup/systemd/nano-sandbox/c1/tasks");
  EXPECT_EQ(cg.self_join_file(l.hierarchies[3]), "/sys/fs/cgroup/memory/nano-sandbox/c1/tasks");
}

TEST(CgroupJoin, CreateAllowsTheChildBornInTheV2DirectoryMadeAhead) {
  Layout l = v2_and_memory();
  ASSERT_EQ(l.hierarchies.size(), 2u);
  Cgroup cg(l, "/c1");
  test::FakeKernel k;
  std::vector<std::string> made;
  ASSERT_TRUE(cg.create_one(k, l.hierarchies[0], made));
  EXPECT_EQ(made, std::vector<std::string>{"/sys/fs/cgroup/unified/c1"});
  // The child is in it now: create() counts it as the one born there, and anyone else as a
  // process that was there before.
  // (The directory is there now: mkdir says so.)
  k.file_contents["/sys/fs/cgroup/unified/c1/cgroup.procs"] = "4242\n";
  k.fail["mkdir:/sys/fs/cgroup/unified/c1"] = EEXIST;
  EXPECT_TRUE(cg.create(k, 4242));
  k.file_contents["/sys/fs/cgroup/unified/c1/cgroup.procs"] = "4242\n77\n";
  k.fail["mkdir:/sys/fs/cgroup/unified/c1"] = EEXIST;
  auto refused = cg.create(k, 4242);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().msg.find("is not empty: it already holds 1 process(es)"), std::string::npos)
      << refused.error().msg;
}

TEST(CgroupJoin, ACgroupJustMadeIsNotSearchedForProcessesOneThatWasThereIs) {
  Layout l = v2_and_memory();
  ASSERT_EQ(l.hierarchies.size(), 2u);
  Cgroup cg(l, "/c2");
  test::FakeKernel k;
  // Made now (mkdir succeeds): nothing can be in it, and cgroup.procs is not read (were it, the
  // process the fake shows there would refuse the cgroup).
  k.file_contents[cg.dir(l.hierarchies[0]) + "/cgroup.procs"] = "77\n";
  EXPECT_TRUE(cg.create(k, 0)) << k.dump();
  // There before (mkdir: EEXIST in the first hierarchy), with a process in it: refused.
  k.fail["mkdir:" + cg.dir(l.hierarchies[0])] = EEXIST;
  auto refused = cg.create(k, 0);
  ASSERT_FALSE(refused) << k.dump();
  EXPECT_NE(refused.error().msg.find("is not empty: it already holds 1 process(es)"), std::string::npos)
      << refused.error().msg;
}

TEST(CgroupJoin, DirectoriesMadeAheadCountAsOursThoseThereBeforeDoNotAMissingParentIsWalked) {
  Layout l = v2_and_memory();
  ASSERT_EQ(l.hierarchies.size(), 2u);
  Cgroup cg(l, "/box/c3");
  const std::string v2 = cg.dir(l.hierarchies[0]), mem = cg.dir(l.hierarchies[1]);
  ASSERT_EQ(v2, "/sys/fs/cgroup/unified/box/c3");
  ASSERT_EQ(mem, "/sys/fs/cgroup/memory/box/c3");
  auto removed = [](const test::FakeKernel& k, const std::string& dir) {
    return std::ranges::any_of(k.calls, [&](const std::string& c) { return c.starts_with("unlink:") && c.ends_with(dir); });
  };
  auto made = [](const test::FakeKernel& k, const std::string& dir) { return std::ranges::count(k.calls, "mkdir:" + dir); };
  {
    // Both made ahead: create makes nothing itself and does not search them for processes
    // (fresh: the 77 the fake shows would refuse the cgroup).
    test::FakeKernel k;
    k.file_contents[v2 + "/cgroup.procs"] = "77\n";
    std::vector<MadeAhead> ahead{{v2, 0}, {mem, 0}};
    ASSERT_TRUE(cg.create(k, 0, ahead)) << k.dump();
    EXPECT_LT(k.find("mkdir:"), 0) << k.dump();
  }
  {
    // The cgroup2 one was there before (EEXIST): not ours, so it is searched, and the process
    // in it refuses the cgroup; the memory one made ahead goes as create's own, the other stays.
    test::FakeKernel k;
    k.file_contents[v2 + "/cgroup.procs"] = "77\n";
    std::vector<MadeAhead> ahead{{v2, EEXIST}, {mem, 0}};
    auto refused = cg.create(k, 0, ahead);
    ASSERT_FALSE(refused) << k.dump();
    EXPECT_NE(refused.error().msg.find("is not empty"), std::string::npos) << refused.error().msg;
    EXPECT_LT(k.find("mkdir:"), 0) << k.dump();
    EXPECT_TRUE(removed(k, mem)) << k.dump();
    EXPECT_FALSE(removed(k, v2)) << k.dump();
  }
  {
    // Memory's parent was missing (ENOENT ahead): the usual walk from the top makes /box and
    // /box/c3.
    test::FakeKernel k;
    std::vector<MadeAhead> ahead{{v2, 0}, {mem, ENOENT}};
    k.fail["mkdir:" + mem] = ENOENT;
    ASSERT_TRUE(cg.create(k, 0, ahead)) << k.dump();
    EXPECT_EQ(made(k, v2), 0) << k.dump();
    EXPECT_EQ(made(k, "/sys/fs/cgroup/memory/box"), 1) << k.dump();
    EXPECT_EQ(made(k, mem), 2) << "tried at once, then walked to\n" << k.dump();
  }
}

TEST(CgroupLayout, TheStateRecordsItAndLaterVerbsReadItBackWithoutMountinfo) {
  Layout l = parse_layout(kHybrid);
  test::FakeKernel k;  // no /proc/self/mountinfo: reading it would fail
  auto back = recorded_layout(k, nlohmann::json::parse(layout_to_json(l).dump()));
  ASSERT_TRUE(back) << back.error().to_string();
  ASSERT_EQ(back->hierarchies.size(), l.hierarchies.size());
  for (size_t i = 0; i < l.hierarchies.size(); ++i) {
    EXPECT_EQ(back->hierarchies[i].mountpoint, l.hierarchies[i].mountpoint);
    EXPECT_EQ(back->hierarchies[i].name, l.hierarchies[i].name);
    EXPECT_EQ(back->hierarchies[i].controllers, l.hierarchies[i].controllers);
    EXPECT_EQ(back->hierarchies[i].v2, l.hierarchies[i].v2);
  }
  // A state written before the record existed (null), or a damaged one: mountinfo after all.
  k.file_contents["/proc/self/mountinfo"] = kV2;
  for (auto rec : {nlohmann::json(), nlohmann::json::parse(R"([{"name": "memory"}])")}) {
    auto detected = recorded_layout(k, rec);
    ASSERT_TRUE(detected);
    EXPECT_TRUE(detected->pure_v2());
  }
}

TEST(CgroupLayout, PureV2) {
  Layout l = parse_layout(kV2);
  ASSERT_EQ(l.hierarchies.size(), 1u);
  EXPECT_TRUE(l.pure_v2());
  auto m = container_mounts(l);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].subdir, "");
  EXPECT_EQ(m[0].fstype, "cgroup2");
}

TEST(CgroupLayout, ContainerMountsForV1) {
  auto m = container_mounts(parse_layout(kHybrid));
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0].fstype, "cgroup2");
  EXPECT_EQ(m[0].subdir, "unified");
  EXPECT_EQ(m[3].fstype, "cgroup");
  EXPECT_EQ(m[3].options, "memory");
}

TEST(CgroupLayout, FreezerFileWhereTheFreezerLives) {
  std::string hybrid = std::string(kHybrid) + "38 30 0:34 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n";
  EXPECT_EQ(Cgroup(parse_layout(hybrid), "/a/b").freezer_file(), "/sys/fs/cgroup/freezer/a/b/freezer.state");
  EXPECT_EQ(Cgroup(parse_layout(kV2), "/a/b").freezer_file(), "/sys/fs/cgroup/a/b/cgroup.freeze");
  EXPECT_EQ(Cgroup(parse_layout(kHybrid), "/a/b").freezer_file(), "") << "the hybrid unified tree is not the freezer";
}

TEST(CgroupPath, Forms) {
  EXPECT_EQ(*resolve_path("", "c1", false), "/nano-sandbox/c1");
  EXPECT_EQ(*resolve_path("/libpod_parent/libpod-abc", "c1", false), "/libpod_parent/libpod-abc");
  EXPECT_EQ(*resolve_path("/default/c1", "c1", false), "/default/c1");
  EXPECT_EQ(*resolve_path("docker//abc/", "c1", false), "/docker/abc");
  EXPECT_FALSE(resolve_path("/a/../../etc", "c1", false));
  EXPECT_FALSE(resolve_path("/", "c1", false));
  auto sd = resolve_path("machine.slice:libpod:abc", "c1", false);
  ASSERT_FALSE(sd);
  EXPECT_NE(sd.error().to_string().find("systemd"), std::string::npos);
  auto flag = resolve_path("", "c1", true);
  ASSERT_FALSE(flag);
  EXPECT_NE(flag.error().to_string().find("systemd not running"), std::string::npos);
}

}  // namespace
}  // namespace ns::linux_cgroup
