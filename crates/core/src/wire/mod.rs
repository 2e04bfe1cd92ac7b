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
//!
//! One file a job:
//!
//! | file | what it knows |
//! |---|---|
//! | `format.rs` | [`WireFormat`] and its media type |
//! | `requests.rs` | the `auth/signin` and `auth/switchSite` request bodies |
//! | `sniff.rs` | whether a body is XML, JSON, or neither (empty, HTML, plain text) |
//! | `xml.rs` | the streaming XML walker every XML answer is read with |
//! | `json.rs` | the lenient serde readers of JSON answers |
//! | `answers.rs` | what the answers share: sniff-then-read, required values, `site` / `user` |
//! | `sign_in.rs`, `server_info.rs`, `session.rs` | one answer each, XML and JSON |
//! | `pages.rs` | one page of a REST list answer: items and `pagination` |
//! | `tableau_error.rs` | Tableau's error answers |
//! | `error.rs` | [`WireError`]: why a body is not the answer expected |
//!
//! The masked excerpt of a body in a [`WireError`] is made by [`crate::redact::excerpt`].

mod answers;
mod error;
mod format;
mod json;
mod pages;
mod requests;
mod server_info;
mod session;
mod sign_in;
pub(crate) mod sniff;
mod tableau_error;
mod xml;

pub use error::WireError;
pub use format::WireFormat;
pub use pages::{parse_page, Page, Pagination};
pub use requests::{sign_in_body, switch_site_body, SignInCredentials, SignInRequest};
pub use server_info::{parse_server_info, ServerInfo};
pub use session::{parse_current_session, CurrentSession};
pub use sign_in::{parse_estimated_time_to_expiration, parse_sign_in_answer, SignInAnswer};
pub use tableau_error::{parse_error, TableauErrorBody};

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
