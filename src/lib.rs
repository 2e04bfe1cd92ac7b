//! tableau_connected_auth's binding crate: the `tableau_connected_auth._core` extension module.
//!
//! Thin wrappers that convert Python arguments to `tca_core` types and core errors to Python
//! exceptions (in `errors.rs`, the one place that does). The core (`crates/core`) knows nothing
//! of Python; the fake Tableau (`crates/fake`) shares no code with it.

use pyo3::prelude::*;

mod aio;
mod apis;
mod args;
mod async_client;
mod caches;
mod calls;
mod client;
mod cloud_manager;
mod configure;
mod credentials;
mod errors;
mod exit;
mod fake;
mod handle;
mod hints;
mod logs;
mod pages;
mod response;
mod scopes;
mod session;
mod stats;
mod wait;

fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
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
    m.add_class::<async_client::AsyncClient>()?;
    m.add_class::<cloud_manager::CloudManagerClient>()?;
    m.add_class::<cloud_manager::AsyncCloudManagerClient>()?;
    m.add_class::<cloud_manager::CloudManagerSession>()?;
    m.add_class::<caches::DiskCache>()?;
    m.add_class::<caches::RedisCache>()?;
    m.add_class::<session::Session>()?;
    m.add_class::<response::Response>()?;
    m.add_class::<response::CurrentSession>()?;
    m.add_class::<fake::FakeTableau>()?;
    m.add_class::<scopes::ScopeNeed>()?;
    m.add_class::<pages::Pages>()?;
    m.add_class::<pages::AsyncPages>()?;
    m.add_function(wrap_pyfunction!(calls::judge_answer, m)?)?;
    m.add_function(wrap_pyfunction!(scopes::scopes_for, m)?)?;
    m.add_function(wrap_pyfunction!(stats::stats, m)?)?;
    m.add_function(wrap_pyfunction!(stats::reset_stats, m)?)?;
    m.add_function(wrap_pyfunction!(stats::set_telemetry, m)?)?;
    m.add_function(wrap_pyfunction!(hints::hint_table, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULT_API_VERSION", tca_core::config::DEFAULT_API_VERSION)?;
    Ok(())
}

/// `gil_used = false`: safe on free-threaded CPython (3.13t, 3.14t). Every pyclass is `Sync`
/// (pyo3 refuses to compile one that is not), shared state lives in atomics, `ArcSwap`s and
/// mutexes of the core, and nothing relies on the GIL for exclusion.
#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    register(m)
}
