#!/usr/bin/env bats
# The warm pool: VMs booted ahead under the state root, taken by create, replaced, stopped.

bats_require_minimum_version 1.5.0
load ../integration/helpers

setup() {
  : "${NS_VM_DIR:?}"
  export NS_VM_DIR
  setup_container_env
  cd "$BUNDLE"
  GUEST_KERNEL=$(sed 's/^linux-image-//' "$NS_VM_DIR/kernel.version")
  mkdir -p "$BATS_TEST_TMPDIR/data"
}

teardown() {
  teardown_container_env
  "$NS_RUNTIME" --root "$ROOT" vm-pool stop >/dev/null 2>&1 || true
  for i in $(seq 50); do [ -e "$ROOT/.vm-pool" ] || break; sleep 0.1; done
}

pool_field() {
  "$NS_RUNTIME" --root "$ROOT" vm-pool status | jq -r ".$1"
}

vm_processes_under() {
  ps -eo stat=,comm=,args= | awk -v root="$1" '$1 !~ /^Z/ && ($2 ~ /^qemu-system/ || $2 == "virtiofsd") && index($0, root)'
}

@test "vm-pool: start keeps N VMs booted; create takes one, its rootfs and bind mounts attached; stop leaves nothing" {
  run "$NS_RUNTIME" --root "$ROOT" vm-pool status
  [ "$status" -ne 0 ]
  [[ "$output" == *"no VM pool runs"* ]]
  rt vm-pool start --size 1
  [ "$(pool_field idle)" = 1 ]
  [ "$(pool_field accel)" = tcg ]
  cfg '.mounts += [{"destination": "/data", "type": "bind", "source": $d, "options": ["rbind", "rw"]}]' --arg d "$BATS_TEST_TMPDIR/data"
  set_args sh -c 'uname -r; echo from-pooled-vm >/data/out'
  run "$NS_RUNTIME" --root "$ROOT" --vm -E run --rm p1
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"$GUEST_KERNEL"* ]]
  [[ "$output" == *"vm-pool"* ]]
  [[ "$output" != *"vm-boot"* ]]
  [ "$(cat "$BATS_TEST_TMPDIR/data/out")" = from-pooled-vm ]
  no_leftovers p1
  # A replacement boots; the lent VM's directory goes when its QEMU has stopped.
  for i in $(seq 150); do [ "$(pool_field idle)" = 1 ] && [ "$(pool_field lent)" = 0 ] && break; sleep 0.1; done
  [ "$(pool_field idle)" = 1 ]
  [ "$(pool_field lent)" = 0 ]
  [ "$(ls -d "$ROOT"/.vm-pool/vm* | wc -l)" = 1 ]
  rt vm-pool stop
  for i in $(seq 50); do [ -e "$ROOT/.vm-pool" ] || break; sleep 0.1; done
  [ ! -e "$ROOT/.vm-pool" ]
  [ -z "$(vm_processes_under "$ROOT/")" ]
}

@test "vm-pool: what a pooled VM cannot serve boots cold; a running pooled container outlives vm-pool stop" {
  rt vm-pool start --size 1
  # More memory than a pooled guest has: a cold boot of its own.
  cfg '.linux.resources.memory.limit = 268435456'
  set_args true
  run "$NS_RUNTIME" --root "$ROOT" --vm -E run --rm c1
  [ "$status" -eq 0 ]
  [[ "$output" == *"vm-boot"* ]]
  [ "$(pool_field idle)" = 1 ]
  cfg 'del(.linux.resources.memory)'
  set_sleeper
  rt --vm run -d c2
  [ "$(pool_field lent)" = 1 ]
  # QEMU and virtiofsd moved into the container's cgroup.
  rt ps c2 | grep -q qemu-system-x86_64
  # pause/resume reach the pooled VM's QEMU (QMP) through the container's own state directory.
  rt pause c2
  [ "$(state_field c2 status)" = paused ]
  rt resume c2
  [ "$(state_field c2 status)" = running ]
  rt vm-pool stop
  run rt exec c2 uname -r
  [ "$output" = "$GUEST_KERNEL" ]
  rt delete -f c2
  for i in $(seq 50); do [ -e "$ROOT/.vm-pool" ] || break; sleep 0.1; done
  [ ! -e "$ROOT/.vm-pool" ]
  [ -z "$(vm_processes_under "$ROOT/")" ]
  no_leftovers c2
}
