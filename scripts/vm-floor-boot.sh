#!/bin/sh
# vm-floor-boot.sh VM_DIR: boots the guest kernel with the floor initramfs (make-vm-assets.sh) in
# QEMU's microvm under TCG and prints the console; exits with QEMU's status. The floor of VM
# mode: a kernel that starts, runs /init, and powers off at once.
# tsc_early_khz and lpj skip the guest's timer calibration, without which about one boot in ten
# hangs under TCG (../shared/design/VM.md); cryptomgr.notests saves ~0.3 s.
set -eu
dir=${1:?usage: vm-floor-boot.sh VM_DIR}
khz=$(awk '/^cpu MHz/ {printf "%d", $4 * 1000; exit}' /proc/cpuinfo)
[ -n "$khz" ] && [ "$khz" -gt 0 ] || khz=2000000
exec qemu-system-x86_64 -M microvm -accel tcg -cpu qemu64 -m 256 -smp 1 \
  -nodefaults -no-user-config -nographic -serial stdio -no-reboot \
  -kernel "$dir/vmlinux" -initrd "$dir/floor.cpio" \
  -append "console=ttyS0 quiet panic=-1 tsc_early_khz=$khz lpj=$((khz * 4)) cryptomgr.notests"
