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

fn session_from_xml(doc: &[u8]) -> Result<CurrentSession, Fail> {
    use Tag::{Session as S, Site, TsResponse as R, User};
    let mut done = false;
    let (mut site_seen, mut site_id, mut site_name, mut content_url) = (false, None, None, None);
    let (mut user_seen, mut user_id, mut user_name, mut site_role) = (false, None, None, None);
    walk_xml(doc, |step| {
        match step {
            XmlStep::Open([R, S, Site], start) if !site_seen => {
                site_seen = true;
                let [id, url, name] = attrs(start, ["id", "contentUrl", "name"])?;
                site_id = owned(id);
                content_url = owned(url);
                site_name = owned(name);
            }
            XmlStep::Open([R, S, User], start) if !user_seen => {
                user_seen = true;
                let [id, name, role] = attrs(start, ["id", "name", "siteRole"])?;
                user_id = owned(id);
                user_name = owned(name);
                site_role = owned(role);
            }
            XmlStep::Close([R, S]) => done = true,
            _ => {}
        }
        Ok(done)
    })?;
    if !done {
        return Err(Fail::Missing("session"));
    }
    Ok(CurrentSession {
        site_id: required(site_id, MISSING_SITE_ID)?,
        site_name: site_name.filter(|n| !n.is_empty()),
        site_content_url: content_url.unwrap_or_default(),
        user_id: required(user_id, MISSING_USER_ID)?,
        user_name: user_name.filter(|n| !n.is_empty()),
        user_site_role: site_role.filter(|r| !r.is_empty()),
    })
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
    let session = parsed.session.0.ok_or(Fail::Missing("session"))?;
    let (site_id, site_name, content_url) = match session.site.0 {
        Some(site) => (
            site.id.into_string(),
            site.name.into_string(),
            site.content_url.into_string(),
        ),
        None => (None, None, None),
    };
    let (user_id, user_name, site_role) = match session.user.0 {
        Some(user) => (
            user.id.into_string(),
            user.name.into_string(),
            user.site_role.into_string(),
        ),
        None => (None, None, None),
    };
    Ok(CurrentSession {
        site_id: required(site_id, MISSING_SITE_ID)?,
        site_name: site_name.filter(|n| !n.is_empty()),
        site_content_url: content_url.unwrap_or_default(),
        user_id: required(user_id, MISSING_USER_ID)?,
        user_name: user_name.filter(|n| !n.is_empty()),
        user_site_role: site_role.filter(|r| !r.is_empty()),
    })
}
