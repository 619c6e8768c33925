#!/bin/sh
# lane.sh BUILD_DIR TIMEOUT_S COMMAND...: runs COMMAND (a shell command line, as root, working
# directory /) on the typical host, made here: a microVM booting Debian's cloud kernel (VM mode's,
# BUILD_DIR/vm) with systemd as PID 1 on cgroup v2 alone, its root the host's own / (read-only
# over virtio-fs, a tmpfs overlay for writes; ../shared/design/V2-LANE.md). COMMAND's output is
# printed; the exit status is COMMAND's. 124 when the lane ran out of TIMEOUT_S (QEMU is killed),
# 125 when it never got to run COMMAND (the console's end is printed).
# Each run has its own directory (sockets included): lanes can run side by side. Nothing is left
# running: virtiofsd and QEMU are this script's children, killed on the way out.
# KVM where the host has working hardware KVM (kvm_intel or kvm_amd loaded, /dev/kvm usable),
# TCG otherwise: VM mode's rule.
set -eu
build=${1:?usage: lane.sh BUILD_DIR TIMEOUT_S COMMAND...}
limit=${2:?usage: lane.sh BUILD_DIR TIMEOUT_S COMMAND...}
shift 2
[ $# -gt 0 ] || { echo "usage: lane.sh BUILD_DIR TIMEOUT_S COMMAND..." >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
vm=$build/vm
[ -f "$vm/vmlinux" ] || { echo "lane.sh: no guest kernel in $vm: build the VM assets first (ctest -R vm.assets)" >&2; exit 2; }
virtiofsd=/usr/lib/qemu/virtiofsd
"$here/../../scripts/ensure-packages.sh" qemu-system-x86 kmod busybox-static cpio e2fsprogs >/dev/null

# The lane's assets, made again when the kernel or the init changed: the guest kernel's modules
# with depmod's indexes (the guest loads bridge, veth, nf_tables ... on demand) and the initramfs.
lane=$build/lane
ver=$(ls "$vm/modules")
stamp="$(cat "$vm/kernel.version") $(cksum <"$here/init.sh")"
if [ "$(cat "$lane/stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$lane"
  mkdir -p "$lane/modules/lib/modules" "$lane/initrd/modules" "$lane/initrd/bin"
  cp -a "$vm/modules/$ver" "$lane/modules/lib/modules/$ver"
  depmod -b "$lane/modules" "$ver"
  k=$lane/modules/lib/modules/$ver/kernel
  for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_mmio fs/fuse/fuse \
    fs/fuse/virtiofs fs/overlayfs/overlay drivers/block/virtio_blk; do
    cp "$k/$m.ko" "$lane/initrd/modules/"
    basename "$m.ko" >>"$lane/initrd/modules/load"
  done
  cp /bin/busybox "$lane/initrd/bin/busybox"
  cp "$here/init.sh" "$lane/initrd/init"
  chmod 0755 "$lane/initrd/init"
  mkdir -p "$lane/initrd/proc" "$lane/initrd/sys" "$lane/initrd/dev"
  (cd "$lane/initrd" && find . -mindepth 1 | sed 's|^\./||' | cpio -o -H newc --quiet) >"$lane/lane.cpio"
  echo "$stamp" >"$lane/stamp"
fi

work=$(mktemp -d /tmp/nslane.XXXXXX)
pids=""
cleanup() {
  for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/root" "$work/out"
# The guest's $TMPDIR: a sparse ext4 image on a virtio-blk disk.
truncate -s 4G "$work/scratch.img"
mkfs.ext4 -q -F -E root_owner=0:0 "$work/scratch.img"
printf '%s\n' "$*" >"$work/out/run.sh"
# The host's / as the guest's lower layer: a non-recursive read-only bind (the host's /proc,
# /sys, /dev and other mounts stay out), in a mount namespace of virtiofsd's own.
unshare -m --propagation private sh -c '
  mount --bind / "$1/root" && mount -o remount,bind,ro "$1/root" &&
  exec "$2" -f --socket-path="$1/root.sock" -o source="$1/root" -o cache=always -o sandbox=namespace' \
  lane "$work" "$virtiofsd" >"$work/virtiofsd-root.log" 2>&1 &
pids="$pids $!"
# Where the guest leaves COMMAND's output and status.
"$virtiofsd" -f --socket-path="$work/out.sock" -o source="$work/out" -o cache=none -o sandbox=namespace \
  >"$work/virtiofsd-out.log" 2>&1 &
pids="$pids $!"
i=0
until [ -S "$work/root.sock" ] && [ -S "$work/out.sock" ]; do
  i=$((i + 1))
  [ "$i" -lt 100 ] || { echo "lane.sh: virtiofsd did not start:" >&2; cat "$work"/virtiofsd-*.log >&2; exit 125; }
  sleep 0.05
done

accel=tcg cpu=qemu64
if { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } && [ -w /dev/kvm ]; then accel=kvm cpu=host; fi
khz=$(awk '/^cpu MHz/ {printf "%d", $4 * 1000; exit}' /proc/cpuinfo)
[ -n "$khz" ] && [ "$khz" -gt 0 ] || khz=2000000
timeout -k 5 "$limit" qemu-system-x86_64 -M microvm,memory-backend=mem -accel "$accel" -cpu "$cpu" -smp 2 -m 2048M \
  -object memory-backend-memfd,id=mem,size=2048M,share=on -global virtio-mmio.force-legacy=false \
  -nodefaults -no-user-config -display none -no-reboot -serial "file:$work/console.log" \
  -chardev socket,id=root,path="$work/root.sock" -device vhost-user-fs-device,chardev=root,tag=hostroot \
  -chardev socket,id=out,path="$work/out.sock" -device vhost-user-fs-device,chardev=out,tag=out \
  -drive file="$work/scratch.img",if=none,id=scratch,format=raw,cache=unsafe -device virtio-blk-device,drive=scratch \
  -kernel "$vm/vmlinux" -initrd "$lane/lane.cpio" \
  -append "console=ttyS0 quiet panic=-1 tsc_early_khz=$khz lpj=$((khz * 4)) cryptomgr.notests apparmor=0 systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all nslane.modules=$lane/modules/lib/modules" &
qemu=$!
pids="$qemu $pids"
rc=0
wait "$qemu" || rc=$?
pids=${pids#"$qemu "}
[ ! -f "$work/out/log" ] || cat "$work/out/log"
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  echo "lane.sh: the lane ran out of its ${limit} s; the console ended with:" >&2
  tail -n 20 "$work/console.log" >&2
  exit 124
fi
if [ ! -f "$work/out/status" ]; then
  echo "lane.sh: the lane did not run the command (QEMU exited $rc); the console ended with:" >&2
  tail -n 30 "$work/console.log" >&2
  exit 125
fi
exit "$(cat "$work/out/status")"
