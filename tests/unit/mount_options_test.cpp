#include <gtest/gtest.h>
#include <sys/mount.h>

#include "linux/fs/mount_options.hpp"

namespace ns::linux_fs {
namespace {

TEST(MountOptions, FlagsDataAndPropagation) {
  auto o = parse_mount_options({"nosuid", "nodev", "noexec", "ro", "rprivate", "mode=755", "size=64k", "strictatime"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY | MS_STRICTATIME));
  EXPECT_EQ(o->data, "mode=755,size=64k");
  ASSERT_EQ(o->propagation.size(), 1u);
  EXPECT_EQ(o->propagation[0], static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  EXPECT_FALSE(o->bind);
}

TEST(MountOptions, LaterOptionsWinAndClearsAreRemembered) {
  auto o = parse_mount_options({"ro", "rw", "nosuid", "suid"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->flags, 0ul);
  EXPECT_EQ(o->cleared, static_cast<unsigned long>(MS_RDONLY | MS_NOSUID));
}

TEST(MountOptions, BindRbindAndExtensions) {
  auto b = parse_mount_options({"bind"});
  EXPECT_TRUE(b->bind);
  EXPECT_FALSE(b->recursive);
  auto r = parse_mount_options({"rbind", "tmpcopyup"});
  EXPECT_TRUE(r->bind && r->recursive && r->tmpcopyup);
  EXPECT_FALSE(parse_mount_options({"idmap"}));
}

TEST(MountOptions, RecursiveAttributes) {
  auto o = parse_mount_options({"rbind", "rro", "rnosuid", "rnoatime", "nosymfollow"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->rec_set, static_cast<uint64_t>(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME));
  EXPECT_EQ(o->rec_clear, static_cast<uint64_t>(MOUNT_ATTR__ATIME));
  EXPECT_EQ(o->flags, static_cast<unsigned long>(MS_NOSYMFOLLOW));
  EXPECT_TRUE(o->data.empty());
  // Later wins per attribute; an atime mode replaces the earlier one.
  auto later = parse_mount_options({"rro", "rrw", "rstrictatime", "rnoatime"});
  EXPECT_EQ(later->rec_set, static_cast<uint64_t>(MOUNT_ATTR_NOATIME));
  EXPECT_EQ(later->rec_clear, static_cast<uint64_t>(MOUNT_ATTR_RDONLY | MOUNT_ATTR__ATIME));
}

TEST(MountOptions, DevptsDataKeepsItsOrder) {
  auto o = parse_mount_options({"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
  EXPECT_EQ(o->data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
}

TEST(MountOptions, RootfsPropagationNames) {
  EXPECT_EQ(*propagation_flags(""), 0ul);
  EXPECT_EQ(*propagation_flags("rslave"), static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(*propagation_flags("shared"), static_cast<unsigned long>(MS_SHARED));
  EXPECT_FALSE(propagation_flags("sideways"));
}

}  // namespace
TEST(MountOptions, ARemountsFlagsAsMountSetattrSetsAndClearsExactlyThem) {
  auto [set, clear] = linux_fs::mount_attrs_of(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
  EXPECT_EQ(set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_RELATIME);
  EXPECT_EQ(clear, MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW);
  auto [set2, clear2] = linux_fs::mount_attrs_of(MS_NOATIME | MS_NODIRATIME);
  EXPECT_EQ(set2, MOUNT_ATTR_NOATIME | MOUNT_ATTR_NODIRATIME);
  EXPECT_EQ(clear2, MOUNT_ATTR__ATIME | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                        MOUNT_ATTR_NOSYMFOLLOW);
  EXPECT_EQ(linux_fs::mount_attrs_of(MS_STRICTATIME).first, MOUNT_ATTR_STRICTATIME);
}

}  // namespace ns::linux_fs
