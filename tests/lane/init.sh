#!/bin/busybox sh
# The v2 lane guest's /init (static busybox): the host's / read-only over virtio-fs under a tmpfs
# overlay, the guest-only files in the upper layer, then systemd as PID 1 on cgroup v2 alone.
# Kernel command line: nslane.modules=HOST_PATH (the guest kernel's depmod'ed modules on the host).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
die() {
  echo "nslane init: $*" >/dev/console
  poweroff -f
}
for m in $(cat /modules/load); do insmod "/modules/$m" || die "insmod $m"; done
modules=$(sed -n 's/.*nslane\.modules=\([^ ]*\).*/\1/p' /proc/cmdline)
mkdir -p /lower /layer /newroot
# The virtio-fs device is probed a moment after the module loads.
i=0
until mount -t virtiofs -o ro hostroot /lower 2>/dev/null; do
  i=$((i + 1))
  [ "$i" -lt 50 ] || die "no hostroot virtio-fs device"
  sleep 0.1
done
mount -t tmpfs -o mode=0755 tmpfs /layer
mkdir -p /layer/upper /layer/work
u=/layer/upper
# The build machines have /.dockerenv: systemd would think it runs in a Docker container.
mknod "$u/.dockerenv" c 0 0
# Debian's `D /tmp` would empty the guest's /tmp at boot.
mkdir -p "$u/etc/tmpfiles.d" "$u/etc/systemd/system/multi-user.target.wants"
echo 'd /tmp 1777 root root -' >"$u/etc/tmpfiles.d/tmp.conf"
# A lane never waits at an emergency shell: it says so on the console and powers off.
mkdir -p "$u/etc/systemd/system/emergency.service.d"
cat >"$u/etc/systemd/system/emergency.service.d/poweroff.conf" <<'EOF'
[Service]
ExecStartPre=
ExecStart=
ExecStart=/bin/sh -c 'echo "nslane: emergency mode, powering off" >/dev/ttyS0; systemctl poweroff --force --force'
EOF
# Units the host enables that have no business here; the engines start when a test asks.
for unit in getty@tty1.service serial-getty@ttyS0.service postgresql.service systemd-timesyncd.service \
  e2scrub_reap.service apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
  fstrim.timer man-db.timer; do
  ln -s /dev/null "$u/etc/systemd/system/$unit"
done
for wanted in /lower/etc/systemd/system/multi-user.target.wants/*; do
  case "${wanted##*/}" in docker.service | containerd.service | podman.service | postgresql.service)
    mknod "$u/etc/systemd/system/multi-user.target.wants/${wanted##*/}" c 0 0 ;;
  esac
done
# The test unit: once the system is up, the command the host left in the out share, then off.
cat >"$u/etc/systemd/system/nslane.service" <<'EOF'
[Unit]
Description=nano-sandbox v2 lane: the tests
After=multi-user.target
FailureAction=poweroff-force
SuccessAction=poweroff-force

[Service]
Type=exec
Environment=TMPDIR=/var/tmp/nslane
ExecStart=/bin/sh -c 'mkdir -p /run/nslane && mount -t virtiofs out /run/nslane && systemctl is-system-running --wait >/run/nslane/system-state 2>&1; cd / && /bin/sh /run/nslane/run.sh >/run/nslane/log 2>&1; echo $? >/run/nslane/status.tmp; mv /run/nslane/status.tmp /run/nslane/status; sync'
StandardOutput=journal+console
TimeoutStartSec=infinity
EOF
ln -s ../nslane.service "$u/etc/systemd/system/multi-user.target.wants/nslane.service"
mount -t overlay overlay -o "lowerdir=/lower,upperdir=$u,workdir=/layer/work" /newroot || die "overlay"
# $TMPDIR (/var/tmp/nslane) on the lane's scratch disk (the host made it ext4): a real block
# device, so block I/O is accounted and throttled as on a host's disk. Not /tmp itself: the host's
# /tmp (a clone under test may live there) stays visible. Mounted here: the host has no udev.
mkdir -p /newroot/var/tmp/nslane
mount -t ext4 /dev/vda /newroot/var/tmp/nslane || die "mount /dev/vda on /var/tmp/nslane"
chmod 1777 /newroot/var/tmp/nslane
# Engine storage cannot live on an overlay root.
for d in var/lib/containers var/lib/containerd var/lib/docker; do
  mkdir -p "/newroot/$d" && mount -t tmpfs -o mode=0711 tmpfs "/newroot/$d"
done
if [ -n "$modules" ] && [ -d "/newroot$modules" ]; then
  ver=$(ls "/newroot$modules")
  mkdir -p "/newroot/usr/lib/modules/$ver"
  mount --bind "/newroot$modules/$ver" "/newroot/usr/lib/modules/$ver"
fi
umount /proc /sys
umount /dev 2>/dev/null
exec switch_root /newroot /lib/systemd/systemd
