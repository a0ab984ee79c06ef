#!/usr/bin/env python3
"""Read back from a running Arize Phoenix what neatlogs/examples/backends.rs sent it,
and check that Phoenix understood it: the project, the LLM spans (model,
token counts, messages), the end-user of every trace, the chat session, and
that the operator is never shown as a user.

    check.py mint-key --url URL --out FILE
        Create a Phoenix system API key with the admin secret (env
        PHOENIX_ADMIN_SECRET) and write it to FILE (mode 0600). The key is
        never printed.

    check.py check --url URL --sent SENT.json [--auth] [--timeout S]
        SENT.json is the example's stdout: what it recorded. The bearer token
        to read with is in env PHOENIX_CHECK_TOKEN (none when Phoenix runs
        without auth). With --auth, also checks that Phoenix rejects OTLP
        requests without a valid bearer token (401).

Prints one line per check with the figures it saw, then
`phoenix check: N passed, M failed`; exits 1 when a check failed, 2 when
Phoenix cannot be read at all.

Phoenix endpoints relied on (arize-phoenix 20.26):
  GET  /v1/projects                       {"data": [{"name", "id", ...}], "next_cursor"}
  GET  /v1/projects/{name}/spans          {"data": [{"name", "context": {"trace_id",
                                            "span_id"}, "span_kind", "parent_id",
                                            "attributes": {flattened keys}}], "next_cursor"}
  POST /graphql  getProjectByName(name).sessions(first)  {sessionId, numTraces,
                                            userId, tokenUsage, traces}
  POST /v1/traces                         OTLP/HTTP protobuf ingest (auth probe only)
  POST /v1/system/api_keys                mint a key (admin secret only)

Standard library only: run it with any Python 3.9+.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HTTP_TIMEOUT = 10
PAGE_LIMIT = 1000
MAX_PAGES = 20


class PhoenixError(Exception):
    """Phoenix could not be read (connection refused, 5xx, not JSON)."""


def request(url, method="GET", body=None, token=None, content_type=None):
    """(status, body bytes) of one HTTP request; HTTP errors are returned,
    not raised."""
    headers = {}
    if token:
        headers["Authorization"] = "Bearer " + token
    if content_type:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()
    except (urllib.error.URLError, OSError) as err:
        raise PhoenixError(f"{method} {url}: {err}") from err


def get_json(url, token, method="GET", payload=None):
    body = None if payload is None else json.dumps(payload).encode()
    status, raw = request(
        url, method, body, token, "application/json" if payload is not None else None
    )
    if status != 200:
        raise PhoenixError(f"{method} {url}: HTTP {status}: {raw[:300]!r}")
    try:
        return json.loads(raw)
    except ValueError as err:
        raise PhoenixError(f"{method} {url}: not JSON: {raw[:300]!r}") from err


def paged(url, token):
    """Every item of a paginated Phoenix REST list."""
    items, cursor = [], None
    for _ in range(MAX_PAGES):
        sep = "&" if "?" in url else "?"
        page_url = url if cursor is None else f"{url}{sep}cursor={urllib.parse.quote(cursor)}"
        page = get_json(page_url, token)
        items.extend(page.get("data") or [])
        cursor = page.get("next_cursor")
        if not cursor:
            return items
    raise PhoenixError(f"{url}: more than {MAX_PAGES} pages")


def graphql(base, token, query, variables):
    answer = get_json(base + "/graphql", token, "POST", {"query": query, "variables": variables})
    if answer.get("errors"):
        raise PhoenixError(f"GraphQL errors: {answer['errors']}")
    return answer["data"]


SESSIONS_QUERY = """
query ($name: String!) {
  getProjectByName(name: $name) {
    name
    sessions(first: 100) {
      edges { node {
        sessionId numTraces userId
        tokenUsage { prompt completion total }
        traces(first: 100) { edges { node { traceId } } }
      } }
    }
  }
}
"""


class Report:
    """Collects check results and prints one line per check."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, line):
        self.passed += 1
        print(f"  ok    {line}")

    def fail(self, line, details=()):
        self.failed += 1
        print(f"  FAIL  {line}")
        for detail in details:
            print(f"          {detail}")

    def check(self, good, line, details=()):
        if good:
            self.ok(line)
        else:
            self.fail(line, details)


def expected_llm_calls(sent):
    """[(trace index, call)] for every LLM span the example recorded."""
    return [
        (index, span)
        for index, trace in enumerate(sent["traces"])
        for span in trace["spans"]
        if span["kind"] == "LLM"
    ]


def messages(attributes, direction):
    """The messages Phoenix read from `llm.{direction}_messages.N.message.*`."""
    found = {}
    prefix = f"llm.{direction}_messages."
    for key, value in attributes.items():
        if not key.startswith(prefix):
            continue
        index, _, rest = key[len(prefix):].partition(".")
        if index.isdigit() and rest in ("message.role", "message.content"):
            found.setdefault(int(index), {})[rest.split(".")[1]] = value
    return [found[i] for i in sorted(found)]


def metadata(attributes):
    """The root's `metadata`: Phoenix parses the JSON string and flattens it
    into `metadata.<key>`; an unparsed string is read as JSON."""
    if "metadata" in attributes:
        raw = attributes["metadata"]
        try:
            return json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            return raw
    nested = {k[len("metadata."):]: v for k, v in attributes.items() if k.startswith("metadata.")}
    return nested or None


def similar_keys(attributes, words):
    """Attribute keys that mention any of `words`: what a span carries
    instead of the key a check looked for."""
    return sorted(k for k in attributes if any(w in k for w in words))


def check_auth(report, base, token):
    """Phoenix must refuse OTLP without a valid bearer token."""
    empty = b""  # an empty ExportTraceServiceRequest: valid protobuf, no spans
    ctype = "application/x-protobuf"
    anonymous, _ = request(base + "/v1/traces", "POST", empty, None, ctype)
    bogus, _ = request(base + "/v1/traces", "POST", empty, "not-a-phoenix-key", ctype)
    good, _ = request(base + "/v1/traces", "POST", empty, token, ctype)
    report.check(
        anonymous == 401 and bogus == 401 and good == 200,
        f"auth: POST /v1/traces without Authorization -> {anonymous}, "
        f"with a wrong bearer -> {bogus}, with the API key -> {good} (want 401, 401, 200)",
    )


def fetch_spans(base, token, project, want_llm, want_roots, deadline):
    """The project's spans, polled until the expected LLM spans and roots are
    in (or the monotonic clock reaches `deadline`), then until one more poll
    finds no new span, to let stragglers land."""
    url = f"{base}/v1/projects/{urllib.parse.quote(project, safe='')}/spans?limit={PAGE_LIMIT}"
    spans, settled = [], 0
    while True:
        previous = len(spans)
        spans = paged(url, token)
        llm = sum(1 for s in spans if s.get("span_kind") == "LLM")
        roots = sum(1 for s in spans if not s.get("parent_id"))
        if llm >= want_llm and roots >= want_roots:
            settled = settled + 1 if len(spans) == previous else 0
            if settled >= 1:
                return spans
        if time.monotonic() >= deadline:
            return spans
        time.sleep(0.5)


def run_check(args):
    base = args.url.rstrip("/")
    token = os.environ.get("PHOENIX_CHECK_TOKEN") or None
    with open(args.sent) as f:
        sent = json.load(f)
    report = Report()
    project = sent["workflow_name"]
    operator = sent["operator"]
    traces = sent["traces"]
    calls = expected_llm_calls(sent)
    sessions_sent = {}
    for index, trace in enumerate(traces):
        if trace.get("session_id"):
            sessions_sent.setdefault(trace["session_id"], []).append(index)

    print(
        f"phoenix: expecting project {project}, {len(traces)} traces, {len(calls)} LLM spans, "
        f"{len(sessions_sent)} session(s), operator {operator} under no user key"
    )
    report.check(
        bool(calls) and bool(sessions_sent),
        f"scenario: {len(calls)} LLM spans and {len(sessions_sent)} session(s) recorded",
        ["the example recorded nothing to check against"],
    )

    if args.auth:
        check_auth(report, base, token)

    # Phoenix creates a project with its first span, and ingests in the
    # background after answering the export: wait for it.
    deadline = time.monotonic() + args.timeout
    while True:
        projects = [p["name"] for p in paged(base + "/v1/projects", token)]
        if project in projects or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    read_from = project
    if project in projects:
        report.ok(f"project: {project} exists (projects: {', '.join(sorted(projects))})")
    else:
        fallback = "default" if "default" in projects else None
        report.fail(
            f"project: no project {project} (projects: {', '.join(sorted(projects)) or 'none'})",
            [
                "the resource attribute openinference.project.name names the project; "
                "without it Phoenix files spans under `default`"
                + ("; reading `default` instead" if fallback else "")
            ],
        )
        if fallback is None:
            return finish(report)
        read_from = fallback

    spans = fetch_spans(base, token, read_from, len(calls), len(traces), deadline)
    by_trace = {}
    for span in spans:
        by_trace.setdefault(span["context"]["trace_id"], []).append(span)
    print(f"phoenix: {len(spans)} spans in {len(by_trace)} traces in project {read_from}")
    if not spans:
        report.fail(
            f"spans: none arrived in project {read_from} within {args.timeout:g} s",
            [
                "the SDK sends to OTEL_EXPORTER_OTLP_ENDPOINT with OTEL_EXPORTER_OTLP_HEADERS; "
                "an SDK that reads neither writes its local file instead"
            ],
        )
        return finish(report)

    # LLM spans. Phoenix's span kind comes from openinference.span.kind;
    # match each recorded call by its user message, which is unique.
    llm_spans = [s for s in spans if s.get("span_kind") == "LLM"]
    report.check(
        len(llm_spans) == len(calls),
        f"LLM spans: {len(llm_spans)} with span_kind LLM (want {len(calls)})",
        [
            "span kinds seen: "
            + ", ".join(sorted({f"{s['name']}={s.get('span_kind')}" for s in spans}))
        ],
    )
    trace_of = {}  # recorded trace index -> Phoenix trace id
    tokens_seen, model_problems, token_problems, message_problems = [], [], [], []
    for index, call in calls:
        question = call["input_messages"][-1]["content"]
        span = next(
            (s for s in llm_spans if question in s["attributes"].values()),
            None,
        )
        if span is None:
            span = next(
                (
                    s
                    for s in spans
                    if s["name"] == call["name"]
                    and any(question == v for v in s["attributes"].values())
                ),
                None,
            )
        if span is None:
            message_problems.append(f"no span carries the user message {question!r}")
            continue
        trace_of[index] = span["context"]["trace_id"]
        attrs = span["attributes"]
        if attrs.get("llm.model_name") != call["model"]:
            model_problems.append(
                f"{question!r}: llm.model_name = {attrs.get('llm.model_name')!r}, want "
                f"{call['model']!r}; model keys present: {similar_keys(attrs, ['model'])}"
            )
        if attrs.get("llm.provider") != call["provider"]:
            model_problems.append(
                f"{question!r}: llm.provider = {attrs.get('llm.provider')!r}, want "
                f"{call['provider']!r}; provider keys present: {similar_keys(attrs, ['provider', 'system'])}"
            )
        got = tuple(attrs.get(f"llm.token_count.{k}") for k in ("prompt", "completion", "total"))
        want = (call["prompt_tokens"], call["completion_tokens"], call["total_tokens"])
        tokens_seen.append(f"{got[0]}+{got[1]}={got[2]}")
        if got != want:
            token_problems.append(
                f"{question!r}: llm.token_count.prompt/completion/total = {got}, want {want}; "
                f"token keys present: {similar_keys(attrs, ['token'])}"
            )
        for direction in ("input", "output"):
            seen = messages(attrs, direction)
            wanted = call[f"{direction}_messages"]
            if seen != wanted:
                message_problems.append(
                    f"{question!r}: llm.{direction}_messages = {seen}, want {wanted}; "
                    f"message keys present: {similar_keys(attrs, ['message'])[:6]}"
                )
    models = sorted({c["model"] for _, c in calls})
    report.check(
        not model_problems,
        f"LLM model: llm.model_name {', '.join(models)} and llm.provider on {len(calls)} spans",
        model_problems,
    )
    report.check(
        not token_problems,
        f"LLM tokens: prompt+completion=total {', '.join(tokens_seen) or 'none'}",
        token_problems,
    )
    counts = sorted(
        {f"{len(c['input_messages'])} in / {len(c['output_messages'])} out" for _, c in calls}
    )
    report.check(
        not message_problems,
        f"LLM messages: role and content of {', '.join(counts)} per span",
        message_problems,
    )

    # Roots: user.id is the trace's end-user; session.id and metadata as sent.
    users_seen, user_problems, session_problems, metadata_problems = [], [], [], []
    for index, trace in enumerate(traces):
        trace_id = trace_of.get(index)
        roots = [s for s in by_trace.get(trace_id, []) if not s.get("parent_id")]
        if len(roots) != 1:
            user_problems.append(
                f"trace {index} ({trace['end_user_id']}): {len(roots)} root spans found"
            )
            continue
        attrs = roots[0]["attributes"]
        users_seen.append(str(attrs.get("user.id")))
        if attrs.get("user.id") != trace["end_user_id"]:
            user_problems.append(
                f"trace {index}: root {roots[0]['name']!r} user.id = {attrs.get('user.id')!r}, "
                f"want {trace['end_user_id']!r}; user keys present: "
                + ", ".join(f"{k}={attrs[k]!r}" for k in similar_keys(attrs, ["user"]))
            )
        if attrs.get("session.id") != trace.get("session_id"):
            session_problems.append(
                f"trace {index}: root session.id = {attrs.get('session.id')!r}, want "
                f"{trace.get('session_id')!r}; session keys present: {similar_keys(attrs, ['session'])}"
            )
        if metadata(attrs) != trace.get("end_user_metadata"):
            metadata_problems.append(
                f"trace {index}: root metadata = {metadata(attrs)!r}, want "
                f"{trace.get('end_user_metadata')!r}; metadata keys present: "
                f"{similar_keys(attrs, ['metadata'])}"
            )
    tally = {}
    for user in users_seen:
        tally[user] = tally.get(user, 0) + 1
    report.check(
        not user_problems,
        "root user.id: " + ", ".join(f"{u} x{n}" for u, n in sorted(tally.items())),
        user_problems,
    )
    report.check(
        not session_problems,
        f"root session.id: as sent on {len(traces)} roots",
        session_problems,
    )
    report.check(
        not metadata_problems,
        f"root metadata: as sent on {len(traces)} roots",
        metadata_problems,
    )

    # Sessions, as Phoenix's sessions page shows them.
    data = graphql(base, token, SESSIONS_QUERY, {"name": read_from})
    nodes = [
        e["node"] for e in ((data.get("getProjectByName") or {}).get("sessions") or {}).get("edges", [])
    ]
    by_session = {n["sessionId"]: n for n in nodes}
    for session_id, indices in sorted(sessions_sent.items()):
        node = by_session.get(session_id)
        want_traces = {trace_of.get(i) for i in indices}
        want_users = {traces[i]["end_user_id"] for i in indices}
        want_tokens = sum(c["total_tokens"] for i, c in calls if i in indices)
        if node is None:
            report.fail(
                f"session {session_id}: not in Phoenix's sessions "
                f"(sessions: {sorted(by_session) or 'none'})",
                ["Phoenix groups traces into sessions by the span attribute session.id"],
            )
            continue
        got_traces = {e["node"]["traceId"] for e in node["traces"]["edges"]}
        total = node["tokenUsage"]["total"]
        report.check(
            node["numTraces"] == len(indices)
            and got_traces == want_traces
            and node["userId"] in want_users
            and total == want_tokens,
            f"session {session_id}: {node['numTraces']} traces (want {len(indices)}), "
            f"user {node['userId']}, tokens {total:g} (want {want_tokens})",
            [f"trace ids: {sorted(got_traces)}, want {sorted(t for t in want_traces if t)}"],
        )
    extra = sorted(set(by_session) - set(sessions_sent))
    report.check(
        not extra,
        f"sessions: {len(by_session)} in Phoenix, no session that was not sent",
        [f"unexpected sessions: {extra}"],
    )

    # The operator is never shown as a user.
    leaks, elsewhere = [], []
    for span in spans:
        for key, value in span["attributes"].items():
            if operator in str(value):
                (leaks if "user" in key.lower() else elsewhere).append(
                    f"{span['name']} {key}={value!r}"
                )
    report.check(
        not leaks,
        f"operator: {operator} under no attribute key containing `user` "
        f"({sum(len(s['attributes']) for s in spans)} attributes of {len(spans)} spans walked)",
        leaks,
    )
    if elsewhere:
        print(f"  info  operator appears under other keys: {elsewhere}")
    return finish(report)


def finish(report):
    print(f"phoenix check: {report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


def run_mint(args):
    secret = os.environ.get("PHOENIX_ADMIN_SECRET")
    if not secret:
        print("check.py mint-key: PHOENIX_ADMIN_SECRET is not set", file=sys.stderr)
        return 2
    status, raw = request(
        args.url.rstrip("/") + "/v1/system/api_keys",
        "POST",
        json.dumps({"data": {"name": "backends-check"}}).encode(),
        secret,
        "application/json",
    )
    if status != 201:
        print(f"check.py mint-key: HTTP {status}: {raw[:300]!r}", file=sys.stderr)
        return 1
    answer = json.loads(raw)
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(answer["data"]["key"])
    print(f"phoenix: system API key {answer['data']['name']} created")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    mint = sub.add_parser("mint-key")
    mint.add_argument("--url", required=True)
    mint.add_argument("--out", required=True)
    check = sub.add_parser("check")
    check.add_argument("--url", required=True)
    check.add_argument("--sent", required=True)
    check.add_argument("--auth", action="store_true")
    check.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    try:
        return run_mint(args) if args.command == "mint-key" else run_check(args)
    except PhoenixError as err:
        print(f"check.py: cannot read Phoenix: {err}", file=sys.stderr)
        print("phoenix check: could not run")
        return 2


if __name__ == "__main__":
    sys.exit(main())
