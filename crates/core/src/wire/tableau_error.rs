//! Tableau's error answers: `<error code="…"><summary>…</summary><detail>…</detail></error>`
//! (or `{"error":{…}}`), read into a [`TableauErrorBody`] that `crate::error` turns into our
//! error with its hint.

use serde::Deserialize;

use super::answers::non_empty;
use super::error::Fail;
use super::json::{from_json, Obj, Scalar};
use super::sniff::{sniff, Sniffed};
use super::xml::{attrs, owned, walk_xml, Tag, XmlStep};

/// A Tableau error answer: `<error code="…"><summary>…</summary><detail>…</detail></error>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableauErrorBody {
    /// The Tableau error code, e.g. `"401001"` (the first three digits are the HTTP status).
    pub code: String,
    /// The summary text, `""` when absent.
    pub summary: String,
    /// The detail text, `""` when absent.
    pub detail: String,
}

/// Parses a Tableau error body (XML or JSON, sniffed).
///
/// Returns `None` when the body is not a Tableau error: not XML/JSON, malformed or truncated
/// before the end of `<error>`, no `error` element/object, or no (or an empty) `code`. In JSON a
/// numeric `code` is accepted. Summary and detail are trimmed; missing ones are `""`.
pub fn parse_error(body: &[u8]) -> Option<TableauErrorBody> {
    let parsed = match sniff(body) {
        Sniffed::Xml(doc) => error_from_xml(doc).ok()?,
        Sniffed::Json(doc) => error_from_json(doc)?,
        Sniffed::Other(_) => return None,
    };
    if parsed.code.is_empty() {
        None
    } else {
        Some(parsed)
    }
}

fn error_from_xml(doc: &[u8]) -> Result<TableauErrorBody, Fail> {
    use Tag::{Detail, Error as E, Summary, TsResponse as R};
    let mut found: Option<TableauErrorBody> = None;
    let mut done = false;
    walk_xml(doc, |step| {
        match step {
            XmlStep::Open([R, E], start) => {
                let [code] = attrs(start, ["code"])?;
                found = Some(TableauErrorBody {
                    code: owned(code).map(|c| c.trim().to_owned()).unwrap_or_default(),
                    summary: String::new(),
                    detail: String::new(),
                });
            }
            XmlStep::Text([R, E, Summary], text) => {
                if let Some(found) = found.as_mut() {
                    found.summary.push_str(text);
                }
            }
            XmlStep::Text([R, E, Detail], text) => {
                if let Some(found) = found.as_mut() {
                    found.detail.push_str(text);
                }
            }
            XmlStep::Close([R, E]) => done = true,
            _ => {}
        }
        Ok(done)
    })?;
    match found {
        Some(mut found) if done => {
            found.summary = non_empty(found.summary).unwrap_or_default();
            found.detail = non_empty(found.detail).unwrap_or_default();
            Ok(found)
        }
        _ => Err(Fail::Missing("error")),
    }
}

#[derive(Deserialize)]
struct ErrorJson<'a> {
    #[serde(borrow, default)]
    error: Obj<ErrorFieldsJson<'a>>,
}

#[derive(Deserialize)]
struct ErrorFieldsJson<'a> {
    #[serde(borrow, default)]
    code: Scalar<'a>,
    #[serde(borrow, default)]
    summary: Scalar<'a>,
    #[serde(borrow, default)]
    detail: Scalar<'a>,
}

/// The flat error of the JSON APIs beside REST (VizQL Data Service, Tableau Cloud Manager):
/// `{"errorCode": "400804", "message": "…", "debug": …, "tab-error-code": …}`; Pulse's
/// gRPC-style `{"code": 5, "message": "…"}` is read the same way.
#[derive(Deserialize)]
struct FlatErrorJson<'a> {
    #[serde(borrow, default, rename = "errorCode")]
    error_code: Scalar<'a>,
    #[serde(borrow, default)]
    code: Scalar<'a>,
    #[serde(borrow, default)]
    message: Scalar<'a>,
}

fn error_from_json(doc: &[u8]) -> Option<TableauErrorBody> {
    let parsed: ErrorJson<'_> = from_json(doc, "error").ok()?;
    let Some(error) = parsed.error.0 else {
        let flat: FlatErrorJson<'_> = from_json(doc, "errorCode").ok()?;
        let text = |s: Scalar<'_>| s.into_string().and_then(non_empty);
        let code = text(flat.error_code).or_else(|| text(flat.code))?;
        return Some(TableauErrorBody {
            code,
            summary: text(flat.message).unwrap_or_default(),
            detail: String::new(),
        });
    };
    let text = |s: Scalar<'_>| s.into_string().and_then(non_empty).unwrap_or_default();
    Some(TableauErrorBody {
        code: text(error.code),
        summary: text(error.summary),
        detail: text(error.detail),
    })
}
