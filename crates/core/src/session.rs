//! A signed-in session: the token and where it may be used.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use super::redact::Secret;

/// What a session is signed in to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Realm {
    /// A site (REST API): calls carry `X-Tableau-Auth`.
    Site {
        /// The site LUID.
        id: String,
        /// The site's URL name ("" for the Server default site).
        content_url: String,
    },
    /// A Tableau Cloud Manager tenant: calls carry `x-tableau-session-token`.
    Tenant {
        /// The tenant id.
        id: String,
    },
}

/// The header a site session's token travels in.
pub const AUTH_HEADER: &str = "X-Tableau-Auth";
/// The header a Tableau Cloud Manager session's token travels in.
pub const CLOUD_MANAGER_HEADER: &str = "x-tableau-session-token";

/// What a sign-in gives back. The token is a [`Secret`]: `Debug` never shows it.
#[derive(Clone)]
pub struct Session {
    pub token: Secret,
    /// The site (or Tableau Cloud Manager tenant) it is signed in to.
    pub realm: Realm,
    pub user_id: String,
    /// "https://host[:port]".
    pub server: String,
    pub api_version: String,
    pub signed_in_at: SystemTime,
    /// When Tableau expects the session to end (its `estimatedTimeToExpiration`), if it said.
    pub expires_at: Option<SystemTime>,
    /// After this point of [`monotonic_ns`] the cache signs in again instead of handing this
    /// session out.
    pub refresh_after_ns: u64,
    /// The shared store known to hold this session (see [`StoredIn`]).
    pub stored_in: StoredIn,
}

/// Which shared store is known to hold a session: the mark of the `SharedSlot` that put it
/// there, read it from there or checked it is there; 0 for none. A client with a shared cache
/// that finds a session without its slot's mark in the process-wide cache (signed in by a
/// client without that cache) publishes it (`SharedSlot::adopt`), so that other processes reuse
/// it instead of signing in (which, with a personal access token, would end it). An atomic:
/// read on the cache-hit path.
#[derive(Default)]
pub struct StoredIn(AtomicU64);

impl StoredIn {
    pub fn is(&self, mark: u64) -> bool {
        self.0.load(Ordering::Relaxed) == mark
    }

    pub fn set(&self, mark: u64) {
        self.0.store(mark, Ordering::Relaxed);
    }
}

impl Clone for StoredIn {
    fn clone(&self) -> Self {
        StoredIn(AtomicU64::new(self.0.load(Ordering::Relaxed)))
    }
}

/// A monotonic clock in nanoseconds, cheap enough for the cache-hit path. On Linux it is
/// CLOCK_MONOTONIC_COARSE: a few ns to read, a few ms of resolution, which is plenty for
/// refresh deadlines minutes away. Elsewhere it counts from the first call with `Instant`.
#[cfg(target_os = "linux")]
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes to the timespec it is given, which lives on our stack.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    if rc != 0 {
        return fallback_ns();
    }
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

#[cfg(not(target_os = "linux"))]
pub fn monotonic_ns() -> u64 {
    fallback_ns()
}

fn fallback_ns() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}

/// How long a new session is handed out: `max_age`, or less when the server says it ends
/// sooner (in `ends_in`), [`refresh_margin`] ahead of that end.
pub fn life(max_age: Duration, ends_in: Option<Duration>) -> Duration {
    match ends_in {
        Some(left) => max_age.min(left.saturating_sub(refresh_margin(left))),
        None => max_age,
    }
}

/// `monotonic_ns()` + `d`, for deadlines.
pub fn deadline_ns(d: Duration) -> u64 {
    monotonic_ns().saturating_add(d.as_nanos().min(u64::MAX as u128) as u64)
}

/// How long before Tableau's expiry estimate a session is refreshed: a tenth of its life,
/// at most five minutes.
pub fn refresh_margin(life: Duration) -> Duration {
    (life / 10).min(Duration::from_secs(300))
}

impl Session {
    /// `{server}/api/{version}/sites/{site_id}/{path}`; for a Tableau Cloud Manager session,
    /// `{server}/api/v1/tenants/{tenant_id}/{path}`.
    pub fn url(&self, path: &str) -> String {
        let path = path.trim_start_matches('/');
        let (kind, id) = match &self.realm {
            Realm::Site { id, .. } => ("sites", id),
            Realm::Tenant { id } => ("tenants", id),
        };
        format!(
            "{}/api/{}/{kind}/{id}/{path}",
            self.server, self.api_version
        )
    }

    /// The site LUID ("" for a Tableau Cloud Manager session).
    pub fn site_id(&self) -> &str {
        match &self.realm {
            Realm::Site { id, .. } => id,
            Realm::Tenant { .. } => "",
        }
    }

    /// The site's URL name ("" for the default site, and for a Tableau Cloud Manager session).
    pub fn site_content_url(&self) -> &str {
        match &self.realm {
            Realm::Site { content_url, .. } => content_url,
            Realm::Tenant { .. } => "",
        }
    }

    /// The Tableau Cloud Manager tenant id, for a Tableau Cloud Manager session.
    pub fn tenant_id(&self) -> Option<&str> {
        match &self.realm {
            Realm::Tenant { id } => Some(id),
            Realm::Site { .. } => None,
        }
    }

    /// The header the token travels in.
    pub fn header_name(&self) -> &'static str {
        match self.realm {
            Realm::Site { .. } => AUTH_HEADER,
            Realm::Tenant { .. } => CLOUD_MANAGER_HEADER,
        }
    }

    /// Still worth handing out (not past its refresh point); `now` is [`monotonic_ns`].
    pub fn is_fresh(&self, now: u64) -> bool {
        now < self.refresh_after_ns
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("server", &self.server)
            .field("realm", &self.realm)
            .field("user_id", &self.user_id)
            .field("api_version", &self.api_version)
            .field("token", &self.token)
            .finish()
    }
}
