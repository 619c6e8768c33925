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

#include "sys/kernel.hpp"

namespace ns::explain {

enum class Mode { Off, Text, Json };

void set_mode(Mode m);
[[nodiscard]] Mode mode();
[[nodiscard]] inline bool on() { return mode() != Mode::Off; }

// One finished stage, as narrated and kept for the closing timeline.
struct StageEvent {
  std::string role;  // "PARENT", "CHILD"
  std::string stage;
  std::string why;
  uint64_t start_ns = 0;  // CLOCK_MONOTONIC
  uint64_t duration_ns = 0;
  bool ok = true;
};

uint64_t now_ns();
// A kernel call made during the current stage: "mount("proc", "<rootfs>/proc", "proc", 0x0)".
void call(const std::string& role, const std::string& what);
void stage(const StageEvent& e);
// The closing timeline: the stages with their durations and the wall time they add up to.
void timeline(const std::string& title);

// A Kernel that narrates every call it forwards to INNER through SINK.
std::unique_ptr<sys::Kernel> explaining_kernel(sys::Kernel& inner, std::function<void(const std::string&)> sink);

}  // namespace ns::explain
