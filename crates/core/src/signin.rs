//! The auth calls on the wire: sign in (with retries, fresh JWTs and redirects) and sign out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::Method;

use super::cloud_manager;
use super::config::{
    parse_version, ClientConfig, DEFAULT_API_VERSION, FIRST_JWT_VERSION, FIRST_PAT_VERSION,
    FIRST_UAT_VERSION,
};
use super::credentials::{Credentials, SignInSecret};
use super::error::{Call, Error, Result, TableauFailure};
use super::redact::Secret;
use super::retry::{self, retry_after};
use super::session::{self, deadline_ns, Realm, Session};
use super::stats;
use super::transport::{self, Reply, MAX_AUTH_BODY};
use super::wire::{self, SignInRequest, WireError};

/// At most this many redirects are followed on sign-in.
const MAX_REDIRECTS: usize = 5;

/// The header every authenticated REST call carries.
pub use super::session::AUTH_HEADER;

/// The `X-Tableau-Auth` value for `token`, marked sensitive (the HTTP stack never logs it, and
/// HTTP/2 never indexes it in its header compression table).
pub fn auth_header(token: &Secret) -> Result<HeaderValue> {
    let mut value = HeaderValue::from_str(token.expose()).map_err(|_| Error::Protocol {
        status: None,
        message: "the session token Tableau gave is not a valid header value".into(),
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Refuse before any I/O what the configured REST API version cannot do ("auto" is checked
/// once the server said its version).
pub fn check_version_supports(cfg: &ClientConfig, creds: &Credentials) -> Result<()> {
    if cfg.is_cloud_manager() {
        return cloud_manager::check_credentials(creds);
    }
    if cfg.auto_version() {
        return Ok(());
    }
    check_version(&cfg.api_version, creds, "api_version is")
}

fn check_version(version: &str, creds: &Credentials, said: &str) -> Result<()> {
    let v = parse_version(version).unwrap_or((0, 0));
    let (needed, what) = match creds {
        Credentials::ConnectedApp { .. }
        | Credentials::Jwt(_)
        | Credentials::ExternalAuthorizationServer { .. } => {
            (FIRST_JWT_VERSION, "JWT (connected app) sign-in")
        }
        Credentials::UnifiedAccessToken { .. } => {
            (FIRST_UAT_VERSION, "unified access token sign-in")
        }
        Credentials::PersonalAccessToken { .. } => {
            (FIRST_PAT_VERSION, "personal access token sign-in")
        }
        Credentials::Password { .. } => ((2, 0), "password sign-in"),
    };
    if v < needed {
        return Err(Error::Configuration(format!(
            "{what} needs REST API {}.{} or later; {said} {version}",
            needed.0, needed.1
        )));
    }
    Ok(())
}

/// The REST API version of each server this process has asked (`api_version="auto"`).
static DISCOVERED: Mutex<Option<HashMap<String, String>>> = Mutex::new(None);
/// Every server since REST API 2.4 answers `serverinfo` at this version.
const PROBE_VERSION: &str = "2.4";

/// The version to use: the configured one, or the server's `restApiVersion` (asked once per
/// host and cached for the process).
pub async fn resolve_version(cfg: &ClientConfig, http: &reqwest::Client) -> Result<String> {
    if !cfg.auto_version() {
        return Ok(cfg.api_version.clone());
    }
    let known = DISCOVERED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|m| m.get(&cfg.server).cloned());
    if let Some(v) = known {
        return Ok(v);
    }
    let request = http
        .get(cfg.url(PROBE_VERSION, "serverinfo"))
        .header(ACCEPT, cfg.wire_format.content_type());
    let reply = transport::send(request, cfg.timeout, MAX_AUTH_BODY, "serverinfo").await?;
    let version = match reply.status {
        200 => {
            let info = wire::parse_server_info(&reply.body).map_err(|e| protocol(&reply, &e))?;
            if parse_version(&info.rest_api_version).is_none() {
                return Err(Error::Protocol {
                    status: Some(200),
                    message: format!(
                        "serverinfo gave restApiVersion {:?}, which is not a version: pass api_version explicitly",
                        info.rest_api_version
                    ),
                });
            }
            log::info!("{} speaks REST API {}", cfg.server, info.rest_api_version);
            info.rest_api_version
        }
        404 => {
            // Older than 2.4, or serverinfo blocked by a proxy: use our default and say so.
            log::warn!(
                "{}: serverinfo is not available (404); using REST API {DEFAULT_API_VERSION}. \
                 Pass api_version explicitly to silence this",
                cfg.server
            );
            DEFAULT_API_VERSION.to_string()
        }
        _ => return Err(failure(&reply, Call::Other)),
    };
    DISCOVERED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(cfg.server.clone(), version.clone());
    Ok(version)
}

/// Sign in once (with retries for transient failures); every attempt mints a fresh JWT.
/// Counted (`stats.rs`) by service, method and outcome, and reported as a telemetry event.
pub async fn sign_in(cfg: &ClientConfig, creds: &Credentials) -> Result<Session> {
    let started = SystemTime::now();
    let result = if cfg.is_cloud_manager() {
        cloud_manager::sign_in(cfg, creds).await
    } else {
        sign_in_to_site(cfg, creds).await
    };
    let (method, outcome) = (stats::Method::of(creds), stats::Outcome::of(&result));
    stats::sign_in_ended(cfg.service, method, outcome);
    stats::event(
        "tableau.sign_in",
        started,
        SystemTime::now(),
        result.as_ref().err(),
        || {
            let (host, port) = stats::server_attributes(&cfg.server);
            serde_json::json!({
                "tableau.service": if cfg.is_cloud_manager() { "cloud_manager" } else { "site" },
                "server.address": host,
                    "server.port": port,
                "tableau.site": cfg.site,
                "tableau.sign_in.method": method.name(),
                "tableau.sign_in.outcome": outcome.name(),
            })
        },
    );
    result
}

async fn sign_in_to_site(cfg: &ClientConfig, creds: &Credentials) -> Result<Session> {
    check_version_supports(cfg, creds)?;
    let http = transport::process().http(&cfg.transport)?;
    let version = resolve_version(cfg, &http).await?;
    if cfg.auto_version() {
        check_version(&version, creds, "the server speaks at most")?;
    }
    let mut attempt = 0u32;
    loop {
        let secret = secret_for_attempt(creds).await?;
        let body = wire::sign_in_body(
            &SignInRequest {
                credentials: secret.as_wire(),
                site_content_url: &cfg.site,
                impersonate: cfg.impersonate.as_deref(),
            },
            cfg.wire_format,
        );
        let started = SystemTime::now();
        let outcome =
            post_following_redirects(cfg, &http, cfg.url(&version, "auth/signin"), body).await;
        // A JWT given as a string cannot be sent twice (Tableau burns its jti): the first
        // failure is the one to report.
        let can_retry = !matches!(creds, Credentials::Jwt(external) if external.single_use());
        if can_retry && retry::again(cfg, &outcome, &mut attempt, "sign-in").await {
            continue;
        }
        let reply = outcome?;
        return answer_to_session(cfg, &version, &reply, started, Call::SignIn);
    }
}

/// What one sign-in attempt sends (a fresh JWT each time). A JWT source may call into a
/// secrets manager: it runs off the runtime's workers.
pub(crate) async fn secret_for_attempt(creds: &Credentials) -> Result<SignInSecret> {
    if let Credentials::Jwt(_) = creds {
        let creds = creds.clone();
        return tokio::task::spawn_blocking(move || creds.for_sign_in())
            .await
            .map_err(|e| Error::Configuration(format!("the JWT source failed: {e}")))?;
    }
    creds.for_sign_in()
}

/// Turn a sign-in (or switchSite) answer into a session or the fitting error.
fn answer_to_session(
    cfg: &ClientConfig,
    version: &str,
    reply: &Reply,
    started: SystemTime,
    call: Call,
) -> Result<Session> {
    if reply.status != 200 {
        return Err(failure(reply, call));
    }
    let answer = wire::parse_sign_in_answer(&reply.body).map_err(|e| protocol(reply, &e))?;
    let estimate = answer.estimated_time_to_expiration;
    let expires_at = estimate.map(|e| started + e);
    let life = session::life(cfg.max_session_age, estimate);
    log::info!(
        "signed in to {} site {:?} (user {})",
        cfg.server,
        answer.site_content_url,
        answer.user_id
    );
    Ok(Session {
        token: Secret::new(answer.token),
        realm: Realm::Site {
            id: answer.site_id,
            content_url: answer.site_content_url,
        },
        user_id: answer.user_id,
        server: cfg.server.clone(),
        api_version: version.to_string(),
        signed_in_at: started,
        expires_at,
        refresh_after_ns: deadline_ns(life),
        stored_in: Default::default(),
    })
}

/// Sign a session out. A session that is already dead (401) counts as signed out.
pub async fn sign_out(cfg: &ClientConfig, session: &Session) -> Result<()> {
    if cfg.is_cloud_manager() {
        return cloud_manager::sign_out(cfg, session).await;
    }
    let http = transport::process().http(&cfg.transport)?;
    let request = http
        .post(cfg.url(&session.api_version, "auth/signout"))
        .header(AUTH_HEADER, auth_header(&session.token)?)
        .header(ACCEPT, cfg.wire_format.content_type());
    let reply = transport::send(request, cfg.timeout, MAX_AUTH_BODY, "sign-out").await?;
    match reply.status {
        200..=299 => {
            log::info!("signed out of {}", cfg.server);
            Ok(())
        }
        401 => {
            log::debug!("sign-out of {}: the session was already gone", cfg.server);
            Ok(())
        }
        _ => Err(failure(&reply, Call::SignOut)),
    }
}

/// Switch a live session to another site (`POST auth/switchSite`). Tableau ends the old
/// session and answers a new one, as a sign-in does.
pub async fn switch_site(cfg: &ClientConfig, from: &Session, content_url: &str) -> Result<Session> {
    let http = transport::process().http(&cfg.transport)?;
    let request = http
        .post(cfg.url(&from.api_version, "auth/switchSite"))
        .header(AUTH_HEADER, auth_header(&from.token)?)
        .header(CONTENT_TYPE, cfg.wire_format.content_type())
        .header(ACCEPT, cfg.wire_format.content_type())
        .body(wire::switch_site_body(content_url, cfg.wire_format));
    let started = SystemTime::now();
    let reply = transport::send(request, cfg.timeout, MAX_AUTH_BODY, "switch site").await?;
    answer_to_session(cfg, &from.api_version, &reply, started, Call::SwitchSite)
}

/// POST an auth call, re-sending the same POST to `Location` on 301/302/303/307/308 when the
/// target may receive the credentials (see [`redirect_target`]).
pub(crate) async fn post_following_redirects(
    cfg: &ClientConfig,
    http: &reqwest::Client,
    mut url: String,
    body: String,
) -> Result<Reply> {
    for _ in 0..=MAX_REDIRECTS {
        let request = http
            .request(Method::POST, &url)
            .header(CONTENT_TYPE, cfg.wire_format.content_type())
            .header(ACCEPT, cfg.wire_format.content_type())
            .body(body.clone());
        let reply = transport::send(request, cfg.timeout, MAX_AUTH_BODY, "sign-in").await?;
        if !matches!(reply.status, 301 | 302 | 303 | 307 | 308) {
            return Ok(reply);
        }
        let next = redirect_target(&cfg.server, &url, &reply.headers)?;
        log::info!("sign-in redirected ({}) to {}", reply.status, origin(&next));
        url = next;
    }
    Err(Error::Protocol {
        status: None,
        message: format!(
            "sign-in was redirected more than {MAX_REDIRECTS} times: check the server address"
        ),
    })
}

/// Where a sign-in redirect goes, if the credentials may follow it. The rule is about the
/// target, not the status: the configured host itself (an http→https upgrade of it included),
/// or over https a host under it (Tableau Cloud's `online.tableau.com` answers with a 301 to a
/// pod such as `10ay.online.tableau.com`). Anything else is refused before a byte is sent.
fn redirect_target(server: &str, from: &str, headers: &HeaderMap) -> Result<String> {
    let location = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::Protocol {
            status: None,
            message: "sign-in was redirected without a Location header".into(),
        })?;
    let base = url::Url::parse(from).map_err(|e| Error::Protocol {
        status: None,
        message: format!("bad URL {e}"),
    })?;
    let next = base.join(location).map_err(|_| Error::Protocol {
        status: None,
        message: "sign-in was redirected to an address that is not a URL".into(),
    })?;
    let configured = url::Url::parse(server).map_err(|e| Error::Protocol {
        status: None,
        message: format!("bad server URL {e}"),
    })?;
    if !may_receive_credentials(&configured, &next) {
        let target = origin(next.as_str());
        let why = if configured.scheme() == "https" && next.scheme() != "https" {
            "the credentials would travel in clear"
        } else {
            "the credentials are only sent to the server you configured"
        };
        return Err(Error::Protocol {
            status: None,
            message: format!(
                "sign-in was redirected from {server} to {target}: refused, {why}. If {target} \
                 is your Tableau server, pass it directly as the server"
            ),
        });
    }
    Ok(next.to_string())
}

/// May a sign-in for `configured` be re-sent to `target`?
fn may_receive_credentials(configured: &url::Url, target: &url::Url) -> bool {
    let (Some(home), Some(there)) = (configured.host(), target.host()) else {
        return false;
    };
    let (from, to) = (configured.scheme(), target.scheme());
    if home == there {
        let same_port = configured.port_or_known_default() == target.port_or_known_default();
        return (from == to && same_port) || (from == "http" && to == "https");
    }
    // A host under the configured one (a Tableau Cloud pod), over https only; an IP address
    // has nothing under it.
    match (home, there) {
        (url::Host::Domain(home), url::Host::Domain(there)) => {
            to == "https"
                && there
                    .strip_suffix(home)
                    .is_some_and(|head| head.len() > 1 && head.ends_with('.'))
        }
        _ => false,
    }
}

/// "https://host:port" of a URL, for log lines.
fn origin(u: &str) -> String {
    url::Url::parse(u)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// A non-success answer as our error: Tableau's own error when the body is one, else a
/// protocol error that says this is not Tableau.
pub fn failure(reply: &Reply, call: Call) -> Error {
    let Some(body) = wire::parse_error(&reply.body) else {
        if reply.status == 405 && call == Call::SignIn {
            return Error::SignIn(Box::new(TableauFailure::new(
                405,
                "",
                "Method Not Allowed",
                "",
                call,
            )));
        }
        if reply.status == 429 {
            return Error::RateLimited {
                failure: Box::new(TableauFailure::new(429, "", "Too Many Requests", "", call)),
                retry_after: retry_after(reply),
            };
        }
        let what = match wire::parse_sign_in_answer(&reply.body) {
            Err(e) => e,
            Ok(_) => WireError::Missing {
                what: "tsResponse/error",
            },
        };
        return protocol(reply, &what);
    };
    let f = Box::new(TableauFailure::new(
        reply.status,
        &body.code,
        &body.summary,
        &body.detail,
        call,
    ));
    match (reply.status, body.code.as_str(), call) {
        (429, _, _) => Error::RateLimited {
            failure: f,
            retry_after: retry_after(reply),
        },
        (_, "401000" | "401002", Call::Other | Call::SignOut) => Error::SessionExpired(f),
        (400..=499, _, Call::SignIn | Call::SwitchSite) => Error::SignIn(f),
        _ => Error::Api(f),
    }
}

/// The answer of `GET sessions/current`, read (XML or JSON): the typed error of a non-2xx
/// answer (as [`failure`] makes it), a protocol error when the body is not that answer.
pub fn current_session(reply: &Reply) -> Result<wire::CurrentSession> {
    if !(200..300).contains(&reply.status) {
        return Err(failure(reply, Call::Other));
    }
    wire::parse_current_session(&reply.body).map_err(|e| protocol(reply, &e))
}

fn protocol(reply: &Reply, e: &WireError) -> Error {
    let suffix = match e {
        WireError::NotTableau { .. } => {
            " — this is not Tableau: a proxy, load balancer or SSO page? Check the server address"
        }
        WireError::Missing { .. } => "",
    };
    Error::Protocol {
        status: Some(reply.status),
        message: format!("{e}{suffix}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn reply(status: u16, body: &str) -> Reply {
        Reply::test(status, body)
    }

    #[test]
    fn failures_are_classified() {
        let e = failure(&reply(401, "<tsResponse><error code=\"401001\"><summary>Signin Error</summary><detail>x (16)</detail></error></tsResponse>"), Call::SignIn);
        assert!(
            matches!(&e, Error::SignIn(f) if f.subcode == Some(16)),
            "{e:?}"
        );
        let e = failure(
            &reply(
                401,
                "{\"error\":{\"code\":\"401002\",\"summary\":\"s\",\"detail\":\"d\"}}",
            ),
            Call::Other,
        );
        assert!(matches!(e, Error::SessionExpired(_)), "{e:?}");
        let e = failure(
            &reply(200, "<html><title>Sign in - Okta</title></html>"),
            Call::SignIn,
        );
        assert!(
            matches!(&e, Error::Protocol { status: Some(200), message } if message.contains("not Tableau")),
            "{e:?}"
        );
        let e = failure(&reply(405, ""), Call::SignIn);
        assert!(
            matches!(&e, Error::SignIn(f) if f.hint.contains("https")),
            "{e:?}"
        );
        let e = failure(&reply(429, "<html>slow down</html>"), Call::Other);
        assert!(matches!(e, Error::RateLimited { .. }), "{e:?}");
    }

    #[test]
    fn the_auth_header_is_sensitive() {
        let v = auth_header(&Secret::new("tok|en")).unwrap();
        assert!(v.is_sensitive());
        assert!(auth_header(&Secret::new("bad\ntoken")).is_err());
    }

    #[test]
    fn redirects_only_go_where_the_credentials_may_follow() {
        let follow = |server: &str, from: &str, to: &str| {
            let mut h = HeaderMap::new();
            h.insert(LOCATION, HeaderValue::from_str(to).unwrap());
            redirect_target(server, from, &h)
        };
        let cloud = "https://online.tableau.com";
        let signin = "https://online.tableau.com/api/3.24/auth/signin";
        // A Tableau Cloud pod under the configured host, over https.
        assert_eq!(
            follow(
                cloud,
                signin,
                "https://10ay.online.tableau.com/api/3.24/auth/signin"
            )
            .unwrap(),
            "https://10ay.online.tableau.com/api/3.24/auth/signin"
        );
        // Relative, same origin.
        assert_eq!(
            follow("http://h:8080", "http://h:8080/x", "/api/3.24/auth/signin").unwrap(),
            "http://h:8080/api/3.24/auth/signin"
        );
        // An http→https upgrade of the configured host.
        assert!(follow("http://h", "http://h/x", "https://h/x").is_ok());
        for (server, to) in [
            // https → http, even on the same host.
            (cloud, "http://online.tableau.com/api/3.24/auth/signin"),
            (cloud, "http://10ay.online.tableau.com/x"),
            // Another origin: an identity provider, a look-alike, a parent, another port.
            (cloud, "https://login.example.com/sso"),
            (cloud, "https://evilonline.tableau.com/x"),
            (cloud, "https://tableau.com/x"),
            (cloud, "https://online.tableau.com.evil.com/x"),
            (cloud, "https://online.tableau.com:8443/x"),
            ("http://127.0.0.1:8000", "http://localhost:8000/x"),
            ("http://127.0.0.1:8000", "http://127.0.0.1:9000/x"),
            // A host under the configured one, but in clear.
            ("http://tableau.corp", "http://sso.tableau.corp/x"),
        ] {
            let from = format!("{server}/api/3.24/auth/signin");
            match follow(server, &from, to) {
                Err(Error::Protocol { message, .. }) => {
                    assert!(message.contains("refused"), "{to}: {message}")
                }
                other => panic!("{server} -> {to}: {other:?}"),
            }
        }
        // Once on a pod, a later hop is still judged against the configured host.
        assert!(follow(
            cloud,
            "https://10ay.online.tableau.com/x",
            "https://evil.com/x"
        )
        .is_err());
    }

    #[test]
    fn current_session_answers_are_read_or_raise() {
        let xml = "<tsResponse><session><site id=\"s\" contentUrl=\"x\" name=\"X\"/><user id=\"u\" name=\"me\" siteRole=\"Explorer\"/></session></tsResponse>";
        let current = current_session(&reply(200, xml)).unwrap();
        assert_eq!(
            (
                current.site_name.as_deref(),
                current.user_site_role.as_deref()
            ),
            (Some("X"), Some("Explorer"))
        );
        let json = r#"{"session":{"site":{"id":"s"},"user":{"id":"u","name":"me"}}}"#;
        assert_eq!(
            current_session(&reply(200, json))
                .unwrap()
                .user_name
                .as_deref(),
            Some("me")
        );
        let dead = "<tsResponse><error code=\"401002\"><summary>s</summary><detail>d</detail></error></tsResponse>";
        let e = current_session(&reply(401, dead)).unwrap_err();
        assert!(matches!(e, Error::SessionExpired(_)), "{e:?}");
        let e = current_session(&reply(200, "<html><title>SSO</title></html>")).unwrap_err();
        assert!(
            matches!(&e, Error::Protocol { status: Some(200), message } if message.contains("not Tableau")),
            "{e:?}"
        );
        let e = current_session(&reply(200, "<tsResponse/>")).unwrap_err();
        assert!(e.to_string().contains("lacks session"), "{e}");
    }
}
