//! `neatlogs import FILE`

use std::path::Path;

use super::source::read_file;
use super::CliError;
use crate::pricing::PriceTable;
use crate::store::Store;

pub(crate) fn run(file: &Path, db: &Path, prices: PriceTable) -> Result<(), CliError> {
    let (batch, report) = read_file(file)?;
    let mut store = Store::open(db)?;
    store.set_prices(prices);
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
