//! The Python classes for who signs in: `ConnectedApp` (and the credentials it makes),
//! `PersonalAccessToken`, `UsernamePassword` and `Jwt`. Their `repr` never shows a secret.

use std::sync::Arc;

use pyo3::prelude::*;

use super::args;
use super::errors::{config_error, IntoPy};
use crate::core::credentials::{Credentials, SingleUseJwt};
use crate::core::jwt::{self, JwtClaims};

/// A direct-trust connected app: its client ID, and one of its secrets (ID and value).
#[pyclass(frozen, module = "tableau_connected_auth")]
pub struct ConnectedApp {
    app: Arc<jwt::ConnectedApp>,
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
    JwtClaims::new(
        &args::string(username, "username")?,
        args::string_list(scopes, "scopes")?,
        args::lifetime(lifetime)?,
        args::user_attributes(user_attributes)?,
        groups,
        on_demand_access,
    )
    .py_err()
}

#[pymethods]
impl ConnectedApp {
    #[new]
    #[pyo3(signature = (client_id, secret_id, secret_value))]
    fn new(
        client_id: &Bound<'_, PyAny>,
        secret_id: &Bound<'_, PyAny>,
        secret_value: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let app = jwt::ConnectedApp::new(
            &args::string(client_id, "client_id")?,
            &args::string(secret_id, "secret_id")?,
            &args::string(secret_value, "secret_value")?,
        )
        .py_err()?;
        Ok(ConnectedApp { app: Arc::new(app) })
    }

    #[getter]
    fn client_id(&self) -> &str {
        &self.app.client_id
    }

    #[getter]
    fn secret_id(&self) -> &str {
        &self.app.secret_id
    }

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
        let default = default_lifetime(py)?;
        let claims = claims(
            username,
            scopes,
            lifetime.unwrap_or(&default),
            user_attributes,
            groups,
            on_demand_access,
        )?;
        self.app.mint(&claims).py_err()
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
        let default = default_lifetime(py)?;
        let claims = claims(
            username,
            scopes,
            lifetime.unwrap_or(&default),
            user_attributes,
            groups,
            on_demand_access,
        )?;
        Ok(ConnectedAppCredentials {
            inner: Credentials::ConnectedApp {
                app: self.app.clone(),
                claims: Arc::new(claims),
            },
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "ConnectedApp(client_id={:?}, secret_id={:?}, secret_value=***)",
            self.app.client_id, self.app.secret_id
        )
    }
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
        match &self.inner {
            Credentials::ConnectedApp { claims, .. } => &claims.username,
            _ => "",
        }
    }

    #[getter]
    fn scopes(&self) -> Vec<String> {
        match &self.inner {
            Credentials::ConnectedApp { claims, .. } => claims.scopes.clone(),
            _ => Vec::new(),
        }
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
/// `jti` it has seen).
#[pyclass(frozen, module = "tableau_connected_auth")]
pub struct Jwt {
    inner: Credentials,
}

#[pymethods]
impl Jwt {
    #[new]
    fn new(token: &Bound<'_, PyAny>) -> PyResult<Self> {
        let token = args::string(token, "token")?;
        let source = SingleUseJwt::new(&token).py_err()?;
        Ok(Jwt {
            inner: Credentials::Jwt(Arc::new(source)),
        })
    }

    fn __repr__(&self) -> String {
        self.inner.describe()
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
    if obj.is_instance_of::<ConnectedApp>() {
        return Err(config_error(
            "credentials is a ConnectedApp: pass app.credentials(\"user@example.com\", \
             scopes=[...]) to say who signs in and with which scopes",
        ));
    }
    Err(config_error(
        "credentials must be ConnectedApp(...).credentials(...), PersonalAccessToken, \
         UsernamePassword or Jwt",
    ))
}
