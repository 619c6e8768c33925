# Shared set-up for the engine suite: real podman, containerd (ctr + the runc v2 shim) and Docker
# from Debian drive the runtime named by NS_ENGINE_RUNTIME (ns-runtime, or runc to compare).
# Every daemon runs with private roots and sockets under one work directory per bats file; the
# teardown stops them and checks that nothing of the file's containers is left behind.

: "${NS_ENGINE_RUNTIME:?NS_ENGINE_RUNTIME must name the runtime binary the engines drive (absolute path)}"
: "${NS_SOURCE_DIR:?NS_SOURCE_DIR must name the source tree}"
: "${NS_PROBE:?NS_PROBE must name the ns-probe binary (the image is built from the test rootfs)}"

RUNTIME=$NS_ENGINE_RUNTIME
RUNTIME_NAME=$(basename "$RUNTIME")

require_root() {
  [ "$(id -u)" = 0 ] || skip "the engine suite runs real engines: run it as root"
}

# begin_suite: root only; a short private work directory (unix socket paths must stay under 108
# bytes) as WORK; the busybox rootfs tarball $WORK/busybox.tar, made as the test bundle is.
begin_suite() {
  require_root
  WORK=$(mktemp -d /tmp/nse.XXXXXX)
  export WORK
  "$NS_SOURCE_DIR/scripts/make-bundle.sh" "$WORK/img" "$NS_PROBE" >/dev/null
  tar -C "$WORK/img/rootfs" -cf "$WORK/busybox.tar" .
}

# end_suite: what the engines left mounted under WORK, then WORK itself.
end_suite() {
  umount_under "$WORK"
  rm -rf "$WORK"
}

# note_existed KEY CMD...: records whether CMD succeeds now, before the engines run (a directory,
# a chain, a file they may create). suite_made KEY: it did not, so the suite made it and its
# teardown may remove it; what the host had before is never touched.
note_existed() {
  local key=$1
  shift
  if "$@" >/dev/null 2>&1; then echo yes; else echo no; fi >"$WORK/existed-$key"
}
suite_made() { [ "$(cat "$WORK/existed-$1" 2>/dev/null)" = no ]; }

cgroup_v2() { [ -f /sys/fs/cgroup/cgroup.controllers ]; }

# Files read inside a container to see its limits (the container's own cgroup namespace or bind).
if cgroup_v2; then
  MEM_LIMIT_FILE=/sys/fs/cgroup/memory.max
  PIDS_LIMIT_FILE=/sys/fs/cgroup/pids.max
else
  MEM_LIMIT_FILE=/sys/fs/cgroup/memory/memory.limit_in_bytes
  PIDS_LIMIT_FILE=/sys/fs/cgroup/pids/pids.max
fi

# freezer_state CGROUP_PATH: FROZEN/THAWED of a container's cgroup on the host.
freezer_state() {
  if cgroup_v2; then
    [ "$(cat "/sys/fs/cgroup$1/cgroup.freeze")" = 1 ] && echo FROZEN || echo THAWED
  else
    cat "/sys/fs/cgroup/freezer$1/freezer.state"
  fi
}

# no_cgroup_named NAME: no cgroup directory of exactly that name in any hierarchy (a substring
# would match other tenants' cgroups, e.g. a hash that happens to contain "d1").
no_cgroup_named() {
  local left
  left=$(find /sys/fs/cgroup -maxdepth 4 -type d -name "$1" 2>/dev/null | head -3)
  [ -z "$left" ] || { echo "cgroup left behind: $left" >&2; return 1; }
}

# no_process_under DIR: no process whose command line mentions DIR (daemons, shims, conmon).
no_process_under() {
  local left
  left=$(pgrep -af -- "$1" | grep -v "pgrep" || true)
  [ -z "$left" ] || { echo "processes left behind: $left" >&2; return 1; }
}

# no_mount_under DIR
no_mount_under() {
  local left
  left=$(awk -v d="$1" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | head -3)
  [ -z "$left" ] || { echo "mounts left behind: $left" >&2; return 1; }
}

# umount_under DIR: lazily unmounts what an engine left mounted under its private root.
umount_under() {
  awk -v d="$1" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

# wait_for CMD...: polls up to 10 s for CMD to succeed.
wait_for() {
  local i
  for i in $(seq 100); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "timed out waiting for: $*" >&2
  return 1
}

# in_pty CMD: runs a shell command line with a pseudo-terminal as its stdin/stdout (script(1)).
in_pty() {
  script -qec "$1" /dev/null </dev/null
}

# start_containerd NAME: a private containerd (own root, state, sockets; CRI off), in the background.
start_containerd() {
  local dir="$WORK/$1"
  mkdir -p "$dir"
  cat >"$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[debug]
  address = "$dir/debug.sock"
EOF
  containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 &
  echo $! >"$dir/containerd.pid"
  wait_for ctr -a "$dir/containerd.sock" version
}

# stop_daemon PIDFILE: SIGTERM, then waits up to 10 s (SIGKILL after that).
stop_daemon() {
  [ -f "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || return 0
  local i
  for i in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

# The shared directories containerd 1.6's shim always uses (socket dir, ctr's fifos): removed at
# the end when the suite made them and left them empty.
note_run_containerd() { note_existed run-containerd test -e /run/containerd; }
clean_run_containerd() {
  suite_made run-containerd || return 0
  rmdir /run/containerd/s /run/containerd/fifo /run/containerd/runc /run/containerd 2>/dev/null || true
}

# note_cgroup_parent NAME / clean_cgroup_parent NAME: an engine's parent cgroup ("libpod_parent",
# "docker", a containerd namespace) is removed at the end, emptied, when the suite created it.
cgroup_parent_exists() { [ -n "$(find /sys/fs/cgroup -maxdepth 2 -type d -name "$1" 2>/dev/null)" ]; }
note_cgroup_parent() { note_existed "cgroup-$1" cgroup_parent_exists "$1"; }
clean_cgroup_parent() {
  suite_made "cgroup-$1" || return 0
  local d
  for d in /sys/fs/cgroup/$1 /sys/fs/cgroup/*/$1; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  return 0
}

# setup_podman / teardown_podman (after begin_suite / before end_suite): podman with private
# configuration, storage and network directory under WORK, the busybox image imported as
# localhost/busybox; the teardown removes what podman and netavark leave if the suite made it.
setup_podman() {
  local d="$WORK/podman"
  mkdir -p "$d/networks"
  cat >"$d/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$d/events.log"
tmp_dir = "$d/tmp"
runtime_supports_json = ["crun", "runc", "ns-runtime", "ns-runtime-vm", "$RUNTIME_NAME"]
network_backend = "netavark"
[network]
network_config_dir = "$d/networks"
EOF
  cat >"$d/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$d/graph"
runroot = "$d/run"
EOF
  export CONTAINERS_CONF="$d/containers.conf" CONTAINERS_STORAGE_CONF="$d/storage.conf"
  podman import --change 'CMD ["/bin/sh"]' "$WORK/busybox.tar" localhost/busybox >/dev/null
  # netavark leaves its top-level firewall chains behind: the teardown removes them if the suite
  # made them.
  note_cgroup_parent libpod_parent
  note_existed netavark-chains sh -c 'iptables-save | grep -q NETAVARK'
}

teardown_podman() {
  podman rm -a -f -t 0 >/dev/null 2>&1 || true
  podman network rm -f nseng >/dev/null 2>&1 || true
  if suite_made netavark-chains; then
    for table in nat filter; do
      iptables-save -t "$table" | grep -E '^-A [A-Z_-]+ .*-j NETAVARK' | sed 's/^-A/-D/' | while read -r rule; do
        eval "iptables -t $table $rule" 2>/dev/null || true
      done
      for chain in $(iptables-save -t "$table" | sed -n 's/^:\(NETAVARK[A-Z_-]*\) .*/\1/p'); do
        iptables -t "$table" -F "$chain" 2>/dev/null || true
        iptables -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  fi
  podman system reset -f >/dev/null 2>&1 || true
  clean_cgroup_parent libpod_parent
}

# setup_containerd / teardown_containerd: a private containerd (own root, state and socket under
# WORK) with the busybox image as localhost/busybox:latest in namespace NS_CTR_NS; c runs ctr on it.
setup_containerd() {
  export NS_CTR_NS="nseng$$"
  note_run_containerd
  note_cgroup_parent "$NS_CTR_NS"
  start_containerd ctrd
  "$NS_SOURCE_DIR/tests/engines/make-oci-archive.sh" "$WORK/busybox.tar" "$WORK/busybox-oci.tar" localhost/busybox:latest
  c images import "$WORK/busybox-oci.tar" >/dev/null
}

teardown_containerd() {
  for id in $(c task ls -q 2>/dev/null); do
    c task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    c task delete -f "$id" >/dev/null 2>&1 || true
  done
  for id in $(c containers ls -q 2>/dev/null); do c containers delete "$id" >/dev/null 2>&1 || true; done
  c images rm localhost/busybox:latest >/dev/null 2>&1 || true
  stop_daemon "$WORK/ctrd/containerd.pid"
  rmdir "/run/containerd/runc/$NS_CTR_NS" 2>/dev/null || true
  clean_run_containerd
  clean_cgroup_parent "$NS_CTR_NS"
}

c() {
  ctr -a "$WORK/ctrd/containerd.sock" -n "$NS_CTR_NS" "$@"
}
