//! Bad input and safety: malformed bodies are 400 with the reason and store
//! nothing, oversized bodies and gzip and zstd bombs are 413, the API key is
//! enforced, and a public address without a key refuses to start.

mod common;

use std::io::Write;
use std::process::Command;

use common::*;
use neatlogs_cli::store::Store;

fn protobuf_headers() -> Vec<(&'static str, &'static str)> {
    vec![("content-type", "application/x-protobuf")]
}

fn stored_spans(server: &TestServer) -> i64 {
    let store = Store::open(&server.db()).expect("open store");
    store
        .connection()
        .query_row("SELECT COUNT(*) FROM spans", [], |r| r.get(0))
        .expect("count")
}

fn one_trace(n: u64) -> Vec<u8> {
    let root = span(
        n,
        1,
        None,
        "chat",
        "WORKFLOW",
        0,
        10,
        identity("u_1", None, None),
    );
    protobuf(&request(sdk_resource("wf", None), vec![root]))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[test]
fn malformed_protobuf_is_400_with_the_reason() {
    let server = TestServer::start(None);
    let (status, body) = post(
        &server.url("/v1/traces"),
        &protobuf_headers(),
        b"\xff\xff\xff\xff not protobuf",
    );
    assert_eq!(status, 400);
    assert!(body.contains("invalid OTLP protobuf"), "{body}");
    assert_eq!(stored_spans(&server), 0);
}

#[test]
fn malformed_json_is_400_with_the_reason() {
    let server = TestServer::start(None);
    let (status, body) = post(
        &server.url("/v1/traces"),
        &[("content-type", "application/json")],
        br#"{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}"#,
    );
    assert_eq!(status, 400);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("invalid OTLP JSON"),
        "{body}"
    );
    assert_eq!(stored_spans(&server), 0);
}

#[test]
fn one_bad_span_rejects_the_whole_request() {
    let server = TestServer::start(None);
    let good = span(
        1,
        1,
        None,
        "chat",
        "WORKFLOW",
        0,
        10,
        identity("u_1", None, None),
    );
    let mut bad = span(1, 2, Some(1), "child", "LLM", 1, 5, vec![]);
    bad.trace_id = vec![1, 2, 3];
    let body = protobuf(&request(sdk_resource("wf", None), vec![good, bad]));
    let (status, text) = post(&server.url("/v1/traces"), &protobuf_headers(), &body);
    assert_eq!(status, 400);
    assert!(
        text.contains("resourceSpans[0].scopeSpans[0].spans[1]: trace id is 3 bytes, expected 16"),
        "{text}"
    );
    assert_eq!(stored_spans(&server), 0, "nothing partially stored");

    // The same request without the bad span goes through.
    let (status, _) = post(
        &server.url("/v1/traces"),
        &protobuf_headers(),
        &one_trace(1),
    );
    assert_eq!(status, 200);
    assert_eq!(stored_spans(&server), 1);
}

#[test]
fn body_over_20_mib_is_413() {
    let server = TestServer::start(None);
    let body = vec![0u8; 20 * 1024 * 1024 + 1];
    let (status, _) = post(&server.url("/v1/traces"), &protobuf_headers(), &body);
    assert_eq!(status, 413);
    assert_eq!(stored_spans(&server), 0);
}

#[test]
fn gzip_bomb_is_413() {
    let server = TestServer::start(None);
    // ~21 MiB of zeros compresses to ~21 KiB.
    let bomb = gzip(&vec![0u8; 21 * 1024 * 1024]);
    assert!(bomb.len() < 64 * 1024);
    let (status, text) = post(
        &server.url("/v1/traces"),
        &[
            ("content-type", "application/x-protobuf"),
            ("content-encoding", "gzip"),
        ],
        &bomb,
    );
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("expands past 20 MiB"), "{text}");
}

#[test]
fn broken_gzip_is_400_and_gzip_protobuf_works() {
    let server = TestServer::start(None);
    let headers = [
        ("content-type", "application/x-protobuf"),
        ("content-encoding", "gzip"),
    ];
    let (status, text) = post(&server.url("/v1/traces"), &headers, b"not gzip at all");
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("not valid gzip"), "{text}");
    let (status, _) = post(&server.url("/v1/traces"), &headers, &gzip(&one_trace(7)));
    assert_eq!(status, 200);
    assert_eq!(stored_spans(&server), 1);
}

/// zstd at its strongest level, as a bomb would be made.
fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(data, 19).unwrap()
}

#[test]
fn zstd_bomb_is_413_on_traces_and_metrics() {
    let server = TestServer::start(None);
    // ~21 MiB of zeros compress to under a kilobyte.
    let bomb = zstd(&vec![0u8; 21 * 1024 * 1024]);
    assert!(bomb.len() < 4 * 1024, "{}", bomb.len());
    for path in ["/v1/traces", "/v1/metrics"] {
        let (status, text) = post(
            &server.url(path),
            &[
                ("content-type", "application/x-protobuf"),
                ("content-encoding", "zstd"),
            ],
            &bomb,
        );
        assert_eq!(status, 413, "{path}: {text}");
        assert!(text.contains("zstd body expands past 20 MiB"), "{text}");
    }
    assert_eq!(stored_spans(&server), 0);
}

#[test]
fn zstd_with_a_window_past_32_mib_is_400_before_decoding() {
    let server = TestServer::start(None);
    // A frame header asking for a 36 MiB window (no content size), then
    // an empty last raw block.
    let frame = [
        0x28,
        0xb5,
        0x2f,
        0xfd,
        0x00,
        (15 << 3) | 1,
        0x01,
        0x00,
        0x00,
    ];
    let (status, text) = post(
        &server.url("/v1/traces"),
        &[
            ("content-type", "application/x-protobuf"),
            ("content-encoding", "zstd"),
        ],
        &frame,
    );
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("asks for a 36 MiB window"), "{text}");
}

#[test]
fn broken_zstd_is_400_and_zstd_protobuf_works_on_traces_and_metrics() {
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use prost::Message;

    let server = TestServer::start(None);
    let headers = [
        ("content-type", "application/x-protobuf"),
        ("content-encoding", "zstd"),
    ];
    let (status, text) = post(&server.url("/v1/traces"), &headers, b"not zstd at all");
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("not valid zstd"), "{text}");
    let (status, _) = post(&server.url("/v1/traces"), &headers, &zstd(&one_trace(7)));
    assert_eq!(status, 200);
    assert_eq!(stored_spans(&server), 1);
    let metrics = ExportMetricsServiceRequest::default().encode_to_vec();
    let (status, text) = post(&server.url("/v1/metrics"), &headers, &zstd(&metrics));
    assert_eq!(status, 200, "{text}");
}

#[test]
fn unsupported_content_type_is_415() {
    let server = TestServer::start(None);
    let (status, text) = post(
        &server.url("/v1/traces"),
        &[("content-type", "text/plain")],
        b"hello",
    );
    assert_eq!(status, 415);
    assert!(text.contains("application/x-protobuf"), "{text}");
}

#[test]
fn api_key_is_required_on_ingest_and_api() {
    let server = TestServer::start(Some("s3cret-key"));
    let url = server.url("/v1/traces");
    let body = one_trace(1);

    let (status, text) = post(&url, &protobuf_headers(), &body);
    assert_eq!(status, 401);
    assert!(!text.contains("s3cret"), "the key is never echoed");
    let (status, _) = post(
        &url,
        &[
            ("content-type", "application/x-protobuf"),
            ("x-api-key", "wrong"),
        ],
        &body,
    );
    assert_eq!(status, 401);
    let (status, _) = post(
        &url,
        &[
            ("content-type", "application/x-protobuf"),
            ("authorization", "Bearer s3cret-keyX"),
        ],
        &body,
    );
    assert_eq!(status, 401);
    assert_eq!(stored_spans(&server), 0);

    let (status, _) = post(
        &url,
        &[
            ("content-type", "application/x-protobuf"),
            ("x-api-key", "s3cret-key"),
        ],
        &body,
    );
    assert_eq!(status, 200);
    let (status, _) = post(
        &url,
        &[
            ("content-type", "application/x-protobuf"),
            ("authorization", "Bearer s3cret-key"),
        ],
        &one_trace(2),
    );
    assert_eq!(status, 200);

    assert_eq!(get(&server.url("/api/traces"), &[]).0, 401);
    assert_eq!(get(&server.url("/api/end-users"), &[]).0, 401);
    assert_eq!(get(&server.url("/api/sessions"), &[]).0, 401);
    assert_eq!(
        get(&server.url(&format!("/api/traces/{}", trace_hex(1))), &[]).0,
        401
    );
    let (status, body) = get(&server.url("/api/traces"), &[("x-api-key", "s3cret-key")]);
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["traces"].as_array().unwrap().len(), 2);
    // Health needs no key.
    assert_eq!(get(&server.url("/healthz"), &[]).0, 200);
}

#[test]
fn api_reports_filter_errors_with_the_column() {
    let server = TestServer::start(None);
    let (status, body) = get(
        &server.url("/api/traces?filter=end_user%20strats%20with%20u_8"),
        &[],
    );
    assert_eq!(status, 400);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["column"], 10);
    assert!(body["error"]
        .as_str()
        .unwrap()
        .starts_with("expected an operator after `end_user` at column 10: is, is not, contains"));
    let (status, _) = get(
        &server.url("/api/traces/ffffffffffffffffffffffffffffffff"),
        &[],
    );
    assert_eq!(status, 404);
    let (status, body) = get(&server.url("/api/end-users?sort=loudest"), &[]);
    assert_eq!(status, 400);
    assert!(body.contains("unknown sort `loudest`"), "{body}");
}

#[test]
fn browser_simple_trace_is_accepted_and_follows_the_root_rule() {
    let server = TestServer::start(Some("k"));
    let body = br#"{
        "name": "chat", "kind": "workflow", "project": "web-chat",
        "start": "2026-05-01T12:00:00Z", "end": "2026-05-01T12:00:01.500Z",
        "attributes": {
            "neatlogs.end_user.id": "u_web",
            "neatlogs.end_user.metadata": "{\"plan\":\"pro\"}",
            "neatlogs.session.id": "s_web"
        },
        "children": [
            {"name": "gpt-4o", "kind": "llm", "model": "gpt-4o", "duration_ms": 800,
             "tokens": {"prompt": 12, "completion": 30, "total": 42},
             "attributes": {"neatlogs.end_user.id": "u_child"}}
        ]
    }"#;
    let (status, text) = post(
        &server.url("/v1/trace"),
        &[
            ("content-type", "application/json"),
            ("authorization", "Bearer k"),
        ],
        body,
    );
    assert_eq!(status, 200, "{text}");
    let trace_id = serde_json::from_str::<serde_json::Value>(&text).unwrap()["trace_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, detail) = get(
        &server.url(&format!("/api/traces/{trace_id}")),
        &[("x-api-key", "k")],
    );
    assert_eq!(status, 200);
    let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["trace"]["end_user"], "u_web");
    assert_eq!(detail["trace"]["workflow"], "web-chat");
    assert_eq!(detail["trace"]["session"], "s_web");
    assert_eq!(detail["trace"]["duration_ms"], 1500.0);
    assert_eq!(detail["trace"]["input_tokens"], 12);
    assert_eq!(detail["spans"].as_array().unwrap().len(), 2);

    let (status, text) = post(
        &server.url("/v1/trace"),
        &[("content-type", "application/json"), ("x-api-key", "k")],
        br#"{"name": 5}"#,
    );
    assert_eq!(status, 400);
    assert!(text.contains("invalid simple-trace JSON"), "{text}");
}

#[test]
fn non_loopback_without_key_refuses_to_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_neatlogs"))
        .args(["serve", "--listen", "0.0.0.0:0", "--db"])
        .arg(tempfile::tempdir().unwrap().path().join("db"))
        .env_remove("NEATLOGS_API_KEY")
        .output()
        .expect("run neatlogs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:0 without an API key"),
        "{stderr}"
    );
    assert!(stderr.contains("--api-key"), "{stderr}");
}

#[test]
fn cli_filter_errors_point_at_the_word() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty.jsonl");
    std::fs::write(&file, "").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_neatlogs"))
        .args(["traces", "--filter", "end_user strats with u_8", "--file"])
        .arg(&file)
        .output()
        .expect("run neatlogs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(
            "neatlogs: invalid filter: expected an operator after `end_user` at column 10: is, is not, contains"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n  end_user strats with u_8\n           ^\n"),
        "{stderr}"
    );
}

/// A protobuf length-delimited field: tag, length, content.
fn field(number: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![number << 3 | 2];
    put_varint(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// An OTLP `AnyValue` (protobuf) nested `depth` levels: levels 1 to
/// `depth - 1` are maps of `k` to the next level, the last is the string
/// `bottom`. Written front to back, so any depth costs linear time.
fn deep_value_protobuf(depth: usize) -> Vec<u8> {
    let bottom = field(1, b"bottom");
    let mut value_len = bottom.len();
    let mut prefixes = Vec::new();
    for _ in 1..depth {
        // KeyValue { key: "k", value: <inner> }
        let mut kv = vec![0x0a, 1, b'k', 0x12];
        put_varint(&mut kv, value_len);
        let kv_len = kv.len() + value_len;
        // KeyValueList { values: [kv] }
        let mut list = vec![0x0a];
        put_varint(&mut list, kv_len);
        let list_len = list.len() + kv_len;
        // AnyValue { kvlist_value: list }
        let mut prefix = vec![0x32];
        put_varint(&mut prefix, list_len);
        value_len = prefix.len() + list_len;
        prefix.extend(list);
        prefix.extend(kv);
        prefixes.push(prefix);
    }
    let mut out = Vec::with_capacity(value_len);
    for prefix in prefixes.iter().rev() {
        out.extend_from_slice(prefix);
    }
    out.extend(bottom);
    out
}

/// The same value in OTLP/JSON.
fn deep_value_json(depth: usize) -> String {
    let open = r#"{"kvlistValue":{"values":[{"key":"k","value":"#;
    format!(
        "{}{}{}",
        open.repeat(depth - 1),
        r#"{"stringValue":"bottom"}"#,
        "}]}}".repeat(depth - 1)
    )
}

/// A request with one root span (trace `n`, end-user `u_deep`) whose
/// attribute `deep` is a map nested `depth` levels, and a second, ordinary
/// span.
fn deep_request_protobuf(n: u64, depth: usize) -> Vec<u8> {
    let mut root = field(1, &trace_id(n));
    root.extend(field(2, &span_id(1)));
    root.extend(field(5, b"deep"));
    root.push(7 << 3 | 1);
    root.extend((T0).to_le_bytes());
    root.push(8 << 3 | 1);
    root.extend((T0 + MS).to_le_bytes());
    let mut end_user = field(1, b"neatlogs.end_user.id");
    end_user.extend(field(2, &field(1, b"u_deep")));
    root.extend(field(9, &end_user));
    let mut deep = field(1, b"deep");
    deep.extend(field(2, &deep_value_protobuf(depth)));
    root.extend(field(9, &deep));
    let mut scope_spans = field(2, &root);
    let child = span(n, 2, Some(1), "child", "TOOL", 0, 1, vec![]);
    scope_spans.extend(field(2, &prost::Message::encode_to_vec(&child)));
    field(1, &field(2, &scope_spans))
}

fn deep_request_json(n: u64, depth: usize) -> Vec<u8> {
    format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[
            {{"traceId":"{trace}","spanId":"0000000000000001","name":"deep",
              "startTimeUnixNano":"{t0}","endTimeUnixNano":"{t1}",
              "attributes":[{{"key":"neatlogs.end_user.id","value":{{"stringValue":"u_deep"}}}},
                            {{"key":"deep","value":{deep}}}]}},
            {{"traceId":"{trace}","spanId":"0000000000000002","parentSpanId":"0000000000000001",
              "name":"child","startTimeUnixNano":"{t0}","endTimeUnixNano":"{t1}"}}]}}]}}]}}"#,
        trace = trace_hex(n),
        t0 = T0,
        t1 = T0 + MS,
        deep = deep_value_json(depth),
    )
    .into_bytes()
}

/// The stored `deep` attribute of trace `n`, followed down `levels` maps.
fn stored_deep_value(server: &TestServer, n: u64, levels: usize) -> serde_json::Value {
    let store = Store::open(&server.db()).expect("open store");
    let (attributes, end_user, spans): (String, Option<String>, i64) = store
        .connection()
        .query_row(
            "SELECT s.attributes, t.end_user, \
                    (SELECT COUNT(*) FROM spans c WHERE c.trace_id = s.trace_id) \
             FROM spans s JOIN traces t ON t.trace_id = s.trace_id \
             WHERE s.trace_id = ?1 AND s.name = 'deep'",
            [trace_hex(n)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("the deep span is stored");
    assert_eq!(end_user.as_deref(), Some("u_deep"), "the span's other data");
    assert_eq!(spans, 2, "the request's other span");
    let mut value: serde_json::Value = serde_json::from_str(&attributes).expect("JSON");
    value = value["deep"].take();
    for _ in 0..levels {
        value = value["k"].take();
    }
    value
}

#[test]
fn a_value_nested_past_the_limit_is_cut_not_the_request_refused() {
    use neatlogs_cli::ingest::{MAX_VALUE_DEPTH, TOO_DEEP};
    let server = TestServer::start(None);
    let json = [("content-type", "application/json")];
    let mut n = 0;
    // Within the limit: kept whole, whichever decoder.
    for (encoding, body) in [
        ("protobuf", deep_request_protobuf(1, MAX_VALUE_DEPTH)),
        ("json", deep_request_json(2, MAX_VALUE_DEPTH)),
    ] {
        n += 1;
        let headers: &[(&str, &str)] = if encoding == "json" {
            &json
        } else {
            &[("content-type", "application/x-protobuf")]
        };
        let (status, text) = post(&server.url("/v1/traces"), headers, &body);
        assert_eq!(status, 200, "{encoding}: {text}");
        assert_eq!(
            stored_deep_value(&server, n, MAX_VALUE_DEPTH - 1),
            "bottom",
            "{encoding}"
        );
    }
    // Past it (the decoder accepts 30, refuses 40, and the rest are far
    // past any stack): the request is stored, the value cut at the limit.
    for depth in [MAX_VALUE_DEPTH + 1, 30, 40, 1_000, 200_000] {
        for encoding in ["protobuf", "json"] {
            n += 1;
            let (headers, body): (&[(&str, &str)], _) = if encoding == "json" {
                (&json, deep_request_json(n, depth))
            } else {
                (
                    &[("content-type", "application/x-protobuf")],
                    deep_request_protobuf(n, depth),
                )
            };
            let (status, text) = post(&server.url("/v1/traces"), headers, &body);
            assert_eq!(status, 200, "{encoding} {depth} deep: {text}");
            assert_eq!(
                stored_deep_value(&server, n, MAX_VALUE_DEPTH),
                TOO_DEEP,
                "{encoding} {depth} deep"
            );
        }
    }
}
