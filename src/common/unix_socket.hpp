// Sending a buffer with an optional fd attached (SCM_RIGHTS) on a unix socket: the sync
// channel and the console socket both do it.
#pragma once

#include <cstddef>
#include <string>

#include "common/error.hpp"

namespace ns {

// sendmsg(DATA) with FD as SCM_RIGHTS when FD >= 0; retries EINTR. OP names the error.
Result<void> send_with_fd(int sock, const void* data, size_t len, int fd, const std::string& op);

}  // namespace ns
