//! The blocking `Client`: one (server, site, credentials) and its cached session.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyString};

use super::aio;
use super::args;
use super::calls;
use super::credentials;
use super::errors::{config_error, to_pyerr, IntoPy};
use super::response::Response;
use super::session::Session;
use super::wait::wait;
use crate::core::api;
use crate::core::config::{
    ca_bundle_from_env, ClientConfig, TransportConfig, DEFAULT_API_VERSION, DEFAULT_CONNECT_TIMEOUT,
};
use crate::core::credentials::Credentials;
use crate::core::error::Error;
use crate::core::session::Session as CoreSession;
use crate::core::sessions::{self, Entry, Lookup};
use crate::core::signin;

/// A client for one Tableau server, site and identity. Sessions are cached process-wide:
/// clients with the same configuration share one session.
#[pyclass(frozen, module = "tableau_connected_auth")]
pub struct Client {
    pub cfg: Arc<ClientConfig>,
    pub creds: Arc<Credentials>,
    pub entry: Arc<Entry>,
    /// The Python object of the last session handed out, so a cache hit allocates nothing.
    last: ArcSwapOption<(Arc<CoreSession>, Py<Session>)>,
    closed: AtomicBool,
}

/// The keyword arguments of `Client(...)`; `None` means the default.
pub struct ClientArgs<'a, 'py> {
    pub api_version: Option<&'a Bound<'py, PyAny>>,
    pub timeout: Option<&'a Bound<'py, PyAny>>,
    pub connect_timeout: Option<&'a Bound<'py, PyAny>>,
    pub retries: Option<&'a Bound<'py, PyAny>>,
    pub verify: Option<&'a Bound<'py, PyAny>>,
    pub ca_bundle: Option<&'a Bound<'py, PyAny>>,
    pub client_cert: Option<&'a Bound<'py, PyAny>>,
    pub proxy: Option<&'a Bound<'py, PyAny>>,
    pub wire_format: Option<&'a Bound<'py, PyAny>>,
    pub impersonate: Option<&'a Bound<'py, PyAny>>,
    pub max_session_age: Option<&'a Bound<'py, PyAny>>,
    pub rate_limit_max_wait: Option<&'a Bound<'py, PyAny>>,
}

fn given<'a, 'py>(arg: Option<&'a Bound<'py, PyAny>>) -> Option<&'a Bound<'py, PyAny>> {
    arg.filter(|a| !a.is_none())
}

/// Seconds above zero, or the default.
fn positive_seconds(arg: Option<&Bound<'_, PyAny>>, name: &str, default: f64) -> PyResult<f64> {
    let Some(arg) = given(arg) else {
        return Ok(default);
    };
    let secs = args::seconds(arg, name)?;
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(config_error(format!(
            "{name} must be a number of seconds above 0; got {secs}"
        )));
    }
    Ok(secs)
}

/// `client_cert="both.pem"` or `client_cert=("cert.pem", "key.pem")`.
fn client_cert(arg: Option<&Bound<'_, PyAny>>) -> PyResult<Option<(String, Option<String>)>> {
    let Some(arg) = given(arg) else {
        return Ok(None);
    };
    if arg.is_instance_of::<PyString>() {
        return Ok(Some((args::string(arg, "client_cert")?, None)));
    }
    let parts = args::string_list(arg, "client_cert")?;
    match parts.as_slice() {
        [cert, key] => Ok(Some((cert.clone(), Some(key.clone())))),
        _ => Err(config_error(
            "client_cert must be a PEM path, or a (cert_path, key_path) pair",
        )),
    }
}

/// Build the configuration from constructor arguments, checking everything before any I/O.
pub fn configure(
    server: &Bound<'_, PyAny>,
    site: &Bound<'_, PyAny>,
    credentials: &Bound<'_, PyAny>,
    a: ClientArgs<'_, '_>,
) -> PyResult<(ClientConfig, Credentials)> {
    let creds = credentials::extract(credentials)?;
    let mut ca_bundle = args::optional_string(a.ca_bundle, "ca_bundle")?;
    let insecure = match given(a.verify) {
        None => false,
        Some(v) if v.is_instance_of::<PyBool>() => !v.extract::<bool>()?,
        // requests-style verify="/path/to/ca.pem".
        Some(v) if v.is_instance_of::<PyString>() => {
            ca_bundle = Some(args::string(v, "verify")?);
            false
        }
        Some(_) => {
            return Err(config_error(
                "verify must be True, False or a path to a CA bundle",
            ))
        }
    };
    if ca_bundle.is_none() && !insecure {
        ca_bundle = ca_bundle_from_env();
    }
    let retries = match given(a.retries) {
        None => 3,
        Some(r) if r.is_instance_of::<PyBool>() => {
            return Err(config_error("retries must be a whole number from 0 to 10"))
        }
        Some(r) => r
            .extract::<i64>()
            .map_err(|_| config_error("retries must be a whole number from 0 to 10"))?,
    };
    let timeout = match given(a.timeout) {
        None => 30.0,
        Some(t) => args::seconds(t, "timeout")?,
    };
    let string_or =
        |arg: Option<&Bound<'_, PyAny>>, name: &str, default: &str| -> PyResult<String> {
            given(arg).map_or(Ok(default.to_string()), |v| args::string(v, name))
        };
    let mut cfg = ClientConfig::new(
        &args::string(server, "server")?,
        &args::string(site, "site")?,
        &string_or(a.api_version, "api_version", DEFAULT_API_VERSION)?,
        timeout,
        retries,
        &string_or(a.wire_format, "wire_format", "xml")?,
        args::optional_string(a.impersonate, "impersonate")?.as_deref(),
        TransportConfig {
            insecure,
            ca_bundle,
            proxy: args::optional_string(a.proxy, "proxy")?,
            client_cert: client_cert(a.client_cert)?,
            connect_timeout: Duration::from_secs_f64(positive_seconds(
                a.connect_timeout,
                "connect_timeout",
                DEFAULT_CONNECT_TIMEOUT.as_secs_f64(),
            )?),
        },
    )
    .py_err()?;
    cfg.max_session_age = Duration::from_secs_f64(positive_seconds(
        a.max_session_age,
        "max_session_age",
        cfg.max_session_age.as_secs_f64(),
    )?);
    cfg.rate_limit_max_wait = Duration::from_secs_f64(positive_seconds(
        a.rate_limit_max_wait,
        "rate_limit_max_wait",
        cfg.rate_limit_max_wait.as_secs_f64(),
    )?);
    signin::check_version_supports(&cfg, &creds).py_err()?;
    Ok((cfg, creds))
}

impl Client {
    /// The Python object for a core session, reusing the last one when it is the same.
    fn wrap(&self, py: Python<'_>, session: Arc<CoreSession>) -> PyResult<Py<Session>> {
        if let Some(object) = self.reuse(py, &session) {
            return Ok(object);
        }
        let object = Py::new(
            py,
            Session {
                inner: session.clone(),
            },
        )?;
        self.last
            .store(Some(Arc::new((session, object.clone_ref(py)))));
        Ok(object)
    }

    /// The Python object already made for this core session, if it is the last one.
    fn reuse(&self, py: Python<'_>, session: &Arc<CoreSession>) -> Option<Py<Session>> {
        let last = self.last.load();
        match &*last {
            Some(pair) if Arc::ptr_eq(&pair.0, session) => Some(pair.1.clone_ref(py)),
            _ => None,
        }
    }

    /// The cache-hit path shared by `session()` and the async fast path: no lock, no
    /// allocation, no runtime.
    fn fresh_cached(&self, py: Python<'_>) -> PyResult<Option<Py<Session>>> {
        match self
            .entry
            .with_fresh(|s| self.reuse(py, s).ok_or_else(|| s.clone()))
        {
            Some(Ok(object)) => Ok(Some(object)),
            Some(Err(session)) => self.wrap(py, session).map(Some),
            None => Ok(None),
        }
    }

    fn check_open(&self) -> PyResult<()> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(to_pyerr(Error::Configuration(
                "this Client was closed: make a new one".into(),
            )));
        }
        Ok(())
    }

    /// Sign out of the cached session, if any; a dead session is not an error.
    fn sign_out_cached(&self, py: Python<'_>) -> PyResult<()> {
        let Some(session) = self.entry.take() else {
            return Ok(());
        };
        let cfg = self.cfg.clone();
        wait(py, async move { signin::sign_out(&cfg, &session).await })
    }
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (server, *, site, credentials, api_version = None, timeout = None, connect_timeout = None, retries = None, verify = None, ca_bundle = None, client_cert = None, proxy = None, wire_format = None, impersonate = None, max_session_age = None, rate_limit_max_wait = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        server: &Bound<'_, PyAny>,
        site: &Bound<'_, PyAny>,
        credentials: &Bound<'_, PyAny>,
        api_version: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
        connect_timeout: Option<&Bound<'_, PyAny>>,
        retries: Option<&Bound<'_, PyAny>>,
        verify: Option<&Bound<'_, PyAny>>,
        ca_bundle: Option<&Bound<'_, PyAny>>,
        client_cert: Option<&Bound<'_, PyAny>>,
        proxy: Option<&Bound<'_, PyAny>>,
        wire_format: Option<&Bound<'_, PyAny>>,
        impersonate: Option<&Bound<'_, PyAny>>,
        max_session_age: Option<&Bound<'_, PyAny>>,
        rate_limit_max_wait: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let (cfg, creds) = configure(
            server,
            site,
            credentials,
            ClientArgs {
                api_version,
                timeout,
                connect_timeout,
                retries,
                verify,
                ca_bundle,
                client_cert,
                proxy,
                wire_format,
                impersonate,
                max_session_age,
                rate_limit_max_wait,
            },
        )?;
        let entry = sessions::entry(sessions::cache_key(&cfg, &creds));
        Ok(Client {
            cfg: Arc::new(cfg),
            creds: Arc::new(creds),
            entry,
            last: ArcSwapOption::empty(),
            closed: AtomicBool::new(false),
        })
    }

    /// A client configured from the environment: TABLEAU_SERVER, TABLEAU_SITE, and either
    /// TABLEAU_CLIENT_ID/TABLEAU_SECRET_ID/TABLEAU_SECRET_VALUE with TABLEAU_USERNAME and
    /// TABLEAU_SCOPES, or TABLEAU_PAT_NAME/TABLEAU_PAT_SECRET. Keyword arguments override.
    #[classmethod]
    #[pyo3(signature = (**overrides))]
    fn from_env<'py>(
        cls: &Bound<'py, pyo3::types::PyType>,
        overrides: Option<&Bound<'py, pyo3::types::PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = cls.py();
        let (server, kwargs): (Bound<'py, PyAny>, Bound<'py, pyo3::types::PyDict>) = py
            .import("tableau_connected_auth._env")?
            .call_method("client_arguments", (), overrides)?
            .extract()?;
        cls.call((server,), Some(&kwargs))
    }

    /// A `requests.auth.AuthBase` that adds `X-Tableau-Auth` with this client's session and,
    /// on a 401, drops the session and retries once (requests is imported only now).
    fn requests_auth<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("tableau_connected_auth.auth")?
            .getattr("RequestsAuth")?
            .call1((slf,))
    }

    /// An `httpx.Auth` doing the same for httpx (sync and async flows).
    fn httpx_auth<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("tableau_connected_auth.auth")?
            .getattr("HttpxAuth")?
            .call1((slf,))
    }

    /// The cached session, signing in only when there is no live one. Concurrent callers
    /// that miss wait on one sign-in.
    fn session(&self, py: Python<'_>) -> PyResult<Py<Session>> {
        self.check_open()?;
        if let Some(s) = self.fresh_cached(py)? {
            return Ok(s);
        }
        let session = match self.entry.lookup(&self.cfg, &self.creds) {
            Lookup::Hit(s) => s,
            Lookup::Wait(shared) => wait(py, shared)?,
        };
        self.wrap(py, session)
    }

    /// Always sign in afresh; the new session replaces the cached one.
    fn sign_in(&self, py: Python<'_>) -> PyResult<Py<Session>> {
        self.check_open()?;
        let cfg = self.cfg.clone();
        let creds = self.creds.clone();
        let session = wait(py, async move { signin::sign_in(&cfg, &creds).await })?;
        let session = Arc::new(session);
        self.entry.store(session.clone());
        self.wrap(py, session)
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
        self.check_open()?;
        let request = calls::build(
            py, &self.cfg, method, path, params, json, data, headers, timeout,
        )?;
        let (entry, cfg, creds) = (self.entry.clone(), self.cfg.clone(), self.creds.clone());
        let reply = wait(py, api::call(entry, cfg, creds, request))?;
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

    /// The cached session if it is fresh, else None: the async fast path (no runtime hop).
    fn _cached_session(&self, py: Python<'_>) -> PyResult<Option<Py<Session>>> {
        self.check_open()?;
        self.fresh_cached(py)
    }

    /// An asyncio future: the cached session, or the one sign-in in flight (started if needed).
    fn _session_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.check_open()?;
        let (entry, cfg, creds) = (self.entry.clone(), self.cfg.clone(), self.creds.clone());
        aio::awaitable(py, async move {
            let session = api::session(&entry, &cfg, &creds).await?;
            Ok(Session { inner: session })
        })
    }

    /// An asyncio future of a fresh sign-in that replaces the cached session.
    fn _sign_in_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.check_open()?;
        let (entry, cfg, creds) = (self.entry.clone(), self.cfg.clone(), self.creds.clone());
        aio::awaitable(py, async move {
            let session = Arc::new(signin::sign_in(&cfg, &creds).await?);
            entry.store(session.clone());
            Ok(Session { inner: session })
        })
    }

    /// An asyncio future of the sign-out of the cached session (None if nothing was cached).
    fn _sign_out_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let session = self.entry.take();
        let cfg = self.cfg.clone();
        aio::awaitable(py, async move {
            if let Some(session) = session {
                signin::sign_out(&cfg, &session).await?;
            }
            Ok(())
        })
    }

    /// Mark closed without signing out (the async close signs out itself).
    fn _mark_closed(&self) -> bool {
        !self.closed.swap(true, Ordering::Relaxed)
    }

    /// An asyncio future of `request(...)`.
    #[pyo3(signature = (method, path, *, params = None, json = None, data = None, headers = None, timeout = None))]
    #[allow(clippy::too_many_arguments)]
    fn _request_async<'py>(
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
        self.check_open()?;
        let request = calls::build(
            py, &self.cfg, method, path, params, json, data, headers, timeout,
        )?;
        let (entry, cfg, creds) = (self.entry.clone(), self.cfg.clone(), self.creds.clone());
        aio::awaitable(py, async move {
            Ok(Response::new(api::call(entry, cfg, creds, request).await?))
        })
    }

    /// Switch to another site (its contentUrl). Tableau ends the current session; the new one
    /// is cached under that site's key, so a `Client` for that site reuses it. Returns it.
    fn switch_site(&self, py: Python<'_>, content_url: &Bound<'_, PyAny>) -> PyResult<Py<Session>> {
        self.check_open()?;
        let content_url = args::string(content_url, "content_url")?;
        let (entry, cfg, creds) = (self.entry.clone(), self.cfg.clone(), self.creds.clone());
        let session = wait(py, api::switch_site(entry, cfg, creds, content_url))?;
        Py::new(py, Session { inner: session })
    }

    /// An asyncio future of `switch_site(content_url)`.
    fn _switch_site_async<'py>(
        &self,
        py: Python<'py>,
        content_url: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.check_open()?;
        let content_url = args::string(content_url, "content_url")?;
        let (entry, cfg, creds) = (self.entry.clone(), self.cfg.clone(), self.creds.clone());
        aio::awaitable(py, async move {
            Ok(Session {
                inner: api::switch_site(entry, cfg, creds, content_url).await?,
            })
        })
    }

    /// Drop `session` (a `Session` or its token) from the cache if it is still the cached one,
    /// e.g. after a 401 with it. Returns True if it was dropped.
    fn invalidate(&self, session: &Bound<'_, PyAny>) -> PyResult<bool> {
        let token = if let Ok(s) = session.cast::<Session>() {
            s.get().inner.token.expose().to_string()
        } else if session.is_instance_of::<PyString>() {
            session.extract::<String>()?
        } else {
            return Err(config_error(
                "invalidate() takes a Session or a token string",
            ));
        };
        Ok(self.entry.invalidate(&token))
    }

    /// Sign out on the server and drop the session from the cache. A session that is already
    /// dead is not an error.
    fn sign_out(&self, py: Python<'_>) -> PyResult<()> {
        self.sign_out_cached(py)
    }

    /// Sign out and close this client.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        if self.closed.swap(true, Ordering::Relaxed) {
            return Ok(());
        }
        self.sign_out_cached(py)
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
        &self.cfg.server
    }

    #[getter]
    fn site(&self) -> &str {
        &self.cfg.site
    }

    #[getter]
    fn api_version(&self) -> &str {
        &self.cfg.api_version
    }

    fn __repr__(&self) -> String {
        format!(
            "Client(server={:?}, site={:?}, api_version={:?}, credentials={})",
            self.cfg.server,
            self.cfg.site,
            self.cfg.api_version,
            self.creds.describe()
        )
    }
}
