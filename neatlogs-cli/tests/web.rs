//! The traces page's side of the server: the embedded page and its
//! headers, the endpoints the page needs (`/api/filter`,
//! `/api/metadata-keys`, `/api/end-users/daily`, `count=true`), the browser
//! SDK's metadata in both accepted shapes, CORS on the browser SDK's route
//! (and nowhere else), the `Host` check against DNS rebinding
//! (`--allow-host`), and `--dev-fixtures`.
//! The page itself is tested in Chromium by `scripts/browser-tests.sh`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};

use common::*;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_neatlogs");

/// GET with the response headers we care about.
fn fetch(url: &str, headers: &[(&str, &str)]) -> (u16, Option<String>, Option<String>, String) {
    let mut req = agent().get(url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let mut resp = req.call().expect("request sent");
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header("content-type");
    let csp = header("content-security-policy");
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    (status, content_type, csp, body)
}

fn json_get(server: &TestServer, path_and_query: &str) -> (u16, Value) {
    let (status, body) = get(&server.url(path_and_query), &[]);
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{body}: {e}")),
    )
}

fn send_simple(server: &TestServer, body: Value) -> String {
    let (status, text) = post(
        &server.url("/v1/trace"),
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    v["trace_id"].as_str().unwrap().to_owned()
}

fn enc(filter: &str) -> String {
    filter
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn the_page_is_served_at_every_view_path_with_a_strict_policy() {
    let server = TestServer::start(None);
    for path in ["/", "/users", "/sessions", "/trace/abc123"] {
        let (status, content_type, csp, body) = fetch(&server.url(path), &[]);
        assert_eq!(status, 200, "{path}");
        assert_eq!(content_type.as_deref(), Some("text/html; charset=utf-8"));
        let csp = csp.expect("a Content-Security-Policy");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(body.contains(r#"<script type="module" src="/assets/app.js">"#));
    }
    let (status, content_type, _, body) = fetch(&server.url("/assets/app.js"), &[]);
    assert_eq!(status, 200);
    assert_eq!(
        content_type.as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert!(body.contains("ROUTES"));
    let (status, content_type, _, _) = fetch(&server.url("/assets/app.css"), &[]);
    assert_eq!(status, 200);
    assert_eq!(content_type.as_deref(), Some("text/css; charset=utf-8"));
    // Encoded, so the `..` reaches the asset handler as part of the name
    // (a literal `/assets/../` never matches the route at all).
    assert_eq!(
        fetch(&server.url("/assets/%2e%2e%2fCargo.toml"), &[]).0,
        404
    );
    assert_eq!(fetch(&server.url("/assets/nope.js"), &[]).0, 404);
    assert_eq!(fetch(&server.url("/__test/package.json"), &[]).0, 404);

    let (status, _, _, index) = fetch(&server.url("/api"), &[]);
    assert_eq!(status, 200);
    assert!(index.contains("/api/end-users/daily"), "{index}");
}

#[test]
fn with_an_api_key_the_page_loads_but_its_data_needs_the_key() {
    let server = TestServer::start(Some("k1"));
    assert_eq!(fetch(&server.url("/"), &[]).0, 200);
    assert_eq!(fetch(&server.url("/assets/api.js"), &[]).0, 200);
    for path in [
        "/api/traces",
        "/api/filter?filter=",
        "/api/metadata-keys",
        "/api/end-users/daily",
    ] {
        assert_eq!(fetch(&server.url(path), &[]).0, 401, "{path}");
        assert_eq!(
            fetch(&server.url(path), &[("x-api-key", "k1")]).0,
            200,
            "{path}"
        );
    }
}

#[test]
fn the_filter_endpoint_splits_a_filter_into_canonical_clauses() {
    let server = TestServer::start(None);
    let filter =
        r#"end_user starts with u_8 and metadata:"plan" is pro and name is any of a, "b c""#;
    let (status, body) = json_get(&server, &format!("/api/filter?filter={}", enc(filter)));
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "filter": r#"end_user starts with u_8 and metadata:plan is pro and name is any of a, "b c""#,
            "clauses": [
                {"text": "end_user starts with u_8", "field": "end_user", "key": null,
                 "op": "starts with", "values": ["u_8"]},
                {"text": "metadata:plan is pro", "field": "metadata", "key": "plan",
                 "op": "is", "values": ["pro"]},
                {"text": r#"name is any of a, "b c""#, "field": "name", "key": null,
                 "op": "is any of", "values": ["a", "b c"]},
            ]
        })
    );

    let (status, body) = json_get(&server, "/api/filter?filter=end_user%20is%20set");
    assert_eq!(status, 200);
    assert_eq!(body["clauses"][0]["values"], json!([]));

    let (status, body) = json_get(&server, "/api/filter");
    assert_eq!(status, 200);
    assert_eq!(body, json!({"filter": "", "clauses": []}));

    let (status, body) = json_get(
        &server,
        &format!("/api/filter?filter={}", enc("end_user strats with u_8")),
    );
    assert_eq!(status, 400);
    assert_eq!(body["column"], 10);
    assert!(body["error"].as_str().unwrap().contains("column 10"));
}

#[test]
fn a_quoted_value_round_trips_through_the_filter_endpoint() {
    // The page writes every value double-quoted; the chip it shows is the
    // server's canonical text, which must select the same traces.
    let server = TestServer::start(None);
    let xss = "<img src=x onerror=alert(1)>";
    let id = send_simple(
        &server,
        json!({"name": "chat", "attributes": {"neatlogs.end_user.id": xss}}),
    );
    send_simple(
        &server,
        json!({"name": "chat", "attributes": {"neatlogs.end_user.id": "u_1"}}),
    );
    let written = format!("end_user is \"{}\"", xss.replace('"', "\\\""));
    let (_, parsed) = json_get(&server, &format!("/api/filter?filter={}", enc(&written)));
    let canonical = parsed["clauses"][0]["text"].as_str().unwrap().to_owned();
    assert_eq!(parsed["clauses"][0]["values"], json!([xss]));
    let (_, listed) = json_get(&server, &format!("/api/traces?filter={}", enc(&canonical)));
    let ids: Vec<&str> = listed["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["trace_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()]);
}

#[test]
fn browser_metadata_is_accepted_as_a_json_string_or_an_object() {
    let server = TestServer::start(None);
    let as_string = send_simple(
        &server,
        json!({"name": "chat", "attributes": {
            "neatlogs.end_user.id": "u_1",
            "neatlogs.end_user.metadata": "{\"plan\":\"pro\",\"seats\":3}"}}),
    );
    let as_object = send_simple(
        &server,
        json!({"name": "chat", "attributes": {
            "neatlogs.end_user.id": "u_2",
            "neatlogs.end_user.metadata": {"plan": "pro", "org": {"tier": "gold"}}}}),
    );
    send_simple(
        &server,
        json!({"name": "chat", "attributes": {
            "neatlogs.end_user.id": "u_3",
            "neatlogs.end_user.metadata": {"plan": "free"}}}),
    );
    for (id, expected) in [
        (&as_string, json!({"plan": "pro", "seats": 3})),
        (&as_object, json!({"plan": "pro", "org": {"tier": "gold"}})),
    ] {
        let (_, detail) = json_get(&server, &format!("/api/traces/{id}"));
        assert_eq!(detail["trace"]["end_user_metadata"], expected);
    }
    let (_, pro) = json_get(
        &server,
        &format!("/api/traces?filter={}", enc("metadata:plan is pro")),
    );
    assert_eq!(pro["traces"].as_array().unwrap().len(), 2);

    let (status, keys) = json_get(&server, "/api/metadata-keys");
    assert_eq!(status, 200);
    let names: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["org", "org.tier", "plan", "seats"]);
    let plan = &keys["keys"][2];
    assert_eq!(plan["traces"], 3);
    assert_eq!(
        plan["values"],
        json!([{"value": "pro", "traces": 2}, {"value": "free", "traces": 1}])
    );
}

#[test]
fn traces_per_day_for_the_top_users() {
    let server = TestServer::start(None);
    for (user, start) in [
        ("u_1", "2026-05-01T10:00:00Z"),
        ("u_1", "2026-05-03T10:00:00Z"),
        ("u_1", "2026-05-03T11:00:00Z"),
        ("u_2", "2026-05-02T10:00:00Z"),
        ("u_3", "2026-05-03T12:00:00Z"),
    ] {
        send_simple(
            &server,
            json!({"name": "chat", "start": start, "attributes": {"neatlogs.end_user.id": user}}),
        );
    }
    let (status, body) = json_get(&server, "/api/end-users/daily?top=2&days=3");
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "days": ["2026-05-01", "2026-05-02", "2026-05-03"],
            "series": [
                {"end_user": "u_1", "counts": [1, 0, 2], "total": 3},
                {"end_user": "u_2", "counts": [0, 1, 0], "total": 1},
            ]
        })
    );
    let (status, body) = json_get(
        &server,
        &format!(
            "/api/end-users/daily?days=1&filter={}",
            enc("end_user is u_3")
        ),
    );
    assert_eq!(status, 200);
    assert_eq!(
        body["series"],
        json!([{"end_user": "u_3", "counts": [1], "total": 1}])
    );
    let (status, body) = json_get(
        &server,
        "/api/end-users/daily?filter=end_user%20strats%20u_1",
    );
    assert_eq!(status, 400);
    assert_eq!(body["column"], 10);
}

#[test]
fn count_true_adds_the_total_for_paging() {
    let server = TestServer::start(None);
    for i in 0..3 {
        send_simple(
            &server,
            json!({"name": format!("t{i}"), "attributes": {"neatlogs.end_user.id": "u_1"}}),
        );
    }
    let (_, page) = json_get(&server, "/api/traces?limit=2&count=true");
    assert_eq!(page["total"], 3);
    assert_eq!(page["traces"].as_array().unwrap().len(), 2);
    let (_, plain) = json_get(&server, "/api/traces?limit=2");
    assert!(plain.get("total").is_none(), "only when asked: {plain}");
}

/// The page's count stops at the count limit and says so, so that a count
/// costs at most that many rows however large the store.
#[test]
fn count_true_stops_at_the_count_limit_and_flags_a_lower_bound() {
    let server = TestServer::start_app(Default::default(), |db| {
        neatlogs_cli::server::router_with_options(
            db,
            neatlogs_cli::server::Options {
                count_limit: 3,
                ..Default::default()
            },
        )
        .expect("router")
    });
    for i in 0..5 {
        let user = if i < 2 { "u_1" } else { "u_2" };
        send_simple(
            &server,
            json!({"name": format!("t{i}"), "attributes": {"neatlogs.end_user.id": user}}),
        );
    }
    let total = |query: &str| {
        let (status, page) = json_get(&server, &format!("/api/traces?count=true&{query}"));
        assert_eq!(status, 200, "{page}");
        (page["total"].clone(), page["total_is_lower_bound"].clone())
    };
    assert_eq!(total("limit=2"), (json!(3), json!(true)), "more than 3");
    // The limit counts from the page's offset: page 2 still learns there
    // is more after it.
    assert_eq!(total("limit=2&offset=1"), (json!(4), json!(true)));
    assert_eq!(total("limit=2&offset=2"), (json!(5), json!(false)));
    let filter = enc("end_user is u_1");
    assert_eq!(
        total(&format!("filter={filter}")),
        (json!(2), json!(false)),
        "under the limit the count is exact"
    );
    let (_, listed) = json_get(&server, "/api/traces?limit=50&count=true");
    assert_eq!(
        listed["traces"].as_array().unwrap().len(),
        5,
        "the list is whole"
    );
}

/// GET `path` from `addr` with this `Host` header, over a raw connection
/// (HTTP clients set `Host` themselves): the status and the body.
fn get_as_host(addr: SocketAddr, host: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_owned();
    (status, body)
}

/// A page on another site that rebinds its own name to 127.0.0.1 sends that
/// name as `Host`: the collector refuses it on every route, and answers
/// the names and addresses a local client uses.
#[test]
fn a_foreign_host_name_is_refused_and_local_ones_are_answered() {
    let server = TestServer::start(None);
    let port = server.addr.port();
    for path in ["/", "/api/traces", "/healthz", "/no/such/path"] {
        let (status, body) = get_as_host(server.addr, &format!("evil.example:{port}"), path);
        assert_eq!(status, 403, "{path}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        let message = body["error"].as_str().unwrap();
        assert!(
            message.contains("evil.example") && message.contains("--allow-host evil.example"),
            "{message}"
        );
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        "localhost".to_owned(),
    ] {
        let (status, body) = get_as_host(server.addr, &host, "/api/traces");
        assert_eq!(status, 200, "{host}: {body}");
    }
}

/// `neatlogs serve --allow-host NAME` answers to NAME too, and only to it
/// (and to the local names); a value that is not a host name is refused at
/// start.
#[test]
fn allow_host_admits_a_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--allow-host",
            "collector.test",
        ])
        .arg("--db")
        .arg(dir.path().join("db"))
        .env_remove("NEATLOGS_API_KEY")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start neatlogs serve");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("the listening line");
    let addr: SocketAddr = first
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {first:?}"));
    let port = addr.port();
    let admitted = get_as_host(addr, &format!("collector.test:{port}"), "/api/traces");
    let local = get_as_host(addr, &format!("localhost:{port}"), "/api/traces");
    let other = get_as_host(addr, &format!("other.test:{port}"), "/api/traces");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(admitted.0, 200, "{}", admitted.1);
    assert_eq!(local.0, 200, "{}", local.1);
    assert_eq!(other.0, 403, "{}", other.1);

    let out = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--allow-host",
            "collector.test:4318",
        ])
        .arg("--db")
        .arg(dir.path().join("db"))
        .env_remove("NEATLOGS_API_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--allow-host") && stderr.contains("without a scheme or a port"),
        "{stderr}"
    );
}

/// A request's status and `access-control-allow-origin` header.
fn allowed_origin(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Option<String>) {
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = agent()
        .run(request.body(body.to_vec()).unwrap())
        .expect("request sent");
    let origin = response
        .headers()
        .get("access-control-allow-origin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (response.status().as_u16(), origin)
}

#[test]
fn the_browser_route_answers_other_origins_even_when_it_refuses() {
    // A page on another origin reads the answer only with CORS headers:
    // without them a wrong key would look like a network failure.
    let server = TestServer::start(Some("k1"));
    let url = server.url("/v1/trace");
    let json = ("content-type", "application/json");
    let body = br#"{"name":"chat"}"#;
    let any = Some("*".to_owned());
    assert_eq!(
        allowed_origin("OPTIONS", &url, &[], b""),
        (204, any.clone()),
        "a preflight needs no key"
    );
    assert_eq!(
        allowed_origin("POST", &url, &[json], body),
        (401, any.clone())
    );
    assert_eq!(
        allowed_origin("POST", &url, &[json, ("x-api-key", "k1")], b"{"),
        (400, any.clone())
    );
    assert_eq!(
        allowed_origin("POST", &url, &[json, ("x-api-key", "k1")], body),
        (200, any.clone())
    );
    // A CORS-simple content type (no preflight needed) is refused, readably.
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        assert_eq!(
            allowed_origin(
                "POST",
                &url,
                &[("content-type", content_type), ("x-api-key", "k1")],
                body
            ),
            (415, any.clone()),
            "{content_type}"
        );
    }
    let oversized = vec![b' '; 20 * 1024 * 1024 + 1];
    assert_eq!(
        allowed_origin("POST", &url, &[json, ("x-api-key", "k1")], &oversized),
        (413, any)
    );
    // The query API and OTLP ingest stay unreadable to other origins.
    for (method, path) in [
        ("GET", "/api/traces"),
        ("POST", "/v1/traces"),
        ("OPTIONS", "/api/traces"),
    ] {
        let (_, origin) = allowed_origin(method, &server.url(path), &[("x-api-key", "k1")], b"");
        assert_eq!(origin, None, "{method} {path}");
    }
}

#[test]
fn dev_fixtures_serve_a_folder_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("dist")).unwrap();
    std::fs::write(dir.path().join("dist/sdk.js"), "export const ok = 1;").unwrap();
    std::fs::write(
        dir.path().join("page.html"),
        "<!doctype html><p>fixture</p>",
    )
    .unwrap();
    let store = tempfile::tempdir().unwrap();
    let app = neatlogs_cli::server::router(&store.path().join("db"), None).unwrap();
    let app = neatlogs_cli::server::with_dev_fixtures(app, dir.path().to_path_buf());

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        rt.block_on(async {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
        });
    });

    let url = |p: &str| format!("http://{addr}{p}");
    let (status, content_type, _, body) = fetch(&url("/__test/dist/sdk.js"), &[]);
    assert_eq!(status, 200);
    assert_eq!(
        content_type.as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(body, "export const ok = 1;");
    let (status, content_type, _, _) = fetch(&url("/__test/page.html"), &[]);
    assert_eq!(status, 200);
    assert_eq!(content_type.as_deref(), Some("text/html; charset=utf-8"));
    assert_eq!(fetch(&url("/__test/missing.js"), &[]).0, 404);
    assert_eq!(fetch(&url("/__test/dist/%2e%2e/page.html"), &[]).0, 404);
    assert_eq!(fetch(&url("/"), &[]).0, 200, "the page is still there");

    let _ = stop_tx.send(());
    thread.join().unwrap();
}

#[test]
fn dev_fixtures_refuse_a_non_loopback_address() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "0.0.0.0:0", "--api-key", "k", "--db"])
        .arg(dir.path().join("db"))
        .arg("--dev-fixtures")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--dev-fixtures") && stderr.contains("loopback"),
        "{stderr}"
    );
}

/// Every answer carries `X-Content-Type-Options: nosniff`: the page, the
/// JSON API, an error and a 404.
#[test]
fn every_answer_says_nosniff() {
    let server = TestServer::start(Some("k"));
    for (path, key, expected) in [
        ("/", None, 200),
        ("/api/traces", Some("k"), 200),
        ("/api/traces", None, 401),
        ("/no/such/path", None, 404),
    ] {
        let mut req = agent().get(&server.url(path));
        if let Some(key) = key {
            req = req.header("x-api-key", key);
        }
        let resp = req.call().expect("request sent");
        assert_eq!(resp.status().as_u16(), expected, "{path}");
        let nosniff = resp
            .headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok());
        assert_eq!(nosniff, Some("nosniff"), "{path}");
    }
}
