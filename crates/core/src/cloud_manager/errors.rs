//! Tableau Cloud Manager's error answers: JSON with `message` and `errorCode` [code], turned
//! into our errors. The codes themselves are not documented, so the hints go by the HTTP
//! status and the call (`crate::error::hint_for`).

use serde_json::Value;

use crate::error::{Call, Error, TableauFailure};
use crate::retry::retry_after;
use crate::transport::Reply;

/// `message` and `errorCode` (or `code`) of a TCM error body, when it has them.
fn read(body: &[u8]) -> (String, String) {
    let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(body) else {
        return (String::new(), String::new());
    };
    let text = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| match o.get(*n) {
                Some(Value::String(s)) => Some(s.trim().to_string()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
            .unwrap_or_default()
    };
    (text(&["errorCode", "code"]), text(&["message", "error"]))
}

/// A non-success TCM answer as our error: a sign-in refused, a dead session, a rate limit,
/// or another refusal, each with the hint for its status. A body that is not TCM's JSON keeps
/// only the status (and an excerpt, when it is not JSON at all: a proxy or SSO page).
pub fn failure(reply: &Reply, call: Call) -> Error {
    let (code, message) = read(&reply.body);
    let detail = if message.is_empty() && code.is_empty() && !reply.body.is_empty() {
        format!(
            "not Tableau Cloud Manager's JSON: {}",
            crate::redact::excerpt(&reply.body)
        )
    } else {
        String::new()
    };
    let f = Box::new(TableauFailure::new(
        reply.status,
        &code,
        &message,
        &detail,
        call,
    ));
    match (reply.status, call) {
        (429, _) => Error::RateLimited {
            failure: f,
            retry_after: retry_after(reply),
        },
        (401, Call::CloudManager) => Error::SessionExpired(f),
        (400..=499, Call::CloudManagerPatLogin | Call::CloudManagerJwtLogin) => Error::SignIn(f),
        _ => Error::Api(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_typed_by_status_and_call_with_hints() {
        let body = r#"{"message":"Invalid token","errorCode":"AUTH-001"}"#;
        match failure(&Reply::test(401, body), Call::CloudManagerPatLogin) {
            Error::SignIn(f) => {
                assert_eq!(
                    (f.code.as_str(), f.summary.as_str()),
                    ("AUTH-001", "Invalid token")
                );
                assert!(
                    f.hint.contains("site's personal access token"),
                    "{}",
                    f.hint
                );
            }
            other => panic!("{other:?}"),
        }
        match failure(
            &Reply::test(403, r#"{"message":"nope"}"#),
            Call::CloudManagerJwtLogin,
        ) {
            Error::SignIn(f) => assert!(f.hint.contains("cloud administrators"), "{}", f.hint),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            failure(&Reply::test(401, "{}"), Call::CloudManager),
            Error::SessionExpired(_)
        ));
        assert!(matches!(
            failure(&Reply::test(429, ""), Call::CloudManager),
            Error::RateLimited { .. }
        ));
        match failure(
            &Reply::test(502, "<html>bad gateway</html>"),
            Call::CloudManager,
        ) {
            Error::Api(f) => assert!(
                f.detail.contains("not Tableau Cloud Manager"),
                "{}",
                f.detail
            ),
            other => panic!("{other:?}"),
        }
    }
}
