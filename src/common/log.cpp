#include "common/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "common/file.hpp"

namespace ns::log {
namespace {

struct State {
  int fd = -1;  // -1: stderr
  bool json = false;
  bool debug = false;
  Role role = Role::Host;
  // json log file: warnings wait until we know the command succeeded, because engines read
  // a failed command's log as exactly one error object (podman parses the whole file).
  std::vector<std::string> held;
};
State g;

const char* level_name(Level l, bool lower) {
  switch (l) {
    case Level::Debug: return lower ? "debug" : "DEBUG";
    case Level::Info: return lower ? "info" : "INFO";
    case Level::Warn: return lower ? "warning" : "WARN";
    case Level::Error: return lower ? "error" : "ERROR";
  }
  return "?";
}

const char* role_name(Role r) {
  switch (r) {
    case Role::Host: return "HOST";
    case Role::Parent: return "PARENT";
    case Role::Child: return "CHILD";
  }
  return "?";
}

void write_line(int fd, const std::string& line) { (void)write_all(fd, line, "log"); }

std::string format(Level level, std::string_view msg) {
  if (g.json) {
    nlohmann::json j = {{"level", level_name(level, true)}, {"msg", msg}, {"time", rfc3339_now()}};
    return j.dump() + "\n";
  }
  std::string s = rfc3339_now();
  s += " [";
  s += level_name(level, false);
  s += "] [";
  s += role_name(g.role);
  s += "] ";
  s += msg;
  s += '\n';
  return s;
}

}  // namespace

Result<void> init(const std::string& path, bool json, bool debug) {
  g.json = json;
  g.debug = debug;
  if (!path.empty()) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return sys_error("open log file", path);
    g.fd = fd;
  }
  return {};
}

void set_role(Role role) {
  g.role = role;
  // A child starts with a copy of the runtime's held warnings: they are the runtime's to write.
  if (role == Role::Child) g.held.clear();
}
bool debug_enabled() { return g.debug; }
int fd() { return g.fd; }

void write(Level level, std::string_view msg) {
  if (level == Level::Warn && g.json && g.fd >= 0) {
    g.held.emplace_back(msg);
    return;
  }
  write_line(g.fd >= 0 ? g.fd : STDERR_FILENO, format(level, msg));
}

void flush() {
  for (auto& m : g.held) write_line(g.fd, format(Level::Warn, m));
  g.held.clear();
}

namespace {
const char* g_program = "ns-runtime";
}

void set_program(const char* name) { g_program = name; }

void fatal(std::string_view msg) {
  // Held warnings go to stderr, so the log keeps its single error line.
  for (auto& m : g.held) write_line(STDERR_FILENO, std::string(g_program) + ": warning: " + m + "\n");
  g.held.clear();
  std::string line = std::string(g_program) + ": ";
  line += msg;
  line += '\n';
  write_line(STDERR_FILENO, line);
  if (g.fd >= 0) write_line(g.fd, format(Level::Error, msg));
}

}  // namespace ns::log
