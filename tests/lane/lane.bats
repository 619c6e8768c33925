#!/usr/bin/env bats
# The v2 lane itself (tests/lane/lane.sh): the guest is the typical host (systemd as PID 1, cgroup
# v2 alone), a command's output and status come back, a lane that runs out of time is killed,
# two lanes run side by side, and nothing of either is left.

setup() {
  : "${NS_SOURCE_DIR:?}" "${NS_BUILD_DIR:?}"
  LANE="$NS_SOURCE_DIR/tests/lane/lane.sh"
}

lane_leftovers() {
  ! pgrep -af 'nslane\.' | grep -v pgrep
  [ -z "$(ls -d /tmp/nslane.* 2>/dev/null)" ]
}

@test "lane: systemd as PID 1 on cgroup v2 alone; the command's output and exit status come back" {
  run "$LANE" "$NS_BUILD_DIR" 300 'cat /proc/1/comm; stat -f -c %T /sys/fs/cgroup; grep -c " cgroup " /proc/mounts; cat /run/nslane/system-state; stat -f -c %T "$TMPDIR"; cd /tmp && ls -d nslane.* >/dev/null; exit 7'
  echo "$output"
  [ "$status" -eq 7 ]
  [ "${lines[0]}" = systemd ]
  [ "${lines[1]}" = cgroup2fs ]
  [ "${lines[2]}" = 0 ]        # no v1 hierarchy
  [ "${lines[3]}" = running ]  # every unit up, none failed
  [ "${lines[4]}" = ext2/ext3 ]  # $TMPDIR on the scratch disk; the host's /tmp visible
  lane_leftovers
}

@test "lane: two lanes side by side; the one out of time is killed (124), the other finishes" {
  "$LANE" "$NS_BUILD_DIR" 8 'sleep 1000' >"$BATS_TEST_TMPDIR/slow" 2>&1 &
  local slow=$!
  run "$LANE" "$NS_BUILD_DIR" 300 'echo second lane'
  [ "$status" -eq 0 ]
  [ "$output" = "second lane" ]
  local rc=0
  wait "$slow" || rc=$?
  cat "$BATS_TEST_TMPDIR/slow"
  [ "$rc" -eq 124 ]
  grep -q "ran out of its 8 s" "$BATS_TEST_TMPDIR/slow"
  lane_leftovers
}
