//! What a span carries beyond its name and attributes: captured inputs and
//! outputs, the LLM call, and where in the code it was opened; and the
//! content policy ([`Config::capture_content`](crate::Config::capture_content),
//! [`Config::mask`](crate::Config::mask)) applied to all of it on the export
//! thread, before any exporter sees a span.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::llm::{LlmCall, Params};
use crate::value::{Attributes, SpanEvent, Status, Value};

/// A captured input or output: text as given, or a JSON value (written as
/// JSON text, with `application/json` as its MIME type).
///
/// ```
/// use neatlogs::export::Captured;
/// let text = Captured::from("hello");
/// assert_eq!((text.as_str(), text.mime_type()), (Some("hello"), "text/plain"));
/// let json = Captured::from(serde_json::json!({"q": "refunds"}));
/// assert_eq!(json.mime_type(), "application/json");
/// assert_eq!(json.as_json().unwrap()["q"], "refunds");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Captured(Repr);

#[derive(Debug, Clone, PartialEq)]
enum Repr {
    Text(Cow<'static, str>),
    /// As handed over: serialised on the export thread.
    Json(serde_json::Value),
    /// Serialised (and masked) on the export thread.
    JsonText(String),
}

impl Captured {
    /// The text: as given, or the JSON text once the export thread wrote it.
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Repr::Text(t) => Some(t),
            Repr::JsonText(t) => Some(t),
            Repr::Json(_) => None,
        }
    }

    /// The JSON value, as given (before export).
    pub fn as_json(&self) -> Option<&serde_json::Value> {
        match &self.0 {
            Repr::Json(v) => Some(v),
            _ => None,
        }
    }

    /// `text/plain` or `application/json`.
    pub fn mime_type(&self) -> &'static str {
        match &self.0 {
            Repr::Text(_) => crate::wire::io::MIME_TEXT,
            Repr::Json(_) | Repr::JsonText(_) => crate::wire::io::MIME_JSON,
        }
    }

    /// The JSON text or the text, written once for the wire.
    fn render(&mut self) {
        if let Repr::Json(v) = &self.0 {
            self.0 = Repr::JsonText(serde_json::to_string(v).unwrap_or_else(|_| "null".into()));
        }
    }
}

impl From<&'static str> for Captured {
    fn from(v: &'static str) -> Self {
        Captured(Repr::Text(Cow::Borrowed(v)))
    }
}
impl From<String> for Captured {
    fn from(v: String) -> Self {
        Captured(Repr::Text(Cow::Owned(v)))
    }
}
impl From<Cow<'static, str>> for Captured {
    fn from(v: Cow<'static, str>) -> Self {
        Captured(Repr::Text(v))
    }
}
impl From<serde_json::Value> for Captured {
    fn from(v: serde_json::Value) -> Self {
        Captured(Repr::Json(v))
    }
}

/// Where a `#[neatlogs::span]` function is (static strings from the macro).
///
/// ```
/// #[neatlogs::span]
/// fn lookup() {}
/// let (_, spans) = neatlogs::testing::with_capture(lookup);
/// let code = spans[0].code().unwrap();
/// assert_eq!(code.function, "lookup");
/// assert!(code.file.ends_with(".rs"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CodeLocation {
    /// The function's name (`code.function.name`).
    pub function: &'static str,
    /// Its module path (`code.namespace`).
    pub namespace: &'static str,
    /// Its file (`code.file.path`).
    pub file: &'static str,
    /// Its line (`code.line.number`).
    pub line: u32,
}

impl CodeLocation {
    #[doc(hidden)]
    pub const fn new(
        function: &'static str,
        namespace: &'static str,
        file: &'static str,
        line: u32,
    ) -> Self {
        CodeLocation {
            function,
            namespace,
            file,
            line,
        }
    }
}

/// A `#[neatlogs::span]` function's span name and where the function is:
/// one static per function, made by the macro. Not public API.
#[doc(hidden)]
#[derive(Debug)]
pub struct Site {
    pub(crate) name: &'static str,
    pub(crate) code: CodeLocation,
}

impl Site {
    #[doc(hidden)]
    pub const fn new(
        name: &'static str,
        function: &'static str,
        namespace: &'static str,
        file: &'static str,
        line: u32,
    ) -> Self {
        Site {
            name,
            code: CodeLocation::new(function, namespace, file, line),
        }
    }
}

/// What most spans never have: captured content, the LLM call, a status.
/// Boxed in the span and allocated only when one of them is given, so that
/// a span without any stays small.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Details {
    pub(crate) input: Option<Captured>,
    pub(crate) output: Option<Captured>,
    pub(crate) description: Option<Cow<'static, str>>,
    pub(crate) llm: Option<LlmCall>,
    pub(crate) status: Status,
    /// Span events, in the order they happened.
    pub(crate) events: Vec<SpanEvent>,
}

impl Details {
    pub(crate) fn llm_mut(&mut self) -> &mut LlmCall {
        self.llm.get_or_insert_with(LlmCall::default)
    }
}

/// Replaces a string that a mask failed on: never the raw value.
pub const MASK_FAILED: &str = "[mask failed]";

type MaskFn = dyn Fn(&str) -> Result<String, String> + Send + Sync;

/// How captured content leaves the process: kept or dropped, masked or not.
#[derive(Clone)]
pub(crate) struct Policy {
    pub(crate) capture: bool,
    pub(crate) mask: Option<Arc<MaskFn>>,
    /// Application attributes whose string values are masked too.
    pub(crate) masked_attributes: Arc<[String]>,
    /// The GenAI vocabulary is written: LLM messages are rendered in its
    /// JSON form (after masking).
    pub(crate) genai: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            capture: true,
            mask: None,
            masked_attributes: Arc::from(Vec::new()),
            genai: false,
        }
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("capture", &self.capture)
            .field("mask", &self.mask.is_some())
            .field("masked_attributes", &self.masked_attributes)
            .field("genai", &self.genai)
            .finish()
    }
}

/// Whether content is captured at all: read by `#[neatlogs::span]` before
/// it serialises arguments, so that nothing is serialised for nothing.
static CAPTURE: AtomicBool = AtomicBool::new(true);

pub(crate) fn set_capture(capture: bool) {
    CAPTURE.store(capture, Ordering::Relaxed);
}

pub(crate) fn capture_enabled() -> bool {
    CAPTURE.load(Ordering::Relaxed)
}

impl Policy {
    /// Apply the policy to a finished span's details and attributes, on the
    /// export thread: drop or mask the content, and write JSON values as
    /// text.
    pub(crate) fn prepare(&self, mut details: Option<&mut Details>, attributes: &mut Attributes) {
        if let Some(details) = details.as_deref_mut() {
            if self.capture {
                self.mask_details(details);
            } else {
                drop_content(details);
            }
            for c in [&mut details.input, &mut details.output]
                .into_iter()
                .flatten()
            {
                c.render();
            }
            if let Some(llm) = &mut details.llm {
                llm.tools
                    .iter_mut()
                    .for_each(crate::llm::ToolDefinition::write);
                if let Some(Params::Given(value)) = llm.invocation_parameters.take() {
                    let text = serde_json::to_string(&value).unwrap_or_else(|_| "{}".into());
                    llm.invocation_parameters = Some(Params::Written { value, text });
                }
                if self.genai {
                    llm.write_genai_messages();
                }
            }
        }
        if self.mask.is_some() && !self.masked_attributes.is_empty() {
            let events = details.map_or(&mut [][..], |d| &mut d.events[..]);
            // The span's attributes, and its events' fields (a `tracing`
            // event's fields are attributes of the same kind).
            let event_attributes = events.iter_mut().flat_map(|e| e.attributes.iter_mut());
            for (key, value) in attributes.iter_mut().chain(event_attributes) {
                if self.masked_attributes.iter().any(|k| k == key) {
                    self.mask_value(value);
                }
            }
        }
    }

    fn mask_details(&self, details: &mut Details) {
        if self.mask.is_none() {
            return;
        }
        for c in [&mut details.input, &mut details.output]
            .into_iter()
            .flatten()
        {
            match &mut c.0 {
                Repr::Text(t) => self.mask_cow(t),
                Repr::Json(v) => self.mask_json(v),
                Repr::JsonText(t) => *t = self.apply(t),
            }
        }
        if let Some(llm) = &mut details.llm {
            for m in llm
                .input_messages
                .iter_mut()
                .chain(llm.output_messages.iter_mut())
            {
                self.mask_cow(&mut m.content);
            }
            for call in &mut llm.tool_calls {
                self.mask_cow(&mut call.arguments);
            }
        }
    }

    /// The mask's answer for `s`; the placeholder when it errs or panics.
    fn apply(&self, s: &str) -> String {
        let Some(mask) = &self.mask else {
            return s.to_owned();
        };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| mask(s))) {
            Ok(Ok(masked)) => masked,
            Ok(Err(e)) => {
                log::warn!("neatlogs: the mask failed ({e}); the value is replaced");
                MASK_FAILED.to_owned()
            }
            Err(_) => {
                log::warn!("neatlogs: the mask panicked; the value is replaced");
                MASK_FAILED.to_owned()
            }
        }
    }

    fn mask_cow(&self, s: &mut Cow<'static, str>) {
        let masked = self.apply(s);
        if masked != **s {
            *s = Cow::Owned(masked);
        }
    }

    fn mask_json(&self, v: &mut serde_json::Value) {
        // Iterative: a deep value cannot overflow the export thread's stack.
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::String(s) => *s = self.apply(s),
                serde_json::Value::Array(items) => stack.extend(items.iter_mut()),
                serde_json::Value::Object(map) => stack.extend(map.values_mut()),
                _ => {}
            }
        }
    }

    fn mask_value(&self, v: &mut Value) {
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            match v {
                Value::Str(s) => self.mask_cow(s),
                Value::Array(items) => stack.extend(items.iter_mut()),
                Value::Map(entries) => stack.extend(entries.iter_mut().map(|(_, v)| v)),
                _ => {}
            }
        }
    }
}

/// Drop every prompt, message, argument, input and output; keep the model,
/// tokens, timings and names.
fn drop_content(details: &mut Details) {
    details.input = None;
    details.output = None;
    if let Some(llm) = &mut details.llm {
        llm.input_messages.clear();
        llm.output_messages.clear();
        for call in &mut llm.tool_calls {
            call.arguments = Cow::Borrowed("");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::SpanKind;
    use crate::record::synthetic::{self, TraceSpec};
    use crate::value::Attributes;

    /// `mask_attributes` reaches the fields of span events as well as the
    /// span's own attributes; other keys are left alone.
    #[test]
    fn masked_attributes_include_event_fields() {
        let trace = synthetic::trace(TraceSpec {
            trace_id: 1,
            root_span_id: 1,
            ..TraceSpec::default()
        });
        let attrs = |v: &str| -> Attributes {
            vec![
                (Cow::Borrowed("app.note"), Value::from(v.to_owned())),
                (Cow::Borrowed("other"), Value::from(v.to_owned())),
            ]
        };
        let record = synthetic::record(
            &trace,
            1,
            None,
            "root",
            SpanKind::Workflow,
            10,
            attrs("mail ada@example.com"),
            Status::Unset,
        );
        let mut record = synthetic::with_events(
            record,
            &[("log".to_owned(), 1, attrs("mail ada@example.com"))],
        );
        let policy = Policy {
            mask: Some(Arc::new(|s: &str| {
                Ok(s.replace("ada@example.com", "[email]"))
            })),
            masked_attributes: Arc::from(vec!["app.note".to_owned()]),
            ..Policy::default()
        };
        policy.prepare(record.details.as_deref_mut(), &mut record.attributes);
        let text = |a: &[(Cow<'static, str>, Value)], key: &str| {
            a.iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, v)| v.as_str().map(str::to_owned))
        };
        assert_eq!(
            text(record.attributes(), "app.note").as_deref(),
            Some("mail [email]")
        );
        let event = &record.events()[0];
        assert_eq!(
            text(event.attributes(), "app.note").as_deref(),
            Some("mail [email]")
        );
        assert_eq!(
            text(event.attributes(), "other").as_deref(),
            Some("mail ada@example.com")
        );
    }
}
