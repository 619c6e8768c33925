// ns-runtime's global options (the ones before the verb), as one table for both readers of the
// command line: the entry point (exe_guard_entry.c decides, before the C library starts, whether
// the verb enters a container and the binary must be protected) and main() (cli::parse reads the
// values). Both find the verb with ns_verb_index, so no shape of the command line can make the
// entry point see one verb and main() run another. Plain C, usable before the C library starts
// (common/freestanding.h).
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

enum ns_global_arg { NS_GLOBAL_NO_VALUE, NS_GLOBAL_VALUE, NS_GLOBAL_OPTIONAL_VALUE };

struct ns_global_option {
  const char* name;        // without "--"
  char short_name;         // 0: none
  enum ns_global_arg arg;  // OPTIONAL_VALUE: only as --name=VALUE (or -xVALUE), as getopt_long
};

// The table (ends with a null name); main()'s option table must name the same options with the
// same kind of value (a unit test compares them).
extern const struct ns_global_option ns_global_options[];

// Where the verb is in ARGV: its index; ARGC when there is none; -1 when the global options
// cannot be read: an option the table lacks (abbreviations included: they are not accepted), a
// value given to one that takes none, a missing value. "--" ends the options.
int ns_verb_index(int argc, char** argv);

#ifdef __cplusplus
}
#endif
