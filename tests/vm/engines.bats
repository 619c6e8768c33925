#!/usr/bin/env bats
# Engines with VM mode registered as a runtime of its own: ns-runtime-vm (a link to ns-runtime)
# under podman --runtime and containerd's runc shim (ctr --runc-binary). Every container is a
# microVM (TCG here) with the guest's kernel inside.

bats_require_minimum_version 1.5.0
load ../engines/engines

setup_file() {
  : "${NS_VM_DIR:?}"
  begin_suite
  setup_podman
  setup_containerd
}

teardown_file() {
  [ -n "${WORK:-}" ] || return 0
  teardown_podman
  teardown_containerd
  end_suite
}

setup() {
  require_root
  VM_RUNTIME="$(dirname "$RUNTIME")/ns-runtime-vm"
  GUEST_KERNEL=$(sed 's/^linux-image-//' "$NS_VM_DIR/kernel.version")
  export NS_VM_DIR
}

no_vm_left() {
  ! ps -eo stat=,comm= | awk '$1 !~ /^Z/ && ($2 ~ /^qemu-system/ || $2 == "virtiofsd")' | grep -q .
}

@test "podman --runtime ns-runtime-vm: run --rm, -d + exec, the guest's kernel, exit codes, nothing left" {
  run podman --runtime "$VM_RUNTIME" run --rm --network none localhost/busybox uname -r
  [ "$status" -eq 0 ]
  [ "$output" = "$GUEST_KERNEL" ]
  run podman --runtime "$VM_RUNTIME" run --rm --network none localhost/busybox sh -c 'exit 3'
  [ "$status" -eq 3 ]
  podman --runtime "$VM_RUNTIME" run -d --network none --name vmd localhost/busybox sleep 1000
  [ "$(podman inspect -f '{{.State.Status}}' vmd)" = running ]
  run podman exec vmd uname -r
  [ "$status" -eq 0 ]
  [ "$output" = "$GUEST_KERNEL" ]
  run podman exec vmd sh -c 'exit 4'
  [ "$status" -eq 4 ]
  run podman exec -t vmd tty
  [ "$status" -eq 0 ]
  [[ "$output" == *"/dev/pts/"* ]]
  run -127 podman exec vmd /nonexistent
  [[ "$output" == *"no such file or directory"* ]]
  run podman stop -t 1 vmd
  [ "$status" -eq 0 ]
  [ "$(podman inspect -f '{{.State.Status}}' vmd)" = exited ]
  podman rm vmd
  [ -z "$(podman ps -a -q)" ]
  [ -z "$("$RUNTIME" list -q 2>/dev/null)" ]
  no_vm_left
}

@test "ctr --runc-binary ns-runtime-vm: run, task exec through the shim, kill, nothing left" {
  run c run --runc-binary "$VM_RUNTIME" --rm localhost/busybox:latest v1 uname -r
  [ "$status" -eq 0 ]
  [ "$output" = "$GUEST_KERNEL" ]
  run c run --runc-binary "$VM_RUNTIME" --rm localhost/busybox:latest v2 sh -c 'exit 5'
  [ "$status" -eq 5 ]
  c run --runc-binary "$VM_RUNTIME" -d localhost/busybox:latest v3 sleep 1000
  # The shim waits for the exec relay's exit: the exec'd process's own status.
  run c task exec --exec-id e1 v3 sh -c 'uname -r; exit 6'
  [ "$status" -eq 6 ]
  [ "$output" = "$GUEST_KERNEL" ]
  c task kill -s SIGKILL v3
  wait_for sh -c "ctr -a '$WORK/ctrd/containerd.sock' -n '$NS_CTR_NS' task ls | grep -q 'v3.*STOPPED'"
  c task delete v3
  c containers delete v3
  [ -z "$(c containers ls -q)" ]
  no_vm_left
}
