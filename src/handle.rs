//! What `Client` and `AsyncClient` share: the core client (one per configuration, shared by
//! twins) and the Python `Session` object last handed out, so a cache hit allocates nothing.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use pyo3::prelude::*;
use pyo3::types::PyString;

use super::caches::{DiskCache, RedisCache};
use super::cloud_manager::CloudManagerSession;
use super::errors::config_error;
use super::session::Session;
use tca_core::client::{CacheChoice, Client as CoreClient};
use tca_core::session::Session as CoreSession;
use tca_core::shared::SharedCache;

pub struct Handle {
    pub core: Arc<CoreClient>,
    /// The Python object of the last session handed out.
    last: ArcSwapOption<(Arc<CoreSession>, Py<Session>)>,
}

impl Handle {
    pub fn new(core: Arc<CoreClient>) -> Handle {
        Handle {
            core,
            last: ArcSwapOption::empty(),
        }
    }

    /// The Python object for a core session, reusing the last one when it is the same.
    pub fn wrap(&self, py: Python<'_>, session: Arc<CoreSession>) -> PyResult<Py<Session>> {
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

    /// The cache-hit path of both twins: no lock, no allocation, no runtime. `None` on a miss
    /// (or once the client is closed).
    pub fn fresh_cached(&self, py: Python<'_>) -> PyResult<Option<Py<Session>>> {
        match self
            .core
            .with_fresh(|s| self.reuse(py, s).ok_or_else(|| s.clone()))
        {
            Some(Ok(object)) => Ok(Some(object)),
            Some(Err(session)) => self.wrap(py, session).map(Some),
            None => Ok(None),
        }
    }

    /// `cache`: "memory", None, or the DiskCache / RedisCache.
    pub fn cache(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        cache_of(py, &self.core)
    }

    /// `Client(server=…, …)` or `AsyncClient(…)`: no secret, the Redis password masked.
    pub fn repr(&self, class: &str) -> String {
        repr_of(&self.core, class)
    }
}

/// A client's `cache`: "memory", None, or the DiskCache / RedisCache.
pub fn cache_of(py: Python<'_>, core: &CoreClient) -> PyResult<Py<PyAny>> {
    Ok(match core.cache() {
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

/// A client's repr: no secret, the Redis password masked (no site or version for Tableau
/// Cloud Manager, which has neither).
pub fn repr_of(core: &CoreClient, class: &str) -> String {
    let cfg = core.config();
    let cache = match core.cache() {
        CacheChoice::Memory => String::new(),
        CacheChoice::Off => ", cache=None".into(),
        CacheChoice::Shared(SharedCache::Disk(d)) => {
            format!(", cache=DiskCache(path={:?})", d.dir().to_string_lossy())
        }
        CacheChoice::Shared(SharedCache::Redis(r)) => {
            format!(", cache=RedisCache(url={:?})", r.url())
        }
    };
    let site = if cfg.is_cloud_manager() {
        String::new()
    } else {
        format!(", site={:?}, api_version={:?}", cfg.site, cfg.api_version)
    };
    format!(
        "{class}(server={:?}{site}, credentials={}{cache})",
        cfg.server,
        core.credentials().describe()
    )
}

/// The token of a `Session`, a `CloudManagerSession` or a token string.
pub fn token_of(session: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = session.cast::<Session>() {
        Ok(s.get().inner.token.expose().to_string())
    } else if let Ok(s) = session.cast::<CloudManagerSession>() {
        Ok(s.get().inner.token.expose().to_string())
    } else if session.is_instance_of::<PyString>() {
        session.extract::<String>()
    } else {
        Err(config_error(
            "invalidate() takes a Session, a CloudManagerSession or a token string",
        ))
    }
}
