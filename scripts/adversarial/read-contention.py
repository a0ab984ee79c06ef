#!/usr/bin/env python3
"""Read contention on `neatlogs serve`: how long a cheap `/api/traces` takes
while heavy page-style queries (a long metadata filter with `count=true`)
run beside it.

Starts the given `neatlogs` binary on 127.0.0.1 with a fresh store in a
temporary folder, seeds it over OTLP/HTTP JSON with TRACES traces (one
end-user each, with eight metadata keys), then:

  1. times the cheap list and one heavy query alone;
  2. starts HEAVY threads that send the heavy query back to back, and while
     they run, times SAMPLES cheap requests one after the other;
  3. prints the figures (and one JSON line with them) and stops the server.

Bounded: loopback only, at most SAMPLES cheap requests, the heavy threads
stop with the last sample or after --seconds, every request has a timeout,
and the server is killed at the end whatever happens.

    python3 scripts/adversarial/read-contention.py --bin target/release/neatlogs
    python3 scripts/adversarial/read-contention.py --bin OLD --traces 16000 --heavy 4

Only the standard library. See docs/hardening.md for the figures.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

T0 = 1_777_636_800_000_000_000  # 2026-05-01T12:00:00Z, in ns
# Eight metadata clauses that almost every trace passes: the list's newest
# 50 come at once, but counting probes every trace's metadata eight times.
HEAVY_FILTER = (
    "metadata:plan is set and metadata:region is set "
    "and metadata:org.name contains org and metadata:org.tier is not bronze "
    "and metadata:team contains team and metadata:seats is not 99 "
    "and metadata:beta is set and metadata:signup starts with 2026 "
    "and name contains chat"
)
CHEAP_PATH = "/api/traces?limit=50"


def start(binary, db, extra):
    args = [binary, "serve", "--listen", "127.0.0.1:0", "--db", db, *extra]
    env = {k: v for k, v in os.environ.items() if k != "NEATLOGS_API_KEY"}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    line = proc.stdout.readline()
    match = re.search(r"listening on (http://\S+)", line)
    if not match:
        proc.kill()
        raise SystemExit(f"neatlogs serve did not start: {line!r} {proc.stderr.read()}")
    # Keep draining stdout so the server never blocks on a full pipe.
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc, match.group(1)


def attr(key, value):
    return {"key": key, "value": {"stringValue": value}}


def seed(base, traces, batch=1000):
    regions = ["eu", "us", "apac", "latam"]
    plans = ["pro", "free", "team", "enterprise"]
    for first in range(0, traces, batch):
        spans = []
        for t in range(first, min(first + batch, traces)):
            metadata = {
                "plan": plans[t % 4],
                "region": regions[(t // 4) % 4],
                "org": {"name": f"org-{t % 997}", "tier": "gold" if t % 5 == 0 else "silver"},
                "team": f"team-{t % 53}",
                "seats": t % 40,
                "beta": t % 3 == 0,
                "signup": f"2026-{1 + t % 12:02d}-{1 + t % 28:02d}",
            }
            start_ns = T0 + t * 1_000_000
            spans.append({
                "traceId": f"{t + 1:032x}",
                "spanId": f"{t + 1:016x}",
                "name": "chat",
                "kind": 1,
                "startTimeUnixNano": str(start_ns),
                "endTimeUnixNano": str(start_ns + 5_000_000),
                "attributes": [
                    attr("neatlogs.end_user.id", f"u_{t % 5000}"),
                    attr("neatlogs.end_user.metadata", json.dumps(metadata)),
                    attr("neatlogs.session.id", f"s_{t % 2000}"),
                ],
            })
        body = json.dumps({"resourceSpans": [{
            "resource": {"attributes": [attr("service.name", "support-chat")]},
            "scopeSpans": [{"scope": {"name": "seed"}, "spans": spans}],
        }]}).encode()
        request = urllib.request.Request(
            base + "/v1/traces", data=body, method="POST",
            headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()


def timed_get(url, timeout):
    """(seconds, status) of one GET; the status is 0 on a network error."""
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as e:
        e.read()
        status = e.code
    except OSError:
        status = 0
    return time.perf_counter() - began, status


def ms(seconds):
    return round(seconds * 1000, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True, help="the neatlogs binary to run")
    parser.add_argument("--traces", type=int, default=16_000)
    parser.add_argument("--heavy", type=int, default=4, help="concurrent heavy queries")
    parser.add_argument("--samples", type=int, default=20, help="cheap requests timed under load")
    parser.add_argument("--seconds", type=float, default=120, help="upper bound on the loaded phase")
    parser.add_argument("--label", default=None, help="a name for this run in the output")
    parser.add_argument("--filter", default=HEAVY_FILTER, help="the heavy query's filter")
    parser.add_argument("serve_args", nargs="*", help="extra arguments for neatlogs serve (after --)")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="neatlogs-read-contention-")
    proc = None
    try:
        proc, base = start(args.bin, os.path.join(folder, "neatlogs.db"), args.serve_args)
        began = time.perf_counter()
        seed(base, args.traces)
        seeded_in = time.perf_counter() - began
        heavy_url = base + "/api/traces?" + urllib.parse.urlencode(
            {"filter": args.filter, "limit": 50, "offset": 0, "count": "true"})
        cheap_url = base + CHEAP_PATH
        timeout = max(30.0, args.seconds)

        # Warm the caches, then the cost of each alone.
        timed_get(cheap_url, timeout)
        timed_get(heavy_url, timeout)
        cheap_alone = statistics.median(timed_get(cheap_url, timeout)[0] for _ in range(5))
        heavy_alone, heavy_alone_status = timed_get(heavy_url, timeout)

        stop = threading.Event()
        heavy_results = []
        lock = threading.Lock()

        def heavy_loop():
            while not stop.is_set():
                result = timed_get(heavy_url, timeout)
                with lock:
                    heavy_results.append(result)

        threads = [threading.Thread(target=heavy_loop, daemon=True) for _ in range(args.heavy)]
        for thread in threads:
            thread.start()
        # Let every heavy query get going before timing the cheap ones.
        time.sleep(min(0.2, heavy_alone / 2))
        deadline = time.perf_counter() + args.seconds
        cheap = []
        while len(cheap) < args.samples and time.perf_counter() < deadline:
            cheap.append(timed_get(cheap_url, timeout))
        stop.set()
        for thread in threads:
            thread.join(timeout=timeout)

        cheap_times = sorted(t for t, _ in cheap)
        heavy_times = sorted(t for t, _ in heavy_results)
        statuses = lambda results: {str(s): sum(1 for _, x in results if x == s) for s in sorted({x for _, x in results})}
        report = {
            "label": args.label or os.path.basename(args.bin),
            "traces": args.traces,
            "seeded_in_s": round(seeded_in, 1),
            "heavy_concurrent": args.heavy,
            "cheap_alone_ms": ms(cheap_alone),
            "heavy_alone_ms": ms(heavy_alone),
            "heavy_alone_status": heavy_alone_status,
            "cheap_under_load_p50_ms": ms(statistics.median(cheap_times)) if cheap_times else None,
            "cheap_under_load_max_ms": ms(cheap_times[-1]) if cheap_times else None,
            "cheap_under_load_statuses": statuses(cheap),
            "cheap_samples": len(cheap),
            "heavy_under_load_p50_ms": ms(statistics.median(heavy_times)) if heavy_times else None,
            "heavy_under_load_statuses": statuses(heavy_results),
        }
        print(f"{report['label']}: {args.traces} traces (seeded in {report['seeded_in_s']} s)")
        print(f"  alone:  cheap /api/traces {report['cheap_alone_ms']} ms, "
              f"heavy filter + count {report['heavy_alone_ms']} ms ({heavy_alone_status})")
        print(f"  with {args.heavy} heavy queries running: cheap /api/traces p50 "
              f"{report['cheap_under_load_p50_ms']} ms, max {report['cheap_under_load_max_ms']} ms "
              f"over {len(cheap)} requests {report['cheap_under_load_statuses']}; "
              f"heavy p50 {report['heavy_under_load_p50_ms']} ms {report['heavy_under_load_statuses']}")
        print(json.dumps(report))
    finally:
        if proc is not None:
            proc.kill()
            proc.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
