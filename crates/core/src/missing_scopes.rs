//! What the calls of one cache entry learned about 401002 on JWT sessions.
//!
//! Tableau answers a call outside the JWT's scopes exactly as it answers a dead session: 401,
//! code 401002. So the first 401002 of a kind of call signs in again, as for a dead session;
//! when that kind answers 401002 on a second, different session too, the scope is missing, and
//! every later 401002 of that kind is reported at once (no more sign-ins: the credential's
//! scopes do not change). A kind that works after the re-sign-in was a dead session after all
//! and is forgotten. A kind is [`ScopeNeed::key`](crate::scopes::ScopeNeed::key): the calls that
//! need the same scopes (all of VizQL Data Service; REST GETs opened by content:read), or, for a
//! call the scope table does not know, its method and path with ids left out.

use std::collections::HashMap;
use std::sync::Mutex;

use super::redact::Secret;

#[derive(Default)]
pub struct MissingScopes {
    /// Kind of call → the token of the first session it answered 401002 on.
    first_failure: Mutex<HashMap<String, Secret>>,
}

/// What a 401002 means, given what the entry knows.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Perhaps a dead session: sign in again (once) and retry.
    SignInAgain,
    /// The family failed on another session already: the scope is missing.
    ScopeMissing,
}

impl MissingScopes {
    /// A call of `family` answered 401002 on the session with `token`.
    pub fn failed(&self, family: &str, token: &str) -> Verdict {
        let mut map = self.first_failure.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(family) {
            Some(first) if first.expose() != token => Verdict::ScopeMissing,
            Some(_) => Verdict::SignInAgain,
            None => {
                map.insert(family.to_string(), Secret::new(token));
                Verdict::SignInAgain
            }
        }
    }

    /// A call of `family` worked after a re-sign-in: its 401002 was a dead session.
    pub fn worked(&self, family: &str) {
        self.first_failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(family);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_failing_on_two_sessions_misses_its_scope() {
        let m = MissingScopes::default();
        assert_eq!(m.failed("GET x", "t1"), Verdict::SignInAgain);
        // Other callers of the first session are still told to sign in (they find the new one).
        assert_eq!(m.failed("GET x", "t1"), Verdict::SignInAgain);
        assert_eq!(m.failed("GET x", "t2"), Verdict::ScopeMissing);
        assert_eq!(m.failed("GET x", "t3"), Verdict::ScopeMissing);
        assert_eq!(m.failed("GET y", "t3"), Verdict::SignInAgain);
    }

    #[test]
    fn a_family_that_worked_again_was_a_dead_session() {
        let m = MissingScopes::default();
        assert_eq!(m.failed("GET x", "t1"), Verdict::SignInAgain);
        m.worked("GET x");
        assert_eq!(m.failed("GET x", "t2"), Verdict::SignInAgain);
    }
}
