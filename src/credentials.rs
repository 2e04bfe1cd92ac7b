//! The Python classes for who signs in: `ConnectedApp` (and the credentials it makes),
//! `PersonalAccessToken`, `UsernamePassword` and `Jwt`. Their `repr` never shows a secret.

use std::sync::Arc;

use pyo3::prelude::*;

use super::args;
use super::errors::{config_error, user_warning, IntoPy};
use super::exit;
use tca_core::credentials::{Credentials, ExternalJwt, JwtIssuer, JwtSource, SingleUseJwt};
use tca_core::error::Error;
use tca_core::jwt::{self, JwtClaims};

/// What `ConnectedApp`, `ExternalAuthorizationServer` and `UnifiedAccessToken` share: minting
/// a JWT for a user, and the credentials a `Client` signs in with.
#[pyclass(
    frozen,
    subclass,
    name = "_JwtIssuer",
    module = "tableau_connected_auth"
)]
pub struct JwtIssuerBase {
    issuer: JwtIssuer,
}

fn claims(
    username: &Bound<'_, PyAny>,
    scopes: &Bound<'_, PyAny>,
    lifetime: &Bound<'_, PyAny>,
    user_attributes: Option<&Bound<'_, PyAny>>,
    groups: Option<&Bound<'_, PyAny>>,
    on_demand_access: bool,
) -> PyResult<JwtClaims> {
    let groups = match groups {
        Some(g) if !g.is_none() => Some(args::string_list(g, "groups")?),
        _ => None,
    };
    let claims = JwtClaims::new(
        &args::string(username, "username")?,
        args::string_list(scopes, "scopes")?,
        args::lifetime(lifetime)?,
        args::user_attributes(user_attributes)?,
        groups,
        on_demand_access,
    )
    .py_err()?;
    warn_about_wildcards(scopes.py(), &claims.scopes)?;
    Ok(claims)
}

/// A `UserWarning` for each undocumented wildcard scope, once per process.
fn warn_about_wildcards(py: Python<'_>, scopes: &[String]) -> PyResult<()> {
    let wildcards = tca_core::scopes::undocumented_wildcards(scopes);
    for scope in tca_core::scopes::first_sightings(wildcards) {
        user_warning(py, &tca_core::scopes::wildcard_warning(&scope))?;
    }
    Ok(())
}

#[pymethods]
impl JwtIssuerBase {
    /// Mint one JWT (for embedding, or for curl). Every call gives a new `jti`.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (username, *, scopes, lifetime = None, user_attributes = None, groups = None, on_demand_access = false))]
    fn jwt(
        &self,
        py: Python<'_>,
        username: &Bound<'_, PyAny>,
        scopes: &Bound<'_, PyAny>,
        lifetime: Option<&Bound<'_, PyAny>>,
        user_attributes: Option<&Bound<'_, PyAny>>,
        groups: Option<&Bound<'_, PyAny>>,
        on_demand_access: bool,
    ) -> PyResult<String> {
        let claims = claims_or_default(
            py,
            username,
            scopes,
            lifetime,
            user_attributes,
            groups,
            on_demand_access,
        )?;
        self.issuer.mint(&claims).py_err()
    }

    /// What a `Client` signs in with: a fresh JWT for this user is minted at every sign-in.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (username, *, scopes, lifetime = None, user_attributes = None, groups = None, on_demand_access = false))]
    fn credentials(
        &self,
        py: Python<'_>,
        username: &Bound<'_, PyAny>,
        scopes: &Bound<'_, PyAny>,
        lifetime: Option<&Bound<'_, PyAny>>,
        user_attributes: Option<&Bound<'_, PyAny>>,
        groups: Option<&Bound<'_, PyAny>>,
        on_demand_access: bool,
    ) -> PyResult<ConnectedAppCredentials> {
        let claims = claims_or_default(
            py,
            username,
            scopes,
            lifetime,
            user_attributes,
            groups,
            on_demand_access,
        )?;
        Ok(ConnectedAppCredentials {
            inner: self.issuer.credentials(claims).py_err()?,
        })
    }
}

/// A direct-trust connected app: its client ID, and one of its secrets (ID and value).
#[pyclass(frozen, extends = JwtIssuerBase, module = "tableau_connected_auth")]
pub struct ConnectedApp {
    app: Arc<jwt::ConnectedApp>,
}

#[pymethods]
impl ConnectedApp {
    #[new]
    #[pyo3(signature = (client_id, secret_id, secret_value))]
    fn new(
        client_id: &Bound<'_, PyAny>,
        secret_id: &Bound<'_, PyAny>,
        secret_value: &Bound<'_, PyAny>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let app = Arc::new(
            jwt::ConnectedApp::new(
                &args::string(client_id, "client_id")?,
                &args::string(secret_id, "secret_id")?,
                &args::string(secret_value, "secret_value")?,
            )
            .py_err()?,
        );
        Ok(PyClassInitializer::from(JwtIssuerBase {
            issuer: JwtIssuer::DirectTrust(app.clone()),
        })
        .add_subclass(ConnectedApp { app }))
    }

    #[getter]
    fn client_id(&self) -> &str {
        &self.app.client_id
    }

    #[getter]
    fn secret_id(&self) -> &str {
        &self.app.secret_id
    }

    fn __repr__(&self) -> String {
        format!(
            "ConnectedApp(client_id={:?}, secret_id={:?}, secret_value=***)",
            self.app.client_id, self.app.secret_id
        )
    }
}

/// `claims(...)` with the default lifetime when none is given.
#[allow(clippy::too_many_arguments)]
fn claims_or_default(
    py: Python<'_>,
    username: &Bound<'_, PyAny>,
    scopes: &Bound<'_, PyAny>,
    lifetime: Option<&Bound<'_, PyAny>>,
    user_attributes: Option<&Bound<'_, PyAny>>,
    groups: Option<&Bound<'_, PyAny>>,
    on_demand_access: bool,
) -> PyResult<JwtClaims> {
    let default = default_lifetime(py)?;
    claims(
        username,
        scopes,
        lifetime.unwrap_or(&default),
        user_attributes,
        groups,
        on_demand_access,
    )
}

fn default_lifetime(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    Ok(jwt::DEFAULT_LIFETIME
        .as_secs()
        .into_pyobject(py)?
        .into_any())
}

/// Sign-in credentials made by `ConnectedApp.credentials(...)`.
#[pyclass(frozen, module = "tableau_connected_auth")]
pub struct ConnectedAppCredentials {
    inner: Credentials,
}

#[pymethods]
impl ConnectedAppCredentials {
    #[getter]
    fn username(&self) -> &str {
        self.inner.claims().map_or("", |c| c.username.as_str())
    }

    #[getter]
    fn scopes(&self) -> Vec<String> {
        self.inner
            .claims()
            .map_or_else(Vec::new, |c| c.scopes.clone())
    }

    fn __repr__(&self) -> String {
        self.inner.describe()
    }
}

/// A personal access token (name and secret).
///
/// Tableau lets one PAT back only one session at a time: signing in again with it, from any
/// process, ends the previous session. Clients with the same configuration share one cached
/// session in this process, which is what keeps a PAT from killing its own sessions.
#[pyclass(frozen, module = "tableau_connected_auth")]
pub struct PersonalAccessToken {
    inner: Credentials,
}

#[pymethods]
impl PersonalAccessToken {
    #[new]
    #[pyo3(signature = (name, secret))]
    fn new(name: &Bound<'_, PyAny>, secret: &Bound<'_, PyAny>) -> PyResult<Self> {
        let inner = Credentials::personal_access_token(
            &args::string(name, "name")?,
            &args::string(secret, "secret")?,
        )
        .py_err()?;
        Ok(PersonalAccessToken { inner })
    }

    #[getter]
    fn name(&self) -> &str {
        match &self.inner {
            Credentials::PersonalAccessToken { name, .. } => name,
            _ => "",
        }
    }

    fn __repr__(&self) -> String {
        self.inner.describe()
    }
}

/// A Tableau username and password (Tableau Server; not for SSO-only users).
#[pyclass(frozen, module = "tableau_connected_auth")]
pub struct UsernamePassword {
    inner: Credentials,
}

#[pymethods]
impl UsernamePassword {
    #[new]
    #[pyo3(signature = (username, password))]
    fn new(username: &Bound<'_, PyAny>, password: &Bound<'_, PyAny>) -> PyResult<Self> {
        let inner = Credentials::password(
            &args::string(username, "username")?,
            &args::string(password, "password")?,
        )
        .py_err()?;
        Ok(UsernamePassword { inner })
    }

    #[getter]
    fn username(&self) -> &str {
        match &self.inner {
            Credentials::Password { username, .. } => username,
            _ => "",
        }
    }

    fn __repr__(&self) -> String {
        self.inner.describe()
    }
}

/// A JWT minted elsewhere. A plain string is good for one sign-in only (Tableau refuses a
/// `jti` it has seen); a callable is called for a fresh JWT at every sign-in.
#[pyclass(frozen, module = "tableau_connected_auth")]
pub struct Jwt {
    inner: Credentials,
}

/// A Python callable that returns a fresh JWT string.
struct CallableJwt {
    callable: Py<PyAny>,
}

impl JwtSource for CallableJwt {
    fn next_jwt(&self) -> tca_core::error::Result<String> {
        exit::attach(|py| {
            let value = self.callable.call0(py).map_err(|e| {
                let kind = e
                    .get_type(py)
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default();
                Error::Configuration(format!("the Jwt callable raised {kind}"))
            })?;
            let token: String = value.extract(py).map_err(|_| {
                Error::Configuration("the Jwt callable must return the JWT as a str".into())
            })?;
            // The same shape check as a fixed token; the source itself is not single use.
            SingleUseJwt::new(&token)?;
            Ok(token.trim().to_string())
        })
        .unwrap_or_else(|| {
            Err(Error::Configuration(
                "Python is exiting: the Jwt callable was not called".into(),
            ))
        })
    }
}

#[pymethods]
impl Jwt {
    /// `identity=None`: this object's sessions are its own (a random identity); a name shares
    /// them with every `Jwt` given the same name, which must then sign in as the same user.
    #[new]
    #[pyo3(signature = (token, *, identity=None))]
    fn new(token: &Bound<'_, PyAny>, identity: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let source: Box<dyn JwtSource> = if token.is_callable() {
            Box::new(CallableJwt {
                callable: token.clone().unbind(),
            })
        } else {
            Box::new(SingleUseJwt::new(&args::string(token, "token")?).py_err()?)
        };
        let identity = args::optional_string(identity, "identity")?;
        let external = ExternalJwt::new(source, identity.as_deref()).py_err()?;
        Ok(Jwt {
            inner: Credentials::Jwt(Arc::new(external)),
        })
    }

    fn __repr__(&self) -> String {
        self.inner.describe()
    }
}

/// A connected app with OAuth 2.0 trust: your identity provider (the "external authorization
/// server") signs JWTs with its private key (RS256/384/512, PS256/384/512, ES256/384, EdDSA).
///
/// `audience` is the JWT `aud`: "tableau" for Tableau Server; Tableau Cloud wants
/// "tableau:<site-luid>": pass `site_luid=` as a shortcut for that.
#[pyclass(frozen, extends = JwtIssuerBase, module = "tableau_connected_auth")]
pub struct ExternalAuthorizationServer {
    eas: Arc<jwt::ExternalAuthorizationServer>,
}

#[pymethods]
impl ExternalAuthorizationServer {
    #[new]
    #[pyo3(signature = (issuer, key_id, private_key, algorithm = "RS256", audience = None, site_luid = None))]
    fn new(
        issuer: &Bound<'_, PyAny>,
        key_id: &Bound<'_, PyAny>,
        private_key: &Bound<'_, PyAny>,
        algorithm: &str,
        audience: Option<&Bound<'_, PyAny>>,
        site_luid: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let audience = args::optional_string(audience, "audience")?;
        let site_luid = args::optional_string(site_luid, "site_luid")?;
        let audience = match (audience, site_luid) {
            (Some(_), Some(_)) => return Err(config_error(
                "pass audience= or site_luid=, not both (site_luid=X means audience=\"tableau:X\")",
            )),
            (Some(a), None) => a,
            (None, Some(luid)) => {
                jwt::check_name("site_luid", &luid).py_err()?;
                format!("tableau:{luid}")
            }
            (None, None) => "tableau".to_string(),
        };
        let eas = jwt::ExternalAuthorizationServer::new(
            &args::string(issuer, "issuer")?,
            &args::string(key_id, "key_id")?,
            &args::string(private_key, "private_key")?,
            algorithm,
            &audience,
        )
        .py_err()?;
        let eas = Arc::new(eas);
        Ok(PyClassInitializer::from(JwtIssuerBase {
            issuer: JwtIssuer::ExternalAuthorizationServer(eas.clone()),
        })
        .add_subclass(ExternalAuthorizationServer { eas }))
    }

    #[getter]
    fn issuer(&self) -> &str {
        &self.eas.issuer
    }

    #[getter]
    fn key_id(&self) -> &str {
        &self.eas.key_id
    }

    #[getter]
    fn audience(&self) -> &str {
        &self.eas.audience
    }

    #[getter]
    fn algorithm(&self) -> &str {
        self.eas.algorithm()
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.eas)
    }
}

/// Tableau Cloud unified access tokens: RS256 JWTs from your UAT configuration's issuer,
/// carrying `https://tableau.com/tenantId` and the username in `username_claim` ("email" by
/// default). Needs REST API 3.27 or later.
#[pyclass(frozen, extends = JwtIssuerBase, module = "tableau_connected_auth")]
pub struct UnifiedAccessToken {
    uat: Arc<jwt::UnifiedAccessToken>,
}

#[pymethods]
impl UnifiedAccessToken {
    #[new]
    #[pyo3(signature = (issuer, key_id, private_key, tenant_id, username_claim = "email"))]
    fn new(
        issuer: &Bound<'_, PyAny>,
        key_id: &Bound<'_, PyAny>,
        private_key: &Bound<'_, PyAny>,
        tenant_id: &Bound<'_, PyAny>,
        username_claim: &str,
    ) -> PyResult<PyClassInitializer<Self>> {
        let uat = jwt::UnifiedAccessToken::new(
            &args::string(issuer, "issuer")?,
            &args::string(key_id, "key_id")?,
            &args::string(private_key, "private_key")?,
            &args::string(tenant_id, "tenant_id")?,
            username_claim,
        )
        .py_err()?;
        let uat = Arc::new(uat);
        Ok(PyClassInitializer::from(JwtIssuerBase {
            issuer: JwtIssuer::UnifiedAccessToken(uat.clone()),
        })
        .add_subclass(UnifiedAccessToken { uat }))
    }

    #[getter]
    fn issuer(&self) -> &str {
        &self.uat.issuer
    }

    #[getter]
    fn tenant_id(&self) -> &str {
        &self.uat.tenant_id
    }

    #[getter]
    fn username_claim(&self) -> &str {
        &self.uat.username_claim
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.uat)
    }
}

/// The core credentials behind any of the classes above.
pub fn extract(obj: &Bound<'_, PyAny>) -> PyResult<Credentials> {
    if let Ok(c) = obj.cast::<ConnectedAppCredentials>() {
        return Ok(c.get().inner.clone());
    }
    if let Ok(c) = obj.cast::<PersonalAccessToken>() {
        return Ok(c.get().inner.clone());
    }
    if let Ok(c) = obj.cast::<UsernamePassword>() {
        return Ok(c.get().inner.clone());
    }
    if let Ok(c) = obj.cast::<Jwt>() {
        return Ok(c.get().inner.clone());
    }
    if obj.is_instance_of::<JwtIssuerBase>() {
        return Err(config_error(
            "credentials is a ConnectedApp (or another JWT issuer): pass \
             app.credentials(\"user@example.com\", scopes=[...]) to say who signs in and with \
             which scopes",
        ));
    }
    Err(config_error(
        "credentials must be ConnectedApp(...).credentials(...), PersonalAccessToken, \
         UsernamePassword or Jwt",
    ))
}
