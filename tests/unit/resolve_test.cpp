// Mount destinations resolved inside the rootfs, on the real kernel in a temp dir (no root
// needed): symlinks to "/" or "../../.." cannot lead outside.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "common/file.hpp"
#include "linux/fs/rootfs.hpp"

namespace ns::linux_fs {
namespace {

struct ResolveTest : ::testing::Test {
  std::string dir;
  std::string root;
  UniqueFd root_fd;
  sys::Kernel& k = sys::real_kernel();

  void SetUp() override {
    char tmpl[] = "/tmp/ns-resolve-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    root = dir + "/rootfs";
    ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((dir + "/outside").c_str(), 0755), 0);
    root_fd.reset(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_fd);
  }
  void TearDown() override { (void)remove_tree(dir); }

  std::string where(int fd) {
    char buf[4096];
    ssize_t n = ::readlink(sys::fd_path(fd).c_str(), buf, sizeof buf - 1);
    return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
  }
};

TEST_F(ResolveTest, CreatesMissingDirectories) {
  auto fd = mkdir_all_in_root(k, root_fd.get(), "/a/b/c", 0755);
  ASSERT_TRUE(fd) << fd.error().to_string();
  EXPECT_EQ(where(fd->get()), root + "/a/b/c");
}

TEST_F(ResolveTest, SymlinkToSlashStaysInside) {
  ASSERT_EQ(::symlink("/", (root + "/evil").c_str()), 0);
  auto fd = mkdir_all_in_root(k, root_fd.get(), "/evil/outside/x", 0755);
  ASSERT_TRUE(fd) << fd.error().to_string();
  EXPECT_EQ(where(fd->get()), root + "/outside/x");
  EXPECT_FALSE(path_exists(dir + "/outside/x"));
}

TEST_F(ResolveTest, DotDotSymlinksStayInside) {
  ASSERT_EQ(::mkdir((root + "/a").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("../../../../..", (root + "/a/up").c_str()), 0);
  auto fd = mkdir_all_in_root(k, root_fd.get(), "/a/up/outside/y", 0755);
  ASSERT_TRUE(fd) << fd.error().to_string();
  EXPECT_EQ(where(fd->get()), root + "/outside/y");
  EXPECT_FALSE(path_exists(dir + "/outside/y"));
  auto dots = mkdir_all_in_root(k, root_fd.get(), "/../../outside/z", 0755);
  ASSERT_TRUE(dots);
  EXPECT_EQ(where(dots->get()), root + "/outside/z");
}

TEST_F(ResolveTest, AbsoluteSymlinkIntoHostPathStaysInside) {
  ASSERT_EQ(::symlink((dir + "/outside").c_str(), (root + "/abs").c_str()), 0);
  auto fd = create_file_in_root(k, root_fd.get(), "/abs/file", 0644);
  ASSERT_TRUE(fd) << fd.error().to_string();
  EXPECT_EQ(where(fd->get()), root + dir + "/outside/file");
  EXPECT_FALSE(path_exists(dir + "/outside/file"));
}

TEST_F(ResolveTest, CreateFileMakesParents) {
  auto fd = create_file_in_root(k, root_fd.get(), "/etc/deep/file", 0600);
  ASSERT_TRUE(fd);
  struct stat st{};
  ASSERT_EQ(::stat((root + "/etc/deep/file").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

}  // namespace
}  // namespace ns::linux_fs
