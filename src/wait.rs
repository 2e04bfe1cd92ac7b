//! Blocking on the runtime from a Python thread: the GIL is released while waiting, and
//! signals are checked every 50 ms so Ctrl-C stops a hung call promptly. Log records the work
//! makes are emitted by the waiting thread each time it wakes (`logs.rs`).

use std::future::Future;
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::time::Duration;

use pyo3::prelude::*;

use super::errors::to_pyerr;
use super::logs;
use tca_core::error::{Error, Result};
use tca_core::transport;

const POLL: Duration = Duration::from_millis(50);

/// Run `fut` on the process runtime and wait for it without holding the GIL.
/// On KeyboardInterrupt (or any signal handler raising) the wait stops and `fut` is dropped;
/// shared work it was waiting on (a single-flight sign-in) runs on in its own task.
pub fn wait<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let (tx, rx) = sync_channel(1);
    let records = logs::Kept::default();
    let work = logs::handing_to(records.sink(), async move {
        let _ = tx.send(fut.await);
    });
    let handle = transport::process().runtime().spawn(work);
    let mut rx = rx;
    loop {
        let (received, back) = py.detach(move || (rx.recv_timeout(POLL), rx));
        rx = back;
        // The records so far (all of them once the answer is in: they were kept before it),
        // and those of runtime work nobody collects, e.g. the single-flight sign-in we wait on.
        records.emit(py);
        logs::flush_later(py);
        match received {
            Ok(result) => return result.map_err(to_pyerr),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(interrupted) = py.check_signals() {
                    handle.abort();
                    return Err(interrupted);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(to_pyerr(Error::Transport(
                    "the request task ended without an answer".into(),
                )))
            }
        }
    }
}
