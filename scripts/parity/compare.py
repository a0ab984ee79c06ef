#!/usr/bin/env python3
"""Compare the attribute keys two SDKs wrote for the parity scenario, span by span.

Takes two JSON-lines dumps written by receiver.py (by default the Python SDK's
and the Rust SDK's), groups the spans by case (the resource's
`neatlogs.workflow_name`, `parity-<case>`), gives each span a role

    root     the parentless span that is not the completion marker
    marker   the completion marker (`neatlogs.trace.complete`)
    chain    neatlogs.span.kind = chain
    tool     neatlogs.span.kind = tool
    llm      neatlogs.span.kind = llm, not streamed
    llm-stream  neatlogs.span.kind = llm, neatlogs.llm.is_streaming = true

(a second span of the same role in one case becomes `<role>#2`, in start
order), and prints per case and role the keys only one side wrote and the keys
both wrote with different value types, plus structural differences (parent
role, OTLP kind, status code). Each difference that an entry of DELIBERATE
covers is printed as such and does not count. Values that differ are listed
for information only (ids, timings and paths always differ).

Exit status: 0 when every difference is declared, 1 when one is not, 2 when a
dump is missing, empty or has no case in common with the other.

    python3 compare.py target/parity/python-1.3.7.jsonl target/parity/rust.jsonl
    python3 compare.py a.jsonl b.jsonl --left-name py137 --right-name py14
"""

import argparse
import fnmatch
import json
import sys
from collections import defaultdict

# Differences the Rust SDK makes on purpose. An entry covers a difference when
# every field it gives matches (fnmatch patterns for strings):
#   case   the scenario case ("explicit", "init-default", "no-content", "*")
#   role   the span role ("root", "chain", "tool", "llm", "llm-stream",
#          "marker", "*"; "<role>#N" for later spans of a role), or a list
#          of such patterns
#   key    the attribute key
#   what   "only-left" (only the Python side wrote it), "only-right" (only
#          the Rust side), "type" (both, with different value types),
#          "structure" (key "<parent>", "<otlp kind>", "<status>" or "<span>")
# and `why` says why, for the report.
CHILDREN = ["chain*", "tool*", "llm*"]

DELIBERATE = [
    # Identity is root-only in the Rust SDK. Python 1.3.7 puts the init()
    # default end-user (and the init() session, in every case) in the resource,
    # and its span processor copies every `neatlogs.*` resource key and the
    # mapped `session.id` onto every span it exports, so a child span carries
    # an end-user and a session of its own and can contradict its root.
    # (With opentelemetry-sdk >= 1.43 that copy is silently lost, and 1.4.x
    # stamps identity on the root only, so these entries may go unused.)
    {
        "case": "*",
        "role": CHILDREN,
        "key": "neatlogs.end_user.id",
        "what": "only-left",
        "why": "identity is root-only: the init() default end-user is not copied onto children",
    },
    {
        "case": "*",
        "role": CHILDREN,
        "key": "neatlogs.end_user.metadata",
        "what": "only-left",
        "why": "identity is root-only: the init() end-user metadata is not copied onto children",
    },
    {
        "case": "*",
        "role": CHILDREN,
        "key": "neatlogs.session.id",
        "what": "only-left",
        "why": "identity is root-only: the init() session is not copied onto children",
    },
]

MARKER = "neatlogs.trace.complete"
# Keys whose values are expected to differ run to run or SDK to SDK; their
# values are not listed.
VOLATILE = [
    "*duration_ms",
    "*ttft_ms",
    "*streaming_time_to_generate_ms",
    "*time_to_first_token*",
    "code.*",
    "neatlogs.code.*",
    "neatlogs.instrumentation.name",
    "neatlogs.stream.*",
]


def load(path):
    """The spans of one dump; exits 2 on a missing or empty file."""
    spans = []
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    spans.append(json.loads(line))
                except json.JSONDecodeError as err:
                    sys.exit(f"compare: {path}:{n}: not JSON: {err}")
    except OSError as err:
        print(f"compare: {err}", file=sys.stderr)
        sys.exit(2)
    if not spans:
        print(f"compare: {path}: no spans", file=sys.stderr)
        sys.exit(2)
    return spans


def value(span, key, where="attributes"):
    entry = span.get(where, {}).get(key)
    return None if entry is None else entry.get("value")


def case_of(span):
    name = value(span, "neatlogs.workflow_name", "resource") or value(
        span, "service.name", "resource"
    )
    if isinstance(name, str) and name.startswith("parity-"):
        return name[len("parity-") :]
    return name or "default"


def base_role(span):
    if span["name"] == MARKER or value(span, MARKER) is True:
        return "marker"
    if not span.get("parent_span_id"):
        return "root"
    kind = value(span, "neatlogs.span.kind") or value(span, "openinference.span.kind") or ""
    kind = str(kind).lower()
    if kind == "llm":
        return "llm-stream" if value(span, "neatlogs.llm.is_streaming") is True else "llm"
    return kind or "other"


def by_case_and_role(spans):
    """{case: {role: span}}, with later spans of one role as role#2, role#3."""
    grouped = defaultdict(lambda: defaultdict(list))
    for span in sorted(spans, key=lambda s: s.get("start_time_unix_nano", 0)):
        grouped[case_of(span)][base_role(span)].append(span)
    out = {}
    for case, roles in grouped.items():
        out[case] = {}
        for role, items in roles.items():
            for i, span in enumerate(items):
                out[case][role if i == 0 else f"{role}#{i + 1}"] = span
    return out


def role_of_id(spans_by_role):
    return {span["span_id"]: role for role, span in spans_by_role.items()}


def matches(text, patterns):
    if isinstance(patterns, str):
        patterns = [patterns]
    return any(fnmatch.fnmatchcase(text, p) for p in patterns)


def declared(case, role, key, what):
    for entry in DELIBERATE:
        if (
            matches(case, entry.get("case", "*"))
            and matches(role, entry.get("role", "*"))
            and matches(key, entry.get("key", "*"))
            and entry.get("what", what) == what
        ):
            return entry
    return None


def volatile(key):
    return any(fnmatch.fnmatchcase(key, p) for p in VOLATILE)


def short(v, limit=70):
    text = json.dumps(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Report:
    def __init__(self, left, right):
        self.left, self.right = left, right
        self.undeclared = 0
        self.declared = 0
        self.used = set()

    def diff(self, case, role, key, what, text):
        entry = declared(case, role, key, what)
        if entry is not None:
            self.declared += 1
            self.used.add(id(entry))
            print(f"    deliberate  {text}  ({entry['why']})")
        else:
            self.undeclared += 1
            print(f"    DIFF        {text}")


def compare_spans(report, case, role, lspan, rspan, lroles, rroles, show_values):
    lattrs, rattrs = lspan["attributes"], rspan["attributes"]
    left, right = report.left, report.right
    print(f"  [{role}] {left}: {lspan['name']!r}  {right}: {rspan['name']!r}")
    n_before = report.undeclared + report.declared

    for key in sorted(set(lattrs) - set(rattrs)):
        report.diff(
            case,
            role,
            key,
            "only-left",
            f"only {left}: {key} ({lattrs[key]['type']} {short(lattrs[key]['value'], 50)})",
        )
    for key in sorted(set(rattrs) - set(lattrs)):
        report.diff(
            case,
            role,
            key,
            "only-right",
            f"only {right}: {key} ({rattrs[key]['type']} {short(rattrs[key]['value'], 50)})",
        )
    for key in sorted(set(lattrs) & set(rattrs)):
        lt, rt = lattrs[key]["type"], rattrs[key]["type"]
        if lt != rt:
            report.diff(case, role, key, "type", f"type of {key}: {left} {lt}, {right} {rt}")

    lparent = lroles.get(lspan.get("parent_span_id"), None if not lspan.get("parent_span_id") else "?")
    rparent = rroles.get(rspan.get("parent_span_id"), None if not rspan.get("parent_span_id") else "?")
    structure = [
        ("parent", lparent, rparent),
        ("otlp kind", lspan.get("kind"), rspan.get("kind")),
        ("status", lspan["status"]["code"], rspan["status"]["code"]),
    ]
    for name, lv, rv in structure:
        if lv != rv:
            report.diff(
                case, role, f"<{name}>", "structure", f"{name}: {left} {lv}, {right} {rv}"
            )

    if report.undeclared + report.declared == n_before:
        print(f"    same keys and types ({len(lattrs)} keys)")

    if show_values:
        for key in sorted(set(lattrs) & set(rattrs)):
            if volatile(key):
                continue
            lv, rv = lattrs[key]["value"], rattrs[key]["value"]
            if lv != rv:
                print(f"    value       {key}: {left} {short(lv)}  {right} {short(rv)}")


def compare_resource(left_spans, right_spans, left, right):
    """Resource keys, for information (never counted)."""
    lres = {k: v["type"] for s in left_spans for k, v in s.get("resource", {}).items()}
    rres = {k: v["type"] for s in right_spans for k, v in s.get("resource", {}).items()}
    only_l = sorted(set(lres) - set(rres))
    only_r = sorted(set(rres) - set(lres))
    if only_l or only_r:
        print("resource (information only):")
        for k in only_l:
            print(f"    only {left}: {k}")
        for k in only_r:
            print(f"    only {right}: {k}")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("left", help="the Python SDK's dump (JSON lines from receiver.py)")
    parser.add_argument("right", help="the Rust SDK's dump")
    parser.add_argument("--left-name", default="python")
    parser.add_argument("--right-name", default="rust")
    parser.add_argument("--case", action="append", help="compare only this case (repeatable)")
    parser.add_argument("--no-values", action="store_true", help="do not list differing values")
    args = parser.parse_args()

    left_spans, right_spans = load(args.left), load(args.right)
    lcases, rcases = by_case_and_role(left_spans), by_case_and_role(right_spans)
    cases = sorted(set(lcases) & set(rcases))
    if args.case:
        cases = [c for c in cases if c in args.case]
    for c in sorted(set(lcases) ^ set(rcases)):
        side = args.left_name if c in lcases else args.right_name
        print(f"case {c!r} only in {side}'s dump (not compared)")
    if not cases:
        print("compare: the dumps have no case in common", file=sys.stderr)
        sys.exit(2)

    report = Report(args.left_name, args.right_name)
    for case in cases:
        lroles_map, rroles_map = lcases[case], rcases[case]
        print(f"case {case}:")
        lids, rids = role_of_id(lroles_map), role_of_id(rroles_map)
        for role in sorted(set(lroles_map) | set(rroles_map)):
            if role not in rroles_map:
                report.diff(case, role, "<span>", "only-left", f"span role {role} only in {args.left_name}'s dump ({lroles_map[role]['name']!r})")
                continue
            if role not in lroles_map:
                report.diff(case, role, "<span>", "only-right", f"span role {role} only in {args.right_name}'s dump ({rroles_map[role]['name']!r})")
                continue
            compare_spans(
                report,
                case,
                role,
                lroles_map[role],
                rroles_map[role],
                lids,
                rids,
                not args.no_values,
            )
    compare_resource(left_spans, right_spans, args.left_name, args.right_name)

    unused = [e for e in DELIBERATE if id(e) not in report.used]
    for entry in unused:
        print(f"deliberate entry unused here: {entry['role']} {entry['key']} ({entry['what']})")
    print(
        f"{report.undeclared} undeclared differences, {report.declared} deliberate, "
        f"{len(cases)} cases compared"
    )
    sys.exit(1 if report.undeclared else 0)


if __name__ == "__main__":
    main()
