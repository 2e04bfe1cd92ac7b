//! Verification of a sign-in JWT the way Tableau answers it: every failure is a connected-app
//! sub-code, which the caller turns into `401 / 401001 "Error signing in to Tableau Server (N)"`.
//!
//! Three kinds of JWT, told apart by the claim `iss` and the `isUat` flag of the request:
//!
//! * `isUat="true"`: a unified access token; `iss` must name a UAT configuration of the site.
//! * otherwise, `iss` is the client id of a direct-trust connected app of the site (enabled or
//!   not): direct trust (HS256); else an issuer of an external authorization server (EAS)
//!   registered on the site: OAuth 2.0 trust. (A string that is both a client id and an EAS
//!   issuer is treated as the client id.)
//! * anything else (missing `iss`, unknown, a UAT issuer without `isUat`, another site's): 126.
//!
//! First, for every kind (the first failure wins):
//!
//! | check | sub-code |
//! |---|---|
//! | three base64url (unpadded) parts, header and payload JSON objects | 10084 |
//! | claim `iss`, when present, a string | 10084 |
//! | `iss` selects a kind as above | 126 |
//!
//! Then the kind's own checks:
//!
//! | direct trust | OAuth 2.0 trust (EAS) | unified access token | sub-code |
//! |---|---|---|---|
//! | `alg` = `HS256` | `alg` = `RS256` (what Tableau documents), or one a test allowed of RS384/512, PS256/384/512, ES256, ES384, EdDSA | `alg` = `RS256` | 10084 |
//! | header `iss`, when present, = claim `iss` | same | same | 10084 |
//! | the app is enabled | — | — | 126 |
//! | header `kid` present (a string) | same | same | 10083 |
//! | `kid` is a secret id of the app | `kid` not used to pick the key | same as EAS | 127 / — |
//! | HMAC-SHA256 with that secret | some key of the issuer (of the kind `alg` needs) verifies | the configuration's key verifies | 127 / 10083 / 10083 |
//! | `aud` = `"tableau"` (a string) | `aud` = `"tableau:<site-luid>"` (Cloud rule) or `"tableau"` (Server rule), a string | `aud` not checked | 10084 |
//! | — | — | `https://tableau.com/tenantId` = the configured tenant id (a string) | 10084 |
//!
//! Then the shared claim checks ([`check_shared_claims`], every kind):
//!
//! | check | sub-code |
//! |---|---|
//! | `exp` a number, in the future, at most 600 s ahead | 16 |
//! | `nbf` (optional) a number (else 10084), at most 5 s in the future (else 16); `iat` (optional) a number | 16 / 10084 |
//! | `jti` a string (missing: 10084), never seen before by this server (one set for all kinds) | 10084 / 10091 |
//! | `scp` present (10099), an array of strings (10084); `https://tableau.com/groups`, when present, too | 10099 / 10084 |
//!
//! And the user ([`resolve_user`]): the claim `sub` (direct trust, EAS) or the configured
//! username claim (UAT) must be a string (10084) naming a user of the site, case-sensitive
//! (missing too: 5); unless `https://tableau.com/oda` is `true`/`"true"` (direct trust and EAS
//! only): a direct-trust app that allows on-demand access creates the user; an app that does not,
//! and every EAS, answer 67. For a UAT the `oda` claim is ignored (an unknown user is 5).
//!
//! Choices where Tableau's answer is not documented: a signature that fails with every key of
//! an EAS issuer (or the UAT key) is 10083 — Tableau reports JWKS-side key problems as 10083 or
//! 10085 (JWKS unreachable), and the fake has no JWKS; an RSA key under 2048 bits (Tableau's
//! 10088) is refused when it is registered, so no sign-in ever sees one.
//!
//! The `jti` is recorded once the signature, audience / tenant, `exp` and `nbf` checks passed,
//! even if a later check fails. Header `typ` is not checked; unknown claims (user attributes)
//! are ignored; unknown scope strings are accepted (only the type of `scp` matters).
//!
//! # Tableau Cloud Manager (`POST /api/v1/jwt/login`)
//!
//! [`verify_tenant_uat`] checks a unified access token against the tenant's UAT configurations
//! (`tenant.rs`), with the same rules as a UAT sign-in to a site: `iss` names a configuration,
//! then the UAT column above, then [`check_shared_claims`] (the one `jti` set of the server, so
//! a JWT spent on a site cannot log in to TCM, nor the reverse), and one more check of its own:
//! `iat`, when present, at most 5 s in the future [guess: TCM's rules are not documented beyond
//! the claims the JWT must carry]. It returns the username (the configuration's username claim)
//! for the caller to look up among the tenant's users. Every failure is a [`Failed`] whose
//! `check` names the check in words (never a value of the token), for TCM's error message.

use std::collections::{BTreeMap, HashSet};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

use super::jwt_keys::{eas_algorithm, verify_with_any};
use super::model::{AudienceRule, Eas, Site, Uat, User};
use super::random::new_luid;

/// Sub-code: user not found.
pub(crate) const SUB_USER_NOT_FOUND: u32 = 5;
/// Sub-code: login failed (`exp` / `nbf`).
pub(crate) const SUB_LOGIN_FAILED: u32 = 16;
/// Sub-code: on-demand access not enabled.
pub(crate) const SUB_ODA_DISABLED: u32 = 67;
/// Sub-code: connected app (or EAS / UAT issuer) not found or disabled.
pub(crate) const SUB_APP_NOT_FOUND: u32 = 126;
/// Sub-code: secret not found or wrong signature (direct trust).
pub(crate) const SUB_SECRET_NOT_FOUND: u32 = 127;
/// Sub-code: `kid` missing; for EAS / UAT also a signature no key verifies.
pub(crate) const SUB_BAD_KID: u32 = 10083;
/// Sub-code: JWT parse error.
pub(crate) const SUB_PARSE: u32 = 10084;
/// Sub-code: `jti` reused.
pub(crate) const SUB_JTI_REUSED: u32 = 10091;
/// Sub-code: `scp` missing.
pub(crate) const SUB_SCP_MISSING: u32 = 10099;

/// Longest accepted `exp - now`, seconds.
const MAX_EXP_AHEAD_SECS: f64 = 600.0;
/// Largest accepted `nbf - now` (and, for TCM, `iat - now`), seconds.
const MAX_NBF_AHEAD_SECS: f64 = 5.0;
/// The claim that asks for on-demand access.
const ODA_CLAIM: &str = "https://tableau.com/oda";
/// The claim that lists groups (with on-demand access).
const GROUPS_CLAIM: &str = "https://tableau.com/groups";
/// The UAT tenant claim.
const TENANT_CLAIM: &str = "https://tableau.com/tenantId";

/// A failed check: the connected-app sub-code a site sign-in answers with, and the check in
/// words (for Tableau Cloud Manager's error message; it never quotes the token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failed {
    pub sub: u32,
    pub check: String,
}

fn fail(sub: u32, check: impl Into<String>) -> Failed {
    Failed {
        sub,
        check: check.into(),
    }
}

/// A JWT that passed every check.
#[derive(Clone, Debug)]
pub(crate) struct Verified {
    /// The user to sign in.
    pub username: String,
    /// The payload JSON text as received (decoded from base64url).
    pub claims_json: String,
    /// The `scp` claim: what the session it opens may do (see `scopes.rs`).
    pub scopes: Vec<String>,
}

/// A JWT split and decoded, not yet verified.
struct Token<'a> {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    claims_json: String,
    signature: Vec<u8>,
    /// `header.payload`, the signed bytes.
    signing_input: &'a str,
}

const NOT_A_JWT: &str =
    "the token is not three base64url parts whose header and payload are JSON objects";

impl<'a> Token<'a> {
    fn parse(jwt: &'a str) -> Result<Self, Failed> {
        let parts: Vec<&str> = jwt.split('.').collect();
        let [header_part, payload_part, signature_part] = parts[..] else {
            return Err(fail(SUB_PARSE, NOT_A_JWT));
        };
        let header = decode_object(header_part)?.0;
        let (claims, claims_json) = decode_object(payload_part)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature_part)
            .map_err(|_| fail(SUB_PARSE, NOT_A_JWT))?;
        Ok(Token {
            header,
            claims,
            claims_json,
            signature,
            signing_input: &jwt[..header_part.len() + 1 + payload_part.len()],
        })
    }

    fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    /// Claim `iss`: absent is `None`, a string is its value, anything else 10084.
    fn iss(&self) -> Result<Option<String>, Failed> {
        match self.claims.get("iss") {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(fail(SUB_PARSE, "claim iss is not a string")),
        }
    }

    /// Header `iss`, when present, must equal claim `iss` (10084).
    fn check_header_iss(&self, iss: &str) -> Result<(), Failed> {
        match self.header.get("iss") {
            Some(h) if h.as_str() != Some(iss) => Err(fail(
                SUB_PARSE,
                "header iss is present and differs from claim iss",
            )),
            _ => Ok(()),
        }
    }

    /// Header `kid`, required (10083).
    fn kid(&self) -> Result<&str, Failed> {
        self.header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or_else(|| fail(SUB_BAD_KID, "header kid is missing or not a string"))
    }

    /// The `scp` claim (checked to be an array of strings by [`check_shared_claims`]).
    fn scopes(&self) -> Vec<String> {
        self.claims
            .get("scp")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A base64url (unpadded) JSON object, with its text.
fn decode_object(part: &str) -> Result<(Map<String, Value>, String), Failed> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| fail(SUB_PARSE, NOT_A_JWT))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => {
            let text = String::from_utf8(bytes).map_err(|_| fail(SUB_PARSE, NOT_A_JWT))?;
            Ok((map, text))
        }
        _ => Err(fail(SUB_PARSE, NOT_A_JWT)),
    }
}

fn is_string_array(v: &Value) -> bool {
    v.as_array()
        .is_some_and(|items| items.iter().all(Value::is_string))
}

/// What a sign-in JWT is, by its `iss` and the request's `isUat`.
enum Kind {
    Direct,
    Eas(Eas),
    Uat(Uat),
}

/// Verifies `jwt` for a sign-in to the site `site_content_url` (which exists) of `sites` at
/// `now` (seconds since the Unix epoch); `is_uat` is the request's `isUat`; `seen_jti` is the
/// server's one set of used `jti`s. Returns the user to sign in and the claims, or the sub-code.
pub(crate) fn verify(
    sites: &mut BTreeMap<String, Site>,
    seen_jti: &mut HashSet<String>,
    site_content_url: &str,
    jwt: &str,
    is_uat: bool,
    now: f64,
) -> Result<Verified, u32> {
    verify_for_site(sites, seen_jti, site_content_url, jwt, is_uat, now).map_err(|f| f.sub)
}

fn verify_for_site(
    sites: &mut BTreeMap<String, Site>,
    seen_jti: &mut HashSet<String>,
    site_content_url: &str,
    jwt: &str,
    is_uat: bool,
    now: f64,
) -> Result<Verified, Failed> {
    let token = Token::parse(jwt)?;
    let iss = token.iss()?;
    let unknown = || fail(SUB_APP_NOT_FOUND, "claim iss names no issuer of the site");
    let site = sites.get(site_content_url).ok_or_else(unknown)?;
    let site_luid = site.luid.clone();
    let kind = match iss.as_deref() {
        Some(iss) if is_uat => site.uat.get(iss).cloned().map(Kind::Uat),
        Some(iss) if site.apps.contains_key(iss) => Some(Kind::Direct),
        Some(iss) => site.eas.get(iss).cloned().map(Kind::Eas),
        None => None,
    };
    let (Some(kind), Some(iss)) = (kind, iss) else {
        return Err(unknown());
    };

    let username = match kind {
        Kind::Direct => {
            let oda = verify_direct(sites, site_content_url, &token, &iss)?;
            check_shared_claims(seen_jti, &token.claims, now)?;
            resolve_user(sites, site_content_url, &token.claims, "sub", Some(oda))?
        }
        Kind::Eas(eas) => {
            verify_eas(&token, &iss, &eas, &site_luid)?;
            check_shared_claims(seen_jti, &token.claims, now)?;
            resolve_user(sites, site_content_url, &token.claims, "sub", Some(false))?
        }
        Kind::Uat(uat) => {
            verify_uat(&token, &iss, &uat)?;
            check_shared_claims(seen_jti, &token.claims, now)?;
            resolve_user(
                sites,
                site_content_url,
                &token.claims,
                &uat.username_claim,
                None,
            )?
        }
    };
    Ok(Verified {
        username,
        scopes: token.scopes(),
        claims_json: token.claims_json,
    })
}

/// Verifies a unified access token for Tableau Cloud Manager's `jwt/login` against the
/// tenant's UAT configurations `configurations` (by issuer) at `now`; `seen_jti` is the
/// server's one set of used `jti`s. Returns the username its configuration's claim names
/// (not yet looked up) with the claims and scopes.
pub(crate) fn verify_tenant_uat(
    configurations: &BTreeMap<String, Uat>,
    seen_jti: &mut HashSet<String>,
    jwt: &str,
    now: f64,
) -> Result<Verified, Failed> {
    let token = Token::parse(jwt)?;
    let iss = token.iss()?;
    let (iss, uat) = iss
        .and_then(|iss| configurations.get(&iss).map(|uat| (iss, uat)))
        .ok_or_else(|| {
            fail(
                SUB_APP_NOT_FOUND,
                "claim iss is missing or names no UAT configuration of the tenant",
            )
        })?;
    verify_uat(&token, &iss, uat)?;
    if let Some(iat) = token.claims.get("iat").and_then(Value::as_f64) {
        if iat - now > MAX_NBF_AHEAD_SECS {
            return Err(fail(
                SUB_LOGIN_FAILED,
                "claim iat is more than 5 s in the future",
            ));
        }
    }
    check_shared_claims(seen_jti, &token.claims, now)?;
    let username = claimed_username(&token.claims, &uat.username_claim)?;
    Ok(Verified {
        username,
        scopes: token.scopes(),
        claims_json: token.claims_json,
    })
}

/// Direct trust: algorithm, app, secret, HMAC, audience. Returns whether the app allows
/// on-demand access.
fn verify_direct(
    sites: &BTreeMap<String, Site>,
    site_content_url: &str,
    token: &Token<'_>,
    client_id: &str,
) -> Result<bool, Failed> {
    if token.alg() != Some("HS256") {
        return Err(fail(SUB_PARSE, "header alg is not HS256"));
    }
    token.check_header_iss(client_id)?;
    let app = sites
        .get(site_content_url)
        .and_then(|site| site.apps.get(client_id))
        .filter(|a| a.enabled)
        .ok_or_else(|| fail(SUB_APP_NOT_FOUND, "the connected app is disabled"))?;

    let kid = token.kid()?;
    let bad_secret = || {
        fail(
            SUB_SECRET_NOT_FOUND,
            "header kid names no secret of the app, or the signature does not verify",
        )
    };
    let secret = app
        .secrets
        .iter()
        .find(|(id, _)| id == kid)
        .map(|(_, value)| value.as_str())
        .ok_or_else(bad_secret)?;
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    aws_lc_rs::hmac::verify(&key, token.signing_input.as_bytes(), &token.signature)
        .map_err(|_| bad_secret())?;

    if token.claims.get("aud").and_then(Value::as_str) != Some("tableau") {
        return Err(fail(SUB_PARSE, "claim aud is not \"tableau\""));
    }
    Ok(app.on_demand_access)
}

/// OAuth 2.0 trust: algorithm, `kid`, signature with one of the issuer's keys, audience.
fn verify_eas(token: &Token<'_>, iss: &str, eas: &Eas, site_luid: &str) -> Result<(), Failed> {
    let alg = token
        .alg()
        .filter(|a| eas.algorithms.iter().any(|allowed| allowed == a))
        .and_then(eas_algorithm)
        .ok_or_else(|| fail(SUB_PARSE, "header alg is not one the issuer may use"))?;
    token.check_header_iss(iss)?;
    token.kid()?;
    if !verify_with_any(
        &eas.keys,
        alg,
        token.signing_input.as_bytes(),
        &token.signature,
    ) {
        return Err(fail(
            SUB_BAD_KID,
            "the signature does not verify with any key of the issuer",
        ));
    }
    let expected = match eas.audience {
        AudienceRule::Cloud => format!("tableau:{site_luid}"),
        AudienceRule::Server => "tableau".to_string(),
    };
    if token.claims.get("aud").and_then(Value::as_str) != Some(expected.as_str()) {
        return Err(fail(SUB_PARSE, "claim aud is not the one the issuer needs"));
    }
    Ok(())
}

/// Unified access token: RS256, `kid`, signature with the configuration's key, tenant.
fn verify_uat(token: &Token<'_>, iss: &str, uat: &Uat) -> Result<(), Failed> {
    let not_rs256 = || fail(SUB_PARSE, "header alg is not RS256");
    if token.alg() != Some("RS256") {
        return Err(not_rs256());
    }
    let alg = eas_algorithm("RS256").ok_or_else(not_rs256)?;
    token.check_header_iss(iss)?;
    token.kid()?;
    if !verify_with_any(
        std::slice::from_ref(&uat.key),
        alg,
        token.signing_input.as_bytes(),
        &token.signature,
    ) {
        return Err(fail(
            SUB_BAD_KID,
            "the RS256 signature does not verify with the configuration's public key",
        ));
    }
    if token.claims.get(TENANT_CLAIM).and_then(Value::as_str) != Some(uat.tenant_id.as_str()) {
        return Err(fail(
            SUB_PARSE,
            format!("claim {TENANT_CLAIM} is not the configuration's tenant id"),
        ));
    }
    Ok(())
}

/// The claim checks every kind shares, after its signature and audience checks: `exp`, `nbf`,
/// `iat`, `jti` (recorded here, in the one set of the server), `scp`, groups.
fn check_shared_claims(
    seen_jti: &mut HashSet<String>,
    claims: &Map<String, Value>,
    now: f64,
) -> Result<(), Failed> {
    // Time.
    let bad_exp = || {
        fail(
            SUB_LOGIN_FAILED,
            "claim exp is missing, not a number, not in the future, or more than 600 s ahead",
        )
    };
    let exp = claims
        .get("exp")
        .and_then(Value::as_f64)
        .ok_or_else(bad_exp)?;
    if exp <= now || exp - now > MAX_EXP_AHEAD_SECS {
        return Err(bad_exp());
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf
            .as_f64()
            .ok_or_else(|| fail(SUB_PARSE, "claim nbf is not a number"))?;
        if nbf - now > MAX_NBF_AHEAD_SECS {
            return Err(fail(
                SUB_LOGIN_FAILED,
                "claim nbf is more than 5 s in the future",
            ));
        }
    }
    if claims.get("iat").is_some_and(|iat| !iat.is_number()) {
        return Err(fail(SUB_PARSE, "claim iat is not a number"));
    }

    // Single use.
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .ok_or_else(|| fail(SUB_PARSE, "claim jti is missing or not a string"))?;
    if !seen_jti.insert(jti.to_string()) {
        return Err(fail(
            SUB_JTI_REUSED,
            "claim jti was already used (a JWT signs in once)",
        ));
    }

    // Scopes.
    let scp = claims
        .get("scp")
        .ok_or_else(|| fail(SUB_SCP_MISSING, "claim scp is missing"))?;
    if !is_string_array(scp) {
        return Err(fail(SUB_PARSE, "claim scp is not an array of strings"));
    }
    if claims
        .get(GROUPS_CLAIM)
        .is_some_and(|g| !is_string_array(g))
    {
        return Err(fail(
            SUB_PARSE,
            format!("claim {GROUPS_CLAIM} is not an array of strings"),
        ));
    }
    Ok(())
}

/// The string in the claim `username_claim`: missing is 5, another type 10084.
fn claimed_username(claims: &Map<String, Value>, username_claim: &str) -> Result<String, Failed> {
    match claims.get(username_claim) {
        None => Err(fail(
            SUB_USER_NOT_FOUND,
            format!("claim {username_claim} (the username claim) is missing"),
        )),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(fail(
            SUB_PARSE,
            format!("claim {username_claim} (the username claim) is not a string"),
        )),
    }
}

/// The user named by the claim `username_claim`. `oda`: `Some(allowed)` when the claim
/// `https://tableau.com/oda` counts (an unknown user who asks for it is created when
/// `allowed`, else 67); `None` when it is ignored.
fn resolve_user(
    sites: &mut BTreeMap<String, Site>,
    site_content_url: &str,
    claims: &Map<String, Value>,
    username_claim: &str,
    oda: Option<bool>,
) -> Result<String, Failed> {
    let username = claimed_username(claims, username_claim)?;
    let unknown = || {
        fail(
            SUB_USER_NOT_FOUND,
            format!("claim {username_claim} names no user of the site"),
        )
    };
    let site = sites
        .get_mut(site_content_url)
        .ok_or_else(|| fail(SUB_APP_NOT_FOUND, "no such site"))?;
    if site.users.contains_key(&username) {
        return Ok(username);
    }
    let Some(allowed) = oda else {
        return Err(unknown());
    };
    let wants_oda = matches!(claims.get(ODA_CLAIM), Some(Value::Bool(true)))
        || matches!(claims.get(ODA_CLAIM), Some(Value::String(s)) if s == "true");
    if !wants_oda {
        return Err(unknown());
    }
    if !allowed {
        return Err(fail(
            SUB_ODA_DISABLED,
            "on-demand access is not enabled for the app",
        ));
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
