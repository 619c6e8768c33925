// common/file: the path anchor (anchor_paths / anchored), on the real file system in a temp dir.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "common/file.hpp"
#include "sys/kernel.hpp"

namespace ns {
namespace {

struct AnchorTest : ::testing::Test {
  std::string dir;
  void SetUp() override {
    char tmpl[] = "/tmp/ns-anchor-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    ASSERT_EQ(::mkdir((dir + "/cg").c_str(), 0755), 0);
  }
  void TearDown() override {
    forget_path_anchor();
    (void)remove_tree(dir);
  }
};

TEST_F(AnchorTest, PathsUnderThePrefixResolveFromItsFd) {
  EXPECT_EQ(anchored(dir + "/cg/a").dir, AT_FDCWD);  // no anchor yet
  anchor_paths(dir + "/cg");
  std::string under = dir + "/cg/cpu/x";  // the rest points into the path given
  auto at = anchored(under);
  ASSERT_NE(at.dir, AT_FDCWD);
  EXPECT_STREQ(at.rel, "cpu/x");
  // The prefix itself, a sibling sharing its first letters, and other paths: as given.
  EXPECT_EQ(anchored(dir + "/cg").dir, AT_FDCWD);
  EXPECT_EQ(anchored(dir + "/cg/").dir, AT_FDCWD);
  EXPECT_EQ(anchored(dir + "/cgroup/cpu").dir, AT_FDCWD);
  std::string elsewhere = "/etc/hostname";
  EXPECT_EQ(anchored(elsewhere).rel, elsewhere.c_str());

  // Resolved from the fd: a directory put over the prefix's path afterwards is not seen.
  sys::Kernel& k = sys::real_kernel();
  ASSERT_TRUE(k.mkdirat(AT_FDCWD, dir + "/cg/cpu", 0755));
  ASSERT_EQ(::rename((dir + "/cg").c_str(), (dir + "/moved").c_str()), 0);
  ASSERT_EQ(::mkdir((dir + "/cg").c_str(), 0755), 0);
  ASSERT_TRUE(write_file_atomic(dir + "/moved/cpu/f", "x", 0644));
  auto text = read_file(dir + "/cg/cpu/f");
  ASSERT_TRUE(text) << text.error().to_string();
  EXPECT_EQ(*text, "x");
  EXPECT_TRUE(path_exists(dir + "/cg/cpu/f"));
  ASSERT_TRUE(write_file(dir + "/cg/cpu/f", "y"));
  EXPECT_EQ(*read_file(dir + "/moved/cpu/f"), "y");
  ASSERT_TRUE(k.unlinkat(AT_FDCWD, dir + "/cg/cpu/f", 0));
  // Errors name the path as given.
  auto missing = read_file(dir + "/cg/cpu/f");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().to_string().find(dir + "/cg/cpu/f"), std::string::npos);

  // Forgotten (a process that closed its fds): paths resolve from "/" again.
  forget_path_anchor();
  EXPECT_EQ(anchored(dir + "/cg/cpu").dir, AT_FDCWD);
  EXPECT_FALSE(path_exists(dir + "/cg/cpu"));
  EXPECT_TRUE(path_exists(dir + "/moved/cpu"));
}

}  // namespace
}  // namespace ns
