#!/usr/bin/env bats
# VM mode through the runc lifecycle, under TCG here: every container boots its own microVM
# (Debian's cloud kernel, our agent as /init) and the same busybox bundle runs inside.

load ../integration/helpers
bats_require_minimum_version 1.5.0

setup() {
  : "${NS_VM_DIR:?}"
  setup_container_env
  GUEST_KERNEL=$(sed 's/^linux-image-//' "$NS_VM_DIR/kernel.version")
  export NS_VM_DIR
  # The share's host side: a directory bind-mounted read-write, one read-only.
  mkdir -p "$BATS_TEST_TMPDIR/data" "$BATS_TEST_TMPDIR/ro"
  echo from-host >"$BATS_TEST_TMPDIR/ro/file"
  cd "$BUNDLE"
}

teardown() {
  teardown_container_env
}

# vm_leftovers ID: besides no state and no cgroup, no QEMU or virtiofsd of this test runs.
vm_leftovers() {
  no_leftovers "$1"
  local left
  left=$(ps -eo stat=,comm=,args= | awk -v root="$ROOT/$1.vm/" '$1 !~ /^Z/ && ($2 ~ /^qemu-system/ || $2 == "virtiofsd") && index($0, root)')
  [ -z "$left" ] || { echo "left running: $left" >&2; return 1; }
}

@test "vm run: the guest's kernel, stdout and stderr apart, the exit code back, no NIC without a network" {
  set_args sh -c 'uname -r; ls /sys/class/net; echo to-stderr >&2; exit 7'
  run --separate-stderr "$NS_RUNTIME" --root "$ROOT" --vm run --rm vm1
  echo "out: $output / err: $stderr"
  [ "$status" -eq 7 ]
  [ "${lines[0]}" = "$GUEST_KERNEL" ]
  [ "${lines[1]}" = lo ]
  [ "${#lines[@]}" -eq 2 ]
  [ "${lines[0]}" != "$(uname -r)" ]
  [ "$stderr" = "to-stderr" ]
  vm_leftovers vm1
}

@test "vm run: stdin reaches the container, a bind mount is shared both ways, read-only stays read-only" {
  cfg '.mounts += [{"destination": "/data", "type": "bind", "source": $d, "options": ["rbind", "rw"]},
                   {"destination": "/ro", "type": "bind", "source": $r, "options": ["bind", "ro"]}]' \
    --arg d "$BATS_TEST_TMPDIR/data" --arg r "$BATS_TEST_TMPDIR/ro"
  set_args sh -c 'read line; echo "$line" >/data/written; cat /ro/file; echo x >/ro/new || echo refused'
  run bash -c "echo typed-in | '$NS_RUNTIME' --root '$ROOT' --vm run --rm vm2 2>&1"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(cat "$BATS_TEST_TMPDIR/data/written")" = typed-in ]
  [[ "$output" == *from-host* ]]
  [[ "$output" == *"Read-only file system"* ]]
  [[ "$output" == *refused* ]]
  [ ! -e "$BATS_TEST_TMPDIR/ro/new" ]
  vm_leftovers vm2
}

@test "vm create/start/state/pause/resume/kill/delete, the accelerator in state, the memory limit inside" {
  cfg '.mounts += [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro"]}]'
  cfg '.linux.resources.memory.limit = 100663296'
  cfg '.linux.resources.cpu.quota = 150000 | .linux.resources.cpu.period = 100000'
  cfg '.mounts += [{"destination": "/data", "type": "bind", "source": $d, "options": ["rbind", "rw"]}]' --arg d "$BATS_TEST_TMPDIR/data"
  # The init reports its limit and CPUs, then waits for SIGUSR1 and exits 42 on it.
  set_args sh -c 'nproc >/data/cpus; cat /sys/fs/cgroup/memory.max >/data/limit; trap "echo got-usr1 >/data/sig; exit 42" USR1; while :; do sleep 0.1; done'
  rt --vm create --pid-file "$BATS_TEST_TMPDIR/pid" vm3
  [ "$(state_field vm3 status)" = created ]
  [ "$(state_field vm3 'annotations["org.nano-sandbox.vm.accel"]')" = tcg ]
  pid=$(cat "$BATS_TEST_TMPDIR/pid")
  [ "$(state_field vm3 pid)" = "$pid" ]
  # The monitor, QEMU and virtiofsd are in the container's cgroup on the host.
  rt ps vm3 | grep -q qemu-system-x86_64
  rt ps vm3 | grep -q virtiofsd
  rt start vm3
  [ "$(state_field vm3 status)" = running ]
  for i in $(seq 100); do [ -s "$BATS_TEST_TMPDIR/data/limit" ] && break; sleep 0.1; done
  [ "$(cat "$BATS_TEST_TMPDIR/data/limit")" = 100663296 ]
  # The guest is sized by the limit, plus the guest kernel's share; the quota of 1.5 CPUs gives 2 vCPUs.
  ps -o args= --ppid "$pid" | grep -q -- "qemu-system-x86_64 .* -m 160M -smp 2 "
  [ "$(cat "$BATS_TEST_TMPDIR/data/cpus")" = 2 ]
  # events: the host cgroup's usage (QEMU's memory among it).
  run rt events --stats vm3
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.type == "stats" and .data.memory.usage.usage > 0'

  # QEMU stops the guest's vCPUs over QMP (a failure there fails pause), then the cgroup freezes.
  run rt -E pause vm3
  [ "$status" -eq 0 ]
  [[ "$output" == *"QMP $ROOT/vm3.vm/qmp.sock: stop"* ]]
  [ "$(state_field vm3 status)" = paused ]
  rt resume vm3
  [ "$(state_field vm3 status)" = running ]
  rt kill vm3 USR1
  for i in $(seq 100); do [ "$(state_field vm3 status)" = stopped ] && break; sleep 0.1; done
  [ "$(state_field vm3 status)" = stopped ]
  [ "$(cat "$BATS_TEST_TMPDIR/data/sig")" = got-usr1 ]
  rt delete vm3
  vm_leftovers vm3
}

@test "vm: kill -9 stops the machine at once; delete --force of a running VM leaves nothing" {
  set_sleeper
  rt --vm run -d vm4
  pid=$(state_field vm4 pid)
  rt kill vm4 KILL
  for i in $(seq 50); do [ "$(state_field vm4 status)" = stopped ] && break; sleep 0.1; done
  [ "$(state_field vm4 status)" = stopped ]
  rt delete vm4
  vm_leftovers vm4
  rt --vm run -d vm5
  [ "$(state_field vm5 status)" = running ]
  # An exec'd process, attached: its exit status comes back through its own stream.
  "$NS_RUNTIME" --root "$ROOT" exec vm5 /bin/ns-probe sleep 3600 >/dev/null 2>&1 3>&- &
  epid=$!
  for i in $(seq 50); do rt exec vm5 ps -o args | grep -q "^/bin/ns-probe sleep 3600" && break; sleep 0.2; done
  rt exec vm5 ps -o args | grep -q "^/bin/ns-probe sleep 3600"
  # --all: every process of the container, inside the guest; the init's death ends the VM.
  rt kill --all vm5 KILL
  for i in $(seq 50); do [ "$(state_field vm5 status)" = stopped ] && break; sleep 0.1; done
  [ "$(state_field vm5 status)" = stopped ]
  es=0
  wait "$epid" || es=$?
  [ "$es" -eq 137 ]
  rt delete vm5
  vm_leftovers vm5
  rt --vm run -d vm5
  rt delete --force vm5
  vm_leftovers vm5
}

@test "vm mode by annotation and by the name ns-runtime-vm" {
  set_args uname -r
  cfg '.annotations["org.nano-sandbox.runtime"] = "vm"'
  run "$NS_RUNTIME" --root "$ROOT" run --rm vm6
  [ "$status" -eq 0 ]
  [ "$output" = "$GUEST_KERNEL" ]
  cfg 'del(.annotations["org.nano-sandbox.runtime"])'
  run "$(dirname "$NS_RUNTIME")/ns-runtime-vm" --root "$ROOT" run --rm vm7
  [ "$status" -eq 0 ]
  [ "$output" = "$GUEST_KERNEL" ]
  cfg '.annotations["org.nano-sandbox.runtime"] = "firecracker"'
  run "$NS_RUNTIME" --root "$ROOT" run --rm vm8
  [ "$status" -ne 0 ]
  [[ "$output" == *'org.nano-sandbox.runtime="firecracker": expected vm or namespaces'* ]]
  no_leftovers vm8
}

@test "vm: a missing guest kernel, a missing bind source, a failing program: clear errors, nothing left" {
  set_args true
  NS_VM_DIR=$BATS_TEST_TMPDIR/none run "$NS_RUNTIME" --root "$ROOT" --vm run --rm vm9
  [ "$status" -ne 0 ]
  [[ "$output" == *"no guest kernel and agent"*"vm-assets"* ]]
  no_leftovers vm9
  cfg '.mounts += [{"destination": "/data", "type": "bind", "source": "/nonexistent/src", "options": ["bind"]}]'
  run "$NS_RUNTIME" --root "$ROOT" --vm run --rm vm10
  [ "$status" -ne 0 ]
  [[ "$output" == *"/nonexistent/src"*"no such file or directory"* ]]
  vm_leftovers vm10
  cfg 'del(.mounts[-1])'
  # Inside the guest: the namespace back end's own error, passed up.
  set_args /no/such/program
  run "$NS_RUNTIME" --root "$ROOT" --vm run --rm vm11
  [ "$status" -ne 0 ]
  [[ "$output" == *"in the VM"*"/no/such/program"* ]]
  vm_leftovers vm11
  run "$NS_RUNTIME" --root "$ROOT" --vm-accel warp run vm12
  [ "$status" -ne 0 ]
  [[ "$output" == *"vm-accel"* ]]
}

@test "vm -E narrates the machine, the share, the boot and the agent, with timings" {
  set_args true
  run "$NS_RUNTIME" --root "$ROOT" --vm -E run --rm vm13
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"vm-machine"* ]]
  [[ "$output" == *"accelerator: tcg"* ]]
  [[ "$output" == *"vm-share"*"virtiofsd"* ]]
  [[ "$output" == *"vm-boot"*"qemu-system-x86_64 -M microvm"* ]]
  [[ "$output" == *"vm-agent"* ]]
  # What the agent and the guest's init do inside, with their own timings.
  [[ "$output" == *"[AGENT] cgroup"* ]]
  [[ "$output" == *"[INIT] pivot-root"* ]]
  [[ "$output" == *"  INIT    pivot-root"* ]]
}

@test "vm exec: output, stdin, exit code, errors, with a tty attached and through --console-socket, detached" {
  set_sleeper
  rt --vm run -d vm14
  run --separate-stderr "$NS_RUNTIME" --root "$ROOT" exec vm14 sh -c 'uname -r; echo e >&2; exit 5'
  [ "$status" -eq 5 ]
  [ "$output" = "$GUEST_KERNEL" ]
  [ "$stderr" = e ]
  run bash -c "echo piped-in | '$NS_RUNTIME' --root '$ROOT' exec vm14 cat"
  [ "$status" -eq 0 ]
  [ "$output" = piped-in ]
  run "$NS_RUNTIME" --root "$ROOT" exec vm14 /no/such/program
  [ "$status" -ne 0 ]
  [[ "$output" == *"in the VM"*"/no/such/program"*"no such file or directory"* ]]
  run rt exec -t vm14 sh -c 'tty'
  [ "$status" -eq 0 ]
  [[ "$output" == *"/dev/pts/"* ]]
  sock="$BATS_TEST_TMPDIR/c.sock"
  timeout 30 "$NS_RECVTTY" "$sock" $'typed\n' > "$BATS_TEST_TMPDIR/tty.out" 2>/dev/null 3>&- &
  rpid=$!
  for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  rt exec -t --console-socket "$sock" --detach --pid-file "$BATS_TEST_TMPDIR/exec.pid" vm14 sh -c 'tty; read l; echo "got $l"'
  # The relay that stands for the process on the host, until it exits.
  relay=$(cat "$BATS_TEST_TMPDIR/exec.pid")
  wait "$rpid"
  grep -q '/dev/pts/' "$BATS_TEST_TMPDIR/tty.out"
  grep -q 'got typed' "$BATS_TEST_TMPDIR/tty.out"
  for i in $(seq 50); do kill -0 "$relay" 2>/dev/null || break; sleep 0.1; done
  ! kill -0 "$relay" 2>/dev/null
  rt delete -f vm14
  vm_leftovers vm14
}

@test "vm create with process.terminal: the pty master goes to --console-socket" {
  cfg '.process.terminal = true'
  set_args sh -c 'tty; read line; echo "got $line"'
  sock="$BATS_TEST_TMPDIR/console.sock"
  timeout 60 "$NS_RECVTTY" "$sock" $'typed-input\n' > "$BATS_TEST_TMPDIR/tty.out" 2> "$BATS_TEST_TMPDIR/tty.err" 3>&- &
  rpid=$!
  for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  rt --vm create --console-socket "$sock" vm15
  rt start vm15
  wait "$rpid"
  grep -q '^payload: /dev/ptmx' "$BATS_TEST_TMPDIR/tty.err"
  grep -q '/dev/pts/0' "$BATS_TEST_TMPDIR/tty.out"
  grep -q 'got typed-input' "$BATS_TEST_TMPDIR/tty.out"
  for i in $(seq 50); do [ "$(state_field vm15 status)" = stopped ] && break; sleep 0.1; done
  rt delete vm15
  vm_leftovers vm15
}

@test "vm update: the limits inside the guest, QEMU's share of memory on the host" {
  cfg '.mounts += [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro"]}]'
  cfg '.linux.resources.memory.limit = 100663296'
  set_sleeper
  rt --vm run -d vm16
  rt update --pids-limit 42 --memory 64M vm16
  run rt exec vm16 cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/memory.max
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 42 ]
  [ "${lines[1]}" = 67108864 ]
  # On the host: the guest's part (64 MiB + 64 MiB for its kernel) plus 256 MiB for QEMU.
  pid=$(state_field vm16 pid)
  v1=$(awk -F: '$2 == "memory" {print $3}' "/proc/$pid/cgroup")
  if [ -n "$v1" ]; then host=$(cat "/sys/fs/cgroup/memory$v1/memory.limit_in_bytes")
  else host=$(cat "/sys/fs/cgroup$(awk -F: '$1 == "0" {print $3}' "/proc/$pid/cgroup")/memory.max"); fi
  [ "$host" = $(((64 + 64 + 256) << 20)) ]
  rt delete -f vm16
  vm_leftovers vm16
}
