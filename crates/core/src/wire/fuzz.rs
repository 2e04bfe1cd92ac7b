//! Property-based fuzzing of every parser in this module: no input may panic, and what we
//! build must read back exactly. `cargo test` runs a short pass (PROPTEST_CASES, default 256);
//! a long run: `PROPTEST_CASES=200000 cargo test --release --lib wire::fuzz`.

use proptest::prelude::*;
use quick_xml::events::Event;

use super::*;
use crate::redact::excerpt;

/// Fragments a Tableau body is made of, so random bodies get deep into the parsers.
fn tableau_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<?xml version='1.0' encoding='UTF-8'?>".to_string()),
        Just("<tsResponse xmlns=\"http://tableau.com/api\">".to_string()),
        Just("<ts:tsResponse xmlns:ts=\"http://tableausoftware.com/api\">".to_string()),
        Just("</tsResponse>".to_string()),
        Just("<credentials token=\"a|b|c\" estimatedTimeToExpiration=\"2:12:30\">".to_string()),
        Just("</credentials>".to_string()),
        Just("<site id=\"s\" contentUrl=\"x\"/>".to_string()),
        Just("<user id=\"u\"/>".to_string()),
        Just("<error code=\"401001\"><summary>S</summary><detail>D (16)</detail></error>".to_string()),
        Just("<serverInfo><productVersion build=\"1\">2026.1</productVersion><restApiVersion>3.28</restApiVersion></serverInfo>".to_string()),
        Just("<session><site id=\"s\" contentUrl=\"\" name=\"S\"/><user id=\"u\" name=\"n\" siteRole=\"Creator\"/></session>".to_string()),
        Just("<warnings/>".to_string()),
        Just("&amp;&lt;&#x41;&#65;&bogus;".to_string()),
        Just("<!DOCTYPE html><html><title>SSO</title>".to_string()),
        Just("{\"credentials\":{\"token\":\"t\",\"site\":{\"id\":\"s\",\"contentUrl\":\"x\"},\"user\":{\"id\":\"u\"}}}".to_string()),
        Just("{\"error\":{\"code\":401001,\"summary\":\"s\",\"detail\":\"d\"}}".to_string()),
        Just("{\"serverInfo\":{\"restApiVersion\":\"3.28\"}}".to_string()),
        "[<>\"'&=/ a-z:{}\\[\\],0-9|]{0,12}",
        any::<String>(),
    ]
}

fn tableau_like() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(tableau_fragment(), 0..12).prop_map(|parts| parts.concat().into_bytes())
}

fn run_every_parser(body: &[u8]) {
    let _ = parse_sign_in_answer(body);
    let _ = parse_error(body);
    let _ = parse_server_info(body);
    let _ = parse_current_session(body);
    let text = excerpt(body);
    assert!(
        text.chars().count() <= 161,
        "excerpt too long: {}",
        text.len()
    );
    if let Ok(s) = std::str::from_utf8(body) {
        let _ = parse_estimated_time_to_expiration(s);
    }
}

/// The attribute values of the first element named `name`, unescaped, in document order.
fn attributes_of(xml: &str, name: &str) -> Vec<(String, String)> {
    let mut reader = quick_xml::Reader::from_reader(xml.as_bytes());
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if e.local_name().as_ref() == name => {
                return e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("well-formed attribute");
                        let key = a.key.local_name().as_ref().to_string();
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .expect("escaped value")
                            .into_owned();
                        (key, value)
                    })
                    .collect();
            }
            Ok(Event::Eof) => return Vec::new(),
            Ok(_) => {}
            Err(e) => panic!("sign-in body is not well-formed XML: {e}: {xml}"),
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..2048)) {
        run_every_parser(&body);
    }

    #[test]
    fn tableau_shaped_bodies_never_panic(body in tableau_like()) {
        run_every_parser(&body);
        // Every prefix of it, as a cut-off connection would deliver.
        for cut in (0..body.len()).step_by(7) {
            run_every_parser(&body[..cut]);
        }
    }

    #[test]
    fn sign_in_bodies_read_back_exactly(
        secret in any::<String>(),
        name in any::<String>(),
        site in any::<String>(),
        user in proptest::option::of("[a-f0-9-]{1,36}"),
    ) {
        // XML cannot carry NUL and most C0 controls at all; what it can carry must round-trip.
        let xml_safe = |s: &str| s.chars().filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r')).collect::<String>();
        let (secret, name, site) = (xml_safe(&secret), xml_safe(&name), xml_safe(&site));
        for credentials in [
            SignInCredentials::Password { username: &name, password: &secret },
            SignInCredentials::PersonalAccessToken { name: &name, secret: &secret },
            SignInCredentials::Jwt { jwt: &secret, is_uat: true },
        ] {
            let req = SignInRequest { credentials, site_content_url: &site, impersonate: user.as_deref() };
            let xml = sign_in_body(&req, WireFormat::Xml);
            let attrs = attributes_of(&xml, "credentials");
            prop_assert!(attrs.iter().any(|(_, v)| v == &secret), "secret lost in {xml}");
            prop_assert_eq!(attributes_of(&xml, "site"), vec![("contentUrl".to_string(), site.clone())]);
            if let Some(u) = &user {
                prop_assert_eq!(attributes_of(&xml, "user"), vec![("id".to_string(), u.clone())]);
            }
            let json: serde_json::Value = serde_json::from_str(&sign_in_body(&req, WireFormat::Json)).expect("valid JSON");
            prop_assert_eq!(json["credentials"]["site"]["contentUrl"].as_str(), Some(site.as_str()));
        }
    }
}
