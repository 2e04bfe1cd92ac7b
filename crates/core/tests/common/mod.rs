//! Helpers shared by the integration tests: clients of `tca_core` pointed at a `tca_fake`
//! server on 127.0.0.1, the process runtime the Python binding drives them on, temporary
//! directories, a redis-server of the test's own, and a child process of the test binary.
//!
//! Every test starts its own `FakeTableau`: its address and its secrets are new, so no two
//! tests share a cache key (the in-memory session cache is process-wide).

#![allow(dead_code)]

use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use tca_core::api::{ApiRequest, Target};
use tca_core::client::{CacheChoice, Client};
use tca_core::config::{ClientConfig, TransportConfig};
use tca_core::credentials::Credentials;
use tca_core::jwt::{ConnectedApp, JwtClaims, DEFAULT_LIFETIME};
use tca_core::session::Session;
use tca_fake::FakeTableau;

/// The API version every test client uses (the fake serves up to 3.28).
pub const VERSION: &str = "3.24";

pub fn fake() -> FakeTableau {
    FakeTableau::start().expect("the fake Tableau server starts")
}

/// A client configuration for `server` and `site`: xml, 30 s timeout, 3 retries.
pub fn config_for(server: &str, site: &str, transport: TransportConfig) -> ClientConfig {
    ClientConfig::new(server, site, VERSION, 30.0, 3, "xml", None, transport)
        .expect("a valid configuration")
}

/// A client configuration for the fake's `site`.
pub fn config(fake: &FakeTableau, site: &str) -> ClientConfig {
    config_for(&fake.url(), site, TransportConfig::default())
}

/// The fake's default personal access token. (The fake keeps one session per PAT: a PAT
/// sign-in ends the PAT's previous session.)
pub fn pat(fake: &FakeTableau) -> Credentials {
    let p = fake.default_pat();
    Credentials::personal_access_token(&p.name, &p.secret).expect("valid PAT credentials")
}

/// The fake's default connected app (direct trust) signing in as `username`.
pub fn app(fake: &FakeTableau, username: &str) -> Credentials {
    let a = fake.default_app();
    Credentials::ConnectedApp {
        app: Arc::new(
            ConnectedApp::new(&a.client_id, &a.secret_id, &a.secret_value)
                .expect("a valid connected app"),
        ),
        claims: Arc::new(
            JwtClaims::new(
                username,
                vec!["tableau:content:read".into()],
                DEFAULT_LIFETIME,
                Default::default(),
                None,
                false,
            )
            .expect("valid claims"),
        ),
    }
}

pub fn client(cfg: ClientConfig, creds: Credentials, cache: CacheChoice) -> Arc<Client> {
    Arc::new(Client::new(cfg, creds, cache).expect("the client is made"))
}

/// A memory-cached client of the fake's default site, signing in with the connected app as
/// the default user.
pub fn app_client(fake: &FakeTableau) -> Arc<Client> {
    client(
        config(fake, &fake.default_site()),
        app(fake, &fake.default_username()),
        CacheChoice::Memory,
    )
}

/// Run `f` to completion on the process runtime (the one the Python binding uses).
pub fn run<F: Future>(f: F) -> F::Output {
    tca_core::transport::process().runtime().block_on(f)
}

/// Spawn `n` tasks on the process runtime (a multi-thread runtime), released together by a
/// barrier, and wait for all of them. `task(i)` runs after the barrier.
pub fn burst<T, F, Fut>(n: usize, task: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let rt = tca_core::transport::process().runtime();
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let barrier = barrier.clone();
            let work = task(i);
            rt.spawn(async move {
                barrier.wait().await;
                work.await
            })
        })
        .collect();
    rt.block_on(async {
        let mut out = Vec::with_capacity(n);
        for h in handles {
            out.push(h.await.expect("the task did not panic"));
        }
        out
    })
}

pub fn token(s: &Session) -> String {
    s.token.expose().to_string()
}

/// A REST call: a path starting with '/' is server-level, else under the session's site.
pub fn request(method: Method, path: &str) -> ApiRequest {
    ApiRequest {
        method,
        target: if path.starts_with('/') {
            Target::Server(path.to_string())
        } else {
            Target::Relative(path.to_string())
        },
        query: Vec::new(),
        headers: Vec::new(),
        body: None,
        timeout: None,
    }
}

pub fn get(path: &str) -> ApiRequest {
    request(Method::GET, path)
}

/// A directory under the system's temp dir that does not exist yet (the caches make their
/// directory themselves, private); removed with everything in it on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "tca-rtests-{}-{name}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `*.session` files of a disk cache directory (sorted).
pub fn session_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "session"))
        .collect();
    files.sort();
    files
}

/// A listener on 127.0.0.1 that never answers: it only tells how many connections reached it
/// (the kernel completes them into the backlog; nobody reads them).
pub struct Witness {
    listener: TcpListener,
}

impl Witness {
    pub fn new() -> Witness {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        Witness { listener }
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().expect("a bound address").port()
    }

    /// Connections that reached the listener so far (taken from the backlog).
    pub fn connections(&self) -> usize {
        let mut n = 0;
        while self.listener.accept().is_ok() {
            n += 1;
        }
        n
    }
}

/// A port on 127.0.0.1 with nothing listening (bound once, then released).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("a bound address").port()
}

/// A redis-server of this test's own on 127.0.0.1 (no persistence), killed on drop.
pub struct RedisServer {
    child: Child,
    pub port: u16,
    _dir: TempDir,
}

impl RedisServer {
    /// `None` (with a note on stderr) when no `redis-server` binary is on PATH.
    pub fn start(test: &str) -> Option<RedisServer> {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            eprintln!("{test}: SKIPPED, no redis-server on PATH");
            return None;
        }
        // A freed port may be taken by someone else before redis binds it: try a few.
        for _ in 0..5 {
            let dir = TempDir::new("redis");
            std::fs::create_dir_all(dir.path()).expect("a redis dir");
            let port = closed_port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string()])
                .args(["--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .args(["--dir", dir.as_str()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server starts");
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: the port was taken, try another
                }
                if redis_command(port, &["PING"]).is_ok_and(|r| r == ["PONG"]) {
                    return Some(RedisServer {
                        child,
                        port,
                        _dir: dir,
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start on 127.0.0.1");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Send one command; the reply flattened to strings (an integer as its digits).
    pub fn command(&self, args: &[&str]) -> Vec<String> {
        redis_command(self.port, args).expect("redis answers")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One RESP command to 127.0.0.1:`port`; the reply flattened (arrays of bulk strings,
/// simple strings, integers). An error reply is `Err`.
pub fn redis_command(port: u16, args: &[&str]) -> std::io::Result<Vec<String>> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    stream.write_all(&out)?;
    let mut reader = BufReader::new(stream);
    let mut values = Vec::new();
    read_reply(&mut reader, &mut values)?;
    Ok(values)
}

fn read_reply(r: &mut impl BufRead, values: &mut Vec<String>) -> std::io::Result<()> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let line = line.trim_end_matches("\r\n");
    let (kind, rest) = line.split_at(1.min(line.len()));
    let bad = |what: &str| std::io::Error::other(format!("redis: {what}: {line:?}"));
    match kind {
        "+" | ":" => values.push(rest.to_string()),
        "-" => return Err(bad("error reply")),
        "$" => {
            let n: i64 = rest.parse().map_err(|_| bad("bulk length"))?;
            if n >= 0 {
                let mut buf = vec![0u8; n as usize + 2];
                r.read_exact(&mut buf)?;
                buf.truncate(n as usize);
                values.push(String::from_utf8_lossy(&buf).into_owned());
            }
        }
        "*" => {
            let n: i64 = rest.parse().map_err(|_| bad("array length"))?;
            for _ in 0..n.max(0) {
                read_reply(r, values)?;
            }
        }
        _ => return Err(bad("unknown reply")),
    }
    Ok(())
}

/// Run this test binary again as a child process, running only `test` (by exact name) with
/// `env` set; its output. Panics unless that one test ran and passed.
pub fn run_child(test: &str, env: &[(&str, String)]) -> String {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the child process runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "the child process failed:\n{text}"
    );
    text
}
