// ns-runtime's global options and the verb finder (global_options.h). Built with the entry point's
// objects: freestanding, nothing of the C library.
#include "cli/global_options.h"

#include "common/freestanding.h"

const struct ns_global_option ns_global_options[] = {
    {"root", 0, NS_GLOBAL_VALUE},
    {"log", 0, NS_GLOBAL_VALUE},
    {"log-format", 0, NS_GLOBAL_VALUE},
    {"debug", 0, NS_GLOBAL_NO_VALUE},
    {"explain", 'E', NS_GLOBAL_OPTIONAL_VALUE},
    {"systemd-cgroup", 0, NS_GLOBAL_NO_VALUE},
    {"vm", 0, NS_GLOBAL_NO_VALUE},
    {"vm-accel", 0, NS_GLOBAL_VALUE},
    {"version", 'v', NS_GLOBAL_NO_VALUE},
    {"help", 'h', NS_GLOBAL_NO_VALUE},
    {0, 0, NS_GLOBAL_NO_VALUE},
};

// The option named by "--NAME" or "--NAME=...", exactly; *VALUE points after '=' (0 without).
static const struct ns_global_option* ns_long_option(const char* arg, const char** value) {
  for (const struct ns_global_option* o = ns_global_options; o->name; ++o) {
    const char* a = arg;
    const char* n = o->name;
    while (*n && *a == *n) ++a, ++n;
    if (*n) continue;
    if (*a == 0) {
      *value = 0;
      return o;
    }
    if (*a == '=') {
      *value = a + 1;
      return o;
    }
  }
  return 0;
}

static const struct ns_global_option* ns_short_option(char c) {
  for (const struct ns_global_option* o = ns_global_options; o->name; ++o)
    if (o->short_name && o->short_name == c) return o;
  return 0;
}

int ns_verb_index(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (a[0] != '-' || a[1] == 0) return i;  // the first word that is no option ("-" is one)
    if (a[1] == '-') {
      if (a[2] == 0) return i + 1;  // "--": what follows is the verb
      const char* value;
      const struct ns_global_option* o = ns_long_option(a + 2, &value);
      if (!o) return -1;
      if (o->arg == NS_GLOBAL_NO_VALUE && value) return -1;
      if (o->arg == NS_GLOBAL_VALUE && !value && ++i >= argc) return -1;  // the next word is the value
      continue;
    }
    // Short options, clustered as getopt reads them: "-vE", "-Ejson".
    for (const char* c = a + 1; *c; ++c) {
      const struct ns_global_option* o = ns_short_option(*c);
      if (!o) return -1;
      if (o->arg == NS_GLOBAL_NO_VALUE) continue;
      if (o->arg == NS_GLOBAL_VALUE && c[1] == 0 && ++i >= argc) return -1;
      break;  // the rest of the word (or the next word) is the value
    }
  }
  return argc;
}
