//! Rust hot paths, so regressions show: `cargo bench -p tca-core --bench hot_paths`.

use tca_core::client::{CacheChoice, Client};
use tca_core::config::{ClientConfig, TransportConfig};
use tca_core::credentials::Credentials;
use tca_core::jwt::{ConnectedApp, JwtClaims, DEFAULT_LIFETIME};
use tca_core::wire::{self, SignInCredentials, SignInRequest, WireFormat};

fn main() {
    divan::main();
}

fn claims() -> JwtClaims {
    JwtClaims::new(
        "me@example.com",
        vec!["tableau:content:read".into()],
        DEFAULT_LIFETIME,
        Default::default(),
        None,
        false,
    )
    .expect("valid claims")
}

#[divan::bench]
fn mint_direct_trust_jwt(bencher: divan::Bencher) {
    let app = ConnectedApp::new(
        "0b0e8f5c-1234-4c9a-9d5e-aa51f0e1b2c3",
        "5d6e7f80-1234-4c9a-9d5e-aa51f0e1b2c3",
        "bench-secret-value-not-a-real-one",
    )
    .expect("valid app");
    let claims = claims();
    bencher.bench_local(|| app.mint(divan::black_box(&claims)).expect("mint"));
}

#[divan::bench]
fn xml_sign_in_body(bencher: divan::Bencher) {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtZUBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJl";
    bencher.bench_local(|| {
        wire::sign_in_body(
            &SignInRequest {
                credentials: SignInCredentials::Jwt {
                    jwt: divan::black_box(jwt),
                    is_uat: false,
                },
                site_content_url: "mysite",
                impersonate: None,
            },
            WireFormat::Xml,
        )
    });
}

const ANSWER: &[u8] = br#"<?xml version='1.0' encoding='UTF-8'?><tsResponse xmlns="http://tableau.com/api" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><credentials token="Aa1Bb2Cc3Dd4Ee5Ff6Gg7H|ZyXwVuTsRqPoNmLkJiHgFeDcBa987654|6b7179ba-b82b-4f0f-91ed-812074ac5da6" estimatedTimeToExpiration="4:00:00"><site id="6b7179ba-b82b-4f0f-91ed-812074ac5da6" contentUrl="mysite"/><user id="1a96d216-e9b8-497b-a82a-0b899a965e01"/></credentials></tsResponse>"#;

#[divan::bench]
fn parse_credentials_answer() -> wire::SignInAnswer {
    wire::parse_sign_in_answer(divan::black_box(ANSWER)).expect("parses")
}

#[divan::bench]
fn cached_session_hit(bencher: divan::Bencher) {
    // One real sign-in against the fake server, then the cache hit the client answers with.
    let fake = tca_fake::FakeTableau::start().expect("fake Tableau");
    let pat = fake.default_pat();
    let cfg = ClientConfig::new(
        &fake.url(),
        &fake.default_site(),
        "3.24",
        30.0,
        0,
        "xml",
        None,
        TransportConfig::default(),
    )
    .expect("config");
    let creds = Credentials::personal_access_token(&pat.name, &pat.secret).expect("credentials");
    let client = Client::new(cfg, creds, CacheChoice::Memory).expect("client");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(client.session()).expect("signed in");
    bencher.bench_local(|| client.with_fresh(|s| s.site_id().len()));
}
