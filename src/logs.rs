//! Rust `log` records into Python `logging` (pyo3-log) until Python exits (see `exit.rs`:
//! records come from tokio's threads too, which must not attach to a finalizing interpreter).
//!
//! A record made inside work that a Python thread is waiting for (a blocking call in
//! `wait.rs`, an asyncio future in `aio.rs`) is not sent to Python from the runtime thread
//! that made it: it is handed to the waiting thread, which emits it, in order, when the call
//! returns or at the latest 50 ms after it was made (the blocking caller wakes that often; the
//! event loop is woken for it). That thread is attached to Python anyway, so the runtime
//! thread never waits for the GIL for a log record: the one `info!` per sign-in used to cost a
//! GIL wait and a Python thread state made and deleted on a tokio worker, ~30 µs. Records of
//! work nobody waits for (the single-flight sign-in task, shared-cache upkeep, the fake) are
//! emitted from their own thread.

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use log::{Level, Log, Metadata, Record};
use pyo3::prelude::*;

use super::exit;

/// The pyo3-log logger every record goes through (its level checks are live: `logging`
/// configured after import, or pytest's caplog, takes effect).
static PYTHON: OnceLock<pyo3_log::Logger> = OnceLock::new();

/// A record taken out of the thread that made it, to be emitted by another.
pub struct OwnedRecord {
    level: Level,
    /// Already the Python logger's name (`python_target`).
    target: String,
    message: String,
    module_path: Option<String>,
    file: Option<String>,
    line: Option<u32>,
}

/// Where the records made inside one task go instead of straight to Python.
pub type Sink = Arc<dyn Fn(OwnedRecord) + Send + Sync>;

tokio::task_local! {
    static SINK: Sink;
}

/// `fut`, with the records made while it runs handed to `sink`.
pub fn handing_to<F: Future>(sink: Sink, fut: F) -> impl Future<Output = F::Output> {
    SINK.scope(sink, fut)
}

/// Records kept for the blocking caller to emit when it wakes.
#[derive(Clone, Default)]
pub struct Kept(Arc<Mutex<Vec<OwnedRecord>>>);

impl Kept {
    pub fn sink(&self) -> Sink {
        let kept = self.0.clone();
        Arc::new(move |record| lock(&kept).push(record))
    }

    /// Emit what was kept so far, on this (attached) thread, in order.
    pub fn emit(&self, py: Python<'_>) {
        let records = std::mem::take(&mut *lock(&self.0));
        for record in &records {
            emit(py, record);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Emit a record made on another thread, from this attached one.
pub fn emit(_py: Python<'_>, r: &OwnedRecord) {
    if exit::exiting() {
        return;
    }
    if let Some(python) = PYTHON.get() {
        python.log(
            &Record::builder()
                .args(format_args!("{}", r.message))
                .level(r.level)
                .target(&r.target)
                .module_path(r.module_path.as_deref())
                .file(r.file.as_deref())
                .line(r.line)
                .build(),
        );
    }
}

struct UntilExit;

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
        let Some(python) = PYTHON.get() else {
            return false;
        };
        match python_target(metadata.target()) {
            Some(target) => python.enabled(
                &Metadata::builder()
                    .level(metadata.level())
                    .target(&target)
                    .build(),
            ),
            None => python.enabled(metadata),
        }
    }

    fn log(&self, record: &Record) {
        if exit::exiting() {
            return;
        }
        let target = python_target(record.target());
        // Inside work a Python thread waits for: hand the record to that thread.
        let handed = SINK.try_with(|sink| {
            sink(OwnedRecord {
                level: record.level(),
                target: target
                    .clone()
                    .unwrap_or_else(|| record.target().to_string()),
                message: record.args().to_string(),
                module_path: record.module_path().map(str::to_string),
                file: record.file().map(str::to_string),
                line: record.line(),
            })
        });
        if handed.is_ok() {
            return;
        }
        let Some(python) = PYTHON.get() else {
            return;
        };
        // Counted as an attach in progress, so the atexit hook waits for it.
        match target {
            Some(target) => {
                let renamed = Record::builder()
                    .args(*record.args())
                    .level(record.level())
                    .target(&target)
                    .module_path(record.module_path())
                    .file(record.file())
                    .line(record.line())
                    .build();
                exit::attach(|_| python.log(&renamed));
            }
            None => {
                exit::attach(|_| python.log(record));
            }
        }
    }

    fn flush(&self) {}
}

/// Install the logger. Levels are read live (only logger objects are cached), so `logging`
/// configured after import, or pytest's caplog, takes effect.
pub fn install(m: &Bound<'_, PyModule>) -> PyResult<()> {
    if let Ok(logger) = pyo3_log::Logger::new(m.py(), pyo3_log::Caching::Loggers) {
        if PYTHON.set(logger).is_ok() && log::set_logger(&UntilExit).is_ok() {
            // pyo3-log's own default.
            log::set_max_level(log::LevelFilter::Debug);
        }
    }
    Ok(())
}
