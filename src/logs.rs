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
//! other work on the runtime (the single-flight sign-in task, shared-cache upkeep) are queued,
//! and emitted in order by the next Python thread that the runtime wakes (the callers of that
//! sign-in, before they return) or else within 50 ms by a blocking-pool thread: the runtime's
//! one worker must never wait for the GIL (in a stampede of 1,000 threads that wake every 50 ms
//! to check for Ctrl-C, such a wait stalled every task of the runtime for up to a second).
//! Records made on other threads (the fake's, Python's) are emitted where they are made.

use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, TryLockError};

use log::{Level, Log, Metadata, Record};
use pyo3::prelude::*;

use super::exit;
use tca_core::transport;

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

/// Records made on a runtime thread outside any sink (the single-flight sign-in task, shared
/// cache upkeep), in order, with the id of the process they were made in (a forked child drops
/// its parent's).
static LATER: Mutex<(u32, Vec<OwnedRecord>)> = Mutex::new((0, Vec::new()));
/// Records queued in `LATER`, or taken from it and not emitted yet.
static PENDING: AtomicUsize = AtomicUsize::new(0);
/// Held by whoever emits a batch taken from `LATER`, until it is emitted.
static EMITTING: Mutex<()> = Mutex::new(());
/// The process whose backstop timer is set (0: none; tagged, as a forked child has no timers).
static BACKSTOP: AtomicU32 = AtomicU32::new(0);

/// Queue a record made on a runtime thread outside any sink. No Python here. The Python
/// threads that wait on the runtime emit it when they wake (`flush_later`): the callers of a
/// single-flight sign-in, before they get its session. If none does within [`LATER_DELAY`], a
/// blocking-pool thread does.
fn later(record: OwnedRecord) {
    let me = transport::pid();
    {
        let mut later = lock(&LATER);
        if later.0 != me {
            *later = (me, Vec::new());
            PENDING.store(0, Ordering::SeqCst);
        }
        later.1.push(record);
        PENDING.fetch_add(1, Ordering::SeqCst);
    }
    if BACKSTOP.swap(me, Ordering::SeqCst) != me {
        let runtime = transport::process().runtime();
        runtime.spawn(async {
            tokio::time::sleep(LATER_DELAY).await;
            // Cleared before looking, so a record queued meanwhile sets a new timer or is seen.
            BACKSTOP.store(0, Ordering::SeqCst);
            if PENDING.load(Ordering::SeqCst) > 0 {
                transport::process().runtime().spawn_blocking(|| {
                    exit::attach(flush_later);
                });
            }
        });
    }
}

/// At most this long between a queued record and a blocking-pool thread emitting it.
const LATER_DELAY: std::time::Duration = std::time::Duration::from_millis(50);

/// Emit, from this attached thread, every record queued by [`later`] so far; if another thread
/// is emitting a batch, wait until it is done. So a caller that got the session of a
/// single-flight sign-in finds its records in `logging`, as when they were emitted by the task.
pub fn flush_later(py: Python<'_>) {
    thread_local! {
        /// This thread is emitting a batch (a `logging` handler that calls us back must not
        /// wait for itself).
        static EMITS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if PENDING.load(Ordering::SeqCst) == 0 || EMITS.with(|e| e.get()) {
        return;
    }
    // Taken with the GIL released while waiting: its holder may be waiting for the GIL.
    let _emitting = loop {
        match EMITTING.try_lock() {
            Ok(guard) => break guard,
            Err(TryLockError::Poisoned(p)) => break p.into_inner(),
            Err(TryLockError::WouldBlock) => py.detach(|| drop(lock(&EMITTING))),
        }
    };
    let me = transport::pid();
    let records = {
        let mut later = lock(&LATER);
        if later.0 != me {
            *later = (me, Vec::new());
            PENDING.store(0, Ordering::SeqCst);
        }
        std::mem::take(&mut later.1)
    };
    EMITS.with(|e| e.set(true));
    for record in &records {
        emit(py, record);
    }
    EMITS.with(|e| e.set(false));
    PENDING.fetch_sub(records.len(), Ordering::SeqCst);
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
        let owned = || OwnedRecord {
            level: record.level(),
            target: target
                .clone()
                .unwrap_or_else(|| record.target().to_string()),
            message: record.args().to_string(),
            module_path: record.module_path().map(str::to_string),
            file: record.file().map(str::to_string),
            line: record.line(),
        };
        // Inside work a Python thread waits for: hand the record to that thread.
        if SINK.try_with(|sink| sink(owned())).is_ok() {
            return;
        }
        // Elsewhere on the runtime: to the emitter, never waiting for the GIL here.
        if transport::on_runtime_thread() {
            later(owned());
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
