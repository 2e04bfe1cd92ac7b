//! [`Setup`]: what a test registers in the fake's world (sites, users, connected apps, external
//! authorization servers, UAT configurations, PATs, more workbooks and data sources; Tableau
//! Cloud Manager's users, PATs and UAT configurations). Written once, used by
//! [`FakeTableau::configure`](crate::FakeTableau::configure), by the defaults made at start and
//! by the Python binding.

use std::collections::BTreeMap;

use super::content;
use super::jwt_keys::{eas_algorithm, parse_public_key_pem, KeyKind};
use super::metadata::BackfillWarning;
use super::model::{App, AudienceRule, Eas, Pat, Site, Uat, User};
use super::random::new_luid;
use super::state::State;
use super::tenant::{TcmPat, TcmUser};

/// The fake's world, open for registration while the server waits: see
/// [`FakeTableau::configure`](crate::FakeTableau::configure).
pub struct Setup<'a> {
    state: &'a mut State,
}

impl<'a> Setup<'a> {
    pub(crate) fn new(state: &'a mut State) -> Self {
        Setup { state }
    }

    /// The site with this content URL; `Err` names it when there is none.
    fn site_mut(&mut self, content_url: &str) -> Result<&mut Site, String> {
        self.state
            .sites
            .get_mut(content_url)
            .ok_or_else(|| format!("unknown site {content_url:?}"))
    }

    /// Adds a site and returns its LUID (uuid4). Idempotent per `content_url`: an existing
    /// site keeps its LUID and name. A new site holds four projects ("Default", "Samples",
    /// "Finance" and its child "Finance Reports"), three workbooks in "Default" ("Superstore",
    /// "Regional Sales", `Q&A <Draft> "v2"`) with six views, and two published data sources.
    pub fn add_site(&mut self, content_url: &str, name: &str) -> String {
        if let Some(site) = self.state.sites.get(content_url) {
            return site.luid.clone();
        }
        let site = Site {
            luid: new_luid(),
            content_url: content_url.to_string(),
            name: name.to_string(),
            users: BTreeMap::new(),
            apps: BTreeMap::new(),
            eas: BTreeMap::new(),
            uat: BTreeMap::new(),
            pats: BTreeMap::new(),
            content: content::initial(content_url),
        };
        let luid = site.luid.clone();
        self.state.sites.insert(content_url.to_string(), site);
        luid
    }

    /// Adds a user to a site (by content URL) and returns its LUID; an existing user keeps
    /// its LUID (and gets the new password when one is given). `Err` if the site is unknown.
    pub fn add_user(
        &mut self,
        site: &str,
        username: &str,
        password: Option<&str>,
    ) -> Result<String, String> {
        let site = self.site_mut(site)?;
        let user = site
            .users
            .entry(username.to_string())
            .or_insert_with(|| User {
                luid: new_luid(),
                name: username.to_string(),
                password: None,
            });
        if let Some(p) = password {
            user.password = Some(p.to_string());
        }
        Ok(user.luid.clone())
    }

    /// Registers a direct-trust connected app on a site (by content URL). Calling it again
    /// with the same client id adds a second secret (or replaces the value of the same secret
    /// id) and updates the flags. `Err` if the site is unknown or the app would get a third
    /// secret (Tableau allows two).
    pub fn add_connected_app(
        &mut self,
        site: &str,
        client_id: &str,
        secret_id: &str,
        secret_value: &str,
        enabled: bool,
        on_demand_access: bool,
    ) -> Result<(), String> {
        let site = self.site_mut(site)?;
        let app = site
            .apps
            .entry(client_id.to_string())
            .or_insert_with(|| App {
                secrets: Vec::new(),
                enabled,
                on_demand_access,
            });
        if let Some(existing) = app.secrets.iter_mut().find(|(id, _)| id == secret_id) {
            existing.1 = secret_value.to_string();
        } else if app.secrets.len() >= 2 {
            return Err(format!(
                "connected app {client_id:?} already has two secrets (Tableau's limit)"
            ));
        } else {
            app.secrets
                .push((secret_id.to_string(), secret_value.to_string()));
        }
        app.enabled = enabled;
        app.on_demand_access = on_demand_access;
        Ok(())
    }

    /// Registers an external authorization server (a connected app with OAuth 2.0 trust) on a
    /// site (by content URL): JWTs whose claim `iss` is `issuer` are verified with
    /// `public_key_pem`, a SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`) of an RSA
    /// (2048 to 8192 bits), EC P-256 / P-384 or Ed25519 key, and their `aud` with `audience`.
    /// Calling it again for the same issuer adds a key (one already there is not added twice;
    /// the header `kid` does not pick the key: each key of the issuer whose type fits `alg` is
    /// tried) and sets the audience rule.
    /// `Err` if the site is unknown, the issuer empty, or the PEM does not parse or holds
    /// another kind of key; an RSA key under 2048 bits is refused here (Tableau: 10088).
    pub fn add_external_authorization_server(
        &mut self,
        site: &str,
        issuer: &str,
        public_key_pem: &str,
        audience: AudienceRule,
    ) -> Result<(), String> {
        if issuer.is_empty() {
            return Err("the issuer must not be empty".into());
        }
        let key = parse_public_key_pem(public_key_pem)?;
        let site = self.site_mut(site)?;
        let eas = site.eas.entry(issuer.to_string()).or_insert_with(|| Eas {
            keys: Vec::new(),
            audience,
            algorithms: vec!["RS256".to_string()],
        });
        if !eas.keys.contains(&key) {
            eas.keys.push(key);
        }
        eas.audience = audience;
        Ok(())
    }

    /// Lets an external authorization server sign with more algorithms than the RS256 that
    /// Tableau documents (for tests of our signer's other algorithms).
    pub fn allow_eas_algorithms(
        &mut self,
        site: &str,
        issuer: &str,
        algorithms: &[&str],
    ) -> Result<(), String> {
        if let Some(bad) = algorithms.iter().find(|a| eas_algorithm(a).is_none()) {
            return Err(format!("{bad:?} is not an algorithm an EAS can sign with"));
        }
        let eas = self
            .state
            .sites
            .get_mut(site)
            .and_then(|s| s.eas.get_mut(issuer))
            .ok_or_else(|| {
                format!("no external authorization server {issuer:?} on site {site:?}")
            })?;
        eas.algorithms = algorithms.iter().map(|a| a.to_string()).collect();
        Ok(())
    }

    /// Registers (or replaces) a unified-access-token configuration on a site (by content
    /// URL): sign-ins with `isUat="true"` and claim `iss` = `issuer` are verified with
    /// `public_key_pem` (SubjectPublicKeyInfo PEM of an RSA key, 2048 bits or more; RS256),
    /// need the claim `https://tableau.com/tenantId` = `tenant_id`, and sign in the user named
    /// by the claim `username_claim` (Tableau's default is `"email"`). `Err` if the site is
    /// unknown, a string is empty, or the key does not parse or is not RSA.
    pub fn add_uat_configuration(
        &mut self,
        site: &str,
        issuer: &str,
        public_key_pem: &str,
        tenant_id: &str,
        username_claim: &str,
    ) -> Result<(), String> {
        if issuer.is_empty() || tenant_id.is_empty() || username_claim.is_empty() {
            return Err("issuer, tenant id and username claim must not be empty".into());
        }
        let key = parse_public_key_pem(public_key_pem)?;
        if key.kind != KeyKind::Rsa {
            return Err("a UAT configuration needs an RSA key (UATs are RS256)".into());
        }
        let site = self.site_mut(site)?;
        site.uat.insert(
            issuer.to_string(),
            Uat {
                key,
                tenant_id: tenant_id.to_string(),
                username_claim: username_claim.to_string(),
            },
        );
        Ok(())
    }

    /// Adds (or replaces) a PAT for an existing user of a site. `Err` if the site or the
    /// user is unknown.
    pub fn add_pat(
        &mut self,
        site: &str,
        username: &str,
        name: &str,
        secret: &str,
    ) -> Result<(), String> {
        let site = self.site_mut(site)?;
        if !site.users.contains_key(username) {
            return Err(format!(
                "unknown user {username:?} on site {:?}",
                site.content_url
            ));
        }
        site.pats.insert(
            name.to_string(),
            Pat {
                username: username.to_string(),
                secret: secret.to_string(),
            },
        );
        Ok(())
    }

    /// Adds `count` workbooks to a site ("Workbook 004", … numbered on from the site's
    /// workbooks), spread over its projects, each with two views ("Summary", "Detail");
    /// returns their LUIDs. `Err` if the site is unknown.
    pub fn add_workbooks(&mut self, site: &str, count: usize) -> Result<Vec<String>, String> {
        let site = self.site_mut(site)?;
        let content_url = site.content_url.clone();
        Ok(content::add_generated_workbooks(
            &mut site.content,
            &content_url,
            count,
        ))
    }

    /// Adds a published data source (a certified extract, in the site's first project) and
    /// returns its LUID: `luid`, or a new one. `Err` if the site is unknown or the LUID is
    /// already a data source's on any site.
    pub fn add_datasource(
        &mut self,
        site: &str,
        name: &str,
        luid: Option<&str>,
    ) -> Result<String, String> {
        let luid = luid.map(str::to_string).unwrap_or_else(new_luid);
        let taken = self
            .state
            .sites
            .values()
            .any(|s| s.content.datasources.iter().any(|d| d.luid == luid));
        if taken {
            return Err(format!("data source LUID {luid:?} is already used"));
        }
        let site = self.site_mut(site)?;
        let content_url = site.content_url.clone();
        content::add_datasource(&mut site.content, &content_url, name, luid.clone());
        Ok(luid)
    }

    /// Enables or disables a connected app on every site that has it. Existing sessions
    /// are not affected.
    pub fn set_app_enabled(&mut self, client_id: &str, enabled: bool) {
        for site in self.state.sites.values_mut() {
            if let Some(app) = site.apps.get_mut(client_id) {
                app.enabled = enabled;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The Metadata API, VizQL Data Service and Pulse (see `metadata.rs`, `vds.rs`, `pulse.rs`)

impl Setup<'_> {
    /// Turns the Metadata API on or off (default on). Off, every query answers the GraphQL
    /// error `FEATURE_DISABLED`, as Tableau Server before `tsm maintenance metadata-services
    /// enable`.
    pub fn set_metadata_api_enabled(&mut self, enabled: bool) {
        self.state.apis.metadata.enabled = enabled;
    }

    /// When `true`, every Metadata API query answers `ACCESS_DENIED` ("You are not authorized
    /// to use the Metadata API").
    pub fn set_metadata_access_denied(&mut self, denied: bool) {
        self.state.apis.metadata.access_denied = denied;
    }

    /// When `true`, a Metadata API root field queried without a `filter` argument answers
    /// `FILTER_REQUIRED` (Tableau's rule for non-admin users; the fake has no site roles).
    pub fn set_metadata_filter_required(&mut self, required: bool) {
        self.state.apis.metadata.filter_required = required;
    }

    /// While `Some`, successful Metadata API answers carry the `BACKFILL_RUNNING` warning,
    /// placed as `placement` says; `None` removes it (the default).
    pub fn set_metadata_backfill_running(&mut self, placement: Option<BackfillWarning>) {
        self.state.apis.metadata.backfill = placement;
    }

    /// The LUID of the VizQL Data Service's published data source (on site `"mysite"`).
    pub fn vds_datasource_id(&self) -> String {
        self.state.apis.vds.datasource_luid.clone()
    }

    /// Grants (`true`, the default) or denies the API Access capability on a data source
    /// (by LUID) to every user; denied, VDS answers 403 / 403800. `Err` for an unknown LUID.
    pub fn set_vds_api_access(
        &mut self,
        datasource_luid: &str,
        allowed: bool,
    ) -> Result<(), String> {
        let vds = &mut self.state.apis.vds;
        if datasource_luid != vds.datasource_luid {
            return Err(format!(
                "no VizQL Data Service data source {datasource_luid:?}"
            ));
        }
        if allowed {
            vds.api_access_denied.remove(datasource_luid);
        } else {
            vds.api_access_denied.insert(datasource_luid.to_string());
        }
        Ok(())
    }

    /// `query-datasource` results of more than `limit` rows answer 400 / 400804 ("Response
    /// too large"); `None` (the default) sets no limit.
    pub fn set_vds_row_limit(&mut self, limit: Option<usize>) {
        self.state.apis.vds.row_limit = limit;
    }

    /// The number of Pulse metric definitions (default 36; each has 1 to 3 metrics). The
    /// first ones keep their ids; new ones get fresh ids.
    pub fn set_pulse_definition_count(&mut self, count: usize) {
        self.state.apis.pulse.set_count(count);
    }

    /// The ids of the Pulse metric definitions, in listing order.
    pub fn pulse_definition_ids(&self) -> Vec<String> {
        self.state
            .apis
            .pulse
            .definitions
            .iter()
            .map(|d| d.id.clone())
            .collect()
    }

    /// The ids of the metrics of a Pulse definition (the first is its default metric); `None`
    /// for an unknown definition.
    pub fn pulse_metric_ids(&self, definition_id: &str) -> Option<Vec<String>> {
        self.state
            .apis
            .pulse
            .definitions
            .iter()
            .find(|d| d.id == definition_id)
            .map(|d| d.metric_ids.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// Tableau Cloud Manager (see `tenant.rs`, `cloud_manager.rs`)

impl Setup<'_> {
    /// The tenant's id (a UUID, random per fake): what TCM's login answers as `tenantId`, what
    /// its paths name, and the tenant id a UAT's `https://tableau.com/tenantId` must carry.
    pub fn tenant_id(&self) -> String {
        self.state.tenant.id.clone()
    }

    /// Adds a user to the tenant (a cloud administrator when `cloud_admin`) and returns its id
    /// (uuid4); an existing user keeps its id and takes the new `cloud_admin`. `Err` for an
    /// empty username.
    pub fn add_cloud_manager_user(
        &mut self,
        username: &str,
        cloud_admin: bool,
    ) -> Result<String, String> {
        if username.is_empty() {
            return Err("the username must not be empty".into());
        }
        let user = self
            .state
            .tenant
            .users
            .entry(username.to_string())
            .or_insert_with(|| TcmUser {
                id: new_luid(),
                email: username.to_string(),
                cloud_admin,
            });
        user.cloud_admin = cloud_admin;
        Ok(user.id.clone())
    }

    /// Adds a TCM personal access token of a user of the tenant; a secret already registered
    /// now belongs to `username`. `Err` if the user is not the tenant's or the secret is empty.
    pub fn add_cloud_manager_pat(&mut self, username: &str, secret: &str) -> Result<(), String> {
        if secret.is_empty() {
            return Err("the PAT secret must not be empty".into());
        }
        let tenant = &mut self.state.tenant;
        if !tenant.users.contains_key(username) {
            return Err(format!(
                "unknown Tableau Cloud Manager user {username:?} (add_cloud_manager_user first)"
            ));
        }
        match tenant.pats.iter_mut().find(|p| p.secret == secret) {
            Some(pat) => pat.username = username.to_string(),
            None => tenant.pats.push(TcmPat {
                id: new_luid(),
                username: username.to_string(),
                secret: secret.to_string(),
            }),
        }
        Ok(())
    }

    /// Registers (or replaces) a tenant-level unified-access-token configuration, the one
    /// TCM's `jwt/login` checks: JWTs whose `iss` is `issuer` are verified with
    /// `public_key_pem` (SubjectPublicKeyInfo PEM of an RSA key, 2048 bits or more; RS256),
    /// need `https://tableau.com/tenantId` = [`Setup::tenant_id`], and log in the tenant user
    /// named by the claim `username_claim` (Tableau's default is `"email"`). A site's UAT
    /// configuration ([`Setup::add_uat_configuration`]) is separate: register both to use one
    /// issuer and key for a site sign-in and TCM. `Err` if a string is empty or the key does
    /// not parse or is not RSA.
    pub fn add_cloud_manager_uat_configuration(
        &mut self,
        issuer: &str,
        public_key_pem: &str,
        username_claim: &str,
    ) -> Result<(), String> {
        if issuer.is_empty() || username_claim.is_empty() {
            return Err("issuer and username claim must not be empty".into());
        }
        let key = parse_public_key_pem(public_key_pem)?;
        if key.kind != KeyKind::Rsa {
            return Err("a UAT configuration needs an RSA key (UATs are RS256)".into());
        }
        let tenant_id = self.state.tenant.id.clone();
        self.state.tenant.uat.insert(
            issuer.to_string(),
            Uat {
                key,
                tenant_id,
                username_claim: username_claim.to_string(),
            },
        );
        Ok(())
    }
}
