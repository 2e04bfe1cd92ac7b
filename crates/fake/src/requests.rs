//! Parsing of the request bodies the fake accepts: sign-in and switch-site, in XML (matched by
//! local name, any namespace or prefix) or JSON (when the request's Content-Type says so).
//!
//! Rules enforced: well-formed XML (one root, matching end tags, no DOCTYPE, no unknown
//! entities, no duplicate attributes), root `tsRequest`, the `credentials` / `site` elements
//! present exactly once, `site/@contentUrl` present; in JSON every value has its documented
//! type (strings; `isUat` a boolean). Any violation is an `Err` (the caller answers 400000).

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde_json::Value;

/// The credentials of a sign-in, by method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// `jwt` (+ `isUat`).
    Jwt { jwt: String, is_uat: bool },
    /// `personalAccessTokenName` + `personalAccessTokenSecret`.
    Pat { name: String, secret: String },
    /// `name` + `password`.
    Password { name: String, password: String },
    /// No method, an incomplete one, or several mixed: always a failed sign-in (401001).
    Invalid,
}

/// A parsed `POST auth/signin` body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SignInRequest {
    pub site_content_url: String,
    /// `<user id="…"/>`: impersonation.
    pub impersonate_user_id: Option<String>,
    pub credentials: Credentials,
}

/// Whether a Content-Type header names JSON (`application/json`, parameters ignored).
pub(crate) fn is_json_content_type(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// Parses a sign-in body.
pub(crate) fn parse_sign_in(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<SignInRequest, String> {
    let text = std::str::from_utf8(body).map_err(|_| "body is not UTF-8".to_string())?;
    if is_json_content_type(content_type) {
        parse_sign_in_json(text)
    } else {
        parse_sign_in_xml(text)
    }
}

/// Parses a switch-site body; returns the target content URL.
pub(crate) fn parse_switch_site(content_type: Option<&str>, body: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(body).map_err(|_| "body is not UTF-8".to_string())?;
    if is_json_content_type(content_type) {
        let root: Value = serde_json::from_str(text).map_err(|e| format!("bad JSON: {e}"))?;
        let site = root
            .as_object()
            .and_then(|o| o.get("site"))
            .and_then(Value::as_object)
            .ok_or("missing object \"site\"")?;
        json_str(site, "contentUrl")?.ok_or_else(|| "missing \"contentUrl\"".to_string())
    } else {
        let root = parse_xml(text)?;
        if root.name != "tsRequest" {
            return Err(format!("root element is <{}>, not <tsRequest>", root.name));
        }
        let site = root.only_child("site")?;
        site.attr("contentUrl")
            .map(str::to_string)
            .ok_or_else(|| "<site> has no contentUrl".to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// XML

/// A minimal element tree (local names only).
#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Element>,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn children_named(&self, name: &str) -> Vec<&Element> {
        self.children.iter().filter(|c| c.name == name).collect()
    }

    /// The one child with that local name (none or several is an error).
    fn only_child(&self, name: &str) -> Result<&Element, String> {
        match self.optional_child(name)? {
            Some(child) => Ok(child),
            None => Err(format!("<{}> has no <{name}>", self.name)),
        }
    }

    /// The child with that local name if any (several is an error).
    fn optional_child(&self, name: &str) -> Result<Option<&Element>, String> {
        match self.children_named(name)[..] {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            _ => Err(format!("<{}> has several <{name}>", self.name)),
        }
    }
}

const MAX_DEPTH: usize = 32;

fn element_from(start: &BytesStart<'_>, version: XmlVersion) -> Result<Element, String> {
    let mut el = Element {
        name: start.local_name().as_ref().to_string(),
        ..Element::default()
    };
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("bad attribute: {e}"))?;
        let key = attr.key.as_ref();
        // Namespace declarations are not data.
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let value = attr
            .normalized_value(version)
            .map_err(|e| format!("bad attribute value: {e}"))?;
        el.attrs.push((
            attr.key.local_name().as_ref().to_string(),
            value.into_owned(),
        ));
    }
    Ok(el)
}

/// Parses a whole document into its root element, strictly.
fn parse_xml(text: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let version = XmlVersion::Implicit1_0;
    loop {
        let event = reader.read_event().map_err(|e| format!("bad XML: {e}"))?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err("content after the root element".into());
                }
                if stack.len() >= MAX_DEPTH {
                    return Err("XML nested too deep".into());
                }
                stack.push(element_from(&start, version)?);
            }
            Event::Empty(start) => {
                if root.is_some() {
                    return Err("content after the root element".into());
                }
                let el = element_from(&start, version)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or("unmatched end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                if stack.is_empty() && !t.as_ref().trim_ascii().is_empty() {
                    return Err("text outside the root element".into());
                }
            }
            Event::CData(_) | Event::GeneralRef(_) => {
                if stack.is_empty() {
                    return Err("text outside the root element".into());
                }
            }
            Event::DocType(_) => return Err("DOCTYPE is not allowed".into()),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err("unclosed element".into());
    }
    root.ok_or_else(|| "no root element".to_string())
}

fn parse_sign_in_xml(text: &str) -> Result<SignInRequest, String> {
    let root = parse_xml(text)?;
    if root.name != "tsRequest" {
        return Err(format!("root element is <{}>, not <tsRequest>", root.name));
    }
    let creds = root.only_child("credentials")?;
    let site = creds.only_child("site")?;
    let content_url = site
        .attr("contentUrl")
        .ok_or("<site> has no contentUrl")?
        .to_string();
    let user_id = match creds.optional_child("user")? {
        Some(user) => Some(user.attr("id").ok_or("<user> has no id")?.to_string()),
        None => None,
    };
    let is_uat = match creds.attr("isUat") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(format!("isUat={other:?} is not a boolean")),
    };
    let get = |k: &str| creds.attr(k).map(str::to_string);
    Ok(SignInRequest {
        site_content_url: content_url,
        impersonate_user_id: user_id,
        credentials: classify(
            get("jwt"),
            is_uat,
            get("personalAccessTokenName"),
            get("personalAccessTokenSecret"),
            get("name"),
            get("password"),
        ),
    })
}

// ---------------------------------------------------------------------------------------------
// JSON

/// A string member: absent is `None`, any other type is an error.
fn json_str(obj: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("\"{key}\" must be a string")),
    }
}

fn parse_sign_in_json(text: &str) -> Result<SignInRequest, String> {
    let root: Value = serde_json::from_str(text).map_err(|e| format!("bad JSON: {e}"))?;
    let creds = root
        .as_object()
        .and_then(|o| o.get("credentials"))
        .and_then(Value::as_object)
        .ok_or("missing object \"credentials\"")?;
    let site = creds
        .get("site")
        .and_then(Value::as_object)
        .ok_or("missing object \"credentials.site\"")?;
    let content_url = json_str(site, "contentUrl")?.ok_or("missing \"site.contentUrl\"")?;
    let user_id = match creds.get("user") {
        None => None,
        Some(Value::Object(user)) => Some(json_str(user, "id")?.ok_or("missing \"user.id\"")?),
        Some(_) => return Err("\"user\" must be an object".into()),
    };
    let is_uat = match creds.get("isUat") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("\"isUat\" must be a boolean".into()),
    };
    Ok(SignInRequest {
        site_content_url: content_url,
        impersonate_user_id: user_id,
        credentials: classify(
            json_str(creds, "jwt")?,
            is_uat,
            json_str(creds, "personalAccessTokenName")?,
            json_str(creds, "personalAccessTokenSecret")?,
            json_str(creds, "name")?,
            json_str(creds, "password")?,
        ),
    })
}

/// Exactly one complete method, or `Invalid`.
fn classify(
    jwt: Option<String>,
    is_uat: bool,
    pat_name: Option<String>,
    pat_secret: Option<String>,
    name: Option<String>,
    password: Option<String>,
) -> Credentials {
    let has_jwt = jwt.is_some();
    let has_pat = pat_name.is_some() || pat_secret.is_some();
    let has_password = name.is_some() || password.is_some();
    if usize::from(has_jwt) + usize::from(has_pat) + usize::from(has_password) != 1 {
        return Credentials::Invalid;
    }
    match (jwt, pat_name, pat_secret, name, password) {
        (Some(jwt), ..) => Credentials::Jwt { jwt, is_uat },
        (None, Some(name), Some(secret), ..) => Credentials::Pat { name, secret },
        (None, None, None, Some(name), Some(password)) => Credentials::Password { name, password },
        _ => Credentials::Invalid,
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn xml_with_namespace_prefix_and_escapes() {
        let body = br#"<?xml version="1.0"?><ts:tsRequest xmlns:ts="http://tableau.com/api"><ts:credentials name="a&amp;b" password="&quot;&lt;"><ts:site contentUrl=""/></ts:credentials></ts:tsRequest>"#;
        let req = parse_sign_in(Some("application/xml"), body).expect("parses");
        assert_eq!(req.site_content_url, "");
        assert_eq!(
            req.credentials,
            Credentials::Password {
                name: "a&b".into(),
                password: "\"<".into()
            }
        );
    }

    #[test]
    fn xml_rejections() {
        for body in [
            &b""[..],
            b"<tsRequest>",
            b"<tsRequest><credentials jwt='x'><site contentUrl='a'/></credentials>",
            b"<other><credentials jwt='x'><site contentUrl='a'/></credentials></other>",
            b"<tsRequest><credentials jwt='x'/></tsRequest>",
            b"<tsRequest><credentials jwt='x'><site/></credentials></tsRequest>",
            b"<tsRequest><credentials jwt='x' jwt='y'><site contentUrl='a'/></credentials></tsRequest>",
            b"<tsRequest><credentials jwt='&nbsp;'><site contentUrl='a'/></credentials></tsRequest>",
            b"<!DOCTYPE x><tsRequest/>",
            b"<tsRequest/><tsRequest/>",
            b"<tsRequest></tsReq>",
            b"\xff\xfe",
        ] {
            assert!(parse_sign_in(None, body).is_err(), "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn json_types_are_checked() {
        let ok = br#"{"credentials":{"jwt":"a.b.c","isUat":false,"site":{"contentUrl":"s"},"user":{"id":"u"}}}"#;
        let req = parse_sign_in(Some("application/json; charset=utf-8"), ok).expect("parses");
        assert_eq!(req.impersonate_user_id.as_deref(), Some("u"));
        for bad in [
            &br#"{"credentials":{"jwt":1,"site":{"contentUrl":"s"}}}"#[..],
            br#"{"credentials":{"jwt":"x","isUat":"true","site":{"contentUrl":"s"}}}"#,
            br#"{"credentials":{"jwt":"x"}}"#,
            br#"[]"#,
        ] {
            assert!(parse_sign_in(Some("application/json"), bad).is_err());
        }
    }

    #[test]
    fn mixed_or_partial_methods_are_invalid() {
        let body = br#"<tsRequest><credentials jwt="x" name="n" password="p"><site contentUrl=""/></credentials></tsRequest>"#;
        assert_eq!(
            parse_sign_in(None, body).map(|r| r.credentials),
            Ok(Credentials::Invalid)
        );
        let body =
            br#"<tsRequest><credentials name="n"><site contentUrl=""/></credentials></tsRequest>"#;
        assert_eq!(
            parse_sign_in(None, body).map(|r| r.credentials),
            Ok(Credentials::Invalid)
        );
    }
}
