#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "common/error.hpp"
#include "runtime/sync.hpp"

namespace ns::runtime {
namespace {

TEST(Sync, ErrorsCrossWithErrnoOperationPathAndStage) {
  UniqueFd a, b;
  ASSERT_TRUE(make_sync_pair(a, b));
  Message m{Msg::Error, Error{EACCES, "mount", "/rootfs/proc", "", "mounts"}};
  ASSERT_TRUE(send_message(a.get(), m));
  auto got = recv_message(b.get());
  ASSERT_TRUE(got);
  EXPECT_EQ(got->type, Msg::Error);
  EXPECT_EQ(got->error.err, EACCES);
  EXPECT_EQ(got->error.to_string(), "mount \"/rootfs/proc\": permission denied (stage: mounts)");
}

TEST(Sync, AnFdRidesAlong) {
  UniqueFd a, b;
  ASSERT_TRUE(make_sync_pair(a, b));
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(send_message(a.get(), Message{Msg::ConsoleMaster, {}}, devnull.get()));
  UniqueFd received;
  auto got = recv_message(b.get(), &received);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->type, Msg::ConsoleMaster);
  ASSERT_TRUE(received);
  EXPECT_NE(received.get(), devnull.get());
  EXPECT_EQ(::fcntl(received.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

TEST(Sync, PeerExitIsEpipe) {
  UniqueFd a, b;
  ASSERT_TRUE(make_sync_pair(a, b));
  a.reset();
  auto got = recv_message(b.get());
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().err, EPIPE);
}

TEST(Errors, EngineWordingsAreLowerCase) {
  EXPECT_EQ(errno_string(ENOENT), "no such file or directory");
  EXPECT_EQ(errno_string(EACCES), "permission denied");
  EXPECT_EQ(errno_string(EPERM), "operation not permitted");
}

}  // namespace
}  // namespace ns::runtime
