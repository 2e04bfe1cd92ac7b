//! asyncio support: pyo3-async-runtimes' generic bridge driven by *our* fork-aware runtime
//! (its own tokio module keeps a global runtime that a forked child could not use).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pyo3::prelude::*;
use pyo3_async_runtimes::generic::{self, ContextExt, JoinError, Runtime};
use pyo3_async_runtimes::TaskLocals;

use super::errors::to_pyerr;
use super::exit;
use tca_core::error::Result;
use tca_core::transport;

/// The process runtime (rebuilt after fork), as pyo3-async-runtimes sees it.
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

/// An asyncio future (of the running loop) that completes with `fut`'s result. Cancelling it
/// drops `fut`; shared work `fut` waits on (a single-flight sign-in) runs on in its own task.
pub fn awaitable<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let locals = generic::get_current_locals::<ProcessRuntime>(py)?;
    generic::future_into_py_with_locals::<ProcessRuntime, _, T>(py, locals, async move {
        fut.await.map_err(to_pyerr)
    })
}
