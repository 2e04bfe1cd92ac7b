//! `FakeTableau` for Python: a thin wrapper over `tca_fake`, the in-process Tableau stand-in.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::errors::config_error;
use tca_fake::{
    AudienceRule, BackfillWarning, FakeOptions, FakeTableau as CoreFake, Misbehaviour, Setup,
};

/// A stand-in for Tableau on 127.0.0.1 that enforces Tableau's sign-in rules. It starts at
/// construction with a default site ("mysite"), user, connected app, PAT and admin password.
/// It also serves Tableau Cloud Manager (TCM: `/api/v1/pat/login`, `/api/v1/jwt/login`,
/// `DELETE /api/v2/sessions`, `/api/v1/tenants/{tenant_id}/sites|users|activitylog`) for one
/// tenant (`tenant_id`) whose sites are the fake's, with a cloud administrator
/// (`cloud_manager_username`) and a TCM PAT (`cloud_manager_pat_secret`).
/// Use it as a context manager: `with FakeTableau() as t: ...`.
#[pyclass(
    frozen,
    subclass,
    name = "FakeTableau",
    module = "tableau_connected_auth.testing"
)]
pub struct FakeTableau {
    inner: CoreFake,
}

fn misbehaviour_route(route: Option<&str>) -> &str {
    route.unwrap_or("auth/signin")
}

fn duration(seconds: f64, name: &str) -> PyResult<Duration> {
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(config_error(format!(
            "{name} must be a number of seconds >= 0"
        )));
    }
    Ok(Duration::from_secs_f64(seconds))
}

impl FakeTableau {
    /// Runs `f` on the fake's [`Setup`]; its `Err` becomes a ConfigurationError.
    fn configure<R>(&self, f: impl FnOnce(&mut Setup<'_>) -> Result<R, String>) -> PyResult<R> {
        self.inner.configure(f).map_err(config_error)
    }
}

impl Drop for FakeTableau {
    /// Dropped with the GIL held: signal the server to stop but never wait for its thread.
    fn drop(&mut self) {
        self.inner.stop_without_waiting();
    }
}

#[pymethods]
impl FakeTableau {
    /// `tls=True` serves https with a self-signed CA made at start (`ca_pem`);
    /// `require_client_cert=True` also demands a client certificate (`client_identity`).
    #[new]
    #[pyo3(signature = (*, tls = false, require_client_cert = false))]
    fn new(tls: bool, require_client_cert: bool) -> PyResult<Self> {
        let inner = CoreFake::start_with(FakeOptions {
            tls,
            require_client_cert,
        })
        .map_err(|e| {
            pyo3::exceptions::PyOSError::new_err(format!("FakeTableau cannot start: {e}"))
        })?;
        Ok(FakeTableau { inner })
    }

    /// "http://127.0.0.1:PORT": pass it as the Client's server.
    #[getter]
    fn url(&self) -> String {
        self.inner.url()
    }

    /// PEM of the CA that issued the server certificate (None without TLS).
    #[getter]
    fn ca_pem(&self) -> Option<String> {
        self.inner.ca_pem()
    }

    /// (certificate PEM, private key PEM) of a client certificate the server accepts
    /// (None unless `require_client_cert`).
    #[getter]
    fn client_identity(&self) -> Option<(String, String)> {
        self.inner.client_identity_pem()
    }

    /// The default site's contentUrl ("mysite").
    #[getter]
    fn site(&self) -> String {
        self.inner.default_site()
    }

    /// The default user ("me@example.com"), known on "mysite" and the default site "".
    #[getter]
    fn username(&self) -> String {
        self.inner.default_username()
    }

    #[getter]
    fn app_client_id(&self) -> String {
        self.inner.default_app().client_id
    }

    #[getter]
    fn app_secret_id(&self) -> String {
        self.inner.default_app().secret_id
    }

    #[getter]
    fn app_secret_value(&self) -> String {
        self.inner.default_app().secret_value
    }

    #[getter]
    fn pat_name(&self) -> String {
        self.inner.default_pat().name
    }

    #[getter]
    fn pat_secret(&self) -> String {
        self.inner.default_pat().secret
    }

    /// The password of the user "admin" (on "mysite" and "").
    #[getter]
    fn admin_password(&self) -> String {
        self.inner.default_password()
    }

    /// The id (a UUID, random per fake) of the tenant Tableau Cloud Manager administers: TCM's
    /// login answers it as `tenantId`, its paths name it, and a unified access token's claim
    /// `https://tableau.com/tenantId` must carry it.
    #[getter]
    fn tenant_id(&self) -> String {
        self.inner.tenant_id()
    }

    /// The default Tableau Cloud Manager user, "cloudadmin@example.com", a cloud administrator
    /// (not a user of any site).
    #[getter]
    fn cloud_manager_username(&self) -> String {
        self.inner.cloud_manager_username()
    }

    /// The secret of the default Tableau Cloud Manager PAT (of `cloud_manager_username`);
    /// random per fake, and not a site PAT (`pat_secret` does not log in to TCM).
    #[getter]
    fn cloud_manager_pat_secret(&self) -> String {
        self.inner.cloud_manager_pat_secret()
    }

    /// Add a user to the Tableau Cloud Manager tenant; returns its id (a UUID). Only a cloud
    /// administrator may log in to TCM. An existing user keeps its id and takes `cloud_admin`.
    #[pyo3(signature = (username, *, cloud_admin = true))]
    fn add_cloud_manager_user(&self, username: &str, cloud_admin: bool) -> PyResult<String> {
        self.configure(|s| s.add_cloud_manager_user(username, cloud_admin))
    }

    /// Register a Tableau Cloud Manager PAT (TCM's PAT login sends the secret alone) for a user
    /// of the tenant (default: `cloud_manager_username`).
    #[pyo3(signature = (secret, *, username = "cloudadmin@example.com"))]
    fn add_cloud_manager_pat(&self, secret: &str, username: &str) -> PyResult<()> {
        self.configure(|s| s.add_cloud_manager_pat(username, secret))
    }

    /// Register (or replace) the tenant-level unified-access-token configuration that TCM's
    /// `jwt/login` checks: RS256 JWTs whose `iss` is `issuer`, verified with `public_key`
    /// (SubjectPublicKeyInfo PEM of an RSA key), carrying `https://tableau.com/tenantId` =
    /// `tenant_id`, and naming a TCM user in the claim `username_claim`. For one issuer and key
    /// on a site too, also call `add_uat_configuration(issuer, public_key, fake.tenant_id)`.
    #[pyo3(signature = (issuer, public_key, *, username_claim = "email"))]
    fn add_cloud_manager_uat_configuration(
        &self,
        issuer: &str,
        public_key: &str,
        username_claim: &str,
    ) -> PyResult<()> {
        self.configure(|s| {
            s.add_cloud_manager_uat_configuration(issuer, public_key, username_claim)
        })
    }

    /// (path, body) of the last Tableau Cloud Manager login request (`/api/v1/pat/login` or
    /// `/api/v1/jwt/login`), or None.
    fn last_cloud_manager_login(&self) -> Option<(String, String)> {
        self.inner.last_cloud_manager_login()
    }

    /// Add a site; returns its LUID.
    #[pyo3(signature = (content_url, name = None))]
    fn add_site(&self, content_url: &str, name: Option<&str>) -> String {
        self.inner
            .configure(|s| s.add_site(content_url, name.unwrap_or(content_url)))
    }

    /// Add a user to a site; returns the user's LUID.
    #[pyo3(signature = (username, *, site = "mysite", password = None))]
    fn add_user(&self, username: &str, site: &str, password: Option<&str>) -> PyResult<String> {
        self.configure(|s| s.add_user(site, username, password))
    }

    /// Register a connected app on a site.
    #[pyo3(signature = (client_id, secret_id, secret_value, *, site = "mysite", enabled = true, on_demand_access = false))]
    fn add_connected_app(
        &self,
        client_id: &str,
        secret_id: &str,
        secret_value: &str,
        site: &str,
        enabled: bool,
        on_demand_access: bool,
    ) -> PyResult<()> {
        self.configure(|s| {
            s.add_connected_app(
                site,
                client_id,
                secret_id,
                secret_value,
                enabled,
                on_demand_access,
            )
        })
    }

    /// Register a personal access token for a user on a site.
    #[pyo3(signature = (name, secret, *, username = "me@example.com", site = "mysite"))]
    fn add_pat(&self, name: &str, secret: &str, username: &str, site: &str) -> PyResult<()> {
        self.configure(|s| s.add_pat(site, username, name, secret))
    }

    /// Register an OAuth 2.0 trust issuer (External Authorization Server) with a public key
    /// (SubjectPublicKeyInfo PEM). `audience="cloud"` wants `aud` = "tableau:<site-luid>"
    /// (Tableau Cloud); `"server"` wants "tableau".
    /// `algorithms`: what the issuer may sign with; Tableau documents RS256 only, so that is
    /// the default; tests of other algorithms opt in.
    #[pyo3(signature = (issuer, public_key, *, site = "mysite", audience = "server", algorithms = None))]
    fn add_external_authorization_server(
        &self,
        issuer: &str,
        public_key: &str,
        site: &str,
        audience: &str,
        algorithms: Option<Vec<String>>,
    ) -> PyResult<()> {
        let rule = match audience {
            "cloud" => AudienceRule::Cloud,
            "server" => AudienceRule::Server,
            other => {
                return Err(config_error(format!(
                    "audience must be \"cloud\" or \"server\", not {other:?}"
                )))
            }
        };
        self.configure(|s| {
            s.add_external_authorization_server(site, issuer, public_key, rule)?;
            if let Some(algorithms) = algorithms {
                let algorithms: Vec<&str> = algorithms.iter().map(String::as_str).collect();
                s.allow_eas_algorithms(site, issuer, &algorithms)?;
            }
            Ok(())
        })
    }

    /// Register a unified-access-token configuration (Tableau Cloud, API 3.27+).
    #[pyo3(signature = (issuer, public_key, tenant_id, *, site = "mysite", username_claim = "email"))]
    fn add_uat_configuration(
        &self,
        issuer: &str,
        public_key: &str,
        tenant_id: &str,
        site: &str,
        username_claim: &str,
    ) -> PyResult<()> {
        self.configure(|s| {
            s.add_uat_configuration(site, issuer, public_key, tenant_id, username_claim)
        })
    }

    /// The payload (JSON text) of the last JWT that passed every check, or None.
    fn last_jwt_claims(&self) -> Option<String> {
        self.inner.last_jwt_claims()
    }

    /// The LUID of the published data source "Superstore Datasource" on "mysite" (the same
    /// in every instance).
    #[getter]
    fn datasource_id(&self) -> String {
        self.inner.datasource_id()
    }

    /// The LUIDs of what a site holds, as the REST lists give them: a dict with "site" (its
    /// LUID) and lists "users", "projects", "workbooks", "views", "datasources".
    #[pyo3(signature = (site = "mysite"))]
    fn content_ids<'py>(&self, py: Python<'py>, site: &str) -> PyResult<Bound<'py, PyDict>> {
        let ids = self
            .inner
            .content_ids(site)
            .ok_or_else(|| config_error(format!("no site {site:?}")))?;
        let d = PyDict::new(py);
        d.set_item("site", ids.site)?;
        d.set_item("users", ids.users)?;
        d.set_item("projects", ids.projects)?;
        d.set_item("workbooks", ids.workbooks)?;
        d.set_item("views", ids.views)?;
        d.set_item("datasources", ids.datasources)?;
        Ok(d)
    }

    /// Add `count` workbooks (two views each) to a site; returns their LUIDs.
    #[pyo3(signature = (count, *, site = "mysite"))]
    fn add_workbooks(&self, count: usize, site: &str) -> PyResult<Vec<String>> {
        self.configure(|s| s.add_workbooks(site, count))
    }

    /// The LUID of a site, by contentUrl.
    fn site_luid(&self, content_url: &str) -> PyResult<String> {
        self.inner
            .site_luid(content_url)
            .ok_or_else(|| config_error(format!("no site {content_url:?}")))
    }

    fn set_app_enabled(&self, client_id: &str, enabled: bool) {
        self.inner
            .configure(|s| s.set_app_enabled(client_id, enabled))
    }

    /// The LUID of the VizQL Data Service's published data source (on "mysite").
    #[getter]
    fn vds_datasource_id(&self) -> String {
        self.inner.vds_datasource_id()
    }

    /// Grant (True, the default) or deny the API Access capability on a VDS data source;
    /// denied, VizQL Data Service answers 403 / 403800.
    fn set_vds_api_access(&self, datasource_id: &str, allowed: bool) -> PyResult<()> {
        self.configure(|s| s.set_vds_api_access(datasource_id, allowed))
    }

    /// query-datasource results of more than `limit` rows answer 400 / 400804; None: no limit.
    fn set_vds_row_limit(&self, limit: Option<usize>) {
        self.inner.configure(|s| s.set_vds_row_limit(limit))
    }

    /// Off, every Metadata API query answers the GraphQL error FEATURE_DISABLED.
    fn set_metadata_api_enabled(&self, enabled: bool) {
        self.inner
            .configure(|s| s.set_metadata_api_enabled(enabled))
    }

    /// On, every Metadata API query answers ACCESS_DENIED.
    fn set_metadata_access_denied(&self, denied: bool) {
        self.inner
            .configure(|s| s.set_metadata_access_denied(denied))
    }

    /// On, a Metadata API root field queried without `filter` answers FILTER_REQUIRED.
    fn set_metadata_filter_required(&self, required: bool) {
        self.inner
            .configure(|s| s.set_metadata_filter_required(required))
    }

    /// While `running`, Metadata API answers carry the BACKFILL_RUNNING warning, in the
    /// `errors` list (placement="errors") or the top-level `extensions` ("extensions").
    #[pyo3(signature = (running, *, placement = "errors"))]
    fn set_metadata_backfill_running(&self, running: bool, placement: &str) -> PyResult<()> {
        let place = match placement {
            "errors" => BackfillWarning::InErrors,
            "extensions" => BackfillWarning::InExtensions,
            other => {
                return Err(config_error(format!(
                    "placement must be \"errors\" or \"extensions\", not {other:?}"
                )))
            }
        };
        self.inner
            .configure(|s| s.set_metadata_backfill_running(running.then_some(place)));
        Ok(())
    }

    /// The number of Pulse metric definitions (36 at start); the first ones keep their ids.
    fn set_pulse_definition_count(&self, count: usize) {
        self.inner
            .configure(|s| s.set_pulse_definition_count(count))
    }

    /// The ids of the Pulse metric definitions, in listing order.
    fn pulse_definition_ids(&self) -> Vec<String> {
        self.inner.configure(|s| s.pulse_definition_ids())
    }

    /// The ids of a Pulse definition's metrics (the first is its default metric).
    fn pulse_metric_ids(&self, definition_id: &str) -> PyResult<Vec<String>> {
        self.inner
            .configure(|s| s.pulse_metric_ids(definition_id))
            .ok_or_else(|| config_error(format!("no Pulse definition {definition_id:?}")))
    }

    /// What the server has served so far, as a dict of counters. Tableau Cloud Manager has its
    /// own (never counted in `sign_in_attempts`, `sign_ins`, `sign_outs`, `active_sessions`):
    /// `cloud_manager_sign_in_attempts` (POSTs to a login path, any answer),
    /// `cloud_manager_sign_ins`, `cloud_manager_sign_in_failures` (logins the rules refused),
    /// `cloud_manager_sign_outs` (sign-outs that ended a session), `cloud_manager_requests`
    /// (calls that passed the session, tenant and scope checks), and
    /// `active_cloud_manager_sessions`; TCM errors count in `rejections` by `errorCode`.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("sign_in_attempts", s.sign_in_attempts)?;
        d.set_item("sign_ins", s.sign_ins)?;
        d.set_item("sign_in_failures", s.sign_in_failures)?;
        d.set_item("sign_outs", s.sign_outs)?;
        d.set_item("server_info", s.server_info)?;
        d.set_item("sessions_current", s.sessions_current)?;
        d.set_item("workbooks", s.workbooks)?;
        d.set_item("sites", s.sites)?;
        d.set_item("users", s.users)?;
        d.set_item("projects", s.projects)?;
        d.set_item("datasources", s.datasources)?;
        d.set_item("views", s.views)?;
        d.set_item("switch_site", s.switch_site)?;
        d.set_item("metadata_api", s.metadata_api)?;
        d.set_item("vds", s.vds)?;
        d.set_item("pulse", s.pulse)?;
        d.set_item("requests", s.requests)?;
        d.set_item("active_sessions", s.active_sessions)?;
        d.set_item("tls_handshake_failures", s.tls_handshake_failures)?;
        d.set_item(
            "cloud_manager_sign_in_attempts",
            s.cloud_manager_sign_in_attempts,
        )?;
        d.set_item("cloud_manager_sign_ins", s.cloud_manager_sign_ins)?;
        d.set_item(
            "cloud_manager_sign_in_failures",
            s.cloud_manager_sign_in_failures,
        )?;
        d.set_item("cloud_manager_sign_outs", s.cloud_manager_sign_outs)?;
        d.set_item("cloud_manager_requests", s.cloud_manager_requests)?;
        d.set_item(
            "active_cloud_manager_sessions",
            s.active_cloud_manager_sessions,
        )?;
        d.set_item(
            "rejections",
            s.rejections
                .into_iter()
                .collect::<Vec<_>>()
                .into_pyobject(py)?,
        )?;
        Ok(d)
    }

    fn reset_stats(&self) {
        self.inner.reset_stats()
    }

    /// Answer the next `times` calls on `route` with `status` and a Tableau error body.
    ///
    /// `route` (here and in the other `*_next` methods and `set_delay`): a site path suffix
    /// ("auth/signin", the default; "serverinfo", "users", …), "*" for every request, or a
    /// Tableau Cloud Manager route: "tcm/login" (both logins), "tcm" (every other TCM call:
    /// sign-out, sites, users, activity log), or one of "tcm/pat/login", "tcm/jwt/login",
    /// "tcm/sessions", "tcm/sites", "tcm/users", "tcm/activitylog". TCM calls match only "*"
    /// and these names, and answer TCM's JSON `{"message", "errorCode"}` (errorCode `code`,
    /// default "E_<status>_TCM_INJECTED"; a 429 is "E_429_TCM_TOO_MANY_REQUESTS").
    #[pyo3(signature = (status, *, times = 1, code = None, route = None))]
    fn fail_next(&self, status: u16, times: u32, code: Option<String>, route: Option<&str>) {
        self.inner.misbehave(
            misbehaviour_route(route),
            times,
            Misbehaviour::Fail { status, code },
        )
    }

    /// Answer the next `times` calls on `route` with 429 (and `Retry-After` when given).
    #[pyo3(signature = (*, times = 1, retry_after = None, html = false, route = None))]
    fn rate_limit_next(
        &self,
        times: u32,
        retry_after: Option<u64>,
        html: bool,
        route: Option<&str>,
    ) {
        self.inner.misbehave(
            misbehaviour_route(route),
            times,
            Misbehaviour::RateLimit { retry_after, html },
        )
    }

    /// Answer the next `times` calls on `route` with an HTML page (an SSO login page, say).
    #[pyo3(signature = (*, times = 1, status = 200, route = None))]
    fn html_next(&self, times: u32, status: u16, route: Option<&str>) {
        self.inner.misbehave(
            misbehaviour_route(route),
            times,
            Misbehaviour::Html { status },
        )
    }

    /// Answer the next `times` calls on `route` with a redirect to `location`.
    #[pyo3(signature = (location, *, status = 307, times = 1, route = None))]
    fn redirect_next(&self, location: String, status: u16, times: u32, route: Option<&str>) {
        self.inner.misbehave(
            misbehaviour_route(route),
            times,
            Misbehaviour::Redirect { status, location },
        )
    }

    /// Answer the next `times` calls on `route` with 200 and a body of `size` bytes.
    #[pyo3(signature = (size, *, times = 1, route = None))]
    fn oversize_next(&self, size: usize, times: u32, route: Option<&str>) {
        self.inner.misbehave(
            misbehaviour_route(route),
            times,
            Misbehaviour::Oversize { bytes: size },
        )
    }

    /// Cut the body of the next `times` answers on `route` in half.
    #[pyo3(signature = (*, times = 1, route = None))]
    fn truncate_next(&self, times: u32, route: Option<&str>) {
        self.inner
            .misbehave(misbehaviour_route(route), times, Misbehaviour::Truncate)
    }

    /// Answer the next `times` calls on `route` with an empty body.
    #[pyo3(signature = (*, times = 1, status = 200, route = None))]
    fn empty_next(&self, times: u32, status: u16, route: Option<&str>) {
        self.inner.misbehave(
            misbehaviour_route(route),
            times,
            Misbehaviour::Empty { status },
        )
    }

    /// Delay every answer on `route` ("*": all; "tcm/login", "tcm", … for Tableau Cloud
    /// Manager, as in `fail_next`) by `seconds`; 0 clears.
    #[pyo3(signature = (seconds, *, route = "*"))]
    fn set_delay(&self, seconds: f64, route: &str) -> PyResult<()> {
        self.inner.set_delay(route, duration(seconds, "seconds")?);
        Ok(())
    }

    /// Sessions signed in from now on die `seconds` after sign-in (None: never; a Tableau
    /// Cloud Manager session then lives 4 hours).
    fn set_session_ttl(&self, seconds: Option<f64>) -> PyResult<()> {
        let ttl = seconds.map(|s| duration(s, "seconds")).transpose()?;
        self.inner.set_session_ttl(ttl);
        Ok(())
    }

    /// Kill every live session now, as an idle timeout would (Tableau Cloud Manager's too).
    fn expire_all_sessions(&self) {
        self.inner.expire_all_sessions()
    }

    /// The `estimatedTimeToExpiration` put in sign-in answers ("4:00:00"); None leaves it out.
    fn set_estimated_time_to_expiration(&self, value: Option<String>) {
        self.inner.set_estimated_time_to_expiration(value)
    }

    /// The highest REST API version served; a higher one in a path answers 404003.
    fn set_max_api_version(&self, version: &str) {
        self.inner.set_max_api_version(version)
    }

    /// True while `token` names a live session, site or Tableau Cloud Manager.
    fn is_session_alive(&self, token: &str) -> bool {
        self.inner.is_session_alive(token)
    }

    /// (content type, body) of the last sign-in request, or None.
    fn last_sign_in_request(&self) -> Option<(String, String)> {
        self.inner.last_sign_in_request()
    }

    /// Stop serving. The GIL is released while the server thread finishes: that thread may
    /// need it to log (rustls logs through Python `logging`).
    fn stop(&self, py: Python<'_>) {
        py.detach(|| self.inner.stop())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.stop(py);
        false
    }

    fn __repr__(&self) -> String {
        format!("FakeTableau(url={:?})", self.inner.url())
    }
}
