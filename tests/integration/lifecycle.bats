#!/usr/bin/env bats
# The runc lifecycle: create / start / state / kill / delete / run / list / ps.

load helpers

setup() { setup_container_env; }
teardown() { teardown_container_env; }

@test "create leaves init blocked: status created, live pid, nothing run until start" {
  mkdir -p "$BATS_TEST_TMPDIR/shared"
  cfg '.mounts += [{"destination": "/shared", "type": "bind", "source": $src, "options": ["rbind"]}]' \
    --arg src "$BATS_TEST_TMPDIR/shared"
  set_args /bin/sh -c 'touch /shared/started; exec /bin/ns-probe sleep 3600'
  run rt create --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/pid" c1
  [ "$status" -eq 0 ]
  [ "$(state_field c1 status)" = created ]
  pid=$(state_field c1 pid)
  [ "$pid" -gt 0 ]
  [ -d "/proc/$pid" ]
  [ "$(cat "$BATS_TEST_TMPDIR/pid")" = "$pid" ]
  sleep 0.3
  [ ! -e "$BATS_TEST_TMPDIR/shared/started" ]
  run rt start c1
  [ "$status" -eq 0 ]
  wait_status c1 running
  for i in $(seq 50); do [ -e "$BATS_TEST_TMPDIR/shared/started" ] && break; sleep 0.1; done
  [ -e "$BATS_TEST_TMPDIR/shared/started" ]
}

@test "only the container's owner can start it: the exec fifo is 0600, another user cannot write it" {
  chmod 0755 "$BATS_TEST_TMPDIR" "$ROOT"
  set_sleeper
  rt create --bundle "$BUNDLE" c1
  [ "$(stat -c %a "$ROOT/c1.fifo")" = 600 ]
  run setpriv --reuid 65534 --regid 65534 --clear-groups sh -c "echo 0 > '$ROOT/c1.fifo'"
  [ "$status" -ne 0 ]
  [[ "$output" == *"Permission denied"* ]]
  [ "$(state_field c1 status)" = created ]
  rt start c1
  [ "$(state_field c1 status)" = running ]
}

@test "start of a plain created container is the lock, the fifo and the byte (the entry point's start)" {
  set_sleeper
  rt create --bundle "$BUNDLE" c1
  rt create --bundle "$BUNDLE" c2
  run strace -f -o "$BATS_TEST_TMPDIR/trace" "$NS_RUNTIME" --root="$ROOT" --log "$BATS_TEST_TMPDIR/log" --log-format json start c1
  [ "$status" -eq 0 ]
  cat "$BATS_TEST_TMPDIR/trace"
  [ "$(state_field c1 status)" = running ]
  [ -e "$BATS_TEST_TMPDIR/log" ]  # made, as main() makes it
  grep -Eq "flock\([0-9]+, LOCK_EX\) += 0" "$BATS_TEST_TMPDIR/trace"
  grep -Eq "unlink\(\"$ROOT/c1.fifo\"\) += 0" "$BATS_TEST_TMPDIR/trace"
  ! grep -q "c1.json" "$BATS_TEST_TMPDIR/trace" || false
  # the state root checked to be ours alone first (a stat and our uid), as main() checks it
  grep -Eq "newfstatat\(AT_FDCWD, \"$ROOT\", .*AT_SYMLINK_NOFOLLOW\) += 0" "$BATS_TEST_TMPDIR/trace"
  [ "$(grep -c . "$BATS_TEST_TMPDIR/trace")" -le 15 ]
  # What it does not settle, main() does, with its own messages
  run rt start c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"cannot start an already running container"* ]]
  run rt start nosuch
  [ "$status" -ne 0 ]
  [[ "$output" == *'container "nosuch" does not exist'* ]]
  run rt start "../c2"
  [ "$status" -ne 0 ]
  [[ "$output" == *"invalid container id format"* ]]
  [ "$(state_field c2 status)" = created ]
  run rt start c2 extra
  [ "$status" -ne 0 ]
  [[ "$output" == *'unexpected argument "extra"'* ]]
  [ "$(state_field c2 status)" = created ]
  run rt --systemd-cgroup start c2
  [ "$status" -ne 0 ]
  [ "$(state_field c2 status)" = created ]
  rt kill c2 KILL
  for i in $(seq 50); do [ "$(state_field c2 status)" = stopped ] && break; sleep 0.1; done
  run rt start c2
  [ "$status" -ne 0 ]
  [[ "$output" == *"cannot start a container that has stopped"* ]]
  run rt -E start c1
  [[ "$output" == *"already running"* ]]
}

@test "run starts the init as it commits it: no exec fifo at all, poststart after the start" {
  set_sleeper
  # A poststart hook records the state it is handed: running, with the init's pid.
  jq --arg out "$BATS_TEST_TMPDIR/poststart" '.hooks.poststart = [{"path": "/bin/sh", "args": ["sh", "-c", "cat > \($out)"]}]' \
    "$BUNDLE/config.json" > "$BATS_TEST_TMPDIR/config.json" && mv "$BATS_TEST_TMPDIR/config.json" "$BUNDLE/config.json"
  # (output to a file: the detached container keeps what it inherits open)
  strace -e trace=mknod,mknodat,openat,unlink,unlinkat -o "$BATS_TEST_TMPDIR/trace" \
    "$NS_RUNTIME" --root="$ROOT" run -d --bundle "$BUNDLE" c1 >"$BATS_TEST_TMPDIR/out" 2>&1
  [ "$(state_field c1 status)" = running ]
  [ ! -e "$ROOT/c1.fifo" ]
  # No fifo was made, opened or removed: the Go over the sync channel started the init.
  ! grep -q 'c1.fifo' "$BATS_TEST_TMPDIR/trace" || false
  jq -e --arg pid "$(state_field c1 pid)" '.status == "running" and (.pid | tostring) == $pid' "$BATS_TEST_TMPDIR/poststart"
  # create + start keep the fifo round trip
  rt create --bundle "$BUNDLE" c2
  [ -p "$ROOT/c2.fifo" ]
  rt start c2
  [ "$(state_field c2 status)" = running ]
}

@test "the state is saved while the init finishes its set-up, before its program runs" {
  # The container sees the state root: its program says whether its own state file is there.
  cfg '.mounts += [{"destination": "/nsroot", "type": "bind", "source": $root, "options": ["rbind", "ro"]}]' --arg root "$ROOT"
  set_args /bin/sh -c 'test -e /nsroot/c1.json && echo saved || echo missing'
  run rt run --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "$output" = saved ]
  # The init asks for the commit once its root is in place (ask-commit) and goes on: the runtime
  # saves the state before the init's last stages (masks, capabilities) are done, not after Ready.
  run rt -E run --bundle "$BUNDLE" c2
  [ "$status" -eq 0 ]
  local saved caps
  saved=$(grep -n '^\[PARENT\] state ' <<<"$output" | head -1 | cut -d: -f1)
  caps=$(grep -n '^\[CHILD\] capabilities ' <<<"$output" | head -1 | cut -d: -f1)
  [ -n "$saved" ] && [ -n "$caps" ] && [ "$saved" -lt "$caps" ]
  grep -q '^\[CHILD\] ask-commit ' <<<"$output"
  # A failure after that point undoes the saved state too (no command to run: refused at create).
  set_args no-such-command
  run rt create --bundle "$BUNDLE" c3
  [ "$status" -ne 0 ]
  [[ "$output" == *'"no-such-command": executable file not found'* ]]
  no_leftovers c3
}

@test "state prints the OCI state document" {
  set_sleeper
  rt create --bundle "$BUNDLE" c1
  run rt state c1
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.ociVersion == "1.2.0" and .id == "c1" and .status == "created" and (.pid > 0)'
  echo "$output" | jq -e --arg b "$BUNDLE" '.bundle == $b'
}

@test "kill then state shows stopped; kill of a stopped container says not running" {
  set_sleeper
  rt run -d --bundle "$BUNDLE" c1
  wait_status c1 running
  run rt kill c1 KILL
  [ "$status" -eq 0 ]
  wait_status c1 stopped
  [ "$(state_field c1 pid)" = 0 ]
  run rt kill c1 TERM
  [ "$status" -eq 1 ]
  [[ "$output" == *"container not running"* ]]
  run rt kill --all c1 9
  [ "$status" -eq 0 ]
}

@test "kill accepts names and numbers; default is SIGTERM" {
  # pid 1 of a pid namespace only receives signals it has a handler for
  set_args /bin/sh -c 'trap "exit 0" USR1 TERM; while :; do sleep 0.1; done'
  rt run -d --bundle "$BUNDLE" c1
  wait_status c1 running
  run rt kill c1 SIGUSR1
  [ "$status" -eq 0 ]
  wait_status c1 stopped
  rt delete c1
  rt run -d --bundle "$BUNDLE" c2
  wait_status c2 running
  run rt kill c2
  [ "$status" -eq 0 ]
  wait_status c2 stopped
  rt delete c2
  rt run -d --bundle "$BUNDLE" c3
  run rt kill c3 15
  [ "$status" -eq 0 ]
  wait_status c3 stopped
  run rt kill c3 NOTASIGNAL
  [ "$status" -ne 0 ]
  [[ "$output" == *"invalid signal"* ]]
}

@test "delete --force on a running container and on an unknown id both exit 0" {
  set_sleeper
  rt run -d --bundle "$BUNDLE" c1
  wait_status c1 running
  pid=$(state_field c1 pid)
  run rt delete c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"not stopped"* ]]
  run rt delete --force c1
  [ "$status" -eq 0 ]
  [ ! -d "/proc/$pid" ] || [ "$(awk '{print $3}' /proc/$pid/stat)" = Z ]
  no_leftovers c1
  run rt delete --force c1
  [ "$status" -eq 0 ]
  run rt delete --force never-existed
  [ "$status" -eq 0 ]
}

@test "delete of a created container kills its init and removes everything" {
  set_sleeper
  rt create --bundle "$BUNDLE" c1
  pid=$(state_field c1 pid)
  run rt delete c1
  [ "$status" -eq 0 ]
  no_leftovers c1
  sleep 0.2
  [ ! -d "/proc/$pid" ] || [ "$(awk '{print $3}' /proc/$pid/stat)" = Z ]
}

@test "unknown container ids are reported as not existing" {
  for verb in state start delete kill ps; do
    run rt $verb nope
    [ "$status" -ne 0 ]
    [[ "$output" == *'container "nope" does not exist'* ]]
  done
}

@test "a second create with the same id is refused and leaves the first alone" {
  set_sleeper
  rt create --bundle "$BUNDLE" c1
  run rt create --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"container with id exists: c1"* ]]
  [ "$(state_field c1 status)" = created ]
}

@test "invalid ids are refused" {
  run rt create --bundle "$BUNDLE" "../evil"
  [ "$status" -ne 0 ]
  [[ "$output" == *"invalid container id"* ]]
  [ -z "$(ls "$ROOT")" ]
}

@test "start of a running container fails; start of a stopped one fails" {
  set_sleeper
  rt run -d --bundle "$BUNDLE" c1
  run rt start c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"already running"* ]]
  rt kill c1 KILL
  wait_status c1 stopped
  run rt start c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"stopped"* ]]
}

@test "run is attached: output, exit code and --rm" {
  set_args /bin/sh -c 'echo out-line; echo err-line >&2; exit 7'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 7 ]
  [[ "$output" == *out-line* ]]
  [[ "$output" == *err-line* ]]
  no_leftovers c1
}

@test "run reports death by signal as 128+N" {
  # without a pid namespace the shell is not an init, so it can kill itself
  cfg 'del(.linux.namespaces[] | select(.type == "pid"))'
  set_args /bin/sh -c 'kill -9 $$'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 137 ]
}

@test "run without a pid namespace: what the init leaves in its cgroup is killed, the cgroup removed" {
  # run knows its init is gone (it waited for it), so it tries the cgroup's rmdir first: EBUSY
  # here, with a sleeper left behind, sends it to the kill loop
  cfg 'del(.linux.namespaces[] | select(.type == "pid"))'
  set_args /bin/sh -c 'sleep 300 >/dev/null 2>&1 & echo "left=$!"'
  run rt run --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [[ "$output" =~ left=([0-9]+) ]]
  local pid=${BASH_REMATCH[1]} st
  st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
  [ -z "$st" ] || [ "$st" = Z ]
  no_leftovers c1
}

@test "run deletes the exited container as runc does; --keep leaves it stopped" {
  set_args /bin/sh -c 'exit 4'
  run rt run --bundle "$BUNDLE" c1
  [ "$status" -eq 4 ]
  no_leftovers c1
  run rt run --keep --bundle "$BUNDLE" c1
  [ "$status" -eq 4 ]
  [ "$(state_field c1 status)" = stopped ]
  rt delete c1
  no_leftovers c1
  run rt run --rm --keep --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"--rm and --keep contradict"* ]]
  no_leftovers c1
}

@test "an attached run holds the container's mount namespace and lets a thread of its own tear it down after the init is reaped; -d and --keep do not" {
  set_args /bin/true
  # one trace file per thread (-ff: no call cut in two by another thread's), with times
  run strace -ff -ttt -qq -e trace=openat,close,wait4 -o "$BATS_TEST_TMPDIR/trace" "$NS_RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  no_leftovers c1
  local t=$BATS_TEST_TMPDIR/trace main line fd child reaped f closed=
  main=$(grep -lE 'openat\(AT_FDCWD, "/proc/[0-9]+/ns/mnt"' "$t".*)
  [ "$(echo "$main" | wc -w)" = 1 ]
  line=$(grep -hE 'openat\(AT_FDCWD, "/proc/[0-9]+/ns/mnt", O_RDONLY\|O_CLOEXEC\) = [0-9]+$' "$main")
  fd=${line##*= }
  child=$(echo "$line" | sed 's|.*"/proc/\([0-9]*\)/ns/mnt".*|\1|')
  # the runtime reaps the child; then another thread of the runtime closes the fd
  reaped=$(grep -hE "wait4\($child, \[" "$main" | head -1 | awk '{print $1}')
  [ -n "$reaped" ]
  for f in "$t".*; do
    [ "$f" = "$main" ] || [ "$f" = "$t.$child" ] && continue
    grep -hE "^[0-9.]+ close\($fd\) += 0" "$f" | awk -v r="$reaped" '$1 > r {found=1} END {exit !found}' && closed=$f
  done
  [ -n "$closed" ]
  rm -f "$t".*
  # detached, or kept for a later delete: nothing held
  strace -f -qq -e trace=openat -o "$t" "$NS_RUNTIME" --root "$ROOT" run --keep --bundle "$BUNDLE" c2 >/dev/null 2>&1
  ! grep -q "/ns/mnt" "$t" || false
  rt delete c2
  set_sleeper
  # (no -f: strace would wait for the detached container; the runtime opens in its main thread)
  strace -qq -e trace=openat -o "$t" "$NS_RUNTIME" --root "$ROOT" run -d --bundle "$BUNDLE" c3 >"$BATS_TEST_TMPDIR/out" 2>&1
  ! grep -q "/ns/mnt" "$t" || false
  rt delete --force c3
  no_leftovers c3
}

@test "attached runs one after another all return: the runtime's exit wait sees SIGCHLD with its thread there" {
  # the holding thread blocks every signal; a thread that did not would take SIGCHLD, which
  # is ignored by default, and the runtime's wait would never return
  set_args /bin/true
  for i in $(seq 20); do
    run timeout 20 "$NS_RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "r$i"
    [ "$status" -eq 0 ]
  done
  [ -z "$(ls "$ROOT")" ]
}

@test "the container's stdin is the runtime's" {
  set_args /bin/cat
  run bash -c "echo piped-in | '$NS_RUNTIME' --root '$ROOT' run --rm --bundle '$BUNDLE' c1"
  [ "$status" -eq 0 ]
  [ "$output" = piped-in ]
}

@test "list shows containers in table, json and quiet form" {
  set_sleeper
  rt create --bundle "$BUNDLE" c1
  rt run -d --bundle "$BUNDLE" c2
  run rt list
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == ID*PID*STATUS*BUNDLE*CREATED*OWNER ]]
  [[ "$output" == *c1*created* ]]
  [[ "$output" == *c2*running* ]]
  run rt list -q
  [ "$output" = "$(printf 'c1\nc2')" ]
  run rt list --format json
  echo "$output" | jq -e 'length == 2 and .[0].id == "c1" and .[1].status == "running"'
}

@test "ps lists the container's processes as json pids and as a ps table" {
  set_args /bin/sh -c '/bin/ns-probe sleep 3600 & exec /bin/ns-probe sleep 3600'
  rt run -d --bundle "$BUNDLE" c1
  wait_status c1 running
  pid=$(state_field c1 pid)
  for i in $(seq 50); do [ "$(rt ps --format json c1 | jq length)" = 2 ] && break; sleep 0.1; done
  run rt ps --format json c1
  [ "$status" -eq 0 ]
  echo "$output" | jq -e --argjson p "$pid" 'length == 2 and (index($p) != null)'
  run rt ps c1
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == *PID* ]]
  [ "${#lines[@]}" -eq 3 ]
  [[ "$output" == *"ns-probe sleep 3600"* ]]
}

@test "kill --all signals every process of the container" {
  set_args /bin/sh -c 'trap "" TERM; /bin/ns-probe sleep 3600 & /bin/ns-probe sleep 3600 & wait'
  rt run -d --bundle "$BUNDLE" c1
  wait_status c1 running
  for i in $(seq 50); do [ "$(rt ps --format json c1 | jq length)" = 3 ] && break; sleep 0.1; done
  run rt kill --all c1 KILL
  [ "$status" -eq 0 ]
  wait_status c1 stopped
}

@test "pid file is written with an absolute path and a relative one" {
  set_sleeper
  rt create --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/abs.pid" c1
  [ "$(cat "$BATS_TEST_TMPDIR/abs.pid")" = "$(state_field c1 pid)" ]
  cd "$BATS_TEST_TMPDIR"
  rt create --bundle "$BUNDLE" --pid-file rel.pid c2
  [ "$(cat "$BATS_TEST_TMPDIR/rel.pid")" = "$(state_field c2 pid)" ]
}

@test "create from the bundle directory without --bundle, flags as --flag=value" {
  set_sleeper
  run bash -c "cd '$BUNDLE' && '$NS_RUNTIME' --root='$ROOT' create --pid-file='$BATS_TEST_TMPDIR/p' c1 >/dev/null 2>&1"
  [ "$status" -eq 0 ]
  [ "$(state_field c1 status)" = created ]
}

@test "a container whose init died reads stopped and can be deleted without force" {
  set_sleeper
  rt run -d --bundle "$BUNDLE" c1
  kill -9 "$(state_field c1 pid)"
  wait_status c1 stopped
  run rt delete c1
  [ "$status" -eq 0 ]
  no_leftovers c1
}

@test "the default state root is /run/nano-sandbox for root" {
  set_sleeper
  id="nstest-default-root-$$"
  "$NS_RUNTIME" create --bundle "$BUNDLE" "$id" >/dev/null 2>&1
  [ -f "/run/nano-sandbox/$id.json" ]
  [ -f "/run/nano-sandbox/$id.lock" ]
  "$NS_RUNTIME" delete --force "$id"
  [ -z "$(ls /run/nano-sandbox | grep -F "$id")" ]
}

@test "--version and --help on every verb" {
  run "$NS_RUNTIME" --version
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "ns-runtime version "* ]]
  [[ "$output" == *"spec: 1.2.0"* ]]
  for verb in create start run state kill delete list ps exec pause resume update events features spec; do
    run "$NS_RUNTIME" $verb --help
    [ "$status" -eq 0 ]
    [[ "$output" == *Usage* ]]
  done
}

@test "an unknown verb or flag is an error" {
  run "$NS_RUNTIME" frobnicate
  [ "$status" -ne 0 ]
  run "$NS_RUNTIME" create --no-such-flag x
  [ "$status" -ne 0 ]
  [[ "$output" == *"no-such-flag"* ]]
  run "$NS_RUNTIME" checkpoint --help
  [ "$status" -ne 0 ]
}

@test "spec writes a default config.json that parses, and refuses to overwrite" {
  d="$BATS_TEST_TMPDIR/specdir"
  mkdir -p "$d"
  run "$NS_RUNTIME" spec --bundle "$d"
  [ "$status" -eq 0 ]
  jq -e '.ociVersion == "1.2.0" and .process.args == ["sh"] and .process.terminal == true' "$d/config.json"
  run "$NS_RUNTIME" spec --bundle "$d"
  [ "$status" -ne 0 ]
  [[ "$output" == *exists* ]]
  mkdir -p "$d/r"
  run "$NS_RUNTIME" spec --rootless --bundle "$d/r"
  [ "$status" -eq 0 ]
  jq -e '.linux.uidMappings[0].containerID == 0 and ([.linux.namespaces[].type] | index("user") != null)' "$d/r/config.json"
}

@test "features prints the runtime-spec features document" {
  run "$NS_RUNTIME" features
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.ociVersionMax == "1.2.0" and (.hooks | length == 6) and (.mountOptions | index("rbind") != null)
    and (.linux.namespaces | index("time") != null) and (.linux.capabilities | index("CAP_SYS_ADMIN") != null)
    and .linux.seccomp.enabled and (.linux.seccomp.actions | index("SCMP_ACT_ERRNO") != null)'
}

@test "a reader that goes away does not kill run half-way: the container runs and is removed" {
  cfg '.hostname = "piped"'
  set_args /bin/sh -c 'hostname > /tmp/x; echo ran'
  run bash -c "'$NS_RUNTIME' --root '$ROOT' -E run --rm --bundle '$BUNDLE' demo 2>&1 | head -1"
  [ "$status" -eq 0 ]
  [ -n "$output" ]
  no_leftovers demo
}

@test "the container's program gets SIGPIPE's default disposition, hooks or not" {
  cfg '.hooks.createContainer = [{"path": "/bin/true"}] | .hooks.prestart = [{"path": "/bin/true"}]'
  set_args /bin/grep SigIgn /proc/self/status
  run rt run --rm --bundle "$BUNDLE" demo
  [ "$status" -eq 0 ]
  # bit 12 is SIGPIPE (13): it must not be ignored
  local mask=${output##*$'\t'}
  (( (16#$mask & 0x1000) == 0 )) || { echo "SIGPIPE ignored in the container: $output" >&2; return 1; }
}

@test "a runtime killed half-way through create leaves no process behind" {
  set_sleeper
  # killed while its child is still being set up: the createRuntime hook (a child of the runtime) kills it
  cfg '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "kill -9 $PPID"]}]'
  run rt create --bundle "$BUNDLE" demo
  [ "$status" -ne 0 ]
  cgroup_drains demo
  rt delete --force demo
  # killed after init said Ready, at the rename that saves state.json (strace injects SIGKILL there)
  cfg 'del(.hooks)'
  run strace -qq -o /dev/null -e trace=rename -e inject=rename:signal=SIGKILL \
    "$NS_RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" demo >"$BATS_TEST_TMPDIR/out" 2>&1
  [ "$status" -ne 0 ]
  cgroup_drains demo
  # the id is free again after delete --force
  rt delete --force demo
  rt create --bundle "$BUNDLE" demo
  rt delete --force demo
  no_leftovers demo
}

# cgroup_drains ID: the default cgroup of ID holds no process within 5 s.
cgroup_drains() {
  local i procs
  for i in $(seq 50); do
    procs=$(cat /sys/fs/cgroup/pids/nano-sandbox/"$1"/cgroup.procs /sys/fs/cgroup/nano-sandbox/"$1"/cgroup.procs 2>/dev/null || true)
    [ -z "$procs" ] && return 0
    sleep 0.1
  done
  echo "processes left in the cgroup of $1: $procs" >&2
  return 1
}
