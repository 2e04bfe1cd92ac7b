//! One error type for the whole core. Tableau error codes and connected-app sub-codes become
//! hints here (the rules are the tables of `hints.rs`), so every caller (sync, async, CLI)
//! explains failures the same way, and the documentation shows the same rules.
//!
//! No variant ever carries a secret: messages are built from status codes, Tableau's own
//! summary/detail text (which never echoes credentials) and secret-free excerpts.

use std::fmt;
use std::time::Duration;

mod hints;
pub use hints::{hint_for, hint_table, Calls, HintRule, HintTable};

/// What went wrong. `Clone` because one sign-in result is handed to every waiter.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// A bad argument, caught before any network I/O.
    Configuration(String),
    /// Tableau refused the sign-in (or switchSite).
    SignIn(Box<TableauFailure>),
    /// A call was made with a dead token (401000 / 401002).
    SessionExpired(Box<TableauFailure>),
    /// 429 Too Many Requests.
    RateLimited {
        failure: Box<TableauFailure>,
        retry_after: Option<Duration>,
    },
    /// Tableau answered a later call with some other error (404, 403, 500, …).
    Api(Box<TableauFailure>),
    /// A call on a JWT session answered 401002 again after a fresh sign-in: the JWT lacks the
    /// scope the call needs (Tableau says so exactly as it says a session is dead).
    MissingScope(Box<MissingScope>),
    /// The Metadata API answered GraphQL `errors` (ACCESS_DENIED, FEATURE_DISABLED,
    /// FILTER_REQUIRED, INVALID_ARGUMENT, …).
    Metadata(Box<MetadataFailure>),
    /// Connect, proxy, DNS: the request did not get an answer (transient: retried).
    Transport(String),
    /// The TLS handshake failed: certificate not trusted, client certificate refused
    /// (not transient: never retried). A `TransportError` in Python.
    Tls(String),
    /// No answer in time.
    Timeout(String),
    /// The server answered, but not like Tableau (HTML, empty, truncated, malformed).
    Protocol {
        status: Option<u16>,
        message: String,
    },
}

/// What Tableau said, plus our hint on what to change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableauFailure {
    /// HTTP status.
    pub status: u16,
    /// Tableau's code, e.g. "401001" ("" when the body had none).
    pub code: String,
    /// The connected-app sub-code found in `detail`, e.g. 16 in "… (16)".
    pub subcode: Option<u32>,
    pub summary: String,
    pub detail: String,
    /// What to check or change; "" when we have nothing useful to add.
    pub hint: String,
}

pub type Result<T> = std::result::Result<T, Error>;

/// GraphQL errors from the Metadata API.
#[derive(Clone, Debug, PartialEq)]
pub struct MetadataFailure {
    /// The `errors` list as Tableau sent it (JSON text).
    pub errors_json: String,
    /// Each error's `extensions.code` (or "" when it has none), in order.
    pub codes: Vec<String>,
    /// "ACCESS_DENIED: …; INVALID_ARGUMENT: …", with a hint for the codes we know.
    pub message: String,
}

/// A scope a call needs and the JWT did not ask for (or was not granted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingScope {
    /// What Tableau answered the second time; `hint` says what to change.
    pub failure: TableauFailure,
    /// "GET /api/3.24/sites/…/workbooks".
    pub call: String,
    /// "REST API", "Metadata API", "VizQL Data Service", "Pulse".
    pub api: &'static str,
    /// Any one of these opens the call (empty when the scope table does not know the call).
    pub needed: Vec<String>,
    /// The scopes the credential's JWT asks for; `None` for a JWT minted elsewhere.
    pub asked: Option<Vec<String>>,
    /// The first release where `needed` opens the call, when documented.
    pub since: Option<&'static str>,
}

impl TableauFailure {
    /// Build a failure from what Tableau answered on `during` ("sign-in", "sign-out", a path),
    /// attaching the hint that fits the code and sub-code.
    pub fn new(status: u16, code: &str, summary: &str, detail: &str, during: Call) -> Self {
        let subcode = subcode_in(detail);
        let hint = hint_for(status, code, subcode, during).to_string();
        TableauFailure {
            status,
            code: code.to_string(),
            subcode,
            summary: summary.to_string(),
            detail: detail.to_string(),
            hint,
        }
    }
}

/// Which kind of call failed: the same code means different things at sign-in and later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    SignIn,
    SignOut,
    SwitchSite,
    Other,
    /// Tableau Cloud Manager's PAT login (`/api/v1/pat/login`).
    CloudManagerPatLogin,
    /// Tableau Cloud Manager's unified-access-token login (`/api/v1/jwt/login`).
    CloudManagerJwtLogin,
    /// A call with a Tableau Cloud Manager session.
    CloudManager,
}

impl Call {
    pub const ALL: [Call; 7] = [
        Call::SignIn,
        Call::SignOut,
        Call::SwitchSite,
        Call::Other,
        Call::CloudManagerPatLogin,
        Call::CloudManagerJwtLogin,
        Call::CloudManager,
    ];

    /// The call as the documentation names it.
    pub fn name(self) -> &'static str {
        match self {
            Call::SignIn => "sign-in",
            Call::SignOut => "sign-out",
            Call::SwitchSite => "switch site",
            Call::Other => "another call to a site",
            Call::CloudManagerPatLogin => "Tableau Cloud Manager PAT login",
            Call::CloudManagerJwtLogin => "Tableau Cloud Manager unified access token login",
            Call::CloudManager => "a Tableau Cloud Manager call",
        }
    }
}

/// The connected-app sub-code Tableau puts at the end of `detail`, as in
/// "Error signing in to Tableau Server (16)".
pub fn subcode_in(detail: &str) -> Option<u32> {
    let trimmed = detail.trim_end().strip_suffix(')')?;
    let open = trimmed.rfind('(')?;
    let digits = &trimmed[open + 1..];
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl Error {
    /// The kind of error by the name of the exception it is raised as (the binding raises the
    /// class of this name from `exceptions.py`; telemetry reports it as `error.type`).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Configuration(_) => "ConfigurationError",
            Error::SignIn(_) => "SignInError",
            Error::SessionExpired(_) => "SessionExpiredError",
            Error::RateLimited { .. } => "RateLimitedError",
            Error::Api(_) => "TableauApiError",
            Error::MissingScope(_) => "MissingScopeError",
            Error::Metadata(_) => "MetadataApiError",
            Error::Transport(_) | Error::Tls(_) => "TransportError",
            Error::Timeout(_) => "TableauTimeoutError",
            Error::Protocol { .. } => "ProtocolError",
        }
    }

    /// The Tableau failure behind this error, if Tableau answered with one.
    pub fn failure(&self) -> Option<&TableauFailure> {
        match self {
            Error::SignIn(f) | Error::SessionExpired(f) | Error::Api(f) => Some(f),
            Error::MissingScope(m) => Some(&m.failure),
            Error::RateLimited { failure, .. } => Some(failure),
            _ => None,
        }
    }
}

impl fmt::Display for TableauFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if !self.code.is_empty() {
            write!(f, " {}", self.code)?;
        }
        if !self.summary.is_empty() {
            write!(f, " {}", self.summary)?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        if !self.hint.is_empty() {
            write!(f, ". Hint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Configuration(m) | Error::Transport(m) | Error::Tls(m) | Error::Timeout(m) => {
                f.write_str(m)
            }
            Error::SignIn(x) => write!(f, "sign-in failed: {x}"),
            Error::SessionExpired(x) => write!(f, "session expired: {x}"),
            Error::Api(x) => write!(f, "Tableau answered {x}"),
            Error::Metadata(m) => write!(f, "the Metadata API answered {}", m.message),
            Error::MissingScope(m) => write!(
                f,
                "{} answered {} {} again after a fresh sign-in: {}",
                m.call, m.failure.status, m.failure.code, m.failure.hint
            ),
            Error::RateLimited {
                failure,
                retry_after,
            } => {
                write!(f, "rate limited: {failure}")?;
                if let Some(d) = retry_after {
                    write!(f, " (retry after {} s)", d.as_secs())?;
                }
                Ok(())
            }
            Error::Protocol { status, message } => match status {
                Some(s) => write!(f, "HTTP {s}: {message}"),
                None => f.write_str(message),
            },
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subcode_is_read_from_the_end_of_detail() {
        assert_eq!(
            subcode_in("Error signing in to Tableau Server (16)"),
            Some(16)
        );
        assert_eq!(subcode_in("Failed (10091) "), Some(10091));
        assert_eq!(subcode_in("Error signing in to Tableau Server"), None);
        assert_eq!(subcode_in("(abc)"), None);
        assert_eq!(subcode_in("()"), None);
        assert_eq!(subcode_in(")"), None);
    }

    #[test]
    fn every_documented_subcode_has_a_hint() {
        for sub in [
            5, 16, 67, 126, 127, 10083, 10084, 10085, 10088, 10091, 10099,
        ] {
            let h = hint_for(401, "401001", Some(sub), Call::SignIn);
            assert!(!h.is_empty(), "no hint for {sub}");
        }
        assert!(hint_for(401, "401001", Some(16), Call::SignIn).contains("clock"));
        assert!(hint_for(401, "401001", None, Call::SignIn).contains("contentUrl"));
        assert!(hint_for(405, "405000", None, Call::SignIn).contains("https"));
        assert!(hint_for(405, "", None, Call::SignIn).contains("https"));
        assert!(hint_for(401, "401002", None, Call::SignIn).contains("personal access token"));
    }

    #[test]
    fn display_joins_code_detail_and_hint() {
        let f = TableauFailure::new(
            401,
            "401001",
            "Signin Error",
            "Error signing in to Tableau Server (5)",
            Call::SignIn,
        );
        assert_eq!(f.subcode, Some(5));
        let text = Error::SignIn(Box::new(f)).to_string();
        assert!(text.starts_with("sign-in failed: HTTP 401 401001 Signin Error: Error"));
        assert!(text.contains("case-sensitive"));
    }
}
