#include "explain/explain.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "common/file.hpp"
#include "linux/security/capabilities.hpp"
#include "linux/security/seccomp.hpp"

namespace ns::explain {
namespace {

Mode g_mode = Mode::Off;
std::vector<StageEvent> g_events;
uint64_t g_start_ns = 0;
std::string g_title = "ns-runtime";
// Text mode: calls and notes of the stage in progress, per role, printed under its heading.
std::map<std::string, std::vector<std::string>> g_pending;
Forward g_forward;

// Words wrapped at 100 columns, continuation lines indented by INDENT.
std::string wrap(const std::string& text, size_t indent) {
  std::string out, line;
  size_t width = 100 - indent;
  for (auto& word : split(text, ' ')) {
    if (word.empty()) continue;
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += line + "\n" + std::string(indent, ' ');
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  return out + line;
}

std::string rlimit_name(int r) {
  static const char* const names[] = {"RLIMIT_CPU",     "RLIMIT_FSIZE",   "RLIMIT_DATA",   "RLIMIT_STACK",
                                      "RLIMIT_CORE",    "RLIMIT_RSS",     "RLIMIT_NPROC",  "RLIMIT_NOFILE",
                                      "RLIMIT_MEMLOCK", "RLIMIT_AS",      "RLIMIT_LOCKS",  "RLIMIT_SIGPENDING",
                                      "RLIMIT_MSGQUEUE", "RLIMIT_NICE",   "RLIMIT_RTPRIO", "RLIMIT_RTTIME"};
  return r >= 0 && r < 16 ? names[r] : std::to_string(r);
}

std::string cap_text(int c) {
  std::string n = linux_security::cap_name(c);
  return n.empty() ? std::to_string(c) : n;
}

std::string cap_set_text(uint64_t mask) {
  if (mask == 0) return "{}";
  std::string s;
  for (int c = 0; c < 64; ++c)
    if (mask & (1ULL << c)) s += (s.empty() ? "" : ",") + cap_text(c);
  return "{" + s + "}";
}

void out(const std::string& s) {
  std::string line = s + "\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

std::string hex(unsigned long v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%lx", v);
  return buf;
}

std::string q(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '\n' ? std::string("\\n") : std::string(1, c);
  return out + "\"";
}

std::string mount_flags_text(unsigned long f) {
  static const std::pair<unsigned long, const char*> names[] = {
      {MS_RDONLY, "MS_RDONLY"}, {MS_NOSUID, "MS_NOSUID"},   {MS_NODEV, "MS_NODEV"},     {MS_NOEXEC, "MS_NOEXEC"},
      {MS_REMOUNT, "MS_REMOUNT"}, {MS_BIND, "MS_BIND"},     {MS_MOVE, "MS_MOVE"},       {MS_REC, "MS_REC"},
      {MS_PRIVATE, "MS_PRIVATE"}, {MS_SLAVE, "MS_SLAVE"},   {MS_SHARED, "MS_SHARED"},   {MS_UNBINDABLE, "MS_UNBINDABLE"},
      {MS_STRICTATIME, "MS_STRICTATIME"}, {MS_RELATIME, "MS_RELATIME"}, {MS_NOATIME, "MS_NOATIME"},
      {MS_NODIRATIME, "MS_NODIRATIME"}, {MS_NOSYMFOLLOW, "MS_NOSYMFOLLOW"}};
  std::string s;
  for (auto [bit, name] : names)
    if (f & bit) s += (s.empty() ? "" : "|") + std::string(name);
  return s.empty() ? "0" : s;
}

std::string mount_attr_text(uint64_t f) {
  static const std::pair<uint64_t, const char*> names[] = {
      {MOUNT_ATTR_RDONLY, "MOUNT_ATTR_RDONLY"},         {MOUNT_ATTR_NOSUID, "MOUNT_ATTR_NOSUID"},
      {MOUNT_ATTR_NODEV, "MOUNT_ATTR_NODEV"},           {MOUNT_ATTR_NOEXEC, "MOUNT_ATTR_NOEXEC"},
      {MOUNT_ATTR__ATIME, "MOUNT_ATTR__ATIME"},         {MOUNT_ATTR_NODIRATIME, "MOUNT_ATTR_NODIRATIME"},
      {MOUNT_ATTR_NOSYMFOLLOW, "MOUNT_ATTR_NOSYMFOLLOW"}};
  std::string s;
  uint64_t rest = f;
  for (auto [bit, name] : names)
    if ((rest & bit) == bit) {
      s += (s.empty() ? "" : "|") + std::string(name);
      rest &= ~bit;
    }
  // Inside MOUNT_ATTR__ATIME: one of the modes.
  if (rest & MOUNT_ATTR_NOATIME) s += (s.empty() ? "" : "|") + std::string("MOUNT_ATTR_NOATIME");
  if ((rest & MOUNT_ATTR__ATIME) == MOUNT_ATTR_STRICTATIME) s += (s.empty() ? "" : "|") + std::string("MOUNT_ATTR_STRICTATIME");
  return s.empty() ? "0" : s;
}

// The path behind "/proc/self/fd/N", so narration shows where a mount really goes.
std::string resolve(const std::string& p) {
  if (!p.starts_with("/proc/self/fd/")) return p;
  char buf[4096];
  ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : p;
}

class ExplainingKernel final : public sys::Kernel {
 public:
  ExplainingKernel(sys::Kernel& inner, std::function<void(const std::string&)> sink)
      : k_(inner), sink_(std::move(sink)) {}

  Result<void> mount(const std::string& s, const std::string& t, const std::string& fs, unsigned long f,
                     const std::string& d) override {
    say("mount(" + q(resolve(s)) + ", " + q(resolve(t)) + ", " + q(fs) + ", " + mount_flags_text(f) +
        (d.empty() ? "" : ", " + q(d)) + ")");
    return k_.mount(s, t, fs, f, d);
  }
  Result<void> umount2(const std::string& t, int f) override {
    say("umount2(" + q(t) + ", " + (f & MNT_DETACH ? "MNT_DETACH" : std::to_string(f)) + ")");
    return k_.umount2(t, f);
  }
  Result<void> pivot_root(const std::string& n, const std::string& o) override {
    say("pivot_root(" + q(n) + ", " + q(o) + ")");
    return k_.pivot_root(n, o);
  }
  Result<void> chroot(const std::string& p) override {
    say("chroot(" + q(p) + ")");
    return k_.chroot(p);
  }
  Result<void> chdir(const std::string& p) override {
    say("chdir(" + q(p) + ")");
    return k_.chdir(p);
  }
  Result<void> fchdir(int fd) override {
    say("fchdir(" + q(resolve(sys::fd_path(fd))) + ")");
    return k_.fchdir(fd);
  }
  Result<void> mount_setattr(const std::string& p, uint64_t set, uint64_t clear, bool recursive) override {
    say("mount_setattr(" + q(resolve(p)) + (recursive ? ", AT_RECURSIVE" : "") + ", set=" + mount_attr_text(set) +
        ", clear=" + mount_attr_text(clear) + ")");
    return k_.mount_setattr(p, set, clear, recursive);
  }
  Result<unsigned long> mount_flags(const std::string& p) override { return k_.mount_flags(p); }
  Result<UniqueFd> open(const std::string& p, int f, mode_t m) override { return k_.open(p, f, m); }
  Result<UniqueFd> open_in_root(int r, const std::string& p, int f, mode_t m) override {
    return k_.open_in_root(r, p, f, m);
  }
  Result<void> mkdirat(int d, const std::string& n, mode_t m) override {
    say("mkdir(" + q(resolve(sys::fd_path(d)) + "/" + n) + ", 0" + oct(m) + ")");
    return k_.mkdirat(d, n, m);
  }
  Result<void> mknodat(int d, const std::string& n, mode_t m, dev_t dev) override {
    say("mknod(" + q(resolve(sys::fd_path(d)) + "/" + n) + ", 0" + oct(m & 07777) + ", " +
        std::to_string(major(dev)) + ":" + std::to_string(minor(dev)) + ")");
    return k_.mknodat(d, n, m, dev);
  }
  Result<std::string> readlinkat(int d, const std::string& n) override { return k_.readlinkat(d, n); }
  Result<void> symlinkat(const std::string& t, int d, const std::string& n) override {
    say("symlink(" + q(t) + ", " + q(resolve(sys::fd_path(d)) + "/" + n) + ")");
    return k_.symlinkat(t, d, n);
  }
  Result<void> fchownat(int d, const std::string& n, uid_t u, gid_t g) override { return k_.fchownat(d, n, u, g); }
  Result<struct stat> fstat(int fd) override { return k_.fstat(fd); }
  Result<struct stat> stat(const std::string& p) override { return k_.stat(p); }
  Result<void> write_file(const std::string& p, const std::string& c) override {
    say("write(" + q(p) + ", " + q(c) + ")");
    return k_.write_file(p, c);
  }
  Result<void> write_procfs(const std::string& rel, const std::string& c) override {
    say("openat2(<procfs root, verified>, " + q(rel) + ", RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV); write(" +
        q(c) + ")");
    return k_.write_procfs(rel, c);
  }
  Result<void> write_each(const std::string& p, const std::vector<std::string>& values) override {
    for (auto& v : values) say("write(" + q(p) + ", " + q(v) + ")");
    return k_.write_each(p, values);
  }
  Result<std::string> read_file(const std::string& p) override { return k_.read_file(p); }
  Result<void> unlinkat(int d, const std::string& n, int f) override {
    say(std::string(f & AT_REMOVEDIR ? "rmdir(" : "unlink(") + q(d == AT_FDCWD ? n : resolve(sys::fd_path(d)) + "/" + n) + ")");
    return k_.unlinkat(d, n, f);
  }
  Result<void> sethostname(const std::string& n) override {
    say("sethostname(" + q(n) + ")");
    return k_.sethostname(n);
  }
  Result<void> setdomainname(const std::string& n) override {
    say("setdomainname(" + q(n) + ")");
    return k_.setdomainname(n);
  }
  Result<void> setns(int fd, int t) override {
    say("setns(" + q(resolve(sys::fd_path(fd))) + ", " + hex(static_cast<unsigned long>(t)) + ")");
    return k_.setns(fd, t);
  }
  Result<void> unshare(int f) override {
    say("unshare(" + hex(static_cast<unsigned long>(f)) + ")");
    return k_.unshare(f);
  }
  Result<void> setrlimit(int r, uint64_t s, uint64_t h) override {
    say("setrlimit(" + rlimit_name(r) + ", soft=" + std::to_string(s) + ", hard=" + std::to_string(h) + ")");
    return k_.setrlimit(r, s, h);
  }
  Result<void> setgroups(const std::vector<gid_t>& g) override {
    std::string list;
    for (auto x : g) list += (list.empty() ? "" : ", ") + std::to_string(x);
    say("setgroups([" + list + "])");
    return k_.setgroups(g);
  }
  Result<void> setresgid(gid_t g) override {
    say("setresgid(" + std::to_string(g) + ")");
    return k_.setresgid(g);
  }
  Result<void> setresuid(uid_t u) override {
    say("setresuid(" + std::to_string(u) + ")");
    return k_.setresuid(u);
  }
  mode_t umask(mode_t m) override {
    say("umask(0" + oct(m) + ")");
    return k_.umask(m);
  }
  Result<void> setsid() override {
    say("setsid()");
    return k_.setsid();
  }
  int last_cap() override { return k_.last_cap(); }
  Result<void> drop_bounding_cap(int c) override {
    say("prctl(PR_CAPBSET_DROP, " + cap_text(c) + ")");
    return k_.drop_bounding_cap(c);
  }
  Result<void> set_keep_caps(bool keep) override {
    say(std::string("prctl(PR_SET_KEEPCAPS, ") + (keep ? "1" : "0") + ")");
    return k_.set_keep_caps(keep);
  }
  Result<void> set_caps(uint64_t e, uint64_t p, uint64_t i) override {
    say("capset(effective=" + cap_set_text(e) + ", permitted=" + cap_set_text(p) + ", inheritable=" + cap_set_text(i) + ")");
    return k_.set_caps(e, p, i);
  }
  Result<void> raise_ambient_cap(int c) override {
    say("prctl(PR_CAP_AMBIENT_RAISE, " + cap_text(c) + ")");
    return k_.raise_ambient_cap(c);
  }
  Result<void> set_no_new_privs() override {
    say("prctl(PR_SET_NO_NEW_PRIVS, 1)");
    return k_.set_no_new_privs();
  }
  Result<void> load_seccomp(const linux_security::SeccompFilter& f, UniqueFd* listener) override {
    say("seccomp(SECCOMP_SET_MODE_FILTER, " + std::to_string(f.rules.size()) + " rules" +
        (f.listener_path.empty() ? "" : ", SECCOMP_FILTER_FLAG_NEW_LISTENER") + ")");
    return k_.load_seccomp(f, listener);
  }
  Result<void> join_session_keyring(const std::string& name) override {
    say("keyctl(KEYCTL_JOIN_SESSION_KEYRING, " + q(name) + ")");
    return k_.join_session_keyring(name);
  }
  Result<void> set_personality(unsigned long p) override {
    say("personality(" + hex(p) + (p == 0x0008 ? " PER_LINUX32" : p == 0 ? " PER_LINUX" : "") + ")");
    return k_.set_personality(p);
  }
  Result<void> set_scheduler(uint32_t policy, uint64_t flags, int32_t nice, uint32_t priority, uint64_t runtime,
                             uint64_t deadline, uint64_t period) override {
    say("sched_setattr(policy=" + std::to_string(policy) + ", flags=" + hex(flags) + ", nice=" + std::to_string(nice) +
        ", priority=" + std::to_string(priority) + ", runtime=" + std::to_string(runtime) +
        ", deadline=" + std::to_string(deadline) + ", period=" + std::to_string(period) + ")");
    return k_.set_scheduler(policy, flags, nice, priority, runtime, deadline, period);
  }
  Result<void> set_io_priority(int ioprio) override {
    say("ioprio_set(IOPRIO_WHO_PROCESS, 0, class=" + std::to_string(ioprio >> 13) + ", level=" +
        std::to_string(ioprio & 0x1fff) + ")");
    return k_.set_io_priority(ioprio);
  }
  Result<void> set_cpu_affinity(pid_t pid, const std::string& cpus) override {
    say("sched_setaffinity(" + std::to_string(pid) + ", {" + cpus + "})");
    return k_.set_cpu_affinity(pid, cpus);
  }
  Result<void> loopback_up() override {
    say("ioctl(SIOCSIFFLAGS, \"lo\", IFF_UP)");
    return k_.loopback_up();
  }

 private:
  static std::string oct(unsigned v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%o", v);
    return buf;
  }
  void say(const std::string& s) { sink_(s); }
  sys::Kernel& k_;
  std::function<void(const std::string&)> sink_;
};

}  // namespace

void set_mode(Mode m) { g_mode = m; }
Mode mode() { return g_mode; }

uint64_t now_ns() {
  struct timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

void mark_start() { g_start_ns = now_ns(); }

void forward_to(Forward f) { g_forward = std::move(f); }

void call(const std::string& role, const std::string& what) {
  if (g_forward) g_forward("call", role, what, nullptr);
  else if (g_mode == Mode::Json)
    out(nlohmann::json{{"event", "call"}, {"role", role}, {"call", what}}.dump());
  else if (g_mode == Mode::Text)
    g_pending[role].push_back("      " + what);
}

void note(const std::string& role, const std::string& what) {
  if (g_forward) g_forward("note", role, what, nullptr);
  else if (g_mode == Mode::Json)
    out(nlohmann::json{{"event", "note"}, {"role", role}, {"note", what}}.dump());
  else if (g_mode == Mode::Text)
    g_pending[role].push_back("      - " + wrap(what, 8));
}

void stage(const StageEvent& e) {
  if (g_forward) {
    g_forward("stage", e.role, "", &e);
    return;
  }
  g_events.push_back(e);
  if (g_mode == Mode::Json) {
    out(nlohmann::json{{"event", "stage"},
                       {"role", e.role},
                       {"stage", e.stage},
                       {"field", e.field},
                       {"why", e.why},
                       {"start_ns", e.start_ns},
                       {"end_ns", e.start_ns + e.duration_ns},
                       {"duration_us", e.duration_ns / 1000},
                       {"ok", e.ok}}
            .dump());
  } else if (g_mode == Mode::Text) {
    char head[200];
    std::snprintf(head, sizeof head, "[%s] %-22s %8.3f ms%s", e.role.c_str(), e.stage.c_str(), e.duration_ns / 1e6,
                  e.ok ? "" : "  FAILED");
    std::string text = std::string(head);
    if (!e.field.empty()) text += "   config.json: " + e.field;
    text += "\n      why: " + wrap(e.why, 11);
    for (auto& line : g_pending[e.role]) text += "\n" + line;
    g_pending[e.role].clear();
    out(text);
  }
}

void timeline(const std::string& title) {
  if (g_mode == Mode::Off || g_events.empty()) return;
  struct Clear {
    ~Clear() {
      g_events.clear();
      g_start_ns = now_ns();  // a second timeline (run --rm's removal) starts where this one ends
    }
  } clear;
  uint64_t start = g_start_ns ? g_start_ns : g_events.front().start_ns, end = now_ns(), sum = 0;
  for (auto& e : g_events) {
    start = std::min(start, e.start_ns);
    sum += e.duration_ns;
  }
  // The runtime and the child work side by side for a while: time covered by at least one stage
  // (the union of their intervals), and how much of the stages' sum ran alongside another.
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (auto& e : g_events) spans.emplace_back(e.start_ns, e.start_ns + e.duration_ns);
  std::sort(spans.begin(), spans.end());
  uint64_t covered = 0, reach = 0;
  for (auto [from, to] : spans) {
    from = std::max(from, reach);
    if (to > from) covered += to - from;
    reach = std::max(reach, to);
  }
  uint64_t wall = end - start, other = wall > covered ? wall - covered : 0, overlap = sum - covered;
  if (g_mode == Mode::Json) {
    out(nlohmann::json{{"event", "timeline"},        {"title", title},           {"stages", g_events.size()},
                       {"stages_us", sum / 1000},     {"covered_us", covered / 1000}, {"overlap_us", overlap / 1000},
                       {"other_us", other / 1000},    {"wall_us", wall / 1000}}
            .dump());
    return;
  }
  auto row = [&](const std::string& role, const std::string& name, uint64_t ns) {
    int bar = static_cast<int>(40.0 * static_cast<double>(ns) / static_cast<double>(std::max<uint64_t>(1, wall)));
    char line[200];
    std::snprintf(line, sizeof line, "  %-7s %-22s %8.3f ms  %s", role.c_str(), name.c_str(), ns / 1e6,
                  std::string(static_cast<size_t>(bar), '#').c_str());
    out(line);
  };
  out("\n" + title + ": where the time went");
  std::vector<const StageEvent*> in_time(g_events.size());
  for (size_t i = 0; i < g_events.size(); ++i) in_time[i] = &g_events[i];
  std::stable_sort(in_time.begin(), in_time.end(), [](auto* a, auto* b) { return a->start_ns < b->start_ns; });
  for (auto* e : in_time) row(e->role, e->stage, e->duration_ns);
  row("", "(between the stages)", other);
  char total[300];
  std::snprintf(total, sizeof total,
                "  %.3f ms in all: %.3f ms in the stages above (%.3f ms of it the runtime and the child side by "
                "side), %.3f ms between them (start-up, reading config.json and state, waiting, narrating)",
                wall / 1e6, sum / 1e6, overlap / 1e6, other / 1e6);
  out(total);
}

void timeline() {
  timeline(g_title);
}

void set_command(const std::string& name) { g_title = name; }

Result<void> enable(const std::string& mode, const std::string& command) {
  if (mode.empty()) return {};
  if (mode != "json" && mode != "text") return make_error("--explain: \"" + mode + "\" is neither text nor json");
  set_mode(mode == "json" ? Mode::Json : Mode::Text);
  set_command(command);
  return {};
}

std::unique_ptr<sys::Kernel> explaining_kernel(sys::Kernel& inner, std::function<void(const std::string&)> sink) {
  return std::make_unique<ExplainingKernel>(inner, std::move(sink));
}

}  // namespace ns::explain
