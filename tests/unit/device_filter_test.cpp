// The cgroup v2 device filter: the generated BPF program is run on a small interpreter and must
// decide every request exactly as the v1 rule list would; as root, it is also attached to a real
// cgroup2 directory and must stop a process from opening a device.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/file.hpp"
#include "linux/cgroup/device_filter.hpp"

namespace ns {
namespace {

using linux_cgroup::DeviceRule;

// Runs PROG on the context of one request (the subset of eBPF the generator emits).
int run(const std::vector<bpf_insn>& prog, char type, int access, uint32_t major, uint32_t minor) {
  uint32_t ctx[3] = {(static_cast<uint32_t>(access) << 16) |
                         static_cast<uint32_t>(type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK),
                     major, minor};
  uint64_t r[11] = {0};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const bpf_insn& i = prog[pc];
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W: r[i.dst_reg] = ctx[i.off / 4]; break;
      case BPF_ALU | BPF_AND | BPF_K: r[i.dst_reg] = static_cast<uint32_t>(r[i.dst_reg]) & static_cast<uint32_t>(i.imm); break;
      case BPF_ALU | BPF_RSH | BPF_K: r[i.dst_reg] = static_cast<uint32_t>(r[i.dst_reg]) >> i.imm; break;
      case BPF_ALU64 | BPF_MOV | BPF_X: r[i.dst_reg] = r[i.src_reg]; break;
      case BPF_ALU64 | BPF_MOV | BPF_K: r[i.dst_reg] = static_cast<uint64_t>(static_cast<int64_t>(i.imm)); break;
      case BPF_JMP | BPF_JNE | BPF_K:
        if (r[i.dst_reg] != static_cast<uint64_t>(static_cast<int64_t>(i.imm))) pc += static_cast<size_t>(i.off);
        break;
      case BPF_JMP | BPF_EXIT: return static_cast<int>(r[0]);
      default: ADD_FAILURE() << "unexpected instruction code " << int(i.code); return -1;
    }
  }
  ADD_FAILURE() << "program ran off its end";
  return -1;
}

// What the v1 devices controller would decide for the same rule list.
int v1(const std::vector<DeviceRule>& rules, char type, int access, int64_t major, int64_t minor) {
  bool allow = true;
  std::vector<DeviceRule> list;
  for (auto& r : rules) {
    if (r.type == 'a' && r.major < 0 && r.minor < 0) {
      allow = r.allow;
      list.clear();
    } else {
      list.push_back(r);
    }
  }
  for (auto& r : list) {
    int mask = 0;
    for (char c : r.access) mask |= c == 'm' ? 1 : c == 'r' ? 2 : c == 'w' ? 4 : 0;
    bool match = (r.type == 'a' || r.type == type) && (access & ~mask) == 0 && (r.major < 0 || r.major == major) &&
                 (r.minor < 0 || r.minor == minor);
    if (match) allow = r.allow;
  }
  return allow ? 1 : 0;
}

TEST(DeviceFilter, DecidesEveryRequestAsTheV1ListWould) {
  std::vector<std::vector<DeviceRule>> cases = {
      {},
      {{false, 'a', -1, -1, "rwm"}},
      {{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rw"}},
      {{false, 'a', -1, -1, "rwm"}, {true, 'c', -1, -1, "m"}, {true, 'b', -1, -1, "m"}, {true, 'c', 136, -1, "rwm"},
       {true, 'c', 1, 5, "rwm"}, {false, 'c', 1, 5, "w"}},
      {{true, 'a', -1, -1, "rwm"}, {false, 'c', 5, 1, "rwm"}, {false, 'b', 8, -1, "w"}},
      {{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rwm"}, {true, 'a', -1, -1, "rwm"}, {false, 'c', 1, 3, "r"}},
  };
  linux_cgroup::Resources defaults;
  defaults.devices = {{false, 'a', -1, -1, "rwm"}};
  linux_cgroup::add_default_device_rules(defaults);
  cases.push_back(defaults.devices);
  for (auto& rules : cases) {
    auto prog = linux_cgroup::device_program(rules);
    for (char type : {'c', 'b'})
      for (int access = 1; access <= 7; ++access)
        for (uint32_t major : {1u, 5u, 8u, 136u})
          for (uint32_t minor : {0u, 1u, 3u, 5u, 9u})
            ASSERT_EQ(run(prog, type, access, major, minor), v1(rules, type, access, major, minor))
                << "rules " << rules.size() << ": " << type << " " << major << ":" << minor << " access " << access;
  }
}

// The cgroup2 mount of this host (pure v2 or the hybrid's unified tree), or "".
std::string cgroup2_mount() {
  std::ifstream mi("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mi, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream f(line);
    std::string id, parent, devno, root, mnt;
    f >> id >> parent >> devno >> root >> mnt;
    return mnt;
  }
  return "";
}

// In a child moved into CG: 0 if PATH opens for reading, else the errno.
int open_in(const std::string& cg, const char* path) {
  pid_t pid = fork();
  if (pid == 0) {
    if (!write_file(cg + "/cgroup.procs", "0")) _exit(200);
    int fd = ::open(path, O_RDONLY);
    _exit(fd >= 0 ? 0 : errno);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

TEST(DeviceFilter, AttachedToACgroupItStopsADeviceAndAnUpdateReplacesIt) {
  if (geteuid() != 0) GTEST_SKIP() << "attaching a BPF program needs root";
  std::string mnt = cgroup2_mount();
  if (mnt.empty()) GTEST_SKIP() << "no cgroup2 mount on this host";
  std::string cg = mnt + "/ns-device-filter-test-" + std::to_string(getpid());
  ASSERT_EQ(::mkdir(cg.c_str(), 0755), 0) << cg;
  auto r = linux_cgroup::attach_device_program(cg, {{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rwm"}});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(open_in(cg, "/dev/null"), 0);
  EXPECT_EQ(open_in(cg, "/dev/zero"), EPERM);
  r = linux_cgroup::attach_device_program(cg, {{true, 'a', -1, -1, "rwm"}});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(open_in(cg, "/dev/zero"), 0) << "the update must replace the first program, not add to it";
  ::rmdir(cg.c_str());
}

}  // namespace
}  // namespace ns
