#!/bin/sh
# make-vm-assets.sh OUT_DIR FLOOR_INIT [RUNTIME]: the guest side of VM mode, from Debian's archive only.
#   OUT_DIR/vmlinux        Debian's cloud kernel, uncompressed (PVH entry; boots faster under TCG)
#   OUT_DIR/modules/VER/   its modules (virtio, virtiofs, ... are modules in the cloud kernel)
#   OUT_DIR/kernel.version the kernel package it came from
#   OUT_DIR/floor.cpio     an initramfs whose /init (FLOOR_INIT, static) prints a line and powers off
#   OUT_DIR/agent.cpio     with RUNTIME (the static ns-runtime): the agent's initramfs, RUNTIME
#                          stripped as /init and the modules it loads (listed in load order in
#                          /modules/load, and /modules/load-net for a container with a network)
# The kernel package is downloaded and unpacked here, never installed as the host's kernel.
# Installs qemu-system-x86, lz4 and cpio when missing (root). Nothing is fetched when OUT_DIR
# already holds the current kernel.
set -eu
out=${1:?usage: make-vm-assets.sh OUT_DIR FLOOR_INIT}
init=${2:?usage: make-vm-assets.sh OUT_DIR FLOOR_INIT}
runtime=${3:-}
"$(dirname "$0")/ensure-packages.sh" qemu-system-x86 lz4 cpio
# The versioned package behind the metapackage: linux-image-6.1.0-NN-cloud-amd64.
pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$pkg" ] || { echo "make-vm-assets.sh: no cloud kernel package in the archive" >&2; exit 1; }
mkdir -p "$out"
if [ ! -f "$out/vmlinux" ] || [ "$(cat "$out/kernel.version" 2>/dev/null)" != "$pkg" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) || { echo "make-vm-assets.sh: apt-get download $pkg failed" >&2; exit 1; }
  dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/x"
  vmlinuz=$(ls "$tmp"/x/boot/vmlinuz-*)
  # The bzImage carries the kernel as an LZ4 (legacy frame) stream: find its magic, decompress.
  off=$(grep -abo "$(printf '\002\041\114\030')" "$vmlinuz" | head -n1 | cut -d: -f1)
  [ -n "$off" ] || { echo "make-vm-assets.sh: no LZ4 stream in $vmlinuz" >&2; exit 1; }
  tail -c +"$((off + 1))" "$vmlinuz" | lz4 -dc >"$tmp/vmlinux" 2>/dev/null || true
  head -c 4 "$tmp/vmlinux" | grep -q "ELF" || { echo "make-vm-assets.sh: $vmlinuz did not decompress to an ELF kernel" >&2; exit 1; }
  rm -rf "$out/modules"
  mkdir -p "$out/modules"
  mv "$tmp"/x/lib/modules/* "$out/modules/"
  mv "$tmp/vmlinux" "$out/vmlinux"
  echo "$pkg" >"$out/kernel.version"
fi
# The floor initramfs: /init only.
ird=$(mktemp -d)
cp "$init" "$ird/init"
chmod 0755 "$ird/init"
(cd "$ird" && echo init | cpio -o -H newc --quiet) >"$out/floor.cpio.tmp"
mv "$out/floor.cpio.tmp" "$out/floor.cpio"
rm -rf "$ird"
# The agent's initramfs: the runtime is the guest's init; the virtio transport, the console
# port driver (the agent channel), virtio-fs and virtio-net are modules in the cloud kernel.
if [ -n "$runtime" ]; then
  kdir=$(ls -d "$out"/modules/*/kernel | head -n1)
  ird=$(mktemp -d)
  mkdir -p "$ird/modules"
  strip -o "$ird/init" "$runtime"
  chmod 0755 "$ird/init"
  # modules/load: at boot, in order; modules/load-net: only when the container has a network.
  add_modules() {
    list=$1
    shift
    for m in "$@"; do
      [ -f "$kdir/$m.ko" ] || { echo "make-vm-assets.sh: no $m.ko in $kdir" >&2; exit 1; }
      # Without Debian's appended signature: the guest kernel checks a signature that is there
      # (an RSA verification, ~10 ms a module under emulation) but does not require one (no
      # module.sig_enforce, no lockdown), so the check buys nothing for modules of our own
      # initramfs, loaded by our own init.
      objcopy --strip-debug "$kdir/$m.ko" "$ird/modules/$(basename "$m").ko"
      basename "$m.ko" >>"$ird/modules/$list"
    done
  }
  add_modules load drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_mmio \
    drivers/char/virtio_console fs/fuse/fuse fs/fuse/virtiofs
  add_modules load-net net/core/failover drivers/net/net_failover drivers/net/virtio_net
  (cd "$ird" && find . -mindepth 1 | sed 's|^\./||' | cpio -o -H newc --quiet) >"$out/agent.cpio.tmp"
  mv "$out/agent.cpio.tmp" "$out/agent.cpio"
  rm -rf "$ird"
fi
echo "vm assets ready: $out ($pkg)"
