//! The benchmark harness of issue 7: neatlogs measured side by side with
//! `fastrace`, the OpenTelemetry SDK, and `tracing` + `tracing-opentelemetry`,
//! on one scenario, each stack in its own process.
//!
//! # The scenario
//!
//! One *request trace* is a root span carrying an end-user id and a JSON
//! metadata object, both borrowed from per-request `String`s
//! ([`scenario::Request`]), plus ten sequential child spans. Every span is
//! recorded and handed to the stack's export pipeline, whose exporter discards
//! the batch at the end: after full OTLP protobuf encoding for neatlogs, with
//! no encoding at all for the peers (their no-op `Reporter`/`SpanExporter`).
//!
//! A second scenario, for the stacks that record it ([`driver::LlmSpans`]):
//! one LLM call ([`scenario::Chat`]: two input messages, the reply, token
//! usage) recorded as a span under a root.
//!
//! # Where things are
//!
//! - [`scenario`]: the request data, the child span names, the LLM calls.
//! - [`sink`]: where every exporter ends — a counter, and a gate that can hold
//!   the export thread (a slow or dead receiver).
//! - [`measure`]: process and thread CPU clocks, peak and current RSS.
//! - [`driver`]: the measurements, in order, for any [`driver::Stack`].
//! - [`stacks`]: one file per stack: how it opens the scenario's spans and
//!   how its pipeline is set up.
//! - [`http_layer`]: the HTTP server layer benchmark (`http_layer`): one axum
//!   route with no layer, neatlogs' `TraceLayer`, and tower-http's
//!   `TraceLayer` recorded by `tracing-opentelemetry`.
//! - [`propagation`]: the propagation benchmark: W3C trace context read from
//!   and written to an `http::HeaderMap` by neatlogs and by the
//!   OpenTelemetry SDK.
//! - [`hotpath`]: the calling thread of the `hotpath` and `hotpath_fastrace`
//!   binaries (instruction counts, `callgrind.sh`).
//! - [`e2e`]: the end-to-end run (`e2e.sh`): neatlogs and the OpenTelemetry
//!   SDK, each with its real OTLP/HTTP exporter, sending to a receiver in
//!   another process (the `e2e_sender` and `otlp_receiver` binaries).
//!
//! The stacks' bench targets (`benches/<stack>.rs`) are one line each: they
//! hand a stack to [`driver::run`]; `http_layer` and `propagation` run their
//! own criterion groups. `report.py` turns the stacks' results into the
//! markdown table of `BENCHMARKS.md`.

pub mod driver;
pub mod e2e;
pub mod hotpath;
pub mod http_layer;
pub mod measure;
pub mod propagation;
pub mod scenario;
pub mod sink;
pub mod stacks;
