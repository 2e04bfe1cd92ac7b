//! tableau_connected_auth: sign in to the Tableau REST API with Connected Apps.
//!
//! `core` is pure Rust (no pyo3); `py` is the thin binding layer that maturin builds into
//! the `tableau_connected_auth._core` extension module.

pub mod core;
mod py;

use pyo3::prelude::*;

/// `gil_used = false`: safe on free-threaded CPython (3.13t, 3.14t). Every pyclass is `Sync`
/// (pyo3 refuses to compile one that is not), shared state lives in atomics, `ArcSwap`s and
/// mutexes of the core, and nothing relies on the GIL for exclusion.
#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    py::register(m)
}
