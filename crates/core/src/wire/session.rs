//! The answer of `GET sessions/current`: the site and the user a session token belongs to.
//! The one reader of it: the Python package (`tableau-auth whoami`) reads it through the
//! binding's `Response.current_session()`.

use serde::Deserialize;

use super::answers::{read, required, SiteJson, UserJson, MISSING_SITE_ID, MISSING_USER_ID};
use super::error::{Fail, WireError};
use super::json::{from_json, Obj};
use super::xml::{attrs, owned, walk_xml, Tag, XmlStep};

/// The `<session>` of `GET sessions/current`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentSession {
    /// The site LUID (required).
    pub site_id: String,
    /// The site's display name, if given.
    pub site_name: Option<String>,
    /// The site's URL name; `""` for the default site or when absent.
    pub site_content_url: String,
    /// The user LUID (required).
    pub user_id: String,
    /// The user name, if given.
    pub user_name: Option<String>,
    /// The user's site role (`"Creator"`, `"Explorer"`, …), if given.
    pub user_site_role: Option<String>,
}

/// Parses the answer of `GET sessions/current` (XML or JSON, sniffed).
///
/// XML: `tsResponse/session/site` (`@id`, `@contentUrl`, `@name`) and `tsResponse/session/user`
/// (`@id`, `@name`, `@siteRole`); JSON: `{"session":{"site":{…},"user":{…}}}` with the same
/// names. Requires a non-empty site and user id; empty names and roles are absent.
pub fn parse_current_session(body: &[u8]) -> Result<CurrentSession, WireError> {
    read(body, session_from_xml, session_from_json)
}

const MISSING_SESSION: Fail = Fail::Missing("session");

/// What a body gave, before the checks.
#[derive(Default)]
struct Found {
    site_id: Option<String>,
    site_name: Option<String>,
    content_url: Option<String>,
    user_id: Option<String>,
    user_name: Option<String>,
    site_role: Option<String>,
}

impl Found {
    /// The session, if it has a site and a user id; empty names and roles are absent.
    fn into_session(self) -> Result<CurrentSession, Fail> {
        let given = |value: Option<String>| value.filter(|v| !v.is_empty());
        Ok(CurrentSession {
            site_id: required(self.site_id, MISSING_SITE_ID)?,
            site_name: given(self.site_name),
            site_content_url: self.content_url.unwrap_or_default(),
            user_id: required(self.user_id, MISSING_USER_ID)?,
            user_name: given(self.user_name),
            user_site_role: given(self.site_role),
        })
    }
}

fn session_from_xml(doc: &[u8]) -> Result<CurrentSession, Fail> {
    use Tag::{Session as S, Site, TsResponse as R, User};
    let mut found = Found::default();
    let (mut done, mut site_seen, mut user_seen) = (false, false, false);
    walk_xml(doc, |step| {
        match step {
            XmlStep::Open([R, S, Site], start) if !site_seen => {
                site_seen = true;
                let [id, url, name] = attrs(start, ["id", "contentUrl", "name"])?;
                (found.site_id, found.content_url) = (owned(id), owned(url));
                found.site_name = owned(name);
            }
            XmlStep::Open([R, S, User], start) if !user_seen => {
                user_seen = true;
                let [id, name, role] = attrs(start, ["id", "name", "siteRole"])?;
                (found.user_id, found.user_name) = (owned(id), owned(name));
                found.site_role = owned(role);
            }
            XmlStep::Close([R, S]) => done = true,
            _ => {}
        }
        Ok(done)
    })?;
    if !done {
        return Err(MISSING_SESSION);
    }
    found.into_session()
}

#[derive(Deserialize)]
struct SessionJson<'a> {
    #[serde(borrow, default)]
    session: Obj<SessionFieldsJson<'a>>,
}

#[derive(Deserialize)]
struct SessionFieldsJson<'a> {
    #[serde(borrow, default)]
    site: Obj<SiteJson<'a>>,
    #[serde(borrow, default)]
    user: Obj<UserJson<'a>>,
}

fn session_from_json(doc: &[u8]) -> Result<CurrentSession, Fail> {
    let parsed: SessionJson<'_> = from_json(doc, "session")?;
    let session = parsed.session.0.ok_or(MISSING_SESSION)?;
    let mut found = Found::default();
    if let Some(site) = session.site.0 {
        found.site_id = site.id.into_string();
        found.site_name = site.name.into_string();
        found.content_url = site.content_url.into_string();
    }
    if let Some(user) = session.user.0 {
        found.user_id = user.id.into_string();
        found.user_name = user.name.into_string();
        found.site_role = user.site_role.into_string();
    }
    found.into_session()
}
