#!/usr/bin/env bash
# bench/kill.sh [N]: `kill ID KILL` of a running container, crun and ns-runtime interleaved and
# paired (the shared compare.sh does not time kill). Same bundle for both (`runc spec` defaults,
# a static busybox rootfs, `sleep 3600`); run in a private mount namespace with a tmpfs over
# /sys/fs/cgroup/unified, as compare.sh does, because crun refuses a hybrid host whose cgroup2
# mount has controllers. Prints the medians and the median of the per-iteration ratios. Root.
set -euo pipefail
n=${1:-30}
here=$(cd "$(dirname "$0")/.." && pwd)
ns=${NS_RUNTIME:-$here/build/ns-runtime}
crun=$(command -v crun) || { echo "bench/kill.sh: crun not installed" >&2; exit 2; }
if [ -z "${NS_KILL_BENCH_INNER:-}" ]; then
  export NS_KILL_BENCH_INNER=1
  exec unshare -m bash -c 'mount --make-rprivate / && { [ ! -d /sys/fs/cgroup/unified ] || mount -t tmpfs none /sys/fs/cgroup/unified; } && exec "$0" "$@"' "$0" "$@"
fi
work=$(mktemp -d /tmp/ns-killbench.XXXXXX)
cleanup() {
  for c in $("$crun" --root "$work/root-crun" list -q 2>/dev/null); do "$crun" --root "$work/root-crun" delete -f "$c" >/dev/null 2>&1; done
  for c in $("$ns" --root "$work/root-ns" list -q 2>/dev/null); do "$ns" --root "$work/root-ns" delete -f "$c" >/dev/null 2>&1; done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/b/rootfs/bin" "$work/b/rootfs/proc" "$work/b/rootfs/sys" "$work/b/rootfs/dev" "$work/b/rootfs/tmp"
cp /bin/busybox "$work/b/rootfs/bin/busybox"
ln -s busybox "$work/b/rootfs/bin/sleep"
(cd "$work/b" && "$ns" spec)
# ociVersion 1.0.2: crun 1.8 refuses versions it does not know
jq '.ociVersion = "1.0.2" | .process.terminal = false | .process.args = ["/bin/sleep", "3600"]' "$work/b/config.json" >"$work/b/c" && mv "$work/b/c" "$work/b/config.json"
us() { echo $(( ${1/./} - ${2/./} )); }
declare -a tc tn ratios
for i in $(seq "$n"); do
  for which in crun ns; do
    rt=$crun; [ $which = ns ] && rt=$ns
    if ! "$rt" --root "$work/root-$which" run -d --bundle "$work/b" "k$i" </dev/null >"$work/out" 2>&1; then
      echo "bench/kill.sh: $rt run -d failed: $(cat "$work/out")" >&2
      exit 1
    fi
    t0=$EPOCHREALTIME
    "$rt" --root "$work/root-$which" kill "k$i" KILL >/dev/null 2>&1
    t1=$EPOCHREALTIME
    if [ $which = crun ]; then tc+=("$(us "$t1" "$t0")"); else tn+=("$(us "$t1" "$t0")"); fi
    sleep 0.02
    "$rt" --root "$work/root-$which" delete -f "k$i" >/dev/null 2>&1 || true
  done
  ratios+=("$(awk -v a="${tn[-1]}" -v b="${tc[-1]}" 'BEGIN {printf "%.3f", a / b}')")
done
med() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
printf 'kill  crun %.2f ms  ns-runtime %.2f ms  ratio %s (median of %d paired iterations)\n' \
  "$(awk -v x="$(med "${tc[@]}")" 'BEGIN {print x / 1000}')" "$(awk -v x="$(med "${tn[@]}")" 'BEGIN {print x / 1000}')" \
  "$(med "${ratios[@]}")" "$n"
