//! The one tokio runtime and the HTTP clients of this process, created lazily on first use
//! (never at import), and rebuilt in a forked child: the state is tagged with the process id,
//! and a child that finds its parent's state leaks it on purpose (its worker threads do not
//! exist in the child, so dropping it could hang or crash) and builds its own.

use std::collections::HashMap;
#[cfg(unix)]
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use tokio::runtime::Runtime;

use super::config::TransportConfig;
use super::error::{Error, Result};
use super::redact::mask_url;

/// Answers of auth calls larger than this are refused (they are a few hundred bytes).
pub const MAX_AUTH_BODY: usize = 1 << 20;
const USER_AGENT: &str = concat!("tableau_connected_auth/", env!("CARGO_PKG_VERSION"));

/// Everything that belongs to one process: its runtime and its HTTP clients.
pub struct Process {
    pid: u32,
    runtime: Runtime,
    clients: Mutex<HashMap<TransportConfig, reqwest::Client>>,
}

static CURRENT: Mutex<Option<&'static Process>> = Mutex::new(None);

/// This process's id, for the fork checks (here, in the session cache and the shared caches),
/// which run on every call: read once per process, as `std::process::id()` is a `getpid`
/// system call each time on Linux. A forked child forgets the parent's (a `pthread_atfork`
/// child handler) and reads its own on first use.
#[cfg(unix)]
pub fn pid() -> u32 {
    static PID: AtomicU32 = AtomicU32::new(0);
    static FORGET_AFTER_FORK: Once = Once::new();
    extern "C" fn forget() {
        PID.store(0, Ordering::Relaxed);
    }
    let known = PID.load(Ordering::Relaxed);
    if known != 0 {
        return known;
    }
    // Registered before the first read, so no child ever keeps a parent's id.
    FORGET_AFTER_FORK.call_once(|| {
        // SAFETY: registers a child handler that only stores to an atomic.
        unsafe { libc::pthread_atfork(None, None, Some(forget)) };
    });
    let pid = std::process::id();
    PID.store(pid, Ordering::Relaxed);
    pid
}

/// This process's id (no fork here; reading it is cheap).
#[cfg(not(unix))]
pub fn pid() -> u32 {
    std::process::id()
}

/// This process's state, built on first use or after a fork. The lock is never held while the
/// runtime is built (a fork taken meanwhile would leave the child's copy locked for good).
pub fn process() -> &'static Process {
    let pid = pid();
    let forked = match current() {
        Some(p) if p.pid == pid => return p,
        // Inherited from the parent across fork(): leave it alone forever.
        Some(_) => true,
        None => false,
    };
    // One worker. Its work is I/O and small parses for a Python process, which one thread
    // drives with room to spare; what a second worker added was latency: each time a task
    // arrived, the worker that took it woke the other one "to search for more work" (tokio's
    // rule for the last searching worker), which found none and slept again: about two futex
    // calls and two context switches per sign-in (~40% of the futex calls of a sign-in loop,
    // `perf record -e syscalls:sys_enter_futex`), and on a 2-core machine the woken worker took
    // a core from the caller or the server. Blocking work (a `Jwt` callable, key stretching,
    // DNS) runs on the blocking pool, and the worker never waits for the GIL: the binding hands
    // the log records made here to Python threads and has asyncio futures completed by their
    // own loop (`logs.rs`, `aio.rs`; `on_runtime_thread` tells it where it is).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("tableau-auth")
        .on_thread_start(|| RUNTIME_THREAD.with(|t| t.set(true)))
        .enable_all()
        .build()
        .expect("cannot start the tokio runtime (out of threads or memory?)");
    let mut slot = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = *slot {
        if p.pid == pid {
            // Another thread built one meanwhile: use it. Ours never ran a task; it is leaked
            // rather than dropped, as dropping a runtime may not happen on a runtime thread.
            std::mem::forget(runtime);
            return p;
        }
    }
    let p: &'static Process = Box::leak(Box::new(Process {
        pid,
        runtime,
        clients: Mutex::new(HashMap::new()),
    }));
    *slot = Some(p);
    drop(slot);
    // Logged once the lock is released: a log record may wait for the GIL.
    if forked {
        log::debug!("process {pid} was forked: built a new runtime and HTTP client");
    }
    p
}

thread_local! {
    static RUNTIME_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// True on the threads of this process's runtime (its worker and its blocking pool).
pub fn on_runtime_thread() -> bool {
    RUNTIME_THREAD.with(|t| t.get())
}

fn current() -> Option<&'static Process> {
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner())
}

impl Process {
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The HTTP client for these TLS/proxy settings (one per distinct setting, per process).
    /// Built with no lock held (it reads CA and certificate files): two threads may both build
    /// one for the same settings; the first stored is kept.
    pub fn http(&self, cfg: &TransportConfig) -> Result<reqwest::Client> {
        if let Some(c) = self.lock_clients().get(cfg) {
            return Ok(c.clone());
        }
        let client = build_client(cfg)?;
        Ok(self
            .lock_clients()
            .entry(cfg.clone())
            .or_insert(client)
            .clone())
    }

    fn lock_clients(&self) -> std::sync::MutexGuard<'_, HashMap<TransportConfig, reqwest::Client>> {
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// TLS is rustls over AWS-LC, verifying against the OS trust store (rustls-platform-verifier)
/// plus `ca_bundle`. A process's first https request draws AWS-LC's first random bytes (the
/// key share of the handshake): AWS-LC is built to seed from the OS rather than from CPU Jitter
/// Entropy, which cost ~50 ms there in every process; the cause, the figures and why this is
/// not weaker are in `.cargo/config.toml`.
fn build_client(cfg: &TransportConfig) -> Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(cfg.connect_timeout)
        .pool_idle_timeout(Duration::from_secs(60));
    if cfg.insecure {
        static WARN: Once = Once::new();
        WARN.call_once(|| {
            log::warn!("verify=False: TLS certificates are not checked; anyone on the path can read your tokens")
        });
        b = b.tls_danger_accept_invalid_certs(true);
    }
    if let Some(pem) = cfg.ca_bundle_pem()? {
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .ok()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                Error::Configuration(format!(
                    "ca_bundle {:?} holds no readable PEM certificate",
                    cfg.ca_bundle.as_deref().unwrap_or("")
                ))
            })?;
        // Added to the OS trust store, not instead of it.
        b = b.tls_certs_merge(certs);
    }
    if let Some(pem) = cfg.client_identity_pem()? {
        let identity = reqwest::Identity::from_pem(&pem).map_err(|_| {
            Error::Configuration(
                "client_cert: the certificate and private key could not be read as PEM".into(),
            )
        })?;
        b = b.identity(identity);
    }
    if let Some(proxy) = &cfg.proxy {
        let p = reqwest::Proxy::all(proxy.as_str()).map_err(|_| {
            Error::Configuration(format!(
                "proxy {} is not a valid proxy URL",
                mask_url(proxy)
            ))
        })?;
        b = b.proxy(p);
    }
    b.build()
        .map_err(|e| Error::Transport(format!("cannot build the HTTP client: {}", chain(&e))))
}

/// An answer, read in full.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[cfg(test)]
impl Reply {
    /// A reply with no headers, for tests.
    pub fn test(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_string()),
        }
    }
}

/// One HTTP request, body read up to `max_body`, all of it within `timeout`.
pub async fn send(
    request: reqwest::RequestBuilder,
    timeout: Duration,
    max_body: usize,
    what: &str,
) -> Result<Reply> {
    let run = async {
        let mut response = request.send().await.map_err(|e| map_error(&e, what))?;
        let status = response.status().as_u16();
        if status == 429 {
            super::stats::rate_limited();
        }
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| map_error(&e, what))? {
            if body.len() + chunk.len() > max_body {
                return Err(Error::Protocol {
                    status: Some(status),
                    message: format!(
                        "the answer to {what} is larger than {} KiB: this is not Tableau's answer \
                         (proxy or SSO page?)",
                        max_body / 1024
                    ),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            headers,
            body: Bytes::from(body),
        })
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout(format!(
            "{what}: no answer within {} s (raise timeout= if the server is slow)",
            timeout.as_secs_f64()
        ))),
    }
}

/// A reqwest error as our error. The URL is left out of messages (only `what` names the call).
fn map_error(e: &reqwest::Error, what: &str) -> Error {
    let detail = chain(e);
    if e.is_timeout() {
        return Error::Timeout(format!("{what}: timed out ({detail})"));
    }
    let lower = detail.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        return Error::Tls(format!(
            "{what}: TLS failed ({detail}). If the server uses a private or corporate CA, pass \
             ca_bundle=\"/path/to/ca.pem\" (or set REQUESTS_CA_BUNDLE); verify=False turns \
             checking off"
        ));
    }
    if e.is_connect() {
        return Error::Transport(format!("{what}: cannot connect ({detail})"));
    }
    Error::Transport(format!("{what}: {detail}"))
}

/// The error and its causes, joined; reqwest's URL is stripped first.
fn chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        parts.push(e.to_string());
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_state_is_built_once() {
        let a = process() as *const Process;
        let b = process() as *const Process;
        assert_eq!(a, b);
        let c1 = process().http(&TransportConfig::default()).unwrap();
        let _c2 = process().http(&TransportConfig::default()).unwrap();
        drop(c1);
        assert_eq!(process().clients.lock().unwrap().len(), 1);
    }

    #[test]
    fn runtime_threads_know_they_are() {
        assert!(!on_runtime_thread());
        let on_worker = process()
            .runtime()
            .block_on(process().runtime().spawn(async { on_runtime_thread() }))
            .unwrap();
        assert!(on_worker);
        let on_blocking = process()
            .runtime()
            .block_on(process().runtime().spawn_blocking(on_runtime_thread))
            .unwrap();
        assert!(on_blocking);
    }

    #[test]
    fn the_process_id_is_this_process_s() {
        assert_eq!(pid(), std::process::id());
        assert_eq!(pid(), std::process::id());
    }

    #[test]
    fn a_refused_connection_is_a_transport_error() {
        let rt = process().runtime();
        let client = process().http(&TransportConfig::default()).unwrap();
        // Port 1 on loopback: nothing listens there.
        let err = rt
            .block_on(send(
                client.get("http://127.0.0.1:1/"),
                Duration::from_secs(5),
                1024,
                "test",
            ))
            .err()
            .unwrap();
        assert!(matches!(err, Error::Transport(_)), "{err:?}");
    }
}
