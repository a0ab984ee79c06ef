//! `neatlogs import FILE`

use std::io::BufReader;
use std::path::Path;

use super::source::warn_skipped;
use super::CliError;
use crate::ingest::read_jsonl;
use crate::store::Store;

pub(crate) fn run(file: &Path, db: &Path) -> Result<(), CliError> {
    let reader = std::fs::File::open(file)
        .map_err(|e| CliError::Other(format!("cannot read {}: {e}", file.display())))?;
    let (batch, report) = read_jsonl(BufReader::new(reader))
        .map_err(|e| CliError::Other(format!("cannot read {}: {e}", file.display())))?;
    warn_skipped(file, &report.skipped);
    let mut store = Store::open(db)?;
    let written = store.write(&batch)?;
    store.optimize()?;
    println!(
        "imported {} spans in {} traces from {} ({} lines, {} skipped) into {}",
        written.spans,
        written.traces,
        file.display(),
        report.lines,
        report.skipped.len(),
        db.display()
    );
    Ok(())
}
