// libFuzzer targets on the parsers of what an attacker writes: config.json (the caller, the
// image's maker) and state.json (the state directory). Built with clang (-fsanitize=fuzzer,
// address, undefined) by tests/fuzz/run.sh; FUZZ_CONFIG or FUZZ_STATE picks the target.
// A crash, a leak, an undefined behaviour or a hang is a failure; a value refused is not.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/json.hpp"
#include "common/log.hpp"
#include "oci/spec.hpp"
#include "state/state.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)ns::log::init("/dev/null", false, false);  // warnings about unknown fields: not on stderr
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
#if defined(FUZZ_CONFIG)
  if (auto spec = ns::oci::parse_spec(text)) (void)ns::oci::validate_spec(*spec);
#elif defined(FUZZ_STATE)
  auto j = ns::parse_json(text);
  if (!j.is_discarded())
    if (auto st = ns::state::from_json(j)) {
      (void)ns::state::check_state(*st, st->id);
      (void)ns::state::oci_state(*st, ns::state::Status::Running).dump();
      if (!st->process.is_null()) (void)ns::oci::parse_process_json(st->process);
    }
#else
#error "FUZZ_CONFIG or FUZZ_STATE"
#endif
  return 0;
}
