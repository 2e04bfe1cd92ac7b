//! The constructor arguments shared by `Client` and `AsyncClient`, turned into the core's
//! configuration. Every limit is checked by the core (`ClientConfig`); here only Python types
//! are converted.

use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString};

use super::args;
use super::async_client::AsyncClient;
use super::caches::{cache_choice, CacheArg};
use super::client::Client;
use super::credentials;
use super::errors::{config_error, IntoPy};
use tca_core::client::Client as CoreClient;
use tca_core::config::{
    ca_bundle_from_env, ClientConfig, Seconds, Service, TransportConfig, DEFAULT_API_VERSION,
    DEFAULT_CONNECT_TIMEOUT,
};
use tca_core::credentials::Credentials;
use tca_core::signin;

/// The keyword arguments of `Client(...)`; `None` means the default.
pub struct ClientArgs<'a, 'py> {
    pub api_version: Option<&'a Bound<'py, PyAny>>,
    pub timeout: Option<&'a Bound<'py, PyAny>>,
    pub connect_timeout: Option<&'a Bound<'py, PyAny>>,
    pub retries: Option<&'a Bound<'py, PyAny>>,
    pub verify: Option<&'a Bound<'py, PyAny>>,
    pub ca_bundle: Option<&'a Bound<'py, PyAny>>,
    pub client_cert: Option<&'a Bound<'py, PyAny>>,
    pub proxy: Option<&'a Bound<'py, PyAny>>,
    pub wire_format: Option<&'a Bound<'py, PyAny>>,
    pub impersonate: Option<&'a Bound<'py, PyAny>>,
    pub max_session_age: Option<&'a Bound<'py, PyAny>>,
    pub rate_limit_max_wait: Option<&'a Bound<'py, PyAny>>,
}

fn given<'a, 'py>(arg: Option<&'a Bound<'py, PyAny>>) -> Option<&'a Bound<'py, PyAny>> {
    arg.filter(|a| !a.is_none())
}

/// A setting in seconds checked by the core's rule for it, or the default.
fn seconds_or(
    arg: Option<&Bound<'_, PyAny>>,
    limit: Seconds,
    default: Duration,
) -> PyResult<Duration> {
    match given(arg) {
        None => Ok(default),
        Some(arg) => limit.check(args::seconds(arg, limit.name())?).py_err(),
    }
}

/// `client_cert="both.pem"` or `client_cert=("cert.pem", "key.pem")`.
fn client_cert(arg: Option<&Bound<'_, PyAny>>) -> PyResult<Option<(String, Option<String>)>> {
    let Some(arg) = given(arg) else {
        return Ok(None);
    };
    if arg.is_instance_of::<PyString>() {
        return Ok(Some((args::string(arg, "client_cert")?, None)));
    }
    let parts = args::string_list(arg, "client_cert")?;
    match parts.as_slice() {
        [cert, key] => Ok(Some((cert.clone(), Some(key.clone())))),
        _ => Err(config_error(
            "client_cert must be a PEM path, or a (cert_path, key_path) pair",
        )),
    }
}

/// The transport settings (TLS, proxy, connect timeout) of the constructor arguments.
fn transport(a: &ClientArgs<'_, '_>) -> PyResult<TransportConfig> {
    let mut ca_bundle = args::optional_string(a.ca_bundle, "ca_bundle")?;
    let insecure = match given(a.verify) {
        None => false,
        Some(v) if v.is_instance_of::<PyBool>() => !v.extract::<bool>()?,
        // requests-style verify="/path/to/ca.pem".
        Some(v) if v.is_instance_of::<PyString>() => {
            ca_bundle = Some(args::string(v, "verify")?);
            false
        }
        Some(_) => {
            return Err(config_error(
                "verify must be True, False or a path to a CA bundle",
            ))
        }
    };
    if ca_bundle.is_none() && !insecure {
        ca_bundle = ca_bundle_from_env();
    }
    Ok(TransportConfig {
        insecure,
        ca_bundle,
        proxy: args::optional_string(a.proxy, "proxy")?,
        client_cert: client_cert(a.client_cert)?,
        connect_timeout: seconds_or(
            a.connect_timeout,
            Seconds::CONNECT_TIMEOUT,
            DEFAULT_CONNECT_TIMEOUT,
        )?,
    })
}

/// `retries=` and `timeout=`, as the core checks them.
fn retries_and_timeout(a: &ClientArgs<'_, '_>) -> PyResult<(i64, f64)> {
    let retries = match given(a.retries) {
        None => 3,
        Some(r) if r.is_instance_of::<PyBool>() => {
            return Err(config_error("retries must be a whole number from 0 to 10"))
        }
        Some(r) => r
            .extract::<i64>()
            .map_err(|_| config_error("retries must be a whole number from 0 to 10"))?,
    };
    let timeout = match given(a.timeout) {
        None => 30.0,
        Some(t) => args::seconds(t, "timeout")?,
    };
    Ok((retries, timeout))
}

/// Build the configuration from constructor arguments, checking everything before any I/O.
/// `site` is `None` for Tableau Cloud Manager.
pub fn configure(
    server: &Bound<'_, PyAny>,
    site: Option<&Bound<'_, PyAny>>,
    credentials: &Bound<'_, PyAny>,
    a: ClientArgs<'_, '_>,
) -> PyResult<(ClientConfig, Credentials)> {
    let creds = credentials::extract(credentials)?;
    let (retries, timeout) = retries_and_timeout(&a)?;
    let transport = transport(&a)?;
    let string_or =
        |arg: Option<&Bound<'_, PyAny>>, name: &str, default: &str| -> PyResult<String> {
            given(arg).map_or(Ok(default.to_string()), |v| args::string(v, name))
        };
    let server = args::string(server, "server")?;
    let mut cfg = match site {
        None => ClientConfig::cloud_manager(&server, timeout, retries, transport),
        Some(site) => ClientConfig::new(
            &server,
            &args::string(site, "site")?,
            &string_or(a.api_version, "api_version", DEFAULT_API_VERSION)?,
            timeout,
            retries,
            &string_or(a.wire_format, "wire_format", "xml")?,
            args::optional_string(a.impersonate, "impersonate")?.as_deref(),
            transport,
        ),
    }
    .py_err()?;
    cfg.max_session_age = seconds_or(
        a.max_session_age,
        Seconds::MAX_SESSION_AGE,
        cfg.max_session_age,
    )?;
    cfg.rate_limit_max_wait = seconds_or(
        a.rate_limit_max_wait,
        Seconds::RATE_LIMIT_MAX_WAIT,
        cfg.rate_limit_max_wait,
    )?;
    signin::check_version_supports(&cfg, &creds).py_err()?;
    Ok((cfg, creds))
}

/// The keyword arguments every client takes, besides `server`.
const KEYWORDS: [&str; 11] = [
    "credentials",
    "timeout",
    "connect_timeout",
    "retries",
    "verify",
    "ca_bundle",
    "client_cert",
    "proxy",
    "max_session_age",
    "rate_limit_max_wait",
    "cache",
];

/// Those only `Client(...)` and `AsyncClient(...)` take: Tableau Cloud Manager has no site,
/// API version, wire format or impersonation.
const SITE_KEYWORDS: [&str; 4] = ["site", "api_version", "wire_format", "impersonate"];

/// The core client of a `Client` or an `AsyncClient`.
pub fn core_of(client: &Bound<'_, PyAny>) -> Option<Arc<CoreClient>> {
    if let Ok(c) = client.cast::<Client>() {
        Some(c.get().handle.core.clone())
    } else if let Ok(c) = client.cast::<AsyncClient>() {
        Some(c.get().handle.core.clone())
    } else {
        None
    }
}

/// The core client of `class(server, **kwargs)`: configuration checked before any I/O. The
/// twin form, `Client(async_client)` or `AsyncClient(client)`, shares the other's core client
/// (same configuration, same sessions, same closed state).
pub fn core_client(
    class: &str,
    server: &Bound<'_, PyAny>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Arc<CoreClient>> {
    if let Some(core) = core_of(server) {
        if kwargs.map_or(0, |k| k.len()) > 0 {
            return Err(PyTypeError::new_err(format!(
                "{class}(other_client) makes a twin of another client and takes no other \
                 arguments"
            )));
        }
        return Ok(core);
    }
    new_core_client(class, server, kwargs, Service::Site)
}

/// A new core client for `service`, from `class(server, **kwargs)`.
pub fn new_core_client(
    class: &str,
    server: &Bound<'_, PyAny>,
    kwargs: Option<&Bound<'_, PyDict>>,
    service: Service,
) -> PyResult<Arc<CoreClient>> {
    let empty = PyDict::new(server.py());
    let kwargs = kwargs.unwrap_or(&empty);
    for key in kwargs.keys() {
        let key: String = key.extract()?;
        let for_sites = SITE_KEYWORDS.contains(&key.as_str());
        let taken = KEYWORDS.contains(&key.as_str()) || (for_sites && service == Service::Site);
        if !taken {
            let why = if for_sites {
                " (Tableau Cloud Manager has no site, API version, wire format or impersonation)"
            } else {
                ""
            };
            return Err(PyTypeError::new_err(format!(
                "{class}() got an unexpected keyword argument '{key}'{why}"
            )));
        }
    }
    let item = |name: &str| kwargs.get_item(name);
    let required = |name: &str| -> PyResult<Bound<'_, PyAny>> {
        item(name)?.ok_or_else(|| {
            PyTypeError::new_err(format!(
                "{class}() missing required keyword argument: '{name}'"
            ))
        })
    };
    let site = match service {
        Service::Site => Some(required("site")?),
        Service::CloudManager => None,
    };
    let credentials = required("credentials")?;
    let (api_version, timeout, connect_timeout) = (
        item("api_version")?,
        item("timeout")?,
        item("connect_timeout")?,
    );
    let (retries, verify, ca_bundle, client_cert) = (
        item("retries")?,
        item("verify")?,
        item("ca_bundle")?,
        item("client_cert")?,
    );
    let (proxy, wire_format, impersonate) =
        (item("proxy")?, item("wire_format")?, item("impersonate")?);
    let (max_session_age, rate_limit_max_wait) =
        (item("max_session_age")?, item("rate_limit_max_wait")?);
    let cache = CacheArg(item("cache")?.map(Bound::unbind));
    let cache = cache_choice(server.py(), &cache)?;
    let (cfg, creds) = configure(
        server,
        site.as_ref(),
        &credentials,
        ClientArgs {
            api_version: api_version.as_ref(),
            timeout: timeout.as_ref(),
            connect_timeout: connect_timeout.as_ref(),
            retries: retries.as_ref(),
            verify: verify.as_ref(),
            ca_bundle: ca_bundle.as_ref(),
            client_cert: client_cert.as_ref(),
            proxy: proxy.as_ref(),
            wire_format: wire_format.as_ref(),
            impersonate: impersonate.as_ref(),
            max_session_age: max_session_age.as_ref(),
            rate_limit_max_wait: rate_limit_max_wait.as_ref(),
        },
    )?;
    Ok(Arc::new(CoreClient::new(cfg, creds, cache).py_err()?))
}
