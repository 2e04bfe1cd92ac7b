//! Rust `log` records into Python `logging` (pyo3-log) until Python exits (see `exit.rs`:
//! records come from tokio's threads too, which must not attach to a finalizing interpreter).

use log::{Log, Metadata, Record};
use pyo3::prelude::*;

use super::exit;

struct UntilExit(pyo3_log::Logger);

impl Log for UntilExit {
    fn enabled(&self, metadata: &Metadata) -> bool {
        !exit::exiting() && self.0.enabled(metadata)
    }

    fn log(&self, record: &Record) {
        // Counted as an attach in progress, so the atexit hook waits for it.
        exit::attach(|_| self.0.log(record));
    }

    fn flush(&self) {}
}

/// Install the logger. Levels are read live (only logger objects are cached), so `logging`
/// configured after import, or pytest's caplog, takes effect.
pub fn install(m: &Bound<'_, PyModule>) -> PyResult<()> {
    if let Ok(logger) = pyo3_log::Logger::new(m.py(), pyo3_log::Caching::Loggers) {
        if log::set_boxed_logger(Box::new(UntilExit(logger))).is_ok() {
            // pyo3-log's own default.
            log::set_max_level(log::LevelFilter::Debug);
        }
    }
    Ok(())
}
