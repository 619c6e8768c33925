// The init-side pipeline on the recording fake kernel: the order of the kernel calls is the
// design ("make / slave before any mount", "pivot_root after the mounts", "uid last").
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fake_kernel.hpp"
#include "linux/ns/namespaces.hpp"
#include "runtime/pipeline.hpp"

namespace ns {
namespace {

const char* kConfig = R"({
  "ociVersion": "1.2.0",
  "process": {"args": ["/bin/app"], "cwd": "/work", "env": ["PATH=/bin"],
              "user": {"uid": 1000, "gid": 1001, "additionalGids": [5, 6], "umask": 63},
              "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 512, "soft": 256}],
              "oomScoreAdj": 100, "noNewPrivileges": true,
              "capabilities": {"bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL"],
                               "permitted": ["CAP_KILL"], "ambient": ["CAP_KILL"]}},
  "root": {"path": "/bundle/rootfs", "readonly": true},
  "hostname": "box",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
    {"destination": "/data", "type": "bind", "source": "/host/data", "options": ["rbind", "ro"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "network"},
                   {"type": "cgroup"}, {"type": "ipc", "path": "/proc/42/ns/ipc"}],
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"]
  }
})";

struct PipelineTest : ::testing::Test {
  test::FakeKernel k;
  oci::Spec spec;
  runtime::InitContext ctx;

  void SetUp() override {
    auto s = oci::parse_spec(kConfig);
    ASSERT_TRUE(s) << s.error().to_string();
    spec = *s;
    ctx.k = &k;
    ctx.spec = &spec;
    ctx.rootfs.spec = &spec;
    ctx.rootfs.bundle = "/bundle";
    ctx.rootfs.rootfs = "/bundle/rootfs";
    k.files.push_back("/proc/kcore");
  }
};

TEST_F(PipelineTest, StagesRunInTheDesignedOrder) {
  auto r = runtime::run_init_stages(ctx);
  ASSERT_TRUE(r) << r.error().to_string() << "\n" << k.dump();

  std::vector<std::string> order = {
      "open:/proc/42/ns/ipc",                                                 // join by path first
      "setns:/proc/42/ns/ipc " + std::to_string(CLONE_NEWIPC),
      "unshare:" + std::to_string(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWNET),  // the new ones: after the joins
      "setsid:",
      "loopback_up:",
      "write:/proc/self/oom_score_adj 100",
      "mount:/ src= type= flags=" + std::to_string(MS_SLAVE | MS_REC),        // nothing leaks to the host
      "mount:/bundle/rootfs src=/bundle/rootfs type= flags=" + std::to_string(MS_BIND | MS_REC),
      "mount:/bundle/rootfs/proc src=proc type=proc",
      "mount:/bundle/rootfs/dev src=tmpfs type=tmpfs flags=" + std::to_string(MS_NOSUID) + " data=mode=755",
      "mount:/bundle/rootfs/data src=/host/data type= flags=" + std::to_string(MS_BIND | MS_REC),
      "mount:/bundle/rootfs/data src= type= flags=" + std::to_string(MS_BIND | MS_REMOUNT | MS_REC | MS_RDONLY),
      "unshare:" + std::to_string(CLONE_NEWCGROUP),                           // after the cgroup join
      "mknod:/bundle/rootfs/dev/null mode=438",
      "symlink:/bundle/rootfs/dev/fd -> /proc/self/fd",
      "pivot_root:. .",
      "umount:.",
      "sethostname:box",
      "write:/proc/sys/net/ipv4/ip_forward 1",
      "mount:/proc/kcore src=/dev/null",                                      // masked file
      "mount:/proc/sys src=/proc/sys type= flags=" + std::to_string(MS_BIND | MS_REC),
      "mount_setattr:/proc/sys set=" + std::to_string(MOUNT_ATTR_RDONLY) + " clear=0",  // and under it
      "mount_setattr:/ set=" + std::to_string(MOUNT_ATTR_RDONLY) + " clear=0 single",   // ro root last, alone
      "setrlimit:" + std::to_string(RLIMIT_NOFILE) + " 256 512",
      "capbset_drop:1",                                                       // bounding first
      "keepcaps:1",
      "setgroups: 5 6",
      "setresgid:1001",
      "setresuid:1000",                                                       // uid last
      "umask:63",
      "capset:32 32 0",                                                       // CAP_KILL = 5
      "ambient_raise:5",
      "keepcaps:0",
      "chdir:/work",
      "no_new_privs:",                                                        // last
  };
  int prev = -1;
  for (auto& step : order) {
    int at = k.find(step);
    ASSERT_GE(at, 0) << "missing: " << step << "\n" << k.dump();
    EXPECT_GT(at, prev) << "out of order: " << step << "\n" << k.dump();
    prev = at;
  }
}

// maskedPaths bind the container's /dev/null, which the image (or a bind-mounted /dev) may have
// made anything: it must be the null device, or nothing is masked and create fails.
TEST_F(PipelineTest, MaskedFilesAreBoundOnlyToTheRealNullDevice) {
  for (auto [what, dev] : {std::pair{"char device 1:5", makedev(1, 5)}, std::pair{"a directory", dev_t{0}}}) {
    test::FakeKernel fk;
    fk.files.push_back("/proc/kcore");
    fk.char_devices.clear();
    if (dev) fk.char_devices["/dev/null"] = dev;
    auto r = linux_fs::mask_paths(fk, {"/proc/kcore"});
    ASSERT_FALSE(r) << what;
    EXPECT_NE(r.error().to_string().find(std::string("/dev/null is not the null device (char 1:3) but ") + what),
              std::string::npos)
        << r.error().to_string();
    EXPECT_LT(fk.find("mount:"), 0) << fk.dump();
  }
  test::FakeKernel fk;
  fk.files.push_back("/proc/kcore");
  ASSERT_TRUE(linux_fs::mask_paths(fk, {"/proc/kcore"}));
  EXPECT_GE(fk.find("mount:/proc/kcore src=/dev/null"), 0) << fk.dump();
}

TEST_F(PipelineTest, ReadOnlyPathsAndRootWithoutMountSetattrAreRemounts) {
  // A kernel before 5.12: the read-only path's bind and the root are remounted instead, keeping
  // the flags a remount may not drop (the fake reports none).
  k.fail["mount_setattr:/proc/sys"] = ENOSYS;
  k.fail["mount_setattr:/ set"] = ENOSYS;
  auto r = runtime::run_init_stages(ctx);
  ASSERT_TRUE(r) << r.error().to_string() << "\n" << k.dump();
  int bind = k.find("mount:/proc/sys src=/proc/sys type= flags=" + std::to_string(MS_BIND | MS_REC));
  int ro = k.find("mount:/proc/sys src= type= flags=" + std::to_string(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC));
  int root = k.find("mount:/ src= type= flags=" + std::to_string(MS_BIND | MS_REMOUNT | MS_RDONLY));
  ASSERT_GE(bind, 0) << k.dump();
  EXPECT_GT(ro, bind) << k.dump();
  EXPECT_GT(root, ro) << k.dump();
}

TEST_F(PipelineTest, TheChildWaitsForItsCgroupBeforeTheCgroupMountAndWhatFollowsIt) {
  // proc, then a cgroup mount, then a bind on top of it: only proc may go before the runtime
  // has made the cgroup and moved the child in; the runtime's hooks run once all are mounted.
  spec.mounts = {spec.mounts[0],
                 {"/sys/fs/cgroup", "cgroup", "cgroup", {"ro"}},
                 {"/sys/fs/cgroup/extra", "bind", "/host/data", {"rbind"}}};
  spec.hooks.prestart.push_back({"/bin/hook", {}, {}, std::nullopt});
  ctx.rootfs.cgroup_mounts = {{"", "cgroup2", "", "/sys/fs/cgroup/box"}};
  ctx.await_cgroup = [&]() -> Result<void> {
    k.calls.push_back("await_cgroup");
    return {};
  };
  int entered = 0;
  ctx.enter_cgroup = [&]() -> Result<void> {
    if (entered++ == 0) k.calls.push_back("enter_cgroup");
    return {};
  };
  ctx.await_runtime_hooks = [&]() -> Result<void> {
    k.calls.push_back("await_runtime_hooks");
    return {};
  };
  ASSERT_TRUE(runtime::run_init_stages(ctx)) << k.dump();
  int proc = k.find("mount:/bundle/rootfs/proc src=proc"), wait = k.find("await_cgroup"),
      enter = k.find("enter_cgroup"), cgroupns = k.find("unshare:" + std::to_string(CLONE_NEWCGROUP)),
      cgroup = k.find("mount:/bundle/rootfs/sys/fs/cgroup src=/sys/fs/cgroup/box"),
      extra = k.find("mount:/bundle/rootfs/sys/fs/cgroup/extra src=/host/data"), mknod = k.find("mknod:"),
      hooks = k.find("await_runtime_hooks"), pivot = k.find("pivot_root");
  ASSERT_GE(proc, 0) << k.dump();
  ASSERT_GE(cgroup, 0) << k.dump();
  ASSERT_GE(extra, 0) << k.dump();
  ASSERT_GE(cgroupns, 0) << k.dump();
  EXPECT_LT(proc, wait);
  EXPECT_LT(wait, cgroup) << "the cgroup's directories are there before a cgroup mount binds them";
  EXPECT_LT(enter, cgroupns) << "the cgroup namespace is rooted at the cgroup the child moved into";
  EXPECT_LT(cgroupns, cgroup);
  EXPECT_LT(cgroup, extra) << "mounts keep config.json's order";
  EXPECT_LT(enter, mknod) << "device nodes are made under the container's device cgroup";
  EXPECT_LT(extra, hooks) << "prestart/createRuntime see the container's mounts";
  EXPECT_LT(hooks, pivot) << "and run before pivot_root";

  // Without a new cgroup namespace the child mounts while the runtime writes the limits, and
  // moves itself in after its mounts, before the device nodes and the hooks.
  k.calls.clear();
  entered = 0;
  std::erase_if(spec.linux->namespaces, [](const oci::Namespace& n) { return n.type == oci::NsType::Cgroup; });
  ASSERT_TRUE(runtime::run_init_stages(ctx)) << k.dump();
  wait = k.find("await_cgroup");
  enter = k.find("enter_cgroup");
  cgroup = k.find("mount:/bundle/rootfs/sys/fs/cgroup src=/sys/fs/cgroup/box");
  extra = k.find("mount:/bundle/rootfs/sys/fs/cgroup/extra src=/host/data");
  mknod = k.find("mknod:");
  hooks = k.find("await_runtime_hooks");
  EXPECT_LT(k.find("unshare:" + std::to_string(CLONE_NEWCGROUP)), 0) << k.dump();
  EXPECT_LT(wait, cgroup);
  EXPECT_LT(extra, enter) << "moved in once its mounts are done";
  EXPECT_LT(enter, mknod);
  EXPECT_LT(enter, hooks);
}

TEST_F(PipelineTest, ANetworkNamespaceMadeByTheRuntimeIsEnteredBeforeTheFirstSysfsMount) {
  // The runtime's thread makes it (linux_ns::NetnsThread) and brings lo up: the child unshares
  // the others only, and enters that one before sysfs, which shows the mounting namespace's
  // devices; a child with no sysfs mount enters it before it waits for its cgroup.
  spec.mounts.insert(spec.mounts.begin() + 1, oci::Mount{"/sys", "sysfs", "sysfs", {"ro"}});
  ctx.netns_by_runtime = true;
  int entered = 0;
  ctx.await_netns = [&]() -> Result<void> {
    if (entered++ == 0) k.calls.push_back("await_netns");
    return {};
  };
  ctx.rootfs.before_sysfs = ctx.await_netns;
  ctx.await_cgroup = [&]() -> Result<void> {
    k.calls.push_back("await_cgroup");
    return {};
  };
  ASSERT_TRUE(runtime::run_init_stages(ctx)) << k.dump();
  EXPECT_GE(k.find("unshare:" + std::to_string(CLONE_NEWNS | CLONE_NEWUTS)), 0) << k.dump();
  EXPECT_LT(k.find("unshare:" + std::to_string(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWNET)), 0) << k.dump();
  EXPECT_LT(k.find("loopback_up:"), 0) << "the runtime's thread brought lo up";
  int proc = k.find("mount:/bundle/rootfs/proc src=proc"), await = k.find("await_netns"),
      sysfs = k.find("mount:/bundle/rootfs/sys src=sysfs"), cgroup = k.find("await_cgroup");
  ASSERT_GE(await, 0) << k.dump();
  EXPECT_LT(proc, await) << "mounts that need no network namespace go first";
  EXPECT_LT(await, sysfs);
  EXPECT_LT(sysfs, cgroup);

  // No sysfs mount: entered before the cgroup wait all the same.
  k.calls.clear();
  entered = 0;
  spec.mounts.erase(spec.mounts.begin() + 1);
  ASSERT_TRUE(runtime::run_init_stages(ctx)) << k.dump();
  ASSERT_GE(k.find("await_netns"), 0) << k.dump();
  EXPECT_LT(k.find("await_netns"), k.find("await_cgroup"));
}

TEST_F(PipelineTest, CgroupV1BindsGetTheirFlagsInOneRecursiveSetattrOrARemountEachOnOldKernels) {
  spec.mounts = {spec.mounts[0], {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}}};
  ctx.rootfs.cgroup_mounts = {{"memory", "cgroup", "memory", "/sys/fs/cgroup/memory/box"},
                              {"cpu,cpuacct", "cgroup", "cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct/box"}};
  ASSERT_TRUE(runtime::run_init_stages(ctx)) << k.dump();
  const std::string root = "/bundle/rootfs/sys/fs/cgroup";
  int mem = k.find("mount:" + root + "/memory src=/sys/fs/cgroup/memory/box"),
      cpu = k.find("mount:" + root + "/cpu,cpuacct src=/sys/fs/cgroup/cpu,cpuacct/box"),
      link = k.find("symlink:" + root + "/cpuacct -> cpu,cpuacct"),
      attrs = k.find("mount_setattr:" + root + " set=" +
                     std::to_string(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC) +
                     " clear=" + std::to_string(MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW));
  ASSERT_GE(mem, 0) << k.dump();
  ASSERT_GE(cpu, 0) << k.dump();
  EXPECT_GE(link, 0) << k.dump();
  ASSERT_GE(attrs, 0) << k.dump();
  EXPECT_LT(mem, attrs);
  EXPECT_LT(cpu, attrs);
  EXPECT_LT(k.find("mount:" + root + "/memory src= type= flags="), 0) << "no remount of each bind:\n" << k.dump();

  // A kernel without mount_setattr: each bind remounted, then the tmpfs.
  k.calls.clear();
  k.fail["mount_setattr:" + root] = ENOSYS;
  ASSERT_TRUE(runtime::run_init_stages(ctx)) << k.dump();
  const unsigned long ro = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME;
  EXPECT_GE(k.find("mount:" + root + "/memory src= type= flags=" + std::to_string(MS_BIND | MS_REMOUNT | ro)), 0) << k.dump();
  EXPECT_GE(k.find("mount:" + root + "/cpu,cpuacct src= type= flags=" + std::to_string(MS_BIND | MS_REMOUNT | ro)), 0) << k.dump();
  EXPECT_GE(k.find("mount:" + root + " src= type= flags=" + std::to_string(MS_REMOUNT | ro)), 0) << k.dump();
}

TEST_F(PipelineTest, WithoutRuntimeHooksTheChildDoesNotStopForThem) {
  bool asked = false;
  ctx.await_runtime_hooks = [&]() -> Result<void> {
    asked = true;
    return {};
  };
  ASSERT_TRUE(runtime::run_init_stages(ctx));
  EXPECT_FALSE(asked);
}

TEST_F(PipelineTest, ProcessAttributesAreAppliedAfterRlimitsAndBeforeTheUserSwitch) {
  spec.process->scheduler = nlohmann::json::parse(R"({"policy": "SCHED_BATCH", "nice": 5})");
  spec.process->io_priority = nlohmann::json::parse(R"({"class": "IOPRIO_CLASS_IDLE", "priority": 3})");
  spec.process->exec_cpu_affinity = nlohmann::json::parse(R"({"initial": "0", "final": "0-1"})");
  spec.linux->personality = nlohmann::json::parse(R"({"domain": "LINUX32"})");
  auto r = runtime::run_init_stages(ctx);
  ASSERT_TRUE(r) << r.error().to_string();
  int rl = k.find("setrlimit:"), pers = k.find("personality:8"),
      sched = k.find("sched_setattr:3 flags=0 nice=5 prio=0"), io = k.find("ioprio_set:" + std::to_string((3 << 13) | 3)),
      aff = k.find("sched_setaffinity:0 0-1"), uid = k.find("setresuid:");
  ASSERT_GE(pers, 0) << k.dump();
  ASSERT_GE(sched, 0) << k.dump();
  ASSERT_GE(io, 0) << k.dump();
  ASSERT_GE(aff, 0) << k.dump();
  EXPECT_LT(rl, pers);
  EXPECT_LT(aff, uid) << "a nice below 0 or a real-time policy needs root: set before the user switch";
}

TEST(ProcessAttributes, BadValuesNameTheirField) {
  auto err = [](const char* process_extra, const char* linux_extra = "") {
    oci::Process p;
    auto j = nlohmann::json::parse(std::string("{") + process_extra + "}");
    if (j.contains("scheduler")) p.scheduler = j["scheduler"];
    if (j.contains("ioPriority")) p.io_priority = j["ioPriority"];
    if (j.contains("execCPUAffinity")) p.exec_cpu_affinity = j["execCPUAffinity"];
    oci::Linux l;
    auto lj = nlohmann::json::parse(std::string("{") + linux_extra + "}");
    if (lj.contains("personality")) l.personality = lj["personality"];
    auto r = linux_process::parse_attributes(p, &l);
    return r ? std::string() : r.error().to_string();
  };
  EXPECT_EQ(err(""), "");
  EXPECT_NE(err(R"("scheduler": {"policy": "SCHED_FAST"})").find("process.scheduler.policy: unknown policy \"SCHED_FAST\""),
            std::string::npos);
  EXPECT_NE(err(R"("scheduler": {"policy": "SCHED_FIFO"})").find("process.scheduler.priority"), std::string::npos);
  EXPECT_NE(err(R"("scheduler": {"policy": "SCHED_OTHER", "nice": 40})").find("process.scheduler.nice"), std::string::npos);
  EXPECT_NE(err(R"("scheduler": {"policy": "SCHED_OTHER", "flags": ["SCHED_FLAG_X"]})").find("unknown flag"), std::string::npos);
  EXPECT_NE(err(R"("ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 9})").find("process.ioPriority.priority"),
            std::string::npos);
  EXPECT_NE(err(R"("execCPUAffinity": {"final": "zero"})").find("process.execCPUAffinity.final"), std::string::npos);
  EXPECT_NE(err("", R"("personality": {"domain": "LINUX64"})").find("linux.personality.domain"), std::string::npos);
  EXPECT_EQ(err(R"("scheduler": {"policy": "SCHED_RR", "priority": 10}, "ioPriority": {"class": "IOPRIO_CLASS_RT"})"), "");
}

TEST_F(PipelineTest, OnAnSELinuxHostTheFilesystemsWeMakeCarryTheMountLabel) {
  ctx.rootfs.mount_label = "system_u:object_r:container_file_t:s0";
  ASSERT_TRUE(runtime::run_init_stages(ctx)) << k.dump();
  EXPECT_GE(k.find("mount:/bundle/rootfs/dev src=tmpfs type=tmpfs flags=" + std::to_string(MS_NOSUID) +
                   " data=mode=755,context=\"system_u:object_r:container_file_t:s0\""),
            0)
      << k.dump();
  EXPECT_GE(k.find("mount:/bundle/rootfs/proc src=proc type=proc"), 0);
  EXPECT_EQ(k.find("mount:/bundle/rootfs/proc src=proc type=proc flags=0 data=context"), -1) << "proc keeps its own label";
}

TEST_F(PipelineTest, BoundingKeepsExactlyTheListedCaps) {
  ASSERT_TRUE(runtime::run_init_stages(ctx));
  EXPECT_EQ(k.find("capbset_drop:0"), -1) << "CAP_CHOWN (0) is in the bounding set";
  EXPECT_EQ(k.find("capbset_drop:5"), -1) << "CAP_KILL (5) is in the bounding set";
  EXPECT_GE(k.find("capbset_drop:21"), 0) << "CAP_SYS_ADMIN must go";
  EXPECT_GE(k.find("capbset_drop:40"), 0);
}

TEST_F(PipelineTest, AnUnknownCapabilityIsAnError) {
  spec.process->capabilities->effective.push_back("CAP_BOGUS");
  auto r = runtime::run_init_stages(ctx);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().to_string().find("unknown capability \"CAP_BOGUS\""), std::string::npos);
  EXPECT_TRUE(k.calls.empty()) << "nothing may run before the whole config is understood";
}

TEST_F(PipelineTest, EveryStageHasANameAndAReasonInPlainSentences) {
  ASSERT_FALSE(runtime::init_stages().empty());
  std::set<std::string> names;
  for (auto stages : {runtime::init_stages(), runtime::exec_stages()}) {
    for (auto& s : stages) {
      std::string why = s.narration->why;
      EXPECT_NE(std::string(s.name()), "");
      EXPECT_TRUE(why.ends_with(".")) << s.name() << ": " << why;
      EXPECT_GE(std::count(why.begin(), why.end(), '.'), 2) << s.name() << " explains itself in one sentence";
      EXPECT_LE(why.size(), 480u) << s.name() << ": two or three sentences, not an essay";
    }
  }
  for (auto& s : runtime::init_stages()) EXPECT_TRUE(names.insert(s.name()).second) << "two stages named " << s.name();
}

TEST_F(PipelineTest, WithNarrationOnEveryStageIsReportedInOrderWithItsConfigField) {
  std::vector<std::string> seen;
  ctx.on_stage = [&](const explain::Narration& n, uint64_t, uint64_t, bool ok) {
    EXPECT_TRUE(ok) << n.stage;
    seen.push_back(n.stage);
  };
  ASSERT_TRUE(runtime::run_init_stages(ctx));
  ASSERT_EQ(seen.size(), runtime::init_stages().size());
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], runtime::init_stages()[i].name());
  EXPECT_STREQ(linux_fs::narration::kMounts.field, "mounts");
}

TEST_F(PipelineTest, AFailingMountStopsThePipelineAndNamesTheStage) {
  k.fail["mount:/bundle/rootfs/proc"] = EPERM;
  auto r = runtime::run_init_stages(ctx);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, EPERM);
  EXPECT_EQ(r.error().stage, "mounts");
  EXPECT_NE(r.error().to_string().find("/proc"), std::string::npos) << r.error().to_string();
  EXPECT_NE(r.error().to_string().find("operation not permitted"), std::string::npos);
  EXPECT_EQ(k.find("pivot_root"), -1) << "nothing after the failing stage may run";
  EXPECT_EQ(k.find("setresuid"), -1);
}

TEST_F(PipelineTest, NoPivotMovesAndChroots) {
  ctx.rootfs.no_pivot = true;
  ASSERT_TRUE(runtime::run_init_stages(ctx));
  EXPECT_EQ(k.find("pivot_root"), -1);
  int mv = k.find("mount:/ src=/bundle/rootfs type= flags=" + std::to_string(MS_MOVE));
  int ch = k.find("chroot:.");
  ASSERT_GE(mv, 0) << k.dump();
  EXPECT_GT(ch, mv);
}

TEST_F(PipelineTest, UserNamespaceBindsDevicesAndBecomesItsRoot) {
  spec.linux->namespaces.push_back({oci::NsType::User, ""});
  ctx.rootfs.in_userns = true;
  ASSERT_TRUE(runtime::run_init_stages(ctx));
  EXPECT_EQ(k.find("mknod:"), -1) << "no mknod in a user namespace";
  EXPECT_GE(k.find("mount:/bundle/rootfs/dev/null src=/dev/null type= flags=" + std::to_string(MS_BIND)), 0)
      << k.dump();
  EXPECT_LT(k.find("setresuid:0"), k.find("mount:/ src="));
}

TEST_F(PipelineTest, SharedRootPropagationMakesTheRootfsParentPrivate) {
  spec.linux->rootfs_propagation = "rshared";
  k.file_contents["/proc/self/mountinfo"] =
      "22 1 8:1 / / rw shared:1 - ext4 /dev/sda rw\n"
      "30 22 8:2 / /bundle rw shared:2 - ext4 /dev/sdb rw\n";
  ASSERT_TRUE(runtime::run_init_stages(ctx)) << k.dump();
  int priv = k.find("mount:/bundle src= type= flags=" + std::to_string(MS_PRIVATE));
  int bind = k.find("mount:/bundle/rootfs src=/bundle/rootfs");
  ASSERT_GE(priv, 0) << k.dump();
  EXPECT_LT(priv, bind);
}

}  // namespace
}  // namespace ns

namespace ns {
namespace {

TEST_F(PipelineTest, SeccompLastWithNoNewPrivsBeforeTheCapsWithout) {
  spec.linux->seccomp = nlohmann::json::parse(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]})");
  ASSERT_TRUE(runtime::run_init_stages(ctx)) << k.dump();
  EXPECT_EQ(k.calls.back(), "seccomp_load:1 rules") << k.dump();
  EXPECT_GT(k.find("seccomp_load"), k.find("no_new_privs:"));

  test::FakeKernel k2;
  ctx.k = &k2;
  ctx.seccomp.reset();
  ctx.caps.reset();
  spec.process->no_new_privileges = false;
  ASSERT_TRUE(runtime::run_init_stages(ctx));
  int load = k2.find("seccomp_load");
  ASSERT_GE(load, 0) << k2.dump();
  EXPECT_LT(load, k2.find("capbset_drop:")) << "without no_new_privs the filter needs CAP_SYS_ADMIN";
  EXPECT_EQ(k2.find("no_new_privs:"), -1);
}

TEST_F(PipelineTest, ExecStagesAreTheProcessPartOnly) {
  auto r = runtime::run_exec_stages(ctx);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(k.find("mount:"), -1) << "exec mounts nothing:\n" << k.dump();
  EXPECT_EQ(k.find("pivot_root"), -1);
  EXPECT_EQ(k.find("sethostname"), -1);
  int bounding = k.find("capbset_drop:"), uid = k.find("setresuid:1000"), caps = k.find("capset:"),
      cwd = k.find("chdir:/work"), nnp = k.find("no_new_privs:");
  ASSERT_GE(bounding, 0) << k.dump();
  EXPECT_LT(bounding, uid);
  EXPECT_LT(uid, caps);
  EXPECT_LT(caps, cwd);
  EXPECT_LT(cwd, nnp);
}

TEST(NetnsThread, MakesOnlyANewNetworkNamespaceThatNeedsNoUserOrTimeNamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "the runtime makes the network namespace only as root";
  using T = oci::NsType;
  auto with = [](std::vector<oci::Namespace> n) {
    oci::Linux l;
    l.namespaces = std::move(n);
    return linux_ns::NetnsThread::applies(l);
  };
  EXPECT_TRUE(with({{T::Pid, ""}, {T::Network, ""}, {T::Mount, ""}}));
  EXPECT_FALSE(with({{T::Pid, ""}, {T::Mount, ""}})) << "no new network namespace";
  EXPECT_FALSE(with({{T::Network, "/proc/42/ns/net"}})) << "joined, not made";
  EXPECT_FALSE(with({{T::Network, ""}, {T::User, ""}})) << "it must belong to the container's user namespace";
  EXPECT_FALSE(with({{T::Network, ""}, {T::User, "/proc/42/ns/user"}}));
  EXPECT_FALSE(with({{T::Network, ""}, {T::Time, ""}})) << "setns into a time namespace needs a single thread";
}

}  // namespace
}  // namespace ns
