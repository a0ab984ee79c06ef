//! The `neatlogs` binary.

use std::process::ExitCode;

use clap::Parser;
use neatlogs_cli::commands::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("neatlogs: {e}");
            e.exit_code()
        }
    }
}
