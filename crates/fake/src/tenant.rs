//! The tenant that Tableau Cloud Manager (TCM) administers, and TCM's sessions: data and the
//! lifetime of a session, nothing of the wire (that is `cloud_manager.rs` and
//! `cloud_manager_login.rs`).
//!
//! A tenant has an id (a UUID), users (each a cloud administrator or not; only cloud
//! administrators may use TCM [doc]), TCM personal access tokens (a user's; TCM's PAT login sends
//! the secret alone [code], so a PAT is found by its secret), unified-access-token
//! configurations (the tenant-level ones TCM's `jwt/login` checks, by issuer, RS256 keys like a
//! site's), and the files of its activity log (a fixed handful, made at start [guess]). Its sites
//! are the fake's sites (`State::sites`); its users are not the sites' users (a site user is not
//! a TCM user unless registered as one).
//!
//! A TCM session lives the session ttl when one is set ([`FakeTableau::set_session_ttl`]),
//! else 4 hours [community]; there is no idle timeout here (Tableau's 30 minutes idle is
//! [community]). One session per TCM PAT: a PAT login ends the PAT's previous session [guess:
//! documented for site PATs only; the stricter rule catches a client that logs in per call].
//!
//! [`FakeTableau::set_session_ttl`]: crate::FakeTableau::set_session_ttl

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::model::Uat;
use super::random::{new_luid, new_session_token};

/// A TCM session's life when no session ttl is set [community].
pub(crate) const DEFAULT_SESSION_LIFE: Duration = Duration::from_secs(4 * 3600);
/// Files in the activity log.
const ACTIVITY_LOG_FILES: usize = 12;

/// A user of the tenant.
#[derive(Clone, Debug)]
pub(crate) struct TcmUser {
    /// A UUID.
    pub id: String,
    /// The username, an email address in practice (what a UAT's username claim names).
    pub email: String,
    pub cloud_admin: bool,
}

impl TcmUser {
    /// What TCM shows as the user's name: the part before `@`.
    pub fn display_name(&self) -> &str {
        self.email.split('@').next().unwrap_or(&self.email)
    }
}

/// A TCM personal access token.
#[derive(Clone, Debug)]
pub(crate) struct TcmPat {
    /// An id of the fake's own (the key of the PAT's one session).
    pub id: String,
    pub username: String,
    pub secret: String,
}

/// One file of the activity log.
#[derive(Clone, Debug)]
pub(crate) struct LogFile {
    pub path: String,
    pub size: u64,
}

/// The tenant.
#[derive(Clone, Debug)]
pub(crate) struct Tenant {
    pub id: String,
    /// By username (case-sensitive), so listed in username order.
    pub users: BTreeMap<String, TcmUser>,
    pub pats: Vec<TcmPat>,
    /// UAT configurations, by issuer; each one's `tenant_id` is this tenant's id.
    pub uat: BTreeMap<String, Uat>,
    pub activity_log: Vec<LogFile>,
}

impl Tenant {
    /// An empty tenant with a new id and its activity log files.
    pub fn new() -> Self {
        let id = new_luid();
        let activity_log = (0..ACTIVITY_LOG_FILES)
            .map(|i| LogFile {
                path: format!(
                    "tenants/{id}/activitylog/2026/01/{:02}/{:02}/events-{i:04}.json.gz",
                    1 + i / 4,
                    (i % 4) * 6
                ),
                size: 4096 + 317 * i as u64,
            })
            .collect();
        Tenant {
            id,
            users: BTreeMap::new(),
            pats: Vec::new(),
            uat: BTreeMap::new(),
            activity_log,
        }
    }
}

/// A live TCM session.
#[derive(Clone, Debug)]
pub(crate) struct TcmSession {
    pub tenant_id: String,
    pub expires: Instant,
    /// The PAT's id when the session is backed by a PAT.
    pub pat: Option<String>,
    /// A UAT session's scopes (its `scp`); `None` for a PAT session (not limited by scopes).
    pub scopes: Option<Vec<String>>,
}

/// TCM's sessions, by token, apart from the site sessions.
#[derive(Clone, Debug, Default)]
pub(crate) struct TcmSessions {
    by_token: HashMap<String, TcmSession>,
    /// PAT id → the token of the one session it backs.
    by_pat: HashMap<String, String>,
}

impl TcmSessions {
    /// Starts a session and returns its token; a PAT's previous session ends.
    pub fn create(&mut self, session: TcmSession) -> String {
        let token = new_session_token();
        if let Some(pat) = &session.pat {
            if let Some(old) = self.by_pat.insert(pat.clone(), token.clone()) {
                self.by_token.remove(&old);
            }
        }
        self.by_token.insert(token.clone(), session);
        token
    }

    /// The live session of `token` (an expired one is ended and is `None`).
    pub fn live(&mut self, token: &str, now: Instant) -> Option<TcmSession> {
        if self.by_token.get(token)?.expires <= now {
            self.end(token);
            return None;
        }
        self.by_token.get(token).cloned()
    }

    /// Ends a session; `false` when there was none.
    pub fn end(&mut self, token: &str) -> bool {
        let Some(session) = self.by_token.remove(token) else {
            return false;
        };
        if let Some(pat) = session.pat {
            if self.by_pat.get(&pat).is_some_and(|t| t == token) {
                self.by_pat.remove(&pat);
            }
        }
        true
    }

    pub fn end_all(&mut self) {
        self.by_token.clear();
        self.by_pat.clear();
    }

    /// Ends every session whose time has come.
    pub fn purge_expired(&mut self, now: Instant) {
        let dead: Vec<String> = self
            .by_token
            .iter()
            .filter(|(_, s)| s.expires <= now)
            .map(|(t, _)| t.clone())
            .collect();
        for token in dead {
            self.end(&token);
        }
    }

    pub fn len(&self) -> usize {
        self.by_token.len()
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    fn session(pat: Option<&str>, expires: Instant) -> TcmSession {
        TcmSession {
            tenant_id: "t".into(),
            expires,
            pat: pat.map(str::to_string),
            scopes: None,
        }
    }

    #[test]
    fn one_session_per_pat_and_expiry() {
        let now = Instant::now();
        let later = now + Duration::from_secs(60);
        let mut sessions = TcmSessions::default();
        let first = sessions.create(session(Some("p"), later));
        let other = sessions.create(session(None, later));
        let second = sessions.create(session(Some("p"), later));
        assert_ne!(first, second);
        assert!(sessions.live(&first, now).is_none());
        assert!(sessions.live(&second, now).is_some());
        assert!(sessions.live(&other, now).is_some());
        assert_eq!(sessions.len(), 2);
        assert!(sessions.live(&second, later).is_none(), "dead at expiry");
        assert_eq!(sessions.len(), 1);
        assert!(sessions.end(&other));
        assert!(!sessions.end(&other));
        let third = sessions.create(session(Some("p"), now));
        sessions.purge_expired(now);
        assert_eq!(sessions.len(), 0);
        assert!(sessions.live(&third, now).is_none());
    }

    #[test]
    fn tenant_has_an_activity_log() {
        let tenant = Tenant::new();
        assert_eq!(tenant.activity_log.len(), ACTIVITY_LOG_FILES);
        assert!(tenant.activity_log[0].path.contains(&tenant.id));
        let user = TcmUser {
            id: new_luid(),
            email: "ann.lee@example.com".into(),
            cloud_admin: true,
        };
        assert_eq!(user.display_name(), "ann.lee");
    }
}
