// The option tables over getopt_long that both command lines use.
#include <gtest/gtest.h>

#include "cli/args.hpp"

namespace ns::cli {
namespace {

struct Argv {
  std::vector<std::string> words;
  std::vector<char*> ptrs;
  explicit Argv(std::initializer_list<const char*> w) : words(w.begin(), w.end()) {
    for (auto& s : words) ptrs.push_back(s.data());
    ptrs.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(words.size()); }
  char** argv() { return ptrs.data(); }
};

struct Fixture {
  std::string bundle, mode;
  bool detach = false;
  int fds = 0;
  std::vector<std::string> env;
  std::string format = "table";
  Command cmd{"run", "create and start", "ID",
              {{'b', "bundle", Arg::Required, "DIR", "bundle", value(bundle)},
               {'d', "detach", Arg::None, "", "detach", flag(detach)},
               {0, "preserve-fds", Arg::Required, "N", "fds", number(fds, "preserve-fds")},
               {'e', "env", Arg::Required, "K=V", "env", append(env)},
               {'E', "explain", Arg::Optional, "json", "explain", value(mode)},
               {'f', "format", Arg::Required, "F", "format", one_of(format, {"table", "json"}, "format")}}};
};

TEST(Args, LongShortEqualsAndRepeated) {
  Fixture f;
  Argv a{"prog", "--bundle=/b", "-d", "--preserve-fds", "2", "-e", "A=1", "--env", "B=2", "c1"};
  auto r = parse(f.cmd, a.argc(), a.argv(), 1, "prog run");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(f.bundle, "/b");
  EXPECT_TRUE(f.detach);
  EXPECT_EQ(f.fds, 2);
  EXPECT_EQ(f.env, (std::vector<std::string>{"A=1", "B=2"}));
  EXPECT_EQ(r->positionals, (std::vector<std::string>{"c1"}));
}

TEST(Args, OptionsAfterPositionalsUnlessOptionsFirst) {
  Fixture f;
  Argv a{"prog", "c1", "-d"};
  auto r = parse(f.cmd, a.argc(), a.argv(), 1, "prog run");
  ASSERT_TRUE(r);
  EXPECT_TRUE(f.detach);
  Fixture g;
  g.cmd.options_first = true;
  Argv b{"prog", "-b", "/x", "c1", "sh", "-c", "echo -d"};
  auto s = parse(g.cmd, b.argc(), b.argv(), 1, "prog exec");
  ASSERT_TRUE(s);
  EXPECT_FALSE(g.detach);
  EXPECT_EQ(s->positionals, (std::vector<std::string>{"c1", "sh", "-c", "echo -d"}));
}

TEST(Args, OptionalValues) {
  Fixture f;
  Argv a{"prog", "-E", "c1"};
  ASSERT_TRUE(parse(f.cmd, a.argc(), a.argv(), 1, "p"));
  EXPECT_EQ(f.mode, "");  // present without a value: the setter gets nullptr
  Fixture g;
  Argv b{"prog", "--explain=json", "c1"};
  ASSERT_TRUE(parse(g.cmd, b.argc(), b.argv(), 1, "p"));
  EXPECT_EQ(g.mode, "json");
}

TEST(Args, ErrorsNameTheFlag) {
  Fixture f;
  Argv unknown{"prog", "--bogus", "c1"};
  auto r = parse(f.cmd, unknown.argc(), unknown.argv(), 1, "prog run");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().to_string().find("unknown flag --bogus for run"), std::string::npos) << r.error().to_string();
  Argv missing{"prog", "c1", "--bundle"};
  auto m = parse(f.cmd, missing.argc(), missing.argv(), 1, "prog run");
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().to_string().find("--bundle needs a value"), std::string::npos) << "[" << m.error().to_string() << "]";
  Argv notnum{"prog", "--preserve-fds", "two", "c1"};
  auto n = parse(f.cmd, notnum.argc(), notnum.argv(), 1, "prog run");
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().to_string().find("\"two\" is not a number"), std::string::npos);
  Argv badfmt{"prog", "-f", "yaml", "c1"};
  auto b = parse(f.cmd, badfmt.argc(), badfmt.argv(), 1, "prog run");
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().to_string().find("not one of table, json"), std::string::npos);
  Argv flagval{"prog", "--detach=yes", "c1"};
  EXPECT_FALSE(parse(f.cmd, flagval.argc(), flagval.argv(), 1, "prog run"));
}

TEST(Args, HelpComesFromTheTable) {
  Fixture f;
  std::string h = help(f.cmd, "ns-runtime run");
  EXPECT_NE(h.find("Usage: ns-runtime run [OPTIONS] ID"), std::string::npos);
  EXPECT_NE(h.find("-b, --bundle DIR"), std::string::npos);
  EXPECT_NE(h.find("    --preserve-fds N"), std::string::npos);
  EXPECT_NE(h.find("-E, --explain[=json]"), std::string::npos);
  EXPECT_NE(h.find("-h, --help"), std::string::npos);
  Argv a{"prog", "--help"};
  testing::internal::CaptureStdout();
  auto r = parse(f.cmd, a.argc(), a.argv(), 1, "ns-runtime run");
  std::string printed = testing::internal::GetCapturedStdout();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->help);
  EXPECT_EQ(printed, h);
}


// No abbreviations (getopt_long's default): runc takes none, and the entry point's verb finder
// would read `--ro DIR create` as an unknown option where getopt_long reads --root.
TEST(Args, AbbreviationsAreRefused) {
  for (auto* word : {"--bund=/b", "--bund", "--pres"}) {
    Fixture f;
    Argv a{"prog", word, "/b", "c1"};
    auto r = parse(f.cmd, a.argc(), a.argv(), 1, "prog run");
    ASSERT_FALSE(r) << word;
    EXPECT_NE(r.error().to_string().find("unknown flag"), std::string::npos) << r.error().to_string();
  }
  Fixture f;
  Argv a{"prog", "--preserve-fds", "2", "--bundle", "/b", "c1"};  // the whole names still work
  ASSERT_TRUE(parse(f.cmd, a.argc(), a.argv(), 1, "prog run"));
  EXPECT_EQ(f.fds, 2);
  EXPECT_EQ(f.bundle, "/b");
}

TEST(VerbFinder, ReadsTheGlobalOptionsAsMainDoes) {
  auto at = [](std::initializer_list<const char*> w) {
    Argv a(w);
    return ns_verb_index(a.argc(), a.argv());
  };
  EXPECT_EQ(at({"ns-runtime", "run", "c1"}), 1);
  EXPECT_EQ(at({"ns-runtime", "--root", "/r", "--log", "/l", "--log-format", "json", "exec", "c1"}), 7);
  EXPECT_EQ(at({"ns-runtime", "--root=/r", "--debug", "-E", "create", "c1"}), 4);
  EXPECT_EQ(at({"ns-runtime", "--vm-accel", "auto", "exec", "c1"}), 3);  // the value is not the verb
  EXPECT_EQ(at({"ns-runtime", "--vm-accel", "exec", "run"}), 3);        // nor is "exec" as a value
  EXPECT_EQ(at({"ns-runtime", "--explain", "run"}), 2);                 // optional values only with '='
  EXPECT_EQ(at({"ns-runtime", "--explain=json", "-Ejson", "-vE", "run"}), 4);
  EXPECT_EQ(at({"ns-runtime", "--", "run"}), 2);
  EXPECT_EQ(at({"ns-runtime", "--debug"}), 2);  // no verb: argc
  // What cannot be read: unknown options, abbreviations, a value where none is taken, none where one is.
  for (auto* bad : {"--r", "--ro", "--log-f", "--bogus", "--debug=1", "-x", "-vx"})
    EXPECT_EQ(at({"ns-runtime", bad, "json", "exec", "c1"}), -1) << bad;
  EXPECT_EQ(at({"ns-runtime", "-Ex", "json", "exec"}), 2);  // -E's value is "x": json is the verb
  EXPECT_EQ(at({"ns-runtime", "--root"}), -1);
}

TEST(VerbFinder, MainsTableIsTheFindersTable) {
  bool b = false;
  std::string v;
  Command same{nullptr, "", "", {}};
  for (const ns_global_option* t = ns_global_options; t->name; ++t) {
    if (std::string(t->name) == "help") continue;
    Arg arg = t->arg == NS_GLOBAL_NO_VALUE ? Arg::None : t->arg == NS_GLOBAL_VALUE ? Arg::Required : Arg::Optional;
    same.options.push_back({t->short_name, t->name, arg, "", "", arg == Arg::None ? flag(b) : value(v)});
  }
  EXPECT_TRUE(same_options(same, ns_global_options));
  Command more = same;
  more.options.push_back({0, "vm-memory", Arg::Required, "MB", "", value(v)});
  EXPECT_FALSE(same_options(more, ns_global_options));
  Command other = same;
  other.options[0].arg = Arg::None;
  EXPECT_FALSE(same_options(other, ns_global_options));
}
}  // namespace
}  // namespace ns::cli
