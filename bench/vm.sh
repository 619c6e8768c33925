#!/usr/bin/env bash
# bench/vm.sh [N] [OUT_PREFIX]: VM mode against its floor, paired and interleaved in one run
# (issue 10's benchmark). Each round, in turn:
#   floor  a bare boot of the same kernel and initramfs (agent.cpio, its /init told to power off
#          at once: scripts/vm-floor-boot.sh DIR agent)
#   bare   the same with the minimal floor initramfs (floor.cpio), for reference
#   cold   ns-runtime --vm run --rm of /bin/true from the test bundle, no pool: a boot of its own
#   pool   the same run with a warm pool of one (vm-pool start --size 1), after its VM is back
# Medians, the cold/floor ratio, and the QEMU peak RSS of a cold run (GNU time's %M: QEMU is the
# largest process the run waits for). One untimed warm-up round first. Writes OUT_PREFIX.txt and
# OUT_PREFIX.json when given. Root; needs build/ns-runtime and build/vm (cmake --build build
# --target vm-assets).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10}
out=${2:-}
rt=${NS_RUNTIME:-$here/build/ns-runtime}
vmdir=${NS_VM_DIR:-$here/build/vm}
export NS_VM_DIR=$vmdir
[ -f "$vmdir/agent.cpio" ] || { echo "bench/vm.sh: $vmdir/agent.cpio missing (cmake --build build --target vm-assets)" >&2; exit 2; }
work=$(mktemp -d)
root="$work/state"
trap '"$rt" --root "$root" vm-pool stop >/dev/null 2>&1 || true; sleep 0.5; rm -rf "$work"' EXIT
mkdir -p "$work/bundle"
jq --arg r "$here/build/bundle/rootfs" '.root.path = $r | .process.args = ["/bin/true"] | .process.terminal = false' \
  "$here/build/bundle/config.json" >"$work/bundle/config.json"
t="$work/time"

timed() {  # timed CMD...: "<wall s> <max rss KB>"
  /usr/bin/time -o "$t" -f "%e %M" "$@" >/dev/null 2>&1 || { echo "bench/vm.sh: failed: $*" >&2; exit 1; }
  tail -n1 "$t"
}
floor() { timed "$here/scripts/vm-floor-boot.sh" "$vmdir" agent; }
bare() { timed "$here/scripts/vm-floor-boot.sh" "$vmdir"; }
cold() { timed "$rt" --root "$root" --vm run --rm -b "$work/bundle" bench-cold; }
pooled() {
  for _ in $(seq 300); do
    [ "$("$rt" --root "$root" vm-pool status | jq .idle)" -ge 1 ] && break
    sleep 0.05
  done
  timed "$rt" --root "$root" --vm run --rm -b "$work/bundle" bench-pool
}

declare -a F B C P CR
floor >/dev/null
cold >/dev/null
for i in $(seq "$n"); do
  f=$(floor)
  b=$(bare)
  c=$(cold)
  F+=("${f% *}")
  B+=("${b% *}")
  C+=("${c% *}")
  CR+=("${c#* }")
done
"$rt" --root "$root" vm-pool start --size 1
pooled >/dev/null
for i in $(seq "$n"); do
  p=$(pooled)
  P+=("${p% *}")
done
pool_rss=$(awk '/VmHWM/ {print $2}' /proc/"$(pgrep -f "$root/.vm-pool/vm.*/vm.log" | head -1)"/status 2>/dev/null || echo 0)

med() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
mf=$(med "${F[@]}") mb=$(med "${B[@]}") mc=$(med "${C[@]}") mp=$(med "${P[@]}") mr=$(( $(med "${CR[@]}") / 1024 ))
ratio=$(awk -v c="$mc" -v f="$mf" 'BEGIN {printf "%.2f", c / f}')
report=$(cat <<EOT
VM mode, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, accelerator $("$rt" --root "$root" vm-pool status | jq -r .accel), n=$n (medians)
| path | median wall | target |
|---|---|---|
| floor: boot of the same kernel and initramfs, powers off at once | ${mf} s | - |
| (minimal floor initramfs, for reference) | ${mb} s | - |
| cold: ns-runtime --vm run --rm /bin/true | ${mc} s (${ratio}x floor) | <= 1.3x floor |
| warm pool: the same run, a pooled VM | ${mp} s | <= 0.3 s |
| QEMU peak RSS, cold run | ${mr} MB | <= 230 MB |
| QEMU peak RSS, pooled VM (VmHWM) | $(( pool_rss / 1024 )) MB | <= 230 MB |
raw floor: ${F[*]}
raw bare:  ${B[*]}
raw cold:  ${C[*]}
raw pool:  ${P[*]}
EOT
)
echo "$report"
if [ -n "$out" ]; then
  echo "$report" >"$out.txt"
  jq -n --arg floor "$mf" --arg bare "$mb" --arg cold "$mc" --arg pool "$mp" --arg ratio "$ratio" --argjson rss "$mr" \
    --argjson pool_rss "$(( pool_rss / 1024 ))" --argjson n "$n" \
    '{n: $n, floor_s: ($floor|tonumber), bare_floor_s: ($bare|tonumber), cold_s: ($cold|tonumber), pool_s: ($pool|tonumber),
      cold_over_floor: ($ratio|tonumber), qemu_peak_rss_mb: $rss, pooled_qemu_rss_mb: $pool_rss}' >"$out.json"
fi
