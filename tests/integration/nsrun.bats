#!/usr/bin/env bats
# nsrun: sandboxes from a rootfs directory, with bridge networking through the CNI plugins.
# Every test has its own state directories, its own bridge and its own subnet, and its traffic
# goes only to 127.0.0.1, the host's own address and the test's own sandboxes.

bats_require_minimum_version 1.5.0
load helpers
load nsrun_helpers

setup() {
  setup_nsrun_env
}

teardown() {
  teardown_nsrun_env
}

@test "nsrun --rootfs DIR echo hi: output, exit code, and nothing left" {
  run nsrun_run --rootfs "$RFS" --name hi echo hi
  [ "$status" -eq 0 ]
  [ "$output" = hi ]
  run nsrun_run --rootfs "$RFS" --name three sh -c 'exit 3'
  [ "$status" -eq 3 ]
  run nsrun_run --rootfs "$RFS" --net none --name none sh -c 'ls /sys/class/net'
  [ "$output" = lo ]
  nothing_left hi ""
  [ ! -e "/sys/class/net/$BR" ]
}

@test "nsrun: hostname, /etc/hosts and /etc/resolv.conf, env, workdir, user, volumes, read-only" {
  mkdir -p "$BATS_TEST_TMPDIR/vol"
  chmod 0777 "$BATS_TEST_TMPDIR/vol"
  echo from-host >"$BATS_TEST_TMPDIR/vol/in"
  run nsrun_run --rootfs "$RFS" --name box1 --hostname web1 -e GREETING=hello -w /tmp -u user \
    -v "$BATS_TEST_TMPDIR/vol:/data" -v "$BATS_TEST_TMPDIR/vol:/ro:ro" --read-only \
    sh -c 'hostname; cat /etc/hostname; grep web1 /etc/hosts; echo $GREETING; pwd; id -u; cat /data/in; echo w > /data/out; touch /ro/x 2>&1; touch /x 2>&1; test -f /etc/resolv.conf && echo resolv; grep -E "^(Seccomp|CapBnd):" /proc/self/status'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = web1 ]
  [ "${lines[1]}" = web1 ]
  [[ "${lines[2]}" == "$PREFIX"*"web1" ]]
  [ "${lines[3]}" = hello ]
  [ "${lines[4]}" = /tmp ]
  [ "${lines[5]}" = 1000 ]
  [ "${lines[6]}" = from-host ]
  [[ "${lines[7]}" == *"Read-only file system"* ]]
  [[ "${lines[8]}" == *"Read-only file system"* ]]
  [ "${lines[9]}" = resolv ]
  [ "${lines[10]}" = "CapBnd:	00000000800405fb" ]
  [ "${lines[11]}" = "Seccomp:	2" ]
  [ "$(cat "$BATS_TEST_TMPDIR/vol/out")" = w ]
}

@test "nsrun detached httpd with --port 18080:80 answers on 127.0.0.1 and the host's address; ls, logs, exec" {
  PORT=18080
  mkdir -p "$BATS_TEST_TMPDIR/www"
  echo hello-from-nsrun >"$BATS_TEST_TMPDIR/www/index.html"
  run nsrun_run --rootfs "$RFS" --name web --hostname web --port "$PORT:80" -v "$BATS_TEST_TMPDIR/www:/www:ro" \
    --detach sh -c 'echo httpd starting; exec httpd -f -p 80 -h /www'
  [ "$status" -eq 0 ]
  [ "$output" = web ]
  run nsr ls
  [[ "${lines[1]}" == web*running*"$PREFIX"*"$PORT->80/tcp"*httpd* ]]
  local ip
  ip=$(echo "${lines[1]}" | awk '{print $3}')
  for i in $(seq 50); do curl -sf --max-time 1 "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done
  run curl -s --max-time 5 "http://127.0.0.1:$PORT/"
  [ "$output" = hello-from-nsrun ]
  local host_ip
  host_ip=$(ip -4 -o addr show scope global | awk '$2 != "'"$BR"'" {sub("/.*", "", $4); print $4; exit}')
  if [ -n "$host_ip" ]; then
    run curl -s --max-time 5 "http://$host_ip:$PORT/"
    [ "$output" = hello-from-nsrun ]
  fi
  run curl -s --max-time 5 "http://$ip/"
  [ "$output" = hello-from-nsrun ]
  run nsr logs web
  [ "${lines[0]}" = "httpd starting" ]
  run nsr exec web sh -c 'hostname; ip -4 -o addr show eth0'
  [ "${lines[0]}" = web ]
  [[ "${lines[1]}" == *"inet $ip/24"* ]]
  # ipMasq: outgoing traffic from the sandbox's address is NATed (the rule exists while it runs)
  iptables-save -t nat | grep -qF "$ip"
  "$NS_RUNTIME" --root "$ROOT" list -q | grep -qx web
  nsr stop -t 1 web
  run nsr ls
  [[ "${lines[1]}" == web*stopped* ]]
  nsr rm web
  nothing_left web "$ip"
  [ ! -e "/sys/class/net/$BR" ]
  run curl -s --max-time 2 "http://127.0.0.1:$PORT/"
  [ "$status" -ne 0 ]
}

@test "nsrun: two sandboxes reach each other by address on the bridge" {
  # the two share the rootfs directory (nsrun uses it in place): each serves its own directory
  nsrun_run --rootfs "$RFS" --name srv --detach sh -c 'mkdir -p /tmp/srv; echo peer-page > /tmp/srv/index.html; exec httpd -f -p 8080 -h /tmp/srv'
  nsrun_run --rootfs "$RFS" --name cli --detach sh -c 'mkdir -p /tmp/cli; echo cli-page > /tmp/cli/index.html; exec httpd -f -p 8080 -h /tmp/cli'
  local srv_ip cli_ip
  srv_ip=$(nsr ls | awk '$1 == "srv" {print $3}')
  cli_ip=$(nsr ls | awk '$1 == "cli" {print $3}')
  [[ "$srv_ip" == "$PREFIX"* ]] && [[ "$cli_ip" == "$PREFIX"* ]] && [ "$srv_ip" != "$cli_ip" ]
  for i in $(seq 50); do nsr exec cli wget -qO- "http://$srv_ip:8080/" >/dev/null 2>&1 && break; sleep 0.1; done
  run nsr exec cli wget -qO- "http://$srv_ip:8080/"
  [ "$output" = peer-page ]
  run nsr exec srv wget -qO- "http://$cli_ip:8080/"
  [ "$output" = cli-page ]
  nsr rm -f srv cli
  nothing_left srv "$srv_ip"
  nothing_left cli "$cli_ip"
}

@test "nsrun gives an attached sandbox a terminal when stdin is one" {
  run script -qec "$NSRUN --state $STATE --root $ROOT --net none --rootfs $RFS --name tty sh -c 'tty; [ -t 0 ] && echo stdin-tty; exit 4'" /dev/null </dev/null
  [ "$status" -eq 4 ]
  [[ "$output" == *"/dev/pts/0"*"stdin-tty"* ]]
  run nsrun_run --net none --rootfs "$RFS" --name notty sh -c '[ -t 0 ] && echo tty || echo no-tty'
  [ "$output" = no-tty ]
}

@test "nsrun --memory, --cpu and --pids are read back inside" {
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    files="/sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/pids.max"
  else
    files="/sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/pids/pids.max"
  fi
  run nsrun_run --rootfs "$RFS" --name lim --memory 256M --cpu 0.5 --pids 64 cat $files
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 268435456 ]
  [[ "${lines[1]}" == 50000* ]]
  [ "${lines[2]}" = 64 ]
}

@test "nsrun -E explains the network: veth, bridge, IPAM, NAT and DNAT" {
  run --separate-stderr nsrun_run -E --rootfs "$RFS" --name ex --port "$PORT:80" true
  [ "$status" -eq 0 ]
  for word in netns network network-remove veth "bridge $BR" IPAM MASQUERADE DNAT "bridge DEL"; do
    [[ "$output" == *"$word"* ]] || { echo "missing: $word" >&2; false; }
  done
}

@test "nsrun errors are clear and leave nothing: rootfs, command, sizes, cpu, ports, names, plugins" {
  run nsrun_run --rootfs "$BATS_TEST_TMPDIR/nope" true
  [ "$status" -ne 0 ]
  [[ "$output" == *"--rootfs $BATS_TEST_TMPDIR/nope: no such directory"* ]]
  run nsrun_run --rootfs "$RFS" --name nocmd /bin/not-there
  [ "$status" -ne 0 ]
  [[ "$output" == *'"/bin/not-there"'*"no such file or directory"* ]]
  nothing_left nocmd ""
  [ ! -e "/sys/class/net/$BR" ]
  run nsrun_run --rootfs "$RFS" --memory 12XB true
  [[ "$output" == *'--memory "12XB": not a size'* ]]
  run nsrun_run --rootfs "$RFS" --cpu half true
  [[ "$output" == *'--cpu "half"'* ]]
  run nsrun_run --rootfs "$RFS" --port 99999:80 true
  [[ "$output" == *'"99999" is not a port number'* ]]
  run nsrun_run --rootfs "$RFS" --net none --port "$PORT:80" true
  [[ "$output" == *"--port needs --net bridge"* ]]
  run nsrun_run --rootfs "$RFS" --name "bad/name" true
  [[ "$output" == *'name "bad/name"'* ]]
  run env NSRUN_CNI_PATH="$BATS_TEST_TMPDIR/no-cni" "$NSRUN" --state "$STATE" --root "$ROOT" --bridge "$BR" --rootfs "$RFS" true
  [ "$status" -ne 0 ]
  [[ "$output" == *"apt-get install containernetworking-plugins"* ]]
  # a port somebody listens on, and a port another sandbox maps
  nsrun_run --rootfs "$RFS" --name holder --net host --detach httpd -f -p "$PORT"
  for i in $(seq 50); do curl -s --max-time 1 "http://127.0.0.1:$PORT/" >/dev/null; [ $? -ne 7 ] && break; sleep 0.1; done
  run nsrun_run --rootfs "$RFS" --name taker --port "$PORT:80" true
  [ "$status" -ne 0 ]
  [[ "$output" == *"host port $PORT/tcp is already in use"* ]]
  nsr rm -f holder
  nsrun_run --rootfs "$RFS" --name mapper --port "$PORT:80" --detach sleep 600
  run nsrun_run --rootfs "$RFS" --name taker --port "$PORT:80" true
  [[ "$output" == *"is mapped by sandbox mapper"* ]]
  run nsrun_run --rootfs "$RFS" --name mapper true
  [[ "$output" == *"a sandbox named mapper exists"* ]]
  run nsr rm mapper
  [ "$status" -ne 0 ]
  [[ "$output" == *"sandbox mapper is running"* ]]
  run nsr logs nobody
  [[ "$output" == *"no sandbox named nobody"* ]]
  nsr rm -f mapper
  nothing_left taker ""
  nothing_left mapper ""
}

@test "an interrupted nsrun leaves nothing the next run trips over" {
  # nsrun killed in the middle of an attached run, its sandbox killed too: same name and port again
  "$NSRUN" --state "$STATE" --root "$ROOT" --bridge "$BR" --subnet "$NET" --name cut --port "$PORT:80" \
    --rootfs "$RFS" sleep 600 </dev/null >/dev/null 2>&1 &
  local maker=$!
  for i in $(seq 100); do [ "$(state_field cut status 2>/dev/null)" = running ] && break; sleep 0.1; done
  [ "$(state_field cut status)" = running ]
  local pid
  pid=$(state_field cut pid)
  kill -9 "$maker"
  kill -9 "$pid"
  wait "$maker" 2>/dev/null || true
  for i in $(seq 50); do [ "$(state_field cut status)" = stopped ] && break; sleep 0.1; done
  run nsrun_run --rootfs "$RFS" --name cut --port "$PORT:80" echo again
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = again ]
  nothing_left cut ""
}
