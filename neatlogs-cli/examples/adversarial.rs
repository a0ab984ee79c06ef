//! Hostile load against a running `neatlogs serve`, for the figures in
//! docs/hardening.md. Loopback only; every mode stops by itself.
//!
//! - `memory`: N concurrent OTLP protobuf requests of one huge span each
//!   (by default 16 requests of ~17 MB with 1,000,000 attributes), at once;
//!   reports the statuses, `Retry-After`s and, with `--retry`, follows them
//!   until every request is stored. The scripts read the server's peak RSS.
//! - `slowloris`: opens many connections that send a header byte a second
//!   (or nothing, with `--idle`) while a normal request is sent every
//!   second; reports when the server closed the slow ones and how fast the
//!   normal requests were answered.
//!
//! ```sh
//! cargo run -p neatlogs-cli --example adversarial -- memory --addr 127.0.0.1:4318
//! cargo run -p neatlogs-cli --example adversarial -- slowloris --addr 127.0.0.1:4318
//! ```
//!
//! The exit status is 1 when the server failed the scenario (a normal
//! request not answered, a request never stored), so scripts can check it.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Concurrent huge OTLP requests.
    Memory {
        /// The collector, HOST:PORT (loopback).
        #[arg(long)]
        addr: SocketAddr,
        /// Requests sent at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Attributes on the one span of each request (~17 bytes each).
        #[arg(long, default_value_t = 1_000_000)]
        attributes: usize,
        /// Follow 503/429 + Retry-After until every request is stored.
        #[arg(long)]
        retry: bool,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 300)]
        seconds: u64,
    },
    /// Slow and idle connections next to normal requests.
    Slowloris {
        /// The collector, HOST:PORT (loopback).
        #[arg(long)]
        addr: SocketAddr,
        /// Slow connections to open.
        #[arg(long, default_value_t = 1100)]
        connections: usize,
        /// How long to keep them going.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Send nothing at all (instead of a header byte a second).
        #[arg(long)]
        idle: bool,
        /// Open a new slow connection for each one the server closes.
        #[arg(long)]
        reconnect: bool,
        /// Longest a normal request may take before it counts as failed.
        #[arg(long, default_value_t = 5)]
        probe_timeout: u64,
    },
}

fn main() -> ExitCode {
    let ok = match Args::parse().mode {
        Mode::Memory {
            addr,
            concurrency,
            attributes,
            retry,
            seconds,
        } => memory(addr, concurrency, attributes, retry, seconds),
        Mode::Slowloris {
            addr,
            connections,
            seconds,
            idle,
            reconnect,
            probe_timeout,
        } => slowloris(
            addr,
            connections,
            seconds,
            idle,
            reconnect,
            Duration::from_secs(probe_timeout),
        ),
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn check_loopback(addr: SocketAddr) {
    assert!(
        addr.ip().is_loopback(),
        "this load generator only talks to loopback addresses, not {addr}"
    );
}

/// One request: one span (trace `n`) with `attributes` integer attributes
/// keyed `k000000`, `k000001`, ...
fn huge_request(n: u64, attributes: usize) -> Vec<u8> {
    let mut trace_id = vec![0x77; 8];
    trace_id.extend_from_slice(&n.to_be_bytes());
    let attributes = (0..attributes)
        .map(|i| KeyValue {
            key: format!("k{i:06}"),
            value: Some(AnyValue {
                value: Some(any_value::Value::IntValue(i as i64)),
            }),
            ..Default::default()
        })
        .collect();
    let span = Span {
        trace_id,
        span_id: (n | 1 << 62).to_be_bytes().to_vec(),
        name: "huge".to_owned(),
        start_time_unix_nano: 1_777_636_800_000_000_000,
        end_time_unix_nano: 1_777_636_800_001_000_000,
        attributes,
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![span],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

#[derive(Default)]
struct Outcome {
    /// Status (0: no answer) -> how many times.
    statuses: BTreeMap<u16, usize>,
    retry_after: BTreeMap<String, usize>,
    stored: usize,
    slowest_stored: Duration,
}

fn memory(
    addr: SocketAddr,
    concurrency: usize,
    attributes: usize,
    retry: bool,
    seconds: u64,
) -> bool {
    check_loopback(addr);
    let url = format!("http://{addr}/v1/traces");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let bodies: Vec<Vec<u8>> = (0..concurrency)
        .map(|n| huge_request(n as u64 + 1, attributes))
        .collect();
    println!(
        "memory: {concurrency} concurrent requests of {:.1} MB ({attributes} attributes each) to {url}",
        bodies[0].len() as f64 / 1e6
    );
    let outcome = Arc::new(Mutex::new(Outcome::default()));
    let barrier = Arc::new(Barrier::new(concurrency));
    let started = Instant::now();
    let threads: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let (url, outcome, barrier) = (url.clone(), outcome.clone(), barrier.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(seconds)))
                    .build()
                    .into();
                barrier.wait();
                loop {
                    let answer = agent
                        .post(&url)
                        .header("content-type", "application/x-protobuf")
                        .send(&body[..]);
                    let (status, after) = match answer {
                        Ok(resp) => (
                            resp.status().as_u16(),
                            resp.headers()
                                .get("retry-after")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned),
                        ),
                        Err(_) => (0, None),
                    };
                    let mut o = outcome.lock().unwrap_or_else(|p| p.into_inner());
                    *o.statuses.entry(status).or_default() += 1;
                    if let Some(a) = &after {
                        *o.retry_after.entry(a.clone()).or_default() += 1;
                    }
                    if status == 200 {
                        o.stored += 1;
                        o.slowest_stored = o.slowest_stored.max(started.elapsed());
                        return;
                    }
                    drop(o);
                    let wait = after
                        .and_then(|a| a.parse().ok())
                        .map_or(Duration::from_secs(1), Duration::from_secs);
                    if !retry
                        || !matches!(status, 0 | 429 | 503)
                        || Instant::now() + wait > deadline
                    {
                        return;
                    }
                    std::thread::sleep(wait);
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    let o = outcome.lock().unwrap_or_else(|p| p.into_inner());
    let statuses: Vec<String> = o
        .statuses
        .iter()
        .map(|(s, n)| {
            format!(
                "{}: {n}",
                if *s == 0 {
                    "no answer".to_owned()
                } else {
                    s.to_string()
                }
            )
        })
        .collect();
    println!("answers: {}", statuses.join(", "));
    if !o.retry_after.is_empty() {
        let after: Vec<String> = o
            .retry_after
            .iter()
            .map(|(a, n)| format!("{a} s: {n}"))
            .collect();
        println!("Retry-After: {}", after.join(", "));
    }
    println!(
        "stored: {} of {concurrency} requests; the last after {:.1} s",
        o.stored,
        o.slowest_stored.as_secs_f64()
    );
    !retry || o.stored == concurrency
}

/// A slow connection and when the server closed it.
struct Slow {
    stream: TcpStream,
    closed_after: Option<Duration>,
}

impl Slow {
    /// Whether the server has closed (or answered and is closing) it.
    fn closed_by_server(&mut self) -> bool {
        let mut buf = [0u8; 512];
        match self.stream.read(&mut buf) {
            Ok(_) => true,
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(_) => true,
        }
    }
}

/// Connects and, unless `idle`, starts a request whose headers never end.
fn open_slow(addr: SocketAddr, idle: bool, timeout: Duration) -> std::io::Result<Slow> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    if !idle {
        (&stream).write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")?;
    }
    stream.set_nonblocking(true)?;
    Ok(Slow {
        stream,
        closed_after: None,
    })
}

/// A normal request: connect, `GET /healthz`, read the answer.
fn probe(addr: SocketAddr, timeout: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    let left = || {
        timeout
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(1))
    };
    stream
        .set_write_timeout(Some(left()))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        stream
            .set_read_timeout(Some(left()))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) => {
                return Err(format!(
                    "read after {:.1} s: {e}",
                    started.elapsed().as_secs_f64()
                ))
            }
        }
        if started.elapsed() >= timeout {
            return Err("timed out".to_owned());
        }
    }
    if answer.starts_with(b"HTTP/1.1 200") && answer.ends_with(b"ok") {
        Ok(started.elapsed())
    } else {
        Err(format!(
            "unexpected answer: {:?}",
            String::from_utf8_lossy(&answer[..answer.len().min(80)])
        ))
    }
}

fn slowloris(
    addr: SocketAddr,
    connections: usize,
    seconds: u64,
    idle: bool,
    reconnect: bool,
    probe_timeout: Duration,
) -> bool {
    check_loopback(addr);
    println!(
        "slowloris: {connections} connections {} for {seconds} s against {addr}, a normal request every second",
        if idle { "sending nothing" } else { "sending a header byte a second" }
    );
    let started = Instant::now();
    let mut slow = Vec::with_capacity(connections);
    let mut connect_errors = BTreeMap::<String, usize>::new();
    for _ in 0..connections {
        match open_slow(addr, idle, Duration::from_secs(2)) {
            Ok(s) => slow.push(s),
            Err(e) => *connect_errors.entry(e.kind().to_string()).or_default() += 1,
        }
    }
    println!(
        "opened {} connections in {:.1} s{}",
        slow.len(),
        started.elapsed().as_secs_f64(),
        if connect_errors.is_empty() {
            String::new()
        } else {
            format!(" (connect failures: {connect_errors:?})")
        }
    );

    let probes = Arc::new(Mutex::new(
        Vec::<(Duration, Result<Duration, String>)>::new(),
    ));
    let stop_at = started + Duration::from_secs(seconds);
    let prober = {
        let probes = probes.clone();
        std::thread::spawn(move || {
            while Instant::now() < stop_at {
                let at = started.elapsed();
                let result = probe(addr, probe_timeout);
                probes
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((at, result));
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };
    let mut tick = 0u64;
    let mut reopened = 0usize;
    while Instant::now() < stop_at {
        tick += 1;
        let mut fresh = Vec::new();
        for s in slow.iter_mut().filter(|s| s.closed_after.is_none()) {
            let wrote = idle || (&s.stream).write_all(b"a").is_ok();
            if !wrote || s.closed_by_server() {
                s.closed_after = Some(started.elapsed());
                if reconnect {
                    if let Ok(s) = open_slow(addr, idle, Duration::from_millis(200)) {
                        fresh.push(s);
                    }
                }
            }
        }
        reopened += fresh.len();
        slow.append(&mut fresh);
        let open = slow.iter().filter(|s| s.closed_after.is_none()).count();
        if tick.is_multiple_of(5) {
            println!(
                "  {:>4.0} s: {open} slow connections still open",
                started.elapsed().as_secs_f64()
            );
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let _ = prober.join();

    if reconnect {
        println!("reopened {reopened} slow connections after the server closed theirs");
    }
    let mut closed: Vec<Duration> = slow.iter().filter_map(|s| s.closed_after).collect();
    closed.sort();
    let open = slow.len() - closed.len();
    if closed.is_empty() {
        println!("closed by the server: none; {open} still open after {seconds} s");
    } else {
        println!(
            "closed by the server: {} (first after {:.1} s, median {:.1} s, last {:.1} s); {open} still open after {seconds} s",
            closed.len(),
            closed[0].as_secs_f64(),
            closed[closed.len() / 2].as_secs_f64(),
            closed[closed.len() - 1].as_secs_f64()
        );
    }
    let probes = probes.lock().unwrap_or_else(|p| p.into_inner());
    let mut answered: Vec<Duration> = probes
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().copied())
        .collect();
    answered.sort();
    for (at, r) in probes.iter().filter(|(_, r)| r.is_err()) {
        if let Err(e) = r {
            println!(
                "  normal request sent at {:.1} s failed: {e}",
                at.as_secs_f64()
            );
        }
    }
    if answered.is_empty() {
        println!("normal requests: 0 of {} answered", probes.len());
    } else {
        println!(
            "normal requests: {} of {} answered within {:?} (fastest {:.1} ms, median {:.1} ms, slowest {:.1} ms)",
            answered.len(),
            probes.len(),
            probe_timeout,
            answered[0].as_secs_f64() * 1e3,
            answered[answered.len() / 2].as_secs_f64() * 1e3,
            answered[answered.len() - 1].as_secs_f64() * 1e3
        );
    }
    !probes.is_empty() && answered.len() == probes.len()
}
