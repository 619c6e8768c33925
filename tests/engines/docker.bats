#!/usr/bin/env bats
# Docker 20.10 with the runtime under test registered by --add-runtime, on a private containerd.
# Docker adds a prestart hook (libnetwork-setkey) to every container, even with --network none.

bats_require_minimum_version 1.5.0
load engines

setup_file() {
  begin_suite
  note_run_containerd
  note_cgroup_parent docker
  # dockerd 20.10 writes a libtrust key to /etc/docker/key.json whatever its other paths say.
  note_existed docker-key test -e /etc/docker/key.json
  start_containerd ctrd
  local d="$WORK/docker"
  mkdir -p "$d"
  echo '{}' >"$d/daemon.json"
  dockerd --config-file "$d/daemon.json" --data-root "$d/root" --exec-root "$d/exec" --pidfile "$d/dockerd.pid" \
    -H "unix://$d/docker.sock" --containerd "$WORK/ctrd/containerd.sock" \
    --add-runtime "engtest=$RUNTIME" --bridge=none --iptables=false --ip-masq=false \
    --exec-opt native.cgroupdriver=cgroupfs >"$d/dockerd.log" 2>&1 &
  wait_for /usr/bin/docker -H "unix://$d/docker.sock" info
  d import -c 'CMD ["/bin/sh"]' "$WORK/busybox.tar" localhost/busybox:latest >/dev/null
}

teardown_file() {
  [ -n "${WORK:-}" ] || return 0
  d rm -f $(d ps -a -q 2>/dev/null) >/dev/null 2>&1 || true
  stop_daemon "$WORK/docker/dockerd.pid"
  stop_daemon "$WORK/ctrd/containerd.pid"
  clean_run_containerd
  clean_cgroup_parent docker
  ! suite_made docker-key || rm -f /etc/docker/key.json
  end_suite
}

setup() {
  require_root
}

# The Debian client, whatever else is first in PATH.
d() {
  /usr/bin/docker -H "unix://$WORK/docker/docker.sock" "$@"
}

drun() {
  d run --runtime engtest --network none "$@"
}

@test "docker run --rm: output and exit codes" {
  run drun --rm localhost/busybox echo hello from docker
  [ "$status" -eq 0 ]
  [ "$output" = "hello from docker" ]
  run drun --rm localhost/busybox sh -c 'exit 3'
  [ "$status" -eq 3 ]
  [ -z "$(d ps -a -q)" ]
}

@test "docker: a missing binary exits 127, a non-executable file 126, a file as workdir 125" {
  run -127 drun --rm localhost/busybox /nonexistent
  [[ "$output" == *"no such file or directory"* ]]
  run -127 drun --rm localhost/busybox nonexistent
  [[ "$output" == *"executable file not found"* ]]
  run -126 drun --rm -u 1000 localhost/busybox /etc/passwd
  [[ "$output" == *"permission denied"* ]]
  run -125 drun --rm -w /etc/passwd localhost/busybox pwd
  d container prune -f >/dev/null
  [ -z "$(d ps -a -q)" ]
}

@test "docker run -d, exec, top, update, stop" {
  drun -d --name d1 --memory 64m localhost/busybox sh -c 'trap "exit 42" TERM; while :; do sleep 0.1; done' >/dev/null
  local id
  id=$(d inspect -f '{{.Id}}' d1)
  # the container runs in its cgroup, and Docker's prestart hook was in the config it was made from
  [ -d "/sys/fs/cgroup/memory/docker/$id" ] || [ -d "/sys/fs/cgroup/docker/$id" ]
  local config
  config=$(find "$WORK/ctrd/state" -path "*$id*" -name config.json | head -1)
  [ "$(jq -r ".hooks.prestart[0].args[0]" "$config")" = libnetwork-setkey ]
  run d exec d1 sh -c 'echo exec-ok; cat /proc/1/cmdline | tr "\0" " "'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = exec-ok ]
  [[ "${lines[1]}" == "sh -c trap"* ]]
  run d exec d1 sh -c 'exit 4'
  [ "$status" -eq 4 ]
  run -126 d exec d1 /nonexistent
  [[ "$output" == *"no such file or directory"* ]]
  run -126 d exec -w /nonexistent d1 pwd
  run -126 d exec -u 1000 d1 /etc/passwd

  # top: docker asks the runtime for the container's pids (ps --format json)
  run d top d1
  [ "$status" -eq 0 ]
  [[ "$output" == *"sh -c trap"* ]]
  local pid
  pid=$(d inspect -f '{{.State.Pid}}' d1)
  [[ "$output" == *" $pid "* ]]

  # update: the JSON on stdin carries 0 for everything not asked for, which must stay unchanged
  run d exec d1 cat "$MEM_LIMIT_FILE"
  [ "$output" = 67108864 ]
  d update --pids-limit 77 d1 >/dev/null
  run d exec d1 cat "$MEM_LIMIT_FILE" "$PIDS_LIMIT_FILE"
  [ "${lines[0]}" = 67108864 ]
  [ "${lines[1]}" = 77 ]
  d update --memory 96m --memory-swap 192m d1 >/dev/null
  run d exec d1 cat "$MEM_LIMIT_FILE" "$PIDS_LIMIT_FILE"
  [ "${lines[0]}" = 100663296 ]
  [ "${lines[1]}" = 77 ]

  d stop -t 10 d1 >/dev/null
  [ "$(d inspect -f '{{.State.Status}} {{.State.ExitCode}}' d1)" = "exited 42" ]
  d rm d1 >/dev/null
  no_cgroup_named "$id"
}

@test "docker kill and rm -f leave no container, no runtime state, no cgroup" {
  drun -d --name k1 localhost/busybox sleep 1000 >/dev/null
  local id
  id=$(d inspect -f '{{.Id}}' k1)
  d kill k1 >/dev/null
  wait_for sh -c "[ \"\$(/usr/bin/docker -H unix://$WORK/docker/docker.sock inspect -f '{{.State.Status}}' k1)\" = exited ]"
  [ "$(d inspect -f '{{.State.ExitCode}}' k1)" = 137 ]
  d rm k1 >/dev/null
  drun -d --name k2 localhost/busybox sleep 1000 >/dev/null
  local id2
  id2=$(d inspect -f '{{.Id}}' k2)
  d rm -f k2 >/dev/null
  [ -z "$(d ps -a -q)" ]
  no_cgroup_named "$id"
  no_cgroup_named "$id2"
  # the runtime's state: <root>/<id>.json and <root>/<id>.lock
  [ -z "$(find "$WORK/docker/exec" \( -name "$id.*" -o -name "$id2.*" \) -type f 2>/dev/null)" ]
  ! pgrep -f "containerd-shim-runc-v2 -namespace moby" >/dev/null || false
}
