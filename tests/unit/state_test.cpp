#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

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

TEST(State, StoreCreateLoadListRemove) {
  char tmpl[] = "/tmp/ns-state-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  Store store(std::string(tmpl) + "/root");
  auto lock = store.create_dir("c1");
  ASSERT_TRUE(lock) << lock.error().to_string();
  auto again = store.create_dir("c1");
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().to_string().find("container with id exists: c1"), std::string::npos);
  State s;
  s.id = "c1";
  s.pid = ::getpid();
  s.pid_start = *process_start_time(::getpid());
  ASSERT_TRUE(store.save(s));
  auto loaded = store.load("c1");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(store.status(*loaded), Status::Running);
  EXPECT_EQ(*store.list(), std::vector<std::string>{"c1"});
  loaded->pid_start += 1;  // a reused pid is not our init
  EXPECT_EQ(store.status(*loaded), Status::Stopped);
  auto missing = store.load("nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().to_string().find("container \"nope\" does not exist"), std::string::npos);
  ASSERT_TRUE(store.remove("c1"));
  EXPECT_TRUE(store.list()->empty());
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
