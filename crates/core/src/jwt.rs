//! Connected App JWTs (spec §2): the claims, their validation, and HS256 signing for direct trust.
//!
//! Header: `{"alg":"HS256","typ":"JWT","kid":<secret id>,"iss":<client id>}`.
//! Claims: `iss`, `sub`, `aud="tableau"`, `jti` (fresh UUID4), `iat`/`nbf` 5 s in the past,
//! `exp` = now + lifetime (1..=600 s), `scp` (always a JSON array), optional
//! `https://tableau.com/oda`, `https://tableau.com/groups` and user attributes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};

use super::config::Seconds;
use super::error::{Error, Result};
use super::keys::{Algorithm, SigningKey};
use super::redact::Secret;

/// A JWT's lifetime when none is given (the bounds are `config::Seconds::JWT_LIFETIME`).
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// `iat` and `nbf` are set this far in the past to absorb clock skew, as Tableau's own code does.
const BACKDATE_SECS: u64 = 5;

const ODA_CLAIM: &str = "https://tableau.com/oda";
const TENANT_CLAIM: &str = "https://tableau.com/tenantId";
const GROUPS_CLAIM: &str = "https://tableau.com/groups";
const RESERVED: [&str; 10] = [
    "iss",
    "sub",
    "aud",
    "jti",
    "iat",
    "nbf",
    "exp",
    "scp",
    ODA_CLAIM,
    GROUPS_CLAIM,
];

/// Who the JWT is for and what it may do: everything except the signing key.
#[derive(Clone, Debug, PartialEq)]
pub struct JwtClaims {
    pub username: String,
    pub scopes: Vec<String>,
    pub lifetime: Duration,
    /// Extra claims read by user-attribute functions; values are strings or lists of strings.
    pub user_attributes: Map<String, Value>,
    pub groups: Option<Vec<String>>,
    pub on_demand_access: bool,
}

impl JwtClaims {
    /// Validate everything Tableau would refuse, before any network I/O.
    pub fn new(
        username: &str,
        scopes: Vec<String>,
        lifetime: Duration,
        user_attributes: Map<String, Value>,
        groups: Option<Vec<String>>,
        on_demand_access: bool,
    ) -> Result<Self> {
        check_name("username", username)?;
        crate::scopes::check(&scopes)?;
        check_lifetime(lifetime)?;
        for (key, value) in &user_attributes {
            check_user_attribute(key, value)?;
        }
        if let Some(groups) = &groups {
            for g in groups {
                if g.trim().is_empty() {
                    return Err(Error::Configuration(
                        "groups: a group name is empty; remove it or give the Tableau group name"
                            .into(),
                    ));
                }
            }
        }
        Ok(JwtClaims {
            username: username.to_string(),
            scopes,
            lifetime,
            user_attributes,
            groups,
            on_demand_access,
        })
    }
}

/// A non-empty value without surrounding whitespace (ids, usernames, names).
pub fn check_name(what: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::Configuration(format!(
            "{what} is empty: give the {what}"
        )));
    }
    if value.trim() != value {
        return Err(Error::Configuration(format!(
            "{what} has leading or trailing whitespace: remove it (Tableau compares it exactly)"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::Configuration(format!(
            "{what} contains a control character (newline, tab, …): remove it"
        )));
    }
    Ok(())
}

pub fn check_lifetime(lifetime: Duration) -> Result<()> {
    Seconds::JWT_LIFETIME
        .check(lifetime.as_secs_f64())
        .map(|_| ())
}

fn check_user_attribute(key: &str, value: &Value) -> Result<()> {
    if key.is_empty() || RESERVED.contains(&key) {
        return Err(Error::Configuration(format!(
            "user_attributes: {key:?} is a reserved JWT claim name; pick another attribute name"
        )));
    }
    let ok = match value {
        Value::String(_) => true,
        Value::Array(items) => items.iter().all(Value::is_string),
        _ => false,
    };
    if !ok {
        return Err(Error::Configuration(format!(
            "user_attributes[{key:?}] must be a string or a list of strings"
        )));
    }
    Ok(())
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
    /// Direct trust only: Tableau's samples put the client id in the header too.
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
}

#[derive(Serialize)]
struct Payload<'a> {
    iss: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
    jti: String,
    iat: u64,
    nbf: u64,
    exp: u64,
    scp: &'a [String],
    #[serde(
        rename = "https://tableau.com/oda",
        skip_serializing_if = "Option::is_none"
    )]
    oda: Option<&'static str>,
    #[serde(
        rename = "https://tableau.com/groups",
        skip_serializing_if = "Option::is_none"
    )]
    groups: Option<&'a [String]>,
    #[serde(
        rename = "https://tableau.com/tenantId",
        skip_serializing_if = "Option::is_none"
    )]
    tenant_id: Option<&'a str>,
    /// Unified access tokens carry the username in a claim whose name is configurable.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    username_claim: Option<std::collections::BTreeMap<&'a str, &'a str>>,
    #[serde(flatten)]
    attributes: &'a Map<String, Value>,
}

/// A fresh `jti`: a random (version 4) UUID from AWS-LC's generator, which needs no system
/// call per token (`Uuid::new_v4` asks the kernel, `getrandom`, every time: one of the system
/// calls of every sign-in).
fn fresh_jti() -> Result<String> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| Error::Configuration("the system random source failed".into()))?;
    Ok(uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string())
}

impl<'a> Payload<'a> {
    /// The claims every Tableau JWT carries, minted now with a fresh `jti`.
    fn new(iss: &'a str, claims: &'a JwtClaims, now: SystemTime) -> Result<Self> {
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Error::Configuration("the system clock is before 1970".into()))?
            .as_secs();
        Ok(Payload {
            iss,
            sub: Some(&claims.username),
            aud: Some("tableau"),
            jti: fresh_jti()?,
            iat: now.saturating_sub(BACKDATE_SECS),
            nbf: now.saturating_sub(BACKDATE_SECS),
            exp: now + claims.lifetime.as_secs(),
            scp: &claims.scopes,
            oda: claims.on_demand_access.then_some("true"),
            groups: claims.groups.as_deref(),
            tenant_id: None,
            username_claim: None,
            attributes: &claims.user_attributes,
        })
    }
}

/// `base64url(header).base64url(payload).base64url(signature)`.
fn assemble(
    header: &Header<'_>,
    payload: &Payload<'_>,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
) -> Result<String> {
    let mut token = String::with_capacity(512);
    append_b64_json(&mut token, header)?;
    token.push('.');
    append_b64_json(&mut token, payload)?;
    let signature = sign(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

/// A direct-trust connected app: client id, secret id and secret value.
pub struct ConnectedApp {
    pub client_id: String,
    pub secret_id: String,
    secret_value: Secret,
    key: hmac::Key,
}

impl std::fmt::Debug for ConnectedApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectedApp")
            .field("client_id", &self.client_id)
            .field("secret_id", &self.secret_id)
            .field("secret_value", &self.secret_value)
            .finish()
    }
}

impl ConnectedApp {
    pub fn new(client_id: &str, secret_id: &str, secret_value: &str) -> Result<Self> {
        check_name("client_id", client_id)?;
        check_name("secret_id", secret_id)?;
        if secret_value.is_empty() {
            return Err(Error::Configuration(
                "secret_value is empty: copy the secret value from the connected app's page".into(),
            ));
        }
        if secret_value.trim() != secret_value {
            return Err(Error::Configuration(
                "secret_value has leading or trailing whitespace: remove it (a copy-paste slip?)"
                    .into(),
            ));
        }
        Ok(ConnectedApp {
            client_id: client_id.to_string(),
            secret_id: secret_id.to_string(),
            key: hmac::Key::new(hmac::HMAC_SHA256, secret_value.as_bytes()),
            secret_value: Secret::new(secret_value),
        })
    }

    /// The secret value, for deriving cache keys.
    pub fn secret_value(&self) -> &Secret {
        &self.secret_value
    }

    /// Mint one JWT now, with a fresh `jti`.
    pub fn mint(&self, claims: &JwtClaims) -> Result<String> {
        self.mint_at(claims, SystemTime::now())
    }

    fn mint_at(&self, claims: &JwtClaims, now: SystemTime) -> Result<String> {
        let header = Header {
            alg: "HS256",
            typ: "JWT",
            kid: &self.secret_id,
            iss: Some(&self.client_id),
        };
        let payload = Payload::new(&self.client_id, claims, now)?;
        assemble(&header, &payload, |msg| {
            Ok(hmac::sign(&self.key, msg).as_ref().to_vec())
        })
    }
}

/// A connected app with OAuth 2.0 trust: your identity provider ("external authorization
/// server") signs the JWT with its private key; Tableau checks it with the public key.
pub struct ExternalAuthorizationServer {
    pub issuer: String,
    pub key_id: String,
    /// `aud`: "tableau" on Server, "tableau:<site-luid>" on Tableau Cloud.
    pub audience: String,
    key: SigningKey,
}

impl std::fmt::Debug for ExternalAuthorizationServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ExternalAuthorizationServer(issuer={:?}, key_id={:?}, algorithm={:?}, audience={:?}, private_key=***)",
            self.issuer,
            self.key_id,
            self.key.algorithm().name(),
            self.audience
        )
    }
}

fn check_audience(audience: &str) -> Result<()> {
    check_name("audience", audience)?;
    if audience.contains(char::is_whitespace) {
        return Err(Error::Configuration(format!(
            "audience {audience:?} contains whitespace: use \"tableau\" (Server) or \"tableau:<site-luid>\" (Cloud)"
        )));
    }
    Ok(())
}

impl ExternalAuthorizationServer {
    pub fn new(
        issuer: &str,
        key_id: &str,
        private_key_pem: &str,
        algorithm: &str,
        audience: &str,
    ) -> Result<Self> {
        check_name("issuer", issuer)?;
        check_name("key_id", key_id)?;
        check_audience(audience)?;
        let key = SigningKey::from_pem(private_key_pem, Algorithm::parse(algorithm)?)?;
        Ok(ExternalAuthorizationServer {
            issuer: issuer.to_string(),
            key_id: key_id.to_string(),
            audience: audience.to_string(),
            key,
        })
    }

    pub fn algorithm(&self) -> &'static str {
        self.key.algorithm().name()
    }

    /// SHA-256 of the private key, for cache keys.
    pub fn key_fingerprint(&self) -> &[u8; 32] {
        self.key.fingerprint()
    }

    /// Mint one JWT now, with a fresh `jti`.
    pub fn mint(&self, claims: &JwtClaims) -> Result<String> {
        let header = Header {
            alg: self.key.algorithm().name(),
            typ: "JWT",
            kid: &self.key_id,
            iss: None,
        };
        let mut payload = Payload::new(&self.issuer, claims, SystemTime::now())?;
        payload.aud = Some(&self.audience);
        assemble(&header, &payload, |msg| self.key.sign(msg))
    }
}

/// Tableau Cloud unified access tokens: RS256 JWTs from a UAT configuration's issuer, with
/// the tenant id claim and the username in a configurable claim; sent with `isUat="true"`.
pub struct UnifiedAccessToken {
    pub issuer: String,
    pub key_id: String,
    pub tenant_id: String,
    pub username_claim: String,
    key: SigningKey,
}

impl std::fmt::Debug for UnifiedAccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "UnifiedAccessToken(issuer={:?}, key_id={:?}, tenant_id={:?}, username_claim={:?}, private_key=***)",
            self.issuer, self.key_id, self.tenant_id, self.username_claim
        )
    }
}

impl UnifiedAccessToken {
    pub fn new(
        issuer: &str,
        key_id: &str,
        private_key_pem: &str,
        tenant_id: &str,
        username_claim: &str,
    ) -> Result<Self> {
        check_name("issuer", issuer)?;
        check_name("key_id", key_id)?;
        check_name("tenant_id", tenant_id)?;
        check_name("username_claim", username_claim)?;
        if RESERVED.contains(&username_claim) || username_claim == TENANT_CLAIM {
            return Err(Error::Configuration(format!(
                "username_claim {username_claim:?} is a reserved JWT claim: use the claim your \
                 UAT configuration names (\"email\" by default)"
            )));
        }
        let key = SigningKey::from_pem(private_key_pem, Algorithm::RS256)?;
        Ok(UnifiedAccessToken {
            issuer: issuer.to_string(),
            key_id: key_id.to_string(),
            tenant_id: tenant_id.to_string(),
            username_claim: username_claim.to_string(),
            key,
        })
    }

    /// SHA-256 of the private key, for cache keys.
    pub fn key_fingerprint(&self) -> &[u8; 32] {
        self.key.fingerprint()
    }

    /// Claims this token cannot carry: a user attribute named like the username claim.
    pub fn check(&self, claims: &JwtClaims) -> Result<()> {
        if claims.user_attributes.contains_key(&self.username_claim) {
            return Err(Error::Configuration(format!(
                "user_attributes has {:?}, which is this token's username_claim",
                self.username_claim
            )));
        }
        Ok(())
    }

    /// Mint one JWT now, with a fresh `jti`.
    pub fn mint(&self, claims: &JwtClaims) -> Result<String> {
        self.check(claims)?;
        let header = Header {
            alg: "RS256",
            typ: "JWT",
            kid: &self.key_id,
            iss: None,
        };
        let mut payload = Payload::new(&self.issuer, claims, SystemTime::now())?;
        payload.sub = None;
        payload.aud = None;
        payload.tenant_id = Some(&self.tenant_id);
        payload.username_claim = Some(std::collections::BTreeMap::from([(
            self.username_claim.as_str(),
            claims.username.as_str(),
        )]));
        assemble(&header, &payload, |msg| self.key.sign(msg))
    }
}

fn append_b64_json<T: Serialize>(out: &mut String, value: &T) -> Result<()> {
    let json = serde_json::to_vec(value)
        .map_err(|e| Error::Configuration(format!("cannot encode JWT part: {e}")))?;
    URL_SAFE_NO_PAD.encode_string(json, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> JwtClaims {
        let mut attrs = Map::new();
        attrs.insert("Region".into(), Value::String("East".into()));
        JwtClaims::new(
            "me@example.com",
            vec!["tableau:content:read".into()],
            DEFAULT_LIFETIME,
            attrs,
            Some(vec!["Sales".into()]),
            true,
        )
        .unwrap()
    }

    fn decode_part(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn header_and_claims_are_exactly_the_spec() {
        let app = ConnectedApp::new("cid", "sid", "the-secret").unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let jwt = app.mint_at(&claims(), now).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = decode_part(parts[0]);
        assert_eq!(
            header,
            serde_json::json!({"alg":"HS256","typ":"JWT","kid":"sid","iss":"cid"})
        );
        let payload = decode_part(parts[1]);
        let obj = payload.as_object().unwrap();
        assert_eq!(obj["iss"], "cid");
        assert_eq!(obj["sub"], "me@example.com");
        assert_eq!(obj["aud"], "tableau");
        assert_eq!(obj["iat"], 1_800_000_000u64 - 5);
        assert_eq!(obj["nbf"], 1_800_000_000u64 - 5);
        assert_eq!(obj["exp"], 1_800_000_300u64);
        assert_eq!(obj["scp"], serde_json::json!(["tableau:content:read"]));
        assert_eq!(obj[ODA_CLAIM], "true");
        assert_eq!(obj[GROUPS_CLAIM], serde_json::json!(["Sales"]));
        assert_eq!(obj["Region"], "East");
        assert_eq!(
            uuid::Uuid::parse_str(obj["jti"].as_str().unwrap())
                .unwrap()
                .get_version_num(),
            4
        );
        assert_eq!(obj.len(), 11);
        // The signature is HMAC-SHA256 over "header.payload" with the secret value.
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"the-secret");
        let signed = format!("{}.{}", parts[0], parts[1]);
        let tag = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        hmac::verify(&key, signed.as_bytes(), &tag).unwrap();
    }

    #[test]
    fn optional_claims_are_absent_by_default_and_jti_is_fresh() {
        let app = ConnectedApp::new("cid", "sid", "s").unwrap();
        let c = JwtClaims::new(
            "u",
            vec!["tableau:views:embed".into()],
            DEFAULT_LIFETIME,
            Map::new(),
            None,
            false,
        )
        .unwrap();
        let a = decode_part(app.mint(&c).unwrap().split('.').nth(1).unwrap());
        let b = decode_part(app.mint(&c).unwrap().split('.').nth(1).unwrap());
        assert!(a.get(ODA_CLAIM).is_none() && a.get(GROUPS_CLAIM).is_none());
        assert_ne!(a["jti"], b["jti"]);
    }

    #[test]
    fn bad_claims_are_configuration_errors() {
        let ok = || vec!["tableau:content:read".to_string()];
        let bad: Vec<(Result<JwtClaims>, &str)> = vec![
            (
                JwtClaims::new("", ok(), DEFAULT_LIFETIME, Map::new(), None, false),
                "username is empty",
            ),
            (
                JwtClaims::new(" u", ok(), DEFAULT_LIFETIME, Map::new(), None, false),
                "whitespace",
            ),
            (
                JwtClaims::new("u", vec![], DEFAULT_LIFETIME, Map::new(), None, false),
                "10099",
            ),
            (
                JwtClaims::new(
                    "u",
                    vec!["content:read".into()],
                    DEFAULT_LIFETIME,
                    Map::new(),
                    None,
                    false,
                ),
                "malformed",
            ),
            (
                JwtClaims::new(
                    "u",
                    vec!["tableau:content".into()],
                    DEFAULT_LIFETIME,
                    Map::new(),
                    None,
                    false,
                ),
                "malformed",
            ),
            (
                JwtClaims::new(
                    "u",
                    vec!["tableau:a b:c".into()],
                    DEFAULT_LIFETIME,
                    Map::new(),
                    None,
                    false,
                ),
                "malformed",
            ),
            (
                JwtClaims::new("u", ok(), Duration::from_secs(601), Map::new(), None, false),
                "600",
            ),
            (
                JwtClaims::new(
                    "u",
                    ok(),
                    Duration::from_millis(500),
                    Map::new(),
                    None,
                    false,
                ),
                "600",
            ),
            (
                JwtClaims::new(
                    "u",
                    ok(),
                    DEFAULT_LIFETIME,
                    Map::from_iter([("exp".to_string(), Value::from("1"))]),
                    None,
                    false,
                ),
                "reserved",
            ),
            (
                JwtClaims::new(
                    "u",
                    ok(),
                    DEFAULT_LIFETIME,
                    Map::from_iter([("n".to_string(), Value::from(1))]),
                    None,
                    false,
                ),
                "string",
            ),
            (
                JwtClaims::new(
                    "u",
                    ok(),
                    DEFAULT_LIFETIME,
                    Map::new(),
                    Some(vec![" ".into()]),
                    false,
                ),
                "group",
            ),
        ];
        for (result, needle) in bad {
            match result {
                Err(Error::Configuration(m)) => {
                    assert!(m.contains(needle), "{m:?} lacks {needle:?}")
                }
                other => panic!("expected a configuration error with {needle:?}, got {other:?}"),
            }
        }
        assert!(JwtClaims::new(
            "u",
            vec![
                "tableau:workbooks:*".into(),
                "tableau:viz_data_service:read".into()
            ],
            DEFAULT_LIFETIME,
            Map::new(),
            None,
            false
        )
        .is_ok());
        assert!(ConnectedApp::new("", "s", "v").is_err());
        assert!(ConnectedApp::new("c", "s", "").is_err());
        assert!(ConnectedApp::new("c", "s", "v ").is_err());
    }

    #[test]
    fn debug_hides_the_secret_value() {
        let app = ConnectedApp::new("cid", "sid", "super-secret-value").unwrap();
        assert!(!format!("{app:?}").contains("super-secret-value"));
    }
}
