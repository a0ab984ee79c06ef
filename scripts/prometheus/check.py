"""Ask Prometheus, with PromQL, for the tokens per end-user it scraped from
the example service, and compare them with what the fake model handed out
(the example's EXPECTED line). Exits non-zero on any difference."""

import argparse
import json
import sys
import time
import urllib.parse
import urllib.request

QUERY = 'sum by (enduser_id, gen_ai_token_type) (gen_ai_client_token_usage_sum{job="usage"})'
CALLS = 'sum by (enduser_id) (gen_ai_client_operation_duration_count{job="usage"})'


def query(base, promql):
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(body)
    return body["data"]["result"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prometheus", required=True)
    ap.add_argument("--expected", required=True)
    args = ap.parse_args()
    expected = {
        (user, kind): int(n)
        for user, kinds in json.loads(args.expected).items()
        for kind, n in kinds.items()
    }
    deadline = time.time() + 90
    got, calls = {}, {}
    while time.time() < deadline:
        try:
            got = {
                (r["metric"].get("enduser_id"), r["metric"].get("gen_ai_token_type")): int(float(r["value"][1]))
                for r in query(args.prometheus, QUERY)
            }
            calls = {r["metric"].get("enduser_id"): int(float(r["value"][1])) for r in query(args.prometheus, CALLS)}
        except OSError:
            pass  # not up yet
        if got == expected:
            break
        time.sleep(1)
    print(f"PromQL: {QUERY}")
    print(f"{'end-user':10} {'token type':10} {'Prometheus':>11} {'handed out':>11}")
    for key in sorted(set(expected) | set(got), key=lambda k: (str(k[0]), str(k[1]))):
        print(f"{key[0]!s:10} {key[1]!s:10} {got.get(key, '-')!s:>11} {expected.get(key, '-')!s:>11}")
    print(f"LLM calls per end-user ({CALLS}): {dict(sorted(calls.items()))}")
    if got != expected:
        print("Prometheus does not show the tokens the model handed out", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {len(expected)} per-end-user token totals equal")


if __name__ == "__main__":
    main()
