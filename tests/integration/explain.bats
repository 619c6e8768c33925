#!/usr/bin/env bats
# -E/--explain: every stage that ran is narrated with its real kernel calls and timings.

load helpers

setup() { setup_container_env; }
teardown() { teardown_container_env; }

@test "explain text: every init stage is narrated, with the real arguments, and a timeline" {
  cfg '.hostname = "explained-host"'
  set_args /bin/true
  run bash -c "'$NS_RUNTIME' --root '$ROOT' -E run --rm --bundle '$BUNDLE' demo 2>&1"
  [ "$status" -eq 0 ]
  for stage in namespaces cgroup-namespace session loopback rootfs mounts devices pivot-root hostname \
               finalize-rootfs capabilities-bounding user capabilities cwd no-new-privileges; do
    [[ "$output" == *"[CHILD] $stage "* ]] || { echo "stage $stage not narrated" >&2; return 1; }
  done
  for stage in cgroup exec-fifo clone cgroup-join start; do
    [[ "$output" == *"[PARENT] $stage "* ]] || { echo "parent stage $stage not narrated" >&2; return 1; }
  done
  [[ "$output" == *'sethostname("explained-host")'* ]]
  [[ "$output" == *'pivot_root(".", ".")'* ]]
  [[ "$output" == *"why: make the rootfs / and detach the host's root"* ]]
  [[ "$output" == *"run: where the time went"* ]]
}

@test "explain json: one event per line, stage times add up within the wall time" {
  set_args /bin/true
  run bash -c "'$NS_RUNTIME' --root '$ROOT' --explain=json run --rm --bundle '$BUNDLE' demo 2>&1 >/dev/null"
  [ "$status" -eq 0 ]
  echo "$output" | jq -e -s 'all(.[]; has("event"))'
  echo "$output" | jq -e -s '[.[] | select(.event == "stage")] | length >= 20'
  echo "$output" | jq -e -s '[.[] | select(.event == "stage" and .role == "CHILD" and .stage == "mounts")] | length == 1'
  # stages never overlap in time, so their sum cannot exceed the wall time they span
  echo "$output" | jq -e -s '[.[] | select(.event == "timeline")][0] | .stages_us <= .wall_us + 50'
  echo "$output" | jq -e -s '[.[] | select(.event == "call")] | map(.call) | any(startswith("mount("))'
}

@test "without -E nothing is narrated" {
  set_args /bin/true
  run bash -c "'$NS_RUNTIME' --root '$ROOT' run --rm --bundle '$BUNDLE' demo 2>&1"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "a failing stage is narrated as failed" {
  cfg '.mounts += [{"destination": "/x", "type": "no-such-fs", "source": "x"}]'
  run bash -c "'$NS_RUNTIME' --root '$ROOT' -E create --bundle '$BUNDLE' demo 2>&1"
  [ "$status" -ne 0 ]
  [[ "$output" == *"[CHILD] mounts"*"FAILED"* ]]
  no_leftovers demo
}
