#!/usr/bin/env python3
"""The markdown report of issue 7's benchmark (Python 3 standard library only).

Reads, under the cargo target directory (--target-dir, else $CARGO_TARGET_DIR,
else <repo>/target):
  criterion/<group>/<stack>/new/estimates.json   medians of the timed loops
                                                  (caller_cost_held: the same, export held)
  criterion/llm_span/<stack>/new/estimates.json  the LLM row (stacks that record it)
  bench-results/<stack>.json                      CPU, scaling, memory figures
  bench-results/callgrind.json                    instruction counts (optional)
  bench-results/e2e-<stack>-<compression>-<mode>.json
                                                  the end-to-end runs (e2e.sh, optional)
  bench-results/rounds/<n>/criterion/<group>/<stack>/new/estimates.json
                                                  each round of `ROUNDS=n run.sh` (optional)
and prints one table (each stack's figures, and each peer's ratio to
neatlogs; a stack with no results has no column) and the issue's targets
marked met or missed; the caller cost of neatlogs ÷ fastrace with the export
running and held (with rounds, that ratio round by round and its median);
then, if e2e.sh has run, one table per end-to-end mode (OpenTelemetry SDK ÷
neatlogs) and its targets.

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
# Rows of the LLM span, which a stack may leave out.
LLM_KEYS = ("llm", "llm_cpu")
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
            "caller_held": criterion_median(target, "caller_cost_held", stack),
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
            "llm": criterion_median(target, "llm_span", stack),
            "llm_cpu": dig(res, "llm_span", "ns_per_span"),
            "llm_produced": dig(res, "llm_span", "spans_produced"),
            "llm_exported": dig(res, "llm_span", "spans_exported"),
            "llm_otlp_bytes": dig(res, "llm_span", "encoded_bytes_per_span"),
            # A result file that says "llm_span": null: the stack does not
            # take part in the LLM row ("—"), as opposed to not measured.
            "llm_skipped": "llm_span" in res and res["llm_span"] is None,
            "unix_time": res.get("unix_time"),
            "quick": res.get("quick"),
        }
    return figures


ROWS = [
    # key, label, formatter, direction
    ("caller", "caller cost per 11-span trace (criterion median)", fmt_ns, LOWER),
    ("caller_held", "… with the export held while timed (criterion median)", fmt_ns, LOWER),
    ("root", "root only, 1 span (criterion median)", fmt_ns, LOWER),
    ("llm", "LLM span with two messages and usage (caller cost, criterion median)", fmt_ns, LOWER),
    ("llm_cpu", "… total CPU per LLM span, export threads + flushes (median of 3 loops)", fmt_ns, LOWER),
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


def measured(f):
    """Whether a stack has any result (its column is left out otherwise)."""
    return f["unix_time"] is not None or f["caller"] is not None


def table(figures):
    cols = [(s, label) for s, label in STACKS if s == "neatlogs" or measured(figures[s])]
    names = [label for _, label in cols]
    lines = [
        "| measure | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    base = figures["neatlogs"]
    for key, label, fmt, direction in ROWS:
        cells = []
        for stack, _ in cols:
            value = figures[stack][key]
            text = fmt(value) if value is not None else None
            if text is None:
                cells.append("—" if key in LLM_KEYS and figures[stack]["llm_skipped"] else "n/a")
                continue
            if stack != "neatlogs" and base[key] not in (None, 0) and value is not None:
                text += f" ({value / base[key]:.2f}×)"
            cells.append(text)
        lines.append(f"| {label} ({direction}) | " + " | ".join(cells) + " |")
    cells = []
    for stack, _ in cols:
        b = figures[stack]["bounded"]
        cells.append("n/a" if b is None else "yes" if b else "**no**")
    lines.append("| dead receiver: memory bounded | " + " | ".join(cells) + " |")
    cells = []
    for stack, _ in cols:
        f = figures[stack]
        cells.append("n/a" if f["produced"] is None else f"{f['exported']:,} / {f['produced']:,}")
    lines.append("| spans exported / produced in the CPU loop | " + " | ".join(cells) + " |")
    if any(figures[stack]["llm_produced"] is not None for stack, _ in cols):
        cells = []
        for stack, _ in cols:
            f = figures[stack]
            if f["llm_produced"] is None:
                cells.append("—" if f["llm_skipped"] else "n/a")
            else:
                cells.append(f"{f['llm_exported']:,} / {f['llm_produced']:,}")
        lines.append("| spans exported / produced in the LLM CPU loop (LLM spans + 1 root per 1,000) | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(ok):
    return "not measured" if ok is None else "**met**" if ok else "**missed**"


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def targets(figures):
    n, ft, ot, tr = (figures[s] for s, _ in STACKS)
    rows = []

    r = ratio(n["caller"], ft["caller"])
    rh = ratio(n["caller_held"], ft["caller_held"])
    held = (f" (export held: neatlogs {fmt_ns(n['caller_held'])} vs fastrace {fmt_ns(ft['caller_held'])}: "
            f"{rh:.2f}×)") if rh is not None else ""
    rows.append((
        "caller cost per 11-span trace ≤ fastrace's",
        f"neatlogs {fmt_ns(n['caller'])} vs fastrace {fmt_ns(ft['caller'])}: {r:.2f}× fastrace's{held}" if r is not None else "n/a",
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


def caller_ratios(figures):
    """neatlogs ÷ fastrace of the caller cost, export running and held."""
    n, ft = figures["neatlogs"], figures["fastrace"]
    rows = [
        ("export running (`caller_cost`)", "caller"),
        ("export held while timed (`caller_cost_held`)", "caller_held"),
    ]
    if all(ratio(n[k], ft[k]) is None for _, k in rows):
        return None
    lines = [
        "Caller cost per 11-span trace, neatlogs ÷ fastrace (criterion medians; the held row holds the",
        "export thread while each chunk is timed: the hot path without the export running beside it):",
        "",
        "| export | neatlogs | fastrace | neatlogs ÷ fastrace |",
        "|---|---:|---:|---:|",
    ]
    for label, k in rows:
        lines.append(f"| {label} | {fmt_ns(n[k]) or 'n/a'} | {fmt_ns(ft[k]) or 'n/a'} "
                     f"| {fmt_x(ratio(n[k], ft[k])) or 'n/a'} |")
    return "\n".join(lines)


def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def collect_rounds(target):
    """[(round, {stack: {"caller": ns, "caller_held": ns}})] from `ROUNDS=n run.sh`, in order."""
    base = os.path.join(target, "bench-results", "rounds")
    try:
        names = sorted((d for d in os.listdir(base) if d.isdigit()), key=int)
    except OSError:
        return []
    rounds = []
    for name in names:
        root = os.path.join(base, name)
        figs = {}
        for stack, _ in STACKS:
            f = {k: criterion_median(root, group, stack)
                 for k, group in (("caller", "caller_cost"), ("caller_held", "caller_cost_held"))}
            if any(v is not None for v in f.values()):
                figs[stack] = f
        if figs:
            rounds.append((int(name), figs))
    return rounds


def rounds_report(rounds):
    """Round by round: each stack's caller cost (running, held) and neatlogs ÷ fastrace; the
    ratios' medians."""
    if not rounds:
        return None
    lines = [
        f"Caller cost per 11-span trace round by round ({len(rounds)} rounds, the stacks alternated "
        "within each; criterion medians):",
        "",
        "| round | neatlogs | fastrace | neatlogs ÷ fastrace | neatlogs, held | fastrace, held "
        "| neatlogs ÷ fastrace, held |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    running, held = [], []
    for r, figs in rounds:
        n, ft = figs.get("neatlogs", {}), figs.get("fastrace", {})
        rr = ratio(n.get("caller"), ft.get("caller"))
        rh = ratio(n.get("caller_held"), ft.get("caller_held"))
        running.append(rr)
        held.append(rh)
        cells = [fmt_ns(n.get("caller")), fmt_ns(ft.get("caller")), fmt_x(rr),
                 fmt_ns(n.get("caller_held")), fmt_ns(ft.get("caller_held")), fmt_x(rh)]
        lines.append(f"| {r} | " + " | ".join(c or "n/a" for c in cells) + " |")
    lines.append("| median of the rounds' ratios | | | " + (fmt_x(median(running)) or "n/a")
                 + " | | | " + (fmt_x(median(held)) or "n/a") + " |")
    return "\n".join(lines)


def callgrind_text(cg):
    """The callgrind table of `callgrind.sh`'s result (neatlogs' figures at
    the top level, fastrace's under "fastrace" when it was counted)."""
    n1, n2 = cg["traces"]
    rows = [("neatlogs (`hotpath`; background: the export thread, batching + OTLP protobuf encoding)", cg)]
    ft = cg.get("fastrace")
    if ft:
        rows.append(("fastrace (`hotpath_fastrace`; background: the collector and flush threads, "
                     "span assembly for the no-op reporter)", ft))
    lines = [
        f"callgrind, hot path ({n2:,} − {n1:,} traces of 11 spans; instructions, Ir):",
        "",
        "| stack | caller thread per trace | … per span | background threads per trace | total per trace "
        "| tracing off, per span |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    keys = ("caller_ir_per_trace", "caller_ir_per_span", "background_ir_per_trace", "total_ir_per_trace",
            "disabled_ir_per_span")
    for label, f in rows:
        lines.append(
            f"| {label} | {f['caller_ir_per_trace']:,.0f} | {f['caller_ir_per_span']:,.0f} "
            f"| {f['background_ir_per_trace']:,.0f} | {f['total_ir_per_trace']:,.0f} "
            f"| {f['disabled_ir_per_span']:,.1f} |"
        )
    if ft:
        cells = [fmt_x(ratio(cg.get(k), ft.get(k))) or "n/a" for k in keys]
        lines.append("| neatlogs ÷ fastrace | " + " | ".join(cells) + " |")
        r = ratio(cg["caller_ir_per_trace"], ft["caller_ir_per_trace"])
        lines += ["", f"Caller thread, neatlogs ÷ fastrace: {fmt_x(r)}."]
    return "\n".join(lines)


def callgrind(target):
    cg = load_json(os.path.join(target, "bench-results", "callgrind.json"))
    if not cg:
        return None
    return callgrind_text(cg)


# End to end (e2e.sh): one column per stack and compression, one table per mode.
E2E_COLUMNS = [
    ("neatlogs", "gzip", "neatlogs (gzip)"),
    ("otel_sdk", "none", "OpenTelemetry SDK, no compression"),
    ("otel_sdk", "gzip", "OpenTelemetry SDK, gzip"),
]
E2E_MODES = [
    ("paced", "Paced"),
    ("full", "Full speed"),
]


def collect_e2e(target):
    """{(stack, compression, mode): the sender's result}, for the runs found."""
    runs = {}
    for stack, compression, _ in E2E_COLUMNS:
        for mode, _ in E2E_MODES:
            path = os.path.join(target, "bench-results", f"e2e-{stack}-{compression}-{mode}.json")
            res = load_json(path)
            if res:
                runs[(stack, compression, mode)] = res
    return runs


def e2e_figures(r):
    """The table's figures of one run (None where not measured)."""
    traces = r.get("traces") or 0
    rec = r.get("received") or {}
    sdk = r.get("sdk") or {}
    produced = r.get("spans_produced")
    spans = rec.get("spans")
    received = None if spans is None else spans - rec.get("marker_spans", 0)

    def per_trace(v, scale=1):
        return None if v is None or not traces else v * scale / traces

    caller_cs = None
    if r.get("caller_voluntary_switches") is not None:
        caller_cs = r["caller_voluntary_switches"] + r.get("caller_involuntary_switches", 0)
    cs = None
    if r.get("voluntary_switches") is not None:
        cs = r["voluntary_switches"] + r.get("involuntary_switches", 0)
    return {
        "cpu": per_trace(r.get("cpu_ns")),
        "caller_cpu": per_trace(r.get("caller_cpu_ns")),
        "background_cpu": per_trace(None if r.get("cpu_ns") is None or r.get("caller_cpu_ns") is None
                                    else r["cpu_ns"] - r["caller_cpu_ns"]),
        "cs": per_trace(cs, 1000),
        "background_cs": per_trace(None if cs is None or caller_cs is None else cs - caller_cs, 1000),
        "decoded": per_trace(rec.get("decoded_bytes")),
        "wire": per_trace(rec.get("wire_bytes")),
        "requests": per_trace(rec.get("requests"), 1000),
        "receiver_cpu": per_trace(rec.get("cpu_ns")),
        "rate": None if not r.get("produce_wall_ns") else traces * 1e9 / r["produce_wall_ns"],
        "wall": None if r.get("wall_ns") is None else r["wall_ns"] / 1e9,
        "rss": None if r.get("peak_rss_kib") is None else r["peak_rss_kib"] / 1024,
        "produced": produced,
        "received": received,
        "markers": rec.get("marker_spans"),
        "lost": None if produced is None or received is None else produced - received,
        "dropped": sdk.get("dropped"),
        "failed": sdk.get("failed"),
        "rejected": rec.get("rejected_requests"),
        "traces": traces,
        "rate_asked": r.get("rate_per_sec"),
        "unix_time": r.get("unix_time"),
    }


def fmt_count(v, digits=1):
    return None if v is None else f"{v:,.{digits}f}"


def fmt_s(v):
    return None if v is None else f"{v:.2f} s"


def fmt_mib(v):
    return None if v is None else f"{v:,.0f} MiB"


E2E_ROWS = [
    # key, label, formatter, direction
    ("cpu", "CPU per trace, sending process (all threads, start-up to shutdown)", fmt_ns, LOWER),
    ("caller_cpu", "… on the calling thread", fmt_ns, LOWER),
    ("background_cpu", "… on the other threads (export, HTTP client)", fmt_ns, LOWER),
    ("cs", "context switches per 1,000 traces (voluntary + involuntary)", lambda v: fmt_count(v), LOWER),
    ("background_cs", "… of the threads other than the calling one", lambda v: fmt_count(v), LOWER),
    ("decoded", "bytes per trace, protobuf as decoded by the receiver", fmt_bytes, LOWER),
    ("wire", "bytes per trace on the wire (request bodies)", fmt_bytes, LOWER),
    ("requests", "requests per 1,000 traces", lambda v: fmt_count(v, 2), LOWER),
    ("rate", "traces/s produced on the calling thread", fmt_rate, HIGHER),
    ("wall", "wall time, start-up to shutdown", fmt_s, LOWER),
    ("rss", "peak RSS of the sending process", fmt_mib, LOWER),
    ("receiver_cpu", "receiver CPU per trace (gunzip + protobuf decode)", fmt_ns, LOWER),
]


def e2e_table(runs, mode):
    cols = [(s, c, label) for s, c, label in E2E_COLUMNS if (s, c, mode) in runs]
    if not cols:
        return None
    figs = {(s, c): e2e_figures(runs[(s, c, mode)]) for s, c, _ in cols}
    base = figs.get(("neatlogs", "gzip"))
    lines = [
        "| measure | " + " | ".join(label for _, _, label in cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for key, label, fmt, direction in E2E_ROWS:
        if all(figs[(s, c)][key] is None for s, c, _ in cols):
            continue
        cells = []
        for s, c, _ in cols:
            value = figs[(s, c)][key]
            text = None if value is None else fmt(value)
            if text is None:
                cells.append("n/a")
                continue
            if s != "neatlogs" and base is not None and base[key] not in (None, 0):
                text += f" ({value / base[key]:.2f}×)"
            cells.append(text)
        lines.append(f"| {label} ({direction}) | " + " | ".join(cells) + " |")
    cells = []
    for s, c, _ in cols:
        f = figs[(s, c)]
        if f["produced"] is None or f["received"] is None:
            cells.append("n/a")
            continue
        lost = f["lost"]
        lost_text = "none lost" if lost == 0 else f"**{lost:,} lost**" if lost > 0 else f"{-lost:,} extra"
        cells.append(f"{f['received']:,} / {f['produced']:,} ({lost_text})")
    lines.append("| spans received / produced (lost = produced − received) | " + " | ".join(cells) + " |")
    cells = []
    for s, c, _ in cols:
        f = figs[(s, c)]
        cells.append("n/a" if f["dropped"] is None else f"{f['dropped']:,} dropped, {f['failed'] or 0:,} failed")
    lines.append("| what the SDK counted | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def e2e_targets(runs, mode):
    n = runs.get(("neatlogs", "gzip", mode))
    if n is None:
        return None
    n = e2e_figures(n)
    rows = []
    for compression, bound, label in (
        ("gzip", 2.0, "neatlogs CPU per trace ≤ ½ of the OpenTelemetry SDK's with gzip"),
        ("none", 1.0, "neatlogs CPU per trace ≤ the OpenTelemetry SDK's without compression"),
    ):
        o = runs.get(("otel_sdk", compression, mode))
        o = e2e_figures(o) if o else None
        r = ratio(o["cpu"] if o else None, n["cpu"])
        rows.append((
            label,
            f"OpenTelemetry SDK {fmt_ns(o['cpu'])} ÷ neatlogs {fmt_ns(n['cpu'])} = {r:.2f}× (needs ≥ {bound:.0f}×)"
            if r is not None else "n/a",
            None if r is None else r >= bound,
        ))
    lost = n["lost"]
    rows.append((
        "zero spans lost by neatlogs",
        "n/a" if lost is None else f"{lost:,} of {n['produced']:,} lost; the SDK counted {n['dropped']:,} dropped, {n['failed']:,} failed",
        None if lost is None else lost <= 0 and not n["dropped"] and not n["failed"],
    ))
    lines = ["| target (end to end) | measured | |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {verdict(ok)} |" for t, m, ok in rows]
    return "\n".join(lines)


def e2e_report(runs):
    if not runs:
        return None
    traces = {r.get("traces") for r in runs.values()}
    rates = {r.get("rate_per_sec") for r in runs.values() if r.get("rate_per_sec")}
    out = [
        "## End to end: OTLP/HTTP to a receiver in another process",
        "",
        f"{', '.join(f'{t:,}' for t in sorted(t for t in traces if t))} request traces (11 spans each) per run, "
        "each run in a process of its own against one receiver on 127.0.0.1 that decodes every request "
        "(`e2e.sh`). CPU and context switches are `getrusage` of the whole sending process, from before "
        "the stack starts to the end of its shutdown. Ratios in brackets: OpenTelemetry SDK ÷ neatlogs "
        "(for costs, above 1× means neatlogs costs less). neatlogs gzips at its default (level 1, `fast`, the state kept between requests); "
        "the OpenTelemetry exporter gzips at level 6 (flate2's default) when asked. neatlogs adds one "
        "completion-marker span per trace: it is in the bytes and requests, not in the spans received.",
    ]
    for mode, title in E2E_MODES:
        table = e2e_table(runs, mode)
        if table is None:
            continue
        if mode == "paced":
            rate = ", ".join(f"{r:,}" for r in sorted(rates)) or "?"
            what = f"{rate} traces/s, default settings (queues, batch sizes, delays)"
        else:
            what = "as fast as the calling thread goes, queues that hold the whole run"
        out += ["", f"### {title}: {what}", "", table]
        targets_table = e2e_targets(runs, mode)
        if targets_table:
            out += ["", targets_table]
    return "\n".join(out)


def sampled_out(target):
    """The sampled-out rows (benches/benches/sampled_out.rs), or ''."""
    # Criterion names `sampled_out/x` benchmarks' directories `sampled_out_x`.
    m = {k: criterion_median(target, "sampled_out_" + k, "") for k in (
        "neatlogs_disabled", "neatlogs", "otel_sdk",
        "neatlogs_llm_call_dropped", "neatlogs_llm_call_kept", "otel_sdk_llm_call_dropped")}
    if m["neatlogs"] is None:
        return ""
    def row(name, key, against):
        v = m[key]
        cells = [name, fmt_ns(v) if v is not None else "-"]
        for other in against:
            o = m[other]
            cells.append(fmt_x(v / o) if (v and o) else "-")
        return "| " + " | ".join(cells) + " |"
    lines = [
        "Sampled out (`cargo bench -p neatlogs-bench --bench sampled_out`), caller cost, criterion medians:",
        "",
        "| trace or call | time | ÷ neatlogs disabled | ÷ OTel SDK dropping the same |",
        "|---|---:|---:|---:|",
        row("11-span trace, tracing off (disabled path)", "neatlogs_disabled", ["neatlogs_disabled", "otel_sdk"]),
        row("11-span trace dropped by `TraceIdRatio(0.0)` (identity and context kept)", "neatlogs", ["neatlogs_disabled", "otel_sdk"]),
        row("the OpenTelemetry SDK's `TraceIdRatioBased(0.0)`, same trace", "otel_sdk", ["neatlogs_disabled", "otel_sdk"]),
        row("one LLM call in a dropped trace (opened for its usage, then dropped)", "neatlogs_llm_call_dropped", ["neatlogs_disabled", "otel_sdk_llm_call_dropped"]),
        row("the same LLM call in a recorded trace", "neatlogs_llm_call_kept", ["neatlogs_disabled", "otel_sdk_llm_call_dropped"]),
        row("the OpenTelemetry SDK, the LLM call dropped (no usage kept)", "otel_sdk_llm_call_dropped", ["neatlogs_disabled", "otel_sdk_llm_call_dropped"]),
    ]
    return "\n".join(lines)


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
    e2e = collect_e2e(args.target_dir)
    times = [f["unix_time"] for f in figures.values() if f["unix_time"]]
    times += [r["unix_time"] for r in e2e.values() if r.get("unix_time")]
    in_process = any(f["unix_time"] or f["caller"] is not None for f in figures.values())
    if not in_process and not e2e:
        print(f"no results under {args.target_dir}: run benches/run.sh first", file=sys.stderr)
        return 1
    when = (
        datetime.datetime.fromtimestamp(max(times), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        if times
        else "unknown date"
    )
    print(f"Run of {when} on {machine()}.")
    if not in_process:
        print()
        print(e2e_report(e2e))
        return 0
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
    cr = caller_ratios(figures)
    if cr:
        print()
        print(cr)
    rr = rounds_report(collect_rounds(args.target_dir))
    if rr:
        print()
        print(rr)
    cg = callgrind(args.target_dir)
    if cg:
        print()
        print(cg)
    otlp = figures["neatlogs"]["otlp_bytes"]
    if otlp:
        print()
        print(f"neatlogs' OTLP protobuf payload: {otlp:.0f} bytes per span on average.")
    llm_otlp = figures["neatlogs"]["llm_otlp_bytes"]
    if llm_otlp:
        print(f"In the LLM loop: {llm_otlp:.0f} bytes per span (LLM spans and their roots).")
    so = sampled_out(args.target_dir)
    if so:
        print()
        print(so)
    e2e_text = e2e_report(e2e)
    if e2e_text:
        print()
        print(e2e_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
