//! Signing in to Tableau Cloud Manager and out of it.
//!
//! - A TCM personal access token: `POST /api/v1/pat/login` with `{"token": "<secret>"}`. TCM's
//!   PAT login sends only the secret; the PAT's name is kept for messages. A site's PAT does not
//!   work here, nor a TCM PAT on a site [doc].
//! - A unified access token (a JWT): `POST /api/v1/jwt/login` with `{"token": "<JWT>"}` [code].
//! - The answer: `sessionToken`, `tenantId`, `userId`, `sessionExpiration` [code]; the token goes
//!   in `x-tableau-session-token` on later calls [doc].
//! - Sign-out: `DELETE /api/v2/sessions` [community].
//! - Connected apps (direct trust, OAuth trust) and passwords do not work for TCM [doc]: refused
//!   before any I/O.

use std::time::{Duration, SystemTime};

use reqwest::header::ACCEPT;
use serde_json::{json, Value};

use crate::config::ClientConfig;
use crate::credentials::{Credentials, SignInSecret};
use crate::error::{Call, Error, Result};
use crate::redact::Secret;
use crate::retry;
use crate::session::{self, deadline_ns, Realm, Session, CLOUD_MANAGER_HEADER};
use crate::signin::{auth_header, post_following_redirects, secret_for_attempt};
use crate::transport::{self, Reply, MAX_AUTH_BODY};

use super::errors::failure;

const PAT_LOGIN: &str = "pat/login";
const JWT_LOGIN: &str = "jwt/login";

/// Refuse, before any I/O, credentials Tableau Cloud Manager does not take.
pub fn check_credentials(creds: &Credentials) -> Result<()> {
    let refused = match creds {
        Credentials::PersonalAccessToken { .. }
        | Credentials::UnifiedAccessToken { .. }
        | Credentials::Jwt(_) => return Ok(()),
        Credentials::ConnectedApp { .. } | Credentials::ExternalAuthorizationServer { .. } => {
            "connected apps do not work for Tableau Cloud Manager"
        }
        Credentials::Password { .. } => "Tableau Cloud Manager has no password sign-in",
    };
    Err(Error::Configuration(format!(
        "{refused}: sign in with a personal access token made in Tableau Cloud Manager \
         (PersonalAccessToken) or a unified access token (UnifiedAccessToken(...).credentials(\
         user, scopes=[\"tableau:tcm_...\"]))"
    )))
}

/// What a TCM login answered.
#[derive(Debug, PartialEq)]
pub struct LoginAnswer {
    pub token: Secret,
    pub tenant_id: String,
    pub user_id: String,
    /// When TCM says the session ends, if it said in a form we read.
    pub expires_at: Option<SystemTime>,
}

/// Read a login answer. A missing member is named (with the members that came, never their
/// values): the answer's shape is known from Tableau's code, not its reference, so a change
/// must say so clearly. An expiry in a form we cannot read is logged and ignored.
pub fn parse_login_answer(body: &[u8]) -> std::result::Result<LoginAnswer, String> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        format!(
            "the Tableau Cloud Manager login answered something that is not JSON: {}",
            crate::redact::excerpt(body)
        )
    })?;
    let Some(object) = value.as_object() else {
        return Err("the Tableau Cloud Manager login answered JSON that is not an object".into());
    };
    let text = |name: &str| -> std::result::Result<String, String> {
        match object.get(name) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            _ => {
                let mut members: Vec<&str> = object.keys().map(String::as_str).collect();
                members.sort_unstable();
                Err(format!(
                    "the Tableau Cloud Manager login answer has no {name:?} (it has: {}): \
                     this library expects sessionToken, tenantId and userId",
                    members.join(", ")
                ))
            }
        }
    };
    let expires_at = match object.get("sessionExpiration") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let read = expiration(v);
            if read.is_none() {
                log::warn!(
                    "Tableau Cloud Manager gave a sessionExpiration this library cannot read \
                     ({}); the session is refreshed by max_session_age instead",
                    kind_of(v)
                );
            }
            read
        }
    };
    Ok(LoginAnswer {
        token: Secret::new(text("sessionToken")?),
        tenant_id: text("tenantId")?,
        user_id: text("userId")?,
        expires_at,
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string that is not an RFC 3339 time",
        Value::Number(_) => "a number out of range",
        _ => "neither a string nor a number",
    }
}

/// `sessionExpiration`: an RFC 3339 time, or seconds (or milliseconds) since the Unix epoch.
fn expiration(v: &Value) -> Option<SystemTime> {
    match v {
        Value::String(s) => match time::OffsetDateTime::parse(
            s.trim(),
            &time::format_description::well_known::Rfc3339,
        ) {
            Ok(t) => Some(t.into()),
            Err(_) => s.trim().parse::<f64>().ok().and_then(from_epoch),
        },
        Value::Number(n) => n.as_f64().and_then(from_epoch),
        _ => None,
    }
}

/// Seconds since the epoch, or milliseconds when the number is too large to be seconds.
fn from_epoch(n: f64) -> Option<SystemTime> {
    if !n.is_finite() || n <= 0.0 {
        return None;
    }
    let secs = if n > 1e11 { n / 1000.0 } else { n };
    SystemTime::UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(secs).ok()?)
}

/// Sign in to Tableau Cloud Manager once (retrying transient failures as configured); a fresh
/// JWT for every attempt.
pub async fn sign_in(cfg: &ClientConfig, creds: &Credentials) -> Result<Session> {
    check_credentials(creds)?;
    let http = transport::process().http(&cfg.transport)?;
    let mut attempt = 0u32;
    loop {
        let secret = secret_for_attempt(creds).await?;
        let (path, token, call) = match &secret {
            SignInSecret::PersonalAccessToken { secret, .. } => {
                (PAT_LOGIN, secret.expose(), Call::CloudManagerPatLogin)
            }
            SignInSecret::Jwt { jwt, .. } => (JWT_LOGIN, jwt.expose(), Call::CloudManagerJwtLogin),
            SignInSecret::Password { .. } => return Err(check_credentials(creds).unwrap_err()),
        };
        let body = json!({ "token": token }).to_string();
        let started = SystemTime::now();
        let outcome =
            post_following_redirects(cfg, &http, cfg.url(&cfg.api_version, path), body).await;
        let can_retry = !matches!(creds, Credentials::Jwt(external) if external.single_use());
        if can_retry
            && retry::again(cfg, &outcome, &mut attempt, "Tableau Cloud Manager sign-in").await
        {
            continue;
        }
        return answer_to_session(cfg, &outcome?, started, call);
    }
}

fn answer_to_session(
    cfg: &ClientConfig,
    reply: &Reply,
    started: SystemTime,
    call: Call,
) -> Result<Session> {
    if reply.status != 200 {
        return Err(failure(reply, call));
    }
    let answer = parse_login_answer(&reply.body).map_err(|message| Error::Protocol {
        status: Some(reply.status),
        message,
    })?;
    let ends_in = match answer
        .expires_at
        .map(|end| end.duration_since(SystemTime::now()))
    {
        Some(Ok(left)) => Some(left),
        // Not trusted: a session refreshed at every call would sign in at every call.
        Some(Err(_)) => {
            log::warn!(
                "Tableau Cloud Manager says the new session has already expired: check this \
                 machine's clock; the session is refreshed by max_session_age instead"
            );
            None
        }
        None => None,
    };
    let life = session::life(cfg.max_session_age, ends_in);
    log::info!(
        "signed in to Tableau Cloud Manager {} (tenant {}, user {})",
        cfg.server,
        answer.tenant_id,
        answer.user_id
    );
    Ok(Session {
        token: answer.token,
        realm: Realm::Tenant {
            id: answer.tenant_id,
        },
        user_id: answer.user_id,
        server: cfg.server.clone(),
        api_version: cfg.api_version.clone(),
        signed_in_at: started,
        expires_at: answer.expires_at,
        refresh_after_ns: deadline_ns(life),
        stored_in: Default::default(),
    })
}

/// Sign a TCM session out (`DELETE /api/v2/sessions`). A session already dead (401) counts as
/// signed out.
pub async fn sign_out(cfg: &ClientConfig, session: &Session) -> Result<()> {
    let http = transport::process().http(&cfg.transport)?;
    let request = http
        .delete(format!("{}/api/v2/sessions", cfg.server))
        .header(CLOUD_MANAGER_HEADER, auth_header(&session.token)?)
        .header(ACCEPT, "application/json");
    let reply = transport::send(request, cfg.timeout, MAX_AUTH_BODY, "sign-out").await?;
    match reply.status {
        200..=299 | 401 => {
            log::info!("signed out of Tableau Cloud Manager {}", cfg.server);
            Ok(())
        }
        _ => Err(failure(&reply, Call::SignOut)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_answer_is_read() {
        let a = parse_login_answer(
            br#"{"sessionToken":"tok","tenantId":"t-1","userId":"u-1","sessionExpiration":"2030-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(a.token.expose(), "tok");
        assert_eq!((a.tenant_id.as_str(), a.user_id.as_str()), ("t-1", "u-1"));
        let secs = a
            .expires_at
            .unwrap()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(secs, 1_893_456_000);
    }

    #[test]
    fn expirations_in_epoch_seconds_millis_and_offsets_are_read() {
        let at = |v: Value| {
            expiration(&v).map(|t| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs())
        };
        assert_eq!(at(json!(1_893_456_000)), Some(1_893_456_000));
        assert_eq!(at(json!(1_893_456_000_000u64)), Some(1_893_456_000));
        assert_eq!(at(json!("1893456000")), Some(1_893_456_000));
        assert_eq!(at(json!("2030-01-01T01:00:00+01:00")), Some(1_893_456_000));
        assert_eq!(at(json!("next tuesday")), None);
        assert_eq!(at(json!(true)), None);
        assert_eq!(at(json!(-5)), None);
    }

    #[test]
    fn a_missing_member_is_named_without_values() {
        let e = parse_login_answer(br#"{"token":"secret-value","tenantId":"t"}"#).unwrap_err();
        assert!(e.contains("\"sessionToken\""), "{e}");
        assert!(e.contains("tenantId, token"), "{e}");
        assert!(!e.contains("secret-value"), "{e}");
        let e = parse_login_answer(b"<html>sso</html>").unwrap_err();
        assert!(e.contains("not JSON"), "{e}");
    }

    #[test]
    fn connected_apps_and_passwords_are_refused() {
        let pw = Credentials::password("u", "p").unwrap();
        let e = check_credentials(&pw).unwrap_err().to_string();
        assert!(e.contains("no password sign-in"), "{e}");
        let pat = Credentials::personal_access_token("n", "s").unwrap();
        assert!(check_credentials(&pat).is_ok());
    }
}
