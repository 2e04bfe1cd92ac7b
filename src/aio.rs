//! asyncio support: every async method returns an asyncio future of the running loop, whose
//! work runs as one task on *our* fork-aware runtime.
//!
//! How the future is completed:
//!
//! - On Unix, on the loop's own thread. The task leaves its outcome, and its log records, in
//!   the loop's [`Inbox`] and writes a byte to a socket the loop watches (`loop.add_reader`);
//!   the loop wakes and drains the inbox: it builds the result (or the exception), sets it,
//!   and emits the records. No runtime thread attaches to Python for it.
//! - Where a loop has no `add_reader` (Windows' proactor loop), through pyo3-async-runtimes'
//!   generic bridge: it completes the future from a blocking-pool thread that attaches
//!   (`exit.rs` keeps that thread's Python state, and stops it once Python exits). Errors
//!   become exceptions there too, not on the worker.
//!
//! The inbox replaced the bridge on Unix for speed: per `await aclient.sign_in()` the bridge
//! spawned two tasks, handed the result to a blocking-pool thread (a futex wake-up and a
//! context switch), which made a Python thread state to take the GIL and then scheduled the
//! completion with `call_soon_threadsafe` (a second wake-up, of the loop).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pyo3::prelude::*;
use pyo3::IntoPyObjectExt;
use pyo3_async_runtimes::generic::{self, ContextExt, JoinError, Runtime};
use pyo3_async_runtimes::TaskLocals;

use super::errors::to_pyerr;
use super::exit;
use super::logs;
use tca_core::error::Result;
use tca_core::transport;

/// An asyncio future (of the running loop) that completes with `fut`'s result. Cancelling it
/// drops `fut`; shared work `fut` waits on (a single-flight sign-in) runs on in its own task.
pub fn awaitable<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    #[cfg(unix)]
    {
        let running = inbox::running_loop(py)?;
        if let Some(inbox) = inbox::of(py, &running)? {
            return inbox::awaitable(py, &running, inbox, fut);
        }
    }
    let locals = generic::get_current_locals::<ProcessRuntime>(py)?;
    generic::future_into_py_with_locals::<ProcessRuntime, _, Converted<T>>(py, locals, async move {
        Ok(Converted(fut.await))
    })
}

/// A result whose error becomes a Python exception only when the bridge converts it, on the
/// thread that completes the future (attached there anyway), not on the runtime's worker.
struct Converted<T>(Result<T>);

impl<'py, T: IntoPyObject<'py>> IntoPyObject<'py> for Converted<T> {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        logs::flush_later(py);
        match self.0 {
            Ok(value) => value.into_bound_py_any(py),
            Err(e) => Err(to_pyerr(e)),
        }
    }
}

#[cfg(unix)]
mod inbox {
    use std::cell::RefCell;
    use std::future::Future;
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use pyo3::exceptions::PyNotImplementedError;
    use pyo3::prelude::*;
    use pyo3::sync::PyOnceLock;
    use pyo3::{intern, IntoPyObjectExt};

    use super::super::errors::to_pyerr;
    use super::super::logs::{self, OwnedRecord, Sink};
    use tca_core::error::Result;
    use tca_core::transport;

    /// At most this long between a log record and the loop emitting it (as the blocking
    /// caller's polling interval, `wait.rs`).
    const LOG_DELAY: Duration = Duration::from_millis(50);

    type Outcome = Box<dyn for<'py> FnOnce(Python<'py>) -> PyResult<Py<PyAny>> + Send>;

    /// What a runtime task leaves for the loop's thread.
    enum Delivery {
        /// A record the task logged (emitted by the loop, in order).
        Log(OwnedRecord),
        /// The task's end: `future` gets what `outcome` builds, unless it was cancelled.
        Done { future: Py<PyAny>, outcome: Outcome },
    }

    /// One event loop's inbox. Held by the loop (its reader callback) and by the tasks that
    /// will deliver to it, so its sockets live as long as anyone may write to them.
    pub struct Inbox {
        queue: Mutex<Vec<Delivery>>,
        /// A timer will wake the loop for the log records queued (see `deliver`).
        log_timer: AtomicBool,
        /// Written (one byte per delivery) by runtime threads.
        wake: UnixStream,
        /// Watched by the loop (`add_reader`).
        woken: UnixStream,
    }

    impl Inbox {
        fn new() -> std::io::Result<Arc<Inbox>> {
            let (wake, woken) = UnixStream::pair()?;
            wake.set_nonblocking(true)?;
            woken.set_nonblocking(true)?;
            Ok(Arc::new(Inbox {
                queue: Mutex::new(Vec::new()),
                log_timer: AtomicBool::new(false),
                wake,
                woken,
            }))
        }

        /// From a runtime thread, without Python: queue `d`. A task's end wakes the loop at
        /// once. A log record does not: it goes with the end of its task (one wake-up per
        /// call, not two), or, if the task runs on, within [`LOG_DELAY`].
        fn deliver(self: &Arc<Self>, d: Delivery) {
            let ends = matches!(d, Delivery::Done { .. });
            let was_empty = {
                let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                let was_empty = queue.is_empty();
                queue.push(d);
                was_empty
            };
            if ends {
                self.wake();
            } else if was_empty && !self.log_timer.swap(true, Ordering::SeqCst) {
                // Weak: a timer does not keep a closed loop's inbox (and its sockets) open.
                let inbox = Arc::downgrade(self);
                transport::process().runtime().spawn(async move {
                    tokio::time::sleep(LOG_DELAY).await;
                    let Some(inbox) = inbox.upgrade() else {
                        return;
                    };
                    // Disarmed before looking, so a record queued meanwhile arms a new timer
                    // or is seen here.
                    inbox.log_timer.store(false, Ordering::SeqCst);
                    let pending = !inbox
                        .queue
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .is_empty();
                    if pending {
                        inbox.wake();
                    }
                });
            }
        }

        fn wake(&self) {
            // Non-blocking: if the socket is full, the loop has wake-ups pending already.
            let _ = (&self.wake).write(&[1]);
        }

        /// On the loop's thread: everything delivered so far, in order.
        fn drain(&self, py: Python<'_>) {
            let mut bytes = [0u8; 256];
            while let Ok(n) = (&self.woken).read(&mut bytes) {
                if n < bytes.len() {
                    break;
                }
            }
            // Taken after reading the wake-ups: a delivery whose byte was read is in the queue
            // (it is queued before its byte is written); a later one wakes the loop again.
            let items = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|e| e.into_inner()));
            for item in items {
                match item {
                    Delivery::Log(record) => logs::emit(py, &record),
                    Delivery::Done { future, outcome } => complete(future.bind(py), outcome),
                }
            }
            // Before any awaiting task resumes (set_result only schedules it): the records of
            // runtime work nobody collects, e.g. a single-flight sign-in these futures waited on.
            logs::flush_later(py);
        }
    }

    /// Set `future`'s result or exception, unless it is done already (cancelled).
    fn complete(future: &Bound<'_, PyAny>, outcome: Outcome) {
        let py = future.py();
        let done = future
            .call_method0(intern!(py, "done"))
            .and_then(|d| d.is_truthy())
            .unwrap_or(true);
        if done {
            return;
        }
        // A failure here (the future was cancelled by a callback that ran meanwhile) leaves
        // nothing to report.
        let _ = match outcome(py) {
            Ok(value) => future.call_method1(intern!(py, "set_result"), (value,)),
            Err(e) => future.call_method1(intern!(py, "set_exception"), (e.into_value(py),)),
        };
    }

    /// The loop's reader callback for the inbox socket.
    #[pyclass(frozen, module = "tableau_connected_auth")]
    struct InboxReader {
        inbox: Arc<Inbox>,
    }

    #[pymethods]
    impl InboxReader {
        fn __call__(&self, py: Python<'_>) {
            self.inbox.drain(py);
        }
    }

    /// Added to each future: cancelling the future aborts its task (which drops the work).
    #[pyclass(frozen, module = "tableau_connected_auth")]
    struct AbortOnCancel {
        task: tokio::task::AbortHandle,
    }

    #[pymethods]
    impl AbortOnCancel {
        fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
            if future
                .call_method0(intern!(future.py(), "cancelled"))?
                .is_truthy()?
            {
                self.task.abort();
            }
            Ok(())
        }
    }

    /// `asyncio.get_running_loop()` (a RuntimeError outside a running loop).
    pub fn running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        GET_RUNNING_LOOP
            .get_or_try_init(py, || {
                py.import("asyncio")?
                    .getattr("get_running_loop")
                    .map(Bound::unbind)
            })?
            .bind(py)
            .call0()
    }

    /// A loop this thread has run: a weak reference to it, and its inbox (None: the loop has
    /// no `add_reader`).
    struct Known {
        event_loop: Py<PyAny>,
        pid: u32,
        inbox: Option<Arc<Inbox>>,
    }

    thread_local! {
        /// Per thread, as a loop runs on one thread: no lock is held while Python runs.
        static LOOPS: RefCell<Vec<Known>> = const { RefCell::new(Vec::new()) };
    }

    /// The inbox of `running` (made and registered with it on first use in this process), or
    /// None if the loop cannot watch a socket.
    pub fn of(py: Python<'_>, running: &Bound<'_, PyAny>) -> PyResult<Option<Arc<Inbox>>> {
        let pid = transport::pid();
        let found = LOOPS.with(|loops| {
            loops.borrow().iter().find_map(|k| {
                let same =
                    k.pid == pid && k.event_loop.bind(py).call0().is_ok_and(|l| l.is(running));
                same.then(|| k.inbox.clone())
            })
        });
        if let Some(inbox) = found {
            return Ok(inbox);
        }
        // A loop new to this thread (or this process, after a fork). Forget the loops that are
        // gone or closed (their inboxes close once their last task has delivered), and any of
        // another process's: not borrowed while Python runs.
        let mut loops = LOOPS.with(|loops| std::mem::take(&mut *loops.borrow_mut()));
        loops.retain(|k| {
            k.pid == pid
                && k.event_loop.bind(py).call0().is_ok_and(|l| {
                    !l.is_none()
                        && !l
                            .call_method0(intern!(py, "is_closed"))
                            .and_then(|c| c.is_truthy())
                            .unwrap_or(true)
                })
        });
        let inbox = Inbox::new().map_err(|e| {
            pyo3::exceptions::PyOSError::new_err(format!("cannot make the asyncio inbox: {e}"))
        })?;
        let reader = Py::new(
            py,
            InboxReader {
                inbox: inbox.clone(),
            },
        )?;
        let inbox = match running
            .call_method1(intern!(py, "add_reader"), (inbox.woken.as_raw_fd(), reader))
        {
            Ok(_) => Some(inbox),
            Err(e) if e.is_instance_of::<PyNotImplementedError>(py) => None,
            Err(e) => return Err(e),
        };
        static WEAKREF: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let weakref = WEAKREF.get_or_try_init(py, || {
            py.import("weakref")?.getattr("ref").map(Bound::unbind)
        })?;
        loops.push(Known {
            event_loop: weakref.bind(py).call1((running,))?.unbind(),
            pid,
            inbox: inbox.clone(),
        });
        LOOPS.with(|l| {
            let mut l = l.borrow_mut();
            loops.append(&mut l);
            *l = loops;
        });
        Ok(inbox)
    }

    /// A future of `running`, completed through its inbox.
    pub fn awaitable<'py, T, F>(
        py: Python<'py>,
        running: &Bound<'py, PyAny>,
        inbox: Arc<Inbox>,
        fut: F,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        F: Future<Output = Result<T>> + Send + 'static,
        T: for<'a> IntoPyObject<'a> + Send + 'static,
    {
        let future = running.call_method0(intern!(py, "create_future"))?;
        let target = future.clone().unbind();
        let records: Sink = {
            let inbox = inbox.clone();
            Arc::new(move |record| inbox.deliver(Delivery::Log(record)))
        };
        let work = logs::handing_to(records, async move {
            let result = fut.await;
            inbox.deliver(Delivery::Done {
                future: target,
                outcome: Box::new(move |py| match result {
                    Ok(value) => value.into_py_any(py),
                    Err(e) => Err(to_pyerr(e)),
                }),
            });
        });
        let task = transport::process().runtime().spawn(work);
        future.call_method1(
            intern!(py, "add_done_callback"),
            (AbortOnCancel {
                task: task.abort_handle(),
            },),
        )?;
        Ok(future)
    }
}

/// The process runtime (rebuilt after fork), as pyo3-async-runtimes sees it (the fallback).
pub struct ProcessRuntime;

tokio::task_local! {
    static LOCALS: TaskLocals;
}

/// A tokio join error, wrapped for pyo3-async-runtimes.
pub struct TaskFailed(tokio::task::JoinError);

impl JoinError for TaskFailed {
    fn is_panic(&self) -> bool {
        self.0.is_panic()
    }

    fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        self.0.into_panic()
    }
}

/// A tokio join handle whose error is [`TaskFailed`].
pub struct Task(tokio::task::JoinHandle<()>);

impl Future for Task {
    type Output = std::result::Result<(), TaskFailed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map_err(TaskFailed)
    }
}

impl Runtime for ProcessRuntime {
    type JoinError = TaskFailed;
    type JoinHandle = Task;

    fn spawn<F>(fut: F) -> Task
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Task(transport::process().runtime().spawn(fut))
    }

    /// pyo3-async-runtimes completes asyncio futures here (attached to Python): not once Python
    /// is exiting (`exit.rs`); then the completion is dropped (its Python references are
    /// released later by pyo3, without attaching).
    fn spawn_blocking<F>(f: F) -> Task
    where
        F: FnOnce() + Send + 'static,
    {
        Task(
            transport::process()
                .runtime()
                .spawn_blocking(move || exit::counted(f)),
        )
    }
}

impl ContextExt for ProcessRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        Box::pin(LOCALS.scope(locals, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        LOCALS.try_with(Clone::clone).ok()
    }
}
