// The agent channel of VM mode: frames over one byte stream, the virtio-serial port
// "ns.agent" (a character device in the guest, a unix socket on the host). One stream carries
// control and the container's stdio, so their order holds: every byte of output is sent before
// the exit status. The same frames travel on the container's control socket (vm.sock), where
// `ns-runtime kill` and `exec` reach the monitor process.
//
//   host monitor                          guest agent (pid 1)
//          <------------------------------ Hello "nsvm/1"
//   Config {id, spec, network, explain} -> creates the container inside
//          <------------------------------ Explain ... (with -E: what it does, as it does it)
//          <------------------------------ Created | Error
//   Start --------------------------------> start
//   Stdin (empty: EOF) ------------------> the container's stdin
//          <------------------------------ Stdout, Stderr
//   Signal {signal, all} ----------------> kill
//   Resize {rows, cols} -----------------> the pty's window size
//   Update {resources} on stream N ------> update inside; Ok | Error back on N
//   Exec {process} on stream N ----------> a new process in the container
//          <------------------------------ Started <pid> | Error, then its Stdout/Stderr/Exit on N
//          <------------------------------ Exit <wait status>   (stream 0: the container's init;
//                                                              the host then stops the VM)
//
// A frame: u32 length of what follows, u8 type, u32 stream (0 the container's process, N an
// exec'd one), payload. Little-endian; both ends are built from the same source.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace ns::vm {

inline constexpr const char* kProtocol = "nsvm/1";
inline constexpr const char* kPortName = "ns.agent";  // the virtserialport's name
inline constexpr const char* kShareTag = "ns";        // the virtio-fs tag
inline constexpr const char* kGuestShare = "/run/share";
inline constexpr uint32_t kMaxPayload = 1 << 20;

enum class Frame : uint8_t {
  Hello = 1,  // agent -> host: protocol name
  Config,     // host -> agent: JSON {id, spec}
  Created,    // agent -> host: the container is created inside (payload: its pid in the guest)
  Error,      // either way: what failed, in words
  Start,      // host -> agent
  Stdin,      // host -> agent: bytes; empty = end of input
  Stdout,     // agent -> host
  Stderr,     // agent -> host
  Signal,     // host -> agent, and kill -> monitor: JSON {signal, all}
  Exit,       // agent -> host: the wait status of the container's process
  Ok,         // monitor -> kill: done
  Exec,       // exec -> monitor -> agent: JSON {process}; the monitor gives it a stream
  Started,    // agent -> monitor -> exec: the exec'd process runs (payload: its pid in the guest)
  Resize,     // host -> agent: JSON {rows, cols} for the stream's pty
  Update,     // update -> monitor -> agent: linux.resources JSON; answered Ok or Error on its stream
  Explain,    // agent -> host (-E): one narration event of the agent or the guest's init, JSON
};

struct Message {
  Frame type = Frame::Hello;
  uint32_t stream = 0;
  std::string payload;
};

// Writes one frame, all of it (retrying short writes and EINTR).
Result<void> write_frame(int fd, Frame type, uint32_t stream, std::string_view payload);
// One frame on a unix socket with FD riding along (SCM_RIGHTS), in one sendmsg; and its
// counterpart, which reads one frame and the fd that came with it (the warm pool hands a VM's
// agent channel over this way).
Result<void> send_frame_with_fd(int sock, Frame type, uint32_t stream, std::string_view payload, int fd);
Result<Message> recv_frame_with_fd(int sock, UniqueFd* fd);

// Collects frames from a byte stream that may deliver them in pieces.
class FrameReader {
 public:
  // Reads what is there (one read): false at end of stream; an error for a failed read or a
  // frame that is too long.
  Result<bool> fill(int fd);
  // The next complete frame, if one has arrived.
  Result<std::optional<Message>> next();
  // Blocks (reading FD) until a whole frame is there; EOF is an error with err == EPIPE.
  Result<Message> read(int fd);

  void append(std::string_view bytes) { buf_.append(bytes); }

 private:
  std::string buf_;
};

const char* frame_name(Frame f);

}  // namespace ns::vm
