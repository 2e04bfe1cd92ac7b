//! Where credentials and tokens may go: a sign-in is re-sent only to the configured origin
//! (or an https upgrade of it), never to another one, and an authenticated call follows no
//! redirect at all. Another origin is a listener on 127.0.0.1 that counts connections.

mod common;

use std::time::Duration;

use common::*;
use tca_core::client::CacheChoice;
use tca_core::config::TransportConfig;
use tca_core::error::Error;
use tca_fake::{FakeOptions, FakeTableau, Misbehaviour};

fn redirect(status: u16, location: String) -> Misbehaviour {
    Misbehaviour::Redirect { status, location }
}

fn signin_path() -> String {
    format!("/api/{VERSION}/auth/signin")
}

/// A client of the fake that gives up quickly if it ever waited on the witness.
fn quick_client(fake: &FakeTableau) -> std::sync::Arc<tca_core::client::Client> {
    let cfg = tca_core::config::ClientConfig {
        timeout: Duration::from_secs(5),
        ..config(fake, &fake.default_site())
    };
    client(
        cfg,
        app(fake, &fake.default_username()),
        CacheChoice::Memory,
    )
}

fn assert_refused(result: Result<String, Error>, why: &str) {
    match result {
        Err(Error::Protocol { message, .. }) => {
            assert!(message.contains("refused"), "{message}");
            assert!(message.contains(why), "{message}");
        }
        other => panic!("expected a ProtocolError, got {other:?}"),
    }
}

#[test]
fn a_sign_in_is_not_sent_to_another_origin() {
    let fake = fake();
    let witness = Witness::new();
    let elsewhere = format!("http://127.0.0.1:{}{}", witness.port(), signin_path());
    for (n, status) in [301u16, 302, 303, 307, 308].into_iter().enumerate() {
        let client = quick_client(&fake);
        fake.misbehave("auth/signin", 1, redirect(status, elsewhere.clone()));
        assert_refused(
            run(client.session()).map(|s| token(&s)),
            "only sent to the server you configured",
        );
        assert_eq!(
            witness.connections(),
            0,
            "{status}: a connection reached the other origin"
        );
        let stats = fake.stats();
        assert_eq!(stats.sign_in_attempts, n as u64 + 1, "{status}: {stats:?}");
        assert_eq!(stats.sign_ins, 0);
    }
}

#[test]
fn a_sign_in_is_not_sent_to_another_host_name_of_the_same_server() {
    let fake = fake();
    let client = quick_client(&fake);
    let port = fake.url().rsplit(':').next().unwrap().to_string();
    // localhost is the same fake, but not the configured host.
    let location = format!("http://localhost:{port}{}", signin_path());
    fake.misbehave("auth/signin", 1, redirect(307, location));
    assert_refused(
        run(client.session()).map(|s| token(&s)),
        "only sent to the server you configured",
    );
    let stats = fake.stats();
    assert_eq!(
        (stats.sign_in_attempts, stats.sign_ins),
        (1, 0),
        "{stats:?}"
    );
}

#[test]
fn a_same_origin_redirect_is_followed() {
    let fake = fake();
    let client = app_client(&fake);
    fake.misbehave("auth/signin", 1, redirect(307, signin_path()));
    fake.misbehave(
        "auth/signin",
        1,
        redirect(308, format!("{}{}", fake.url(), signin_path())),
    );
    let t = token(&run(client.session()).expect("signed in after two redirects"));
    assert!(fake.is_session_alive(&t));
    let stats = fake.stats();
    assert_eq!(
        (stats.sign_in_attempts, stats.sign_ins),
        (3, 1),
        "{stats:?}"
    );
}

#[test]
fn a_redirect_loop_ends_with_a_protocol_error() {
    let fake = fake();
    let client = quick_client(&fake);
    fake.misbehave("auth/signin", 20, redirect(302, signin_path()));
    match run(client.session()) {
        Err(Error::Protocol { message, .. }) => {
            assert!(message.contains("redirected more than"), "{message}")
        }
        other => panic!(
            "expected a ProtocolError, got {:?}",
            other.map(|s| token(&s))
        ),
    }
    let stats = fake.stats();
    assert_eq!(
        (stats.sign_in_attempts, stats.sign_ins),
        (6, 0),
        "the first try and 5 redirects: {stats:?}"
    );
}

#[test]
fn a_sign_in_over_https_is_not_redirected_to_http() {
    let fake = FakeTableau::start_with(FakeOptions {
        tls: true,
        ..FakeOptions::default()
    })
    .expect("a TLS fake");
    let dir = TempDir::new("ca");
    std::fs::create_dir_all(dir.path()).unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, fake.ca_pem().expect("a CA")).unwrap();
    let transport = TransportConfig {
        ca_bundle: Some(ca.to_str().unwrap().to_string()),
        ..TransportConfig::default()
    };
    let cfg = config_for(&fake.url(), &fake.default_site(), transport);
    let client = client(
        cfg.clone(),
        app(&fake, &fake.default_username()),
        CacheChoice::Memory,
    );
    let clear = fake.url().replacen("https://", "http://", 1) + &signin_path();
    fake.misbehave("auth/signin", 1, redirect(307, clear));
    assert_refused(run(client.session()).map(|s| token(&s)), "in clear");
    let stats = fake.stats();
    assert_eq!(stats.sign_in_attempts, 1, "{stats:?}");
    assert_eq!(
        stats.tls_handshake_failures, 0,
        "nothing was sent in clear to the TLS port: {stats:?}"
    );
    // Without the redirect, the same client signs in over https.
    let t = token(&run(client.session()).expect("a session over TLS"));
    assert!(fake.is_session_alive(&t));
    assert_eq!(fake.stats().sign_ins, 1);
}

#[test]
fn an_authenticated_call_follows_no_redirect() {
    let fake = fake();
    let witness = Witness::new();
    let client = quick_client(&fake);
    run(client.session()).unwrap();
    for location in [
        format!("http://127.0.0.1:{}/api/{VERSION}/x", witness.port()),
        format!("/api/{VERSION}/serverinfo"),
    ] {
        fake.misbehave("workbooks", 1, redirect(307, location));
        let answer = run(client.call(get("workbooks"))).expect("an answer");
        assert_eq!(answer.reply.status, 307, "the redirect is the answer");
    }
    assert_eq!(witness.connections(), 0, "the token went to another origin");
    let stats = fake.stats();
    assert_eq!((stats.workbooks, stats.server_info), (2, 0), "{stats:?}");
}

#[test]
fn an_http_to_https_upgrade_of_the_configured_host_is_followed() {
    let plain = fake();
    let tls = FakeTableau::start_with(FakeOptions {
        tls: true,
        ..FakeOptions::default()
    })
    .expect("a TLS fake");
    // The TLS server knows the plain one's connected app.
    let a = plain.default_app();
    tls.configure(|s| {
        s.add_connected_app(
            &plain.default_site(),
            &a.client_id,
            &a.secret_id,
            &a.secret_value,
            true,
            false,
        )
    })
    .unwrap();
    let dir = TempDir::new("upgrade");
    std::fs::create_dir_all(dir.path()).unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, tls.ca_pem().expect("a CA")).unwrap();
    let transport = TransportConfig {
        ca_bundle: Some(ca.to_str().unwrap().to_string()),
        ..TransportConfig::default()
    };
    let client = client(
        config_for(&plain.url(), &plain.default_site(), transport),
        app(&plain, &plain.default_username()),
        CacheChoice::Memory,
    );
    plain.misbehave(
        "auth/signin",
        1,
        redirect(301, format!("{}{}", tls.url(), signin_path())),
    );
    let t = token(&run(client.session()).expect("signed in over https"));
    assert!(tls.is_session_alive(&t));
    assert_eq!(tls.stats().sign_ins, 1);
    let stats = plain.stats();
    assert_eq!(
        (stats.sign_in_attempts, stats.sign_ins),
        (1, 0),
        "{stats:?}"
    );
}
