# Shared set-up for the integration tests: every test gets its own state root and its own
# bundle directory whose config.json points at the shared busybox rootfs.

: "${NS_RUNTIME:?NS_RUNTIME must name the ns-runtime binary}"
: "${NS_BUNDLE:?NS_BUNDLE must name the test bundle}"

setup_container_env() {
  if [ "$(id -u)" != 0 ]; then
    skip "integration tests create real containers: run them as root"
  fi
  ROOT="$BATS_TEST_TMPDIR/state"
  BUNDLE="$BATS_TEST_TMPDIR/bundle"
  mkdir -p "$ROOT" "$BUNDLE"
  jq --arg root "$NS_BUNDLE/rootfs" '.root.path = $root' "$NS_BUNDLE/config.json" > "$BUNDLE/config.json"
  CG_PREFIX="nano-sandbox-test-$$"
}

teardown_container_env() {
  [ -n "${ROOT:-}" ] || return 0
  for id in $("$NS_RUNTIME" --root "$ROOT" list -q 2>/dev/null); do
    "$NS_RUNTIME" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true
  done
}

# rt ARGS...: ns-runtime with this test's state root. Its stdout and stderr go through a file:
# a detached container's init keeps the runtime's stdio, and must not hold the pipe bats reads.
rt() {
  local out
  out=$(mktemp "$BATS_TEST_TMPDIR/rt.XXXXXX")
  local rc=0
  "$NS_RUNTIME" --root "$ROOT" "$@" >"$out" 2>&1 || rc=$?
  cat "$out"
  rm -f "$out"
  return $rc
}

# cfg JQ_FILTER [ARGS...]: edits this test's config.json in place.
cfg() {
  local filter=$1
  shift
  jq "$@" "$filter" "$BUNDLE/config.json" > "$BUNDLE/config.json.new"
  mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

# set_args ARG...: process.args
set_args() {
  local json
  json=$(printf '%s\n' "$@" | jq -R . | jq -s .)
  cfg ".process.args = $json"
}

# A long-lived init: the probe sleeping.
set_sleeper() {
  set_args /bin/ns-probe sleep 3600
}

# state_field ID FIELD
state_field() {
  rt state "$1" | jq -r ".$2"
}

# wait_status ID STATUS: polls up to 5 s.
wait_status() {
  local i
  for i in $(seq 50); do
    [ "$(state_field "$1" status 2>/dev/null)" = "$2" ] && return 0
    sleep 0.1
  done
  echo "container $1 never reached $2 (now: $(state_field "$1" status 2>&1))" >&2
  return 1
}

# no_leftovers ID: no state dir and no cgroup of ID in any hierarchy.
no_leftovers() {
  local id=$1
  local files
  files=$(find "$ROOT" -maxdepth 1 \( -name "$id" -o -name "$id.*" \) 2>/dev/null | head -5)
  [ -z "$files" ] || { echo "state left behind: $files" >&2; return 1; }
  local left
  left=$(find /sys/fs/cgroup -maxdepth 3 -type d -name "$id" 2>/dev/null | head -5)
  [ -z "$left" ] || { echo "cgroup left behind: $left" >&2; return 1; }
}
