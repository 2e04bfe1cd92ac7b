//! What the answers share: how a body is read (sniffed, then XML or JSON), how a missing value
//! is reported, and the `site` and `user` objects of JSON answers.

use serde::Deserialize;

use super::error::{Fail, WireError};
use super::json::Scalar;
use super::sniff::{sniff, Sniffed};

pub(super) const MISSING_SITE_ID: &str = "site/@id";
pub(super) const MISSING_USER_ID: &str = "user/@id";

/// Reads `body` with `xml` or `json`, as sniffed; a body that is neither is not Tableau. A
/// failure becomes a [`WireError`], with a masked excerpt of `body` when it is not Tableau.
pub(super) fn read<T>(
    body: &[u8],
    xml: fn(&[u8]) -> Result<T, Fail>,
    json: fn(&[u8]) -> Result<T, Fail>,
) -> Result<T, WireError> {
    match sniff(body) {
        Sniffed::Xml(doc) => xml(doc),
        Sniffed::Json(doc) => json(doc),
        Sniffed::Other(other) => Err(Fail::not_xml_or_json(other)),
    }
    .map_err(|fail| fail.into_wire(body))
}

/// `value` if it is present and not empty.
pub(super) fn required(value: Option<String>, what: &'static str) -> Result<String, Fail> {
    match value {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(Fail::Missing(what)),
    }
}

/// `text` trimmed, `None` when that is empty.
pub(super) fn non_empty(text: String) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        None
    } else if trimmed.len() == text.len() {
        Some(text)
    } else {
        Some(trimmed.to_owned())
    }
}

/// `site` in JSON answers.
#[derive(Deserialize)]
pub(super) struct SiteJson<'a> {
    #[serde(borrow, default)]
    pub id: Scalar<'a>,
    #[serde(borrow, default, rename = "contentUrl")]
    pub content_url: Scalar<'a>,
    #[serde(borrow, default)]
    pub name: Scalar<'a>,
}

/// `user` in JSON answers.
#[derive(Deserialize)]
pub(super) struct UserJson<'a> {
    #[serde(borrow, default)]
    pub id: Scalar<'a>,
    #[serde(borrow, default)]
    pub name: Scalar<'a>,
    #[serde(borrow, default, rename = "siteRole")]
    pub site_role: Scalar<'a>,
}
