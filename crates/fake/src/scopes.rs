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
    use super::allows;

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
}
