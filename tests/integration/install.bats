#!/usr/bin/env bats
# make install with PREFIX and DESTDIR puts ns-runtime and the bundle where they belong, and the
# installed pair runs a container.

setup() {
  : "${NS_SOURCE_DIR:?}" "${NS_BUILD_DIR:?}"
}

@test "make install honours PREFIX and DESTDIR" {
  dest="$BATS_TEST_TMPDIR/pkgroot"
  run make -C "$NS_SOURCE_DIR" install BUILD="$NS_BUILD_DIR" PREFIX=/usr DESTDIR="$dest"
  [ "$status" -eq 0 ]
  [ -x "$dest/usr/bin/ns-runtime" ]
  [ "$(readlink "$dest/usr/bin/nsrun")" = ns-runtime ]
  [ -f "$dest/usr/share/nano-sandbox/bundle/config.json" ]
  [ -x "$dest/usr/share/nano-sandbox/bundle/rootfs/bin/busybox" ]
  [ -L "$dest/usr/share/nano-sandbox/bundle/rootfs/bin/sh" ]
  [ ! -e /usr/bin/ns-runtime ] || [ "$(readlink -f /usr/bin/ns-runtime)" != "$dest/usr/bin/ns-runtime" ]
  [ "$(id -u)" = 0 ] || skip "running the installed bundle needs root"
  run "$dest/usr/bin/ns-runtime" --root "$BATS_TEST_TMPDIR/state" run --rm --bundle "$dest/usr/share/nano-sandbox/bundle" installed
  [ "$status" -eq 0 ]
  [[ "$output" == *"Hello from a nano-sandbox container!"* ]]
  run "$dest/usr/bin/nsrun" --state "$BATS_TEST_TMPDIR/nsrun" --root "$BATS_TEST_TMPDIR/state" --net none \
    --rootfs "$dest/usr/share/nano-sandbox/bundle/rootfs" echo installed nsrun
  [ "$status" -eq 0 ]
  [ "$output" = "installed nsrun" ]
}
