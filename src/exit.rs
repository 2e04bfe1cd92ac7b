//! No thread of ours attaches to Python once the interpreter starts to exit.
//!
//! tokio's threads attach to Python to log (pyo3-log), to finish an asyncio future
//! (pyo3-async-runtimes completes it from a blocking-pool thread), to call a `Jwt` callable and
//! to build exceptions. A thread that attaches, or is still attached, while CPython finalizes is
//! killed inside Python (`pthread_exit`, in 3.11-3.13) and the process dies with SIGSEGV, SIGBUS
//! or "PyGILState_Release: thread state must be current": seen in processes that exit right
//! after `asyncio.run(...)` returns, because the thread that completed the last future was
//! still on its way out of Python.
//!
//! So every such attach goes through [`attach`], which counts itself in and refuses once
//! Python is exiting; and an `atexit` hook (it runs before finalization) says Python is
//! exiting, then, with the GIL released, waits for the attaches in progress to finish.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pyo3::prelude::*;

static EXITING: AtomicBool = AtomicBool::new(false);
static IN_PROGRESS: AtomicUsize = AtomicUsize::new(0);

/// How long the `atexit` hook waits for the attaches in progress (each takes microseconds).
const DRAIN: Duration = Duration::from_secs(2);

struct Counted;

impl Counted {
    fn enter() -> Option<Counted> {
        IN_PROGRESS.fetch_add(1, Ordering::SeqCst);
        let counted = Counted;
        (!EXITING.load(Ordering::SeqCst)).then_some(counted)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        IN_PROGRESS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Run `f` attached to Python, unless Python is exiting (then `None`, and nothing attaches).
pub fn attach<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    let _counted = Counted::enter()?;
    Python::try_attach(f)
}

/// Run `f` (which attaches by itself) counted as an attach in progress, unless Python is
/// exiting (then `f` is dropped unrun).
pub fn counted(f: impl FnOnce()) {
    if let Some(_counted) = Counted::enter() {
        f();
    }
}

/// True once Python has started to exit.
pub fn exiting() -> bool {
    EXITING.load(Ordering::SeqCst)
}

/// The `atexit` hook.
#[pyfunction]
fn _python_is_exiting(py: Python<'_>) {
    EXITING.store(true, Ordering::SeqCst);
    py.detach(|| {
        let started = Instant::now();
        while IN_PROGRESS.load(Ordering::SeqCst) > 0 && started.elapsed() < DRAIN {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// Register the `atexit` hook.
pub fn install(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let hook = wrap_pyfunction!(_python_is_exiting, m)?;
    m.py().import("atexit")?.call_method1("register", (hook,))?;
    Ok(())
}
