//! The HTTP side: a hyper 1 HTTP/1.1 server (plain, or behind a tokio-rustls acceptor) on its
//! own thread and current-thread tokio runtime, routing, authentication of calls, delays and
//! misbehaviours. Tableau Cloud Manager's paths go to `cloud_manager.rs` first, then the other
//! APIs' (`apis.rs`), then REST's.

use std::convert::Infallible;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{
    HeaderMap, ACCEPT, ALLOW, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, RETRY_AFTER,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;

use super::apis;
use super::clock::now_unix;
use super::cloud_manager::{self, Endpoint};
use super::cloud_manager_login;
use super::content_routes::{self, ContentRoute};
use super::model::Misbehaviour;
use super::requests::{parse_sign_in, parse_switch_site};
use super::responses::{
    credentials_body, error_body, rate_limit_html_page, server_info_body, session_body,
    sso_html_page, ApiError, Format, HTML_CONTENT_TYPE,
};
use super::state::{parse_version, Session, Shared, SignedIn, State};

/// Largest accepted request body (bytes); above it the answer is 413.
pub(crate) const MAX_BODY: usize = 1024 * 1024;
/// Listen backlog (the kernel caps it at `somaxconn`).
const BACKLOG: u32 = 4096;
/// The header that carries the session token.
const AUTH_HEADER: &str = "x-tableau-auth";
/// A TLS handshake not done by then fails (and is counted as such).
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// The running server, as seen by [`FakeTableau`](crate::FakeTableau).
pub(crate) struct Running {
    pub addr: SocketAddr,
    pub thread: JoinHandle<()>,
    pub shutdown: Arc<Notify>,
}

/// Binds 127.0.0.1:0 and serves `shared` on a new thread with its own runtime; over TLS when
/// `tls` is given.
pub(crate) fn spawn(shared: Arc<Shared>, tls: Option<TlsAcceptor>) -> io::Result<Running> {
    let shutdown = Arc::new(Notify::new());
    let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<SocketAddr>>(1);
    let stop = Arc::clone(&shutdown);
    let thread = std::thread::Builder::new()
        .name("fake-tableau".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                let listener = match bind() {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                match listener.local_addr() {
                    Ok(addr) => {
                        let _ = tx.send(Ok(addr));
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
                accept_loop(listener, shared, tls, stop).await;
            });
            // Dropping the runtime here cancels every connection task.
        })?;
    match rx.recv() {
        Ok(Ok(addr)) => Ok(Running {
            addr,
            thread,
            shutdown,
        }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => {
            let _ = thread.join();
            Err(io::Error::other("the fake Tableau server thread died"))
        }
    }
}

fn bind() -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    socket.listen(BACKLOG)
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    shutdown: Arc<Notify>,
) {
    loop {
        tokio::select! {
            _ = shutdown.notified() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let shared = Arc::clone(&shared);
                    match &tls {
                        None => tokio::spawn(serve_connection(stream, shared)),
                        Some(acceptor) => {
                            tokio::spawn(serve_tls_connection(acceptor.clone(), stream, shared))
                        }
                    };
                }
                // Out of descriptors and the like: back off, never give up.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
        }
    }
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    serve_http(stream, shared).await;
}

/// The TLS handshake, then HTTP/1.1 inside. A failed (or timed-out) handshake only closes
/// this connection, and is counted in `Stats::tls_handshake_failures`.
async fn serve_tls_connection(acceptor: TlsAcceptor, stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => serve_http(tls, shared).await,
        Ok(Err(_)) | Err(_) => shared.lock().stats.tls_handshake_failures += 1,
    }
}

/// HTTP/1.1 (keep-alive) over `io` until the client goes away.
async fn serve_http<I>(io: I, shared: Arc<Shared>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req: Request<Incoming>| {
        let shared = Arc::clone(&shared);
        async move { Ok::<_, Infallible>(handle(shared, req).await) }
    });
    let mut builder = http1::Builder::new();
    builder.keep_alive(true).header_read_timeout(None);
    let _ = builder.serve_connection(TokioIo::new(io), service).await;
}

// ---------------------------------------------------------------------------------------------
// Routing

/// The known routes (path after `/api/{version}/`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Route {
    SignIn,
    SignOut,
    SwitchSite,
    ServerInfo,
    SessionsCurrent,
    /// Sites, users, projects, workbooks, views, data sources (`content_routes.rs`).
    Content(ContentRoute),
    Unknown,
}

impl Route {
    fn parse(rest: &str) -> Route {
        match rest {
            "auth/signin" => Route::SignIn,
            "auth/signout" => Route::SignOut,
            "auth/switchSite" => Route::SwitchSite,
            // Tableau's reference spells it `serverinfo`; TSC asks for `serverInfo`.
            "serverinfo" | "serverInfo" => Route::ServerInfo,
            "sessions/current" => Route::SessionsCurrent,
            _ => ContentRoute::parse(rest).map_or(Route::Unknown, Route::Content),
        }
    }

    fn method(&self) -> Option<Method> {
        match self {
            Route::SignIn | Route::SignOut | Route::SwitchSite => Some(Method::POST),
            Route::ServerInfo | Route::SessionsCurrent | Route::Content(_) => Some(Method::GET),
            Route::Unknown => None,
        }
    }
}

/// A request path split into `/api/{version}/{rest}`.
struct ApiPath<'a> {
    /// `None` when the path is not under `/api/{something}/`.
    version: Option<&'a str>,
    rest: &'a str,
    route: Route,
}

fn split_path(path: &str) -> ApiPath<'_> {
    let Some(after) = path.strip_prefix("/api/") else {
        return ApiPath {
            version: None,
            rest: path,
            route: Route::Unknown,
        };
    };
    match after.split_once('/') {
        Some((version, rest)) => ApiPath {
            version: Some(version),
            rest,
            route: Route::parse(rest),
        },
        None => ApiPath {
            version: None,
            rest: after,
            route: Route::Unknown,
        },
    }
}

/// What the `X-Tableau-Auth` header said.
enum Auth {
    Missing,
    /// The token (an unreadable header value is kept as an empty, never-valid token).
    Token(String),
}

/// A request, read.
struct ReadRequest {
    method: Method,
    path: String,
    /// The query string, if any (paging parameters, `key`).
    query: Option<String>,
    format: Format,
    content_type: Option<String>,
    auth: Auth,
    /// The `x-tableau-session-token` header (Tableau Cloud Manager), `""` when unreadable.
    session_token: Option<String>,
    body: Result<Bytes, BodyError>,
}

#[derive(Clone, Copy, Debug)]
enum BodyError {
    TooLarge,
    Broken,
}

/// An answer before it becomes a hyper response.
struct Reply {
    status: u16,
    content_type: Option<&'static str>,
    headers: Vec<(hyper::header::HeaderName, String)>,
    body: Bytes,
}

impl Reply {
    fn new(status: u16, content_type: Option<&'static str>, body: impl Into<Bytes>) -> Self {
        Reply {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    fn error(err: &ApiError, format: Format) -> Self {
        let mut reply = Reply::new(err.status, Some(format.content_type()), err.body(format));
        if err.status == 405 {
            // Tell what would have worked.
            reply.headers.push((ALLOW, "GET, POST".to_string()));
        }
        reply
    }

    fn into_response(self) -> Response<Full<Bytes>> {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut builder = Response::builder().status(status);
        if let Some(ct) = self.content_type {
            builder = builder.header(CONTENT_TYPE, ct);
        }
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }
        builder.body(Full::new(self.body)).unwrap_or_else(|_| {
            let mut resp = Response::new(Full::new(Bytes::new()));
            *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            resp
        })
    }
}

fn header_str(headers: &HeaderMap, name: impl hyper::header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn read_body(body: Incoming, declared: Option<u64>) -> Result<Bytes, BodyError> {
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(BodyError::TooLarge);
    }
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Broken),
    }
}

/// Serves one request.
async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let api = split_path(&path);
    let tcm = Endpoint::parse(&path);
    let tcm_login = tcm.as_ref().is_some_and(Endpoint::is_login) && parts.method == Method::POST;
    let counted_route = api
        .route
        .method()
        .is_some_and(|m| m == parts.method && tcm.is_none())
        .then(|| api.route.clone());

    let (misbehaviour, delay) = {
        let mut st = shared.lock();
        st.stats.requests += 1;
        if let Some(route) = &counted_route {
            let counter = match route {
                Route::SignIn => Some(&mut st.stats.sign_in_attempts),
                Route::SignOut => Some(&mut st.stats.sign_outs),
                Route::SwitchSite => Some(&mut st.stats.switch_site),
                Route::ServerInfo => Some(&mut st.stats.server_info),
                Route::SessionsCurrent => Some(&mut st.stats.sessions_current),
                Route::Content(content) => Some(content.counter(&mut st.stats)),
                Route::Unknown => None,
            };
            if let Some(counter) = counter {
                *counter += 1;
            }
        }
        if let Some(other) = apis::Api::parse(&path) {
            other.count(&mut st.stats);
        }
        if tcm_login {
            st.stats.cloud_manager_sign_in_attempts += 1;
        }
        (st.take_misbehaviour(&path), st.delay_for(&path))
    };

    let declared = header_str(&parts.headers, CONTENT_LENGTH).and_then(|v| v.trim().parse().ok());
    let incoming = ReadRequest {
        method: parts.method.clone(),
        format: Format::from_accept(header_str(&parts.headers, ACCEPT)),
        content_type: header_str(&parts.headers, CONTENT_TYPE).map(str::to_string),
        auth: match parts.headers.get(AUTH_HEADER) {
            None => Auth::Missing,
            Some(v) => Auth::Token(v.to_str().map(str::to_string).unwrap_or_default()),
        },
        session_token: parts
            .headers
            .get(cloud_manager::SESSION_HEADER)
            .map(|v| v.to_str().map(str::to_string).unwrap_or_default()),
        body: read_body(body, declared).await,
        path: path.clone(),
        query: parts.uri.query().map(str::to_string),
    };
    if counted_route == Some(Route::SignIn) {
        if let Ok(bytes) = &incoming.body {
            let mut st = shared.lock();
            st.last_sign_in = Some((
                incoming.content_type.clone().unwrap_or_default(),
                String::from_utf8_lossy(bytes).into_owned(),
            ));
        }
    }
    if tcm_login {
        if let Ok(bytes) = &incoming.body {
            shared.lock().last_cloud_manager_login =
                Some((path.clone(), String::from_utf8_lossy(bytes).into_owned()));
        }
    }
    let shape = match tcm {
        Some(_) => Shape::CloudManager,
        None => Shape::Rest(incoming.format),
    };

    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }

    let reply = match misbehaviour {
        None => normal(&shared, &incoming, counted_route.is_some(), tcm.as_ref()),
        Some(Misbehaviour::Truncate) => {
            let mut reply = normal(&shared, &incoming, counted_route.is_some(), tcm.as_ref());
            let half = reply.body.len() / 2;
            reply.body.truncate(half);
            reply
        }
        Some(other) => {
            // A server that fails late has already read and checked the sign-in: its JWT's
            // jti is spent, so a client that re-sends the same JWT must fail.
            if !matches!(other, Misbehaviour::Redirect { .. }) {
                if counted_route == Some(Route::SignIn) {
                    spend_jwt(&shared, &incoming);
                }
                if tcm_login && tcm == Some(Endpoint::JwtLogin) {
                    if let Ok(body) = &incoming.body {
                        cloud_manager_login::spend_jwt(
                            &mut shared.lock(),
                            incoming.content_type.as_deref(),
                            body,
                        );
                    }
                }
            }
            misbehaviour_reply(&other, shape)
        }
    };
    reply.into_response()
}

/// Check a sign-in's JWT as a normal answer would (recording its `jti`), without signing in.
fn spend_jwt(shared: &Shared, req: &ReadRequest) {
    let Ok(body) = &req.body else {
        return;
    };
    if let Ok(parsed) = parse_sign_in(req.content_type.as_deref(), body) {
        shared.lock().check_jwt_only(&parsed, now_unix());
    }
}

/// The normal answer, with its statistics.
fn normal(shared: &Shared, req: &ReadRequest, counted: bool, tcm: Option<&Endpoint>) -> Reply {
    let mut st = shared.lock();
    if let Some(endpoint) = tcm {
        return cloud_manager_reply(&mut st, req, endpoint);
    }
    let api = split_path(&req.path);
    let outcome = answer(&mut st, req, &api);
    let is_sign_in = counted && api.route == Route::SignIn;
    match outcome {
        Ok(reply) => {
            if is_sign_in {
                st.stats.sign_ins += 1;
            }
            reply
        }
        Err(err) => {
            if is_sign_in {
                st.stats.sign_in_failures += 1;
            }
            st.count_rejection(&err);
            Reply::error(&err, req.format)
        }
    }
}

/// Tableau Cloud Manager's answer (`cloud_manager.rs`), with its statistics.
fn cloud_manager_reply(st: &mut State, req: &ReadRequest, endpoint: &Endpoint) -> Reply {
    let call = cloud_manager::Call {
        method: &req.method,
        query: req.query.as_deref(),
        content_type: req.content_type.as_deref(),
        body: match &req.body {
            Ok(bytes) => cloud_manager::Body::Read(bytes),
            Err(BodyError::TooLarge) => cloud_manager::Body::TooLarge(MAX_BODY),
            Err(BodyError::Broken) => cloud_manager::Body::Broken,
        },
        session_token: req.session_token.as_deref(),
        now: Instant::now(),
        now_unix: now_unix(),
    };
    let answer = cloud_manager::answer(st, endpoint, &call);
    let mut reply = match answer.body {
        Some(body) => Reply::new(answer.status, Some(cloud_manager::JSON), body),
        None => Reply::new(answer.status, None, Bytes::new()),
    };
    if answer.status == 405 {
        if let Some(method) = endpoint.method() {
            reply.headers.push((ALLOW, method.to_string()));
        }
    }
    reply
}

/// Tableau's rules, in the order a request meets them.
fn answer(st: &mut State, req: &ReadRequest, api: &ApiPath<'_>) -> Result<Reply, ApiError> {
    let body = match &req.body {
        Ok(b) => b,
        Err(BodyError::TooLarge) => return Err(ApiError::too_large(MAX_BODY)),
        Err(BodyError::Broken) => {
            return Err(ApiError::bad_request("The request body could not be read."))
        }
    };
    if let Some(other) = apis::Api::parse(&req.path) {
        let token = match &req.auth {
            Auth::Missing => None,
            Auth::Token(t) => Some(t.as_str()),
        };
        let call = apis::Call {
            method: &req.method,
            path: &req.path,
            query: req.query.as_deref(),
            body,
            token,
            now: Instant::now(),
        };
        let answer = apis::answer(st, other, &call);
        return Ok(Reply::new(answer.status, Some(apis::JSON), answer.body));
    }
    let Some(version_text) = api.version else {
        return Err(ApiError::not_found(&req.path));
    };
    let version = parse_version(version_text)
        .filter(|v| *v >= (2, 0) && *v <= st.max_version)
        .ok_or_else(|| ApiError::unknown_resource(version_text, api.rest))?;
    let Some(method) = api.route.method() else {
        return Err(ApiError::not_found(&req.path));
    };
    if method != req.method {
        return Err(ApiError::method_not_allowed(req.method.as_str()));
    }
    let now = Instant::now();
    let format = req.format;
    match &api.route {
        Route::SignIn => {
            let parsed = parse_sign_in(req.content_type.as_deref(), body).map_err(|e| {
                ApiError::bad_request(&format!("Payload is either malformed or incomplete ({e})"))
            })?;
            let signed = st.sign_in(&parsed, version, now_unix(), now)?;
            Ok(credentials_reply(st, &signed, format))
        }
        Route::SignOut => {
            let token = require_token(st, &req.auth, now)?.0;
            st.end_session(&token);
            Ok(Reply::new(204, None, Bytes::new()))
        }
        Route::SwitchSite => {
            let (token, session) = require_token(st, &req.auth, now)?;
            let target = parse_switch_site(req.content_type.as_deref(), body).map_err(|e| {
                ApiError::bad_request(&format!("Payload is either malformed or incomplete ({e})"))
            })?;
            let signed = st.switch_site(&token, &session, &target, now)?;
            Ok(credentials_reply(st, &signed, format))
        }
        Route::ServerInfo => Ok(Reply::new(
            200,
            Some(format.content_type()),
            server_info_body(format, &st.max_version_text),
        )),
        Route::SessionsCurrent => {
            let session = require_token(st, &req.auth, now)?.1;
            let site = st
                .site_by_luid(&session.site_luid)
                .ok_or_else(ApiError::invalid_token)?;
            let user = site
                .user_by_luid(&session.user_luid)
                .ok_or_else(ApiError::invalid_token)?;
            Ok(Reply::new(
                200,
                Some(format.content_type()),
                session_body(format, site, user),
            ))
        }
        Route::Content(route) => {
            let session = require_token(st, &req.auth, now)?.1;
            let body = content_routes::answer(st, &session, route, req.query.as_deref(), format)?;
            Ok(Reply::new(200, Some(format.content_type()), body))
        }
        Route::Unknown => Err(ApiError::not_found(&req.path)),
    }
}

/// The live session named by the request's token: 401000 without a header, 401002 when dead.
fn require_token(st: &mut State, auth: &Auth, now: Instant) -> Result<(String, Session), ApiError> {
    match auth {
        Auth::Missing => Err(ApiError::no_credentials()),
        Auth::Token(token) => st
            .live_session(token, now)
            .map(|s| (token.clone(), s))
            .ok_or_else(ApiError::invalid_token),
    }
}

fn credentials_reply(st: &State, signed: &SignedIn, format: Format) -> Reply {
    Reply::new(
        200,
        Some(format.content_type()),
        credentials_body(
            format,
            &signed.token,
            st.estimated_time_to_expiration.as_deref(),
            &signed.site_luid,
            &signed.site_content_url,
            &signed.user_luid,
        ),
    )
}

/// Statuses a misbehaviour may use; anything outside 200..=599 becomes 500.
fn usable_status(status: u16) -> u16 {
    if (200..=599).contains(&status) {
        status
    } else {
        500
    }
}

/// Whose error shapes a misbehaviour imitates: the REST API's (in a body format) or Tableau
/// Cloud Manager's (JSON `{"message", "errorCode"}`).
#[derive(Clone, Copy, Debug)]
enum Shape {
    Rest(Format),
    CloudManager,
}

fn misbehaviour_reply(what: &Misbehaviour, shape: Shape) -> Reply {
    let format = match shape {
        Shape::Rest(format) => format,
        Shape::CloudManager => Format::Json,
    };
    match what {
        Misbehaviour::Fail { status, code } if matches!(shape, Shape::CloudManager) => {
            let status = usable_status(*status);
            Reply::new(
                status,
                Some(cloud_manager::JSON),
                cloud_manager::injected_failure_body(status, code.as_deref()),
            )
        }
        Misbehaviour::Fail { status, code } => {
            let status = usable_status(*status);
            let code = code
                .clone()
                .unwrap_or_else(|| (u32::from(status) * 1000).to_string());
            let summary = StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Error");
            Reply::new(
                status,
                Some(format.content_type()),
                error_body(
                    format,
                    &code,
                    summary,
                    "The server could not complete the request (injected failure).",
                ),
            )
        }
        Misbehaviour::RateLimit { retry_after, html } => {
            let mut reply = if *html {
                Reply::new(429, Some(HTML_CONTENT_TYPE), rate_limit_html_page())
            } else if matches!(shape, Shape::CloudManager) {
                Reply::new(
                    429,
                    Some(cloud_manager::JSON),
                    cloud_manager::rate_limited_body(*retry_after),
                )
            } else {
                let detail = match retry_after {
                    Some(secs) => format!(
                        "Too many requests in the allotted amount of time, retry after {} minutes.",
                        secs.div_ceil(60)
                    ),
                    None => "Too many requests in the allotted amount of time.".to_string(),
                };
                Reply::new(
                    429,
                    Some(format.content_type()),
                    error_body(format, "429000", "Too Many Requests", &detail),
                )
            };
            if let Some(secs) = retry_after {
                reply.headers.push((RETRY_AFTER, secs.to_string()));
            }
            reply
        }
        Misbehaviour::Html { status } => Reply::new(
            usable_status(*status),
            Some(HTML_CONTENT_TYPE),
            sso_html_page(),
        ),
        Misbehaviour::Empty { status } => Reply::new(
            usable_status(*status),
            Some(format.content_type()),
            Bytes::new(),
        ),
        Misbehaviour::Redirect { status, location } => {
            let status = if (300..=399).contains(status) {
                *status
            } else {
                302
            };
            let mut reply = Reply::new(status, None, Bytes::new());
            reply.headers.push((LOCATION, location.clone()));
            reply
        }
        Misbehaviour::Oversize { bytes } => Reply::new(
            200,
            Some(format.content_type()),
            oversize_body(format, *bytes),
        ),
        // Handled by the caller (it needs the normal answer).
        Misbehaviour::Truncate => Reply::new(500, None, Bytes::new()),
    }
}

/// Exactly `len` bytes that look like the start of a Tableau answer: an XML declaration and
/// `tsResponse` whose padding is one long comment, or a JSON object padded with spaces. When
/// `len` leaves room for the end, the document is well-formed (and holds nothing useful);
/// else it is the first `len` bytes of the smallest one.
fn oversize_body(format: Format, len: usize) -> Bytes {
    let (head, tail): (&[u8], &[u8]) = match format {
        Format::Xml => (
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tsResponse xmlns=\"http://tableau.com/api\"><!-- ",
            b" --></tsResponse>\n",
        ),
        Format::Json => (b"{", b"}\n"),
    };
    let mut body = Vec::with_capacity(len);
    body.extend_from_slice(head);
    let padding = len.saturating_sub(head.len() + tail.len());
    body.resize(head.len() + padding, b' ');
    body.extend_from_slice(tail);
    body.truncate(len);
    Bytes::from(body)
}
