//! The collector under load and attack: the ingest memory budget (503 with
//! `Retry-After`, which the SDK retries), the header and body deadlines,
//! the connection limit, and accept errors when descriptors run out. The
//! limits are set small and short here so that each test is fast.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use neatlogs::SpanKind;
use neatlogs_cli::ingest::{decode_cost, Encoding};
use neatlogs_cli::server::{ConnectionLimits, IngestLimits, Limits};

/// Bound on waiting for something the server must do by itself (close a
/// connection, free the budget). Generous: tests assert that it happens,
/// not how fast.
const PATIENCE: Duration = Duration::from_secs(20);

fn limits(
    memory: usize,
    body_timeout_ms: u64,
    max_connections: usize,
    header_timeout_ms: u64,
) -> Limits {
    Limits {
        ingest: IngestLimits {
            memory,
            body_timeout: Duration::from_millis(body_timeout_ms),
        },
        connections: ConnectionLimits {
            max_connections,
            header_timeout: Duration::from_millis(header_timeout_ms),
        },
    }
}

fn small_request(trace: u64) -> Vec<u8> {
    let root = span(
        trace,
        1,
        None,
        "turn",
        "WORKFLOW",
        0,
        5,
        identity("u_1", None, None),
    );
    protobuf(&request(sdk_resource("limits", None), vec![root]))
}

/// Starts a protobuf ingest request that declares `len` bytes and waits
/// until the server is reading its body (it answers `100 Continue` once the
/// request has its share of the budget), then sends none of it: the
/// request stays in progress, holding its share, until closed. Sends the
/// key `k`, for servers that ask for one.
fn hog(addr: SocketAddr, len: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\ncontent-type: application/x-protobuf\r\n\
         content-length: {len}\r\nexpect: 100-continue\r\nx-api-key: k\r\n\r\n"
    )
    .unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut answer = [0u8; 25];
    stream.read_exact(&mut answer).unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 100 Continue\r\n\r\n"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    stream
}

/// A hog that takes all of a budget of `budget` bytes but a unit.
fn hog_all(addr: SocketAddr, budget: usize) -> TcpStream {
    hog(addr, budget / (1 + decode_cost(1, Encoding::Protobuf)))
}

/// Whether the server closed `stream` (EOF, reset, or an answer followed
/// by the close), waiting at most [`PATIENCE`]; what it sent before.
fn closed_by_server(
    stream: &mut TcpStream,
    mut keep_writing: impl FnMut(&mut TcpStream) -> bool,
) -> (bool, String) {
    let started = Instant::now();
    let mut seen = Vec::new();
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    while started.elapsed() < PATIENCE {
        let mut buf = [0u8; 1024];
        match stream.read(&mut buf) {
            Ok(0) => return (true, String::from_utf8_lossy(&seen).into_owned()),
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return (true, String::from_utf8_lossy(&seen).into_owned()),
        }
        if !keep_writing(stream) {
            return (true, String::from_utf8_lossy(&seen).into_owned());
        }
    }
    (false, String::from_utf8_lossy(&seen).into_owned())
}

/// Whether `stream` is still open: nothing to read and no EOF for a moment.
fn still_open(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 64];
    matches!(stream.read(&mut buf), Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut))
}

fn healthz(addr: SocketAddr) -> u16 {
    get(
        &format!("http://{addr}/healthz"),
        &[("connection", "close")],
    )
    .0
}

#[test]
fn a_request_beyond_the_ingest_budget_gets_503_with_retry_after_and_stores_nothing() {
    let server = TestServer::start_with(None, limits(1024 * 1024, 60_000, 64, 60_000));
    let url = server.url("/v1/traces");
    let ok = post(
        &url,
        &[("content-type", "application/x-protobuf")],
        &small_request(1),
    );
    assert_eq!(ok.0, 200, "{}", ok.1);

    let hogger = hog_all(server.addr, 1024 * 1024);
    let mut refused = agent()
        .post(&url)
        .header("content-type", "application/x-protobuf")
        .send(&small_request(2)[..])
        .unwrap();
    assert_eq!(
        refused.status(),
        503,
        "a request beyond the budget is refused"
    );
    assert_eq!(
        refused
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let message = refused.body_mut().read_to_string().unwrap_or_default();
    assert!(message.contains("ingest memory budget"), "{message}");
    let store = neatlogs_cli::store::Store::open(&server.db()).unwrap();
    assert!(
        store.trace(&trace_hex(2)).unwrap().is_none(),
        "a refused request stores nothing"
    );

    // The budget comes back when the hog leaves.
    drop(hogger);
    let mut status = 0;
    let started = Instant::now();
    while started.elapsed() < PATIENCE {
        status = post(
            &url,
            &[("content-type", "application/x-protobuf")],
            &small_request(2),
        )
        .0;
        if status == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(status, 200);
    assert!(store.trace(&trace_hex(2)).unwrap().is_some());
}

#[test]
fn a_gzip_body_that_inflates_past_the_budget_is_refused_not_inflated() {
    let server = TestServer::start_with(None, limits(1024 * 1024, 60_000, 64, 60_000));
    // 4 MiB of spaces compress to a few KB: the declared size fits, the
    // inflated one never could.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b' '; 4 * 1024 * 1024]).unwrap();
    let body = gz.finish().unwrap();
    let headers = [
        ("content-type", "application/json"),
        ("content-encoding", "gzip"),
    ];
    let (status, message) = post(&server.url("/v1/traces"), &headers, &body);
    assert_eq!(status, 413, "{message}");
    assert!(message.contains("ingest memory budget"), "{message}");

    // One that would fit, while another request holds the budget: 503.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b' '; 32 * 1024]).unwrap();
    let body = gz.finish().unwrap();
    let hogger = hog_all(server.addr, 1024 * 1024);
    let (status, message) = post(&server.url("/v1/traces"), &headers, &body);
    assert_eq!(status, 503, "{message}");
    drop(hogger);
}

#[test]
fn a_zstd_body_that_inflates_past_the_budget_is_refused_not_inflated() {
    let server = TestServer::start_with(None, limits(1024 * 1024, 60_000, 64, 60_000));
    // 4 MiB of spaces compress to a few hundred bytes: the declared size
    // fits, the decoded one never could.
    let body = zstd::bulk::compress(&vec![b' '; 4 * 1024 * 1024], 19).unwrap();
    let headers = [
        ("content-type", "application/json"),
        ("content-encoding", "zstd"),
    ];
    let (status, message) = post(&server.url("/v1/traces"), &headers, &body);
    assert_eq!(status, 413, "{message}");
    assert!(message.contains("ingest memory budget"), "{message}");

    // One that would fit, while another request holds the budget: 503.
    let body = zstd::bulk::compress(&vec![b' '; 32 * 1024], 19).unwrap();
    let hogger = hog_all(server.addr, 1024 * 1024);
    let (status, message) = post(&server.url("/v1/traces"), &headers, &body);
    assert_eq!(status, 503, "{message}");
    drop(hogger);
}

#[test]
fn the_sdk_retries_a_503_from_the_budget_and_the_data_lands() {
    let server = TestServer::start_with(Some("k"), limits(1024 * 1024, 60_000, 64, 60_000));
    let hogger = hog_all(server.addr, 1024 * 1024);
    neatlogs::init(
        neatlogs::Config::new()
            .endpoint(format!("http://{}", server.addr))
            .api_key("k")
            .workflow_name("retry")
            .end_user_id("u_503")
            .export_timeout(PATIENCE),
    )
    .expect("init");
    // The hog leaves once the SDK has been refused and is retrying.
    let release = std::thread::spawn(move || {
        let started = Instant::now();
        while neatlogs::stats().retried == 0 && started.elapsed() < PATIENCE {
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(hogger);
    });
    neatlogs::trace("refused-then-stored").in_scope(|| {
        let _llm = neatlogs::span(SpanKind::Llm, "call").enter();
    });
    assert!(
        neatlogs::flush_with_timeout(PATIENCE),
        "{:?}",
        neatlogs::stats()
    );
    release.join().unwrap();
    let stats = neatlogs::stats();
    assert!(
        stats.retried >= 1,
        "the SDK was refused and retried: {stats:?}"
    );
    assert_eq!(stats.failed, 0, "{stats:?}");
    let store = neatlogs_cli::store::Store::open(&server.db()).unwrap();
    let traces = store
        .list_traces(
            &neatlogs_cli::filter::parse("end_user is u_503").unwrap(),
            10,
            0,
        )
        .unwrap();
    assert_eq!(traces.len(), 1);
    assert_eq!(traces[0].name.as_deref(), Some("refused-then-stored"));
}

#[test]
fn headers_sent_too_slowly_are_closed_after_the_header_timeout() {
    let server = TestServer::start_with(None, limits(64 << 20, 60_000, 64, 300));
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    let (closed, answer) = closed_by_server(&mut slow, |s| s.write_all(b"a").is_ok());
    assert!(closed, "a connection trickling its headers stays open");
    assert!(!answer.contains("200 OK"), "{answer}");
    // An idle connection (nothing sent at all) is closed the same way.
    let mut idle = TcpStream::connect(server.addr).unwrap();
    assert!(
        closed_by_server(&mut idle, |_| true).0,
        "an idle connection stays open"
    );
    assert_eq!(healthz(server.addr), 200);
}

#[test]
fn a_body_that_trickles_is_cut_after_the_body_timeout() {
    let server = TestServer::start_with(None, limits(64 << 20, 300, 64, 60_000));
    let mut slow = hog(server.addr, 10_000);
    let (closed, answer) = closed_by_server(&mut slow, |s| s.write_all(b"a").is_ok());
    assert!(closed, "a trickling body is never cut");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    assert_eq!(healthz(server.addr), 200);
}

#[test]
fn at_the_connection_limit_a_new_connection_takes_the_slot_of_the_idlest() {
    let server = TestServer::start_with(None, limits(64 << 20, 60_000, 3, 60_000));
    let mut idle: Vec<TcpStream> = (0..3)
        .map(|_| {
            let s = TcpStream::connect(server.addr).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            s
        })
        .collect();
    assert_eq!(
        healthz(server.addr),
        200,
        "a new client is served at the limit"
    );
    assert!(
        closed_by_server(&mut idle[0], |_| true).0,
        "the idlest connection made room"
    );
    assert!(
        still_open(&mut idle[1]) && still_open(&mut idle[2]),
        "only one made room"
    );
    // Full again: the next idlest goes.
    idle.push(TcpStream::connect(server.addr).unwrap());
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(healthz(server.addr), 200);
    assert!(closed_by_server(&mut idle[1], |_| true).0);
    assert!(still_open(&mut idle[2]) && still_open(&mut idle[3]));
}

#[test]
fn with_every_slot_busy_a_new_connection_waits_and_is_served_when_one_frees() {
    let server = TestServer::start_with(None, limits(64 << 20, 60_000, 1, 60_000));
    // A request in progress: its body is not all there yet.
    let mut busy = hog(server.addr, 10);
    busy.write_all(b"\x0a\x00").unwrap();
    let addr = server.addr;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(healthz(addr));
    });
    assert!(
        matches!(
            rx.recv_timeout(Duration::from_millis(500)),
            Err(mpsc::RecvTimeoutError::Timeout)
        ),
        "a connection beyond the limit was served while every slot was busy"
    );
    // The busy request ends (a malformed body: 400), its slot frees.
    busy.write_all(&[0u8; 8]).unwrap();
    let (_, answer) = closed_by_server(&mut busy, |_| true);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    drop(busy);
    assert_eq!(rx.recv_timeout(PATIENCE), Ok(200));
}

#[test]
fn running_out_of_descriptors_neither_stops_nor_stalls_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("neatlogs.db");
    // 48 descriptors, room for 1,000 connections: accept fails with EMFILE.
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 48 && exec '{}' serve --listen 127.0.0.1:0 --db '{}' --max-connections 1000",
            env!("CARGO_BIN_EXE_neatlogs"),
            db.display()
        ))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    let addr: SocketAddr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));

    let flood: Vec<TcpStream> = (0..80)
        .filter_map(|_| TcpStream::connect(addr).ok())
        .collect();
    assert!(
        flood.len() > 48,
        "the flood did not get past the descriptor limit"
    );
    std::thread::sleep(Duration::from_millis(300));
    drop(flood);
    let mut status = 0;
    let started = Instant::now();
    while started.elapsed() < PATIENCE {
        status = get(
            &format!("http://{addr}/healthz"),
            &[("connection", "close")],
        )
        .0;
        if status == 200 {
            break;
        }
    }
    assert_eq!(
        status, 200,
        "the server answers again once descriptors are free"
    );
    assert!(child.try_wait().unwrap().is_none(), "the server stopped");
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
    assert!(
        stderr.contains("cannot accept a connection"),
        "EMFILE was not reached: {stderr}"
    );
}
