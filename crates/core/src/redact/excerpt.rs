//! A short, single-line, masked excerpt of a body that is not the answer we expected, for
//! error messages ("the server answered an HTML page: «502 Bad Gateway nginx»").

use super::heuristics::{is_ident_char, is_token_char, mask_secrets};
use crate::wire::sniff::{looks_like_html, trim_start};

/// The longest excerpt, in chars, "…" included.
const EXCERPT_CHARS: usize = 160;
/// How much of a body the excerpt looks at.
const EXCERPT_WINDOW: usize = 64 * 1024;

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
    shorten(&mask_secrets(&text))
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
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SITE_LUID: &str = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d";
    const JWT: &str = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImFiYyJ9.eyJzdWIiOiJ1c2VyQGV4YW1wbGUuY29tIn0.dGhpc2lzYXNpZ25hdHVyZQ";

    #[test]
    fn excerpt_masks_named_secrets() {
        let cases = [
            (
                r#"<tsRequest><credentials jwt="abc" isUat="true"><site contentUrl="s"/></credentials></tsRequest>"#,
                r#"<tsRequest><credentials jwt="***" isUat="true"><site contentUrl="s"/></credentials></tsRequest>"#,
            ),
            (
                r#"<credentials name="admin" password='p"w'/>"#,
                r#"<credentials name="admin" password='***'/>"#,
            ),
            (
                r#"<credentials personalAccessTokenName="ci" PersonalAccessTokenSecret = "x y z"/>"#,
                r#"<credentials personalAccessTokenName="ci" PersonalAccessTokenSecret = "***"/>"#,
            ),
            (
                r#"{"credentials":{"token" : "short","TOKEN":"a\"b","site":{"id":"s"}}}"#,
                r#"{"credentials":{"token" : "***","TOKEN":"***","site":{"id":"s"}}}"#,
            ),
            (
                "GET /x?client_secret=abc&user=me",
                "GET /x?client_secret=*** &user=me",
            ),
            ("password: hunter2, next", "password: ***, next"),
            ("X-Tableau-Auth: abc def", "X-Tableau-Auth: *** def"),
            (
                "personalAccessTokenName=ci tokenName=x the token expired",
                "personalAccessTokenName=ci tokenName=x the token expired",
            ),
            (r#"secret="unterminated"#, r#"secret="***"#),
        ];
        for (body, expected) in cases {
            let got = excerpt(body.as_bytes());
            // The unquoted-value rule keeps the separator; compare ignoring the space we show.
            assert_eq!(
                got.replace("*** &", "***&"),
                expected.replace("*** &", "***&"),
                "{body}"
            );
        }
    }

    #[test]
    fn excerpt_masks_jwts_and_long_tokens_but_keeps_uuids() {
        let body = format!(
            "Bearer {JWT} was refused for site {SITE_LUID}. Session HvZMqFFfQQmOM4L-AZNIQA|5fI6T54OPK1Gn1p4w0RtHv6EkojWRTwq|{SITE_LUID}. Key eIX6mvFsqyansa4KqEI1UwOpS8ggRs2l."
        );
        let got = excerpt(body.as_bytes());
        assert!(!got.contains("eyJ"), "{got}");
        assert!(!got.contains("5fI6T54OPK1Gn1p4w0RtHv6EkojWRTwq"), "{got}");
        assert!(!got.contains("eIX6mvFsqyansa4KqEI1UwOpS8ggRs2l"), "{got}");
        assert!(
            got.starts_with("Bearer *** was refused for site 9a8b7c6d-"),
            "{got}"
        );
        assert!(got.ends_with("Key ***."), "{got}");
        // Ordinary words, versions and paths survive.
        let plain = "Unknown resource '/2.4/serverInfo' specified in URI. Internationalization version 10100.16.1024.2100";
        assert_eq!(excerpt(plain.as_bytes()), plain);
        // A letters-only random token (mixed case) is masked too.
        assert_eq!(excerpt(b"id QwErTyUiOpAsDfGhJkLzXc end"), "id *** end");
    }

    #[test]
    fn excerpt_masks_secrets_inside_html() {
        let body = format!(
            "<!DOCTYPE html><html><head><title>Sign in</title><script>var token = '{JWT}';</script><style>p {{}}</style></head><body><p data-token=\"{JWT}\">Your token={JWT} expired</p><!-- password=hunter2 --></body></html>"
        );
        let got = excerpt(body.as_bytes());
        assert_eq!(got, "Sign in — Your token=*** expired");
    }

    #[test]
    fn excerpt_collapses_whitespace_and_is_single_line() {
        assert_eq!(excerpt(b"  a\r\n\tb  \x00 c\n"), "a b c");
        assert_eq!(excerpt(b""), "");
        assert_eq!(excerpt(b"\xEF\xBB\xBF  "), "");
        assert_eq!(excerpt(b"bad \xFF bytes"), "bad \u{FFFD} bytes");
        assert_eq!(
            excerpt(b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"),
            "502 Bad Gateway nginx"
        );
        assert_eq!(
            excerpt(
                b"<html><body><p>Fish &amp; chips &lt;3 &#233;&#x20AC; &bogus;</p></body></html>"
            ),
            "Fish & chips <3 é€ &bogus;"
        );
    }

    #[test]
    fn excerpt_truncates_on_char_boundaries() {
        for unit in ["é", "€", "😀", "ab", "a "] {
            let body = unit.repeat(400);
            let got = excerpt(body.as_bytes());
            assert!(
                got.chars().count() <= 160,
                "{unit}: {}",
                got.chars().count()
            );
            assert!(got.ends_with('…'), "{unit}");
            assert!(got.chars().count() >= 150, "{unit}");
        }
        let exact = "x".repeat(160);
        assert_eq!(excerpt(exact.as_bytes()), exact);
        let longer = "x ".repeat(81);
        let got = excerpt(longer.as_bytes());
        assert!(got.ends_with('…') && got.chars().count() <= 160, "{got}");
        // Raw byte cuts inside a multi-byte character never panic.
        let text = "é€😀".repeat(100);
        for cut in 0..text.len() {
            let got = excerpt(&text.as_bytes()[..cut]);
            assert!(got.chars().count() <= 160);
        }
    }

    #[test]
    fn excerpt_never_shows_a_secret_cut_by_the_window() {
        // A token straddling the end of the window must not leak as a short run.
        let mut body = "<html><body>".to_owned();
        body.push_str(&" ".repeat(EXCERPT_WINDOW - body.len() - 10));
        body.push_str("AbCdEf0123456789XyZ");
        body.push_str("</body></html>");
        let got = excerpt(body.as_bytes());
        assert!(!got.contains("AbCdEf"), "{got}");
    }

    #[test]
    fn excerpt_of_a_huge_body_is_bounded() {
        let body = format!(
            "<tsResponse>{}</tsResponse>",
            "<warning>text</warning>".repeat(50_000)
        );
        let got = excerpt(body.as_bytes());
        assert!(got.chars().count() <= 160);
    }

    proptest! {
        #[test]
        fn excerpts_never_show_a_token(token in "[A-Za-z0-9_-]{24,64}", filler in "[a-z ]{0,80}") {
            let body = format!("<html><body>{filler}<form><input name=\"token\" value=\"{token}\"></form><p token=\"{token}\">{filler}</p></body></html>");
            let text = excerpt(body.as_bytes());
            prop_assert!(!text.contains(&token), "{text}");
        }
    }
}
