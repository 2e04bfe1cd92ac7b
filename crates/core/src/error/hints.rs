//! The hints: what to check or change when Tableau (or Tableau Cloud Manager) refuses. They are
//! data, not code: [`hint_for`] looks them up, and the documentation's troubleshooting page is
//! made from the same rows ([`hint_table`], through `_core.hint_table()` and `docs/hooks.py`),
//! so the two cannot drift apart.

use super::Call;

/// The calls a rule is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calls {
    Any,
    Only(&'static [Call]),
    AnyBut(&'static [Call]),
}

impl Calls {
    pub fn covers(self, call: Call) -> bool {
        match self {
            Calls::Any => true,
            Calls::Only(calls) => calls.contains(&call),
            Calls::AnyBut(calls) => !calls.contains(&call),
        }
    }

    /// For people: `["any call"]`, `["sign-in", "switch site"]`, `["any call but sign-in"]`.
    pub fn names(self) -> Vec<String> {
        let named = |calls: &[Call]| calls.iter().map(|c| c.name().to_string()).collect();
        match self {
            Calls::Any => vec!["any call".to_string()],
            Calls::Only(calls) => named(calls),
            Calls::AnyBut(calls) => {
                vec![format!("any call but {}", named(calls).join(" or "))]
            }
        }
    }
}

/// One hint and the answers it is for; a field that is `None` matches anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HintRule {
    /// Tableau's error code ("" for an answer that had none).
    pub code: Option<&'static str>,
    /// The connected-app sub-code at the end of `detail`.
    pub subcode: Option<u32>,
    /// The HTTP status.
    pub status: Option<u16>,
    pub calls: Calls,
    pub hint: &'static str,
}

impl HintRule {
    fn matches(&self, status: u16, code: &str, subcode: Option<u32>, during: Call) -> bool {
        self.code.is_none_or(|c| c == code)
            && self.subcode.is_none_or(|s| subcode == Some(s))
            && self.status.is_none_or(|s| s == status)
            && self.calls.covers(during)
    }

    const fn at_status(self, status: u16) -> HintRule {
        HintRule {
            status: Some(status),
            ..self
        }
    }
}

/// The tables of rules, in the order [`hint_for`] tries them; within a table, the first rule
/// that matches wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HintTable {
    /// Connected-app sub-codes, whatever the code, status and call.
    Subcode,
    /// Tableau Cloud Manager's codes are not documented: its hints go by status and call.
    CloudManager,
    /// Tableau's error codes by call; last, any 429.
    Tableau,
}

impl HintTable {
    pub const ALL: [HintTable; 3] = [
        HintTable::Subcode,
        HintTable::CloudManager,
        HintTable::Tableau,
    ];

    pub fn rules(self) -> &'static [HintRule] {
        match self {
            HintTable::Subcode => SUBCODES,
            HintTable::CloudManager => CLOUD_MANAGER,
            HintTable::Tableau => TABLEAU,
        }
    }

    /// "subcode", "cloud_manager", "tableau".
    pub fn name(self) -> &'static str {
        match self {
            HintTable::Subcode => "subcode",
            HintTable::CloudManager => "cloud_manager",
            HintTable::Tableau => "tableau",
        }
    }
}

/// Every rule with its table, in the order [`hint_for`] tries them (for documentation).
pub fn hint_table() -> impl Iterator<Item = (HintTable, &'static HintRule)> {
    HintTable::ALL
        .into_iter()
        .flat_map(|table| table.rules().iter().map(move |rule| (table, rule)))
}

/// What to check for a Tableau code and connected-app sub-code (spec §6): the hint of the
/// first rule of [`hint_table`] that matches, or "" when none does.
pub fn hint_for(status: u16, code: &str, subcode: Option<u32>, during: Call) -> &'static str {
    rule_for(status, code, subcode, during).map_or("", |r| r.hint)
}

fn rule_for(
    status: u16,
    code: &str,
    subcode: Option<u32>,
    during: Call,
) -> Option<&'static HintRule> {
    hint_table()
        .map(|(_, rule)| rule)
        .find(|rule| rule.matches(status, code, subcode, during))
}

const fn subcode(subcode: u32, hint: &'static str) -> HintRule {
    HintRule {
        code: None,
        subcode: Some(subcode),
        status: None,
        calls: Calls::Any,
        hint,
    }
}

const fn cloud_manager(status: u16, calls: &'static [Call], hint: &'static str) -> HintRule {
    HintRule {
        code: None,
        subcode: None,
        status: Some(status),
        calls: Calls::Only(calls),
        hint,
    }
}

const fn tableau(code: &'static str, calls: Calls, hint: &'static str) -> HintRule {
    HintRule {
        code: Some(code),
        subcode: None,
        status: None,
        calls,
        hint,
    }
}

static SUBCODES: &[HintRule] = &[
    subcode(
        5,
        "user not found: the JWT 'sub' must be the Tableau username exactly (case-sensitive; \
         on Tableau Cloud the email address)",
    ),
    subcode(
        16,
        "login failed: usually 'exp' more than 10 minutes ahead, a wrong clock (check this \
         machine's UTC time), or a user unknown to the site",
    ),
    subcode(
        67,
        "on-demand access is not enabled for this site or connected app",
    ),
    subcode(
        126,
        "connected app not found or disabled: check client_id and that the app is enabled",
    ),
    subcode(
        127,
        "connected app secret not found: check secret_id (the JWT 'kid') and secret_value, \
         and that the secret was not deleted",
    ),
    subcode(
        10083,
        "bad JWT header: the 'kid' (secret_id) is missing or wrong",
    ),
    subcode(
        10084,
        "the JWT could not be parsed: check 'aud' is \"tableau\" and 'scp' is a list of scopes",
    ),
    subcode(
        10085,
        "Tableau could not reach the JWKS URL of the external authorization server",
    ),
    subcode(10088, "the RSA key must be 2048 bits"),
    subcode(
        10091,
        "this JWT's 'jti' was already used: every sign-in needs a freshly minted JWT \
         (pass a callable to Jwt(...) instead of a fixed token)",
    ),
    subcode(10099, "the JWT has no 'scp' claim: pass at least one scope"),
];

static CLOUD_MANAGER: &[HintRule] = &[
    cloud_manager(
        401,
        &[Call::CloudManagerPatLogin],
        "Tableau Cloud Manager refused the personal access token: make the PAT in Tableau \
         Cloud Manager (My Account Settings), as a site's personal access token does not \
         work here; its login sends only the secret, so check the whole secret was given",
    ),
    cloud_manager(
        401,
        &[Call::CloudManagerJwtLogin],
        "Tableau Cloud Manager refused the unified access token: check the UAT \
         configuration's issuer and key, the https://tableau.com/tenantId claim, the \
         username claim, that the configuration is enabled and lists the tenant, and this \
         machine's clock",
    ),
    cloud_manager(
        403,
        &[
            Call::CloudManagerPatLogin,
            Call::CloudManagerJwtLogin,
            Call::CloudManager,
        ],
        "only cloud administrators can use the Tableau Cloud Manager API; a unified access \
         token also needs the tableau:tcm_* scope of the call",
    ),
    cloud_manager(
        401,
        &[Call::CloudManager],
        "the Tableau Cloud Manager session is gone (expired, idle or signed out): sign in \
         again",
    ),
    cloud_manager(
        404,
        &[Call::CloudManager],
        "Tableau Cloud Manager does not know this path: a relative path is under your \
         tenant (\"sites\" is /api/v1/tenants/{tenant_id}/sites); give other paths whole, \
         as \"/api/v1/...\"",
    ),
];

const SESSION_GONE: &str = "the session is gone (idle timeout, signed out, or its personal \
                            access token was used to sign in elsewhere): sign in again";

const HTTP_REDIRECTED: &str = "405 on sign-in usually means an http:// address was redirected \
                               to https:// and the POST became a GET: use https:// in the \
                               server address";

static TABLEAU: &[HintRule] = &[
    tableau(
        "401001",
        Calls::Any,
        "sign-in refused: check the site's contentUrl (the URL name as in /#/site/<name>/, not \
         its display name; \"\" is the default site), the credentials, that the connected app \
         is enabled, and that the user exists on that site",
    ),
    tableau(
        "401002",
        Calls::Only(&[Call::SignIn]),
        "the credentials are invalid or expired; a personal access token also fails like this \
         when it was used to sign in somewhere else",
    ),
    tableau("401002", Calls::AnyBut(&[Call::SignIn]), SESSION_GONE),
    tableau("401000", Calls::Any, SESSION_GONE),
    tableau(
        "403070",
        Calls::Any,
        "you are already signed in to that site",
    ),
    tableau(
        "403800",
        Calls::Any,
        "API Access capability missing on this data source: give the user (or a group of \
         theirs) the \"API Access\" capability on the published data source",
    ),
    tableau(
        "400804",
        Calls::Any,
        "the response is too large: narrow the query (fewer fields, filters, or a row limit)",
    ),
    tableau(
        "429000",
        Calls::Any,
        "too many requests: wait and retry, or make fewer calls",
    ),
    tableau(
        "404000",
        Calls::Only(&[Call::SignIn, Call::SwitchSite]),
        "site not found: check the site's contentUrl",
    ),
    tableau(
        "404003",
        Calls::Any,
        "the server does not know this path or REST API version: use api_version=\"auto\" or \
         a version the server supports",
    ),
    tableau("405000", Calls::Only(&[Call::SignIn]), HTTP_REDIRECTED).at_status(405),
    tableau("", Calls::Only(&[Call::SignIn]), HTTP_REDIRECTED).at_status(405),
    tableau(
        "400000",
        Calls::Any,
        "Tableau could not read the request body",
    ),
    HintRule {
        code: None,
        subcode: None,
        status: Some(429),
        calls: Calls::Any,
        hint: "Tableau is rate limiting this user or site: wait before retrying (Tableau Cloud \
               allows 40,000 calls per user per site per hour)",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    /// An answer each rule matches: its own code, sub-code and status, and (for a rule that
    /// leaves the status open) the status of its code's first three digits.
    fn witnesses(
        rule: &HintRule,
    ) -> impl Iterator<Item = (u16, &'static str, Option<u32>, Call)> + '_ {
        let code = rule.code.unwrap_or("");
        let status = rule
            .status
            .or_else(|| code.get(..3).and_then(|s| s.parse().ok()))
            .unwrap_or(401);
        Call::ALL
            .into_iter()
            .filter(|call| rule.calls.covers(*call))
            .map(move |call| (status, code, rule.subcode, call))
    }

    #[test]
    fn every_rule_is_the_one_found_for_an_answer_it_matches() {
        for (table, rule) in hint_table() {
            let mut found = Vec::new();
            for (status, code, subcode, call) in witnesses(rule) {
                assert!(rule.matches(status, code, subcode, call), "{rule:?}");
                let first = rule_for(status, code, subcode, call);
                if first.is_some_and(|r| std::ptr::eq(r, rule)) {
                    assert_eq!(hint_for(status, code, subcode, call), rule.hint);
                    found.push(call);
                }
            }
            assert!(
                !found.is_empty(),
                "{} rule {rule:?} is never reached: an earlier rule takes every answer it matches",
                table.name()
            );
        }
    }

    #[test]
    fn the_tables_are_tried_in_order() {
        // A sub-code beats Tableau Cloud Manager's status, which beats Tableau's code, which
        // beats the 429 fallback.
        let pat = Call::CloudManagerPatLogin;
        assert!(hint_for(401, "401001", Some(16), pat).contains("clock"));
        assert!(hint_for(401, "401001", None, pat).contains("Tableau Cloud Manager refused"));
        assert!(hint_for(401, "401001", None, Call::SignIn).contains("contentUrl"));
        assert!(hint_for(429, "429000", None, Call::Other).starts_with("too many requests"));
        assert!(hint_for(429, "", None, Call::Other).contains("40,000"));
        assert!(hint_for(429, "", None, Call::CloudManager).contains("40,000"));
        assert_eq!(hint_for(500, "500000", Some(1), Call::Other), "");
        assert_eq!(hint_for(405, "405000", None, Call::Other), "");
        assert_eq!(hint_for(400, "405000", None, Call::SignIn), "");
    }

    #[test]
    fn calls_are_named_for_people() {
        assert_eq!(Calls::Any.names(), ["any call"]);
        assert_eq!(
            Calls::Only(&[Call::SignIn, Call::SwitchSite]).names(),
            ["sign-in", "switch site"]
        );
        assert_eq!(
            Calls::AnyBut(&[Call::SignIn]).names(),
            ["any call but sign-in"]
        );
    }
}
