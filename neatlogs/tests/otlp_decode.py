#!/usr/bin/env python3
"""Decode the SDK's OTLP output with the official OpenTelemetry Python types.

Reads a samples directory written by the `export_wire` tests (see
.ci/otlp-check.sh):

  request-N.pb    protobuf bodies a receiver got (after gunzip)
  request-N.json  OTLP JSON bodies a receiver got (after gunzip)
  traces.jsonl    the local file exporter's lines

Protobuf is parsed with `ExportTraceServiceRequest.FromString`; JSON with
`google.protobuf.json_format.Parse` *without* `ignore_unknown_fields`, so any
field the official schema does not know fails the check. Then the wire
contract (DESIGN.md) is asserted on the decoded messages.

OTLP JSON writes trace and span ids as hex, where the generic protobuf JSON
mapping expects base64; `Parse` therefore reads the hex text as base64. The
ids are checked on the raw JSON text (lowercase hex, right length) and shown
to round-trip through the parsed message, and parent links are compared
within one encoding, where they are consistent.
"""

import base64
import glob
import json
import os
import re
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

MARKER = "neatlogs.trace.complete"
ROOT_ONLY = [
    "neatlogs.end_user.id",
    "enduser.id",
    "neatlogs.end_user.metadata",
    "neatlogs.session.id",
    "tag.tags",
]


def attrs(kvs):
    out = {}
    for kv in kvs:
        assert kv.key not in out, f"duplicate attribute {kv.key}"
        which = kv.value.WhichOneof("value")
        if which == "array_value":
            out[kv.key] = [v.string_value for v in kv.value.array_value.values]
        else:
            out[kv.key] = getattr(kv.value, which) if which else None
    return out


def check(requests, source):
    """The wire table on one scenario run (the `record_scenario` of
    neatlogs/tests/export_wire.rs), whatever the encoding."""
    assert requests, f"{source}: no requests"
    spans = []
    for req in requests:
        assert len(req.resource_spans) == 1, source
        rs = req.resource_spans[0]
        res = attrs(rs.resource.attributes)
        assert res["service.name"] == "support-chat", res
        assert res["neatlogs.workflow_name"] == "support-chat", res
        assert res["telemetry.sdk.name"] == "neatlogs", res
        assert res["telemetry.sdk.language"] == "rust", res
        assert re.fullmatch(r"\d+\.\d+\.\d+.*", res["telemetry.sdk.version"]), res
        assert res["user.id"] == "op_dev", res
        assert res["session.id"] == "s_proc", res
        assert res["neatlogs.tags"] == "nightly,eu", res
        for key in ROOT_ONLY:
            assert key not in res, f"{source}: resource carries {key}"
        for ss in rs.scope_spans:
            assert ss.scope.name == "neatlogs"
            spans.extend(ss.spans)

    assert len(spans) == 12, f"{source}: {[s.name for s in spans]}"
    app = {s.name: s for s in spans if s.name != MARKER}
    markers = [s for s in spans if s.name == MARKER]
    assert len(app) == 8 and len(markers) == 4, source
    assert len({s.span_id for s in spans}) == 12, f"{source}: duplicate span ids"

    for s in app.values():
        a = attrs(s.attributes)
        assert a["neatlogs.span.kind"] == a["openinference.span.kind"].lower(), a
        assert a["neatlogs.internal"] is True, a
        assert "user.id" not in a, a
        assert s.kind == Span.SPAN_KIND_INTERNAL
        assert s.end_time_unix_nano >= s.start_time_unix_nano > 0

    chat = attrs(app["chat"].attributes)
    assert chat["openinference.span.kind"] == "WORKFLOW"
    assert chat["neatlogs.end_user.id"] == "u_812", chat
    assert chat["enduser.id"] == "u_812", chat
    assert json.loads(chat["neatlogs.end_user.metadata"]) == {"plan": "pro", "region": "eu"}
    assert chat["neatlogs.session.id"] == "s_1"
    assert chat["tag.tags"] == ["vip", "beta"], chat
    assert app["chat"].parent_span_id == b""
    for name in ["planner", "completion", "search", "docs"]:
        a = attrs(app[name].attributes)
        for key in ROOT_ONLY:
            assert key not in a, f"{source}: {key} on nested {name}"
    assert "u_nested" not in str(spans) and "s_nested" not in str(spans)

    assert app["planner"].parent_span_id == app["chat"].span_id
    assert app["completion"].parent_span_id == app["planner"].span_id
    assert app["search"].parent_span_id == app["chat"].span_id
    assert app["completion"].trace_id == app["chat"].trace_id

    assert app["search"].status.code == Status.STATUS_CODE_ERROR
    assert app["search"].status.message == "tool failed: index offline"
    assert app["completion"].status.code == Status.STATUS_CODE_UNSET

    llm = attrs(app["completion"].attributes)
    assert llm["openinference.span.kind"] == "LLM"
    assert llm["neatlogs.llm.model_name"] == "gpt-4o"
    assert llm["neatlogs.llm.token_count.prompt"] == 120
    assert llm["neatlogs.llm.token_count.completion"] == 48
    assert llm["input.value"] == "What is the refund policy?"
    assert llm["output.value"] == "30 days."

    nightly = attrs(app["nightly"].attributes)
    assert nightly["neatlogs.end_user.id"] == "u_default"
    assert json.loads(nightly["neatlogs.end_user.metadata"]) == {"plan": "free"}
    assert nightly["neatlogs.session.id"] == "s_proc"

    standalone = attrs(app["standalone"].attributes)
    assert standalone["openinference.span.kind"] == "LLM"
    assert standalone["neatlogs.end_user.id"] == "u_default"

    bad = attrs(app["bad"].attributes)
    assert "neatlogs.end_user.id" not in bad and "enduser.id" not in bad, bad

    for root in ["chat", "nightly", "standalone", "bad"]:
        mine = [m for m in markers if m.parent_span_id == app[root].span_id]
        assert len(mine) == 1, f"{source}: markers for {root}: {len(mine)}"
        m = mine[0]
        assert m.trace_id == app[root].trace_id
        a = attrs(m.attributes)
        assert a["neatlogs.trace.complete"] is True, a
        assert a["neatlogs.span.kind"] == "Neatlogs.INTERNAL", a
    return len(spans)


def parse_json(text, source):
    """Strict parse, plus the OTLP-specific checks on the raw text."""
    msg = json_format.Parse(text, ExportTraceServiceRequest())  # no ignore_unknown_fields
    raw = json.loads(text)
    raw_spans = [
        s
        for rs in raw["resourceSpans"]
        for ss in rs["scopeSpans"]
        for s in ss["spans"]
    ]
    parsed = [s for rs in msg.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert len(raw_spans) == len(parsed), source
    for r, p in zip(raw_spans, parsed):
        assert re.fullmatch(r"[0-9a-f]{32}", r["traceId"]), r["traceId"]
        assert re.fullmatch(r"[0-9a-f]{16}", r["spanId"]), r["spanId"]
        # The generic parser read the hex as base64: it round-trips.
        assert base64.b64encode(p.trace_id).decode() == r["traceId"]
        assert base64.b64encode(p.span_id).decode() == r["spanId"]
        assert isinstance(r["startTimeUnixNano"], str), "int64 as a string"
        assert isinstance(r["kind"], int), "enums as integers"
    return msg


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "target/otlp-samples"
    passed = 0

    # The parser really is strict: an unknown field is an error.
    try:
        json_format.Parse('{"resourceSpans": [], "bogus": 1}', ExportTraceServiceRequest())
    except json_format.ParseError:
        passed += 1
    else:
        raise AssertionError("json_format.Parse accepted an unknown field")

    pb_files = sorted(glob.glob(os.path.join(directory, "request-*.pb")))
    assert pb_files, f"no protobuf samples in {directory}"
    pb = [ExportTraceServiceRequest.FromString(open(f, "rb").read()) for f in pb_files]
    n = check(pb, "protobuf")
    print(f"protobuf: {len(pb_files)} payload(s), {n} spans: wire table ok")
    passed += 1

    json_files = sorted(glob.glob(os.path.join(directory, "request-*.json")))
    assert json_files, f"no JSON samples in {directory}"
    js = [parse_json(open(f).read(), f) for f in json_files]
    n = check(js, "http/json")
    print(f"http/json: {len(json_files)} payload(s), {n} spans: strict parse + wire table ok")
    passed += 1

    jsonl = os.path.join(directory, "traces.jsonl")
    lines = [l for l in open(jsonl).read().splitlines() if l.strip()]
    assert lines, f"{jsonl} is empty"
    jl = [parse_json(line, f"{jsonl}:{i + 1}") for i, line in enumerate(lines)]
    n = check(jl, "traces.jsonl")
    print(f"traces.jsonl: {len(lines)} line(s), {n} spans: strict parse + wire table ok")
    passed += 1

    print(f"otlp_decode: {passed} passed, 0 failed")


if __name__ == "__main__":
    main()
