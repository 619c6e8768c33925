#!/usr/bin/env bats
# The cgroup v2 code path on any host: every ns-runtime call runs in a mount namespace of its own
# where /sys/fs/cgroup is the cgroup2 hierarchy alone, so the runtime sees a pure v2 layout (on
# this project's hybrid machines the v2 tree has only the controllers v1 does not hold, hugetlb
# among them; the device filter, the freezer and cgroup.procs work on every v2 cgroup).

load helpers

setup() {
  setup_container_env
  grep -qw cgroup2 /proc/filesystems || skip "no cgroup2 in this kernel"
}
teardown() {
  [ -n "${ROOT:-}" ] || return 0
  for id in $(v2rt list -q 2>/dev/null); do v2rt delete --force "$id" >/dev/null 2>&1 || true; done
}

# v2rt ARGS...: ns-runtime seeing only the cgroup2 hierarchy at /sys/fs/cgroup (on a pure v2
# host, such as the v2 lane, that is what it sees anyway)
v2rt() {
  if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
    "$NS_RUNTIME" --root "$ROOT" "$@"
    return
  fi
  unshare -m sh -c 'mount -t cgroup2 none /sys/fs/cgroup && exec "$0" "$@"' "$NS_RUNTIME" --root "$ROOT" "$@"
}

# the container's cgroup directory in the v2 tree, as the host sees it
v2dir() {
  local mnt
  mnt=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
  echo "$mnt/nano-sandbox/$1"
}

@test "v2: device access is decided by the BPF filter attached to the container's cgroup" {
  # /dev/fuse opens for anyone, so EPERM can only be the filter (without a FUSE daemon an allowed
  # read fails with another error, or works)
  cfg '.linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}]
     | .linux.resources = {"devices": [{"allow": false, "access": "rwm"}]}'
  set_args /bin/sh -c 'head -c 1 /dev/fuse >/dev/null; head -c 1 /dev/zero >/dev/null && echo zero-readable'
  run v2rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [[ "$output" == *"/dev/fuse: Operation not permitted"* ]]
  [[ "$output" == *zero-readable* ]]   # the default devices stay allowed
  cfg '.linux.resources.devices += [{"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}]'
  run v2rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [[ "$output" != *"Operation not permitted"* ]]
}

@test "v2: cgroup.procs, cgroup.freeze for pause/resume, exec into the cgroup, delete removes it" {
  [ -n "$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)" ] || skip "no cgroup2 mount on the host to look at"
  set_sleeper
  v2rt run -d --bundle "$BUNDLE" c1 >/dev/null 2>&1
  pid=$(v2rt state c1 | jq .pid)
  dir=$(v2dir c1)
  grep -qx "$pid" "$dir/cgroup.procs"
  v2rt pause c1
  [ "$(cat "$dir/cgroup.freeze")" = 1 ]
  [ "$(v2rt state c1 | jq -r .status)" = paused ]
  v2rt resume c1
  [ "$(cat "$dir/cgroup.freeze")" = 0 ]
  [ "$(v2rt state c1 | jq -r .status)" = running ]
  v2rt exec -d --pid-file "$BATS_TEST_TMPDIR/exec.pid" c1 /bin/ns-probe sleep 30 >/dev/null 2>&1
  grep -qx "$(cat "$BATS_TEST_TMPDIR/exec.pid")" "$dir/cgroup.procs"
  [ "$(v2rt ps --format json c1 | jq length)" = 2 ]
  v2rt kill --all c1 KILL
  v2rt delete --force c1
  [ ! -e "$dir" ]
}

@test "v2: a controller the v2 tree offers is enabled and written (hugetlb), read back from its file" {
  mnt=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
  [ -n "$mnt" ] || skip "no cgroup2 mount on the host to look at"
  grep -qw hugetlb "$mnt/cgroup.controllers" || skip "hugetlb is not a v2 controller here"
  [ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || skip "no 2 MB huge pages"
  label=2MB
  cfg '.linux.resources = {"hugepageLimits": [{"pageSize": $l, "limit": 4194304}]}' --arg l "$label"
  set_sleeper
  v2rt run -d --bundle "$BUNDLE" c1 >/dev/null 2>&1
  [ "$(cat "$(v2dir c1)/hugetlb.$label.max")" = 4194304 ]
  grep -qw hugetlb "$mnt/nano-sandbox/cgroup.subtree_control"
  v2rt delete --force c1
}

@test "v2: the child is born in its cgroup (clone3 CLONE_INTO_CGROUP), no cgroup.procs write" {
  cfg '.linux.namespaces |= map(select(.type != "cgroup"))'   # so /proc/self/cgroup shows the real path
  set_args /bin/sh -c 'cat /proc/self/cgroup'
  # into a file: narration on stderr, the container's output on stdout
  v2rt --explain=json run --rm --bundle "$BUNDLE" c1 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/events"
  jq -e -s '[.[] | select(.event == "call" and (.call | startswith("clone3(")))][0].call | contains("CLONE_INTO_CGROUP")' \
    "$BATS_TEST_TMPDIR/events"
  jq -e -s '[.[] | select(.event == "stage" and .stage == "cgroup-join")] | length == 0' "$BATS_TEST_TMPDIR/events"
  jq -e -s '[.[] | select(.event == "call" and (.call | contains("cgroup.procs")))] | length == 0' "$BATS_TEST_TMPDIR/events"
  # and it is in it
  grep -qx '0::/nano-sandbox/c1' "$BATS_TEST_TMPDIR/out"
}
