//! Clients with a shared cache (`DiskCache`, `RedisCache`) against the fake: what they
//! publish, remove and refuse to read, and, through a child process of this test binary,
//! that another process uses the published session instead of signing in.
//!
//! The Redis tests start a redis-server of their own on 127.0.0.1 when one is on PATH, and
//! are skipped (with a note on stderr) otherwise.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use common::*;
use tca_core::client::{CacheChoice, Client, Lookup};
use tca_core::credentials::Credentials;
use tca_core::shared::{DiskCache, RedisCache, SharedCache};
use tca_fake::FakeTableau;

/// Set in a child process: which role to play (see [`child`]).
const CHILD: &str = "TCA_RTESTS_CHILD";

fn disk(dir: &TempDir) -> CacheChoice {
    CacheChoice::Shared(SharedCache::Disk(Arc::new(
        DiskCache::new(Some(dir.as_str())).expect("a disk cache"),
    )))
}

fn redis(url: &str, prefix: &str) -> CacheChoice {
    CacheChoice::Shared(SharedCache::Redis(Arc::new(
        RedisCache::new(url, prefix).expect("a redis cache"),
    )))
}

fn pat_client(fake: &FakeTableau, cache: CacheChoice) -> Arc<Client> {
    client(config(fake, &fake.default_site()), pat(fake), cache)
}

/// What a child process plays: a client of the parent's fake (server URL and PAT secret in
/// the environment) with the same shared cache. "use": the session it gets is the one the
/// parent published (with a disk cache, found on the calling thread); "use-then-sign-out":
/// and then signs out; "sign-out-only": signs out with nothing cached in this process;
/// "sign-in": signs in afresh (and publishes).
fn child(role: &str) {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is set"));
    let cfg = config_for(
        &var("TCA_RTESTS_SERVER"),
        &var("TCA_RTESTS_SITE"),
        Default::default(),
    );
    let creds =
        Credentials::personal_access_token(&var("TCA_RTESTS_PAT_NAME"), &var("TCA_RTESTS_PAT"))
            .unwrap();
    let cache = match var("TCA_RTESTS_CACHE_KIND").as_str() {
        "disk" => CacheChoice::Shared(SharedCache::Disk(Arc::new(
            DiskCache::new(Some(&var("TCA_RTESTS_CACHE"))).unwrap(),
        ))),
        _ => redis(&var("TCA_RTESTS_CACHE"), &var("TCA_RTESTS_PREFIX")),
    };
    let client = Client::new(cfg, creds, cache).unwrap();
    if role == "sign-in" {
        // A fresh sign-in, published for the other processes (with a PAT, the parent's
        // session ends).
        run(client.sign_in()).expect("a sign-in");
        return;
    }
    if role == "sign-out-only" {
        // Nothing cached in this process: sign-out finds the shared session itself.
        run(client.sign_out()).expect("sign-out");
        return;
    }
    let expected = var("TCA_RTESTS_TOKEN");
    if var("TCA_RTESTS_CACHE_KIND") == "disk" {
        // A disk entry is read on the calling thread: a hit, no sign-in to wait for.
        match client.lookup().unwrap() {
            Lookup::Hit(s) => assert!(token(&s) == expected, "another session than published"),
            Lookup::Wait(_) => panic!("the session on disk was not found"),
        }
    }
    let s = run(client.session()).expect("a session");
    assert!(token(&s) == expected, "another session than published");
    if role == "use-then-sign-out" {
        run(client.sign_out()).expect("sign-out");
    }
}

/// Run the calling test again in a child process playing `role` (the fake's stats tell the
/// parent whether it signed in).
fn in_child(test: &str, role: &str, fake: &FakeTableau, kind: &str, cache: &str, t: &str) {
    let p = fake.default_pat();
    run_child(
        test,
        &[
            (CHILD, role.to_string()),
            ("TCA_RTESTS_SERVER", fake.url()),
            ("TCA_RTESTS_SITE", fake.default_site()),
            ("TCA_RTESTS_PAT_NAME", p.name),
            ("TCA_RTESTS_PAT", p.secret),
            ("TCA_RTESTS_CACHE_KIND", kind.to_string()),
            ("TCA_RTESTS_CACHE", cache.to_string()),
            ("TCA_RTESTS_PREFIX", "tca-rtests".to_string()),
            ("TCA_RTESTS_TOKEN", t.to_string()),
        ],
    );
}

#[test]
fn a_session_is_published_to_disk_and_sign_out_removes_it() {
    let fake = fake();
    let dir = TempDir::new("publish");
    let client = pat_client(&fake, disk(&dir));
    assert!(client.shares_sessions());
    let t = token(&run(client.session()).unwrap());
    let files = session_files(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let sealed = std::fs::read(&files[0]).unwrap();
    assert!(sealed.starts_with(b"TCA"), "a sealed entry");
    assert!(
        !sealed.windows(t.len()).any(|w| w == t.as_bytes()),
        "the token is not on disk in clear"
    );
    run(client.sign_out()).expect("sign-out");
    assert!(!fake.is_session_alive(&t));
    assert!(
        session_files(dir.path()).is_empty(),
        "the entry was removed"
    );
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.sign_outs), (1, 1), "{stats:?}");
}

#[test]
fn concurrent_callers_with_a_disk_cache_share_one_sign_in() {
    let fake = fake();
    fake.set_delay("auth/signin", std::time::Duration::from_millis(300));
    let dir = TempDir::new("burst");
    let client = pat_client(&fake, disk(&dir));
    let tokens: HashSet<String> = burst(50, |_| {
        let client = client.clone();
        async move { token(&client.session().await.expect("a session")) }
    })
    .into_iter()
    .collect();
    assert_eq!(tokens.len(), 1);
    assert_eq!(fake.stats().sign_ins, 1, "{:?}", fake.stats());
    assert_eq!(session_files(dir.path()).len(), 1);
}

#[test]
fn another_process_uses_the_session_on_disk() {
    const TEST: &str = "another_process_uses_the_session_on_disk";
    if let Ok(role) = std::env::var(CHILD) {
        return child(&role);
    }
    let fake = fake();
    let dir = TempDir::new("child");
    let client = pat_client(&fake, disk(&dir));
    let t1 = token(&run(client.session()).unwrap());
    in_child(TEST, "use", &fake, "disk", dir.as_str(), &t1);
    assert_eq!(
        fake.stats().sign_ins,
        1,
        "the child signed in: {:?}",
        fake.stats()
    );

    // A call's re-sign-in after a 401 replaces the shared entry: the child gets the new one.
    fake.expire_all_sessions();
    assert_eq!(
        run(client.call(get("workbooks"))).unwrap().reply.status,
        200
    );
    let t2 = token(&run(client.session()).unwrap());
    assert_ne!(t1, t2);
    assert_eq!(fake.stats().sign_ins, 2);
    in_child(TEST, "use-then-sign-out", &fake, "disk", dir.as_str(), &t2);

    // The child signed out: the session is dead and its entry gone.
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.sign_outs), (2, 1), "{stats:?}");
    assert!(!fake.is_session_alive(&t2));
    assert!(session_files(dir.path()).is_empty());
    // This process still holds the dead session; its next call signs in once more.
    assert_eq!(
        run(client.call(get("workbooks"))).unwrap().reply.status,
        200
    );
    assert_eq!(fake.stats().sign_ins, 3);
    assert_eq!(session_files(dir.path()).len(), 1);
}

#[test]
fn invalidate_removes_the_disk_entry_only_while_it_holds_that_token() {
    let fake = fake();
    let dir = TempDir::new("cas");
    let client = pat_client(&fake, disk(&dir));
    let t1 = token(&run(client.session()).unwrap());
    assert!(run(client.invalidate(&t1)));
    assert!(session_files(dir.path()).is_empty());
    let t2 = token(&run(client.session()).unwrap());
    assert_ne!(t1, t2);
    let entry = std::fs::read(&session_files(dir.path())[0]).unwrap();
    // A stale invalidation leaves the newer entry alone, here and on disk.
    assert!(!run(client.invalidate(&t1)));
    let files = session_files(dir.path());
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::read(&files[0]).unwrap(), entry);
    assert_eq!(token(&run(client.session()).unwrap()), t2);
    assert_eq!(fake.stats().sign_ins, 2);
}

#[test]
fn an_entry_sealed_for_other_credentials_is_not_used() {
    let fake = fake();
    let site = fake.default_site();
    let other_secret = format!("other-{}", uuid::Uuid::new_v4());
    fake.configure(|s| s.add_pat(&site, &fake.default_username(), "other-pat", &other_secret))
        .unwrap();
    let dir = TempDir::new("sealed");
    let a = pat_client(&fake, disk(&dir));
    let ta = token(&run(a.session()).unwrap());
    let a_file = session_files(dir.path()).remove(0);
    let b = client(
        config(&fake, &site),
        Credentials::personal_access_token("other-pat", &other_secret).unwrap(),
        disk(&dir),
    );
    let tb = token(&run(b.session()).unwrap());
    assert_ne!(ta, tb);
    let b_file = session_files(dir.path())
        .into_iter()
        .find(|f| *f != a_file)
        .expect("b's entry has a file of its own");
    // Drop b's session here and on disk, then put a's sealed entry in b's place.
    assert!(run(b.invalidate(&tb)));
    assert!(!b_file.exists());
    std::fs::copy(&a_file, &b_file).unwrap();
    let tb2 = token(&run(b.session()).unwrap());
    assert_ne!(tb2, ta, "b used a session sealed for other credentials");
    assert_ne!(tb2, tb);
    assert_eq!(fake.stats().sign_ins, 3, "{:?}", fake.stats());
    // b replaced the foreign entry with its own.
    assert_ne!(
        std::fs::read(&b_file).unwrap(),
        std::fs::read(&a_file).unwrap()
    );
}

#[test]
fn a_rotated_secret_misses_the_old_entry() {
    let fake = fake();
    let site = fake.default_site();
    let p = fake.default_pat();
    let dir = TempDir::new("rotated");
    let old = pat_client(&fake, disk(&dir));
    let t1 = token(&run(old.session()).unwrap());
    let rotated = format!("rotated-{}", uuid::Uuid::new_v4());
    fake.configure(|s| s.add_pat(&site, &fake.default_username(), &p.name, &rotated))
        .unwrap();
    let new = client(
        config(&fake, &site),
        Credentials::personal_access_token(&p.name, &rotated).unwrap(),
        disk(&dir),
    );
    let t2 = token(&run(new.session()).unwrap());
    assert_ne!(t1, t2);
    assert_eq!(fake.stats().sign_ins, 2);
    assert_eq!(session_files(dir.path()).len(), 2);
}

#[test]
fn a_corrupt_disk_entry_is_ignored_and_replaced() {
    let fake = fake();
    let dir = TempDir::new("corrupt");
    let client = pat_client(&fake, disk(&dir));
    let t1 = token(&run(client.session()).unwrap());
    let file = session_files(dir.path()).remove(0);
    std::fs::write(&file, b"TCA\x02 not a sealed session at all").unwrap();
    // Dropped here; the file no longer holds t1, so it stays.
    assert!(run(client.invalidate(&t1)));
    assert!(file.exists());
    let t2 = token(&run(client.session()).unwrap());
    assert_ne!(t1, t2);
    assert_eq!(fake.stats().sign_ins, 2);
    let entry = std::fs::read(&file).unwrap();
    assert!(entry.len() > 100 && entry.starts_with(b"TCA"), "replaced");
}

#[test]
fn an_unusable_disk_cache_degrades_to_signing_in() {
    let fake = fake();
    let dir = TempDir::new("unusable");
    std::fs::create_dir_all(dir.path()).unwrap();
    let not_a_dir = dir.path().join("a-file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    let cache = CacheChoice::Shared(SharedCache::Disk(Arc::new(
        DiskCache::new(Some(not_a_dir.to_str().unwrap())).unwrap(),
    )));
    let client = pat_client(&fake, cache);
    let t = token(&run(client.session()).expect("a session without the cache"));
    assert_eq!(token(&run(client.session()).unwrap()), t);
    assert_eq!(
        run(client.call(get("workbooks"))).unwrap().reply.status,
        200
    );
    run(client.sign_out()).expect("sign-out");
    assert!(!fake.is_session_alive(&t));
    assert_eq!(fake.stats().sign_ins, 1);
}

#[test]
fn an_unreachable_redis_degrades_to_signing_in() {
    let fake = fake();
    let url = format!("redis://127.0.0.1:{}/0", closed_port());
    let client = pat_client(&fake, redis(&url, "tca-rtests"));
    let t = token(&run(client.session()).expect("a session without the cache"));
    assert_eq!(token(&run(client.session()).unwrap()), t);
    assert_eq!(
        run(client.call(get("workbooks"))).unwrap().reply.status,
        200
    );
    run(client.sign_out()).expect("sign-out");
    assert!(!fake.is_session_alive(&t));
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.sign_outs), (1, 1), "{stats:?}");
}

#[test]
fn a_session_is_published_to_redis_and_sign_out_removes_it() {
    let Some(redis_server) = RedisServer::start("a_session_is_published_to_redis") else {
        return;
    };
    let fake = fake();
    let client = pat_client(&fake, redis(&redis_server.url(), "tca-rtests"));
    let t = token(&run(client.session()).unwrap());
    let keys = redis_server.command(&["KEYS", "tca-rtests:session:*"]);
    assert_eq!(keys.len(), 1, "{keys:?}");
    let ttl: i64 = redis_server.command(&["TTL", &keys[0]])[0].parse().unwrap();
    assert!(ttl > 0, "the entry expires: TTL {ttl}");
    run(client.sign_out()).expect("sign-out");
    assert!(!fake.is_session_alive(&t));
    assert!(redis_server
        .command(&["KEYS", "tca-rtests:session:*"])
        .is_empty());
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.sign_outs), (1, 1), "{stats:?}");
}

#[test]
fn another_process_uses_the_session_in_redis() {
    const TEST: &str = "another_process_uses_the_session_in_redis";
    if let Ok(role) = std::env::var(CHILD) {
        return child(&role);
    }
    let Some(redis_server) = RedisServer::start(TEST) else {
        return;
    };
    let fake = fake();
    let url = redis_server.url();
    let client = pat_client(&fake, redis(&url, "tca-rtests"));
    let t1 = token(&run(client.session()).unwrap());
    in_child(TEST, "use", &fake, "redis", &url, &t1);
    assert_eq!(
        fake.stats().sign_ins,
        1,
        "the child signed in: {:?}",
        fake.stats()
    );
    in_child(TEST, "sign-out-only", &fake, "redis", &url, &t1);
    assert!(!fake.is_session_alive(&t1));
    assert!(redis_server
        .command(&["KEYS", "tca-rtests:session:*"])
        .is_empty());
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.sign_outs), (1, 1), "{stats:?}");
}

/// The `*.lock` file next to the only entry of `dir`.
fn lock_file(dir: &TempDir) -> std::path::PathBuf {
    let entry = session_files(dir.path()).remove(0);
    entry.with_extension("lock")
}

#[test]
fn a_stuck_disk_lock_holder_delays_a_sign_in_at_most_lock_timeout() {
    let fake = fake();
    let dir = TempDir::new("stuck");
    let mut cache = DiskCache::new(Some(dir.as_str())).unwrap();
    cache.lock_timeout = Some(std::time::Duration::from_secs(1));
    let client = pat_client(
        &fake,
        CacheChoice::Shared(SharedCache::Disk(Arc::new(cache))),
    );
    let t1 = token(&run(client.session()).unwrap());
    let entry = session_files(dir.path()).remove(0);
    let before = std::fs::read(&entry).unwrap();
    // Another holder takes the sign-in lock and never renews it.
    let held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(lock_file(&dir))
        .unwrap();
    held.lock().unwrap();
    let started = std::time::Instant::now();
    // Dropped here; the entry is left for the lock's holder (this process never takes t1 back).
    assert!(run(client.invalidate(&t1)));
    assert_eq!(std::fs::read(&entry).unwrap(), before);
    let t2 = token(&run(client.session()).expect("a session despite the stuck lock"));
    assert_ne!(t1, t2);
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    assert_eq!(fake.stats().sign_ins, 2);
    assert_ne!(std::fs::read(&entry).unwrap(), before, "t2 was published");
    held.unlock().unwrap();
    assert_eq!(token(&run(client.session()).unwrap()), t2);
    assert_eq!(fake.stats().sign_ins, 2);
}

#[test]
fn redis_single_flight_and_compare_and_swap_removal() {
    let Some(redis_server) = RedisServer::start("redis_single_flight_and_cas") else {
        return;
    };
    let fake = fake();
    fake.set_delay("auth/signin", std::time::Duration::from_millis(300));
    let client = pat_client(&fake, redis(&redis_server.url(), "tca-rtests"));
    let tokens: HashSet<String> = burst(50, |_| {
        let client = client.clone();
        async move { token(&client.session().await.expect("a session")) }
    })
    .into_iter()
    .collect();
    assert_eq!(tokens.len(), 1);
    assert_eq!(fake.stats().sign_ins, 1, "{:?}", fake.stats());
    let t1 = tokens.into_iter().next().unwrap();
    let keys = || redis_server.command(&["KEYS", "tca-rtests:session:*"]);
    let entry = keys();
    assert_eq!(entry.len(), 1, "{entry:?}");
    let sealed = |k: &str| redis_server.command(&["GET", k]);

    assert!(run(client.invalidate(&t1)));
    assert!(keys().is_empty(), "removed while it held t1");
    let t2 = token(&run(client.session()).unwrap());
    assert_ne!(t1, t2);
    let published = sealed(&entry[0]);
    assert_eq!(published.len(), 1);
    // A stale invalidation leaves the newer entry alone.
    assert!(!run(client.invalidate(&t1)));
    assert_eq!(sealed(&entry[0]), published);
    assert_eq!(token(&run(client.session()).unwrap()), t2);
    assert_eq!(fake.stats().sign_ins, 2);
}

#[test]
fn a_redis_that_goes_away_degrades_to_signing_in() {
    let Some(redis_server) = RedisServer::start("a_redis_that_goes_away") else {
        return;
    };
    let fake = fake();
    let client = pat_client(&fake, redis(&redis_server.url(), "tca-rtests"));
    let t1 = token(&run(client.session()).unwrap());
    drop(redis_server);
    fake.expire_all_sessions();
    let started = std::time::Instant::now();
    let answer = run(client.call(get("workbooks"))).expect("a call without Redis");
    assert_eq!(answer.reply.status, 200);
    let t2 = token(&run(client.session()).unwrap());
    assert_ne!(t1, t2);
    assert!(fake.is_session_alive(&t2));
    run(client.sign_out()).expect("sign-out without Redis");
    assert!(!fake.is_session_alive(&t2));
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.sign_outs), (2, 1), "{stats:?}");
}

/// The parent's session dies because another process signed in again with the same PAT; the
/// parent's call gets a 401 and takes that process's published session instead of signing in.
fn a_call_uses_another_process_s_newer_session(
    test: &str,
    kind: &str,
    cache: CacheChoice,
    at: &str,
) {
    let fake = fake();
    let client = pat_client(&fake, cache);
    let t1 = token(&run(client.session()).unwrap());
    in_child(test, "sign-in", &fake, kind, at, "");
    assert!(!fake.is_session_alive(&t1), "one session per PAT");
    assert_eq!(fake.stats().sign_ins, 2);
    let answer = run(client.call(get("workbooks"))).expect("a call");
    assert_eq!(answer.reply.status, 200);
    let stats = fake.stats();
    assert_eq!(stats.sign_ins, 2, "the call signed in itself: {stats:?}");
    assert_eq!(
        stats.workbooks, 2,
        "the 401, then the call with the child's session"
    );
    let t2 = token(&run(client.session()).unwrap());
    assert!(fake.is_session_alive(&t2));
}

#[test]
fn a_call_uses_another_process_s_newer_session_on_disk() {
    const TEST: &str = "a_call_uses_another_process_s_newer_session_on_disk";
    if let Ok(role) = std::env::var(CHILD) {
        return child(&role);
    }
    let dir = TempDir::new("newer");
    a_call_uses_another_process_s_newer_session(TEST, "disk", disk(&dir), dir.as_str());
}

#[test]
fn a_call_uses_another_process_s_newer_session_in_redis() {
    const TEST: &str = "a_call_uses_another_process_s_newer_session_in_redis";
    if let Ok(role) = std::env::var(CHILD) {
        return child(&role);
    }
    let Some(redis_server) = RedisServer::start(TEST) else {
        return;
    };
    let url = redis_server.url();
    a_call_uses_another_process_s_newer_session(TEST, "redis", redis(&url, "tca-rtests"), &url);
}

#[test]
fn switch_site_with_a_disk_cache_moves_the_entry_to_the_new_sites_key() {
    let fake = fake();
    let dir = TempDir::new("switch");
    let me = fake.default_username();
    let home = client(
        config(&fake, &fake.default_site()),
        app(&fake, &me),
        disk(&dir),
    );
    let t1 = token(&run(home.session()).unwrap());
    let home_entry = session_files(dir.path());
    assert_eq!(home_entry.len(), 1);
    let t2 = token(&run(home.switch_site(String::new())).unwrap());
    assert!(!fake.is_session_alive(&t1));
    let files = session_files(dir.path());
    assert_eq!(files.len(), 1, "the old site's entry is gone: {files:?}");
    assert_ne!(files, home_entry, "the new site's entry is another file");
    let there = client(config(&fake, ""), app(&fake, &me), disk(&dir));
    assert_eq!(token(&run(there.session()).unwrap()), t2);
    assert_eq!(fake.stats().sign_ins, 1);
}

#[test]
fn close_with_a_shared_cache_leaves_the_session_to_other_processes() {
    let fake = fake();
    let dir = TempDir::new("close");
    let client = pat_client(&fake, disk(&dir));
    let t = token(&run(client.session()).unwrap());
    run(client.close()).unwrap();
    assert!(fake.is_session_alive(&t));
    assert_eq!(session_files(dir.path()).len(), 1);
    assert_eq!(fake.stats().sign_outs, 0);
    assert!(run(client.session()).is_err(), "closed");
}

#[test]
fn a_stuck_redis_lock_delays_a_sign_in_only_for_a_while() {
    let Some(redis_server) = RedisServer::start("a_stuck_redis_lock") else {
        return;
    };
    let fake = fake();
    let mut cache = RedisCache::new(&redis_server.url(), "tca-rtests").unwrap();
    cache.lock_timeout = Some(std::time::Duration::from_secs(1));
    let client = pat_client(
        &fake,
        CacheChoice::Shared(SharedCache::Redis(Arc::new(cache))),
    );
    let mut token_now = token(&run(client.session()).unwrap());
    let entry = redis_server
        .command(&["KEYS", "tca-rtests:session:*"])
        .remove(0);
    let lock = entry.replacen(":session:", ":lock:", 1);
    // A holder that crashed (its lock expires), then one that set no expiry at all (broken
    // after twice lock_timeout).
    for (n, expiry) in [vec!["PX", "1500"], vec![]].into_iter().enumerate() {
        let mut set = vec!["SET", lock.as_str(), "someone-else"];
        set.extend(expiry);
        assert_eq!(redis_server.command(&set), ["OK"]);
        let started = std::time::Instant::now();
        assert!(run(client.invalidate(&token_now)));
        let next = token(&run(client.session()).expect("a session despite the lock"));
        assert_ne!(next, token_now);
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        assert_eq!(fake.stats().sign_ins, n as u64 + 2);
        let keys = redis_server.command(&["KEYS", "tca-rtests:*"]);
        assert_eq!(
            keys,
            std::slice::from_ref(&entry),
            "published, and the lock released"
        );
        token_now = next;
    }
}

#[test]
fn a_burst_of_calls_after_expiry_with_a_disk_cache_signs_in_once() {
    let fake = fake();
    let dir = TempDir::new("burst-calls");
    let client = pat_client(&fake, disk(&dir));
    run(client.session()).unwrap();
    fake.expire_all_sessions();
    fake.set_delay("auth/signin", std::time::Duration::from_millis(300));
    let statuses = burst(20, |_| {
        let client = client.clone();
        async move { client.call(get("workbooks")).await.map(|a| a.reply.status) }
    });
    for s in &statuses {
        assert!(matches!(s, Ok(200)), "{s:?}");
    }
    assert_eq!(fake.stats().sign_ins, 2, "{:?}", fake.stats());
    assert_eq!(session_files(dir.path()).len(), 1);
}
