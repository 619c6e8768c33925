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

TEST(Sync, AChildThatDiesWithOurMessagesUnreadStillHasItsErrorDelivered) {
  // The runtime sends the child more (the cgroup's tasks fds) while the child fails a stage,
  // reports the error and exits without reading them: the kernel then reports ECONNRESET once,
  // ahead of the error that is still queued.
  UniqueFd runtime, child;
  ASSERT_TRUE(make_sync_pair(runtime, child));
  ASSERT_TRUE(send_message(runtime.get(), Message{Msg::JoinCgroup, {}}));
  ASSERT_TRUE(send_message(child.get(), Message{Msg::Error, Error{ENOENT, "mount", "/x", "", "mounts"}}));
  child.reset();
  auto got = recv_message(runtime.get());
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(got->type, Msg::Error);
  EXPECT_EQ(got->error.to_string(), "mount \"/x\": no such file or directory (stage: mounts)");
  auto end = recv_message(runtime.get());
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().err, EPIPE);
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

TEST(Sync, AnEncodedMessageGoesOutAsItWasMadeWithItsFdOrWithTheErrorPatchedIn) {
  // The network namespace thread's way: encoded before the thread starts, sent from it as is.
  UniqueFd a, b;
  ASSERT_TRUE(make_sync_pair(a, b));
  EncodedMessage ok(Message{Msg::NetNamespace, {}});
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(ok.send(a.get(), devnull.get()), 0);
  EncodedMessage failed(Message{Msg::NetNamespace, {}});
  failed.set_error(EPERM, "unshare(CLONE_NEWNET)");
  EXPECT_EQ(failed.send(a.get(), -1), 0);

  UniqueFd fd;
  auto first = recv_message(b.get(), &fd);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->type, Msg::NetNamespace);
  EXPECT_EQ(first->error.err, 0);
  EXPECT_TRUE(fd);
  auto second = recv_message(b.get(), &fd);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->type, Msg::NetNamespace);
  EXPECT_EQ(second->error.err, EPERM);
  EXPECT_EQ(second->error.op, "unshare(CLONE_NEWNET)");
  EXPECT_FALSE(fd);
  b.reset();
  EXPECT_EQ(ok.send(a.get(), -1), EPIPE) << "a send that fails says why, as an errno";
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
