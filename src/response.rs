//! The answer to `client.request(...)`: status, headers, content, `.text`, `.json()`,
//! `.raise_for_status()` raising this package's typed errors, and `.current_session()` reading
//! the answer of `GET sessions/current` with the core's parser (the package's only one).

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::errors::to_pyerr;
use tca_core::api::ApiReply;
use tca_core::signin;
use tca_core::wire;

/// An HTTP answer from Tableau.
#[pyclass(frozen, module = "tableau_connected_auth")]
pub struct Response {
    reply: ApiReply,
}

impl Response {
    pub fn new(reply: ApiReply) -> Self {
        Response { reply }
    }
}

#[pymethods]
impl Response {
    #[getter]
    fn status(&self) -> u16 {
        self.reply.reply.status
    }

    /// Alias of `status`, as in requests.
    #[getter]
    fn status_code(&self) -> u16 {
        self.reply.reply.status
    }

    /// True for 2xx.
    #[getter]
    fn ok(&self) -> bool {
        (200..300).contains(&self.reply.reply.status)
    }

    /// The URL the call went to (no token in it: the token travels in a header).
    #[getter]
    fn url(&self) -> &str {
        &self.reply.url
    }

    /// Response headers, names in lower case.
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, value) in &self.reply.reply.headers {
            if let Ok(v) = value.to_str() {
                d.set_item(name.as_str(), v)?;
            }
        }
        Ok(d)
    }

    #[getter]
    fn content<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.reply.reply.body)
    }

    /// The body decoded as UTF-8 (invalid bytes replaced).
    #[getter]
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.reply.reply.body).into_owned()
    }

    /// The body parsed as JSON (ask for it with `wire_format="json"` or an Accept header).
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?.call_method1("loads", (self.text(),))
    }

    /// Raise the matching `TableauAuthError` subclass unless the status is 2xx.
    fn raise_for_status(&self) -> PyResult<()> {
        self.reply.check_status().map_err(to_pyerr)
    }

    /// The site and user of the answer of `GET sessions/current` (XML or JSON). Raises like
    /// `raise_for_status()` for a non-2xx answer, `ProtocolError` for a body that is not one.
    fn current_session(&self) -> PyResult<CurrentSession> {
        signin::current_session(&self.reply.reply)
            .map(CurrentSession::from)
            .map_err(to_pyerr)
    }

    fn __repr__(&self) -> String {
        format!("<Response [{}]>", self.reply.reply.status)
    }
}

/// The site and user a session token belongs to, from `GET sessions/current`.
#[pyclass(frozen, get_all, module = "tableau_connected_auth")]
pub struct CurrentSession {
    /// The site LUID.
    site_id: String,
    /// The site's display name, if Tableau gave it.
    site_name: Option<String>,
    /// The site's URL name; `""` for the default site.
    site_content_url: String,
    /// The user LUID.
    user_id: String,
    /// The user name, if Tableau gave it.
    user_name: Option<String>,
    /// The user's site role (`"Creator"`, `"Explorer"`, …), if Tableau gave it.
    user_site_role: Option<String>,
}

impl From<wire::CurrentSession> for CurrentSession {
    fn from(s: wire::CurrentSession) -> Self {
        CurrentSession {
            site_id: s.site_id,
            site_name: s.site_name,
            site_content_url: s.site_content_url,
            user_id: s.user_id,
            user_name: s.user_name,
            user_site_role: s.user_site_role,
        }
    }
}

#[pymethods]
impl CurrentSession {
    fn __repr__(&self) -> String {
        format!(
            "CurrentSession(site={:?}, site_id={:?}, site_name={}, user_id={:?}, user_name={}, \
             user_site_role={})",
            self.site_content_url,
            self.site_id,
            shown(&self.site_name),
            self.user_id,
            shown(&self.user_name),
            shown(&self.user_site_role)
        )
    }
}

/// An optional text as `repr` shows it: `None`, or quoted.
fn shown(value: &Option<String>) -> String {
    value
        .as_deref()
        .map_or_else(|| "None".to_owned(), |v| format!("{v:?}"))
}
