//! `#[neatlogs::span]` records the function's arguments as the input and its
//! return value as the output, checked on the wire: spans go through the
//! export pipeline into an exporter that encodes OTLP JSON with
//! [`neatlogs::export::OtlpEncoder`], and the tests read the attributes back.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use neatlogs::export::{ExportError, Exporter, OtlpEncoder, Resource};
use serde::Serialize;
use serde_json::{json, Value as Json};

/// One exported span: trace id, name, and attributes (key → the OTLP JSON
/// value, unwrapped: strings, ints as numbers, bools, doubles).
type Exported = (String, String, HashMap<String, Json>);

/// Every exported span.
#[derive(Clone, Default)]
struct Wire(Arc<Mutex<Vec<Exported>>>);

struct Encode(OtlpEncoder, Wire);

impl Exporter for Encode {
    fn export(
        &mut self,
        resource: &Resource,
        batch: &[neatlogs::export::SpanRecord],
    ) -> Result<(), ExportError> {
        let request: Json = serde_json::from_str(self.0.json(resource, batch)).unwrap();
        let spans = request["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .unwrap();
        let mut out = self.1 .0.lock().unwrap();
        for span in spans {
            let attrs = span["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|kv| {
                    let v = &kv["value"];
                    let value = v
                        .get("stringValue")
                        .cloned()
                        .or_else(|| {
                            v.get("intValue")
                                .map(|i| json!(i.as_str().unwrap().parse::<i64>().unwrap()))
                        })
                        .or_else(|| v.get("boolValue").cloned())
                        .or_else(|| v.get("doubleValue").cloned())
                        .unwrap_or(Json::Null);
                    (kv["key"].as_str().unwrap().to_owned(), value)
                })
                .collect();
            out.push((
                span["traceId"].as_str().unwrap().to_owned(),
                span["name"].as_str().unwrap_or_default().to_owned(),
                attrs,
            ));
        }
        Ok(())
    }
}

fn wire() -> &'static Wire {
    static WIRE: OnceLock<Wire> = OnceLock::new();
    WIRE.get_or_init(|| {
        let wire = Wire::default();
        neatlogs::init(
            neatlogs::Config::new()
                .default_destination(false)
                .exporter(Encode(OtlpEncoder::new(), wire.clone())),
        )
        .unwrap();
        wire
    })
}

/// Run `f` as the body of a root named `root`, flush, and return the
/// attributes of the span named `name` in that trace.
fn exported(root: &'static str, name: &str, f: impl FnOnce()) -> HashMap<String, Json> {
    let wire = wire();
    let trace_id = neatlogs::trace(root).in_scope(|| {
        f();
        neatlogs::current_trace_id().unwrap().to_string()
    });
    assert!(neatlogs::flush());
    let spans = wire.0.lock().unwrap();
    spans
        .iter()
        .find(|(t, n, _)| *t == trace_id && n == name)
        .unwrap_or_else(|| panic!("no span `{name}` in trace {trace_id}"))
        .2
        .clone()
}

fn input(attrs: &HashMap<String, Json>) -> Json {
    assert_eq!(attrs["input.mime_type"], "application/json");
    serde_json::from_str(attrs["input.value"].as_str().unwrap()).unwrap()
}

fn output(attrs: &HashMap<String, Json>) -> Json {
    serde_json::from_str(attrs["output.value"].as_str().unwrap()).unwrap()
}

#[derive(Serialize, Clone)]
struct Query {
    text: String,
    limit: u32,
}

/// No `Serialize`, only `Debug`.
#[derive(Debug)]
struct Client {
    #[allow(dead_code)]
    region: &'static str,
}

/// Neither `Serialize` nor `Debug`.
struct Opaque;

#[neatlogs::span(kind = "TOOL")]
fn search(query: &Query, client: &Client, _opaque: Opaque, page: u8) -> Vec<String> {
    vec![format!("{} ({})", query.text, page)]
}

#[test]
fn serialize_debug_and_other_arguments_and_the_return_value() {
    let q = Query {
        text: "refunds".into(),
        limit: 5,
    };
    let attrs = exported("t1", "search", || {
        search(&q, &Client { region: "eu" }, Opaque, 2);
    });
    let args = input(&attrs);
    assert_eq!(args["query"], json!({"text": "refunds", "limit": 5}));
    assert_eq!(args["client"], json!("Client { region: \"eu\" }"));
    assert!(
        args["_opaque"].as_str().unwrap().ends_with("Opaque>"),
        "{args}"
    );
    assert_eq!(args["page"], json!(2));
    assert_eq!(output(&attrs), json!(["refunds (2)"]));
    // The Neatlogs twins, and where the function is.
    assert_eq!(attrs["neatlogs.tool.input"], attrs["input.value"]);
    assert_eq!(attrs["neatlogs.tool.output_mime_type"], "application/json");
    assert_eq!(attrs["code.function.name"], "search");
    assert_eq!(attrs["code.namespace"], "macro_capture");
    assert!(attrs["code.file.path"]
        .as_str()
        .unwrap()
        .ends_with("macro_capture.rs"));
    assert!(attrs["code.line.number"].as_i64().unwrap() > 100);
    assert!(attrs["neatlogs.metrics.duration_ms"].as_f64().unwrap() >= 0.0);
}

#[neatlogs::span]
fn generic<T: Serialize, U: fmt::Debug, V>(t: T, u: U, _v: V) -> usize {
    1
}

#[neatlogs::span]
fn with_impl(items: impl IntoIterator<Item = u8> + fmt::Debug, name: impl AsRef<str>) -> String {
    let _ = items;
    name.as_ref().to_owned()
}

#[test]
fn generics_and_impl_trait_use_what_their_bounds_prove() {
    let attrs = exported("t2", "generic", || {
        generic(json!({"a": 1}), 3_u8, Opaque);
    });
    let args = input(&attrs);
    assert_eq!(args["t"], json!({"a": 1}));
    assert_eq!(args["u"], json!("3"), "Debug is all `U` is known to have");
    assert!(args["_v"].as_str().unwrap().starts_with('<'), "{args}");
    assert_eq!(output(&attrs), json!(1));

    let attrs = exported("t3", "with_impl", || {
        with_impl(vec![1, 2], "n");
    });
    let args = input(&attrs);
    assert_eq!(args["items"], json!("[1, 2]"));
    assert!(args["name"].as_str().unwrap().starts_with('<'), "{args}");
    assert_eq!(output(&attrs), json!("n"));
}

struct Agent {
    name: String,
}

impl Agent {
    #[neatlogs::span(kind = "AGENT")]
    fn answer(&self, question: &str) -> Result<String, fmt::Error> {
        Ok(format!("{}: {question}", self.name))
    }

    #[neatlogs::span(kind = "AGENT")]
    fn fail(&mut self, question: String) -> Result<String, fmt::Error> {
        let _ = question;
        Err(fmt::Error)
    }

    #[neatlogs::span(kind = "AGENT")]
    async fn answer_later(self: Arc<Self>, question: String) -> Result<u32, String> {
        tokio::task::yield_now().await;
        Ok(question.len() as u32)
    }
}

#[test]
fn self_receivers_are_not_captured_and_ok_values_are_the_output() {
    let mut agent = Agent { name: "a".into() };
    let attrs = exported("t4", "answer", || {
        agent.answer("hi").unwrap();
    });
    assert_eq!(input(&attrs), json!({"question": "hi"}));
    assert_eq!(output(&attrs), json!("a: hi"));

    let attrs = exported("t5", "fail", || {
        agent.fail("why".into()).unwrap_err();
    });
    assert_eq!(input(&attrs), json!({"question": "why"}));
    assert!(!attrs.contains_key("output.value"), "an Err is no output");
}

#[test]
fn async_functions_capture_at_the_call_and_record_the_output_at_the_end() {
    let wire = wire();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let agent = Arc::new(Agent { name: "a".into() });
    let trace_id = rt.block_on(neatlogs::trace("t6").instrument(async move {
        assert_eq!(agent.answer_later("four".into()).await, Ok(4));
        neatlogs::current_trace_id().unwrap().to_string()
    }));
    assert!(neatlogs::flush());
    let spans = wire.0.lock().unwrap();
    let (_, _, attrs) = spans
        .iter()
        .find(|(t, n, _)| *t == trace_id && n == "answer_later")
        .unwrap();
    assert_eq!(input(attrs), json!({"question": "four"}));
    assert_eq!(output(attrs), json!(4));
}

#[neatlogs::span(skip(password))]
fn login(user: &str, password: &str) -> bool {
    !user.is_empty() && !password.is_empty()
}

#[neatlogs::span(skip_all, skip_output)]
fn secret(token: &str) -> String {
    token.chars().rev().collect()
}

#[neatlogs::span(kind = "RETRIEVER", input = json!({ "q": query.text }))]
fn retrieve(query: Query, _embedding: Vec<f32>) -> usize {
    query.limit as usize
}

#[test]
fn skip_skip_all_skip_output_and_input_expressions() {
    let attrs = exported("t7", "login", || {
        login("u_1", "hunter2");
    });
    assert_eq!(input(&attrs), json!({"user": "u_1"}));
    assert!(attrs.values().all(|v| !v.to_string().contains("hunter2")));

    let attrs = exported("t8", "secret", || {
        secret("tok_123");
    });
    assert!(!attrs.contains_key("input.value"));
    assert!(!attrs.contains_key("output.value"));
    assert!(attrs.values().all(|v| !v.to_string().contains("tok_123")));
    assert!(!attrs.values().any(|v| v.to_string().contains("321_kot")));

    let q = Query {
        text: "docs".into(),
        limit: 3,
    };
    let attrs = exported("t9", "retrieve", || {
        retrieve(q.clone(), vec![0.5; 4]);
    });
    assert_eq!(input(&attrs), json!({"q": "docs"}));
    assert_eq!(output(&attrs), json!(3));
}

#[neatlogs::span]
fn plain_text() -> &'static str {
    "just text"
}

#[test]
fn a_string_return_is_json_text() {
    let attrs = exported("t10", "plain_text", || {
        plain_text();
    });
    assert_eq!(output(&attrs), json!("just text"));
    assert!(!attrs.contains_key("input.value"), "no arguments, no input");
}
