//! Iterating over a list page by page: `Pages` (a blocking iterator, from `Client`) and
//! `AsyncPages` (an async iterator, from `AsyncClient`), both over one core `Pager`, which
//! knows how the list pages (REST, Pulse, Metadata API connection). Items reach Python as the
//! objects `json.loads` makes.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use pyo3::exceptions::{PyRuntimeError, PyStopAsyncIteration, PyStopIteration};
use pyo3::prelude::*;
use pyo3::types::PyList;
use serde_json::Value;

use super::aio;
use super::async_client::{done, lazy};
use super::errors::to_pyerr;
use super::wait::wait;
use tca_core::error::Result;
use tca_core::pages::Pager;

/// JSON → Python objects (one `json.loads`).
pub fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?
        .call_method1("loads", (value.to_string(),))
}

/// The pager (taken out while a page is fetched) and the items fetched but not yet handed out.
struct State {
    pager: Mutex<Option<Pager>>,
    items: Mutex<VecDeque<Py<PyAny>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl State {
    fn new(pager: Pager) -> Arc<State> {
        Arc::new(State {
            pager: Mutex::new(Some(pager)),
            items: Mutex::new(VecDeque::new()),
        })
    }

    /// The pager, unless a page is being fetched (or a fetch was interrupted).
    fn take_pager(&self) -> PyResult<Pager> {
        lock(&self.pager).take().ok_or_else(|| {
            PyRuntimeError::new_err(
                "this iterator is fetching a page elsewhere, or its fetch was interrupted: \
                 iterate from one place, or start the listing again",
            )
        })
    }

    fn finished(&self) -> bool {
        lock(&self.pager).as_ref().is_some_and(Pager::finished)
    }

    /// Put the pager back and keep the fetched items; the first one, if any.
    fn keep(
        &self,
        py: Python<'_>,
        pager: Pager,
        fetched: Result<Vec<Value>>,
    ) -> PyResult<Option<Py<PyAny>>> {
        *lock(&self.pager) = Some(pager);
        let fetched = fetched.map_err(to_pyerr)?;
        let list = to_python(py, &Value::Array(fetched))?;
        let list = list.cast::<PyList>()?;
        let mut items = lock(&self.items);
        items.extend(list.iter().map(Bound::unbind));
        Ok(items.pop_front())
    }

    fn next_kept(&self) -> Option<Py<PyAny>> {
        lock(&self.items).pop_front()
    }
}

/// The items of a list, fetched a page at a time as you iterate (the GIL is released while
/// a page is fetched). A session that dies mid-list is replaced and the same page asked again.
#[pyclass(frozen, module = "tableau_connected_auth")]
pub struct Pages {
    state: Arc<State>,
}

impl Pages {
    pub fn new(pager: Pager) -> Pages {
        Pages {
            state: State::new(pager),
        }
    }
}

#[pymethods]
impl Pages {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if let Some(item) = self.state.next_kept() {
            return Ok(item);
        }
        if self.state.finished() {
            return Err(PyStopIteration::new_err(()));
        }
        let mut pager = self.state.take_pager()?;
        let (pager, fetched) = wait(py, async move {
            let fetched = pager.next_page().await;
            Ok((pager, fetched))
        })?;
        match self.state.keep(py, pager, fetched)? {
            Some(item) => Ok(item),
            None => Err(PyStopIteration::new_err(())),
        }
    }

    fn __repr__(&self) -> String {
        format!("<Pages finished={}>", self.state.finished())
    }
}

/// `Pages` for `async for`.
#[pyclass(frozen, module = "tableau_connected_auth")]
pub struct AsyncPages {
    state: Arc<State>,
}

impl AsyncPages {
    pub fn new(pager: Pager) -> AsyncPages {
        AsyncPages {
            state: State::new(pager),
        }
    }
}

/// A fetched page, handed to Python on the thread that completes the awaited future.
struct Fetched {
    state: Arc<State>,
    pager: Pager,
    fetched: Result<Vec<Value>>,
}

impl<'py> IntoPyObject<'py> for Fetched {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.state.keep(py, self.pager, self.fetched)? {
            Some(item) => Ok(item.into_bound(py)),
            None => Err(PyStopAsyncIteration::new_err(())),
        }
    }
}

#[pymethods]
impl AsyncPages {
    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(item) = self.state.next_kept() {
            return done(py, item);
        }
        if self.state.finished() {
            return Err(PyStopAsyncIteration::new_err(()));
        }
        let mut pager = self.state.take_pager()?;
        let state = self.state.clone();
        lazy(py, move |py| {
            aio::awaitable(py, async move {
                let fetched = pager.next_page().await;
                Ok(Fetched {
                    state,
                    pager,
                    fetched,
                })
            })
        })
    }

    fn __repr__(&self) -> String {
        format!("<AsyncPages finished={}>", self.state.finished())
    }
}
