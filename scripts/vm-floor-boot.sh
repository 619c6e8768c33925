#!/bin/sh
# vm-floor-boot.sh VM_DIR [agent]: boots the guest kernel with the floor initramfs
# (make-vm-assets.sh) in QEMU's microvm under TCG and prints the console; exits with QEMU's
# status. The floor of VM mode: a kernel that starts, runs /init, and powers off at once. With
# `agent`, the initramfs is VM mode's own (agent.cpio), its /init told to power off at once
# (NS_AGENT_FLOOR=1): the same kernel and initramfs a VM container boots.
# tsc_early_khz and lpj skip the guest's timer calibration, without which about one boot in ten
# hangs under TCG (../shared/design/VM.md); cryptomgr.notests saves ~0.3 s.
set -eu
dir=${1:?usage: vm-floor-boot.sh VM_DIR [agent]}
initrd=$dir/floor.cpio extra=
if [ "${2:-}" = agent ]; then
  initrd=$dir/agent.cpio extra=" NS_AGENT_FLOOR=1"
fi
khz=$(awk '/^cpu MHz/ {printf "%d", $4 * 1000; exit}' /proc/cpuinfo)
[ -n "$khz" ] && [ "$khz" -gt 0 ] || khz=2000000
exec qemu-system-x86_64 -M microvm -accel tcg -cpu qemu64 -m 256 -smp 1 \
  -nodefaults -no-user-config -nographic -serial stdio -no-reboot \
  -kernel "$dir/vmlinux" -initrd "$initrd" \
  -append "console=ttyS0 quiet panic=-1 tsc_early_khz=$khz lpj=$((khz * 4)) cryptomgr.notests$extra"
