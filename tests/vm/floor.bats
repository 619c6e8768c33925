#!/usr/bin/env bats
# The floor of VM mode: the guest kernel extracted from Debian's cloud kernel package boots in
# QEMU's microvm under TCG with the floor initramfs, runs /init and powers off.

setup() {
  : "${NS_SOURCE_DIR:?}" "${NS_VM_DIR:?}"
}

@test "the guest kernel is Debian's cloud kernel, unpacked, not the host's" {
  grep -q '^linux-image-[0-9.]*-[0-9]*-cloud-amd64$' "$NS_VM_DIR/kernel.version"
  [ "$(head -c 4 "$NS_VM_DIR/vmlinux" | tail -c 3)" = ELF ]
  ls "$NS_VM_DIR"/modules/*/kernel/drivers/virtio/virtio_mmio.ko
  ls "$NS_VM_DIR"/modules/*/kernel/fs/fuse/virtiofs.ko
  ! dpkg-query -W "$(cat "$NS_VM_DIR/kernel.version")" >/dev/null 2>&1
}

@test "the floor boots under TCG, runs /init and powers off with QEMU exiting 0" {
  run timeout 120 "$NS_SOURCE_DIR/scripts/vm-floor-boot.sh" "$NS_VM_DIR"
  echo "$output" | tail -5
  [ "$status" -eq 0 ]
  [[ "$output" == *"nano-sandbox floor: guest up"* ]]
  [[ "$output" == *"reboot: Power down"* ]]
  ! pgrep -f "$NS_VM_DIR/vmlinux" >/dev/null
}

@test "VM mode's own initramfs as a floor: the agent, told to, powers off as soon as it runs" {
  [ -f "$NS_VM_DIR/agent.cpio" ]
  run timeout 120 "$NS_SOURCE_DIR/scripts/vm-floor-boot.sh" "$NS_VM_DIR" agent
  echo "$output" | tail -5
  [ "$status" -eq 0 ]
  [[ "$output" == *"ns-agent: floor: powering off"* ]]
  [[ "$output" == *"reboot: Power down"* ]]
}
