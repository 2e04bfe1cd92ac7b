//! `CloudManagerClient` and `AsyncCloudManagerClient`: Tableau Cloud Manager (tenant
//! administration) over the same core client as `Client`, configured for TCM
//! (`tca_core::cloud_manager`): its own sign-in and header, the same cache, single-flight,
//! refresh and re-sign-in on a 401, never a site session's cache entry.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use super::aio;
use super::async_client::{done, lazy};
use super::calls;
use super::configure::new_core_client;
use super::errors::IntoPy;
use super::handle::{cache_of, repr_of, token_of};
use super::pages::{AsyncPages, Pages};
use super::response::Response;
use super::session::{expiry, headers, to_datetime};
use super::wait::wait;
use tca_core::client::{Client as CoreClient, Lookup};
use tca_core::cloud_manager::Listing;
use tca_core::config::{Service, CLOUD_MANAGER_SERVER};
use tca_core::pages::Pager;
use tca_core::session::Session as CoreSession;

/// A Tableau Cloud Manager session: the token (sent as `x-tableau-session-token`), the
/// tenant and the user. `repr` hides the token.
#[pyclass(
    frozen,
    name = "CloudManagerSession",
    module = "tableau_connected_auth"
)]
pub struct CloudManagerSession {
    pub(crate) inner: Arc<CoreSession>,
}

#[pymethods]
impl CloudManagerSession {
    /// The session token (the value of `x-tableau-session-token`). Keep it secret.
    #[getter]
    fn token(&self) -> &str {
        self.inner.token.expose()
    }

    #[getter]
    fn tenant_id(&self) -> &str {
        self.inner.tenant_id().unwrap_or_default()
    }

    #[getter]
    fn user_id(&self) -> &str {
        &self.inner.user_id
    }

    #[getter]
    fn server(&self) -> &str {
        &self.inner.server
    }

    /// When the sign-in happened (aware UTC datetime).
    #[getter]
    fn signed_in_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_datetime(py, self.inner.signed_in_at)
    }

    /// When Tableau Cloud Manager said the session ends (`sessionExpiration`, aware UTC
    /// datetime), or None.
    #[getter]
    fn expires_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        expiry(py, &self.inner)
    }

    /// `{"x-tableau-session-token": token}`.
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        headers(py, &self.inner)
    }

    /// `https://…/api/v1/tenants/{tenant_id}/{path}`.
    fn url(&self, path: &str) -> String {
        self.inner.url(path)
    }

    fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "CloudManagerSession(server={:?}, tenant_id={:?}, user_id={:?}, token=***)",
            s.server,
            s.tenant_id().unwrap_or_default(),
            s.user_id
        )
    }

    fn __str__(&self) -> String {
        self.__repr__()
    }
}

fn wrap(session: Arc<CoreSession>) -> CloudManagerSession {
    CloudManagerSession { inner: session }
}

fn core_for(
    class: &str,
    server: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
    py: Python<'_>,
) -> PyResult<Arc<CoreClient>> {
    let default = pyo3::types::PyString::new(py, CLOUD_MANAGER_SERVER).into_any();
    let server = server.unwrap_or(&default);
    new_core_client(class, server, kwargs, Service::CloudManager)
}

fn pager(
    core: Arc<CoreClient>,
    path: &str,
    page_size: i64,
    params: Option<&Bound<'_, PyAny>>,
    items: Option<String>,
) -> PyResult<Pager> {
    let listing = Listing::new(
        &core,
        path,
        calls::pairs(params, "params")?,
        page_size,
        items,
    )
    .py_err()?;
    Ok(Pager::cloud_manager(core, listing))
}

/// A client for Tableau Cloud Manager: one tenant administrator's session, cached
/// process-wide like a `Client`'s (and never shared with a site session).
#[pyclass(frozen, subclass, module = "tableau_connected_auth")]
pub struct CloudManagerClient {
    core: Arc<CoreClient>,
}

#[pymethods]
impl CloudManagerClient {
    #[new]
    #[pyo3(signature = (server = None, **kwargs))]
    #[pyo3(
        text_signature = "(server='https://cloudmanager.tableau.com', *, credentials, timeout=None, connect_timeout=None, retries=None, verify=None, ca_bundle=None, client_cert=None, proxy=None, max_session_age=None, rate_limit_max_wait=None, cache='memory')"
    )]
    fn new(
        py: Python<'_>,
        server: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        Ok(CloudManagerClient {
            core: core_for("CloudManagerClient", server, kwargs, py)?,
        })
    }

    /// The cached session if it is fresh, else None: never signs in, never waits.
    fn cached_session(&self) -> Option<CloudManagerSession> {
        self.core.with_fresh(|s| wrap(s.clone()))
    }

    /// The cached session, signing in only when there is no live one. Concurrent callers
    /// that miss wait on one sign-in.
    fn session(&self, py: Python<'_>) -> PyResult<CloudManagerSession> {
        if let Some(s) = self.cached_session() {
            return Ok(s);
        }
        let core = &self.core;
        let session = match py.detach(|| core.lookup()).py_err()? {
            Lookup::Hit(s) => s,
            waiting => wait(py, waiting.session())?,
        };
        Ok(wrap(session))
    }

    /// Always sign in afresh; the new session replaces the cached one.
    fn sign_in(&self, py: Python<'_>) -> PyResult<CloudManagerSession> {
        let core = self.core.clone();
        Ok(wrap(wait(py, async move { core.sign_in().await })?))
    }

    /// An authenticated call with the cached session. `path` is tenant-relative ("sites" →
    /// /api/v1/tenants/{tenant_id}/sites) or server-absolute ("/api/v1/uat-configurations").
    /// A 401 signs in again and retries once.
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
        let request = calls::build(
            py,
            self.core.config(),
            method,
            path,
            params,
            json,
            data,
            headers,
            timeout,
        )?;
        let core = self.core.clone();
        Ok(Response::new(wait(
            py,
            async move { core.call(request).await },
        )?))
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

    /// Iterate over the items of a Tableau Cloud Manager list ("sites", "users",
    /// "activitylog", …), `page_size` items per call, in whichever style the list pages
    /// (`pageNumber`, or `pageToken`/`nextPageToken`). `items` names the member the items
    /// come in, when the answer has more than one list.
    #[pyo3(signature = (path, *, page_size = 100, params = None, items = None))]
    fn paginate(
        &self,
        path: &str,
        page_size: i64,
        params: Option<&Bound<'_, PyAny>>,
        items: Option<String>,
    ) -> PyResult<Pages> {
        pager(self.core.clone(), path, page_size, params, items).map(Pages::new)
    }

    /// Drop `session` (a `CloudManagerSession` or its token) from the cache if it is still the
    /// cached one; with a shared cache, from there too. Returns True if it was dropped.
    fn invalidate(&self, py: Python<'_>, session: &Bound<'_, PyAny>) -> PyResult<bool> {
        let token = token_of(session)?;
        let core = self.core.clone();
        wait(py, async move { Ok(core.invalidate(&token).await) })
    }

    /// Sign out (`DELETE /api/v2/sessions`) and drop the session from the cache (with a
    /// shared cache, for every process). A session already dead is not an error.
    fn sign_out(&self, py: Python<'_>) -> PyResult<()> {
        let core = self.core.clone();
        wait(py, async move { core.sign_out().await })
    }

    /// Close this client; signs out of its session unless a shared cache keeps it.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let core = self.core.clone();
        wait(py, async move { core.close().await })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Signs out on exit. A failed sign-out is logged, never raised over the block's outcome.
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        if let Err(e) = self.close(py) {
            if e.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) {
                return Err(e);
            }
            log::warn!("sign-out on leaving the CloudManagerClient block failed: {e}");
        }
        Ok(false)
    }

    #[getter]
    fn server(&self) -> &str {
        &self.core.config().server
    }

    /// Where sessions are kept: "memory", None, or the DiskCache / RedisCache.
    #[getter]
    fn cache(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        cache_of(py, &self.core)
    }

    fn __repr__(&self) -> String {
        repr_of(&self.core, "CloudManagerClient")
    }
}

/// `CloudManagerClient` for asyncio: the same arguments, the same process-wide cache.
#[pyclass(frozen, subclass, module = "tableau_connected_auth")]
pub struct AsyncCloudManagerClient {
    core: Arc<CoreClient>,
}

#[pymethods]
impl AsyncCloudManagerClient {
    #[new]
    #[pyo3(signature = (server = None, **kwargs))]
    #[pyo3(
        text_signature = "(server='https://cloudmanager.tableau.com', *, credentials, timeout=None, connect_timeout=None, retries=None, verify=None, ca_bundle=None, client_cert=None, proxy=None, max_session_age=None, rate_limit_max_wait=None, cache='memory')"
    )]
    fn new(
        py: Python<'_>,
        server: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        Ok(AsyncCloudManagerClient {
            core: core_for("AsyncCloudManagerClient", server, kwargs, py)?,
        })
    }

    /// The cached session if it is fresh, else None: never signs in, never waits.
    fn cached_session(&self) -> Option<CloudManagerSession> {
        self.core.with_fresh(|s| wrap(s.clone()))
    }

    /// The cached session, signing in only when there is no live one; concurrent tasks that
    /// miss wait on one sign-in.
    fn session<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(s) = self.cached_session() {
            return done(py, Py::new(py, s)?.into_any());
        }
        let core = self.core.clone();
        lazy(py, move |py| {
            aio::awaitable(py, async move { Ok(wrap(core.session().await?)) })
        })
    }

    /// Always sign in afresh; the new session replaces the cached one.
    fn sign_in<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core.clone();
        lazy(py, move |py| {
            aio::awaitable(py, async move { Ok(wrap(core.sign_in().await?)) })
        })
    }

    /// An authenticated call; see `CloudManagerClient.request`.
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
        let request = calls::build(
            py,
            self.core.config(),
            method,
            path,
            params,
            json,
            data,
            headers,
            timeout,
        )?;
        let core = self.core.clone();
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

    /// `CloudManagerClient.paginate`, for `async for`.
    #[pyo3(signature = (path, *, page_size = 100, params = None, items = None))]
    fn paginate(
        &self,
        path: &str,
        page_size: i64,
        params: Option<&Bound<'_, PyAny>>,
        items: Option<String>,
    ) -> PyResult<AsyncPages> {
        pager(self.core.clone(), path, page_size, params, items).map(AsyncPages::new)
    }

    /// Drop `session` from the cache if it is still the cached one (compare-and-swap). Never
    /// blocks the event loop: a shared cache's entry is removed in the background.
    fn invalidate(&self, py: Python<'_>, session: &Bound<'_, PyAny>) -> PyResult<bool> {
        let token = token_of(session)?;
        let core = &self.core;
        Ok(py.detach(|| core.invalidate_in_background(token)))
    }

    /// Sign out and drop the session; a dead session is not an error.
    fn sign_out<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core.clone();
        lazy(py, move |py| {
            aio::awaitable(py, async move { core.sign_out().await })
        })
    }

    /// Close this client; signs out of its session unless a shared cache keeps it.
    fn aclose<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core.clone();
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
        let core = self.core.clone();
        lazy(py, move |py| {
            aio::awaitable(py, async move {
                if let Err(e) = core.close().await {
                    log::warn!("sign-out on leaving the AsyncCloudManagerClient block failed: {e}");
                }
                Ok(false)
            })
        })
    }

    #[getter]
    fn server(&self) -> &str {
        &self.core.config().server
    }

    /// Where sessions are kept: "memory", None, or the DiskCache / RedisCache.
    #[getter]
    fn cache(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        cache_of(py, &self.core)
    }

    fn __repr__(&self) -> String {
        repr_of(&self.core, "AsyncCloudManagerClient")
    }
}
