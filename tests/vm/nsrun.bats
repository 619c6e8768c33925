#!/usr/bin/env bats
# nsrun --vm: the same sandboxes in a microVM each, with their bridge networking and port mapping
# (QEMU runs in the sandbox's network namespace; its tap is wired to the veth).

bats_require_minimum_version 1.5.0
load ../integration/helpers
load ../integration/nsrun_helpers

setup() {
  : "${NS_VM_DIR:?}"
  export NS_VM_DIR
  setup_nsrun_env
  # A subnet apart from the namespace tests'.
  NET="10.124.$((BATS_TEST_NUMBER % 250)).0/24"
  PREFIX="10.124.$((BATS_TEST_NUMBER % 250))."
  PORT=$((18300 + BATS_TEST_NUMBER))
  GUEST_KERNEL=$(sed 's/^linux-image-//' "$NS_VM_DIR/kernel.version")
}

teardown() {
  teardown_nsrun_env
}

no_vm_left() {
  ! ps -eo stat=,comm= | awk '$1 !~ /^Z/ && ($2 ~ /^qemu-system/ || $2 == "virtiofsd")' | grep -q .
}

@test "nsrun --vm: the guest's kernel, the exit code, nothing left" {
  run nsrun_run --vm --rootfs "$RFS" --name k1 sh -c 'uname -r; exit 3'
  [ "$status" -eq 3 ]
  [ "$output" = "$GUEST_KERNEL" ]
  nothing_left k1 ""
  no_vm_left
}

@test "nsrun --vm --detach --port: a page served from the VM to curl on 127.0.0.1, exec inside, stop, rm" {
  mkdir -p "$BATS_TEST_TMPDIR/www"
  echo hello-from-the-vm >"$BATS_TEST_TMPDIR/www/index.html"
  run nsrun_run --vm --rootfs "$RFS" --name vweb --memory 128M --port "$PORT:80" -v "$BATS_TEST_TMPDIR/www:/www:ro" \
    --detach httpd -f -p 80 -h /www
  [ "$status" -eq 0 ]
  [ "$output" = vweb ]
  run nsr ls
  [[ "${lines[1]}" == vweb*running*"$PREFIX"*"$PORT->80/tcp"* ]]
  local ip
  ip=$(echo "${lines[1]}" | awk '{print $3}')
  for i in $(seq 100); do curl -sf --max-time 1 "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done
  run curl -s --max-time 5 "http://127.0.0.1:$PORT/"
  [ "$output" = hello-from-the-vm ]
  # Inside: the guest's kernel, the sandbox's own address on its eth0.
  run nsr exec vweb sh -c 'uname -r; ip -4 -o addr show eth0'
  [ "${lines[0]}" = "$GUEST_KERNEL" ]
  [[ "${lines[1]}" == *"inet $ip/24"* ]]
  # QEMU is in the sandbox's network namespace, its tap wired to the sandbox's eth0.
  pid=$("$NS_RUNTIME" --root "$ROOT" state vweb | jq -r .pid)
  qemu=$(ps -o pid=,comm= --ppid "$pid" | awk '$2 ~ /^qemu-system/ {print $1; exit}')
  [ -n "$qemu" ]
  [ "$(readlink "/proc/$qemu/ns/net")" != "$(readlink /proc/self/ns/net)" ]
  # Its tap sits in that namespace, eth0's ingress redirected to it.
  nsenter --net="/proc/$qemu/ns/net" ip -o link show | grep -q nstap
  nsenter --net="/proc/$qemu/ns/net" tc filter show dev eth0 parent ffff: | grep -q "mirred"
  netns=$(readlink "/proc/$qemu/ns/net")
  # The guest's NIC has the sandbox interface's MAC and its default route.
  host_mac=$(nsenter --net="/proc/$qemu/ns/net" ip -o link show eth0 | grep -o 'link/ether [0-9a-f:]*')
  [ -n "$host_mac" ]
  [ "$(nsr exec vweb cat /sys/class/net/eth0/address)" = "${host_mac#link/ether }" ]
  nsr exec vweb ip route | grep -q "^default via ${PREFIX}1 dev eth0"
  nsr stop -t 1 vweb
  nsr rm vweb
  nothing_left vweb "$ip"
  no_vm_left
  # The sandbox's network namespace, and the tap in it, are gone.
  ! ls -l /proc/*/ns/net 2>/dev/null | grep -qF "$netns"
  run curl -s --max-time 2 "http://127.0.0.1:$PORT/"
  [ "$status" -ne 0 ]
}
