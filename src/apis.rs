//! The arguments of the calls after sign-in that both twins take (`paginate`, `graphql`,
//! `graphql_paginate`, `vds`, `pulse_paginate`, `pulse_batch_get`), read and checked before
//! any I/O, and the Metadata API's warnings as Python warnings.

use std::sync::Arc;

use pyo3::prelude::*;
use serde_json::Value;

use super::args;
use super::calls::pairs;
use super::errors::{user_warning, IntoPy};
use tca_core::client::Client as CoreClient;
use tca_core::metadata::Connection;
use tca_core::pages::Pager;
use tca_core::pulse::Listing;
use tca_core::vds::Endpoint;

/// A JSON argument, `None` when absent.
pub fn json_arg(py: Python<'_>, value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Value>> {
    value
        .filter(|v| !v.is_none())
        .map(|v| args::json_value(py, v))
        .transpose()
}

pub fn rest_pager(
    core: Arc<CoreClient>,
    path: &str,
    page_size: i64,
    params: Option<&Bound<'_, PyAny>>,
) -> PyResult<Pager> {
    Pager::rest(core, path, pairs(params, "params")?, page_size).py_err()
}

pub fn graphql_pager(
    py: Python<'_>,
    core: Arc<CoreClient>,
    query: String,
    connection: &str,
    variables: Option<&Bound<'_, PyAny>>,
) -> PyResult<Pager> {
    let connection = Connection::new(query, json_arg(py, variables)?, connection).py_err()?;
    Ok(Pager::metadata(core, connection))
}

pub fn pulse_pager(
    core: Arc<CoreClient>,
    resource: &str,
    page_size: Option<i64>,
    params: Option<&Bound<'_, PyAny>>,
) -> PyResult<Pager> {
    let listing = Listing::new(resource, pairs(params, "params")?, page_size).py_err()?;
    Ok(Pager::pulse(core, listing))
}

/// What `vds(...)` sends: the endpoint, the query and the options.
pub struct VdsCall {
    pub endpoint: Endpoint,
    pub query: Option<Value>,
    pub options: Option<Value>,
}

pub fn vds_call(
    py: Python<'_>,
    endpoint: &str,
    query: Option<&Bound<'_, PyAny>>,
    options: Option<&Bound<'_, PyAny>>,
) -> PyResult<VdsCall> {
    Ok(VdsCall {
        endpoint: Endpoint::parse(endpoint).py_err()?,
        query: json_arg(py, query)?,
        options: json_arg(py, options)?,
    })
}

/// The ids of `pulse_batch_get`.
pub fn ids(value: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    args::string_list(value, "ids")
}

/// Each Metadata API warning (e.g. BACKFILL_RUNNING) as a `UserWarning`.
pub fn warn(py: Python<'_>, warnings: &[String]) -> PyResult<()> {
    for w in warnings {
        user_warning(py, &format!("Metadata API: {w}"))?;
    }
    Ok(())
}
