//! Usage per end-user stays exact whatever is sampled: the real SDK, calling
//! a fake model server over HTTP 10,000 times for 100 end-users at 5 %
//! head sampling with tail keep on, sends its usage metrics to this
//! collector beside the traces it keeps, and `users` reports the tokens and
//! cost of every LLM call, not only of the stored traces; every trace in
//! which a call failed is kept whole. A sampling rule that sees the
//! end-user keeps every trace of an allow-listed user at a 0 % base rate.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use common::TestServer;
use neatlogs::{Config, Neatlogs, Sampler, SpanHandle, SpanKind, TailKeep};
use neatlogs_cli::filter::parse;
use neatlogs_cli::pricing::{nanos_to_usd, PriceTable, Usage as Tokens};
use neatlogs_cli::store::{Store, UserSort};
use serde_json::{json, Value};

/// The fake model server on 127.0.0.1: `POST /v1/chat/completions` with
/// `{"user": .., "n": ..}` answers token counts that follow from `n`, and
/// adds them to what it handed out per user (its own record, which the
/// collector's figures must equal).
struct FakeModel {
    addr: std::net::SocketAddr,
    handed_out: Arc<Mutex<BTreeMap<String, (i64, i64)>>>,
}

impl FakeModel {
    fn start() -> FakeModel {
        use axum::{routing::post, Json, Router};
        let handed_out: Arc<Mutex<BTreeMap<String, (i64, i64)>>> = Arc::default();
        let book = handed_out.clone();
        let app = Router::new().route(
            "/v1/chat/completions",
            post(move |Json(request): Json<Value>| {
                let book = book.clone();
                async move {
                    let n = request["n"].as_u64().unwrap_or(0);
                    let x = n.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17);
                    let (input, output) = (50 + x % 2000, 5 + (x >> 20) % 700);
                    let user = request["user"].as_str().unwrap_or_default().to_owned();
                    let mut book = book.lock().unwrap();
                    let totals = book.entry(user).or_default();
                    totals.0 += input as i64;
                    totals.1 += output as i64;
                    Json(json!({"usage": {"prompt_tokens": input, "completion_tokens": output}}))
                }
            }),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    axum::serve(listener, app).await.unwrap();
                });
        });
        FakeModel { addr, handed_out }
    }

    /// One completion: its (prompt, completion) tokens.
    fn complete(&self, agent: &ureq::Agent, user: &str, n: u64) -> (u64, u64) {
        let body = json!({"user": user, "n": n}).to_string();
        let mut response = agent
            .post(format!("http://{}/v1/chat/completions", self.addr))
            .header("content-type", "application/json")
            .send(body.as_bytes())
            .expect("the fake model answers");
        let reply: Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        let usage = &reply["usage"];
        (
            usage["prompt_tokens"].as_u64().unwrap(),
            usage["completion_tokens"].as_u64().unwrap(),
        )
    }
}

fn instance(server: &TestServer, config: Config) -> Neatlogs {
    Neatlogs::new(
        config
            .endpoint(format!("http://{}", server.addr))
            .api_key("k")
            .workflow_name("usage-check"),
    )
    .expect("instance")
}

#[test]
fn usage_per_end_user_is_exact_at_five_percent_sampling() {
    let server = TestServer::start(Some("k"));
    let sdk = instance(
        &server,
        Config::new()
            .sampler(Sampler::parent_based(Sampler::TraceIdRatio(0.05)))
            .tail_keep(TailKeep::errors()),
    );
    let mut failed_traces = HashSet::new();
    let model = FakeModel::start();
    let agent = common::agent();
    let mut errors = 0;
    sdk.in_scope(|| {
        for n in 0..10_000u64 {
            let user = format!("u_{:03}", n % 100);
            let failed = n % 100 == 37;
            neatlogs::trace("chat").end_user_id(&user).in_scope(|| {
                if failed {
                    failed_traces.insert(neatlogs::current_trace_id().unwrap().to_string());
                }
                let _tool = neatlogs::span(SpanKind::Tool, "lookup").enter();
                let mut llm = neatlogs::span(SpanKind::Llm, "completion").enter();
                llm.set_model("gpt-4o-mini");
                llm.set_provider("openai");
                let (input, output) = model.complete(&agent, &user, n);
                llm.set_usage(neatlogs::llm::Usage::new(input, output));
                if failed {
                    llm.record_error(&"the model timed out");
                }
            });
            errors += u64::from(failed);
        }
    });
    assert!(sdk.shutdown(), "{:?}", sdk.stats());
    let stats = sdk.stats();
    assert_eq!((stats.dropped, stats.failed), (0, 0), "{stats:?}");
    assert!(stats.usage_reports >= 1, "{stats:?}");
    assert_eq!(stats.usage_reports_failed, 0, "{stats:?}");

    // What the fake model handed out, per end-user: (input, output).
    let handed_out = model.handed_out.lock().unwrap().clone();
    assert_eq!(handed_out.len(), 100);
    let store = Store::open(&server.db()).expect("store");
    let traces = store.list_traces(&Default::default(), 10_000, 0).unwrap();
    let stored = traces.len();
    // Every trace with a failed call, whole: the root, the tool, the call.
    let kept_failed: Vec<_> = traces
        .iter()
        .filter(|t| failed_traces.contains(&t.trace_id))
        .collect();
    assert_eq!(kept_failed.len(), 100, "every failed trace kept");
    for t in &kept_failed {
        assert_eq!(
            (t.span_count, t.error_count, t.has_root),
            (3, 1, true),
            "{t:?}"
        );
    }
    // The head sampler dropped about 95 of them; tail keep kept those.
    assert!((80..=100).contains(&stats.tail_kept), "{stats:?}");
    assert_eq!(stats.tail_fell_back, 0, "{stats:?}");
    // Of the other 9,900, Binomial(9,900, 0.05): 495 ± 22 (one sigma); five
    // sigmas here.
    let others = stored - kept_failed.len();
    assert!(
        (385..=605).contains(&others),
        "{others} other traces stored"
    );

    let exact = store.users(&Default::default(), UserSort::EndUser).unwrap();
    // A filter reports from the stored traces alone: what a backend
    // without the usage metrics would show.
    let from_traces = store
        .users(
            &parse("end_user starts with u_").unwrap(),
            UserSort::EndUser,
        )
        .unwrap();
    assert_eq!(exact.users.len(), 100);
    let prices = PriceTable::builtin();
    let mut sums = [0i64; 4];
    for user in &exact.users {
        let (input, output) = handed_out[&user.end_user];
        assert_eq!(user.usage_source, "usage", "{}", user.end_user);
        assert_eq!(
            (user.input_tokens, user.output_tokens),
            (input, output),
            "{}: the usage metrics count every call",
            user.end_user
        );
        let cost = prices
            .cost(
                "gpt-4o-mini",
                &Tokens {
                    input: Some(input),
                    output: Some(output),
                    ..Tokens::default()
                },
            )
            .unwrap();
        assert_eq!(user.cost_usd, Some(nanos_to_usd(cost)), "{}", user.end_user);
        assert_eq!(user.llm_calls, Some(100), "{}", user.end_user);
        let traced = from_traces
            .users
            .iter()
            .find(|u| u.end_user == user.end_user);
        sums[0] += input + output;
        sums[1] += user.input_tokens + user.output_tokens;
        sums[2] += traced.map_or(0, |u| u.input_tokens + u.output_tokens);
        sums[3] += user.llm_errors.unwrap_or(0);
        assert_eq!(user.traces, traced.map_or(0, |u| u.traces));
    }
    assert_eq!(sums[3] as u64, errors, "failed calls counted");
    // Each trace the head sampler kept stands for 20 (p = 0.05); the
    // failed ones tail keep added stand for nothing more. 10,000 ± 2,200
    // (five sigmas of the kept count, times 20).
    let estimated: f64 = exact.users.iter().map(|u| u.traces_estimated).sum();
    println!("traces run, estimated from the stored ones' sampling probability: {estimated:.0}");
    assert!((7_800.0..=12_200.0).contains(&estimated), "{estimated}");
    println!(
        "10,000 traces, 100 end-users, 5 % sampled, tail keep on errors: {stored} stored ({} failed, {others} others); tokens handed out {}, in `users` from the usage metrics {}, from the stored traces alone {} ({:.1}x low)",
        kept_failed.len(),
        sums[0],
        sums[1],
        sums[2],
        sums[0] as f64 / sums[2].max(1) as f64
    );
    assert_eq!(sums[1], sums[0]);
    let ratio = sums[0] as f64 / sums[2].max(1) as f64;
    // About 10,000 / 595 traces: 16.8 ± 1.
    assert!((11.0..=28.0).contains(&ratio), "{ratio}");
}

#[test]
fn an_allow_listed_end_user_is_kept_at_a_zero_base_rate() {
    let server = TestServer::start(Some("k"));
    let sdk = instance(
        &server,
        Config::new()
            .sampler(Sampler::parent_based(Sampler::TraceIdRatio(0.0)))
            .sampling_rule(|root| (root.end_user_id() == Some("u_vip")).then_some(1.0)),
    );
    sdk.in_scope(|| {
        for n in 0..200 {
            let user = if n % 2 == 0 { "u_vip" } else { "u_free" };
            let mut root = neatlogs::trace("chat").end_user_id(user).enter();
            root.set_attribute("n", n as i64);
            let mut llm = neatlogs::span(SpanKind::Llm, "completion").enter();
            llm.set_model("gpt-4o-mini");
            llm.set_usage(neatlogs::llm::Usage::new(10, 1));
        }
    });
    assert!(sdk.shutdown(), "{:?}", sdk.stats());
    let store = Store::open(&server.db()).expect("store");
    let count = |filter: &str| {
        store
            .list_traces(&parse(filter).unwrap(), 1000, 0)
            .unwrap()
            .len()
    };
    assert_eq!(
        count("end_user is u_vip"),
        100,
        "every trace of the allow-listed user"
    );
    assert_eq!(count("end_user is u_free"), 0, "none of the others at 0 %");
    let report = store.users(&Default::default(), UserSort::EndUser).unwrap();
    let free = report
        .users
        .iter()
        .find(|u| u.end_user == "u_free")
        .unwrap();
    assert_eq!(
        (free.traces, free.input_tokens, free.llm_calls),
        (0, 1000, Some(100))
    );
}
