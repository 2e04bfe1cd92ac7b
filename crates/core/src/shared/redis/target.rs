//! What a `RedisCache` URL names, checked without I/O: one server, a Redis Cluster, or the
//! primary that Redis Sentinel names.
//!
//! - One server: `redis://[user:password@]host:port/db`, `rediss://` (TLS), `redis+unix://`,
//!   `unix://`, parsed by the redis crate as before.
//! - A cluster: `redis+cluster://[user:password@]host:port[,host:port…][/0][?protocol=resp3]`,
//!   `rediss+cluster://` for TLS (`#insecure` as for `rediss://`). The hosts are seeds: one
//!   reachable node is enough, the others are found through it. The user info is every node's.
//!   A cluster has only database 0.
//! - Sentinel: `redis+sentinel://[user:password@]host:port[,host:port…]/master-name[/db]`
//!   `[?sentinel_username=…&sentinel_password=…&protocol=resp3]`, `rediss+sentinel://` for TLS to
//!   the sentinels and the primary. The hosts are sentinels (default port 26379); the user info
//!   is the primary's (what the data nodes' `AUTH` wants, as Celery/kombu and redis-py take it);
//!   sentinels that want their own credentials get `sentinel_username`/`sentinel_password`.
//!
//! The shown form of every URL has its passwords (user info, `sentinel_password`, `?pass=`…)
//! masked.

use std::time::Duration;

use percent_encoding::percent_decode_str;
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{ConnectionAddr, ProtocolVersion};

use crate::error::{Error, Result};
use crate::redact::mask_url;

/// The port of a sentinel when the URL names none.
pub const SENTINEL_PORT: u16 = 26379;
/// The port of a cluster node when the URL names none.
pub const REDIS_PORT: u16 = 6379;

/// What the URL names.
pub enum Target {
    /// One server (or a proxy in front of many).
    Single(redis::Client),
    /// A Redis Cluster, through the redis crate's cluster client (it follows `MOVED`/`ASK`).
    Cluster(Box<ClusterClient>),
    /// The current primary of a Sentinel-monitored group.
    Sentinel(Sentinel),
}

/// The kind of target, for messages and key names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Single,
    Cluster,
    Sentinel,
}

/// A Sentinel-monitored primary: where the sentinels are and how to talk to them and to it.
pub struct Sentinel {
    sentinels: Vec<ConnectionAddr>,
    master: String,
    db: i64,
    protocol: ProtocolVersion,
    username: Option<String>,
    password: Option<String>,
    tls: Option<redis::TlsMode>,
    sentinel_username: Option<String>,
    sentinel_password: Option<String>,
}

impl Sentinel {
    /// The name the sentinels monitor the primary under.
    pub fn master(&self) -> &str {
        &self.master
    }

    /// A client that asks the sentinels for the current primary. Made anew for each connection:
    /// it keeps connections to the sentinels, which belong to the runtime of the process that
    /// made them (a forked child must not use its parent's).
    pub fn client(&self) -> redis::RedisResult<SentinelClient> {
        let mut b = SentinelClientBuilder::new(
            self.sentinels.clone(),
            &self.master,
            SentinelServerType::Master,
        )?
        .set_client_to_redis_db(self.db)
        .set_client_to_redis_protocol(self.protocol)
        .set_client_to_sentinel_protocol(self.protocol);
        if let Some(u) = &self.username {
            b = b.set_client_to_redis_username(u);
        }
        if let Some(p) = &self.password {
            b = b.set_client_to_redis_password(p);
        }
        if let Some(t) = self.tls {
            // The sentinels' addresses are TLS addresses already (parsed from rediss://).
            b = b.set_client_to_redis_tls_mode(t);
        }
        if let Some(u) = &self.sentinel_username {
            b = b.set_client_to_sentinel_username(u);
        }
        if let Some(p) = &self.sentinel_password {
            b = b.set_client_to_sentinel_password(p);
        }
        b.build()
    }
}

impl Target {
    pub fn kind(&self) -> Kind {
        match self {
            Target::Single(_) => Kind::Single,
            Target::Cluster(_) => Kind::Cluster,
            Target::Sentinel(_) => Kind::Sentinel,
        }
    }
}

/// The parts of a URL with a host list (`scheme://[userinfo@]h1,h2/path?query#fragment`).
struct Parts<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    hosts: Vec<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

impl<'a> Parts<'a> {
    fn split(url: &'a str) -> Option<Parts<'a>> {
        let (scheme, rest) = url.split_once("://")?;
        let (rest, fragment) = match rest.split_once('#') {
            Some((r, f)) => (r, Some(f)),
            None => (rest, None),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (userinfo, hosts) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        Some(Parts {
            scheme,
            userinfo,
            hosts: hosts.split(',').collect(),
            path,
            query,
            fragment,
        })
    }

    /// The URL as shown: the user info's password and secret-looking parameters as `***`.
    fn shown(&self) -> String {
        let mut s = format!("{}://", self.scheme);
        match self.userinfo.map(|u| u.split_once(':')) {
            Some(Some((user, _))) => s.push_str(&format!("{user}:***@")),
            Some(None) => s.push_str(&format!("{}@", self.userinfo.unwrap_or_default())),
            None => {}
        }
        s.push_str(&self.hosts.join(","));
        s.push_str(self.path);
        for (mark, part) in [('?', self.query), ('#', self.fragment)] {
            if let Some(part) = part {
                let masked = mask_url(&format!("redis://h/{mark}{part}"));
                match masked.find(mark) {
                    Some(i) => s.push_str(&masked[i..]),
                    None => s.push_str(&format!("{mark}(masked)")),
                }
            }
        }
        s
    }

    /// The user name and password of the user info, percent-decoded.
    fn credentials(&self, shown: &str) -> Result<(Option<String>, Option<String>)> {
        let Some(info) = self.userinfo else {
            return Ok((None, None));
        };
        let (user, password) = match info.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (info, None),
        };
        let decode = |s: &str| {
            percent_decode_str(s)
                .decode_utf8()
                .map(|d| d.into_owned())
                .map_err(|_| {
                    Error::Configuration(format!(
                        "RedisCache url {shown:?}: the user name or password is not valid \
                         percent-encoded UTF-8"
                    ))
                })
        };
        let user = Some(decode(user)?).filter(|u| !u.is_empty());
        let password = password.map(decode).transpose()?;
        Ok((user, password))
    }

    /// The query's parameters, percent-decoded; any name outside `allowed` is refused.
    fn parameters(&self, shown: &str, allowed: &[&str]) -> Result<Vec<(String, String)>> {
        let Some(q) = self.query else {
            return Ok(Vec::new());
        };
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if let Some((name, _)) = pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            return Err(Error::Configuration(format!(
                "RedisCache url {shown:?}: unknown parameter {name:?} for {}:// (it takes {})",
                self.scheme,
                allowed.join(", ")
            )));
        }
        Ok(pairs)
    }

    /// Each host as `host:port` (the port filled in), checked.
    fn hosts(&self, shown: &str, default_port: u16) -> Result<Vec<(String, u16)>> {
        self.hosts
            .iter()
            .map(|h| {
                let parsed = url::Url::parse(&format!("redis://{h}/"))
                    .ok()
                    .filter(|u| {
                        !h.is_empty()
                            && u.username().is_empty()
                            && u.password().is_none()
                            && u.path() == "/"
                    })
                    .and_then(|u| {
                        let host = match u.host()? {
                            url::Host::Domain(d) => d.to_string(),
                            url::Host::Ipv4(v4) => v4.to_string(),
                            url::Host::Ipv6(v6) => v6.to_string(),
                        };
                        Some((host, u.port().unwrap_or(default_port)))
                    });
                parsed.ok_or_else(|| {
                    Error::Configuration(format!(
                        "RedisCache url {shown:?}: {h:?} is not a host or host:port (separate \
                         hosts with commas: host1:port,host2:port)"
                    ))
                })
            })
            .collect()
    }

    /// TLS (`rediss+…`) and whether certificates are checked (`#insecure` turns that off).
    fn tls(&self, shown: &str) -> Result<(bool, bool)> {
        let tls = self.scheme.starts_with("rediss+");
        let insecure = match self.fragment {
            None | Some("") => false,
            Some("insecure") if tls => true,
            Some(_) => {
                return Err(Error::Configuration(format!(
                    "RedisCache url {shown:?}: the only fragment understood is #insecure, with \
                     rediss+cluster:// or rediss+sentinel://"
                )))
            }
        };
        Ok((tls, insecure))
    }
}

fn protocol(shown: &str, value: &str) -> Result<ProtocolVersion> {
    match value {
        "2" | "resp2" => Ok(ProtocolVersion::RESP2),
        "3" | "resp3" => Ok(ProtocolVersion::RESP3),
        _ => Err(Error::Configuration(format!(
            "RedisCache url {shown:?}: protocol must be resp2 or resp3"
        ))),
    }
}

/// The schemes of one server, which the redis crate parses itself.
const SINGLE_SCHEMES: [&str; 4] = ["redis://", "rediss://", "redis+unix://", "unix://"];

const EXAMPLES: &str = "give e.g. \"redis://127.0.0.1:6379/0\" (rediss:// for TLS), \
                        \"redis+cluster://host1:6379,host2:6379\" for a Redis Cluster or \
                        \"redis+sentinel://host1:26379,host2:26379/mymaster/0\" for Sentinel";

/// Check `url` and say what it names, with how to show it. No I/O. `timeout`: how long one
/// connection attempt or reply may take (the cluster client takes it here).
pub fn parse(url: &str, timeout: Duration) -> Result<(Target, String)> {
    if SINGLE_SCHEMES.iter().any(|s| url.starts_with(s)) {
        let shown = mask_url(url);
        let client = redis::Client::open(url).map_err(|e| {
            Error::Configuration(format!(
                "RedisCache url {shown:?} is not valid ({:?}): give e.g. \"redis://host:6379/0\"",
                e.kind()
            ))
        })?;
        return Ok((Target::Single(client), shown));
    }
    let parts = Parts::split(url);
    let kind = parts.as_ref().and_then(|p| match p.scheme {
        "redis+cluster" | "rediss+cluster" => Some(Kind::Cluster),
        "redis+sentinel" | "rediss+sentinel" => Some(Kind::Sentinel),
        _ => None,
    });
    let (Some(parts), Some(kind)) = (parts, kind) else {
        return Err(Error::Configuration(format!(
            "RedisCache url {:?} is not a Redis URL: {EXAMPLES}",
            mask_url(url)
        )));
    };
    if parts.userinfo.is_none() && url.contains('@') {
        // An `@` after the host list: most likely a password with an unencoded `/`, `?` or `#`,
        // which must not be echoed back in pieces.
        return Err(Error::Configuration(
            "RedisCache url (not shown): its user info does not parse; percent-encode `/`, `?`, \
             `#` and `@` in the password (%2F, %3F, %23, %40)"
                .into(),
        ));
    }
    let shown = parts.shown();
    let target = match kind {
        Kind::Cluster => Target::Cluster(Box::new(cluster(&parts, &shown, timeout)?)),
        Kind::Sentinel => Target::Sentinel(sentinel(&parts, &shown)?),
        Kind::Single => unreachable!("handled above"),
    };
    Ok((target, shown))
}

fn cluster(parts: &Parts<'_>, shown: &str, timeout: Duration) -> Result<ClusterClient> {
    if !matches!(parts.path, "" | "/" | "/0") {
        return Err(Error::Configuration(format!(
            "RedisCache url {shown:?}: a Redis Cluster has only database 0; give the nodes and \
             no database, e.g. \"redis+cluster://host1:6379,host2:6379\""
        )));
    }
    let mut builder_protocol = None;
    for (name, value) in parts.parameters(shown, &["protocol"])? {
        if name == "protocol" {
            builder_protocol = Some(protocol(shown, &value)?);
        }
    }
    let (tls, insecure) = parts.tls(shown)?;
    let userinfo = parts.userinfo.map(|u| format!("{u}@")).unwrap_or_default();
    let nodes: Vec<String> = parts
        .hosts(shown, REDIS_PORT)?
        .into_iter()
        .map(|(host, port)| {
            let host = if host.contains(':') {
                format!("[{host}]")
            } else {
                host
            };
            let scheme = if tls { "rediss" } else { "redis" };
            let fragment = if insecure { "#insecure" } else { "" };
            format!("{scheme}://{userinfo}{host}:{port}/{fragment}")
        })
        .collect();
    let mut builder = ClusterClientBuilder::new(nodes)
        .connection_timeout(timeout)
        .response_timeout(timeout)
        // Redirections (MOVED, ASK) are followed at once; TRYAGAIN and CLUSTERDOWN (a slot
        // migrating, a failover) are waited out briefly, within `timeout` overall.
        .retries(5)
        .min_retry_wait(10)
        .max_retry_wait(400);
    if let Some(p) = builder_protocol {
        builder = builder.use_protocol(p);
    }
    builder.build().map_err(|e| {
        Error::Configuration(format!(
            "RedisCache url {shown:?} is not valid ({:?}): give e.g. \
             \"redis+cluster://host1:6379,host2:6379\"",
            e.kind()
        ))
    })
}

fn sentinel(parts: &Parts<'_>, shown: &str) -> Result<Sentinel> {
    let path = parts.path.trim_start_matches('/');
    let path = path.strip_suffix('/').unwrap_or(path);
    let (master, db) = match path.split_once('/') {
        Some((m, db)) => (m, Some(db)),
        None => (path, None),
    };
    let master = percent_decode_str(master)
        .decode_utf8()
        .map(|m| m.into_owned())
        .unwrap_or_default();
    if master.is_empty() {
        return Err(Error::Configuration(format!(
            "RedisCache url {shown:?}: name the primary the sentinels monitor, e.g. \
             \"redis+sentinel://host1:26379,host2:26379/mymaster\" (and a database after it: \
             /mymaster/0)"
        )));
    }
    let db = match db {
        None => 0,
        Some(db) => db.parse::<i64>().ok().filter(|d| *d >= 0).ok_or_else(|| {
            Error::Configuration(format!(
                "RedisCache url {shown:?}: {db:?} is not a database number (the format is \
                 redis+sentinel://host:26379/master-name/db)"
            ))
        })?,
    };
    let mut target = Sentinel {
        sentinels: Vec::new(),
        master,
        db,
        protocol: ProtocolVersion::RESP2,
        username: None,
        password: None,
        tls: None,
        sentinel_username: None,
        sentinel_password: None,
    };
    for (name, value) in parts.parameters(
        shown,
        &["sentinel_username", "sentinel_password", "protocol"],
    )? {
        match name.as_str() {
            "sentinel_username" => target.sentinel_username = Some(value),
            "sentinel_password" => target.sentinel_password = Some(value),
            _ => target.protocol = protocol(shown, &value)?,
        }
    }
    (target.username, target.password) = parts.credentials(shown)?;
    let (tls, insecure) = parts.tls(shown)?;
    if tls {
        target.tls = Some(if insecure {
            redis::TlsMode::Insecure
        } else {
            redis::TlsMode::Secure
        });
    }
    for (host, port) in parts.hosts(shown, SENTINEL_PORT)? {
        target.sentinels.push(if tls {
            ConnectionAddr::TcpTls {
                host,
                port,
                insecure,
                tls_params: None,
            }
        } else {
            ConnectionAddr::Tcp(host, port)
        });
    }
    // What the redis crate checks when it builds the client, checked here, once.
    target.client().map_err(|e| {
        Error::Configuration(format!(
            "RedisCache url {shown:?} is not valid ({:?}): give e.g. \
             \"redis+sentinel://host1:26379,host2:26379/mymaster/0\"",
            e.kind()
        ))
    })?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(2);

    fn err(url: &str) -> String {
        match parse(url, T) {
            Ok(_) => panic!("{url} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn single_server_urls_are_the_redis_crates() {
        for url in [
            "redis://127.0.0.1:6379/0",
            "rediss://h:6380/2",
            "redis+unix:///run/redis.sock?db=2",
        ] {
            let (t, _) = parse(url, T).unwrap();
            assert_eq!(t.kind(), Kind::Single, "{url}");
        }
        let (_, shown) = parse("redis://:hunter2@127.0.0.1:6379/0", T).unwrap();
        assert_eq!(shown, "redis://:***@127.0.0.1:6379/0");
    }

    #[test]
    fn cluster_urls_take_several_seed_nodes() {
        let (t, shown) = parse(
            "redis+cluster://me:pw%2Fsecret@10.0.0.1:7000,10.0.0.2:7001,node-c/?protocol=resp3",
            T,
        )
        .unwrap();
        assert_eq!(t.kind(), Kind::Cluster);
        assert_eq!(
            shown,
            "redis+cluster://me:***@10.0.0.1:7000,10.0.0.2:7001,node-c/?protocol=resp3"
        );
        for ok in [
            "redis+cluster://h1:7000",
            "redis+cluster://h1:7000,h2:7001/0",
            "rediss+cluster://:pw@h1:7000,[::1]:7001/",
            "rediss+cluster://h1:7000/#insecure",
        ] {
            let (t, _) = parse(ok, T).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(t.kind(), Kind::Cluster, "{ok}");
        }
        assert!(err("redis+cluster://h1:7000/3").contains("only database 0"));
        assert!(err("redis+cluster://h1:7000,,h2:7001").contains("\"\" is not a host"));
        assert!(err("redis+cluster://h1:notaport").contains("\"h1:notaport\" is not a host"));
        assert!(err("redis+cluster://h1:7000/?db=2").contains("unknown parameter \"db\""));
        assert!(err("redis+cluster://h1:7000/?protocol=9").contains("resp2 or resp3"));
        assert!(err("redis+cluster://h1:7000/#insecure").contains("#insecure"));
        let e = err("redis+cluster://u:pw-secret@h1:7000/?db=1");
        assert!(!e.contains("pw-secret"), "{e}");
        for unencoded in [
            "redis+cluster://:pw/secret@h1:7000",
            "redis+sentinel://:pw?secret@s1/m",
            "redis+cluster://:pw#secret@h1:7000",
        ] {
            let e = err(unencoded);
            assert!(
                e.contains("percent-encode") && !e.contains("secret@"),
                "{e}"
            );
            assert!(!e.contains("pw"), "{e}");
        }
    }

    #[test]
    fn sentinel_urls_name_the_sentinels_the_primary_and_the_database() {
        let (t, shown) = parse(
            "redis+sentinel://:data-pw@s1:26379,s2,[::1]:26380/my%20master/3\
             ?sentinel_password=sentinel-pw&protocol=resp3",
            T,
        )
        .unwrap();
        assert_eq!(
            shown,
            "redis+sentinel://:***@s1:26379,s2,[::1]:26380/my%20master/3\
             ?sentinel_password=***&protocol=resp3"
        );
        let Target::Sentinel(s) = t else {
            panic!("not a sentinel target")
        };
        assert_eq!(s.master(), "my master");
        assert_eq!(s.db, 3);
        assert_eq!(s.password.as_deref(), Some("data-pw"));
        assert_eq!(s.username, None);
        assert_eq!(s.sentinel_password.as_deref(), Some("sentinel-pw"));
        assert_eq!(s.protocol, ProtocolVersion::RESP3);
        let ports: Vec<u16> = s
            .sentinels
            .iter()
            .map(|a| match a {
                ConnectionAddr::Tcp(_, p) => *p,
                _ => 0,
            })
            .collect();
        assert_eq!(
            ports,
            [26379, SENTINEL_PORT, 26380],
            "26379 when none is given"
        );

        let (t, _) = parse("redis+sentinel://s1:26379/mymaster", T).unwrap();
        let Target::Sentinel(s) = t else {
            panic!("not a sentinel target")
        };
        assert_eq!((s.master(), s.db, s.tls), ("mymaster", 0, None));

        let (t, _) = parse("rediss+sentinel://u:p@s1:26379/mymaster/1/", T).unwrap();
        let Target::Sentinel(s) = t else {
            panic!("not a sentinel target")
        };
        assert_eq!(s.tls, Some(redis::TlsMode::Secure));
        assert_eq!(s.username.as_deref(), Some("u"));
        assert!(matches!(
            s.sentinels[0],
            ConnectionAddr::TcpTls {
                insecure: false,
                ..
            }
        ));

        assert!(err("redis+sentinel://s1:26379").contains("name the primary"));
        assert!(err("redis+sentinel://s1:26379/").contains("name the primary"));
        assert!(err("redis+sentinel://s1:26379/m/x").contains("not a database number"));
        assert!(err("redis+sentinel://s1:26379/m/-1").contains("not a database number"));
        assert!(err("redis+sentinel://s1:26379/m?master=x").contains("unknown parameter"));
    }

    #[test]
    fn other_schemes_are_refused_with_examples() {
        for bad in [
            "http://127.0.0.1:6379",
            "127.0.0.1:6379",
            "redis+clusters://h:1",
            "sentinel://h:26379",
        ] {
            let e = err(bad);
            assert!(
                e.contains("not a Redis URL") && e.contains("redis+cluster://"),
                "{e}"
            );
        }
    }
}
