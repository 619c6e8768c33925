#!/usr/bin/env bats
# The container's filesystem: pivot_root, mounts, symlink-safe destinations, masked and
# read-only paths, /dev.

load helpers

setup() { setup_container_env; }
teardown() { teardown_container_env; }

# A private copy of the rootfs this test may change.
private_rootfs() {
  cp -a "$NS_BUNDLE/rootfs" "$BATS_TEST_TMPDIR/rootfs"
  cfg '.root.path = $r' --arg r "$BATS_TEST_TMPDIR/rootfs"
}

@test "a mount destination through a symlink to / stays inside the rootfs" {
  private_rootfs
  ln -s / "$BATS_TEST_TMPDIR/rootfs/evil"
  target="ns-escape-test-$$"
  cfg '.mounts += [{"destination": ("/evil/" + $t), "type": "tmpfs", "source": "tmpfs"}]' --arg t "$target"
  set_args /bin/sh -c "grep -c \" /$target \" /proc/self/mountinfo"
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "$output" = 1 ]
  [ ! -e "/$target" ]
  [ -d "$BATS_TEST_TMPDIR/rootfs/$target" ]
}

@test "a mount destination through a ../../.. symlink stays inside the rootfs" {
  private_rootfs
  ln -s ../../../../../../.. "$BATS_TEST_TMPDIR/rootfs/up"
  mkdir -p "$BATS_TEST_TMPDIR/rootfs/a/b"
  ln -s ../../.. "$BATS_TEST_TMPDIR/rootfs/a/b/c"
  target="ns-escape-up-$$"
  cfg '.mounts += [{"destination": ("/up/" + $t), "type": "tmpfs", "source": "tmpfs"},
                   {"destination": ("/a/b/c/" + $t + "-2"), "type": "tmpfs", "source": "tmpfs"}]' --arg t "$target"
  set_args /bin/sh -c "grep -c \" /$target\" /proc/self/mountinfo"
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "$output" = 2 ]
  [ ! -e "/$target" ]
  [ ! -e "/$target-2" ]
  [ -d "$BATS_TEST_TMPDIR/rootfs/$target" ]
  [ -d "$BATS_TEST_TMPDIR/rootfs/$target-2" ]
}

@test "a bind mount whose destination is a symlink to a host file stays inside" {
  private_rootfs
  echo secret > "$BATS_TEST_TMPDIR/hostfile"
  ln -s /etc/hostname "$BATS_TEST_TMPDIR/rootfs/etc/link-to-hostname"
  echo replaced > "$BATS_TEST_TMPDIR/src"
  before=$(cat /etc/hostname)
  cfg '.mounts += [{"destination": "/etc/link-to-hostname", "type": "bind", "source": $s, "options": ["bind", "ro"]}]' \
    --arg s "$BATS_TEST_TMPDIR/src"
  set_args /bin/cat /etc/hostname
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "$output" = replaced ]
  [ "$(cat /etc/hostname)" = "$before" ]
  { ! grep -q "/etc/hostname" /proc/self/mountinfo || ! grep -q "$BATS_TEST_TMPDIR/src" /proc/self/mountinfo; } || false
}

@test "the root is pivoted: the host's root is not reachable" {
  set_args /bin/sh -c 'ls /work /root/../.. 2>&1'
  run rt run --rm --bundle "$BUNDLE" c1
  [[ "$output" == *"No such file or directory"* ]]
  [[ "$output" != *main* ]]
}

@test "readonly root: writes fail with read-only file system" {
  set_args /bin/ns-probe write /newfile
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"Read-only file system"* ]] || [[ "$output" == *"No such file"* ]]
  set_args /bin/sh -c 'touch /newfile'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"Read-only file system"* ]]
}

@test "a writable root when root.readonly is false" {
  private_rootfs
  cfg '.root.readonly = false'
  set_args /bin/sh -c 'echo hi > /written'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "$(cat "$BATS_TEST_TMPDIR/rootfs/written")" = hi ]
}

@test "masked paths: files read empty, directories are empty tmpfs" {
  set_args /bin/sh -c 'wc -c < /proc/keys; ls /sys/firmware | wc -l; grep " /sys/firmware " /proc/self/mountinfo | grep -c tmpfs'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = 0 ]
  [ "${lines[2]}" = 1 ]
}

@test "readonly paths cannot be written" {
  set_args /bin/ns-probe write /proc/sys/kernel/domainname
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"Read-only file system"* ]]
}

@test "proc, sysfs, devpts, mqueue, shm and tmpfs are mounted as asked" {
  set_args /bin/sh -c 'cat /proc/self/mountinfo; stat -c "%a" /tmp /dev/shm'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [[ "$output" == *" /proc "*" - proc "* ]]
  echo "$output" | grep -E ' /sys ro,[^ ]*nosuid,nodev,noexec[^ ]* .*- sysfs '
  echo "$output" | grep -E ' /dev/pts .* - devpts devpts .*ptmxmode=666'
  echo "$output" | grep -E ' /dev/mqueue .* - mqueue '
  echo "$output" | grep -E ' /dev/shm .* - tmpfs '
  [ "${lines[-2]}" = 1777 ]
  [ "${lines[-1]}" = 1777 ]
}

@test "bind mounts: ro refuses writes, rw writes reach the host, a file can be bound" {
  mkdir -p "$BATS_TEST_TMPDIR/ro" "$BATS_TEST_TMPDIR/rw"
  echo content > "$BATS_TEST_TMPDIR/file"
  cfg '.mounts += [
    {"destination": "/mnt/ro", "type": "bind", "source": $ro, "options": ["rbind", "ro", "rprivate"]},
    {"destination": "/mnt/rw", "type": "none", "source": $rw, "options": ["bind", "nosuid"]},
    {"destination": "/mnt/file", "type": "bind", "source": $f, "options": ["bind", "ro"]}]' \
    --arg ro "$BATS_TEST_TMPDIR/ro" --arg rw "$BATS_TEST_TMPDIR/rw" --arg f "$BATS_TEST_TMPDIR/file"
  set_args /bin/sh -c 'touch /mnt/ro/x 2>&1; echo written > /mnt/rw/y; cat /mnt/file'
  run rt run --rm --bundle "$BUNDLE" c1
  [[ "$output" == *"Read-only file system"* ]]
  [[ "$output" == *content* ]]
  [ "$(cat "$BATS_TEST_TMPDIR/rw/y")" = written ]
  [ ! -e "$BATS_TEST_TMPDIR/ro/x" ]
}

@test "rro and rnosuid reach the mounts under a recursive bind; ro alone does not; nosymfollow" {
  mkdir -p "$BATS_TEST_TMPDIR/tree/sub" "$BATS_TEST_TMPDIR/tree2/sub"
  mount -t tmpfs tmpfs "$BATS_TEST_TMPDIR/tree/sub"
  mount -t tmpfs tmpfs "$BATS_TEST_TMPDIR/tree2/sub"
  ln -s /etc/passwd "$BATS_TEST_TMPDIR/tree/link"
  cfg '.mounts += [
    {"destination": "/rro", "type": "bind", "source": $t, "options": ["rbind", "rro", "rnosuid", "rprivate"]},
    {"destination": "/ro", "type": "bind", "source": $t2, "options": ["rbind", "ro", "rprivate"]},
    {"destination": "/nofollow", "type": "bind", "source": $t, "options": ["bind", "nosymfollow"]}]' \
    --arg t "$BATS_TEST_TMPDIR/tree" --arg t2 "$BATS_TEST_TMPDIR/tree2"
  set_args /bin/sh -c 'touch /rro/sub/x 2>&1; touch /ro/sub/y && echo ro-sub-writable; grep " /rro/sub " /proc/self/mountinfo; cat /nofollow/link 2>&1 | head -1'
  run rt run --rm --bundle "$BUNDLE" c1
  umount "$BATS_TEST_TMPDIR/tree/sub" "$BATS_TEST_TMPDIR/tree2/sub"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == *"/rro/sub/x"*"Read-only file system"* ]]
  [ "${lines[1]}" = ro-sub-writable ]
  [[ "${lines[2]}" == *" ro,nosuid"* ]]
  [[ "${lines[3]}" == *"Too many levels of symbolic links"* ]]
}

@test "a relative bind source is relative to the bundle" {
  mkdir -p "$BUNDLE/data"
  echo in-bundle > "$BUNDLE/data/f"
  cfg '.mounts += [{"destination": "/data", "type": "bind", "source": "data", "options": ["bind"]}]'
  set_args /bin/cat /data/f
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "$output" = in-bundle ]
}

@test "tmpcopyup keeps the directory's content on the new tmpfs" {
  cfg '.mounts += [{"destination": "/etc", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "mode=755"]}]'
  set_args /bin/sh -c 'grep -c root /etc/passwd; echo extra >> /etc/passwd && echo appended; grep " /etc " /proc/self/mountinfo | grep -c tmpfs'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1 ]
  [ "${lines[1]}" = appended ]
  [ "${lines[2]}" = 1 ]
  ! grep -q extra "$NS_BUNDLE/rootfs/etc/passwd" || false
}

@test "relative root.path is relative to the bundle, wherever the runtime runs" {
  ln -s "$NS_BUNDLE/rootfs" "$BUNDLE/rootfs"
  cfg '.root.path = "rootfs"'
  set_args /bin/true
  cd /
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
}

@test "default devices, linux.devices and /dev symlinks" {
  cfg '.linux.devices = [
    {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 384, "uid": 1000, "gid": 1000},
    {"path": "/dev/sub/deeper", "type": "c", "major": 1, "minor": 7, "fileMode": 432, "gid": 5},
    {"path": "/dev/podman-style", "type": "c", "major": 1, "minor": 5, "fileMode": 8612}]'
  set_args /bin/sh -c 'for d in null zero full random urandom tty mynull sub/deeper podman-style; do stat -c "%n %F %t:%T %a %u:%g" /dev/$d; done; for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; echo x > /dev/null && echo null-ok; head -c 4 /dev/zero | wc -c'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [[ "$output" == *"/dev/null character special file 1:3 666 0:0"* ]]
  [[ "$output" == *"/dev/zero character special file 1:5 666"* ]]
  [[ "$output" == *"/dev/full character special file 1:7 666"* ]]
  [[ "$output" == *"/dev/random character special file 1:8 666"* ]]
  [[ "$output" == *"/dev/urandom character special file 1:9 666"* ]]
  [[ "$output" == *"/dev/tty character special file 5:0 666"* ]]
  [[ "$output" == *"/dev/mynull character special file 1:3 600 1000:1000"* ]]
  [[ "$output" == *"/dev/sub/deeper character special file 1:7 660 0:5"* ]]
  [[ "$output" == *"/dev/podman-style character special file 1:5 644 0:0"* ]]
  [[ "$output" == *"/proc/self/fd"$'\n'"/proc/self/fd/0"$'\n'"/proc/self/fd/1"$'\n'"/proc/self/fd/2"$'\n'"pts/ptmx"* ]]
  [[ "$output" == *null-ok* ]]
  [ "${lines[-1]}" = 4 ]
}

@test "--no-pivot runs the container with MS_MOVE + chroot" {
  set_args /bin/sh -c 'cat /etc/hostname; ls /proc/self >/dev/null && echo proc-ok'
  run rt run --rm --no-pivot --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = nano-sandbox ]
  [ "${lines[1]}" = proc-ok ]
}

@test "rootfsPropagation sets the propagation of the container's root" {
  private_rootfs
  for prop in rprivate rslave rshared private; do
    cfg '.linux.rootfsPropagation = $p' --arg p "$prop"
    set_args /bin/sh -c 'awk "\$5 == \"/\"" /proc/self/mountinfo'
    run rt run --rm --bundle "$BUNDLE" c1
    [ "$status" -eq 0 ]
    case $prop in
      rshared) [[ "$output" == *shared:* ]] ;;
      rslave) [[ "$output" != *shared:* ]] ;;  # a slave of a private host root is private
      *) [[ "$output" != *shared:* && "$output" != *master:* ]] ;;
    esac
  done
}

@test "the cgroup mount shows the container's cgroups read-only" {
  cfg '.mounts += [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}]'
  set_args /bin/sh -c 'ls /sys/fs/cgroup; touch /sys/fs/cgroup/x 2>&1; cat /proc/self/cgroup'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [[ "$output" == *"Read-only file system"* ]]
  if grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts; then
    [[ "$output" == *cgroup.procs* ]]
  else
    [[ "$output" == *memory* ]]
    [[ "$output" == *pids* ]]
  fi
}

@test "without a cgroup namespace the cgroup mount binds the container's own cgroup, not the host's tree" {
  cfg '.linux.namespaces |= map(select(.type != "cgroup"))
     | .mounts += [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}]'
  set_args /bin/sh -c 'if [ -e /sys/fs/cgroup/cgroup.procs ]; then d=/sys/fs/cgroup; else d=/sys/fs/cgroup/pids; fi; ls $d | grep -c nano-sandbox; cat $d/cgroup.procs | wc -l; touch $d/x 2>&1; true'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]    # the host's tree (which holds nano-sandbox/) is not what it sees
  [ "${lines[1]}" -le 3 ]  # its own processes only: sh, cat, wc
  [[ "$output" == *"Read-only file system"* ]]
}
