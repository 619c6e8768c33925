#!/usr/bin/env bats
# VM mode's QEMU and virtiofsd, attacked as if a guest had got code to run in them: in-process
# makes the running QEMU (or virtiofsd) make the attacker's system call itself, with its own
# credentials, capabilities, seccomp filters, namespaces and root directory (docs/security.md).

load ../integration/helpers
bats_require_minimum_version 1.5.0

setup() {
  : "${NS_VM_DIR:?}" "${NS_IN_PROCESS:?}"
  [ "$(uname -m)" = x86_64 ] || skip "in-process injects x86_64 system calls"
  setup_container_env
  export NS_VM_DIR
  mkdir -p "$BATS_TEST_TMPDIR/data"
  cfg '.mounts += [{"destination": "/data", "type": "bind", "source": $d, "options": ["rbind", "rw"]}]' \
    --arg d "$BATS_TEST_TMPDIR/data"
  cd "$BUNDLE"
  # The victim: a host process of root's that a compromised QEMU would like to trace.
  sleep 1000 &
  VICTIM=$!
}

teardown() {
  kill "$VICTIM" 2>/dev/null || true
  teardown_container_env
}

# machine_process ID COMM: the pid of the container's QEMU (qemu-system*) or virtiofsd; for
# virtiofsd the one that serves (in its own pid namespace), not the parent that waits for it.
machine_process() {
  local id=$1 comm=$2 p
  for p in $(pgrep -f -- "$ROOT/$id.vm/"); do
    case "$comm:$(cat "/proc/$p/comm")" in
      qemu:qemu-system*) echo "$p"; return ;;
      virtiofsd:virtiofsd)
        [ "$(readlink "/proc/$p/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] && { echo "$p"; return; } ;;
    esac
  done
  return 1
}

status_field() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

@test "vm: a compromised QEMU cannot open host files, trace a host process, load bpf or reach the host network" {
  set_args sh -c 'echo ran >/data/out'
  rt --vm create c1
  qemu=$(machine_process c1 qemu)
  [ -n "$qemu" ]
  # The attacks, made by QEMU itself.
  run "$NS_IN_PROCESS" "$qemu" open /etc/shadow
  echo "open /etc/shadow: $output"
  [ "$status" -eq 0 ]
  [ "$output" = "err ENOENT" ]
  run "$NS_IN_PROCESS" "$qemu" open "/proc/$VICTIM/root/etc/shadow"
  [ "$output" = "err ENOENT" ]
  run "$NS_IN_PROCESS" "$qemu" ptrace "$VICTIM"
  echo "ptrace: $output"
  [ "$output" = "err EPERM" ]
  [ "$(status_field "$VICTIM" TracerPid)" = 0 ]
  run "$NS_IN_PROCESS" "$qemu" bpf
  echo "bpf: $output"
  [ "$output" = "err EPERM" ]
  # No NIC: an empty network namespace, the host's loopback out of reach.
  [ "$(readlink "/proc/$qemu/ns/net")" != "$(readlink /proc/self/ns/net)" ]
  run "$NS_IN_PROCESS" "$qemu" connect 22
  echo "connect: $output"
  [ "$output" = "err ENETUNREACH" ]

  # What it runs as: a uid and gid of its own, no capabilities, no_new_privs, seccomp, an empty root.
  id=$((0x70000000 + qemu))
  [ "$(awk '$1 == "Uid:" {print $2, $3, $4, $5}' "/proc/$qemu/status")" = "$id $id $id $id" ]
  [ "$(awk '$1 == "Gid:" {print $2, $3, $4, $5}' "/proc/$qemu/status")" = "$id $id $id $id" ]
  [[ "$(status_field "$qemu" Groups)" == "" || "$(status_field "$qemu" Groups)" == "$id" ]]  # no group but its own
  [ "$(status_field "$qemu" CapEff)" = 0000000000000000 ]
  [ "$(status_field "$qemu" CapPrm)" = 0000000000000000 ]
  [ "$(status_field "$qemu" NoNewPrivs)" = 1 ]
  [ "$(status_field "$qemu" Seccomp)" = 2 ]
  [ "$(readlink "/proc/$qemu/root")" = "$ROOT/c1.vm/empty" ]

  # Nothing of that disturbed it: the container runs and exits.
  rt start c1
  wait_status c1 stopped
  [ "$(cat "$BATS_TEST_TMPDIR/data/out")" = ran ]
  rt delete c1
  no_leftovers c1
}

@test "vm: a compromised virtiofsd sees only the share, and keeps only the capabilities serving files takes" {
  set_args sh -c 'sleep 1000'
  rt --vm create c2
  vfs=$(machine_process c2 virtiofsd)
  [ -n "$vfs" ]
  [ "$(status_field "$vfs" NoNewPrivs)" = 1 ]
  [ "$(status_field "$vfs" Seccomp)" = 2 ]
  # The bounding set: none of ptrace, module loading, raw I/O, bpf, mknod.
  bnd=$((16#$(status_field "$vfs" CapBnd)))
  for cap in 27 16 17 19 39 38; do  # mknod, sys_module, sys_rawio, sys_ptrace, bpf, perfmon
    [ $((bnd >> cap & 1)) -eq 0 ] || { echo "capability $cap in the bounding set" >&2; false; }
  done
  run "$NS_IN_PROCESS" "$vfs" open /etc/shadow
  echo "open /etc/shadow: $output"
  [ "$output" = "err ENOENT" ]
  run "$NS_IN_PROCESS" "$vfs" open "/proc/$VICTIM/root/etc/shadow"
  [ "$output" = "err ENOENT" ]
  # The share is what it serves: the container's rootfs is there.
  run "$NS_IN_PROCESS" "$vfs" open /rootfs/bin/busybox
  [[ "$output" == "ok "* ]]
  # bpf, then (in a second VM: either call may kill it) tracing. The host's processes are not
  # in its pid namespace; both calls are refused or, virtiofsd's own allowlist not naming them,
  # kill it.
  run "$NS_IN_PROCESS" "$vfs" bpf
  echo "bpf: $output"
  [[ "$output" == "err EPERM" || "$output" == "killed SIGSYS" ]]
  rt --vm create c3
  vfs=$(machine_process c3 virtiofsd)
  run "$NS_IN_PROCESS" "$vfs" ptrace "$VICTIM"
  echo "ptrace: $output"
  [[ "$output" == "err EPERM" || "$output" == "err ESRCH" || "$output" == "killed SIGSYS" ]]
  [ "$(status_field "$VICTIM" TracerPid)" = 0 ]
  rt delete --force c3
  no_leftovers c3
  rt delete --force c2
  no_leftovers c2
}
