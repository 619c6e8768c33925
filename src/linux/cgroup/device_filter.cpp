#include "linux/cgroup/device_filter.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "common/fd.hpp"
#include "common/file.hpp"

namespace ns::linux_cgroup {
namespace {

constexpr int kR0 = 0, kR1 = 1, kType = 2, kAccess = 3, kMajor = 4, kMinor = 5, kScratch = 6;

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}
bpf_insn load_u32(int dst, int off) { return insn(BPF_LDX | BPF_MEM | BPF_W, dst, kR1, static_cast<int16_t>(off), 0); }
bpf_insn and_imm(int dst, int32_t imm) { return insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm); }
bpf_insn rsh_imm(int dst, int32_t imm) { return insn(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm); }
bpf_insn mov_reg(int dst, int src) { return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn mov_imm(int dst, int32_t imm) { return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
bpf_insn jne_imm(int dst, int32_t imm) { return insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0 /* patched */, imm); }
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

int32_t access_mask(const std::string& access) {
  int32_t m = 0;
  for (char c : access) {
    if (c == 'm') m |= BPF_DEVCG_ACC_MKNOD;
    if (c == 'r') m |= BPF_DEVCG_ACC_READ;
    if (c == 'w') m |= BPF_DEVCG_ACC_WRITE;
  }
  return m;
}

long bpf(int cmd, union bpf_attr* attr) { return ::syscall(SYS_bpf, cmd, attr, sizeof *attr); }

}  // namespace

std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules) {
  // v1's semantics: an "a" rule for every device resets the list and the default.
  bool default_allow = true;
  std::vector<DeviceRule> list;
  for (auto& r : rules) {
    if (r.type == 'a' && r.major < 0 && r.minor < 0) {
      default_allow = r.allow;
      list.clear();
      continue;
    }
    list.push_back(r);
  }
  std::vector<bpf_insn> prog = {
      load_u32(kType, 0),   and_imm(kType, 0xffff),  // access_type & 0xffff: BPF_DEVCG_DEV_BLOCK / _CHAR
      load_u32(kAccess, 0), rsh_imm(kAccess, 16),    // access_type >> 16: BPF_DEVCG_ACC_*
      load_u32(kMajor, 4),  load_u32(kMinor, 8),
  };
  // The last matching rule decides: check them from the last to the first.
  for (auto it = list.rbegin(); it != list.rend(); ++it) {
    const DeviceRule& r = *it;
    std::vector<bpf_insn> block;
    if (r.type == 'c' || r.type == 'b') block.push_back(jne_imm(kType, r.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
    int32_t mask = access_mask(r.access);
    if (mask != (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)) {
      // every access asked for must be in the rule's: (access & ~mask) == 0
      block.push_back(mov_reg(kScratch, kAccess));
      block.push_back(and_imm(kScratch, ~mask & 7));
      block.push_back(jne_imm(kScratch, 0));
    }
    if (r.major >= 0) block.push_back(jne_imm(kMajor, static_cast<int32_t>(r.major)));
    if (r.minor >= 0) block.push_back(jne_imm(kMinor, static_cast<int32_t>(r.minor)));
    block.push_back(mov_imm(kR0, r.allow ? 1 : 0));
    block.push_back(exit_insn());
    // A failed test jumps over the rest of this block, to the next rule.
    for (size_t i = 0; i < block.size(); ++i)
      if (block[i].code == (BPF_JMP | BPF_JNE | BPF_K)) block[i].off = static_cast<int16_t>(block.size() - i - 1);
    prog.insert(prog.end(), block.begin(), block.end());
  }
  prog.push_back(mov_imm(kR0, default_allow ? 1 : 0));
  prog.push_back(exit_insn());
  return prog;
}

Result<bool> apply_device_filter(const Cgroup& cg, const std::vector<DeviceRule>& rules) {
  if (rules.empty()) return false;
  const Hierarchy* v2 = nullptr;
  for (auto& h : cg.layout().hierarchies) {
    if (h.v2) {
      v2 = &h;
      continue;
    }
    for (auto& c : split(h.controllers, ','))
      if (c == "devices") return false;  // v1 devices files
  }
  if (!v2) return false;
  TRY(attach_device_program(cg.dir(*v2), rules));
  return true;
}

Result<void> attach_device_program(const std::string& cgroup_dir, const std::vector<DeviceRule>& rules) {
  UniqueFd dir(::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys_error("open", cgroup_dir);
  auto prog = device_program(rules);
  static const char license[] = "GPL";
  union bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insn_cnt = static_cast<uint32_t>(prog.size());
  load.insns = reinterpret_cast<uint64_t>(prog.data());
  load.license = reinterpret_cast<uint64_t>(license);
  std::strncpy(load.prog_name, "ns_devices", sizeof load.prog_name - 1);
  long pfd = bpf(BPF_PROG_LOAD, &load);
  if (pfd < 0) return sys_error("load the device filter (bpf BPF_PROG_LOAD)", cgroup_dir);
  UniqueFd program(static_cast<int>(pfd));

  // What is attached now (an update replaces it once the new program is in place).
  uint32_t old_ids[64] = {0};
  union bpf_attr query{};
  query.query.target_fd = static_cast<uint32_t>(dir.get());
  query.query.attach_type = BPF_CGROUP_DEVICE;
  query.query.prog_ids = reinterpret_cast<uint64_t>(old_ids);
  query.query.prog_cnt = 64;
  uint32_t old_count = bpf(BPF_PROG_QUERY, &query) == 0 ? query.query.prog_cnt : 0;

  union bpf_attr attach{};
  attach.target_fd = static_cast<uint32_t>(dir.get());
  attach.attach_bpf_fd = static_cast<uint32_t>(program.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, &attach) < 0) return sys_error("attach the device filter (bpf BPF_PROG_ATTACH)", cgroup_dir);

  for (uint32_t i = 0; i < old_count && i < 64; ++i) {
    union bpf_attr get{};
    get.prog_id = old_ids[i];
    long ofd = bpf(BPF_PROG_GET_FD_BY_ID, &get);
    if (ofd < 0) continue;
    UniqueFd old(static_cast<int>(ofd));
    union bpf_attr detach{};
    detach.target_fd = static_cast<uint32_t>(dir.get());
    detach.attach_bpf_fd = static_cast<uint32_t>(old.get());
    detach.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, &detach) < 0) return sys_error("detach the previous device filter", cgroup_dir);
  }
  return {};
}

}  // namespace ns::linux_cgroup
