#!/usr/bin/env bats
# Namespaces: new ones, shared ones, joined by path, time offsets, loopback.

load helpers

setup() { setup_container_env; }
teardown() { teardown_container_env; }

host_ns() { readlink "/proc/self/ns/$1"; }

@test "each namespace in config.json is new, the others are the host's" {
  cfg 'del(.linux.namespaces[] | select(.type == "ipc"))'
  set_args /bin/ns-probe ns
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  for ns in pid net uts mnt cgroup; do
    line=$(echo "$output" | grep "^ns $ns: ")
    [ "$line" != "ns $ns: $(host_ns $ns)" ]
  done
  [[ "$output" == *"ns ipc: $(host_ns ipc)"* ]]
  [[ "$output" == *"ns user: $(host_ns user)"* ]]
}

@test "the container's init is pid 1 of its pid namespace" {
  set_args /bin/ns-probe pid
  run rt run --rm --bundle "$BUNDLE" c1
  [ "${lines[0]}" = "pid: 1" ]
  [ "${lines[1]}" = "ppid: 0" ]
}

@test "namespaces are joined by path" {
  set_sleeper
  rt run -d --bundle "$BUNDLE" a
  wait_status a running
  pid=$(state_field a pid)
  cfg '.linux.namespaces = [{"type": "pid"}, {"type": "mount"},
        {"type": "network", "path": ("/proc/" + $p + "/ns/net")},
        {"type": "ipc", "path": ("/proc/" + $p + "/ns/ipc")},
        {"type": "uts", "path": ("/proc/" + $p + "/ns/uts")}] | del(.hostname)' --arg p "$pid"
  set_args /bin/ns-probe ns hostname
  run rt run --rm --bundle "$BUNDLE" b
  [ "$status" -eq 0 ]
  for ns in net ipc uts; do
    [[ "$output" == *"ns $ns: $(readlink /proc/$pid/ns/$ns)"* ]]
  done
  [[ "$output" == *"hostname: nano-sandbox"* ]]
  [[ "$output" == *"ns mnt: "* ]]
  [[ "$output" != *"ns mnt: $(readlink /proc/$pid/ns/mnt)"* ]]
}

@test "joining the pid namespace of another container" {
  set_sleeper
  rt run -d --bundle "$BUNDLE" a
  wait_status a running
  pid=$(state_field a pid)
  cfg '.linux.namespaces = [{"type": "mount"}, {"type": "pid", "path": ("/proc/" + $p + "/ns/pid")}] | del(.hostname)' --arg p "$pid"
  set_args /bin/sh -c 'ls /proc | grep -c "^[0-9]"; readlink /proc/self/ns/pid'
  run rt run --rm --bundle "$BUNDLE" b
  [ "$status" -eq 0 ]
  [ "${lines[1]}" = "$(readlink /proc/$pid/ns/pid)" ]
  [ "${lines[0]}" -ge 2 ]
}

@test "a bad namespace path is reported naming it, nothing left" {
  cfg '.linux.namespaces[1] = {"type": "network", "path": "/proc/999999999/ns/net"}'
  run rt create --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"/proc/999999999/ns/net"* ]]
  [[ "$output" == *"no such file or directory"* ]]
  no_leftovers c1
}

@test "a new network namespace has loopback up" {
  set_args /bin/cat /sys/class/net/lo/flags
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  (( ($output & 1) == 1 ))
}

@test "the new network namespace is the container's own, in /proc and in sysfs, with only lo" {
  # The runtime's thread makes it; the child enters it before mounting sysfs, whose net class
  # shows the devices of the namespace it was mounted from.
  set_args /bin/sh -c 'readlink /proc/self/ns/net; ls /sys/class/net; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != "$(host_ns net)" ]
  [ "${lines[1]}" = "lo" ]
  [ "${lines[2]}" = "lo" ]
  [ "${#lines[@]}" -eq 3 ]
  [ "$(ls /sys/class/net | wc -l)" -gt 1 ] || skip "host with loopback only: nothing to tell apart"
}

@test "a network namespace the runtime cannot make fails create with the call that failed, and leaves nothing behind" {
  [ -n "${NS_DENY_CALL:-}" ] || skip "NS_DENY_CALL (the build's deny-call helper) not set"
  set_args /bin/true
  # unshare(CLONE_NEWNET) alone is the runtime's thread's call: the child's unshare has more flags
  run "$NS_DENY_CALL" unshare=0x40000000 EPERM "$NS_RUNTIME" --root "$ROOT" run --rm --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *'unshare(CLONE_NEWNET)'*'operation not permitted'* ]]
  no_leftovers c1
}

@test "with a time namespace the child makes its network namespace itself, lo up all the same" {
  [ -e /proc/self/ns/time ] || skip "kernel without time namespaces"
  cfg '.linux.namespaces += [{"type": "time"}]'
  set_args /bin/sh -c 'readlink /proc/self/ns/net; cat /sys/class/net/lo/flags; ls /sys/class/net'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != "$(host_ns net)" ]
  (( (${lines[1]} & 1) == 1 ))
  [ "${lines[2]}" = "lo" ]
}

@test "a new time namespace applies boottime and monotonic offsets" {
  [ -e /proc/self/ns/time ] || skip "kernel without time namespaces"
  cfg '.linux.namespaces += [{"type": "time"}] | .linux.timeOffsets = {"boottime": {"secs": 864000, "nanosecs": 0}, "monotonic": {"secs": 3600, "nanosecs": 0}}'
  set_args /bin/sh -c 'cut -d. -f1 /proc/uptime; readlink /proc/self/ns/time'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" -ge 864000 ]
  [ "${lines[1]}" != "$(readlink /proc/self/ns/time)" ]
}

@test "a user namespace maps container root to a host uid" {
  cfg '.linux.namespaces += [{"type": "user"}] |
       .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
       .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
       .mounts = [.mounts[] | select(.destination != "/sys")]'
  set_args /bin/sh -c 'cat /proc/self/uid_map; /bin/ns-probe ids'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == *0*100000*65536* ]]
  [[ "$output" == *"uid: 0"* ]]
}
