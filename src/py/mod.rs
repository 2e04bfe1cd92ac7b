//! The binding layer: thin wrappers that convert Python arguments to core types and core
//! errors to Python exceptions (in `errors.rs`, the one place that does).

use pyo3::prelude::*;

mod aio;
mod args;
mod caches;
mod calls;
mod client;
mod credentials;
mod errors;
mod exit;
mod fake;
mod logs;
mod response;
mod session;
mod wait;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Rust `log` records reach Python `logging` under "tableau_connected_auth" until Python
    // exits. We log on sign-in paths only, never on a cache hit.
    logs::install(m)?;
    exit::install(m)?;
    m.add_class::<credentials::JwtIssuerBase>()?;
    m.add_class::<credentials::ConnectedApp>()?;
    m.add_class::<credentials::ConnectedAppCredentials>()?;
    m.add_class::<credentials::PersonalAccessToken>()?;
    m.add_class::<credentials::UsernamePassword>()?;
    m.add_class::<credentials::Jwt>()?;
    m.add_class::<credentials::ExternalAuthorizationServer>()?;
    m.add_class::<credentials::UnifiedAccessToken>()?;
    m.add_class::<client::Client>()?;
    m.add_class::<caches::DiskCache>()?;
    m.add_class::<caches::RedisCache>()?;
    m.add_class::<session::Session>()?;
    m.add_class::<response::Response>()?;
    m.add_class::<fake::FakeTableau>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "DEFAULT_API_VERSION",
        crate::core::config::DEFAULT_API_VERSION,
    )?;
    Ok(())
}
