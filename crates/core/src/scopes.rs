//! Connected-app scopes: which scope a call needs, checking scope strings, and whether the
//! scopes a JWT asked for cover a call.
//!
//! A session opened with a JWT may do only what the JWT's `scp` allows, and Tableau answers a
//! call outside it like a dead session (HTTP 401, code 401002). The client signs in again once;
//! when the fresh session gets 401002 too, the table here names the scope the call needs.
//!
//! Sources, graded as in `spec/beyond-signin.md` §1–2: `tableau:content:read` opening GET on
//! workbooks, views, data sources, metrics, projects and sites, the Metadata API (Tableau Cloud
//! Oct 2023 / Server 2023.3), and VizQL Data Service's `tableau:viz_data_service:read` are
//! documented; the per-resource scopes come from a scrape of the REST reference (2026-09);
//! the Pulse scopes from Tableau's own tableau-mcp code. A call this table does not know gets
//! the scope its resource and HTTP method suggest, marked as a guess.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use super::error::{Error, MissingScope, Result, TableauFailure};

/// Which of Tableau's APIs a call is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    Rest,
    Metadata,
    VizqlDataService,
    Pulse,
}

impl Api {
    pub fn name(self) -> &'static str {
        match self {
            Api::Rest => "REST API",
            Api::Metadata => "Metadata API",
            Api::VizqlDataService => "VizQL Data Service",
            Api::Pulse => "Pulse",
        }
    }
}

/// The scopes one call needs: any one of `any_of` opens it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeNeed {
    pub api: Api,
    /// The method and the path with identifiers left out: "GET workbooks/{id}/views". Calls of
    /// one family need the same scopes.
    pub family: String,
    pub any_of: Vec<String>,
    /// The first release where these scopes open this call, when documented.
    pub since: Option<&'static str>,
    /// False when the table does not know the call and `any_of` is what its resource and
    /// method suggest.
    pub known: bool,
}

impl ScopeNeed {
    /// Calls with the same key stand or fall together on a JWT session: those that need the
    /// same scopes (or, for a call the table does not know, the same family).
    pub fn key(&self) -> String {
        if self.known && !self.any_of.is_empty() {
            self.any_of.join(" ")
        } else {
            self.family.clone()
        }
    }
}

const CONTENT_READ: &str = "tableau:content:read";
const CONTENT_READ_SINCE: &str = "Tableau Cloud June 2022 / Tableau Server 2022.3";

/// Content types whose GET methods `tableau:content:read` opens, with whether the resource
/// also has a `read` scope of its own.
const CONTENT_TYPES: &[(&str, bool)] = &[
    ("workbooks", true),
    ("views", false),
    ("datasources", false),
    ("metrics", false),
    ("projects", true),
    ("sites", true),
];

/// REST path segments whose scope resource is spelled differently.
const RESOURCE_NAMES: &[(&str, &str)] = &[
    ("dataAlerts", "data_driven_alerts"),
    ("virtualconnections", "virtual_connections"),
    ("connected-applications", "connected_apps_direct_trust"),
    (
        "external-authorization-servers",
        "external_authorization_servers",
    ),
    ("fileUploads", "file_uploads"),
];

/// Last path segments that download what the resource holds.
const DOWNLOADS: &[&str] = &[
    "content",
    "image",
    "pdf",
    "data",
    "crosstab",
    "excel",
    "powerpoint",
    "previewImage",
];

/// Per-type tag scopes: `workbooks/{id}/tags` needs `workbook_tags:…`.
const TAGGED: &[(&str, &str)] = &[
    ("workbooks", "workbook_tags"),
    ("datasources", "datasource_tags"),
    ("views", "view_tags"),
    ("flows", "flow_tags"),
];

/// The scopes a call needs. `path` is a URL path (`/api/3.24/sites/{luid}/workbooks`,
/// `/api/metadata/graphql`, `/api/-/pulse/definitions`, …) or a path relative to the site
/// (`workbooks/{id}/views`), as `Client.request` takes it.
pub fn needed(method: &str, path: &str) -> ScopeNeed {
    let method = method.to_ascii_uppercase();
    let path = path.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["api", "metadata", "graphql", ..] => special(
            Api::Metadata,
            &method,
            "metadata/graphql",
            &[CONTENT_READ],
            Some("Tableau Cloud October 2023 / Tableau Server 2023.3"),
        ),
        ["api", _, "vizql-data-service", rest @ ..] => special(
            Api::VizqlDataService,
            &method,
            &format!("vizql-data-service/{}", rest.join("/")),
            &["tableau:viz_data_service:read"],
            Some("Tableau Cloud February 2025 / Tableau Server 2025.1"),
        ),
        ["api", "-", "pulse", rest @ ..] => pulse(&method, rest),
        ["api", _version, "sites", _site, rest @ ..] if !rest.is_empty() => {
            rest_need(&method, rest)
        }
        ["api", _version, rest @ ..] => rest_need(&method, rest),
        rest => rest_need(&method, rest),
    }
}

/// The need of a call of one of the APIs beside REST.
fn special(
    api: Api,
    method: &str,
    family: &str,
    any_of: &[&str],
    since: Option<&'static str>,
) -> ScopeNeed {
    ScopeNeed {
        api,
        family: format!("{method} {family}"),
        any_of: any_of.iter().map(|s| s.to_string()).collect(),
        since,
        known: true,
    }
}

/// Pulse (`/api/-/pulse/…`), from Tableau's tableau-mcp: definitions and their metrics open
/// with `insight_definitions_metrics:read`, metrics also with `insight_metrics:read`.
fn pulse(method: &str, rest: &[&str]) -> ScopeNeed {
    let family = generic_family(rest);
    let first = rest.first().map(|s| s.split(':').next().unwrap_or(s));
    let batch_get = rest.last().is_some_and(|s| s.ends_with(":batchGet"));
    let reads = method == "GET" || batch_get;
    let any_of: &[&str] = match (first, reads, method) {
        (Some("definitions"), true, _) => &["tableau:insight_definitions_metrics:read"],
        (Some("metrics"), true, _) => &[
            "tableau:insight_metrics:read",
            "tableau:insight_definitions_metrics:read",
        ],
        (Some("subscriptions"), true, _) => &["tableau:metric_subscriptions:read"],
        (Some("subscriptions"), false, "POST") => &["tableau:metric_subscriptions:create"],
        (Some("subscriptions"), false, "DELETE") => &["tableau:metric_subscriptions:delete"],
        (Some("insights"), _, _) => &["tableau:insights:read"],
        (Some("definitions"), false, "POST") => &["tableau:insight_definitions:create"],
        (Some("definitions"), false, "PATCH" | "PUT") => &["tableau:insight_definitions:update"],
        (Some("definitions"), false, "DELETE") => &["tableau:insight_definitions:delete"],
        (Some("metrics"), false, "POST") => &["tableau:insight_metrics:create"],
        (Some("metrics"), false, "PATCH" | "PUT") => &["tableau:insight_metrics:update"],
        (Some("metrics"), false, "DELETE") => &["tableau:insight_metrics:delete"],
        _ => &[],
    };
    ScopeNeed {
        known: !any_of.is_empty(),
        ..special(Api::Pulse, method, &format!("pulse/{family}"), any_of, None)
    }
}

/// A REST call, by its resource (`segments` start after `sites/{luid}/`, or after the version
/// for server-level paths).
fn rest_need(method: &str, segments: &[&str]) -> ScopeNeed {
    let family = format!("{method} {}", generic_family(segments));
    let action = match method {
        "GET" | "HEAD" => "read",
        "POST" => "create",
        "PUT" | "PATCH" => "update",
        "DELETE" => "delete",
        _ => "read",
    };
    let need = |any_of: Vec<String>, since: Option<&'static str>, known: bool| ScopeNeed {
        api: Api::Rest,
        family: family.clone(),
        any_of,
        since,
        known,
    };
    let Some(first) = segments.first().copied() else {
        return need(Vec::new(), None, false);
    };
    let last = segments.last().copied().unwrap_or(first);
    // Site-wide tag batches: `tags:batchCreate`, `tags:batchDelete`.
    if let Some(batch) = first.strip_prefix("tags:") {
        let scope = match batch {
            "batchCreate" => "tableau:tags:batch_create",
            "batchDelete" => "tableau:tags:batch_delete",
            _ => return need(Vec::new(), None, false),
        };
        return need(vec![scope.into()], None, true);
    }
    match first {
        "auth" if last == "switchSite" => {
            return need(vec!["tableau:sites:switch".into()], None, true)
        }
        "sessions" if method == "DELETE" => {
            return need(vec!["tableau:sessions:delete".into()], None, true)
        }
        "serverinfo" | "serverInfo" | "auth" => return need(Vec::new(), None, true),
        _ => {}
    }
    let resource = if first == "connected-apps"
        && segments.get(1) == Some(&"external-authorization-servers")
    {
        "external_authorization_servers"
    } else {
        RESOURCE_NAMES
            .iter()
            .find(|(segment, _)| *segment == first)
            .map_or(first, |(_, name)| name)
    };
    if segments.contains(&"permissions") {
        return need(vec![format!("tableau:permissions:{action}")], None, true);
    }
    if segments.get(2) == Some(&"tags") {
        if let Some((_, tags)) = TAGGED.iter().find(|(t, _)| *t == first) {
            let action = if method == "DELETE" {
                "delete"
            } else {
                "update"
            };
            return need(vec![format!("tableau:{tags}:{action}")], None, true);
        }
    }
    if segments.len() >= 2 && DOWNLOADS.contains(&last) && method == "GET" {
        return need(vec![format!("tableau:{resource}:download")], None, true);
    }
    match (resource, last) {
        ("flows", "run") => return need(vec!["tableau:flows:run".into()], None, true),
        ("tasks", "runNow") => return need(vec!["tableau:tasks:run".into()], None, true),
        ("webhooks", "test") => return need(vec!["tableau:webhooks:test".into()], None, true),
        ("jobs", _) if action == "read" => {
            return need(
                vec!["tableau:jobs:read".into()],
                Some("REST API 3.25"),
                true,
            )
        }
        _ => {}
    }
    if action == "read" {
        if let Some((_, own_read)) = CONTENT_TYPES.iter().find(|(t, _)| *t == resource) {
            let mut any_of = vec![CONTENT_READ.to_string()];
            if *own_read {
                any_of.push(format!("tableau:{resource}:read"));
            }
            return need(any_of, Some(CONTENT_READ_SINCE), true);
        }
    }
    let known = KNOWN_RESOURCES.contains(&resource);
    need(vec![format!("tableau:{resource}:{action}")], None, known)
}

/// Resources with scopes in the REST reference (besides the content types above).
const KNOWN_RESOURCES: &[&str] = &[
    "workbooks",
    "views",
    "datasources",
    "flows",
    "projects",
    "metrics",
    "collections",
    "favorites",
    "users",
    "groups",
    "groupsets",
    "sites",
    "tasks",
    "jobs",
    "schedules",
    "extracts",
    "webhooks",
    "data_driven_alerts",
    "virtual_connections",
    "connected_apps_direct_trust",
    "external_authorization_servers",
    "file_uploads",
    "labels",
];

/// A path's family: its segments with identifiers replaced by `{id}`.
fn generic_family(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|s| if is_identifier(s) { "{id}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// LUIDs, numbers and other ids: Tableau's resource names have no digits, its ids have.
fn is_identifier(segment: &str) -> bool {
    segment.bytes().any(|b| b.is_ascii_digit())
}

/// Does one of `asked` cover one of `any_of`? A scope matches itself, and `tableau:res:*`
/// matches every action on `res`.
pub fn covers(asked: &[String], any_of: &[String]) -> bool {
    any_of.iter().any(|need| {
        asked.iter().any(|a| {
            a == need
                || match (a.strip_suffix(":*"), need.rsplit_once(':')) {
                    (Some(res), Some((need_res, _))) => res == need_res && !res.ends_with('*'),
                    _ => false,
                }
        })
    })
}

/// The error for `call` (of family `need`) answering `failure` (401002) again on a fresh
/// session of a credential whose JWT asks for `asked`, with a hint that says what to change.
pub fn missing_scope(
    call: String,
    mut failure: TableauFailure,
    need: &ScopeNeed,
    asked: Option<&[String]>,
) -> Error {
    let since = need
        .since
        .map(|s| format!(" (they open it since {s})"))
        .unwrap_or_default();
    let wanted = if need.any_of.is_empty() {
        "the scope it needs is not in this package's table: see the method's \"Access Scope\" \
         line in Tableau's reference"
            .to_string()
    } else if need.any_of.len() == 1 {
        format!(
            "this {} call needs {}{since}",
            need.api.name(),
            need.any_of[0]
        )
    } else {
        format!(
            "this {} call needs one of {}{since}",
            need.api.name(),
            need.any_of.join(", ")
        )
    };
    let asked_text = match asked {
        Some(a) => format!("this credential's JWT asks for {}", a.join(", ")),
        None => "check the scp claim of the JWT you pass to Jwt(...)".to_string(),
    };
    let advice = match asked {
        Some(a) if covers(a, &need.any_of) => {
            "so the connected app may not allow that scope, the server may be older than the \
             release that opened this call to it, or this method may not accept connected-app \
             sessions"
        }
        _ if need.known => {
            "add one to scopes=[...] (and to the connected app's allowed scopes, if it limits them)"
        }
        _ => "add the scope the reference names to scopes=[...]",
    };
    failure.hint = format!(
        "the session's JWT lacks a scope (Tableau answers a missing scope like a dead \
         session): {wanted}; {asked_text}; {advice}"
    );
    Error::MissingScope(Box::new(MissingScope {
        failure,
        call,
        api: need.api.name(),
        needed: need.any_of.clone(),
        asked: asked.map(<[String]>::to_vec),
        since: need.since,
    }))
}

/// `tableau:*` and `tableau:<anything>` with `*` as the resource: wildcards Tableau does not
/// document (they replace the action only).
fn is_undocumented_wildcard(scope: &str) -> bool {
    let parts: Vec<&str> = scope.split(':').collect();
    scope == "tableau:*" || (parts.len() == 3 && parts[0] == "tableau" && parts[1] == "*")
}

/// The undocumented wildcards among `scopes` (`tableau:*`, `tableau:*:*`), which the bindings
/// warn about once ([`first_sightings`]).
pub fn undocumented_wildcards(scopes: &[String]) -> Vec<String> {
    scopes
        .iter()
        .filter(|s| is_undocumented_wildcard(s))
        .cloned()
        .collect()
}

/// Check scope strings when credentials are made: `tableau:<resource>:<action>` (undocumented
/// wildcards pass: [`undocumented_wildcards`]).
pub fn check(scopes: &[String]) -> Result<()> {
    if scopes.is_empty() {
        return Err(Error::Configuration(
            "scopes is empty: Tableau refuses a JWT without scopes (10099); pass e.g. \
             scopes=[\"tableau:content:read\"]"
                .into(),
        ));
    }
    for s in scopes.iter().filter(|s| !is_undocumented_wildcard(s)) {
        let parts: Vec<&str> = s.split(':').collect();
        let well_formed = parts.len() >= 3
            && parts[0] == "tableau"
            && parts.iter().all(|p| !p.is_empty())
            && !parts[1].contains('*')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.*:".contains(c));
        if !well_formed {
            return Err(Error::Configuration(format!(
                "scope {s:?} is malformed: scopes look like \"tableau:<resource>:<action>\", \
                 e.g. \"tableau:content:read\" or \"tableau:views:embed\""
            )));
        }
    }
    Ok(())
}

/// Of `wildcards`, those not yet warned about in this process (each is reported once).
pub fn first_sightings(wildcards: Vec<String>) -> Vec<String> {
    static WARNED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let mut warned = WARNED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    wildcards
        .into_iter()
        .filter(|w| warned.insert(w.clone()))
        .collect()
}

/// The warning for an undocumented wildcard scope.
pub fn wildcard_warning(scope: &str) -> String {
    format!(
        "scope {scope:?} is not documented by Tableau: wildcards replace only the action \
         (e.g. \"tableau:projects:*\"); one report has {scope:?} accepted at sign-in and \
         refused on later calls. Name the scopes the calls need (tca.scopes_for(method, path))"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn rest_content_reads_open_with_content_read() {
        let n = needed("GET", "/api/3.24/sites/abc-123/workbooks");
        assert_eq!(n.api, Api::Rest);
        assert_eq!(
            n.any_of,
            s(&["tableau:content:read", "tableau:workbooks:read"])
        );
        assert_eq!(n.family, "GET workbooks");
        assert!(n.known);
        let n = needed("get", "datasources");
        assert_eq!(n.any_of, s(&["tableau:content:read"]));
        let n = needed("GET", "/api/3.24/sites");
        assert_eq!(n.any_of, s(&["tableau:content:read", "tableau:sites:read"]));
    }

    #[test]
    fn families_leave_out_identifiers() {
        let a = needed(
            "GET",
            "workbooks/9f8e7d6c-0000-4000-8000-000000000001/views",
        );
        let b = needed(
            "GET",
            "/api/3.27/sites/x1/workbooks/1111aaaa-0000-4000-8000-0000000000ff/views",
        );
        assert_eq!(a.family, "GET workbooks/{id}/views");
        assert_eq!(a.family, b.family);
        assert_ne!(a.family, needed("POST", "workbooks").family);
    }

    #[test]
    fn actions_follow_the_method_and_the_path() {
        assert_eq!(needed("GET", "users").any_of, s(&["tableau:users:read"]));
        assert_eq!(needed("POST", "users").any_of, s(&["tableau:users:create"]));
        assert_eq!(
            needed("DELETE", "projects/p1").any_of,
            s(&["tableau:projects:delete"])
        );
        assert_eq!(
            needed("GET", "workbooks/w1/content").any_of,
            s(&["tableau:workbooks:download"])
        );
        assert_eq!(
            needed("GET", "views/v1/data").any_of,
            s(&["tableau:views:download"])
        );
        assert_eq!(
            needed("POST", "flows/f1/run").any_of,
            s(&["tableau:flows:run"])
        );
        assert_eq!(
            needed("PUT", "workbooks/w1/tags").any_of,
            s(&["tableau:workbook_tags:update"])
        );
        assert_eq!(
            needed("GET", "projects/p1/permissions").any_of,
            s(&["tableau:permissions:read"])
        );
        assert_eq!(needed("GET", "jobs").since, Some("REST API 3.25"));
        assert_eq!(
            needed("GET", "dataAlerts").any_of,
            s(&["tableau:data_driven_alerts:read"])
        );
        assert_eq!(
            needed("POST", "/api/3.24/auth/switchSite").any_of,
            s(&["tableau:sites:switch"])
        );
        assert!(!needed("GET", "somethingNew").known);
    }

    #[test]
    fn the_other_apis_have_their_own_scopes() {
        let m = needed("POST", "/api/metadata/graphql");
        assert_eq!(
            (m.api, m.any_of.clone()),
            (Api::Metadata, s(&["tableau:content:read"]))
        );
        let v = needed("POST", "/api/v1/vizql-data-service/query-datasource");
        assert_eq!(v.api, Api::VizqlDataService);
        assert_eq!(v.any_of, s(&["tableau:viz_data_service:read"]));
        let p = needed("GET", "/api/-/pulse/definitions");
        assert_eq!(p.any_of, s(&["tableau:insight_definitions_metrics:read"]));
        let p = needed("POST", "/api/-/pulse/definitions:batchGet");
        assert_eq!(p.any_of, s(&["tableau:insight_definitions_metrics:read"]));
        let p = needed("POST", "/api/-/pulse/metrics:batchGet");
        assert!(p
            .any_of
            .contains(&"tableau:insight_metrics:read".to_string()));
        assert_eq!(
            needed("GET", "/api/-/pulse/subscriptions").any_of,
            s(&["tableau:metric_subscriptions:read"])
        );
    }

    #[test]
    fn calls_that_need_the_same_scopes_share_a_key() {
        let read = needed("POST", "/api/v1/vizql-data-service/read-metadata");
        let query = needed("POST", "/api/v1/vizql-data-service/query-datasource");
        assert_ne!(read.family, query.family);
        assert_eq!(read.key(), query.key());
        assert_ne!(
            needed("GET", "workbooks").key(),
            needed("GET", "users").key()
        );
        // Unknown calls fall back to their family.
        let unknown = needed("GET", "somethingNew/x1");
        assert_eq!(unknown.key(), "GET somethingNew/{id}");
    }

    #[test]
    fn asked_scopes_cover_with_action_wildcards_only() {
        let need = s(&["tableau:content:read", "tableau:workbooks:read"]);
        assert!(covers(&s(&["tableau:content:read"]), &need));
        assert!(covers(&s(&["tableau:workbooks:*"]), &need));
        assert!(!covers(&s(&["tableau:views:embed"]), &need));
        assert!(!covers(&s(&["tableau:*:*"]), &need));
        assert!(!covers(&s(&["tableau:*"]), &need));
    }

    #[test]
    fn scope_strings_are_checked() {
        assert!(check(&s(&[])).is_err());
        assert!(check(&s(&["content:read"])).is_err());
        assert!(check(&s(&["tableau:content"])).is_err());
        assert!(check(&s(&["tableau::read"])).is_err());
        assert!(check(&s(&["tableau:con tent:read"])).is_err());
        assert!(check(&s(&["tableau:*x:read"])).is_err());
        let fine = s(&["tableau:projects:*"]);
        assert!(check(&fine).is_ok());
        assert_eq!(undocumented_wildcards(&fine), Vec::<String>::new());
        let wild = s(&["tableau:*", "tableau:*:*", "tableau:content:read"]);
        assert!(check(&wild).is_ok());
        assert_eq!(
            undocumented_wildcards(&wild),
            s(&["tableau:*", "tableau:*:*"])
        );
    }

    #[test]
    fn each_wildcard_is_reported_once() {
        let w = s(&["tableau:*:*", "tableau:*:*"]);
        let first = first_sightings(w.clone());
        assert!(first.len() <= 1);
        assert!(first_sightings(w).is_empty());
    }
}
