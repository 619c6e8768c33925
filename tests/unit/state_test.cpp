#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <thread>

#include "common/file.hpp"
#include "common/json.hpp"
#include "runtime/container.hpp"
#include "state/state.hpp"

namespace ns::state {
namespace {

// A state is trusted no further than check_state lets it: each field an attacker who can write
// the state directory would plant.
TEST(State, CheckStateRefusesWhatNamesAnythingButTheContainer) {
  State good;
  good.id = "c1";
  good.pid = 4242;
  good.cgroup_path = "/nano-sandbox/c1";
  good.cgroup_layout = nlohmann::json::parse(R"([{"mountpoint": "/sys/fs/cgroup/freezer"}, {"mountpoint": "/sys/fs/cgroup/unified"}])");
  good.freezer = "/sys/fs/cgroup/freezer/nano-sandbox/c1/freezer.state";
  ASSERT_TRUE(check_state(good, "c1"));
  auto refused = [&](auto change, const std::string& why) {
    State s = good;
    change(s);
    auto r = check_state(s, "c1");
    ASSERT_FALSE(r) << why;
    EXPECT_NE(r.error().to_string().find(why), std::string::npos) << r.error().to_string();
  };
  refused([](State& s) { s.id = "../x"; }, "it names another container");
  for (pid_t p : {0, -1, 1}) refused([p](State& s) { s.pid = p; }, "cannot be a container's init");
  refused([](State& s) { s.backend = "x"; }, "unknown back end");
  for (const char* p : {"/", "/a/../../x", "relative", "/a//b", "/a/./b", "/a/"})
    refused([p](State& s) { s.cgroup_path = p; }, "is not a clean path");
  refused([](State& s) { s.cgroup_layout[0]["mountpoint"] = "/proc"; }, "is not under /sys/fs/cgroup");
  refused([](State& s) { s.cgroup_layout[0]["mountpoint"] = "/sys/fs/cgroup/../../etc"; }, "is not under /sys/fs/cgroup");
  refused([](State& s) { s.freezer = "/sys/fs/cgroup/freezer/system.slice/freezer.state"; }, "is not the container's cgroup's");
  refused([](State& s) { s.freezer = "/etc/passwd"; }, "is not the container's cgroup's");
}

// Found by fuzz-state: a float far out of range (or any float, or a wide integer) where an
// integer goes was converted with a plain cast, undefined behaviour.
TEST(State, IntegerFieldsMustBeIntegersInRange) {
  auto base = nlohmann::json::parse(R"({"ociVersion":"1.2.0","id":"c1","pid":4242,"pidStart":7,"bundle":"/b",
    "rootfs":"/b/r","created":"x","owner":0,"annotations":{},"cgroupPath":"","backend":"namespaces"})");
  ASSERT_TRUE(from_json(base));
  for (auto [key, value] : {std::pair{"pidStart", nlohmann::json(3.7e183)}, std::pair{"pid", nlohmann::json(1e30)},
                            std::pair{"pid", nlohmann::json(4294967296LL)}, std::pair{"owner", nlohmann::json(-1)},
                            std::pair{"pid", nlohmann::json(12.5)}}) {
    auto j = base;
    j[key] = value;
    auto r = from_json(j);
    ASSERT_FALSE(r) << key << "=" << value.dump();
    EXPECT_NE(r.error().to_string().find("is not an integer in range"), std::string::npos) << r.error().to_string();
  }
}

TEST(Json, NestingDeeperThanTheLimitIsRefusedBeforeParsing) {
  std::string deep(200000, '[');
  deep += std::string(200000, ']');
  EXPECT_TRUE(json_nested_too_deep(deep));
  EXPECT_TRUE(parse_json(deep).is_discarded());
  std::string ok(kJsonMaxDepth, '[');
  ok += std::string(kJsonMaxDepth, ']');
  EXPECT_FALSE(json_nested_too_deep(ok));
  EXPECT_FALSE(parse_json(ok).is_discarded());
  // brackets inside strings do not count, escaped quotes do not end them
  std::string in_string = "[\"" + std::string(1000, '[') + "\\\"\"]";
  EXPECT_FALSE(json_nested_too_deep(in_string));
  EXPECT_EQ(parse_json(in_string).size(), 1u);
}

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
