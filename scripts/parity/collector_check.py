#!/usr/bin/env python3
"""The official Python SDK's traces, sent to `neatlogs serve`, analysed per
end-user: tokens and cost in `neatlogs users`.

Starts `neatlogs serve` on a free loopback port with a fresh store, runs
scenario.py (with the Python of the venv this script runs under, where the
pinned `neatlogs` is installed) in the `explicit` and `init-default` cases
against it, stops the collector, and checks `neatlogs users --db .. --json`:
each case's end-user has the tokens of the scenario's two chat completions
(prompt 42 + 61, completion 17 + 23), and a cost from the built-in price
table (the answering model, gpt-4o-mini-2024-07-18, is priced there).

    target/parity/venv-1.3.7/bin/python scripts/parity/collector_check.py \\
        --neatlogs target/debug/neatlogs

Exit status 0 when every check holds, 1 otherwise. Everything stays on
127.0.0.1 and every step has a timeout.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = {
    # case: (end-user, prompt tokens, completion tokens)
    "explicit": ("eu_42", 42 + 61, 17 + 23),
    "init-default": ("eu_default", 42 + 61, 17 + 23),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"collector_check: neatlogs serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("collector_check: neatlogs serve did not come up")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--neatlogs", required=True, help="the neatlogs binary")
    args = parser.parse_args()

    failures = []
    with tempfile.TemporaryDirectory(prefix="neatlogs-collector-check-") as tmp:
        db = os.path.join(tmp, "store.db")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        serve = subprocess.Popen(
            [args.neatlogs, "serve", "--listen", f"127.0.0.1:{port}", "--db", db],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if k != "NEATLOGS_API_KEY"},
        )
        try:
            wait_healthy(url, serve)
            for case in EXPECTED:
                run = subprocess.run(
                    [sys.executable, os.path.join(HERE, "scenario.py"), "--endpoint", url, "--case", case],
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                if run.returncode != 0:
                    failures.append(f"{case}: scenario.py failed: {run.stderr[-2000:]}")
        finally:
            serve.terminate()
            try:
                serve.wait(timeout=30)
            except subprocess.TimeoutExpired:
                serve.kill()
        users = subprocess.run(
            [args.neatlogs, "users", "--db", db, "--json"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if users.returncode != 0:
            raise SystemExit(f"collector_check: neatlogs users failed: {users.stderr}")
        rows = {row["end_user"]: row for row in json.loads(users.stdout)["users"]}

    for case, (user, prompt, completion) in EXPECTED.items():
        row = rows.get(user)
        if row is None:
            failures.append(f"{case}: no end-user {user} in `neatlogs users` (saw {sorted(rows)})")
            continue
        got = (row["input_tokens"], row["output_tokens"])
        if got != (prompt, completion):
            failures.append(f"{case}: {user} has tokens {got}, expected {(prompt, completion)}")
        cost = row.get("cost_usd")
        if not isinstance(cost, (int, float)) or cost <= 0:
            failures.append(f"{case}: {user} has cost {cost!r}, expected a price from the table")
        if row.get("unpriced_spans"):
            failures.append(f"{case}: {user} has {row['unpriced_spans']} unpriced LLM spans")
        print(
            f"collector_check: {case}: {user} traces={row['traces']} "
            f"tokens={got[0]}+{got[1]} cost_usd={cost}"
        )
    for failure in failures:
        print(f"collector_check: FAIL {failure}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
