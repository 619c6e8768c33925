#include "linux/security/seccomp.hpp"

#include <seccomp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

#include "common/log.hpp"
#include "common/unix_socket.hpp"
#include "oci/json_reader.hpp"

namespace ns::linux_security {
namespace {

using oci::detail::field_error;
using oci::detail::Obj;

// The tables below are also what `features` reports.
constexpr const char* kActions[] = {"SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",
                                    "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",
                                    "SCMP_ACT_NOTIFY"};
constexpr const char* kFlags[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                  "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};

Result<uint32_t> action_from(const std::string& name, std::optional<uint32_t> errno_ret, const std::string& field) {
  uint32_t err = errno_ret.value_or(EPERM);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(err);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(err);
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") return SCMP_ACT_NOTIFY;
  return field_error(field, "unknown action \"" + name + "\"");
}

const std::pair<const char*, uint32_t> kArches[] = {
      {"SCMP_ARCH_X86", SCMP_ARCH_X86},         {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
      {"SCMP_ARCH_X32", SCMP_ARCH_X32},         {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
      {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64}, {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
      {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},   {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
      {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},   {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
      {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32}, {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
      {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},     {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
      {"SCMP_ARCH_S390", SCMP_ARCH_S390},       {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
      {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
};

Result<uint32_t> arch_from(const std::string& name, const std::string& field) {
  for (auto [n, v] : kArches)
    if (name == n) return v;
  return field_error(field, "unknown architecture \"" + name + "\"");
}

const std::pair<const char*, int> kOps[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

Result<int> op_from(const std::string& name, const std::string& field) {
  for (auto [n, v] : kOps)
    if (name == n) return v;
  return field_error(field, "unknown operator \"" + name + "\"");
}

}  // namespace

Result<SeccompFilter> parse_seccomp(const nlohmann::json& j) {
  SeccompFilter f;
  Obj top(j, "linux.seccomp");
  auto def = TRY(top.str("defaultAction"));
  if (!def) return field_error("linux.seccomp.defaultAction", "missing required field");
  auto def_errno = TRY(top.integer<uint32_t>("defaultErrnoRet"));
  f.default_action = TRY(action_from(*def, def_errno, "linux.seccomp.defaultAction"));
  if (f.default_action == SCMP_ACT_NOTIFY)
    return field_error("linux.seccomp.defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
  for (auto& a : TRY(top.strings("architectures"))) f.architectures.push_back(TRY(arch_from(a, "linux.seccomp.architectures")));
  f.flags = TRY(top.strings("flags"));
  TRY(top.str_into("listenerPath", f.listener_path));
  TRY(top.str_into("listenerMetadata", f.listener_metadata));
  TRY(top.each_object("syscalls", [&](Obj& s) -> Result<void> {
    SeccompRule rule;
    rule.names = TRY(s.strings("names"));
    if (rule.names.empty()) return field_error(s.field("names"), "must not be empty");
    auto action = TRY(s.str("action"));
    if (!action) return field_error(s.field("action"), "missing required field");
    auto err = TRY(s.integer<uint32_t>("errnoRet"));
    if (!err) err = def_errno;
    rule.action = TRY(action_from(*action, err, s.field("action")));
    TRY(s.each_object("args", [&](Obj& a) -> Result<void> {
      SeccompArg arg;
      TRY(a.int_into("index", arg.index));
      if (arg.index > 5) return field_error(a.field("index"), "must be 0 to 5");
      TRY(a.int_into("value", arg.value));
      TRY(a.int_into("valueTwo", arg.value_two));
      auto op = TRY(a.str("op"));
      if (!op) return field_error(a.field("op"), "missing required field");
      arg.op = TRY(op_from(*op, a.field("op")));
      rule.args.push_back(arg);
      return {};
    }));
    f.rules.push_back(std::move(rule));
    return {};
  }));
  for (auto& flag : f.flags)
    if (std::find(std::begin(kFlags), std::end(kFlags), flag) == std::end(kFlags))
      return field_error("linux.seccomp.flags", "unknown flag \"" + flag + "\"");
  bool notify = std::any_of(f.rules.begin(), f.rules.end(), [](auto& r) { return r.action == SCMP_ACT_NOTIFY; });
  if (notify && f.listener_path.empty())
    return field_error("linux.seccomp.listenerPath", "required when a syscall's action is SCMP_ACT_NOTIFY");
  if (!notify) f.listener_path.clear();  // nothing will be notified: no agent to call
  if (!f.listener_path.empty() && f.listener_path[0] != '/')
    return field_error("linux.seccomp.listenerPath", "must be an absolute path");
  return f;
}

SeccompFeatures seccomp_features() {
  SeccompFeatures out;
  for (auto* a : kActions) out.actions.emplace_back(a);
  for (auto [n, v] : kOps) out.operators.emplace_back(n);
  for (auto [n, v] : kArches) out.archs.emplace_back(n);
  for (auto* f : kFlags) out.flags.emplace_back(f);
  return out;
}

Result<void> load_seccomp(const SeccompFilter& f, UniqueFd* listener) {
  scmp_filter_ctx ctx = seccomp_init(f.default_action);
  if (!ctx) return make_error("seccomp_init failed");
  struct Guard {
    scmp_filter_ctx c;
    ~Guard() { seccomp_release(c); }
  } guard{ctx};
  // libseccomp would set no_new_privs itself; process.noNewPrivileges decides that, not the filter.
  if (int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); rc < 0) return sys_error("seccomp_attr_set NNP", {}, -rc);
  for (uint32_t arch : f.architectures) {
    int rc = seccomp_arch_add(ctx, arch);
    if (rc < 0 && rc != -EEXIST) return sys_error("seccomp_arch_add", {}, -rc);
  }
  for (auto& flag : f.flags) {
    int rc = 0;
    if (flag == "SECCOMP_FILTER_FLAG_LOG") rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
    if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
    if (flag == "SECCOMP_FILTER_FLAG_TSYNC") rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (rc < 0) return sys_error("seccomp flag " + flag, {}, -rc);
  }
  for (auto& rule : f.rules) {
    if (rule.action == f.default_action) continue;  // redundant: libseccomp refuses it
    std::vector<scmp_arg_cmp> cmps;
    for (auto& a : rule.args)
      cmps.push_back(scmp_arg_cmp{a.index, static_cast<scmp_compare>(a.op), a.value, a.value_two});
    for (auto& name : rule.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        log::debug("seccomp: syscall " + name + " does not exist on this architecture, skipped");
        continue;
      }
      int rc = seccomp_rule_add_array(ctx, rule.action, nr, static_cast<unsigned>(cmps.size()),
                                      cmps.empty() ? nullptr : cmps.data());
      if (rc < 0) return sys_error("seccomp rule for " + name, {}, -rc);
    }
  }
  int rc = seccomp_load(ctx);
  if (rc < 0) return sys_error("seccomp_load", {}, -rc);
  if (listener && !f.listener_path.empty()) {
    int fd = seccomp_notify_fd(ctx);
    if (fd < 0) return sys_error("seccomp_notify_fd", {}, -fd);
    *listener = UniqueFd(fd);
  }
  return {};
}

Result<void> send_to_agent(const std::string& path, int listener_fd, const std::string& state_json) {
  UniqueFd s = TRY(connect_unix(path, "to the seccomp agent"));
  return send_with_fd(s.get(), state_json.data(), state_json.size(), listener_fd, "send the seccomp listener to " + path);
}

}  // namespace ns::linux_security
