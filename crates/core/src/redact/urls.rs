//! URLs as we show them (proxy and Redis URLs in messages, `repr`s and logs).

use std::borrow::Cow;

use super::heuristics::is_secret_name;

/// What an unparseable URL is shown as: any part of it might be a secret.
const UNPARSEABLE: &str = "(unparseable URL)";

/// Short parameter names that hold secrets but that [`is_secret_name`] does not catch (Redis
/// URLs carry their password as `pass`).
const SECRET_PARAMETERS: &[&str] = &["pass", "passwd", "pwd", "auth", "sig", "signature"];

/// `raw` for showing, with `***` for:
///
/// * the password of its user info (`http://user:***@proxy:3128/`);
/// * the value of every query (or fragment) parameter whose name looks secret: it ends with
///   `token`, `jwt`, `password`, `secret`, `tableau-auth` or `key`, or is `pass`, `passwd`,
///   `pwd`, `auth`, `sig` or `signature` (any case, percent-decoded first), so `?password=`,
///   `?pass=`, `?access_token=`, `?client_secret=` and `?api_key=` are all masked.
///
/// Everything else is kept as it was written. A URL that does not parse is shown as
/// `(unparseable URL)`.
pub fn mask_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return UNPARSEABLE.to_owned();
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if let Some(Cow::Owned(query)) = url.query().map(mask_parameters) {
        url.set_query(Some(&query));
    }
    if let Some(Cow::Owned(fragment)) = url.fragment().map(mask_parameters) {
        url.set_fragment(Some(&fragment));
    }
    url.into()
}

/// `a=1&password=x` as `a=1&password=***`; borrowed when nothing is masked.
fn mask_parameters(pairs: &str) -> Cow<'_, str> {
    let mut masked = false;
    let shown: Vec<Cow<'_, str>> = pairs
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if !value.is_empty() && is_secret_parameter(name) => {
                masked = true;
                Cow::Owned(format!("{name}=***"))
            }
            _ => Cow::Borrowed(pair),
        })
        .collect();
    if masked {
        Cow::Owned(shown.join("&"))
    } else {
        Cow::Borrowed(pairs)
    }
}

fn is_secret_parameter(raw_name: &str) -> bool {
    let name: String = url::form_urlencoded::parse(raw_name.as_bytes())
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect();
    is_secret_name(&name) || name.ends_with("key") || SECRET_PARAMETERS.contains(&name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_passwords_are_masked() {
        assert_eq!(
            mask_url("http://user:pw@proxy:3128"),
            "http://user:***@proxy:3128/"
        );
        assert_eq!(
            mask_url("redis://:hunter2@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        assert_eq!(
            mask_url("socks5h://me:p%40ss%3Aword@proxy:1080"),
            "socks5h://me:***@proxy:1080"
        );
        // A user without a password is not a secret.
        assert_eq!(
            mask_url("http://user@proxy:3128"),
            "http://user@proxy:3128/"
        );
    }

    #[test]
    fn secret_query_parameters_are_masked() {
        assert_eq!(
            mask_url("redis+unix:///run/redis.sock?db=2&pass=hunter2"),
            "redis+unix:///run/redis.sock?db=2&pass=***"
        );
        assert_eq!(
            mask_url("rediss://h:6380/0?password=hunter2&protocol=resp3"),
            "rediss://h:6380/0?password=***&protocol=resp3"
        );
        assert_eq!(
            mask_url(
                "https://h/p?Password=a&TOKEN=b&access_token=c&client_secret=d&jwt=e&api_key=f&pwd=g"
            ),
            "https://h/p?Password=***&TOKEN=***&access_token=***&client_secret=***&jwt=***&api_key=***&pwd=***"
        );
        // Names are compared percent-decoded; values may hold anything.
        assert_eq!(
            mask_url("https://h/?pass%77ord=x%26y&x-tableau-auth=a%7Cb%7Cc"),
            "https://h/?pass%77ord=***&x-tableau-auth=***"
        );
        // In a fragment too (OAuth implicit-flow answers).
        assert_eq!(
            mask_url("https://h/cb#state=1&access_token=abc"),
            "https://h/cb#state=1&access_token=***"
        );
        // Both forms at once.
        let shown = mask_url("http://u:hunter2@proxy:3128/?token=hunter3");
        assert_eq!(shown, "http://u:***@proxy:3128/?token=***");
    }

    #[test]
    fn other_query_parameters_are_kept_as_written() {
        for kept in [
            "https://h/?q=a%20b+c&tokens_left=3&db=2",
            "https://h/?password=&token",
            "https://h/?a=1&&b",
            "redis://127.0.0.1:6379/0",
        ] {
            assert_eq!(mask_url(kept), kept);
        }
    }

    #[test]
    fn unparseable_urls_show_nothing() {
        assert_eq!(mask_url("nonsense"), UNPARSEABLE);
        assert_eq!(mask_url("redis://u:pw-secret@h:notaport/0"), UNPARSEABLE);
        assert_eq!(mask_url(""), UNPARSEABLE);
    }
}
