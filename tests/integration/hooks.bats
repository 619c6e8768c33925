#!/usr/bin/env bats
# OCI hooks: order, state on stdin, namespaces, failures and timeouts.

load helpers

setup() {
  setup_container_env
  LOG="$BATS_TEST_TMPDIR/hooklog"
  mkdir -p "$LOG"
  cfg '.mounts += [{"destination": "/hooklog", "type": "bind", "source": $l, "options": ["rbind"]}]' --arg l "$LOG"
}
teardown() { teardown_container_env; }

# A host hook that records its phase, its stdin and its mount namespace.
host_hook() {
  jq -n --arg p "$1" --arg l "$LOG" '{path: "/bin/sh", args: ["sh", "-c", "cat > \($l)/\($p).json; readlink /proc/self/ns/mnt > \($l)/\($p).mnt; echo \($p) >> \($l)/order"], env: ["PATH=/usr/bin:/bin"]}'
}

@test "every hook runs once, in lifecycle order, with the state on stdin" {
  cfg '.hooks = {prestart: [$pre], createRuntime: [$cr], createContainer: [$cc], poststart: [$ps], poststop: [$pst],
                 startContainer: [{path: "/bin/sh", args: ["sh", "-c", "cat > /hooklog/startContainer.json; echo startContainer >> /hooklog/order"]}]}
       | .annotations = {"org.example.key": "value"}' \
      --argjson pre "$(host_hook prestart)" --argjson cr "$(host_hook createRuntime)" \
      --argjson cc "$(host_hook createContainer)" --argjson ps "$(host_hook poststart)" \
      --argjson pst "$(host_hook poststop)"
  set_sleeper
  rt create --bundle "$BUNDLE" c1
  pid=$(state_field c1 pid)
  [ "$(cat "$LOG/order")" = "$(printf 'prestart\ncreateRuntime\ncreateContainer')" ]
  # poststart hooks: the fifo's sticky bit sends start to main(), which runs them
  [ "$(stat -c %a "$ROOT/c1.fifo")" = 1600 ]
  rt start c1
  for i in $(seq 50); do [ "$(wc -l < "$LOG/order")" -ge 5 ] && break; sleep 0.1; done
  rt delete --force c1
  [ "$(cat "$LOG/order")" = "$(printf 'prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart\npoststop')" ] || \
  [ "$(cat "$LOG/order")" = "$(printf 'prestart\ncreateRuntime\ncreateContainer\npoststart\nstartContainer\npoststop')" ]
  for phase in prestart createRuntime createContainer startContainer poststart poststop; do
    jq -e --arg id c1 --arg b "$BUNDLE" '.id == $id and .bundle == $b and .ociVersion == "1.2.0" and .annotations["org.example.key"] == "value"' "$LOG/$phase.json"
  done
  jq -e --argjson p "$pid" '.pid == $p and .status == "creating"' "$LOG/createRuntime.json"
  jq -e --argjson p "$pid" '.pid == $p and .status == "creating"' "$LOG/createContainer.json"
  jq -e --argjson p "$pid" '.pid == $p and .status == "running"' "$LOG/poststart.json"
  jq -e '.status == "stopped"' "$LOG/poststop.json"
  # runtime-side hooks see the host's mount namespace, createContainer the container's
  [ "$(cat "$LOG/createRuntime.mnt")" = "$(readlink /proc/self/ns/mnt)" ]
  [ "$(cat "$LOG/createContainer.mnt")" != "$(readlink /proc/self/ns/mnt)" ]
}

@test "hook args and env are passed as given" {
  cfg '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "echo \"$0 $1 $FOO\" > \($l)/args", "first", "second"], env: ["FOO=bar"]}]' --arg l "$LOG"
  set_args /bin/true
  rt run --rm --bundle "$BUNDLE" c1
  [ "$(cat "$LOG/args")" = "first second bar" ]
}

@test "a failing createRuntime hook fails create and leaves nothing" {
  cfg '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "echo hook-said-no >&2; exit 3"]}]'
  run rt create --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"createRuntime"* ]]
  [[ "$output" == *"exit status 3"* ]]
  [[ "$output" == *"hook-said-no"* ]]
  no_leftovers c1
}

@test "a failing createContainer hook fails create and leaves nothing" {
  cfg '.hooks.createContainer = [{path: "/bin/false"}]'
  run rt create --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"createContainer"* ]]
  no_leftovers c1
}

@test "a missing hook binary fails create" {
  cfg '.hooks.prestart = [{path: "/nonexistent/hook"}]'
  run rt create --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"/nonexistent/hook"* ]]
  [[ "$output" == *"no such file or directory"* ]]
  no_leftovers c1
}

@test "a hook that outlives its timeout is killed and fails create" {
  # An odd duration, matched whole: no other process on the machine is this one.
  cfg '.hooks.createRuntime = [{path: "/bin/sleep", args: ["sleep", "29.731"], timeout: 1}]'
  start=$(date +%s)
  run rt create --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"timed out after 1s"* ]]
  [ $(( $(date +%s) - start )) -lt 10 ]
  no_leftovers c1
  ! pgrep -fx "sleep 29.731" >/dev/null || false
}

@test "failing poststart and poststop hooks are warnings" {
  cfg '.hooks.poststart = [{path: "/bin/false"}] | .hooks.poststop = [{path: "/bin/false"}]'
  set_sleeper
  rt create --bundle "$BUNDLE" c1
  run rt start c1
  [ "$status" -eq 0 ]
  [[ "$output" == *poststart* ]]
  run rt delete --force c1
  [ "$status" -eq 0 ]
  [[ "$output" == *poststop* ]]
  no_leftovers c1
}

@test "a Docker-style prestart hook (any host binary, no PATH) runs" {
  cfg '.hooks.prestart = [{path: "/bin/sh", args: ["/proc/self/exe-ignored", "-c", "test -n \"$(cat)\" && touch \($l)/docker-hook-ran"]}]' --arg l "$LOG"
  set_args /bin/true
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ -e "$LOG/docker-hook-ran" ]
}
