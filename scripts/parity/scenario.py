#!/usr/bin/env python3
"""The parity scenario, run with the official Neatlogs Python SDK.

One support turn, the same in every language this comparison covers:

    support_turn            WORKFLOW root (end-user, end-user metadata, session)
      answer_question       CHAIN
        LLM call 1          chat completion, not streamed; the reply asks for
                            the get_weather tool (one tool call)
        get_weather         TOOL (arguments city, units; returns a dict)
        LLM call 2          chat completion, streamed with include_usage; the
                            input carries the assistant's tool call and the
                            tool's answer
    neatlogs.trace.complete the completion marker

The LLM calls go through `neatlogs.wrap(openai.OpenAI(...))`, the SDK's own
OpenAI integration, against a fake OpenAI-compatible server started here on
127.0.0.1 (canned answers with cached and reasoning token details). Spans go
to the OTLP receiver at `--endpoint` with a fake API key. Nothing leaves the
loopback interface.

Cases (one process each, since `init()` is process-global):

    explicit      the root declares end_user_id, end_user_metadata and (where
                  the SDK has it) session_id; init() gets user_id and tags
    init-default  init(end_user_id=.., end_user_metadata=.., session_id=..)
                  and a root that declares nothing; an SDK whose init() no
                  longer takes these (1.4) gets them from neatlogs.identify()
    no-content    as explicit, with NEATLOGS_TRACE_CONTENT=false

The case is the resource's `neatlogs.workflow_name` (`parity-<case>`), so
compare.py can tell the traces apart in one dump.

    python scenario.py --endpoint http://127.0.0.1:4318 --case explicit
"""

import argparse
import inspect
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_KEY = "nl_fake_parity_key"
REQUEST_MODEL = "gpt-4o-mini"
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
OPERATOR = "op_dev"
TAGS = ["nightly", "eu"]

EXPLICIT = {
    "end_user_id": "eu_42",
    "end_user_metadata": {"plan": "pro", "region": "eu"},
    "session_id": "sess_7",
}
INIT_DEFAULT = {
    "end_user_id": "eu_default",
    "end_user_metadata": {"plan": "free"},
    "session_id": "sess_8",
}

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "units": {"type": "string", "enum": ["metric", "imperial"]},
                },
                "required": ["city"],
            },
        },
    }
]
TOOL_CALL = {
    "id": "call_w1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris", "units": "metric"}'},
}

# The canned answers. Usage carries the detail objects the SDKs read for
# cache-read and reasoning counts.
COMPLETION = {
    "id": "chatcmpl-parity-1",
    "object": "chat.completion",
    "created": 1700000000,
    "model": RESPONSE_MODEL,
    "system_fingerprint": "fp_parity",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Let me check the weather.",
                "tool_calls": [TOOL_CALL],
            },
            "finish_reason": "tool_calls",
            "logprobs": None,
        }
    ],
    "usage": {
        "prompt_tokens": 42,
        "completion_tokens": 17,
        "total_tokens": 59,
        "prompt_tokens_details": {"cached_tokens": 8, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 5, "audio_tokens": 0},
    },
}
STREAM_TEXT = ["It is ", "18 degrees ", "and sunny in Paris."]
STREAM_USAGE = {
    "prompt_tokens": 61,
    "completion_tokens": 23,
    "total_tokens": 84,
    "prompt_tokens_details": {"cached_tokens": 16, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 3, "audio_tokens": 0},
}


def stream_chunks():
    """The SSE chunks of the streamed answer: role, text pieces, the finish
    reason, then (include_usage) one chunk with empty choices and the usage."""
    base = {
        "id": "chatcmpl-parity-2",
        "object": "chat.completion.chunk",
        "created": 1700000001,
        "model": RESPONSE_MODEL,
        "system_fingerprint": "fp_parity",
    }
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}
    ]
    for piece in STREAM_TEXT:
        chunks.append({**base, "choices": [{"index": 0, "delta": {"content": piece}}]})
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    chunks.append({**base, "choices": [], "usage": STREAM_USAGE})
    return chunks


class FakeOpenAI(BaseHTTPRequestHandler):
    """POST /v1/chat/completions: the canned completion, or the canned stream
    when the request says stream: true. Requests are kept for the report."""

    requests = []

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        FakeOpenAI.requests.append(body)
        if not self.path.endswith("/chat/completions"):
            self.send_response(404)
            self.end_headers()
            return
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for chunk in stream_chunks():
                self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                self.wfile.flush()
                time.sleep(0.01)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True
            return
        payload = json.dumps(COMPLETION).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def start_fake_openai():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def accepts(func, name):
    """Whether `func` takes a keyword argument `name` (features differ by version)."""
    try:
        return name in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def run(endpoint, case):
    if case == "no-content":
        # Read by the 1.3.x decorator when it decorates, so set before that.
        os.environ["NEATLOGS_TRACE_CONTENT"] = "false"

    import neatlogs
    import openai

    fake = start_fake_openai()
    base_url = f"http://127.0.0.1:{fake.server_address[1]}/v1"

    init_kwargs = dict(
        api_key=API_KEY,
        endpoint=endpoint,
        workflow_name=f"parity-{case}",
        user_id=OPERATOR,
        tags=TAGS,
        flush_interval=0.2,
    )
    identity_ctx = None
    root_identity = {}
    notes = []
    if case == "init-default":
        if accepts(neatlogs.init, "end_user_id"):
            init_kwargs["end_user_id"] = INIT_DEFAULT["end_user_id"]
            init_kwargs["end_user_metadata"] = INIT_DEFAULT["end_user_metadata"]
            init_kwargs["session_id"] = INIT_DEFAULT["session_id"]
            notes.append("identity from init()")
        else:
            identity_ctx = neatlogs.identify(**INIT_DEFAULT)
            notes.append("init() takes no end-user; identity from neatlogs.identify()")
    else:
        root_identity = {
            "end_user_id": EXPLICIT["end_user_id"],
            "end_user_metadata": EXPLICIT["end_user_metadata"],
        }
        if accepts(neatlogs.span, "session_id"):
            root_identity["session_id"] = EXPLICIT["session_id"]
            notes.append("session on the root span")
        elif accepts(neatlogs.init, "session_id"):
            init_kwargs["session_id"] = EXPLICIT["session_id"]
            notes.append("session from init() (the root span takes none)")

    neatlogs.init(**init_kwargs)
    client = neatlogs.wrap(openai.OpenAI(api_key="sk-fake", base_url=base_url, max_retries=0))

    @neatlogs.span(kind="TOOL", tool_name="get_weather", description="Current weather for a city")
    def get_weather(city: str, units: str = "metric") -> dict:
        return {"city": city, "temp_c": 18, "sky": "sunny", "units": units}

    @neatlogs.span(kind="CHAIN", name="answer_question")
    def answer_question(question: str) -> str:
        messages = [
            {"role": "system", "content": "You are a weather assistant."},
            {"role": "user", "content": question},
        ]
        first = client.chat.completions.create(
            model=REQUEST_MODEL,
            messages=messages,
            tools=TOOLS,
            temperature=0.2,
            max_tokens=64,
        )
        call = first.choices[0].message.tool_calls[0]
        weather = get_weather(**json.loads(call.function.arguments))
        messages.append(
            {
                "role": "assistant",
                "content": first.choices[0].message.content,
                "tool_calls": [TOOL_CALL],
            }
        )
        messages.append(
            {
                "role": "tool",
                "tool_call_id": call.id,
                "name": "get_weather",
                "content": json.dumps(weather),
            }
        )
        stream = client.chat.completions.create(
            model=REQUEST_MODEL,
            messages=messages,
            temperature=0.2,
            stream=True,
            stream_options={"include_usage": True},
        )
        return "".join(
            chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices
        )

    @neatlogs.span(kind="WORKFLOW", name="support_turn", **root_identity)
    def support_turn(question: str, locale: str = "en") -> dict:
        answer = answer_question(question)
        return {"answer": answer, "locale": locale}

    if identity_ctx is not None:
        with identity_ctx:
            result = support_turn("What is the weather in Paris?")
    else:
        result = support_turn("What is the weather in Paris?")

    started = time.monotonic()
    ok = neatlogs.flush()
    flushed_s = time.monotonic() - started
    neatlogs.shutdown()
    shutdown_s = time.monotonic() - started - flushed_s
    fake.shutdown()
    print(
        json.dumps(
            {
                "neatlogs": getattr(neatlogs, "__version__", "?"),
                "openai": openai.__version__,
                "case": case,
                "notes": notes,
                "answer": result["answer"],
                "llm_requests": len(FakeOpenAI.requests),
                "flushed": ok,
                "flush_s": round(flushed_s, 2),
                "shutdown_s": round(shutdown_s, 2),
            }
        ),
        file=sys.stderr,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="OTLP receiver base URL on 127.0.0.1")
    parser.add_argument(
        "--case", choices=["explicit", "init-default", "no-content"], default="explicit"
    )
    args = parser.parse_args()
    if not args.endpoint.startswith(("http://127.0.0.1", "http://localhost")):
        parser.error("--endpoint must be a loopback URL")
    run(args.endpoint, args.case)


if __name__ == "__main__":
    main()
