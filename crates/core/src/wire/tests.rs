use std::fmt;
use std::time::Duration;

use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use serde_json::Value;

use super::*;
use crate::redact::excerpt;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tsc/");

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{FIXTURES}{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn not_tableau(what: &'static str) -> impl Fn(&WireError) -> bool {
    move |e| matches!(e, WireError::NotTableau { what: w, .. } if *w == what)
}

fn assert_not_tableau<T: fmt::Debug>(result: Result<T, WireError>, what: &'static str) {
    match result {
        Err(WireError::NotTableau { what: w, .. }) if w == what => {}
        other => panic!("expected NotTableau({what:?}), got {other:?}"),
    }
}

fn assert_missing<T: fmt::Debug>(result: Result<T, WireError>, what: &'static str) {
    match result {
        Err(WireError::Missing { what: w }) if w == what => {}
        other => panic!("expected Missing({what:?}), got {other:?}"),
    }
}

const SITE_LUID: &str = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d";
const USER_LUID: &str = "1a96d216-e9b8-497b-a82a-0b899a965e01";

fn modern_xml() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<tsResponse xmlns="http://tableau.com/api" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://tableau.com/api https://help.tableau.com/samples/en-us/rest_api/ts-api_3_28.xsd">
  <credentials token="HvZMqFFfQQmOM4L-AZNIQA|5fI6T54OPK1Gn1p4w0RtHv6EkojWRTwq|{SITE_LUID}" estimatedTimeToExpiration="177:05:38">
    <site id="{SITE_LUID}" contentUrl="mysite"/>
    <user id="{USER_LUID}"/>
  </credentials>
</tsResponse>
"#
    )
}

fn modern_answer() -> SignInAnswer {
    SignInAnswer {
        token: format!("HvZMqFFfQQmOM4L-AZNIQA|5fI6T54OPK1Gn1p4w0RtHv6EkojWRTwq|{SITE_LUID}"),
        site_id: SITE_LUID.to_owned(),
        site_content_url: "mysite".to_owned(),
        user_id: USER_LUID.to_owned(),
        estimated_time_to_expiration: Some(Duration::from_secs(177 * 3600 + 5 * 60 + 38)),
    }
}

fn modern_json() -> String {
    format!(
        r#"{{"credentials":{{"site":{{"id":"{SITE_LUID}","contentUrl":"mysite"}},"user":{{"id":"{USER_LUID}"}},"token":"HvZMqFFfQQmOM4L-AZNIQA|5fI6T54OPK1Gn1p4w0RtHv6EkojWRTwq|{SITE_LUID}","estimatedTimeToExpiration":"177:05:38"}}}}"#
    )
}

/// Reads the attributes of the first element named `element` with quick-xml, unescaped.
fn xml_attributes(xml: &str, element: &str) -> Vec<(String, String)> {
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == element => {
                return e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("valid attribute");
                        let value = a
                            .normalized_value(XmlVersion::Implicit1_0)
                            .expect("valid value")
                            .into_owned();
                        (a.key.local_name().as_ref().to_owned(), value)
                    })
                    .collect();
            }
            Event::Eof => panic!("no <{element}> in {xml}"),
            _ => {}
        }
    }
}

/// The element names of `xml`, in document order, with their depth.
fn xml_outline(xml: &str) -> Vec<(usize, String)> {
    let mut reader = Reader::from_str(xml);
    let mut depth = 0;
    let mut out = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                out.push((depth, e.local_name().as_ref().to_owned()));
                depth += 1;
            }
            Event::Empty(e) => out.push((depth, e.local_name().as_ref().to_owned())),
            Event::End(_) => depth -= 1,
            Event::Eof => return out,
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------------------------

#[test]
fn content_types() {
    assert_eq!(WireFormat::Xml.content_type(), "application/xml");
    assert_eq!(WireFormat::Json.content_type(), "application/json");
    assert_eq!(WireFormat::default(), WireFormat::Xml);
}

fn jwt_request(site: &str) -> SignInRequest<'_> {
    SignInRequest {
        credentials: SignInCredentials::Jwt {
            jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln",
            is_uat: false,
        },
        site_content_url: site,
        impersonate: None,
    }
}

#[test]
fn sign_in_body_xml_jwt() {
    assert_eq!(
        sign_in_body(&jwt_request("mysite"), WireFormat::Xml),
        r#"<tsRequest><credentials jwt="eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"><site contentUrl="mysite"/></credentials></tsRequest>"#
    );
}

#[test]
fn sign_in_body_xml_default_site_is_empty_content_url() {
    let body = sign_in_body(&jwt_request(""), WireFormat::Xml);
    assert!(body.contains(r#"<site contentUrl=""/>"#), "{body}");
}

#[test]
fn sign_in_body_xml_uat() {
    let req = SignInRequest {
        credentials: SignInCredentials::Jwt {
            jwt: "a.b.c",
            is_uat: true,
        },
        site_content_url: "s",
        impersonate: None,
    };
    assert_eq!(
        sign_in_body(&req, WireFormat::Xml),
        r#"<tsRequest><credentials jwt="a.b.c" isUat="true"><site contentUrl="s"/></credentials></tsRequest>"#
    );
}

#[test]
fn sign_in_body_xml_pat() {
    let req = SignInRequest {
        credentials: SignInCredentials::PersonalAccessToken {
            name: "ci-token",
            secret: "s3cr3t==",
        },
        site_content_url: "s",
        impersonate: None,
    };
    assert_eq!(
        sign_in_body(&req, WireFormat::Xml),
        r#"<tsRequest><credentials personalAccessTokenName="ci-token" personalAccessTokenSecret="s3cr3t=="><site contentUrl="s"/></credentials></tsRequest>"#
    );
}

#[test]
fn sign_in_body_xml_password() {
    let req = SignInRequest {
        credentials: SignInCredentials::Password {
            username: "admin",
            password: "pw",
        },
        site_content_url: "",
        impersonate: None,
    };
    assert_eq!(
        sign_in_body(&req, WireFormat::Xml),
        r#"<tsRequest><credentials name="admin" password="pw"><site contentUrl=""/></credentials></tsRequest>"#
    );
}

#[test]
fn sign_in_body_xml_impersonation_is_inside_credentials_after_site() {
    let req = SignInRequest {
        impersonate: Some(USER_LUID),
        ..jwt_request("mysite")
    };
    let body = sign_in_body(&req, WireFormat::Xml);
    assert_eq!(
        xml_outline(&body),
        vec![
            (0, "tsRequest".to_owned()),
            (1, "credentials".to_owned()),
            (2, "site".to_owned()),
            (2, "user".to_owned()),
        ]
    );
    assert_eq!(
        xml_attributes(&body, "user"),
        vec![("id".to_owned(), USER_LUID.to_owned())]
    );
}

const NASTY: &str = "p\"a&s<s>'w";

#[test]
fn sign_in_body_xml_escapes_every_attribute_value() {
    let nasty_ws = "tab\there\nnew\r\nline & more";
    let req = SignInRequest {
        credentials: SignInCredentials::Password {
            username: "a&b<c>\"d'",
            password: NASTY,
        },
        site_content_url: "s\"i&t<e>'",
        impersonate: Some("u&<>\"'"),
    };
    let body = sign_in_body(&req, WireFormat::Xml);
    assert!(
        body.contains(r#"password="p&quot;a&amp;s&lt;s&gt;&apos;w""#),
        "{body}"
    );
    assert_eq!(
        xml_attributes(&body, "credentials"),
        vec![
            ("name".to_owned(), "a&b<c>\"d'".to_owned()),
            ("password".to_owned(), NASTY.to_owned()),
        ]
    );
    assert_eq!(
        xml_attributes(&body, "site"),
        vec![("contentUrl".to_owned(), "s\"i&t<e>'".to_owned())]
    );
    assert_eq!(
        xml_attributes(&body, "user"),
        vec![("id".to_owned(), "u&<>\"'".to_owned())]
    );

    // Whitespace survives attribute-value normalization thanks to character references.
    let req = SignInRequest {
        credentials: SignInCredentials::PersonalAccessToken {
            name: "n",
            secret: nasty_ws,
        },
        site_content_url: "",
        impersonate: None,
    };
    let body = sign_in_body(&req, WireFormat::Xml);
    assert!(!body.contains('\n') && !body.contains('\t'), "{body}");
    assert_eq!(
        xml_attributes(&body, "credentials"),
        vec![
            ("personalAccessTokenName".to_owned(), "n".to_owned()),
            ("personalAccessTokenSecret".to_owned(), nasty_ws.to_owned()),
        ]
    );
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).expect("valid JSON")
}

#[test]
fn sign_in_body_json_jwt() {
    let body = sign_in_body(&jwt_request("mysite"), WireFormat::Json);
    assert_eq!(
        json(&body),
        serde_json::json!({"credentials":{"jwt":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln","site":{"contentUrl":"mysite"}}})
    );
}

#[test]
fn sign_in_body_json_uat_is_a_boolean_and_impersonation_a_user_object() {
    let req = SignInRequest {
        credentials: SignInCredentials::Jwt {
            jwt: "a.b.c",
            is_uat: true,
        },
        site_content_url: "",
        impersonate: Some(USER_LUID),
    };
    assert_eq!(
        json(&sign_in_body(&req, WireFormat::Json)),
        serde_json::json!({"credentials":{"jwt":"a.b.c","isUat":true,"site":{"contentUrl":""},"user":{"id":USER_LUID}}})
    );
}

#[test]
fn sign_in_body_json_pat_and_password_with_escaping() {
    let req = SignInRequest {
        credentials: SignInCredentials::PersonalAccessToken {
            name: "n\"\\",
            secret: NASTY,
        },
        site_content_url: "s",
        impersonate: None,
    };
    assert_eq!(
        json(&sign_in_body(&req, WireFormat::Json)),
        serde_json::json!({"credentials":{"personalAccessTokenName":"n\"\\","personalAccessTokenSecret":NASTY,"site":{"contentUrl":"s"}}})
    );
    let req = SignInRequest {
        credentials: SignInCredentials::Password {
            username: "admin",
            password: "line\nbreak\u{1}\"",
        },
        site_content_url: "s",
        impersonate: None,
    };
    assert_eq!(
        json(&sign_in_body(&req, WireFormat::Json)),
        serde_json::json!({"credentials":{"name":"admin","password":"line\nbreak\u{1}\"","site":{"contentUrl":"s"}}})
    );
}

#[test]
fn switch_site_bodies() {
    assert_eq!(
        switch_site_body("Samples", WireFormat::Xml),
        r#"<tsRequest><site contentUrl="Samples"/></tsRequest>"#
    );
    assert_eq!(
        xml_attributes(&switch_site_body(NASTY, WireFormat::Xml), "site"),
        vec![("contentUrl".to_owned(), NASTY.to_owned())]
    );
    assert_eq!(
        json(&switch_site_body(NASTY, WireFormat::Json)),
        serde_json::json!({"site":{"contentUrl":NASTY}})
    );
    assert_eq!(
        switch_site_body("", WireFormat::Json),
        r#"{"site":{"contentUrl":""}}"#
    );
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

#[test]
fn fixture_auth_sign_in() {
    let answer = parse_sign_in_answer(&fixture("auth_sign_in.xml")).expect("sign-in answer");
    assert_eq!(
        answer,
        SignInAnswer {
            token: "eIX6mvFsqyansa4KqEI1UwOpS8ggRs2l".to_owned(),
            site_id: "6b7179ba-b82b-4f0f-91ed-812074ac5da6".to_owned(),
            site_content_url: "Samples".to_owned(),
            user_id: "1a96d216-e9b8-497b-a82a-0b899a965e01".to_owned(),
            estimated_time_to_expiration: None,
        }
    );
    assert_eq!(parse_error(&fixture("auth_sign_in.xml")), None);
}

#[test]
fn fixture_auth_sign_in_impersonate_default_site() {
    let answer =
        parse_sign_in_answer(&fixture("auth_sign_in_impersonate.xml")).expect("sign-in answer");
    assert_eq!(
        answer,
        SignInAnswer {
            token: "MJonFA6HDyy2C3oqR13fRGqE6cmgzwq3".to_owned(),
            site_id: "dad65087-b08b-4603-af4e-2887b8aafc67".to_owned(),
            site_content_url: String::new(),
            user_id: "dd2239f6-ddf1-4107-981a-4cf94e415794".to_owned(),
            estimated_time_to_expiration: None,
        }
    );
}

#[test]
fn fixture_auth_sign_in_error() {
    let body = fixture("auth_sign_in_error.xml");
    assert_eq!(
        parse_error(&body),
        Some(TableauErrorBody {
            code: "401001".to_owned(),
            summary: "Signin Error".to_owned(),
            detail: "Error signing in to Tableau Server".to_owned(),
        })
    );
    assert_missing(parse_sign_in_answer(&body), "credentials");
}

#[test]
fn fixture_server_info_404() {
    let body = fixture("server_info_404.xml");
    assert_eq!(
        parse_error(&body),
        Some(TableauErrorBody {
            code: "404003".to_owned(),
            summary: "Resource Not Found".to_owned(),
            detail: "Unknown resource '/2.4/serverInfo' specified in URI.".to_owned(),
        })
    );
    assert_missing(parse_server_info(&body), "serverInfo");
}

#[test]
fn fixture_server_info() {
    for (name, version) in [
        ("server_info_get.xml", "3.10"),
        ("server_info_25.xml", "2.5"),
    ] {
        let body = fixture(name);
        assert_eq!(
            parse_server_info(&body),
            Ok(ServerInfo {
                product_version: Some("10.1.0".to_owned()),
                build: Some("10100.16.1024.2100".to_owned()),
                rest_api_version: version.to_owned(),
            }),
            "{name}"
        );
        assert_eq!(parse_error(&body), None, "{name}");
        assert_missing(parse_sign_in_answer(&body), "credentials");
    }
}

#[test]
fn fixture_html_page_is_not_tableau_for_every_parser() {
    let body = fixture("server_info_wrong_site.html");
    assert_not_tableau(parse_sign_in_answer(&body), WireError::HTML_PAGE);
    assert_not_tableau(parse_server_info(&body), WireError::HTML_PAGE);
    assert_not_tableau(parse_current_session(&body), WireError::HTML_PAGE);
    assert_eq!(parse_error(&body), None);
    let err = parse_server_info(&body).expect_err("HTML");
    let WireError::NotTableau { excerpt, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(
        excerpt.starts_with("Example website — A B C D E 1 2 3"),
        "{excerpt}"
    );
    assert!(
        err.to_string().starts_with(
            "the server answered an HTML page, not Tableau XML or JSON: «Example website"
        ),
        "{err}"
    );
}

#[test]
fn fixture_legacy_authinfo_is_not_a_ts_response() {
    // Documented choice: well-formed XML with another root is NotTableau, for every parser.
    let body = fixture("server_info_auth_info.xml");
    assert_not_tableau(parse_sign_in_answer(&body), WireError::NOT_TS_RESPONSE);
    assert_not_tableau(parse_server_info(&body), WireError::NOT_TS_RESPONSE);
    assert_not_tableau(parse_current_session(&body), WireError::NOT_TS_RESPONSE);
    assert_eq!(parse_error(&body), None);
}

const OTHER_TABLEAU_FIXTURES: &[&str] = &[
    "site_auth_configurations.xml",
    "site_create.xml",
    "site_get.xml",
    "site_get_by_id.xml",
    "site_get_by_name.xml",
    "site_update.xml",
    "user_get_by_id.xml",
];

#[test]
fn fixture_other_tableau_bodies_are_not_errors_and_lack_credentials() {
    for name in OTHER_TABLEAU_FIXTURES {
        let body = fixture(name);
        assert_eq!(parse_error(&body), None, "{name}");
        assert_missing(parse_sign_in_answer(&body), "credentials");
        assert_missing(parse_server_info(&body), "serverInfo");
        assert_missing(parse_current_session(&body), "session");
    }
}

#[test]
fn every_fixture_is_covered_and_nothing_panics() {
    let known = [
        "SOURCE.txt",
        "auth_sign_in.xml",
        "auth_sign_in_impersonate.xml",
        "auth_sign_in_error.xml",
        "server_info_get.xml",
        "server_info_25.xml",
        "server_info_404.xml",
        "server_info_auth_info.xml",
        "server_info_wrong_site.html",
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(FIXTURES).expect("fixture folder") {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("UTF-8 name");
        assert!(
            known.contains(&name.as_str()) || OTHER_TABLEAU_FIXTURES.contains(&name.as_str()),
            "fixture {name} is not covered by a test"
        );
        let body = fixture(&name);
        let _ = parse_sign_in_answer(&body);
        let _ = parse_error(&body);
        let _ = parse_server_info(&body);
        let _ = parse_current_session(&body);
        let excerpt = excerpt(&body);
        assert!(
            excerpt.chars().count() <= 160 && !excerpt.contains('\n'),
            "{name}"
        );
        seen += 1;
    }
    assert_eq!(seen, known.len() + OTHER_TABLEAU_FIXTURES.len());
}

#[test]
fn fixture_excerpts_hide_tokens() {
    let excerpt = excerpt(&fixture("auth_sign_in.xml"));
    assert!(
        !excerpt.contains("eIX6mvFsqyansa4KqEI1UwOpS8ggRs2l"),
        "{excerpt}"
    );
    assert!(excerpt.contains(r#"token="***""#), "{excerpt}");
}

// ---------------------------------------------------------------------------------------------
// Hand-made sign-in answers
// ---------------------------------------------------------------------------------------------

#[test]
fn modern_cloud_answer_with_expiry() {
    assert_eq!(
        parse_sign_in_answer(modern_xml().as_bytes()),
        Ok(modern_answer())
    );
}

#[test]
fn warnings_and_unknown_attributes_are_ignored() {
    let body = format!(
        r#"<tsResponse xmlns="http://tableau.com/api">
  <warnings><warning code="1">old <b>stuff</b> &amp; more</warning></warnings>
  <credentials extra="1" token="HvZMqFFfQQmOM4L-AZNIQA|5fI6T54OPK1Gn1p4w0RtHv6EkojWRTwq|{SITE_LUID}" estimatedTimeToExpiration="177:05:38" isUat="false">
    <!-- a comment -->
    <site name="My Site" id="{SITE_LUID}" contentUrl="mysite" extra=""><feature on="1"/></site>
    <user id="{USER_LUID}" name="someone"><domain name="local"/></user>
    <newThing>text</newThing>
  </credentials>
  <later/>
</tsResponse>"#
    );
    assert_eq!(parse_sign_in_answer(body.as_bytes()), Ok(modern_answer()));
}

#[test]
fn attributes_in_any_order() {
    let body = format!(
        r#"<tsResponse><credentials estimatedTimeToExpiration="177:05:38" token="HvZMqFFfQQmOM4L-AZNIQA|5fI6T54OPK1Gn1p4w0RtHv6EkojWRTwq|{SITE_LUID}"><user id="{USER_LUID}"/><site contentUrl="mysite" id="{SITE_LUID}"/></credentials></tsResponse>"#
    );
    assert_eq!(parse_sign_in_answer(body.as_bytes()), Ok(modern_answer()));
}

#[test]
fn any_namespace_or_none() {
    let modern = modern_xml();
    let variants = [
        modern.replace("http://tableau.com/api", "http://tableausoftware.com/api"),
        modern.replace(r#" xmlns="http://tableau.com/api""#, ""),
        modern
            .replace("<tsResponse xmlns=", "<ts:tsResponse xmlns:ts=")
            .replace("</tsResponse>", "</ts:tsResponse>")
            .replace("<credentials", "<ts:credentials")
            .replace("</credentials>", "</ts:credentials>")
            .replace("<site", "<ts:site")
            .replace("<user", "<ts:user"),
        // Prefixed attributes too, and no prolog.
        modern
            .replace(r#"<?xml version="1.0" encoding="UTF-8"?>"#, "")
            .replace(" token=", " ts:token=")
            .replace(
                "<tsResponse ",
                r#"<tsResponse xmlns:ts="http://tableau.com/api" "#,
            ),
        // BOM and leading whitespace.
        format!("\u{FEFF}\n  {modern}"),
    ];
    for body in variants {
        assert_eq!(
            parse_sign_in_answer(body.as_bytes()),
            Ok(modern_answer()),
            "{body}"
        );
    }
}

#[test]
fn entities_in_attribute_values_are_unescaped() {
    let body = r#"<tsResponse><credentials token="a&amp;b&lt;c&gt;d&quot;e&apos;f&#x41;&#66;"><site id="s&#45;1" contentUrl="&#233;t&#xE9;"/><user id="u"/></credentials></tsResponse>"#;
    let answer = parse_sign_in_answer(body.as_bytes()).expect("answer");
    assert_eq!(answer.token, "a&b<c>d\"e'fAB");
    assert_eq!(answer.site_id, "s-1");
    assert_eq!(answer.site_content_url, "été");
}

#[test]
fn missing_content_url_is_the_default_site() {
    let body = r#"<tsResponse><credentials token="t"><site id="s"/><user id="u"/></credentials></tsResponse>"#;
    let answer = parse_sign_in_answer(body.as_bytes()).expect("answer");
    assert_eq!(answer.site_content_url, "");
    assert_eq!(answer.estimated_time_to_expiration, None);
}

#[test]
fn malformed_expiry_is_ignored() {
    let body = r#"<tsResponse><credentials token="t" estimatedTimeToExpiration="soon"><site id="s" contentUrl="c"/><user id="u"/></credentials></tsResponse>"#;
    let answer = parse_sign_in_answer(body.as_bytes()).expect("answer");
    assert_eq!(answer.estimated_time_to_expiration, None);
}

#[test]
fn missing_pieces_are_reported() {
    let cases = [
        (
            r#"<tsResponse><credentials><site id="s"/><user id="u"/></credentials></tsResponse>"#,
            "credentials/@token",
        ),
        (
            r#"<tsResponse><credentials token=""><site id="s"/><user id="u"/></credentials></tsResponse>"#,
            "credentials/@token",
        ),
        (
            r#"<tsResponse><credentials token="t"><user id="u"/></credentials></tsResponse>"#,
            "site/@id",
        ),
        (
            r#"<tsResponse><credentials token="t"><site contentUrl="c"/><user id="u"/></credentials></tsResponse>"#,
            "site/@id",
        ),
        (
            r#"<tsResponse><credentials token="t"><site id="s"/></credentials></tsResponse>"#,
            "user/@id",
        ),
        (
            r#"<tsResponse><credentials token="t"><site id="s"/><user id=""/></credentials></tsResponse>"#,
            "user/@id",
        ),
        (r#"<tsResponse/>"#, "credentials"),
        (r#"<tsResponse></tsResponse>"#, "credentials"),
        // credentials must be a child of the root, site/user children of credentials.
        (
            r#"<tsResponse><x><credentials token="t"><site id="s"/><user id="u"/></credentials></x></tsResponse>"#,
            "credentials",
        ),
        (
            r#"<tsResponse><credentials token="t"><x><site id="s"/><user id="u"/></x></credentials></tsResponse>"#,
            "site/@id",
        ),
    ];
    for (body, what) in cases {
        assert_missing(parse_sign_in_answer(body.as_bytes()), what);
    }
}

#[test]
fn json_sign_in_answer() {
    assert_eq!(
        parse_sign_in_answer(modern_json().as_bytes()),
        Ok(modern_answer())
    );
    // Pretty-printed, BOM, unknown keys, escapes, no expiry, numbers where not expected.
    let body = "\u{FEFF}  {\n \"warnings\": [1, {\"a\": null}],\n \"credentials\": {\n  \"token\": \"a\\\"b\\u00e9\",\n  \"isUat\": false,\n  \"site\": {\"id\": \"s\", \"contentUrl\": \"\", \"name\": 5},\n  \"user\": {\"id\": \"u\", \"extra\": {\"deep\": [true]}}\n }\n}\n";
    assert_eq!(
        parse_sign_in_answer(body.as_bytes()),
        Ok(SignInAnswer {
            token: "a\"bé".to_owned(),
            site_id: "s".to_owned(),
            site_content_url: String::new(),
            user_id: "u".to_owned(),
            estimated_time_to_expiration: None,
        })
    );
}

#[test]
fn json_sign_in_missing_pieces() {
    let cases = [
        (r#"{}"#, "credentials"),
        (r#"{"credentials":"nope"}"#, "credentials"),
        (r#"{"credentials":null}"#, "credentials"),
        (r#"{"error":{"code":"401001"}}"#, "credentials"),
        (
            r#"{"credentials":{"site":{"id":"s"},"user":{"id":"u"}}}"#,
            "credentials/@token",
        ),
        (
            r#"{"credentials":{"token":true,"site":{"id":"s"},"user":{"id":"u"}}}"#,
            "credentials/@token",
        ),
        (
            r#"{"credentials":{"token":"t","user":{"id":"u"}}}"#,
            "site/@id",
        ),
        (
            r#"{"credentials":{"token":"t","site":[],"user":{"id":"u"}}}"#,
            "site/@id",
        ),
        (
            r#"{"credentials":{"token":"t","site":{"id":"s"}}}"#,
            "user/@id",
        ),
        (
            r#"{"credentials":{"token":"t","site":{"id":"s"},"user":{"id":""}}}"#,
            "user/@id",
        ),
        // Duplicated key: well-formed JSON but not a shape we accept.
        (
            r#"{"credentials":{"token":"t","token":"u"}}"#,
            "credentials",
        ),
    ];
    for (body, what) in cases {
        assert_missing(parse_sign_in_answer(body.as_bytes()), what);
    }
}

#[test]
fn malformed_json_is_not_tableau() {
    for body in [
        "{",
        r#"{"credentials":"#,
        r#"{"credentials":{}} trailing"#,
        r#"{'single':'quotes'}"#,
        "{\"a\":\"\u{0}\"}",
    ] {
        assert_not_tableau(
            parse_sign_in_answer(body.as_bytes()),
            WireError::MALFORMED_JSON,
        );
        assert_not_tableau(
            parse_server_info(body.as_bytes()),
            WireError::MALFORMED_JSON,
        );
        assert_not_tableau(
            parse_current_session(body.as_bytes()),
            WireError::MALFORMED_JSON,
        );
        assert_eq!(parse_error(body.as_bytes()), None);
    }
}

#[test]
fn deep_json_does_not_overflow_the_stack() {
    // Skipped values are walked without recursion; read ones hit serde_json's recursion limit.
    let deep = format!(r#"{{"x":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    assert_missing(parse_sign_in_answer(deep.as_bytes()), "credentials");
    let deep = format!(
        r#"{{"credentials":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(parse_sign_in_answer(deep.as_bytes()).is_err());
    let deep = format!(
        r#"{{"credentials":{}{}}}"#,
        "{\"a\":".repeat(100_000),
        "}".repeat(100_000)
    );
    assert!(parse_sign_in_answer(deep.as_bytes()).is_err());
    assert_eq!(parse_error(deep.as_bytes()), None);
}

// ---------------------------------------------------------------------------------------------
// Sniffing and malformed XML
// ---------------------------------------------------------------------------------------------

#[test]
fn sniffing() {
    let cases: &[(&[u8], &str)] = &[
        (b"", WireError::EMPTY_BODY),
        (b"  \r\n\t ", WireError::EMPTY_BODY),
        (b"\xEF\xBB\xBF", WireError::EMPTY_BODY),
        (b"\xEF\xBB\xBF \n", WireError::EMPTY_BODY),
        (b"\xEF\xBB", WireError::PLAIN_TEXT),
        (b"Service Unavailable", WireError::PLAIN_TEXT),
        (b"[1,2]", WireError::PLAIN_TEXT),
        (b"\xFF\xFE<\x00", WireError::PLAIN_TEXT),
        (
            b"<!DOCTYPE html><html><body>x</body></html>",
            WireError::HTML_PAGE,
        ),
        (b"<!doctype HTML>", WireError::HTML_PAGE),
        (b"\n<HTML lang=en>", WireError::HTML_PAGE),
        (b"<html>", WireError::HTML_PAGE),
        (b"<head><title>429</title>", WireError::HTML_PAGE),
        (b"<BODY>", WireError::HTML_PAGE),
        (b"<body/>", WireError::HTML_PAGE),
        // HTML behind an XML prolog or a comment is found by the XML reader.
        (
            b"<?xml version=\"1.0\"?><!DOCTYPE html><html/>",
            WireError::HTML_PAGE,
        ),
        (
            b"<?xml version=\"1.0\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head>",
            WireError::HTML_PAGE,
        ),
        (b"<!-- proxy --><html><body>", WireError::HTML_PAGE),
        // Not HTML: names that merely start like it.
        (b"<htmlish/>", WireError::NOT_TS_RESPONSE),
        (b"<bodyguard></bodyguard>", WireError::NOT_TS_RESPONSE),
    ];
    for (body, what) in cases {
        let shown = String::from_utf8_lossy(body);
        assert!(
            parse_sign_in_answer(body).is_err_and(|e| not_tableau(what)(&e)),
            "{shown:?}: {:?}",
            parse_sign_in_answer(body)
        );
        assert!(
            parse_server_info(body).is_err_and(|e| not_tableau(what)(&e)),
            "{shown:?}"
        );
        assert!(
            parse_current_session(body).is_err_and(|e| not_tableau(what)(&e)),
            "{shown:?}"
        );
        assert_eq!(parse_error(body), None, "{shown:?}");
    }
}

#[test]
fn malformed_xml_is_not_tableau() {
    let cases: &[&[u8]] = &[
        b"<",
        b"<tsResponse",
        b"<tsResponse>",
        b"<?xml version='1.0'?>",
        b"<!-- only a comment -->",
        b"<tsResponse><credentials token=\"t\"><site id=\"s\"/><user id=\"u\"/></wrong></tsResponse>",
        b"<tsResponse><credentials token=\"t&nbsp;\"><site id=\"s\"/><user id=\"u\"/></credentials></tsResponse>",
        b"<tsResponse><credentials token=\"t\" token=\"u\"><site id=\"s\"/><user id=\"u\"/></credentials></tsResponse>",
        b"<tsResponse><credentials token=t><site id=\"s\"/><user id=\"u\"/></credentials></tsResponse>",
        b"<tsResponse><credentials token=\"\xFF\xFE\"><site id=\"s\"/><user id=\"u\"/></credentials></tsResponse>",
        b"<tsResponse><credentials token=\"t\"><site id=\"s\"/><user id=\"u\"/>&bogus;</credentials></tsResponse>",
        b"<tsResponse><credentials token=\"t\"><site id=\"s\"/><user id=\"u\"/>&#0;</credentials></tsResponse>",
        b"<?xml version='1.0'?>stray text<tsResponse/>",
        b"</tsResponse>",
    ];
    for body in cases {
        let shown = String::from_utf8_lossy(body);
        assert_not_tableau(parse_sign_in_answer(body), WireError::MALFORMED_XML);
        assert!(parse_server_info(body).is_err(), "{shown:?}");
        assert!(parse_current_session(body).is_err(), "{shown:?}");
        assert_eq!(parse_error(body), None, "{shown:?}");
    }
}

/// Every prefix of `body` must give an error or, once complete enough, exactly `expected`.
fn check_prefixes<T: PartialEq + fmt::Debug>(
    body: &[u8],
    parse: impl Fn(&[u8]) -> Option<T>,
    expected: &T,
    must_fail_before: usize,
) {
    for cut in 0..=body.len() {
        let got = parse(&body[..cut]);
        if let Some(got) = got {
            assert_eq!(&got, expected, "prefix of {cut} bytes gave wrong data");
            assert!(
                cut >= must_fail_before,
                "prefix of {cut} bytes accepted too early"
            );
        }
    }
    assert_eq!(parse(body).as_ref(), Some(expected));
}

fn end_of(body: &str, pat: &str) -> usize {
    body.find(pat).expect("pattern in body") + pat.len()
}

#[test]
fn truncated_sign_in_answers_never_give_wrong_data() {
    let xml = modern_xml();
    let expected = modern_answer();
    check_prefixes(
        xml.as_bytes(),
        |b| parse_sign_in_answer(b).ok(),
        &expected,
        end_of(&xml, "</credentials>"),
    );
    // Every strict prefix before the end of </credentials> is reported as malformed XML or as
    // not a body at all, never as a Tableau answer lacking something.
    for cut in 0..end_of(&xml, "</credentials>") {
        match parse_sign_in_answer(&xml.as_bytes()[..cut]) {
            Err(WireError::NotTableau { what, .. }) => assert!(
                [WireError::MALFORMED_XML, WireError::EMPTY_BODY].contains(&what),
                "{cut}: {what}"
            ),
            other => panic!("{cut}: {other:?}"),
        }
    }
    let json = modern_json();
    check_prefixes(
        json.as_bytes(),
        |b| parse_sign_in_answer(b).ok(),
        &expected,
        json.len(),
    );
    // A body with multi-byte characters, cut inside them.
    let utf8 = r#"<tsResponse><credentials token="tøkén"><site id="s" contentUrl="sïté"/><user id="ü"/></credentials></tsResponse>"#;
    let parsed = parse_sign_in_answer(utf8.as_bytes()).expect("answer");
    check_prefixes(
        utf8.as_bytes(),
        |b| parse_sign_in_answer(b).ok(),
        &parsed,
        end_of(utf8, "</credentials>"),
    );
}

#[test]
fn truncated_other_answers_never_give_wrong_data() {
    let error = fixture("auth_sign_in_error.xml");
    let error_text = String::from_utf8(error.clone()).expect("UTF-8");
    let expected = parse_error(&error).expect("error");
    check_prefixes(
        &error,
        parse_error,
        &expected,
        end_of(&error_text, "</error>"),
    );

    let json_error =
        br#"{"error":{"summary":"Signin Error","detail":"Error signing in (16)","code":"401001"}}"#;
    let expected = parse_error(json_error).expect("error");
    check_prefixes(json_error, parse_error, &expected, json_error.len());

    let info = fixture("server_info_get.xml");
    let info_text = String::from_utf8(info.clone()).expect("UTF-8");
    let expected = parse_server_info(&info).expect("server info");
    check_prefixes(
        &info,
        |b| parse_server_info(b).ok(),
        &expected,
        end_of(&info_text, "</serverInfo>"),
    );

    let session = session_xml();
    let expected = parse_current_session(session.as_bytes()).expect("session");
    check_prefixes(
        session.as_bytes(),
        |b| parse_current_session(b).ok(),
        &expected,
        end_of(&session, "</session>"),
    );
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

#[test]
fn error_with_callstack_and_missing_parts() {
    let body = br#"<?xml version="1.0" encoding="UTF-8"?><tsResponse xmlns="http://tableau.com/api"><error code="401001"><callstack>at a.b.C(D.java:1)
at e.f.G</callstack><summary>Signin Error</summary><detail>Error signing in to Tableau Server (16) &amp; more: &lt;x&gt;<![CDATA[ <raw> ]]></detail></error></tsResponse>"#;
    assert_eq!(
        parse_error(body),
        Some(TableauErrorBody {
            code: "401001".to_owned(),
            summary: "Signin Error".to_owned(),
            detail: "Error signing in to Tableau Server (16) & more: <x> <raw>".to_owned(),
        })
    );
    let body = br#"<tsResponse><error code=" 429000 "/></tsResponse>"#;
    assert_eq!(
        parse_error(body),
        Some(TableauErrorBody {
            code: "429000".to_owned(),
            summary: String::new(),
            detail: String::new(),
        })
    );
    let body = br#"<ts:tsResponse xmlns:ts="http://tableausoftware.com/api"><ts:error code="404000"><ts:detail>
        Site 'x' could not be found.
    </ts:detail></ts:error></ts:tsResponse>"#;
    assert_eq!(
        parse_error(body),
        Some(TableauErrorBody {
            code: "404000".to_owned(),
            summary: String::new(),
            detail: "Site 'x' could not be found.".to_owned(),
        })
    );
}

#[test]
fn not_errors() {
    let cases: &[&[u8]] = &[
        br#"<tsResponse><error><summary>no code</summary></error></tsResponse>"#,
        br#"<tsResponse><error code=""/></tsResponse>"#,
        br#"<tsResponse><x><error code="1"/></x></tsResponse>"#,
        br#"<error code="401001"/>"#,
        br#"<tsResponse><error code="401001"><summary>cut"#,
        br#"{"error":"invalid_grant"}"#,
        br#"{"error":{"summary":"no code"}}"#,
        br#"{"error":{"code":null}}"#,
        br#"{"errors":[{"code":"1"}]}"#,
        b"Too Many Requests",
        b"",
    ];
    for body in cases {
        assert_eq!(parse_error(body), None, "{}", String::from_utf8_lossy(body));
    }
}

#[test]
fn json_errors_accept_string_or_number_codes() {
    assert_eq!(
        parse_error(br#"{"error":{"code":"401002","summary":"Unauthorized Access","detail":"Invalid authentication credentials were provided."}}"#),
        Some(TableauErrorBody {
            code: "401002".to_owned(),
            summary: "Unauthorized Access".to_owned(),
            detail: "Invalid authentication credentials were provided.".to_owned(),
        })
    );
    assert_eq!(
        parse_error(br#"{"error":{"code":401001,"summary":"Signin Error"}}"#),
        Some(TableauErrorBody {
            code: "401001".to_owned(),
            summary: "Signin Error".to_owned(),
            detail: String::new(),
        })
    );
}

// ---------------------------------------------------------------------------------------------
// serverinfo and sessions/current
// ---------------------------------------------------------------------------------------------

#[test]
fn server_info_variants() {
    let expected = ServerInfo {
        product_version: Some("2026.1.0".to_owned()),
        build: Some("20261.26.0205.1234".to_owned()),
        rest_api_version: "3.28".to_owned(),
    };
    let xml = br#"<?xml version="1.0" encoding="UTF-8"?><tsResponse xmlns="http://tableau.com/api"><serverInfo><productVersion build="20261.26.0205.1234">2026.1.0</productVersion><prepConductorVersion>x</prepConductorVersion><restApiVersion>
        3.28
    </restApiVersion></serverInfo></tsResponse>"#;
    assert_eq!(parse_server_info(xml), Ok(expected.clone()));
    let json = br#"{"serverInfo":{"productVersion":{"value":"2026.1.0","build":"20261.26.0205.1234"},"prepConductorVersion":"x","restApiVersion":"3.28"}}"#;
    assert_eq!(parse_server_info(json), Ok(expected));
    let plain = br#"{"serverInfo":{"productVersion":"2026.1.0","restApiVersion":"3.28"}}"#;
    assert_eq!(
        parse_server_info(plain),
        Ok(ServerInfo {
            product_version: Some("2026.1.0".to_owned()),
            build: None,
            rest_api_version: "3.28".to_owned(),
        })
    );
    let bare = br#"<tsResponse><serverInfo><restApiVersion>3.25</restApiVersion></serverInfo></tsResponse>"#;
    assert_eq!(
        parse_server_info(bare),
        Ok(ServerInfo {
            product_version: None,
            build: None,
            rest_api_version: "3.25".to_owned(),
        })
    );
    assert_missing(
        parse_server_info(br#"<tsResponse><serverInfo><productVersion>1</productVersion></serverInfo></tsResponse>"#),
        "serverInfo/restApiVersion",
    );
    assert_missing(
        parse_server_info(br#"<tsResponse><serverInfo><restApiVersion> </restApiVersion></serverInfo></tsResponse>"#),
        "serverInfo/restApiVersion",
    );
    assert_missing(
        parse_server_info(br#"{"serverInfo":{"productVersion":"1"}}"#),
        "serverInfo/restApiVersion",
    );
    assert_missing(parse_server_info(br#"{"serverinfo":{}}"#), "serverInfo");
}

fn session_xml() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<tsResponse xmlns="http://tableau.com/api">
  <session>
    <site id="{SITE_LUID}" contentUrl="mysite" name="My Site"/>
    <user id="{USER_LUID}" name="someone@example.com" siteRole="Creator"/>
  </session>
</tsResponse>"#
    )
}

#[test]
fn current_session_variants() {
    let expected = CurrentSession {
        site_id: SITE_LUID.to_owned(),
        site_name: Some("My Site".to_owned()),
        site_content_url: "mysite".to_owned(),
        user_id: USER_LUID.to_owned(),
        user_name: Some("someone@example.com".to_owned()),
        user_site_role: Some("Creator".to_owned()),
    };
    assert_eq!(
        parse_current_session(session_xml().as_bytes()),
        Ok(expected.clone())
    );
    let json = format!(
        r#"{{"session":{{"site":{{"id":"{SITE_LUID}","contentUrl":"mysite","name":"My Site"}},"user":{{"id":"{USER_LUID}","name":"someone@example.com"}}}}}}"#
    );
    assert_eq!(
        parse_current_session(json.as_bytes()),
        Ok(CurrentSession {
            user_site_role: None,
            ..expected.clone()
        })
    );
    let json = format!(
        r#"{{"session":{{"user":{{"siteRole":"Creator","name":"someone@example.com","id":"{USER_LUID}"}},"site":{{"name":"My Site","contentUrl":"mysite","id":"{SITE_LUID}"}}}}}}"#
    );
    assert_eq!(parse_current_session(json.as_bytes()), Ok(expected.clone()));
    // Any namespace or prefix, as for the other answers.
    let prefixed = session_xml()
        .replace(
            "xmlns=\"http://tableau.com/api\"",
            "xmlns:t=\"http://tableausoftware.com/api\"",
        )
        .replace("<", "<t:")
        .replace("<t:/", "</t:")
        .replace("<t:?xml", "<?xml");
    assert_eq!(parse_current_session(prefixed.as_bytes()), Ok(expected));
    let minimal = br#"<tsResponse><session><site id="s"/><user id="u"/></session></tsResponse>"#;
    let bare = CurrentSession {
        site_id: "s".to_owned(),
        site_name: None,
        site_content_url: String::new(),
        user_id: "u".to_owned(),
        user_name: None,
        user_site_role: None,
    };
    assert_eq!(parse_current_session(minimal), Ok(bare.clone()));
    let empty = br#"<tsResponse><session><site id="s" name="" contentUrl=""/><user id="u" name="" siteRole=""/></session></tsResponse>"#;
    assert_eq!(parse_current_session(empty), Ok(bare.clone()));
    let numbers =
        br#"{"session":{"site":{"id":7,"name":null},"user":{"id":"u","siteRole":["x"]}}}"#;
    assert_eq!(
        parse_current_session(numbers),
        Ok(CurrentSession {
            site_id: "7".to_owned(),
            ..bare
        })
    );
    assert_missing(
        parse_current_session(br#"<tsResponse><session><user id="u"/></session></tsResponse>"#),
        "site/@id",
    );
    assert_missing(
        parse_current_session(br#"{"session":{"site":{"id":"s"},"user":{}}}"#),
        "user/@id",
    );
    assert_missing(parse_current_session(br#"{"session":[]}"#), "session");
    assert_missing(
        parse_current_session(&fixture("auth_sign_in_error.xml")),
        "session",
    );
}

// ---------------------------------------------------------------------------------------------
// estimatedTimeToExpiration
// ---------------------------------------------------------------------------------------------

#[test]
fn estimated_time_to_expiration() {
    let secs = |h: u64, m: u64, s: u64| Some(Duration::from_secs(h * 3600 + m * 60 + s));
    assert_eq!(
        parse_estimated_time_to_expiration("2:12:30"),
        secs(2, 12, 30)
    );
    assert_eq!(
        parse_estimated_time_to_expiration("177:05:38"),
        secs(177, 5, 38)
    );
    assert_eq!(
        parse_estimated_time_to_expiration("173:21:12"),
        secs(173, 21, 12)
    );
    assert_eq!(
        parse_estimated_time_to_expiration("14:00:00"),
        secs(14, 0, 0)
    );
    assert_eq!(parse_estimated_time_to_expiration("0:00:00"), secs(0, 0, 0));
    assert_eq!(
        parse_estimated_time_to_expiration(" 1:02:03 "),
        secs(1, 2, 3)
    );
    assert_eq!(parse_estimated_time_to_expiration("1:2:3"), secs(1, 2, 3));
    assert_eq!(
        parse_estimated_time_to_expiration("0:59:59"),
        secs(0, 59, 59)
    );
    for bad in [
        "",
        "a:b:c",
        "1:60:00",
        "1:00:60",
        "1:99:00",
        "1:00",
        "1:00:00:00",
        "::",
        "1::00",
        "-1:00:00",
        "+1:00:00",
        "1:0 1:00",
        "1:001:00",
        "99999999999999999999:00:00",
        "１:00:00",
        "1:00:00.5",
    ] {
        assert_eq!(parse_estimated_time_to_expiration(bad), None, "{bad:?}");
    }
    // The largest accepted hours value does not overflow.
    assert!(parse_estimated_time_to_expiration("999999999999:59:59").is_some());
}

// ---------------------------------------------------------------------------------------------
// Messages (the excerpts themselves are tested in crate::redact)
// ---------------------------------------------------------------------------------------------

#[test]
fn error_messages() {
    let err = WireError::NotTableau {
        what: WireError::HTML_PAGE,
        excerpt: "Bad Gateway".to_owned(),
    };
    assert_eq!(
        err.to_string(),
        "the server answered an HTML page, not Tableau XML or JSON: «Bad Gateway»"
    );
    let err = parse_sign_in_answer(b"").expect_err("empty");
    assert_eq!(
        err.to_string(),
        "the server answered an empty body, not Tableau XML or JSON"
    );
    let err =
        parse_sign_in_answer(b"<tsResponse><credentials token=\"secretvalue\"").expect_err("cut");
    assert_eq!(
        err.to_string(),
        "the server answered truncated or malformed XML: «<tsResponse><credentials token=\"***\"»"
    );
    let err = parse_sign_in_answer(b"{\"credentials\":").expect_err("cut");
    assert_eq!(
        err.to_string(),
        "the server answered truncated or malformed JSON: «{\"credentials\":»"
    );
    assert_eq!(
        WireError::Missing { what: "site/@id" }.to_string(),
        "the Tableau answer lacks site/@id"
    );
    let boxed: Box<dyn std::error::Error> = Box::new(WireError::Missing { what: "x" });
    assert!(boxed.source().is_none());
}

// ---------------------------------------------------------------------------------------------
// Robustness and size
// ---------------------------------------------------------------------------------------------

/// A small deterministic generator (xorshift64*), so failures are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn mutated_bodies_never_panic() {
    let seeds: Vec<Vec<u8>> = vec![
        modern_xml().into_bytes(),
        modern_json().into_bytes(),
        session_xml().into_bytes(),
        fixture("auth_sign_in_error.xml"),
        fixture("server_info_get.xml"),
        fixture("server_info_wrong_site.html"),
        br#"{"serverInfo":{"productVersion":{"value":"1","build":"2"},"restApiVersion":"3.28"}}"#
            .to_vec(),
        br#"{"error":{"code":401001,"summary":"s","detail":"d"}}"#.to_vec(),
    ];
    let alphabet = b"<>/=\"'&;#x{}[]:,\\ \n\xEF\xBB\xBF\xFF\xC3\xA9tsResponse";
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for seed in &seeds {
        for _ in 0..600 {
            let mut body = seed.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(body.len() + 1);
                let byte = alphabet[rng.below(alphabet.len())];
                match rng.below(3) {
                    0 if at < body.len() => body[at] = byte,
                    1 if at < body.len() => {
                        body.remove(at);
                    }
                    _ => body.insert(at, byte),
                }
            }
            let _ = parse_sign_in_answer(&body);
            let _ = parse_error(&body);
            let _ = parse_server_info(&body);
            let _ = parse_current_session(&body);
            let got = excerpt(&body);
            assert!(got.chars().count() <= 160 && !got.contains('\n'));
        }
    }
    for _ in 0..2000 {
        let len = rng.below(64);
        let body: Vec<u8> = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect();
        let _ = parse_sign_in_answer(&body);
        let _ = parse_error(&body);
        let _ = parse_server_info(&body);
        let _ = parse_current_session(&body);
        let _ = excerpt(&body);
    }
}

#[test]
fn large_and_deep_bodies() {
    // 1 MiB of warnings before the credentials.
    let padding = "<warning code=\"1\">some text &amp; more</warning>".repeat(25_000);
    let body = modern_xml().replace(
        "<credentials",
        &format!("<warnings>{padding}</warnings><credentials"),
    );
    assert!(body.len() > 1 << 20);
    assert_eq!(parse_sign_in_answer(body.as_bytes()), Ok(modern_answer()));
    // Deep nesting inside the root is walked without recursion.
    let deep = format!(
        "<tsResponse>{}{}{}</tsResponse>",
        "<a>".repeat(50_000),
        "</a>".repeat(50_000),
        "<error code=\"500000\"/>"
    );
    assert_eq!(
        parse_error(deep.as_bytes()).map(|e| e.code),
        Some("500000".to_owned())
    );
    // Reading stops at </credentials>: trailing garbage after it is not read.
    let mut trailing = modern_xml().replace("</tsResponse>", "");
    trailing.push_str("<<<garbage");
    assert_eq!(
        parse_sign_in_answer(trailing.as_bytes()),
        Ok(modern_answer())
    );
}
