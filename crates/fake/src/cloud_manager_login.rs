//! Tableau Cloud Manager's sessions on the wire: the two logins and sign-out. The wire shapes,
//! errors and their grades are in `cloud_manager.rs`; the sessions themselves in `tenant.rs`.
//!
//! * Both logins take `Content-Type: application/json` and exactly `{"token": "<string>"}`
//!   (anything else is 400: TCM's PAT login sends the secret alone, no PAT name [code]).
//! * `pat/login`: the secret of a TCM PAT ([`Setup::add_cloud_manager_pat`]), compared in
//!   constant time; any other secret, a site PAT's included, is 401 [doc: a site PAT does not
//!   work on TCM]. One session per PAT (`tenant.rs`).
//! * `jwt/login`: a unified access token, checked by `jwt_rules::verify_tenant_uat` against
//!   the tenant's UAT configurations ([`Setup::add_cloud_manager_uat_configuration`]); a failed
//!   check is 401 and its message names the check; the user its username claim names must be a
//!   user of the tenant (else 401). Its `scp` is kept on the session (`cloud_manager.rs`
//!   checks it on each call). The `jti` is spent in the server's one set, shared with site
//!   sign-ins.
//! * Then, either way, the user must be a cloud administrator: else 403 [doc: only cloud
//!   administrators may use TCM].
//! * `DELETE /api/v2/sessions` ends the session of `x-tableau-session-token`: 204; without the
//!   header, or for a dead session, 401 [community for the path; the rest guess].
//!
//! [`Setup::add_cloud_manager_pat`]: crate::Setup::add_cloud_manager_pat
//! [`Setup::add_cloud_manager_uat_configuration`]: crate::Setup::add_cloud_manager_uat_configuration

use std::time::Duration;

use serde_json::{json, Value};

use super::clock;
use super::cloud_manager::{Answer, Call, Endpoint, TcmError};
use super::jwt_rules;
use super::requests::is_json_content_type;
use super::state::{constant_time_eq, State};
use super::tenant::{TcmSession, TcmUser, DEFAULT_SESSION_LIFE};

/// A session ttl beyond this is capped (an `Instant` cannot reach any further).
const LONGEST_LIFE: Duration = Duration::from_secs(100 * 365 * 86_400);

/// `POST /api/v1/pat/login` or `POST /api/v1/jwt/login` (`endpoint`), its body read.
pub(crate) fn login(
    st: &mut State,
    endpoint: &Endpoint,
    call: &Call<'_>,
    body: &[u8],
) -> Result<Answer, TcmError> {
    let token = login_token(call.content_type, body)?;
    let (user, pat, scopes) = match endpoint {
        Endpoint::PatLogin => {
            let (user, pat) = pat_user(st, &token)?;
            (user, Some(pat), None)
        }
        _ => {
            let (user, scopes) = uat_user(st, &token, call.now_unix)?;
            (user, None, Some(scopes))
        }
    };
    if !user.cloud_admin {
        return Err(TcmError::new(
            403,
            "NOT_CLOUD_ADMIN",
            "Only cloud administrators can use Tableau Cloud Manager; this user is not one.",
        ));
    }
    let life = st.ttl.unwrap_or(DEFAULT_SESSION_LIFE).min(LONGEST_LIFE);
    let tenant_id = st.tenant.id.clone();
    let token = st.tcm_sessions.create(TcmSession {
        tenant_id: tenant_id.clone(),
        expires: call.now + life,
        pat,
        scopes,
    });
    st.stats.cloud_manager_sign_ins += 1;
    let expiration = clock::rfc3339((call.now_unix + life.as_secs_f64()).floor() as i64, None);
    Ok(Answer::json(
        200,
        &json!({
            "sessionToken": token,
            "tenantId": tenant_id,
            "userId": user.id,
            "sessionExpiration": expiration,
        }),
    ))
}

/// `DELETE /api/v2/sessions`.
pub(crate) fn sign_out(st: &mut State, call: &Call<'_>) -> Result<Answer, TcmError> {
    let token = call.session_token.ok_or_else(TcmError::no_session_token)?;
    if st.tcm_sessions.live(token, call.now).is_none() {
        return Err(TcmError::invalid_session());
    }
    st.tcm_sessions.end(token);
    st.stats.cloud_manager_sign_outs += 1;
    Ok(Answer::no_content())
}

/// Checks a `jwt/login` body as a normal answer would, spending its `jti`, without logging in:
/// what a server that fails after reading the request has done.
pub(crate) fn spend_jwt(st: &mut State, content_type: Option<&str>, body: &[u8]) {
    if let Ok(jwt) = login_token(content_type, body) {
        let _ =
            jwt_rules::verify_tenant_uat(&st.tenant.uat, &mut st.seen_jti, &jwt, clock::now_unix());
    }
}

/// The `token` of a login body: JSON `{"token": "<non-empty string>"}` and nothing else.
fn login_token(content_type: Option<&str>, body: &[u8]) -> Result<String, TcmError> {
    if !is_json_content_type(content_type) {
        return Err(TcmError::bad_request(
            "The login body must be JSON, sent with Content-Type: application/json.",
        ));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| TcmError::bad_request(format!("The login body is not valid JSON: {e}.")))?;
    let Value::Object(members) = value else {
        return Err(TcmError::bad_request(
            "The login body must be a JSON object {\"token\": \"...\"}.",
        ));
    };
    let others: Vec<&str> = members
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "token")
        .collect();
    if !others.is_empty() {
        return Err(TcmError::bad_request(format!(
            "The login body takes only \"token\" (the PAT secret or the JWT, no name); unexpected: {}.",
            others.join(", ")
        )));
    }
    match members.get("token") {
        Some(Value::String(token)) if !token.is_empty() => Ok(token.clone()),
        Some(_) => Err(TcmError::bad_request(
            "\"token\" must be a non-empty string.",
        )),
        None => Err(TcmError::bad_request("The login body has no \"token\".")),
    }
}

/// The user of the TCM PAT whose secret is `secret`, and the PAT's id.
fn pat_user(st: &State, secret: &str) -> Result<(TcmUser, String), TcmError> {
    let invalid = || {
        TcmError::new(
            401,
            "INVALID_CREDENTIALS",
            "The personal access token is not valid: unknown, revoked, or not a Tableau Cloud Manager PAT (site PATs do not sign in here).",
        )
    };
    let pat = st
        .tenant
        .pats
        .iter()
        .find(|p| constant_time_eq(p.secret.as_bytes(), secret.as_bytes()))
        .ok_or_else(invalid)?;
    let user = st
        .tenant
        .users
        .get(&pat.username)
        .cloned()
        .ok_or_else(invalid)?;
    Ok((user, pat.id.clone()))
}

/// The user a unified access token names, and its scopes.
fn uat_user(st: &mut State, jwt: &str, now_unix: f64) -> Result<(TcmUser, Vec<String>), TcmError> {
    let rejected = |check: &str| {
        TcmError::new(
            401,
            "INVALID_JWT",
            format!("The unified access token was rejected: {check}."),
        )
    };
    let verified = jwt_rules::verify_tenant_uat(&st.tenant.uat, &mut st.seen_jti, jwt, now_unix)
        .map_err(|failed| rejected(&failed.check))?;
    let user = st
        .tenant
        .users
        .get(&verified.username)
        .cloned()
        .ok_or_else(|| rejected("its username claim names no user of the tenant"))?;
    Ok((user, verified.scopes))
}
