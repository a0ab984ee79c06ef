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
# every field it gives matches (fnmatch patterns for strings, or a list of
# patterns of which one must match):
#   versus  the left side's name (--left-name: "python-1.3.7", "python-1.4";
#           default "*"): for a difference with one Python version only
#   case    the scenario case ("explicit", "init-default", "no-content", "*")
#   role    the span role ("root", "chain", "tool", "llm", "llm-stream",
#           "marker", "*"; "<role>#N" for later spans of a role)
#   key     the attribute key
#   what    "only-left" (only the Python side wrote it), "only-right" (only
#           the Rust side), "type" (both, with different value types),
#           "structure" (key "<parent>", "<otlp kind>", "<status>" or "<span>")
#   left_value / right_value  for "structure": the two sides' values
# and `why` says why, for the report. An entry that matched nothing in a
# comparison it applies to is listed at the end of that comparison.
CHILDREN = ["chain*", "tool*", "llm*"]
DECORATED = ["root", "chain*", "tool*"]
LLM = ["llm*"]
PY137 = "*1.3.7*"
PY14 = "*1.4*"
CAPTURED_IO = [
    "input.value",
    "input.mime_type",
    "output.value",
    "output.mime_type",
    "neatlogs.*.input",
    "neatlogs.*.output",
    "neatlogs.*.input_mime_type",
    "neatlogs.*.output_mime_type",
]

DELIBERATE = [
    # --- Identity is root-only. Python 1.3.7 puts the init() default end-user
    # (and the init() session, in every case) in the resource, and its span
    # processor copies every `neatlogs.*` resource key and the mapped
    # `session.id` onto every span it exports, so a child span carries an
    # end-user and a session of its own and can contradict its root. (With
    # opentelemetry-sdk >= 1.43 that copy is silently lost; 1.4.x stamps
    # identity on the root only.)
    {
        "versus": PY137,
        "role": CHILDREN,
        "key": "neatlogs.end_user.id",
        "what": "only-left",
        "why": "identity is root-only: the init() default end-user is not copied onto children",
    },
    {
        "versus": PY137,
        "role": CHILDREN,
        "key": "neatlogs.end_user.metadata",
        "what": "only-left",
        "why": "identity is root-only: the init() end-user metadata is not copied onto children",
    },
    {
        "versus": PY137,
        "role": CHILDREN,
        "key": "neatlogs.session.id",
        "what": "only-left",
        "why": "identity is root-only: the init() session is not copied onto children",
    },
    # --- Keys the Rust SDK adds on purpose.
    {
        "role": "root",
        "key": "enduser.id",
        "what": "only-right",
        "why": "the root's end-user also under the OpenTelemetry semantic-convention key, "
        "for any OpenTelemetry backend (root only, like neatlogs.end_user.id)",
    },
    {
        "role": LLM,
        "key": "openinference.span.kind",
        "what": "only-right",
        "why": "every Rust span names its kind in both vocabularies; the Python OpenAI "
        "wrapper writes only neatlogs.span.kind on LLM spans (its decorator writes both)",
    },
    {
        "role": LLM,
        "key": "neatlogs.internal",
        "what": "only-right",
        "why": "every span the Rust SDK writes is marked as its own; the Python SDK marks "
        "decorated spans and the marker but not its OpenAI wrapper's LLM spans",
    },
    {
        "role": LLM,
        "key": "neatlogs.llm.invocation_parameters",
        "what": "only-right",
        "why": "the invocation parameters also as one JSON object (the key the Neatlogs "
        "mapping reads from OpenInference senders), besides the typed "
        "neatlogs.llm.temperature / max_tokens both SDKs write",
    },
    {
        "role": LLM,
        "key": "neatlogs.llm.input_messages.*.name",
        "what": "only-right",
        "why": "a message's name is written when the application gives one (the tool "
        "message); the Python OpenAI wrapper drops it though its mapping knows the key",
    },
    # --- Keys 1.4 writes and 1.3.7 lacks; the Rust SDK writes them as 1.4 does.
    {
        "versus": PY137,
        "role": LLM,
        "key": "neatlogs.llm.response_id",
        "what": "only-right",
        "why": "1.4 writes the provider's response id, 1.3.7 does not (the issue asks for it)",
    },
    {
        "versus": PY137,
        "role": LLM,
        "key": "neatlogs.llm.choices.0.finish_reason",
        "what": "only-right",
        "why": "1.4 writes the first choice's finish reason per choice too, 1.3.7 does not",
    },
    {
        "versus": PY137,
        "role": LLM,
        "key": [
            "neatlogs.llm.tool_calls.*.type",
            "neatlogs.llm.tool_calls.*.choice_index",
            "neatlogs.llm.tool_calls.*.tool_call_index",
        ],
        "what": "only-right",
        "why": "1.4 writes a tool call's type and indexes, 1.3.7 only id, name and arguments",
    },
    {
        "versus": PY137,
        "role": LLM,
        "key": ["neatlogs.llm.tools.*.type", "neatlogs.llm.tools.*.definition"],
        "what": "only-right",
        "why": "1.4 writes an offered tool's type and whole definition, 1.3.7 only name, "
        "description and schema",
    },
    # --- Keys only 1.4 writes that the Rust SDK does not write yet.
    {
        "versus": PY14,
        "role": LLM,
        "key": "neatlogs.capture_fidelity",
        "what": "only-left",
        "why": "not written by the Rust SDK yet: it says how a provider integration captured "
        "the reply, and Rust has no provider integration (absent reads as unknown)",
    },
    {
        "versus": PY14,
        "role": LLM,
        "key": "neatlogs.llm.usage",
        "what": "only-left",
        "why": "not written by the Rust SDK yet: the provider's raw usage object; the Rust API "
        "takes usage typed (Usage), whose counts are in neatlogs.llm.token_count.*",
    },
    {
        "versus": PY14,
        "role": "llm-stream*",
        "key": "neatlogs.stream.chunk_count",
        "what": "only-left",
        "why": "not written by the Rust SDK yet: its API records the first token of a "
        "stream, not the chunks",
    },
    # --- Span status.
    {
        "role": DECORATED,
        "key": "<status>",
        "what": "structure",
        "left_value": "STATUS_CODE_OK",
        "right_value": "STATUS_CODE_UNSET",
        "why": "#[neatlogs::span] leaves a successful span UNSET, as OpenTelemetry asks of "
        "instrumentation (an Err or a panic is ERROR; set_ok() is the application's); "
        "the Python decorator sets OK",
    },
    # --- Content off. The Rust SDK's capture_content(false) (and
    # NEATLOGS_TRACE_CONTENT=false) drops every prompt, message, tool-call
    # argument, input and output. Python 1.3.7 reads the variable in its
    # decorator only (LLM messages still go out); 1.4 does not read it.
    {
        "case": "no-content",
        "role": LLM,
        "key": [
            "neatlogs.llm.input_messages.*",
            "neatlogs.llm.output_messages.*",
            "neatlogs.llm.tool_calls.*.arguments",
        ],
        "what": "only-left",
        "why": "content off drops LLM messages and tool-call arguments; the Python SDK "
        "sends them whatever NEATLOGS_TRACE_CONTENT says",
    },
    {
        "versus": PY14,
        "case": "no-content",
        "role": DECORATED,
        "key": CAPTURED_IO,
        "what": "only-left",
        "why": "content off drops captured inputs and outputs, as 1.3.7 does; 1.4 does not "
        "read NEATLOGS_TRACE_CONTENT",
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


def declared(versus, case, role, key, what, values=None):
    """The DELIBERATE entry that covers a difference, else None."""
    for entry in DELIBERATE:
        if (
            matches(versus, entry.get("versus", "*"))
            and matches(case, entry.get("case", "*"))
            and matches(role, entry.get("role", "*"))
            and matches(key, entry.get("key", "*"))
            and entry.get("what", what) == what
            and (
                values is None
                or (
                    matches(str(values[0]), entry.get("left_value", "*"))
                    and matches(str(values[1]), entry.get("right_value", "*"))
                )
            )
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
        self.per_case = defaultdict(lambda: [0, 0])  # case -> [undeclared, deliberate]
        self.used = set()

    def diff(self, case, role, key, what, text, values=None):
        entry = declared(self.left, case, role, key, what, values)
        if entry is not None:
            self.declared += 1
            self.per_case[case][1] += 1
            self.used.add(id(entry))
            print(f"    deliberate  {text}  ({entry['why']})")
        else:
            self.undeclared += 1
            self.per_case[case][0] += 1
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
                case,
                role,
                f"<{name}>",
                "structure",
                f"{name}: {left} {lv}, {right} {rv}",
                values=(lv, rv),
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

    unused = [
        e
        for e in DELIBERATE
        if id(e) not in report.used and matches(args.left_name, e.get("versus", "*"))
    ]
    for entry in unused:
        print(
            f"deliberate entry unused here: {entry.get('case', '*')} {entry['role']} "
            f"{entry['key']} ({entry['what']})"
        )
    for case in cases:
        undeclared, deliberate = report.per_case[case]
        print(
            f"summary {args.left_name} vs {args.right_name}, case {case}: "
            f"{undeclared} undeclared, {deliberate} deliberate"
        )
    print(
        f"{report.undeclared} undeclared differences, {report.declared} deliberate, "
        f"{len(cases)} cases compared"
    )
    sys.exit(1 if report.undeclared else 0)


if __name__ == "__main__":
    main()
