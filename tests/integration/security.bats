#!/usr/bin/env bats
# Attacks on the runtime, each performed for real: what the caller, the image, the config or the
# state directory can do to get out of the container, and the defence that stops it
# (docs/security.md lists them, attack class by attack class).

load helpers
bats_require_minimum_version 1.5.0

setup() {
  setup_container_env
  SECRET="host-secret-$$-$RANDOM"
  echo "$SECRET" > "$BATS_TEST_TMPDIR/host-file"
}
teardown() { teardown_container_env; }

# --- 1. No fd of the runtime reaches the container -------------------------------------------

# only_fd3: the caller's side of each test: fd 3 open, nothing else above stdio (bats holds some).
only_fd3='exec 3</dev/null; for f in 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do eval "exec $f>&-"; done'

# reads_through_fds: a container command that reads the host file through every fd it got
# (/proc/self/fd/N/.. climbs from an fd of a host directory up to the host's /).
reads_through_fds() {
  echo "/bin/ns-probe fds env; for i in 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do [ -e /proc/self/fd/\$i ] && cat /proc/self/fd/\$i/../../../../../../../../..$BATS_TEST_TMPDIR/host-file; done 2>/dev/null; true"
}

# caller_runs SETUP ARGS...: ns-runtime ARGS, exec'd by a shell that has fd 3 open and nothing
# else above stdio, after SETUP (exports; "" for none). It must succeed, and no host secret may
# have been read through any fd.
caller_runs() {
  local setup=$1
  shift
  run bash -c "$only_fd3; $setup exec '$NS_RUNTIME' --root '$ROOT' $*"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" != *"$SECRET"* ]]
}

@test "fds: --preserve-fds beyond what the caller opened passes the caller's fds, never the runtime's" {
  set_args /bin/sh -c "$(reads_through_fds)"
  caller_runs "" run --rm --preserve-fds 12 --bundle "'$BUNDLE'" c1
  [ "${lines[0]}" = "fds: 0 1 2 3" ]   # 0-2 and the caller's 3
  no_leftovers c1
}

@test "fds: LISTEN_FDS without LISTEN_PID (or another process's) passes nothing" {
  set_args /bin/sh -c "$(reads_through_fds)"
  caller_runs "export LISTEN_FDS=12;" run --rm --bundle "'$BUNDLE'" c1
  [ "${lines[0]}" = "fds: 0 1 2" ]
  [[ "$output" != *"env: LISTEN_"* ]]
  caller_runs "export LISTEN_FDS=12 LISTEN_PID=1;" run --rm --bundle "'$BUNDLE'" c1
  [ "${lines[0]}" = "fds: 0 1 2" ]
  [[ "$output" != *"env: LISTEN_"* ]]
}

@test "fds: LISTEN_FDS for us passes that many, no more, and the runtime's own never" {
  set_args /bin/sh -c "$(reads_through_fds)"
  caller_runs 'export LISTEN_FDS=12 LISTEN_PID=$$;' run --rm --bundle "'$BUNDLE'" c1
  [ "${lines[0]}" = "fds: 0 1 2 3" ]
  [[ "$output" == *"env: LISTEN_FDS=12"* ]]
  [[ "$output" == *"env: LISTEN_PID=1"* ]]
}

@test "fds: exec --preserve-fds beyond what the caller opened passes no fd of the runtime's" {
  set_sleeper
  rt run -d --bundle "$BUNDLE" c1
  caller_runs "" exec --preserve-fds 12 c1 /bin/sh -c "'$(reads_through_fds)'"
  [ "${lines[0]}" = "fds: 0 1 2 3" ]
}

@test "fds: a negative count (--preserve-fds, LISTEN_FDS) is refused, not a container with stdio closed" {
  set_sleeper
  run rt run -d --preserve-fds -5 --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"--preserve-fds -5: must not be negative"* ]]
  no_leftovers c1
  run bash -c "export LISTEN_FDS=-5 LISTEN_PID=\$\$; exec '$NS_RUNTIME' --root '$ROOT' run -d --bundle '$BUNDLE' c1"
  [ "$status" -ne 0 ]
  [[ "$output" == *'LISTEN_FDS="-5"'*"not a count of fds"* ]]
  no_leftovers c1
  rt run -d --bundle "$BUNDLE" c2
  run rt exec --preserve-fds -5 c2 /bin/true
  [ "$status" -ne 0 ]
  [[ "$output" == *"--preserve-fds -5: must not be negative"* ]]
}

# --- 2. The CVE-2019-5736 guard cannot be skipped by the shape of the command line -----------

# grab_exe RT [GLOBAL...]: creates c1 with RT and the global options, has a process in it hold
# /proc/1/exe (the runtime, until start) and write it once nothing runs it; prints the result.
grab_exe() {
  local bin=$1
  shift
  set_sleeper
  "$bin" "$@" create --bundle "$BUNDLE" c1 >/dev/null 2>&1
  "$bin" "$@" exec -d --cap CAP_SYS_PTRACE c1 /bin/ns-probe grab-exe 1 >"$BATS_TEST_TMPDIR/grab" 2>&1
  sleep 0.3
  "$bin" "$@" start c1
  for i in $(seq 150); do [ -s "$BATS_TEST_TMPDIR/grab" ] && break; sleep 0.1; done
  grep "^exe " "$BATS_TEST_TMPDIR/grab"
  "$bin" "$@" delete --force c1 >/dev/null 2>&1 || true
}

@test "exe guard: no global option, value or abbreviation makes the verb finder skip the re-execution" {
  local bin="$BATS_TEST_TMPDIR/ns-runtime"
  cp "$NS_RUNTIME" "$bin"
  # Each of these once skipped the guard: a value that looks like a verb, abbreviations.
  for globals in "--vm-accel auto --root $ROOT" "--log-format json --root $ROOT" "--root=$ROOT --log-format=text"; do
    # shellcheck disable=SC2086
    run grab_exe "$bin" $globals
    echo "$globals: $output"
    [ "$output" = "exe refused: Read-only file system" ]
    cmp "$NS_RUNTIME" "$bin"
  done
  # Abbreviations are refused outright (runc takes none), before anything is made
  for abbrev in "--r $ROOT" "--ro $ROOT" "--log-f json --root $ROOT"; do
    # shellcheck disable=SC2086
    run "$bin" $abbrev create --bundle "$BUNDLE" c9
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"unknown flag --"* ]]
    no_leftovers c9
  done
}

@test "exe guard: a rootless container's root cannot write the user's own runtime binary" {
  # CVE-2019-5736 as the container plays it: /evil is "#!/proc/self/exe", so the runtime's own
  # exec of it makes the kernel run the runtime binary again, inside the container. That process
  # is the container's root's (the user's): a process of the container holds its /proc/PID/exe
  # and writes it once it is gone. The user owns the binary (their own build): only a sealed
  # copy keeps it out of reach. The re-executed runtime is kept alive by a full stderr.
  local user=ns-rootless-test
  id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user"
  DIR=$(mktemp -d /tmp/ns-sec.XXXXXX)
  chmod 755 "$DIR"
  cp "$NS_RUNTIME" "$DIR/ns-runtime"
  cp -a "$NS_BUNDLE/rootfs" "$DIR/rootfs"
  printf '#!/proc/self/exe\n' > "$DIR/rootfs/evil"
  chmod 755 "$DIR/rootfs/evil"
  mkdir -p "$DIR/bundle" "$DIR/run"
  mkfifo "$DIR/run/full"
  chown -R "$user": "$DIR/ns-runtime" "$DIR/bundle" "$DIR/run"
  as_user() { su -s /bin/sh "$user" -c "XDG_RUNTIME_DIR='$DIR/run'; export XDG_RUNTIME_DIR; $1" </dev/null; }
  as_user "cd '$DIR/bundle' && '$DIR/ns-runtime' spec --rootless"
  jq --arg r "$DIR/rootfs" '.root.path = $r | .process.terminal = false | .process.args = ["/bin/ns-probe", "sleep", "3600"]' \
    "$DIR/bundle/config.json" > "$DIR/config.new" && chown "$user": "$DIR/config.new" && mv "$DIR/config.new" "$DIR/bundle/config.json"
  as_user "'$DIR/ns-runtime' run -d --bundle '$DIR/bundle' r1" >/dev/null 2>&1
  exec 7<>"$DIR/run/full"
  dd if=/dev/zero bs=4096 count=16 of="$DIR/run/full" 2>/dev/null   # 64 KB: the pipe is full
  as_user "'$DIR/ns-runtime' exec r1 /evil 2>'$DIR/run/full'" &
  local host_pid="" i
  for i in $(seq 50); do host_pid=$(pgrep -f "^/proc/self/exe /evil" || true); [ -n "$host_pid" ] && break; sleep 0.1; done
  [ -n "$host_pid" ]
  local pid_in=$(awk '/^NSpid/ {print $NF}' "/proc/$host_pid/status")
  as_user "'$DIR/ns-runtime' exec -d r1 /bin/ns-probe grab-exe $pid_in > '$DIR/run/grab' 2>&1"
  sleep 0.5
  kill -9 "$host_pid"
  for i in $(seq 100); do grep -q "^exe " "$DIR/run/grab" && break; sleep 0.1; done
  exec 7>&-
  run grep "^exe " "$DIR/run/grab"
  echo "$output"
  as_user "'$DIR/ns-runtime' delete --force r1" >/dev/null 2>&1 || true
  wait
  local same=0
  cmp "$NS_RUNTIME" "$DIR/ns-runtime" || same=1
  rm -rf "$DIR"
  [ "$output" = "exe refused: Operation not permitted (write)" ]   # it opens, but takes no byte
  [ "$same" = 0 ]
}

# --- 3. maskedPaths bind the null device, not whatever /dev/null is ---------------------------

@test "masked paths: a /dev whose null is a symlink into /proc/sys is refused, not bound over /proc/keys" {
  # /dev bound from a directory of the attacker's: its null leads to a sysctl file. Bound over a
  # masked file, the sysctl would be readable (and, for a writable one, writable) in its place.
  mkdir -p "$BATS_TEST_TMPDIR/dev"
  ln -s /proc/sys/kernel/ostype "$BATS_TEST_TMPDIR/dev/null"
  cfg '.mounts = [.mounts[] | if .destination == "/dev" then {destination: "/dev", type: "bind", source: $d, options: ["rbind"]} else . end]' \
    --arg d "$BATS_TEST_TMPDIR/dev"
  set_args /bin/sh -c 'cat /proc/keys; echo end'
  run rt run --rm --bundle "$BUNDLE" c1
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" != *Linux* ]]
  [[ "$output" == *"maskedPaths: the container's /dev/null is not the null device (char 1:3) but a symlink"* ]]
  no_leftovers c1
  # a real null device there is fine
  rm "$BATS_TEST_TMPDIR/dev/null"
  mknod -m 666 "$BATS_TEST_TMPDIR/dev/null" c 1 3
  run rt run --rm --bundle "$BUNDLE" c2
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = end ]
}

# --- 7. state.json is trusted no further than what it names -----------------------------------

# tamper ID JQ: edits the container's state file
tamper() {
  jq "$2" "$ROOT/$1.json" > "$ROOT/$1.json.new" && mv "$ROOT/$1.json.new" "$ROOT/$1.json"
}

@test "state: an id in state.json other than the one asked for is refused, nothing outside the root is unlinked" {
  set_sleeper
  rt run -d --bundle "$BUNDLE" c1
  echo victim > "$BATS_TEST_TMPDIR/victim.json"
  echo victim > "$BATS_TEST_TMPDIR/victim.lock"
  tamper c1 '.id = "../victim"'
  for v in state kill ps exec pause delete; do
    run rt "$v" c1
    [ "$status" -ne 0 ]
    [[ "$output" == *'state.json is corrupt or was tampered with: it names another container, "../victim"'* ]]
  done
  # --force still deletes c1 (its init found through the lock file), and only c1
  run rt delete --force c1
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"tampered with"*"the init its lock file names is killed"* ]]
  [ -f "$BATS_TEST_TMPDIR/victim.json" ] && [ -f "$BATS_TEST_TMPDIR/victim.lock" ]
  no_leftovers c1
  ! pgrep -f "ns-probe sleep 3600" || false
}

@test "state: delete --force of a container whose state.json is corrupt kills its init and leaves nothing" {
  set_sleeper
  rt run -d --bundle "$BUNDLE" c1
  local pid
  pid=$(jq .pid "$ROOT/c1.json")
  echo '{"broken' > "$ROOT/c1.json"
  run rt delete --force c1
  echo "$output"
  [ "$status" -eq 0 ]
  [ -z "$(ps -o stat= -p "$pid" | grep -v Z)" ]   # gone (or a zombie waiting for its reaper)
  no_leftovers c1
}

@test "state: a planted cgroup path makes kill --all and delete --force signal no host process" {
  set_sleeper
  rt run -d --bundle "$BUNDLE" c1
  local path orig victim_cg="ns-victim-$$"
  orig=$(jq -r .cgroupPath "$ROOT/c1.json")
  # A host process in a cgroup of its own, in every hierarchy the container has
  sleep 1000 &
  local victim=$!
  for m in $(jq -r '.cgroupLayout[].mountpoint' "$ROOT/c1.json"); do
    [ -d "$m$orig" ] || continue
    mkdir -p "$m/$victim_cg"
    if [ -f "$m/cpuset.cpus" ]; then
      cat "$m/cpuset.cpus" > "$m/$victim_cg/cpuset.cpus"
      cat "$m/cpuset.mems" > "$m/$victim_cg/cpuset.mems"
    fi
    echo "$victim" > "$m/$victim_cg/cgroup.procs"
  done
  tamper c1 ".cgroupPath = \"/$victim_cg\" | .freezer |= sub(\"$orig\"; \"/$victim_cg\")"
  run rt kill --all c1 KILL
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"is not in cgroup /$victim_cg, which its state names"* ]]
  run rt delete --force c1
  [ "$status" -ne 0 ]
  kill -0 "$victim"   # alive
  # and paths that climb out, or the root cgroup, are refused outright
  for bad in '"/"' '"/../x"' '"/a/../../x"' '"relative"'; do
    tamper c1 ".cgroupPath = $bad"
    run rt kill --all c1 KILL
    [ "$status" -ne 0 ]
    [[ "$output" == *"is not a clean path below the root cgroup"* ]]
  done
  kill "$victim"
  wait "$victim" || true
  tamper c1 ".cgroupPath = \"$orig\" | .freezer |= sub(\"/$victim_cg\"; \"$orig\")"
  rt delete --force c1
  local d
  for d in $(find /sys/fs/cgroup -maxdepth 2 -type d -name "$victim_cg"); do rmdir "$d"; done
}

@test "state: an init pid of 0, -1 or 1 is refused before anything is signalled" {
  set_sleeper
  rt run -d --bundle "$BUNDLE" c1
  local pid
  pid=$(jq .pid "$ROOT/c1.json")
  for bad in 0 -1 1; do
    tamper c1 ".pid = $bad"
    run rt kill c1 CONT
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"pid $bad cannot be a container's init"* ]]
  done
  tamper c1 ".pid = $pid"
  rt delete --force c1
  no_leftovers c1
}

# --- 4. The state root is the caller's alone ------------------------------------------------

@test "state root: a rootless runtime never falls back to a shared /tmp directory another user made" {
  local user=ns-rootless-test uid
  id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user"
  uid=$(id -u "$user")
  # Another user (root here) plants a state with a poststop hook where the old fallback looked
  local planted="/tmp/nano-sandbox-$uid" marker="$BATS_TEST_TMPDIR/hook-ran"
  rm -rf "$planted"
  mkdir -m 777 "$planted"
  echo '{"ociVersion":"1.2.0","id":"p1","pid":999999,"pidStart":1,"bundle":"/","rootfs":"/","created":"x","owner":0,"annotations":{},"cgroupPath":"","backend":"namespaces","hooks":{"poststop":[{"path":"/bin/sh","args":["sh","-c","touch '"$marker"'"]}]}}' > "$planted/p1.json"
  : > "$planted/p1.lock"
  chmod 666 "$planted/p1.json" "$planted/p1.lock"
  run su -s /bin/sh "$user" -c "unset XDG_RUNTIME_DIR; '$NS_RUNTIME' delete --force p1" </dev/null
  echo "$output"
  rm -rf "$planted"
  [ "$status" -ne 0 ]
  [[ "$output" == *"no private place for state: XDG_RUNTIME_DIR is not set"* ]]
  [ ! -e "$marker" ]
}

@test "state root: one owned by another user, writable by others, or a symlink is refused by every verb" {
  set_sleeper
  local r="$BATS_TEST_TMPDIR/root2"
  mkdir -m 700 "$r"
  chown 12345 "$r"
  run "$NS_RUNTIME" --root "$r" list
  [ "$status" -ne 0 ]
  [[ "$output" == *"the state root $r belongs to uid 12345, not to us (uid 0)"* ]]
  chown 0 "$r"
  chmod 1777 "$r"
  for verb in "list" "state c1" "delete --force c1" "run -d --bundle $BUNDLE c1" "start c1"; do
    # shellcheck disable=SC2086
    run "$NS_RUNTIME" --root "$r" $verb
    echo "$verb: $output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"the state root $r is writable by others (mode 1777)"* ]]
  done
  [ -z "$(ls -A "$r")" ]
  chmod 700 "$r"
  ln -s "$r" "$BATS_TEST_TMPDIR/link"
  run "$NS_RUNTIME" --root "$BATS_TEST_TMPDIR/link" list
  [ "$status" -ne 0 ]
  [[ "$output" == *"is a symlink: refused"* ]]
  # nsrun's own state directory likewise
  chmod 777 "$r"
  run "${NS_BUILD_DIR:-$(dirname "$NS_RUNTIME")}/nsrun" --state "$r" ls
  [ "$status" -ne 0 ]
  [[ "$output" == *"nsrun's state directory $r is writable by others"* ]]
}

# --- 11. Robustness under hostile input -----------------------------------------------------

@test "robustness: an id too long for the state's file names is refused up front, and the longest one works" {
  set_args /bin/true
  local long
  long=$(printf 'a%.0s' $(seq 247))
  run rt run --rm --bundle "$BUNDLE" "$long"
  [ "$status" -ne 0 ]
  [[ "$output" == *"id too long (247 bytes, at most 246)"* ]]
  [ -z "$(ls -A "$ROOT" 2>/dev/null)" ]
  long=$(printf 'b%.0s' $(seq 246))
  rt run --rm --bundle "$BUNDLE" "$long"
  [ -z "$(ls -A "$ROOT")" ]
}

@test "robustness: JSON nested 200,000 deep is refused, not a crash (config.json, process.json, state.json)" {
  # deep_json PREFIX SUFFIX FILE: PREFIX, then 200,000 nested arrays, then SUFFIX
  deep_json() {
    { printf '%s' "$1"; head -c 200000 /dev/zero | tr '\0' '['; head -c 200000 /dev/zero | tr '\0' ']'; printf '%s' "$2"; } > "$3"
  }
  deep_json '{"deep": ' ", $(jq -c . "$BUNDLE/config.json" | tail -c +2)" "$BATS_TEST_TMPDIR/config.json"
  cp "$BUNDLE/config.json" "$BATS_TEST_TMPDIR/config.good"
  mv "$BATS_TEST_TMPDIR/config.json" "$BUNDLE/config.json"
  run rt create --bundle "$BUNDLE" c1
  echo "${output:0:300}"
  [ "$status" -eq 1 ]
  [[ "$output" == *"config.json: values nested more than 512 levels deep"* ]]
  no_leftovers c1
  cp "$BATS_TEST_TMPDIR/config.good" "$BUNDLE/config.json"
  set_sleeper
  rt run -d --bundle "$BUNDLE" c2
  deep_json '{"args": ' '}' "$BATS_TEST_TMPDIR/process.json"
  run rt exec --process "$BATS_TEST_TMPDIR/process.json" c2
  [ "$status" -eq 1 ]
  [[ "$output" == *"invalid JSON"* ]]
  cp "$ROOT/c2.json" "$BATS_TEST_TMPDIR/c2.json"
  deep_json '{"x": ' '}' "$ROOT/c2.json"
  run rt state c2
  [ "$status" -eq 1 ]
  [[ "$output" == *"state.json is corrupt"* ]]
  cp "$BATS_TEST_TMPDIR/c2.json" "$ROOT/c2.json"
}

@test "robustness: a number too large for a double in config.json is an error, not an abort" {
  echo '{"ociVersion": 1e400}' > "$BUNDLE/config.json"
  run rt create --bundle "$BUNDLE" c1
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"config.json: invalid JSON"*"number overflow"* ]]
  no_leftovers c1
}

@test "robustness: a symlink planted where the pid file's temporary file used to go redirects nothing" {
  set_sleeper
  mkdir -p "$BATS_TEST_TMPDIR/pids"
  echo untouched > "$BATS_TEST_TMPDIR/victim"
  ln -s "$BATS_TEST_TMPDIR/victim" "$BATS_TEST_TMPDIR/pids/.pid.tmp"
  rt create --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/pids/pid" c1
  [ "$(cat "$BATS_TEST_TMPDIR/victim")" = untouched ]
  [ "$(cat "$BATS_TEST_TMPDIR/pids/pid")" = "$(state_field c1 pid)" ]
  [ "$(ls -A "$BATS_TEST_TMPDIR/pids" | sort | tr '\n' ' ')" = ".pid.tmp pid " ]
}

# rootless_bundle ARGS_JSON: as the unprivileged user ns-rootless-test, a bundle made by
# `spec --rootless` in DIR (a fresh directory under /tmp) with a copy of the test rootfs, the
# process ARGS_JSON and no terminal; as_user CMD runs CMD as that user with its own runtime dir.
rootless_bundle() {
  local user=ns-rootless-test
  id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user"
  DIR=$(mktemp -d /tmp/ns-sec.XXXXXX)
  chmod 755 "$DIR"
  cp -a "$NS_BUNDLE/rootfs" "$DIR/rootfs"
  mkdir -p "$DIR/bundle" "$DIR/run"
  chown -R "$user": "$DIR/bundle" "$DIR/run"
  as_user() { su -s /bin/sh ns-rootless-test -c "XDG_RUNTIME_DIR='$DIR/run'; export XDG_RUNTIME_DIR; $1" </dev/null; }
  as_user "cd '$DIR/bundle' && '$NS_RUNTIME' spec --rootless"
  jq --arg r "$DIR/rootfs" --argjson a "$1" '.root.path = $r | .process.terminal = false | .process.args = $a' \
    "$DIR/bundle/config.json" > "$DIR/config.new" && chown "$user": "$DIR/config.new" && mv "$DIR/config.new" "$DIR/bundle/config.json"
}

# --- 5. Rootless: /sys, /sys/fs/cgroup included, is read-only -------------------------------

@test "rootless spec: every mount under /sys is read-only in the container, /sys/fs/cgroup's included" {
  rootless_bundle '["/bin/sh", "-c", "awk '"'"'$5 ~ /^\\/sys/ {print $5, substr($6, 1, 2)}'"'"' /proc/self/mountinfo"]'
  run --separate-stderr as_user "'$NS_RUNTIME' run --rm --bundle '$DIR/bundle' r1"
  rm -rf "$DIR"
  echo "$output"
  echo "stderr: $stderr"
  [ "$status" -eq 0 ]
  [[ "$output" == *"/sys/fs/cgroup"* ]]   # the host's cgroup mounts are there, under the bind
  ! grep -v " ro$" <<<"$output" || false
}

# --- 6. Sysctls: only a namespace's own, written through a procfs the runtime verified ---------

@test "sysctl: a host-wide one is refused, and the host keeps its value" {
  local before
  before=$(cat /proc/sys/vm/swappiness)
  cfg '.linux.sysctl = {"vm.swappiness": "7"}'
  run rt create --bundle "$BUNDLE" c1
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *'sysctl "vm.swappiness" belongs to no namespace a container can have'* ]]
  [ "$(cat /proc/sys/vm/swappiness)" = "$before" ]
  no_leftovers c1
}

@test "sysctl: a net one in the host's own network namespace, joined by path, is refused" {
  cfg '.linux.namespaces = [.linux.namespaces[] | select(.type != "network")] + [{"type": "network", "path": "/proc/self/ns/net"}]
       | .linux.sysctl = {"net.ipv4.ip_forward": "1"}'
  run rt create --bundle "$BUNDLE" c1
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *'the network namespace at /proc/self/ns/net is the host'"'"'s own'* ]]
  no_leftovers c1
}

@test "sysctl: a mount over /proc/sys is not written through: the write must reach procfs itself" {
  cfg '.mounts += [{"destination": "/proc/sys/net", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}]
       | .linux.sysctl = {"net.ipv4.ip_forward": "1"}'
  run rt create --bundle "$BUNDLE" c1
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"/proc/sys/net/ipv4/ip_forward is not procfs's own file (something is mounted over it"* ]]
  no_leftovers c1
  # the plain case still works
  setup_container_env
  cfg '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
  set_args /bin/cat /proc/sys/net/ipv4/ip_forward
  run rt run --rm --bundle "$BUNDLE" c2
  [ "$status" -eq 0 ]
  [ "$output" = 1 ]
}

# --- 8. proc and sysfs are mounted where they are named ---------------------------------------

@test "rootfs: /proc (or /sys) as a symlink in the image is refused, not followed" {
  cp -a "$NS_BUNDLE/rootfs" "$BATS_TEST_TMPDIR/rootfs"
  for d in proc sys; do
    rm -rf "$BATS_TEST_TMPDIR/rootfs/$d"
    mkdir -p "$BATS_TEST_TMPDIR/rootfs/elsewhere-$d"
    ln -s "/elsewhere-$d" "$BATS_TEST_TMPDIR/rootfs/$d"
    cfg '.root.path = $r' --arg r "$BATS_TEST_TMPDIR/rootfs"
    run rt create --bundle "$BUNDLE" c1
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"/$d is a symlink in the rootfs: refused"* ]]
    no_leftovers c1
    rm "$BATS_TEST_TMPDIR/rootfs/$d"
    mkdir "$BATS_TEST_TMPDIR/rootfs/$d"
  done
}

# --- 9. The init shows nothing of the runtime's host view -------------------------------------

@test "init: from the first moment the runtime can see it, its working directory is no host directory of the caller's" {
  local out="$BATS_TEST_TMPDIR/cwd" script="$BATS_TEST_TMPDIR/hook.sh"
  # createRuntime runs while the init waits, before its root is set up: the earliest look
  printf '%s\n' "pid=\$(sed 's/.*\"pid\": *\\([0-9]*\\).*/\\1/'); readlink /proc/\$pid/cwd > $out" > "$script"
  cfg '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", $s]}]' --arg s "$script"
  set_args /bin/true
  mkdir -p "$BATS_TEST_TMPDIR/caller-dir"
  (cd "$BATS_TEST_TMPDIR/caller-dir" && "$NS_RUNTIME" --root "$ROOT" run --rm --bundle "$BUNDLE" c1)
  cat "$out"
  [ "$(cat "$out")" = / ]
}

@test "init: going non-dumpable does not race a rootless runtime's id maps (setgroups after uid_map)" {
  # The init once went non-dumpable when its own euid read 0, which in a new user namespace it
  # does once uid_map is written: a runtime without root then could not open setgroups (its
  # /proc files belong to root). strace widens the window: the init's first call waits 0.1 s,
  # each write of the runtime's returns 0.3 s late.
  rootless_bundle '["echo", "up"]'
  run --separate-stderr as_user "strace -f -qq -o /dev/null -e trace=chdir,write -e inject=chdir:delay_enter=100000 \
      -e inject=write:delay_exit=300000 '$NS_RUNTIME' run --rm --bundle '$DIR/bundle' r1"
  rm -rf "$DIR"
  echo "$output / $stderr"
  [ "$status" -eq 0 ]
  [ "$output" = up ]
}

# --- 10. No mount namespace, no container --------------------------------------------------

@test "namespaces: a config without a mount namespace is refused; the caller's root is untouched" {
  # (linux_ns_itype of the runtime-tools suite: pivot_root would run in the caller's namespace)
  local before
  before=$(stat -c %i /)
  cfg '.linux.namespaces = [.linux.namespaces[] | select(.type != "mount")]'
  run rt run --rm --bundle "$BUNDLE" c1
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *'linux.namespaces has no "mount" namespace: a container needs one'* ]]
  [ "$(stat -c %i /)" = "$before" ]
  no_leftovers c1
}
