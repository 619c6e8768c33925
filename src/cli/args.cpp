#include "cli/args.hpp"

#include <getopt.h>

#include <charconv>
#include <cstdio>
#include <string_view>

namespace ns::cli {

namespace {

std::string option_names(const Option& o) {
  std::string s = o.short_name ? std::string("-") + o.short_name + ", " : "    ";
  s += std::string("--") + o.long_name;
  if (o.arg == Arg::Required) s += std::string(" ") + o.value_name;
  if (o.arg == Arg::Optional) s += std::string("[=") + o.value_name + "]";
  return s;
}

}  // namespace

std::string help(const Command& cmd, const std::string& program) {
  std::string out = "Usage: " + program + (cmd.options.empty() ? "" : " [OPTIONS]") +
                    (cmd.args && *cmd.args ? std::string(" ") + cmd.args : "") + "\n" + cmd.summary + "\n";
  if (!cmd.options.empty()) {
    out += "\nOptions:\n";
    size_t width = 0;
    for (auto& o : cmd.options) width = std::max(width, option_names(o).size());
    width = std::max(width, std::string("-h, --help").size());
    auto line = [&](const std::string& names, const std::string& text) {
      out += "  " + names + std::string(width - names.size() + 2, ' ') + text + "\n";
    };
    for (auto& o : cmd.options) line(option_names(o), o.help);
    line("-h, --help", "print this help and exit");
  }
  if (cmd.footer) out += cmd.footer;
  return out;
}

Result<Parsed> parse(const Command& cmd, int argc, char** argv, int first, const std::string& program) {
  // getopt_long permutes its argv and keeps global state: give it a copy, and reset it.
  std::vector<char*> args = {argv[0]};
  for (int i = first; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  int n = static_cast<int>(args.size()) - 1;

  std::string shorts = cmd.options_first ? "+:h" : ":h";
  std::vector<struct option> longs;
  for (size_t i = 0; i < cmd.options.size(); ++i) {
    const Option& o = cmd.options[i];
    int has = o.arg == Arg::None ? no_argument : o.arg == Arg::Required ? required_argument : optional_argument;
    int code = o.short_name ? o.short_name : 256 + static_cast<int>(i);
    longs.push_back({o.long_name, has, nullptr, code});
    if (o.short_name) {
      shorts += o.short_name;
      if (o.arg == Arg::Required) shorts += ":";
      if (o.arg == Arg::Optional) shorts += "::";
    }
  }
  longs.push_back({"help", no_argument, nullptr, 'h'});
  longs.push_back({nullptr, 0, nullptr, 0});

  Parsed out;
  optind = 0;  // glibc: start over (and re-read the option string)
  opterr = 0;
  std::string where = cmd.name ? std::string(" for ") + cmd.name : "";
  for (;;) {
    int long_index = -1;
    int c = ::getopt_long(n, args.data(), shorts.c_str(), longs.data(), &long_index);
    if (c == -1) break;
    // getopt_long takes any unambiguous abbreviation (--ro for --root); runc takes none, and the
    // entry point's verb finder (global_options.h) must read the same command line as we do.
    if (long_index >= 0 && c != '?' && c != ':') {
      const char* name = longs[static_cast<size_t>(long_index)].name;
      // The option's own word: the one before the value when the value was a word of its own.
      int at = optarg && optind - 1 < n && optarg == args[optind - 1] && optind >= 2 ? optind - 2 : optind - 1;
      std::string_view word = at >= 0 && at < n && args[at] ? args[at] : "";
      std::string_view full = word.substr(0, word.find('='));
      if (full.size() < 2 || full.substr(2) != name)
        return make_error("unknown flag " + std::string(full) + where + " (did you mean --" + name + "? see " + program +
                          " --help)");
    }
    if (c == 'h') {
      std::string text = help(cmd, program);
      std::fwrite(text.data(), 1, text.size(), stdout);
      out.help = true;
      return out;
    }
    std::string seen = optind > 0 && optind - 1 < n && args[optind - 1] ? args[optind - 1] : "";
    if (c == '?') {
      std::string what = optopt ? std::string("-") + static_cast<char>(optopt) : seen.substr(0, seen.find('='));
      return make_error("unknown flag " + what + where + " (see " + program + " --help)");
    }
    if (c == ':') {
      // As typed: "--bundle" or "-b" (getopt reports the short letter for both).
      std::string what = seen.starts_with("--") || !optopt || optopt >= 256 ? seen.substr(0, seen.find('='))
                                                                            : std::string("-") + static_cast<char>(optopt);
      return make_error("flag " + what + " needs a value (see " + program + " --help)");
    }
    const Option* o = nullptr;
    for (size_t i = 0; i < cmd.options.size(); ++i)
      if ((cmd.options[i].short_name && cmd.options[i].short_name == c) || c == 256 + static_cast<int>(i))
        o = &cmd.options[i];
    if (!o) return make_error("unknown flag" + where);
    if (o->arg == Arg::None && optarg) return make_error("flag --" + std::string(o->long_name) + " takes no value");
    TRY(o->set(optarg));
  }
  for (int i = optind; i < n; ++i) out.positionals.emplace_back(args[i]);
  return out;
}

Result<void> same_options(const Command& cmd, const struct ns_global_option* table) {
  size_t n = 0;
  for (const ns_global_option* t = table; t->name; ++t) {
    if (std::string_view(t->name) == "help") continue;
    ++n;
    Arg want = t->arg == NS_GLOBAL_NO_VALUE ? Arg::None : t->arg == NS_GLOBAL_VALUE ? Arg::Required : Arg::Optional;
    bool found = false;
    for (auto& o : cmd.options)
      if (std::string_view(o.long_name) == t->name) {
        if (o.short_name != t->short_name || o.arg != want)
          return make_error(std::string("option --") + t->name + ": the verb finder's table reads it differently");
        found = true;
      }
    if (!found) return make_error(std::string("option --") + t->name + ": in the verb finder's table only");
  }
  if (n != cmd.options.size()) return make_error("an option is missing from the verb finder's table");
  return {};
}

std::function<Result<void>(const char*)> flag(bool& target) {
  return [&target](const char*) -> Result<void> {
    target = true;
    return {};
  };
}

std::function<Result<void>(const char*)> value(std::string& target) {
  return [&target](const char* v) -> Result<void> {
    target = v ? v : "";
    return {};
  };
}

std::function<Result<void>(const char*)> append(std::vector<std::string>& target) {
  return [&target](const char* v) -> Result<void> {
    target.emplace_back(v ? v : "");
    return {};
  };
}

std::function<Result<void>(const char*)> number(int& target, const char* name) {
  return [&target, name](const char* v) -> Result<void> {
    std::string_view s = v ? v : "";
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), target);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size())
      return make_error(std::string("--") + name + ": \"" + std::string(s) + "\" is not a number");
    return {};
  };
}

std::function<Result<void>(const char*)> one_of(std::string& target, std::vector<std::string> allowed, const char* name) {
  return [&target, allowed = std::move(allowed), name](const char* v) -> Result<void> {
    std::string s = v ? v : "";
    for (auto& a : allowed)
      if (a == s) {
        target = s;
        return {};
      }
    std::string list;
    for (auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return make_error(std::string("--") + name + ": \"" + s + "\" is not one of " + list);
  };
}

}  // namespace ns::cli
