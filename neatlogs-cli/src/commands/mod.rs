//! The `neatlogs` command line: one file per command.

mod import;
mod serve;
mod sessions;
mod source;
mod trace;
mod traces;
mod users;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};

use crate::filter::{self, Filter};
use crate::pricing::{PriceError, PriceTable};
use crate::server;
use crate::store::{StoreError, UserSort};

/// Where the store lives unless `--db` says otherwise.
pub const DEFAULT_DB: &str = ".neatlogs/neatlogs.db";
/// Where the SDK writes traces when it has no endpoint and no API key.
pub const DEFAULT_FILE: &str = ".neatlogs/traces.jsonl";

/// The filter language, shown under `--help` of the query commands.
const FILTER_HELP: &str = "\
Filters (several --filter combine with AND; so does `and` inside one):
  end_user is u_812            end_user is not u_1         end_user is any of u_1, u_2
  end_user contains 81         end_user starts with u_8    end_user ends with _812
  end_user is set              end_user is not set         metadata:plan is pro
  session is s_1               workflow is support-chat    name contains chat
  status is error              metadata:org.tier is gold   name is \"support chat\"
Fields: end_user, session, workflow, name, status, metadata:KEY (dotted for nested keys).
Operators: is, is not, contains, does not contain, starts with, ends with,
is any of a, b, is none of a, b, is set, is not set.";

/// A local collector that stores traces and filters and analyses them per
/// end-user.
#[derive(Debug, Parser)]
#[command(name = "neatlogs", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the collector: OTLP/HTTP on /v1/traces, the browser SDK on
    /// /v1/trace, the JSON API on /api, the traces page on /.
    Serve {
        /// Address to listen on. Anything but loopback needs --api-key.
        #[arg(long, default_value = "127.0.0.1:4318")]
        listen: String,
        /// SQLite store.
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
        /// Require this key on ingest and the API (x-api-key or
        /// Authorization: Bearer). Prefer setting NEATLOGS_API_KEY: a key
        /// given on the command line is visible to other users in `ps`.
        #[arg(long, env = "NEATLOGS_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
        /// Limits that keep the collector up under load and attack.
        #[command(flatten)]
        limits: ServeLimits,
        /// Price LLM calls with this file's prices over the built-in table
        /// (JSON, or TOML when it ends in .toml; see docs/llm-data.md).
        #[arg(long, value_name = "FILE")]
        prices: Option<PathBuf>,
        /// Also answer requests whose Host header is NAME (repeatable; a
        /// leading dot admits every name under it). On loopback the
        /// collector answers only to IP addresses and localhost, so that no
        /// other site can rebind its own name to it; on any other address
        /// it answers every name unless this is given.
        #[arg(long = "allow-host", value_name = "NAME")]
        allow_host: Vec<String>,
        /// Reader connections: how many queries run at once.
        #[arg(long, value_name = "N", default_value_t = server::DEFAULT_READERS,
              value_parser = clap::value_parser!(u16).range(1..=256).map(usize::from))]
        readers: usize,
        /// Longest a query may run (and wait for a free reader), in
        /// seconds; a query stopped by it gets a 503 asking for a narrower
        /// filter.
        #[arg(long, value_name = "SECONDS", value_parser = serve::parse_seconds,
              default_value_t = server::DEFAULT_QUERY_TIME_LIMIT.as_secs_f64())]
        query_timeout: f64,
        /// Browser tests only: serve the files under DIR at /__test/
        /// (loopback addresses only). Built with the `test-fixtures`
        /// feature.
        #[cfg(feature = "test-fixtures")]
        #[arg(long, value_name = "DIR", hide = true)]
        dev_fixtures: Option<PathBuf>,
    },
    /// List traces, newest first.
    #[command(after_help = FILTER_HELP)]
    Traces {
        /// Which traces.
        #[command(flatten)]
        filters: Filters,
        /// Where to read.
        #[command(flatten)]
        source: Source,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
        /// At most this many traces.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Skip this many traces first.
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// Usage per end-user: traces, sessions, spans, errors, tokens, cost,
    /// p50/p95 duration, first/last seen, latest metadata.
    #[command(after_help = FILTER_HELP)]
    Users {
        /// Which traces.
        #[command(flatten)]
        filters: Filters,
        /// Where to read.
        #[command(flatten)]
        source: Source,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
        /// last_seen, first_seen, tokens, cost, traces, sessions, spans,
        /// errors, p95 or end_user.
        #[arg(long, default_value = "last_seen")]
        sort: UserSort,
        /// With --file: price LLM calls with this file's prices over the
        /// built-in table. A store's costs were fixed when its spans
        /// arrived (`neatlogs serve --prices`, `neatlogs import --prices`).
        #[arg(long, value_name = "FILE")]
        prices: Option<PathBuf>,
    },
    /// Sessions with their end-user rolled up (flagged when turns disagree).
    #[command(after_help = FILTER_HELP)]
    Sessions {
        /// Which traces.
        #[command(flatten)]
        filters: Filters,
        /// Where to read.
        #[command(flatten)]
        source: Source,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
        /// At most this many sessions.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// One trace as a tree, with its end-user on the root.
    Trace {
        /// Trace id, or a unique prefix of it.
        id: String,
        /// Where to read.
        #[command(flatten)]
        source: Source,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Load an SDK JSON-lines file (OTLP JSON, one request per line) into
    /// the store. Spans already stored are replaced, not duplicated.
    Import {
        /// The file, e.g. .neatlogs/traces.jsonl.
        file: PathBuf,
        /// SQLite store.
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
        /// Price LLM calls with this file's prices over the built-in table.
        #[arg(long, value_name = "FILE")]
        prices: Option<PathBuf>,
    },
}

/// `neatlogs serve`'s limits (see docs/hardening.md).
#[derive(Debug, Args)]
pub struct ServeLimits {
    /// Memory, in MiB, that ingest requests in progress may hold together
    /// (bodies, inflated gzip and zstd, and decoding at an estimated 24 bytes per
    /// protobuf byte, 12 per JSON byte). A request beyond it is answered
    /// 503 with Retry-After (the SDK retries), one larger than all of it
    /// 413. For real spans, peak memory stays within this plus ~64 MiB
    /// (docs/hardening.md).
    #[arg(long, value_name = "MIB", default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..))]
    pub ingest_memory: u64,
    /// Most connections open at once [default: 1024, or the open-file
    /// limit less 64 if lower]. At the limit, a new connection takes the
    /// slot of the one idle longest.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: Option<u64>,
    /// Seconds a client may take to send a request's headers; idle
    /// keep-alive connections are closed after it too.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = seconds)]
    pub header_timeout: std::time::Duration,
    /// Seconds a client may take to send an ingest body (408 after it).
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = seconds)]
    pub body_timeout: std::time::Duration,
}

impl ServeLimits {
    /// The server's limits.
    pub fn to_limits(&self) -> crate::server::Limits {
        use crate::server::{ConnectionLimits, IngestLimits, Limits};
        Limits {
            ingest: IngestLimits {
                memory: usize::try_from(self.ingest_memory.saturating_mul(1024 * 1024))
                    .unwrap_or(usize::MAX),
                body_timeout: self.body_timeout,
            },
            connections: ConnectionLimits {
                max_connections: self
                    .max_connections
                    .map_or_else(crate::server::default_max_connections, |n| {
                        usize::try_from(n).unwrap_or(usize::MAX)
                    }),
                header_timeout: self.header_timeout,
            },
        }
    }
}

/// A positive number of seconds, e.g. `10` or `0.5`.
fn seconds(value: &str) -> Result<std::time::Duration, String> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .map(std::time::Duration::from_secs_f64)
        .ok_or_else(|| {
            format!(
                "expected a number of seconds between 0 and 86400, e.g. 10 or 0.5, not `{value}`"
            )
        })
}

/// `--filter EXPR`, repeatable.
#[derive(Debug, Args, Default)]
pub struct Filters {
    /// Filter, e.g. 'end_user starts with u_' or 'metadata:plan is pro'.
    /// Repeat to combine with AND.
    #[arg(long = "filter", short = 'f', value_name = "EXPR")]
    pub filters: Vec<String>,
}

/// Where to read from. Default: the store at .neatlogs/neatlogs.db if it
/// exists, else the SDK's file .neatlogs/traces.jsonl.
#[derive(Debug, Args, Default)]
pub struct Source {
    /// Read an SDK JSON-lines file directly (no server, nothing written).
    #[arg(long, value_name = "PATH", conflicts_with = "db")]
    pub file: Option<PathBuf>,
    /// Read this SQLite store.
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A `--filter` that does not parse; printed with a caret under the
    /// offending column.
    #[error("invalid filter: {error}\n  {expression}\n  {caret}")]
    Filter {
        /// The expression.
        expression: String,
        /// The parse error.
        error: filter::FilterError,
        /// `^` under the column.
        caret: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A `--prices` file that cannot be used.
    #[error(transparent)]
    Prices(#[from] PriceError),
    /// Anything else, with a message that says what to do.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// 2 for input mistakes, 1 for everything else.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Filter { .. } | CliError::Prices(_) => ExitCode::from(2),
            _ => ExitCode::from(1),
        }
    }
}

impl Filters {
    /// All `--filter`s, combined with `and`.
    pub fn parse(&self) -> Result<Filter, CliError> {
        let mut combined = Filter::default();
        for expression in &self.filters {
            let parsed = filter::parse(expression).map_err(|error| CliError::Filter {
                caret: format!(
                    "{}^",
                    " ".repeat(
                        error
                            .column
                            .saturating_sub(1)
                            .min(expression.chars().count())
                    )
                ),
                expression: expression.clone(),
                error,
            })?;
            combined = combined.and(parsed);
        }
        Ok(combined)
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve {
            listen,
            db,
            api_key,
            limits,
            prices,
            allow_host,
            readers,
            query_timeout,
            #[cfg(feature = "test-fixtures")]
            dev_fixtures,
        } => serve::run(
            &listen,
            &db,
            serve::Settings {
                api_key,
                allow_host,
                readers,
                query_timeout,
                limits: limits.to_limits(),
                prices: price_table(prices.as_deref())?,
            },
            #[cfg(feature = "test-fixtures")]
            dev_fixtures,
        ),
        Command::Traces {
            filters,
            source,
            json,
            limit,
            offset,
        } => traces::run(&filters.parse()?, &source, json, limit, offset),
        Command::Users {
            filters,
            source,
            json,
            sort,
            prices,
        } => users::run(&filters.parse()?, &source, json, sort, prices.as_deref()),
        Command::Sessions {
            filters,
            source,
            json,
            limit,
        } => sessions::run(&filters.parse()?, &source, json, limit),
        Command::Trace { id, source, json } => trace::run(&id, &source, json),
        Command::Import { file, db, prices } => {
            import::run(&file, &db, price_table(prices.as_deref())?)
        }
    }
}

/// The built-in price table, with `--prices FILE` over it when given.
fn price_table(file: Option<&Path>) -> Result<PriceTable, CliError> {
    Ok(match file {
        Some(path) => PriceTable::builtin_with_file(path)?,
        None => PriceTable::builtin(),
    })
}

/// Prints JSON to stdout.
fn print_json<T: serde::Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Other(format!("cannot encode JSON: {e}")))?;
    println!("{text}");
    Ok(())
}
