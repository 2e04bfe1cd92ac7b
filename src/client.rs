//! The blocking `Client`: one (server, site, credentials) and its cached session. Its
//! asyncio twin is `async_client.rs`; both call the one core client (`tca_core::client`).

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::apis;
use super::args;
use super::calls;
use super::configure::core_client;
use super::errors::IntoPy;
use super::handle::{token_of, Handle};
use super::pages::{to_python, Pages};
use super::response::Response;
use super::session::Session;
use super::wait::wait;
use tca_core::client::{Client as CoreClient, Lookup};
use tca_core::{metadata, pulse, vds};

/// A client for one Tableau server, site and identity. Sessions are cached process-wide:
/// clients with the same configuration share one session (and, with a shared cache, share it
/// with other processes).
#[pyclass(frozen, subclass, module = "tableau_connected_auth")]
pub struct Client {
    pub handle: Handle,
}

impl Client {
    /// The core client, for a future that outlives this call.
    fn core(&self) -> Arc<CoreClient> {
        self.handle.core.clone()
    }
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (server, **kwargs))]
    #[pyo3(
        text_signature = "(server, *, site=..., credentials=..., api_version=None, timeout=None, connect_timeout=None, retries=None, verify=None, ca_bundle=None, client_cert=None, proxy=None, wire_format=None, impersonate=None, max_session_age=None, rate_limit_max_wait=None, cache='memory')"
    )]
    fn new(server: &Bound<'_, PyAny>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        Ok(Client {
            handle: Handle::new(core_client("Client", server, kwargs)?),
        })
    }

    /// The cached session if it is fresh, else None: never signs in, never waits.
    fn cached_session(&self, py: Python<'_>) -> PyResult<Option<Py<Session>>> {
        self.handle.fresh_cached(py)
    }

    /// The cached session, signing in only when there is no live one. Concurrent callers
    /// that miss wait on one sign-in.
    fn session(&self, py: Python<'_>) -> PyResult<Py<Session>> {
        if let Some(s) = self.handle.fresh_cached(py)? {
            return Ok(s);
        }
        // Without the GIL: the lookup may read the disk cache and log, and its lock is also
        // taken by runtime threads that may be waiting for the GIL to log.
        let core = &self.handle.core;
        let session = match py.detach(|| core.lookup()).py_err()? {
            Lookup::Hit(s) => s,
            waiting => wait(py, waiting.session())?,
        };
        self.handle.wrap(py, session)
    }

    /// Always sign in afresh; the new session replaces the cached one.
    fn sign_in(&self, py: Python<'_>) -> PyResult<Py<Session>> {
        let core = self.core();
        let session = wait(py, async move { core.sign_in().await })?;
        self.handle.wrap(py, session)
    }

    /// Send an authenticated REST call with the cached session. `path` is site-relative
    /// ("workbooks" → .../sites/{site_id}/workbooks) or server-absolute ("/api/3.24/serverinfo").
    /// A 401 that says the session is dead (401000/401002) signs in again and retries once.
    #[pyo3(signature = (method, path, *, params = None, json = None, data = None, headers = None, timeout = None))]
    #[allow(clippy::too_many_arguments)]
    fn request(
        &self,
        py: Python<'_>,
        method: &str,
        path: &str,
        params: Option<&Bound<'_, PyAny>>,
        json: Option<&Bound<'_, PyAny>>,
        data: Option<&Bound<'_, PyAny>>,
        headers: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Response> {
        let cfg = self.handle.core.config();
        let request = calls::build(py, cfg, method, path, params, json, data, headers, timeout)?;
        let core = self.core();
        let reply = wait(py, async move { core.call(request).await })?;
        Ok(Response::new(reply))
    }

    /// `request("GET", path, ...)`.
    #[pyo3(signature = (path, *, params = None, headers = None, timeout = None))]
    fn get(
        &self,
        py: Python<'_>,
        path: &str,
        params: Option<&Bound<'_, PyAny>>,
        headers: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Response> {
        self.request(py, "GET", path, params, None, None, headers, timeout)
    }

    /// `request("POST", path, ...)`.
    #[pyo3(signature = (path, *, json = None, data = None, params = None, headers = None, timeout = None))]
    #[allow(clippy::too_many_arguments)]
    fn post(
        &self,
        py: Python<'_>,
        path: &str,
        json: Option<&Bound<'_, PyAny>>,
        data: Option<&Bound<'_, PyAny>>,
        params: Option<&Bound<'_, PyAny>>,
        headers: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Response> {
        self.request(py, "POST", path, params, json, data, headers, timeout)
    }

    /// Iterate over the items of a REST list ("workbooks", "users", "/api/3.24/sites", …),
    /// `page_size` (1–1000) items per call, following `totalAvailable`. Items are dicts: JSON
    /// answers as Tableau sends them, XML items as their attributes and child elements.
    #[pyo3(signature = (path, *, page_size = 100, params = None))]
    fn paginate(
        &self,
        path: &str,
        page_size: i64,
        params: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Pages> {
        apis::rest_pager(self.core(), path, page_size, params).map(Pages::new)
    }

    /// Run a Metadata API (GraphQL) query; returns its `data`. GraphQL errors raise
    /// `MetadataApiError`; warnings (BACKFILL_RUNNING) are issued as `UserWarning`s.
    #[pyo3(signature = (query, variables = None))]
    fn graphql(
        &self,
        py: Python<'_>,
        query: String,
        variables: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let variables = apis::json_arg(py, variables)?;
        let core = self.core();
        let answer = wait(py, async move {
            metadata::query(&core, &query, variables.as_ref()).await
        })?;
        apis::warn(py, &answer.warnings)?;
        Ok(to_python(py, &answer.data)?.unbind())
    }

    /// Iterate over the nodes of a Metadata API connection, a page (`first`) at a time: the
    /// query declares `$after` and selects `pageInfo { hasNextPage endCursor }`.
    #[pyo3(signature = (query, *, connection, variables = None))]
    fn graphql_paginate(
        &self,
        py: Python<'_>,
        query: String,
        connection: &str,
        variables: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Pages> {
        apis::graphql_pager(py, self.core(), query, connection, variables).map(Pages::new)
    }

    /// Call VizQL Data Service on a published data source (its LUID): "query-datasource"
    /// (with `query=`), "read-metadata" or "get-datasource-model". Returns the JSON answer.
    #[pyo3(signature = (endpoint, datasource, *, query = None, options = None))]
    fn vds(
        &self,
        py: Python<'_>,
        endpoint: &str,
        datasource: String,
        query: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let call = apis::vds_call(py, endpoint, query, options)?;
        let core = self.core();
        let answer = wait(py, async move {
            vds::call(&core, call.endpoint, &datasource, call.query, call.options).await
        })?;
        Ok(to_python(py, &answer)?.unbind())
    }

    /// Iterate over a Pulse list ("definitions", "definitions/{id}/metrics",
    /// "subscriptions"), following `next_page_token`.
    #[pyo3(signature = (resource = "definitions", *, page_size = None, params = None))]
    fn pulse_paginate(
        &self,
        resource: &str,
        page_size: Option<i64>,
        params: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Pages> {
        apis::pulse_pager(self.core(), resource, page_size, params).map(Pages::new)
    }

    /// Pulse `definitions:batchGet` or `metrics:batchGet`: the items with these ids.
    #[pyo3(signature = (resource, ids, *, view = None))]
    fn pulse_batch_get(
        &self,
        py: Python<'_>,
        resource: String,
        ids: &Bound<'_, PyAny>,
        view: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        let ids = apis::ids(ids)?;
        let core = self.core();
        let items = wait(py, async move {
            pulse::batch_get(&core, &resource, ids, view).await
        })?;
        Ok(to_python(py, &serde_json::Value::Array(items))?.unbind())
    }

    /// Switch to another site (its contentUrl). Tableau ends the current session; the new one
    /// is cached under that site's key, so a `Client` for that site reuses it. Returns it.
    fn switch_site(&self, py: Python<'_>, content_url: &Bound<'_, PyAny>) -> PyResult<Py<Session>> {
        let content_url = args::string(content_url, "content_url")?;
        let core = self.core();
        let session = wait(py, async move { core.switch_site(content_url).await })?;
        Py::new(py, Session { inner: session })
    }

    /// Drop `session` (a `Session` or its token) from the cache if it is still the cached one,
    /// e.g. after a 401 with it; with a shared cache, from there too (only if it still holds
    /// that token). Returns True if it was dropped.
    fn invalidate(&self, py: Python<'_>, session: &Bound<'_, PyAny>) -> PyResult<bool> {
        let token = token_of(session)?;
        if !self.handle.core.shares_sessions() {
            let core = &self.handle.core;
            return Ok(py.detach(|| core.invalidate_in_background(token)));
        }
        let core = self.core();
        wait(py, async move { Ok(core.invalidate(&token).await) })
    }

    /// Sign out on the server and drop the session from the cache (with a shared cache, for
    /// every process). A session that is already dead is not an error.
    fn sign_out(&self, py: Python<'_>) -> PyResult<()> {
        let core = self.core();
        wait(py, async move { core.sign_out().await })
    }

    /// Close this client. Signs out of its session, unless the session is kept in a shared
    /// cache (DiskCache, RedisCache): other processes go on using it; call `sign_out()` to end
    /// it for everyone.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let core = self.core();
        wait(py, async move { core.close().await })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Signs out on exit. A failed sign-out is logged, never raised over the block's outcome.
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        if let Err(e) = self.close(py) {
            if e.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) {
                return Err(e);
            }
            log::warn!("sign-out on leaving the Client block failed: {e}");
        }
        Ok(false)
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
        self.handle.repr("Client")
    }
}
