// Logging: `--log FILE`, `--log-format text|json`, `--debug`.
//   text: "<time> [LEVEL] [ROLE] message"   (ROLE = HOST, PARENT, CHILD: which process wrote it)
//   json: {"level":"error","msg":"...","time":"..."}   (one object per line, as engines parse it)
// Errors go to stderr as one line and, when a log file is set, as exactly one log line.
#pragma once

#include <string>
#include <string_view>

#include "common/error.hpp"

namespace ns::log {

enum class Level { Debug, Info, Warn, Error };
enum class Role { Host, Parent, Child };

// Opens the log file (append). An empty path logs to stderr.
Result<void> init(const std::string& path, bool json, bool debug);
void set_role(Role role);
[[nodiscard]] bool debug_enabled();
// The log fd, so a child can keep writing to it; -1 when logging goes to stderr.
[[nodiscard]] int fd();

void write(Level level, std::string_view msg);
inline void debug(std::string_view msg) {
  if (debug_enabled()) write(Level::Debug, msg);
}
inline void info(std::string_view msg) { write(Level::Info, msg); }
inline void warn(std::string_view msg) { write(Level::Warn, msg); }

// With a json log file, warnings are held until the command ends: flush() writes them (success),
// fatal() moves them to stderr (failure), so a failed command's log is exactly one error line.
void flush();

// The one place a failing command reports: "ns-runtime: MSG" on stderr plus one error log line.
void fatal(std::string_view msg);
// The name stderr lines start with ("ns-runtime", "nsrun").
void set_program(const char* name);

}  // namespace ns::log
