//! The one place where core errors become Python exceptions (defined in
//! `tableau_connected_auth/exceptions.py`).

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::exit;
use tca_core::error::Error;

/// A core error as the matching Python exception, with its attributes set.
/// (While Python exits, a plain `RuntimeError`, made without attaching: see `exit.rs`.)
pub fn to_pyerr(e: Error) -> PyErr {
    exit::attach(|py| build(py, &e).unwrap_or_else(|failed| failed))
        .unwrap_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("Python is exiting"))
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let class = e.kind();
    let kwargs = PyDict::new(py);
    if let Some(f) = e.failure() {
        kwargs.set_item("status", f.status)?;
        if !f.code.is_empty() {
            kwargs.set_item("code", &f.code)?;
        }
        kwargs.set_item("subcode", f.subcode)?;
        kwargs.set_item("summary", &f.summary)?;
        kwargs.set_item("detail", &f.detail)?;
        if !f.hint.is_empty() {
            kwargs.set_item("hint", &f.hint)?;
        }
    }
    match e {
        Error::RateLimited { retry_after, .. } => {
            kwargs.set_item("retry_after", retry_after.map(|d| d.as_secs_f64()))?;
        }
        Error::Protocol { status, .. } => kwargs.set_item("status", status)?,
        Error::Metadata(m) => {
            let errors = py
                .import("json")?
                .call_method1("loads", (m.errors_json.as_str(),))?;
            kwargs.set_item("errors", errors)?;
            kwargs.set_item("codes", &m.codes)?;
        }
        Error::MissingScope(m) => {
            kwargs.set_item("required_scopes", &m.needed)?;
            kwargs.set_item("requested_scopes", &m.asked)?;
            kwargs.set_item("since", m.since)?;
            kwargs.set_item("api", m.api)?;
        }
        _ => {}
    }
    let module = py.import("tableau_connected_auth.exceptions")?;
    let value = module
        .getattr(class)?
        .call((e.to_string(),), Some(&kwargs))?;
    Ok(PyErr::from_value(value))
}

/// A `UserWarning` with this text, shown at the caller's line.
pub fn user_warning(py: Python<'_>, text: &str) -> PyResult<()> {
    let message = std::ffi::CString::new(text).unwrap_or_default();
    PyErr::warn(
        py,
        &py.get_type::<pyo3::exceptions::PyUserWarning>(),
        &message,
        1,
    )
}

/// A `ConfigurationError` with this message.
pub fn config_error(message: impl Into<String>) -> PyErr {
    to_pyerr(Error::Configuration(message.into()))
}

/// Convert a core result.
pub trait IntoPy<T> {
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for Result<T, Error> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_pyerr)
    }
}
