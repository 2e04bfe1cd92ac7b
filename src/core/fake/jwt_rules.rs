//! Verification of a connected-app (direct trust, HS256) JWT, the way Tableau answers it:
//! every failure is a connected-app sub-code, which the caller turns into
//! `401 / 401001 "Error signing in to Tableau Server (N)"`.
//!
//! Checks, in order (the first failure wins):
//!
//! | check | sub-code |
//! |---|---|
//! | three base64url (unpadded) parts, header and payload JSON objects, header `alg` = `HS256` | 10084 |
//! | header `iss`, when present, equals claim `iss` (a non-string claim `iss` too) | 10084 |
//! | claim `iss` (client id) names an enabled app of the site (missing `iss` too) | 126 |
//! | header `kid` present (a string) | 10083 |
//! | `kid` is a secret id of that app | 127 |
//! | HMAC-SHA256 signature with that secret's value | 127 |
//! | `aud` is the string `"tableau"` | 10084 |
//! | `exp` a number, in the future, at most 600 s ahead | 16 |
//! | `nbf` (optional) a number (else 10084), at most 5 s in the future (else 16); `iat` (optional) a number | 16 / 10084 |
//! | `jti` a string (missing: 10084), never seen before by this server | 10084 / 10091 |
//! | `scp` present (10099), an array of strings (10084); `https://tableau.com/groups`, when present, too | 10099 / 10084 |
//! | `sub` a string (10084); a user of the site, case-sensitive (missing `sub` too) | 5 |
//! | … unless `https://tableau.com/oda` is `true`/`"true"`: the app allows on-demand access → the user is created, else | 67 |
//!
//! The `jti` is recorded once the signature, `aud`, `exp` and `nbf` checks passed, even if a
//! later check fails. Header `typ` is not checked; unknown claims (user attributes) are
//! ignored; unknown scope strings are accepted (only the type of `scp` matters).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

use super::state::{new_luid, State, User};

/// Sub-code: user not found.
pub(crate) const SUB_USER_NOT_FOUND: u32 = 5;
/// Sub-code: login failed (`exp` / `nbf`).
pub(crate) const SUB_LOGIN_FAILED: u32 = 16;
/// Sub-code: on-demand access not enabled.
pub(crate) const SUB_ODA_DISABLED: u32 = 67;
/// Sub-code: connected app not found or disabled.
pub(crate) const SUB_APP_NOT_FOUND: u32 = 126;
/// Sub-code: secret not found or wrong signature.
pub(crate) const SUB_SECRET_NOT_FOUND: u32 = 127;
/// Sub-code: `kid` missing.
pub(crate) const SUB_BAD_KID: u32 = 10083;
/// Sub-code: JWT parse error.
pub(crate) const SUB_PARSE: u32 = 10084;
/// Sub-code: `jti` reused.
pub(crate) const SUB_JTI_REUSED: u32 = 10091;
/// Sub-code: `scp` missing.
pub(crate) const SUB_SCP_MISSING: u32 = 10099;

/// Longest accepted `exp - now`, seconds.
const MAX_EXP_AHEAD_SECS: f64 = 600.0;
/// Largest accepted `nbf - now`, seconds.
const MAX_NBF_AHEAD_SECS: f64 = 5.0;
/// The claim that asks for on-demand access.
const ODA_CLAIM: &str = "https://tableau.com/oda";
/// The claim that lists groups (with on-demand access).
const GROUPS_CLAIM: &str = "https://tableau.com/groups";

fn decode_object(part: &str) -> Result<Map<String, Value>, u32> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| SUB_PARSE)?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(SUB_PARSE),
    }
}

fn is_string_array(v: &Value) -> bool {
    v.as_array()
        .is_some_and(|items| items.iter().all(Value::is_string))
}

/// Verifies `jwt` for a sign-in to the site `site_content_url` (which exists) at `now`
/// (seconds since the Unix epoch). Returns the username to sign in, or the sub-code.
pub(crate) fn verify(
    state: &mut State,
    site_content_url: &str,
    jwt: &str,
    now: f64,
) -> Result<String, u32> {
    // Structure.
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header_part, payload_part, signature_part] = parts[..] else {
        return Err(SUB_PARSE);
    };
    let header = decode_object(header_part)?;
    let claims = decode_object(payload_part)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_part)
        .map_err(|_| SUB_PARSE)?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(SUB_PARSE);
    }

    // Issuer = client id.
    let client_id = match claims.get("iss") {
        None => return Err(SUB_APP_NOT_FOUND),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(SUB_PARSE),
    };
    if let Some(header_iss) = header.get("iss") {
        if header_iss.as_str() != Some(client_id.as_str()) {
            return Err(SUB_PARSE);
        }
    }
    let site = state.sites.get(site_content_url).ok_or(SUB_APP_NOT_FOUND)?;
    let app = site
        .apps
        .get(&client_id)
        .filter(|a| a.enabled)
        .ok_or(SUB_APP_NOT_FOUND)?;

    // Key and signature.
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(SUB_BAD_KID)?;
    let secret = app
        .secrets
        .iter()
        .find(|(id, _)| id == kid)
        .map(|(_, value)| value.clone())
        .ok_or(SUB_SECRET_NOT_FOUND)?;
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let signing_input = &jwt[..header_part.len() + 1 + payload_part.len()];
    aws_lc_rs::hmac::verify(&key, signing_input.as_bytes(), &signature)
        .map_err(|_| SUB_SECRET_NOT_FOUND)?;
    let app_allows_oda = app.on_demand_access;

    // Audience and time.
    if claims.get("aud").and_then(Value::as_str) != Some("tableau") {
        return Err(SUB_PARSE);
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_f64)
        .ok_or(SUB_LOGIN_FAILED)?;
    if exp <= now || exp - now > MAX_EXP_AHEAD_SECS {
        return Err(SUB_LOGIN_FAILED);
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf.as_f64().ok_or(SUB_PARSE)?;
        if nbf - now > MAX_NBF_AHEAD_SECS {
            return Err(SUB_LOGIN_FAILED);
        }
    }
    if claims.get("iat").is_some_and(|iat| !iat.is_number()) {
        return Err(SUB_PARSE);
    }

    // Single use.
    let jti = claims.get("jti").and_then(Value::as_str).ok_or(SUB_PARSE)?;
    if !state.seen_jti.insert(jti.to_string()) {
        return Err(SUB_JTI_REUSED);
    }

    // Scopes.
    let scp = claims.get("scp").ok_or(SUB_SCP_MISSING)?;
    if !is_string_array(scp) {
        return Err(SUB_PARSE);
    }
    if claims
        .get(GROUPS_CLAIM)
        .is_some_and(|g| !is_string_array(g))
    {
        return Err(SUB_PARSE);
    }

    // User.
    let username = match claims.get("sub") {
        None => return Err(SUB_USER_NOT_FOUND),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(SUB_PARSE),
    };
    let site = state
        .sites
        .get_mut(site_content_url)
        .ok_or(SUB_APP_NOT_FOUND)?;
    if site.users.contains_key(&username) {
        return Ok(username);
    }
    let wants_oda = matches!(claims.get(ODA_CLAIM), Some(Value::Bool(true)))
        || matches!(claims.get(ODA_CLAIM), Some(Value::String(s)) if s == "true");
    if !wants_oda {
        return Err(SUB_USER_NOT_FOUND);
    }
    if !app_allows_oda {
        return Err(SUB_ODA_DISABLED);
    }
    site.users.insert(
        username.clone(),
        User {
            luid: new_luid(),
            name: username.clone(),
            password: None,
        },
    );
    Ok(username)
}
