//! Loopback tests of Tableau Cloud Manager (TCM) on the fake, over raw HTTP. Unified access
//! tokens are minted here (RS256 with aws-lc-rs keys, `tests.rs`'s `asymmetric`), so that
//! every broken variant can be built.

use std::time::Duration;

use hyper::Method;
use serde_json::{json, Value};

use super::asymmetric::{mint_with, TestKey};
use super::{client, now, patched, uat_body};
use crate::*;

const ISSUER: &str = "https://idp.example.com/tcm";
const ALICE: &str = "alice@corp.example";

/// Status, headers and body (`Value::Null` when empty or not JSON) of a TCM answer.
struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
    body: Value,
}

impl Got {
    fn code(&self) -> &str {
        self.body["errorCode"].as_str().unwrap_or_default()
    }

    fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    fn session_token(&self) -> String {
        self.body["sessionToken"]
            .as_str()
            .expect("a sessionToken")
            .to_string()
    }

    /// A TCM error: this status and code, a message, nothing else, JSON.
    fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.code(), code, "{}", self.text);
        assert!(!self.message().is_empty(), "{}", self.text);
        assert_eq!(
            self.body.as_object().map(|o| o.len()),
            Some(2),
            "{}",
            self.text
        );
        let ct = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(ct.starts_with("application/json"), "{ct}");
    }
}

async fn send(req: reqwest::RequestBuilder) -> Got {
    let resp = req.send().await.expect("send");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    Got {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

/// A TCM call: `method` on `path`, with the session header when given.
async fn tcm(fake: &FakeTableau, method: Method, path: &str, session: Option<&str>) -> Got {
    let mut req = client().request(method, format!("{}{path}", fake.url()));
    if let Some(token) = session {
        req = req.header("x-tableau-session-token", token);
    }
    send(req).await
}

/// A login with a raw JSON body text.
async fn login_raw(fake: &FakeTableau, kind: &str, body: &str) -> Got {
    send(
        client()
            .post(format!("{}/api/v1/{kind}/login", fake.url()))
            .header("content-type", "application/json")
            .body(body.to_string()),
    )
    .await
}

async fn pat_login(fake: &FakeTableau, secret: &str) -> Got {
    login_raw(fake, "pat", &json!({ "token": secret }).to_string()).await
}

async fn jwt_login(fake: &FakeTableau, jwt: &str) -> Got {
    login_raw(fake, "jwt", &json!({ "token": jwt }).to_string()).await
}

/// The session token of a login with the default TCM PAT.
async fn admin_session(fake: &FakeTableau) -> String {
    let got = pat_login(fake, &fake.cloud_manager_pat_secret()).await;
    assert_eq!(got.status, 200, "{}", got.text);
    got.session_token()
}

fn tenant_path(fake: &FakeTableau, list: &str) -> String {
    format!("/api/v1/tenants/{}/{list}", fake.tenant_id())
}

fn header() -> Value {
    json!({"alg": "RS256", "typ": "JWT", "kid": "tcm-key"})
}

/// Good TCM UAT claims for `email` on `tenant`.
fn claims(tenant: &str, email: &str, scopes: &[&str]) -> Value {
    let t = now();
    json!({
        "iss": ISSUER,
        "email": email,
        "https://tableau.com/tenantId": tenant,
        "jti": uuid::Uuid::new_v4().to_string(),
        "exp": t + 300,
        "iat": t - 5,
        "nbf": t - 5,
        "scp": scopes,
    })
}

/// A fake with a TCM UAT configuration (`key`) and Alice, a cloud administrator.
fn uat_fake() -> (FakeTableau, TestKey) {
    let fake = FakeTableau::start().expect("start");
    let key = TestKey::rsa();
    fake.configure(|s| {
        s.add_cloud_manager_user(ALICE, true)?;
        s.add_cloud_manager_uat_configuration(ISSUER, &key.public_pem(), "email")
    })
    .expect("tcm uat");
    (fake, key)
}

const ALL_SCOPES: &[&str] = &[
    "tableau:tcm_sites:read",
    "tableau:tcm_users:read",
    "tableau:tcm_activity_log:read",
];

// ---------------------------------------------------------------------------------------------
// Logins

#[tokio::test]
async fn pat_login_answers_a_session_of_the_tenant() {
    let fake = FakeTableau::start().expect("start");
    assert_eq!(fake.cloud_manager_username(), "cloudadmin@example.com");
    assert_ne!(fake.cloud_manager_pat_secret(), fake.default_pat().secret);
    let tenant = fake.tenant_id();
    assert!(uuid::Uuid::parse_str(&tenant).is_ok(), "{tenant}");

    let t = now();
    let got = pat_login(&fake, &fake.cloud_manager_pat_secret()).await;
    assert_eq!(got.status, 200, "{}", got.text);
    let members: Vec<&String> = got.body.as_object().expect("object").keys().collect();
    assert_eq!(
        members,
        ["sessionExpiration", "sessionToken", "tenantId", "userId"]
    );
    assert_eq!(got.body["tenantId"], tenant.as_str());
    let user_id = got.body["userId"].as_str().expect("userId");
    assert!(uuid::Uuid::parse_str(user_id).is_ok(), "{user_id}");
    // Four hours ahead, RFC 3339 UTC to the second.
    let expiration = got.body["sessionExpiration"].as_str().expect("expiration");
    assert_eq!(expiration.len(), 20, "{expiration}");
    let lo = crate::clock::rfc3339(t + 4 * 3600 - 1, None);
    let hi = crate::clock::rfc3339(t + 4 * 3600 + 2, None);
    assert!(
        lo.as_str() <= expiration && expiration <= hi.as_str(),
        "{expiration}"
    );
    let token = got.session_token();
    assert!(fake.is_session_alive(&token));
    assert_eq!(
        fake.last_cloud_manager_login(),
        Some((
            "/api/v1/pat/login".to_string(),
            json!({"token": fake.cloud_manager_pat_secret()}).to_string()
        ))
    );

    let sites = tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "sites"),
        Some(&token),
    )
    .await;
    assert_eq!(sites.status, 200, "{}", sites.text);

    // Counted apart from the site's sign-ins.
    let stats = fake.stats();
    assert_eq!(stats.cloud_manager_sign_in_attempts, 1);
    assert_eq!(stats.cloud_manager_sign_ins, 1);
    assert_eq!(stats.cloud_manager_requests, 1);
    assert_eq!(stats.active_cloud_manager_sessions, 1);
    assert_eq!(
        (
            stats.sign_in_attempts,
            stats.sign_ins,
            stats.active_sessions,
            stats.sites
        ),
        (0, 0, 0, 0)
    );
}

#[tokio::test]
async fn login_bodies_must_be_exactly_a_token() {
    let fake = FakeTableau::start().expect("start");
    let secret = fake.cloud_manager_pat_secret();
    let bad_bodies = [
        json!({"token": secret, "name": "my-pat"}).to_string(),
        json!({"personalAccessTokenName": "x", "personalAccessTokenSecret": secret}).to_string(),
        json!({"token": ""}).to_string(),
        json!({"token": 12}).to_string(),
        json!({}).to_string(),
        json!([secret]).to_string(),
        "token=abc".to_string(),
        String::new(),
    ];
    for kind in ["pat", "jwt"] {
        for body in &bad_bodies {
            let got = login_raw(&fake, kind, body).await;
            got.assert_error(400, "E_400_TCM_BAD_REQUEST");
            assert!(!got.text.contains(&secret), "{}", got.text);
        }
    }
    let got = pat_login(&fake, &secret).await;
    assert_eq!(got.status, 200);
    // Not JSON by Content-Type.
    let got = send(
        client()
            .post(format!("{}/api/v1/pat/login", fake.url()))
            .header("content-type", "text/plain")
            .body(json!({ "token": secret }).to_string()),
    )
    .await;
    got.assert_error(400, "E_400_TCM_BAD_REQUEST");
    assert!(got.message().contains("application/json"), "{}", got.text);
    // A name is refused and said so.
    let got = login_raw(
        &fake,
        "pat",
        &json!({"token": secret, "name": "n"}).to_string(),
    )
    .await;
    assert!(got.message().contains("name"), "{}", got.text);
    // GET on a login path: 405 with Allow.
    let got = tcm(&fake, Method::GET, "/api/v1/pat/login", None).await;
    got.assert_error(405, "E_405_TCM_METHOD_NOT_ALLOWED");
    assert_eq!(
        got.headers.get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    let stats = fake.stats();
    assert_eq!(stats.cloud_manager_sign_in_failures, 2 * 8 + 2);
    assert_eq!(stats.cloud_manager_sign_ins, 1);
    assert_eq!(stats.cloud_manager_sign_in_attempts, 2 * 8 + 3);
    assert_eq!(stats.rejections.get("E_400_TCM_BAD_REQUEST"), Some(&18));
}

#[tokio::test]
async fn pat_login_refuses_site_pats_unknown_secrets_and_non_admins() {
    let fake = FakeTableau::start().expect("start");
    for secret in [fake.default_pat().secret, "not-a-pat".to_string()] {
        let got = pat_login(&fake, &secret).await;
        got.assert_error(401, "E_401_TCM_INVALID_CREDENTIALS");
        assert!(!got.text.contains(&secret), "{}", got.text);
    }
    let bob_id = fake
        .configure(|s| {
            let id = s.add_cloud_manager_user("bob@example.com", false)?;
            s.add_cloud_manager_pat("bob@example.com", "bob-secret")?;
            Ok::<_, String>(id)
        })
        .expect("bob");
    let got = pat_login(&fake, "bob-secret").await;
    got.assert_error(403, "E_403_TCM_NOT_CLOUD_ADMIN");
    assert!(
        got.message().contains("Only cloud administrators"),
        "{}",
        got.text
    );
    // Made a cloud administrator (same id), Bob logs in.
    let again = fake
        .configure(|s| s.add_cloud_manager_user("bob@example.com", true))
        .expect("bob");
    assert_eq!(again, bob_id);
    let got = pat_login(&fake, "bob-secret").await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body["userId"], bob_id.as_str());
    let stats = fake.stats();
    assert_eq!(
        (
            stats.cloud_manager_sign_ins,
            stats.cloud_manager_sign_in_failures,
            stats.active_cloud_manager_sessions
        ),
        (1, 3, 1)
    );
    // A TCM PAT does not sign in to a site.
    let body = format!(
        r#"<tsRequest><credentials personalAccessTokenName="fake-pat" personalAccessTokenSecret="{}"><site contentUrl="mysite"/></credentials></tsRequest>"#,
        fake.cloud_manager_pat_secret()
    );
    let ans = super::sign_in(&fake, body).await;
    assert_eq!(ans.status, 401, "{}", ans.body);
}

#[test]
fn registration_errors() {
    let fake = FakeTableau::start().expect("start");
    let tenant = fake.tenant_id();
    fake.configure(|s| {
        assert!(s.add_cloud_manager_user("", true).is_err());
        assert!(s.add_cloud_manager_pat("nobody@example.com", "x").is_err());
        assert!(s
            .add_cloud_manager_pat("cloudadmin@example.com", "")
            .is_err());
        assert!(s
            .add_cloud_manager_uat_configuration(ISSUER, "not a pem", "email")
            .is_err());
        assert!(s
            .add_cloud_manager_uat_configuration(ISSUER, &TestKey::p256().public_pem(), "email")
            .is_err());
        assert!(s
            .add_cloud_manager_uat_configuration("", &TestKey::rsa().public_pem(), "email")
            .is_err());
        assert_eq!(s.tenant_id(), tenant);
    });
}

#[tokio::test]
async fn one_session_per_tcm_pat() {
    let fake = FakeTableau::start().expect("start");
    let first = admin_session(&fake).await;
    let second = admin_session(&fake).await;
    assert!(!fake.is_session_alive(&first));
    assert!(fake.is_session_alive(&second));
    let got = tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "sites"),
        Some(&first),
    )
    .await;
    got.assert_error(401, "E_401_TCM_INVALID_SESSION");
    assert_eq!(fake.stats().active_cloud_manager_sessions, 1);
}

#[tokio::test]
async fn unified_access_token_login_and_every_refusal() {
    let (fake, key) = uat_fake();
    let tenant = fake.tenant_id();
    let stranger = TestKey::rsa();
    let good = claims(&tenant, ALICE, ALL_SCOPES);
    let jwt = mint_with(&key, &header(), &good);
    let got = jwt_login(&fake, &jwt).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body["tenantId"], tenant.as_str());
    let alice_id = fake
        .configure(|s| s.add_cloud_manager_user(ALICE, true))
        .expect("alice");
    assert_eq!(got.body["userId"], alice_id.as_str());
    assert_eq!(
        fake.last_cloud_manager_login(),
        Some((
            "/api/v1/jwt/login".to_string(),
            json!({ "token": jwt }).to_string()
        ))
    );
    // The same JWT again: its jti is spent.
    let got = jwt_login(&fake, &jwt).await;
    got.assert_error(401, "E_401_TCM_INVALID_JWT");
    assert!(got.message().contains("jti"), "{}", got.text);

    let t = now();
    let with = |patch: Value| patched(claims(&tenant, ALICE, ALL_SCOPES), patch);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "signed by another key",
            mint_with(&stranger, &header(), &good),
            "signature",
        ),
        ("not a JWT", "a.b".to_string(), "three base64url parts"),
        (
            "alg HS256",
            mint_with(&key, &json!({"alg": "HS256", "kid": "k"}), &with(json!({}))),
            "alg",
        ),
        (
            "no kid",
            mint_with(&key, &json!({"alg": "RS256"}), &with(json!({}))),
            "kid",
        ),
        (
            "another issuer",
            mint_with(
                &key,
                &header(),
                &with(json!({"iss": "https://other.example.com"})),
            ),
            "iss",
        ),
        (
            "no issuer",
            mint_with(&key, &header(), &with(json!({"iss": null}))),
            "iss",
        ),
        (
            "another tenant",
            mint_with(
                &key,
                &header(),
                &with(json!({"https://tableau.com/tenantId": uuid::Uuid::new_v4().to_string()})),
            ),
            "tenantId",
        ),
        (
            "no tenant",
            mint_with(
                &key,
                &header(),
                &with(json!({"https://tableau.com/tenantId": null})),
            ),
            "tenantId",
        ),
        (
            "expired",
            mint_with(&key, &header(), &with(json!({"exp": t - 1}))),
            "exp",
        ),
        (
            "exp more than 10 minutes ahead",
            mint_with(&key, &header(), &with(json!({"exp": t + 660}))),
            "exp",
        ),
        (
            "no exp",
            mint_with(&key, &header(), &with(json!({"exp": null}))),
            "exp",
        ),
        (
            "nbf in the future",
            mint_with(&key, &header(), &with(json!({"nbf": t + 120}))),
            "nbf",
        ),
        (
            "iat in the future",
            mint_with(&key, &header(), &with(json!({"iat": t + 120}))),
            "iat",
        ),
        (
            "iat not a number",
            mint_with(&key, &header(), &with(json!({"iat": "now"}))),
            "iat",
        ),
        (
            "no jti",
            mint_with(&key, &header(), &with(json!({"jti": null}))),
            "jti",
        ),
        (
            "no scp",
            mint_with(&key, &header(), &with(json!({"scp": null}))),
            "scp",
        ),
        (
            "scp a string",
            mint_with(
                &key,
                &header(),
                &with(json!({"scp": "tableau:tcm_sites:read"})),
            ),
            "scp",
        ),
        (
            "no username claim",
            mint_with(&key, &header(), &with(json!({"email": null}))),
            "email",
        ),
        (
            "not a user of the tenant",
            mint_with(&key, &header(), &with(json!({"email": "eve@corp.example"}))),
            "no user of the tenant",
        ),
    ];
    let count = cases.len();
    for (what, jwt, says) in cases {
        let got = jwt_login(&fake, &jwt).await;
        got.assert_error(401, "E_401_TCM_INVALID_JWT");
        assert!(got.message().contains(says), "{what}: {}", got.text);
        assert!(!got.text.contains(&jwt), "{what}: the JWT is echoed");
    }
    // Not a cloud administrator: 403 once the JWT passed.
    fake.configure(|s| s.add_cloud_manager_user("carol@corp.example", false))
        .expect("carol");
    let got = jwt_login(
        &fake,
        &mint_with(
            &key,
            &header(),
            &claims(&tenant, "carol@corp.example", ALL_SCOPES),
        ),
    )
    .await;
    got.assert_error(403, "E_403_TCM_NOT_CLOUD_ADMIN");
    let stats = fake.stats();
    assert_eq!(stats.cloud_manager_sign_ins, 1);
    assert_eq!(stats.cloud_manager_sign_in_failures, count as u64 + 2);
    assert_eq!(stats.sign_in_failures, 0);
}

#[tokio::test]
async fn a_site_uat_does_not_log_in_to_tcm_and_the_username_claim_is_configurable() {
    let fake = FakeTableau::start().expect("start");
    let key = TestKey::rsa();
    let tenant = fake.tenant_id();
    // A site configuration only: TCM knows no such issuer.
    fake.configure(|s| {
        s.add_cloud_manager_user(ALICE, true)?;
        s.add_uat_configuration("mysite", ISSUER, &key.public_pem(), &tenant, "email")
    })
    .expect("site uat");
    let got = jwt_login(
        &fake,
        &mint_with(&key, &header(), &claims(&tenant, ALICE, ALL_SCOPES)),
    )
    .await;
    got.assert_error(401, "E_401_TCM_INVALID_JWT");
    assert!(got.message().contains("iss"), "{}", got.text);
    // A TCM configuration whose username claim is "upn".
    fake.configure(|s| s.add_cloud_manager_uat_configuration(ISSUER, &key.public_pem(), "upn"))
        .expect("tcm uat");
    let by_email = claims(&tenant, ALICE, ALL_SCOPES);
    let got = jwt_login(&fake, &mint_with(&key, &header(), &by_email)).await;
    got.assert_error(401, "E_401_TCM_INVALID_JWT");
    assert!(got.message().contains("upn"), "{}", got.text);
    let by_upn = patched(
        claims(&tenant, ALICE, ALL_SCOPES),
        json!({"email": null, "upn": ALICE}),
    );
    let got = jwt_login(&fake, &mint_with(&key, &header(), &by_upn)).await;
    assert_eq!(got.status, 200, "{}", got.text);
}

#[tokio::test]
async fn one_uat_configuration_for_a_site_and_tcm() {
    let (fake, key) = uat_fake();
    let tenant = fake.tenant_id();
    fake.configure(|s| {
        s.add_user("mysite", ALICE, None)?;
        s.add_uat_configuration("mysite", ISSUER, &key.public_pem(), &tenant, "email")
    })
    .expect("site uat");
    let scopes = [
        "tableau:content:read",
        "tableau:tcm_sites:read",
        "tableau:tcm_users:read",
    ];
    // A site sign-in (REST 3.27, isUat) ...
    let site_jwt = mint_with(&key, &header(), &claims(&tenant, ALICE, &scopes));
    let ans = super::sign_in_at(&fake, "3.27", uat_body(&site_jwt, "mysite")).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    let site_token = ans.token();
    // ... and a TCM login, each with its own JWT of the same kind.
    let tcm_jwt = mint_with(&key, &header(), &claims(&tenant, ALICE, &scopes));
    let got = jwt_login(&fake, &tcm_jwt).await;
    assert_eq!(got.status, 200, "{}", got.text);
    let tcm_token = got.session_token();
    // The site JWT is spent for TCM too (one jti set), and the reverse.
    jwt_login(&fake, &site_jwt)
        .await
        .assert_error(401, "E_401_TCM_INVALID_JWT");
    let ans = super::sign_in_at(&fake, "3.27", uat_body(&tcm_jwt, "mysite")).await;
    assert_eq!(ans.status, 401, "{}", ans.body);
    // Each token works where it belongs only.
    let sites = tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "sites"),
        Some(&tcm_token),
    )
    .await;
    assert_eq!(sites.status, 200, "{}", sites.text);
    tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "sites"),
        Some(&site_token),
    )
    .await
    .assert_error(401, "E_401_TCM_INVALID_SESSION");
    let ans = super::get(&fake, "sessions/current", Some(&tcm_token)).await;
    super::assert_error(&ans, 401, "401002");
    let ans = super::get(&fake, "sessions/current", Some(&site_token)).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.active_sessions), (1, 1));
    assert_eq!(
        (
            stats.cloud_manager_sign_ins,
            stats.active_cloud_manager_sessions
        ),
        (1, 1)
    );
}

// ---------------------------------------------------------------------------------------------
// Later calls

#[tokio::test]
async fn scopes_limit_uat_sessions_only() {
    let (fake, key) = uat_fake();
    let tenant = fake.tenant_id();
    let login = |scopes: &'static [&'static str]| {
        let jwt = mint_with(&key, &header(), &claims(&tenant, ALICE, scopes));
        let fake = &fake;
        async move {
            let got = jwt_login(fake, &jwt).await;
            assert_eq!(got.status, 200, "{}", got.text);
            got.session_token()
        }
    };
    let sites_only = login(&["tableau:tcm_sites:read"]).await;
    let ok = tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "sites"),
        Some(&sites_only),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    for (list, scope) in [
        ("users", "tableau:tcm_users:read"),
        ("activitylog", "tableau:tcm_activity_log:read"),
    ] {
        let got = tcm(
            &fake,
            Method::GET,
            &tenant_path(&fake, list),
            Some(&sites_only),
        )
        .await;
        got.assert_error(403, "E_403_TCM_MISSING_SCOPE");
        assert!(got.message().contains(scope), "{}", got.text);
    }
    // Site scopes open nothing here; an action wildcard does.
    let site_scopes = login(&["tableau:content:read", "tableau:users:read"]).await;
    tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "sites"),
        Some(&site_scopes),
    )
    .await
    .assert_error(403, "E_403_TCM_MISSING_SCOPE");
    let wildcard = login(&["tableau:tcm_users:*"]).await;
    let ok = tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "users"),
        Some(&wildcard),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    // A PAT session may list everything.
    let pat = admin_session(&fake).await;
    for list in ["sites", "users", "activitylog"] {
        let ok = tcm(&fake, Method::GET, &tenant_path(&fake, list), Some(&pat)).await;
        assert_eq!(ok.status, 200, "{list}: {}", ok.text);
    }
    assert_eq!(fake.stats().cloud_manager_requests, 5);
}

#[tokio::test]
async fn session_header_tenant_path_and_method_rules() {
    let fake = FakeTableau::start().expect("start");
    let token = admin_session(&fake).await;
    let sites = tenant_path(&fake, "sites");
    tcm(&fake, Method::GET, &sites, None)
        .await
        .assert_error(401, "E_401_TCM_NO_SESSION_TOKEN");
    tcm(&fake, Method::GET, &sites, Some("nope"))
        .await
        .assert_error(401, "E_401_TCM_INVALID_SESSION");
    // The site's header does not carry a TCM session.
    let got = send(
        client()
            .get(format!("{}{sites}", fake.url()))
            .header("X-Tableau-Auth", &token),
    )
    .await;
    got.assert_error(401, "E_401_TCM_NO_SESSION_TOKEN");
    // A TCM token on the site API is unknown there.
    let site = fake.site_luid("mysite").expect("site");
    let ans = super::get(&fake, &format!("sites/{site}/workbooks"), Some(&token)).await;
    super::assert_error(&ans, 401, "401002");
    // Another tenant in the path.
    let other = format!("/api/v1/tenants/{}/sites", uuid::Uuid::new_v4());
    tcm(&fake, Method::GET, &other, Some(&token))
        .await
        .assert_error(403, "E_403_TCM_TENANT_MISMATCH");
    // Unknown TCM paths and wrong methods, before the session check.
    for path in [
        format!("/api/v1/tenants/{}/regions", fake.tenant_id()),
        "/api/v1/tenants".to_string(),
        "/api/v2/sessions/current".to_string(),
    ] {
        tcm(&fake, Method::GET, &path, None)
            .await
            .assert_error(404, "E_404_TCM_NOT_FOUND");
    }
    let got = tcm(&fake, Method::POST, &sites, Some(&token)).await;
    got.assert_error(405, "E_405_TCM_METHOD_NOT_ALLOWED");
    assert_eq!(
        got.headers.get("allow").and_then(|v| v.to_str().ok()),
        Some("GET")
    );
    // VizQL Data Service keeps its /api/v1 paths.
    let vds = client()
        .get(format!(
            "{}/api/v1/vizql-data-service/simple-request",
            fake.url()
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(vds.status().as_u16(), 200);
    assert_eq!(fake.stats().vds, 1);
    assert_eq!(fake.stats().cloud_manager_requests, 0);
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let fake = FakeTableau::start().expect("start");
    let token = admin_session(&fake).await;
    let got = tcm(&fake, Method::DELETE, "/api/v2/sessions", Some(&token)).await;
    assert_eq!(got.status, 204, "{}", got.text);
    assert!(got.text.is_empty());
    assert!(got.headers.get("content-type").is_none());
    assert!(!fake.is_session_alive(&token));
    tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "sites"),
        Some(&token),
    )
    .await
    .assert_error(401, "E_401_TCM_INVALID_SESSION");
    tcm(&fake, Method::DELETE, "/api/v2/sessions", Some(&token))
        .await
        .assert_error(401, "E_401_TCM_INVALID_SESSION");
    tcm(&fake, Method::DELETE, "/api/v2/sessions", None)
        .await
        .assert_error(401, "E_401_TCM_NO_SESSION_TOKEN");
    let stats = fake.stats();
    assert_eq!(stats.cloud_manager_sign_outs, 1);
    assert_eq!(stats.sign_outs, 0);
    assert_eq!(stats.active_cloud_manager_sessions, 0);
}

#[tokio::test]
async fn sessions_die_with_the_ttl_and_on_demand() {
    let fake = FakeTableau::start().expect("start");
    let token = admin_session(&fake).await;
    let site_body = super::pat_body(&fake.default_pat(), "mysite");
    let site_token = super::sign_in(&fake, site_body).await.token();
    fake.expire_all_sessions();
    assert!(!fake.is_session_alive(&token));
    assert!(!fake.is_session_alive(&site_token));
    tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "users"),
        Some(&token),
    )
    .await
    .assert_error(401, "E_401_TCM_INVALID_SESSION");

    fake.set_session_ttl(Some(Duration::from_millis(300)));
    let t = now();
    let got = pat_login(&fake, &fake.cloud_manager_pat_secret()).await;
    let expiration = got.body["sessionExpiration"].as_str().expect("expiration");
    let (lo, hi) = (
        crate::clock::rfc3339(t - 1, None),
        crate::clock::rfc3339(t + 2, None),
    );
    assert!(
        lo.as_str() <= expiration && expiration <= hi.as_str(),
        "{expiration}"
    );
    let token = got.session_token();
    assert!(fake.is_session_alive(&token));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(fake.stats().active_cloud_manager_sessions, 0);
    tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "users"),
        Some(&token),
    )
    .await
    .assert_error(401, "E_401_TCM_INVALID_SESSION");
}

// ---------------------------------------------------------------------------------------------
// Lists

#[tokio::test]
async fn sites_page_by_number_without_totals() {
    let fake = FakeTableau::start().expect("start");
    for i in 0..3 {
        fake.configure(|s| s.add_site(&format!("extra-{i}"), &format!("Extra {i}")));
    }
    let token = admin_session(&fake).await;
    let page = |query: &str| {
        let path = format!("{}?{query}", tenant_path(&fake, "sites"));
        let token = token.clone();
        let fake = &fake;
        async move { tcm(fake, Method::GET, &path, Some(&token)).await }
    };
    let mut seen = Vec::new();
    for number in 1..=3 {
        let got = page(&format!("pageNumber={number}&pageSize=2")).await;
        assert_eq!(got.status, 200, "{}", got.text);
        let members: Vec<&String> = got.body.as_object().expect("object").keys().collect();
        assert_eq!(members, ["sites"], "no totals, no token");
        let sites = got.body["sites"].as_array().expect("sites").clone();
        assert_eq!(sites.len(), if number < 3 { 2 } else { 1 });
        seen.extend(sites);
    }
    let past = page("pageNumber=4&pageSize=2").await;
    assert_eq!(past.body, json!({"sites": []}));
    // Every site once, by content URL, siteUUID = the site's LUID.
    let urls: Vec<&str> = seen
        .iter()
        .map(|s| s["contentUrl"].as_str().expect("contentUrl"))
        .collect();
    assert_eq!(urls, ["", "extra-0", "extra-1", "extra-2", "mysite"]);
    let mysite = &seen[4];
    assert_eq!(
        mysite["siteUUID"],
        fake.site_luid("mysite").expect("luid").as_str()
    );
    assert_eq!(mysite["name"], "My Site");
    assert_eq!(mysite["tenantId"], fake.tenant_id().as_str());
    assert_eq!(mysite["status"], "ACTIVE");
    assert!(mysite["podLocation"].is_string());
    // Defaults: page 1 of 100.
    let all = page("").await;
    assert_eq!(all.body["sites"].as_array().map(Vec::len), Some(5));
    for bad in [
        "pageNumber=0",
        "pageNumber=-1",
        "pageNumber=x",
        "pageSize=0",
        "pageSize=1001",
        "pageSize=2.5",
        "pageSize=2&pageSize=3",
        "pageToken=abc",
        "maxResults=10",
    ] {
        page(bad).await.assert_error(400, "E_400_TCM_BAD_REQUEST");
    }
    assert_eq!(page("pageSize=1000").await.status, 200);
}

#[tokio::test]
async fn users_and_activity_log_page_by_token() {
    let fake = FakeTableau::start().expect("start");
    for name in ["dan@example.com", "amy@example.com", "eve@example.com"] {
        fake.configure(|s| s.add_cloud_manager_user(name, false))
            .expect("user");
    }
    fake.configure(|s| s.add_user("mysite", "amy@example.com", None))
        .expect("site user");
    let token = admin_session(&fake).await;
    let get = |list: &'static str, query: String| {
        let path = format!("{}?{query}", tenant_path(&fake, list));
        let token = token.clone();
        let fake = &fake;
        async move { tcm(fake, Method::GET, &path, Some(&token)).await }
    };
    // Four users, by username: a page of 3, then one of 1 without a next token.
    let first = get("users", "pageSize=3".into()).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let next = first.body["nextPageToken"]
        .as_str()
        .expect("a next page")
        .to_string();
    let second = get("users", format!("pageSize=3&pageToken={next}")).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert!(
        second.body.get("nextPageToken").is_none(),
        "{}",
        second.text
    );
    let emails: Vec<&str> = first.body["users"]
        .as_array()
        .into_iter()
        .chain(second.body["users"].as_array())
        .flatten()
        .map(|u| u["email"].as_str().expect("email"))
        .collect();
    assert_eq!(
        emails,
        [
            "amy@example.com",
            "cloudadmin@example.com",
            "dan@example.com",
            "eve@example.com"
        ]
    );
    let amy = &first.body["users"][0];
    assert_eq!(amy["cloudAdmin"], false);
    assert_eq!(amy["displayName"], "amy");
    assert!(uuid::Uuid::parse_str(amy["userId"].as_str().expect("id")).is_ok());
    assert_eq!(
        amy["siteRoles"][0]["siteId"],
        fake.site_luid("mysite").expect("luid").as_str()
    );
    assert_eq!(first.body["users"][1]["cloudAdmin"], true);
    // All on one page: no token.
    let all = get("users", String::new()).await;
    assert_eq!(all.body["users"].as_array().map(Vec::len), Some(4));
    assert!(all.body.get("nextPageToken").is_none());
    // Tokens this list did not give.
    for bad in ["bm9wZQ", "%%%", &next.replace('M', "N")] {
        get("users", format!("pageToken={bad}"))
            .await
            .assert_error(400, "E_400_TCM_INVALID_PAGE_TOKEN");
    }
    get("users", "pageNumber=2".into())
        .await
        .assert_error(400, "E_400_TCM_BAD_REQUEST");

    // The activity log: files, by token; another list's token is refused.
    let mut files = Vec::new();
    let mut query =
        "pageSize=5&startTime=2026-01-01T00:00:00Z&endTime=2026-01-04T00:00:00Z".to_string();
    let mut pages = 0;
    loop {
        let got = get("activitylog", query.clone()).await;
        assert_eq!(got.status, 200, "{}", got.text);
        pages += 1;
        files.extend(got.body["files"].as_array().expect("files").clone());
        match got.body.get("nextPageToken").and_then(Value::as_str) {
            Some(t) => query = format!("pageSize=5&pageToken={t}"),
            None => break,
        }
    }
    assert_eq!((pages, files.len()), (3, 12));
    assert!(files
        .iter()
        .all(|f| f["path"].is_string() && f["size"].as_u64().is_some_and(|n| n > 0)));
    get("activitylog", format!("pageToken={next}"))
        .await
        .assert_error(400, "E_400_TCM_INVALID_PAGE_TOKEN");
    // Every call above passed the session check (the 400s for bad paging too).
    assert_eq!(fake.stats().cloud_manager_requests, 11);
}

// ---------------------------------------------------------------------------------------------
// Test knobs

#[tokio::test]
async fn misbehaviours_on_tcm_routes_answer_tcm_json() {
    let (fake, key) = uat_fake();
    let secret = fake.cloud_manager_pat_secret();
    fake.misbehave(
        "tcm/login",
        1,
        Misbehaviour::Fail {
            status: 503,
            code: None,
        },
    );
    fake.misbehave(
        "tcm/pat/login",
        1,
        Misbehaviour::Fail {
            status: 500,
            code: Some("E_500_CUSTOM".into()),
        },
    );
    pat_login(&fake, &secret)
        .await
        .assert_error(503, "E_503_TCM_INJECTED");
    pat_login(&fake, &secret)
        .await
        .assert_error(500, "E_500_CUSTOM");
    // A misbehaving jwt/login has read the JWT: its jti is spent.
    fake.misbehave(
        "tcm/login",
        1,
        Misbehaviour::RateLimit {
            retry_after: Some(30),
            html: false,
        },
    );
    let jwt = mint_with(
        &key,
        &header(),
        &claims(&fake.tenant_id(), ALICE, ALL_SCOPES),
    );
    let got = jwt_login(&fake, &jwt).await;
    got.assert_error(429, "E_429_TCM_TOO_MANY_REQUESTS");
    assert_eq!(
        got.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("30")
    );
    let got = jwt_login(&fake, &jwt).await;
    got.assert_error(401, "E_401_TCM_INVALID_JWT");
    assert!(got.message().contains("jti"), "{}", got.text);
    let stats = fake.stats();
    assert_eq!(
        (
            stats.cloud_manager_sign_in_attempts,
            stats.cloud_manager_sign_ins,
            stats.cloud_manager_sign_in_failures
        ),
        (4, 0, 1)
    );

    // "tcm" is every other TCM call, not the logins; site routes never match TCM paths.
    let token = admin_session(&fake).await;
    fake.misbehave("users", 1, Misbehaviour::Empty { status: 500 });
    fake.misbehave(
        "tcm",
        1,
        Misbehaviour::Fail {
            status: 502,
            code: None,
        },
    );
    tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "users"),
        Some(&token),
    )
    .await
    .assert_error(502, "E_502_TCM_INJECTED");
    let ok = tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "users"),
        Some(&token),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    fake.misbehave("*", 1, Misbehaviour::Empty { status: 502 });
    let got = tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "sites"),
        Some(&token),
    )
    .await;
    assert_eq!((got.status, got.text.as_str()), (502, ""));
    fake.misbehave(
        "tcm/sites",
        1,
        Misbehaviour::RateLimit {
            retry_after: None,
            html: true,
        },
    );
    let got = tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "sites"),
        Some(&token),
    )
    .await;
    assert_eq!(got.status, 429);
    assert!(got.text.contains("<html"), "{}", got.text);
    fake.misbehave("tcm", 1, Misbehaviour::Truncate);
    let got = tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "sites"),
        Some(&token),
    )
    .await;
    assert_eq!(got.status, 200);
    assert!(
        got.body.is_null() && got.text.starts_with("{\"sites\""),
        "{}",
        got.text
    );
    // The site's "users" misbehaviour is still queued for the site.
    let site = fake.site_luid("mysite").expect("site");
    let site_token = super::sign_in(&fake, super::pat_body(&fake.default_pat(), "mysite"))
        .await
        .token();
    let ans = super::get(&fake, &format!("sites/{site}/users"), Some(&site_token)).await;
    assert_eq!((ans.status, ans.body.as_str()), (500, ""));
}

#[tokio::test]
async fn delays_pick_tcm_routes_by_name() {
    let fake = FakeTableau::start().expect("start");
    fake.set_delay("tcm/login", Duration::from_millis(300));
    let started = std::time::Instant::now();
    let token = admin_session(&fake).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = std::time::Instant::now();
    let ok = tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "sites"),
        Some(&token),
    )
    .await;
    assert_eq!(ok.status, 200);
    assert!(started.elapsed() < Duration::from_millis(300));
    fake.set_delay("tcm/login", Duration::ZERO);
    fake.set_delay("tcm", Duration::from_millis(300));
    let started = std::time::Instant::now();
    let ok = tcm(
        &fake,
        Method::GET,
        &tenant_path(&fake, "sites"),
        Some(&token),
    )
    .await;
    assert_eq!(ok.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn oversized_login_bodies_are_tcm_errors() {
    let fake = FakeTableau::start().expect("start");
    let body = format!("{{\"token\": \"{}\"}}", "x".repeat(crate::server::MAX_BODY));
    let got = login_raw(&fake, "pat", &body).await;
    got.assert_error(413, "E_413_TCM_PAYLOAD_TOO_LARGE");
    assert_eq!(fake.stats().cloud_manager_sign_in_failures, 1);
}
