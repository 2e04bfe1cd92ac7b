//! The blocking `Client`: one (server, site, credentials) and its cached session.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyString};

use super::aio;
use super::args;
use super::caches::{cache_choice, CacheArg, DiskCache, RedisCache};
use super::calls;
use super::credentials;
use super::errors::{config_error, IntoPy};
use super::response::Response;
use super::session::Session;
use super::wait::wait;
use tca_core::client::{CacheChoice, Client as CoreClient, Lookup};
use tca_core::config::{
    ca_bundle_from_env, ClientConfig, TransportConfig, DEFAULT_API_VERSION, DEFAULT_CONNECT_TIMEOUT,
};
use tca_core::credentials::Credentials;
use tca_core::session::Session as CoreSession;
use tca_core::shared::SharedCache;
use tca_core::signin;

/// A client for one Tableau server, site and identity. Sessions are cached process-wide:
/// clients with the same configuration share one session (and, with a shared cache, share it
/// with other processes).
#[pyclass(frozen, module = "tableau_connected_auth")]
pub struct Client {
    core: Arc<CoreClient>,
    /// The Python object of the last session handed out, so a cache hit allocates nothing.
    last: ArcSwapOption<(Arc<CoreSession>, Py<Session>)>,
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
            .core
            .with_fresh(|s| self.reuse(py, s).ok_or_else(|| s.clone()))
        {
            Some(Ok(object)) => Ok(Some(object)),
            Some(Err(session)) => self.wrap(py, session).map(Some),
            None => Ok(None),
        }
    }

    fn check_open(&self) -> PyResult<()> {
        self.core.check_open().py_err()
    }

    /// `self.core`, for a future that outlives this call.
    fn core(&self) -> Arc<CoreClient> {
        self.core.clone()
    }
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (server, *, site, credentials, api_version = None, timeout = None, connect_timeout = None, retries = None, verify = None, ca_bundle = None, client_cert = None, proxy = None, wire_format = None, impersonate = None, max_session_age = None, rate_limit_max_wait = None, cache = CacheArg(None)))]
    #[pyo3(
        text_signature = "(server, *, site, credentials, api_version=None, timeout=None, connect_timeout=None, retries=None, verify=None, ca_bundle=None, client_cert=None, proxy=None, wire_format=None, impersonate=None, max_session_age=None, rate_limit_max_wait=None, cache='memory')"
    )]
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
        cache: CacheArg,
    ) -> PyResult<Self> {
        let cache = cache_choice(server.py(), &cache)?;
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
        Ok(Client {
            core: Arc::new(CoreClient::new(cfg, creds, cache).py_err()?),
            last: ArcSwapOption::empty(),
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
        // Without the GIL: the lookup may read the disk cache and log, and its lock is also
        // taken by runtime threads that may be waiting for the GIL to log.
        let core = &self.core;
        let session = match py.detach(|| core.lookup()).py_err()? {
            Lookup::Hit(s) => s,
            Lookup::Wait(shared) => wait(py, shared)?,
        };
        self.wrap(py, session)
    }

    /// Always sign in afresh; the new session replaces the cached one.
    fn sign_in(&self, py: Python<'_>) -> PyResult<Py<Session>> {
        self.check_open()?;
        let core = self.core();
        let session = wait(py, async move { core.sign_in().await })?;
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
        let cfg = self.core.config();
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

    /// The cached session if it is fresh, else None: the async fast path (no runtime hop).
    fn _cached_session(&self, py: Python<'_>) -> PyResult<Option<Py<Session>>> {
        self.check_open()?;
        self.fresh_cached(py)
    }

    /// An asyncio future: the cached session, or the one sign-in in flight (started if needed).
    fn _session_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.check_open()?;
        let core = self.core();
        aio::awaitable(py, async move {
            let session = core.session().await?;
            Ok(Session { inner: session })
        })
    }

    /// An asyncio future of a fresh sign-in that replaces the cached session.
    fn _sign_in_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.check_open()?;
        let core = self.core();
        aio::awaitable(py, async move {
            Ok(Session {
                inner: core.sign_in().await?,
            })
        })
    }

    /// An asyncio future of `sign_out()`.
    fn _sign_out_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core();
        aio::awaitable(py, async move { core.sign_out().await })
    }

    /// An asyncio future of what closing signs out: this process's session, unless it is in a
    /// cache other processes share.
    fn _close_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core();
        aio::awaitable(py, async move { core.close().await })
    }

    /// `invalidate(session)` without waiting: this process's cache at once, the shared
    /// cache's entry in the background (the async client must not block its loop).
    fn _invalidate_nowait(&self, py: Python<'_>, session: &Bound<'_, PyAny>) -> PyResult<bool> {
        let token = token_of(session)?;
        let core = &self.core;
        Ok(py.detach(|| core.invalidate_in_background(token)))
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
        let cfg = self.core.config();
        let request = calls::build(py, cfg, method, path, params, json, data, headers, timeout)?;
        let core = self.core();
        aio::awaitable(
            py,
            async move { Ok(Response::new(core.call(request).await?)) },
        )
    }

    /// Switch to another site (its contentUrl). Tableau ends the current session; the new one
    /// is cached under that site's key, so a `Client` for that site reuses it. Returns it.
    fn switch_site(&self, py: Python<'_>, content_url: &Bound<'_, PyAny>) -> PyResult<Py<Session>> {
        self.check_open()?;
        let content_url = args::string(content_url, "content_url")?;
        let core = self.core();
        let session = wait(py, async move { core.switch_site(content_url).await })?;
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
        let core = self.core();
        aio::awaitable(py, async move {
            Ok(Session {
                inner: core.switch_site(content_url).await?,
            })
        })
    }

    /// Drop `session` (a `Session` or its token) from the cache if it is still the cached one,
    /// e.g. after a 401 with it; with a shared cache, from there too (only if it still holds
    /// that token). Returns True if it was dropped.
    fn invalidate(&self, py: Python<'_>, session: &Bound<'_, PyAny>) -> PyResult<bool> {
        let token = token_of(session)?;
        if !self.core.shares_sessions() {
            let core = &self.core;
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
        &self.core.config().server
    }

    #[getter]
    fn site(&self) -> &str {
        &self.core.config().site
    }

    #[getter]
    fn api_version(&self) -> &str {
        &self.core.config().api_version
    }

    /// Where sessions are kept: "memory", None, or the DiskCache / RedisCache.
    #[getter]
    fn cache(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(match self.core.cache() {
            CacheChoice::Memory => PyString::new(py, "memory").into_any().unbind(),
            CacheChoice::Off => py.None(),
            CacheChoice::Shared(SharedCache::Disk(d)) => {
                Py::new(py, DiskCache { inner: d.clone() })?.into_any()
            }
            CacheChoice::Shared(SharedCache::Redis(r)) => {
                Py::new(py, RedisCache { inner: r.clone() })?.into_any()
            }
        })
    }

    fn __repr__(&self) -> String {
        let cfg = &self.core.config();
        let cache = match self.core.cache() {
            CacheChoice::Memory => String::new(),
            CacheChoice::Off => ", cache=None".into(),
            CacheChoice::Shared(SharedCache::Disk(d)) => {
                format!(", cache=DiskCache(path={:?})", d.dir().to_string_lossy())
            }
            CacheChoice::Shared(SharedCache::Redis(r)) => {
                format!(", cache=RedisCache(url={:?})", r.url())
            }
        };
        format!(
            "Client(server={:?}, site={:?}, api_version={:?}, credentials={}{cache})",
            cfg.server,
            cfg.site,
            cfg.api_version,
            self.core.credentials().describe()
        )
    }
}

/// The token of a `Session` or a token string.
fn token_of(session: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = session.cast::<Session>() {
        Ok(s.get().inner.token.expose().to_string())
    } else if session.is_instance_of::<PyString>() {
        session.extract::<String>()
    } else {
        Err(config_error(
            "invalidate() takes a Session or a token string",
        ))
    }
}
