//! `DiskCache` and `RedisCache`, and reading the `cache=` argument of `Client`.

use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyString;

use super::args;
use super::errors::{config_error, IntoPy};
use tca_core::client::CacheChoice;
use tca_core::config::Seconds;
use tca_core::shared::{self, SharedCache};

/// Sessions shared by this user's processes on this machine: one encrypted file per session in
/// a private directory, with a file lock so processes that start together sign in once.
#[pyclass(frozen, module = "tableau_connected_auth")]
pub struct DiskCache {
    pub inner: Arc<shared::DiskCache>,
}

/// Sessions shared by processes on many machines through Redis (one server, a Redis Cluster or
/// Sentinel), encrypted, with a lock key so they sign in once.
#[pyclass(frozen, module = "tableau_connected_auth")]
pub struct RedisCache {
    pub inner: Arc<shared::RedisCache>,
}

fn lock_timeout(arg: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Duration>> {
    let Some(arg) = arg.filter(|a| !a.is_none()) else {
        return Ok(None);
    };
    let secs = args::seconds(arg, "lock_timeout")?;
    Ok(Some(Seconds::LOCK_TIMEOUT.check(secs).py_err()?))
}

#[pymethods]
impl DiskCache {
    /// `path`: a directory (made with mode 0700 if missing); default
    /// `$XDG_CACHE_HOME/tableau_connected_auth` or `~/.cache/tableau_connected_auth`.
    #[new]
    #[pyo3(signature = (path = None, *, lock_timeout = None))]
    fn new(
        path: Option<&Bound<'_, PyAny>>,
        lock_timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let path = match path.filter(|p| !p.is_none()) {
            None => None,
            Some(p) => {
                let fspath = p
                    .py()
                    .import("os")?
                    .call_method1("fspath", (p,))
                    .map_err(|_| {
                        config_error("DiskCache path must be a str or a path-like object")
                    })?;
                Some(args::string(&fspath, "DiskCache path")?)
            }
        };
        let mut inner = shared::DiskCache::new(path.as_deref()).py_err()?;
        inner.lock_timeout = self::lock_timeout(lock_timeout)?;
        Ok(DiskCache {
            inner: Arc::new(inner),
        })
    }

    /// The directory holding the cached sessions.
    #[getter]
    fn path(&self) -> String {
        self.inner.dir().to_string_lossy().into_owned()
    }

    #[getter]
    fn lock_timeout(&self) -> Option<f64> {
        self.inner.lock_timeout.map(|d| d.as_secs_f64())
    }

    fn __repr__(&self) -> String {
        format!("DiskCache(path={:?})", self.path())
    }
}

#[pymethods]
impl RedisCache {
    /// `url`: one server, `redis://[:password@]host:port/db` (`rediss://` for TLS,
    /// `redis+unix://`); a Redis Cluster, `redis+cluster://[:password@]host:port,host:port`
    /// (`rediss+cluster://`); or the primary Sentinel names,
    /// `redis+sentinel://[:password@]host:26379,host:26379/master-name[/db]`
    /// (`rediss+sentinel://`; `?sentinel_password=` for the sentinels' own). No connection is
    /// made here; Redis being down later never fails a call.
    #[new]
    #[pyo3(signature = (url, *, prefix = None, lock_timeout = None))]
    fn new(
        url: &Bound<'_, PyAny>,
        prefix: Option<&Bound<'_, PyAny>>,
        lock_timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let url = args::string(url, "url")?;
        let prefix = args::optional_string(prefix, "prefix")?;
        let mut inner = shared::RedisCache::new(
            &url,
            prefix.as_deref().unwrap_or(shared::redis::DEFAULT_PREFIX),
        )
        .py_err()?;
        inner.lock_timeout = self::lock_timeout(lock_timeout)?;
        Ok(RedisCache {
            inner: Arc::new(inner),
        })
    }

    /// The URL, with any password (user info, `sentinel_password`, `pass`) shown as `***`.
    #[getter]
    fn url(&self) -> &str {
        self.inner.url()
    }

    #[getter]
    fn prefix(&self) -> &str {
        self.inner.prefix()
    }

    #[getter]
    fn lock_timeout(&self) -> Option<f64> {
        self.inner.lock_timeout.map(|d| d.as_secs_f64())
    }

    fn __repr__(&self) -> String {
        format!(
            "RedisCache(url={:?}, prefix={:?})",
            self.inner.url(),
            self.inner.prefix()
        )
    }
}

/// The `cache=` argument as given: `None` inside means it was left out (a Python `None` given
/// explicitly means "no caching").
pub struct CacheArg(pub Option<Py<PyAny>>);

impl<'a, 'py> FromPyObject<'a, 'py> for CacheArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(CacheArg(Some(obj.to_owned().unbind())))
    }
}

const CACHE_CHOICES: &str = "cache must be \"memory\" (the default), tca.DiskCache(...), \
                             tca.RedisCache(url), or None for no caching";

/// Read `cache=`.
pub fn cache_choice(py: Python<'_>, arg: &CacheArg) -> PyResult<CacheChoice> {
    let Some(obj) = &arg.0 else {
        return Ok(CacheChoice::Memory);
    };
    let obj = obj.bind(py);
    if obj.is_none() {
        return Ok(CacheChoice::Off);
    }
    if let Ok(d) = obj.cast::<DiskCache>() {
        return Ok(CacheChoice::Shared(SharedCache::Disk(
            d.get().inner.clone(),
        )));
    }
    if let Ok(r) = obj.cast::<RedisCache>() {
        return Ok(CacheChoice::Shared(SharedCache::Redis(
            r.get().inner.clone(),
        )));
    }
    if obj.is_instance_of::<PyString>() {
        match obj.extract::<String>()?.as_str() {
            "memory" => return Ok(CacheChoice::Memory),
            other => {
                return Err(config_error(format!(
                    "{CACHE_CHOICES}; got the string {other:?}"
                )))
            }
        }
    }
    Err(config_error(format!(
        "{CACHE_CHOICES}; got {}",
        args::type_name(obj)
    )))
}
