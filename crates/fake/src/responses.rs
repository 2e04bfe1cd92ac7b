//! Response bodies, XML (the default) and JSON (when the request's `Accept` names
//! `application/json`), and the Tableau error type. Every attribute and text value is escaped;
//! characters XML 1.0 cannot carry are replaced by U+FFFD.

use serde_json::json;

use super::model::{Site, User};

/// `Content-Type` of XML answers (Tableau's own spelling).
pub(crate) const XML_CONTENT_TYPE: &str = "application/xml;charset=utf-8";
/// `Content-Type` of JSON answers.
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json;charset=utf-8";
/// `Content-Type` of HTML pages.
pub(crate) const HTML_CONTENT_TYPE: &str = "text/html;charset=utf-8";

const PROLOG: &str = "<?xml version='1.0' encoding='UTF-8'?>";
const TS_RESPONSE_OPEN: &str = "<tsResponse xmlns=\"http://tableau.com/api\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">";
const TS_RESPONSE_CLOSE: &str = "</tsResponse>";

/// Product version and build reported by `serverinfo`.
pub(crate) const PRODUCT_VERSION: &str = "2026.1.0";
pub(crate) const PRODUCT_BUILD: &str = "20261.26.0101.0000";

/// The body format of an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Xml,
    Json,
}

impl Format {
    /// JSON when `Accept` contains `application/json`, else XML.
    pub fn from_accept(accept: Option<&str>) -> Format {
        match accept {
            Some(a) if a.to_ascii_lowercase().contains("application/json") => Format::Json,
            _ => Format::Xml,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xml => XML_CONTENT_TYPE,
            Format::Json => JSON_CONTENT_TYPE,
        }
    }
}

/// Escapes a value for an XML attribute or text node.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// Escapes a value for an XML text node (`&`, `<`, `>`; quotes stay as they are).
pub(crate) fn xml_escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// Whether XML 1.0 allows the character at all.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
        || matches!(c, '\t' | '\n' | '\r')
}

/// `inner` inside the XML prolog and `tsResponse`.
pub(crate) fn wrap(inner: &str) -> String {
    format!("{PROLOG}{TS_RESPONSE_OPEN}{inner}{TS_RESPONSE_CLOSE}")
}

// ---------------------------------------------------------------------------------------------
// Errors

/// A Tableau error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: String,
    /// The connected-app sub-code put at the end of `detail`, e.g. `(16)`.
    pub sub_code: Option<u32>,
    pub summary: String,
    pub detail: String,
}

impl ApiError {
    pub fn new(status: u16, code: &str, summary: &str, detail: &str) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            sub_code: None,
            summary: summary.to_string(),
            detail: detail.to_string(),
        }
    }

    /// The key counted in [`Stats::rejections`](crate::Stats::rejections): `code` or `code/sub`.
    pub fn rejection_key(&self) -> String {
        match self.sub_code {
            Some(sub) => format!("{}/{sub}", self.code),
            None => self.code.clone(),
        }
    }

    /// 400000: the body could not be parsed.
    pub fn bad_request(detail: &str) -> Self {
        Self::new(400, "400000", "Bad Request", detail)
    }

    /// 401001 without a sub-code.
    pub fn sign_in_failed() -> Self {
        Self::new(
            401,
            "401001",
            "Signin Error",
            "Error signing in to Tableau Server",
        )
    }

    /// 401001 with a connected-app sub-code.
    pub fn jwt(sub_code: u32) -> Self {
        ApiError {
            sub_code: Some(sub_code),
            ..Self::new(
                401,
                "401001",
                "Signin Error",
                &format!("Error signing in to Tableau Server ({sub_code})"),
            )
        }
    }

    /// 401000: no `X-Tableau-Auth` header.
    pub fn no_credentials() -> Self {
        Self::new(
            401,
            "401000",
            "Unauthorized Access",
            "No authentication credentials were provided.",
        )
    }

    /// 401002: unknown, expired or signed-out token.
    pub fn invalid_token() -> Self {
        Self::new(
            401,
            "401002",
            "Unauthorized Access",
            "Invalid authentication credentials were provided.",
        )
    }

    /// 404000: no such resource.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            404,
            "404000",
            "Resource Not Found",
            &format!("Resource '{path}' could not be found."),
        )
    }

    /// 404003: unknown resource (unknown or malformed API version).
    pub fn unknown_resource(version: &str, rest: &str) -> Self {
        Self::new(
            404,
            "404003",
            "Resource Not Found",
            &format!("Unknown resource '/{version}/{rest}' specified in URI."),
        )
    }

    /// 405000: wrong HTTP method.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            405,
            "405000",
            "Method Not Allowed",
            &format!("Request type '{method}' is not supported for this resource."),
        )
    }

    /// 413000: body over the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "413000",
            "Payload Too Large",
            &format!("The request body exceeds {limit} bytes."),
        )
    }

    /// 403070: switch to the site already signed in to.
    pub fn switch_same_site(content_url: &str) -> Self {
        Self::new(
            403,
            "403070",
            "Forbidden to switch site",
            &format!("The user is already signed in to site '{content_url}'."),
        )
    }

    /// 401000: switch to a site that does not exist or where the user is not a member
    /// (one answer for both, so that site names do not leak).
    pub fn switch_denied(content_url: &str) -> Self {
        Self::new(
            401,
            "401000",
            "Unauthorized Access",
            &format!("Switch site failed: the site '{content_url}' does not exist or the user is not a member of it."),
        )
    }

    /// 403000: a site-scoped path names another site than the token's.
    pub fn site_mismatch(username: &str, token_site: &str, path_site: &str) -> Self {
        Self::new(
            403,
            "403000",
            "Forbidden",
            &format!("User '{username}' is authenticated for site '{token_site}' and may not access or modify resources on site '{path_site}'."),
        )
    }

    /// The error body in `format`.
    pub fn body(&self, format: Format) -> String {
        error_body(format, &self.code, &self.summary, &self.detail)
    }
}

/// A Tableau error body.
pub(crate) fn error_body(format: Format, code: &str, summary: &str, detail: &str) -> String {
    match format {
        Format::Xml => wrap(&format!(
            "<error code=\"{}\"><summary>{}</summary><detail>{}</detail></error>",
            xml_escape(code),
            xml_escape_text(summary),
            xml_escape_text(detail)
        )),
        Format::Json => {
            json!({"error": {"code": code, "summary": summary, "detail": detail}}).to_string()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Success bodies

/// The credentials block of a sign-in or switch-site answer.
pub(crate) fn credentials_body(
    format: Format,
    token: &str,
    estimated_time_to_expiration: Option<&str>,
    site_luid: &str,
    site_content_url: &str,
    user_luid: &str,
) -> String {
    match format {
        Format::Xml => {
            let ete = estimated_time_to_expiration
                .map(|v| format!(" estimatedTimeToExpiration=\"{}\"", xml_escape(v)))
                .unwrap_or_default();
            wrap(&format!(
                "<credentials token=\"{}\"{ete}><site id=\"{}\" contentUrl=\"{}\"/><user id=\"{}\"/></credentials>",
                xml_escape(token),
                xml_escape(site_luid),
                xml_escape(site_content_url),
                xml_escape(user_luid)
            ))
        }
        Format::Json => {
            let mut creds = serde_json::Map::new();
            creds.insert("token".into(), json!(token));
            if let Some(v) = estimated_time_to_expiration {
                creds.insert("estimatedTimeToExpiration".into(), json!(v));
            }
            creds.insert(
                "site".into(),
                json!({"id": site_luid, "contentUrl": site_content_url}),
            );
            creds.insert("user".into(), json!({"id": user_luid}));
            json!({ "credentials": creds }).to_string()
        }
    }
}

/// `GET serverinfo`.
pub(crate) fn server_info_body(format: Format, max_version: &str) -> String {
    match format {
        Format::Xml => wrap(&format!(
            "<serverInfo><productVersion build=\"{}\">{}</productVersion><restApiVersion>{}</restApiVersion></serverInfo>",
            xml_escape(PRODUCT_BUILD),
            xml_escape_text(PRODUCT_VERSION),
            xml_escape_text(max_version)
        )),
        Format::Json => json!({"serverInfo": {
            "productVersion": {"value": PRODUCT_VERSION, "build": PRODUCT_BUILD},
            "restApiVersion": max_version
        }})
        .to_string(),
    }
}

/// `GET sessions/current`.
pub(crate) fn session_body(format: Format, site: &Site, user: &User) -> String {
    const SITE_ROLE: &str = "Explorer";
    match format {
        Format::Xml => wrap(&format!(
            "<session><site id=\"{}\" contentUrl=\"{}\" name=\"{}\"/><user id=\"{}\" name=\"{}\" siteRole=\"{SITE_ROLE}\"/></session>",
            xml_escape(&site.luid),
            xml_escape(&site.content_url),
            xml_escape(&site.name),
            xml_escape(&user.luid),
            xml_escape(&user.name)
        )),
        Format::Json => json!({"session": {
            "site": {"id": site.luid, "contentUrl": site.content_url, "name": site.name},
            "user": {"id": user.luid, "name": user.name, "siteRole": SITE_ROLE}
        }})
        .to_string(),
    }
}

/// An identity-provider login page, as an SSO proxy in front of Tableau would answer.
pub(crate) fn sso_html_page() -> String {
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign In</title></head>\
<body><div class=\"login\"><h1>Sign in to continue</h1><p>Your organization uses single sign-on.</p>\
<form method=\"post\" action=\"/idp/SSO.saml2\"><input type=\"hidden\" name=\"SAMLRequest\" value=\"PHNhbWxwOkF1dGhuUmVxdWVzdC8+\">\
<label>Email <input type=\"email\" name=\"username\"></label><label>Password <input type=\"password\" name=\"password\"></label>\
<button type=\"submit\">Sign In</button></form></div></body></html>\n"
        .to_string()
}

/// A load balancer's HTML 429 page.
pub(crate) fn rate_limit_html_page() -> String {
    "<!DOCTYPE html>\n<html><head><title>429 Too Many Requests</title></head><body>\
<h1>Too Many Requests</h1><p>You have sent too many requests in a given amount of time. Please try again later.</p>\
</body></html>\n"
        .to_string()
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            xml_escape("a&<>\"'\n\u{1}b"),
            "a&amp;&lt;&gt;&quot;&apos;&#10;\u{FFFD}b"
        );
        assert_eq!(xml_escape_text("it's <a&b>\n"), "it's &lt;a&amp;b&gt;\n");
    }

    #[test]
    fn error_json_has_string_code() {
        let body = ApiError::jwt(16).body(Format::Json);
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(v["error"]["code"], "401001");
        assert_eq!(
            v["error"]["detail"],
            "Error signing in to Tableau Server (16)"
        );
    }
}
