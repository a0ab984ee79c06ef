#!/usr/bin/env python3
"""A small OTLP/HTTP trace receiver that writes every span it gets as one JSON line.

Listens on 127.0.0.1 only. Accepts `POST /v1/traces` with an
`ExportTraceServiceRequest` body, protobuf (`application/x-protobuf`, the
default) or the OTLP JSON mapping (`application/json`), optionally
`Content-Encoding: gzip`. Decoding uses the official `opentelemetry-proto`
package; JSON goes through `google.protobuf.json_format.Parse` without
`ignore_unknown_fields`, so a field the official schema does not know is a 400.

Each span becomes one line of `--out`:

    {"trace_id", "span_id", "parent_span_id", "name", "kind", "status",
     "scope": {"name", "version"}, "resource": {key: typed}, "attributes":
     {key: typed}, "events": [{"name", "attributes"}], "flags",
     "start_time_unix_nano", "end_time_unix_nano", "content_type"}

where a typed value is `{"type": "string"|"int"|"double"|"bool"|"array"|
"kvlist"|"bytes"|"empty", "value": ...}` (an array holds typed values), so the
comparison can tell `"3"` from `3`.

It stops by itself: after `--timeout` seconds (default 60), after `--idle`
seconds without a request once it has received one (off by default), or on
`POST /shutdown`. `--port 0` picks a free port; the chosen port is written to
`--port-file` (and printed) before the first request is accepted.

    python3 receiver.py --out spans.jsonl --port-file port.txt --timeout 60
"""

import argparse
import base64
import gzip
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

MAX_BODY = 32 * 1024 * 1024
ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def typed(any_value):
    """An OTLP AnyValue as {"type", "value"}, keeping the wire type."""
    which = any_value.WhichOneof("value")
    if which == "string_value":
        return {"type": "string", "value": any_value.string_value}
    if which == "int_value":
        return {"type": "int", "value": any_value.int_value}
    if which == "double_value":
        return {"type": "double", "value": any_value.double_value}
    if which == "bool_value":
        return {"type": "bool", "value": any_value.bool_value}
    if which == "array_value":
        return {"type": "array", "value": [typed(v) for v in any_value.array_value.values]}
    if which == "kvlist_value":
        return {"type": "kvlist", "value": attributes(any_value.kvlist_value.values)}
    if which == "bytes_value":
        return {"type": "bytes", "value": any_value.bytes_value.hex()}
    return {"type": "empty", "value": None}


def attributes(key_values):
    """Repeated KeyValue as a dict; a key sent twice keeps both, marked."""
    out = {}
    for kv in key_values:
        value = typed(kv.value)
        if kv.key in out:
            dup = out[kv.key]
            if not dup.get("duplicate"):
                dup = {"type": "duplicate", "value": [dup], "duplicate": True}
            dup["value"].append(value)
            out[kv.key] = dup
        else:
            out[kv.key] = value
    return out


def hex_ids_to_base64(node):
    """OTLP JSON writes ids as hex; the generic protobuf JSON mapping reads
    bytes as base64. Rewrite the id fields so Parse yields the right bytes."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ID_FIELDS and isinstance(value, str):
                try:
                    node[key] = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError:
                    pass
            else:
                hex_ids_to_base64(value)
    elif isinstance(node, list):
        for item in node:
            hex_ids_to_base64(item)


def decode(body, content_type):
    """The request message from a (gunzipped) body."""
    request = ExportTraceServiceRequest()
    if content_type.startswith("application/json"):
        doc = json.loads(body)
        hex_ids_to_base64(doc)
        json_format.ParseDict(doc, request)
    else:
        request.ParseFromString(body)
    return request


def span_lines(request, content_type):
    """One dict per span of the request."""
    for rs in request.resource_spans:
        resource = attributes(rs.resource.attributes)
        for ss in rs.scope_spans:
            scope = {"name": ss.scope.name, "version": ss.scope.version}
            for span in ss.spans:
                yield {
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex() or None,
                    "name": span.name,
                    "kind": Span.SpanKind.Name(span.kind),
                    "status": {
                        "code": Status.StatusCode.Name(span.status.code),
                        "message": span.status.message,
                    },
                    "flags": span.flags,
                    "start_time_unix_nano": span.start_time_unix_nano,
                    "end_time_unix_nano": span.end_time_unix_nano,
                    "scope": scope,
                    "resource": resource,
                    "attributes": attributes(span.attributes),
                    "events": [
                        {"name": e.name, "attributes": attributes(e.attributes)}
                        for e in span.events
                    ],
                    "content_type": content_type,
                }


class Receiver(ThreadingHTTPServer):
    """The server plus its output file and stop bookkeeping."""

    daemon_threads = True

    def __init__(self, address, out, verbose):
        super().__init__(address, Handler)
        self.out = out
        self.verbose = verbose
        self.lock = threading.Lock()
        self.requests = 0
        self.spans = 0
        self.last_request = None
        self.stop = threading.Event()


class Handler(BaseHTTPRequestHandler):
    """POST /v1/traces and POST /shutdown."""

    server: Receiver

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("receiver: " + (fmt % args) + "\n")

    def answer(self, code, body=b"", content_type="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/health":
            self.answer(200, b"ok")
        else:
            self.answer(404, b"not found")

    def do_POST(self):
        if self.path == "/shutdown":
            self.answer(200, b"bye")
            self.server.stop.set()
            return
        if self.path.split("?")[0] != "/v1/traces":
            self.answer(404, b"not found")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY:
            self.answer(400, b"missing or oversized body")
            return
        body = self.rfile.read(length)
        encoding = (self.headers.get("Content-Encoding") or "").strip().lower()
        content_type = (self.headers.get("Content-Type") or "application/x-protobuf").lower()
        try:
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding not in ("", "identity"):
                self.answer(415, b"unsupported content-encoding")
                return
            request = decode(body, content_type)
        except Exception as err:  # any decode failure is the sender's fault
            sys.stderr.write(f"receiver: undecodable request: {err}\n")
            self.answer(400, str(err).encode())
            return
        lines = [json.dumps(s, sort_keys=True) for s in span_lines(request, content_type)]
        with self.server.lock:
            for line in lines:
                self.server.out.write(line + "\n")
            self.server.out.flush()
            self.server.requests += 1
            self.server.spans += len(lines)
            self.server.last_request = time.monotonic()
        if content_type.startswith("application/json"):
            self.answer(200, b"{}", "application/json")
        else:
            self.answer(
                200,
                ExportTraceServiceResponse().SerializeToString(),
                "application/x-protobuf",
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="JSON-lines file to write (truncated)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--port-file", help="write the chosen port here once listening")
    parser.add_argument("--timeout", type=float, default=60.0, help="stop after this many seconds")
    parser.add_argument(
        "--idle",
        type=float,
        default=0.0,
        help="stop this many seconds after the last request (0: off)",
    )
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()

    with open(args.out, "w", encoding="utf-8") as out:
        server = Receiver(("127.0.0.1", args.port), out, args.verbose)
        port = server.server_address[1]
        if args.port_file:
            tmp = args.port_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(str(port))
            os.replace(tmp, args.port_file)
        print(f"receiver: listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        deadline = time.monotonic() + args.timeout
        reason = "timeout"
        while time.monotonic() < deadline:
            if server.stop.wait(0.1):
                reason = "shutdown request"
                break
            last = server.last_request
            if args.idle > 0 and last is not None and time.monotonic() - last > args.idle:
                reason = "idle"
                break
        server.shutdown()
        server.server_close()
    print(
        f"receiver: stopped ({reason}): {server.requests} requests, {server.spans} spans",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
