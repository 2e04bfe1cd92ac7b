//! Rust `log` records into Python `logging` (pyo3-log) until Python exits (see `exit.rs`:
//! records come from tokio's threads too, which must not attach to a finalizing interpreter).

use log::{Log, Metadata, Record};
use pyo3::prelude::*;

use super::exit;

struct UntilExit(pyo3_log::Logger);

/// Python logger names stay under the package: `tca_core::client` logs to
/// `tableau_connected_auth.core.client`, `tca_fake::server` to `tableau_connected_auth.fake.server`.
fn python_target(target: &str) -> Option<String> {
    let (crate_name, rest) = target.split_once("::").unwrap_or((target, ""));
    let layer = crate_name.strip_prefix("tca_")?;
    let sep = if rest.is_empty() { "" } else { "::" };
    Some(format!("tableau_connected_auth::{layer}{sep}{rest}"))
}

impl Log for UntilExit {
    fn enabled(&self, metadata: &Metadata) -> bool {
        if exit::exiting() {
            return false;
        }
        match python_target(metadata.target()) {
            Some(target) => self.0.enabled(
                &Metadata::builder()
                    .level(metadata.level())
                    .target(&target)
                    .build(),
            ),
            None => self.0.enabled(metadata),
        }
    }

    fn log(&self, record: &Record) {
        // Counted as an attach in progress, so the atexit hook waits for it.
        match python_target(record.target()) {
            Some(target) => {
                let renamed = Record::builder()
                    .args(*record.args())
                    .level(record.level())
                    .target(&target)
                    .module_path(record.module_path())
                    .file(record.file())
                    .line(record.line())
                    .build();
                exit::attach(|_| self.0.log(&renamed));
            }
            None => {
                exit::attach(|_| self.0.log(record));
            }
        }
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
