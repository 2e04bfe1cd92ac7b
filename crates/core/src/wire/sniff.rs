//! What a body is, from its first bytes: XML, JSON, or something that is neither (empty, an
//! HTML page, plain text). Knows nothing of Tableau: the parsers and the excerpts of
//! `crate::redact` both ask it.

/// What [`sniff`] found.
pub(super) enum Sniffed<'a> {
    /// XML that does not start like an HTML page, from its first `<`.
    Xml(&'a [u8]),
    /// JSON, from its `{`.
    Json(&'a [u8]),
    /// Neither.
    Other(NotXmlOrJson),
}

/// A body that is neither XML nor JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NotXmlOrJson {
    /// Nothing, or only a BOM and whitespace.
    Empty,
    /// An HTML page (`<!DOCTYPE html`, `<html`, `<head`, `<body`, any case).
    Html,
    /// Anything else.
    PlainText,
}

/// `body` without a UTF-8 BOM and leading ASCII whitespace.
pub(crate) fn trim_start(body: &[u8]) -> &[u8] {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    body.get(start..).unwrap_or_default()
}

/// What `body` is: a UTF-8 BOM and leading whitespace are skipped, `{` means JSON, `<` means
/// XML unless the body starts like an HTML page.
pub(super) fn sniff(body: &[u8]) -> Sniffed<'_> {
    let doc = trim_start(body);
    match doc.first() {
        None => Sniffed::Other(NotXmlOrJson::Empty),
        Some(b'{') => Sniffed::Json(doc),
        Some(b'<') if looks_like_html(doc) => Sniffed::Other(NotXmlOrJson::Html),
        Some(b'<') => Sniffed::Xml(doc),
        Some(_) => Sniffed::Other(NotXmlOrJson::PlainText),
    }
}

/// Whether `doc` (already trimmed) starts with `<!DOCTYPE html`, `<html`, `<head` or `<body`.
pub(crate) fn looks_like_html(doc: &[u8]) -> bool {
    ["<!doctype html", "<html", "<head", "<body"]
        .iter()
        .any(|start| starts_with_tag(doc, start.as_bytes()))
}

/// Case-insensitive `doc.starts_with(start)`, followed by the end, whitespace, `>` or `/`.
pub(super) fn starts_with_tag(doc: &[u8], start: &[u8]) -> bool {
    let Some(head) = doc.get(..start.len()) else {
        return false;
    };
    head.eq_ignore_ascii_case(start)
        && doc
            .get(start.len())
            .is_none_or(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
}
