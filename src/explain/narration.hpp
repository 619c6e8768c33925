// What a stage is for, in words for someone who knows processes and files but not namespaces.
// Each mechanism's module defines the narrations of its own stages next to the code that does
// the work (linux/fs narrates mounts, linux/security capabilities, ...); the pipeline only
// points at them. A header of its own, with no dependencies, so every module may include it.
#pragma once

namespace ns::explain {

struct Narration {
  const char* stage;  // the stage's name: errors, logs and the timeline carry it
  const char* field;  // the config.json field(s) that ask for it; "" when none does
  const char* why;    // two or three plain sentences
};

}  // namespace ns::explain
