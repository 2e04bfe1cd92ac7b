//! How secrets are recognised in free text (an unexpected body, a URL's query): values under
//! secret-looking names, and long runs that look like tokens. Nothing here knows what the text
//! is; [`super::excerpt()`] and [`super::mask_url`] decide what to feed it.

/// Runs of token-like chars at least this long may be secrets.
const SECRET_RUN: usize = 20;

/// The text with every secret found replaced by `***`: first the values of secret-named
/// attributes / keys / parameters ([`mask_key_values`]), then long token-like runs
/// ([`mask_long_runs`]).
pub(super) fn mask_secrets(text: &[char]) -> Vec<char> {
    mask_long_runs(&mask_key_values(text))
}

/// A char of an attribute, key or parameter name.
pub(super) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Whether a value under `name` is a secret: the name ends with `token`, `jwt`, `password`,
/// `secret` or `tableau-auth`, in any case (so `personalAccessTokenSecret`, `access_token` and
/// `X-Tableau-Auth` too).
pub(super) fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
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
        let end = run_end(text, i, is_ident_char);
        let name = text.get(i..end).unwrap_or_default();
        out.extend_from_slice(name);
        i = end;
        if !is_secret_name(&name.iter().collect::<String>()) {
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

/// A char of a token-like run (JWTs, session tokens, keys).
pub(super) fn is_token_char(c: char) -> bool {
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
        let end = run_end(text, i, is_token_char);
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

/// Where the run of chars from `start` that are `part` of it ends.
fn run_end(text: &[char], start: usize, part: fn(char) -> bool) -> usize {
    (start..=text.len())
        .find(|&j| text.get(j).is_none_or(|c| !part(*c)))
        .unwrap_or(text.len())
}
