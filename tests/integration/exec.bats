#!/usr/bin/env bats
# exec: a new process inside a running container, in all its namespaces and its cgroup.

load helpers

setup() {
  setup_container_env
  set_sleeper
  rt run -d --bundle "$BUNDLE" c1
  wait_status c1 running
  PID=$(state_field c1 pid)
}
teardown() { teardown_container_env; }

@test "exec runs a command in every namespace of the container and passes its exit code" {
  run rt exec c1 /bin/ns-probe ns pid
  [ "$status" -eq 0 ]
  for ns in pid net ipc uts mnt cgroup; do
    [[ "$output" == *"ns $ns: $(readlink /proc/$PID/ns/$ns)"* ]]
  done
  [[ "$output" != *"pid: 1"$'\n'* ]]
  run rt exec c1 /bin/sh -c 'exit 5'
  [ "$status" -eq 5 ]
}

@test "exec joins the container's cgroup" {
  rt exec -d --pid-file "$BATS_TEST_TMPDIR/exec.pid" c1 /bin/ns-probe sleep 30
  epid=$(cat "$BATS_TEST_TMPDIR/exec.pid")
  [ -d "/proc/$epid" ]
  run rt ps --format json c1
  echo "$output" | jq -e --argjson p "$epid" 'index($p) != null'
  [ "$(readlink /proc/$epid/ns/pid)" = "$(readlink /proc/$PID/ns/pid)" ]
}

@test "exec uses the container's process as template: env, caps, user and cwd overrides" {
  run rt exec c1 /bin/ns-probe env caps
  [[ "$output" == *"env: PATH=/usr/local/sbin"* ]]
  [[ "$output" == *"cap effective: 0000000020000420"* ]]
  [[ "$output" == *"no new privs: 1"* ]]
  run rt exec -e FOO=bar -e HOME=/tmp --cwd /tmp -u 1000:1000 --additional-gids 5 c1 ns-probe env cwd ids
  [ "$status" -eq 0 ]
  [[ "$output" == *"env: FOO=bar"* ]]
  [[ "$output" == *"env: HOME=/tmp"* ]]
  [[ "$output" != *"env: HOME=/root"* ]]
  [[ "$output" == *"cwd: /tmp"* ]]
  [[ "$output" == *"uid: 1000"* ]]
  [[ "$output" == *"groups: 5"* ]]
  run rt exec --cap CAP_SYS_ADMIN c1 ns-probe caps
  [[ "$output" == *"cap effective: 0000000020200420"* ]]
}

@test "exec --process runs a process.json as containerd and podman write it" {
  cat > "$BATS_TEST_TMPDIR/process.json" <<'JSON'
{"terminal": false, "user": {"uid": 1000, "gid": 1000}, "args": ["/bin/ns-probe", "ids", "cwd"],
 "env": ["PATH=/bin"], "cwd": "/home/user", "noNewPrivileges": true}
JSON
  run rt exec --process "$BATS_TEST_TMPDIR/process.json" c1
  [ "$status" -eq 0 ]
  [[ "$output" == *"uid: 1000"* ]]
  [[ "$output" == *"cwd: /home/user"* ]]
  echo '{"args": "x"}' > "$BATS_TEST_TMPDIR/bad.json"
  run rt exec --process "$BATS_TEST_TMPDIR/bad.json" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"process.args"* ]]
}

@test "exec --detach writes the pid file and returns" {
  run rt exec --detach --pid-file "$BATS_TEST_TMPDIR/p" c1 /bin/ns-probe sleep 30
  [ "$status" -eq 0 ]
  [ -d "/proc/$(cat "$BATS_TEST_TMPDIR/p")" ]
}

@test "exec with a tty: the master goes to --console-socket" {
  sock="$BATS_TEST_TMPDIR/c.sock"
  # bounded, and off bats' fd 3: a failed create must not leave the test waiting forever
  timeout 30 "$NS_RECVTTY" "$sock" > "$BATS_TEST_TMPDIR/tty.out" 2>/dev/null 3>&- &
  rpid=$!
  for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  run rt exec -t --console-socket "$sock" --detach c1 /bin/sh -c 'tty; sleep 0.2'
  [ "$status" -eq 0 ]
  wait "$rpid"
  grep -q '/dev/pts/' "$BATS_TEST_TMPDIR/tty.out"
}

@test "exec -t attached relays the pty" {
  run rt exec -t c1 /bin/sh -c 'tty'
  [ "$status" -eq 0 ]
  [[ "$output" == *"/dev/pts/"* ]]
}

@test "exec without a command runs /bin/sh" {
  run bash -c "echo 'echo shell-here; exit 3' | '$NS_RUNTIME' --root '$ROOT' exec c1"
  [ "$status" -eq 3 ]
  [[ "$output" == *shell-here* ]]
}

@test "exec'd processes see only fds 0-2 (and --preserve-fds)" {
  run bash -c "exec 4</dev/null 5</dev/null; '$NS_RUNTIME' --root '$ROOT' exec c1 /bin/ns-probe fds"
  [ "${lines[0]}" = "fds: 0 1 2" ]
  run bash -c "exec 3</dev/null 4</dev/null; '$NS_RUNTIME' --root '$ROOT' exec --preserve-fds 1 c1 /bin/ns-probe fds"
  [ "${lines[0]}" = "fds: 0 1 2 3" ]
}

@test "exec into a paused or stopped container is refused clearly" {
  rt pause c1
  run rt exec c1 /bin/true
  [ "$status" -ne 0 ]
  [[ "$output" == *"paused"* ]]
  rt resume c1
  rt kill c1 KILL
  wait_status c1 stopped
  run rt exec c1 /bin/true
  [ "$status" -ne 0 ]
  [[ "$output" == *"container not running"* ]]
  run rt exec nope /bin/true
  [[ "$output" == *'container "nope" does not exist'* ]]
}

@test "exec of a missing command fails with the engines' wording" {
  run rt exec c1 no-such-cmd
  [ "$status" -ne 0 ]
  [[ "$output" == *'executable file not found in $PATH'* ]]
}
