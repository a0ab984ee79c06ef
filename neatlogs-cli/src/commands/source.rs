//! Opening what a query command reads: a store, or the SDK's JSON-lines
//! file imported into a private in-memory store (no server needed).

use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::{CliError, Source, DEFAULT_DB, DEFAULT_FILE};
use crate::ingest::{read_jsonl, Batch, FileReport};
use crate::pricing::PriceTable;
use crate::store::Store;

/// Opens the source the flags name, or the default one.
pub(crate) fn open(source: &Source) -> Result<Store, CliError> {
    open_priced(source, None)
}

/// [`open`], pricing a file's LLM calls with `prices` (the built-in table
/// when `None`). A store's costs were fixed when its spans were written, so
/// `prices` with a store is an error that says so rather than a flag that
/// silently does nothing.
pub(crate) fn open_priced(source: &Source, prices: Option<&Path>) -> Result<Store, CliError> {
    let refuse_prices = |db: &Path| -> Result<(), CliError> {
        match prices {
            Some(file) => Err(CliError::Other(format!(
                "--prices {} applies to spans as they are stored; the costs in the store {} \
                 were fixed when its spans arrived. Price a store with \
                 `neatlogs serve --prices FILE` or `neatlogs import FILE --prices FILE`, \
                 or read an SDK file with --file PATH --prices FILE",
                file.display(),
                db.display()
            ))),
            None => Ok(()),
        }
    };
    if let Some(file) = &source.file {
        return open_file(file, super::price_table(prices)?);
    }
    if let Some(db) = &source.db {
        refuse_prices(db)?;
        return open_db(db);
    }
    let db = PathBuf::from(DEFAULT_DB);
    if db.exists() {
        refuse_prices(&db)?;
        return open_db(&db);
    }
    let file = PathBuf::from(DEFAULT_FILE);
    if file.exists() {
        return open_file(&file, super::price_table(prices)?);
    }
    Err(CliError::Other(format!(
        "nothing to read: no store at {DEFAULT_DB} and no SDK file at {DEFAULT_FILE}. \
         Run `neatlogs serve` and export to it, or pass --file PATH or --db PATH"
    )))
}

fn open_db(path: &Path) -> Result<Store, CliError> {
    if !path.exists() {
        return Err(CliError::Other(format!(
            "no store at {}: `neatlogs serve --db {0}` or `neatlogs import FILE --db {0}` creates it",
            path.display()
        )));
    }
    Ok(Store::open(path)?)
}

/// Reads a JSON-lines file into memory, warning (on stderr) about lines
/// that do not decode.
fn open_file(path: &Path, prices: PriceTable) -> Result<Store, CliError> {
    let (batch, _) = read_file(path)?;
    let mut store = Store::in_memory()?;
    store.set_prices(prices);
    store.write(&batch)?;
    store.optimize()?;
    Ok(store)
}

/// Reads an SDK JSON-lines file into one batch, warning (on stderr) about
/// lines that do not decode.
pub(crate) fn read_file(path: &Path) -> Result<(Batch, FileReport), CliError> {
    let cannot_read =
        |e: std::io::Error| CliError::Other(format!("cannot read {}: {e}", path.display()));
    // The SDK's usage reports, beside the traces file when it wrote any
    // (with every trace sampled out, only they are written).
    let usage_path = neatlogs::export::usage_file(path);
    let (mut batch, report) = match std::fs::File::open(path) {
        Ok(file) => read_jsonl(BufReader::new(file)).map_err(cannot_read)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && usage_path.exists() => {
            (Batch::default(), FileReport::default())
        }
        Err(e) => return Err(cannot_read(e)),
    };
    warn_skipped(path, &report.skipped);
    if let Ok(usage) = std::fs::File::open(&usage_path) {
        let cannot_read = |e: std::io::Error| {
            CliError::Other(format!("cannot read {}: {e}", usage_path.display()))
        };
        let (usage, usage_report) = read_jsonl(BufReader::new(usage)).map_err(cannot_read)?;
        warn_skipped(&usage_path, &usage_report.skipped);
        batch.usage.extend(usage.usage);
    }
    Ok((batch, report))
}

fn warn_skipped(path: &Path, skipped: &[(usize, String)]) {
    for (line, reason) in skipped.iter().take(5) {
        eprintln!("neatlogs: skipped {}:{line}: {reason}", path.display());
    }
    if skipped.len() > 5 {
        eprintln!(
            "neatlogs: skipped {} more lines of {}",
            skipped.len() - 5,
            path.display()
        );
    }
}
