//! No thread of ours attaches to Python once the interpreter starts to exit.
//!
//! tokio's threads attach to Python to log work no Python thread waits for (`logs.rs`), to
//! finish an asyncio future where the loop cannot do it itself (`aio.rs`: pyo3-async-runtimes
//! completes it from a blocking-pool thread), to call a `Jwt` callable and to build exceptions.
//! A thread that attaches, or is still attached, while CPython finalizes is
//! killed inside Python (`pthread_exit`, in 3.11-3.13) and the process dies with SIGSEGV, SIGBUS
//! or "PyGILState_Release: thread state must be current": seen in processes that exit right
//! after `asyncio.run(...)` returns, because the thread that completed the last future was
//! still on its way out of Python.
//!
//! So every such attach goes through [`attach`], which counts itself in and refuses once
//! Python is exiting; and an `atexit` hook (it runs before finalization) says Python is
//! exiting, then, with the GIL released, waits for the attaches in progress to finish.
//!
//! Those threads also keep the Python thread state of their first attach (see
//! [`keep_thread_state`]), detached between attaches; Python frees it when it finalizes.

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
    keep_thread_state();
    Python::try_attach(f)
}

/// Run `f` (which attaches by itself) counted as an attach in progress, unless Python is
/// exiting (then `f` is dropped unrun).
pub fn counted(f: impl FnOnce()) {
    if let Some(_counted) = Counted::enter() {
        keep_thread_state();
        f();
    }
}

/// What this thread's Python thread state is to us.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ThreadState {
    /// Not looked at yet.
    Unknown,
    /// Python made this thread, or gave it a state of its own: not ours to touch.
    Python,
    /// A thread of ours (a runtime worker or blocking thread) that keeps the state it got on
    /// its first attach, until it ends.
    Kept,
}

/// Ends the kept thread state when its thread ends (not once Python is exiting: the
/// interpreter frees every thread state itself, and touching one then could crash).
struct KeptState(std::cell::Cell<ThreadState>);

impl Drop for KeptState {
    fn drop(&mut self) {
        if self.0.get() != ThreadState::Kept {
            return;
        }
        if let Some(_counted) = Counted::enter() {
            // SAFETY: this thread's own state, made in `keep_thread_state` and detached since;
            // Python is not exiting (counted), so it still exists. Taking it back and releasing
            // the one outstanding `PyGILState_Ensure` deletes it.
            unsafe {
                let state = pyo3::ffi::PyGILState_GetThisThreadState();
                if !state.is_null() {
                    pyo3::ffi::PyEval_RestoreThread(state);
                    pyo3::ffi::PyGILState_Release(pyo3::ffi::PyGILState_STATE::PyGILState_UNLOCKED);
                }
            }
        }
    }
}

thread_local! {
    static STATE: KeptState = const { KeptState(std::cell::Cell::new(ThreadState::Unknown)) };
}

/// Give a thread Python does not know (a tokio worker or blocking thread of ours) a Python
/// thread state that it keeps, detached, for its whole life.
///
/// Without it every attach from such a thread (a log record, the completion of an asyncio
/// future, an exception built for one) made a new thread state and deleted it again:
/// `PyGILState_Ensure` -> `PyThreadState_New`, a fresh frame stack (`mmap`), then `munmap`,
/// whose TLB shootdown interrupts the other cores. About 30 µs per sign-in, half of it in the
/// kernel (benchmarks/README.md). With the state kept, an attach only takes the GIL.
///
/// Called counted (`Counted::enter`), so never while Python exits.
fn keep_thread_state() {
    let _ = STATE.try_with(|kept| {
        if kept.0.get() != ThreadState::Unknown {
            return;
        }
        // SAFETY: Python is initialized (this module is loaded) and not exiting (counted).
        // A thread without a state gets one from `PyGILState_Ensure` (which also takes the
        // GIL) and detaches from it at once; the Ensure stays outstanding, so the later
        // Ensure/Release pairs of `Python::attach` reuse the state instead of deleting it.
        unsafe {
            if !pyo3::ffi::PyGILState_GetThisThreadState().is_null() {
                kept.0.set(ThreadState::Python);
                return;
            }
            pyo3::ffi::PyGILState_Ensure();
            pyo3::ffi::PyEval_SaveThread();
        }
        kept.0.set(ThreadState::Kept);
    });
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
