//! tableau_connected_auth: sign in to the Tableau REST API with Connected Apps.
//!
//! `core` is pure Rust (no pyo3); `py` is the thin binding layer that maturin builds into
//! the `tableau_connected_auth._core` extension module.

pub mod core;
mod py;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    py::register(m)
}
