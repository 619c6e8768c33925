#include "vm/protocol.hpp"

#include "common/unix_socket.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ns::vm {

namespace {

Result<std::string> encode(Frame type, uint32_t stream, std::string_view payload) {
  if (payload.size() > kMaxPayload) return make_error("agent channel: frame of " + std::to_string(payload.size()) + " bytes is too long");
  std::string buf(9, '\0');
  uint32_t len = static_cast<uint32_t>(payload.size() + 5);
  std::memcpy(buf.data(), &len, 4);
  buf[4] = static_cast<char>(type);
  std::memcpy(buf.data() + 5, &stream, 4);
  buf.append(payload);
  return buf;
}

}  // namespace

Result<void> write_frame(int fd, Frame type, uint32_t stream, std::string_view payload) {
  std::string buf = TRY(encode(type, stream, payload));
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::write(fd, buf.data() + done, buf.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("agent channel: write", frame_name(type));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

Result<void> send_frame_with_fd(int sock, Frame type, uint32_t stream, std::string_view payload, int fd) {
  std::string buf = TRY(encode(type, stream, payload));
  return send_with_fd(sock, buf.data(), buf.size(), fd, std::string("send ") + frame_name(type));
}

Result<Message> recv_frame_with_fd(int sock, UniqueFd* fd) {
  char buf[4096];
  size_t n = TRY(recv_with_fd(sock, buf, sizeof buf, fd, "receive a frame"));
  if (n == 0) return std::unexpected(Error{EPIPE, "receive a frame", "", "the other end closed the connection", ""});
  FrameReader r;
  r.append(std::string_view(buf, n));
  return r.read(sock);
}

Result<bool> FrameReader::fill(int fd) {
  char tmp[65536];
  ssize_t n;
  while ((n = ::read(fd, tmp, sizeof tmp)) < 0 && errno == EINTR) {
  }
  if (n < 0) return sys_error("agent channel: read");
  if (n == 0) return false;
  buf_.append(tmp, static_cast<size_t>(n));
  return true;
}

Result<std::optional<Message>> FrameReader::next() {
  if (buf_.size() < 4) return std::nullopt;
  uint32_t len;
  std::memcpy(&len, buf_.data(), 4);
  if (len < 5 || len > kMaxPayload + 5) return make_error("agent channel: bad frame length " + std::to_string(len));
  if (buf_.size() < 4 + static_cast<size_t>(len)) return std::nullopt;
  Message m;
  m.type = static_cast<Frame>(static_cast<uint8_t>(buf_[4]));
  std::memcpy(&m.stream, buf_.data() + 5, 4);
  m.payload = buf_.substr(9, len - 5);
  buf_.erase(0, 4 + static_cast<size_t>(len));
  return m;
}

Result<Message> FrameReader::read(int fd) {
  for (;;) {
    if (auto m = TRY(next())) return *m;
    if (!TRY(fill(fd))) return std::unexpected(Error{EPIPE, "agent channel", "", "the other end closed the channel", ""});
  }
}

const char* frame_name(Frame f) {
  switch (f) {
    case Frame::Hello: return "Hello";
    case Frame::Config: return "Config";
    case Frame::Created: return "Created";
    case Frame::Error: return "Error";
    case Frame::Start: return "Start";
    case Frame::Stdin: return "Stdin";
    case Frame::Stdout: return "Stdout";
    case Frame::Stderr: return "Stderr";
    case Frame::Signal: return "Signal";
    case Frame::Exit: return "Exit";
    case Frame::Ok: return "Ok";
    case Frame::Exec: return "Exec";
    case Frame::Started: return "Started";
    case Frame::Resize: return "Resize";
    case Frame::Update: return "Update";
    case Frame::Explain: return "Explain";
  }
  return "?";
}

}  // namespace ns::vm
