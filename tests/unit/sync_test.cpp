#include <fcntl.h>
#include <sys/stat.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "common/error.hpp"
#include "common/unix_socket.hpp"
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

TEST(Sync, SeveralFdsRideAlongInOrder) {
  // The v1 hierarchies' tasks files, in one JoinCgroup message.
  UniqueFd a, b;
  ASSERT_TRUE(make_sync_pair(a, b));
  UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC)), zero_fd(::open("/dev/zero", O_RDONLY | O_CLOEXEC)),
      self_fd(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  const int sent[] = {null_fd.get(), zero_fd.get(), self_fd.get()};
  Message m{Msg::JoinCgroup, {}};
  m.error.msg = "/dev/null\n/dev/zero\n/proc/self/exe";
  ASSERT_TRUE(send_message(a.get(), m, sent));
  std::vector<UniqueFd> got;
  auto r = recv_message(b.get(), &got);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->error.msg, m.error.msg);
  ASSERT_EQ(got.size(), 3u);
  for (size_t i = 0; i < got.size(); ++i) {
    struct stat want{}, have{};
    ASSERT_EQ(::fstat(sent[i], &want), 0);
    ASSERT_EQ(::fstat(got[i].get(), &have), 0);
    EXPECT_EQ(want.st_ino, have.st_ino) << "fd " << i;
    EXPECT_EQ(want.st_dev, have.st_dev) << "fd " << i;
  }
  // More than one message may carry: refused, nothing sent.
  std::vector<int> many(ns::kMaxFdsPerMessage + 1, null_fd.get());
  auto too_many = send_message(a.get(), m, many);
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().err, EINVAL);
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
