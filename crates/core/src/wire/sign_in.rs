//! The answer of `auth/signin` and `auth/switchSite`: the session token, the site, the user
//! and the `estimatedTimeToExpiration` hint.

use std::time::Duration;

use serde::Deserialize;

use super::answers::{read, required, SiteJson, UserJson, MISSING_SITE_ID, MISSING_USER_ID};
use super::error::{Fail, WireError};
use super::json::{from_json, Obj, Scalar};
use super::xml::{attrs, owned, walk_xml, Tag, XmlStep};

const MISSING_CREDENTIALS: Fail = Fail::Missing("credentials");
const MISSING_TOKEN: &str = "credentials/@token";

/// The useful part of a sign-in (or switch-site) answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignInAnswer {
    /// The session token for `X-Tableau-Auth` (opaque; Cloud tokens look like `a|b|site-luid`).
    pub token: String,
    /// The site LUID, used in site-scoped paths.
    pub site_id: String,
    /// The site's URL name; `""` is the Server default site (also when the attribute is absent).
    pub site_content_url: String,
    /// The LUID of the signed-in (or impersonated) user.
    pub user_id: String,
    /// Tableau's `estimatedTimeToExpiration`, if present and well-formed: a hint, not the truth.
    pub estimated_time_to_expiration: Option<Duration>,
}

/// Parses the answer of `auth/signin` or `auth/switchSite` (XML or JSON, sniffed from the body).
///
/// Requires a non-empty `credentials/@token`, `site/@id` and `user/@id`; `site/@contentUrl` may
/// be empty or absent. A malformed `estimatedTimeToExpiration` is ignored (it is only a hint).
pub fn parse_sign_in_answer(body: &[u8]) -> Result<SignInAnswer, WireError> {
    read(body, sign_in_from_xml, sign_in_from_json)
}

/// Parses `estimatedTimeToExpiration` as hours, minutes and seconds: `"2:12:30"`, `"177:05:38"`
/// (hours may exceed 24). Minutes and seconds have one or two digits and must be below 60.
/// Returns `None` for anything else (empty, signs, spaces inside, overflow).
pub fn parse_estimated_time_to_expiration(s: &str) -> Option<Duration> {
    let mut parts = s.trim().split(':');
    let hours = parts.next()?;
    let minutes = parts.next()?;
    let seconds = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let hours = digits(hours, 12)?;
    let minutes = digits(minutes, 2)?;
    let seconds = digits(seconds, 2)?;
    if minutes >= 60 || seconds >= 60 {
        return None;
    }
    let total = hours
        .checked_mul(3600)?
        .checked_add(minutes * 60 + seconds)?;
    Some(Duration::from_secs(total))
}

/// `s` as a number of 1 to `max_len` ASCII digits.
fn digits(s: &str, max_len: usize) -> Option<u64> {
    if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn sign_in_from_xml(doc: &[u8]) -> Result<SignInAnswer, Fail> {
    use Tag::{Credentials as C, Site, TsResponse as R, User};
    let mut done = false;
    let (mut token, mut eta) = (None, None);
    let (mut site_seen, mut site_id, mut content_url) = (false, None, None);
    let (mut user_seen, mut user_id) = (false, None);
    walk_xml(doc, |step| {
        match step {
            XmlStep::Open([R, C], start) => {
                let [t, e] = attrs(start, ["token", "estimatedTimeToExpiration"])?;
                token = owned(t);
                eta = e.and_then(|e| parse_estimated_time_to_expiration(&e));
            }
            XmlStep::Open([R, C, Site], start) if !site_seen => {
                site_seen = true;
                let [id, url] = attrs(start, ["id", "contentUrl"])?;
                site_id = owned(id);
                content_url = owned(url);
            }
            XmlStep::Open([R, C, User], start) if !user_seen => {
                user_seen = true;
                let [id] = attrs(start, ["id"])?;
                user_id = owned(id);
            }
            XmlStep::Close([R, C]) => done = true,
            _ => {}
        }
        Ok(done)
    })?;
    if !done {
        return Err(MISSING_CREDENTIALS);
    }
    Ok(SignInAnswer {
        token: required(token, MISSING_TOKEN)?,
        site_id: required(site_id, MISSING_SITE_ID)?,
        site_content_url: content_url.unwrap_or_default(),
        user_id: required(user_id, MISSING_USER_ID)?,
        estimated_time_to_expiration: eta,
    })
}

#[derive(Deserialize)]
struct SignInJson<'a> {
    #[serde(borrow, default)]
    credentials: Obj<CredentialsJson<'a>>,
}

#[derive(Deserialize)]
struct CredentialsJson<'a> {
    #[serde(borrow, default)]
    token: Scalar<'a>,
    #[serde(borrow, default, rename = "estimatedTimeToExpiration")]
    estimated_time_to_expiration: Scalar<'a>,
    #[serde(borrow, default)]
    site: Obj<SiteJson<'a>>,
    #[serde(borrow, default)]
    user: Obj<UserJson<'a>>,
}

fn sign_in_from_json(doc: &[u8]) -> Result<SignInAnswer, Fail> {
    let parsed: SignInJson<'_> = from_json(doc, "credentials")?;
    let creds = parsed.credentials.0.ok_or(MISSING_CREDENTIALS)?;
    let site = creds.site.0;
    let (site_id, content_url) = match site {
        Some(site) => (site.id.into_string(), site.content_url.into_string()),
        None => (None, None),
    };
    Ok(SignInAnswer {
        token: required(creds.token.into_string(), MISSING_TOKEN)?,
        site_id: required(site_id, MISSING_SITE_ID)?,
        site_content_url: content_url.unwrap_or_default(),
        user_id: required(
            creds.user.0.and_then(|u| u.id.into_string()),
            MISSING_USER_ID,
        )?,
        estimated_time_to_expiration: creds
            .estimated_time_to_expiration
            .0
            .and_then(|e| parse_estimated_time_to_expiration(&e)),
    })
}
