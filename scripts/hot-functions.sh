#!/usr/bin/env bash
# scripts/hot-functions.sh [BINARY] [OUT]: writes the order in which the static ns-runtime's
# functions are first called by `run`, `create`, `start`, `state`, `exec`, `kill` and `delete`
# (src/hot-functions.txt by default), for the linker (ld.lld --symbol-ordering-file) to put
# them side by side at the front of the text: the kernel maps a binary's text 64 KB around each
# page fault, and what a verb runs then takes a few faults instead of one per 64 KB of the whole
# text, in the runtime and again in the container's init, which re-faults every text page it
# runs (fork does not copy the page tables of a file mapping). docs/performance.md has figures.
#
# How: a uprobe on the entry of every function of BINARY (default build/ns-runtime), then the
# verbs on the test bundle (build/bundle) with the probes' events on; the order of their first
# hits is the list: the container init's functions first (its set-up is the longest chain of
# `run`), then the C library's string functions, the runtime's own, and what the other verbs
# add. Functions whose first instruction uprobes cannot step out of line here (the EVEX and
# AVX-512 string functions: the probed process crashed) are not probed, nor clone and thread
# start (left out while that crash was looked for): the string ones are listed whole, after the
# init's; the others stay in the default order. Root; needs tracefs with uprobes. Names that a later build no longer
# has are ignored by the linker, and new functions land after the listed ones: rerun this
# after changes to the create path and commit the list.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${1:-$here/build/ns-runtime}")
out=${2:-$here/src/hot-functions.txt}
bundle=$here/build/bundle
T=/sys/kernel/tracing
[ "$(id -u)" = 0 ] || { echo "hot-functions.sh: run as root" >&2; exit 2; }
[ -x "$bin" ] || { echo "hot-functions.sh: $bin: build ns-runtime first" >&2; exit 2; }
[ -f "$bundle/config.json" ] || { echo "hot-functions.sh: $bundle: build the test bundle first" >&2; exit 2; }
[ -w "$T/uprobe_events" ] || { echo "hot-functions.sh: $T/uprobe_events is not writable (tracefs with uprobes needed)" >&2; exit 2; }
"$here/scripts/ensure-packages.sh" python3 jq binutils >/dev/null

work=$(mktemp -d /tmp/hot-functions.XXXXXX)
buffer_kb=$(cat "$T/buffer_size_kb" | tr -dc 0-9)
root=$work/root
cleanup() {
  echo 0 > "$T/tracing_on" 2>/dev/null || true
  echo 0 > "$T/events/nshot/enable" 2>/dev/null || true
  echo 0 > "$T/events/sched/sched_process_exec/enable" 2>/dev/null || true
  echo > "$T/set_event_pid" 2>/dev/null || true
  [ -n "$buffer_kb" ] && echo "$buffer_kb" > "$T/buffer_size_kb" 2>/dev/null || true
  # Our probes only: all at once when there are no others (one by one, each removal waits for
  # the tracing to quiesce: minutes for thousands).
  if ! grep -qv '^p:nshot/' "$T/uprobe_events" 2>/dev/null; then
    echo > "$T/uprobe_events" 2>/dev/null || true
  else
    sed -n 's|^p:\(nshot/f[0-9]*\) .*|-:\1|p' "$work/probes" 2>/dev/null |
      while read -r l; do echo "$l" >> "$T/uprobe_events"; done 2>/dev/null || true
  fi
  "$bin" --root "$root" delete --force hot-run >/dev/null 2>&1 || true
  "$bin" --root "$root" delete --force hot-cycle >/dev/null 2>&1 || true
  "$bin" --root "$root" delete --force hot-exec >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The bundles: /bin/true for run and create/start/delete, a sleeper for exec.
mkdir -p "$work/true" "$work/sleep"
rootfs=$(jq -r '.root.path' "$bundle/config.json")
[[ $rootfs == /* ]] || rootfs=$bundle/$rootfs
jq --arg r "$rootfs" '.root.path = $r | .process.args = ["/bin/true"]' "$bundle/config.json" > "$work/true/config.json"
jq --arg r "$rootfs" '.root.path = $r | .process.args = ["/bin/sleep", "600"]' "$bundle/config.json" > "$work/sleep/config.json"

# One probe per function entry (file offsets: the LOAD segment's vaddr to offset).
python3 - "$bin" "$work/probes" "$work/names" <<'EOF'
import re, subprocess, sys
binary, probes_out, names_out = sys.argv[1:4]
loads = []
for l in subprocess.run(['readelf', '-lW', binary], capture_output=True, text=True, check=True).stdout.splitlines():
    p = l.split()
    if p and p[0] == 'LOAD' and 'E' in p[6:-1]:
        loads.append((int(p[2], 16), int(p[5], 16), int(p[1], 16)))  # vaddr, memsz, offset
skip = re.compile(r'clone|start_thread|pthread_create|_Fork|spawn|evex|avx512')
seen = set()
with open(probes_out, 'w') as probes, open(names_out, 'w') as names:
    for l in subprocess.run(['nm', '-S', '--defined-only', binary], capture_output=True, text=True, check=True).stdout.splitlines():
        p = l.split()
        if len(p) != 4 or p[2] not in 'tTwW':
            continue
        addr = int(p[0], 16)
        if addr in seen or skip.search(p[3]):
            continue
        for vaddr, memsz, off in loads:
            if vaddr <= addr < vaddr + memsz:
                seen.add(addr)
                names.write(f'{len(seen)} {p[3]}\n')
                probes.write(f'p:nshot/f{len(seen)} {binary}:0x{addr - vaddr + off:x}\n')
EOF
while read -r l; do echo "$l" >> "$T/uprobe_events"; done < "$work/probes"

echo 0 > "$T/tracing_on"
echo > "$T/trace"
echo 32768 > "$T/buffer_size_kb"
echo 1 > "$T/options/event-fork"
echo $$ > "$T/set_event_pid"
echo 1 > "$T/events/nshot/enable"
echo 1 > "$T/events/sched/sched_process_exec/enable"
echo 1 > "$T/tracing_on"
R() { "$bin" --root "$root" "$@" </dev/null >/dev/null; }
R run --bundle "$work/true" hot-run
echo "# verb create" > "$T/trace_marker"
R create --bundle "$work/true" hot-cycle
R start hot-cycle
R state hot-cycle
R run -d --bundle "$work/sleep" hot-exec
R exec hot-exec /bin/true
R kill hot-exec KILL
R delete --force hot-exec
R delete hot-cycle
echo 0 > "$T/tracing_on"
cat "$T/trace" > "$work/trace"

python3 - "$work/trace" "$work/names" "$bin" "$out" <<'EOF'
import re, subprocess, sys
trace, names_file, binary, out = sys.argv[1:5]
names = {}
for l in open(names_file):
    i, n = l.split()
    names[int(i)] = n
order = {}      # pid -> first-call order, while `run` runs
later = []      # what the other verbs add, in order
child = None
in_run = True
for l in open(trace):
    if 'tracing_mark_write: # verb create' in l:
        in_run = False
        continue
    m = re.match(r'\s*(.+?)-(\d+)\s.*?: (\w+):', l)
    if not m:
        continue
    pid, ev = int(m.group(2)), m.group(3)
    if ev == 'sched_process_exec':
        if in_run and 'filename=/bin/true' in l:
            child = pid
        continue
    f = names.get(int(ev[1:])) if ev.startswith('f') else None
    if not f:
        continue
    if in_run:
        order.setdefault(pid, [])
        if f not in order[pid]:
            order[pid].append(f)
    elif f not in later:
        later.append(f)
if child is None or not order:
    sys.exit('hot-functions.sh: the trace has no run of the container (is tracefs working?)')
runtime = max((p for p in order if p != child), key=lambda p: len(order[p]))
unprobed = []
for l in subprocess.run(['nm', '--defined-only', binary], capture_output=True, text=True, check=True).stdout.splitlines():
    p = l.split()
    if len(p) == 3 and p[1] in 'tTwW' and re.search(r'evex|avx512', p[2]) and p[2] not in unprobed:
        unprobed.append(p[2])
seq = []
for group in [order[child], unprobed, order[runtime]] + [order[p] for p in order if p not in (child, runtime)] + [later]:
    for f in group:
        if f not in seq:
            seq.append(f)
with open(out, 'w') as o:
    o.write('# The static ns-runtime\'s functions in the order `run` and the other verbs first call them\n'
            '# (the container init\'s first): written by scripts/hot-functions.sh, read by ld.lld\n'
            '# --symbol-ordering-file (CMakeLists.txt). Do not edit by hand; rerun the script.\n')
    o.write('\n'.join(seq) + '\n')
print(f'hot-functions.sh: {out}: {len(seq)} functions ({len(order[child])} of the init, '
      f'{len(order[runtime])} of the runtime, {len(later)} of the other verbs)')
EOF
