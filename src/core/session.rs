//! A signed-in session: the token and where it may be used.

use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use super::secret::Secret;

/// What a sign-in gives back. The token is a [`Secret`]: `Debug` never shows it.
#[derive(Clone)]
pub struct Session {
    pub token: Secret,
    pub site_id: String,
    pub site_content_url: String,
    pub user_id: String,
    /// "https://host[:port]".
    pub server: String,
    pub api_version: String,
    pub signed_in_at: SystemTime,
    /// When Tableau expects the session to end (its `estimatedTimeToExpiration`), if it said.
    pub expires_at: Option<SystemTime>,
    /// After this instant the cache signs in again instead of handing this session out.
    pub refresh_after: Instant,
}

/// How long before Tableau's expiry estimate a session is refreshed: a tenth of its life,
/// at most five minutes.
pub fn refresh_margin(life: Duration) -> Duration {
    (life / 10).min(Duration::from_secs(300))
}

impl Session {
    /// `{server}/api/{version}/sites/{site_id}/{path}`.
    pub fn url(&self, path: &str) -> String {
        let path = path.trim_start_matches('/');
        format!(
            "{}/api/{}/sites/{}/{}",
            self.server, self.api_version, self.site_id, path
        )
    }

    /// Still worth handing out (not past its refresh point).
    pub fn is_fresh(&self, now: Instant) -> bool {
        now < self.refresh_after
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("server", &self.server)
            .field("site_content_url", &self.site_content_url)
            .field("site_id", &self.site_id)
            .field("user_id", &self.user_id)
            .field("api_version", &self.api_version)
            .field("token", &self.token)
            .finish()
    }
}
