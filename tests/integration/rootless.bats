#!/usr/bin/env bats
# Rootless: ns-runtime run by an unprivileged user, the container's root mapped to that user
# (or, through newuidmap/newgidmap, to the user's subordinate ids).

load helpers

USER_NAME=ns-rootless-test

setup_file() {
  [ "$(id -u)" = 0 ] || return 0
  if ! id "$USER_NAME" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/sh "$USER_NAME"
  fi
  grep -q "^$USER_NAME:" /etc/subuid || usermod --add-subuids 200000-265535 "$USER_NAME"
  grep -q "^$USER_NAME:" /etc/subgid || usermod --add-subgids 200000-265535 "$USER_NAME"
}

setup() {
  [ "$(id -u)" = 0 ] || skip "creates a test user: run as root"
  # Everything the user touches lives where the user may go (the build tree may be under /root).
  DIR=$(mktemp -d /tmp/ns-rootless.XXXXXX)
  chmod 755 "$DIR"
  cp "$NS_RUNTIME" "$DIR/ns-runtime"
  cp -a "$NS_BUNDLE/rootfs" "$DIR/rootfs"
  mkdir -p "$DIR/bundle" "$DIR/run"
  UID_=$(id -u "$USER_NAME")
  GID_=$(id -g "$USER_NAME")
  SUB=$(awk -F: -v u="$USER_NAME" '$1 == u {print $2; exit}' /etc/subuid)
  SUBG=$(awk -F: -v u="$USER_NAME" '$1 == u {print $2; exit}' /etc/subgid)
  chown -R "$USER_NAME": "$DIR/bundle" "$DIR/run"
  as_user "cd '$DIR/bundle' && '$DIR/ns-runtime' spec --rootless"
  ucfg '.root.path = $r | .process.terminal = false' --arg r "$DIR/rootfs"
}

teardown() {
  [ -n "${DIR:-}" ] || return 0
  for id in $(as_user "'$DIR/ns-runtime' list -q" 2>/dev/null); do
    as_user "'$DIR/ns-runtime' delete --force $id" >/dev/null 2>&1 || true
  done
  rm -rf "$DIR"
}

# as_user CMD: runs CMD as the test user, state under $DIR/run
as_user() {
  su -s /bin/sh "$USER_NAME" -c "XDG_RUNTIME_DIR='$DIR/run'; export XDG_RUNTIME_DIR; $1" </dev/null
}

# ucfg JQ_FILTER [ARGS...]: edits the user's config.json
ucfg() {
  local filter=$1
  shift
  jq "$@" "$filter" "$DIR/bundle/config.json" > "$DIR/config.new"
  chown "$USER_NAME": "$DIR/config.new"
  mv "$DIR/config.new" "$DIR/bundle/config.json"
}

@test "rootless: a container runs as the unprivileged user, with root mapped to it" {
  ucfg '.process.args = ["sh", "-c", "id -u; cat /proc/self/uid_map; hostname"] | .hostname = "rootless"'
  run as_user "'$DIR/ns-runtime' run --rm --bundle '$DIR/bundle' r1 2>/dev/null"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]
  [[ "${lines[1]}" =~ ^\ *0\ +$UID_\ +1$ ]]
  [ "${lines[2]}" = rootless ]
}

@test "rootless: the whole lifecycle, exec included, and nothing left behind" {
  ucfg '.process.args = ["sleep", "600"]'
  as_user "'$DIR/ns-runtime' create --bundle '$DIR/bundle' r1 2>/dev/null"
  pid=$(as_user "'$DIR/ns-runtime' state r1" | jq .pid)
  # the init belongs to the user on the host
  [ "$(awk '/^Uid:/ {print $2}' /proc/$pid/status)" = "$UID_" ]
  as_user "'$DIR/ns-runtime' start r1"
  [ "$(as_user "'$DIR/ns-runtime' state r1" | jq -r .status)" = running ]
  run as_user "'$DIR/ns-runtime' exec r1 sh -c 'id -u; readlink /proc/1/exe'"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = /bin/busybox ]
  as_user "'$DIR/ns-runtime' kill r1 KILL"
  as_user "'$DIR/ns-runtime' delete --force r1"
  [ ! -e "$DIR/run/nano-sandbox/r1" ]
  for i in $(seq 50); do [ ! -e "/proc/$pid" ] && break; sleep 0.1; done   # reaped by the host's init
  [ ! -e "/proc/$pid" ]
}

@test "rootless: subordinate ids through newuidmap and newgidmap" {
  command -v newuidmap >/dev/null || skip "newuidmap missing (Debian package uidmap; install-deps.sh installs it)"
  ucfg '.linux.uidMappings = [{containerID: 0, hostID: $u, size: 1}, {containerID: 1, hostID: $s, size: 65536}]
      | .linux.gidMappings = [{containerID: 0, hostID: $g, size: 1}, {containerID: 1, hostID: $sg, size: 65536}]
      | .process.user = {uid: 1000, gid: 1000, additionalGids: [5]}
      | .process.args = ["sh", "-c", "id -u; id -G; sleep 600"]' \
      --argjson u "$UID_" --argjson g "$GID_" --argjson s "$SUB" --argjson sg "$SUBG"
  as_user "'$DIR/ns-runtime' run -d --bundle '$DIR/bundle' r2 >'$DIR/run/out' 2>/dev/null"
  pid=$(as_user "'$DIR/ns-runtime' state r2" | jq .pid)
  # uid 1000 inside is subordinate uid SUB+999 outside
  [ "$(awk '/^Uid:/ {print $2}' /proc/$pid/status)" = "$((SUB + 999))" ]
  for i in $(seq 50); do [ -s "$DIR/run/out" ] && grep -q ' ' "$DIR/run/out" && break; sleep 0.1; done
  run cat "$DIR/run/out"
  echo "$output"
  [ "${lines[0]}" = 1000 ]
  [ "${lines[1]}" = "1000 5" ]
  as_user "'$DIR/ns-runtime' delete --force r2"
}

@test "rootless: a config without a user namespace is refused clearly, leaving nothing" {
  ucfg '.linux.namespaces |= map(select(.type != "user")) | del(.linux.uidMappings, .linux.gidMappings)'
  run as_user "'$DIR/ns-runtime' create --bundle '$DIR/bundle' r3"
  [ "$status" -ne 0 ]
  [[ "$output" == *"rootless container requires a user namespace"* ]]
  [ ! -e "$DIR/run/nano-sandbox/r3" ]
}

@test "rootless: a mapping the user has no right to is reported with newuidmap's reason" {
  command -v newuidmap >/dev/null || skip "newuidmap missing"
  ucfg '.linux.uidMappings = [{containerID: 0, hostID: 0, size: 1}]'
  run as_user "'$DIR/ns-runtime' create --bundle '$DIR/bundle' r4"
  [ "$status" -ne 0 ]
  [[ "$output" == *"newuidmap failed"* ]]
  [ ! -e "$DIR/run/nano-sandbox/r4" ]
  [ -z "$(as_user "'$DIR/ns-runtime' list -q")" ]
}

@test "rootless: VM mode is refused clearly, leaving nothing" {
  run as_user "cd '$DIR/bundle' && '$DIR/ns-runtime' --vm run vmr 2>&1"
  [ "$status" -ne 0 ]
  [[ "$output" == *"VM mode needs root"* ]]
  [ -z "$(as_user "'$DIR/ns-runtime' list -q")" ]
  [ -z "$(ls "$DIR/run/nano-sandbox" 2>/dev/null)" ]
}
