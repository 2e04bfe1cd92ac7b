//! `scopes_for(method, path)`: which connected-app scopes a call needs, from the core's table.

use pyo3::prelude::*;

use tca_core::scopes;

/// The scopes one call needs: any one of `scopes` opens it.
#[pyclass(frozen, get_all, module = "tableau_connected_auth")]
pub struct ScopeNeed {
    /// "REST API", "Metadata API", "VizQL Data Service" or "Pulse".
    api: &'static str,
    /// The method and the path with identifiers left out, e.g. "GET workbooks/{id}/views".
    family: String,
    /// Any one of these opens the call.
    scopes: Vec<String>,
    /// The first Tableau release where these scopes open the call, when documented.
    since: Option<&'static str>,
    /// False when the table does not know the call and `scopes` is what its resource and
    /// method suggest.
    known: bool,
}

#[pymethods]
impl ScopeNeed {
    fn __repr__(&self) -> String {
        format!(
            "ScopeNeed(api={:?}, family={:?}, scopes={:?}, since={}, known={})",
            self.api,
            self.family,
            self.scopes,
            self.since.map_or("None".to_string(), |s| format!("{s:?}")),
            if self.known { "True" } else { "False" }
        )
    }
}

/// The connected-app scopes a call needs (any one of them opens it). `path` is what
/// `Client.request` takes ("workbooks", "users/{id}", "/api/metadata/graphql",
/// "/api/-/pulse/definitions", …) or a full URL path.
#[pyfunction]
pub fn scopes_for(method: &str, path: &str) -> ScopeNeed {
    let path = match path.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => path,
    };
    let need = scopes::needed(method, path);
    ScopeNeed {
        api: need.api.name(),
        family: need.family,
        scopes: need.any_of,
        since: need.since,
        known: need.known,
    }
}
