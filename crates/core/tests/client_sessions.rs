//! The session lifecycle of `tca_core::client::Client` against the fake: single-flight,
//! sharing by configuration, compare-and-swap invalidation, sign-in / sign-out / close /
//! switch site, and refreshing early. Every assertion is on what the fake counts or on tokens.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::*;
use tca_core::client::{CacheChoice, Lookup};
use tca_core::config::TransportConfig;
use tca_core::error::Error;
use tca_fake::Misbehaviour;

/// Slow enough that concurrent callers pile up on one sign-in.
const SLOW_SIGN_IN: Duration = Duration::from_millis(400);

#[test]
fn concurrent_tasks_wait_on_one_sign_in() {
    let fake = fake();
    fake.set_delay("auth/signin", SLOW_SIGN_IN);
    let client = app_client(&fake);
    let tokens = burst(100, |_| {
        let client = client.clone();
        async move { token(&client.session().await.expect("a session")) }
    });
    let stats = fake.stats();
    assert_eq!(stats.sign_in_attempts, 1, "{stats:?}");
    assert_eq!(stats.sign_ins, 1, "{stats:?}");
    let distinct: HashSet<_> = tokens.iter().collect();
    assert_eq!(distinct.len(), 1, "every caller gets the same session");
    assert!(fake.is_session_alive(&tokens[0]));
}

#[test]
fn concurrent_threads_using_lookup_wait_on_one_sign_in() {
    let fake = fake();
    fake.set_delay("auth/signin", SLOW_SIGN_IN);
    let client = app_client(&fake);
    let n = 64;
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (client, barrier) = (client.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let lookup = client.lookup().expect("a lookup");
                token(&run(lookup.session()).expect("a session"))
            })
        })
        .collect();
    let tokens: HashSet<String> = threads
        .into_iter()
        .map(|t| t.join().expect("the thread did not panic"))
        .collect();
    assert_eq!(tokens.len(), 1, "every thread gets the same session");
    assert_eq!(fake.stats().sign_ins, 1, "{:?}", fake.stats());
    // Now cached: a lookup is a hit, with no sign-in.
    match client.lookup().expect("a lookup") {
        Lookup::Hit(s) => assert!(tokens.contains(&token(&s))),
        Lookup::Wait(_) => panic!("a fresh session is cached: lookup must hit"),
    }
    assert!(client.with_fresh(|s| token(s)).is_some());
    assert_eq!(fake.stats().sign_in_attempts, 1);
}

/// The counterpart of the two tests above, so that they can fail: without a cache the same
/// burst signs in once per caller (the fake counts concurrent sign-ins one by one).
#[test]
fn without_a_cache_every_session_call_signs_in() {
    let fake = fake();
    fake.set_delay("auth/signin", SLOW_SIGN_IN);
    let client = client(
        config(&fake, &fake.default_site()),
        app(&fake, &fake.default_username()),
        CacheChoice::Off,
    );
    let tokens: HashSet<String> = burst(20, |_| {
        let client = client.clone();
        async move { token(&client.session().await.expect("a session")) }
    })
    .into_iter()
    .collect();
    assert_eq!(tokens.len(), 20);
    assert_eq!(fake.stats().sign_ins, 20, "{:?}", fake.stats());
    assert!(
        client.with_fresh(|_| ()).is_none(),
        "nothing is handed out twice"
    );
}

#[test]
fn two_clients_with_the_same_configuration_share_one_session() {
    let fake = fake();
    let a = app_client(&fake);
    let b = app_client(&fake);
    let ta = token(&run(a.session()).unwrap());
    let tb = token(&run(b.session()).unwrap());
    assert_eq!(ta, tb);
    assert_eq!(fake.stats().sign_ins, 1);
    // One client's invalidation is the other's: both see the re-signed-in session.
    assert!(run(a.invalidate(&ta)));
    let tb2 = token(&run(b.session()).unwrap());
    assert_ne!(tb2, ta);
    assert_eq!(token(&run(a.session()).unwrap()), tb2);
    assert_eq!(fake.stats().sign_ins, 2);
}

#[test]
fn another_site_user_credential_or_trust_setting_gets_its_own_session() {
    let fake = fake();
    let site = fake.default_site();
    let me = fake.default_username();
    fake.configure(|s| s.add_user(&site, "other@example.com", None))
        .unwrap();
    let first = app_client(&fake);
    let t0 = token(&run(first.session()).unwrap());
    let insecure = TransportConfig {
        insecure: true,
        ..TransportConfig::default()
    };
    let others = [
        ("the default site", config(&fake, ""), app(&fake, &me)),
        (
            "another user",
            config(&fake, &site),
            app(&fake, "other@example.com"),
        ),
        ("a PAT", config(&fake, &site), pat(&fake)),
        (
            "verify=False",
            config_for(&fake.url(), &site, insecure),
            app(&fake, &me),
        ),
    ];
    let mut seen = HashSet::from([t0.clone()]);
    for (n, (what, cfg, creds)) in others.into_iter().enumerate() {
        let c = client(cfg, creds, CacheChoice::Memory);
        let t = token(&run(c.session()).unwrap());
        assert!(
            seen.insert(t.clone()),
            "{what}: got a session of another client"
        );
        assert_eq!(fake.stats().sign_ins, n as u64 + 2, "{what}");
        // Cached for that client too.
        assert_eq!(token(&run(c.session()).unwrap()), t, "{what}");
    }
    assert_eq!(fake.stats().sign_ins, 5);
    // The first client's session was neither replaced nor signed out meanwhile.
    assert_eq!(token(&run(first.session()).unwrap()), t0);
    assert!(fake.is_session_alive(&t0));
    assert_eq!(fake.stats().sign_ins, 5);
}

#[test]
fn invalidating_a_token_that_was_already_replaced_drops_nothing() {
    let fake = fake();
    let client = app_client(&fake);
    let old = token(&run(client.session()).unwrap());
    let new = token(&run(client.sign_in()).unwrap());
    assert_ne!(old, new);
    assert_eq!(fake.stats().sign_ins, 2);
    assert!(!run(client.invalidate(&old)), "the old token is not cached");
    assert!(!client.invalidate_in_background(old.clone()));
    assert_eq!(client.with_fresh(|s| token(s)), Some(new.clone()));
    assert_eq!(token(&run(client.session()).unwrap()), new);
    assert!(!run(client.invalidate("a-token-never-seen")));
    assert_eq!(token(&run(client.session()).unwrap()), new);
    assert_eq!(fake.stats().sign_ins, 2, "no re-sign-in");
}

#[test]
fn a_burst_of_invalidations_of_one_token_causes_one_re_sign_in() {
    let fake = fake();
    let client = app_client(&fake);
    let old = token(&run(client.session()).unwrap());
    fake.set_delay("auth/signin", SLOW_SIGN_IN);
    let results = burst(50, |_| {
        let (client, old) = (client.clone(), old.clone());
        async move {
            let dropped = client.invalidate(&old).await;
            (dropped, token(&client.session().await.expect("a session")))
        }
    });
    let dropped = results.iter().filter(|(d, _)| *d).count();
    assert_eq!(dropped, 1, "compare-and-swap: exactly one caller drops it");
    let tokens: HashSet<_> = results.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(tokens.len(), 1, "every caller gets the one new session");
    assert!(!tokens.contains(&old));
    let stats = fake.stats();
    assert_eq!(stats.sign_ins, 2, "one sign-in, one re-sign-in: {stats:?}");
    assert_eq!(stats.sign_in_attempts, 2, "{stats:?}");
}

#[test]
fn invalidate_in_background_drops_the_session_now() {
    let fake = fake();
    let client = app_client(&fake);
    let old = token(&run(client.session()).unwrap());
    assert!(client.invalidate_in_background(old.clone()));
    assert!(client.with_fresh(|_| ()).is_none());
    let new = token(&run(client.session()).unwrap());
    assert_ne!(new, old);
    assert_eq!(fake.stats().sign_ins, 2);
}

#[test]
fn sign_in_always_signs_in_and_replaces_the_cached_session() {
    let fake = fake();
    let a = app_client(&fake);
    let b = app_client(&fake);
    let t1 = token(&run(a.session()).unwrap());
    let t2 = token(&run(a.sign_in()).unwrap());
    let t3 = token(&run(a.sign_in()).unwrap());
    assert_eq!(HashSet::from([&t1, &t2, &t3]).len(), 3);
    assert_eq!(fake.stats().sign_ins, 3);
    // The other client with the same configuration now uses the latest.
    assert_eq!(token(&run(b.session()).unwrap()), t3);
    assert_eq!(fake.stats().sign_ins, 3);
}

#[test]
fn a_failed_sign_in_reaches_every_waiter_and_is_not_cached() {
    let fake = fake();
    fake.set_delay("auth/signin", SLOW_SIGN_IN);
    fake.misbehave(
        "auth/signin",
        1,
        Misbehaviour::Fail {
            status: 401,
            code: Some("401001".into()),
        },
    );
    let client = app_client(&fake);
    let results = burst(20, |_| {
        let client = client.clone();
        async move { client.session().await.map(|s| token(&s)) }
    });
    for r in &results {
        match r {
            Err(Error::SignIn(f)) => assert_eq!(f.code, "401001"),
            other => panic!("expected the sign-in failure, got {other:?}"),
        }
    }
    assert_eq!(
        fake.stats().sign_in_attempts,
        1,
        "one sign-in for all waiters"
    );
    // Not cached: the next call signs in (and succeeds).
    let t = token(&run(client.session()).expect("a session after the failure"));
    assert!(fake.is_session_alive(&t));
    let stats = fake.stats();
    assert_eq!(
        (stats.sign_in_attempts, stats.sign_ins),
        (2, 1),
        "{stats:?}"
    );
}

#[test]
fn sign_out_ends_the_session_and_is_quiet_when_it_is_already_dead() {
    let fake = fake();
    let client = app_client(&fake);
    // Nothing cached: nothing to do.
    run(client.sign_out()).expect("sign-out with nothing cached");
    assert_eq!(fake.stats().sign_outs, 0);
    let t1 = token(&run(client.session()).unwrap());
    run(client.sign_out()).expect("sign-out");
    assert!(!fake.is_session_alive(&t1));
    assert_eq!(fake.stats().sign_outs, 1);
    // Dropped from the cache: the next session is a new sign-in.
    let t2 = token(&run(client.session()).unwrap());
    assert_ne!(t1, t2);
    assert_eq!(fake.stats().sign_ins, 2);
    // A session that already died on the server signs out without an error.
    fake.expire_all_sessions();
    run(client.sign_out()).expect("sign-out of a dead session is not an error");
    assert_eq!(fake.stats().sign_outs, 2);
}

#[test]
fn close_signs_out_and_the_client_refuses_later_work() {
    let fake = fake();
    let client = app_client(&fake);
    let t = token(&run(client.session()).unwrap());
    run(client.close()).expect("close");
    assert!(!fake.is_session_alive(&t));
    assert_eq!(fake.stats().sign_outs, 1);
    for result in [
        run(client.session()).map(|_| ()),
        run(client.sign_in()).map(|_| ()),
        run(client.call(get("workbooks"))).map(|_| ()),
        client.lookup().map(|_| ()),
    ] {
        assert!(
            matches!(result, Err(Error::Configuration(ref m)) if m.contains("closed")),
            "{result:?}"
        );
    }
    assert!(client.with_fresh(|_| ()).is_none());
    run(client.close()).expect("closing twice does nothing");
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.sign_outs), (1, 1), "{stats:?}");
}

#[test]
fn switch_site_caches_the_new_session_under_that_sites_key() {
    let fake = fake();
    let me = fake.default_username();
    let home = app_client(&fake);
    let t1 = token(&run(home.session()).unwrap());
    // To the site it is on: the current session, no request.
    let same = run(home.switch_site(fake.default_site())).unwrap();
    assert_eq!(token(&same), t1);
    assert_eq!(fake.stats().switch_site, 0);

    let switched = run(home.switch_site(String::new())).expect("switch to the default site");
    let t2 = token(&switched);
    assert_eq!(switched.site_content_url(), "");
    assert_eq!(Some(switched.site_id().to_string()), fake.site_luid(""));
    assert!(!fake.is_session_alive(&t1), "Tableau ended the old session");
    assert!(fake.is_session_alive(&t2));
    // A client for the default site finds it without signing in.
    let there = client(config(&fake, ""), app(&fake, &me), CacheChoice::Memory);
    assert_eq!(token(&run(there.session()).unwrap()), t2);
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.switch_site), (1, 1), "{stats:?}");
    // The first site's entry dropped the dead session: it signs in again.
    let t3 = token(&run(home.session()).unwrap());
    assert!(t3 != t1 && t3 != t2);
    assert_eq!(fake.stats().sign_ins, 2);
}

#[test]
fn a_session_is_refreshed_before_tableau_says_it_expires() {
    let fake = fake();
    // Refreshed a tenth of its life early: after 2.7 s at the latest.
    fake.set_estimated_time_to_expiration(Some("0:00:03".into()));
    let client = app_client(&fake);
    let s = run(client.session()).unwrap();
    assert!(s.expires_at.is_some());
    let t1 = token(&s);
    std::thread::sleep(Duration::from_millis(3500));
    assert!(client.with_fresh(|_| ()).is_none(), "no longer fresh");
    let t2 = token(&run(client.session()).unwrap());
    assert_ne!(t1, t2);
    assert_eq!(fake.stats().sign_ins, 2);
}

#[test]
fn api_version_auto_asks_serverinfo_once_per_server() {
    let fake = fake();
    let auto = |site: &str| {
        let cfg = tca_core::config::ClientConfig {
            api_version: "auto".into(),
            ..config(&fake, site)
        };
        client(
            cfg,
            app(&fake, &fake.default_username()),
            CacheChoice::Memory,
        )
    };
    let (a, b) = (auto(&fake.default_site()), auto(""));
    let s = run(a.session()).expect("a session");
    assert_eq!(s.api_version, "3.28", "the fake's highest version");
    assert_eq!(run(b.session()).unwrap().api_version, "3.28");
    let stats = fake.stats();
    assert_eq!((stats.server_info, stats.sign_ins), (1, 2), "{stats:?}");
    // Calls use the discovered version.
    let answer = run(a.call(get("workbooks"))).unwrap();
    assert_eq!(answer.reply.status, 200);
    assert!(answer.url.contains("/api/3.28/"), "{}", answer.url);
}

/// A JWT source minting with the fake's connected app, for `users[n]` on its n-th JWT (the
/// last user once past the end).
struct Minting {
    app: tca_core::jwt::ConnectedApp,
    users: Vec<String>,
    n: std::sync::atomic::AtomicUsize,
}

impl tca_core::credentials::JwtSource for Minting {
    fn next_jwt(&self) -> tca_core::error::Result<String> {
        let n = self.n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let user = &self.users[n.min(self.users.len() - 1)];
        let claims = tca_core::jwt::JwtClaims::new(
            user,
            vec!["tableau:content:read".into()],
            tca_core::jwt::DEFAULT_LIFETIME,
            Default::default(),
            None,
            false,
        )?;
        self.app.mint(&claims)
    }
}

fn jwt_credentials(
    source: impl tca_core::credentials::JwtSource + 'static,
    identity: Option<&str>,
) -> tca_core::credentials::Credentials {
    tca_core::credentials::Credentials::Jwt(Arc::new(
        tca_core::credentials::ExternalJwt::new(Box::new(source), identity).unwrap(),
    ))
}

#[test]
fn a_jwt_source_that_switches_users_is_refused_and_its_stray_session_signed_out() {
    let fake = fake();
    let site = fake.default_site();
    fake.configure(|s| s.add_user(&site, "other@example.com", None))
        .unwrap();
    let a = fake.default_app();
    let source = Minting {
        app: tca_core::jwt::ConnectedApp::new(&a.client_id, &a.secret_id, &a.secret_value).unwrap(),
        users: vec![fake.default_username(), "other@example.com".into()],
        n: Default::default(),
    };
    let identity = format!("rtests-{}", uuid::Uuid::new_v4());
    let client = client(
        config(&fake, &site),
        jwt_credentials(source, Some(&identity)),
        CacheChoice::Memory,
    );
    let t1 = token(&run(client.session()).unwrap());
    assert!(run(client.invalidate(&t1)));
    match run(client.session()) {
        Err(Error::Configuration(m)) => assert!(m.contains("another user"), "{m}"),
        other => panic!("expected a refusal, got {:?}", other.map(|s| token(&s))),
    }
    assert_eq!(fake.stats().sign_ins, 2);
    // The refused session is signed out in the background.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while fake.stats().sign_outs == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let stats = fake.stats();
    assert_eq!(stats.sign_outs, 1, "{stats:?}");
    assert_eq!(
        stats.active_sessions, 1,
        "only the first user's session: {stats:?}"
    );
}

#[test]
fn a_jwt_given_as_a_string_signs_in_once() {
    let fake = fake();
    let a = fake.default_app();
    let app =
        tca_core::jwt::ConnectedApp::new(&a.client_id, &a.secret_id, &a.secret_value).unwrap();
    let claims = tca_core::jwt::JwtClaims::new(
        &fake.default_username(),
        vec!["tableau:content:read".into()],
        tca_core::jwt::DEFAULT_LIFETIME,
        Default::default(),
        None,
        false,
    )
    .unwrap();
    let single = tca_core::credentials::SingleUseJwt::new(&app.mint(&claims).unwrap()).unwrap();
    let client = client(
        config(&fake, &fake.default_site()),
        jwt_credentials(single, None),
        CacheChoice::Memory,
    );
    let t = token(&run(client.session()).unwrap());
    assert_eq!(token(&run(client.session()).unwrap()), t, "cached");
    assert!(run(client.invalidate(&t)));
    match run(client.session()) {
        Err(Error::Configuration(m)) => assert!(m.contains("already used"), "{m}"),
        other => panic!("expected a refusal, got {:?}", other.map(|s| token(&s))),
    }
    let stats = fake.stats();
    assert_eq!(
        (stats.sign_in_attempts, stats.sign_ins),
        (1, 1),
        "the spent JWT was not sent again: {stats:?}"
    );
}

#[test]
fn a_transiently_failing_sign_in_is_retried_with_a_fresh_jwt() {
    let fake = fake();
    // The fake spends a JWT's jti on a failed sign-in: a re-sent JWT would be refused (10091).
    fake.misbehave(
        "auth/signin",
        2,
        Misbehaviour::Fail {
            status: 503,
            code: None,
        },
    );
    let client = app_client(&fake);
    let t = token(&run(client.session()).expect("signed in on the third try"));
    assert!(fake.is_session_alive(&t));
    let stats = fake.stats();
    assert_eq!(
        (stats.sign_in_attempts, stats.sign_ins),
        (3, 1),
        "{stats:?}"
    );
    assert!(stats.rejections.is_empty(), "{stats:?}");
}

#[test]
fn a_rate_limited_sign_in_waits_when_asked_briefly_and_fails_when_asked_long() {
    let fake = fake();
    let first = app_client(&fake);
    fake.misbehave(
        "auth/signin",
        1,
        Misbehaviour::RateLimit {
            retry_after: Some(1),
            html: false,
        },
    );
    run(first.session()).expect("signed in after waiting 1 s");
    let stats = fake.stats();
    assert_eq!(
        (stats.sign_in_attempts, stats.sign_ins),
        (2, 1),
        "{stats:?}"
    );

    let other = client(
        config(&fake, ""),
        app(&fake, &fake.default_username()),
        CacheChoice::Memory,
    );
    fake.misbehave(
        "auth/signin",
        1,
        Misbehaviour::RateLimit {
            retry_after: Some(3600),
            html: false,
        },
    );
    match run(other.session()) {
        Err(Error::RateLimited { retry_after, .. }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(3600)))
        }
        r => panic!("expected RateLimited, got {:?}", r.map(|s| token(&s))),
    }
    assert_eq!(fake.stats().sign_in_attempts, 3, "not retried");
}

#[test]
fn a_sign_in_answered_by_an_html_page_is_a_protocol_error() {
    let fake = fake();
    let client = app_client(&fake);
    fake.misbehave("auth/signin", 1, Misbehaviour::Html { status: 200 });
    match run(client.session()) {
        Err(Error::Protocol { message, .. }) => {
            assert!(message.contains("not Tableau"), "{message}")
        }
        r => panic!("expected a ProtocolError, got {:?}", r.map(|s| token(&s))),
    }
    // Not cached, not retried: the next session is the next sign-in.
    run(client.session()).expect("a session");
    let stats = fake.stats();
    assert_eq!(
        (stats.sign_in_attempts, stats.sign_ins),
        (2, 1),
        "{stats:?}"
    );
}

#[test]
/// close() while a sign-in is in flight waits for it and signs it out (it used to return at
/// once and leave the session alive on the server).
fn close_during_a_sign_in_in_flight_leaves_no_live_session() {
    let fake = fake();
    fake.set_delay("auth/signin", Duration::from_secs(1));
    let client = app_client(&fake);
    let waiter = {
        let client = client.clone();
        tca_core::transport::process()
            .runtime()
            .spawn(async move { client.session().await.map(|s| token(&s)) })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while fake.stats().sign_in_attempts == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    run(client.close()).expect("close");
    // Whatever the waiter gets, no session of this closed client may stay alive (a fix may
    // sign it out in the background: wait for that).
    let got = run(waiter).expect("the task did not panic");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while fake.stats().active_sessions > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let stats = fake.stats();
    assert_eq!(
        stats.active_sessions, 0,
        "a live session outlived close(): {stats:?}"
    );
    if let Ok(t) = got {
        assert!(!fake.is_session_alive(&t));
    }
}
