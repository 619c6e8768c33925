#!/usr/bin/env bash
# bench/vm-floor.sh [N] [VM_DIR]: the floor VM mode is measured against — a boot of the guest
# kernel and initramfs that powers off at once (scripts/vm-floor-boot.sh), under TCG here. One
# untimed warm-up, then N boots: median wall time and median QEMU peak RSS (GNU time %M).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10}
dir=${2:-$here/build/vm}
[ -f "$dir/vmlinux" ] || { echo "bench/vm-floor.sh: $dir/vmlinux missing (ctest -R vm.assets builds it)" >&2; exit 2; }
"$here/scripts/vm-floor-boot.sh" "$dir" >/dev/null 2>&1
walls=() rss=()
t=$(mktemp)
trap 'rm -f "$t"' EXIT
for i in $(seq "$n"); do
  /usr/bin/time -o "$t" -f "%e %M" "$here/scripts/vm-floor-boot.sh" "$dir" >/dev/null 2>&1
  line=$(tail -n1 "$t")
  walls+=("${line% *}")
  rss+=("${line#* }")
done
med() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
echo "vm floor (TCG, microvm, 256 MiB): median $(med "${walls[@]}") s, QEMU peak RSS $(( $(med "${rss[@]}") / 1024 )) MB, n=$n"
