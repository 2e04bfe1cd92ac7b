//! The streaming XML walker every XML answer is read with: a [`quick_xml::Reader`] (no DOM, no
//! DTD, only the five predefined entities and numeric character references), elements and
//! attributes matched by their local name (any namespace or prefix, or none), the root required
//! to be `tsResponse`.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::error::{Fail, WireError, MALFORMED_XML};
use super::sniff::starts_with_tag;

/// The elements this module cares about, by local name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tag {
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

/// Paths deeper than this are not reported to the visitor (the items of REST lists, the
/// deepest answers we read, nest a few levels: `tsResponse/workbooks/workbook/tags/tag`).
const MAX_DEPTH: usize = 16;

/// One step of the walk, with the path of known tags from the root to the current element.
pub(super) enum XmlStep<'a> {
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
pub(super) fn walk_xml(
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
pub(super) fn attrs<'e, const N: usize>(
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

/// An attribute value, owned.
pub(super) fn owned(value: Option<Cow<'_, str>>) -> Option<String> {
    value.map(Cow::into_owned)
}
