//! `AsyncClient`: the asyncio twin of `Client`, over the same core client and session cache.
//!
//! - `await client.session()` answers a cache hit without leaving the event loop: an awaitable
//!   that is already done ([`Ready`]).
//! - On a miss, the tasks of one event loop wait on one trip through the runtime: the first
//!   starts it, each task awaits a future of its own, settled together when the sign-in ends.
//!   A task cancelled (or timed out by `asyncio.wait_for`) cancels only its own future; the
//!   sign-in runs on for the others and the cache stays consistent.

use std::sync::{Arc, Mutex, MutexGuard};

use pyo3::exceptions::{asyncio::CancelledError, PyRuntimeError, PyStopIteration};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyCFunction, PyDict, PyTuple, PyType};

use super::aio;
use super::apis;
use super::args;
use super::calls;
use super::configure::core_client;
use super::errors::IntoPy;
use super::handle::{token_of, Handle};
use super::pages::{to_python, AsyncPages};
use super::response::Response;
use super::session::Session;
use tca_core::client::Client as CoreClient;
use tca_core::{metadata, pulse, vds};

/// The tasks of each event loop waiting on this client's sign-in: (loop, their futures).
type Waiting = Arc<Mutex<Vec<(Py<PyAny>, Vec<Py<PyAny>>)>>>;

/// A client for one Tableau server, site and identity, for asyncio. Takes the same arguments
/// as `Client` and shares its process-wide session cache.
#[pyclass(frozen, subclass, module = "tableau_connected_auth")]
pub struct AsyncClient {
    pub handle: Handle,
    waiting: Waiting,
}

/// What `AsyncClient`'s methods return: a coroutine (it passes `asyncio.iscoroutine`, so
/// `asyncio.run`, `create_task` and `await` all take it). Either already done (a cache hit:
/// `await` gives the value at once, with no event-loop round trip), or started on its first
/// step, inside the running loop, as an asyncio future whose steps it then passes through (so
/// cancelling the task cancels that future).
#[pyclass(frozen, name = "coroutine", module = "tableau_connected_auth")]
pub struct Coroutine {
    step: Mutex<Step>,
}

/// Makes the asyncio future to await, on the coroutine's first step.
type Start = Box<dyn FnOnce(Python<'_>) -> PyResult<Bound<'_, PyAny>> + Send>;

enum Step {
    Done(Py<PyAny>),
    Start(Start),
    /// The iterator of the awaited future (`future.__await__()`).
    Waiting(Py<PyAny>),
    Closed,
}

impl Coroutine {
    /// The iterator to pass a step to: the future's, made now if this is the first step.
    fn steps(&self, py: Python<'_>) -> PyResult<std::result::Result<Py<PyAny>, Py<PyAny>>> {
        let start = {
            let mut step = lock(&self.step);
            match &mut *step {
                Step::Done(v) => return Ok(Err(v.clone_ref(py))),
                Step::Waiting(it) => return Ok(Ok(it.clone_ref(py))),
                Step::Closed => {
                    return Err(PyRuntimeError::new_err(
                        "cannot reuse an already awaited coroutine",
                    ))
                }
                Step::Start(_) => match std::mem::replace(&mut *step, Step::Closed) {
                    Step::Start(f) => f,
                    _ => unreachable!("matched Start"),
                },
            }
        };
        // Called with no lock held: it runs Python code.
        let it = start(py)?.call_method0("__await__")?.unbind();
        *lock(&self.step) = Step::Waiting(it.clone_ref(py));
        Ok(Ok(it))
    }
}

#[pymethods]
impl Coroutine {
    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.send(py, py.None())
    }

    /// The next step; a done coroutine ends at once (StopIteration carries the value).
    fn send(&self, py: Python<'_>, value: Py<PyAny>) -> PyResult<Py<PyAny>> {
        match self.steps(py)? {
            Err(done) => Err(PyStopIteration::new_err((done,))),
            Ok(it) => Ok(it.bind(py).call_method1("send", (value,))?.unbind()),
        }
    }

    #[pyo3(signature = (typ, val = None, tb = None))]
    fn throw(
        &self,
        py: Python<'_>,
        typ: Py<PyAny>,
        val: Option<Py<PyAny>>,
        tb: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let waiting = match &*lock(&self.step) {
            Step::Waiting(it) => Some(it.clone_ref(py)),
            _ => None,
        };
        if let Some(it) = waiting {
            let args = match (val, tb) {
                (None, None) => PyTuple::new(py, [typ])?,
                (val, tb) => PyTuple::new(
                    py,
                    [
                        typ,
                        val.unwrap_or_else(|| py.None()),
                        tb.unwrap_or_else(|| py.None()),
                    ],
                )?,
            };
            return Ok(it.bind(py).call_method1("throw", args)?.unbind());
        }
        // Not started (or done): it ends here, raising what was thrown in.
        *lock(&self.step) = Step::Closed;
        let typ = typ.into_bound(py);
        let exception = match val {
            Some(v) if !v.is_none(py) => v.into_bound(py),
            _ if typ.is_instance_of::<PyType>() => typ.call0()?,
            _ => typ,
        };
        Err(PyErr::from_value(exception))
    }

    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let previous = std::mem::replace(&mut *lock(&self.step), Step::Closed);
        if let Step::Waiting(it) = previous {
            if it.bind(py).hasattr("close")? {
                it.bind(py).call_method0("close")?;
            }
        }
        Ok(())
    }
}

/// A JSON answer, made Python objects where the awaited future completes.
struct Json(serde_json::Value);

impl<'py> IntoPyObject<'py> for Json {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
}

/// A Metadata API answer: its data, its warnings issued as `UserWarning`s.
struct GraphqlData(tca_core::metadata::Answer);

impl<'py> IntoPyObject<'py> for GraphqlData {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        apis::warn(py, &self.0.warnings)?;
        to_python(py, &self.0.data)
    }
}

/// A coroutine already done with `value`.
pub(crate) fn done(py: Python<'_>, value: Py<PyAny>) -> PyResult<Bound<'_, PyAny>> {
    let step = Mutex::new(Step::Done(value));
    Ok(Bound::new(py, Coroutine { step })?.into_any())
}

/// A coroutine that, on its first step, makes an asyncio future with `start` and awaits it.
pub(crate) fn lazy<'py, F>(py: Python<'py>, start: F) -> PyResult<Bound<'py, PyAny>>
where
    F: FnOnce(Python<'_>) -> PyResult<Bound<'_, PyAny>> + Send + 'static,
{
    let step = Mutex::new(Step::Start(Box::new(start)));
    Ok(Bound::new(py, Coroutine { step })?.into_any())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `asyncio.get_running_loop`, looked up once.
fn running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    GET_RUNNING_LOOP
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("asyncio")?.getattr("get_running_loop")?.unbind())
        })?
        .bind(py)
        .call0()
}

/// Settle every future still waiting with what `done` (the one sign-in's future) gave.
fn settle(waiters: Vec<Py<PyAny>>, done: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = done.py();
    let error: Option<Bound<'_, PyAny>> = if done.call_method0("cancelled")?.is_truthy()? {
        Some(
            CancelledError::new_err(())
                .into_value(py)
                .into_bound(py)
                .into_any(),
        )
    } else {
        let e = done.call_method0("exception")?;
        (!e.is_none()).then_some(e)
    };
    let result = match &error {
        Some(_) => None,
        None => Some(done.call_method0("result")?),
    };
    for waiter in waiters {
        let waiter = waiter.bind(py);
        if waiter.call_method0("done")?.is_truthy()? {
            continue;
        }
        match (&error, &result) {
            (Some(e), _) => waiter.call_method1("set_exception", (e,))?,
            (None, Some(r)) => waiter.call_method1("set_result", (r,))?,
            (None, None) => unreachable!("a result or an error"),
        };
    }
    Ok(())
}

impl AsyncClient {
    fn core(&self) -> Arc<CoreClient> {
        self.handle.core.clone()
    }

    /// A future of this loop's one trip through the runtime for the session.
    fn wait_for_sign_in<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let event_loop = running_loop(py)?;
        let waiter = event_loop.call_method0("create_future")?;
        {
            let mut waiting = lock(&self.waiting);
            if let Some((_, waiters)) = waiting.iter_mut().find(|(l, _)| l.is(&event_loop)) {
                waiters.push(waiter.clone().unbind());
                return Ok(waiter);
            }
            waiting.push((event_loop.clone().unbind(), vec![waiter.clone().unbind()]));
        }
        let started = (|| {
            let core = self.core();
            let sign_in = aio::awaitable(py, async move {
                Ok(Session {
                    inner: core.session().await?,
                })
            })?;
            let waiting = self.waiting.clone();
            let this_loop = event_loop.clone().unbind();
            let on_done = PyCFunction::new_closure(
                py,
                None,
                None,
                move |args: &Bound<'_, PyTuple>, _: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
                    let waiters = {
                        let mut waiting = lock(&waiting);
                        match waiting.iter().position(|(l, _)| l.is(&this_loop)) {
                            Some(i) => waiting.remove(i).1,
                            None => Vec::new(),
                        }
                    };
                    settle(waiters, &args.get_item(0)?)
                },
            )?;
            sign_in.call_method1("add_done_callback", (on_done,))?;
            Ok::<_, PyErr>(())
        })();
        if let Err(e) = started {
            lock(&self.waiting).retain(|(l, _)| !l.is(&event_loop));
            return Err(e);
        }
        Ok(waiter)
    }
}

#[pymethods]
impl AsyncClient {
    #[new]
    #[pyo3(signature = (server, **kwargs))]
    #[pyo3(
        text_signature = "(server, *, site=..., credentials=..., api_version=None, timeout=None, connect_timeout=None, retries=None, verify=None, ca_bundle=None, client_cert=None, proxy=None, wire_format=None, impersonate=None, max_session_age=None, rate_limit_max_wait=None, cache='memory')"
    )]
    fn new(server: &Bound<'_, PyAny>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        Ok(AsyncClient {
            handle: Handle::new(core_client("AsyncClient", server, kwargs)?),
            waiting: Arc::default(),
        })
    }

    /// The cached session if it is fresh, else None: never signs in, never waits.
    fn cached_session(&self, py: Python<'_>) -> PyResult<Option<Py<Session>>> {
        self.handle.fresh_cached(py)
    }

    /// The cached session, signing in only when there is no live one. Concurrent tasks (and
    /// threads) that miss wait on one sign-in.
    fn session<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        if let Some(s) = slf.get().handle.fresh_cached(py)? {
            return done(py, s.into_any());
        }
        let this = slf.clone().unbind();
        lazy(py, move |py| {
            let this = this.bind(py).get();
            this.handle.core.check_open().py_err()?;
            this.wait_for_sign_in(py)
        })
    }

    /// Always sign in afresh; the new session replaces the cached one.
    fn sign_in<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core();
        lazy(py, move |py| {
            aio::awaitable(py, async move {
                Ok(Session {
                    inner: core.sign_in().await?,
                })
            })
        })
    }

    /// An authenticated REST call; see `Client.request`.
    #[pyo3(signature = (method, path, *, params = None, json = None, data = None, headers = None, timeout = None))]
    #[allow(clippy::too_many_arguments)]
    fn request<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        path: &str,
        params: Option<&Bound<'py, PyAny>>,
        json: Option<&Bound<'py, PyAny>>,
        data: Option<&Bound<'py, PyAny>>,
        headers: Option<&Bound<'py, PyAny>>,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cfg = self.handle.core.config();
        let request = calls::build(py, cfg, method, path, params, json, data, headers, timeout)?;
        let core = self.core();
        lazy(py, move |py| {
            aio::awaitable(
                py,
                async move { Ok(Response::new(core.call(request).await?)) },
            )
        })
    }

    /// `request("GET", path, ...)`.
    #[pyo3(signature = (path, *, params = None, headers = None, timeout = None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        params: Option<&Bound<'py, PyAny>>,
        headers: Option<&Bound<'py, PyAny>>,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.request(py, "GET", path, params, None, None, headers, timeout)
    }

    /// `request("POST", path, ...)`.
    #[pyo3(signature = (path, *, json = None, data = None, params = None, headers = None, timeout = None))]
    #[allow(clippy::too_many_arguments)]
    fn post<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        json: Option<&Bound<'py, PyAny>>,
        data: Option<&Bound<'py, PyAny>>,
        params: Option<&Bound<'py, PyAny>>,
        headers: Option<&Bound<'py, PyAny>>,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.request(py, "POST", path, params, json, data, headers, timeout)
    }

    /// `Client.paginate`, for `async for`.
    #[pyo3(signature = (path, *, page_size = 100, params = None))]
    fn paginate(
        &self,
        path: &str,
        page_size: i64,
        params: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<AsyncPages> {
        apis::rest_pager(self.core(), path, page_size, params).map(AsyncPages::new)
    }

    /// `Client.graphql`: the query's `data`.
    #[pyo3(signature = (query, variables = None))]
    fn graphql<'py>(
        &self,
        py: Python<'py>,
        query: String,
        variables: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let variables = apis::json_arg(py, variables)?;
        let core = self.core();
        lazy(py, move |py| {
            aio::awaitable(py, async move {
                Ok(GraphqlData(
                    metadata::query(&core, &query, variables.as_ref()).await?,
                ))
            })
        })
    }

    /// `Client.graphql_paginate`, for `async for`.
    #[pyo3(signature = (query, *, connection, variables = None))]
    fn graphql_paginate(
        &self,
        py: Python<'_>,
        query: String,
        connection: &str,
        variables: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<AsyncPages> {
        apis::graphql_pager(py, self.core(), query, connection, variables).map(AsyncPages::new)
    }

    /// `Client.vds`: the JSON answer.
    #[pyo3(signature = (endpoint, datasource, *, query = None, options = None))]
    fn vds<'py>(
        &self,
        py: Python<'py>,
        endpoint: &str,
        datasource: String,
        query: Option<&Bound<'py, PyAny>>,
        options: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let call = apis::vds_call(py, endpoint, query, options)?;
        let core = self.core();
        lazy(py, move |py| {
            aio::awaitable(py, async move {
                Ok(Json(
                    vds::call(&core, call.endpoint, &datasource, call.query, call.options).await?,
                ))
            })
        })
    }

    /// `Client.pulse_paginate`, for `async for`.
    #[pyo3(signature = (resource = "definitions", *, page_size = None, params = None))]
    fn pulse_paginate(
        &self,
        resource: &str,
        page_size: Option<i64>,
        params: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<AsyncPages> {
        apis::pulse_pager(self.core(), resource, page_size, params).map(AsyncPages::new)
    }

    /// `Client.pulse_batch_get`: the items with these ids.
    #[pyo3(signature = (resource, ids, *, view = None))]
    fn pulse_batch_get<'py>(
        &self,
        py: Python<'py>,
        resource: String,
        ids: &Bound<'py, PyAny>,
        view: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ids = apis::ids(ids)?;
        let core = self.core();
        lazy(py, move |py| {
            aio::awaitable(py, async move {
                Ok(Json(serde_json::Value::Array(
                    pulse::batch_get(&core, &resource, ids, view).await?,
                )))
            })
        })
    }

    /// Switch to another site; see `Client.switch_site`.
    fn switch_site<'py>(
        &self,
        py: Python<'py>,
        content_url: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let content_url = args::string(content_url, "content_url")?;
        let core = self.core();
        lazy(py, move |py| {
            aio::awaitable(py, async move {
                Ok(Session {
                    inner: core.switch_site(content_url).await?,
                })
            })
        })
    }

    /// Drop `session` from the cache if it is still the cached one (compare-and-swap). Never
    /// blocks the event loop: with a shared cache (DiskCache, RedisCache) the shared entry is
    /// removed in the background (only if it still holds that token); the answer says whether
    /// this process dropped it.
    fn invalidate(&self, py: Python<'_>, session: &Bound<'_, PyAny>) -> PyResult<bool> {
        let token = token_of(session)?;
        let core = &self.handle.core;
        Ok(py.detach(|| core.invalidate_in_background(token)))
    }

    /// Sign out on the server and drop the session; a dead session is not an error.
    fn sign_out<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core();
        lazy(py, move |py| {
            aio::awaitable(py, async move { core.sign_out().await })
        })
    }

    /// Close this client; signs out of its session unless the session is kept in a cache
    /// other processes share (DiskCache, RedisCache). See `Client.close`.
    fn aclose<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core();
        lazy(py, move |py| {
            aio::awaitable(py, async move { core.close().await })
        })
    }

    fn __aenter__<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        done(slf.py(), slf.into_any().unbind())
    }

    /// Signs out on exit. A failed sign-out is logged, never raised over the block's outcome.
    #[pyo3(signature = (*_exc))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _exc: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core();
        lazy(py, move |py| {
            aio::awaitable(py, async move {
                if let Err(e) = core.close().await {
                    log::warn!("sign-out on leaving the AsyncClient block failed: {e}");
                }
                Ok(false)
            })
        })
    }

    #[getter]
    fn server(&self) -> &str {
        &self.handle.core.config().server
    }

    #[getter]
    fn site(&self) -> &str {
        &self.handle.core.config().site
    }

    #[getter]
    fn api_version(&self) -> &str {
        &self.handle.core.config().api_version
    }

    /// Where sessions are kept: "memory", None, or the DiskCache / RedisCache.
    #[getter]
    fn cache(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.handle.cache(py)
    }

    fn __repr__(&self) -> String {
        self.handle.repr("AsyncClient")
    }
}
