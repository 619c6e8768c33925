#!/usr/bin/env bats
# The container process: args and PATH, env, cwd, user, umask, rlimits, oom score, hostname,
# sysctl, fds, console.

load helpers

setup() { setup_container_env; }
teardown() {
  teardown_container_env
  [ -f "$BATS_TEST_TMPDIR/agent.pid" ] && kill "$(cat "$BATS_TEST_TMPDIR/agent.pid")" 2>/dev/null || true
}

@test "args are looked up in the container's PATH; env is passed as given" {
  cfg '.process.env += ["GREETING=hello there"]'
  set_args ns-probe env
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [[ "$output" == *"env: GREETING=hello there"* ]]
  [[ "$output" == *"env: PATH=/usr/local/sbin"* ]]
  [[ "$output" == *"env: HOME=/root"* ]]
}

@test "HOME defaults to / when the config has none" {
  cfg '.process.env = ["PATH=/bin"]'
  set_args ns-probe env
  run rt run --rm --bundle "$BUNDLE" c1
  [[ "$output" == *"env: HOME=/"* ]]
}

@test "cwd is created when missing and entered" {
  cfg '.process.cwd = "/tmp/work/dir"'
  set_args /bin/ns-probe cwd
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "$output" = "cwd: /tmp/work/dir" ]
}

@test "uid, gid and additionalGids" {
  cfg '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [5, 100]}'
  set_args /bin/ns-probe ids
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [[ "$output" == *"uid: 1000"* ]]
  [[ "$output" == *"gid: 1000"* ]]
  [[ "$output" == *"groups: 5 100"* ]]
}

@test "umask: 0022 by default, user.umask when given" {
  set_args /bin/ns-probe umask
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$output" = "umask: 0022" ]
  cfg '.process.user.umask = 63'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$output" = "umask: 0077" ]
}

@test "rlimits are applied" {
  cfg '.process.rlimits = [{"type": "RLIMIT_NOFILE", "hard": 512, "soft": 256}, {"type": "RLIMIT_CORE", "hard": 0, "soft": 0}]'
  set_args /bin/ns-probe rlimits
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [[ "$output" == *"rlimit nofile: 256 512"* ]]
  [[ "$output" == *"rlimit core: 0 0"* ]]
}

@test "oomScoreAdj is applied" {
  cfg '.process.oomScoreAdj = 500'
  set_args /bin/ns-probe oom
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$output" = "oom score adj: 500" ]
}

@test "hostname and domainname" {
  cfg '.hostname = "box-one" | .domainname = "example.test"'
  set_args /bin/ns-probe hostname domainname
  run rt run --rm --bundle "$BUNDLE" c1
  [ "${lines[0]}" = "hostname: box-one" ]
  [ "${lines[1]}" = "domainname: example.test" ]
  [ "$(hostname)" != box-one ]
}

@test "sysctl values are written inside the container's namespaces" {
  host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
  cfg '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "4096"}'
  set_args /bin/sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1 ]
  [ "${lines[1]}" = 4096 ]
  [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_fwd" ]
}

@test "the container sees only fds 0-2, whatever the runtime had open" {
  set_args /bin/ns-probe fds
  run bash -c "exec 5</dev/null 7>/dev/null 9<'$BUNDLE/config.json'; '$NS_RUNTIME' --root '$ROOT' run --rm --bundle '$BUNDLE' c1"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "fds: 0 1 2" ]
}

@test "started with stdin closed, the runtime gives the container /dev/null, not one of its own fds" {
  set_args /bin/ns-probe fds
  run bash -c "exec 0<&-; '$NS_RUNTIME' --root '$ROOT' run --rm --bundle '$BUNDLE' c1"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "fds: 0 1 2" ]
  [[ "$output" == *"fd 0: /dev/null"* ]]
}

@test "--preserve-fds passes exactly 3 .. 3+N-1" {
  set_args /bin/ns-probe fds
  run bash -c "exec 3<'$BUNDLE/config.json' 4>/dev/null 5</dev/null; '$NS_RUNTIME' --root '$ROOT' run --rm --preserve-fds 2 --bundle '$BUNDLE' c1"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "fds: 0 1 2 3 4" ]
  [[ "$output" == *"fd 3: /"*"config.json"* ]]
}

@test "LISTEN_FDS: socket-activation fds are passed with LISTEN_FDS and LISTEN_PID=1" {
  set_args /bin/ns-probe fds env
  # LISTEN_PID names the runtime's process (exec keeps bash's pid), as systemd sets it
  run bash -c "exec 3</dev/null 4</dev/null; export LISTEN_FDS=1 LISTEN_PID=\$\$; exec '$NS_RUNTIME' --root '$ROOT' run --rm --bundle '$BUNDLE' c1"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "fds: 0 1 2 3" ]
  [[ "$output" == *"env: LISTEN_FDS=1"* ]]
  [[ "$output" == *"env: LISTEN_PID=1"* ]]
}

@test "terminal: the pty master goes to --console-socket with SCM_RIGHTS" {
  cfg '.process.terminal = true'
  set_args /bin/sh -c 'tty; read line; echo "got $line"'
  sock="$BATS_TEST_TMPDIR/console.sock"
  # bounded, and off bats' fd 3: a failed create must not leave the test waiting forever
  timeout 30 "$NS_RECVTTY" "$sock" $'typed-input\n' > "$BATS_TEST_TMPDIR/tty.out" 2> "$BATS_TEST_TMPDIR/tty.err" 3>&- &
  rpid=$!
  for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  run rt create --bundle "$BUNDLE" --console-socket "$sock" c1
  [ "$status" -eq 0 ]
  run rt start c1
  [ "$status" -eq 0 ]
  wait "$rpid"
  grep -q '^payload: /dev/ptmx' "$BATS_TEST_TMPDIR/tty.err"
  grep -q '/dev/pts/0' "$BATS_TEST_TMPDIR/tty.out"
  grep -q 'got typed-input' "$BATS_TEST_TMPDIR/tty.out"
}

@test "terminal: run attached relays the pty itself" {
  cfg '.process.terminal = true | .process.consoleSize = {"height": 40, "width": 132}'
  set_args /bin/sh -c 'tty; stty size'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [[ "$output" == *"/dev/pts/0"* ]]
  [[ "$output" == *"40 132"* ]]
}

@test "the exit status of the container's process is run's exit status" {
  for code in 0 1 42; do
    set_args /bin/sh -c "exit $code"
    run rt run --rm --bundle "$BUNDLE" c1
    [ "$status" -eq "$code" ]
  done
}

@test "capabilities: only the listed sets remain, also for a non-root user" {
  set_args /bin/ns-probe caps
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  # CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29)
  [[ "$output" == *"cap effective: 0000000020000420"* ]]
  [[ "$output" == *"cap bounding: 0000000020000420"* ]]
  cfg '.process.user = {"uid": 1000, "gid": 1000} | .process.capabilities.ambient = ["CAP_KILL"] | .process.capabilities.inheritable = ["CAP_KILL"]'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [[ "$output" == *"cap effective: 0000000000000020"* ]]
  cfg 'del(.process.capabilities.ambient)'
  run rt run --rm --bundle "$BUNDLE" c1
  [[ "$output" == *"cap effective: 0000000000000000"* ]]
}

@test "capabilities: dropped ones really are gone" {
  set_args /bin/sh -c 'mount -t tmpfs tmpfs /tmp 2>&1; chown 1000 /tmp/x 2>&1; hostname other 2>&1; echo done'
  run rt run --rm --bundle "$BUNDLE" c1
  [[ "$output" == *"Operation not permitted"* ]] || [[ "$output" == *"Permission denied"* ]]
  [[ "$output" == *done* ]]
  [[ "$output" != *"other"* ]] || false
}

@test "noNewPrivileges sets no_new_privs; false leaves it unset" {
  set_args /bin/ns-probe caps
  run rt run --rm --bundle "$BUNDLE" c1
  [[ "$output" == *"no new privs: 1"* ]]
  cfg '.process.noNewPrivileges = false'
  run rt run --rm --bundle "$BUNDLE" c1
  [[ "$output" == *"no new privs: 0"* ]]
}

@test "an unknown capability name is refused at create, nothing left" {
  cfg '.process.capabilities.bounding += ["CAP_NOT_A_CAP"]'
  run rt create --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *'unknown capability "CAP_NOT_A_CAP"'* ]]
  no_leftovers c1
}

@test "a blocked init (still ns-runtime) cannot be opened by a process in its pid namespace" {
  set_sleeper
  rt create --bundle "$BUNDLE" a
  pid=$(state_field a pid)
  cfg '.linux.namespaces = [{"type": "mount"}, {"type": "pid", "path": ("/proc/" + $p + "/ns/pid")}] | del(.hostname)' --arg p "$pid"
  set_args /bin/sh -c 'readlink /proc/1/exe 2>&1; cat /proc/1/environ >/dev/null 2>&1 && echo environ-readable; echo end'
  run rt run --rm --bundle "$BUNDLE" b
  [ "$status" -eq 0 ]
  [[ "$output" != *ns-runtime* ]]
  [[ "$output" != *environ-readable* ]]
  [[ "$output" == *end* ]]
}

@test "seccomp: a denied syscall returns the configured errno, unknown names are skipped" {
  cfg '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": ["mkdir", "mkdirat", "_llseek", "chown32"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                     {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO"}]}'
  set_args /bin/sh -c 'mkdir /tmp/x 2>&1; rmdir /tmp 2>&1; echo end'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [[ "$output" == *"Function not implemented"* ]]
  [[ "$output" == *"Operation not permitted"* ]]
  [[ "$output" == *end* ]]
}

@test "seccomp: defaultErrnoRet, and the filter without noNewPrivileges" {
  cfg '.process.noNewPrivileges = false | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 13,
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
  set_args /bin/sh -c 'mkdir /tmp/x 2>&1; /bin/ns-probe caps'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [[ "$output" == *"Permission denied"* ]]
  [[ "$output" == *"no new privs: 0"* ]]
}

@test "seccomp: exec'd processes get the container's filter; a bad profile is refused" {
  cfg '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}'
  set_sleeper
  rt run -d --bundle "$BUNDLE" c1
  run rt exec c1 /bin/sh -c 'mkdir /tmp/y 2>&1'
  [[ "$output" == *"Function not implemented"* ]]
  rt delete --force c1
  cfg '.linux.seccomp.defaultAction = "SCMP_ACT_SOMETIMES"'
  run rt create --bundle "$BUNDLE" c2
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.seccomp.defaultAction"* ]]
  no_leftovers c2
}

@test "personality, scheduler, I/O priority and CPU affinity reach the container's program" {
  cfg '.linux.personality = {domain: "LINUX32"}
     | .process.scheduler = {policy: "SCHED_BATCH", nice: 7}
     | .process.ioPriority = {class: "IOPRIO_CLASS_IDLE", priority: 0}
     | .process.execCPUAffinity = {initial: "0", final: "0"}'
  set_args /bin/sh -c 'uname -m; awk "{print \$19, \$41}" /proc/self/stat; ionice; grep Cpus_allowed_list /proc/self/status'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = i686 ]
  [ "${lines[1]}" = "7 3" ]      # nice 7, policy 3 = SCHED_BATCH
  [ "${lines[2]}" = "idle" ]
  [[ "${lines[3]}" =~ Cpus_allowed_list:[[:space:]]+0$ ]]
}

@test "the container's process and its hooks get the runtime's CPUs, though create sets up on CPUs of its own" {
  # The runtime keeps to one CPU and the child sets up on another (linux_process::CpuPlacement);
  # what runs in the container, and every hook, has the CPUs the runtime was given.
  [ "$(nproc)" -ge 2 ] || skip "a single CPU: nothing is placed"
  local mine hook_out="$BATS_TEST_TMPDIR/hooks"
  mine=$(grep Cpus_allowed_list /proc/self/status | cut -f2)
  hook() { echo "{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"echo $1 \$(grep Cpus_allowed_list /proc/self/status | cut -f2) >> $hook_out\"]}"; }
  cfg ".hooks.prestart = [$(hook prestart)] | .hooks.createRuntime = [$(hook createRuntime)] | .hooks.poststart = [$(hook poststart)]"
  set_args /bin/sh -c 'grep Cpus_allowed_list /proc/self/status | cut -f2'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "$output" = "$mine" ]
  cat "$hook_out"
  [ "$(grep -c " $mine\$" "$hook_out")" -eq 3 ]
  # A runtime started on one CPU: that one, all through.
  run taskset -c 1 "$NS_RUNTIME" --root "$ROOT" run --rm --bundle "$BUNDLE" c2
  [ "$status" -eq 0 ]
  [ "$output" = 1 ]
}

@test "the runtime never changes its priority: the container and its hooks run at the caller's nice, whatever _NS_RUNTIME_NICE says" {
  # An earlier runtime set up 10 nice levels up and took the value to give back from a variable
  # of the environment, which a caller could forge. Now nothing calls setpriority.
  local hook_out="$BATS_TEST_TMPDIR/hooks" script="$BATS_TEST_TMPDIR/hook.sh"
  printf '%s\n' "echo \"\$1 \$(awk '{print \$19}' /proc/self/stat)\" >> $hook_out" > "$script"
  hook() { echo "{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"$script\", \"$1\"]}"; }
  cfg ".hooks.prestart = [$(hook prestart)] | .hooks.createRuntime = [$(hook createRuntime)] | .hooks.createContainer = [$(hook createContainer)] | .hooks.poststart = [$(hook poststart)]"
  set_args /bin/sh -c 'cut -d" " -f19 /proc/self/stat'
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "$output" = 0 ]
  cat "$hook_out"
  [ "$(grep -c " 0\$" "$hook_out")" -eq 4 ]
  rm -f "$hook_out"
  run env _NS_RUNTIME_NICE=-15 nice -n 5 strace -f -qq -e trace=setpriority -o "$BATS_TEST_TMPDIR/trace" "$NS_RUNTIME" --root "$ROOT" run --rm --bundle "$BUNDLE" c2
  [ "$status" -eq 0 ]
  [ "$output" = 5 ]
  cat "$hook_out" "$BATS_TEST_TMPDIR/trace"
  [ "$(grep -c " 5\$" "$hook_out")" -eq 4 ]
  ! grep -q "setpriority" "$BATS_TEST_TMPDIR/trace"
}

@test "a bad process attribute fails create naming the field, leaving nothing" {
  cfg '.process.scheduler = {policy: "SCHED_FIFO", priority: 0}'
  run rt create --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"process.scheduler.priority: SCHED_FIFO and SCHED_RR need a priority between 1 and 99"* ]]
  no_leftovers c1
}

@test "AppArmor, SELinux labels and Intel RDT asked for on a host without them are refused clearly" {
  [ -e /sys/fs/selinux/enforce ] && skip "SELinux is enabled on this host"
  grep -qs Y /sys/module/apparmor/parameters/enabled && skip "AppArmor is enabled on this host"
  cfg '.process.apparmorProfile = "docker-default"'
  run rt create --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *'apparmor profile "docker-default" is specified, but AppArmor is not enabled on this host'* ]]
  no_leftovers c1
  cfg 'del(.process.apparmorProfile) | .process.selinuxLabel = "system_u:system_r:container_t:s0"'
  run rt create --bundle "$BUNDLE" c1
  [[ "$output" == *"process.selinuxLabel: selinux label is specified in config, but selinux is disabled or not supported"* ]]
  cfg 'del(.process.selinuxLabel) | .linux.mountLabel = "system_u:object_r:container_file_t:s0"'
  run rt create --bundle "$BUNDLE" c1
  [[ "$output" == *"linux.mountLabel: selinux label is specified"* ]]
  cfg 'del(.linux.mountLabel) | .linux.intelRdt = {closID: "x"}'
  run rt create --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.intelRdt: Intel RDT is not"* ]]
  no_leftovers c1
  # and exec --apparmor likewise
  cfg 'del(.linux.intelRdt)'
  set_sleeper
  rt run -d --bundle "$BUNDLE" c1
  run rt exec --apparmor docker-default c1 true
  [ "$status" -ne 0 ]
  [[ "$output" == *"AppArmor is not enabled on this host"* ]]
}

@test "seccomp notify: the agent at listenerPath gets the listener and the process state, and answers" {
  : "${NS_SECCOMP_AGENT:?}"
  sock="$BATS_TEST_TMPDIR/agent.sock"
  "$NS_SECCOMP_AGENT" "$sock" "$BATS_TEST_TMPDIR/state" 123 3>&- &   # 123: ENOMEDIUM
  echo $! > "$BATS_TEST_TMPDIR/agent.pid"
  for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  cfg '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": $s, "listenerMetadata": "from-the-test",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}' --arg s "$sock"
  set_args /bin/sh -c 'mkdir /tmp/x 2>&1; test -d /tmp/x && echo made || echo not-made; sleep 600'
  "$NS_RUNTIME" --root "$ROOT" run -d --bundle "$BUNDLE" c1 >"$BATS_TEST_TMPDIR/out" 2>&1
  for i in $(seq 50); do grep -q made "$BATS_TEST_TMPDIR/out" && break; sleep 0.1; done
  run cat "$BATS_TEST_TMPDIR/out"
  echo "$output"
  [[ "$output" == *"No medium found"* ]]
  [[ "$output" == *not-made* ]]
  pid=$(state_field c1 pid)
  jq -e --argjson p "$pid" '.fds == ["seccompFd"] and .pid == $p and .metadata == "from-the-test"
        and .state.id == "c1" and .state.status == "creating" and .state.pid == $p' "$BATS_TEST_TMPDIR/state.1"
  # an exec'd process gets the filter and its own listener for the agent
  run rt exec c1 /bin/sh -c 'mkdir /tmp/y 2>&1'
  [[ "$output" == *"No medium found"* ]]
  jq -e '.state.status == "running"' "$BATS_TEST_TMPDIR/state.2"
  rt delete --force c1
}

@test "seccomp notify: without listenerPath, or with no agent listening, create fails cleanly" {
  cfg '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}'
  run rt create --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.seccomp.listenerPath: required when a syscall's action is SCMP_ACT_NOTIFY"* ]]
  cfg '.linux.seccomp.listenerPath = $s' --arg s "$BATS_TEST_TMPDIR/nobody.sock"
  run rt create --bundle "$BUNDLE" c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"connect to the seccomp agent"*"nobody.sock"* ]]
  no_leftovers c1
}

@test "the container gets a session keyring of its own, unless --no-new-keyring" {
  set_args /bin/ns-probe keyring
  run rt run --rm --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^keyring:\ keyring\;0\;0\;[0-9a-f]+\;_ses\.c1$ ]]
  run rt run --rm --no-new-keyring --bundle "$BUNDLE" c2
  [ "$status" -eq 0 ]
  [[ "$output" == "keyring: "* ]]
  [[ "$output" != *"_ses.c2"* ]]
}
