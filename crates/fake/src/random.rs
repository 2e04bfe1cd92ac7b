//! Random values: LUIDs, session tokens (REST and Tableau Cloud Manager), and the secrets and
//! password made at start.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

/// `n` random bytes (aws-lc-rs; uuid's generator as a fallback, never a panic).
pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    if aws_lc_rs::rand::fill(&mut buf).is_err() {
        for chunk in buf.chunks_mut(16) {
            let id = uuid::Uuid::new_v4();
            let bytes = id.as_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
    buf
}

/// `n` random characters from `[A-Za-z0-9]` (uniform, by rejection).
pub(crate) fn random_alnum(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in random_bytes(n * 2) {
            // 62 * 4 = 248: accept 0..248 so every character is equally likely.
            if b < 248 && out.len() < n {
                out.push(char::from(ALPHABET[usize::from(b % 62)]));
            }
        }
    }
    out
}

/// A new LUID (uuid4, lower case, hyphenated).
pub(crate) fn new_luid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A Tableau Cloud-shaped token: `{22 base64url}|{32 alnum}|{site luid}`.
pub(crate) fn new_token(site_luid: &str) -> String {
    format!(
        "{}|{}|{}",
        URL_SAFE_NO_PAD.encode(random_bytes(16)),
        random_alnum(32),
        site_luid
    )
}

/// A Tableau Cloud Manager session token: 43 characters of base64url (32 random bytes). Its
/// shape is the fake's own [guess]; it shares nothing with a site session token.
pub(crate) fn new_session_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(32))
}

/// A connected-app secret value: 44 characters of standard base64 (33 random bytes).
pub(crate) fn new_secret_value() -> String {
    STANDARD.encode(random_bytes(33))
}

/// A PAT secret shaped like Tableau's: `{base64 of 16 bytes}:{32 alnum}`.
pub(crate) fn new_pat_secret() -> String {
    format!("{}:{}", STANDARD.encode(random_bytes(16)), random_alnum(32))
}

/// A password that contains every XML-special character, so that a client which forgets to
/// escape attribute values cannot sign in with it.
pub(crate) fn new_password() -> String {
    format!("{}&<\"'>{}", random_alnum(10), random_alnum(10))
}
