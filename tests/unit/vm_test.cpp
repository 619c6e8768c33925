// VM mode's host-side decisions, without QEMU: the agent channel's framing, the guest's view of
// config.json and its shares, the machine's size, the QEMU and virtiofsd command lines.
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "oci/spec.hpp"
#include "linux/net/netdev.hpp"
#include "vm/confine.hpp"
#include "vm/machine.hpp"
#include "vm/protocol.hpp"

namespace ns::vm {
namespace {

TEST(VmProtocol, FramesSurviveBeingCutAnywhere) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ASSERT_TRUE(write_frame(p[1], Frame::Stdout, 7, "hello"));
  ASSERT_TRUE(write_frame(p[1], Frame::Exit, 0, "256"));
  ASSERT_TRUE(write_frame(p[1], Frame::Stdin, 3, ""));
  ::close(p[1]);
  std::string bytes;
  char buf[256];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) bytes.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  // Fed one byte at a time, the same three frames come out, in order.
  FrameReader r;
  std::vector<Message> got;
  for (char c : bytes) {
    r.append(std::string_view(&c, 1));
    while (auto m = r.next()) {
      ASSERT_TRUE(m.has_value());
      if (!*m) break;
      got.push_back(**m);
    }
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].type, Frame::Stdout);
  EXPECT_EQ(got[0].stream, 7u);
  EXPECT_EQ(got[0].payload, "hello");
  EXPECT_EQ(got[1].type, Frame::Exit);
  EXPECT_EQ(got[1].payload, "256");
  EXPECT_EQ(got[2].type, Frame::Stdin);
  EXPECT_EQ(got[2].stream, 3u);
  EXPECT_TRUE(got[2].payload.empty());
}

TEST(VmProtocol, AFrameWithAnFdArrivesWhole) {
  int sp[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::string big(10000, 'x');  // longer than one receive: the rest is read after the fd
  ASSERT_TRUE(send_frame_with_fd(sp[0], Frame::Ok, 5, big, p[1]));
  UniqueFd got;
  auto m = recv_frame_with_fd(sp[1], &got);
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(m->type, Frame::Ok);
  EXPECT_EQ(m->stream, 5u);
  EXPECT_EQ(m->payload, big);
  ASSERT_TRUE(got);
  ASSERT_EQ(::write(got.get(), "z", 1), 1);  // the pipe's write end, passed along
  char c = 0;
  ASSERT_EQ(::read(p[0], &c, 1), 1);
  EXPECT_EQ(c, 'z');
  for (int fd : {sp[0], sp[1], p[0], p[1]}) ::close(fd);
}

TEST(VmProtocol, RefusesAFrameLongerThanTheLimit) {
  FrameReader r;
  uint32_t len = kMaxPayload + 100;
  r.append(std::string_view(reinterpret_cast<const char*>(&len), 4));
  auto m = r.next();
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().to_string().find("bad frame length"), std::string::npos);
}

class GuestPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ns-vm-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    ::mkdir((dir + "/rootfs").c_str(), 0755);
    ::mkdir((dir + "/data").c_str(), 0755);
    ::close(::open((dir + "/hosts").c_str(), O_CREAT | O_WRONLY, 0644));
  }
  void TearDown() override { (void)!::system(("rm -rf " + dir).c_str()); }
  std::string dir;
};

TEST_F(GuestPlanTest, BindMountsBecomeSharesWithTheGuestsPaths) {
  nlohmann::json c = {
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/data"}, {"type", "bind"}, {"source", dir + "/data"}, {"options", {"rbind", "rw"}}},
        {{"destination", "/etc/hosts"}, {"source", "hosts"}, {"options", {"bind", "ro"}}}}},
      {"linux", {{"namespaces", {{{"type", "network"}, {"path", "/run/netns/x"}}, {{"type", "pid"}}}}}},
      {"hooks", {{"prestart", {{{"path", "/bin/true"}}}}}},
      {"annotations", {{"org.nano-sandbox.runtime", "vm"}}},
  };
  auto plan = plan_guest(c, dir, dir + "/rootfs");
  ASSERT_TRUE(plan) << plan.error().to_string();
  ASSERT_EQ(plan->shares.size(), 3u);
  EXPECT_EQ(plan->shares[0].name, "rootfs");
  EXPECT_TRUE(plan->shares[0].readonly);
  EXPECT_EQ(plan->shares[1].host_path, dir + "/data");
  EXPECT_TRUE(plan->shares[1].recursive);
  EXPECT_FALSE(plan->shares[1].readonly);
  EXPECT_TRUE(plan->shares[1].is_dir);
  EXPECT_EQ(plan->shares[2].host_path, dir + "/hosts");  // relative to the bundle
  EXPECT_TRUE(plan->shares[2].readonly);
  EXPECT_FALSE(plan->shares[2].is_dir);
  const auto& g = plan->config;
  EXPECT_EQ(g["root"]["path"], "/run/share/rootfs");
  EXPECT_EQ(g["mounts"][0]["source"], "proc");  // made inside the guest
  EXPECT_EQ(g["mounts"][1]["source"], "/run/share/m1");
  EXPECT_EQ(g["mounts"][2]["source"], "/run/share/m2");
  EXPECT_FALSE(g["linux"]["namespaces"][0].contains("path"));  // the host's netns: a new one inside
  EXPECT_FALSE(g.contains("hooks"));                           // hooks run on the host
  EXPECT_EQ(g["annotations"]["org.nano-sandbox.runtime"], "namespaces");
}

TEST_F(GuestPlanTest, AMissingBindSourceIsNamed) {
  nlohmann::json c = {{"root", {{"path", "rootfs"}}},
                      {"mounts", {{{"destination", "/x"}, {"type", "bind"}, {"source", "/nonexistent/x"}}}}};
  auto plan = plan_guest(c, dir, dir + "/rootfs");
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().to_string().find("/nonexistent/x"), std::string::npos);
}

TEST(VmMachine, TheMemoryLimitSizesTheGuestAndTheQuotaItsVcpus) {
  linux_cgroup::Resources r;
  EXPECT_EQ(size_machine(r, 4).guest_mib, kDefaultGuestMiB);
  EXPECT_EQ(size_machine(r, 4).vcpus, 1);
  r.memory_limit = 512ll << 20;
  r.cpu_quota = 150000;
  r.cpu_period = 100000;
  Sizing s = size_machine(r, 4);
  EXPECT_EQ(s.guest_mib, 512 + kGuestKernelMiB);
  EXPECT_EQ(s.vcpus, 2);
  EXPECT_EQ(size_machine(r, 1).vcpus, 1);  // never more than the host has
  r.memory_limit = 16ll << 20;
  EXPECT_EQ(size_machine(r, 4).guest_mib, kMinGuestMiB);
  // The host cgroup holds QEMU: the guest plus QEMU's own; pids and devices stay inside.
  r.memory_limit = 512ll << 20;
  r.pids_limit = 10;
  auto h = host_resources(r, size_machine(r, 4));
  EXPECT_EQ(*h.memory_limit, static_cast<int64_t>((512 + kGuestKernelMiB + kHostOverheadMiB) << 20));
  EXPECT_EQ(*h.cpu_quota, 150000);
  EXPECT_FALSE(h.pids_limit);
  EXPECT_TRUE(h.devices.empty());
}

TEST(VmMachine, QemuCommandLine) {
  MachineConfig m;
  m.qemu = "/usr/bin/qemu-system-x86_64";
  m.assets = {"/vm", "/vm/vmlinux", "/vm/agent.cpio"};
  m.size = {192, 2};
  m.virtiofs_socket = "/s/virtiofs.sock";
  m.agent_socket = "/s/agent.sock";
  m.serial_log = "/s/vm.log";
  m.qmp_socket = "/s/qmp.sock";
  m.jail_dir = "/s/empty";
  m.tsc_khz = 2000000;
  auto argv = qemu_argv(m);
  auto has = [&](const std::string& a, const std::string& b) {
    for (size_t i = 0; i + 1 < argv.size(); ++i)
      if (argv[i] == a && argv[i + 1] == b) return true;
    return false;
  };
  const std::pair<const char*, const char*> expected[] = {
      {"-M", "microvm,memory-backend=mem"},
      {"-accel", "tcg"},
      {"-cpu", "qemu64"},
      {"-m", "192M"},
      {"-smp", "2"},
      {"-object", "memory-backend-memfd,id=mem,size=192M,share=on"},
      {"-global", "virtio-mmio.force-legacy=false"},
      {"-device", "vhost-user-fs-device,chardev=fs,tag=ns"},
      {"-device", "virtserialport,chardev=agent,name=ns.agent"},
      {"-kernel", "/vm/vmlinux"},
      {"-initrd", "/vm/agent.cpio"},
      {"-qmp", "unix:/s/qmp.sock,server=on,wait=off"},
      {"-chroot", "/s/empty"},
      {"-runas", kRunasAtFork},
      {"-sandbox", "on,obsolete=deny,elevateprivileges=allow,spawn=deny,resourcecontrol=deny"},
  };
  for (auto& [flag, value] : expected) EXPECT_TRUE(has(flag, value)) << flag << " " << value;
  auto append = std::find(argv.begin(), argv.end(), "-append");
  ASSERT_NE(append, argv.end());
  EXPECT_NE((append + 1)->find("tsc_early_khz=2000000 lpj=8000000"), std::string::npos);
  m.accel = "kvm";
  argv = qemu_argv(m);
  EXPECT_TRUE(has("-cpu", "host"));
  append = std::find(argv.begin(), argv.end(), "-append");
  EXPECT_EQ((append + 1)->find("tsc_early_khz"), std::string::npos);
}

TEST(VmConfine, QemuGetsAUidOfItsOwnAndThreeCapabilities) {
  EXPECT_EQ(qemu_id(1234), 0x70000000u + 1234);
  EXPECT_EQ(qemu_runas(1234), "1879049426:1879049426");
  // pid_max is at most 2^22: the ids stay below 2^31.
  EXPECT_LT(qemu_id(1 << 22), 0x80000000u);
  auto q = qemu_confinement();
  std::vector<int> caps = q.caps;
  std::sort(caps.begin(), caps.end());
  EXPECT_EQ(caps, (std::vector<int>{CAP_SETGID, CAP_SETUID, CAP_SYS_CHROOT}));
  auto denies = [](const Confinement& c, const char* call) {
    return std::find(c.denied.begin(), c.denied.end(), call) != c.denied.end();
  };
  for (const char* call : {"ptrace", "process_vm_readv", "bpf", "perf_event_open", "init_module", "kexec_load",
                           "keyctl", "mount", "unshare", "setns", "open_by_handle_at"})
    EXPECT_TRUE(denies(q, call)) << call;
  // virtiofsd builds its sandbox with namespaces, mounts and a pivot_root: those stay allowed.
  auto v = virtiofsd_confinement();
  for (const char* call : {"ptrace", "process_vm_writev", "bpf", "perf_event_open", "finit_module", "keyctl"})
    EXPECT_TRUE(denies(v, call)) << call;
  for (const char* call : {"mount", "unshare", "pivot_root", "umount2", "chroot", "execve"})
    EXPECT_FALSE(denies(v, call)) << call;
  EXPECT_FALSE(denies(q, "chroot"));  // -chroot
  EXPECT_FALSE(denies(q, "execve"));
  EXPECT_TRUE(std::find(v.caps.begin(), v.caps.end(), CAP_MKNOD) == v.caps.end());
  EXPECT_TRUE(std::find(v.caps.begin(), v.caps.end(), CAP_SYS_PTRACE) == v.caps.end());
}

// confine() for real, in a child: the bounding set, no_new_privs, the filter.
TEST(VmConfine, AConfinedChildHasTheBoundingSetAndTheFilter) {
  if (::geteuid() != 0) GTEST_SKIP() << "cutting the bounding set takes CAP_SETPCAP: run as root";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!confine(sys::real_kernel(), qemu_confinement())) ::_exit(10);
    if (::prctl(PR_CAPBSET_READ, CAP_SETUID, 0, 0, 0) != 1) ::_exit(11);
    if (::prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0) ::_exit(12);
    if (::prctl(PR_CAPBSET_READ, CAP_SYS_PTRACE, 0, 0, 0) != 0) ::_exit(13);
    if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) ::_exit(14);
    errno = 0;
    if (::syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0) != -1 || errno != EPERM) ::_exit(15);
    errno = 0;
    if (::syscall(SYS_bpf, 0, nullptr, 0) != -1 || errno != EPERM) ::_exit(16);
    // What QEMU needs still works.
    if (::getpid() <= 0 || ::chroot("/") != 0) ::_exit(17);
    ::_exit(0);
  }
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

TEST(VmMachine, AcceleratorChoice) {
  EXPECT_EQ(*choose_accel("tcg"), "tcg");
  auto bad = choose_accel("warp");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().to_string().find("auto, kvm or tcg"), std::string::npos);
  // auto never fails: KVM where it works, else TCG.
  auto a = choose_accel("auto");
  ASSERT_TRUE(a);
  EXPECT_TRUE(*a == "kvm" || *a == "tcg");
}

TEST(OciProcess, ToJsonAndBackIsTheSameProcess) {
  nlohmann::json j = {{"terminal", true},
                      {"consoleSize", {{"height", 30}, {"width", 100}}},
                      {"user", {{"uid", 1000}, {"gid", 100}, {"umask", 18}, {"additionalGids", {5, 6}}}},
                      {"args", {"sh", "-c", "x"}},
                      {"env", {"A=1"}},
                      {"cwd", "/tmp"},
                      {"capabilities", {{"bounding", {"CAP_KILL"}}, {"effective", {"CAP_KILL"}}}},
                      {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 512}}}},
                      {"noNewPrivileges", true},
                      {"oomScoreAdj", 100}};
  auto p = oci::parse_process_json(j);
  ASSERT_TRUE(p) << p.error().to_string();
  auto again = oci::parse_process_json(oci::process_to_json(*p));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->args, p->args);
  EXPECT_EQ(again->env, p->env);
  EXPECT_EQ(again->cwd, "/tmp");
  EXPECT_TRUE(again->terminal);
  EXPECT_EQ(again->console_size->width, 100u);
  EXPECT_EQ(again->user.uid, 1000u);
  EXPECT_EQ(*again->user.umask, 18u);
  EXPECT_EQ(again->user.additional_gids, (std::vector<uint32_t>{5, 6}));
  EXPECT_EQ(again->capabilities->bounding, std::vector<std::string>{"CAP_KILL"});
  ASSERT_EQ(again->rlimits.size(), 1u);
  EXPECT_EQ(again->rlimits[0].soft, 512u);
  EXPECT_TRUE(again->no_new_privileges);
  EXPECT_EQ(*again->oom_score_adj, 100);
}

}  // namespace
}  // namespace ns::vm

namespace ns::linux_net {
namespace {

TEST(NetDev, InterfacesAndRoutesFromIproute2Json) {
  auto addrs = nlohmann::json::parse(R"([
    {"ifindex":1,"ifname":"lo","link_type":"loopback","address":"00:00:00:00:00:00","mtu":65536,
     "addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]},
    {"ifindex":2,"ifname":"eth0","link_type":"ether","address":"32:55:97:3a:08:d1","mtu":1450,
     "addr_info":[{"family":"inet6","local":"fe80::1","prefixlen":64},{"family":"inet","local":"10.88.0.6","prefixlen":16}]},
    {"ifindex":3,"ifname":"eth1","link_type":"ether","address":"aa:bb:cc:dd:ee:ff","mtu":1500,"addr_info":[]}
  ])");
  auto routes = nlohmann::json::parse(R"([
    {"dst":"default","gateway":"10.88.0.1","dev":"eth0"},
    {"dst":"10.88.0.0/16","dev":"eth0","prefsrc":"10.88.0.6"},
    {"dst":"192.168.5.0/24","gateway":"10.88.0.254","dev":"eth0"}
  ])");
  auto ifs = parse_ip_json(addrs, routes);
  ASSERT_EQ(ifs.size(), 1u);  // not lo, not an interface without an IPv4 address
  EXPECT_EQ(ifs[0].name, "eth0");
  EXPECT_EQ(ifs[0].mac, "32:55:97:3a:08:d1");
  EXPECT_EQ(ifs[0].address, "10.88.0.6/16");
  EXPECT_EQ(ifs[0].mtu, 1450);
  ASSERT_EQ(ifs[0].routes.size(), 2u);  // the routes through a gateway; the on-link one comes with the address
  EXPECT_EQ(ifs[0].routes[0].dst, "default");
  EXPECT_EQ(ifs[0].routes[0].gateway, "10.88.0.1");
  EXPECT_EQ(ifs[0].routes[1].dst, "192.168.5.0/24");
  auto back = interfaces_from_json(to_json(ifs));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].address, "10.88.0.6/16");
  EXPECT_EQ(back[0].routes[1].gateway, "10.88.0.254");
}

}  // namespace
}  // namespace ns::linux_net
