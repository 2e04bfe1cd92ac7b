//! Connected-app scopes as Tableau enforces them on the later calls of a JWT session.
//!
//! A session opened with a JWT may do only what its `scp` claim allows; Tableau answers a call
//! outside those scopes like a dead session: HTTP 401, code 401002. Sessions opened any other
//! way (PAT, password) are not limited by scopes.
//!
//! Each endpoint names the scopes that open it (any one of them is enough). A granted scope
//! matches a needed one exactly, or with `*` in place of the action (`tableau:workbooks:*`).
//! `tableau:*` and `tableau:*:*` are not documented; one report has them accepted at sign-in
//! and refused later, and so they match nothing here.
//!
//! This table is the fake's own, written from Tableau's documentation, never shared with the
//! client's: a client that guesses a scope wrong fails against it.

use super::responses::ApiError;
use super::state::Session;

// The scopes that open each GET endpoint (any one is enough). `tableau:content:read` opens GET
// on workbooks, views, data sources, projects and sites, not users; the per-resource read
// scopes are those the reference lists (workbooks, projects, sites and users have `read`;
// views and data sources have none, so only `tableau:content:read` opens them).

/// `GET sites`, `GET sites/{id}`.
pub(crate) const SITES_READ: &[&str] = &["tableau:content:read", "tableau:sites:read"];
/// `GET sites/{luid}/users`.
pub(crate) const USERS_READ: &[&str] = &["tableau:users:read"];
/// `GET sites/{luid}/projects`.
pub(crate) const PROJECTS_READ: &[&str] = &["tableau:content:read", "tableau:projects:read"];
/// `GET sites/{luid}/workbooks`, `GET sites/{luid}/workbooks/{luid}`.
pub(crate) const WORKBOOKS_READ: &[&str] = &["tableau:content:read", "tableau:workbooks:read"];
/// `GET sites/{luid}/views`.
pub(crate) const VIEWS_READ: &[&str] = &["tableau:content:read"];
/// `GET sites/{luid}/datasources`, `GET sites/{luid}/datasources/{luid}`.
pub(crate) const DATASOURCES_READ: &[&str] = &["tableau:content:read"];

/// Does a session with `granted` scopes pass an endpoint that needs one of `needed`?
pub(crate) fn allows(granted: &[String], needed: &[&str]) -> bool {
    needed.iter().any(|need| {
        granted.iter().any(|g| {
            g == need
                || match (g.strip_suffix(":*"), need.rsplit_once(':')) {
                    (Some(resource), Some((need_resource, _))) => {
                        resource == need_resource
                            && resource != "tableau"
                            && resource != "tableau:*"
                    }
                    _ => false,
                }
        })
    })
}

/// 401002 unless `session` may call an endpoint that needs one of `needed`.
pub(crate) fn require(session: &Session, needed: &[&str]) -> Result<(), ApiError> {
    match &session.scopes {
        Some(granted) if !allows(granted, needed) => Err(ApiError::invalid_token()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granted(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn exact_and_action_wildcards_match() {
        let need = ["tableau:content:read", "tableau:workbooks:read"];
        assert!(allows(&granted(&["tableau:content:read"]), &need));
        assert!(allows(
            &granted(&["tableau:views:embed", "tableau:workbooks:*"]),
            &need
        ));
        assert!(!allows(&granted(&["tableau:views:embed"]), &need));
        assert!(!allows(&granted(&["tableau:content:*x"]), &need));
        assert!(!allows(&granted(&["tableau:*"]), &need));
        assert!(!allows(&granted(&["tableau:*:*"]), &need));
        assert!(!allows(&granted(&[]), &need));
    }

    #[test]
    fn the_table_follows_the_spec() {
        let content = granted(&["tableau:content:read"]);
        for needed in [
            SITES_READ,
            PROJECTS_READ,
            WORKBOOKS_READ,
            VIEWS_READ,
            DATASOURCES_READ,
        ] {
            assert!(allows(&content, needed), "{needed:?}");
        }
        assert!(!allows(&content, USERS_READ));
        assert!(allows(&granted(&["tableau:users:*"]), USERS_READ));
        assert!(allows(&granted(&["tableau:projects:read"]), PROJECTS_READ));
        assert!(!allows(
            &granted(&["tableau:projects:read"]),
            WORKBOOKS_READ
        ));
        assert!(!allows(&granted(&["tableau:views:download"]), VIEWS_READ));
        assert!(!allows(
            &granted(&["tableau:datasources:update"]),
            DATASOURCES_READ
        ));
    }
}
