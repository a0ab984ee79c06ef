//! One stack of the end-to-end benchmark in a process of its own: sends
//! request traces over OTLP/HTTP to `otlp_receiver`, shuts the stack down, and
//! prints what it measured as one JSON object on standard output (see
//! `neatlogs_bench::e2e`).
//!
//! ```text
//! e2e_sender --stack neatlogs|otel_sdk --mode paced|full --compression gzip|none \
//!            --receiver 127.0.0.1:PORT [--traces N] [--rate PER_SEC]
//! ```

use std::process::ExitCode;

use neatlogs_bench::e2e::{run, Options};

fn main() -> ExitCode {
    let opts = match Options::parse(std::env::args().skip(1)) {
        Ok(opts) => opts,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match run(&opts) {
        Ok(outcome) => match serde_json::to_string_pretty(&outcome) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("e2e_sender: could not write the result: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("e2e_sender: {e}");
            ExitCode::FAILURE
        }
    }
}
