//! The answer to `client.request(...)`: status, headers, content, `.text`, `.json()` and
//! `.raise_for_status()` raising this package's typed errors.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::errors::to_pyerr;
use tca_core::api::ApiReply;
use tca_core::error::Call;
use tca_core::signin;

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
        if self.ok() {
            return Ok(());
        }
        Err(to_pyerr(signin::failure(&self.reply.reply, Call::Other)))
    }

    fn __repr__(&self) -> String {
        format!("<Response [{}]>", self.reply.reply.status)
    }
}
