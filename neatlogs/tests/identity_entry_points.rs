//! Walks docs/wire.md's table "Invalid identity at every entry point": for
//! every Rust entry point and each kind of invalid id, with `init`'s
//! default end-user set, the exported root (decoded OTLP) carries no
//! end-user — never the default — and one warning names where the id came
//! from. The table's rows are read from the document, so a row added there
//! without a check here fails this test.

mod export_support;

use axum::http::request::Parts;
use axum::routing::get;
use axum::Router;
use neatlogs::tower::{RequestIdentity, TraceLayer, Trust};
use opentelemetry_proto::tonic::trace::v1::Span as WireSpan;
use tracing_subscriber::layer::SubscriberExt;

use export_support::{
    app_spans, capture_logs, in_child, init_exporting_to, logs, root_at, serve, str_attr, user_now,
    Receiver,
};

/// Each kind of invalid id, as a name and the id itself.
fn invalid_ids() -> Vec<(&'static str, String)> {
    vec![
        ("newline", "u\nbad".to_owned()),
        ("long", "x".repeat(300)),
        ("bidi", "u_\u{202E}evil".to_owned()),
        ("padded", " u_pad ".to_owned()),
        ("blank", "   ".to_owned()),
    ]
}

/// The same ids percent-encoded for `baggage`.
fn percent(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The entry points of the table, by the first cell of their row, and
/// where each is checked.
const CHECKED_HERE: &[&str] = &[
    "`Config::end_user_id` (the `init` default)",
    "`SpanBuilder::end_user_id` on a root (`trace`, `new_trace`, `span`)",
    "`#[neatlogs::span(end_user_id = ..)]` on a root",
    "`RequestIdentity::end_user_id` from a `TraceLayer` identity function",
    "a `tracing` root span's `neatlogs.end_user.id` / `enduser.id` field",
    "`baggage` `neatlogs.end_user.id`, believed (`extract_trusting_end_user`, `Trust::TraceContextAndEndUser`)",
    "`baggage`, not believed",
    "`EndUserId::new` / `EndUserId::parse`",
];
const CHECKED_ELSEWHERE: &[(&str, &str)] = &[
    (
        "the browser SDK's `endUser` / `endUserId` (client default or per trace)",
        "browser/test/unit/sending.test.mjs, construction.test.mjs",
    ),
    (
        "the collector's ingest: a root's `neatlogs.end_user.id` / `enduser.id` (OTLP or simple trace), a resource's process default",
        "neatlogs-cli/tests/ingest_root_rule.rs",
    ),
];

/// The first cells of the table's rows.
fn table_rows() -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/wire.md"))
        .expect("docs/wire.md");
    let section = doc
        .split("## Invalid identity at every entry point")
        .nth(1)
        .expect("the section is in docs/wire.md");
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter(|l| {
            l.starts_with("| ") && !l.starts_with("| entry point") && !l.starts_with("|---")
        })
        .map(|l| {
            l.trim_start_matches("| ")
                .split(" | ")
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn the_table_has_a_check_for_every_row() {
    let rows = table_rows();
    let mut known: Vec<String> = CHECKED_HERE.iter().map(|s| s.to_string()).collect();
    known.extend(CHECKED_ELSEWHERE.iter().map(|(row, _)| row.to_string()));
    assert_eq!(rows, known, "docs/wire.md's rows and this test's checks");
}

#[neatlogs::span(kind = "WORKFLOW", end_user_id = id, skip_all)]
fn macro_root(id: &str) -> String {
    user_now()
}

fn root_named<'a>(spans: &'a [WireSpan], name: &str) -> &'a WireSpan {
    let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "one root named {name}");
    found[0]
}

fn no_end_user(span: &WireSpan, what: &str) {
    for key in ["neatlogs.end_user.id", "enduser.id"] {
        assert_eq!(
            str_attr(&span.attributes, key),
            None,
            "{what}: {key} on the wire"
        );
    }
    assert!(
        span.parent_span_id.is_empty() || span.flags & 0x200 != 0,
        "{what}: a root"
    );
}

fn warnings_with(needle: &str) -> usize {
    logs()
        .iter()
        .filter(|l| l.starts_with("WARN") && l.contains(needle))
        .count()
}

#[test]
fn an_invalid_id_at_every_entry_point_gives_no_end_user_never_the_default() {
    // In a child process: checks `init` itself (its errors, its process default, servers on worker threads).
    if !in_child(
        "an_invalid_id_at_every_entry_point_gives_no_end_user_never_the_default",
        &[],
    ) {
        return;
    }
    capture_logs();
    let ids = invalid_ids();

    // `Config::end_user_id`: `init` fails, naming the problem, and
    // installs nothing.
    for (kind, id) in &ids {
        let error = neatlogs::init(neatlogs::Config::new().end_user_id(id.as_str()))
            .expect_err(kind)
            .to_string();
        assert!(
            error.contains("invalid default end_user_id"),
            "{kind}: {error}"
        );
    }
    // `EndUserId::new` / `EndUserId::parse`.
    for (kind, id) in &ids {
        assert!(neatlogs::EndUserId::new(id).is_none(), "{kind}");
        assert!(neatlogs::EndUserId::parse(id).is_err(), "{kind}");
    }

    let receiver = Receiver::start();
    init_exporting_to(&receiver, Some("u_default"));

    for (kind, id) in &ids {
        // Builders: `trace`, `new_trace` (also inside another trace), `span`.
        let seen = neatlogs::trace(format!("builder-trace-{kind}"))
            .end_user_id(id.as_str())
            .in_scope(user_now);
        assert_eq!(seen, "-", "{kind}: trace");
        let seen = neatlogs::new_trace(format!("builder-new-trace-{kind}"))
            .end_user_id(id.as_str())
            .in_scope(user_now);
        assert_eq!(seen, "-", "{kind}: new_trace");
        let seen = neatlogs::trace(format!("outer-{kind}"))
            .end_user_id("u_outer")
            .in_scope(|| {
                neatlogs::new_trace(format!("builder-spawned-{kind}"))
                    .end_user_id(id.as_str())
                    .in_scope(user_now)
            });
        assert_eq!(seen, "-", "{kind}: new_trace inside another trace");
        let seen = neatlogs::span(neatlogs::SpanKind::Llm, format!("builder-span-{kind}"))
            .end_user_id(id.as_str())
            .in_scope(user_now);
        assert_eq!(seen, "-", "{kind}: span");

        // The macro.
        assert_eq!(macro_root(id), "-", "{kind}: macro");

        // A `tracing` root span's fields, both keys.
        let subscriber = tracing_subscriber::registry().with(neatlogs::tracing::layer());
        tracing::subscriber::with_default(subscriber, || {
            let name = format!("tracing-{kind}");
            let span = tracing::info_span!(
                "root",
                otel.name = name.as_str(),
                neatlogs.end_user.id = id.as_str()
            );
            assert_eq!(span.in_scope(user_now), "-", "{kind}: tracing field");
            let name = format!("tracing-otel-{kind}");
            let span =
                tracing::info_span!("root", otel.name = name.as_str(), enduser.id = id.as_str());
            assert_eq!(span.in_scope(user_now), "-", "{kind}: tracing enduser.id");
        });

        // Believed baggage through `extract_trusting_end_user`.
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        headers.insert(
            "baggage",
            format!("neatlogs.end_user.id={}", percent(id))
                .parse()
                .unwrap(),
        );
        let cx = neatlogs::propagation::extract_trusting_end_user(&headers);
        let _g = cx.attach();
        let seen = neatlogs::trace(format!("baggage-{kind}")).in_scope(user_now);
        assert_eq!(seen, "-", "{kind}: believed baggage");
    }

    // The layer: the identity function's id, believed baggage, and baggage
    // that is not believed (not read: the service's own default stands).
    fn identity(parts: &Parts) -> RequestIdentity {
        let id = parts.headers.get("x-user").and_then(|v| v.to_str().ok());
        match id.map(|id| {
            percent_encoding::percent_decode_str(id)
                .decode_utf8_lossy()
                .into_owned()
        }) {
            Some(id) => RequestIdentity::new().end_user_id(id),
            None => RequestIdentity::default(),
        }
    }
    let runtime = export_support::runtime();
    let answers = runtime.block_on(async {
        let layered = |trust: Trust| {
            Router::new()
                .route("/{case}", get(|| async { user_now() }))
                .layer(TraceLayer::new().identity(identity).trust(move |_| trust))
        };
        let plain = serve(layered(Trust::Nothing)).await;
        let believing = serve(layered(Trust::TraceContextAndEndUser)).await;
        let client = reqwest::Client::new();
        let mut answers = Vec::new();
        for (kind, id) in &ids {
            let encoded = percent(id);
            let baggage = format!("neatlogs.end_user.id={encoded}");
            let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
            for (case, addr, user, baggage) in [
                (
                    format!("layer-identity-{kind}"),
                    plain,
                    Some(encoded.clone()),
                    None,
                ),
                (
                    format!("layer-baggage-{kind}"),
                    believing,
                    None,
                    Some(baggage.clone()),
                ),
                (
                    format!("layer-unbelieved-{kind}"),
                    plain,
                    None,
                    Some(baggage.clone()),
                ),
            ] {
                let mut request = client
                    .get(format!("http://{addr}/{case}"))
                    .header("traceparent", traceparent);
                if let Some(user) = user {
                    request = request.header("x-user", user);
                }
                if let Some(baggage) = baggage {
                    request = request.header("baggage", baggage);
                }
                let seen = request.send().await.unwrap().text().await.unwrap();
                answers.push((case, seen));
            }
        }
        answers
    });
    drop(runtime);
    assert!(neatlogs::shutdown(), "everything exported");
    let spans = app_spans(&receiver.accepted_spans());

    for (kind, _) in &ids {
        for name in [
            format!("builder-trace-{kind}"),
            format!("builder-new-trace-{kind}"),
            format!("builder-spawned-{kind}"),
            format!("builder-span-{kind}"),
            format!("tracing-{kind}"),
            format!("tracing-otel-{kind}"),
            format!("baggage-{kind}"),
        ] {
            no_end_user(root_named(&spans, &name), &name);
        }
        let spawned = root_named(&spans, &format!("builder-spawned-{kind}"));
        assert_eq!(
            spawned.links.len(),
            1,
            "a new trace inside another is linked to it"
        );
    }
    let macro_roots: Vec<_> = spans.iter().filter(|s| s.name == "macro_root").collect();
    assert_eq!(macro_roots.len(), ids.len());
    for root in macro_roots {
        no_end_user(root, "macro");
    }
    for (case, seen) in &answers {
        let root = root_at(&spans, &format!("/{case}"));
        if case.starts_with("layer-unbelieved") {
            // Not read at all: the service's own resolution (the default).
            assert_eq!(seen, "u_default", "{case}");
            assert_eq!(
                str_attr(&root.attributes, "neatlogs.end_user.id"),
                Some("u_default")
            );
        } else {
            assert_eq!(seen, "-", "{case}: current_end_user()");
            no_end_user(root, case);
        }
    }
    // One warning per invalid id, naming where it came from.
    let n = ids.len();
    assert_eq!(warnings_with("given to the trace builder"), 4 * n);
    assert_eq!(warnings_with("given to #[neatlogs::span] `macro_root`"), n);
    assert_eq!(warnings_with("given as a tracing field"), 2 * n);
    assert_eq!(warnings_with("sent by the caller in baggage"), 2 * n);
    assert_eq!(
        warnings_with("returned by the TraceLayer identity function"),
        n
    );
    let defaulted: Vec<_> = spans
        .iter()
        .filter(|s| str_attr(&s.attributes, "neatlogs.end_user.id") == Some("u_default"))
        .filter(|s| {
            !str_attr(&s.attributes, "url.path").is_some_and(|p| p.starts_with("/layer-unbelieved"))
        })
        .map(|s| s.name.clone())
        .collect();
    assert!(
        defaulted.is_empty(),
        "the default stood in for an invalid id: {defaulted:?}"
    );
    println!(
        "[report] {} kinds of invalid id through {} entry points: no end-user on the wire, never u_default",
        n,
        CHECKED_HERE.len()
    );
}
