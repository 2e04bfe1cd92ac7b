//! The binding layer: thin wrappers that convert Python arguments to core types and core
//! errors to Python exceptions (in `errors.rs`, the one place that does).

use pyo3::prelude::*;

mod args;
mod client;
mod credentials;
mod errors;
mod session;
mod wait;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Rust `log` records reach Python `logging` under "tableau_connected_auth".
    let _ = pyo3_log::try_init();
    m.add_class::<credentials::ConnectedApp>()?;
    m.add_class::<credentials::ConnectedAppCredentials>()?;
    m.add_class::<credentials::PersonalAccessToken>()?;
    m.add_class::<credentials::UsernamePassword>()?;
    m.add_class::<credentials::Jwt>()?;
    m.add_class::<client::Client>()?;
    m.add_class::<session::Session>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "DEFAULT_API_VERSION",
        crate::core::config::DEFAULT_API_VERSION,
    )?;
    Ok(())
}
