#!/usr/bin/env python3
"""The markdown report of issue 7's benchmark (Python 3 standard library only).

Reads, under the cargo target directory (--target-dir, else $CARGO_TARGET_DIR,
else <repo>/target):
  criterion/<group>/<stack>/new/estimates.json   medians of the timed loops
  bench-results/<stack>.json                      CPU, scaling, memory figures
  bench-results/callgrind.json                    instruction counts (optional)
and prints one table (each stack's figures, and each peer's ratio to
neatlogs) and the issue's targets marked met or missed.

    python3 benches/report.py [--target-dir DIR]
"""

import argparse
import datetime
import json
import os
import platform
import sys

STACKS = [
    ("neatlogs", "neatlogs"),
    ("fastrace", "fastrace"),
    ("otel_sdk", "OpenTelemetry SDK"),
    ("tracing_otel", "tracing + OTel"),
]
SPANS_PER_TRACE = 11
LOWER, HIGHER = "lower is better", "higher is better"


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def criterion_median(target, group, stack):
    """Median estimate in nanoseconds, or None."""
    est = load_json(os.path.join(target, "criterion", group, stack, "new", "estimates.json"))
    try:
        return float(est["median"]["point_estimate"])
    except (TypeError, KeyError, ValueError):
        return None


def dig(data, *keys):
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def fmt_ns(ns):
    if ns is None:
        return None
    if ns < 10:
        return f"{ns:.2f} ns"
    if ns < 1000:
        return f"{ns:.0f} ns"
    return f"{ns / 1000:.2f} µs"


def fmt_rate(per_sec):
    return None if per_sec is None else f"{per_sec / 1e6:.2f} M/s" if per_sec >= 1e6 else f"{per_sec / 1e3:.0f} k/s"


def fmt_x(x):
    return None if x is None else f"{x:.2f}×"


def fmt_bytes(b):
    return None if b is None else f"{b:.0f} B"


def collect(target):
    """Per stack: a dict of raw figures (None where not measured)."""
    figures = {}
    for stack, _ in STACKS:
        res = load_json(os.path.join(target, "bench-results", f"{stack}.json")) or {}
        disabled_trace = criterion_median(target, "disabled_trace", stack)
        bounded = dig(res, "dead_receiver", "bounded")
        figures[stack] = {
            "caller": criterion_median(target, "caller_cost", stack),
            "root": criterion_median(target, "root_only", stack),
            "cpu": dig(res, "total_cpu", "ns_per_trace"),
            "caller_cpu": dig(res, "total_cpu", "caller_thread_cpu_ns_per_trace"),
            "disabled_span": None if disabled_trace is None else disabled_trace / SPANS_PER_TRACE,
            "disabled_root": criterion_median(target, "disabled_root", stack),
            "one": dig(res, "concurrent", "one_thread_traces_per_sec"),
            "two": dig(res, "concurrent", "two_threads_traces_per_sec"),
            "scaling": dig(res, "concurrent", "scaling"),
            "e2e_scaling": dig(res, "concurrent", "end_to_end_scaling"),
            "held_scaling": dig(res, "concurrent", "export_held", "scaling"),
            "bytes_span": dig(res, "memory", "bytes_per_span"),
            "bytes_span_after": dig(res, "memory", "bytes_per_span_after_start"),
            "growth": dig(res, "dead_receiver", "growth_10x_over_cap"),
            "bounded": bounded,
            "produced": dig(res, "total_cpu", "spans_produced"),
            "exported": dig(res, "total_cpu", "spans_exported"),
            "otlp_bytes": dig(res, "total_cpu", "encoded_bytes_per_span"),
            "unix_time": res.get("unix_time"),
            "quick": res.get("quick"),
        }
    return figures


ROWS = [
    # key, label, formatter, direction
    ("caller", "caller cost per 11-span trace (criterion median)", fmt_ns, LOWER),
    ("root", "root only, 1 span (criterion median)", fmt_ns, LOWER),
    ("cpu", "total CPU per trace, export threads + flushes (median of 3 loops)", fmt_ns, LOWER),
    ("caller_cpu", "… of which on the calling thread (CPU time)", fmt_ns, LOWER),
    ("disabled_span", "disabled: per span (11-span trace ÷ 11)", fmt_ns, LOWER),
    ("disabled_root", "disabled: root with identity, 1 span", fmt_ns, LOWER),
    ("one", "1 thread: traces/s on the caller side", fmt_rate, HIGHER),
    ("two", "2 threads: traces/s on the caller side (sum)", fmt_rate, HIGHER),
    ("scaling", "2 threads ÷ 1 thread, caller side", fmt_x, HIGHER),
    ("held_scaling", "2 threads ÷ 1 thread, caller side, export held (hot-path contention only)", fmt_x, HIGHER),
    ("e2e_scaling", "2 threads ÷ 1 thread, end to end (flushes included)", fmt_x, HIGHER),
    ("bytes_span", "bytes per buffered span (100,000 waiting; queue sized to fit, allocation included)", fmt_bytes, LOWER),
    ("bytes_span_after", "… counted from after start (queue allocation excluded)", fmt_bytes, LOWER),
    ("growth", "dead receiver: RSS growth after 10× the cap ÷ growth at the cap", fmt_x, LOWER),
]


def table(figures):
    names = [label for _, label in STACKS]
    lines = [
        "| measure | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    base = figures["neatlogs"]
    for key, label, fmt, direction in ROWS:
        cells = []
        for stack, _ in STACKS:
            value = figures[stack][key]
            text = fmt(value) if value is not None else None
            if text is None:
                cells.append("n/a")
                continue
            if stack != "neatlogs" and base[key] not in (None, 0) and value is not None:
                text += f" ({value / base[key]:.2f}×)"
            cells.append(text)
        lines.append(f"| {label} ({direction}) | " + " | ".join(cells) + " |")
    cells = []
    for stack, _ in STACKS:
        b = figures[stack]["bounded"]
        cells.append("n/a" if b is None else "yes" if b else "**no**")
    lines.append("| dead receiver: memory bounded | " + " | ".join(cells) + " |")
    cells = []
    for stack, _ in STACKS:
        f = figures[stack]
        cells.append("n/a" if f["produced"] is None else f"{f['exported']:,} / {f['produced']:,}")
    lines.append("| spans exported / produced in the CPU loop | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(ok):
    return "not measured" if ok is None else "**met**" if ok else "**missed**"


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def targets(figures):
    n, ft, ot, tr = (figures[s] for s, _ in STACKS)
    rows = []

    r = ratio(n["caller"], ft["caller"])
    rows.append((
        "caller cost per 11-span trace ≤ fastrace's",
        f"neatlogs {fmt_ns(n['caller'])} vs fastrace {fmt_ns(ft['caller'])}: {r:.2f}× fastrace's" if r is not None else "n/a",
        None if r is None else r <= 1.0,
    ))
    rows.append((
        "total CPU per trace, OTLP protobuf encoding included, ≤ 2 µs",
        fmt_ns(n["cpu"]) or "n/a",
        None if n["cpu"] is None else n["cpu"] <= 2000,
    ))
    r = ratio(ot["cpu"], n["cpu"])
    rows.append((
        "total CPU ≥ 1.5× better than the OpenTelemetry SDK's (which does no encoding)",
        f"OpenTelemetry SDK {fmt_ns(ot['cpu'])} ÷ neatlogs {fmt_ns(n['cpu'])} = {r:.2f}×" if r is not None else "n/a",
        None if r is None else r >= 1.5,
    ))
    r = ratio(tr["cpu"], n["cpu"])
    rows.append((
        "total CPU ≥ 5× better than tracing + OpenTelemetry's",
        f"tracing + OTel {fmt_ns(tr['cpu'])} ÷ neatlogs {fmt_ns(n['cpu'])} = {r:.2f}×" if r is not None else "n/a",
        None if r is None else r >= 5.0,
    ))
    rows.append((
        "disabled ≤ 2 ns per span",
        fmt_ns(n["disabled_span"]) or "n/a",
        None if n["disabled_span"] is None else n["disabled_span"] <= 2.0,
    ))
    held = "" if n["held_scaling"] is None else f" (with the export held: {fmt_x(n['held_scaling'])})"
    rows.append((
        "2 threads scale ≥ 1.8× over 1 (caller side, export running)",
        (fmt_x(n["scaling"]) + held) if n["scaling"] is not None else "n/a",
        None if n["scaling"] is None else n["scaling"] >= 1.8,
    ))
    rows.append((
        "≤ 256 bytes per buffered span",
        fmt_bytes(n["bytes_span"]) or "n/a",
        None if n["bytes_span"] is None else n["bytes_span"] <= 256,
    ))
    rows.append((
        "memory bounded under a dead receiver",
        "n/a" if n["growth"] is None else f"growth after 10× the cap = {n['growth']:.2f}× the growth at the cap",
        n["bounded"],
    ))
    lines = ["| target (issue 7) | measured | |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {verdict(ok)} |" for t, m, ok in rows]
    return "\n".join(lines)


def callgrind(target):
    cg = load_json(os.path.join(target, "bench-results", "callgrind.json"))
    if not cg:
        return None
    n1, n2 = cg["traces"]
    return "\n".join([
        f"callgrind, neatlogs hot path (`hotpath`, {n2:,} − {n1:,} traces of 11 spans):",
        "",
        "| instructions (Ir) | per trace | per span |",
        "|---|---:|---:|",
        f"| caller thread (open + close 11 spans) | {cg['caller_ir_per_trace']:,.0f} | {cg['caller_ir_per_trace'] / 11:,.0f} |",
        f"| export thread (batching + OTLP protobuf encoding) | {cg['background_ir_per_trace']:,.0f} | {cg['background_ir_per_trace'] / 11:,.0f} |",
        f"| total | {cg['total_ir_per_trace']:,.0f} | {cg['total_ir_per_trace'] / 11:,.0f} |",
        f"| tracing off (no init) | {cg['disabled_ir_per_span'] * 11:,.1f} | {cg['disabled_ir_per_span']:,.1f} |",
    ])


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs, {model}, {platform.system()} {platform.release()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument(
        "--target-dir",
        default=os.environ.get("CARGO_TARGET_DIR") or os.path.join(repo, "target"),
    )
    args = parser.parse_args()
    figures = collect(args.target_dir)
    times = [f["unix_time"] for f in figures.values() if f["unix_time"]]
    if not times and all(f["caller"] is None for f in figures.values()):
        print(f"no results under {args.target_dir}: run benches/run.sh first", file=sys.stderr)
        return 1
    when = (
        datetime.datetime.fromtimestamp(max(times), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        if times
        else "unknown date"
    )
    print(f"Run of {when} on {machine()}.")
    if any(f["quick"] for f in figures.values()):
        print("\n**Some results come from a quick smoke run, not `cargo bench`.**")
    print()
    print("Ratios in brackets are peer ÷ neatlogs: for costs (lower is better), above 1× means")
    print("neatlogs costs less. neatlogs' exporter encodes every batch as OTLP protobuf; the peers'")
    print("exporters discard without encoding.")
    print()
    print(table(figures))
    print()
    print(targets(figures))
    cg = callgrind(args.target_dir)
    if cg:
        print()
        print(cg)
    otlp = figures["neatlogs"]["otlp_bytes"]
    if otlp:
        print()
        print(f"neatlogs' OTLP protobuf payload: {otlp:.0f} bytes per span on average.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
