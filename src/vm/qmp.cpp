#include "common/json.hpp"
#include "vm/qmp.hpp"

#include <poll.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/fd.hpp"
#include "common/file.hpp"
#include "common/unix_socket.hpp"

namespace ns::vm {
namespace {

// The next JSON object QEMU sends (one per line), skipping asynchronous events.
Result<nlohmann::json> next_reply(int fd, std::string& buf) {
  for (;;) {
    for (size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
      auto j = parse_json(buf.substr(0, nl));
      buf.erase(0, nl + 1);
      if (j.is_object() && !j.contains("event")) return j;
    }
    struct pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return make_error("QMP: no answer from QEMU within 5 s");
    char tmp[4096];
    ssize_t n = ::read(fd, tmp, sizeof tmp);
    if (n <= 0) return make_error("QMP: QEMU closed the connection");
    buf.append(tmp, static_cast<size_t>(n));
  }
}

Result<void> execute(int fd, std::string& buf, const std::string& command) {
  TRY(write_all(fd, nlohmann::json{{"execute", command}}.dump() + "\n", "QMP"));
  auto r = TRY(next_reply(fd, buf));
  if (r.contains("error")) return make_error("QMP " + command + ": " + r["error"].value("desc", r["error"].dump()));
  return {};
}

}  // namespace

Result<void> qmp_execute(const std::string& path, const std::string& command) {
  UniqueFd fd = TRY(connect_unix(path, "QEMU's QMP socket"));
  std::string buf;
  auto greeting = TRY(next_reply(fd.get(), buf));
  if (!greeting.contains("QMP")) return make_error("QMP: unexpected greeting from QEMU");
  TRY(execute(fd.get(), buf, "qmp_capabilities"));
  return execute(fd.get(), buf, command);
}

}  // namespace ns::vm
