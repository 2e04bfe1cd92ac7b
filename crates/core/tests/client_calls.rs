//! `Client::call` against the fake: the one re-sign-in after a dead-session 401 (and only
//! then), single-flight of that re-sign-in under a burst, and which calls are retried on
//! transient failures.

mod common;

use std::time::Duration;

use common::*;
use reqwest::Method;
use tca_core::client::CacheChoice;
use tca_core::error::Error;
use tca_fake::Misbehaviour;

fn fail(status: u16, code: &str) -> Misbehaviour {
    Misbehaviour::Fail {
        status,
        code: Some(code.into()),
    }
}

#[test]
fn calls_reuse_the_cached_session() {
    let fake = fake();
    let client = app_client(&fake);
    for _ in 0..5 {
        let answer = run(client.call(get("workbooks"))).expect("a call");
        assert_eq!(answer.reply.status, 200);
        assert!(String::from_utf8_lossy(&answer.reply.body).contains("<workbook "));
    }
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.workbooks), (1, 5), "{stats:?}");
}

#[test]
fn a_call_after_the_session_died_signs_in_once_and_succeeds() {
    let fake = fake();
    let client = app_client(&fake);
    let old = token(&run(client.session()).unwrap());
    fake.expire_all_sessions();
    let answer = run(client.call(get("workbooks"))).expect("a call");
    assert_eq!(answer.reply.status, 200);
    let stats = fake.stats();
    assert_eq!(stats.sign_ins, 2, "exactly one re-sign-in: {stats:?}");
    assert_eq!(stats.workbooks, 2, "the 401, then the retry: {stats:?}");
    let new = token(&run(client.session()).unwrap());
    assert_ne!(new, old);
    assert!(fake.is_session_alive(&new));
    assert_eq!(fake.stats().sign_ins, 2, "the new session is cached");
}

#[test]
fn a_server_level_call_after_the_session_died_signs_in_once() {
    let fake = fake();
    let client = app_client(&fake);
    run(client.session()).unwrap();
    fake.expire_all_sessions();
    let path = format!("/api/{VERSION}/sessions/current");
    let answer = run(client.call(get(&path))).expect("a call");
    assert_eq!(answer.reply.status, 200);
    let stats = fake.stats();
    assert_eq!(
        (stats.sign_ins, stats.sessions_current),
        (2, 2),
        "{stats:?}"
    );
}

#[test]
fn a_burst_of_calls_after_the_session_died_signs_in_once() {
    let fake = fake();
    let client = app_client(&fake);
    let old = token(&run(client.session()).unwrap());
    fake.expire_all_sessions();
    // A slow re-sign-in, so that the other calls' 401s arrive while it is in flight.
    fake.set_delay("auth/signin", Duration::from_millis(300));
    let statuses = burst(20, |_| {
        let client = client.clone();
        async move { client.call(get("workbooks")).await.map(|a| a.reply.status) }
    });
    for s in &statuses {
        assert!(matches!(s, Ok(200)), "{s:?}");
    }
    let stats = fake.stats();
    assert_eq!(stats.sign_ins, 2, "exactly one re-sign-in: {stats:?}");
    // Each call was sent once with the dead token and at most once more.
    assert!(
        (21..=40).contains(&stats.workbooks),
        "20 calls, each retried at most once: {stats:?}"
    );
    assert!(!fake.is_session_alive(&old));
}

#[test]
fn a_401001_on_a_call_is_not_retried() {
    let fake = fake();
    let client = app_client(&fake);
    let t = token(&run(client.session()).unwrap());
    fake.misbehave("workbooks", 1, fail(401, "401001"));
    let answer = run(client.call(get("workbooks"))).expect("an answer");
    assert_eq!(answer.reply.status, 401);
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.workbooks), (1, 1), "{stats:?}");
    // The session was not dropped.
    assert_eq!(client.with_fresh(|s| token(s)), Some(t));
}

#[test]
fn a_401_without_a_tableau_error_counts_as_a_dead_session() {
    let fake = fake();
    let client = app_client(&fake);
    run(client.session()).unwrap();
    fake.misbehave("workbooks", 1, Misbehaviour::Empty { status: 401 });
    let answer = run(client.call(get("workbooks"))).expect("a call");
    assert_eq!(answer.reply.status, 200);
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.workbooks), (2, 2), "{stats:?}");
}

#[test]
fn a_401002_that_survives_one_re_sign_in_is_returned_not_looped() {
    // A PAT session: 401002 always means a dead session (no scopes limit it).
    let fake = fake();
    let client = client(config(&fake, "mysite"), pat(&fake), CacheChoice::Memory);
    run(client.session()).unwrap();
    fake.misbehave("workbooks", 5, fail(401, "401002"));
    let answer = run(client.call(get("workbooks"))).expect("an answer");
    assert_eq!(answer.reply.status, 401);
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.workbooks), (2, 2), "{stats:?}");
}

#[test]
fn on_a_jwt_session_a_401002_that_survives_one_re_sign_in_is_a_missing_scope() {
    let fake = fake();
    let client = app_client(&fake);
    run(client.session()).unwrap();
    fake.misbehave("workbooks", 5, fail(401, "401002"));
    let Err(Error::MissingScope(m)) = run(client.call(get("workbooks"))) else {
        panic!("a missing scope")
    };
    assert_eq!(m.needed, ["tableau:content:read", "tableau:workbooks:read"]);
    assert_eq!(
        m.asked.as_deref(),
        Some(&["tableau:content:read".to_string()][..])
    );
    // The credential asks for a scope that should open the call: the hint says what else to check.
    assert!(
        m.failure.hint.contains("connected app may not allow"),
        "{}",
        m.failure.hint
    );
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.workbooks), (2, 2), "{stats:?}");
    // Remembered: no more sign-ins for that family.
    assert!(matches!(
        run(client.call(get("workbooks"))),
        Err(Error::MissingScope(_))
    ));
    assert_eq!(fake.stats().sign_ins, 2);
}

#[test]
fn a_get_is_retried_on_503() {
    let fake = fake();
    let client = app_client(&fake);
    run(client.session()).unwrap();
    fake.misbehave("workbooks", 1, fail(503, "503000"));
    let answer = run(client.call(get("workbooks"))).expect("a call");
    assert_eq!(answer.reply.status, 200);
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.workbooks), (1, 2), "{stats:?}");
}

#[test]
fn a_get_that_keeps_failing_is_tried_retries_plus_one_times() {
    let fake = fake();
    let client = app_client(&fake); // retries=3
    run(client.session()).unwrap();
    fake.misbehave("workbooks", 10, fail(503, "503000"));
    let answer = run(client.call(get("workbooks"))).expect("an answer");
    assert_eq!(answer.reply.status, 503);
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.workbooks), (1, 4), "{stats:?}");
}

#[test]
fn a_post_is_not_retried_on_503() {
    let fake = fake();
    let client = app_client(&fake);
    run(client.session()).unwrap();
    let before = fake.stats().requests;
    fake.misbehave("workbooks", 1, fail(503, "503000"));
    let mut post = request(Method::POST, "workbooks");
    post.body = Some("<tsRequest/>".into());
    let answer = run(client.call(post)).expect("an answer");
    assert_eq!(answer.reply.status, 503);
    assert_eq!(fake.stats().requests - before, 1, "sent once, not retried");
    // The same POST without a failure queued reaches the fake (which has no such route).
    let mut post = request(Method::POST, "workbooks");
    post.body = Some("<tsRequest/>".into());
    assert_eq!(run(client.call(post)).unwrap().reply.status, 405);
    assert_eq!(fake.stats().requests - before, 2);
}

#[test]
fn another_sites_resources_are_refused_without_a_re_sign_in() {
    let fake = fake();
    let client = app_client(&fake);
    run(client.session()).unwrap();
    let other = fake.site_luid("").expect("the default site");
    let path = format!("/api/{VERSION}/sites/{other}/workbooks");
    let answer = run(client.call(get(&path))).expect("an answer");
    assert_eq!(answer.reply.status, 403);
    let stats = fake.stats();
    assert_eq!((stats.sign_ins, stats.workbooks), (1, 1), "{stats:?}");
}

#[test]
fn without_a_cache_calls_use_the_clients_own_session() {
    let fake = fake();
    // A PAT: a sign-in per call would end the previous call's session.
    let client = client(
        config(&fake, &fake.default_site()),
        pat(&fake),
        CacheChoice::Off,
    );
    for _ in 0..3 {
        assert_eq!(
            run(client.call(get("workbooks"))).unwrap().reply.status,
            200
        );
    }
    assert_eq!(fake.stats().sign_ins, 1, "{:?}", fake.stats());
    // And it re-signs in once when that session dies.
    fake.expire_all_sessions();
    assert_eq!(
        run(client.call(get("workbooks"))).unwrap().reply.status,
        200
    );
    assert_eq!(fake.stats().sign_ins, 2, "{:?}", fake.stats());
    // `session()` itself always signs in without a cache.
    let a = token(&run(client.session()).unwrap());
    let b = token(&run(client.session()).unwrap());
    assert_ne!(a, b);
    assert_eq!(fake.stats().sign_ins, 4);
}
