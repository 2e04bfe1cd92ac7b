//! Who signs in: a connected app's JWT, a personal access token, a password, or a JWT minted
//! elsewhere. Each knows what it sends at sign-in and how it identifies itself in the cache key
//! (a keyed digest: no secret, and no username, in clear).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use aws_lc_rs::hmac;

use super::error::{Error, Result};
use super::jwt::{
    check_name, ConnectedApp, ExternalAuthorizationServer, JwtClaims, UnifiedAccessToken,
};
use super::redact::Secret;
use super::wire::SignInCredentials;

/// A source of JWTs minted outside this library (a secrets manager, another service).
/// The binding layer implements it for Python callables.
pub trait JwtSource: Send + Sync {
    /// A JWT for one sign-in.
    fn next_jwt(&self) -> Result<String>;
    /// True when the source can give only one JWT (so a failed sign-in cannot be retried).
    fn single_use(&self) -> bool {
        false
    }
}

/// A JWT minted elsewhere and who it stands for in the cache. Its identity is never where it
/// lives in memory (addresses are reused): a random one of its own, so no other `Jwt` shares
/// its sessions, or a name the user gives (`identity=`) to share them on purpose.
pub struct ExternalJwt {
    source: Box<dyn JwtSource>,
    identity: Vec<u8>,
    named: bool,
}

impl ExternalJwt {
    pub fn new(source: Box<dyn JwtSource>, identity: Option<&str>) -> Result<Self> {
        let (identity, named) = match identity {
            Some(name) => {
                check_name("identity", name)?;
                ([b"named:".as_slice(), name.as_bytes()].concat(), true)
            }
            None => {
                let mut random = [0u8; 32];
                aws_lc_rs::rand::fill(&mut random)
                    .map_err(|_| Error::Configuration("the system random source failed".into()))?;
                ([b"own:".as_slice(), &random].concat(), false)
            }
        };
        Ok(ExternalJwt {
            source,
            identity,
            named,
        })
    }

    /// True when a later `Jwt` can name the same identity (so its cache entry is worth keeping
    /// after the last client that uses it is gone).
    pub fn named(&self) -> bool {
        self.named
    }

    pub fn next_jwt(&self) -> Result<String> {
        self.source.next_jwt()
    }

    pub fn single_use(&self) -> bool {
        self.source.single_use()
    }
}

/// A JWT given as a plain string: good for one sign-in only (Tableau burns its `jti`).
pub struct SingleUseJwt {
    token: Secret,
    used: AtomicBool,
}

impl SingleUseJwt {
    pub fn new(token: &str) -> Result<Self> {
        let token = token.trim();
        if token.split('.').count() != 3 || token.split('.').any(str::is_empty) {
            return Err(Error::Configuration(
                "Jwt(...) needs a compact JWT (three base64url parts separated by dots)".into(),
            ));
        }
        Ok(SingleUseJwt {
            token: Secret::new(token),
            used: AtomicBool::new(false),
        })
    }
}

impl JwtSource for SingleUseJwt {
    fn next_jwt(&self) -> Result<String> {
        if self.used.swap(true, Ordering::SeqCst) {
            return Err(Error::Configuration(
                "this Jwt was already used for a sign-in, and Tableau refuses a JWT twice (its \
                 'jti' is single use): pass a callable, Jwt(lambda: mint_new_jwt()), so that \
                 every sign-in gets a fresh one"
                    .into(),
            ));
        }
        Ok(self.token.expose().to_string())
    }

    fn single_use(&self) -> bool {
        true
    }
}

/// Whatever mints Tableau JWTs for a user: a connected app with direct trust, an external
/// authorization server (OAuth 2.0 trust), or a unified-access-token configuration.
#[derive(Clone, Debug)]
pub enum JwtIssuer {
    DirectTrust(Arc<ConnectedApp>),
    ExternalAuthorizationServer(Arc<ExternalAuthorizationServer>),
    UnifiedAccessToken(Arc<UnifiedAccessToken>),
}

impl JwtIssuer {
    /// Mint one JWT now, with a fresh `jti`.
    pub fn mint(&self, claims: &JwtClaims) -> Result<String> {
        match self {
            JwtIssuer::DirectTrust(app) => app.mint(claims),
            JwtIssuer::ExternalAuthorizationServer(eas) => eas.mint(claims),
            JwtIssuer::UnifiedAccessToken(uat) => uat.mint(claims),
        }
    }

    /// The credentials a client signs in with: a fresh JWT for `claims` at every sign-in.
    pub fn credentials(&self, claims: JwtClaims) -> Result<Credentials> {
        let claims = Arc::new(claims);
        Ok(match self {
            JwtIssuer::DirectTrust(app) => Credentials::ConnectedApp {
                app: app.clone(),
                claims,
            },
            JwtIssuer::ExternalAuthorizationServer(eas) => {
                Credentials::ExternalAuthorizationServer {
                    eas: eas.clone(),
                    claims,
                }
            }
            JwtIssuer::UnifiedAccessToken(uat) => {
                uat.check(&claims)?;
                Credentials::UnifiedAccessToken {
                    uat: uat.clone(),
                    claims,
                }
            }
        })
    }
}

/// What a client signs in with.
#[derive(Clone)]
pub enum Credentials {
    ConnectedApp {
        app: Arc<ConnectedApp>,
        claims: Arc<JwtClaims>,
    },
    PersonalAccessToken {
        name: String,
        secret: Secret,
    },
    Password {
        username: String,
        password: Secret,
    },
    Jwt(Arc<ExternalJwt>),
    /// OAuth 2.0 trust: JWTs signed by your identity provider's private key.
    ExternalAuthorizationServer {
        eas: Arc<ExternalAuthorizationServer>,
        claims: Arc<JwtClaims>,
    },
    /// Tableau Cloud unified access tokens (`isUat="true"`).
    UnifiedAccessToken {
        uat: Arc<UnifiedAccessToken>,
        claims: Arc<JwtClaims>,
    },
}

/// What one sign-in sends, owned (a JWT is minted fresh for every attempt).
pub enum SignInSecret {
    Jwt { jwt: Secret, is_uat: bool },
    PersonalAccessToken { name: String, secret: Secret },
    Password { username: String, password: Secret },
}

impl SignInSecret {
    pub fn as_wire(&self) -> SignInCredentials<'_> {
        match self {
            SignInSecret::Jwt { jwt, is_uat } => SignInCredentials::Jwt {
                jwt: jwt.expose(),
                is_uat: *is_uat,
            },
            SignInSecret::PersonalAccessToken { name, secret } => {
                SignInCredentials::PersonalAccessToken {
                    name,
                    secret: secret.expose(),
                }
            }
            SignInSecret::Password { username, password } => SignInCredentials::Password {
                username,
                password: password.expose(),
            },
        }
    }
}

impl Credentials {
    pub fn personal_access_token(name: &str, secret: &str) -> Result<Self> {
        check_name("name", name)?;
        if secret.trim().is_empty() {
            return Err(Error::Configuration(
                "secret is empty: give the personal access token's secret".into(),
            ));
        }
        Ok(Credentials::PersonalAccessToken {
            name: name.to_string(),
            secret: Secret::new(secret),
        })
    }

    pub fn password(username: &str, password: &str) -> Result<Self> {
        check_name("username", username)?;
        if password.is_empty() {
            return Err(Error::Configuration("password is empty".into()));
        }
        Ok(Credentials::Password {
            username: username.to_string(),
            password: Secret::new(password),
        })
    }

    /// What to send for one sign-in attempt; mints a fresh JWT each time.
    pub fn for_sign_in(&self) -> Result<SignInSecret> {
        Ok(match self {
            Credentials::ConnectedApp { app, claims } => jwt(app.mint(claims)?, false),
            Credentials::ExternalAuthorizationServer { eas, claims } => {
                jwt(eas.mint(claims)?, false)
            }
            Credentials::UnifiedAccessToken { uat, claims } => jwt(uat.mint(claims)?, true),
            Credentials::PersonalAccessToken { name, secret } => {
                SignInSecret::PersonalAccessToken {
                    name: name.clone(),
                    secret: secret.clone(),
                }
            }
            Credentials::Password { username, password } => SignInSecret::Password {
                username: username.clone(),
                password: password.clone(),
            },
            Credentials::Jwt(source) => jwt(source.next_jwt()?, false),
        })
    }

    /// The JWT claims (who and what) for the JWT-minting kinds.
    pub fn claims(&self) -> Option<&JwtClaims> {
        match self {
            Credentials::ConnectedApp { claims, .. }
            | Credentials::ExternalAuthorizationServer { claims, .. }
            | Credentials::UnifiedAccessToken { claims, .. } => Some(claims),
            _ => None,
        }
    }

    /// True when its sessions are opened with a JWT, and so limited to the JWT's scopes.
    pub fn limited_by_scopes(&self) -> bool {
        !matches!(
            self,
            Credentials::PersonalAccessToken { .. } | Credentials::Password { .. }
        )
    }

    /// The scopes this credential's JWTs ask for; `None` for a JWT minted elsewhere (and for
    /// sessions no scope limits).
    pub fn asked_scopes(&self) -> Option<&[String]> {
        match self {
            Credentials::ConnectedApp { claims, .. }
            | Credentials::ExternalAuthorizationServer { claims, .. }
            | Credentials::UnifiedAccessToken { claims, .. } => Some(&claims.scopes),
            _ => None,
        }
    }

    /// True when a later client can compute this credential's cache key again (everything but
    /// a `Jwt` with a random identity of its own).
    pub fn reachable_later(&self) -> bool {
        match self {
            Credentials::Jwt(external) => external.named(),
            _ => true,
        }
    }

    /// The credential's own secret, from which a shared cache derives the key that seals its
    /// entries: the connected app's secret value, the PAT secret, the password, or (for
    /// EAS/UAT) the SHA-256 of the private key. `None` for a JWT minted elsewhere.
    pub fn sealing_secret(&self) -> Option<&[u8]> {
        match self {
            Credentials::ConnectedApp { app, .. } => Some(app.secret_value().expose().as_bytes()),
            Credentials::PersonalAccessToken { secret, .. } => Some(secret.expose().as_bytes()),
            Credentials::Password { password, .. } => Some(password.expose().as_bytes()),
            Credentials::ExternalAuthorizationServer { eas, .. } => Some(eas.key_fingerprint()),
            Credentials::UnifiedAccessToken { uat, .. } => Some(uat.key_fingerprint()),
            Credentials::Jwt(_) => None,
        }
    }

    /// A keyed digest (HMAC-SHA256, keyed by the credential's own secret) of who signs in.
    /// A changed secret gives a different digest; nothing in it can be read back.
    pub fn identity_digest(&self) -> [u8; 32] {
        let (key, parts): (&[u8], Vec<&[u8]>) = match self {
            Credentials::ConnectedApp { app, .. } => (
                app.secret_value().expose().as_bytes(),
                vec![
                    b"connected-app",
                    app.client_id.as_bytes(),
                    app.secret_id.as_bytes(),
                ],
            ),
            Credentials::PersonalAccessToken { name, secret } => {
                (secret.expose().as_bytes(), vec![b"pat", name.as_bytes()])
            }
            Credentials::Password { username, password } => (
                password.expose().as_bytes(),
                vec![b"password", username.as_bytes()],
            ),
            Credentials::Jwt(external) => (b"jwt", vec![b"jwt", &external.identity]),
            Credentials::ExternalAuthorizationServer { eas, .. } => (
                eas.key_fingerprint(),
                vec![
                    b"eas",
                    eas.issuer.as_bytes(),
                    eas.key_id.as_bytes(),
                    eas.audience.as_bytes(),
                ],
            ),
            Credentials::UnifiedAccessToken { uat, .. } => (
                uat.key_fingerprint(),
                vec![
                    b"uat",
                    uat.issuer.as_bytes(),
                    uat.key_id.as_bytes(),
                    uat.tenant_id.as_bytes(),
                    uat.username_claim.as_bytes(),
                ],
            ),
        };
        let key = hmac::Key::new(hmac::HMAC_SHA256, key);
        let mut ctx = hmac::Context::with_key(&key);
        for p in parts {
            feed(&mut ctx, p);
        }
        if let Some(claims) = self.claims() {
            // Different scopes, attributes or groups make a session with other rights.
            feed(&mut ctx, claims.username.as_bytes());
            let mut scopes = claims.scopes.clone();
            scopes.sort();
            for s in &scopes {
                feed(&mut ctx, s.as_bytes());
            }
            feed(
                &mut ctx,
                serde_json::Value::Object(claims.user_attributes.clone())
                    .to_string()
                    .as_bytes(),
            );
            feed(
                &mut ctx,
                format!("{:?}/{}", claims.groups, claims.on_demand_access).as_bytes(),
            );
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// Who signs in, for `repr` (usernames and names, never a secret).
    pub fn describe(&self) -> String {
        match self {
            Credentials::ConnectedApp { app, claims } => format!(
                "ConnectedApp(client_id={:?}, username={:?}, scopes={:?})",
                app.client_id, claims.username, claims.scopes
            ),
            Credentials::PersonalAccessToken { name, .. } => {
                format!("PersonalAccessToken(name={name:?}, secret=***)")
            }
            Credentials::Password { username, .. } => {
                format!("UsernamePassword(username={username:?}, password=***)")
            }
            Credentials::Jwt(_) => "Jwt(***)".to_string(),
            Credentials::ExternalAuthorizationServer { eas, claims } => format!(
                "ExternalAuthorizationServer(issuer={:?}, username={:?}, scopes={:?})",
                eas.issuer, claims.username, claims.scopes
            ),
            Credentials::UnifiedAccessToken { uat, claims } => format!(
                "UnifiedAccessToken(issuer={:?}, username={:?}, scopes={:?})",
                uat.issuer, claims.username, claims.scopes
            ),
        }
    }
}

fn jwt(token: String, is_uat: bool) -> SignInSecret {
    SignInSecret::Jwt {
        jwt: Secret::new(token),
        is_uat,
    }
}

/// Length-prefixed, so ("ab","c") and ("a","bc") differ.
fn feed(ctx: &mut hmac::Context, bytes: &[u8]) {
    ctx.update(&(bytes.len() as u64).to_le_bytes());
    ctx.update(bytes);
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::DEFAULT_LIFETIME;

    fn app_creds(secret: &str, user: &str) -> Credentials {
        Credentials::ConnectedApp {
            app: Arc::new(ConnectedApp::new("cid", "sid", secret).unwrap()),
            claims: Arc::new(
                JwtClaims::new(
                    user,
                    vec!["tableau:content:read".into()],
                    DEFAULT_LIFETIME,
                    Default::default(),
                    None,
                    false,
                )
                .unwrap(),
            ),
        }
    }

    #[test]
    fn identity_changes_with_secret_and_user_but_not_otherwise() {
        let a = app_creds("s1", "u").identity_digest();
        assert_eq!(a, app_creds("s1", "u").identity_digest());
        assert_ne!(a, app_creds("s2", "u").identity_digest());
        assert_ne!(a, app_creds("s1", "v").identity_digest());
        let p1 = Credentials::personal_access_token("n", "secret1")
            .unwrap()
            .identity_digest();
        let p2 = Credentials::personal_access_token("n", "secret2")
            .unwrap()
            .identity_digest();
        assert_ne!(p1, p2);
    }

    #[test]
    fn single_use_jwt_refuses_a_second_sign_in() {
        let j = SingleUseJwt::new("a.b.c").unwrap();
        assert_eq!(j.next_jwt().unwrap(), "a.b.c");
        match j.next_jwt() {
            Err(Error::Configuration(m)) => assert!(m.contains("callable")),
            other => panic!("{other:?}"),
        }
        assert!(SingleUseJwt::new("not-a-jwt").is_err());
    }

    #[test]
    fn describe_never_shows_secrets() {
        let p = Credentials::personal_access_token("n", "pat-secret-xyz").unwrap();
        let u = Credentials::password("admin", "pw-secret-xyz").unwrap();
        let c = app_creds("app-secret-xyz", "me");
        for text in [
            p.describe(),
            u.describe(),
            c.describe(),
            format!("{p:?}{u:?}{c:?}"),
        ] {
            assert!(!text.contains("secret-xyz"), "{text}");
        }
    }
}
