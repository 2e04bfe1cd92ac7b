//! Turning `request(method, path, params=, json=, data=, headers=, timeout=)` arguments into a
//! core `ApiRequest` (shared by `Client` and `AsyncClient`).

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use reqwest::Method;

use super::args;
use super::configure::core_of;
use super::errors::{config_error, IntoPy};
use super::handle::token_of;
use tca_core::api::{ApiRequest, Target};
use tca_core::config::ClientConfig;
use tca_core::config::Seconds;

pub fn pairs(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Vec<(String, String)>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    let dict = obj
        .cast::<PyDict>()
        .map_err(|_| config_error(format!("{name} must be a dict")))?;
    dict.iter()
        .map(|(k, v)| {
            Ok((
                k.str()?.to_cow()?.into_owned(),
                v.str()?.to_cow()?.into_owned(),
            ))
        })
        .collect()
}

/// Everything a call needs, read and checked before any I/O.
#[allow(clippy::too_many_arguments)]
pub fn build(
    py: Python<'_>,
    cfg: &ClientConfig,
    method: &str,
    path: &str,
    params: Option<&Bound<'_, PyAny>>,
    json: Option<&Bound<'_, PyAny>>,
    data: Option<&Bound<'_, PyAny>>,
    headers: Option<&Bound<'_, PyAny>>,
    timeout: Option<&Bound<'_, PyAny>>,
) -> PyResult<ApiRequest> {
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| config_error(format!("{method:?} is not an HTTP method")))?;
    let target = Target::parse(cfg, path).py_err()?;
    let mut headers = pairs(headers, "headers")?;
    let has = |headers: &[(String, String)], name: &str| {
        headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
    };
    let json = json.filter(|o| !o.is_none());
    let data = data.filter(|o| !o.is_none());
    let body = match (json, data) {
        (Some(_), Some(_)) => return Err(config_error("pass json= or data=, not both")),
        (Some(value), None) => {
            let text = args::json_text(py, value)?;
            if !has(&headers, "content-type") {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            Some(Bytes::from(text))
        }
        (None, Some(d)) => {
            let bytes = if let Ok(b) = d.cast::<PyBytes>() {
                Bytes::copy_from_slice(b.as_bytes())
            } else if let Ok(s) = d.cast::<PyString>() {
                Bytes::from(s.to_cow()?.into_owned())
            } else {
                return Err(config_error("data must be bytes or str"));
            };
            if !has(&headers, "content-type") {
                headers.push(("Content-Type".into(), cfg.wire_format.content_type().into()));
            }
            Some(bytes)
        }
        (None, None) => None,
    };
    let timeout = match timeout.filter(|o| !o.is_none()) {
        Some(t) => Some(
            Seconds::TIMEOUT
                .check(args::seconds(t, "timeout")?)
                .py_err()?,
        ),
        None => None,
    };
    Ok(ApiRequest {
        method,
        target,
        query: pairs(params, "params")?,
        headers,
        body,
        timeout,
    })
}

/// What the requests and httpx adapters do with an answer to `method url` sent with `session`
/// (a `Session` or its token): True when the session is dead (drop it with
/// `client.invalidate(session)` and send the request once more with a fresh one); False to
/// keep the answer; `MissingScopeError` when, on a connected-app session, this kind of call
/// answered 401002 on another session already. `retried`: the answer is to that second send.
/// The core's one rule (`tca_core::client::Client::judge`), as `request()` follows it.
#[pyfunction]
#[pyo3(signature = (client, session, method, url, status, body, retried = false))]
#[allow(clippy::too_many_arguments)]
pub fn judge_answer(
    client: &Bound<'_, PyAny>,
    session: &Bound<'_, PyAny>,
    method: &str,
    url: &str,
    status: u16,
    body: &[u8],
    retried: bool,
) -> PyResult<bool> {
    let core = core_of(client)
        .ok_or_else(|| config_error("judge_answer() takes a Client or an AsyncClient"))?;
    let token = token_of(session)?;
    core.judge(
        &token,
        &method.to_ascii_uppercase(),
        url,
        status,
        body,
        retried,
    )
    .py_err()
}
