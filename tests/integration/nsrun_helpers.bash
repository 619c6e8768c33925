# nsrun's test set-up, shared by tests/integration/nsrun.bats and tests/vm/nsrun.bats: a state
# directory, a bridge and a subnet of the test's own (from its number), and helpers that run
# nsrun with them and check that nothing of a sandbox is left. Needs helpers.bash loaded first.

setup_nsrun_env() {
  setup_container_env
  NSRUN="${NS_BUILD_DIR:?}/nsrun"
  STATE="$BATS_TEST_TMPDIR/nsrun"
  RFS="$NS_BUNDLE/rootfs"
  BR="nsbt$$${BATS_TEST_NUMBER}"
  BR=${BR:0:15}
  NET="10.123.$((BATS_TEST_NUMBER % 250)).0/24"
  PREFIX="10.123.$((BATS_TEST_NUMBER % 250))."
  PORT=$((18100 + BATS_TEST_NUMBER))
}

teardown_nsrun_env() {
  for n in $("$NSRUN" --state "$STATE" --root "$ROOT" ls 2>/dev/null | awk 'NR > 1 {print $1}'); do
    "$NSRUN" --state "$STATE" --root "$ROOT" rm -f "$n" >/dev/null 2>&1 || true
  done
  ip link del "$BR" 2>/dev/null || true
  teardown_container_env
}

# nsr ARGS...: nsrun with this test's state, bridge and subnet. Output through a file: a detached
# sandbox keeps no pipe of ours, but its maker's stdout must not hold bats' pipe either.
nsr() {
  local out rc=0
  out=$(mktemp "$BATS_TEST_TMPDIR/nsr.XXXXXX")
  "$NSRUN" --state "$STATE" --root "$ROOT" "$@" >"$out" 2>&1 || rc=$?
  cat "$out"
  rm -f "$out"
  return $rc
}

nsrun_run() {
  nsr run --bridge "$BR" --subnet "$NET" "$@"
}

# Nothing of sandbox NAME with address IP is left: state, container, cgroup, veth, rule, lease.
nothing_left() {
  local name=$1 ip=$2
  [ ! -e "$STATE/$name" ] || { echo "state dir left" >&2; return 1; }
  [ -z "$("$NS_RUNTIME" --root "$ROOT" list -q)" ] || { echo "container left" >&2; return 1; }
  [ -z "$(find /sys/fs/cgroup -maxdepth 3 -path "*/nsrun/$name")" ] || { echo "cgroup left" >&2; return 1; }
  ! ip -o link show master "$BR" 2>/dev/null | grep -q . || { echo "veth left on $BR" >&2; return 1; }
  if [ -n "$ip" ]; then
    ! iptables-save | grep -qF "$ip" || { echo "iptables rule for $ip left" >&2; return 1; }
    [ ! -e "$STATE/.ipam/nsrun-$BR/$ip" ] || { echo "IPAM lease $ip left" >&2; return 1; }
  fi
}

