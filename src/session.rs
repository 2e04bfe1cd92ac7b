//! The Python `Session`: a signed-in session's token, site and user. `repr` hides the token.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use pyo3::prelude::*;
use pyo3::types::PyDict;

use tca_core::session::Session as CoreSession;

/// A signed-in session. `headers` go on every REST call; `url("workbooks")` builds a
/// site-scoped URL.
#[pyclass(frozen, name = "Session", module = "tableau_connected_auth")]
pub struct Session {
    pub inner: Arc<CoreSession>,
}

fn epoch_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

pub(crate) fn to_datetime<'py>(py: Python<'py>, t: SystemTime) -> PyResult<Bound<'py, PyAny>> {
    let datetime = py.import("datetime")?;
    let utc = datetime.getattr("timezone")?.getattr("utc")?;
    datetime
        .getattr("datetime")?
        .call_method1("fromtimestamp", (epoch_seconds(t), utc))
}

/// `expires_at` of a site or Tableau Cloud Manager session: aware UTC, or None.
pub(crate) fn expiry<'py>(py: Python<'py>, s: &CoreSession) -> PyResult<Option<Bound<'py, PyAny>>> {
    s.expires_at.map(|t| to_datetime(py, t)).transpose()
}

/// `headers` of a site or Tableau Cloud Manager session: its header with the token.
pub(crate) fn headers<'py>(py: Python<'py>, s: &CoreSession) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(s.header_name(), s.token.expose())?;
    Ok(d)
}

#[pymethods]
impl Session {
    /// The session token (the value of the `X-Tableau-Auth` header). Keep it secret.
    #[getter]
    fn token(&self) -> &str {
        self.inner.token.expose()
    }

    #[getter]
    fn site_id(&self) -> &str {
        self.inner.site_id()
    }

    #[getter]
    fn site_content_url(&self) -> &str {
        self.inner.site_content_url()
    }

    #[getter]
    fn user_id(&self) -> &str {
        &self.inner.user_id
    }

    #[getter]
    fn server(&self) -> &str {
        &self.inner.server
    }

    #[getter]
    fn api_version(&self) -> &str {
        &self.inner.api_version
    }

    /// When the sign-in happened (aware UTC datetime).
    #[getter]
    fn signed_in_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_datetime(py, self.inner.signed_in_at)
    }

    /// When Tableau expects the session to end (aware UTC datetime), or None if it did not
    /// say. A hint only: a 401 is what says a session is dead.
    #[getter]
    fn expires_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        expiry(py, &self.inner)
    }

    /// `{"X-Tableau-Auth": token}`.
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        headers(py, &self.inner)
    }

    /// `https://…/api/{version}/sites/{site_id}/{path}`.
    fn url(&self, path: &str) -> String {
        self.inner.url(path)
    }

    fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "Session(server={:?}, site={:?}, site_id={:?}, user_id={:?}, api_version={:?}, token=***)",
            s.server,
            s.site_content_url(),
            s.site_id(),
            s.user_id,
            s.api_version
        )
    }

    fn __str__(&self) -> String {
        self.__repr__()
    }
}
