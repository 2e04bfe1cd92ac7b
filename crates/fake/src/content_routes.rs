//! The content endpoints (all `GET`, all with a session): sites, and a site's users, projects,
//! workbooks, views and data sources, paged. Each checks, in order: the session's scopes
//! (`scopes.rs`, 401002), that a site-scoped path names the session's site (403000), the
//! paging parameters (`paging.rs`), and then the item asked for (404).

use super::content_bodies::{
    datasource_body, datasources_body, projects_body, site_body, sites_body, users_body,
    views_body, workbook_body, workbooks_body,
};
use super::model::{Site, Stats};
use super::paging::Page;
use super::responses::{ApiError, Format};
use super::scopes;
use super::state::{Session, State};

/// A content path (after `/api/{version}/`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ContentRoute {
    /// `sites`: the sites the user is a member of.
    Sites,
    /// `sites/{id}`; with `?key=name` or `?key=contentUrl`, the segment is that instead.
    Site(String),
    /// `sites/{luid}/users`.
    Users(String),
    /// `sites/{luid}/projects`.
    Projects(String),
    /// `sites/{luid}/workbooks`.
    Workbooks(String),
    /// `sites/{luid}/workbooks/{luid}`.
    Workbook(String, String),
    /// `sites/{luid}/views`.
    Views(String),
    /// `sites/{luid}/datasources`.
    Datasources(String),
    /// `sites/{luid}/datasources/{luid}`.
    Datasource(String, String),
}

impl ContentRoute {
    pub fn parse(rest: &str) -> Option<ContentRoute> {
        let owned = |s: &str| s.to_string();
        let route = match rest.split('/').collect::<Vec<_>>()[..] {
            ["sites"] => ContentRoute::Sites,
            ["sites", id] if !id.is_empty() => ContentRoute::Site(owned(id)),
            ["sites", site, what] if !site.is_empty() => match what {
                "users" => ContentRoute::Users(owned(site)),
                "projects" => ContentRoute::Projects(owned(site)),
                "workbooks" => ContentRoute::Workbooks(owned(site)),
                "views" => ContentRoute::Views(owned(site)),
                "datasources" => ContentRoute::Datasources(owned(site)),
                _ => return None,
            },
            ["sites", site, what, id] if !site.is_empty() && !id.is_empty() => match what {
                "workbooks" => ContentRoute::Workbook(owned(site), owned(id)),
                "datasources" => ContentRoute::Datasource(owned(site), owned(id)),
                _ => return None,
            },
            _ => return None,
        };
        Some(route)
    }

    /// The counter of this route in [`Stats`].
    pub fn counter<'a>(&self, stats: &'a mut Stats) -> &'a mut u64 {
        match self {
            ContentRoute::Sites | ContentRoute::Site(_) => &mut stats.sites,
            ContentRoute::Users(_) => &mut stats.users,
            ContentRoute::Projects(_) => &mut stats.projects,
            ContentRoute::Workbooks(_) | ContentRoute::Workbook(..) => &mut stats.workbooks,
            ContentRoute::Views(_) => &mut stats.views,
            ContentRoute::Datasources(_) | ContentRoute::Datasource(..) => &mut stats.datasources,
        }
    }

    /// The scopes that open this route (any one of them).
    fn scopes(&self) -> &'static [&'static str] {
        match self {
            ContentRoute::Sites | ContentRoute::Site(_) => scopes::SITES_READ,
            ContentRoute::Users(_) => scopes::USERS_READ,
            ContentRoute::Projects(_) => scopes::PROJECTS_READ,
            ContentRoute::Workbooks(_) | ContentRoute::Workbook(..) => scopes::WORKBOOKS_READ,
            ContentRoute::Views(_) => scopes::VIEWS_READ,
            ContentRoute::Datasources(_) | ContentRoute::Datasource(..) => scopes::DATASOURCES_READ,
        }
    }

    /// The site LUID of a site-scoped path.
    fn site_luid(&self) -> Option<&str> {
        match self {
            ContentRoute::Sites | ContentRoute::Site(_) => None,
            ContentRoute::Users(s)
            | ContentRoute::Projects(s)
            | ContentRoute::Workbooks(s)
            | ContentRoute::Workbook(s, _)
            | ContentRoute::Views(s)
            | ContentRoute::Datasources(s)
            | ContentRoute::Datasource(s, _) => Some(s),
        }
    }
}

/// The body of a successful answer for `session` (status 200), or Tableau's error.
pub(crate) fn answer(
    st: &State,
    session: &Session,
    route: &ContentRoute,
    query: Option<&str>,
    format: Format,
) -> Result<String, ApiError> {
    scopes::require(session, route.scopes())?;
    if let Some(luid) = route.site_luid() {
        if luid != session.site_luid {
            return Err(ApiError::site_mismatch(
                &session.username,
                &session.site_luid,
                luid,
            ));
        }
    }
    let own_site = || {
        st.site_by_luid(&session.site_luid)
            .ok_or_else(ApiError::invalid_token)
    };
    match route {
        ContentRoute::Sites => {
            let page = Page::from_query(query)?;
            let visible: Vec<&Site> = st
                .sites
                .values()
                .filter(|s| s.users.contains_key(&session.username))
                .collect();
            Ok(sites_body(format, page, &visible))
        }
        ContentRoute::Site(key) => {
            let site = find_site(st, key, query)?;
            if site.luid != session.site_luid {
                return Err(ApiError::site_mismatch(
                    &session.username,
                    &session.site_luid,
                    &site.luid,
                ));
            }
            Ok(site_body(format, site))
        }
        ContentRoute::Users(_) => Ok(users_body(format, Page::from_query(query)?, own_site()?)),
        ContentRoute::Projects(_) => {
            Ok(projects_body(format, Page::from_query(query)?, own_site()?))
        }
        ContentRoute::Workbooks(_) => Ok(workbooks_body(
            format,
            Page::from_query(query)?,
            own_site()?,
        )),
        ContentRoute::Views(_) => Ok(views_body(format, Page::from_query(query)?, own_site()?)),
        ContentRoute::Datasources(_) => Ok(datasources_body(
            format,
            Page::from_query(query)?,
            own_site()?,
        )),
        ContentRoute::Workbook(_, id) => {
            let site = own_site()?;
            let wb = site
                .content
                .workbooks
                .iter()
                .find(|w| w.luid == *id)
                .ok_or_else(|| not_found("404006", "Workbook", id))?;
            Ok(workbook_body(format, site, wb))
        }
        ContentRoute::Datasource(_, id) => {
            let site = own_site()?;
            let ds = site
                .content
                .datasources
                .iter()
                .find(|d| d.luid == *id)
                .ok_or_else(|| not_found("404011", "Datasource", id))?;
            Ok(datasource_body(format, site, ds))
        }
    }
}

/// The site named by the path segment and the `key` query parameter (`id`, the default;
/// `name`; `contentUrl`). An unknown key is 400000; no such site, 404000.
fn find_site<'a>(st: &'a State, segment: &str, query: Option<&str>) -> Result<&'a Site, ApiError> {
    let key = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "key")
        .map(|(_, v)| v.into_owned());
    let segment = percent_decode(segment);
    let found = match key.as_deref() {
        None | Some("id") => st.site_by_luid(&segment),
        Some("name") => st.sites.values().find(|s| s.name == segment),
        Some("contentUrl") => st.sites.get(&segment),
        Some(other) => {
            return Err(ApiError::bad_request(&format!(
                "The key '{other}' is not one of id, name, contentUrl."
            )))
        }
    };
    found.ok_or_else(|| {
        ApiError::new(
            404,
            "404000",
            "Site not found",
            &format!("The site '{segment}' could not be found."),
        )
    })
}

/// A path segment with its `%XX` escapes decoded (lossy UTF-8; a bad escape stays as is).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// 404 for an item of the session's site that is not there. The codes are those of Tableau's
/// reference (Query Workbook: 404006, Query Data Source: 404011).
fn not_found(code: &str, what: &str, id: &str) -> ApiError {
    ApiError::new(
        404,
        code,
        "Resource Not Found",
        &format!("{what} '{id}' could not be found."),
    )
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn decodes_segments() {
        assert_eq!(percent_decode("My%20Site%2x%"), "My Site%2x%");
        assert_eq!(percent_decode("a%C3%A9"), "a\u{e9}");
    }

    #[test]
    fn parses_content_paths() {
        assert_eq!(ContentRoute::parse("sites"), Some(ContentRoute::Sites));
        assert_eq!(
            ContentRoute::parse("sites/abc"),
            Some(ContentRoute::Site("abc".into()))
        );
        assert_eq!(
            ContentRoute::parse("sites/s/views"),
            Some(ContentRoute::Views("s".into()))
        );
        assert_eq!(
            ContentRoute::parse("sites/s/datasources/d"),
            Some(ContentRoute::Datasource("s".into(), "d".into()))
        );
        for unknown in [
            "sites/",
            "sites//users",
            "sites/s/flows",
            "sites/s/views/v",
            "sites/s/workbooks/",
            "sites/s/users/u/groups",
        ] {
            assert_eq!(ContentRoute::parse(unknown), None, "{unknown}");
        }
    }
}
