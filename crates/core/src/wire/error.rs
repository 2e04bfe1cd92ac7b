//! Why a body could not be read as the expected Tableau answer.

use std::fmt;

use super::sniff::NotXmlOrJson;
use crate::redact::excerpt;

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
pub(super) enum Fail {
    NotTableau(&'static str),
    Missing(&'static str),
}

impl Fail {
    /// The failure of a body that is neither XML nor JSON.
    pub(super) fn not_xml_or_json(body: NotXmlOrJson) -> Fail {
        Fail::NotTableau(match body {
            NotXmlOrJson::Empty => WireError::EMPTY_BODY,
            NotXmlOrJson::Html => WireError::HTML_PAGE,
            NotXmlOrJson::PlainText => WireError::PLAIN_TEXT,
        })
    }

    pub(super) fn into_wire(self, body: &[u8]) -> WireError {
        match self {
            Fail::NotTableau(what) => WireError::NotTableau {
                what,
                excerpt: excerpt(body),
            },
            Fail::Missing(what) => WireError::Missing { what },
        }
    }
}

pub(super) const MALFORMED_XML: Fail = Fail::NotTableau(WireError::MALFORMED_XML);
