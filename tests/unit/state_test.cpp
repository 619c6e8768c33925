#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <thread>

#include "common/file.hpp"
#include "runtime/container.hpp"
#include "state/state.hpp"

namespace ns::state {
namespace {

TEST(State, Ids) {
  EXPECT_TRUE(validate_id("abc-1.2_x+y"));
  EXPECT_FALSE(validate_id(""));
  EXPECT_FALSE(validate_id("."));
  EXPECT_FALSE(validate_id(".."));
  EXPECT_FALSE(validate_id("a/b"));
  EXPECT_FALSE(validate_id("a b"));
}

TEST(State, JsonRoundTrip) {
  State s;
  s.oci_version = "1.2.0";
  s.id = "c1";
  s.pid = 42;
  s.pid_start = 99;
  s.bundle = "/b";
  s.rootfs = "/b/rootfs";
  s.created = "2026-01-01T00:00:00Z";
  s.annotations = {{"k", "v"}};
  s.cgroup_path = "/nano-sandbox/c1";
  auto back = from_json(to_json(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->pid, 42);
  EXPECT_EQ(back->pid_start, 99u);
  EXPECT_EQ(back->annotations.at("k"), "v");
  EXPECT_EQ(back->cgroup_path, "/nano-sandbox/c1");
  EXPECT_FALSE(from_json(nlohmann::json{{"id", "x"}}));
}

TEST(State, OciStateZeroesThePidOfAStoppedContainer) {
  State s;
  s.id = "c";
  s.pid = 7;
  EXPECT_EQ(oci_state(s, Status::Stopped)["pid"], 0);
  EXPECT_EQ(oci_state(s, Status::Running)["pid"], 7);
  EXPECT_EQ(oci_state(s, Status::Paused)["status"], "paused");
  EXPECT_FALSE(oci_state(s, Status::Running).contains("annotations"));
}

// The files of the root, sorted.
std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (struct dirent* e = ::readdir(d))
      if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..") out.emplace_back(e->d_name);
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(State, StoreCreateLoadListRemove) {
  char tmpl[] = "/tmp/ns-state-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string root = std::string(tmpl) + "/root";
  Store store(root);
  auto lock = store.claim("c1");
  ASSERT_TRUE(lock) << lock.error().to_string();
  auto again = store.claim("c1");
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().to_string().find("container with id exists: c1"), std::string::npos);
  // Claimed, not saved yet: not listed, not loadable.
  EXPECT_TRUE(store.list()->empty());
  EXPECT_FALSE(store.load("c1"));
  State s;
  s.id = "c1";
  s.pid = ::getpid();
  s.pid_start = *process_start_time(::getpid());
  ASSERT_TRUE(store.save(s));
  // An id that reads like another's file name is a container of its own.
  auto lock2 = store.claim("c1.json");
  ASSERT_TRUE(lock2) << lock2.error().to_string();
  State s2 = s;
  s2.id = "c1.json";
  ASSERT_TRUE(store.save(s2));
  EXPECT_EQ(files_in(root), (std::vector<std::string>{"c1.json", "c1.json.json", "c1.json.lock", "c1.lock"}));
  auto loaded = store.load("c1");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->id, "c1");
  EXPECT_EQ(store.load("c1.json")->id, "c1.json");
  EXPECT_EQ(store.status(*loaded), Status::Running);
  EXPECT_EQ(*store.list(), (std::vector<std::string>{"c1", "c1.json"}));
  loaded->pid_start += 1;  // a reused pid is not our init
  EXPECT_EQ(store.status(*loaded), Status::Stopped);
  auto missing = store.load("nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().to_string().find("container \"nope\" does not exist"), std::string::npos);
  ASSERT_TRUE(store.remove("c1", false));
  EXPECT_EQ(*store.list(), std::vector<std::string>{"c1.json"});
  ASSERT_TRUE(store.remove("c1.json", true));
  EXPECT_TRUE(store.list()->empty());
  EXPECT_TRUE(files_in(root).empty());
  (void)remove_tree(tmpl);
}

TEST(State, LockOfAContainerDeletedMeanwhileSaysItDoesNotExist) {
  char tmpl[] = "/tmp/ns-state-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  Store store(std::string(tmpl) + "/root");
  auto held = store.claim("c1");
  ASSERT_TRUE(held);
  std::optional<Result<UniqueFd>> waited;
  std::thread other([&] { waited = store.lock("c1"); });  // blocks on the flock
  ::usleep(50'000);
  ASSERT_TRUE(store.remove("c1", false));
  held->reset();  // delete done: the lock goes
  other.join();
  ASSERT_TRUE(waited && !*waited);
  EXPECT_NE(waited->error().to_string().find("container \"c1\" does not exist"), std::string::npos);
  // Claimed again meanwhile: the lock is the new container's.
  auto mine = store.claim("c1");
  ASSERT_TRUE(mine);
  std::thread third([&] { waited = store.lock("c1"); });
  ::usleep(50'000);
  ASSERT_TRUE(store.remove("c1", false));
  auto newer = store.claim("c1");
  ASSERT_TRUE(newer);
  mine->reset();
  ::usleep(50'000);
  newer->reset();
  third.join();
  ASSERT_TRUE(waited && *waited) << waited->error().to_string();
  struct stat st{};
  ASSERT_EQ(::fstat(waited->value().get(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
  (void)remove_tree(tmpl);
}

TEST(State, DefaultRoot) {
  if (::geteuid() == 0) {
    EXPECT_EQ(default_root(), "/run/nano-sandbox");
  } else {
    ::setenv("XDG_RUNTIME_DIR", "", 1);
    EXPECT_EQ(default_root(), "/tmp/nano-sandbox-" + std::to_string(::geteuid()));
    ::setenv("XDG_RUNTIME_DIR", "/run/user/1", 1);
    EXPECT_EQ(default_root(), "/run/user/1/nano-sandbox");
  }
}

TEST(Signals, NamesAndNumbers) {
  using runtime::parse_signal;
  EXPECT_EQ(*parse_signal("9"), SIGKILL);
  EXPECT_EQ(*parse_signal("KILL"), SIGKILL);
  EXPECT_EQ(*parse_signal("SIGTERM"), SIGTERM);
  EXPECT_EQ(*parse_signal("sigusr1"), SIGUSR1);
  EXPECT_EQ(*parse_signal("RTMIN+2"), SIGRTMIN + 2);
  EXPECT_FALSE(parse_signal("SIGNOPE"));
  EXPECT_FALSE(parse_signal("0"));
  EXPECT_FALSE(parse_signal("999"));
}

}  // namespace
}  // namespace ns::state
