//! Usage per end-user on a service's own Prometheus `/metrics`, through the
//! `metrics` facade (feature `metrics`), with every trace dropped by the
//! sampler: the usage counts every LLM call anyway.
//!
//! A fake model server on 127.0.0.1 answers each completion with token
//! counts; the service makes 300 calls for six end-users, prints what the
//! model handed out per end-user (`EXPECTED {json}`), then `READY`, and
//! serves its metrics on the address given (default 127.0.0.1:9464) for the
//! seconds given (default 120). `scripts/prometheus/run.sh` scrapes it with
//! a real Prometheus and checks the totals with PromQL.
//!
//! ```text
//! cargo run -p neatlogs --example prometheus_usage --features metrics -- 127.0.0.1:9464 60
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::post;
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusBuilder;
use neatlogs::{Config, Sampler, SpanHandle, SpanKind};
use serde_json::{json, Value};

/// The fake model: its token counts follow from the prompt's length.
async fn complete(Json(request): Json<Value>) -> Json<Value> {
    let prompt = request["prompt"].as_str().unwrap_or_default();
    let input = 20 + 3 * prompt.len() as u64;
    let output = 7 + (prompt.len() as u64 * 7) % 53;
    Json(json!({"text": "ok", "usage": {"prompt_tokens": input, "completion_tokens": output}}))
}

fn start_model() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let app = Router::new().route("/v1/completions", post(complete));
            axum::serve(listener, app).await.expect("serve");
        });
    });
    addr
}

fn main() {
    let mut args = std::env::args().skip(1);
    let metrics_addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:9464".into())
        .parse()
        .expect("an address, host:port");
    let serve_for = Duration::from_secs(args.next().map_or(120, |s| s.parse().expect("seconds")));

    PrometheusBuilder::new()
        .with_http_listener(metrics_addr)
        .install()
        .expect("the Prometheus recorder");
    // Nothing is exported and no trace is recorded: the usage still counts.
    neatlogs::init(
        Config::new()
            .default_destination(false)
            .sampler(Sampler::AlwaysOff),
    )
    .expect("init");

    let model = start_model();
    let client = reqwest::blocking::Client::new();
    let mut handed_out: BTreeMap<String, BTreeMap<&str, u64>> = BTreeMap::new();
    for n in 0..300u64 {
        let user = format!("u_{}", n % 6);
        let prompt = "x".repeat((n * 37 % 101) as usize);
        neatlogs::trace("answer").end_user_id(&user).in_scope(|| {
            let mut llm = neatlogs::span(SpanKind::Llm, "completion").enter();
            llm.set_model("fake-1");
            llm.set_provider("fake");
            let reply: Value = client
                .post(format!("http://{model}/v1/completions"))
                .json(&json!({"prompt": prompt}))
                .send()
                .and_then(|r| r.json())
                .expect("the fake model answers");
            let input = reply["usage"]["prompt_tokens"].as_u64().unwrap_or(0);
            let output = reply["usage"]["completion_tokens"].as_u64().unwrap_or(0);
            llm.set_usage(neatlogs::llm::Usage::new(input, output));
            let totals = handed_out.entry(user.clone()).or_default();
            *totals.entry("input").or_default() += input;
            *totals.entry("output").or_default() += output;
        });
    }
    println!(
        "EXPECTED {}",
        serde_json::to_string(&handed_out).expect("json")
    );
    println!("READY metrics on http://{metrics_addr}/metrics");
    std::thread::sleep(serve_for);
}
