//! `neatlogs`, the local collector: ingest OTLP traces, store them in
//! SQLite, and filter and analyse them **per end-user**.
//!
//! A trace's end-user is its root span's `neatlogs.end_user.id` (or
//! `enduser.id`); a nested span that carries one is ignored, the same rule
//! as the SDK, enforced again on ingest because other SDKs send data too.
//! The operator (`user.id` on the resource) is stored as the operator,
//! never as the end-user.
//!
//! ```
//! use neatlogs_cli::{filter, ingest, store::Store};
//!
//! let mut store = Store::in_memory()?;
//! let body = br#"{"name":"chat","attributes":{
//!     "neatlogs.end_user.id":"u_812",
//!     "neatlogs.end_user.metadata":"{\"plan\":\"pro\"}"}}"#;
//! let (batch, _trace_id) = ingest::batch_from_simple_trace(body)?;
//! store.write(&batch)?;
//!
//! let pro = filter::parse("end_user starts with u_8 and metadata:plan is pro")?;
//! let traces = store.list_traces(&pro, 50, 0)?;
//! assert_eq!(traces[0].end_user.as_deref(), Some("u_812"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The parts, one concept each: [`filter`] (the filter language to SQL),
//! [`ingest`] (wire formats to rows), [`pricing`] (what an LLM call cost),
//! [`store`] (schema, writes, queries),
//! [`server`] (`neatlogs serve`), [`commands`] (the command line).

#![warn(missing_docs)]

pub mod commands;
pub mod filter;
pub mod ingest;
pub mod pricing;
pub mod render;
pub mod server;
pub mod store;
pub mod time;
