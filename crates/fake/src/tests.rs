//! Loopback tests of the fake. JWTs are minted here independently (serde_json + aws-lc-rs
//! HMAC), so that broken variants can be built.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

const V: &str = "3.28";

// ---------------------------------------------------------------------------------------------
// Helpers

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn sign(input: &str, secret: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    URL_SAFE_NO_PAD.encode(hmac::sign(&key, input.as_bytes()).as_ref())
}

/// A JWT from raw header and payload text, signed with `secret`.
fn mint_raw(header: &str, payload: &str, secret: &str) -> String {
    let input = format!("{header}.{payload}");
    let sig = sign(&input, secret);
    format!("{input}.{sig}")
}

fn mint(header: &Value, claims: &Value, secret: &str) -> String {
    mint_raw(&b64(header), &b64(claims), secret)
}

fn good_header(app: &AppSecret) -> Value {
    json!({"alg": "HS256", "typ": "JWT", "kid": app.secret_id, "iss": app.client_id})
}

fn good_claims(app: &AppSecret, sub: &str) -> Value {
    let t = now();
    json!({
        "iss": app.client_id,
        "sub": sub,
        "aud": "tableau",
        "jti": uuid::Uuid::new_v4().to_string(),
        "exp": t + 300,
        "iat": t - 5,
        "nbf": t - 5,
        "scp": ["tableau:content:read", "tableau:views:embed"],
    })
}

fn good_jwt(fake: &FakeTableau) -> String {
    let app = fake.default_app();
    mint(
        &good_header(&app),
        &good_claims(&app, &fake.default_username()),
        &app.secret_value,
    )
}

fn xml_escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn jwt_body(jwt: &str, site: &str) -> String {
    format!(
        r#"<tsRequest><credentials jwt="{}"><site contentUrl="{}"/></credentials></tsRequest>"#,
        xml_escape_attr(jwt),
        xml_escape_attr(site)
    )
}

fn pat_body(pat: &PatSecret, site: &str) -> String {
    format!(
        r#"<tsRequest><credentials personalAccessTokenName="{}" personalAccessTokenSecret="{}"><site contentUrl="{}"/></credentials></tsRequest>"#,
        xml_escape_attr(&pat.name),
        xml_escape_attr(&pat.secret),
        xml_escape_attr(site)
    )
}

fn password_body(name: &str, password: &str, site: &str) -> String {
    format!(
        r#"<tsRequest><credentials name="{}" password="{}"><site contentUrl="{}"/></credentials></tsRequest>"#,
        xml_escape_attr(name),
        xml_escape_attr(password),
        xml_escape_attr(site)
    )
}

/// A response, read.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    /// The (unescaped-free) value of the first attribute `name="…"` in the body.
    fn attr(&self, name: &str) -> Option<String> {
        let needle = format!(" {name}=\"");
        let start = self.body.find(&needle)? + needle.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_string())
    }

    fn token(&self) -> String {
        self.attr("token").expect("a token in the answer")
    }

    fn code(&self) -> Option<String> {
        self.attr("code")
    }

    fn detail(&self) -> Option<String> {
        let start = self.body.find("<detail>")? + "<detail>".len();
        let end = self.body.find("</detail>")?;
        Some(self.body[start..end].to_string())
    }

    fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
}

async fn read(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await.expect("body");
    Answer {
        status,
        headers,
        body,
    }
}

async fn post(fake: &FakeTableau, route: &str, body: String, token: Option<&str>) -> Answer {
    let mut req = client()
        .post(format!("{}/api/{V}/{route}", fake.url()))
        .header("content-type", "application/xml")
        .body(body);
    if let Some(t) = token {
        req = req.header("X-Tableau-Auth", t);
    }
    read(req.send().await.expect("send")).await
}

async fn get(fake: &FakeTableau, route: &str, token: Option<&str>) -> Answer {
    let mut req = client().get(format!("{}/api/{V}/{route}", fake.url()));
    if let Some(t) = token {
        req = req.header("X-Tableau-Auth", t);
    }
    read(req.send().await.expect("send")).await
}

async fn sign_in(fake: &FakeTableau, body: String) -> Answer {
    post(fake, "auth/signin", body, None).await
}

fn assert_error(ans: &Answer, status: u16, code: &str) {
    assert_eq!(ans.status, status, "body: {}", ans.body);
    assert_eq!(ans.code().as_deref(), Some(code), "body: {}", ans.body);
}

fn assert_jwt_rejected(ans: &Answer, sub: u32, what: &str) {
    assert_eq!(ans.status, 401, "{what}: {}", ans.body);
    assert_eq!(
        ans.code().as_deref(),
        Some("401001"),
        "{what}: {}",
        ans.body
    );
    assert!(
        ans.body.contains("<summary>Signin Error</summary>"),
        "{what}"
    );
    assert_eq!(
        ans.detail().as_deref(),
        Some(format!("Error signing in to Tableau Server ({sub})").as_str()),
        "{what}"
    );
}

/// The site LUID and user LUID of a credentials answer.
fn site_and_user(ans: &Answer) -> (String, String) {
    let site_start = ans.body.find("<site ").expect("site element");
    let site = Answer {
        status: 0,
        headers: Default::default(),
        body: ans.body[site_start..].to_string(),
    };
    let user_start = ans.body.find("<user ").expect("user element");
    let user = Answer {
        status: 0,
        headers: Default::default(),
        body: ans.body[user_start..].to_string(),
    };
    (
        site.attr("id").expect("site id"),
        user.attr("id").expect("user id"),
    )
}

// ---------------------------------------------------------------------------------------------
// Basics

#[test]
fn handle_is_send_and_sync_and_defaults_are_random() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<FakeTableau>();
    let a = FakeTableau::start().expect("start");
    let b = FakeTableau::start().expect("start");
    assert_eq!(a.default_site(), "mysite");
    assert_eq!(a.default_username(), "me@example.com");
    assert_eq!(a.default_pat().name, "fake-pat");
    assert_eq!(a.default_app().secret_value.len(), 44);
    assert!(uuid::Uuid::parse_str(&a.default_app().client_id).is_ok());
    assert_ne!(a.default_app(), b.default_app());
    assert_ne!(a.default_pat(), b.default_pat());
    assert_ne!(a.default_password(), b.default_password());
    assert_ne!(a.url(), b.url());
    assert!(a.url().starts_with("http://127.0.0.1:"));
    assert!(!format!("{:?}", a.default_app()).contains(&a.default_app().secret_value));
}

#[tokio::test]
async fn server_info_xml_json_and_versions() {
    let fake = FakeTableau::start().expect("start");
    let ans = get(&fake, "serverinfo", None).await;
    assert_eq!(ans.status, 200);
    assert!(ans.content_type().starts_with("application/xml"));
    assert!(ans.body.contains("<restApiVersion>3.28</restApiVersion>"));
    assert!(ans
        .body
        .contains(r#"<productVersion build="20261.26.0101.0000">2026.1.0</productVersion>"#));

    let resp = client()
        .get(format!("{}/api/3.24/serverinfo", fake.url()))
        .header("accept", "application/json")
        .send()
        .await
        .expect("send");
    let ans = read(resp).await;
    let v: Value = serde_json::from_str(&ans.body).expect("json");
    assert_eq!(v["serverInfo"]["restApiVersion"], "3.28");
    assert_eq!(v["serverInfo"]["productVersion"]["value"], "2026.1.0");

    // Above the max, and malformed.
    let resp = client()
        .get(format!("{}/api/3.29/serverinfo", fake.url()))
        .send()
        .await
        .expect("send");
    let ans = read(resp).await;
    assert_error(&ans, 404, "404003");
    assert!(ans
        .detail()
        .unwrap_or_default()
        .starts_with("Unknown resource '/3.29/serverinfo'"));
    for bad in ["3", "x.y", "3.28.1", "-3.2", "1.9"] {
        let resp = client()
            .get(format!("{}/api/{bad}/serverinfo", fake.url()))
            .send()
            .await
            .expect("send");
        assert_error(&read(resp).await, 404, "404003");
    }
    fake.set_max_api_version("3.29");
    let resp = client()
        .get(format!("{}/api/3.29/serverinfo", fake.url()))
        .send()
        .await
        .expect("send");
    let ans = read(resp).await;
    assert_eq!(ans.status, 200);
    assert!(ans.body.contains("<restApiVersion>3.29</restApiVersion>"));
    fake.set_max_api_version("nonsense");
    assert_eq!(get(&fake, "serverinfo", None).await.status, 200);

    let stats = fake.stats();
    assert_eq!(stats.rejections.get("404003"), Some(&6));
}

#[tokio::test]
async fn unknown_routes_methods_and_big_bodies() {
    let fake = FakeTableau::start().expect("start");
    assert_error(&get(&fake, "nothing/here", None).await, 404, "404000");
    let resp = client()
        .get(format!("{}/index.html", fake.url()))
        .send()
        .await
        .expect("send");
    assert_error(&read(resp).await, 404, "404000");
    // The http→https redirect symptom: a GET on sign-in.
    let ans = get(&fake, "auth/signin", None).await;
    assert_error(&ans, 405, "405000");
    assert!(ans.headers.get("allow").is_some());
    assert_error(
        &post(&fake, "serverinfo", String::new(), None).await,
        405,
        "405000",
    );
    let big = "x".repeat(MAX_BODY_FOR_TESTS + 1);
    assert_error(&sign_in(&fake, big).await, 413, "413000");
    let stats = fake.stats();
    assert_eq!(stats.rejections.get("404000"), Some(&2));
    assert_eq!(stats.rejections.get("405000"), Some(&2));
    assert_eq!(stats.rejections.get("413000"), Some(&1));
    assert_eq!(
        stats.sign_in_attempts, 1,
        "the GET is not a sign-in attempt"
    );
    assert_eq!(stats.sign_in_failures, 1);
}

const MAX_BODY_FOR_TESTS: usize = super::server::MAX_BODY;

// ---------------------------------------------------------------------------------------------
// Connected-app JWT

#[tokio::test]
async fn good_jwt_signs_in_and_token_works() {
    let fake = FakeTableau::start().expect("start");
    let ans = sign_in(&fake, jwt_body(&good_jwt(&fake), "mysite")).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    assert!(ans.body.starts_with(
        "<?xml version='1.0' encoding='UTF-8'?><tsResponse xmlns=\"http://tableau.com/api\""
    ));
    assert_eq!(
        ans.attr("estimatedTimeToExpiration").as_deref(),
        Some("4:00:00")
    );
    assert_eq!(ans.attr("contentUrl").as_deref(), Some("mysite"));
    let token = ans.token();
    let (site_luid, user_luid) = site_and_user(&ans);
    let parts: Vec<&str> = token.split('|').collect();
    assert_eq!(parts.len(), 3, "{token}");
    assert_eq!(parts[0].len(), 22);
    assert_eq!(parts[1].len(), 32);
    assert_eq!(parts[2], site_luid);
    assert!(fake.is_session_alive(&token));

    let session = get(&fake, "sessions/current", Some(&token)).await;
    assert_eq!(session.status, 200, "{}", session.body);
    assert!(session.body.contains(&format!(
        r#"<user id="{user_luid}" name="me@example.com" siteRole="Explorer"/>"#
    )));
    assert!(session.body.contains(r#"name="My Site""#));

    let wbs = get(&fake, &format!("sites/{site_luid}/workbooks"), Some(&token)).await;
    assert_eq!(wbs.status, 200, "{}", wbs.body);
    assert!(wbs
        .body
        .contains(r#"<pagination pageNumber="1" pageSize="100" totalAvailable="3"/>"#));
    assert!(wbs
        .body
        .contains(r#"name="Q&amp;A &lt;Draft&gt; &quot;v2&quot;""#));
    assert!(wbs.body.contains(r#"<project id=""#));

    // Another site's LUID with this token.
    let other = fake.configure(|s| s.add_site("other", "Other"));
    let ans = get(&fake, &format!("sites/{other}/workbooks"), Some(&token)).await;
    assert_error(&ans, 403, "403000");

    // Auth header rules.
    assert_error(&get(&fake, "sessions/current", None).await, 401, "401000");
    assert_error(
        &get(&fake, "sessions/current", Some("nope")).await,
        401,
        "401002",
    );
    assert_error(
        &get(&fake, &format!("sites/{site_luid}/workbooks"), None).await,
        401,
        "401000",
    );

    // The default site works too, with its own LUID.
    let ans = sign_in(&fake, jwt_body(&good_jwt(&fake), "")).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    assert_ne!(site_and_user(&ans).0, site_luid);

    let stats = fake.stats();
    assert_eq!(stats.sign_ins, 2);
    assert_eq!(stats.active_sessions, 2);
}

#[tokio::test]
async fn header_iss_is_optional_but_must_match() {
    let fake = FakeTableau::start().expect("start");
    let app = fake.default_app();
    let me = fake.default_username();
    let no_iss = json!({"alg": "HS256", "kid": app.secret_id});
    let ans = sign_in(
        &fake,
        jwt_body(
            &mint(&no_iss, &good_claims(&app, &me), &app.secret_value),
            "mysite",
        ),
    )
    .await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    let wrong = json!({"alg": "HS256", "typ": "JWT", "kid": app.secret_id, "iss": "someone-else"});
    let ans = sign_in(
        &fake,
        jwt_body(
            &mint(&wrong, &good_claims(&app, &me), &app.secret_value),
            "mysite",
        ),
    )
    .await;
    assert_jwt_rejected(&ans, 10084, "header iss mismatch");
}

#[tokio::test]
async fn every_jwt_rule_has_its_sub_code() {
    let fake = FakeTableau::start().expect("start");
    let app = fake.default_app();
    let me = fake.default_username();
    let secret = app.secret_value.clone();
    let h = good_header(&app);
    // A disabled app, and an app registered only on the default site.
    fake.configure(|s| {
        s.add_connected_app(
            "mysite",
            "disabled-app",
            "sid",
            "a-secret-value-for-the-disabled-app",
            false,
            false,
        )
    })
    .expect("app");
    fake.configure(|s| {
        s.add_connected_app(
            "",
            "elsewhere-app",
            "sid2",
            "another-secret-value",
            true,
            false,
        )
    })
    .expect("app");

    let with = |patch: Value| {
        let mut c = good_claims(&app, &me);
        if let (Some(c), Some(p)) = (c.as_object_mut(), patch.as_object()) {
            for (k, v) in p {
                c.insert(k.clone(), v.clone());
            }
        }
        c
    };
    let without = |key: &str| {
        let mut c = good_claims(&app, &me);
        if let Some(c) = c.as_object_mut() {
            c.remove(key);
        }
        c
    };
    let header_with = |patch: Value| {
        let mut hh = h.clone();
        if let (Some(hh), Some(p)) = (hh.as_object_mut(), patch.as_object()) {
            for (k, v) in p {
                hh.insert(k.clone(), v.clone());
            }
        }
        hh
    };
    let good = mint(&h, &good_claims(&app, &me), &secret);
    let (gh, gp, _) = {
        let p: Vec<&str> = good.split('.').collect();
        (p[0].to_string(), p[1].to_string(), p[2].to_string())
    };
    let t = now();
    let mut disabled_claims = good_claims(&app, &me);
    disabled_claims["iss"] = json!("disabled-app");
    let mut elsewhere_claims = good_claims(&app, &me);
    elsewhere_claims["iss"] = json!("elsewhere-app");

    let cases: Vec<(&str, String, u32)> = vec![
        ("two parts", format!("{gh}.{gp}"), 10084),
        ("four parts", format!("{good}.x"), 10084),
        ("empty", String::new(), 10084),
        (
            "padded header",
            mint_raw(&format!("{gh}="), &gp, &secret),
            10084,
        ),
        ("header not base64", mint_raw("!!!", &gp, &secret), 10084),
        (
            "header not JSON",
            mint_raw(&URL_SAFE_NO_PAD.encode("not json"), &gp, &secret),
            10084,
        ),
        (
            "payload a JSON array",
            mint(&h, &json!(["x"]), &secret),
            10084,
        ),
        (
            "alg HS512",
            mint(
                &header_with(json!({"alg": "HS512"})),
                &good_claims(&app, &me),
                &secret,
            ),
            10084,
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&header_with(json!({"alg": "none"}))),
                b64(&good_claims(&app, &me))
            ),
            10084,
        ),
        (
            "header iss differs",
            mint(
                &header_with(json!({"iss": "x"})),
                &good_claims(&app, &me),
                &secret,
            ),
            10084,
        ),
        (
            "iss unknown",
            mint(
                &header_with(json!({"iss": "nobody"})),
                &with(json!({"iss": "nobody"})),
                &secret,
            ),
            126,
        ),
        (
            "iss missing",
            mint(
                &json!({"alg": "HS256", "kid": app.secret_id}),
                &without("iss"),
                &secret,
            ),
            126,
        ),
        (
            "app disabled",
            mint(
                &header_with(json!({"iss": "disabled-app", "kid": "sid"})),
                &disabled_claims,
                "a-secret-value-for-the-disabled-app",
            ),
            126,
        ),
        (
            "app on another site",
            mint(
                &header_with(json!({"iss": "elsewhere-app", "kid": "sid2"})),
                &elsewhere_claims,
                "another-secret-value",
            ),
            126,
        ),
        (
            "kid missing",
            mint(
                &json!({"alg": "HS256", "iss": app.client_id}),
                &good_claims(&app, &me),
                &secret,
            ),
            10083,
        ),
        (
            "kid unknown",
            mint(
                &header_with(json!({"kid": "not-a-secret-id"})),
                &good_claims(&app, &me),
                &secret,
            ),
            127,
        ),
        (
            "wrong secret",
            mint(&h, &good_claims(&app, &me), "wrong-secret"),
            127,
        ),
        (
            "tampered payload",
            {
                let forged = b64(&with(json!({"sub": "admin"})));
                let sig = good.rsplit('.').next().unwrap_or_default().to_string();
                format!("{gh}.{forged}.{sig}")
            },
            127,
        ),
        (
            "aud wrong",
            mint(&h, &with(json!({"aud": "tableau:site"})), &secret),
            10084,
        ),
        (
            "aud array",
            mint(&h, &with(json!({"aud": ["tableau"]})), &secret),
            10084,
        ),
        ("aud missing", mint(&h, &without("aud"), &secret), 10084),
        ("exp missing", mint(&h, &without("exp"), &secret), 16),
        (
            "exp string",
            mint(&h, &with(json!({"exp": (t + 300).to_string()})), &secret),
            16,
        ),
        (
            "exp past",
            mint(&h, &with(json!({"exp": t - 2})), &secret),
            16,
        ),
        (
            "exp too far",
            mint(&h, &with(json!({"exp": t + 660})), &secret),
            16,
        ),
        (
            "nbf future",
            mint(&h, &with(json!({"nbf": t + 60})), &secret),
            16,
        ),
        (
            "nbf not a number",
            mint(&h, &with(json!({"nbf": "soon"})), &secret),
            10084,
        ),
        ("jti missing", mint(&h, &without("jti"), &secret), 10084),
        (
            "jti a number",
            mint(&h, &with(json!({"jti": 7})), &secret),
            10084,
        ),
        ("scp missing", mint(&h, &without("scp"), &secret), 10099),
        (
            "scp a string",
            mint(&h, &with(json!({"scp": "tableau:content:read"})), &secret),
            10084,
        ),
        (
            "scp numbers",
            mint(&h, &with(json!({"scp": [1, 2]})), &secret),
            10084,
        ),
        (
            "groups not an array",
            mint(
                &h,
                &with(json!({"https://tableau.com/groups": "g"})),
                &secret,
            ),
            10084,
        ),
        (
            "sub unknown",
            mint(&h, &with(json!({"sub": "nobody@example.com"})), &secret),
            5,
        ),
        (
            "sub case differs",
            mint(&h, &with(json!({"sub": "ME@example.com"})), &secret),
            5,
        ),
        ("sub missing", mint(&h, &without("sub"), &secret), 5),
        (
            "sub a number",
            mint(&h, &with(json!({"sub": 5})), &secret),
            10084,
        ),
        (
            "oda asked, app does not allow",
            mint(
                &h,
                &with(json!({"sub": "new@example.com", "https://tableau.com/oda": "true"})),
                &secret,
            ),
            67,
        ),
    ];
    let n = cases.len() as u64;
    for (what, jwt, sub) in &cases {
        let ans = sign_in(&fake, jwt_body(jwt, "mysite")).await;
        assert_jwt_rejected(&ans, *sub, what);
    }
    let stats = fake.stats();
    assert_eq!(stats.sign_in_failures, n);
    assert_eq!(stats.sign_ins, 0);
    assert_eq!(stats.active_sessions, 0);
    assert_eq!(stats.rejections.get("401001/126"), Some(&4));
    assert_eq!(stats.rejections.get("401001/67"), Some(&1));
    let total: u64 = stats.rejections.values().sum();
    assert_eq!(total, n);

    // Boundaries that pass: exp 590 s ahead, nbf 3 s ahead, oda as a boolean on an ODA app.
    let ans = sign_in(
        &fake,
        jwt_body(
            &mint(&h, &with(json!({"exp": t + 590, "nbf": t + 3})), &secret),
            "mysite",
        ),
    )
    .await;
    assert_eq!(ans.status, 200, "{}", ans.body);
}

#[tokio::test]
async fn is_uat_with_a_connected_app_jwt_is_126_and_old_versions_take_jwt() {
    let fake = FakeTableau::start().expect("start");
    // A direct-trust JWT is no unified access token: its issuer is no UAT configuration.
    let ans = sign_in(&fake, uat_body(&good_jwt(&fake), "mysite")).await;
    assert_jwt_rejected(&ans, 126, "isUat with a connected-app JWT");
    // isUat="false" is the plain JWT sign-in.
    let body = format!(
        r#"<tsRequest><credentials jwt="{}" isUat="false"><site contentUrl="mysite"/></credentials></tsRequest>"#,
        good_jwt(&fake)
    );
    assert_eq!(sign_in(&fake, body).await.status, 200);
    // A JWT sign-in at an old path version is accepted (TSC signs in at 2.4).
    let resp = client()
        .post(format!("{}/api/2.4/auth/signin", fake.url()))
        .body(jwt_body(&good_jwt(&fake), "mysite"))
        .send()
        .await
        .expect("send");
    assert_eq!(read(resp).await.status, 200);
}

#[tokio::test]
async fn jti_is_single_use_but_only_recorded_after_the_signature() {
    let fake = FakeTableau::start().expect("start");
    let app = fake.default_app();
    let jwt = good_jwt(&fake);
    assert_eq!(sign_in(&fake, jwt_body(&jwt, "mysite")).await.status, 200);
    let ans = sign_in(&fake, jwt_body(&jwt, "mysite")).await;
    assert_jwt_rejected(&ans, 10091, "reused jti");
    // Also when the second JWT is otherwise new.
    let claims = good_claims(&app, &fake.default_username());
    let first = mint(&good_header(&app), &claims, &app.secret_value);
    assert_eq!(sign_in(&fake, jwt_body(&first, "mysite")).await.status, 200);
    let mut again = claims.clone();
    again["exp"] = json!(now() + 200);
    let second = mint(&good_header(&app), &again, &app.secret_value);
    assert_jwt_rejected(
        &sign_in(&fake, jwt_body(&second, "mysite")).await,
        10091,
        "same jti",
    );

    // A badly signed JWT does not burn its jti.
    let claims = good_claims(&app, &fake.default_username());
    let forged = mint(&good_header(&app), &claims, "not-the-secret");
    assert_jwt_rejected(
        &sign_in(&fake, jwt_body(&forged, "mysite")).await,
        127,
        "forged",
    );
    let real = mint(&good_header(&app), &claims, &app.secret_value);
    assert_eq!(sign_in(&fake, jwt_body(&real, "mysite")).await.status, 200);
    assert_eq!(fake.stats().rejections.get("401001/10091"), Some(&2));
}

#[tokio::test]
async fn on_demand_access_creates_the_user() {
    let fake = FakeTableau::start().expect("start");
    fake.configure(|s| {
        s.add_connected_app(
            "mysite",
            "oda-app",
            "oda-secret-id",
            "oda-secret-value-0123456789",
            true,
            true,
        )
    })
    .expect("app");
    let app = AppSecret {
        client_id: "oda-app".into(),
        secret_id: "oda-secret-id".into(),
        secret_value: "oda-secret-value-0123456789".into(),
    };
    let mut claims = good_claims(&app, "new.user@example.com");
    claims["https://tableau.com/oda"] = json!(true);
    claims["https://tableau.com/groups"] = json!(["Sales"]);
    claims["Region"] = json!("East");
    let ans = sign_in(
        &fake,
        jwt_body(
            &mint(&good_header(&app), &claims, &app.secret_value),
            "mysite",
        ),
    )
    .await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    let session = get(&fake, "sessions/current", Some(&ans.token())).await;
    assert!(
        session.body.contains(r#"name="new.user@example.com""#),
        "{}",
        session.body
    );
    // Without the claim the (now existing) user signs in normally.
    let claims = good_claims(&app, "new.user@example.com");
    let ans = sign_in(
        &fake,
        jwt_body(
            &mint(&good_header(&app), &claims, &app.secret_value),
            "mysite",
        ),
    )
    .await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    // A second secret works; a third is refused.
    fake.configure(|s| {
        s.add_connected_app("mysite", "oda-app", "second-id", "second-value", true, true)
    })
    .expect("second secret");
    assert!(fake
        .configure(|s| s.add_connected_app(
            "mysite",
            "oda-app",
            "third-id",
            "third-value",
            true,
            true
        ))
        .is_err());
    let app2 = AppSecret {
        secret_id: "second-id".into(),
        secret_value: "second-value".into(),
        ..app
    };
    let claims = good_claims(&app2, "new.user@example.com");
    let ans = sign_in(
        &fake,
        jwt_body(
            &mint(&good_header(&app2), &claims, &app2.secret_value),
            "mysite",
        ),
    )
    .await;
    assert_eq!(ans.status, 200, "{}", ans.body);
}

#[tokio::test]
async fn disabling_an_app_stops_new_sign_ins() {
    let fake = FakeTableau::start().expect("start");
    let app = fake.default_app();
    fake.configure(|s| s.set_app_enabled(&app.client_id, false));
    assert_jwt_rejected(
        &sign_in(&fake, jwt_body(&good_jwt(&fake), "mysite")).await,
        126,
        "disabled",
    );
    assert_jwt_rejected(
        &sign_in(&fake, jwt_body(&good_jwt(&fake), "")).await,
        126,
        "disabled",
    );
    fake.configure(|s| s.set_app_enabled(&app.client_id, true));
    assert_eq!(
        sign_in(&fake, jwt_body(&good_jwt(&fake), "mysite"))
            .await
            .status,
        200
    );
}

// ---------------------------------------------------------------------------------------------
// Other sign-in methods and bodies

#[tokio::test]
async fn unknown_site_and_bad_bodies() {
    let fake = FakeTableau::start().expect("start");
    let ans = sign_in(&fake, jwt_body(&good_jwt(&fake), "nosuchsite")).await;
    assert_error(&ans, 401, "401001");
    assert_eq!(
        ans.detail().as_deref(),
        Some("Error signing in to Tableau Server")
    );
    for bad in [
        "",
        "not xml",
        "<tsRequest><credentials jwt='x'></credentials></tsRequest>",
        "<tsRequest><credentials jwt='a&b'><site contentUrl='mysite'/></credentials></tsRequest>",
        "<tsRequest><credentials jwt='x'><site contentUrl='mysite'/></credentials>",
    ] {
        assert_error(&sign_in(&fake, bad.to_string()).await, 400, "400000");
    }
    // No method, mixed methods, half a method.
    for creds in [
        r#"<credentials>"#,
        r#"<credentials name="admin">"#,
        r#"<credentials personalAccessTokenName="fake-pat">"#,
        r#"<credentials jwt="a.b.c" name="admin" password="x">"#,
    ] {
        let body =
            format!(r#"<tsRequest>{creds}<site contentUrl="mysite"/></credentials></tsRequest>"#);
        assert_error(&sign_in(&fake, body).await, 401, "401001");
    }
    // A namespace and a prefix are fine.
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><t:tsRequest xmlns:t="http://tableau.com/api"><t:credentials jwt="{}"><t:site contentUrl="mysite"/></t:credentials></t:tsRequest>"#,
        good_jwt(&fake)
    );
    assert_eq!(sign_in(&fake, body).await.status, 200);
    let stats = fake.stats();
    assert_eq!(stats.rejections.get("400000"), Some(&5));
    assert_eq!(stats.rejections.get("401001"), Some(&5));
}

#[tokio::test]
async fn password_sign_in_needs_escaping() {
    let fake = FakeTableau::start().expect("start");
    let password = fake.default_password();
    assert!(password.contains('&') && password.contains('"') && password.contains('<'));
    let ans = sign_in(&fake, password_body("admin", &password, "mysite")).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    let session = get(&fake, "sessions/current", Some(&ans.token())).await;
    assert!(session.body.contains(r#"name="admin""#));
    assert_error(
        &sign_in(&fake, password_body("admin", "wrong", "mysite")).await,
        401,
        "401001",
    );
    assert_error(
        &sign_in(&fake, password_body("Admin", &password, "mysite")).await,
        401,
        "401001",
    );
    // A user without a password (SSO only) cannot.
    assert_error(
        &sign_in(&fake, password_body("me@example.com", "", "mysite")).await,
        401,
        "401001",
    );
    // Unescaped: the XML is broken.
    let raw = format!(
        r#"<tsRequest><credentials name="admin" password="{password}"><site contentUrl="mysite"/></credentials></tsRequest>"#
    );
    assert_error(&sign_in(&fake, raw).await, 400, "400000");
    // The wire format is kept.
    let (ct, body) = fake.last_sign_in_request().expect("recorded");
    assert_eq!(ct, "application/xml");
    assert!(body.contains("password=\""));
    // A user added later, with a password.
    fake.configure(|s| s.add_user("mysite", "bob", Some("b0b")))
        .expect("user");
    assert_eq!(
        sign_in(&fake, password_body("bob", "b0b", "mysite"))
            .await
            .status,
        200
    );
    assert!(fake
        .configure(|s| s.add_user("nosuchsite", "bob", None))
        .is_err());
}

#[tokio::test]
async fn impersonation_by_user_luid() {
    let fake = FakeTableau::start().expect("start");
    let bob = fake
        .configure(|s| s.add_user("mysite", "bob", None))
        .expect("user");
    let body = format!(
        r#"<tsRequest><credentials name="admin" password="{}"><site contentUrl="mysite"/><user id="{bob}"/></credentials></tsRequest>"#,
        xml_escape_attr(&fake.default_password())
    );
    let ans = sign_in(&fake, body).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    assert_eq!(site_and_user(&ans).1, bob);
    let session = get(&fake, "sessions/current", Some(&ans.token())).await;
    assert!(session.body.contains(r#"name="bob""#));
    let body = format!(
        r#"<tsRequest><credentials name="admin" password="{}"><site contentUrl="mysite"/><user id="no-such-luid"/></credentials></tsRequest>"#,
        xml_escape_attr(&fake.default_password())
    );
    assert_error(&sign_in(&fake, body).await, 401, "401001");
}

#[tokio::test]
async fn a_second_pat_sign_in_ends_the_first_session() {
    let fake = FakeTableau::start().expect("start");
    let pat = fake.default_pat();
    let first = sign_in(&fake, pat_body(&pat, "mysite")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.token();
    assert_eq!(
        get(&fake, "sessions/current", Some(&first)).await.status,
        200
    );
    let second = sign_in(&fake, pat_body(&pat, "mysite")).await.token();
    assert_ne!(first, second);
    assert!(!fake.is_session_alive(&first));
    assert_error(
        &get(&fake, "sessions/current", Some(&first)).await,
        401,
        "401002",
    );
    assert_eq!(
        get(&fake, "sessions/current", Some(&second)).await.status,
        200
    );
    // Wrong secret, PAT of another site.
    let wrong = PatSecret {
        name: pat.name.clone(),
        secret: "nope".into(),
    };
    assert_error(
        &sign_in(&fake, pat_body(&wrong, "mysite")).await,
        401,
        "401001",
    );
    assert_error(&sign_in(&fake, pat_body(&pat, "")).await, 401, "401001");
    // A JWT session of the same user is not affected by PAT sign-ins.
    let jwt_token = sign_in(&fake, jwt_body(&good_jwt(&fake), "mysite"))
        .await
        .token();
    let third = sign_in(&fake, pat_body(&pat, "mysite")).await.token();
    assert!(fake.is_session_alive(&jwt_token));
    assert!(fake.is_session_alive(&third));
    assert!(!fake.is_session_alive(&second));
    assert_eq!(fake.stats().active_sessions, 2);
    // Added PATs, at any path version (TSC signs in at 2.4).
    assert!(fake
        .configure(|s| s.add_pat("mysite", "nobody", "p", "s"))
        .is_err());
    fake.configure(|s| s.add_pat("", "admin", "admin-pat", "s3cr3t"))
        .expect("pat");
    let admin_pat = PatSecret {
        name: "admin-pat".into(),
        secret: "s3cr3t".into(),
    };
    assert_eq!(sign_in(&fake, pat_body(&admin_pat, "")).await.status, 200);
    let resp = client()
        .post(format!("{}/api/2.4/auth/signin", fake.url()))
        .body(pat_body(&admin_pat, ""))
        .send()
        .await
        .expect("send");
    assert_eq!(read(resp).await.status, 200);
}

#[tokio::test]
async fn json_sign_in_and_json_answers() {
    let fake = FakeTableau::start().expect("start");
    let body = json!({"credentials": {"jwt": good_jwt(&fake), "site": {"contentUrl": "mysite"}}})
        .to_string();
    let resp = client()
        .post(format!("{}/api/{V}/auth/signin", fake.url()))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(body.clone())
        .send()
        .await
        .expect("send");
    let ans = read(resp).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    assert!(ans.content_type().starts_with("application/json"));
    let v: Value = serde_json::from_str(&ans.body).expect("json");
    assert!(v.get("tsResponse").is_none());
    let token = v["credentials"]["token"]
        .as_str()
        .expect("token")
        .to_string();
    assert_eq!(v["credentials"]["estimatedTimeToExpiration"], "4:00:00");
    assert_eq!(v["credentials"]["site"]["contentUrl"], "mysite");
    let site_luid = v["credentials"]["site"]["id"]
        .as_str()
        .expect("site id")
        .to_string();
    assert!(v["credentials"]["user"]["id"].is_string());
    assert_eq!(
        fake.last_sign_in_request(),
        Some(("application/json".into(), body))
    );

    let resp = client()
        .get(format!(
            "{}/api/{V}/sites/{site_luid}/workbooks",
            fake.url()
        ))
        .header("accept", "application/json")
        .header("x-tableau-auth", &token)
        .send()
        .await
        .expect("send");
    let v: Value = serde_json::from_str(&read(resp).await.body).expect("json");
    assert_eq!(v["pagination"]["totalAvailable"], "3");
    assert_eq!(v["workbooks"]["workbook"].as_array().map(Vec::len), Some(3));

    let resp = client()
        .get(format!("{}/api/{V}/sessions/current", fake.url()))
        .header("accept", "application/json")
        .header("x-tableau-auth", &token)
        .send()
        .await
        .expect("send");
    let v: Value = serde_json::from_str(&read(resp).await.body).expect("json");
    assert_eq!(v["session"]["user"]["name"], "me@example.com");

    // JSON error, and a JWT sub-code in it.
    let resp = client()
        .post(format!("{}/api/{V}/auth/signin", fake.url()))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(
            json!({"credentials": {"jwt": "a.b.c", "site": {"contentUrl": "mysite"}}}).to_string(),
        )
        .send()
        .await
        .expect("send");
    let ans = read(resp).await;
    assert_eq!(ans.status, 401);
    let v: Value = serde_json::from_str(&ans.body).expect("json");
    assert_eq!(v["error"]["code"], "401001");
    assert_eq!(
        v["error"]["detail"],
        "Error signing in to Tableau Server (10084)"
    );
    // XML sent as JSON is a bad request.
    let resp = client()
        .post(format!("{}/api/{V}/auth/signin", fake.url()))
        .header("content-type", "application/json")
        .body(jwt_body(&good_jwt(&fake), "mysite"))
        .send()
        .await
        .expect("send");
    assert_error(&read(resp).await, 400, "400000");
    // estimatedTimeToExpiration can be omitted.
    fake.set_estimated_time_to_expiration(None);
    let ans = sign_in(&fake, jwt_body(&good_jwt(&fake), "mysite")).await;
    assert_eq!(ans.status, 200);
    assert!(!ans.body.contains("estimatedTimeToExpiration"));
}

// ---------------------------------------------------------------------------------------------
// Session life

#[tokio::test]
async fn sign_out_then_401002() {
    let fake = FakeTableau::start().expect("start");
    let token = sign_in(&fake, jwt_body(&good_jwt(&fake), "mysite"))
        .await
        .token();
    let ans = post(&fake, "auth/signout", String::new(), Some(&token)).await;
    assert_eq!(ans.status, 204);
    assert!(ans.body.is_empty());
    assert!(!fake.is_session_alive(&token));
    assert_error(
        &post(&fake, "auth/signout", String::new(), Some(&token)).await,
        401,
        "401002",
    );
    assert_error(
        &get(&fake, "sessions/current", Some(&token)).await,
        401,
        "401002",
    );
    assert_error(
        &post(&fake, "auth/signout", String::new(), None).await,
        401,
        "401000",
    );
    let stats = fake.stats();
    assert_eq!(stats.sign_outs, 3);
    assert_eq!(stats.active_sessions, 0);
}

#[tokio::test]
async fn sessions_die_after_the_ttl_and_on_demand() {
    let fake = FakeTableau::start().expect("start");
    let forever = sign_in(&fake, jwt_body(&good_jwt(&fake), "mysite"))
        .await
        .token();
    fake.set_session_ttl(Some(Duration::from_millis(300)));
    let short = sign_in(&fake, jwt_body(&good_jwt(&fake), "mysite"))
        .await
        .token();
    assert_eq!(
        get(&fake, "sessions/current", Some(&short)).await.status,
        200
    );
    assert_eq!(fake.stats().active_sessions, 2);
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_error(
        &get(&fake, "sessions/current", Some(&short)).await,
        401,
        "401002",
    );
    assert!(!fake.is_session_alive(&short));
    assert!(fake.is_session_alive(&forever));
    assert_eq!(fake.stats().active_sessions, 1);
    fake.expire_all_sessions();
    assert!(!fake.is_session_alive(&forever));
    assert_error(
        &get(&fake, "sessions/current", Some(&forever)).await,
        401,
        "401002",
    );
    assert_eq!(fake.stats().active_sessions, 0);
}

#[tokio::test]
async fn switch_site() {
    let fake = FakeTableau::start().expect("start");
    let ans = sign_in(&fake, jwt_body(&good_jwt(&fake), "mysite")).await;
    let token = ans.token();
    let (mysite_luid, _) = site_and_user(&ans);
    let body = |site: &str| format!(r#"<tsRequest><site contentUrl="{site}"/></tsRequest>"#);

    assert_error(
        &post(&fake, "auth/switchSite", body("mysite"), Some(&token)).await,
        403,
        "403070",
    );
    assert_error(
        &post(&fake, "auth/switchSite", body("nowhere"), Some(&token)).await,
        401,
        "401000",
    );
    fake.configure(|s| s.add_site("lonely", "Lonely"));
    assert_error(
        &post(&fake, "auth/switchSite", body("lonely"), Some(&token)).await,
        401,
        "401000",
    );
    assert_error(
        &post(&fake, "auth/switchSite", "<x/>".into(), Some(&token)).await,
        400,
        "400000",
    );
    assert_error(
        &post(&fake, "auth/switchSite", body(""), None).await,
        401,
        "401000",
    );
    assert!(
        fake.is_session_alive(&token),
        "failed switches keep the session"
    );

    let ans = post(&fake, "auth/switchSite", body(""), Some(&token)).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    let new_token = ans.token();
    let (default_luid, _) = site_and_user(&ans);
    assert_ne!(default_luid, mysite_luid);
    assert!(new_token.ends_with(&default_luid));
    assert!(!fake.is_session_alive(&token));
    assert_error(
        &get(&fake, "sessions/current", Some(&token)).await,
        401,
        "401002",
    );
    let session = get(&fake, "sessions/current", Some(&new_token)).await;
    assert!(
        session.body.contains(r#"name="Default""#),
        "{}",
        session.body
    );
    assert_eq!(
        get(
            &fake,
            &format!("sites/{default_luid}/workbooks"),
            Some(&new_token)
        )
        .await
        .status,
        200
    );
    assert_error(
        &get(
            &fake,
            &format!("sites/{mysite_luid}/workbooks"),
            Some(&new_token),
        )
        .await,
        403,
        "403000",
    );
    // JSON form.
    let resp = client()
        .post(format!("{}/api/{V}/auth/switchSite", fake.url()))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("x-tableau-auth", &new_token)
        .body(json!({"site": {"contentUrl": "mysite"}}).to_string())
        .send()
        .await
        .expect("send");
    let ans = read(resp).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    let v: Value = serde_json::from_str(&ans.body).expect("json");
    assert_eq!(v["credentials"]["site"]["id"], mysite_luid.as_str());
    assert_eq!(fake.stats().switch_site, 7);
}

// ---------------------------------------------------------------------------------------------
// Misbehaviour, delays, transport

#[tokio::test]
async fn misbehaviours() {
    let fake = FakeTableau::start().expect("start");
    let normal = get(&fake, "serverinfo", None).await;

    fake.misbehave(
        "serverinfo",
        2,
        Misbehaviour::Fail {
            status: 503,
            code: None,
        },
    );
    fake.misbehave(
        "serverinfo",
        1,
        Misbehaviour::Fail {
            status: 500,
            code: Some("500123".into()),
        },
    );
    fake.misbehave(
        "serverinfo",
        1,
        Misbehaviour::RateLimit {
            retry_after: Some(120),
            html: false,
        },
    );
    fake.misbehave(
        "serverinfo",
        1,
        Misbehaviour::RateLimit {
            retry_after: Some(7),
            html: true,
        },
    );
    fake.misbehave(
        "serverinfo",
        1,
        Misbehaviour::RateLimit {
            retry_after: None,
            html: false,
        },
    );
    fake.misbehave("serverinfo", 1, Misbehaviour::Html { status: 200 });
    fake.misbehave("serverinfo", 1, Misbehaviour::Truncate);
    fake.misbehave("serverinfo", 1, Misbehaviour::Empty { status: 502 });
    // Not for this route: untouched by serverinfo calls.
    fake.misbehave("sessions/current", 1, Misbehaviour::Empty { status: 200 });

    for _ in 0..2 {
        assert_error(&get(&fake, "serverinfo", None).await, 503, "503000");
    }
    assert_error(&get(&fake, "serverinfo", None).await, 500, "500123");

    let ans = get(&fake, "serverinfo", None).await;
    assert_error(&ans, 429, "429000");
    assert_eq!(
        ans.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("120")
    );
    assert!(
        ans.detail()
            .unwrap_or_default()
            .contains("retry after 2 minutes"),
        "{}",
        ans.body
    );

    let ans = get(&fake, "serverinfo", None).await;
    assert_eq!(ans.status, 429);
    assert!(ans.content_type().starts_with("text/html"));
    assert!(ans.body.contains("<html"));
    assert_eq!(
        ans.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("7")
    );

    let ans = get(&fake, "serverinfo", None).await;
    assert_error(&ans, 429, "429000");
    assert!(ans.headers.get("retry-after").is_none());

    let ans = get(&fake, "serverinfo", None).await;
    assert_eq!(ans.status, 200);
    assert!(ans.content_type().starts_with("text/html"));
    assert!(ans.body.contains("<form"));

    let ans = get(&fake, "serverinfo", None).await;
    assert_eq!(ans.status, 200);
    assert_eq!(ans.body.len(), normal.body.len() / 2);
    assert!(normal.body.starts_with(&ans.body));
    assert_eq!(
        ans.headers
            .get("content-length")
            .and_then(|v| v.to_str().ok()),
        Some(ans.body.len().to_string().as_str())
    );

    let ans = get(&fake, "serverinfo", None).await;
    assert_eq!(ans.status, 502);
    assert!(ans.body.is_empty());

    // The queue is used up.
    assert_eq!(get(&fake, "serverinfo", None).await.body, normal.body);
    let ans = get(&fake, "sessions/current", None).await;
    assert_eq!(ans.status, 200);
    assert!(ans.body.is_empty());
    assert_error(&get(&fake, "sessions/current", None).await, 401, "401000");

    // "*" hits any route; a misbehaved sign-in creates no session and is no failure.
    fake.reset_stats();
    fake.misbehave(
        "*",
        1,
        Misbehaviour::Fail {
            status: 502,
            code: None,
        },
    );
    assert_error(
        &sign_in(&fake, jwt_body(&good_jwt(&fake), "mysite")).await,
        502,
        "502000",
    );
    let stats = fake.stats();
    assert_eq!(
        (
            stats.sign_in_attempts,
            stats.sign_ins,
            stats.sign_in_failures
        ),
        (1, 0, 0)
    );
    assert_eq!(stats.active_sessions, 0);
    assert!(stats.rejections.is_empty());

    // A truncated sign-in still created its session.
    fake.misbehave("auth/signin", 1, Misbehaviour::Truncate);
    let ans = sign_in(&fake, jwt_body(&good_jwt(&fake), "mysite")).await;
    assert_eq!(ans.status, 200);
    assert!(!ans.body.ends_with("</tsResponse>"));
    assert_eq!(fake.stats().active_sessions, 1);
    assert_eq!(fake.stats().sign_ins, 1);
}

#[tokio::test]
async fn delays_do_not_block_other_connections() {
    let fake = FakeTableau::start().expect("start");
    fake.set_delay("serverinfo", Duration::from_millis(800));
    let slow = async {
        let t = Instant::now();
        let ans = get(&fake, "serverinfo", None).await;
        (ans.status, t.elapsed())
    };
    let fast = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let t = Instant::now();
        let ans = get(&fake, "sessions/current", None).await;
        (ans.status, t.elapsed())
    };
    let ((slow_status, slow_time), (fast_status, fast_time)) = tokio::join!(slow, fast);
    assert_eq!(slow_status, 200);
    assert_eq!(fast_status, 401);
    assert!(slow_time >= Duration::from_millis(800), "{slow_time:?}");
    assert!(fast_time < Duration::from_millis(500), "{fast_time:?}");
    // Misbehaviour answers wait too; "*" applies everywhere; zero clears.
    fake.set_delay("serverinfo", Duration::ZERO);
    fake.set_delay("*", Duration::from_millis(300));
    fake.misbehave("sessions/current", 1, Misbehaviour::Empty { status: 500 });
    let t = Instant::now();
    assert_eq!(get(&fake, "sessions/current", None).await.status, 500);
    assert!(t.elapsed() >= Duration::from_millis(300));
    fake.set_delay("*", Duration::ZERO);
    let t = Instant::now();
    assert_eq!(get(&fake, "serverinfo", None).await.status, 200);
    assert!(t.elapsed() < Duration::from_millis(300));
}

/// Reads from a raw connection until `count` answers ending in `</tsResponse>` arrived.
async fn read_answers(stream: &mut tokio::net::TcpStream, count: usize) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(5);
    while String::from_utf8_lossy(&buf)
        .matches("</tsResponse>")
        .count()
        < count
    {
        assert!(
            Instant::now() < deadline,
            "timed out: {}",
            String::from_utf8_lossy(&buf)
        );
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("read in time")
            .expect("read");
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test]
async fn keep_alive_pipelining_and_garbage() {
    let fake = FakeTableau::start().expect("start");
    let addr = fake.url().trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let req = format!("GET /api/{V}/serverinfo HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream
        .write_all(format!("{req}{req}").as_bytes())
        .await
        .expect("write");
    let text = read_answers(&mut stream, 2).await;
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2, "{text}");
    // Same connection, once more.
    stream.write_all(req.as_bytes()).await.expect("write");
    let text = read_answers(&mut stream, 1).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");

    // Garbage and odd inputs do not hurt the server.
    for junk in [
        &b"\x00\x01\x02 garbage\r\n\r\n"[..],
        b"POST /api/3.28/auth/signin HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n\xff\xfe\xfd\xfc\xfb",
        b"POST /api/3.28/auth/signin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /api/%FF%00/serverinfo HTTP/1.1\r\nHost: x\r\nX-Tableau-Auth: \xff\r\n\r\n",
    ] {
        let mut s = tokio::net::TcpStream::connect(&addr).await.expect("connect");
        let _ = s.write_all(junk).await;
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_millis(500), s.read_to_end(&mut sink)).await;
    }
    assert_eq!(get(&fake, "serverinfo", None).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_sign_ins() {
    let fake = Arc::new(FakeTableau::start().expect("start"));
    let http = client();
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let fake = Arc::clone(&fake);
        let http = http.clone();
        tasks.push(tokio::spawn(async move {
            let resp = http
                .post(format!("{}/api/{V}/auth/signin", fake.url()))
                .body(jwt_body(&good_jwt(&fake), "mysite"))
                .send()
                .await
                .expect("send");
            let ans = read(resp).await;
            assert_eq!(ans.status, 200, "{}", ans.body);
            ans.token()
        }));
    }
    let mut tokens = std::collections::HashSet::new();
    for task in tasks {
        tokens.insert(task.await.expect("task"));
    }
    assert_eq!(tokens.len(), 100);
    let stats = fake.stats();
    assert_eq!(stats.sign_ins, 100);
    assert_eq!(stats.active_sessions, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_simultaneous_connections_with_a_delay() {
    const N: usize = 1000;
    let fake = FakeTableau::start().expect("start");
    fake.set_delay("serverinfo", Duration::from_millis(300));
    let addr = fake.url().trim_start_matches("http://").to_string();
    let barrier = Arc::new(tokio::sync::Barrier::new(N));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..N {
        let addr = addr.clone();
        let barrier = Arc::clone(&barrier);
        tasks.push(tokio::spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(&addr)
                .await
                .expect("connect");
            // Every connection is open before any request is sent.
            barrier.wait().await;
            let req = format!("GET /api/{V}/serverinfo HTTP/1.1\r\nHost: {addr}\r\n\r\n");
            stream.write_all(req.as_bytes()).await.expect("write");
            read_answers(&mut stream, 1).await
        }));
    }
    for task in tasks {
        let text = task.await.expect("task");
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    }
    // 1,000 delayed answers in parallel, not one after the other (that would be 300 s).
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.stats().server_info, N as u64);
}

#[tokio::test]
async fn stats_count_everything() {
    let fake = FakeTableau::start().expect("start");
    let ans = sign_in(&fake, jwt_body(&good_jwt(&fake), "mysite")).await;
    let token = ans.token();
    let (site, _) = site_and_user(&ans);
    let _ = sign_in(&fake, jwt_body("x", "mysite")).await;
    let _ = get(&fake, "serverinfo", None).await;
    let _ = get(&fake, "sessions/current", Some(&token)).await;
    let _ = get(&fake, &format!("sites/{site}/workbooks"), Some(&token)).await;
    let _ = get(&fake, "nope", None).await;
    let _ = post(
        &fake,
        "auth/switchSite",
        "<tsRequest><site contentUrl=\"\"/></tsRequest>".into(),
        Some(&token),
    )
    .await;
    let stats = fake.stats();
    let mut expected = Stats {
        sign_in_attempts: 2,
        sign_ins: 1,
        sign_in_failures: 1,
        sign_outs: 0,
        server_info: 1,
        sessions_current: 1,
        workbooks: 1,
        sites: 0,
        users: 0,
        projects: 0,
        datasources: 0,
        views: 0,
        switch_site: 1,
        metadata_api: 0,
        vds: 0,
        pulse: 0,
        requests: 7,
        active_sessions: 1,
        rejections: Default::default(),
        tls_handshake_failures: 0,
        cloud_manager_sign_in_attempts: 0,
        cloud_manager_sign_ins: 0,
        cloud_manager_sign_in_failures: 0,
        cloud_manager_sign_outs: 0,
        cloud_manager_requests: 0,
        active_cloud_manager_sessions: 0,
    };
    expected.rejections.insert("401001/10084".into(), 1);
    expected.rejections.insert("404000".into(), 1);
    assert_eq!(stats, expected);
    fake.reset_stats();
    let stats = fake.stats();
    assert_eq!(stats.requests, 0);
    assert_eq!(stats.active_sessions, 1);
}

#[tokio::test]
async fn a_poisoned_lock_does_not_wedge_the_server() {
    let fake = FakeTableau::start().expect("start");
    let shared = Arc::clone(&fake.shared);
    let _ = std::thread::spawn(move || {
        let _guard = shared.lock();
        panic!("poisoning the state lock on purpose");
    })
    .join();
    assert_eq!(get(&fake, "serverinfo", None).await.status, 200);
    assert_eq!(
        sign_in(&fake, jwt_body(&good_jwt(&fake), "mysite"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn stop_is_idempotent_and_closes_the_port() {
    let fake = FakeTableau::start().expect("start");
    assert_eq!(get(&fake, "serverinfo", None).await.status, 200);
    let url = fake.url();
    fake.stop();
    fake.stop();
    let err = client()
        .get(format!("{url}/api/{V}/serverinfo"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(err.is_err());
    // State stays readable.
    assert_eq!(fake.stats().server_info, 1);
    drop(fake);
}

// ---------------------------------------------------------------------------------------------
// OAuth 2.0 trust (external authorization servers) and unified access tokens.
//
// Keys are generated here with aws-lc-rs and JWTs signed independently of the fake.

mod asymmetric {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
    use aws_lc_rs::signature::{
        self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair,
        ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
        ECDSA_P521_SHA512_FIXED_SIGNING,
    };
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    /// A private key of the test, able to sign JWTs.
    pub(super) enum TestKey {
        Rsa(RsaKeyPair),
        Ec(EcdsaKeyPair),
        Ed(Ed25519KeyPair),
    }

    /// A SubjectPublicKeyInfo PEM, 64 characters a line.
    pub(super) fn pem(der: &[u8]) -> String {
        let b64 = STANDARD.encode(der);
        let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).expect("ascii"));
            out.push('\n');
        }
        out.push_str("-----END PUBLIC KEY-----\n");
        out
    }

    impl TestKey {
        pub(super) fn rsa() -> Self {
            TestKey::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).expect("rsa key"))
        }

        pub(super) fn p256() -> Self {
            TestKey::Ec(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("ec"))
        }

        pub(super) fn p384() -> Self {
            TestKey::Ec(EcdsaKeyPair::generate(&ECDSA_P384_SHA384_FIXED_SIGNING).expect("ec"))
        }

        pub(super) fn p521() -> Self {
            TestKey::Ec(EcdsaKeyPair::generate(&ECDSA_P521_SHA512_FIXED_SIGNING).expect("ec"))
        }

        pub(super) fn ed25519() -> Self {
            TestKey::Ed(Ed25519KeyPair::generate().expect("ed25519"))
        }

        pub(super) fn public_pem(&self) -> String {
            let der = match self {
                TestKey::Rsa(k) => k.public_key().as_der().expect("der").as_ref().to_vec(),
                TestKey::Ec(k) => k.public_key().as_der().expect("der").as_ref().to_vec(),
                TestKey::Ed(k) => k.public_key().as_der().expect("der").as_ref().to_vec(),
            };
            pem(&der)
        }

        /// The JWS signature of `input` for `alg` (the key must be of the matching kind;
        /// an EC key signs with its own curve's algorithm whatever `alg` says).
        pub(super) fn sign(&self, alg: &str, input: &[u8]) -> Vec<u8> {
            let rng = SystemRandom::new();
            match self {
                TestKey::Rsa(k) => {
                    let padding: &'static dyn signature::RsaEncoding = match alg {
                        "RS256" => &signature::RSA_PKCS1_SHA256,
                        "RS384" => &signature::RSA_PKCS1_SHA384,
                        "RS512" => &signature::RSA_PKCS1_SHA512,
                        "PS256" => &signature::RSA_PSS_SHA256,
                        "PS384" => &signature::RSA_PSS_SHA384,
                        "PS512" => &signature::RSA_PSS_SHA512,
                        // Any other alg: sign RS256 anyway (to test the alg rule).
                        _ => &signature::RSA_PKCS1_SHA256,
                    };
                    let mut sig = vec![0; k.public_modulus_len()];
                    k.sign(padding, &rng, input, &mut sig).expect("rsa sign");
                    sig
                }
                TestKey::Ec(k) => k.sign(&rng, input).expect("ec sign").as_ref().to_vec(),
                TestKey::Ed(k) => k.sign(input).as_ref().to_vec(),
            }
        }
    }

    /// A JWT signed by `key` with the header's `alg`.
    pub(super) fn mint_with(key: &TestKey, header: &Value, claims: &Value) -> String {
        let alg = header["alg"].as_str().unwrap_or("RS256");
        let input = format!("{}.{}", b64(header), b64(claims));
        let sig = key.sign(alg, input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// A 1024-bit RSA SubjectPublicKeyInfo PEM (a random odd modulus: good enough to be
    /// parsed and refused for its size; aws-lc-rs does not generate 1024-bit keys).
    pub(super) fn rsa_1024_pem() -> String {
        let mut n = random::random_bytes(128);
        n[0] |= 0x80;
        n[127] |= 1;
        let e = [1u8, 0, 1];
        let der = PublicKeyComponents {
            n: &n[..],
            e: &e[..],
        }
        .as_der()
        .expect("spki");
        pem(der.as_ref())
    }
}

use asymmetric::{mint_with, rsa_1024_pem, TestKey};

const EAS_CLOUD: &str = "https://idp.example.com/cloud";
const EAS_SERVER: &str = "https://idp.example.com/server";
const UAT_ISSUER: &str = "https://uat.example.com/issuer";
const TENANT: &str = "4f1c7d3e-tenant";

fn eas_header(alg: &str) -> Value {
    json!({"alg": alg, "typ": "JWT", "kid": "key-1"})
}

fn eas_claims(iss: &str, aud: &str, sub: &str) -> Value {
    let t = now();
    json!({
        "iss": iss,
        "sub": sub,
        "aud": aud,
        "jti": uuid::Uuid::new_v4().to_string(),
        "exp": t + 300,
        "iat": t - 5,
        "nbf": t - 5,
        "scp": ["tableau:content:read"],
    })
}

fn uat_body(jwt: &str, site: &str) -> String {
    format!(
        r#"<tsRequest><credentials jwt="{}" isUat="true"><site contentUrl="{}"/></credentials></tsRequest>"#,
        xml_escape_attr(jwt),
        xml_escape_attr(site)
    )
}

/// Claims of a UAT whose user sits in the claim `upn`.
fn uat_claims(upn: &str) -> Value {
    let t = now();
    json!({
        "iss": UAT_ISSUER,
        "upn": upn,
        "https://tableau.com/tenantId": TENANT,
        "jti": uuid::Uuid::new_v4().to_string(),
        "exp": t + 300,
        "iat": t - 5,
        "nbf": t - 5,
        "scp": ["tableau:content:read"],
    })
}

fn patched(mut v: Value, patch: Value) -> Value {
    if let (Some(o), Some(p)) = (v.as_object_mut(), patch.as_object()) {
        for (k, val) in p {
            if val.is_null() {
                o.remove(k);
            } else {
                o.insert(k.clone(), val.clone());
            }
        }
    }
    v
}

async fn sign_in_at(fake: &FakeTableau, version: &str, body: String) -> Answer {
    let resp = client()
        .post(format!("{}/api/{version}/auth/signin", fake.url()))
        .header("content-type", "application/xml")
        .body(body)
        .send()
        .await
        .expect("send");
    read(resp).await
}

#[tokio::test]
async fn eas_sign_in_with_every_key_type_and_both_audience_rules() {
    let fake = FakeTableau::start().expect("start");
    let site_luid = fake.configure(|s| s.add_site("mysite", "ignored"));
    let me = fake.default_username();
    let rsa = TestKey::rsa();
    let p256 = TestKey::p256();
    let p384 = TestKey::p384();
    let ed = TestKey::ed25519();
    for (issuer, rule) in [
        (EAS_CLOUD, AudienceRule::Cloud),
        (EAS_SERVER, AudienceRule::Server),
    ] {
        for key in [&rsa, &p256, &p384, &ed] {
            fake.configure(|s| {
                s.add_external_authorization_server("mysite", issuer, &key.public_pem(), rule)
            })
            .expect("register");
        }
        fake.configure(|s| {
            s.allow_eas_algorithms(
                "mysite",
                issuer,
                &[
                    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
                ],
            )
        })
        .expect("allow");
    }
    let cloud_aud = format!("tableau:{site_luid}");
    let cases: [(&str, &TestKey); 9] = [
        ("RS256", &rsa),
        ("RS384", &rsa),
        ("RS512", &rsa),
        ("PS256", &rsa),
        ("PS384", &rsa),
        ("PS512", &rsa),
        ("ES256", &p256),
        ("ES384", &p384),
        ("EdDSA", &ed),
    ];
    let mut ok = 0;
    for (issuer, good_aud, bad_aud) in [
        (EAS_CLOUD, cloud_aud.as_str(), "tableau"),
        (EAS_SERVER, "tableau", cloud_aud.as_str()),
    ] {
        for (alg, key) in cases {
            let claims = eas_claims(issuer, good_aud, &me);
            let jwt = mint_with(key, &eas_header(alg), &claims);
            let ans = sign_in(&fake, jwt_body(&jwt, "mysite")).await;
            assert_eq!(ans.status, 200, "{issuer} {alg}: {}", ans.body);
            ok += 1;
            let (luid, _) = site_and_user(&ans);
            assert_eq!(luid, site_luid);
            assert!(fake.is_session_alive(&ans.token()));
            let seen: Value =
                serde_json::from_str(&fake.last_jwt_claims().expect("claims")).expect("json");
            assert_eq!(seen, claims, "{issuer} {alg}");

            // The other rule's audience form is a parse error (10084).
            let jwt = mint_with(key, &eas_header(alg), &eas_claims(issuer, bad_aud, &me));
            let ans = sign_in(&fake, jwt_body(&jwt, "mysite")).await;
            assert_jwt_rejected(&ans, 10084, &format!("{issuer} {alg} aud {bad_aud}"));
        }
        // aud as an array, or missing, is refused too.
        for aud in [json!([good_aud]), Value::Null] {
            let claims = patched(eas_claims(issuer, good_aud, &me), json!({ "aud": aud }));
            let jwt = mint_with(&rsa, &eas_header("RS256"), &claims);
            assert_jwt_rejected(
                &sign_in(&fake, jwt_body(&jwt, "mysite")).await,
                10084,
                &format!("{issuer} aud {aud}"),
            );
        }
    }
    // The Cloud audience of another site is wrong.
    let other_luid = fake.configure(|s| s.add_site("other", "Other"));
    let jwt = mint_with(
        &rsa,
        &eas_header("RS256"),
        &eas_claims(EAS_CLOUD, &format!("tableau:{other_luid}"), &me),
    );
    assert_jwt_rejected(
        &sign_in(&fake, jwt_body(&jwt, "mysite")).await,
        10084,
        "other site's luid",
    );
    // JSON body too.
    let jwt = mint_with(
        &ed,
        &eas_header("EdDSA"),
        &eas_claims(EAS_SERVER, "tableau", &me),
    );
    let resp = client()
        .post(format!("{}/api/{V}/auth/signin", fake.url()))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(json!({"credentials": {"jwt": jwt, "site": {"contentUrl": "mysite"}}}).to_string())
        .send()
        .await
        .expect("send");
    let ans = read(resp).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    ok += 1;

    let stats = fake.stats();
    assert_eq!(stats.sign_ins, ok);
    assert_eq!(stats.rejections.get("401001/10084"), Some(&(18 + 4 + 1)));
}

#[tokio::test]
async fn eas_rejections_have_their_sub_codes() {
    let fake = FakeTableau::start().expect("start");
    let me = fake.default_username();
    let rsa = TestKey::rsa();
    let stranger = TestKey::rsa();
    let ed = TestKey::ed25519();
    fake.configure(|s| {
        s.add_external_authorization_server(
            "mysite",
            EAS_SERVER,
            &rsa.public_pem(),
            AudienceRule::Server,
        )
    })
    .expect("register");
    // ES256 and EdDSA allowed too, so that their signatures reach the key check.
    fake.configure(|s| s.allow_eas_algorithms("mysite", EAS_SERVER, &["RS256", "ES256", "EdDSA"]))
        .expect("allow");
    // Registered on the default site only.
    fake.configure(|s| {
        s.add_external_authorization_server("", EAS_CLOUD, &rsa.public_pem(), AudienceRule::Server)
    })
    .expect("register");
    let h = eas_header("RS256");
    let good = || eas_claims(EAS_SERVER, "tableau", &me);
    let with = |patch: Value| patched(good(), patch);
    let t = now();
    let header_with = |patch: Value| patched(h.clone(), patch);

    let cases: Vec<(&str, String, u32)> = vec![
        ("other key", mint_with(&stranger, &h, &good()), 10083),
        (
            "kid missing",
            mint_with(&rsa, &json!({"alg": "RS256", "typ": "JWT"}), &good()),
            10083,
        ),
        (
            "kid a number",
            mint_with(&rsa, &header_with(json!({"kid": 1})), &good()),
            10083,
        ),
        (
            "PS256, which Tableau does not document and this issuer was not allowed",
            mint_with(&rsa, &eas_header("PS256"), &good()),
            10084,
        ),
        (
            "Ed25519 signature, key not registered for EdDSA",
            mint_with(&ed, &eas_header("EdDSA"), &good()),
            10083,
        ),
        (
            "ES256 header over an RSA signature",
            mint_with(&rsa, &eas_header("ES256"), &good()),
            10083,
        ),
        (
            "tampered payload",
            {
                let jwt = mint_with(&rsa, &h, &good());
                let sig = jwt.rsplit('.').next().unwrap_or_default().to_string();
                format!("{}.{}.{sig}", b64(&h), b64(&with(json!({"sub": "admin"}))))
            },
            10083,
        ),
        (
            "alg HS256",
            mint(
                &eas_header("HS256"),
                &good(),
                &fake.default_app().secret_value,
            ),
            10084,
        ),
        (
            "alg none",
            format!("{}.{}.", b64(&eas_header("none")), b64(&good())),
            10084,
        ),
        (
            "alg ES512",
            mint_with(&rsa, &eas_header("ES512"), &good()),
            10084,
        ),
        (
            "alg missing",
            mint_with(&rsa, &json!({"kid": "k"}), &good()),
            10084,
        ),
        (
            "header iss differs",
            mint_with(&rsa, &header_with(json!({"iss": "x"})), &good()),
            10084,
        ),
        (
            "unknown issuer",
            mint_with(&rsa, &h, &with(json!({"iss": "https://nobody.example"}))),
            126,
        ),
        (
            "issuer of another site",
            mint_with(&rsa, &h, &with(json!({"iss": EAS_CLOUD}))),
            126,
        ),
        (
            "iss missing",
            mint_with(&rsa, &h, &with(json!({"iss": null}))),
            126,
        ),
        (
            "iss a number",
            mint_with(&rsa, &h, &with(json!({"iss": 3}))),
            10084,
        ),
        (
            "exp too far",
            mint_with(&rsa, &h, &with(json!({"exp": t + 660}))),
            16,
        ),
        (
            "exp past",
            mint_with(&rsa, &h, &with(json!({"exp": t - 2}))),
            16,
        ),
        (
            "nbf future",
            mint_with(&rsa, &h, &with(json!({"nbf": t + 60}))),
            16,
        ),
        (
            "jti missing",
            mint_with(&rsa, &h, &with(json!({"jti": null}))),
            10084,
        ),
        (
            "scp missing",
            mint_with(&rsa, &h, &with(json!({"scp": null}))),
            10099,
        ),
        (
            "scp a string",
            mint_with(&rsa, &h, &with(json!({"scp": "tableau:content:read"}))),
            10084,
        ),
        (
            "sub unknown",
            mint_with(&rsa, &h, &with(json!({"sub": "nobody@example.com"}))),
            5,
        ),
        (
            "sub case differs",
            mint_with(&rsa, &h, &with(json!({"sub": "ME@example.com"}))),
            5,
        ),
        (
            "on-demand access asked",
            mint_with(
                &rsa,
                &h,
                &with(json!({"sub": "new@example.com", "https://tableau.com/oda": true})),
            ),
            67,
        ),
    ];
    for (what, jwt, sub) in &cases {
        let ans = sign_in(&fake, jwt_body(jwt, "mysite")).await;
        assert_jwt_rejected(&ans, *sub, what);
    }
    let stats = fake.stats();
    assert_eq!(stats.sign_ins, 0);
    assert_eq!(stats.sign_in_failures, cases.len() as u64);
    assert_eq!(stats.rejections.get("401001/10083"), Some(&6));
    assert_eq!(stats.rejections.get("401001/126"), Some(&3));
    assert!(fake.last_jwt_claims().is_none());

    // jti: single use, one set shared with direct trust; a bad signature does not burn it.
    let claims = good();
    let forged = mint_with(&stranger, &h, &claims);
    assert_jwt_rejected(
        &sign_in(&fake, jwt_body(&forged, "mysite")).await,
        10083,
        "forged",
    );
    let jwt = mint_with(&rsa, &h, &claims);
    assert_eq!(sign_in(&fake, jwt_body(&jwt, "mysite")).await.status, 200);
    assert_jwt_rejected(
        &sign_in(&fake, jwt_body(&jwt, "mysite")).await,
        10091,
        "EAS jti reused",
    );
    let app = fake.default_app();
    let direct = mint(
        &good_header(&app),
        &patched(good_claims(&app, &me), json!({"jti": claims["jti"]})),
        &app.secret_value,
    );
    assert_jwt_rejected(
        &sign_in(&fake, jwt_body(&direct, "mysite")).await,
        10091,
        "EAS jti reused by a direct-trust JWT",
    );

    // A second key for the issuer: both work, whatever the kid says.
    fake.configure(|s| {
        s.add_external_authorization_server(
            "mysite",
            EAS_SERVER,
            &stranger.public_pem(),
            AudienceRule::Server,
        )
    })
    .expect("second key");
    for key in [&rsa, &stranger] {
        let jwt = mint_with(key, &header_with(json!({"kid": "no-such-kid"})), &good());
        assert_eq!(sign_in(&fake, jwt_body(&jwt, "mysite")).await.status, 200);
    }
    // Boundaries that pass: exp 590 s ahead, nbf 3 s ahead, no nbf / iat.
    let jwt = mint_with(
        &rsa,
        &h,
        &with(json!({"exp": t + 590, "nbf": t + 3, "iat": null})),
    );
    assert_eq!(sign_in(&fake, jwt_body(&jwt, "mysite")).await.status, 200);
    // The direct-trust app is still there and unaffected.
    assert_eq!(
        sign_in(&fake, jwt_body(&good_jwt(&fake), "mysite"))
            .await
            .status,
        200
    );
}

#[test]
fn eas_and_uat_registration_errors() {
    let fake = FakeTableau::start().expect("start");
    let rsa = TestKey::rsa();

    let err = fake
        .configure(|s| {
            s.add_external_authorization_server(
                "mysite",
                EAS_SERVER,
                &rsa_1024_pem(),
                AudienceRule::Server,
            )
        })
        .expect_err("1024-bit key");
    assert!(err.contains("2048"), "{err}");
    let err = fake
        .configure(|s| {
            s.add_uat_configuration("mysite", UAT_ISSUER, &rsa_1024_pem(), TENANT, "email")
        })
        .expect_err("1024-bit key");
    assert!(err.contains("2048"), "{err}");

    let err = fake
        .configure(|s| {
            s.add_external_authorization_server(
                "nope",
                EAS_SERVER,
                &rsa.public_pem(),
                AudienceRule::Cloud,
            )
        })
        .expect_err("unknown site");
    assert!(err.contains("nope"), "{err}");
    assert!(fake
        .configure(|s| s.add_uat_configuration(
            "nope",
            UAT_ISSUER,
            &rsa.public_pem(),
            TENANT,
            "email"
        ))
        .is_err());

    let body: String = rsa
        .public_pem()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    for bad in [
        String::new(),
        "not a pem".to_string(),
        body.clone(),
        format!("-----BEGIN RSA PUBLIC KEY-----\n{body}\n-----END RSA PUBLIC KEY-----\n"),
        format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"),
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            &body[..body.len() - 8]
        ),
        format!("-----BEGIN PUBLIC KEY-----\n{body}!\n-----END PUBLIC KEY-----\n"),
        TestKey::p521().public_pem(),
    ] {
        assert!(
            fake.configure(|s| s.add_external_authorization_server(
                "mysite",
                EAS_SERVER,
                &bad,
                AudienceRule::Server
            ))
            .is_err(),
            "{bad:?}"
        );
    }
    assert!(fake
        .configure(|s| s.add_external_authorization_server(
            "mysite",
            "",
            &rsa.public_pem(),
            AudienceRule::Server
        ))
        .is_err());
    // UATs are RS256: an EC or Ed25519 key is refused; empty strings too.
    for key in [TestKey::p256(), TestKey::ed25519()] {
        assert!(fake
            .configure(|s| s.add_uat_configuration(
                "mysite",
                UAT_ISSUER,
                &key.public_pem(),
                TENANT,
                "email"
            ))
            .is_err());
    }
    for (iss, tenant, claim) in [
        ("", TENANT, "email"),
        (UAT_ISSUER, "", "email"),
        (UAT_ISSUER, TENANT, ""),
    ] {
        assert!(fake
            .configure(|s| s.add_uat_configuration("mysite", iss, &rsa.public_pem(), tenant, claim))
            .is_err());
    }
    // Good ones, with CRLF line ends and surrounding blanks.
    let crlf = format!("\r\n  {}  ", rsa.public_pem().replace('\n', "\r\n"));
    fake.configure(|s| {
        s.add_external_authorization_server("mysite", EAS_SERVER, &crlf, AudienceRule::Server)
    })
    .expect("crlf pem");
    fake.configure(|s| s.add_uat_configuration("mysite", UAT_ISSUER, &crlf, TENANT, "email"))
        .expect("uat");
}

#[tokio::test]
async fn unified_access_tokens() {
    let fake = FakeTableau::start().expect("start");
    let alice = "alice@corp.example";
    let alice_luid = fake
        .configure(|s| s.add_user("mysite", alice, None))
        .expect("user");
    let key = TestKey::rsa();
    let stranger = TestKey::rsa();
    fake.configure(|s| {
        s.add_uat_configuration("mysite", UAT_ISSUER, &key.public_pem(), TENANT, "upn")
    })
    .expect("uat");
    let h = json!({"alg": "RS256", "typ": "JWT", "kid": "uat-key"});
    let with = |patch: Value| patched(uat_claims(alice), patch);

    // isUat="true", tenant claim, user in "upn"; no sub, no aud.
    let claims = uat_claims(alice);
    let jwt = mint_with(&key, &h, &claims);
    let ans = sign_in(&fake, uat_body(&jwt, "mysite")).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    assert_eq!(site_and_user(&ans).1, alice_luid);
    let session = get(&fake, "sessions/current", Some(&ans.token())).await;
    assert!(
        session.body.contains(r#"name="alice@corp.example""#),
        "{}",
        session.body
    );
    let seen: Value = serde_json::from_str(&fake.last_jwt_claims().expect("claims")).expect("json");
    assert_eq!(seen, claims);
    // Any aud is fine.
    let jwt = mint_with(&key, &h, &with(json!({"aud": "anything"})));
    assert_eq!(sign_in(&fake, uat_body(&jwt, "mysite")).await.status, 200);

    let t = now();
    let cases: Vec<(&str, String, u32)> = vec![
        (
            "wrong tenant",
            mint_with(
                &key,
                &h,
                &with(json!({"https://tableau.com/tenantId": "other"})),
            ),
            10084,
        ),
        (
            "tenant missing",
            mint_with(
                &key,
                &h,
                &with(json!({"https://tableau.com/tenantId": null})),
            ),
            10084,
        ),
        (
            "user unknown, sub names a real user",
            mint_with(
                &key,
                &h,
                &with(json!({"upn": "bob@corp.example", "sub": fake.default_username()})),
            ),
            5,
        ),
        (
            "username claim missing (sub is not it)",
            mint_with(&key, &h, &with(json!({"upn": null, "sub": alice}))),
            5,
        ),
        (
            "username claim a number",
            mint_with(&key, &h, &with(json!({"upn": 1}))),
            10084,
        ),
        (
            "oda does not create users",
            mint_with(
                &key,
                &h,
                &with(json!({"upn": "new@corp.example", "https://tableau.com/oda": true})),
            ),
            5,
        ),
        (
            "PS256",
            mint_with(
                &key,
                &json!({"alg": "PS256", "kid": "uat-key"}),
                &uat_claims(alice),
            ),
            10084,
        ),
        (
            "RS512",
            mint_with(
                &key,
                &json!({"alg": "RS512", "kid": "uat-key"}),
                &uat_claims(alice),
            ),
            10084,
        ),
        (
            "kid missing",
            mint_with(&key, &json!({"alg": "RS256"}), &uat_claims(alice)),
            10083,
        ),
        (
            "other key",
            mint_with(&stranger, &h, &uat_claims(alice)),
            10083,
        ),
        (
            "unknown issuer",
            mint_with(&key, &h, &with(json!({"iss": "https://nobody.example"}))),
            126,
        ),
        (
            "exp too far",
            mint_with(&key, &h, &with(json!({"exp": t + 660}))),
            16,
        ),
        (
            "scp missing",
            mint_with(&key, &h, &with(json!({"scp": null}))),
            10099,
        ),
        (
            "scp a string",
            mint_with(&key, &h, &with(json!({"scp": "tableau:content:read"}))),
            10084,
        ),
        ("a direct-trust JWT with isUat", good_jwt(&fake), 126),
    ];
    for (what, jwt, sub) in &cases {
        let ans = sign_in(&fake, uat_body(jwt, "mysite")).await;
        assert_jwt_rejected(&ans, *sub, what);
    }

    // jti single use.
    let jwt = mint_with(&key, &h, &uat_claims(alice));
    assert_eq!(sign_in(&fake, uat_body(&jwt, "mysite")).await.status, 200);
    assert_jwt_rejected(
        &sign_in(&fake, uat_body(&jwt, "mysite")).await,
        10091,
        "UAT jti reused",
    );

    // A UAT sent without isUat: its issuer is neither an app nor an EAS.
    let jwt = mint_with(&key, &h, &uat_claims(alice));
    assert_jwt_rejected(
        &sign_in(&fake, jwt_body(&jwt, "mysite")).await,
        126,
        "UAT without isUat",
    );
    // Nor is it valid on another site.
    fake.configure(|s| s.add_user("", alice, None))
        .expect("user");
    let jwt = mint_with(&key, &h, &uat_claims(alice));
    assert_jwt_rejected(&sign_in(&fake, uat_body(&jwt, "")).await, 126, "other site");

    // isUat needs REST API 3.27.
    let jwt = mint_with(&key, &h, &uat_claims(alice));
    assert_error(
        &sign_in_at(&fake, "3.26", uat_body(&jwt, "mysite")).await,
        400,
        "400000",
    );
    let ans = sign_in_at(&fake, "3.27", uat_body(&jwt, "mysite")).await;
    assert_eq!(ans.status, 200, "{}", ans.body);

    // JSON body with "isUat": true.
    let jwt = mint_with(&key, &h, &uat_claims(alice));
    let resp = client()
        .post(format!("{}/api/{V}/auth/signin", fake.url()))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(
            json!({"credentials": {"jwt": jwt, "isUat": true, "site": {"contentUrl": "mysite"}}})
                .to_string(),
        )
        .send()
        .await
        .expect("send");
    let ans = read(resp).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    let v: Value = serde_json::from_str(&ans.body).expect("json");
    assert_eq!(v["credentials"]["user"]["id"], alice_luid.as_str());

    // A new configuration for the issuer replaces the old one (key, tenant, claim).
    let rotated = TestKey::rsa();
    fake.configure(|s| {
        s.add_uat_configuration("mysite", UAT_ISSUER, &rotated.public_pem(), "t2", "email")
    })
    .expect("replace");
    let claims = json!({
        "iss": UAT_ISSUER,
        "email": alice,
        "https://tableau.com/tenantId": "t2",
        "jti": uuid::Uuid::new_v4().to_string(),
        "exp": now() + 120,
        "scp": ["tableau:content:read"],
    });
    let ans = sign_in(&fake, uat_body(&mint_with(&rotated, &h, &claims), "mysite")).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    let old = mint_with(&key, &h, &patched(claims, json!({"jti": "fresh"})));
    assert_jwt_rejected(
        &sign_in(&fake, uat_body(&old, "mysite")).await,
        10083,
        "old key",
    );

    let stats = fake.stats();
    assert_eq!(stats.sign_ins, 6);
    // Unknown issuer, direct-trust JWT with isUat, UAT without isUat, UAT on another site.
    assert_eq!(stats.rejections.get("401001/126"), Some(&4));
}

// ---------------------------------------------------------------------------------------------
// Redirects and oversized bodies

/// A client that does not follow redirects.
fn no_redirect_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client")
}

#[tokio::test]
async fn redirect_answers_with_a_location_and_no_body() {
    let fake = FakeTableau::start().expect("start");
    for status in [301u16, 302, 303, 307, 308] {
        let location = format!("https://sso.example.invalid/login?from={status}");
        fake.misbehave(
            "auth/signin",
            1,
            Misbehaviour::Redirect {
                status,
                location: location.clone(),
            },
        );
        let resp = no_redirect_client()
            .post(format!("{}/api/{V}/auth/signin", fake.url()))
            .header("content-type", "application/xml")
            .body(jwt_body(&good_jwt(&fake), "mysite"))
            .send()
            .await
            .expect("send");
        let ans = read(resp).await;
        assert_eq!(ans.status, status);
        assert_eq!(
            ans.headers.get("location").and_then(|v| v.to_str().ok()),
            Some(location.as_str())
        );
        assert_eq!(ans.body, "");
        assert!(ans.headers.get("content-type").is_none());
    }
    // Not a 3xx: 302.
    fake.misbehave(
        "serverinfo",
        1,
        Misbehaviour::Redirect {
            status: 200,
            location: "/elsewhere".into(),
        },
    );
    let resp = no_redirect_client()
        .get(format!("{}/api/{V}/serverinfo", fake.url()))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 302);
    assert_eq!(
        resp.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/elsewhere")
    );
    // A redirected sign-in made no session, and the next one is normal.
    let stats = fake.stats();
    assert_eq!(stats.sign_in_attempts, 5);
    assert_eq!(stats.sign_ins, 0);
    assert_eq!(stats.active_sessions, 0);
    let ans = sign_in(&fake, jwt_body(&good_jwt(&fake), "mysite")).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
}

#[tokio::test]
async fn oversize_answers_exactly_that_many_bytes() {
    let fake = FakeTableau::start().expect("start");
    let sizes = [0usize, 1, 10, 100, 4096, 3 * 1024 * 1024 + 7];
    for &bytes in &sizes {
        fake.misbehave("auth/signin", 1, Misbehaviour::Oversize { bytes });
        let ans = sign_in(&fake, jwt_body(&good_jwt(&fake), "mysite")).await;
        assert_eq!(ans.status, 200);
        assert!(ans.content_type().starts_with("application/xml"));
        assert_eq!(
            ans.headers
                .get("content-length")
                .and_then(|v| v.to_str().ok()),
            Some(bytes.to_string().as_str())
        );
        assert_eq!(ans.body.len(), bytes);
        assert!("<?xml".starts_with(&ans.body[..bytes.min(5)]));
        if bytes >= 4096 {
            assert!(ans.body.contains("<tsResponse"));
            assert!(ans.body.ends_with("</tsResponse>\n"));
        }
    }
    // JSON when asked for.
    fake.misbehave("serverinfo", 1, Misbehaviour::Oversize { bytes: 2000 });
    let resp = client()
        .get(format!("{}/api/{V}/serverinfo", fake.url()))
        .header("accept", "application/json")
        .send()
        .await
        .expect("send");
    let ans = read(resp).await;
    assert_eq!(ans.status, 200);
    assert!(ans.content_type().starts_with("application/json"));
    assert_eq!(ans.body.len(), 2000);
    let v: Value = serde_json::from_str(&ans.body).expect("well-formed JSON");
    assert!(v.as_object().is_some_and(|o| o.is_empty()));
    // No session was made.
    assert_eq!(fake.stats().active_sessions, 0);
    assert_eq!(fake.stats().sign_ins, 0);
}

// ---------------------------------------------------------------------------------------------
// TLS

/// A reqwest client that trusts only `ca_pem` (and presents `identity`, when given).
fn tls_client(ca_pem: &str, identity: Option<(String, String)>) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA PEM");
    let mut builder = reqwest::Client::builder().no_proxy().tls_certs_only([ca]);
    if let Some((cert, key)) = identity {
        let id = reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).expect("identity");
        builder = builder.identity(id);
    }
    builder.build().expect("reqwest client")
}

/// A CA and a client identity of someone else's.
fn foreign_ca_and_identity() -> (String, (String, String)) {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::default();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca = rcgen::CertifiedIssuer::self_signed(params, ca_key).expect("CA");
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::default();
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &*ca).expect("client certificate");
    (ca.pem(), (cert.pem(), key.serialize_pem()))
}

/// Sign-in with the default app's JWT through `client`.
async fn tls_sign_in(client: &reqwest::Client, fake: &FakeTableau) -> reqwest::Result<Answer> {
    let resp = client
        .post(format!("{}/api/{V}/auth/signin", fake.url()))
        .header("content-type", "application/xml")
        .body(jwt_body(&good_jwt(fake), "mysite"))
        .send()
        .await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Waits (up to 10 s) until `tls_handshake_failures` reaches `n`.
async fn wait_for_handshake_failures(fake: &FakeTableau, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = fake.stats().tls_handshake_failures;
        if seen >= n {
            assert_eq!(seen, n, "more handshake failures than expected");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "tls_handshake_failures stayed at {seen}, expected {n}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn plain_fake_has_no_tls_material() {
    let fake = FakeTableau::start().expect("start");
    assert!(fake.url().starts_with("http://127.0.0.1:"));
    assert_eq!(fake.ca_pem(), None);
    assert_eq!(fake.client_identity_pem(), None);
    let fake = FakeTableau::start_with(FakeOptions::default()).expect("start");
    assert!(fake.url().starts_with("http://127.0.0.1:"));
    assert_eq!(fake.ca_pem(), None);
}

#[tokio::test]
async fn https_sign_in_with_a_trusted_ca() {
    let fake = FakeTableau::start_with(FakeOptions {
        tls: true,
        require_client_cert: false,
    })
    .expect("start");
    assert!(
        fake.url().starts_with("https://127.0.0.1:"),
        "{}",
        fake.url()
    );
    let ca = fake.ca_pem().expect("a CA");
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(fake.client_identity_pem(), None);
    // Each instance has its own CA.
    let other = FakeTableau::start_with(FakeOptions {
        tls: true,
        ..Default::default()
    })
    .expect("start");
    assert_ne!(other.ca_pem(), Some(ca.clone()));

    let client = tls_client(&ca, None);
    let ans = tls_sign_in(&client, &fake).await.expect("HTTPS sign-in");
    assert_eq!(ans.status, 200, "{}", ans.body);
    let token = ans.token();
    let resp = client
        .get(format!("{}/api/{V}/sessions/current", fake.url()))
        .header("X-Tableau-Auth", &token)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.version(), reqwest::Version::HTTP_11);
    assert_eq!(resp.status().as_u16(), 200);

    // The certificate names localhost too.
    let port = fake.url().rsplit(':').next().expect("port").to_string();
    let resp = client
        .get(format!("https://localhost:{port}/api/{V}/serverinfo"))
        .send()
        .await
        .expect("send to localhost");
    assert_eq!(resp.status().as_u16(), 200);

    let stats = fake.stats();
    assert_eq!(stats.sign_ins, 1);
    assert_eq!(stats.tls_handshake_failures, 0);
}

#[tokio::test]
async fn untrusted_clients_fail_the_handshake_and_are_counted() {
    let fake = FakeTableau::start_with(FakeOptions {
        tls: true,
        ..Default::default()
    })
    .expect("start");
    let (foreign_ca, _) = foreign_ca_and_identity();
    let err = tls_sign_in(&tls_client(&foreign_ca, None), &fake)
        .await
        .err()
        .expect("an untrusted server certificate fails");
    assert!(err.is_connect(), "{err:?}");
    wait_for_handshake_failures(&fake, 1).await;

    // Plain HTTP on the TLS port: not a handshake either.
    let plain = fake.url().replacen("https://", "http://", 1);
    let sent = client()
        .get(format!("{plain}/api/{V}/serverinfo"))
        .send()
        .await;
    assert!(sent.is_err(), "{sent:?}");
    wait_for_handshake_failures(&fake, 2).await;

    // Raw garbage, then a closed connection.
    let addr = fake.url().replacen("https://", "", 1);
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    stream
        .write_all(b"\x16\x03\x01\x00\x05hello")
        .await
        .expect("write");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    wait_for_handshake_failures(&fake, 3).await;

    // The server is fine.
    let ans = tls_sign_in(&tls_client(&fake.ca_pem().expect("CA"), None), &fake)
        .await
        .expect("trusted sign-in");
    assert_eq!(ans.status, 200, "{}", ans.body);
    let stats = fake.stats();
    assert_eq!(stats.sign_ins, 1);
    assert_eq!(stats.tls_handshake_failures, 3);
    // No HTTP request got through the failed handshakes.
    assert_eq!(stats.requests, 1);
    fake.reset_stats();
    assert_eq!(fake.stats().tls_handshake_failures, 0);
}

#[tokio::test]
async fn mutual_tls_needs_the_client_certificate() {
    // require_client_cert implies tls.
    let fake = FakeTableau::start_with(FakeOptions {
        tls: false,
        require_client_cert: true,
    })
    .expect("start");
    assert!(fake.url().starts_with("https://127.0.0.1:"));
    let ca = fake.ca_pem().expect("a CA");
    let (cert, key) = fake.client_identity_pem().expect("a client identity");
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(!format!("{fake:?}").contains(&key));

    // No client certificate.
    let res = tls_sign_in(&tls_client(&ca, None), &fake).await;
    assert!(res.is_err(), "{:?}", res.as_ref().map(|a| a.status));
    wait_for_handshake_failures(&fake, 1).await;

    // A certificate from another CA.
    let (_, foreign_identity) = foreign_ca_and_identity();
    let res = tls_sign_in(&tls_client(&ca, Some(foreign_identity)), &fake).await;
    assert!(res.is_err(), "{:?}", res.as_ref().map(|a| a.status));
    wait_for_handshake_failures(&fake, 2).await;

    // The fake's own client certificate.
    let client = tls_client(&ca, Some((cert, key)));
    let ans = tls_sign_in(&client, &fake).await.expect("mTLS sign-in");
    assert_eq!(ans.status, 200, "{}", ans.body);
    let ans = read(
        client
            .get(format!("{}/api/{V}/sessions/current", fake.url()))
            .header("X-Tableau-Auth", ans.token())
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    let stats = fake.stats();
    assert_eq!(stats.sign_ins, 1);
    assert_eq!(stats.tls_handshake_failures, 2);
}

#[tokio::test]
async fn misbehaviours_and_stop_work_over_tls() {
    let fake = FakeTableau::start_with(FakeOptions {
        tls: true,
        ..Default::default()
    })
    .expect("start");
    let client = tls_client(&fake.ca_pem().expect("CA"), None);
    fake.misbehave("auth/signin", 1, Misbehaviour::Oversize { bytes: 100_000 });
    let ans = tls_sign_in(&client, &fake).await.expect("oversize");
    assert_eq!(ans.body.len(), 100_000);
    fake.misbehave("auth/signin", 1, Misbehaviour::Truncate);
    let ans = tls_sign_in(&client, &fake).await.expect("truncated");
    assert_eq!(ans.status, 200);
    assert!(ans.body.contains("<credentials"));
    assert!(!ans.body.contains("</tsResponse>"));
    fake.stop();
    assert!(tls_sign_in(&client, &fake).await.is_err());
}

// ---------------------------------------------------------------------------------------------
// Content endpoints, paging and scopes: tests/content.rs; the Metadata API, VizQL Data Service
// and Pulse: tests/apis.rs

mod apis;
mod cloud_manager;
mod content;
