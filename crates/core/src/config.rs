//! A client's configuration, validated in full before any network I/O.
//!
//! Rules: a scheme-less address means https; plain http needs an explicit `http://`; the
//! address is the server root (no path, query or fragment); the site is its contentUrl.

use std::time::Duration;

use super::error::{Error, Result};
use super::redact::mask_url;
use super::wire::WireFormat;

/// The REST API version used when the caller does not pick one.
pub const DEFAULT_API_VERSION: &str = "3.24";
/// The first version with connected-app (JWT) sign-in (Tableau Cloud, June 2022).
pub const FIRST_JWT_VERSION: (u32, u32) = (3, 16);
/// The first version with unified access tokens (Tableau Cloud, Dec 2025).
pub const FIRST_UAT_VERSION: (u32, u32) = (3, 27);
/// The first version with personal access tokens.
pub const FIRST_PAT_VERSION: (u32, u32) = (3, 6);

/// A session older than this is refreshed when none is given (`max_session_age=`).
pub const DEFAULT_MAX_SESSION_AGE: Duration = Duration::from_secs(4 * 3600);
/// The longest 429 wait when none is given (`rate_limit_max_wait=`).
pub const DEFAULT_RATE_LIMIT_MAX_WAIT: Duration = Duration::from_secs(60);

/// The connect timeout when none is given.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// TLS, proxy and connect settings: clients with equal settings share one HTTP client.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TransportConfig {
    /// true: accept any certificate (`verify=False`, logged as a warning).
    pub insecure: bool,
    /// A PEM file whose certificates are trusted in addition to the OS trust store.
    pub ca_bundle: Option<String>,
    /// An explicit proxy URL; None uses HTTPS_PROXY / HTTP_PROXY / NO_PROXY.
    pub proxy: Option<String>,
    /// A client certificate for mutual TLS: a PEM file with the certificate (chain), and the
    /// file of its private key when that is separate.
    pub client_cert: Option<(String, Option<String>)>,
    pub connect_timeout: Duration,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            insecure: false,
            ca_bundle: None,
            proxy: None,
            client_cert: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

/// The CA bundle Python users already point requests and curl at, if set.
pub fn ca_bundle_from_env() -> Option<String> {
    ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|v| !v.trim().is_empty())
}

fn read_pem(what: &str, path: &str, marker: &[u8], expected: &str) -> Result<Vec<u8>> {
    let pem = std::fs::read(path)
        .map_err(|e| Error::Configuration(format!("{what} {path:?} cannot be read: {e}")))?;
    if !pem.windows(marker.len()).any(|w| w == marker) {
        return Err(Error::Configuration(format!(
            "{what} {path:?} holds no {expected}"
        )));
    }
    Ok(pem)
}

/// Never shows a proxy password.
impl std::fmt::Debug for TransportConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportConfig")
            .field("insecure", &self.insecure)
            .field("ca_bundle", &self.ca_bundle)
            .field("proxy", &self.proxy.as_deref().map(mask_url))
            .field("client_cert", &self.client_cert)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl TransportConfig {
    /// What decides which servers this client trusts, for the session cache key: a session
    /// obtained without checking certificates (or trusting other CAs, or with another client
    /// certificate) is never handed to a client with other trust settings.
    pub fn trust_identity(&self) -> String {
        let (cert, key) = match &self.client_cert {
            Some((cert, key)) => (cert.as_str(), key.as_deref().unwrap_or("")),
            None => ("", ""),
        };
        serde_json::json!([self.insecure, self.ca_bundle, cert, key]).to_string()
    }

    /// The CA bundle's PEM, if one is configured.
    pub fn ca_bundle_pem(&self) -> Result<Option<Vec<u8>>> {
        self.ca_bundle
            .as_deref()
            .map(|path| {
                read_pem(
                    "ca_bundle",
                    path,
                    b"-----BEGIN CERTIFICATE-----",
                    "PEM certificate (-----BEGIN CERTIFICATE-----)",
                )
            })
            .transpose()
    }

    /// The client certificate and key as one PEM, if configured.
    pub fn client_identity_pem(&self) -> Result<Option<Vec<u8>>> {
        let Some((cert, key)) = &self.client_cert else {
            return Ok(None);
        };
        let mut pem = read_pem(
            "client_cert",
            cert,
            b"-----BEGIN CERTIFICATE-----",
            "PEM certificate",
        )?;
        match key {
            Some(key) => {
                pem.push(b'\n');
                pem.extend(read_pem("client_cert key", key, b"PRIVATE KEY-----", "PEM private key")?);
            }
            None if !pem.windows(16).any(|w| w == b"PRIVATE KEY-----") => {
                return Err(Error::Configuration(format!(
                    "client_cert {cert:?} has no private key: pass client_cert=(cert_path, key_path)"
                )))
            }
            None => {}
        }
        Ok(Some(pem))
    }

    /// Check what can be checked without I/O to the server: the proxy URL parses, the CA
    /// bundle is a readable file with at least one PEM certificate.
    pub fn check(&self) -> Result<()> {
        if let Some(proxy) = &self.proxy {
            let ok = url::Url::parse(proxy)
                .map(|u| {
                    matches!(u.scheme(), "http" | "https" | "socks5" | "socks5h")
                        && u.host_str().is_some_and(|h| !h.is_empty())
                })
                .unwrap_or(false);
            if !ok {
                return Err(Error::Configuration(format!(
                    "proxy {} is not a proxy URL: give e.g. \"http://proxy.example.com:3128\"",
                    mask_url(proxy)
                )));
            }
        }
        self.ca_bundle_pem()?;
        self.client_identity_pem()?;
        Seconds::CONNECT_TIMEOUT.check(self.connect_timeout.as_secs_f64())?;
        Ok(())
    }
}

/// What a client signs in to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// A site of Tableau Server or Tableau Cloud: the REST API (`/api/{version}/auth/signin`).
    Site,
    /// Tableau Cloud Manager: tenant administration (`/api/v1/pat/login`, `/api/v1/jwt/login`).
    CloudManager,
}

/// Tableau Cloud Manager's address.
pub const CLOUD_MANAGER_SERVER: &str = "https://cloudmanager.tableau.com";
/// The version in every Tableau Cloud Manager path (`/api/v1/...`).
pub const CLOUD_MANAGER_API_VERSION: &str = "v1";

/// Everything about where and how a client signs in, except the credentials.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientConfig {
    /// A site (the REST API) or Tableau Cloud Manager.
    pub service: Service,
    /// "https://host[:port]", no trailing slash.
    pub server: String,
    /// The site's contentUrl ("" for the Server default site).
    pub site: String,
    /// "3.24" and the like.
    pub api_version: String,
    pub timeout: Duration,
    pub retries: u32,
    pub wire_format: WireFormat,
    /// A user LUID to sign in as (admins only).
    pub impersonate: Option<String>,
    /// A session older than this is refreshed even if Tableau never said it expired.
    pub max_session_age: Duration,
    /// A 429 asking to wait longer than this raises `RateLimited` instead of waiting.
    pub rate_limit_max_wait: Duration,
    pub transport: TransportConfig,
}

impl ClientConfig {
    /// The fields a user gives; everything is checked here.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        server: &str,
        site: &str,
        api_version: &str,
        timeout: f64,
        retries: i64,
        wire_format: &str,
        impersonate: Option<&str>,
        transport: TransportConfig,
    ) -> Result<Self> {
        transport.check()?;
        Ok(ClientConfig {
            service: Service::Site,
            server: normalize_server(server)?,
            site: check_site(site)?,
            api_version: check_api_version(api_version)?,
            timeout: Seconds::TIMEOUT.check(timeout)?,
            retries: check_retries(retries)?,
            wire_format: parse_wire_format(wire_format)?,
            impersonate: impersonate.map(check_luid).transpose()?,
            max_session_age: DEFAULT_MAX_SESSION_AGE,
            rate_limit_max_wait: DEFAULT_RATE_LIMIT_MAX_WAIT,
            transport,
        })
    }

    /// A Tableau Cloud Manager client's configuration: no site, API `v1`, JSON. Its session
    /// is kept apart from every site session (the service is part of the cache key).
    pub fn cloud_manager(
        server: &str,
        timeout: f64,
        retries: i64,
        transport: TransportConfig,
    ) -> Result<Self> {
        transport.check()?;
        Ok(ClientConfig {
            service: Service::CloudManager,
            server: normalize_server(server)?,
            site: String::new(),
            api_version: CLOUD_MANAGER_API_VERSION.to_string(),
            timeout: Seconds::TIMEOUT.check(timeout)?,
            retries: check_retries(retries)?,
            wire_format: WireFormat::Json,
            impersonate: None,
            max_session_age: DEFAULT_MAX_SESSION_AGE,
            rate_limit_max_wait: DEFAULT_RATE_LIMIT_MAX_WAIT,
            transport,
        })
    }

    /// True for a Tableau Cloud Manager client.
    pub fn is_cloud_manager(&self) -> bool {
        self.service == Service::CloudManager
    }

    /// `{server}/api/{version}/{path}`.
    pub fn url(&self, version: &str, path: &str) -> String {
        format!("{}/api/{}/{}", self.server, version, path)
    }

    /// The site must be a contentUrl (used when a config is derived for another site).
    pub fn check_site(&self) -> Result<()> {
        check_site(&self.site).map(|_| ())
    }

    /// True when the version is discovered from the server at the first sign-in.
    pub fn auto_version(&self) -> bool {
        self.api_version == AUTO_VERSION
    }
}

/// "10ay.online.tableau.com" → "https://10ay.online.tableau.com".
pub fn normalize_server(server: &str) -> Result<String> {
    let s = server.trim();
    if s.is_empty() {
        return Err(Error::Configuration(
            "server is empty: give the Tableau address, e.g. \"https://10ay.online.tableau.com\""
                .into(),
        ));
    }
    if let Some(site) = browser_site(s) {
        return Err(Error::Configuration(format!(
            "server {s:?} looks like a browser address: pass only the server root as server and \
             the site separately, as site={site:?}"
        )));
    }
    let with_scheme = if s.contains("://") {
        s.to_string()
    } else {
        format!("https://{s}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|e| {
        Error::Configuration(format!(
            "server {s:?} is not a valid address ({e}): give e.g. \"https://tableau.example.com\""
        ))
    })?;
    match url.scheme() {
        "https" | "http" => {}
        other => {
            return Err(Error::Configuration(format!(
                "server scheme {other:?} is not supported: use https:// (or http:// explicitly)"
            )))
        }
    }
    let host = url.host_str().unwrap_or("");
    if host.is_empty() {
        return Err(Error::Configuration(format!(
            "server {s:?} has no host name"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Configuration(
            "server must not contain a user name or password: pass credentials= instead".into(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Configuration(format!(
            "server {s:?} has a query or fragment: give only the server root, e.g. \"{}://{}\"",
            url.scheme(),
            host
        )));
    }
    let path = url.path().trim_end_matches('/');
    if !path.is_empty() {
        let hint = if path.starts_with("/api") {
            " (the library adds /api/{version}/ itself)"
        } else {
            ""
        };
        return Err(Error::Configuration(format!(
            "server {s:?} has a path {path:?}: give only the server root{hint}"
        )));
    }
    let mut root = format!("{}://{}", url.scheme(), host);
    if let Some(port) = url.port() {
        root.push_str(&format!(":{port}"));
    }
    Ok(root)
}

/// The site name in a pasted browser URL like "https://host/#/site/mysite/home".
fn browser_site(s: &str) -> Option<String> {
    let rest = &s[s.find("#/site/")? + "#/site/".len()..];
    Some(rest.split('/').next().unwrap_or("").to_string())
}

fn check_site(site: &str) -> Result<String> {
    if site.trim() != site {
        return Err(Error::Configuration(
            "site has leading or trailing whitespace: give the site's contentUrl exactly".into(),
        ));
    }
    if site.contains('/')
        || site.contains(char::is_whitespace)
        || site.chars().any(char::is_control)
    {
        return Err(Error::Configuration(format!(
            "site {site:?} is not a contentUrl: use the URL name of the site (as in \
             /#/site/<name>/), not its display name; \"\" is the Server default site"
        )));
    }
    Ok(site.to_string())
}

/// "3.24" → (3, 24).
pub fn parse_version(v: &str) -> Option<(u32, u32)> {
    let (major, minor) = v.split_once('.')?;
    let ok = |p: &str| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit());
    if !ok(major) || !ok(minor) {
        return None;
    }
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// `api_version="auto"`: ask the server's `serverinfo` once per host.
pub const AUTO_VERSION: &str = "auto";

fn check_api_version(v: &str) -> Result<String> {
    if v == AUTO_VERSION {
        return Ok(v.to_string());
    }
    match parse_version(v) {
        Some((major, _)) if major >= 2 => Ok(v.to_string()),
        _ => Err(Error::Configuration(format!(
            "api_version {v:?} is not a REST API version: give one like \"{DEFAULT_API_VERSION}\", or \"auto\""
        ))),
    }
}

/// A setting given in seconds, and its bounds. Every such setting, whichever binding or field
/// it arrives through, is checked by [`Seconds::check`]: here, and nowhere else.
#[derive(Clone, Copy, Debug)]
pub struct Seconds {
    name: &'static str,
    /// The smallest value allowed; `None`: anything above 0.
    min: Option<f64>,
    max: f64,
    /// How the bounds read in the message.
    bounds: &'static str,
}

const DAY: f64 = 86_400.0;

impl Seconds {
    /// `timeout`: one HTTP exchange, the client's default or one call's.
    pub const TIMEOUT: Seconds = Seconds::above_zero("timeout", DAY, "above 0 and at most a day");
    pub const CONNECT_TIMEOUT: Seconds =
        Seconds::above_zero("connect_timeout", DAY, "above 0 and at most a day");
    pub const RATE_LIMIT_MAX_WAIT: Seconds =
        Seconds::above_zero("rate_limit_max_wait", DAY, "above 0 and at most a day");
    /// A session is refreshed after this long even if Tableau would keep it longer.
    pub const MAX_SESSION_AGE: Seconds =
        Seconds::above_zero("max_session_age", 365.0 * DAY, "above 0 and at most a year");
    /// How long a shared-cache lock holder that stopped working can block the others.
    pub const LOCK_TIMEOUT: Seconds = Seconds {
        name: "lock_timeout",
        min: Some(0.1),
        max: 3600.0,
        bounds: "from 0.1 to 3600",
    };
    /// A connected-app JWT's lifetime: Tableau refuses an `exp` more than 10 minutes ahead.
    pub const JWT_LIFETIME: Seconds = Seconds {
        name: "lifetime",
        min: Some(1.0),
        max: 600.0,
        bounds: "between 1 and 600 (Tableau refuses an exp more than 10 minutes ahead)",
    };

    const fn above_zero(name: &'static str, max: f64, bounds: &'static str) -> Seconds {
        Seconds {
            name,
            min: None,
            max,
            bounds,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// `secs` as a duration, if it is within the bounds.
    pub fn check(&self, secs: f64) -> Result<Duration> {
        let low_enough = secs <= self.max;
        let high_enough = match self.min {
            Some(min) => secs >= min,
            None => secs > 0.0,
        };
        if !secs.is_finite() || !low_enough || !high_enough {
            return Err(Error::Configuration(format!(
                "{} must be a number of seconds {}; got {secs}",
                self.name, self.bounds
            )));
        }
        Ok(Duration::from_secs_f64(secs))
    }
}

/// A configuration for unit tests: `https://h`, this site, API 3.24, no retries.
#[cfg(test)]
pub fn test_config(site: &str) -> ClientConfig {
    ClientConfig::new(
        "https://h",
        site,
        "3.24",
        30.0,
        0,
        "xml",
        None,
        TransportConfig::default(),
    )
    .expect("a valid test configuration")
}

fn check_retries(r: i64) -> Result<u32> {
    if !(0..=10).contains(&r) {
        return Err(Error::Configuration(format!(
            "retries must be between 0 and 10; got {r}"
        )));
    }
    Ok(r as u32)
}

pub fn parse_wire_format(f: &str) -> Result<WireFormat> {
    match f {
        "xml" => Ok(WireFormat::Xml),
        "json" => Ok(WireFormat::Json),
        other => Err(Error::Configuration(format!(
            "wire_format {other:?} is unknown: use \"xml\" or \"json\""
        ))),
    }
}

fn check_luid(luid: &str) -> Result<String> {
    let ok = !luid.is_empty()
        && luid.len() <= 64
        && luid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        return Err(Error::Configuration(format!(
            "impersonate must be a user LUID (like \"9f9e9d9c-…\"), not a user name; got {luid:?}"
        )));
    }
    Ok(luid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(server: &str) -> Result<ClientConfig> {
        ClientConfig::new(
            server,
            "mysite",
            "3.24",
            30.0,
            3,
            "xml",
            None,
            TransportConfig::default(),
        )
    }

    #[test]
    fn server_addresses_are_normalized() {
        assert_eq!(
            normalize_server("10ay.online.tableau.com").unwrap(),
            "https://10ay.online.tableau.com"
        );
        assert_eq!(
            normalize_server("https://h.example.com/").unwrap(),
            "https://h.example.com"
        );
        assert_eq!(
            normalize_server("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_server("HTTPS://H.Example.com:443").unwrap(),
            "https://h.example.com"
        );
    }

    #[test]
    fn bad_servers_say_what_to_change() {
        for (s, needle) in [
            ("", "empty"),
            ("ftp://h", "scheme"),
            ("https://h/api/3.24", "adds /api"),
            ("https://h/some/path", "path"),
            ("https://h?x=1", "query"),
            ("https://u:p@h", "credentials="),
            ("https://h/#/site/sales/home", "site=\"sales\""),
            ("https://", "valid"),
        ] {
            match config(s) {
                Err(Error::Configuration(m)) => assert!(m.contains(needle), "{s}: {m}"),
                other => panic!("{s}: {other:?}"),
            }
        }
    }

    #[test]
    fn debug_never_shows_a_proxy_password() {
        let t = TransportConfig {
            proxy: Some("http://user:hunter2-pw@proxy:3128".into()),
            ..TransportConfig::default()
        };
        let c = ClientConfig::new("h", "s", "3.24", 30.0, 3, "xml", None, t).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("user:***@proxy"), "{shown}");
    }

    #[test]
    fn trust_settings_tell_clients_apart() {
        let checked = TransportConfig::default();
        let unchecked = TransportConfig {
            insecure: true,
            ..TransportConfig::default()
        };
        let other_ca = TransportConfig {
            ca_bundle: Some("/etc/ca.pem".into()),
            ..TransportConfig::default()
        };
        let with_cert = TransportConfig {
            client_cert: Some(("/c.pem".into(), None)),
            ..TransportConfig::default()
        };
        let ids = [&checked, &unchecked, &other_ca, &with_cert].map(|t| t.trust_identity());
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn other_fields_are_checked() {
        let t = TransportConfig::default();
        assert!(
            ClientConfig::new("h", "My Site", "3.24", 30.0, 3, "xml", None, t.clone()).is_err()
        );
        assert!(ClientConfig::new("h", "", "3.24", 30.0, 3, "xml", None, t.clone()).is_ok());
        assert!(ClientConfig::new("h", "s", "3", 30.0, 3, "xml", None, t.clone()).is_err());
        assert!(ClientConfig::new("h", "s", "v3.24", 30.0, 3, "xml", None, t.clone()).is_err());
        assert!(ClientConfig::new("h", "s", "3.24", 0.0, 3, "xml", None, t.clone()).is_err());
        assert!(ClientConfig::new("h", "s", "3.24", f64::NAN, 3, "xml", None, t.clone()).is_err());
        assert!(ClientConfig::new("h", "s", "3.24", 30.0, -1, "xml", None, t.clone()).is_err());
        assert!(ClientConfig::new("h", "s", "3.24", 30.0, 3, "yaml", None, t.clone()).is_err());
        assert!(ClientConfig::new(
            "h",
            "s",
            "3.24",
            30.0,
            3,
            "json",
            Some("bob smith"),
            t.clone()
        )
        .is_err());
        let c = ClientConfig::new("h", "s", "3.24", 30.0, 3, "json", Some("abc-123"), t).unwrap();
        assert_eq!(
            c.url("3.24", "auth/signin"),
            "https://h/api/3.24/auth/signin"
        );
        assert!(!c.auto_version());
    }
}
