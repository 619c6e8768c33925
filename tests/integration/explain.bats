#!/usr/bin/env bats
# -E/--explain: every stage that ran is narrated with its real kernel calls, the reason it is
# there, the config.json field that asked for it, and timings that add up.

load helpers

setup() { setup_container_env; }
teardown() { teardown_container_env; }

INIT_STAGES="namespaces session loopback oom-score rootfs mounts cgroup-wait cgroup-namespace cgroup-mounts cgroup-enter devices
  runtime-hooks-wait create-container-hooks cwd-create pivot-root hostname sysctl finalize-rootfs console rlimits
  seccomp-privileged capabilities-bounding user capabilities cwd no-new-privileges seccomp"
PARENT_STAGES="config cgroup exec-fifo parent-namespaces clone cgroup-join state start"

@test "explain text: every stage is narrated with its reason, its config field and the real arguments" {
  cfg '.hostname = "explained-host"'
  set_args /bin/true
  run bash -c "'$NS_RUNTIME' --root '$ROOT' -E run --rm --bundle '$BUNDLE' demo 2>&1"
  [ "$status" -eq 0 ]
  for stage in $INIT_STAGES; do
    [[ "$output" == *"[CHILD] $stage "* ]] || { echo "stage $stage not narrated" >&2; return 1; }
  done
  # (run has no exec fifo: the commit's message starts the init)
  for stage in ${PARENT_STAGES/exec-fifo /} kill cgroup-remove state-remove; do
    [[ "$output" == *"[PARENT] $stage "* ]] || { echo "parent stage $stage not narrated" >&2; return 1; }
  done
  [[ "$output" != *"[PARENT] exec-fifo "* ]]
  # the arguments shown are the real ones
  [[ "$output" == *'sethostname("explained-host")'* ]]
  [[ "$output" == *'pivot_root(".", ".")'* ]]
  [[ "$output" == *"mount(\"proc\", \"$NS_BUNDLE/rootfs/proc\", \"proc\""* ]]
  [[ "$output" == *'prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN)'* ]]
  [[ "$output" == *'- kept: CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE; dropped: '* ]]
  [[ "$output" == *'- CLONE_NEWPID: '* ]]
  # the network namespace is made by a thread of the runtime, and entered by the child
  [[ "$output" == *"[THREAD] netns-thread "*'unshare(CLONE_NEWNET)'* ]]
  [[ "$output" == *'setns("net:['* ]]
  [[ "$output" == *"rmdir(\"/sys/fs/cgroup/"*"/nano-sandbox/demo\")"* ]]
  # the reason and the field that asked for it
  [[ "$output" == *"pivot-root"*"config.json: root.path"*"why: pivot_root makes the rootfs the root"* ]]
  [[ "$output" == *"config.json: hostname, domainname"* ]]
  [[ "$output" == *"run: where the time went"* ]]
  [[ "$output" == *"run: deleting the exited container: where the time went"* ]]
}

@test "explain json: one side's stages never overlap, the timeline adds up within the command's wall time" {
  set_args /bin/true
  local t0 t1
  t0=$(date +%s%N)
  # into a file: the created init keeps the runtime's stdio, a pipe would stay open
  "$NS_RUNTIME" --root "$ROOT" --explain=json create --bundle "$BUNDLE" demo 2>"$BATS_TEST_TMPDIR/events" >/dev/null
  t1=$(date +%s%N)
  local events
  events=$(cat "$BATS_TEST_TMPDIR/events")
  echo "$events" | jq -e -s 'all(.[]; has("event"))'
  # every init stage, once, with its config field
  for stage in $INIT_STAGES; do
    echo "$events" | jq -e -s --arg s "$stage" '[.[] | select(.event == "stage" and .role == "CHILD" and .stage == $s)] | length == 1'
  done
  echo "$events" | jq -e -s '[.[] | select(.event == "stage" and .stage == "mounts")][0].field == "mounts"'
  echo "$events" | jq -e -s '[.[] | select(.event == "note")] | length >= 3'
  # the stages of one side, in time order, never overlap; the runtime's and the child's do (the
  # runtime makes and joins the cgroup while the child mounts, and the child's cgroup-wait spans it),
  # and so does the runtime's network namespace thread, which starts before the clone
  echo "$events" | jq -e -s '[.[] | select(.event == "stage" and .role == "THREAD" and .stage == "netns-thread")] | length == 1'
  for role in PARENT CHILD THREAD; do
    echo "$events" | jq -e -s --arg r "$role" '[.[] | select(.event == "stage" and .role == $r)] | sort_by(.start_ns) as $s
        | all(range(1; $s | length); $s[.].start_ns >= $s[. - 1].end_ns)'
  done
  # the child's wait for its cgroup's directories ends after the runtime began to make them, and
  # its move into the cgroup ends after the runtime has opened the files it moves itself in with
  echo "$events" | jq -e -s '([.[] | select(.event == "stage" and .stage == "cgroup-wait")][0]) as $w
      | [.[] | select(.event == "stage" and .role == "PARENT" and .stage == "cgroup")][0] | .start_ns <= $w.end_ns'
  echo "$events" | jq -e -s '([.[] | select(.event == "stage" and .stage == "cgroup-enter")][0]) as $e
      | [.[] | select(.event == "stage" and .role == "PARENT" and .stage == "cgroup-join")][0] | .end_ns <= $e.end_ns'
  # the durations add up: time covered by stages + time between them = the wall time, which the
  # command's own elapsed time (measured from outside) contains; the stages' sum exceeds what they
  # cover by exactly what ran side by side
  echo "$events" | jq -e -s '([.[] | select(.event == "stage") | .duration_us] | add) as $sum
      | [.[] | select(.event == "timeline")][0] | (.stages_us - $sum | fabs) <= 40
        and (.stages_us - .overlap_us - .covered_us | fabs) <= 2
        and (.covered_us + .other_us - .wall_us | fabs) <= 2'
  local wall
  wall=$(echo "$events" | jq -s '[.[] | select(.event == "timeline")][0].wall_us')
  (( wall > 0 && wall <= (t1 - t0) / 1000 ))
  # most of the wall time is in named stages, not unexplained
  echo "$events" | jq -e -s '[.[] | select(.event == "timeline")][0] | .covered_us >= .wall_us / 2'
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

@test "exec, state, pause, resume, kill and delete narrate their own steps" {
  set_sleeper
  rt run -d --bundle "$BUNDLE" demo
  run bash -c "'$NS_RUNTIME' --root '$ROOT' -E exec demo /bin/true 2>&1"
  [ "$status" -eq 0 ]
  for stage in cgroup-join join-namespaces session capabilities-bounding user capabilities no-new-privileges; do
    [[ "$output" == *"[CHILD] $stage "* ]] || { echo "exec stage $stage not narrated" >&2; return 1; }
  done
  [[ "$output" == *'setns("mnt:['* ]]
  [[ "$output" == *"exec: where the time went"* ]]
  run bash -c "'$NS_RUNTIME' --root '$ROOT' -E state demo 2>&1 >/dev/null"
  [[ "$output" == *"[PARENT] status"*"/stat\"): field 22, the start time"*"- init alive, no exec fifo, cgroup not frozen: running"* ]]
  run bash -c "'$NS_RUNTIME' --root '$ROOT' -E pause demo 2>&1"
  [[ "$output" == *"[PARENT] freeze"*'"FROZEN"'* ]]
  run bash -c "'$NS_RUNTIME' --root '$ROOT' -E resume demo 2>&1"
  [[ "$output" == *"[PARENT] thaw"*'"THAWED"'* ]]
  run bash -c "'$NS_RUNTIME' --root '$ROOT' -E kill demo KILL 2>&1"
  [[ "$output" == *"[PARENT] kill"*"pidfd_send_signal(pidfd_open("*"), SIGKILL)"* ]]
  wait_status demo stopped
  run bash -c "'$NS_RUNTIME' --root '$ROOT' -E delete demo 2>&1"
  [ "$status" -eq 0 ]
  [[ "$output" == *"[PARENT] cgroup-remove"*"[PARENT] state-remove"* ]]
  [[ "$output" == *"delete: where the time went"* ]]
  no_leftovers demo
}

@test "update narrates what each cgroup file written means" {
  set_sleeper
  rt run -d --bundle "$BUNDLE" demo
  run bash -c "'$NS_RUNTIME' --root '$ROOT' -E update --memory 64M --pids-limit 50 demo 2>&1"
  [ "$status" -eq 0 ]
  [[ "$output" == *"[PARENT] cgroup-update"* ]]
  [[ "$output" == *"memory.limit_in_bytes = 67108864: the most memory the container may use"* ||
     "$output" == *"memory.max = 67108864: the most memory the container may use"* ]]
  [[ "$output" == *"pids.max = 50: the most processes and threads"* ]]
}
