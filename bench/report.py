#!/usr/bin/env python3
"""bench/report.py SAMPLES.TSV OUT_PREFIX NAME[,NAME...] [BASELINE]

Turns the per-iteration samples of ../shared/bench/compare.sh (-o FILE: op, runtime, iteration,
microseconds, exit code; one line each) into
  OUT_PREFIX.json  medians, min, max, n and paired ratios against BASELINE per operation
  OUT_PREFIX.svg   latency per operation per runtime (grouped bars, medians, ms)
compare.sh labels runtimes by their position on its command line (0, 1, ...): NAMES gives them
their names in that order. Iteration 0 of each operation is compare.sh's warm-up round and is
left out. BASELINE is the runtime the ratios are taken against (default: the first name). A ratio is the median of the per-iteration ratios X/BASELINE, pairs
being the same iteration of the same operation, as compare.sh prints them.
"""
import json
import statistics
import sys
from collections import OrderedDict, defaultdict


def load(path, names):
    samples = defaultdict(lambda: defaultdict(dict))  # op -> runtime -> iteration -> us
    runtimes, ops = [], []
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 5:
                continue
            op, who, it, us, rc = fields[:5]
            if rc != "0" or (it == "0" and op != "loop100"):
                continue
            if who.isdigit() and int(who) < len(names):
                who = names[int(who)]
            samples[op][who][it] = int(us)
            if who not in runtimes:
                runtimes.append(who)
            if op not in ops:
                ops.append(op)
    return samples, runtimes, ops


def summarize(samples, runtimes, ops, baseline):
    out = OrderedDict()
    for op in ops:
        per = OrderedDict()
        base = samples[op].get(baseline, {})
        for who in runtimes:
            values = samples[op].get(who)
            if not values:
                continue
            ms = [v / 1000.0 for v in values.values()]
            pairs = [values[i] / base[i] for i in values if i in base and base[i] > 0]
            per[who] = {
                "median_ms": round(statistics.median(ms), 3),
                "min_ms": round(min(ms), 3),
                "max_ms": round(max(ms), 3),
                "n": len(ms),
                "ratio": round(statistics.median(pairs), 3) if pairs else None,
            }
        out[op] = per
    return out


def svg(summary, runtimes, baseline):
    colors = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860"]
    ops = [op for op in summary if summary[op]]
    bar, gap, left, top, height = 14, 18, 70, 40, 260
    group = bar * len(runtimes) + gap
    width = left + group * len(ops) + 160
    peak = max(v["median_ms"] for op in ops for v in summary[op].values()) or 1.0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top + height + 70}" '
           f'font-family="sans-serif" font-size="11">',
           f'<text x="{left}" y="20" font-size="14">latency per operation (median ms; ratio = '
           f'x/{baseline}, paired)</text>',
           f'<line x1="{left}" y1="{top + height}" x2="{left + group * len(ops)}" y2="{top + height}" stroke="#333"/>']
    for tick in range(0, 5):
        value = peak * tick / 4
        y = top + height - height * tick / 4
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:.1f}</text>')
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + group * len(ops)}" y2="{y:.1f}" stroke="#ddd"/>')
    for g, op in enumerate(ops):
        x0 = left + g * group + gap / 2
        for i, who in enumerate(runtimes):
            v = summary[op].get(who)
            if not v:
                continue
            h = height * v["median_ms"] / peak
            x = x0 + i * bar
            out.append(f'<rect x="{x:.1f}" y="{top + height - h:.1f}" width="{bar - 2}" height="{h:.1f}" '
                       f'fill="{colors[i % len(colors)]}"><title>{op} {who}: {v["median_ms"]} ms'
                       f' (ratio {v["ratio"]})</title></rect>')
        out.append(f'<text x="{x0 + bar * len(runtimes) / 2:.1f}" y="{top + height + 14}" '
                   f'text-anchor="middle">{op}</text>')
    for i, who in enumerate(runtimes):
        y = top + 10 + i * 16
        x = left + group * len(ops) + 20
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colors[i % len(colors)]}"/>')
        out.append(f'<text x="{x + 16}" y="{y}">{who}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    names = sys.argv[3].split(",")
    samples, runtimes, ops = load(sys.argv[1], names)
    if not ops:
        print(f"report.py: no samples in {sys.argv[1]}", file=sys.stderr)
        return 1
    baseline = sys.argv[4] if len(sys.argv) > 4 else names[0]
    summary = summarize(samples, runtimes, ops, baseline)
    with open(sys.argv[2] + ".json", "w") as f:
        json.dump({"baseline": baseline, "runtimes": runtimes, "ops": summary}, f, indent=2)
        f.write("\n")
    with open(sys.argv[2] + ".svg", "w") as f:
        f.write(svg(summary, runtimes, baseline))
    for op in ops:
        row = "  ".join(f"{who} {v['median_ms']:.2f} ms ({v['ratio']}x)" for who, v in summary[op].items())
        print(f"{op:9} {row}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
