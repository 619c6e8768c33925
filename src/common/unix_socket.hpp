// Unix sockets: connecting and listening by path (console socket, seccomp agent, VM mode's
// sockets) and sending a buffer with an optional fd attached (SCM_RIGHTS), which the sync
// channel and the console socket both do.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace ns {

// The most fds one message carries here (SCM_RIGHTS).
inline constexpr size_t kMaxFdsPerMessage = 16;

// sendmsg(DATA) with FD as SCM_RIGHTS when FD >= 0; retries EINTR. OP names the error.
Result<void> send_with_fd(int sock, const void* data, size_t len, int fd, const std::string& op);
// The same with up to kMaxFdsPerMessage fds.
Result<void> send_with_fds(int sock, const void* data, size_t len, std::span<const int> fds, const std::string& op);
// The same, for a thread that must not allocate (see linux_ns::NetnsThread): 0 or an errno.
int send_with_fds_raw(int sock, const void* data, size_t len, std::span<const int> fds) noexcept;
int send_with_fd_raw(int sock, const void* data, size_t len, int fd) noexcept;

// Receives up to LEN bytes into BUF and the fd that came with them, if any (into *FD); the
// count of bytes, 0 at end of stream. A peer that closed with our messages unread still has
// what it sent before delivered. OP names the error.
Result<size_t> recv_with_fd(int sock, char* buf, size_t len, UniqueFd* fd, const std::string& op);
// The same, every fd that came (up to kMaxFdsPerMessage) into *FDS, in order.
Result<size_t> recv_with_fds(int sock, char* buf, size_t len, std::vector<UniqueFd>* fds, const std::string& op);
// Receives a message and the fd that came with it (SCM_RIGHTS); an error when none came.
Result<UniqueFd> recv_fd(int sock, const std::string& op);

// A SOCK_STREAM socket connected to PATH; WHAT names the peer in errors ("console socket").
Result<UniqueFd> connect_unix(const std::string& path, const std::string& what);
// A SOCK_STREAM socket listening at PATH (a stale socket file there is replaced).
Result<UniqueFd> listen_unix(const std::string& path);

}  // namespace ns
