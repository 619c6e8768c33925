// Educational mode (-E/--explain[=text|json]): every stage of the pipeline says what it did
// (the kernel calls, with their real arguments), why a container needs it, and how long it took.
// Stages that run in the child send their narration to the runtime over the sync channel, so it
// reaches the user even when the container's stdio is elsewhere. Narration goes to stderr; off,
// it costs one branch per stage.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "explain/narration.hpp"
#include "sys/kernel.hpp"

namespace ns::explain {

enum class Mode { Off, Text, Json };

void set_mode(Mode m);
// -E / --explain[=text|json] as the command lines take it: MODE ("" leaves narration off) for
// COMMAND, the timeline's title. Anything but text or json is an error.
Result<void> enable(const std::string& mode, const std::string& command);
[[nodiscard]] Mode mode();
[[nodiscard]] inline bool on() { return mode() != Mode::Off; }

// One finished stage, as narrated and kept for the closing timeline.
struct StageEvent {
  std::string role;  // "PARENT", "CHILD"
  std::string stage;
  std::string field;  // the config.json field that asked for it
  std::string why;
  uint64_t start_ns = 0;  // CLOCK_MONOTONIC
  uint64_t duration_ns = 0;
  bool ok = true;
};

uint64_t now_ns();
// Where the command's wall time starts (main() calls it first thing); the timeline measures
// the stages against the time from here to the timeline.
void mark_start();
// A kernel call made during the current stage: "mount("proc", "<rootfs>/proc", "proc", 0x0)".
// In text mode calls and notes are held until their stage ends, then printed under its heading.
void call(const std::string& role, const std::string& what);
// A plain-words remark on the current stage's calls: what a clone flag or a cgroup file means.
void note(const std::string& role, const std::string& what);
void stage(const StageEvent& e);
inline StageEvent stage_event(const char* role, const Narration& n, uint64_t start_ns, uint64_t duration_ns, bool ok) {
  return {role, n.stage, n.field, n.why, start_ns, duration_ns, ok};
}
// The closing timeline: the stages with their durations, and the command's wall time they sit in.
// Printed stages are then forgotten: a later timeline shows only what came after.
void timeline(const std::string& title);
// The timeline under the verb's name (set_command), for main() to call when the verb is done.
void timeline();
void set_command(const std::string& name);

// A verb's own step, timed and narrated as a PARENT stage when done() is called, or as failed
// if it is left without done() (an early error return).
class Step {
 public:
  explicit Step(const Narration& n) : n_(n), start_(on() ? now_ns() : 0) {}
  Step(const Step&) = delete;
  Step& operator=(const Step&) = delete;
  ~Step() { finish(false); }
  void done() { finish(true); }

 private:
  void finish(bool ok) {
    if (finished_ || !on()) return;
    finished_ = true;
    stage(stage_event("PARENT", n_, start_, now_ns() - start_, ok));
  }
  const Narration& n_;
  uint64_t start_;
  bool finished_ = false;
};

// Instead of printing: every call, note and stage goes to FORWARD (kind "call", "note" or
// "stage"; TEXT for the first two, STAGE for the last). VM mode's guest agent sends its
// narration to the host this way, where the runtime prints it among its own.
using Forward = std::function<void(const char* kind, const std::string& role, const std::string& text, const StageEvent* stage)>;
void forward_to(Forward f);

// A Kernel that narrates every call it forwards to INNER through SINK.
std::unique_ptr<sys::Kernel> explaining_kernel(sys::Kernel& inner, std::function<void(const std::string&)> sink);

}  // namespace ns::explain
