//! The Tableau REST wire format of sign-in: request bodies out, typed answers in.
//!
//! This module knows how the bodies of `auth/signin`, `auth/switchSite`, `serverinfo`,
//! `sessions/current` and Tableau error answers look, in XML and in JSON, and nothing else:
//! no HTTP, no clocks, no retries.
//!
//! Parsing rules (see the protocol notes, §3, §4 and §6):
//!
//! * The format is sniffed from the body itself: a UTF-8 BOM and leading whitespace are skipped,
//!   `{` means JSON, `<` means XML unless the body starts like an HTML page (`<!DOCTYPE html`,
//!   `<html`, `<head`, `<body`, any case).
//! * XML is read with a streaming [`quick_xml::Reader`] (no DOM, no DTD, only the five predefined
//!   entities and numeric character references). Elements and attributes are matched by their
//!   local name, so any namespace (`http://tableau.com/api`, `http://tableausoftware.com/api`, a
//!   prefix, or none) is accepted; unknown elements and attributes are ignored.
//! * The root element of XML must be `tsResponse`. A well-formed XML document with another root
//!   (such as the legacy `<authinfo>`) is reported as [`WireError::NotTableau`] with
//!   [`WireError::NOT_TS_RESPONSE`]; an `<html>` root as [`WireError::HTML_PAGE`].
//! * Reading stops as soon as the element that carries the answer (`credentials`, `error`,
//!   `serverInfo`, `session`) is closed, so a body cut before that point is
//!   [`WireError::MALFORMED_XML`]; a complete Tableau document without the element or one of its
//!   required values is [`WireError::Missing`].
//! * JSON answers have no `tsResponse` wrapper. Values of unexpected JSON types are treated as
//!   absent; numbers are accepted where strings are expected (e.g. an error `code`).
//!
//! No function here panics on any input.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

#[cfg(test)]
mod tests;

// ---------------------------------------------------------------------------------------------
// Formats and errors
// ---------------------------------------------------------------------------------------------

/// The body format of a request (and the `Accept`ed answer format).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WireFormat {
    /// `application/xml`, Tableau's default.
    #[default]
    Xml,
    /// `application/json`.
    Json,
}

impl WireFormat {
    /// The media type for the `Content-Type` and `Accept` headers.
    pub fn content_type(self) -> &'static str {
        match self {
            WireFormat::Xml => "application/xml",
            WireFormat::Json => "application/json",
        }
    }
}

/// Why a body could not be read as the expected Tableau answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// The body is not a Tableau answer at all. `what` is a short description, one of the
    /// associated constants ([`WireError::HTML_PAGE`], [`WireError::EMPTY_BODY`],
    /// [`WireError::PLAIN_TEXT`], [`WireError::MALFORMED_XML`], [`WireError::MALFORMED_JSON`],
    /// [`WireError::NOT_TS_RESPONSE`]); `excerpt` is a secret-free [`excerpt`] of the body.
    NotTableau {
        /// What the body was instead.
        what: &'static str,
        /// A short, single-line, secret-free excerpt of the body.
        excerpt: String,
    },
    /// A Tableau-shaped body lacks something we need, named by its XML path, e.g.
    /// `"credentials/@token"` or `"site/@id"` (the same names are used for JSON answers).
    Missing {
        /// The missing element or attribute.
        what: &'static str,
    },
}

impl WireError {
    /// `what` of a body that is an HTML page.
    pub const HTML_PAGE: &'static str = "an HTML page";
    /// `what` of an empty or whitespace-only body.
    pub const EMPTY_BODY: &'static str = "an empty body";
    /// `what` of a body that is neither XML nor JSON.
    pub const PLAIN_TEXT: &'static str = "plain text";
    /// `what` of XML that is cut short or not well-formed.
    pub const MALFORMED_XML: &'static str = "truncated or malformed XML";
    /// `what` of JSON that is cut short or not well-formed.
    pub const MALFORMED_JSON: &'static str = "truncated or malformed JSON";
    /// `what` of well-formed XML whose root element is not `tsResponse`.
    pub const NOT_TS_RESPONSE: &'static str = "an XML document that is not a Tableau tsResponse";
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::NotTableau { what, excerpt } => {
                write!(f, "the server answered {what}")?;
                if matches!(
                    *what,
                    WireError::HTML_PAGE | WireError::EMPTY_BODY | WireError::PLAIN_TEXT
                ) {
                    f.write_str(", not Tableau XML or JSON")?;
                }
                if !excerpt.is_empty() {
                    write!(f, ": «{excerpt}»")?;
                }
                Ok(())
            }
            WireError::Missing { what } => {
                write!(f, "the Tableau answer lacks {what}")
            }
        }
    }
}

impl std::error::Error for WireError {}

/// An internal failure, turned into a [`WireError`] (with the excerpt) at the public boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fail {
    NotTableau(&'static str),
    Missing(&'static str),
}

impl Fail {
    fn into_wire(self, body: &[u8]) -> WireError {
        match self {
            Fail::NotTableau(what) => WireError::NotTableau {
                what,
                excerpt: excerpt(body),
            },
            Fail::Missing(what) => WireError::Missing { what },
        }
    }
}

const MALFORMED_XML: Fail = Fail::NotTableau(WireError::MALFORMED_XML);

// ---------------------------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------------------------

/// The secret that proves who signs in.
#[derive(Clone, Copy, Debug)]
pub enum SignInCredentials<'a> {
    /// A JWT: connected app (direct trust), OAuth/EAS, or a unified access token (`is_uat`).
    Jwt {
        /// The signed JWT, sent as is.
        jwt: &'a str,
        /// Whether the JWT is a Tableau Cloud unified access token (`isUat="true"`).
        is_uat: bool,
    },
    /// A personal access token.
    PersonalAccessToken {
        /// The token name.
        name: &'a str,
        /// The token secret.
        secret: &'a str,
    },
    /// A username and password.
    Password {
        /// The username.
        username: &'a str,
        /// The password.
        password: &'a str,
    },
}

/// Everything `POST auth/signin` needs in its body.
#[derive(Clone, Copy, Debug)]
pub struct SignInRequest<'a> {
    /// Who signs in.
    pub credentials: SignInCredentials<'a>,
    /// The site's URL name (`contentUrl`); `""` is the Server default site.
    pub site_content_url: &'a str,
    /// The LUID of a user to impersonate (admins only): `<user id="…"/>` inside `<credentials>`.
    pub impersonate: Option<&'a str>,
}

/// The body of `POST auth/signin`.
///
/// XML: `<tsRequest><credentials jwt="…"><site contentUrl="…"/></credentials></tsRequest>`
/// (`isUat="true"` for a UAT, `personalAccessTokenName`/`personalAccessTokenSecret` for a PAT,
/// `name`/`password` for a password, `<user id="…"/>` after `<site>` to impersonate). Every
/// attribute value is escaped, including tab, CR and LF, which XML would otherwise turn into
/// spaces. JSON: `{"credentials":{"jwt":"…","site":{"contentUrl":"…"}}}`, `isUat` a boolean.
pub fn sign_in_body(req: &SignInRequest<'_>, format: WireFormat) -> String {
    match format {
        WireFormat::Xml => sign_in_xml(req),
        WireFormat::Json => sign_in_json(req),
    }
}

/// The body of `POST auth/switchSite`: `<tsRequest><site contentUrl="…"/></tsRequest>` or
/// `{"site":{"contentUrl":"…"}}`.
pub fn switch_site_body(content_url: &str, format: WireFormat) -> String {
    match format {
        WireFormat::Xml => {
            let mut out = String::with_capacity(48 + content_url.len());
            out.push_str("<tsRequest><site");
            push_xml_attr(&mut out, "contentUrl", content_url);
            out.push_str("/></tsRequest>");
            out
        }
        WireFormat::Json => {
            let mut root = Map::new();
            root.insert("site".to_owned(), site_json(content_url));
            Value::Object(root).to_string()
        }
    }
}

fn sign_in_xml(req: &SignInRequest<'_>) -> String {
    let mut out = String::with_capacity(160 + secret_len(req));
    out.push_str("<tsRequest><credentials");
    match req.credentials {
        SignInCredentials::Jwt { jwt, is_uat } => {
            push_xml_attr(&mut out, "jwt", jwt);
            if is_uat {
                out.push_str(" isUat=\"true\"");
            }
        }
        SignInCredentials::PersonalAccessToken { name, secret } => {
            push_xml_attr(&mut out, "personalAccessTokenName", name);
            push_xml_attr(&mut out, "personalAccessTokenSecret", secret);
        }
        SignInCredentials::Password { username, password } => {
            push_xml_attr(&mut out, "name", username);
            push_xml_attr(&mut out, "password", password);
        }
    }
    out.push_str("><site");
    push_xml_attr(&mut out, "contentUrl", req.site_content_url);
    out.push_str("/>");
    if let Some(user_id) = req.impersonate {
        out.push_str("<user");
        push_xml_attr(&mut out, "id", user_id);
        out.push_str("/>");
    }
    out.push_str("</credentials></tsRequest>");
    out
}

fn secret_len(req: &SignInRequest<'_>) -> usize {
    let creds = match req.credentials {
        SignInCredentials::Jwt { jwt, .. } => jwt.len(),
        SignInCredentials::PersonalAccessToken { name, secret } => name.len() + secret.len(),
        SignInCredentials::Password { username, password } => username.len() + password.len(),
    };
    creds + req.site_content_url.len() + req.impersonate.map_or(0, str::len)
}

fn sign_in_json(req: &SignInRequest<'_>) -> String {
    let mut creds = Map::new();
    let mut put = |key: &str, value: &str| {
        creds.insert(key.to_owned(), Value::String(value.to_owned()));
    };
    match req.credentials {
        SignInCredentials::Jwt { jwt, .. } => put("jwt", jwt),
        SignInCredentials::PersonalAccessToken { name, secret } => {
            put("personalAccessTokenName", name);
            put("personalAccessTokenSecret", secret);
        }
        SignInCredentials::Password { username, password } => {
            put("name", username);
            put("password", password);
        }
    }
    if let SignInCredentials::Jwt { is_uat: true, .. } = req.credentials {
        creds.insert("isUat".to_owned(), Value::Bool(true));
    }
    creds.insert("site".to_owned(), site_json(req.site_content_url));
    if let Some(user_id) = req.impersonate {
        let mut user = Map::new();
        user.insert("id".to_owned(), Value::String(user_id.to_owned()));
        creds.insert("user".to_owned(), Value::Object(user));
    }
    let mut root = Map::new();
    root.insert("credentials".to_owned(), Value::Object(creds));
    Value::Object(root).to_string()
}

fn site_json(content_url: &str) -> Value {
    let mut site = Map::new();
    site.insert(
        "contentUrl".to_owned(),
        Value::String(content_url.to_owned()),
    );
    Value::Object(site)
}

/// Appends ` name="value"` with the value escaped for a double-quoted XML attribute.
fn push_xml_attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    for ch in value.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Attribute-value normalization would turn these into spaces.
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            other => out.push(other),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

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
    match sniff(body) {
        Sniffed::Xml(doc) => sign_in_from_xml(doc),
        Sniffed::Json(doc) => sign_in_from_json(doc),
        Sniffed::Other(fail) => Err(fail),
    }
    .map_err(|fail| fail.into_wire(body))
}

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

/// The answer of `GET serverinfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerInfo {
    /// The product version text, e.g. `"2025.1.0"`, if given.
    pub product_version: Option<String>,
    /// The `build` attribute of the product version, if given.
    pub build: Option<String>,
    /// The highest REST API version the server speaks, e.g. `"3.25"` (required).
    pub rest_api_version: String,
}

/// Parses the answer of `GET serverinfo` (XML or JSON, sniffed).
///
/// XML: `tsResponse/serverInfo/productVersion` (text, `@build`) and `restApiVersion` (text).
/// JSON: `{"serverInfo":{"productVersion":{"value":…,"build":…},"restApiVersion":…}}`, where
/// `productVersion` may also be a plain string.
pub fn parse_server_info(body: &[u8]) -> Result<ServerInfo, WireError> {
    match sniff(body) {
        Sniffed::Xml(doc) => server_info_from_xml(doc),
        Sniffed::Json(doc) => server_info_from_json(doc),
        Sniffed::Other(fail) => Err(fail),
    }
    .map_err(|fail| fail.into_wire(body))
}

/// The `<session>` of `GET sessions/current`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentSession {
    /// The site LUID (required).
    pub site_id: String,
    /// The site's URL name; `""` for the default site or when absent.
    pub site_content_url: String,
    /// The user LUID (required).
    pub user_id: String,
    /// The user name, if given.
    pub user_name: Option<String>,
}

/// Parses the answer of `GET sessions/current` (XML or JSON, sniffed).
pub fn parse_current_session(body: &[u8]) -> Result<CurrentSession, WireError> {
    match sniff(body) {
        Sniffed::Xml(doc) => session_from_xml(doc),
        Sniffed::Json(doc) => session_from_json(doc),
        Sniffed::Other(fail) => Err(fail),
    }
    .map_err(|fail| fail.into_wire(body))
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

// ---------------------------------------------------------------------------------------------
// Sniffing
// ---------------------------------------------------------------------------------------------

enum Sniffed<'a> {
    Xml(&'a [u8]),
    Json(&'a [u8]),
    Other(Fail),
}

/// `body` without a UTF-8 BOM and leading ASCII whitespace.
fn trim_start(body: &[u8]) -> &[u8] {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    body.get(start..).unwrap_or_default()
}

fn sniff(body: &[u8]) -> Sniffed<'_> {
    let doc = trim_start(body);
    match doc.first() {
        None => Sniffed::Other(Fail::NotTableau(WireError::EMPTY_BODY)),
        Some(b'{') => Sniffed::Json(doc),
        Some(b'<') if looks_like_html(doc) => {
            Sniffed::Other(Fail::NotTableau(WireError::HTML_PAGE))
        }
        Some(b'<') => Sniffed::Xml(doc),
        Some(_) => Sniffed::Other(Fail::NotTableau(WireError::PLAIN_TEXT)),
    }
}

/// Whether `doc` (already trimmed) starts with `<!DOCTYPE html`, `<html`, `<head` or `<body`.
fn looks_like_html(doc: &[u8]) -> bool {
    ["<!doctype html", "<html", "<head", "<body"]
        .iter()
        .any(|start| starts_with_tag(doc, start.as_bytes()))
}

/// Case-insensitive `doc.starts_with(start)`, followed by the end, whitespace, `>` or `/`.
fn starts_with_tag(doc: &[u8], start: &[u8]) -> bool {
    let Some(head) = doc.get(..start.len()) else {
        return false;
    };
    head.eq_ignore_ascii_case(start)
        && doc
            .get(start.len())
            .is_none_or(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
}

// ---------------------------------------------------------------------------------------------
// Streaming XML
// ---------------------------------------------------------------------------------------------

/// The elements this module cares about, by local name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    TsResponse,
    Credentials,
    Site,
    User,
    Error,
    Summary,
    Detail,
    ServerInfo,
    ProductVersion,
    RestApiVersion,
    Session,
    Other,
}

impl Tag {
    fn of(local_name: &str) -> Tag {
        match local_name {
            "tsResponse" => Tag::TsResponse,
            "credentials" => Tag::Credentials,
            "site" => Tag::Site,
            "user" => Tag::User,
            "error" => Tag::Error,
            "summary" => Tag::Summary,
            "detail" => Tag::Detail,
            "serverInfo" => Tag::ServerInfo,
            "productVersion" => Tag::ProductVersion,
            "restApiVersion" => Tag::RestApiVersion,
            "session" => Tag::Session,
            _ => Tag::Other,
        }
    }
}

/// Paths deeper than this are not reported to the visitor (nothing we read is that deep).
const MAX_DEPTH: usize = 4;

/// One step of the walk, with the path of known tags from the root to the current element.
enum XmlStep<'a> {
    /// An element starts (also for `<empty/>` elements, which are then closed at once).
    Open(&'a [Tag], &'a BytesStart<'a>),
    /// Text (or CDATA, or a resolved reference) directly inside the element at the path.
    Text(&'a [Tag], &'a str),
    /// The element at the path ends.
    Close(&'a [Tag]),
}

/// Walks `doc` (trimmed XML) and feeds each step to `visit` until `visit` returns `Ok(true)`
/// (done) or the root element closes (`Ok(())` too: the caller decides what is missing).
///
/// Errors: any XML error, an unknown entity, text outside the root, or the end of input before
/// `visit` is done and before the root closes is `MALFORMED_XML`; an HTML root or doctype is
/// `HTML_PAGE`; another root element is `NOT_TS_RESPONSE`. Only the five predefined entities
/// and numeric character references are resolved; a DTD is never read.
fn walk_xml(
    doc: &[u8],
    mut visit: impl FnMut(XmlStep<'_>) -> Result<bool, Fail>,
) -> Result<(), Fail> {
    let mut reader = Reader::from_reader(doc);
    let mut path = [Tag::Other; MAX_DEPTH];
    let mut depth = 0usize;
    loop {
        let event = reader.read_event().map_err(|_| MALFORMED_XML)?;
        let (start, empty) = match event {
            Event::Start(start) => (start, false),
            Event::Empty(start) => (start, true),
            Event::End(_) => {
                let closed = depth;
                depth = depth.checked_sub(1).ok_or(MALFORMED_XML)?;
                if let Some(at) = path.get(..closed) {
                    if visit(XmlStep::Close(at))? {
                        return Ok(());
                    }
                }
                if depth == 0 {
                    return Ok(());
                }
                continue;
            }
            Event::Text(text) => {
                let content = text.xml10_content();
                if depth == 0 {
                    if content.trim().is_empty() {
                        continue;
                    }
                    return Err(MALFORMED_XML);
                }
                if let Some(at) = path.get(..depth) {
                    visit(XmlStep::Text(at, &content))?;
                }
                continue;
            }
            Event::CData(cdata) => {
                if depth == 0 {
                    return Err(MALFORMED_XML);
                }
                if let Some(at) = path.get(..depth) {
                    visit(XmlStep::Text(at, &cdata.xml10_content()))?;
                }
                continue;
            }
            Event::GeneralRef(reference) => {
                let mut buf = [0u8; 4];
                let resolved: &str = match reference.resolve_char_ref() {
                    Ok(Some(ch)) => ch.encode_utf8(&mut buf),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&reference)
                        .ok_or(MALFORMED_XML)?,
                    Err(_) => return Err(MALFORMED_XML),
                };
                if depth == 0 {
                    return Err(MALFORMED_XML);
                }
                if let Some(at) = path.get(..depth) {
                    visit(XmlStep::Text(at, resolved))?;
                }
                continue;
            }
            Event::DocType(doctype) => {
                if starts_with_tag(doctype.trim_start().as_bytes(), b"html") {
                    return Err(Fail::NotTableau(WireError::HTML_PAGE));
                }
                continue;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => continue,
            Event::Eof => return Err(MALFORMED_XML),
        };

        let tag = Tag::of(start.local_name().as_ref());
        if depth == 0 && tag != Tag::TsResponse {
            let name = start.local_name();
            let name = name.as_ref();
            return Err(Fail::NotTableau(
                if ["html", "head", "body"]
                    .iter()
                    .any(|h| name.eq_ignore_ascii_case(h))
                {
                    WireError::HTML_PAGE
                } else {
                    WireError::NOT_TS_RESPONSE
                },
            ));
        }
        if let Some(slot) = path.get_mut(depth) {
            *slot = tag;
        }
        depth += 1;
        if let Some(at) = path.get(..depth) {
            if visit(XmlStep::Open(at, &start))? {
                return Ok(());
            }
            if empty && visit(XmlStep::Close(at))? {
                return Ok(());
            }
        }
        if empty {
            depth -= 1;
            if depth == 0 {
                return Ok(());
            }
        }
    }
}

/// The values of the attributes named `names` (local names), unescaped and normalized.
///
/// quick-xml's duplicate check allocates, so it is off; a repeated wanted name is caught here.
fn attrs<'e, const N: usize>(
    start: &'e BytesStart<'_>,
    names: [&str; N],
) -> Result<[Option<Cow<'e, str>>; N], Fail> {
    let mut out: [Option<Cow<'e, str>>; N] = std::array::from_fn(|_| None);
    let mut all = start.attributes();
    all.with_checks(false);
    for attr in all {
        let attr = attr.map_err(|_| MALFORMED_XML)?;
        let key = attr.key.local_name();
        if let Some(slot) = names
            .iter()
            .position(|name| *name == key.as_ref())
            .and_then(|i| out.get_mut(i))
        {
            if slot.is_some() {
                return Err(MALFORMED_XML);
            }
            *slot = Some(
                attr.normalized_value(XmlVersion::Implicit1_0)
                    .map_err(|_| MALFORMED_XML)?,
            );
        }
    }
    Ok(out)
}

fn owned(value: Option<Cow<'_, str>>) -> Option<String> {
    value.map(Cow::into_owned)
}

/// `value` if it is present and not empty.
fn required(value: Option<String>, what: &'static str) -> Result<String, Fail> {
    match value {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(Fail::Missing(what)),
    }
}

/// `text` trimmed, `None` when that is empty.
fn non_empty(text: String) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        None
    } else if trimmed.len() == text.len() {
        Some(text)
    } else {
        Some(trimmed.to_owned())
    }
}

const MISSING_CREDENTIALS: Fail = Fail::Missing("credentials");
const MISSING_TOKEN: &str = "credentials/@token";
const MISSING_SITE_ID: &str = "site/@id";
const MISSING_USER_ID: &str = "user/@id";

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

fn server_info_from_xml(doc: &[u8]) -> Result<ServerInfo, Fail> {
    use Tag::{ProductVersion as Pv, RestApiVersion as Rav, ServerInfo as Si, TsResponse as R};
    let mut done = false;
    let (mut product, mut build, mut rest) = (String::new(), None, String::new());
    walk_xml(doc, |step| {
        match step {
            XmlStep::Open([R, Si, Pv], start) => {
                let [b] = attrs(start, ["build"])?;
                build = owned(b).and_then(non_empty);
            }
            XmlStep::Text([R, Si, Pv], text) => product.push_str(text),
            XmlStep::Text([R, Si, Rav], text) => rest.push_str(text),
            XmlStep::Close([R, Si]) => done = true,
            _ => {}
        }
        Ok(done)
    })?;
    if !done {
        return Err(Fail::Missing("serverInfo"));
    }
    Ok(ServerInfo {
        product_version: non_empty(product),
        build,
        rest_api_version: non_empty(rest).ok_or(Fail::Missing("serverInfo/restApiVersion"))?,
    })
}

fn session_from_xml(doc: &[u8]) -> Result<CurrentSession, Fail> {
    use Tag::{Session as S, Site, TsResponse as R, User};
    let mut done = false;
    let (mut site_seen, mut site_id, mut content_url) = (false, None, None);
    let (mut user_seen, mut user_id, mut user_name) = (false, None, None);
    walk_xml(doc, |step| {
        match step {
            XmlStep::Open([R, S, Site], start) if !site_seen => {
                site_seen = true;
                let [id, url] = attrs(start, ["id", "contentUrl"])?;
                site_id = owned(id);
                content_url = owned(url);
            }
            XmlStep::Open([R, S, User], start) if !user_seen => {
                user_seen = true;
                let [id, name] = attrs(start, ["id", "name"])?;
                user_id = owned(id);
                user_name = owned(name).filter(|n| !n.is_empty());
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
        site_content_url: content_url.unwrap_or_default(),
        user_id: required(user_id, MISSING_USER_ID)?,
        user_name,
    })
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

/// A JSON string or number (as text); any other JSON value reads as absent.
#[derive(Default)]
struct Scalar<'a>(Option<Cow<'a, str>>);

impl Scalar<'_> {
    fn into_string(self) -> Option<String> {
        self.0.map(Cow::into_owned)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Owned(v))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Scalar(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                drain_seq(seq).map(|()| Scalar(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                drain_map(map).map(|()| Scalar(None))
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

/// A JSON object read as `T`; any other JSON value reads as absent.
struct Obj<T>(Option<T>);

impl<T> Default for Obj<T> {
    fn default() -> Self {
        Obj(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| Obj(Some(t)))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Obj(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Obj(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Obj(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Obj(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Obj(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Obj(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Obj(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                drain_seq(seq).map(|()| Obj(None))
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// `productVersion`: `{"value":…,"build":…}` or a plain string.
#[derive(Default)]
struct ProductVersionJson<'a> {
    value: Scalar<'a>,
    build: Scalar<'a>,
}

impl<'de: 'a, 'a> Deserialize<'de> for ProductVersionJson<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Full<'a> {
            #[serde(borrow, default)]
            value: Scalar<'a>,
            #[serde(borrow, default)]
            build: Scalar<'a>,
        }
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = ProductVersionJson<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let full = Full::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ProductVersionJson {
                    value: full.value,
                    build: full.build,
                })
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(ProductVersionJson {
                    value: Scalar(Some(Cow::Borrowed(v))),
                    build: Scalar(None),
                })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ProductVersionJson {
                    value: Scalar(Some(Cow::Owned(v.to_owned()))),
                    build: Scalar(None),
                })
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(ProductVersionJson::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(ProductVersionJson::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(ProductVersionJson::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(ProductVersionJson::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ProductVersionJson::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ProductVersionJson::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                drain_seq(seq).map(|()| ProductVersionJson::default())
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
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

#[derive(Deserialize)]
struct SiteJson<'a> {
    #[serde(borrow, default)]
    id: Scalar<'a>,
    #[serde(borrow, default, rename = "contentUrl")]
    content_url: Scalar<'a>,
}

#[derive(Deserialize)]
struct UserJson<'a> {
    #[serde(borrow, default)]
    id: Scalar<'a>,
    #[serde(borrow, default)]
    name: Scalar<'a>,
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

#[derive(Deserialize)]
struct ServerInfoJson<'a> {
    #[serde(borrow, default, rename = "serverInfo")]
    server_info: Obj<ServerInfoFieldsJson<'a>>,
}

#[derive(Deserialize)]
struct ServerInfoFieldsJson<'a> {
    #[serde(borrow, default, rename = "productVersion")]
    product_version: ProductVersionJson<'a>,
    #[serde(borrow, default, rename = "restApiVersion")]
    rest_api_version: Scalar<'a>,
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

/// Reads `doc` as `T`. Syntax errors and early ends are `MALFORMED_JSON`; a well-formed
/// document of the wrong shape (e.g. a duplicated key) is `Missing(top)`.
fn from_json<'de, T: Deserialize<'de>>(doc: &'de [u8], top: &'static str) -> Result<T, Fail> {
    serde_json::from_slice(doc).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => Fail::Missing(top),
        _ => Fail::NotTableau(WireError::MALFORMED_JSON),
    })
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

fn error_from_json(doc: &[u8]) -> Option<TableauErrorBody> {
    let parsed: ErrorJson<'_> = from_json(doc, "error").ok()?;
    let error = parsed.error.0?;
    let text = |s: Scalar<'_>| s.into_string().and_then(non_empty).unwrap_or_default();
    Some(TableauErrorBody {
        code: text(error.code),
        summary: text(error.summary),
        detail: text(error.detail),
    })
}

fn server_info_from_json(doc: &[u8]) -> Result<ServerInfo, Fail> {
    let parsed: ServerInfoJson<'_> = from_json(doc, "serverInfo")?;
    let info = parsed.server_info.0.ok_or(Fail::Missing("serverInfo"))?;
    Ok(ServerInfo {
        product_version: info.product_version.value.into_string().and_then(non_empty),
        build: info.product_version.build.into_string().and_then(non_empty),
        rest_api_version: info
            .rest_api_version
            .into_string()
            .and_then(non_empty)
            .ok_or(Fail::Missing("serverInfo/restApiVersion"))?,
    })
}

fn session_from_json(doc: &[u8]) -> Result<CurrentSession, Fail> {
    let parsed: SessionJson<'_> = from_json(doc, "session")?;
    let session = parsed.session.0.ok_or(Fail::Missing("session"))?;
    let (site_id, content_url) = match session.site.0 {
        Some(site) => (site.id.into_string(), site.content_url.into_string()),
        None => (None, None),
    };
    let (user_id, user_name) = match session.user.0 {
        Some(user) => (user.id.into_string(), user.name.into_string()),
        None => (None, None),
    };
    Ok(CurrentSession {
        site_id: required(site_id, MISSING_SITE_ID)?,
        site_content_url: content_url.unwrap_or_default(),
        user_id: required(user_id, MISSING_USER_ID)?,
        user_name: user_name.filter(|n| !n.is_empty()),
    })
}

// ---------------------------------------------------------------------------------------------
// Excerpts for error messages
// ---------------------------------------------------------------------------------------------

/// The longest excerpt, in chars, "…" included.
const EXCERPT_CHARS: usize = 160;
/// How much of a body the excerpt looks at.
const EXCERPT_WINDOW: usize = 64 * 1024;
/// Runs of token-like chars at least this long may be secrets.
const SECRET_RUN: usize = 20;

/// A short (≤ 160 chars), single-line, secret-free excerpt of a body for error messages.
///
/// HTML (sniffed like the parsers do) gives its `<title>` text, then its visible text with tags,
/// comments, scripts and styles removed. Other XML gives its first chars without the
/// `<?xml …?>` declaration and `xmlns…`/`xsi:…` attributes (boilerplate that would fill the
/// excerpt); any other body gives its first chars. Whitespace and control characters collapse
/// to single spaces. Only the first 64 KiB are looked at.
///
/// Secrets are replaced with `***`: the values of attributes, keys and parameters whose name
/// ends with `token`, `jwt`, `password`, `secret` or `tableau-auth` (any case, so
/// `personalAccessTokenSecret` and `X-Tableau-Auth` too), JWT-shaped runs (`xxx.yyy.zzz`, 20+
/// chars) and other long token-like runs (20+ chars of letters, digits and `-_.|+=~` that mix
/// letters and digits, or upper and lower case; canonical UUIDs are kept). The cut is made on
/// a char boundary after masking, and a cut excerpt ends with `…`.
pub fn excerpt(body: &[u8]) -> String {
    let trimmed = trim_start(body);
    let window = trimmed.get(..EXCERPT_WINDOW).unwrap_or(trimmed);
    let mut text: Vec<char> = String::from_utf8_lossy(window).chars().collect();
    if window.len() < trimmed.len() {
        // The window may cut a secret short: drop the partial run at the cut.
        while text
            .last()
            .is_some_and(|c| is_token_char(*c) || *c == char::REPLACEMENT_CHARACTER)
        {
            text.pop();
        }
    }
    let text = if looks_like_html(trimmed) {
        html_visible_text(&text)
    } else if trimmed.first() == Some(&b'<') {
        strip_xml_noise(&text)
    } else {
        text
    };
    let text = mask_long_runs(&mask_key_values(&text));
    shorten(&text)
}

/// XML without its `<?xml …?>` declaration and its `xmlns…`/`xsi:…` attributes, which would
/// fill the excerpt with boilerplate.
fn strip_xml_noise(xml: &[char]) -> Vec<char> {
    let mut rest = xml;
    if starts_with_ci(rest, "<?xml") {
        if let Some(end) = find(rest, "?>") {
            rest = rest.get(end + 2..).unwrap_or_default();
        }
    }
    let mut out = Vec::with_capacity(rest.len());
    let mut i = 0;
    while let Some(&c) = rest.get(i) {
        if c.is_whitespace() {
            let name_start = i + 1;
            let name_len = rest
                .get(name_start..)
                .unwrap_or_default()
                .iter()
                .take_while(|c| is_ident_char(**c) || **c == ':')
                .count();
            let name = rest
                .get(name_start..name_start + name_len)
                .unwrap_or_default();
            let noise = starts_with_ci(name, "xmlns") || starts_with_ci(name, "xsi:");
            let value_start = name_start + name_len + 1;
            if let (true, Some('='), Some(&quote @ ('"' | '\''))) = (
                noise,
                rest.get(name_start + name_len),
                rest.get(value_start),
            ) {
                let value = rest.get(value_start + 1..).unwrap_or_default();
                if let Some(len) = value.iter().position(|v| *v == quote) {
                    i = value_start + 1 + len + 1;
                    continue;
                }
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Title plus visible text of an HTML page, as chars.
fn html_visible_text(html: &[char]) -> Vec<char> {
    let mut title = Vec::new();
    let mut text = Vec::new();
    let mut skip_until: Option<&'static str> = None;
    let mut in_title = false;
    let mut i = 0;
    while let Some(&c) = html.get(i) {
        if c != '<' {
            if skip_until.is_none() {
                if in_title {
                    title.push(c);
                } else {
                    text.push(c);
                }
            }
            i += 1;
            continue;
        }
        let rest = html.get(i..).unwrap_or_default();
        if starts_with_ci(rest, "<!--") {
            i += find(rest, "-->").map_or(rest.len(), |at| at + 3);
            continue;
        }
        let end = find(rest, ">").map_or(rest.len(), |at| at + 1);
        let tag = rest.get(1..end).unwrap_or_default();
        let closing = tag.first() == Some(&'/');
        let name: String = tag
            .iter()
            .skip(usize::from(closing))
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        i += end;
        match (skip_until, closing, name.as_str()) {
            (Some(until), true, n) if n == until => skip_until = None,
            (Some(_), _, _) => {}
            (None, false, "script") => skip_until = Some("script"),
            (None, false, "style") => skip_until = Some("style"),
            (None, false, "title") => in_title = true,
            (None, true, "title") => in_title = false,
            // Block-ish tags separate words.
            (None, _, _) => text.push(' '),
        }
    }
    let title = decode_html_entities(&title);
    let text = decode_html_entities(&text);
    let title_words = collapse(&title);
    let text_words = collapse(&text);
    let mut out = title_words.clone();
    if text_words.starts_with(&title_words) {
        return text_words;
    }
    if !out.is_empty() && !text_words.is_empty() {
        out.extend(" — ".chars());
    }
    out.extend(text_words);
    out
}

fn starts_with_ci(chars: &[char], pat: &str) -> bool {
    let mut it = chars.iter();
    pat.chars()
        .all(|p| it.next().is_some_and(|c| c.eq_ignore_ascii_case(&p)))
}

fn find(chars: &[char], pat: &str) -> Option<usize> {
    (0..chars.len()).find(|&at| chars.get(at..).is_some_and(|s| starts_with_ci(s, pat)))
}

/// Decodes `&amp;`-style entities common in HTML text (unknown ones stay as they are).
fn decode_html_entities(text: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&c) = text.get(i) {
        i += 1;
        if c != '&' {
            out.push(c);
            continue;
        }
        let rest = text.get(i..).unwrap_or_default();
        let Some(semi) = rest.iter().take(10).position(|c| *c == ';') else {
            out.push(c);
            continue;
        };
        let name: String = rest.get(..semi).unwrap_or_default().iter().collect();
        let decoded = match name.as_str() {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => name.strip_prefix('#').and_then(|num| {
                let code = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => num.parse().ok(),
                };
                code.and_then(char::from_u32)
            }),
        };
        match decoded {
            Some(ch) => {
                out.push(ch);
                i += semi + 1;
            }
            None => out.push(c),
        }
    }
    out
}

/// Whitespace and control chars collapsed to single spaces, trimmed.
fn collapse(text: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len());
    for &c in text {
        if c.is_whitespace() || c.is_control() {
            if out.last().is_some_and(|l| *l != ' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    if out.last() == Some(&' ') {
        out.pop();
    }
    out
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn is_secret_name(name: &[char]) -> bool {
    let lower: String = name.iter().map(|c| c.to_ascii_lowercase()).collect();
    ["token", "jwt", "password", "secret", "tableau-auth"]
        .iter()
        .any(|s| lower.ends_with(s))
}

/// Replaces the values of secret-named attributes / keys / parameters with `***`:
/// `token="…"`, `'jwt': '…'`, `"password" : "…"`, `secret=…`.
fn mask_key_values(text: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&c) = text.get(i) {
        let starts_ident =
            is_ident_char(c) && (i == 0 || text.get(i - 1).is_none_or(|p| !is_ident_char(*p)));
        if !starts_ident {
            out.push(c);
            i += 1;
            continue;
        }
        let end = (i..=text.len())
            .find(|&j| text.get(j).is_none_or(|c| !is_ident_char(*c)))
            .unwrap_or(text.len());
        let name = text.get(i..end).unwrap_or_default();
        out.extend_from_slice(name);
        i = end;
        if !is_secret_name(name) {
            continue;
        }
        // Optional closing quote of a JSON key, spaces, `=` or `:`, spaces.
        let mut k = i;
        if matches!(text.get(k), Some('"' | '\'')) {
            k += 1;
        }
        while text.get(k).is_some_and(|c| c.is_whitespace()) {
            k += 1;
        }
        if !matches!(text.get(k), Some('=' | ':')) {
            continue;
        }
        k += 1;
        while text.get(k).is_some_and(|c| c.is_whitespace()) {
            k += 1;
        }
        out.extend_from_slice(text.get(i..k).unwrap_or_default());
        match text.get(k) {
            Some(&quote @ ('"' | '\'')) => {
                out.push(quote);
                k += 1;
                let mut closed = false;
                while let Some(&v) = text.get(k) {
                    k += 1;
                    if v == '\\' {
                        k += 1;
                    } else if v == quote {
                        closed = true;
                        break;
                    }
                }
                out.extend("***".chars());
                if closed {
                    out.push(quote);
                }
            }
            _ => {
                let start = k;
                while text
                    .get(k)
                    .is_some_and(|c| !c.is_whitespace() && !"&,;<>\"'}])".contains(*c))
                {
                    k += 1;
                }
                if k > start {
                    out.extend("***".chars());
                }
            }
        }
        i = k.min(text.len());
    }
    out
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.|+=~".contains(c)
}

/// Replaces long token-like runs (JWTs, session tokens, keys) with `***`.
fn mask_long_runs(text: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&c) = text.get(i) {
        if !is_token_char(c) {
            out.push(c);
            i += 1;
            continue;
        }
        let end = (i..=text.len())
            .find(|&j| text.get(j).is_none_or(|c| !is_token_char(*c)))
            .unwrap_or(text.len());
        let run = text.get(i..end).unwrap_or_default();
        // Sentence punctuation after a value is not part of it.
        let core_len = run.len() - run.iter().rev().take_while(|c| **c == '.').count();
        let core = run.get(..core_len).unwrap_or_default();
        if looks_secret(core) {
            out.extend("***".chars());
            out.extend_from_slice(run.get(core_len..).unwrap_or_default());
        } else {
            out.extend_from_slice(run);
        }
        i = end;
    }
    out
}

fn looks_secret(run: &[char]) -> bool {
    if run.len() < SECRET_RUN || is_uuid(run) {
        return false;
    }
    let segments: Vec<&[char]> = run.split(|c| *c == '.').collect();
    let jwt_like = segments.len() >= 3
        && segments.iter().all(|s| {
            !s.is_empty()
                && s.iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        });
    let letters = run.iter().filter(|c| c.is_ascii_alphabetic()).count();
    let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
    let upper = run.iter().filter(|c| c.is_ascii_uppercase()).count();
    let lower = letters - upper;
    jwt_like || (letters > 0 && digits > 0) || (upper * 4 >= run.len() && lower * 4 >= run.len())
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(run: &[char]) -> bool {
    let groups: Vec<&[char]> = run.split(|c| *c == '-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.iter().all(|c| c.is_ascii_hexdigit()))
}

/// Collapses whitespace and cuts to [`EXCERPT_CHARS`] chars, "…" included.
fn shorten(text: &[char]) -> String {
    let words = collapse(text);
    if words.len() <= EXCERPT_CHARS {
        return words.into_iter().collect();
    }
    let mut out: String = words.iter().take(EXCERPT_CHARS - 1).collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

#[cfg(test)]
mod fuzz;
