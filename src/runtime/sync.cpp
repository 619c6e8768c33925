#include "runtime/sync.hpp"

#include "common/unix_socket.hpp"

#include <sys/socket.h>

#include <cstring>

namespace ns::runtime {

// The wire form: fixed-size, so one recv() always reads one whole message.
struct Wire {
  uint32_t type;
  int32_t err;
  int64_t value;
  int64_t value2;
  char stage[48];
  char op[256];
  char path[1024];
  char msg[1024];
};
static_assert(sizeof(Wire::msg) == kSyncTextMax + 1 && sizeof(Wire::path) == kSyncTextMax + 1);

namespace {

void copy_in(char* dst, size_t n, const std::string& s) {
  std::memset(dst, 0, n);
  std::memcpy(dst, s.data(), std::min(n - 1, s.size()));
}

std::string copy_out(const char* src, size_t n) { return std::string(src, strnlen(src, n)); }

void encode(const Message& m, Wire& w) {
  w = Wire{};
  w.type = static_cast<uint32_t>(m.type);
  w.err = m.error.err;
  w.value = m.value;
  w.value2 = m.value2;
  copy_in(w.stage, sizeof w.stage, m.error.stage);
  copy_in(w.op, sizeof w.op, m.error.op);
  copy_in(w.path, sizeof w.path, m.error.path);
  copy_in(w.msg, sizeof w.msg, m.error.msg);
}

}  // namespace

Result<void> send_message(int sock, const Message& m, int fd) {
  Wire w;
  encode(m, w);
  return send_with_fd(sock, &w, sizeof w, fd, "send sync message");
}

Result<void> send_message(int sock, const Message& m, std::span<const int> fds) {
  Wire w;
  encode(m, w);
  return send_with_fds(sock, &w, sizeof w, fds, "send sync message");
}

EncodedMessage::EncodedMessage(const Message& m) : wire_(std::make_unique<Wire>()) { encode(m, *wire_); }
EncodedMessage::~EncodedMessage() = default;

void EncodedMessage::set_error(int err, const char* op) noexcept {
  wire_->err = err;
  size_t i = 0;
  for (; op[i] && i < sizeof wire_->op - 1; ++i) wire_->op[i] = op[i];
  wire_->op[i] = 0;
}

int EncodedMessage::send(int sock, int fd) const noexcept { return send_with_fd_raw(sock, wire_.get(), sizeof(Wire), fd); }

Result<Message> recv_message(int sock, std::vector<UniqueFd>* fds) {
  Wire w{};
  std::vector<UniqueFd> got;  // closed here when the caller wants none
  size_t n = TRY(recv_with_fds(sock, reinterpret_cast<char*>(&w), sizeof w, &got, "receive sync message"));
  if (n == 0) return std::unexpected(Error{EPIPE, "receive sync message", {}, "the other side exited", {}});
  if (n != sizeof w) return make_error("sync message of wrong size");
  if (fds) *fds = std::move(got);
  Message m;
  m.type = static_cast<Msg>(w.type);
  m.error.err = w.err;
  m.value = w.value;
  m.value2 = w.value2;
  m.error.stage = copy_out(w.stage, sizeof w.stage);
  m.error.op = copy_out(w.op, sizeof w.op);
  m.error.path = copy_out(w.path, sizeof w.path);
  m.error.msg = copy_out(w.msg, sizeof w.msg);
  return m;
}

Result<Message> recv_message(int sock, UniqueFd* fd) {
  std::vector<UniqueFd> fds;
  auto m = TRY(recv_message(sock, &fds));
  if (fd) *fd = fds.empty() ? UniqueFd() : std::move(fds.front());
  return m;
}

Result<void> make_sync_pair(UniqueFd& parent_end, UniqueFd& child_end) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return sys_error("socketpair");
  parent_end.reset(sv[0]);
  child_end.reset(sv[1]);
  return {};
}

}  // namespace ns::runtime
