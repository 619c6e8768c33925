// The typed parent <-> child protocol. One SOCK_SEQPACKET socketpair, created before clone: each
// message is one packet (boundaries kept), fds may ride along with SCM_RIGHTS, and an error
// crosses as errno + operation + path + stage so the user sees exactly what failed inside.
//
//   parent                              child (future container init)
//   NetNamespace (fd, from a thread) ---> entered before the first sysfs mount
//   clone ------------------------------> namespaces, first mounts
//   id maps; Go -----------------------> (a new user namespace: waits for them first)
//   CgroupMade -------------------------> cgroup mounts (the directories are there)
//   JoinCgroup (tasks fds); CgroupJoined> joins, then devices, pivot_root ...
//   (NetNamespace comes from the runtime's thread, in any place among the cgroup messages:
//   the child takes them in the order they come.)
//          <---------------------------- ConsoleMaster (fd)   when process.terminal
//          <---------------------------- Ready | Error
//   writes state, pid file; Go --------> (EOF instead: the runtime died; exit)
//   exits                                blocks on the exec fifo until `start`
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace ns::runtime {

enum class Msg : uint32_t {
  Go = 1,         // parent -> child: the id maps are written / the cgroup is joined / the hooks ran: go on
  ConsoleMaster,  // child -> parent: the pty master, with SCM_RIGHTS
  Ready,          // child -> parent: everything is set up, blocking on the exec fifo now
  Error,          // child -> parent: set-up failed; the error travels in the message
  Pid,            // exec's intermediate -> runtime: the pid of the process it forked
  ExplainCall,    // child -> parent (--explain): a kernel call a stage made, in error.msg
  ExplainStage,   // child -> parent (--explain): a finished stage: name, field, why, start, duration
  ExplainNote,    // child -> parent (--explain): a plain-words remark on the stage's calls, in error.msg
  SeccompListener,  // child -> parent: the seccomp notify fd (SCM_RIGHTS), for the agent at listenerPath
  RunHooks,         // child -> parent: mounts done, before pivot_root: run prestart/createRuntime, then Go
  JoinCgroup,       // parent -> child: fds (SCM_RIGHTS) of v1 `tasks` files to write "0" into; their paths in error.msg
  NetNamespace,     // parent -> child: the new network namespace's fd (SCM_RIGHTS), or the error (err, op)
  CgroupMade,       // parent -> child: the cgroup's directories are made (value 1), or there is none (value 0)
  CgroupJoined,     // parent -> child: every JoinCgroup sent; value2 1: pin yourself again (a cpuset join unpins)
  SaveState,        // child -> parent: past pivot_root, it needs nothing more from the runtime: save the
                    // state and send the commit's Go now (read by the child after Ready)
};

// The longest error.msg (or error.path) a message carries; longer is cut.
inline constexpr size_t kSyncTextMax = 1023;

struct Message {
  Msg type = Msg::Go;
  Error error;        // for Msg::Error
  int64_t value = 0;   // for Msg::Pid; ExplainStage: duration (ns)
  int64_t value2 = 0;  // ExplainStage: start (CLOCK_MONOTONIC ns)
};

Result<void> send_message(int sock, const Message& m, int fd = -1);
// With several fds (up to kMaxFdsPerMessage: the tasks files of the v1 hierarchies).
Result<void> send_message(int sock, const Message& m, std::span<const int> fds);
// Receives one message; an fd that came with it lands in *fd. EOF (the peer died) is an error
// with err == EPIPE.
Result<Message> recv_message(int sock, UniqueFd* fd = nullptr);
// The same, every fd that came with it into *FDS.
Result<Message> recv_message(int sock, std::vector<UniqueFd>* fds);

struct Wire;
// A message encoded ahead of time, for a thread that must not allocate: the network namespace
// thread sends one while the runtime clones the child, and a child forked while another thread
// holds a lock of the allocator would find it held for ever.
class EncodedMessage {
 public:
  explicit EncodedMessage(const Message& m);
  ~EncodedMessage();
  EncodedMessage(const EncodedMessage&) = delete;
  EncodedMessage& operator=(const EncodedMessage&) = delete;
  // error.err and error.op (a literal), written in place.
  void set_error(int err, const char* op) noexcept;
  // sendmsg with FD (SCM_RIGHTS) when FD >= 0: 0 or an errno.
  [[nodiscard]] int send(int sock, int fd) const noexcept;

 private:
  std::unique_ptr<Wire> wire_;
};

// socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC)
Result<void> make_sync_pair(UniqueFd& parent_end, UniqueFd& child_end);

}  // namespace ns::runtime
