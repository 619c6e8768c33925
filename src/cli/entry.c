// The static binary's entry point (linked with -e ns_entry): what runs before the C library.
//
// Two verbs gain from not starting the C library first (its start-up is ~0.25 ms on a VM,
// mostly the CPU feature probe, each CPUID a trap to the hypervisor):
//   - create, run and exec re-execute themselves through a read-only clone of the binary's
//     mount (the CVE-2019-5736 guard, exe_guard_entry.c): done here, the C library starts once;
//   - start, in its plain case, is done here altogether (start_entry.c) and exits.
// Both return whenever they do not settle the command; then glibc's _start runs, as in any
// program, and main() does the rest (or all of it again, with its checks and messages).
// What may be used before that: common/freestanding.h.

void ns_exe_guard_early(long* sp);  // re-executes, or returns
void ns_start_early(long* sp);      // exits, or returns

void ns_entry_c(long* sp) {
  ns_exe_guard_early(sp);
  ns_start_early(sp);
}

// The process's first instruction: the stack pointer names argc, argv and the environment;
// %rdx (the function _start registers with atexit; 0 in a static binary) is kept for _start.
__attribute__((naked, noreturn)) void ns_entry(void) {
  __asm__(
      "mov %rsp, %rdi\n\t"
      "mov %rsp, %rbx\n\t"
      "mov %rdx, %r12\n\t"
      "and $-16, %rsp\n\t"
      "call ns_entry_c\n\t"
      "mov %rbx, %rsp\n\t"
      "mov %r12, %rdx\n\t"
      "jmp _start\n\t");
}
