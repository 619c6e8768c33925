// The guest side of VM mode: the initramfs's /init is this same binary, and as pid 1 of the
// guest it is the agent. It loads the virtio modules, moves the root to a tmpfs (pivot_root
// cannot leave an initramfs), mounts /proc, /sys, /dev, cgroup2 and the host's share
// (virtio-fs), then takes the container's config over the agent channel and creates, starts,
// signals and waits for the container with the namespace back end, inside the guest: the
// container looks the same inside a VM as outside, apart from the kernel. Its stdio goes through
// pipes the agent relays over the channel. When the container has exited and the host has its
// status, the agent powers the guest off.
#pragma once

namespace ns::vm {

// True when this process is the guest's init (pid 1, called /init).
bool is_agent(const char* argv0);
[[noreturn]] void agent_main();

}  // namespace ns::vm
