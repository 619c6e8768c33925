// Command lines, declared as tables and parsed with the C library's getopt_long: both
// `--flag value` and `--flag=value`, short flags, optional values (`--explain=json`), and a help
// text generated from the same table, so --help cannot drift from what is parsed.
//
// Why not CLI11: it pulls in iostreams, whose static initialisation (locale, the standard
// streams) is most of a short verb's start-up: 0.2-0.5 ms per command and about 0.8 MB of peak
// RSS measured on `state`, `start`, `delete` and `--version` (docs/performance.md).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cli/global_options.h"
#include "common/error.hpp"

namespace ns::cli {

enum class Arg { None, Required, Optional };

struct Option {
  char short_name;         // 0: none
  const char* long_name;   // without "--"
  Arg arg;
  const char* value_name;  // shown in the help: "DIR", "N"
  const char* help;
  // Gets the value (nullptr for a flag, or an optional value left out).
  std::function<Result<void>(const char*)> set;
};

struct Command {
  const char* name;     // "create"; the program name for the global options
  const char* summary;  // one line
  const char* args;     // positional arguments in the usage line: "ID [SIGNAL]"
  std::vector<Option> options;
  // Options end at the first positional argument (exec ID CMD..., ps ID ARGS...): what follows
  // belongs to the command, even when it looks like a flag.
  bool options_first = false;
  const char* footer = nullptr;
};

// What parse() found: the positional arguments, or that --help was asked for (and printed).
struct Parsed {
  std::vector<std::string> positionals;
  bool help = false;
};

// Parses ARGV[FIRST..ARGC) against CMD. PROGRAM prefixes the usage line ("ns-runtime create").
Result<Parsed> parse(const Command& cmd, int argc, char** argv, int first, const std::string& program);
std::string help(const Command& cmd, const std::string& program);

// Whether CMD's options are exactly those of TABLE (cli/global_options.h; its "help" is the one
// parse() adds): the same names, short letters and kinds of value. An error names the first
// difference.
Result<void> same_options(const Command& cmd, const struct ns_global_option* table);

// Setters for Option::set.
std::function<Result<void>(const char*)> flag(bool& target);
std::function<Result<void>(const char*)> value(std::string& target);
std::function<Result<void>(const char*)> append(std::vector<std::string>& target);
std::function<Result<void>(const char*)> number(int& target, const char* name);
std::function<Result<void>(const char*)> one_of(std::string& target, std::vector<std::string> allowed, const char* name);

}  // namespace ns::cli
